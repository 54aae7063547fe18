/* ckcoord: the coordinator's checkpoint state machine for one job attempt
 * (DESIGN §8).
 *
 * Problem: the coordinator must start checkpoints at the job's interval,
 * collect an acknowledgement from every task, have the metadata written
 * before anyone is told a checkpoint is complete, and give up on one that
 * takes too long, while acknowledgements arrive late, twice, out of order
 * or from tasks that finished or failed meanwhile. Written as pure logic:
 * the input is acknowledgements, task ends and time (every call takes
 * now_ms, so tests drive a fake clock), the output is actions that the
 * caller performs (send barriers, write metadata, notify, abort). No I/O.
 *
 * One checkpoint runs at a time. States of a checkpoint, with the one
 * function that performs each transition:
 *
 *                 weir_ckc_poll: TRIGGER (interval due, or a savepoint asked)
 *     (none) --------------------------------------------------+
 *                                                              v
 *                                                         TRIGGERED
 *        weir_ckc_ack / weir_ckc_task_finished, last source    |
 *                                                              v
 *                                                       SOURCES_ACKED
 *        weir_ckc_ack / weir_ckc_task_finished, last task      |
 *                                                              v
 *                                        poll: PERSIST  TASKS_ACKED
 *        weir_ckc_durable (metadata written)                   |
 *                                                              v
 *                                         poll: NOTIFY    DURABLE
 *        weir_ckc_completed (tasks told)                       |
 *                                                              v
 *                                                         COMPLETED
 *
 *     TRIGGERED, SOURCES_ACKED     --timeout (any call with now_ms)-->  ABORTED
 *     TRIGGERED .. TASKS_ACKED     --weir_ckc_task_failed,
 *                                    weir_ckc_abort------------------>  ABORTED
 *     every abort is reported once by weir_ckc_poll as an ABORT action.
 *
 * (SOURCES_ACKED is reached when every source split has acknowledged; keyed
 * tasks may acknowledge before that, since acknowledgements travel on the
 * control connections of different nodes and barriers on the data plane.)
 *
 * What holds in each state:
 *   TRIGGERED      id n is issued and will never be issued again; the caller
 *                  was told to start barrier n at every running source.
 *   SOURCES_ACKED  every source split's position for n is recorded, so
 *                  barrier n is in every channel and splits each channel
 *                  into records before and after n.
 *   TASKS_ACKED    every task's snapshot for n is recorded (a task
 *                  acknowledges once its files are stored). Nothing is
 *                  durable: a coordinator crash forgets n. No timeout any
 *                  more: the caller has everything it needs.
 *   DURABLE        the metadata of n is on disk: n is the restore point
 *                  even if COMPLETED is never reached (on restore, sinks
 *                  publish the pending files of the restored checkpoint,
 *                  DESIGN §9). It can no longer be aborted.
 *   COMPLETED      the tasks were told that n is complete (sinks publish).
 *   ABORTED        n will never complete; the caller tells the tasks to
 *                  drop what they hold for n.
 *
 * Rules: ids start at 1 (or after weir_ckc_resume_after) and increase; an
 * aborted id is never reused. The next periodic checkpoint is due
 * interval_ms after the previous one ended (completed or aborted), the
 * first one interval_ms after weir_ckc_new; interval 0 means savepoints
 * only. A savepoint asked for while a checkpoint runs is queued and starts
 * as soon as that one ends; requests while one is queued are coalesced. A
 * task that finished (end of input) counts as having acknowledged every
 * later checkpoint with its final snapshot. After a task failure nothing
 * is triggered any more (the attempt is over); when every task has
 * finished there is nothing left to snapshot.
 *
 * Refused input, never a crash: an acknowledgement from a task outside the
 * plan (WEIR_ERANGE), for an id never issued (WEIR_ENOTFOUND), for an id
 * that is not running any more: completed, aborted or older (WEIR_ESTALE),
 * or a second one from the same task (WEIR_EINVAL).
 *
 * Thread rules: one object per job attempt, owned by the coordinator's
 * thread; no call blocks.
 *
 * Rejected: several checkpoints in flight (Flink's max-concurrent > 1): it
 * multiplies the state kept per task and buys nothing at weir's intervals;
 * timing out in DURABLE (the metadata is on disk: aborting would leave a
 * restore point that the tasks were told to drop); a timer thread (time is
 * an input, so tests are deterministic).
 */
#ifndef WEIR_CKCOORD_H
#define WEIR_CKCOORD_H

#include <stdbool.h>
#include <stdint.h>

#include "ckmeta.h"

typedef struct weir_ckc weir_ckc_t;

typedef enum {
    WEIR_CKC_TRIGGERED = 1,
    WEIR_CKC_SOURCES_ACKED,
    WEIR_CKC_TASKS_ACKED,
    WEIR_CKC_DURABLE,
    WEIR_CKC_COMPLETED,
    WEIR_CKC_ABORTED,
} weir_ckc_phase_t;

typedef enum {
    WEIR_CKC_NOT_ABORTED = 0,
    WEIR_CKC_TIMEOUT,     /* not every task acknowledged within timeout_ms */
    WEIR_CKC_TASK_FAILED, /* a task of the attempt failed */
    WEIR_CKC_REQUESTED,   /* weir_ckc_abort: e.g. the metadata could not be written */
} weir_ckc_reason_t;

/* What the caller must do next. */
typedef enum {
    WEIR_CKC_NONE = 0,
    WEIR_CKC_TRIGGER, /* tell every running source task to start barrier `id` */
    WEIR_CKC_PERSIST, /* every task acknowledged: write the metadata (weir_ckc_meta),
                         then weir_ckc_durable, or weir_ckc_abort if that failed */
    WEIR_CKC_NOTIFY,  /* tell the tasks that `id` is complete, then weir_ckc_completed */
    WEIR_CKC_ABORT,   /* tell the tasks to drop what they hold for `id` */
} weir_ckc_act_t;

typedef struct {
    weir_ckc_act_t kind;
    uint64_t id;
    bool savepoint;
    weir_ckc_reason_t reason; /* ABORT */
    uint32_t task;            /* ABORT with WEIR_CKC_TASK_FAILED: the task that failed */
} weir_ckc_action_t;

/* Stats of one checkpoint (DESIGN §11). Times are the now_ms values of the
 * calls that made the transitions; INT64_MIN for one not reached. */
typedef struct {
    uint64_t id;
    bool savepoint;
    weir_ckc_phase_t phase;
    weir_ckc_reason_t reason; /* ABORTED: why */
    int64_t trigger_ms, sources_acked_ms, tasks_acked_ms, durable_ms, end_ms;
    int64_t duration_ms;        /* end (or now, while running) minus trigger */
    uint32_t n_acked, n_tasks;  /* acknowledgements so far (finished tasks count) */
    uint64_t state_bytes;       /* sum over the acknowledged snapshots */
    uint64_t incremental_bytes; /* sum: what this checkpoint uploaded */
    int64_t alignment_ms;       /* the longest alignment of any task */
} weir_ckc_stats_t;

/* Ended checkpoints whose stats are kept (newest first). */
#define WEIR_CKC_HISTORY 32

/* Makes the state machine of an attempt with n_tasks tasks (>= 1); task i
 * is a source split when is_source[i] (copied). interval_ms >= 0 (0: no
 * periodic checkpoints), timeout_ms >= 1. The first checkpoint is due at
 * now_ms + interval_ms. NULL only when memory runs out. */
weir_ckc_t *weir_ckc_new(uint32_t n_tasks, const bool *is_source, int64_t interval_ms,
                         int64_t timeout_ms, int64_t now_ms);
void weir_ckc_destroy(weir_ckc_t **ckc);

/* Makes the next id last_id + 1, for a new attempt of a job whose earlier
 * attempts issued ids up to last_id. 0, or WEIR_EINVAL once a checkpoint
 * has been triggered. */
int weir_ckc_resume_after(weir_ckc_t *ckc, uint64_t last_id);

/* The next action, or WEIR_CKC_NONE; each action is given once. Call it
 * after every input and on a timer (the next due time is
 * weir_ckc_next_due_ms). Expires a checkpoint that ran out of time first. */
weir_ckc_act_t weir_ckc_poll(weir_ckc_t *ckc, int64_t now_ms, weir_ckc_action_t *act);

/* Task `task` acknowledges checkpoint id with snap (copied; snap->task is
 * set to task). 0, WEIR_ERANGE, WEIR_ENOTFOUND, WEIR_ESTALE, WEIR_EINVAL
 * (see above) or -ENOMEM (not counted: the checkpoint will time out). */
int weir_ckc_ack(weir_ckc_t *ckc, uint32_t task, uint64_t id, const weir_ck_task_snap_t *snap,
                 int64_t now_ms);

/* Task `task` reached the end of its input; final (copied) is its last
 * snapshot: the running checkpoint, if the task has not acknowledged it,
 * and every later one take it as the task's acknowledgement. 0,
 * WEIR_ERANGE, WEIR_EINVAL (it finished or failed already) or -ENOMEM. */
int weir_ckc_task_finished(weir_ckc_t *ckc, uint32_t task, const weir_ck_task_snap_t *final,
                           int64_t now_ms);

/* Task `task` failed: the running checkpoint is aborted (unless DURABLE)
 * and nothing more is triggered. 0 or WEIR_ERANGE. */
int weir_ckc_task_failed(weir_ckc_t *ckc, uint32_t task, int64_t now_ms);

/* Asks for a savepoint: the next checkpoint to start carries the flag; it
 * starts at the next poll, or when the running one ends. 0, WEIR_ECANCELED
 * (a task failed: the attempt is over) or WEIR_EINVAL (every task
 * finished). */
int weir_ckc_savepoint(weir_ckc_t *ckc, int64_t now_ms);

/* Fills *out with the metadata of checkpoint id (deep copy, tasks in plan
 * order; job and attempt left empty for the caller), once every task has
 * acknowledged it. 0, WEIR_ENOTFOUND/WEIR_ESTALE (not the running one),
 * WEIR_EINVAL (not every task acknowledged yet) or -ENOMEM. Free with
 * weir_ck_meta_clear. */
int weir_ckc_meta(const weir_ckc_t *ckc, uint64_t id, weir_ck_meta_t *out);

/* The caller wrote the metadata of id durably: TASKS_ACKED -> DURABLE. 0,
 * WEIR_ENOTFOUND/WEIR_ESTALE, or WEIR_EINVAL (not in TASKS_ACKED). */
int weir_ckc_durable(weir_ckc_t *ckc, uint64_t id, int64_t now_ms);

/* The caller told the tasks that id is complete: DURABLE -> COMPLETED. 0,
 * WEIR_ENOTFOUND/WEIR_ESTALE, or WEIR_EINVAL (not DURABLE). */
int weir_ckc_completed(weir_ckc_t *ckc, uint64_t id, int64_t now_ms);

/* Aborts the running checkpoint id (e.g. its metadata could not be
 * written). 0, WEIR_ENOTFOUND/WEIR_ESTALE, or WEIR_EINVAL (DURABLE). */
int weir_ckc_abort(weir_ckc_t *ckc, uint64_t id, int64_t now_ms);

/* ---- accessors -------------------------------------------------------- */

/* When weir_ckc_poll next has something to do on its own (a checkpoint due
 * or a timeout); INT64_MAX when nothing is timed. */
int64_t weir_ckc_next_due_ms(const weir_ckc_t *ckc);

/* Highest id issued so far (0 = none). */
uint64_t weir_ckc_last_id(const weir_ckc_t *ckc);

/* Stats of the running checkpoint. 0 or WEIR_ENOTFOUND (none running). */
int weir_ckc_current(const weir_ckc_t *ckc, int64_t now_ms, weir_ckc_stats_t *out);

/* Stats of the newest completed checkpoint. 0 or WEIR_ENOTFOUND. */
int weir_ckc_last_completed(const weir_ckc_t *ckc, weir_ckc_stats_t *out);

/* Stats of the i-th most recently ended checkpoint (completed or aborted;
 * i = 0 is the newest, i < WEIR_CKC_HISTORY). 0 or WEIR_ENOTFOUND. */
int weir_ckc_history(const weir_ckc_t *ckc, uint32_t i, weir_ckc_stats_t *out);

/* Checkpoints completed and aborted since weir_ckc_new. */
uint64_t weir_ckc_n_completed(const weir_ckc_t *ckc);
uint64_t weir_ckc_n_aborted(const weir_ckc_t *ckc);

/* Names for logs and the CLI: "triggered", ..., "timeout", ... */
const char *weir_ckc_phase_name(weir_ckc_phase_t p);
const char *weir_ckc_reason_name(weir_ckc_reason_t r);

#endif
