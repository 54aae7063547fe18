/* window: window assignment. See window.h for the contract.
 *
 * floormod(ts - offset, slide) is computed as
 * floormod(ts, slide) - floormod(offset, slide), brought back into
 * [0, slide): the same value as the textbook formula, without the
 * subtraction that overflows for ts near INT64_MIN and a positive offset.
 */
#include "window.h"

void weir_window_plan(weir_window_plan_t *p, const weir_window_t *w)
{
    p->size_ms = w->size_ms;
    p->slide_ms = w->type == WEIR_WINDOW_TUMBLING ? w->size_ms : w->slide_ms;
    p->offset_mod_ms = weir_floormod(w->offset_ms, p->slide_ms);
}

void weir_window_iter_init(weir_window_iter_t *it, const weir_window_t *w, int64_t ts_ms)
{
    weir_window_plan_t p;
    weir_window_plan(&p, w);
    weir_window_iter_start(it, &p, ts_ms);
}

size_t weir_window_assign(const weir_window_t *w, int64_t ts_ms, weir_span_t *out, size_t cap)
{
    weir_window_iter_t it;
    weir_window_iter_init(&it, w, ts_ms);
    size_t n = 0;
    weir_span_t s;
    while (weir_window_iter_next(&it, &s)) {
        if (n < cap)
            out[n] = s;
        n++;
    }
    return n;
}

uint64_t weir_window_max_per_row(const weir_window_t *w)
{
    if (w->type != WEIR_WINDOW_SLIDING)
        return 1;
    uint64_t size = (uint64_t)w->size_ms, slide = (uint64_t)w->slide_ms;
    return size / slide + (size % slide != 0);
}
