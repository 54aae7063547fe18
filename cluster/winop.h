/* winop: the keyed event-time window operator, fused with its file sink
 * (DESIGN §6, §7).
 *
 * Input: batches of rows (the job's source schema) whose key groups lie in
 * [kg_first, kg_last], watermarks, and processing-time ticks. Output: one
 * CSV row per emission of a window and key (key columns, window_start,
 * window_end, aggregates by `as` name, then `pane` when the job has early
 * results or allowed lateness) to the results sink; late rows (schema
 * columns) to the late sink, or counted only when it is NULL (policy drop).
 *
 * Semantics are those of DESIGN §6 / the reference oracle: a window fires
 * when W >= end - 1 and is dropped when W >= end - 1 + allowed_lateness; a
 * row is checked against W before W moves; a row whose windows are all
 * dropped is late; a row reaching a fired but retained window fires it again
 * with the full value. Session windows merge per key.
 *
 * Early results and panes (DESIGN §6, job->trigger). The pane column is
 * the last column, present iff weir_job_has_pane(job) (a trigger, or
 * allowed_lateness > 0). Per window (and key), in the order written:
 *   early*  on_time  late*      (or late+ for a window that a row within
 *                                the lateness opened after W passed its end)
 *   - early: the partial value of an open (pending) window. every_rows: N
 *     emits it at the row that makes N rows since it was last emitted (any
 *     pane); it stays open and counts again from 0 (Flink's CountTrigger
 *     with FIRE, not purge). Each window of a row counts for itself
 *     (sliding windows). every: T emits, at each tick of the processing
 *     clock (weir_winop_tick: every T from the first tick), every open
 *     window that changed since it was last emitted; windows that did not
 *     change are not emitted again. Both may be set. Fired windows never
 *     get early panes.
 *   - on_time: the firing at W >= end - 1, always written, even when an
 *     early pane showed the same value.
 *   - late: each update of a fired, retained window (allowed lateness).
 * The last row of a window is its final value. Session windows: an early
 * pane shows the session's bounds at that moment. A session that grows or
 * merges is a new window (new bounds): the rows written under the old
 * bounds, early or fired, are superseded (see weir_winop_superseded), and
 * the new window's row count for every_rows is the sum of the parts' rows
 * not yet shown by a pane (as Flink merges a count trigger's state).
 *
 * State: accumulators live in a bounded in-memory table and are written to
 * RocksDB (column family per operator) in write batches when the table is
 * full, when windows fire, and at the end; RocksDB holds the truth for
 * everything not in memory. One thread owns an operator.
 *
 * Output text. Result rows: key columns as typed values (INT64 and
 * TIMESTAMP as decimal integers, TIMESTAMP being epoch ms; DOUBLE as
 * shortest round-trip text in Python repr layout; BOOL as true/false;
 * STRING as is, quoted per RFC 4180; NULL key as an empty field), then
 * window_start and window_end in epoch ms, then the aggregates as
 * cluster/agg formats them. Late rows: every schema column of the row, the
 * same way (weir_csvsink_batch_row), so timestamps are epoch ms integers,
 * not the source text. Rows of one firing come in no promised order; the
 * rows of one window come in the order above.
 *
 * Where the output differs from the oracle's text: the oracle prints keys
 * and late rows as their raw CSV text, this operator prints typed values
 * (the same text for canonical integers and strings, not for timestamps or
 * non-canonical spellings such as "007"); count_distinct counts typed
 * values, the oracle raw strings; session windows superseded by a merge
 * stay in the output unless retracted (weir_winop_set_retract_sink).
 */
#ifndef WEIR_WINOP_H
#define WEIR_WINOP_H

#include <stdint.h>

#include "batch.h"
#include "csvsink.h"
#include "job.h"
#include "state.h"

typedef struct weir_winop weir_winop_t;

/* job, st, results and late are borrowed and must outlive the operator;
 * late may be NULL (drop). cf_name names the column family (created; any
 * previous content is dropped). results must have the columns of
 * weir_winop_result_header(); late those of the source schema. Returns 0,
 * -ENOMEM, WEIR_ESTATE, WEIR_EINVAL (no window, bad key-group range or
 * an aggregate that does not fit its column) or WEIR_ERANGE (a sliding
 * window puts a row into more than 65536 windows). */
int weir_winop_open(const weir_job_t *job, weir_state_t *st, const char *cf_name, uint32_t kg_first,
                    uint32_t kg_last, weir_csvsink_t *results, weir_csvsink_t *late,
                    weir_winop_t **out);

/* Accumulates every row of b (checking each against the current
 * watermark), then emits the fired windows the batch updated. b is
 * borrowed for the call. Returns 0, -errno (sink), -ENOMEM, WEIR_ESTATE,
 * WEIR_EFULL (the rows of one key need more windows than the table holds)
 * or WEIR_EINVAL (some rows' key groups are outside [kg_first, kg_last]:
 * those rows were skipped, the others processed). */
int weir_winop_process(weir_winop_t *op, const weir_batch_t *b);

/* Moves the watermark to wm_ms (ignored if not ahead), emits the windows
 * that came due and drops those whose lateness ran out; WEIR_TS_MAX fires
 * and drops everything. Returns 0, -errno (sink), -ENOMEM or WEIR_ESTATE. */
int weir_winop_advance(weir_winop_t *op, int64_t wm_ms);

/* The processing-time clock of trigger.every: now_ms is the caller's
 * monotonic clock in ms. The first call starts the clock; after that,
 * whenever now_ms reaches the next point of the grid (first call +
 * k * every), every pending window that changed since it was last emitted
 * is emitted with pane early (in memory or in RocksDB). Points missed
 * while the caller did not tick are skipped, not caught up. A no-op
 * without trigger.every. Returns 0, -errno (sink), -ENOMEM or
 * WEIR_ESTATE. */
int weir_winop_tick(weir_winop_t *op, int64_t now_ms);

/* When weir_winop_tick has something to do: the time of the next grid
 * point if a window changed since the last tick, else INT64_MAX (also
 * without trigger.every). A caller that sleeps may sleep until then. */
int64_t weir_winop_tick_due(const weir_winop_t *op);

/* Writes every window that changed since it was last written to RocksDB
 * (a snapshot calls this first: RocksDB then holds the whole state). The
 * windows stay in memory. Returns 0, -ENOMEM or WEIR_ESTATE. */
int weir_winop_flush(weir_winop_t *op);

/* The result columns of job (key columns, window_start, window_end, the
 * aggregates' names, then `pane` when weir_job_has_pane) for
 * weir_csvsink_open: writes up to cap names (borrowed from job or static)
 * and returns how many there are. */
int weir_winop_result_header(const weir_job_t *job, const char **names, int cap);

int64_t weir_winop_watermark(const weir_winop_t *op);
uint64_t weir_winop_rows_in(const weir_winop_t *op);
uint64_t weir_winop_rows_out(const weir_winop_t *op); /* result rows written */
uint64_t weir_winop_late(const weir_winop_t *op);     /* late rows (written or dropped) */
uint64_t weir_winop_early(const weir_winop_t *op);    /* early panes written */

/* Session windows that were emitted (fired, or an early pane) and later
 * grew or merged into a bigger session (possible only with allowed_lateness
 * > 0 or early results). Their rows stay in the output: a consumer that
 * keeps the last row per window also keeps these stale ones; the oracle
 * lists only the merged session. */
uint64_t weir_winop_superseded(const weir_winop_t *op);

/* Optional (off by default): writes every superseded session window (see
 * above) to `retract` when it is superseded, as one row of its key
 * columns, window_start and window_end (the first n_keys + 2 columns of
 * weir_winop_result_header). Keeping the last result row per window and
 * removing the windows listed there gives exactly the oracle's final
 * results. retract is borrowed and must outlive op; NULL turns it off. */
void weir_winop_set_retract_sink(weir_winop_t *op, weir_csvsink_t *retract);

/* Counts the keys the operator holds in RocksDB (windows and session
 * index entries) into *out, by a full scan of its column family: for
 * tests and diagnostics, not for a hot path. Returns 0 or WEIR_ESTATE. */
int weir_winop_stored_keys(weir_winop_t *op, uint64_t *out);

/* After state was restored into the operator's column family (windows
 * copied from a checkpoint, cluster/state): takes wm_ms as its watermark
 * and learns the windows stored there (their timers; for sessions their
 * index), so they fire and are dropped as if they had never left. Call
 * before the first row. 0, -ENOMEM or WEIR_ESTATE. */
int weir_winop_restored(weir_winop_t *op, int64_t wm_ms);

/* The operator's column family (for checkpoints of its state). */
weir_state_cf_t *weir_winop_cf(const weir_winop_t *op);

/* Windows held in memory now. */
uint32_t weir_winop_table_entries(const weir_winop_t *op);

/* Test seam: sets the in-memory table to `entries` windows (the default is
 * about 16 MiB worth). Only before the first row; at least the most
 * windows a row can belong to + 2. Returns 0, WEIR_EINVAL or -ENOMEM (the
 * operator then has no table and must be destroyed). */
int weir_winop_set_table_capacity(weir_winop_t *op, uint32_t entries);

/* Frees; drops the column family. Sets *op = NULL; accepts NULL. */
void weir_winop_destroy(weir_winop_t **op);

#endif
