/* dataflow: one job attempt running on one node (DESIGN §3, §5).
 *
 * Runs the node's share of a plan: a thread per task. Source tasks read a
 * split, hash each row to its key group and append it to the batch of the
 * keyed task that owns the group; keyed window tasks (fused with their file
 * sink) aggregate and write results. Channels between tasks on this node are
 * in-memory: a ring of `buffers_per_channel` batches per channel, where a
 * free buffer is the credit, handed to the consumer through its mailbox and
 * back. Channels to other nodes go over ZeroMQ: each source thread owns one
 * DEALER per remote node and sends a frame only with credit
 * (cluster/credit); the node's I/O thread owns the ROUTER that receives
 * frames, checks their credit, moves them into the consumer's mailbox, and
 * sends credits back when the consumer reports a frame consumed.
 *
 * Idleness: a split that has had no input for watermark.idle_timeout of
 * processing time (cfg.clock) sends an idle frame on every channel; the
 * consumer leaves that input out of its watermark until a frame without
 * the flag arrives (the split's next row reaches every channel).
 *
 * Watermarks: a source split keeps W = max(W, max_ts - D - 1) per row; every
 * frame carries the W that holds after its rows; whenever W advanced, every
 * channel with no rows waiting gets a watermark-only frame, so with one row
 * per batch every consumer sees exactly the per-row watermark sequence of
 * the reference model. End of split: every channel gets end_of_stream.
 *
 * Threads: weir_df_start, the weir_df_on_ functions, cancel and destroy are called by the node's
 * I/O thread only; tasks report to it through the `events` queue (weir_df_event_t). Stats are
 * atomics read by the I/O thread.
 */
#ifndef WEIR_DATAFLOW_H
#define WEIR_DATAFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ckmeta.h"
#include "clock.h"
#include "job.h"
#include "membership.h"
#include "plan.h"
#include "queue.h"
#include "state.h"
#include "taskstats.h"
#include "wire.h"

typedef struct weir_df weir_df_t;

typedef struct {
    weir_plan_task_t plan; /* .node is unused here */
    char node_id[WEIR_NODE_ID_MAX];
    char endpoint[WEIR_ENDPOINT_MAX]; /* data endpoint of that node */
} weir_df_task_t;

typedef struct {
    const char *job_id;
    uint32_t attempt;
    const weir_job_t *job;       /* copied */
    const weir_df_task_t *tasks; /* every task of the plan, copied */
    uint32_t n_tasks;
    const char *self_id;  /* this node */
    void *zctx;           /* ZeroMQ context, outlives the dataflow */
    weir_state_t *state;  /* outlives the dataflow */
    weir_queue_t *events; /* weir_df_event_t to the I/O thread; outlives it */
    uint64_t df_id;       /* unique per node, carried in events */
    const weir_clock_t *clock; /* processing time for idleness; NULL: the system clock */
    const char *data_dir;      /* the node's: keyed tasks put their checkpoints under it */
    const char *coordinator;   /* endpoint, to fetch state files when restoring */
    const weir_ck_meta_t *restore; /* start from this checkpoint (copied), or NULL */
} weir_df_config_t;

typedef enum {
    WEIR_DF_EV_CONSUMED = 1,
    WEIR_DF_EV_TASK_DONE = 2,
    WEIR_DF_EV_CK_SOURCE = 3, /* a source split sent barrier `ck`: weir_df_ck_snap */
    WEIR_DF_EV_CK_TASK = 4,   /* a keyed task aligned and took its snapshot of `ck` */
} weir_df_event_kind_t;

typedef struct {
    weir_df_event_kind_t kind;
    uint64_t df_id;
    uint32_t task;  /* plan index */
    uint32_t input; /* CONSUMED: the consumer's input (source split) */
    uint64_t ck;    /* CK_*: the checkpoint id */
} weir_df_event_t;

/* A task's part of a checkpoint. */
typedef struct {
    uint64_t id;
    /* sources: where the split goes on (CSV: byte offset of the next
     * record and its line; generator: offset = rows of the split made) */
    uint64_t offset, line;
    int64_t max_ts, wm;
    /* keyed tasks */
    int64_t task_wm;             /* the task's watermark at the cut */
    uint64_t align_us, sync_us;  /* alignment time; synchronous part */
    char state_dir[WEIR_PATH_MAX]; /* RocksDB checkpoint of its state ("" none) */
    char cf[WEIR_STATE_CF_MAX];    /* its column family there */
    weir_state_ckfile_t *files;    /* the files to store (owned; weir_df_ck_snap hands them over) */
    size_t n_files;
} weir_df_ck_snap_t;

/* Task states, as in proto TaskState. */
enum { WEIR_DF_RUNNING = 2, WEIR_DF_FINISHED = 3, WEIR_DF_FAILED = 4, WEIR_DF_CANCELED = 5 };

typedef weir_task_stats_t weir_df_stats_t;

/* Starts the local tasks of cfg. 0, or an error code with err filled. */
int weir_df_start(const weir_df_config_t *cfg, weir_df_t **out, char *err, size_t err_cap);

const char *weir_df_job(const weir_df_t *df);
uint32_t weir_df_attempt(const weir_df_t *df);
uint64_t weir_df_id(const weir_df_t *df);

/* A producer on another node announced channels (rid = its DEALER). Grants
 * initial credits through router. */
void weir_df_on_hello(weir_df_t *df, void *router, const void *rid, size_t rid_len,
                      const uint32_t *channels, uint32_t n);

/* A data frame from another node: checks its credit and moves it (and
 * *batch_part) into the consumer's mailbox. 0, WEIR_ENOTFOUND (no such
 * local consumer) or WEIR_EPROTO (no credit). */
int weir_df_on_frame(weir_df_t *df, const weir_frame_hdr_t *h, zmq_msg_t *batch_part);

/* Handles an event of this dataflow (from the events queue). */
void weir_df_on_event(weir_df_t *df, void *router, const weir_df_event_t *ev);

/* Local tasks and their stats. */
uint32_t weir_df_n_local(const weir_df_t *df);
void weir_df_stats(const weir_df_t *df, uint32_t i, weir_df_stats_t *out);
/* True when every local task has ended (finished, failed or canceled). */
bool weir_df_done(const weir_df_t *df);

/* The next local task that has ended and whose final state has not been
 * returned yet: fills *out and returns true, once per task. The node
 * reports with it whatever has ended, so that no final state is lost
 * whatever order the TASK_DONE events arrive in (an event may find its
 * dataflow already gone). I/O thread. */
bool weir_df_next_report(weir_df_t *df, weir_df_stats_t *out);

/* The job's watermark as the coordinator sees it (minimum over its keyed
 * tasks; never moves back). Sources whose own watermark is ahead of it by
 * more than watermark.max_drift pause reading until it catches up. */
void weir_df_set_job_watermark(weir_df_t *df, int64_t wm_ms);

/* Checkpoints (DESIGN §8). trigger: the sources take part in checkpoint
 * `id` (ignored unless above every id asked before): each sends what it
 * read, then a barrier on every channel, and posts CK_SOURCE; a keyed task
 * aligns its inputs on the barrier, takes its snapshot and posts CK_TASK.
 * complete: checkpoint `id` is durable; keyed tasks publish their pending
 * output up to it. ck_snap: the task's part of the latest checkpoint it
 * took part in (false for a task not on this node). I/O thread. */
void weir_df_trigger_checkpoint(weir_df_t *df, uint64_t id);
void weir_df_checkpoint_complete(weir_df_t *df, uint64_t id);
bool weir_df_ck_snap(weir_df_t *df, uint32_t task, weir_df_ck_snap_t *out);
/* The key-group range of plan task `task` (keyed tasks). */
void weir_df_task_range(const weir_df_t *df, uint32_t task, uint32_t *kg_first, uint32_t *kg_last);

/* Savepoint with --stop: after barrier `id` the sources read nothing more
 * (the job is canceled once the savepoint is complete). */
void weir_df_stop_after(weir_df_t *df, uint64_t id);

/* weir stop: every source ends its input where it is now, as if its file
 * ended there (rows read so far are sent, then end of stream); windows
 * fire and results are published as at the end of a bounded input.
 * Returns at once. */
void weir_df_stop(weir_df_t *df);

/* Asks every task to stop; returns at once. A task that ends after this
 * may not post TASK_DONE when the events queue is full: poll
 * weir_df_done() rather than wait for the events. */
void weir_df_cancel(weir_df_t *df);
/* Cancels, joins the task threads, frees. Sets *df = NULL. */
void weir_df_destroy(weir_df_t **df);

#endif
