/* agg: accumulators of a job's aggregates (DESIGN §2).
 *
 * An accumulator is a fixed-size block of bytes (weir_aggs_t.size, a
 * multiple of 8) laid out once per job by weir_aggs_init(): one slot per
 * aggregate. Rows are added straight from a columnar batch; two
 * accumulators merge (session windows); an accumulator serializes to bytes
 * for RocksDB and back, and formats each aggregate as output text.
 *
 * SQL semantics, as the oracle: count counts rows; count(field) counts
 * non-NULL values; sum, avg, min and max skip NULLs and are NULL when no
 * value was seen; count_distinct counts distinct non-NULL values exactly.
 * Sums over INT64 / TIMESTAMP / BOOL columns are exact integers (kept in
 * 128 bits, so no realistic input overflows; printed as decimal like the
 * oracle's Python ints), sums over DOUBLE columns are doubles added in row
 * order; avg is sum / n as a double. min/max keep the column's type. Sum,
 * avg, min and max of a STRING column are rejected (the oracle cannot
 * compute them either).
 *
 * count_distinct keeps the values themselves, not only their hashes, so
 * the count is exact: numbers as their canonical 8 bytes (int64 bits, or
 * double bits with -0.0 folded into 0.0 and every NaN into one), strings
 * as their bytes, in an open-addressing set hashed with xxh64 that owns
 * its memory. That is the one part of an accumulator that is not fixed
 * size: the fixed block holds a pointer to the set, its serialized form is
 * variable-length. Note: the oracle compares the raw CSV text, so "1.0"
 * and "1.00" count as two values there and as one here.
 *
 * Output text: integers in decimal, doubles by weir_csvsink_fmt_f64
 * (shortest round-trip text in Python repr layout, integral values with a
 * trailing ".0": 17.0), NULL as no text.
 *
 * Serialized form (little-endian): u64 rows added, then per aggregate in
 * job order
 *   count:                      nothing (it is the row count)
 *   count(field):               u64 n
 *   sum/avg, integer column:    u64 n, 16 bytes two's complement sum
 *   sum/avg, double column:     u64 n, f64 sum
 *   min/max:                    u64 n, 8 bytes value (int64 or f64)
 *   count_distinct:             u32 n, n values (numbers: 8 bytes;
 *                               strings: u32 length + bytes)
 *
 * Costs: adding a row is a switch per aggregate over packed columns, no
 * allocation except when a distinct set grows (it doubles). Any thread;
 * an accumulator belongs to one thread.
 */
#ifndef WEIR_AGG_H
#define WEIR_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "job.h"

/* How an aggregate is accumulated (the function and the column's type). */
typedef enum {
    WEIR_AGGK_ROWS = 1,    /* count */
    WEIR_AGGK_NONNULL = 2, /* count(field) */
    WEIR_AGGK_SUM_I = 3,   /* sum, avg of an integer column */
    WEIR_AGGK_SUM_F = 4,   /* sum, avg of a double column */
    WEIR_AGGK_MIN_I = 5,
    WEIR_AGGK_MAX_I = 6,
    WEIR_AGGK_MIN_F = 7,
    WEIR_AGGK_MAX_F = 8,
    WEIR_AGGK_DISTINCT = 9, /* count_distinct */
} weir_aggk_t;

typedef struct {
    weir_agg_fn_t fn; /* as in the job (AVG shares SUM's kind) */
    weir_aggk_t kind;
    int col;          /* batch column, -1 for count */
    weir_type_t type; /* type of col (0 for count) */
    uint32_t off;     /* byte offset of the slot in an accumulator, multiple of 8 */
} weir_agg_slot_t;

/* The layout of one job's accumulators. A plain value. */
typedef struct {
    int n; /* aggregates, 0..WEIR_MAX_AGGS */
    weir_agg_slot_t slot[WEIR_MAX_AGGS];
    uint32_t size; /* bytes of an accumulator, multiple of 8 */
    int has_sets;  /* some aggregate is count_distinct */
} weir_aggs_t;

/* Longest text weir_agg_format writes, with its NUL. */
#define WEIR_AGG_TEXT_MAX 48

/* Lays out the accumulators of job's aggregates over the columns of its
 * source schema. Returns 0, or WEIR_EINVAL when an aggregate names no
 * column or a function does not apply to the column's type. */
int weir_aggs_init(weir_aggs_t *a, const weir_job_t *job);

/* Makes acc (a->size bytes, 8-byte aligned) an empty accumulator. */
void weir_agg_init(const weir_aggs_t *a, void *acc);

/* Frees what acc owns (distinct sets) and leaves it empty. */
void weir_agg_free(const weir_aggs_t *a, void *acc);

/* Adds row `row` of b (the job's source schema). Returns 0 or -ENOMEM (a
 * distinct set could not grow; acc is then still valid, without the row's
 * distinct value). */
int weir_agg_add(const weir_aggs_t *a, void *acc, const weir_batch_t *b, uint32_t row);

/* Folds src into dst (src is unchanged). 0 or -ENOMEM. */
int weir_agg_merge(const weir_aggs_t *a, void *dst, const void *src);

/* Bytes of acc's serialized form. */
size_t weir_agg_encoded_size(const weir_aggs_t *a, const void *acc);

/* Writes acc's serialized form (weir_agg_encoded_size bytes) to buf and
 * returns its length. */
size_t weir_agg_encode(const weir_aggs_t *a, const void *acc, uint8_t *buf);

/* Reads a serialized form into acc, which must be empty (weir_agg_init).
 * Returns 0, WEIR_EINVAL (malformed; acc is left empty) or -ENOMEM. */
int weir_agg_decode(const weir_aggs_t *a, void *acc, const uint8_t *buf, size_t len);

/* Formats aggregate i of acc into buf (>= WEIR_AGG_TEXT_MAX bytes, NUL
 * terminated) and returns its length; returns 0 with *is_null = 1 when the
 * value is NULL. */
size_t weir_agg_format(const weir_aggs_t *a, const void *acc, int i, char *buf, int *is_null);

/* Number of rows added to acc (every accumulator counts them, also when no
 * aggregate is count): 0 means "never touched". */
uint64_t weir_agg_rows(const weir_aggs_t *a, const void *acc);

#endif
