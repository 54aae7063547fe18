/* plan: tasks, key-group ranges and placement. See plan.h.
 *
 * Rejected for now: placing by free slots or by data locality; with
 * homogeneous nodes round-robin is what an operator can predict by reading
 * `weir status`.
 */
#include "plan.h"

#include "err.h"
#include "keygroup.h"

int weir_plan_build(const weir_job_t *job, uint32_t n_nodes, weir_plan_task_t *tasks, uint32_t cap,
                    uint32_t *n_tasks)
{
    if (n_nodes == 0)
        return WEIR_EINVAL;
    uint32_t S = (uint32_t)weir_job_splits(job), P = (uint32_t)job->parallelism;
    if (S + P > cap)
        return WEIR_EFULL;
    uint32_t n = 0;
    for (uint32_t s = 0; s < S; s++) {
        weir_plan_task_t *t = &tasks[n];
        *t = (weir_plan_task_t){.index = n, .kind = WEIR_TASK_SOURCE, .split = s};
        t->node = (P + s) % n_nodes;
        n++;
    }
    for (uint32_t k = 0; k < P; k++) {
        weir_plan_task_t *t = &tasks[n];
        *t = (weir_plan_task_t){.index = n, .kind = WEIR_TASK_WINDOW, .keyed_index = k};
        weir_keygroup_range(k, P, (uint32_t)job->max_key_groups, &t->kg_first, &t->kg_last);
        t->node = k % n_nodes;
        n++;
    }
    *n_tasks = n;
    return 0;
}
