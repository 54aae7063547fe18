/* coord: weir-coordinator's event loop: membership, job submission and
 * placement, task reports, failure detection, CLI requests.
 *
 * One thread owns the ROUTER socket, the node table (cluster/membership)
 * and the job records (cluster/jobs); both are state machines, so this
 * file only wires messages and the clock to them and sends what they
 * decide. Job files are kept under DATA_DIR/jobs/ so that the history of
 * submissions survives the process.
 */
#include "coord.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "endpoint.h"
#include "err.h"
#include "fsx.h"
#include "jobs.h"
#include "jobspec.h"
#include "log.h"
#include "membership.h"
#include "wire.h"

#include "ckcoord.h"
#include "coord_int.h"

#define COORD_DEPLOY_TIMEOUT_MS 10000 /* a task not started by then fails its job */

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
    (void)sig, s_stop = 1;
}

weir_jobrec_t *coord_find_job(coord_t *c, const char *id)
{
    for (uint32_t i = 0; i < c->n_jobs; i++)
        if (strcmp(c->jobs[i]->id, id) == 0)
            return c->jobs[i];
    return NULL;
}

void coord_send_job_nodes(coord_t *c, const weir_jobrec_t *r, Weir__V1__Envelope *env,
                          bool sources_only)
{
    bool sent[WEIR_MAX_NODES] = {false};
    for (uint32_t t = 0; t < r->n_tasks; t++) {
        if (sources_only && r->tasks[t].kind != WEIR_TASK_SOURCE)
            continue;
        uint32_t n = r->tasks[t].node;
        if (n >= c->members.n || sent[n] || !c->members.nodes[n].alive)
            continue;
        sent[n] = true;
        weir_wire_send(c->router, c->members.nodes[n].rid, c->members.nodes[n].rid_len, env);
    }
}

void coord_send_cancel(coord_t *c, weir_jobrec_t *r, const char *reason)
{
    Weir__V1__CancelJob cj = WEIR__V1__CANCEL_JOB__INIT;
    cj.job = r->id;
    cj.attempt = r->attempt;
    cj.reason = (char *)reason;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_CANCEL_JOB;
    e.cancel_job = &cj;
    coord_send_job_nodes(c, r, &e, false);
}

/* weir stop: tells the job's nodes to end its input. Sent again until the
 * job ends (every 250 ms from coord_broadcast_watermarks), so that a node
 * still deploying its tasks hears it too. */
static void coord_send_stop(coord_t *c, weir_jobrec_t *r)
{
    Weir__V1__CancelJob cj = WEIR__V1__CANCEL_JOB__INIT;
    cj.job = r->id;
    cj.attempt = r->attempt;
    cj.reason = "stopped by the user";
    cj.drain = true;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_CANCEL_JOB;
    e.cancel_job = &cj;
    coord_send_job_nodes(c, r, &e, false);
}

/* DATA_DIR/jobs/<id>.state: what a restarted coordinator needs to resume
 * the job (state, attempt, restarts, where its file is, what it was
 * restored from), written atomically at every change of state. */
void coord_persist_job(coord_t *c, const weir_jobrec_t *r)
{
    char dir[PATH_MAX], name[96], text[4 * PATH_MAX];
    snprintf(dir, sizeof dir, "%s/jobs", c->data_dir);
    snprintf(name, sizeof name, "%s.state", r->id);
    int n = snprintf(text, sizeof text,
                     "state=%d\nattempt=%u\nrestarts=%u\nck_last_id=%llu\nrestored_from=%s\n"
                     "base_dir=%s\nfile_name=%s\n",
                     r->state, r->attempt, r->restarts, (unsigned long long)r->ck_last_id,
                     r->restored_from, r->base_dir, r->file_name);
    int rc = n > 0 && (size_t)n < sizeof text ? weir_fs_write_atomic(dir, name, text, (size_t)n)
                                               : -ENAMETOOLONG;
    if (rc)
        weir_log_warn("job %s: cannot store its state in %s: %s (a restarted coordinator "
                      "would not resume it)",
                      r->id, dir, strerror(-rc));
}

static void coord_job_ended(coord_t *c, weir_jobrec_t *r)
{
    if (r->state == WEIR_JOB_FAILED && weir_jobs_begin_restart(r, weir_wall_ms())) {
        /* Recovery (DESIGN §9): the failed attempt is canceled everywhere
         * (its frames, state writes and commits are refused from now on:
         * they carry the old attempt), and attempt + 1 starts after the
         * strategy's delay from the latest checkpoint. */
        r->failed_mono_ms = weir_mono_ms();
        weir_log_warn("job %s attempt %u failed: %s; restart %u in %lld ms", r->id, r->attempt,
                      r->last_failure, r->restarts, (long long)(r->restart_at_ms - weir_wall_ms()));
        if (r->ckc) {
            uint64_t last = weir_ckc_last_id(r->ckc);
            if (last > r->ck_last_id)
                r->ck_last_id = last;
            weir_ckc_destroy(&r->ckc);
        }
        coord_send_cancel(c, r, r->last_failure);
        coord_persist_job(c, r);
        return;
    }
    coord_persist_job(c, r);
    weir_ckc_stats_t cur;
    if (r->ckc && weir_ckc_current(r->ckc, weir_wall_ms(), &cur) == 0)
        weir_ckc_abort(r->ckc, cur.id, weir_wall_ms()); /* it can no longer complete */
    if (r->state == WEIR_JOB_FINISHED)
        weir_log_info("job %s finished", r->id);
    else
        weir_log_warn("job %s %s: %s", r->id, r->state == WEIR_JOB_FAILED ? "failed" : "canceled",
                      r->error);
    if (r->state != WEIR_JOB_FINISHED)
        coord_send_cancel(c, r, r->error);
}

static int coord_deploy(coord_t *c, weir_jobrec_t *r);

/* heartbeat.timeout of a job, when shorter than the cluster's: a node of
 * the job silent that long counts as lost for the job (it fails, and
 * restarts by its strategy), while the cluster still waits for it. */
static void coord_job_heartbeats(coord_t *c)
{
    int64_t mono = weir_mono_ms();
    for (uint32_t j = 0; j < c->n_jobs; j++) {
        weir_jobrec_t *r = c->jobs[j];
        if (r->state != WEIR_JOB_RUNNING || r->spec.heartbeat.timeout_ms >= c->hb_timeout_ms)
            continue;
        for (uint32_t t = 0; t < r->n_tasks && r->state == WEIR_JOB_RUNNING; t++) {
            uint32_t n = r->tasks[t].node;
            if (n >= c->members.n || r->status[t].state >= 3)
                continue;
            int64_t age = mono - c->members.nodes[n].last_seen_ms;
            if (age <= r->spec.heartbeat.timeout_ms)
                continue;
            char why[128];
            snprintf(why, sizeof why, "no heartbeat for %lld ms (the job's heartbeat.timeout)",
                     (long long)age);
            if (weir_jobs_node_lost(r, c->members.nodes[n].id, why, weir_wall_ms()) >= 0)
                coord_job_ended(c, r);
        }
    }
}

/* Jobs waiting to restart: once their delay passed and a node is alive,
 * attempt + 1 is placed over the live nodes and deployed from the job's
 * latest checkpoint (or what it first started from, if it has none). */
static void coord_restart_tick(coord_t *c)
{
    int64_t now = weir_wall_ms();
    for (uint32_t j = 0; j < c->n_jobs; j++) {
        weir_jobrec_t *r = c->jobs[j];
        if (r->state != WEIR_JOB_RESTARTING || now < r->restart_at_ms)
            continue;
        /* The nodes to use are those heard from since the failure: a node
         * that just died (whose connection broke under a sender) is not
         * known dead before the heartbeat timeout, but it has not
         * heartbeated since. Live nodes do within an interval and a half. */
        /* When the failure names the lost node, it is left out and the
         * others are used at once. */
        int64_t mono = weir_mono_ms();
        if (!r->lost_node[0] && mono - r->failed_mono_ms < c->hb_interval_ms * 3 / 2)
            continue;
        static weir_members_t heard;
        heard = c->members;
        for (uint32_t i = 0; i < heard.n; i++)
            if (r->lost_node[0] ? strcmp(heard.nodes[i].id, r->lost_node) == 0
                                : heard.nodes[i].last_seen_ms < r->failed_mono_ms)
                heard.nodes[i].alive = false;
        uint32_t alive[WEIR_MAX_NODES];
        if (weir_members_alive(&heard, alive, WEIR_MAX_NODES) == 0)
            continue; /* waits, RESTARTING, until a node registers or heartbeats */
        char err[1024];
        uint64_t last_ck = 0;
        int rc = coord_ck_prepare_restore(c, r, r->id, &last_ck, err, sizeof err);
        if (rc && rc != WEIR_ENOTFOUND) {
            snprintf(r->error, sizeof r->error, "cannot restart from the latest checkpoint: %s",
                     err);
            r->state = WEIR_JOB_FAILED;
            r->ended_ms = now;
            weir_log_warn("job %s failed: %s", r->id, r->error);
            continue;
        }
        if (weir_jobs_place(r, &heard, err, sizeof err) != 0)
            continue;
        r->lost_node[0] = '\0';
        r->placed_ms = now;
        uint64_t after = last_ck > r->ck_last_id ? last_ck : r->ck_last_id;
        if (coord_ck_attempt_started(c, r, after) != 0 || coord_deploy(c, r) != 0) {
            snprintf(r->error, sizeof r->error, "could not deploy attempt %u", r->attempt);
            r->state = WEIR_JOB_FAILED;
            r->ended_ms = now;
            continue;
        }
        r->error[0] = '\0'; /* the failure is in last_failure, shown with the restarts */
        coord_persist_job(c, r);
        weir_log_info("job %s: attempt %u deployed on %u live nodes, from %s", r->id, r->attempt,
                      weir_members_alive(&heard, alive, WEIR_MAX_NODES),
                      r->restored_from[0] ? r->restored_from : "the start");
    }
}

static int coord_deploy(coord_t *c, weir_jobrec_t *r)
{
    Weir__V1__TaskSpec specs[WEIR_PLAN_MAX_TASKS];
    Weir__V1__TaskSpec *sp[WEIR_PLAN_MAX_TASKS];
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        const weir_plan_task_t *t = &r->tasks[i];
        weir__v1__task_spec__init(&specs[i]);
        specs[i].index = t->index;
        specs[i].kind = t->kind == WEIR_TASK_SOURCE ? WEIR__V1__TASK_KIND__KIND_SOURCE
                                                    : WEIR__V1__TASK_KIND__KIND_WINDOW;
        specs[i].split = t->split;
        specs[i].keyed_index = t->keyed_index;
        specs[i].kg_first = t->kg_first;
        specs[i].kg_last = t->kg_last;
        specs[i].node_id = c->members.nodes[t->node].id;
        specs[i].data_endpoint = c->members.nodes[t->node].endpoint;
        sp[i] = &specs[i];
    }
    Weir__V1__Deploy d = WEIR__V1__DEPLOY__INIT;
    d.job = r->id;
    d.attempt = r->attempt;
    d.yaml = r->yaml;
    d.base_dir = r->base_dir;
    d.file_name = r->file_name;
    d.n_tasks = r->n_tasks;
    d.tasks = sp;
    d.restore.data = r->restore_meta;
    d.restore.len = r->restore_meta ? r->restore_len : 0;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_DEPLOY;
    e.deploy = &d;
    bool sent[WEIR_MAX_NODES] = {0};
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        uint32_t n = r->tasks[i].node;
        if (sent[n])
            continue;
        sent[n] = true;
        weir_member_t *m = &c->members.nodes[n];
        int rc = weir_wire_send(c->router, m->rid, m->rid_len, &e);
        if (rc)
            return rc;
    }
    return 0;
}

void coord_reply(coord_t *c, const void *rid, size_t rid_len, Weir__V1__Reply *rep)
{
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_REPLY;
    e.reply = rep;
    weir_wire_send(c->router, rid, rid_len, &e);
}

void coord_reply_error(coord_t *c, const void *rid, size_t rid_len, const char *msg)
{
    Weir__V1__Reply rep = WEIR__V1__REPLY__INIT;
    rep.ok = false;
    rep.error = (char *)msg;
    coord_reply(c, rid, rid_len, &rep);
}

weir_jobrec_t *coord_job_or_reply(coord_t *c, const void *rid, size_t rid_len, const char *id)
{
    weir_jobrec_t *r = coord_find_job(c, id ? id : "");
    if (!r) {
        char msg[256];
        snprintf(msg, sizeof msg, "no job '%s' (see `weir list`)", id ? id : "");
        coord_reply_error(c, rid, rid_len, msg);
    }
    return r;
}

static void coord_on_submit(coord_t *c, const void *rid, size_t rid_len, const Weir__V1__Submit *s)
{
    char err[1024];
    weir_job_t *spec = calloc(1, sizeof *spec);
    if (!spec) {
        coord_reply_error(c, rid, rid_len, "coordinator out of memory");
        return;
    }
    /* The coordinator may not see the nodes' files: paths are checked by
     * `weir submit` and by the nodes that run the sources. */
    int rc = weir_jobspec_parse(s->yaml, strlen(s->yaml), s->file_name, s->base_dir,
                                WEIR_JOBSPEC_RUNNABLE, spec, err, sizeof err);
    if (rc) {
        coord_reply_error(c, rid, rid_len, err);
        free(spec);
        return;
    }
    /* Two running jobs must never write into one directory. */
    for (uint32_t i = 0; i < c->n_jobs; i++) {
        const weir_jobrec_t *o = c->jobs[i];
        if (o->state != WEIR_JOB_RUNNING)
            continue;
        const char *clash = NULL;
        if (strcmp(o->spec.sink.path, spec->sink.path) == 0)
            clash = spec->sink.path;
        else if (spec->late.policy == WEIR_LATE_FILE &&
                 ((o->spec.late.policy == WEIR_LATE_FILE &&
                   strcmp(o->spec.late.path, spec->late.path) == 0) ||
                  strcmp(o->spec.sink.path, spec->late.path) == 0))
            clash = spec->late.path;
        if (clash) {
            snprintf(err, sizeof err,
                     "%s: the directory %s is an output of running job %s; choose another "
                     "path or cancel that job",
                     s->file_name, clash, o->id);
            coord_reply_error(c, rid, rid_len, err);
            free(spec);
            return;
        }
    }
    if (c->n_jobs == COORD_MAX_JOBS) {
        coord_reply_error(c, rid, rid_len, "the coordinator holds too many jobs");
        free(spec);
        return;
    }
    char id[64];
    snprintf(id, sizeof id, "%.40s-%u", spec->name, ++c->next_seq);
    for (char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            *p = '_';
    weir_jobrec_t *r = weir_jobs_new(id, s->yaml, s->base_dir, s->file_name, spec, weir_wall_ms());
    free(spec);
    if (!r) {
        coord_reply_error(c, rid, rid_len, "coordinator out of memory");
        return;
    }
    /* Checkpoint storage must be usable now, not found out at the first
     * checkpoint's timeout. */
    if (r->spec.checkpoint.storage[0] && !coord_ck_store(c, &r->spec, err, sizeof err)) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: checkpoint.storage: %s", s->file_name, err);
        coord_reply_error(c, rid, rid_len, msg);
        weir_jobs_destroy(&r);
        c->next_seq--;
        return;
    }
    uint64_t last_ck = 0;
    if (s->from_savepoint && s->from_savepoint[0] &&
        coord_ck_prepare_restore(c, r, s->from_savepoint, &last_ck, err, sizeof err) != 0) {
        coord_reply_error(c, rid, rid_len, err);
        weir_jobs_destroy(&r);
        c->next_seq--;
        return;
    }
    rc = weir_jobs_place(r, &c->members, err, sizeof err);
    if (rc) {
        coord_reply_error(c, rid, rid_len, err);
        weir_jobs_destroy(&r);
        c->next_seq--;
        return;
    }
    if (coord_ck_attempt_started(c, r, last_ck) != 0) {
        coord_reply_error(c, rid, rid_len, "coordinator out of memory");
        weir_jobs_destroy(&r);
        c->next_seq--;
        return;
    }
    char jobs_dir[PATH_MAX];
    snprintf(jobs_dir, sizeof jobs_dir, "%s/jobs", c->data_dir);
    char fname[128];
    snprintf(fname, sizeof fname, "%s.yaml", r->id);
    rc = weir_fs_mkdirs(jobs_dir);
    if (!rc)
        rc = weir_fs_write_atomic(jobs_dir, fname, r->yaml, strlen(r->yaml));
    if (rc) {
        snprintf(err, sizeof err, "cannot store the job in %s: %s", jobs_dir, strerror(-rc));
        coord_reply_error(c, rid, rid_len, err);
        weir_jobs_destroy(&r);
        return;
    }
    c->jobs[c->n_jobs++] = r;
    rc = coord_deploy(c, r);
    if (rc) {
        weir_jobs_cancel(r, "could not deploy to the nodes", weir_wall_ms());
        r->state = WEIR_JOB_FAILED;
    }
    coord_persist_job(c, r);
    weir_log_info("job %s (%s) submitted: %u tasks, attempt %u%s%s", r->id, r->file_name,
                  r->n_tasks, r->attempt, r->restored_from[0] ? ", restored from " : "",
                  r->restored_from);
    Weir__V1__Reply rep = WEIR__V1__REPLY__INIT;
    rep.ok = true;
    rep.job = r->id;
    coord_reply(c, rid, rid_len, &rep);
}

/* A node runs a task of an attempt this coordinator does not run (the job
 * ended, a newer attempt exists, or the job is unknown after a restart):
 * tell that node to stop it, so it writes nothing more. */
static void coord_cancel_stale(coord_t *c, const char *node_id, const char *job, uint32_t attempt)
{
    int idx = weir_members_find(&c->members, node_id);
    if (idx < 0)
        return;
    const weir_member_t *m = &c->members.nodes[idx];
    Weir__V1__CancelJob cj = WEIR__V1__CANCEL_JOB__INIT;
    cj.job = (char *)job;
    cj.attempt = attempt;
    cj.reason = "the coordinator does not run this attempt";
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_CANCEL_JOB;
    e.cancel_job = &cj;
    weir_wire_send(c->router, m->rid, m->rid_len, &e);
}

static void coord_on_task_stats(coord_t *c, const char *node_id, const Weir__V1__TaskStats *ts)
{
    if (!ts || !ts->job)
        return;
    weir_jobrec_t *r = coord_find_job(c, ts->job);
    bool live = ts->state == WEIR__V1__TASK_STATE__TASK_RUNNING ||
                ts->state == WEIR__V1__TASK_STATE__TASK_DEPLOYING;
    if (live && (!r || r->state != WEIR_JOB_RUNNING || ts->attempt != r->attempt)) {
        coord_cancel_stale(c, node_id, ts->job, ts->attempt);
        return;
    }
    if (!r)
        return;
    weir_task_status_t st;
    weir_wire_stats_from_pb(ts, &st);
    int before = ts->task < r->n_tasks ? r->status[ts->task].state : 0;
    bool running = r->state == WEIR_JOB_RUNNING;
    int now_state = weir_jobs_task_update(r, ts->attempt, ts->task, &st, node_id, weir_wall_ms());
    if (running && ts->attempt == r->attempt && ts->task < r->n_tasks &&
        r->status[ts->task].state != before && r->status[ts->task].state >= 3)
        coord_ck_task_state(c, r, ts->task, r->status[ts->task].state);
    if (now_state >= 0)
        coord_job_ended(c, r);
}

static void coord_fill_job(const coord_t *c, const weir_jobrec_t *r, Weir__V1__JobInfo *ji,
                           Weir__V1__TaskInfo *ti, Weir__V1__TaskInfo **tip,
                           Weir__V1__TaskStats *ts, bool with_tasks)
{
    weir__v1__job_info__init(ji);
    ji->job = (char *)r->id;
    ji->name = (char *)r->spec.name;
    ji->state = (Weir__V1__JobState)r->state;
    ji->attempt = r->attempt;
    ji->error = (char *)r->error;
    ji->submitted_ms = r->submitted_ms;
    ji->ended_ms = r->ended_ms;
    ji->watermark_ms = weir_jobs_watermark(r);
    ji->sink_path = (char *)r->spec.sink.path;
    ji->restarts = r->restarts;
    ji->last_failure = (char *)r->last_failure;
    ji->late_path = r->spec.late.policy == WEIR_LATE_FILE ? (char *)r->spec.late.path : "";
    if (!with_tasks)
        return;
    static Weir__V1__CheckpointInfo latest; /* status: one job per reply */
    coord_ck_fill_job(r, ji, &latest);
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        const weir_plan_task_t *t = &r->tasks[i];
        const weir_task_status_t *s = &r->status[i];
        weir__v1__task_info__init(&ti[i]);
        ti[i].index = t->index;
        ti[i].kind = t->kind == WEIR_TASK_SOURCE ? WEIR__V1__TASK_KIND__KIND_SOURCE
                                                 : WEIR__V1__TASK_KIND__KIND_WINDOW;
        ti[i].node_id = (char *)r->task_node[i];
        ti[i].kg_first = t->kg_first;
        ti[i].kg_last = t->kg_last;
        ti[i].split = t->split;
        weir_wire_stats_to_pb(s, r->id, r->attempt, &ts[i]);
        ti[i].stats = &ts[i];
        tip[i] = &ti[i];
    }
    ji->n_tasks = r->n_tasks;
    ji->tasks = tip;
    (void)c;
}

static void coord_on_request(coord_t *c, const void *rid, size_t rid_len,
                             const Weir__V1__Request *q)
{
    Weir__V1__Reply rep = WEIR__V1__REPLY__INIT;
    switch (q->req_case) {
    case WEIR__V1__REQUEST__REQ_SUBMIT: coord_on_submit(c, rid, rid_len, q->submit); return;
    case WEIR__V1__REQUEST__REQ_STATUS: {
        weir_jobrec_t *r = coord_job_or_reply(c, rid, rid_len, q->status->job);
        if (!r)
            return;
        static Weir__V1__TaskInfo ti[WEIR_PLAN_MAX_TASKS];
        static Weir__V1__TaskInfo *tip[WEIR_PLAN_MAX_TASKS];
        static Weir__V1__TaskStats ts[WEIR_PLAN_MAX_TASKS];
        Weir__V1__JobInfo ji;
        Weir__V1__JobInfo *jip = &ji;
        coord_fill_job(c, r, &ji, ti, tip, ts, true);
        rep.ok = true;
        rep.n_jobs = 1;
        rep.jobs = &jip;
        coord_reply(c, rid, rid_len, &rep);
        return;
    }
    case WEIR__V1__REQUEST__REQ_CANCEL: {
        weir_jobrec_t *r = coord_job_or_reply(c, rid, rid_len, q->cancel->job);
        if (!r)
            return;
        if (!weir_jobs_cancel(r, "canceled by the user", weir_wall_ms())) {
            char msg[256];
            snprintf(msg, sizeof msg, "job %s has already ended (%s); nothing to cancel", r->id,
                     weir_jobs_state_name(r->state));
            coord_reply_error(c, rid, rid_len, msg);
            return;
        }
        coord_job_ended(c, r);
        rep.ok = true;
        rep.job = r->id;
        coord_reply(c, rid, rid_len, &rep);
        return;
    }
    case WEIR__V1__REQUEST__REQ_STOP: {
        weir_jobrec_t *r = coord_job_or_reply(c, rid, rid_len, q->stop->job);
        if (!r)
            return;
        if (r->state != WEIR_JOB_RUNNING) {
            char msg[256];
            snprintf(msg, sizeof msg, "job %s is %s, not RUNNING; nothing to stop", r->id,
                     weir_jobs_state_name(r->state));
            coord_reply_error(c, rid, rid_len, msg);
            return;
        }
        r->stopping = true;
        weir_log_info("job %s: stop asked; its sources end their input", r->id);
        coord_send_stop(c, r);
        rep.ok = true;
        rep.job = r->id;
        coord_reply(c, rid, rid_len, &rep);
        return;
    }
    case WEIR__V1__REQUEST__REQ_SAVEPOINT: coord_ck_on_savepoint(c, rid, rid_len, q->savepoint); return;
    case WEIR__V1__REQUEST__REQ_REBALANCE:
        coord_ck_on_rebalance(c, rid, rid_len, q->rebalance->job ? q->rebalance->job : "");
        return;
    case WEIR__V1__REQUEST__REQ_CHECKPOINTS:
        coord_ck_on_list(c, rid, rid_len, q->checkpoints->job ? q->checkpoints->job : "");
        return;
    case WEIR__V1__REQUEST__REQ_DELETE_SAVEPOINT:
        coord_ck_on_delete(c, rid, rid_len, q->delete_savepoint->id ? q->delete_savepoint->id : "");
        return;
    case WEIR__V1__REQUEST__REQ_LIST: {
        Weir__V1__JobInfo *ji = calloc(c->n_jobs ? c->n_jobs : 1, sizeof *ji);
        Weir__V1__JobInfo **jip = calloc(c->n_jobs ? c->n_jobs : 1, sizeof(Weir__V1__JobInfo *));
        if (!ji || !jip) {
            free(ji);
            free(jip);
            coord_reply_error(c, rid, rid_len, "coordinator out of memory");
            return;
        }
        for (uint32_t i = 0; i < c->n_jobs; i++) {
            coord_fill_job(c, c->jobs[i], &ji[i], NULL, NULL, NULL, false);
            jip[i] = &ji[i];
        }
        rep.ok = true;
        rep.n_jobs = c->n_jobs;
        rep.jobs = jip;
        coord_reply(c, rid, rid_len, &rep);
        free(ji);
        free(jip);
        return;
    }
    case WEIR__V1__REQUEST__REQ_NODES: {
        Weir__V1__NodeInfo ni[WEIR_MAX_NODES];
        Weir__V1__NodeInfo *nip[WEIR_MAX_NODES];
        int64_t now = weir_mono_ms();
        for (uint32_t i = 0; i < c->members.n; i++) {
            const weir_member_t *m = &c->members.nodes[i];
            weir__v1__node_info__init(&ni[i]);
            ni[i].node_id = (char *)m->id;
            ni[i].data_endpoint = (char *)m->endpoint;
            ni[i].alive = m->alive;
            ni[i].last_seen_ms_ago = now - m->last_seen_ms;
            ni[i].pid = m->pid;
            uint32_t tasks = 0;
            for (uint32_t j = 0; j < c->n_jobs; j++) {
                const weir_jobrec_t *r = c->jobs[j];
                if (r->state != WEIR_JOB_RUNNING)
                    continue;
                for (uint32_t t = 0; t < r->n_tasks; t++)
                    if (strcmp(r->task_node[t], m->id) == 0 && r->status[t].state < 3)
                        tasks++;
            }
            ni[i].tasks = tasks;
            nip[i] = &ni[i];
        }
        rep.ok = true;
        rep.n_nodes = c->members.n;
        rep.nodes = nip;
        coord_reply(c, rid, rid_len, &rep);
        return;
    }
    default: coord_reply_error(c, rid, rid_len, "unknown request"); return;
    }
}

/* Cluster-wide watermark: each running job's minimum over its keyed tasks
 * goes to the nodes that run it, for alignment at the sources (DESIGN
 * §6). Only jobs whose sources have a max_drift need it. */
static void coord_broadcast_watermarks(coord_t *c)
{
    for (uint32_t j = 0; j < c->n_jobs; j++) {
        weir_jobrec_t *r = c->jobs[j];
        if (r->state != WEIR_JOB_RUNNING)
            continue;
        if (r->stopping)
            coord_send_stop(c, r);
        bool aligned = false;
        for (int i = 0; i < r->spec.n_sources; i++)
            aligned |= r->spec.sources[i].max_drift_ms > 0;
        if (!aligned && r->spec.source.max_drift_ms <= 0)
            continue;
        Weir__V1__JobWatermark jw = WEIR__V1__JOB_WATERMARK__INIT;
        jw.job = r->id;
        jw.attempt = r->attempt;
        jw.watermark_ms = weir_jobs_watermark(r);
        Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
        e.body_case = WEIR__V1__ENVELOPE__BODY_JOB_WATERMARK;
        e.job_watermark = &jw;
        coord_send_job_nodes(c, r, &e, false);
    }
}

static void coord_node_lost(coord_t *c, uint32_t idx, const char *why)
{
    const weir_member_t *m = &c->members.nodes[idx];
    weir_log_warn("node %s (%s) lost: %s", m->id, m->endpoint, why);
    for (uint32_t j = 0; j < c->n_jobs; j++)
        if (weir_jobs_node_lost(c->jobs[j], m->id, why, weir_wall_ms()) >= 0)
            coord_job_ended(c, c->jobs[j]);
}

static void coord_on_message(coord_t *c)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&rid, c->router, ZMQ_DONTWAIT) < 0)
        goto done;
    if (!zmq_msg_more(&rid) || zmq_msg_recv(&body, c->router, 0) < 0)
        goto done;
    while (zmq_msg_more(&body)) { /* extra parts: not ours, drain */
        zmq_msg_t x;
        zmq_msg_init(&x);
        zmq_msg_recv(&x, c->router, 0);
        int more = zmq_msg_more(&x);
        zmq_msg_close(&x);
        if (!more)
            break;
    }
    const void *r = zmq_msg_data(&rid);
    size_t rl = zmq_msg_size(&rid);
    Weir__V1__Envelope *e = NULL;
    int rc = weir_wire_decode(zmq_msg_data(&body), zmq_msg_size(&body), &e);
    if (rc == WEIR_EVERSION) {
        char msg[200];
        snprintf(msg, sizeof msg, "protocol version mismatch: this coordinator speaks weir.v%d",
                 WEIR_PROTO_MAJOR);
        coord_reply_error(c, r, rl, msg);
        weir_log_warn("refused a peer with another protocol version");
        goto done;
    }
    if (rc) {
        weir_log_warn("dropped a malformed control message (%zu bytes)", zmq_msg_size(&body));
        goto done;
    }
    int64_t now = weir_mono_ms();
    switch (e->body_case) {
    case WEIR__V1__ENVELOPE__BODY_REGISTER: {
        const Weir__V1__Register *g = e->register_;
        int prev = weir_members_find(&c->members, g->node_id ? g->node_id : "");
        bool was_alive = prev >= 0 && c->members.nodes[prev].alive;
        int32_t old_pid = prev >= 0 ? c->members.nodes[prev].pid : 0;
        Weir__V1__RegisterAck ack = WEIR__V1__REGISTER_ACK__INIT;
        char why[512];
        const weir_member_t *old = prev >= 0 ? &c->members.nodes[prev] : NULL;
        if (was_alive && (old->rid_len != rl || memcmp(old->rid, r, rl) != 0)) {
            /* Another process claims a live node's id: refuse it, so that it
             * cannot take over that node's tasks. A restarted node gets its
             * id back once the old entry has timed out. */
            snprintf(why, sizeof why,
                     "node id '%s' is taken by a live node (pid %d, data %s); choose another "
                     "--id, or wait %lld ms if that node has just stopped",
                     g->node_id, old_pid, old->endpoint, (long long)c->hb_timeout_ms);
            ack.ok = false;
            ack.error = why;
            Weir__V1__Envelope out = WEIR__V1__ENVELOPE__INIT;
            out.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER_ACK;
            out.register_ack = &ack;
            weir_wire_send(c->router, r, rl, &out);
            weir_log_warn("refused a second node with the id %s (pid %d, data %s)", g->node_id,
                          g->pid, g->data_endpoint);
            break;
        }
        int idx =
            weir_members_register(&c->members, g->node_id ? g->node_id : "",
                                  g->data_endpoint ? g->data_endpoint : "", r, rl, g->pid, now);
        ack.ok = idx >= 0;
        ack.error = idx >= 0 ? "" : "registration refused: bad node id or endpoint";
        ack.heartbeat_interval_ms = (uint64_t)c->hb_interval_ms;
        ack.heartbeat_timeout_ms = (uint64_t)c->hb_timeout_ms;
        Weir__V1__Envelope out = WEIR__V1__ENVELOPE__INIT;
        out.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER_ACK;
        out.register_ack = &ack;
        weir_wire_send(c->router, r, rl, &out);
        if (idx >= 0 && !(was_alive && old_pid == g->pid))
            weir_log_info("node %s registered (data %s, pid %d)", g->node_id, g->data_endpoint,
                          g->pid);
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_HEARTBEAT: {
        const Weir__V1__Heartbeat *h = e->heartbeat;
        int known = weir_members_find(&c->members, h->node_id ? h->node_id : "");
        /* Only the connection that registered an id may heartbeat for it. */
        int idx = known >= 0 && c->members.nodes[known].rid_len == rl &&
                          memcmp(c->members.nodes[known].rid, r, rl) == 0
                      ? weir_members_heartbeat(&c->members, h->node_id, now)
                      : WEIR_ENOTFOUND;
        if (idx < 0) {
            Weir__V1__RegisterAck ack = WEIR__V1__REGISTER_ACK__INIT;
            ack.ok = false;
            ack.error = "unknown or expired node";
            Weir__V1__Envelope out = WEIR__V1__ENVELOPE__INIT;
            out.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER_ACK;
            out.register_ack = &ack;
            weir_wire_send(c->router, r, rl, &out);
            break;
        }
        for (size_t i = 0; i < h->n_tasks; i++)
            coord_on_task_stats(c, h->node_id, h->tasks[i]);
        /* Answered, so that a node knows the coordinator is there. */
        Weir__V1__RegisterAck hack = WEIR__V1__REGISTER_ACK__INIT;
        hack.ok = true;
        hack.heartbeat_interval_ms = (uint64_t)c->hb_interval_ms;
        hack.heartbeat_timeout_ms = (uint64_t)c->hb_timeout_ms;
        Weir__V1__Envelope hout = WEIR__V1__ENVELOPE__INIT;
        hout.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER_ACK;
        hout.register_ack = &hack;
        weir_wire_send(c->router, r, rl, &hout);
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_TASK_UPDATE: {
        const Weir__V1__TaskUpdate *u = e->task_update;
        if (weir_members_find(&c->members, u->node_id ? u->node_id : "") < 0)
            break;
        coord_on_task_stats(c, u->node_id, u->stats);
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_LEAVE: {
        int known = weir_members_find(&c->members, e->leave->node_id ? e->leave->node_id : "");
        if (known < 0 || c->members.nodes[known].rid_len != rl ||
            memcmp(c->members.nodes[known].rid, r, rl) != 0)
            break; /* only the registered connection speaks for a node */
        if (weir_members_leave(&c->members, e->leave->node_id) >= 0)
            coord_node_lost(c, (uint32_t)known, "it stopped");
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_REQUEST: coord_on_request(c, r, rl, e->request); break;
    case WEIR__V1__ENVELOPE__BODY_CHECKPOINT_ACK: {
        int known = weir_members_find(&c->members, e->checkpoint_ack->node_id
                                                        ? e->checkpoint_ack->node_id
                                                        : "");
        if (known >= 0 && c->members.nodes[known].alive)
            coord_ck_on_ack(c, e->checkpoint_ack);
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_STATE_OFFER: {
        int known = weir_members_find(&c->members,
                                      e->state_offer->node_id ? e->state_offer->node_id : "");
        if (known >= 0 && c->members.nodes[known].alive)
            coord_ck_on_offer(c, r, rl, e->state_offer);
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_STATE_CHUNK: coord_ck_on_chunk(c, r, rl, e->state_chunk); break;
    case WEIR__V1__ENVELOPE__BODY_FETCH_BLOB: coord_ck_on_fetch(c, r, rl, e->fetch_blob); break;
    default: break;
    }
    weir_wire_free(e);
done:
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
}

/* A restarted coordinator: every job its data directory says was RUNNING
 * or RESTARTING is read back (job file and state) and restarts, from its
 * latest checkpoint, once nodes have registered (a heartbeat timeout from
 * now): the nodes cancel what they still run of the old attempt when they
 * report it. Jobs that had ended are not loaded. */
static void coord_resume_jobs(coord_t *c)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/jobs", c->data_dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && c->n_jobs < COORD_MAX_JOBS) {
        size_t len = strlen(de->d_name);
        if (len < 7 || strcmp(de->d_name + len - 6, ".state") != 0 || de->d_name[0] == '.')
            continue;
        char id[64], path[PATH_MAX + 80];
        snprintf(id, sizeof id, "%.*s", (int)(len - 6), de->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int state = -1;
        unsigned attempt = 0, restarts = 0;
        unsigned long long last = 0;
        char line[PATH_MAX + 32], restored[96] = "", base[PATH_MAX] = "", fname[PATH_MAX] = "";
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            if (sscanf(line, "state=%d", &state) == 1 || sscanf(line, "attempt=%u", &attempt) == 1 ||
                sscanf(line, "restarts=%u", &restarts) == 1 ||
                sscanf(line, "ck_last_id=%llu", &last) == 1)
                continue;
            if (strncmp(line, "restored_from=", 14) == 0)
                snprintf(restored, sizeof restored, "%s", line + 14);
            else if (strncmp(line, "base_dir=", 9) == 0)
                snprintf(base, sizeof base, "%s", line + 9);
            else if (strncmp(line, "file_name=", 10) == 0)
                snprintf(fname, sizeof fname, "%s", line + 10);
        }
        fclose(f);
        if (state != WEIR_JOB_RUNNING && state != WEIR_JOB_RESTARTING)
            continue;
        snprintf(path, sizeof path, "%s/%s.yaml", dir, id);
        FILE *y = fopen(path, "r");
        char *yaml = NULL;
        size_t ylen = 0;
        if (y) {
            yaml = calloc(1, 1u << 20);
            ylen = yaml ? fread(yaml, 1, (1u << 20) - 1, y) : 0;
            fclose(y);
        }
        weir_job_t *spec = calloc(1, sizeof *spec);
        char err[1024] = "";
        weir_jobrec_t *r = NULL;
        if (yaml && spec &&
            weir_jobspec_parse(yaml, ylen, fname, base, WEIR_JOBSPEC_RUNNABLE, spec, err,
                               sizeof err) == 0)
            r = weir_jobs_new(id, yaml, base, fname, spec, weir_wall_ms());
        if (!r) {
            weir_log_warn("job %s was running but cannot be resumed: %s", id,
                          err[0] ? err : "its job file is missing or unreadable");
        } else {
            r->attempt = attempt;
            r->restarts = restarts + 1; /* a restart, shown with its reason */
            r->ck_last_id = last;
            snprintf(r->restored_from, sizeof r->restored_from, "%s", restored);
            snprintf(r->last_failure, sizeof r->last_failure,
                     "the coordinator restarted while attempt %u ran", attempt);
            snprintf(r->error, sizeof r->error, "%s", r->last_failure);
            r->state = WEIR_JOB_RESTARTING;
            r->restart_at_ms = weir_wall_ms() + c->hb_timeout_ms;
            r->failed_mono_ms = weir_mono_ms();
            c->jobs[c->n_jobs++] = r;
            weir_log_info("job %s was running (attempt %u): it restarts from its latest "
                          "checkpoint once nodes are back",
                          id, attempt);
        }
        free(yaml);
        free(spec);
    }
    closedir(d);
}

/* The largest <n> of the stored job files DATA_DIR/jobs/<name>-<n>.yaml. */
static uint32_t coord_last_seq(const char *data_dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/jobs", data_dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    uint32_t max = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *dash = strrchr(e->d_name, '-');
        if (!dash)
            continue;
        char *end;
        unsigned long v = strtoul(dash + 1, &end, 10);
        if (end != dash + 1 && strcmp(end, ".yaml") == 0 && v > max && v < UINT32_MAX)
            max = (uint32_t)v;
    }
    closedir(d);
    return max;
}

int coord_run(const coord_opts_t *o)
{
    weir_log_init("weir-coordinator");
    coord_t *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    int status = 1;
    char err[512], bind_ep[256];
    if (weir_endpoint_bindable(o->listen, bind_ep, sizeof bind_ep, err, sizeof err)) {
        fprintf(stderr, "weir-coordinator: %s\n", err);
        free(c);
        return 2;
    }
    snprintf(c->data_dir, sizeof c->data_dir, "%s", o->data_dir);
    int rc = weir_fs_mkdirs(c->data_dir);
    if (rc) {
        fprintf(stderr, "weir-coordinator: cannot create data directory %s: %s\n", o->data_dir,
                strerror(-rc));
        free(c);
        return 1;
    }
    c->hb_interval_ms = 500;
    c->hb_timeout_ms = 3000;
    weir_members_init(&c->members, c->hb_timeout_ms);
    if (coord_ck_init(c, err, sizeof err) != 0) {
        fprintf(stderr, "weir-coordinator: checkpoint storage: %s\n", err);
        free(c);
        return 1;
    }
    coord_resume_jobs(c);
    /* Job ids stay unique across restarts: continue after the stored ones. */
    c->next_seq = coord_last_seq(c->data_dir);
    c->zctx = zmq_ctx_new();
    c->router = zmq_socket(c->zctx, ZMQ_ROUTER);
    int linger = 0, hwm = 0;
    int64_t maxmsg = WEIR_WIRE_MAX_MSG;
    zmq_setsockopt(c->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind(c->router, bind_ep) != 0) {
        fprintf(stderr, "weir-coordinator: cannot listen on %s: %s (is the port in use?)\n",
                o->listen, zmq_strerror(errno));
        goto out;
    }
    char actual[256];
    size_t alen = sizeof actual;
    zmq_getsockopt(c->router, ZMQ_LAST_ENDPOINT, actual, &alen);
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    weir_log_info("listening on %s, data in %s", actual, c->data_dir);
    int64_t last_wm_ms = 0;
    while (!s_stop) {
        zmq_pollitem_t it = {.socket = c->router, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 100) < 0 && errno != EINTR)
            break;
        if (it.revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++) {
                int ev = 0;
                size_t el = sizeof ev;
                zmq_getsockopt(c->router, ZMQ_EVENTS, &ev, &el);
                if (!(ev & ZMQ_POLLIN))
                    break;
                coord_on_message(c);
            }
        for (uint32_t j = 0; j < c->n_jobs; j++)
            if (weir_jobs_check_deploy(c->jobs[j], weir_wall_ms(), COORD_DEPLOY_TIMEOUT_MS) >= 0)
                coord_job_ended(c, c->jobs[j]);
        coord_ck_tick(c);
        coord_restart_tick(c);
        coord_job_heartbeats(c);
        int64_t now_ms = weir_mono_ms();
        if (now_ms - last_wm_ms >= 250) {
            coord_broadcast_watermarks(c);
            last_wm_ms = now_ms;
        }
        uint32_t dead[WEIR_MAX_NODES];
        uint32_t nd = weir_members_expire(&c->members, weir_mono_ms(), dead, WEIR_MAX_NODES);
        for (uint32_t i = 0; i < nd; i++) {
            char why[96];
            snprintf(why, sizeof why, "no heartbeat for %lld ms", (long long)c->hb_timeout_ms);
            coord_node_lost(c, dead[i], why);
        }
    }
    weir_log_info("stopping");
    status = 0;
out:
    coord_ck_fini(c);
    for (uint32_t i = 0; i < c->n_jobs; i++)
        weir_jobs_destroy(&c->jobs[i]);
    zmq_close(c->router);
    zmq_ctx_term(c->zctx);
    free(c);
    return status;
}
