/* taskstats: what a task reports about itself (DESIGN §11), as one value
 * type shared by the node's task runtime (cluster/dataflow) and the
 * coordinator's job records (cluster/jobs). Only cluster/wire converts it
 * to and from the protobuf TaskStats. */
#ifndef WEIR_TASKSTATS_H
#define WEIR_TASKSTATS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t task; /* plan index */
    int kind;      /* weir_task_kind_t (cluster/plan.h) */
    int state; /* as proto TaskState: 1 deploying, 2 running, 3 finished, 4 failed, 5 canceled */
    uint64_t rows_in, rows_out, late, bad, bytes_read, bytes_total;
    int64_t watermark_ms;
    uint32_t busy_permille, backpressured_permille; /* over the last full second */
    uint64_t latency_p50_us, latency_p99_us, latency_p999_us, latency_count;
    uint32_t queued_frames, credits_outstanding;
    uint32_t wm_holder; /* keyed tasks: 1 + input holding the minimum, 0 = none */
    bool idle;
    bool paused; /* sources: waiting for the job's watermark (alignment) */
    char error[512];
} weir_task_stats_t;

#endif
