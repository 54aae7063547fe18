/* wm: a task's watermark as the minimum over its input channels (DESIGN §6).
 *
 * Each input channel has its own watermark (WEIR_TS_MIN until the first
 * one arrives); a finished input counts as WEIR_TS_MAX; an idle input is
 * left out of the minimum until it sends again. The task's watermark is the
 * minimum over the inputs that are neither finished nor idle (WEIR_TS_MAX
 * when all are finished) and never moves back. If every unfinished input
 * is idle, the task is idle and its watermark moves up to the highest
 * watermark among them (nothing holds it back any more: without this a
 * quiet stream would never fire its last windows); an input that comes
 * back below it finds its rows late.
 * Pure state, no clock; one thread.
 */
#ifndef WEIR_WM_H
#define WEIR_WM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct weir_wm weir_wm_t;

weir_wm_t *weir_wm_new(uint32_t n_inputs);
void weir_wm_destroy(weir_wm_t **wm);

/* Input `in` reports watermark ts_ms (a lower value than before is
 * ignored; the input is active again). Returns true when the task's
 * watermark advanced. */
bool weir_wm_update(weir_wm_t *wm, uint32_t in, int64_t ts_ms);
/* Input `in` finished (counts as +inf). Returns true when the task's
 * watermark advanced. */
bool weir_wm_finish(weir_wm_t *wm, uint32_t in);
/* Input `in` is idle (true) or active again (false). */
bool weir_wm_set_idle(weir_wm_t *wm, uint32_t in, bool idle);

int64_t weir_wm_current(const weir_wm_t *wm);
int64_t weir_wm_input(const weir_wm_t *wm, uint32_t in);
bool weir_wm_all_finished(const weir_wm_t *wm);
bool weir_wm_idle(const weir_wm_t *wm);
/* Index of an input that holds the minimum (n_inputs when none). */
uint32_t weir_wm_holder(const weir_wm_t *wm);

#endif
