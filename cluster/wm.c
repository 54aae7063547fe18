/* wm: minimum watermark over inputs. See wm.h.
 *
 * Recomputing the minimum is O(inputs) per update; a task has at most a
 * few hundred inputs and updates arrive once per frame, not per row, so a
 * heap would cost more in code than it saves in time.
 */
#include "wm.h"

#include <stdlib.h>

#include "timeu.h"

typedef struct {
    int64_t ts;
    bool finished, idle;
} s_input_t;

struct weir_wm {
    uint32_t n;
    int64_t current;
    s_input_t *in;
};

weir_wm_t *weir_wm_new(uint32_t n_inputs)
{
    weir_wm_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->in = calloc(n_inputs ? n_inputs : 1, sizeof *w->in);
    if (!w->in) {
        free(w);
        return NULL;
    }
    w->n = n_inputs;
    w->current = WEIR_TS_MIN;
    for (uint32_t i = 0; i < n_inputs; i++)
        w->in[i].ts = WEIR_TS_MIN;
    if (n_inputs == 0)
        w->current = WEIR_TS_MAX;
    return w;
}

void weir_wm_destroy(weir_wm_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->in);
    free(*p);
    *p = NULL;
}

static bool s_recompute(weir_wm_t *w)
{
    int64_t min = WEIR_TS_MAX, idle_max = WEIR_TS_MIN;
    bool any_active = false, all_finished = true;
    for (uint32_t i = 0; i < w->n; i++) {
        if (w->in[i].finished)
            continue;
        all_finished = false;
        if (w->in[i].idle) {
            if (w->in[i].ts > idle_max)
                idle_max = w->in[i].ts;
            continue;
        }
        any_active = true;
        if (w->in[i].ts < min)
            min = w->in[i].ts;
    }
    /* Every unfinished input idle: none will move its watermark until it
     * sends again, so the highest of them is the one to reach (Flink's
     * valve does the same). A reactivated input below it finds W there. */
    if (!all_finished && !any_active)
        min = idle_max;
    if (min > w->current) {
        w->current = min;
        return true;
    }
    return false;
}

bool weir_wm_update(weir_wm_t *w, uint32_t in, int64_t ts_ms)
{
    if (in >= w->n || w->in[in].finished)
        return false;
    w->in[in].idle = false;
    if (ts_ms > w->in[in].ts)
        w->in[in].ts = ts_ms;
    return s_recompute(w);
}

bool weir_wm_finish(weir_wm_t *w, uint32_t in)
{
    if (in >= w->n)
        return false;
    w->in[in].finished = true;
    w->in[in].ts = WEIR_TS_MAX;
    return s_recompute(w);
}

bool weir_wm_set_idle(weir_wm_t *w, uint32_t in, bool idle)
{
    if (in >= w->n || w->in[in].finished)
        return false;
    w->in[in].idle = idle;
    return s_recompute(w);
}

int64_t weir_wm_current(const weir_wm_t *w)
{
    return w->current;
}

int64_t weir_wm_input(const weir_wm_t *w, uint32_t in)
{
    return in < w->n ? w->in[in].ts : WEIR_TS_MIN;
}

bool weir_wm_all_finished(const weir_wm_t *w)
{
    for (uint32_t i = 0; i < w->n; i++)
        if (!w->in[i].finished)
            return false;
    return true;
}

bool weir_wm_idle(const weir_wm_t *w)
{
    bool any = false;
    for (uint32_t i = 0; i < w->n; i++) {
        if (w->in[i].finished)
            continue;
        if (!w->in[i].idle)
            return false;
        any = true;
    }
    return any;
}

uint32_t weir_wm_holder(const weir_wm_t *w)
{
    uint32_t best = w->n;
    for (uint32_t i = 0; i < w->n; i++) {
        if (w->in[i].finished || w->in[i].idle)
            continue;
        if (best == w->n || w->in[i].ts < w->in[best].ts)
            best = i;
    }
    return best;
}
