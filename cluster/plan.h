/* plan: compiles a job into tasks and places them on nodes (DESIGN §3).
 *
 * Tasks: one source task per split (index 0..S-1), then one keyed window
 * task per unit of parallelism (index S..S+P-1); the file sink is fused
 * into each window task (same partitioning, so no shuffle between them).
 * Keyed task i gets the contiguous key-group range weir_keygroup_range(i).
 * Channels: every source feeds every keyed task; channel c = s * P + k.
 *
 * Placement: keyed tasks round-robin over the nodes, sources round-robin
 * starting where the keyed tasks stopped, so tasks spread evenly (counts
 * per node differ by at most one per kind). Pure function; any thread.
 */
#ifndef WEIR_PLAN_H
#define WEIR_PLAN_H

#include <stdint.h>

#include "job.h"

typedef enum { WEIR_TASK_SOURCE = 0, WEIR_TASK_WINDOW = 1 } weir_task_kind_t;

typedef struct {
    uint32_t index; /* position in the plan */
    weir_task_kind_t kind;
    uint32_t split;             /* SOURCE: split number */
    uint32_t keyed_index;       /* WINDOW: 0..P-1 */
    uint32_t kg_first, kg_last; /* WINDOW: inclusive range */
    uint32_t node;              /* index into the caller's node list */
} weir_plan_task_t;

#define WEIR_PLAN_MAX_TASKS (2 * WEIR_MAX_PARALLELISM)

/* Fills tasks[] (cap entries) for `job` over n_nodes (>= 1) nodes.
 * Returns 0, WEIR_EINVAL (no nodes) or WEIR_EFULL (cap too small). */
int weir_plan_build(const weir_job_t *job, uint32_t n_nodes, weir_plan_task_t *tasks, uint32_t cap,
                    uint32_t *n_tasks);

/* Channel number from source split s to keyed task k. */
static inline uint32_t weir_plan_channel(const weir_job_t *job, uint32_t s, uint32_t k)
{
    return s * (uint32_t)job->parallelism + k;
}

#endif
