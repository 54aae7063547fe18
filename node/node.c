/* node: weir-node's I/O thread. See node.h.
 *
 * One thread owns both sockets (control DEALER, data ROUTER) and the list
 * of dataflows; task threads never touch them. It polls the sockets and
 * the task-event queue's eventfd, with a 100 ms tick for heartbeats.
 * Frames for a job attempt this node does not run (canceled, older
 * attempt, never deployed) are dropped: an older attempt can never reach a
 * newer one's tasks (fencing, DESIGN §4).
 */
#include "node.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "dataflow.h"
#include "endpoint.h"
#include "err.h"
#include "filesink.h"
#include "fsx.h"
#include "jobspec.h"
#include "log.h"
#include "state.h"
#include "wire.h"
#include "xfer.h"

#define NODE_MAX_DF 64

typedef struct {
    char id[WEIR_NODE_ID_MAX];
    char data_ep[WEIR_ENDPOINT_MAX];
    void *zctx, *ctrl, *router;
    weir_state_t *state;
    weir_queue_t *events;
    weir_clock_t *test_clock; /* WEIR_TEST_CLOCK, or NULL: the system clock */
    node_xfer_t *xfer;        /* uploads of checkpoint state */
    char data_dir[PATH_MAX];
    char coordinator[WEIR_ENDPOINT_MAX];
    weir_df_t *dfs[NODE_MAX_DF];
    uint32_t n_dfs;
    weir_df_t *dying[NODE_MAX_DF]; /* canceled, waiting for their threads */
    uint32_t n_dying;
    uint64_t next_df_id;
    bool registered;
    int64_t last_register_ms, last_hb_ms;
    int64_t hb_interval_ms;
    int64_t hb_timeout_ms;  /* from the coordinator; no word for this long: it is gone */
    int64_t last_coord_ms;  /* last message from the coordinator */
    int64_t warned_ms;
} node_t;

static volatile sig_atomic_t s_stop;
static void s_on_signal(int sig)
{
    (void)sig, s_stop = 1;
}

static void node_send_register(node_t *n)
{
    Weir__V1__Register r = WEIR__V1__REGISTER__INIT;
    r.node_id = n->id;
    r.data_endpoint = n->data_ep;
    r.slots = 16;
    r.pid = getpid();
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER;
    e.register_ = &r;
    weir_wire_send(n->ctrl, NULL, 0, &e);
    n->last_register_ms = weir_mono_ms();
}

static void node_fill_stats(node_t *n, weir_df_t *df, const weir_df_stats_t *s,
                            Weir__V1__TaskStats *ts)
{
    (void)n;
    weir_wire_stats_to_pb(s, weir_df_job(df), weir_df_attempt(df), ts);
}

static void node_send_heartbeat(node_t *n)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < n->n_dfs; i++)
        total += weir_df_n_local(n->dfs[i]);
    weir_df_stats_t *st = calloc(total ? total : 1, sizeof *st);
    Weir__V1__TaskStats *ts = calloc(total ? total : 1, sizeof *ts);
    Weir__V1__TaskStats **tp = calloc(total ? total : 1, sizeof(Weir__V1__TaskStats *));
    if (!st || !ts || !tp)
        goto done;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n->n_dfs; i++) {
        for (uint32_t j = 0; j < weir_df_n_local(n->dfs[i]); j++, k++) {
            weir_df_stats(n->dfs[i], j, &st[k]);
            node_fill_stats(n, n->dfs[i], &st[k], &ts[k]);
            tp[k] = &ts[k];
        }
    }
    Weir__V1__Heartbeat hb = WEIR__V1__HEARTBEAT__INIT;
    hb.node_id = n->id;
    hb.n_tasks = total;
    hb.tasks = tp;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_HEARTBEAT;
    e.heartbeat = &hb;
    weir_wire_send(n->ctrl, NULL, 0, &e);
done:
    free(st);
    free(ts);
    free(tp);
    n->last_hb_ms = weir_mono_ms();
}

static void node_send_stats_update(node_t *n, weir_df_t *df, const weir_df_stats_t *s)
{
    Weir__V1__TaskStats ts;
    node_fill_stats(n, df, s, &ts);
    Weir__V1__TaskUpdate u = WEIR__V1__TASK_UPDATE__INIT;
    u.node_id = n->id;
    u.stats = &ts;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_TASK_UPDATE;
    e.task_update = &u;
    weir_wire_send(n->ctrl, NULL, 0, &e);
    if (s->state == WEIR_DF_FAILED)
        weir_log_error("job %s attempt %u task %u failed: %s", weir_df_job(df), weir_df_attempt(df),
                       s->task, s->error);
}

/* Reports a deploy that could not start as failed tasks, so the job fails
 * visibly instead of waiting. */
static void node_report_deploy_failure(node_t *n, const Weir__V1__Deploy *d, const char *msg)
{
    weir_log_error("cannot run job %s attempt %u: %s", d->job, d->attempt, msg);
    for (size_t i = 0; i < d->n_tasks; i++) {
        if (strcmp(d->tasks[i]->node_id, n->id) != 0)
            continue;
        Weir__V1__TaskStats ts = WEIR__V1__TASK_STATS__INIT;
        ts.job = d->job;
        ts.attempt = d->attempt;
        ts.task = d->tasks[i]->index;
        ts.state = WEIR__V1__TASK_STATE__TASK_FAILED;
        ts.error = (char *)msg;
        Weir__V1__TaskUpdate u = WEIR__V1__TASK_UPDATE__INIT;
        u.node_id = n->id;
        u.stats = &ts;
        Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
        e.body_case = WEIR__V1__ENVELOPE__BODY_TASK_UPDATE;
        e.task_update = &u;
        weir_wire_send(n->ctrl, NULL, 0, &e);
    }
}

static weir_df_t *node_find_df(node_t *n, const char *job, uint32_t attempt)
{
    for (uint32_t i = 0; i < n->n_dfs; i++)
        if (strcmp(weir_df_job(n->dfs[i]), job) == 0 && weir_df_attempt(n->dfs[i]) == attempt)
            return n->dfs[i];
    return NULL;
}

/* Takes dataflow i out of service: it is canceled at once and no longer
 * receives frames or events, but it is destroyed (its threads joined)
 * only once every task has stopped (node_reap), so that a task busy in a
 * long batch never holds up this thread and its heartbeats. */
static void node_remove_df(node_t *n, uint32_t i)
{
    weir_df_t *df = n->dfs[i];
    n->dfs[i] = n->dfs[--n->n_dfs];
    weir_df_cancel(df);
    if (n->n_dying == NODE_MAX_DF) { /* cannot happen: a bound, not a plan */
        weir_df_destroy(&df);
        return;
    }
    n->dying[n->n_dying++] = df;
}

/* Destroys the canceled dataflows whose tasks have all stopped. */
static void node_reap(node_t *n, bool wait)
{
    for (uint32_t i = 0; i < n->n_dying;) {
        if (wait || weir_df_done(n->dying[i])) {
            weir_df_destroy(&n->dying[i]);
            n->dying[i] = n->dying[--n->n_dying];
        } else {
            i++;
        }
    }
}

static void node_on_deploy(node_t *n, const Weir__V1__Deploy *d)
{
    if (node_find_df(n, d->job, d->attempt))
        return; /* repeated deploy */
    if (n->n_dfs == NODE_MAX_DF) {
        node_report_deploy_failure(n, d, "this node runs too many jobs");
        return;
    }
    weir_job_t *job = calloc(1, sizeof *job);
    weir_df_task_t *tasks = calloc(d->n_tasks ? d->n_tasks : 1, sizeof *tasks);
    weir_ck_meta_t restore;
    memset(&restore, 0, sizeof restore);
    char err[1024];
    if (!job || !tasks) {
        node_report_deploy_failure(n, d, "out of memory");
        goto done;
    }
    /* Nodes that run a source check its file; others need not see it. */
    unsigned flags = WEIR_JOBSPEC_RUNNABLE;
    for (size_t i = 0; i < d->n_tasks; i++)
        if (strcmp(d->tasks[i]->node_id, n->id) == 0 &&
            d->tasks[i]->kind == WEIR__V1__TASK_KIND__KIND_SOURCE)
            flags |= WEIR_JOBSPEC_CHECK_PATHS;
    int rc = weir_jobspec_parse(d->yaml, strlen(d->yaml), d->file_name, d->base_dir, flags, job,
                                err, sizeof err);
    if (rc) {
        node_report_deploy_failure(n, d, err);
        goto done;
    }
    if (d->n_tasks > (size_t)WEIR_PLAN_MAX_TASKS) {
        node_report_deploy_failure(n, d, "too many tasks");
        goto done;
    }
    for (size_t i = 0; i < d->n_tasks; i++) {
        const Weir__V1__TaskSpec *t = d->tasks[i];
        if (t->index != i) {
            node_report_deploy_failure(n, d, "malformed deploy: tasks out of order");
            goto done;
        }
        tasks[i].plan.index = t->index;
        tasks[i].plan.kind =
            t->kind == WEIR__V1__TASK_KIND__KIND_SOURCE ? WEIR_TASK_SOURCE : WEIR_TASK_WINDOW;
        tasks[i].plan.split = t->split;
        tasks[i].plan.keyed_index = t->keyed_index;
        tasks[i].plan.kg_first = t->kg_first;
        tasks[i].plan.kg_last = t->kg_last;
        snprintf(tasks[i].node_id, sizeof tasks[i].node_id, "%s", t->node_id);
        snprintf(tasks[i].endpoint, sizeof tasks[i].endpoint, "%s", t->data_endpoint);
    }
    if (d->restore.len > 0 && weir_wire_ckmeta_unpack(d->restore.data, d->restore.len, &restore)) {
        node_report_deploy_failure(n, d, "malformed checkpoint metadata in the deployment");
        goto done;
    }
    /* Restored: the output of the job that took the checkpoint is settled
     * first. Pending parts of checkpoints up to the restored one were
     * complete: published; later ones and in-progress parts are dropped
     * (their rows are produced again from the checkpoint). */
    bool keyed_here = false;
    for (size_t i = 0; i < d->n_tasks; i++)
        keyed_here |= strcmp(d->tasks[i]->node_id, n->id) == 0 &&
                      d->tasks[i]->kind == WEIR__V1__TASK_KIND__KIND_WINDOW;
    if (restore.n_tasks > 0 && keyed_here) {
        uint32_t n_old = 0; /* the old job's sink tasks: its keyed tasks */
        for (uint32_t i = 0; i < restore.n_tasks; i++)
            n_old += restore.tasks[i].kind == WEIR_TASK_WINDOW;
        char ferr[512] = "";
        rc = weir_filesink_settle(job->sink.path, n_old, restore.id, restore.job, d->job,
                                  d->attempt, ferr, sizeof ferr);
        if (!rc && job->late.policy == WEIR_LATE_FILE)
            rc = weir_filesink_settle(job->late.path, n_old, restore.id, restore.job, d->job,
                                      d->attempt, ferr, sizeof ferr);
        if (rc) {
            char msg[700];
            snprintf(msg, sizeof msg, "settling the output of %s/%llu: %s", restore.job,
                     (unsigned long long)restore.id, ferr);
            node_report_deploy_failure(n, d, msg);
            goto done;
        }
    }
    weir_df_config_t cfg = {.job_id = d->job,
                            .attempt = d->attempt,
                            .job = job,
                            .tasks = tasks,
                            .n_tasks = (uint32_t)d->n_tasks,
                            .self_id = n->id,
                            .zctx = n->zctx,
                            .state = n->state,
                            .events = n->events,
                            .df_id = ++n->next_df_id,
                            .clock = n->test_clock,
                            .data_dir = n->data_dir,
                            .coordinator = n->coordinator,
                            .restore = d->restore.len > 0 ? &restore : NULL};
    weir_df_t *df = NULL;
    rc = weir_df_start(&cfg, &df, err, sizeof err);
    if (rc) {
        node_report_deploy_failure(n, d, err);
        goto done;
    }
    n->dfs[n->n_dfs++] = df;
    weir_log_info("job %s attempt %u: started %u local tasks", d->job, d->attempt,
                  weir_df_n_local(df));
done:
    weir_ck_meta_clear(&restore);
    free(job);
    free(tasks);
}

static void node_on_control(node_t *n)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, n->ctrl, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return;
    }
    Weir__V1__Envelope *e = NULL;
    int rc = weir_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &e);
    zmq_msg_close(&m);
    n->last_coord_ms = weir_mono_ms();
    if (rc) {
        weir_log_warn("ignoring a malformed message from the coordinator: %s", weir_strerror(rc));
        return;
    }
    switch (e->body_case) {
    case WEIR__V1__ENVELOPE__BODY_REGISTER_ACK:
        if (e->register_ack->ok) {
            if (!n->registered)
                weir_log_info("registered with the coordinator as %s (data %s)", n->id, n->data_ep);
            n->registered = true;
            if (e->register_ack->heartbeat_interval_ms)
                n->hb_interval_ms = (int64_t)e->register_ack->heartbeat_interval_ms;
            if (e->register_ack->heartbeat_timeout_ms)
                n->hb_timeout_ms = (int64_t)e->register_ack->heartbeat_timeout_ms;
        } else {
            /* Refused or expired: the coordinator has written off whatever
             * this node ran (its jobs failed), so those tasks stop now; then
             * register again (node_run retries every second). */
            weir_log_warn("coordinator: %s; registering again", e->register_ack->error);
            if (n->registered)
                while (n->n_dfs > 0) {
                    weir_log_warn("canceling job %s attempt %u: the coordinator no longer "
                                  "counts this node",
                                  weir_df_job(n->dfs[0]), weir_df_attempt(n->dfs[0]));
                    node_remove_df(n, 0);
                }
            n->registered = false;
            n->last_register_ms = weir_mono_ms();
        }
        break;
    case WEIR__V1__ENVELOPE__BODY_DEPLOY: node_on_deploy(n, e->deploy); break;
    case WEIR__V1__ENVELOPE__BODY_JOB_WATERMARK: {
        weir_df_t *df = node_find_df(n, e->job_watermark->job ? e->job_watermark->job : "",
                                     e->job_watermark->attempt);
        if (df)
            weir_df_set_job_watermark(df, e->job_watermark->watermark_ms);
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_TRIGGER_CHECKPOINT: {
        const Weir__V1__TriggerCheckpoint *tc = e->trigger_checkpoint;
        weir_df_t *df = node_find_df(n, tc->job ? tc->job : "", tc->attempt);
        if (df) {
            if (tc->stop)
                weir_df_stop_after(df, tc->id);
            weir_df_trigger_checkpoint(df, tc->id);
        }
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_CHECKPOINT_DONE: {
        const Weir__V1__CheckpointDone *cd = e->checkpoint_done;
        weir_df_t *df = node_find_df(n, cd->job ? cd->job : "", cd->attempt);
        if (df && !cd->aborted)
            weir_df_checkpoint_complete(df, cd->id);
        break;
    }
    case WEIR__V1__ENVELOPE__BODY_CANCEL_JOB:
        if (e->cancel_job->drain) { /* weir stop */
            weir_df_t *df = node_find_df(n, e->cancel_job->job ? e->cancel_job->job : "",
                                         e->cancel_job->attempt);
            if (df) {
                weir_log_info("job %s attempt %u: input stopped (%s)", e->cancel_job->job,
                              e->cancel_job->attempt, e->cancel_job->reason);
                weir_df_stop(df);
            }
            break;
        }
        for (uint32_t i = 0; i < n->n_dfs; i++) {
            if (strcmp(weir_df_job(n->dfs[i]), e->cancel_job->job) == 0 &&
                weir_df_attempt(n->dfs[i]) <= e->cancel_job->attempt) {
                weir_log_info("job %s attempt %u canceled: %s", e->cancel_job->job,
                              weir_df_attempt(n->dfs[i]), e->cancel_job->reason);
                node_remove_df(n, i);
                i--;
            }
        }
        break;
    default: break;
    }
    weir_wire_free(e);
}

static void node_on_data(node_t *n)
{
    zmq_msg_t parts[3];
    int np = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, n->router, np == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (np < 3) {
            zmq_msg_init(&parts[np]);
            zmq_msg_move(&parts[np], &m);
            np++;
        }
        zmq_msg_close(&m);
    }
    if (np < 2)
        goto done;
    static weir_data_msg_t dm; /* I/O thread only; large (hello channel list) */
    int rc = weir_wire_decode_data(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), &dm);
    if (rc) {
        int64_t now = weir_mono_ms();
        if (now - n->warned_ms > 5000) {
            weir_log_warn("dropping a malformed data message from a peer: %s", weir_strerror(rc));
            n->warned_ms = now;
        }
        goto done;
    }
    if (dm.kind == WEIR_DATA_HELLO) {
        weir_df_t *df = node_find_df(n, dm.job, dm.attempt);
        if (df)
            weir_df_on_hello(df, n->router, zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]),
                             dm.channels, dm.n_channels);
    } else if (dm.kind == WEIR_DATA_FRAME) {
        weir_df_t *df = node_find_df(n, dm.frame.job, dm.frame.attempt);
        if (!df)
            goto done; /* canceled or fenced attempt */
        rc = weir_df_on_frame(df, &dm.frame, np >= 3 ? &parts[2] : NULL);
        if (rc) {
            int64_t now = weir_mono_ms();
            if (now - n->warned_ms > 5000) {
                weir_log_warn("job %s: dropping a frame on channel %u: %s", dm.frame.job,
                              dm.frame.channel, weir_strerror(rc));
                n->warned_ms = now;
            }
        }
    }
done:
    for (int i = 0; i < np; i++)
        zmq_msg_close(&parts[i]);
}

/* A task's part of a checkpoint: a source's position is acknowledged at
 * once; a keyed task's state files go to the transfer thread, which
 * acknowledges once they are stored. */
static void node_on_checkpoint(node_t *n, weir_df_t *df, const weir_df_event_t *ev)
{
    weir_df_ck_snap_t s;
    if (!weir_df_ck_snap(df, ev->task, &s) || s.id != ev->ck) {
        if (s.id != ev->ck)
            weir_state_ckfiles_free(&s.files);
        return;
    }
    if (ev->kind == WEIR_DF_EV_CK_TASK) {
        uint32_t kg_first = 0, kg_last = 0;
        weir_df_task_range(df, ev->task, &kg_first, &kg_last);
        if (node_xfer_submit(n->xfer, weir_df_job(df), weir_df_attempt(df), ev->task, kg_first,
                             kg_last, &s) != 0)
            weir_log_warn("job %s: too many state uploads waiting; checkpoint %llu will time out",
                          weir_df_job(df), (unsigned long long)s.id);
        return;
    }
    weir_ck_task_snap_t ts;
    memset(&ts, 0, sizeof ts);
    ts.task = ev->task;
    ts.kind = WEIR_TASK_SOURCE;
    ts.watermark_ms = s.wm;
    ts.source_position = s.offset;
    ts.source_line = s.line;
    Weir__V1__TaskSnapshot pb = WEIR__V1__TASK_SNAPSHOT__INIT;
    if (weir_wire_cksnap_to_pb(&ts, &pb) != 0)
        return;
    Weir__V1__CheckpointAck ack = WEIR__V1__CHECKPOINT_ACK__INIT;
    ack.node_id = n->id;
    ack.job = (char *)weir_df_job(df);
    ack.attempt = weir_df_attempt(df);
    ack.id = s.id;
    ack.snapshot = &pb;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_CHECKPOINT_ACK;
    e.checkpoint_ack = &ack;
    weir_wire_send(n->ctrl, NULL, 0, &e);
    weir_wire_cksnap_pb_release(&pb);
}

static void node_on_events(node_t *n)
{
    weir_queue_drain_fd(n->events);
    weir_df_event_t ev;
    while (weir_queue_pop(n->events, &ev, 0)) {
        weir_df_t *df = NULL;
        uint32_t at = 0;
        for (uint32_t i = 0; i < n->n_dfs; i++)
            if (weir_df_id(n->dfs[i]) == ev.df_id) {
                df = n->dfs[i];
                at = i;
            }
        if (!df)
            continue;
        if (ev.kind == WEIR_DF_EV_CONSUMED) {
            weir_df_on_event(df, n->router, &ev);
        } else if (ev.kind == WEIR_DF_EV_CK_SOURCE || ev.kind == WEIR_DF_EV_CK_TASK) {
            node_on_checkpoint(n, df, &ev);
        } else if (ev.kind == WEIR_DF_EV_TASK_DONE) {
            /* Report every task that has ended, not only ev.task: a task
             * may end before its own event is handled, and once the
             * dataflow is gone its event finds nothing. */
            bool done = weir_df_done(df); /* before draining: nothing ends unreported */
            weir_df_stats_t st;
            while (weir_df_next_report(df, &st))
                node_send_stats_update(n, df, &st);
            if (done) {
                weir_log_info("job %s attempt %u: local tasks ended", weir_df_job(df),
                              weir_df_attempt(df));
                node_remove_df(n, at);
            }
        }
    }
}

int node_run(const node_opts_t *o)
{
    weir_log_init("weir-node");
    node_t n;
    memset(&n, 0, sizeof n);
    n.hb_interval_ms = 500;
    char err[512], bind_ep[WEIR_ENDPOINT_MAX];
    int status = 1;
    if (weir_endpoint_check(o->coordinator, err, sizeof err) ||
        weir_endpoint_bindable(o->listen, bind_ep, sizeof bind_ep, err, sizeof err)) {
        fprintf(stderr, "weir-node: %s\n", err);
        return 2;
    }
    int rc = weir_fs_mkdirs(o->data_dir);
    if (rc) {
        fprintf(stderr, "weir-node: cannot create data directory %s: %s\n", o->data_dir,
                strerror(-rc));
        return 1;
    }
    char state_dir[PATH_MAX];
    snprintf(state_dir, sizeof state_dir, "%s/state", o->data_dir);
    if (weir_state_open(state_dir, &n.state, err, sizeof err) != 0) {
        fprintf(stderr, "weir-node: cannot open state in %s: %s\n", state_dir, err);
        return 1;
    }
    const char *tc = getenv("WEIR_TEST_CLOCK");
    if (tc && tc[0]) {
        if (weir_clock_file_new(tc, &n.test_clock, err, sizeof err) != 0) {
            fprintf(stderr, "weir-node: WEIR_TEST_CLOCK: %s\n", err);
            weir_state_destroy(&n.state);
            return 2;
        }
        weir_log_warn("processing time comes from the test clock %s (WEIR_TEST_CLOCK): idle "
                      "inputs are decided by it, not by the system clock",
                      tc);
    }
    n.events = weir_queue_new(sizeof(weir_df_event_t), 65536, true);
    n.zctx = zmq_ctx_new();
    n.router = zmq_socket(n.zctx, ZMQ_ROUTER);
    n.ctrl = zmq_socket(n.zctx, ZMQ_DEALER);
    if (!n.events || !n.zctx || !n.router || !n.ctrl) {
        fprintf(stderr, "weir-node: out of resources\n");
        goto out;
    }
    int hwm = 0, linger = 0;
    int64_t maxmsg = WEIR_WIRE_MAX_MSG;
    zmq_setsockopt(n.router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(n.router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(n.router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(n.router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(n.ctrl, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(n.ctrl, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind(n.router, bind_ep) != 0) {
        fprintf(stderr, "weir-node: cannot listen on %s: %s (is the port in use?)\n", o->listen,
                zmq_strerror(errno));
        goto out;
    }
    size_t len = sizeof n.data_ep;
    zmq_getsockopt(n.router, ZMQ_LAST_ENDPOINT, n.data_ep, &len);
    if (o->id) {
        if (strlen(o->id) == 0 || strlen(o->id) >= sizeof n.id) {
            fprintf(stderr, "weir-node: --id must be 1..%zu characters\n", sizeof n.id - 1);
            goto out;
        }
        snprintf(n.id, sizeof n.id, "%s", o->id);
    } else {
        char host[64] = "node";
        gethostname(host, sizeof host - 1);
        const char *port = strrchr(n.data_ep, ':');
        snprintf(n.id, sizeof n.id, "%.40s-%s", host, port ? port + 1 : "0");
    }
    if (zmq_connect(n.ctrl, o->coordinator) != 0) {
        fprintf(stderr, "weir-node: cannot connect to %s: %s\n", o->coordinator,
                zmq_strerror(errno));
        goto out;
    }
    snprintf(n.data_dir, sizeof n.data_dir, "%s", o->data_dir);
    snprintf(n.coordinator, sizeof n.coordinator, "%s", o->coordinator);
    if (node_xfer_start(n.zctx, o->coordinator, n.id, &n.xfer) != 0) {
        fprintf(stderr, "weir-node: out of resources\n");
        goto out;
    }
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    weir_log_info("node %s listening on %s, coordinator %s", n.id, n.data_ep, o->coordinator);
    node_send_register(&n);
    int64_t last_warn = weir_mono_ms();
    while (!s_stop) {
        zmq_pollitem_t items[3] = {
            {.socket = n.ctrl, .events = ZMQ_POLLIN},
            {.socket = n.router, .events = ZMQ_POLLIN},
            {.fd = weir_queue_fd(n.events), .events = ZMQ_POLLIN},
        };
        if (zmq_poll(items, 3, 100) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            for (int i = 0; i < 64; i++)
                node_on_control(&n);
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < 256; i++)
                node_on_data(&n);
        if (items[2].revents & ZMQ_POLLIN)
            node_on_events(&n);
        int64_t now = weir_mono_ms();
        if (!n.registered && now - n.last_register_ms >= 1000) {
            node_send_register(&n);
            if (now - last_warn >= 10000) {
                weir_log_warn("coordinator %s has not answered yet; still trying", o->coordinator);
                last_warn = now;
            }
        }
        if (n.registered && now - n.last_hb_ms >= n.hb_interval_ms)
            node_send_heartbeat(&n);
        if (n.registered && n.hb_timeout_ms > 0 && now - n.last_coord_ms > n.hb_timeout_ms) {
            /* The coordinator answers every heartbeat: silent this long, it
             * is gone (or cut off) and counts this node's tasks as lost, so
             * they stop writing; the node keeps trying to register. */
            weir_log_warn("no word from the coordinator for %lld ms: canceling %u job(s), "
                          "registering again",
                          (long long)(now - n.last_coord_ms), n.n_dfs);
            while (n.n_dfs > 0)
                node_remove_df(&n, 0);
            n.registered = false;
            n.last_register_ms = now;
        }
        node_reap(&n, false);
    }
    weir_log_info("stopping");
    if (n.registered) {
        Weir__V1__Leave lv = WEIR__V1__LEAVE__INIT;
        lv.node_id = n.id;
        Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
        e.body_case = WEIR__V1__ENVELOPE__BODY_LEAVE;
        e.leave = &lv;
        int linger = 500; /* let the goodbye reach the coordinator */
        zmq_setsockopt(n.ctrl, ZMQ_LINGER, &linger, sizeof linger);
        weir_wire_send(n.ctrl, NULL, 0, &e);
    }
    status = 0;
out:
    while (n.n_dfs > 0)
        node_remove_df(&n, 0);
    node_reap(&n, true);
    node_xfer_stop(&n.xfer);
    if (n.ctrl)
        zmq_close(n.ctrl);
    if (n.router)
        zmq_close(n.router);
    if (n.zctx)
        zmq_ctx_term(n.zctx);
    weir_queue_destroy(&n.events);
    weir_state_destroy(&n.state);
    weir_clock_destroy(&n.test_clock);
    return status;
}
