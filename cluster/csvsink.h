/* csvsink: writes one CSV part file (header + rows), buffered.
 *
 * Rows are written to a hidden in-progress file ".<name>.inprogress" in the
 * target directory and published as <name> by an atomic rename in
 * weir_csvsink_close(), after flush and fsync, so readers never see a
 * partial file. Values are quoted per RFC 4180 when they hold a comma,
 * quote, CR or LF. Doubles are written with the shortest text that reads
 * back to the same value ("%.17g" trimmed: 1.5, 0.1, 12.35). NULL is an
 * empty field. One thread owns a sink.
 *
 * A sink may also publish under another name than the one it was opened
 * with (weir_csvsink_close_as), or publish what it holds and go on in a
 * fresh in-progress file with the same header (weir_csvsink_rotate): the
 * exactly-once file sink (filesink.h) uses both to cut one part file per
 * checkpoint without its caller ever holding a stale writer.
 *
 * Text conventions (they follow the reference oracle, which is Python):
 * rows end with LF (as Python's csv module with lineterminator "\n"), not
 * RFC 4180's CRLF; doubles are laid out like Python's repr(): integral
 * values keep ".0" (17.0), exponent form below 1e-4 and from 1e16 on
 * (1e-05, 1.5e+16), "inf", "-inf", "nan"; a row whose only field is empty
 * is written as "" so that it is not a blank line. In weir_csvsink_batch_row
 * TIMESTAMP columns are written as integer epoch milliseconds and BOOL
 * columns as true/false.
 *
 * Costs: output goes through a 64 KiB buffer, so a row costs no syscall;
 * formatting allocates nothing.
 */
#ifndef WEIR_CSVSINK_H
#define WEIR_CSVSINK_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

typedef struct weir_csvsink weir_csvsink_t;

/* Creates dir (and parents) if needed and opens dir/.name.inprogress.
 * header: the column names. Returns 0 or -errno. */
int weir_csvsink_open(const char *dir, const char *name, const char *const *header, int n_cols,
                      weir_csvsink_t **out);

/* As weir_csvsink_open, with the in-progress file named
 * ".<tag>.<name>.inprogress", so that writers of different jobs (tags)
 * never share one. tag: no '/', not empty. */
int weir_csvsink_open_tagged(const char *dir, const char *name, const char *tag,
                             const char *const *header, int n_cols, weir_csvsink_t **out);

/* Row building: add fields left to right, then end the row. Each returns 0
 * or -errno (a full disk surfaces here or at close). */
int weir_csvsink_str(weir_csvsink_t *s, const char *v, size_t len);
int weir_csvsink_i64(weir_csvsink_t *s, int64_t v);
int weir_csvsink_f64(weir_csvsink_t *s, double v);
int weir_csvsink_null(weir_csvsink_t *s);
int weir_csvsink_end_row(weir_csvsink_t *s);

/* Longest text weir_csvsink_fmt_f64 writes, with its NUL. */
#define WEIR_CSVSINK_F64_MAX 32

/* Formats v as described above (shortest round-trip digits, Python repr
 * layout) into buf (>= WEIR_CSVSINK_F64_MAX bytes, NUL-terminated) and
 * returns the length. Any thread. */
size_t weir_csvsink_fmt_f64(double v, char *buf);

/* A bool field: true or false. */
int weir_csvsink_bool(weir_csvsink_t *s, int v);

/* Writes row `row` of b, all of b's columns, as one CSV row (TIMESTAMP as
 * epoch ms, BOOL as true/false). */
int weir_csvsink_batch_row(weir_csvsink_t *s, const weir_batch_t *b, uint32_t row);

/* Rows ended in the current file (since open or the last rotation),
 * header excluded. */
uint64_t weir_csvsink_rows(const weir_csvsink_t *s);

/* Writes the buffered rows to the in-progress file (no fsync): call
 * between rows when there is time, so the in-progress file shows what was
 * written (a task does this when it waits for input). 0 or -errno. */
int weir_csvsink_flush(weir_csvsink_t *s);

/* Flushes, fsyncs, renames to the final name, fsyncs the directory, frees,
 * sets *s = NULL. Returns 0 or -errno: -EEXIST when a file of the final
 * name exists (publishing never replaces one); the in-progress file is
 * then left for inspection. */
int weir_csvsink_close(weir_csvsink_t **s);

/* As weir_csvsink_close, but publishes as dir/name instead of the name
 * given at open. name: no '/', not empty; otherwise -EINVAL (or -ENOMEM
 * when the path cannot be built), and the sink is left open. */
int weir_csvsink_close_as(weir_csvsink_t **s, const char *name);

/* Between rows: flushes, fsyncs, renames the in-progress file to dir/name
 * (never replacing a file: -EEXIST), fsyncs the directory, then opens a
 * new in-progress file under the same hidden name and writes the header;
 * rows count from 0 again. Returns 0 or -errno. A bad name (as in
 * weir_csvsink_close_as) changes nothing; every other error is sticky:
 * the sink accepts no more rows, and the in-progress file (the unpublished
 * rows, or the fresh file) is left as it is until discard. */
int weir_csvsink_rotate(weir_csvsink_t *s, const char *name);

/* Frees without publishing (the in-progress file is removed). */
void weir_csvsink_discard(weir_csvsink_t **s);

#endif
