/* jobs: job records and their lifecycle. See jobs.h for the diagram. */
#include "jobs.h"

#include "ckcoord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "timeu.h"

weir_jobrec_t *weir_jobs_new(const char *id, const char *yaml, const char *base_dir,
                             const char *file_name, const weir_job_t *spec, int64_t now_ms)
{
    weir_jobrec_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->yaml = strdup(yaml);
    if (!r->yaml) {
        free(r);
        return NULL;
    }
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->base_dir, sizeof r->base_dir, "%s", base_dir);
    snprintf(r->file_name, sizeof r->file_name, "%s", file_name);
    r->spec = *spec;
    r->state = WEIR_JOB_CREATED;
    r->submitted_ms = now_ms;
    return r;
}

void weir_jobs_destroy(weir_jobrec_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->yaml);
    free((*p)->restore_meta);
    weir_ckc_destroy(&(*p)->ckc);
    free(*p);
    *p = NULL;
}

int weir_jobs_place(weir_jobrec_t *r, const weir_members_t *m, char *err, size_t err_cap)
{
    uint32_t alive[WEIR_MAX_NODES];
    uint32_t n = weir_members_alive(m, alive, WEIR_MAX_NODES);
    if (n == 0) {
        snprintf(err, err_cap, "no live nodes: start weir-node processes (see `weir nodes`)");
        return WEIR_EINVAL;
    }
    int rc = weir_plan_build(&r->spec, n, r->tasks, WEIR_PLAN_MAX_TASKS, &r->n_tasks);
    if (rc) {
        snprintf(err, err_cap, "cannot plan the job: %s", weir_strerror(rc));
        return rc;
    }
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        snprintf(r->task_node[i], sizeof r->task_node[i], "%s",
                 m->nodes[alive[r->tasks[i].node]].id);
        r->tasks[i].node = alive[r->tasks[i].node];
        memset(&r->status[i], 0, sizeof r->status[i]);
        r->status[i].state = 1; /* deploying */
        r->status[i].watermark_ms = WEIR_TS_MIN;
    }
    r->attempt++;
    r->state = WEIR_JOB_RUNNING;
    r->placed_ms = r->submitted_ms;
    return 0;
}

/* Tasks that had not ended are canceled with their job (what `weir
 * status` then shows). */
static void s_end_tasks(weir_jobrec_t *r)
{
    for (uint32_t i = 0; i < r->n_tasks; i++)
        if (r->status[i].state < 3)
            r->status[i].state = 5;
}

static void s_fail(weir_jobrec_t *r, int64_t now_ms)
{
    r->state = WEIR_JOB_FAILED;
    r->ended_ms = now_ms;
    s_end_tasks(r);
}

int weir_jobs_check_deploy(weir_jobrec_t *r, int64_t now_ms, int64_t timeout_ms)
{
    if (r->state != WEIR_JOB_RUNNING || now_ms - r->placed_ms < timeout_ms)
        return -1;
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        if (r->status[i].state != 1)
            continue;
        snprintf(r->error, sizeof r->error,
                 "task %u was not started by node %s within %lld ms of the deployment", i,
                 r->task_node[i], (long long)timeout_ms);
        s_fail(r, now_ms);
        return WEIR_JOB_FAILED;
    }
    return -1;
}

int weir_jobs_task_update(weir_jobrec_t *r, uint32_t attempt, uint32_t task,
                          const weir_task_status_t *st, const char *node_id, int64_t now_ms)
{
    if (attempt != r->attempt || task >= r->n_tasks)
        return -1; /* an older attempt, or garbage: fenced */
    if (node_id && strcmp(r->task_node[task], node_id) != 0)
        return -1; /* only the node that runs a task reports on it */
    weir_task_status_t *s = &r->status[task];
    /* A final task state never goes back (a late heartbeat may carry an
     * older snapshot than the task's final report). */
    if (s->state >= 3 && st->state < 3)
        return -1;
    *s = *st;
    if (r->state != WEIR_JOB_RUNNING)
        return -1;
    if (st->state == 4) {
        const weir_plan_task_t *t = &r->tasks[task];
        snprintf(r->error, sizeof r->error, "task %u (%s %u) on node %s failed: %s", task,
                 t->kind == WEIR_TASK_SOURCE ? "source split" : "window",
                 t->kind == WEIR_TASK_SOURCE ? t->split : t->keyed_index, node_id, st->error);
        s_fail(r, now_ms);
        return WEIR_JOB_FAILED;
    }
    if (st->state == 5) { /* canceled by its node (shutting down), not by us */
        snprintf(r->error, sizeof r->error, "task %u was canceled on node %s (node stopping?)",
                 task, node_id ? node_id : "?");
        s_fail(r, now_ms);
        return WEIR_JOB_FAILED;
    }
    for (uint32_t i = 0; i < r->n_tasks; i++)
        if (r->status[i].state != 3)
            return -1;
    r->state = WEIR_JOB_FINISHED;
    r->ended_ms = now_ms;
    return WEIR_JOB_FINISHED;
}

int weir_jobs_node_lost(weir_jobrec_t *r, const char *node_id, const char *why, int64_t now_ms)
{
    if (r->state != WEIR_JOB_RUNNING)
        return -1;
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        if (strcmp(r->task_node[i], node_id) != 0 || r->status[i].state == 3)
            continue;
        snprintf(r->error, sizeof r->error, "node %s lost (%s) while running task %u", node_id, why,
                 i);
        snprintf(r->lost_node, sizeof r->lost_node, "%s", node_id);
        s_fail(r, now_ms);
        return WEIR_JOB_FAILED;
    }
    return -1;
}

bool weir_jobs_cancel(weir_jobrec_t *r, const char *why, int64_t now_ms)
{
    if (weir_jobs_final(r))
        return false;
    r->state = WEIR_JOB_CANCELED;
    snprintf(r->error, sizeof r->error, "%s", why);
    r->ended_ms = now_ms;
    s_end_tasks(r);
    return true;
}

const char *weir_jobs_state_name(int state)
{
    static const char *const names[] = {"CREATED",  "RUNNING",  "FINISHED",
                                        "FAILED",   "CANCELED", "RESTARTING"};
    return state >= 0 && state < (int)(sizeof names / sizeof names[0]) ? names[state] : "UNKNOWN";
}

int64_t weir_jobs_restart_delay(const weir_jobrec_t *r)
{
    const weir_job_t *j = &r->spec;
    if (j->restart.strategy == WEIR_RESTART_NONE || r->restarts >= (uint32_t)j->restart.max_attempts)
        return -1;
    if (j->restart.strategy == WEIR_RESTART_FIXED)
        return j->restart.delay_ms;
    int64_t d = j->restart.initial_ms;
    for (uint32_t i = 0; i < r->restarts && d < j->restart.max_ms; i++)
        d = weir_sat_add(d, d);
    return d < j->restart.max_ms ? d : j->restart.max_ms;
}

bool weir_jobs_begin_restart(weir_jobrec_t *r, int64_t now_ms)
{
    if (r->state != WEIR_JOB_FAILED)
        return false;
    int64_t d = weir_jobs_restart_delay(r);
    if (d < 0)
        return false;
    snprintf(r->last_failure, sizeof r->last_failure, "%s", r->error);
    r->restarts++;
    r->restart_at_ms = weir_sat_add(now_ms, d);
    r->state = WEIR_JOB_RESTARTING;
    r->ended_ms = 0;
    return true;
}

bool weir_jobs_stopped(weir_jobrec_t *r, const char *note, int64_t now_ms)
{
    if (weir_jobs_final(r))
        return false;
    r->state = WEIR_JOB_FINISHED;
    snprintf(r->error, sizeof r->error, "%s", note);
    r->ended_ms = now_ms;
    s_end_tasks(r);
    return true;
}

int64_t weir_jobs_watermark(const weir_jobrec_t *r)
{
    int64_t w = WEIR_TS_MAX, idle_max = WEIR_TS_MIN;
    bool any = false, active = false, idle = false;
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        if (r->tasks[i].kind != WEIR_TASK_WINDOW)
            continue;
        any = true;
        int64_t t = r->status[i].watermark_ms;
        if (t == WEIR_TS_MAX) /* finished: holds nothing back */
            continue;
        if (r->status[i].idle) { /* left out, as a task leaves out an idle input */
            idle = true;
            if (t > idle_max)
                idle_max = t;
            continue;
        }
        active = true;
        if (t < w)
            w = t;
    }
    if (!any)
        return WEIR_TS_MIN;
    if (active || !idle)
        return w; /* WEIR_TS_MAX when every keyed task finished */
    return idle_max;
}
