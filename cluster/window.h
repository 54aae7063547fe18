/* window: which event-time windows a timestamp belongs to (DESIGN §6).
 *
 * Tumbling and sliding windows are half-open [start, end) with
 *   start = ts - floormod(ts - offset, slide)      (tumbling: slide = size)
 * and every start below it, one slide apart, down to (exclusive) ts - size.
 * Offsets of any sign are taken modulo the slide; a size need not be a
 * multiple of the slide (with size < slide some timestamps fall into no
 * window at all). A session window of one row is [ts, ts + gap); two
 * sessions of the same key merge when they overlap or touch.
 *
 * Invariant: every window given for ts satisfies start <= ts < end, with
 * the one exception forced by the int64 range: arithmetic saturates (never
 * wraps), so a start below INT64_MIN is clamped to INT64_MIN and an end
 * beyond INT64_MAX to INT64_MAX (WEIR_TS_MAX, which stands for +inf: a
 * window ending there also holds ts = INT64_MAX). The computation never
 * forms ts - offset, so it is exact for every ts, offset and slide.
 *
 * Costs: a few integer operations per window, no state, no allocation; the
 * iterator lets the hot path walk a row's windows without an array. Any
 * thread.
 *
 * Rejected: listing starts by stepping `start -= slide` from the latest
 * start. Near INT64_MIN that wraps; stepping the distance back from ts
 * (0 <= back < size) cannot overflow.
 */
#ifndef WEIR_WINDOW_H
#define WEIR_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "timeu.h"

/* A half-open window [start_ms, end_ms). */
typedef struct {
    int64_t start_ms;
    int64_t end_ms;
} weir_span_t;

/* Walks the tumbling/sliding windows of one timestamp, latest start first,
 * so ends come in descending order. A plain value; fields are private. */
typedef struct {
    int64_t ts_ms;
    int64_t size_ms;  /* > 0 */
    int64_t slide_ms; /* > 0 */
    int64_t back_ms;  /* ts - start of the next window; windows remain while < size_ms */
} weir_window_iter_t;

/* A tumbling or sliding window prepared for the hot path: the offset is
 * reduced modulo the slide once, so a row costs one division. */
typedef struct {
    int64_t size_ms;       /* > 0 */
    int64_t slide_ms;      /* > 0; size for tumbling */
    int64_t offset_mod_ms; /* floormod(offset, slide) */
} weir_window_plan_t;

/* Prepares w (tumbling: w->slide_ms is ignored and size is used). w must
 * be valid (size > 0, slide > 0): the caller checked the job. */
void weir_window_plan(weir_window_plan_t *p, const weir_window_t *w);

/* Starts the walk over the windows of ts_ms. */
static inline void weir_window_iter_start(weir_window_iter_t *it, const weir_window_plan_t *p,
                                          int64_t ts_ms)
{
    int64_t back = weir_floormod(ts_ms, p->slide_ms) - p->offset_mod_ms;
    it->ts_ms = ts_ms;
    it->size_ms = p->size_ms;
    it->slide_ms = p->slide_ms;
    it->back_ms = back < 0 ? back + p->slide_ms : back;
}

/* weir_window_plan + weir_window_iter_start in one call. */
void weir_window_iter_init(weir_window_iter_t *it, const weir_window_t *w, int64_t ts_ms);

/* Writes the next window to *out and returns true, or returns false when
 * there is none left. */
static inline bool weir_window_iter_next(weir_window_iter_t *it, weir_span_t *out)
{
    if (it->back_ms >= it->size_ms)
        return false;
    out->start_ms = weir_sat_sub(it->ts_ms, it->back_ms);
    out->end_ms = weir_sat_add(it->ts_ms, it->size_ms - it->back_ms);
    it->back_ms = weir_sat_add(it->back_ms, it->slide_ms);
    return true;
}

/* Writes the windows of ts_ms (ends descending) to out[0 .. min(n, cap))
 * and returns n, the number of windows ts_ms belongs to (which may exceed
 * cap). Tumbling and sliding only. */
size_t weir_window_assign(const weir_window_t *w, int64_t ts_ms, weir_span_t *out, size_t cap);

/* Most windows one timestamp can belong to: ceil(size / slide) (1 for
 * tumbling and session windows). */
uint64_t weir_window_max_per_row(const weir_window_t *w);

/* The session window of one row: [ts, ts + gap), end saturating. */
static inline weir_span_t weir_window_session(const weir_window_t *w, int64_t ts_ms)
{
    weir_span_t s = {ts_ms, weir_sat_add(ts_ms, w->gap_ms)};
    return s;
}

/* True when two windows overlap or touch (a.end == b.start counts): two
 * sessions of one key for which this holds are one session. */
static inline bool weir_span_touch(weir_span_t a, weir_span_t b)
{
    return a.start_ms <= b.end_ms && b.start_ms <= a.end_ms;
}

/* The smallest window covering both. */
static inline weir_span_t weir_span_union(weir_span_t a, weir_span_t b)
{
    weir_span_t u = {a.start_ms < b.start_ms ? a.start_ms : b.start_ms,
                     a.end_ms > b.end_ms ? a.end_ms : b.end_ms};
    return u;
}

#endif
