/* batch: a columnar batch of rows, the unit in which records move.
 *
 * Records never move one by one (DESIGN §3). A batch holds up to cap_rows
 * rows of a fixed schema: one packed array per column (int64 for INT64,
 * TIMESTAMP and BOOL; double for DOUBLE; one blob plus offsets for STRING),
 * a NULL flag per value, and the event time of every row in ts_ms.
 *
 * Costs: memory is allocated once in weir_batch_new(); appending a row
 * allocates nothing except when a string blob outgrows its capacity (it
 * doubles, so a reused batch stops allocating after warm-up). Batches are
 * reused: clear, refill, hand off.
 *
 * Writing a row: put every column's value at index n_rows with the
 * weir_batch_put_* functions, then weir_batch_commit_row(); or
 * weir_batch_abort_row() to forget a half-written row (a row that failed to
 * parse). The struct is public because the hot paths (parsing, hashing,
 * aggregation, encoding) read the arrays directly. One thread owns a batch
 * at a time; it changes hands through a queue.
 */
#ifndef WEIR_BATCH_H
#define WEIR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"

typedef struct {
    weir_type_t type;
    int64_t *i64;      /* INT64, TIMESTAMP, BOOL (0/1): cap_rows values, else NULL */
    double *f64;       /* DOUBLE: cap_rows values, else NULL */
    uint32_t *off;     /* STRING: cap_rows + 1 offsets; row i is blob[off[i], off[i+1]) */
    char *blob;        /* STRING: bytes of all rows, not NUL-terminated */
    uint32_t blob_cap; /* bytes allocated for blob */
    uint8_t *null;     /* cap_rows flags: 1 = NULL (empty CSV field) */
} weir_column_t;

typedef struct {
    int n_cols;        /* 0..WEIR_MAX_COLS */
    uint32_t n_rows;   /* rows committed, <= cap_rows */
    uint32_t cap_rows; /* fixed at creation */
    weir_column_t cols[WEIR_MAX_COLS];
    int64_t *ts_ms; /* event time of each row, cap_rows values */
} weir_batch_t;

/* Makes an empty batch for columns of the given types with room for
 * cap_rows rows (>= 1) and blob_cap initial string bytes per string column.
 * Returns NULL only when memory runs out. */
weir_batch_t *weir_batch_new(const weir_type_t *types, int n_cols, uint32_t cap_rows,
                             uint32_t blob_cap);

/* Makes a batch for the schema of a job's source. */
weir_batch_t *weir_batch_new_for_job(const weir_job_t *job, uint32_t cap_rows);

/* Frees *b and sets *b = NULL; accepts NULL and *b == NULL. */
void weir_batch_destroy(weir_batch_t **b);

/* Forgets every row; keeps the memory. */
void weir_batch_clear(weir_batch_t *b);

static inline int weir_batch_full(const weir_batch_t *b)
{
    return b->n_rows >= b->cap_rows;
}

/* Puts a value into column col of the row being written (index n_rows).
 * The caller guarantees n_rows < cap_rows and the column's type.
 * put_str returns 0 or -ENOMEM (the blob could not grow). */
void weir_batch_put_i64(weir_batch_t *b, int col, int64_t v);
void weir_batch_put_f64(weir_batch_t *b, int col, double v);
int weir_batch_put_str(weir_batch_t *b, int col, const char *s, uint32_t len);
void weir_batch_put_null(weir_batch_t *b, int col);

/* Ends the row being written with event time ts_ms. */
void weir_batch_commit_row(weir_batch_t *b, int64_t ts_ms);

/* Drops the row being written (string bytes are given back). */
void weir_batch_abort_row(weir_batch_t *b);

/* Appends row `row` of src (same schema) to dst. 0, or -ENOMEM. */
int weir_batch_copy_row(weir_batch_t *dst, const weir_batch_t *src, uint32_t row);

/* String value of row `row` in column col; *len receives its length. */
static inline const char *weir_batch_str(const weir_batch_t *b, int col, uint32_t row,
                                         uint32_t *len)
{
    const weir_column_t *c = &b->cols[col];
    *len = c->off[row + 1] - c->off[row];
    return c->blob + c->off[row];
}

/* Approximate payload bytes of the committed rows (for batch.max_bytes). */
size_t weir_batch_bytes(const weir_batch_t *b);

#endif
