/* ckcoord: the checkpoint state machine of one job attempt. See ckcoord.h.
 *
 * The running checkpoint keeps one flag and one snapshot slot per task. A
 * task that finished before the trigger is marked acknowledged without a
 * copy: its snapshot is read from the finished-task table when the
 * metadata is built, so triggering never allocates and weir_ckc_poll
 * cannot fail. An abort fills a one-action slot that poll empties before
 * it can trigger again, so one slot is enough.
 */
#include "ckcoord.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

enum { S_RUNNING = 0, S_FINISHED = 1, S_FAILED = 2 };
enum { S_NOT_ACKED = 0, S_ACKED = 1, S_ACKED_FINAL = 2 };

typedef struct {
    bool active;
    uint64_t id;
    bool savepoint;
    weir_ckc_phase_t phase;
    int64_t trigger_ms, sources_acked_ms, tasks_acked_ms, durable_ms;
    uint32_t n_src_acked, n_acked;
    bool persist_given, notify_given;
} s_run_t;

struct weir_ckc {
    uint32_t n_tasks, n_sources, n_finished;
    uint8_t *is_source;          /* per task */
    uint8_t *tstate;             /* per task: S_RUNNING, S_FINISHED, S_FAILED */
    weir_ck_task_snap_t *finals; /* per task: the final snapshot of a finished task */
    uint8_t *acked;              /* per task, for the running checkpoint */
    weir_ck_task_snap_t *snaps;  /* per task: its acknowledgement (S_ACKED) */
    int64_t interval_ms, timeout_ms;
    uint64_t next_id;    /* id of the next trigger, >= 1 */
    int64_t next_due_ms; /* of the next periodic checkpoint */
    bool savepoint_queued;
    bool stopped; /* a task failed */
    s_run_t run;
    bool abort_waiting; /* the action slot below is full */
    weir_ckc_action_t abort_act;
    weir_ckc_stats_t history[WEIR_CKC_HISTORY]; /* ring, newest at hist_head - 1 */
    uint32_t hist_head, hist_len;
    weir_ckc_stats_t last_completed;
    bool have_completed;
    uint64_t n_completed, n_aborted;
};

weir_ckc_t *weir_ckc_new(uint32_t n_tasks, const bool *is_source, int64_t interval_ms,
                         int64_t timeout_ms, int64_t now_ms)
{
    assert(n_tasks >= 1 && interval_ms >= 0 && timeout_ms >= 1);
    weir_ckc_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->is_source = calloc(n_tasks, 1);
    c->tstate = calloc(n_tasks, 1);
    c->acked = calloc(n_tasks, 1);
    c->finals = calloc(n_tasks, sizeof *c->finals);
    c->snaps = calloc(n_tasks, sizeof *c->snaps);
    if (!c->is_source || !c->tstate || !c->acked || !c->finals || !c->snaps) {
        weir_ckc_destroy(&c);
        return NULL;
    }
    c->n_tasks = n_tasks;
    for (uint32_t i = 0; i < n_tasks; i++) {
        c->is_source[i] = is_source[i];
        c->n_sources += is_source[i];
    }
    c->interval_ms = interval_ms;
    c->timeout_ms = timeout_ms;
    c->next_id = 1;
    c->next_due_ms = interval_ms > 0 ? now_ms + interval_ms : INT64_MAX;
    return c;
}

static void s_clear_snaps(weir_ckc_t *c)
{
    for (uint32_t i = 0; i < c->n_tasks; i++) {
        weir_ck_snap_clear(&c->snaps[i]);
        c->acked[i] = S_NOT_ACKED;
    }
}

void weir_ckc_destroy(weir_ckc_t **pc)
{
    if (!pc || !*pc)
        return;
    weir_ckc_t *c = *pc;
    if (c->snaps && c->acked)
        s_clear_snaps(c);
    if (c->finals)
        for (uint32_t i = 0; i < c->n_tasks; i++)
            weir_ck_snap_clear(&c->finals[i]);
    free(c->is_source);
    free(c->tstate);
    free(c->acked);
    free(c->finals);
    free(c->snaps);
    free(c);
    *pc = NULL;
}

int weir_ckc_resume_after(weir_ckc_t *c, uint64_t last_id)
{
    if (c->next_id != 1)
        return WEIR_EINVAL;
    c->next_id = last_id + 1;
    return 0;
}

/* The snapshot that stands for task i in the running checkpoint. */
static const weir_ck_task_snap_t *s_snap_of(const weir_ckc_t *c, uint32_t i)
{
    switch (c->acked[i]) {
    case S_ACKED: return &c->snaps[i];
    case S_ACKED_FINAL: return &c->finals[i];
    default: return NULL;
    }
}

static void s_stats_of_run(const weir_ckc_t *c, int64_t now_ms, weir_ckc_stats_t *s)
{
    const s_run_t *r = &c->run;
    memset(s, 0, sizeof *s);
    s->id = r->id;
    s->savepoint = r->savepoint;
    s->phase = r->phase;
    s->trigger_ms = r->trigger_ms;
    s->sources_acked_ms = r->sources_acked_ms;
    s->tasks_acked_ms = r->tasks_acked_ms;
    s->durable_ms = r->durable_ms;
    s->end_ms = INT64_MIN;
    s->duration_ms = now_ms - r->trigger_ms;
    s->n_acked = r->n_acked;
    s->n_tasks = c->n_tasks;
    for (uint32_t i = 0; i < c->n_tasks; i++) {
        const weir_ck_task_snap_t *t = s_snap_of(c, i);
        if (!t)
            continue;
        s->state_bytes += t->state_bytes;
        if (c->acked[i] == S_ACKED) /* a final snapshot uploads nothing new */
            s->incremental_bytes += t->incremental_bytes;
        if (t->alignment_ms > s->alignment_ms && c->acked[i] == S_ACKED)
            s->alignment_ms = t->alignment_ms;
    }
}

/* The running checkpoint ends (completed or aborted): its stats go to the
 * history, the next periodic one is due interval_ms later. */
static void s_end(weir_ckc_t *c, weir_ckc_phase_t phase, weir_ckc_reason_t reason, int64_t now_ms)
{
    weir_ckc_stats_t s;
    c->run.phase = phase;
    s_stats_of_run(c, now_ms, &s);
    s.reason = reason;
    s.end_ms = now_ms;
    c->history[c->hist_head] = s;
    c->hist_head = (c->hist_head + 1) % WEIR_CKC_HISTORY;
    if (c->hist_len < WEIR_CKC_HISTORY)
        c->hist_len++;
    if (phase == WEIR_CKC_COMPLETED) {
        c->last_completed = s;
        c->have_completed = true;
        c->n_completed++;
    } else {
        c->n_aborted++;
    }
    s_clear_snaps(c);
    memset(&c->run, 0, sizeof c->run);
    if (c->interval_ms > 0)
        c->next_due_ms = now_ms + c->interval_ms;
}

static void s_abort(weir_ckc_t *c, weir_ckc_reason_t reason, uint32_t task, int64_t now_ms)
{
    weir_ckc_action_t a = {.kind = WEIR_CKC_ABORT,
                           .id = c->run.id,
                           .savepoint = c->run.savepoint,
                           .reason = reason,
                           .task = task};
    c->abort_act = a;
    c->abort_waiting = true;
    s_end(c, WEIR_CKC_ABORTED, reason, now_ms);
}

/* Aborts the running checkpoint when it has run out of time. Only before
 * TASKS_ACKED: see "Rejected" in ckcoord.h. */
static void s_expire(weir_ckc_t *c, int64_t now_ms)
{
    if (c->run.active && c->run.phase < WEIR_CKC_TASKS_ACKED &&
        now_ms - c->run.trigger_ms >= c->timeout_ms)
        s_abort(c, WEIR_CKC_TIMEOUT, 0, now_ms);
}

static void s_advance(weir_ckc_t *c, int64_t now_ms)
{
    s_run_t *r = &c->run;
    if (r->phase == WEIR_CKC_TRIGGERED && r->n_src_acked == c->n_sources) {
        r->phase = WEIR_CKC_SOURCES_ACKED;
        r->sources_acked_ms = now_ms;
    }
    if (r->phase == WEIR_CKC_SOURCES_ACKED && r->n_acked == c->n_tasks) {
        r->phase = WEIR_CKC_TASKS_ACKED;
        r->tasks_acked_ms = now_ms;
    }
}

static void s_mark_acked(weir_ckc_t *c, uint32_t task, uint8_t how)
{
    c->acked[task] = how;
    c->run.n_acked++;
    c->run.n_src_acked += c->is_source[task];
}

static void s_trigger(weir_ckc_t *c, bool savepoint, int64_t now_ms, weir_ckc_action_t *act)
{
    s_run_t *r = &c->run;
    memset(r, 0, sizeof *r);
    r->active = true;
    r->id = c->next_id++;
    r->savepoint = savepoint;
    r->phase = WEIR_CKC_TRIGGERED;
    r->trigger_ms = now_ms;
    r->sources_acked_ms = r->tasks_acked_ms = r->durable_ms = INT64_MIN;
    for (uint32_t i = 0; i < c->n_tasks; i++)
        if (c->tstate[i] == S_FINISHED)
            s_mark_acked(c, i, S_ACKED_FINAL);
    s_advance(c, now_ms);
    act->kind = WEIR_CKC_TRIGGER;
    act->id = r->id;
    act->savepoint = savepoint;
}

weir_ckc_act_t weir_ckc_poll(weir_ckc_t *c, int64_t now_ms, weir_ckc_action_t *act)
{
    memset(act, 0, sizeof *act);
    s_expire(c, now_ms);
    if (c->abort_waiting) {
        *act = c->abort_act;
        c->abort_waiting = false;
        return act->kind;
    }
    s_run_t *r = &c->run;
    if (r->active) {
        if (r->phase == WEIR_CKC_TASKS_ACKED && !r->persist_given) {
            r->persist_given = true;
            act->kind = WEIR_CKC_PERSIST;
        } else if (r->phase == WEIR_CKC_DURABLE && !r->notify_given) {
            r->notify_given = true;
            act->kind = WEIR_CKC_NOTIFY;
        } else {
            return WEIR_CKC_NONE;
        }
        act->id = r->id;
        act->savepoint = r->savepoint;
        return act->kind;
    }
    if (c->stopped || c->n_finished == c->n_tasks)
        return WEIR_CKC_NONE;
    if (c->savepoint_queued) {
        c->savepoint_queued = false;
        s_trigger(c, true, now_ms, act);
    } else if (now_ms >= c->next_due_ms) {
        s_trigger(c, false, now_ms, act);
    }
    return act->kind;
}

/* 0 when id is the running checkpoint, else why not. */
static int s_check_id(const weir_ckc_t *c, uint64_t id)
{
    if (c->run.active && id == c->run.id)
        return 0;
    if (id == 0 || id >= c->next_id)
        return WEIR_ENOTFOUND;
    return WEIR_ESTALE;
}

int weir_ckc_ack(weir_ckc_t *c, uint32_t task, uint64_t id, const weir_ck_task_snap_t *snap,
                 int64_t now_ms)
{
    s_expire(c, now_ms);
    if (task >= c->n_tasks)
        return WEIR_ERANGE;
    int rc = s_check_id(c, id);
    if (rc)
        return rc;
    if (c->acked[task] != S_NOT_ACKED || c->tstate[task] != S_RUNNING)
        return WEIR_EINVAL;
    if ((rc = weir_ck_snap_copy(&c->snaps[task], snap)))
        return rc;
    c->snaps[task].task = task;
    s_mark_acked(c, task, S_ACKED);
    s_advance(c, now_ms);
    return 0;
}

int weir_ckc_task_finished(weir_ckc_t *c, uint32_t task, const weir_ck_task_snap_t *final,
                           int64_t now_ms)
{
    s_expire(c, now_ms);
    if (task >= c->n_tasks)
        return WEIR_ERANGE;
    if (c->tstate[task] != S_RUNNING)
        return WEIR_EINVAL;
    int rc = weir_ck_snap_copy(&c->finals[task], final);
    if (rc)
        return rc;
    c->finals[task].task = task;
    c->finals[task].finished = true;
    c->tstate[task] = S_FINISHED;
    c->n_finished++;
    if (c->run.active && c->acked[task] == S_NOT_ACKED) {
        s_mark_acked(c, task, S_ACKED_FINAL);
        s_advance(c, now_ms);
    }
    return 0;
}

int weir_ckc_task_failed(weir_ckc_t *c, uint32_t task, int64_t now_ms)
{
    s_expire(c, now_ms);
    if (task >= c->n_tasks)
        return WEIR_ERANGE;
    if (c->tstate[task] == S_FINISHED)
        c->n_finished--;
    c->tstate[task] = S_FAILED;
    c->stopped = true;
    c->savepoint_queued = false;
    if (c->run.active && c->run.phase < WEIR_CKC_DURABLE)
        s_abort(c, WEIR_CKC_TASK_FAILED, task, now_ms);
    return 0;
}

int weir_ckc_savepoint(weir_ckc_t *c, int64_t now_ms)
{
    s_expire(c, now_ms);
    if (c->stopped)
        return WEIR_ECANCELED;
    if (c->n_finished == c->n_tasks)
        return WEIR_EINVAL;
    c->savepoint_queued = true;
    return 0;
}

int weir_ckc_meta(const weir_ckc_t *c, uint64_t id, weir_ck_meta_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = s_check_id(c, id);
    if (rc)
        return rc;
    if (c->run.phase != WEIR_CKC_TASKS_ACKED && c->run.phase != WEIR_CKC_DURABLE)
        return WEIR_EINVAL;
    out->tasks = calloc(c->n_tasks, sizeof *out->tasks);
    if (!out->tasks)
        return -ENOMEM;
    for (uint32_t i = 0; i < c->n_tasks; i++) {
        if ((rc = weir_ck_snap_copy(&out->tasks[i], s_snap_of(c, i)))) {
            weir_ck_meta_clear(out);
            return rc;
        }
        out->n_tasks = i + 1;
    }
    out->id = id;
    out->savepoint = c->run.savepoint;
    out->trigger_ms = c->run.trigger_ms;
    out->complete_ms = c->run.tasks_acked_ms;
    return 0;
}

int weir_ckc_durable(weir_ckc_t *c, uint64_t id, int64_t now_ms)
{
    s_expire(c, now_ms);
    int rc = s_check_id(c, id);
    if (rc)
        return rc;
    if (c->run.phase != WEIR_CKC_TASKS_ACKED)
        return WEIR_EINVAL;
    c->run.phase = WEIR_CKC_DURABLE;
    c->run.durable_ms = now_ms;
    return 0;
}

int weir_ckc_completed(weir_ckc_t *c, uint64_t id, int64_t now_ms)
{
    int rc = s_check_id(c, id);
    if (rc)
        return rc;
    if (c->run.phase != WEIR_CKC_DURABLE)
        return WEIR_EINVAL;
    s_end(c, WEIR_CKC_COMPLETED, WEIR_CKC_NOT_ABORTED, now_ms);
    return 0;
}

int weir_ckc_abort(weir_ckc_t *c, uint64_t id, int64_t now_ms)
{
    s_expire(c, now_ms);
    int rc = s_check_id(c, id);
    if (rc)
        return rc;
    if (c->run.phase >= WEIR_CKC_DURABLE)
        return WEIR_EINVAL;
    s_abort(c, WEIR_CKC_REQUESTED, 0, now_ms);
    return 0;
}

int64_t weir_ckc_next_due_ms(const weir_ckc_t *c)
{
    const s_run_t *r = &c->run;
    if (c->abort_waiting || (r->active && r->phase == WEIR_CKC_TASKS_ACKED && !r->persist_given) ||
        (r->active && r->phase == WEIR_CKC_DURABLE && !r->notify_given))
        return INT64_MIN;
    if (r->active)
        return r->phase < WEIR_CKC_TASKS_ACKED ? r->trigger_ms + c->timeout_ms : INT64_MAX;
    if (c->stopped || c->n_finished == c->n_tasks)
        return INT64_MAX;
    return c->savepoint_queued ? INT64_MIN : c->next_due_ms;
}

uint64_t weir_ckc_last_id(const weir_ckc_t *c)
{
    return c->next_id - 1;
}

int weir_ckc_current(const weir_ckc_t *c, int64_t now_ms, weir_ckc_stats_t *out)
{
    if (!c->run.active)
        return WEIR_ENOTFOUND;
    s_stats_of_run(c, now_ms, out);
    return 0;
}

int weir_ckc_last_completed(const weir_ckc_t *c, weir_ckc_stats_t *out)
{
    if (!c->have_completed)
        return WEIR_ENOTFOUND;
    *out = c->last_completed;
    return 0;
}

int weir_ckc_history(const weir_ckc_t *c, uint32_t i, weir_ckc_stats_t *out)
{
    if (i >= c->hist_len)
        return WEIR_ENOTFOUND;
    *out = c->history[(c->hist_head + WEIR_CKC_HISTORY - 1 - i) % WEIR_CKC_HISTORY];
    return 0;
}

uint64_t weir_ckc_n_completed(const weir_ckc_t *c)
{
    return c->n_completed;
}

uint64_t weir_ckc_n_aborted(const weir_ckc_t *c)
{
    return c->n_aborted;
}

const char *weir_ckc_phase_name(weir_ckc_phase_t p)
{
    switch (p) {
    case WEIR_CKC_TRIGGERED: return "triggered";
    case WEIR_CKC_SOURCES_ACKED: return "sources-acked";
    case WEIR_CKC_TASKS_ACKED: return "tasks-acked";
    case WEIR_CKC_DURABLE: return "durable";
    case WEIR_CKC_COMPLETED: return "completed";
    case WEIR_CKC_ABORTED: return "aborted";
    }
    return "unknown";
}

const char *weir_ckc_reason_name(weir_ckc_reason_t r)
{
    switch (r) {
    case WEIR_CKC_NOT_ABORTED: return "not aborted";
    case WEIR_CKC_TIMEOUT: return "timeout";
    case WEIR_CKC_TASK_FAILED: return "task failed";
    case WEIR_CKC_REQUESTED: return "aborted on request";
    }
    return "unknown";
}
