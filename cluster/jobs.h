/* jobs: the coordinator's record of one job and its lifecycle (DESIGN §3,
 * §9), as a state machine over task reports and node losses.
 *
 *   CREATED --weir_jobs_place--> RUNNING --every task FINISHED--> FINISHED
 *                                   |  \--a task FAILED or its node lost--> FAILED
 *                                   \----weir_jobs_cancel----------------> CANCELED
 *
 * weir_jobs_task_update() performs RUNNING -> FINISHED and RUNNING ->
 * FAILED; weir_jobs_node_lost() performs RUNNING -> FAILED. RUNNING
 * guarantees every task of the current attempt is placed on a node that was
 * alive at placement; FINISHED guarantees every sink published its last
 * file; FAILED and CANCELED are final for this scope (recovery adds
 * RESTARTING later) and carry the reason. Reports of an older attempt are
 * ignored (fencing). Pure state: no sockets, no clock (times passed in).
 */
#ifndef WEIR_JOBS_H
#define WEIR_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"
#include "membership.h"
#include "plan.h"
#include "taskstats.h"

enum {
    WEIR_JOB_CREATED = 0,
    WEIR_JOB_RUNNING = 1,
    WEIR_JOB_FINISHED = 2,
    WEIR_JOB_FAILED = 3,
    WEIR_JOB_CANCELED = 4,
    WEIR_JOB_RESTARTING = 5, /* failed; attempt + 1 starts at restart_at_ms */
};

typedef weir_task_stats_t weir_task_status_t;

typedef struct {
    char id[64];
    char *yaml; /* owned */
    char base_dir[WEIR_PATH_MAX];
    char file_name[WEIR_PATH_MAX];
    weir_job_t spec;
    int state;        /* WEIR_JOB_* */
    uint32_t attempt; /* 0 before placement, then 1, 2, ... */
    char error[1024]; /* why FAILED or CANCELED */
    weir_plan_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks;
    char task_node[WEIR_PLAN_MAX_TASKS][WEIR_NODE_ID_MAX];
    weir_task_status_t status[WEIR_PLAN_MAX_TASKS];
    int64_t submitted_ms, ended_ms; /* wall clock */
    int64_t placed_ms;              /* wall clock of the last placement */
    bool stopping;                  /* weir stop asked: sources end their input */
    /* Checkpoints (wired by the coordinator): the attempt's state machine,
     * the savepoint asked for by the CLI, and what the job started from. */
    struct weir_ckc *ckc;
    bool savepoint_asked, savepoint_stop;
    bool rebalance; /* the asked savepoint is for weir rebalance */
    uint64_t savepoint_id; /* the id of the asked savepoint once triggered */
    char restored_from[96]; /* "JOB/ID" or "" */
    uint8_t *restore_meta;  /* packed CheckpointMeta sent with Deploy, or NULL */
    size_t restore_len;
    /* Recovery: attempts started after failures, when the next starts, why
     * the last attempt failed, the highest checkpoint id issued so far. */
    uint32_t restarts;
    int64_t restart_at_ms;
    char last_failure[1024];
    uint64_t ck_last_id;
    int64_t failed_mono_ms; /* monotonic time of the last failure (coordinator) */
    char lost_node[WEIR_NODE_ID_MAX]; /* the node whose loss failed it, or "" */
} weir_jobrec_t;

/* Makes a CREATED record (copies yaml). NULL on OOM. */
weir_jobrec_t *weir_jobs_new(const char *id, const char *yaml, const char *base_dir,
                             const char *file_name, const weir_job_t *spec, int64_t now_ms);
void weir_jobs_destroy(weir_jobrec_t **r);

/* Plans the job over the ALIVE nodes of m and moves it to RUNNING with
 * attempt + 1 (placed_ms = submitted_ms; callers may set it later). 0, or WEIR_EINVAL when no node
 * is alive (err says so). */
int weir_jobs_place(weir_jobrec_t *r, const weir_members_t *m, char *err, size_t err_cap);

/* A task report. Returns the new job state if it changed, else -1. */
int weir_jobs_task_update(weir_jobrec_t *r, uint32_t attempt, uint32_t task,
                          const weir_task_status_t *st, const char *node_id, int64_t now_ms);

/* Node node_id is lost. Returns WEIR_JOB_FAILED if the job failed because
 * of it, else -1. */
int weir_jobs_node_lost(weir_jobrec_t *r, const char *node_id, const char *why, int64_t now_ms);

/* A RUNNING job whose tasks are not all started (a node never answered the
 * deployment) timeout_ms after placement fails, naming the task and node.
 * Returns WEIR_JOB_FAILED if it failed now, else -1. */
int weir_jobs_check_deploy(weir_jobrec_t *r, int64_t now_ms, int64_t timeout_ms);

/* Cancels a RUNNING or CREATED job. Returns true if it was active. */
bool weir_jobs_cancel(weir_jobrec_t *r, const char *why, int64_t now_ms);

/* Stopped with a savepoint (weir savepoint --stop): FINISHED, with the
 * note (which savepoint) kept in error. Returns true if it was active. */
bool weir_jobs_stopped(weir_jobrec_t *r, const char *note, int64_t now_ms);

/* "CREATED", "RUNNING", ..., "RESTARTING"; "UNKNOWN" for another value. */
const char *weir_jobs_state_name(int state);

/* True when the state is final. */
static inline bool weir_jobs_final(const weir_jobrec_t *r)
{
    return r->state >= WEIR_JOB_FINISHED && r->state <= WEIR_JOB_CANCELED;
}

/* The delay before the next restart of r by its restart strategy
 * (restart.*: none, fixed delay and attempts, exponential from initial
 * doubling up to max, with attempts), or -1 when no restart is left. */
int64_t weir_jobs_restart_delay(const weir_jobrec_t *r);

/* A FAILED job whose strategy allows another attempt: RESTARTING, with
 * last_failure = the failure, restarts + 1 and restart_at_ms = now + the
 * delay. Returns true when it will restart. */
bool weir_jobs_begin_restart(weir_jobrec_t *r, int64_t now_ms);

/* The job's watermark: minimum over its keyed tasks that are not idle
 * (every input idle); when all are idle, the highest of them (the rule of
 * cluster/wm for a task's inputs). */
int64_t weir_jobs_watermark(const weir_jobrec_t *r);

#endif
