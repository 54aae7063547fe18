/* csvsrc: reads one split of a CSV file (RFC 4180) into batches.
 *
 * The file has a header row; the job's schema names the columns it uses
 * (matched by header name; others are skipped). Quoted fields may hold
 * commas, doubled quotes and line breaks; lines end in LF or CRLF. An empty
 * field is NULL. A split is a byte range [i*size/n, (i+1)*size/n) of the
 * file; a split owns every record that starts inside its range, found by
 * the quote parity of the bytes before it, so every record is read by
 * exactly one split whatever the quoting.
 *
 * A row that cannot be parsed (wrong field count, bad number, bad or
 * out-of-range timestamp, NULL event time) is handed to the bad-row
 * callback with its line number and reason and skipped; reading goes on.
 * The file is read with mmap; parsing allocates nothing per row.
 *
 * Follow mode (source.follow: true, one split): the file is tailed. A read
 * that finds no complete record left looks at the file's size (one fstat)
 * and maps what was appended; only complete records are read (ending in an
 * LF outside quotes), so a line being written is read once its LF is
 * there. The split never ends (*eof stays 0); a file that gets shorter,
 * whose name leads to another file (rotated, recreated) or to none
 * (deleted), or whose bytes already read changed, fails the read with
 * WEIR_ESTALE (weir_csvsrc_stale_reason says which): appending is the only
 * change a followed file may see.
 */
#ifndef WEIR_CSVSRC_H
#define WEIR_CSVSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "job.h"

typedef struct weir_csvsrc weir_csvsrc_t;

/* Called for each rejected row. line: 1-based line number where the record
 * starts; reason: NUL-terminated, e.g. "column fare_amount: 'abc' is not a
 * number"; raw: the record's bytes (not NUL-terminated). Pointers live
 * until the callback returns. */
typedef void (*weir_bad_row_fn)(void *ctx, uint64_t line, const char *reason, const char *raw,
                                size_t raw_len);

/* Opens split `split` of `n_splits` of job->source.path. The job must
 * outlive the reader. Returns 0, -errno (file), or WEIR_EINVAL (header
 * lacks a schema column: err names it and lists the header; empty file;
 * malformed header; a schema the reader cannot use). err: err_cap bytes,
 * for the message (may be NULL). A reader belongs to one thread at a time. */
int weir_csvsrc_open(const weir_job_t *job, int split, int n_splits, weir_csvsrc_t **out, char *err,
                     size_t err_cap);

/* Appends up to max_rows good rows (and stops early once the batch holds
 * max_bytes or more, or is full) to b, which has the job's schema and may
 * already hold rows. Sets *eof = 1 when the split is exhausted (possibly in
 * the same call that returns its last rows), else 0. Returns 0 or -ENOMEM
 * (a string did not fit; the record is read again by the next call); in
 * follow mode also WEIR_ESTALE (the file got shorter) or -errno. */
int weir_csvsrc_read(weir_csvsrc_t *s, weir_batch_t *b, uint32_t max_rows, size_t max_bytes,
                     weir_bad_row_fn bad, void *ctx, int *eof);

/* The position of the next record: absolute byte offset in the file and
 * its 1-based line number (what a checkpoint records). */
void weir_csvsrc_position(const weir_csvsrc_t *s, uint64_t *offset, uint64_t *line);

/* Continues from a position weir_csvsrc_position gave for the same split
 * of the same file. 0, or WEIR_EINVAL when the offset is outside the
 * split, past the end of the file, or not at the start of a line (the
 * file changed). */
int weir_csvsrc_seek(weir_csvsrc_t *s, uint64_t offset, uint64_t line);

/* Follow mode: why the last read failed with WEIR_ESTALE ("got
 * shorter ...", "was deleted", "was replaced by another file ...", "was
 * rewritten in place ..."). */
const char *weir_csvsrc_stale_reason(const weir_csvsrc_t *s);

/* Follow mode: the bytes after the last complete record (a record still
 * being written, or one whose quote never closes): their count, where
 * they are (*bytes, valid while the reader lives) and the line they start
 * on. 0 when there are none or not following. */
size_t weir_csvsrc_incomplete(const weir_csvsrc_t *s, const char **bytes, uint64_t *line);

/* True when every complete record seen so far has been read: in follow
 * mode the caller should wait before reading again. */
bool weir_csvsrc_caught_up(const weir_csvsrc_t *s);

/* Bytes of the split consumed so far, and the split's size. */
uint64_t weir_csvsrc_bytes_read(const weir_csvsrc_t *s);
uint64_t weir_csvsrc_bytes_total(const weir_csvsrc_t *s);

/* Unmaps the file, frees *s and sets *s = NULL; accepts NULL. */
void weir_csvsrc_destroy(weir_csvsrc_t **s);

#endif
