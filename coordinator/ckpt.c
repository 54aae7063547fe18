/* ckpt: the coordinator's side of checkpoints (DESIGN §8).
 *
 * Each running job attempt has a checkpoint state machine (cluster/ckcoord)
 * that this file feeds with acknowledgements, task ends and the wall clock,
 * and whose actions it performs:
 *
 *   TRIGGER  -> TriggerCheckpoint to every node that runs a source task
 *   PERSIST  -> the metadata (cluster/ckstore, atomic and durable), then
 *               retention (checkpoint.retain) and garbage collection
 *   NOTIFY   -> CheckpointDone to every node of the job: sinks publish what
 *               they pre-committed up to that id; a savepoint asked with
 *               --stop ends the job here
 *   ABORT    -> logged; the next checkpoint starts after the interval (an
 *               aborted id is never reused; what sinks pre-committed for it
 *               is published with the next completed one, whose state
 *               includes it)
 *
 * State files arrive from the nodes' transfer threads: an offer lists a
 * keyed task's files with their hashes, the reply names the ones the store
 * lacks and grants chunk credits, chunks come in order per file and each
 * is answered with one credit once written (the last one of a file once
 * the file is durable). A node acknowledges a keyed task's part only after
 * every credit came back, so an acknowledged snapshot names stored files
 * only; the metadata write checks that again.
 *
 * Restore (weir submit --from-savepoint): the metadata travels in Deploy;
 * nodes fetch the blobs they need with FetchBlob.
 *
 * Times given to the state machines are wall-clock milliseconds, so the
 * metadata and `weir checkpoints` show real times; a clock step only
 * shortens or stretches one interval or timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckcoord.h"
#include "coord_int.h"
#include "crash.h"
#include "err.h"
#include "log.h"

#define S_CHUNK_CREDITS 8 /* chunks of one upload in flight */

struct coord_upload {
    uint8_t rid[256];
    size_t rid_len;
    char job[64];
    uint32_t attempt, task;
    uint64_t id;
    weir_ckstore_t *store;
    weir_ck_hash_t *need; /* files still to receive, in order */
    uint64_t *need_size;
    uint32_t n_need, next;
    weir_ckstore_blob_t *blob; /* the file being received, or NULL */
    bool skipping;             /* the store got this blob meanwhile: drop its chunks */
    int64_t started_ms;
};

static void s_upload_free(coord_t *c, coord_upload_t **pu)
{
    coord_upload_t *u = *pu;
    if (!u)
        return;
    if (u->blob)
        weir_ckstore_blob_abort(u->store, &u->blob);
    free(u->need);
    free(u->need_size);
    free(u);
    *pu = NULL;
    (void)c;
}

int coord_ck_init(coord_t *c, char *err, size_t err_cap)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/checkpoints", c->data_dir);
    int rc = weir_ckstore_open(path, &c->stores[0], err, err_cap);
    if (rc)
        return rc;
    c->n_stores = 1;
    return 0;
}

void coord_ck_fini(coord_t *c)
{
    for (uint32_t i = 0; i < COORD_MAX_UPLOADS; i++)
        s_upload_free(c, &c->uploads[i]);
    for (uint32_t i = 0; i < c->n_stores; i++)
        weir_ckstore_destroy(&c->stores[i]);
    c->n_stores = 0;
}

weir_ckstore_t *coord_ck_store(coord_t *c, const weir_job_t *spec, char *err, size_t err_cap)
{
    if (!spec || !spec->checkpoint.storage[0])
        return c->stores[0];
    for (uint32_t i = 1; i < c->n_stores; i++)
        if (strcmp(weir_ckstore_root(c->stores[i]), spec->checkpoint.storage) == 0)
            return c->stores[i];
    if (c->n_stores == COORD_MAX_STORES) {
        snprintf(err, err_cap, "too many checkpoint storage directories in use (at most %d)",
                 COORD_MAX_STORES - 1);
        return NULL;
    }
    weir_ckstore_t *st = NULL;
    if (weir_ckstore_open(spec->checkpoint.storage, &st, err, err_cap) != 0)
        return NULL;
    c->stores[c->n_stores++] = st;
    return st;
}

int coord_ck_attempt_started(coord_t *c, weir_jobrec_t *r, uint64_t last_id)
{
    (void)c;
    weir_ckc_destroy(&r->ckc);
    bool is_source[WEIR_PLAN_MAX_TASKS];
    for (uint32_t i = 0; i < r->n_tasks; i++)
        is_source[i] = r->tasks[i].kind == WEIR_TASK_SOURCE;
    r->ckc = weir_ckc_new(r->n_tasks, is_source, r->spec.checkpoint.interval_ms,
                          r->spec.checkpoint.timeout_ms, weir_wall_ms());
    if (!r->ckc)
        return -ENOMEM;
    if (last_id)
        weir_ckc_resume_after(r->ckc, last_id);
    return 0;
}


static void s_persist(coord_t *c, weir_jobrec_t *r, uint64_t id)
{
    char err[512] = "";
    weir_ck_meta_t m;
    memset(&m, 0, sizeof m);
    int64_t now = weir_wall_ms();
    weir_ckstore_t *st = coord_ck_store(c, &r->spec, err, sizeof err);
    int rc = st ? weir_ckc_meta(r->ckc, id, &m) : WEIR_EINVAL;
    if (!rc) {
        snprintf(m.job, sizeof m.job, "%s", r->id);
        m.attempt = r->attempt;
        weir_job_state_signature(&r->spec, m.signature, sizeof m.signature);
        rc = weir_ckstore_put_meta(st, &m);
        if (rc)
            snprintf(err, sizeof err, "%s", weir_ckstore_errmsg(st));
    }
    weir_ck_meta_clear(&m);
    if (rc) {
        weir_log_warn("job %s: checkpoint %llu could not be stored: %s", r->id,
                      (unsigned long long)id, err[0] ? err : weir_strerror(rc));
        weir_ckc_abort(r->ckc, id, now);
        return;
    }
    weir_ckc_durable(r->ckc, id, now);
    weir_crash_point("coord.durable", id);
    uint32_t pruned = 0;
    if (weir_ckstore_prune(st, r->id, (uint32_t)r->spec.checkpoint.retain, &pruned) == 0 &&
        pruned > 0) {
        /* Files uploaded for a checkpoint whose metadata is not written
         * yet are referenced by nothing: while another job of this store
         * has a checkpoint running, a grace of twice the timeout spares
         * them. This job has none running now (one at a time). */
        int64_t grace = 0;
        weir_ckc_stats_t cur;
        for (uint32_t j = 0; j < c->n_jobs; j++) {
            const weir_jobrec_t *o = c->jobs[j];
            char e2[64];
            if (o != r && o->ckc && o->state == WEIR_JOB_RUNNING &&
                coord_ck_store(c, &o->spec, e2, sizeof e2) == st &&
                weir_ckc_current(o->ckc, now, &cur) == 0)
                grace = 2 * r->spec.checkpoint.timeout_ms;
        }
        weir_ckstore_gc_stats_t gs;
        if (weir_ckstore_gc(st, grace, &gs) != 0)
            weir_log_warn("job %s: checkpoint storage cleanup failed: %s", r->id,
                          weir_ckstore_errmsg(st));
    }
}

static void s_notify(coord_t *c, weir_jobrec_t *r, uint64_t id, bool savepoint)
{
    Weir__V1__CheckpointDone d = WEIR__V1__CHECKPOINT_DONE__INIT;
    d.job = r->id;
    d.attempt = r->attempt;
    d.id = id;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_CHECKPOINT_DONE;
    e.checkpoint_done = &d;
    coord_send_job_nodes(c, r, &e, false);
    int64_t now = weir_wall_ms();
    weir_ckc_completed(r->ckc, id, now);
    weir_ckc_stats_t s;
    if (weir_ckc_last_completed(r->ckc, &s) == 0)
        weir_log_info("job %s: %s %llu complete in %lld ms (state %llu bytes, %llu uploaded, "
                      "alignment %lld ms)",
                      r->id, savepoint ? "savepoint" : "checkpoint", (unsigned long long)id,
                      (long long)s.duration_ms, (unsigned long long)s.state_bytes,
                      (unsigned long long)s.incremental_bytes, (long long)s.alignment_ms);
    if (savepoint && r->savepoint_id == id && r->rebalance) {
        /* weir rebalance: this attempt ends here; the next one starts at
         * once from this savepoint over every live node (not a failure: no
         * restart is counted). */
        r->rebalance = false;
        r->savepoint_asked = false;
        uint64_t last = weir_ckc_last_id(r->ckc);
        if (last > r->ck_last_id)
            r->ck_last_id = last;
        weir_ckc_destroy(&r->ckc);
        coord_send_cancel(c, r, "rebalancing");
        r->state = WEIR_JOB_RESTARTING;
        r->restart_at_ms = now;
        r->failed_mono_ms = weir_mono_ms(); /* the nodes heard from from now on */
        snprintf(r->error, sizeof r->error, "rebalancing from savepoint %s/%llu", r->id,
                 (unsigned long long)id);
        weir_log_info("job %s: %s", r->id, r->error);
        coord_persist_job(c, r);
        return;
    }
    if (savepoint && r->savepoint_id == id && r->savepoint_stop) {
        char note[160];
        snprintf(note, sizeof note, "stopped with savepoint %s/%llu", r->id,
                 (unsigned long long)id);
        if (weir_jobs_stopped(r, note, now)) {
            weir_log_info("job %s %s", r->id, note);
            coord_persist_job(c, r);
            coord_send_cancel(c, r, note);
        }
    }
}

void coord_ck_tick(coord_t *c)
{
    for (uint32_t j = 0; j < c->n_jobs; j++) {
        weir_jobrec_t *r = c->jobs[j];
        if (r->state != WEIR_JOB_RUNNING || !r->ckc)
            continue;
        weir_ckc_action_t act;
        for (int guard = 0; guard < 16 && r->state == WEIR_JOB_RUNNING; guard++) {
            if (weir_ckc_poll(r->ckc, weir_wall_ms(), &act) == WEIR_CKC_NONE)
                break;
            switch (act.kind) {
            case WEIR_CKC_TRIGGER: {
                bool stop = false;
                if (act.savepoint && r->savepoint_asked && !r->savepoint_id) {
                    r->savepoint_id = act.id;
                    stop = r->savepoint_stop;
                }
                Weir__V1__TriggerCheckpoint t = WEIR__V1__TRIGGER_CHECKPOINT__INIT;
                t.job = r->id;
                t.attempt = r->attempt;
                t.id = act.id;
                t.savepoint = act.savepoint;
                t.stop = stop;
                Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
                e.body_case = WEIR__V1__ENVELOPE__BODY_TRIGGER_CHECKPOINT;
                e.trigger_checkpoint = &t;
                coord_send_job_nodes(c, r, &e, true);
                break;
            }
            case WEIR_CKC_PERSIST: s_persist(c, r, act.id); break;
            case WEIR_CKC_NOTIFY: s_notify(c, r, act.id, act.savepoint); break;
            case WEIR_CKC_ABORT:
                weir_log_warn("job %s: %s %llu aborted (%s)", r->id,
                              act.savepoint ? "savepoint" : "checkpoint",
                              (unsigned long long)act.id, weir_ckc_reason_name(act.reason));
                if (act.savepoint && r->savepoint_id == act.id)
                    r->savepoint_asked = false; /* the CLI sees it aborted */
                break;
            default: break;
            }
        }
    }
    /* Uploads of a task whose node went quiet are dropped after a while. */
    int64_t now = weir_wall_ms();
    for (uint32_t i = 0; i < COORD_MAX_UPLOADS; i++)
        if (c->uploads[i] && now - c->uploads[i]->started_ms > 10 * 60 * 1000)
            s_upload_free(c, &c->uploads[i]);
}

void coord_ck_task_state(coord_t *c, weir_jobrec_t *r, uint32_t task, int state)
{
    (void)c;
    if (!r->ckc || task >= r->n_tasks)
        return;
    if (state == 4 || state == 5) {
        weir_ckc_task_failed(r->ckc, task, weir_wall_ms());
        return;
    }
    if (state != 3)
        return;
    /* A finished task has nothing left to snapshot: a source is at its
     * end, a keyed task fired and dropped every window. */
    weir_ck_task_snap_t fin;
    memset(&fin, 0, sizeof fin);
    const weir_plan_task_t *t = &r->tasks[task];
    fin.task = task;
    fin.kind = t->kind;
    fin.kg_first = t->kg_first;
    fin.kg_last = t->kg_last;
    fin.watermark_ms = INT64_MAX;
    fin.finished = true;
    weir_ckc_task_finished(r->ckc, task, &fin, weir_wall_ms());
}

void coord_ck_on_ack(coord_t *c, const Weir__V1__CheckpointAck *a)
{
    weir_jobrec_t *r = coord_find_job(c, a->job ? a->job : "");
    if (!r || !r->ckc || r->attempt != a->attempt || !a->snapshot ||
        a->snapshot->task >= r->n_tasks)
        return;
    if (strcmp(r->task_node[a->snapshot->task], a->node_id ? a->node_id : "") != 0)
        return; /* only the node that runs the task speaks for it */
    weir_ck_task_snap_t s;
    memset(&s, 0, sizeof s);
    if (weir_wire_cksnap_from_pb(a->snapshot, &s) != 0) {
        weir_log_warn("job %s: malformed acknowledgement of checkpoint %llu from node %s", r->id,
                      (unsigned long long)a->id, a->node_id);
        return;
    }
    const weir_plan_task_t *t = &r->tasks[s.task];
    s.kind = t->kind;
    s.kg_first = t->kg_first;
    s.kg_last = t->kg_last;
    int rc = weir_ckc_ack(r->ckc, s.task, a->id, &s, weir_wall_ms());
    if (rc && rc != WEIR_ESTALE)
        weir_log_warn("job %s: acknowledgement of checkpoint %llu by task %u refused: %s", r->id,
                      (unsigned long long)a->id, s.task, weir_strerror(rc));
    weir_ck_snap_clear(&s);
}

/* ---- state uploads ---------------------------------------------------- */

static void s_send_credit(coord_t *c, const void *rid, size_t rid_len, const char *job,
                          uint32_t attempt, uint64_t id, uint32_t task, uint32_t credits,
                          const char *error)
{
    Weir__V1__StateCredit cr = WEIR__V1__STATE_CREDIT__INIT;
    cr.job = (char *)job;
    cr.attempt = attempt;
    cr.id = id;
    cr.task = task;
    cr.credits = credits;
    cr.error = (char *)(error ? error : "");
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_STATE_CREDIT;
    e.state_credit = &cr;
    weir_wire_send(c->router, rid, rid_len, &e);
}

static coord_upload_t **s_upload_find(coord_t *c, const char *job, uint32_t attempt, uint64_t id,
                                      uint32_t task)
{
    for (uint32_t i = 0; i < COORD_MAX_UPLOADS; i++) {
        coord_upload_t *u = c->uploads[i];
        if (u && u->attempt == attempt && u->id == id && u->task == task &&
            strcmp(u->job, job) == 0)
            return &c->uploads[i];
    }
    return NULL;
}

void coord_ck_on_offer(coord_t *c, const void *rid, size_t rid_len, const Weir__V1__StateOffer *o)
{
    const char *job = o->job ? o->job : "";
    Weir__V1__StateNeed need = WEIR__V1__STATE_NEED__INIT;
    need.job = (char *)job;
    need.attempt = o->attempt;
    need.id = o->id;
    need.task = o->task;
    need.error = "";
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_STATE_NEED;
    e.state_need = &need;
    char err[512] = "";
    weir_jobrec_t *r = coord_find_job(c, job);
    weir_ckstore_t *st = r ? coord_ck_store(c, &r->spec, err, sizeof err) : NULL;
    if (!r || r->state != WEIR_JOB_RUNNING || r->attempt != o->attempt) {
        need.error = "no such running job attempt";
        weir_wire_send(c->router, rid, rid_len, &e);
        return;
    }
    if (!st) {
        need.error = err;
        weir_wire_send(c->router, rid, rid_len, &e);
        return;
    }
    coord_upload_t **old = s_upload_find(c, job, o->attempt, o->id, o->task);
    if (old)
        s_upload_free(c, old); /* offered again: start over */
    ProtobufCBinaryData *hashes = calloc(o->n_files ? o->n_files : 1, sizeof *hashes);
    coord_upload_t *u = calloc(1, sizeof *u);
    if (u) {
        u->need = calloc(o->n_files ? o->n_files : 1, sizeof *u->need);
        u->need_size = calloc(o->n_files ? o->n_files : 1, sizeof *u->need_size);
    }
    if (!hashes || !u || !u->need || !u->need_size || rid_len > sizeof u->rid) {
        free(hashes);
        s_upload_free(c, &u);
        need.error = "coordinator out of memory";
        weir_wire_send(c->router, rid, rid_len, &e);
        return;
    }
    for (size_t i = 0; i < o->n_files; i++) {
        const Weir__V1__StateFile *f = o->files[i];
        if (!f || f->hash.len != WEIR_CK_HASH_BYTES)
            continue;
        weir_ck_hash_t h;
        memcpy(h.b, f->hash.data, WEIR_CK_HASH_BYTES);
        bool dup = false;
        for (uint32_t j = 0; j < u->n_need && !dup; j++)
            dup = weir_ck_hash_eq(&u->need[j], &h);
        if (dup || weir_ckstore_has_blob(st, &h))
            continue;
        u->need[u->n_need] = h;
        u->need_size[u->n_need] = f->size;
        hashes[u->n_need].data = (uint8_t *)u->need[u->n_need].b;
        hashes[u->n_need].len = WEIR_CK_HASH_BYTES;
        u->n_need++;
    }
    need.n_hashes = u->n_need;
    need.hashes = hashes;
    need.credits = S_CHUNK_CREDITS;
    weir_wire_send(c->router, rid, rid_len, &e);
    free(hashes);
    if (u->n_need == 0) {
        s_upload_free(c, &u);
        return;
    }
    uint32_t slot = COORD_MAX_UPLOADS;
    for (uint32_t i = 0; i < COORD_MAX_UPLOADS && slot == COORD_MAX_UPLOADS; i++)
        if (!c->uploads[i])
            slot = i;
    if (slot == COORD_MAX_UPLOADS) { /* the oldest gives way */
        slot = 0;
        for (uint32_t i = 1; i < COORD_MAX_UPLOADS; i++)
            if (c->uploads[i]->started_ms < c->uploads[slot]->started_ms)
                slot = i;
        s_upload_free(c, &c->uploads[slot]);
    }
    memcpy(u->rid, rid, rid_len);
    u->rid_len = rid_len;
    snprintf(u->job, sizeof u->job, "%s", job);
    u->attempt = o->attempt;
    u->id = o->id;
    u->task = o->task;
    u->store = st;
    u->started_ms = weir_wall_ms();
    c->uploads[slot] = u;
}

void coord_ck_on_chunk(coord_t *c, const void *rid, size_t rid_len, const Weir__V1__StateChunk *ch)
{
    const char *job = ch->job ? ch->job : "";
    coord_upload_t **pu = s_upload_find(c, job, ch->attempt, ch->id, ch->task);
    if (!pu) {
        s_send_credit(c, rid, rid_len, job, ch->attempt, ch->id, ch->task, 0,
                      "no upload of that checkpoint in progress (offer the files first)");
        return;
    }
    coord_upload_t *u = *pu;
    char err[600] = "";
    int rc = 0;
    if (u->next >= u->n_need || ch->hash.len != WEIR_CK_HASH_BYTES ||
        memcmp(ch->hash.data, u->need[u->next].b, WEIR_CK_HASH_BYTES) != 0) {
        snprintf(err, sizeof err, "chunk of a file that is not the next one expected");
        goto fail;
    }
    uint64_t size = u->need_size[u->next];
    if (ch->offset == 0 && !u->blob && !u->skipping) {
        rc = weir_ckstore_blob_begin(u->store, &u->need[u->next], size, &u->blob);
        if (rc == -EEXIST) {
            u->skipping = true;
            rc = 0;
        } else if (rc) {
            snprintf(err, sizeof err, "%s", weir_ckstore_errmsg(u->store));
            goto fail;
        }
    }
    if (!u->skipping) {
        if (!u->blob) {
            snprintf(err, sizeof err, "chunk at offset %llu before the file's start",
                     (unsigned long long)ch->offset);
            goto fail;
        }
        rc = weir_ckstore_blob_write(u->store, u->blob, ch->offset, ch->data.data, ch->data.len);
        if (rc) {
            snprintf(err, sizeof err, "%s", weir_ckstore_errmsg(u->store));
            goto fail;
        }
    }
    if (ch->offset + ch->data.len >= size) {
        if (u->blob && (rc = weir_ckstore_blob_commit(u->store, &u->blob)) != 0) {
            snprintf(err, sizeof err, "%s", weir_ckstore_errmsg(u->store));
            goto fail;
        }
        u->skipping = false;
        u->next++;
    }
    s_send_credit(c, rid, rid_len, job, ch->attempt, ch->id, ch->task, 1, NULL);
    if (u->next == u->n_need)
        s_upload_free(c, pu);
    return;
fail:
    weir_log_warn("job %s: state upload of task %u for checkpoint %llu failed: %s", job, ch->task,
                  (unsigned long long)ch->id, err);
    s_send_credit(c, rid, rid_len, job, ch->attempt, ch->id, ch->task, 0, err);
    s_upload_free(c, pu);
}

void coord_ck_on_fetch(coord_t *c, const void *rid, size_t rid_len, const Weir__V1__FetchBlob *f)
{
    static uint8_t buf[1u << 20];
    Weir__V1__StateChunk ch = WEIR__V1__STATE_CHUNK__INIT;
    ch.job = "";
    ch.hash = f->hash;
    ch.offset = f->offset;
    size_t cap = f->max_bytes && f->max_bytes < sizeof buf ? f->max_bytes : sizeof buf;
    size_t got = 0;
    int rc = WEIR_ENOTFOUND;
    if (f->hash.len == WEIR_CK_HASH_BYTES) {
        weir_ck_hash_t h;
        memcpy(h.b, f->hash.data, WEIR_CK_HASH_BYTES);
        /* Any store that has it: the default one first. */
        for (uint32_t i = 0; i < c->n_stores && rc; i++)
            rc = weir_ckstore_blob_read(c->stores[i], &h, f->offset, buf, cap, &got);
    }
    if (rc) {
        s_send_credit(c, rid, rid_len, "", 0, 0, 0, 0, "no such stored state file");
        return;
    }
    ch.data.data = buf;
    ch.data.len = got;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_STATE_CHUNK;
    e.state_chunk = &ch;
    weir_wire_send(c->router, rid, rid_len, &e);
}

/* ---- CLI ---------------------------------------------------------------- */

static void s_info(const weir_ckc_stats_t *s, bool retained, Weir__V1__CheckpointInfo *ci)
{
    weir__v1__checkpoint_info__init(ci);
    ci->id = s->id;
    ci->savepoint = s->savepoint;
    ci->phase = (char *)weir_ckc_phase_name(s->phase);
    ci->reason = (char *)(s->phase == WEIR_CKC_ABORTED ? weir_ckc_reason_name(s->reason) : "");
    ci->trigger_ms = s->trigger_ms;
    ci->duration_ms = s->duration_ms;
    ci->state_bytes = s->state_bytes;
    ci->incremental_bytes = s->incremental_bytes;
    ci->alignment_ms = s->alignment_ms;
    ci->retained = retained;
}

void coord_ck_on_savepoint(coord_t *c, const void *rid, size_t rid_len,
                           const Weir__V1__SavepointReq *q)
{
    weir_jobrec_t *r = coord_job_or_reply(c, rid, rid_len, q->job);
    char msg[256];
    if (!r)
        return;
    if (r->state != WEIR_JOB_RUNNING || !r->ckc) {
        snprintf(msg, sizeof msg, "job %s is not running; a savepoint needs a running job", r->id);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    if (r->savepoint_asked && r->savepoint_id == 0) {
        snprintf(msg, sizeof msg, "job %s: a savepoint was asked for already and has not started",
                 r->id);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    int rc = weir_ckc_savepoint(r->ckc, weir_wall_ms());
    if (rc) {
        snprintf(msg, sizeof msg, "job %s cannot take a savepoint now: %s", r->id,
                 rc == WEIR_ECANCELED ? "a task failed" : "every task has finished");
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    r->savepoint_asked = true;
    r->savepoint_stop = q->stop;
    r->rebalance = false;
    r->savepoint_id = 0;
    weir_log_info("job %s: savepoint asked%s", r->id, q->stop ? " (the job stops after it)" : "");
    /* Its id: the next one issued (one checkpoint at a time, and a
     * savepoint asked for goes before any periodic one; a running
     * checkpoint has the last id already). */
    char sp[96];
    snprintf(sp, sizeof sp, "%s/%llu", r->id, (unsigned long long)(weir_ckc_last_id(r->ckc) + 1));
    Weir__V1__Reply rep = WEIR__V1__REPLY__INIT;
    rep.ok = true;
    rep.job = r->id;
    rep.savepoint = sp;
    coord_reply(c, rid, rid_len, &rep);
}

void coord_ck_on_rebalance(coord_t *c, const void *rid, size_t rid_len, const char *job)
{
    weir_jobrec_t *r = coord_find_job(c, job);
    char msg[256];
    if (!r || r->state != WEIR_JOB_RUNNING || !r->ckc) {
        snprintf(msg, sizeof msg, "job '%s' is not running (see `weir list`)", job);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    if (r->savepoint_asked && r->savepoint_id == 0) {
        snprintf(msg, sizeof msg, "job %s: a savepoint is pending already; try again", r->id);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    if (weir_ckc_savepoint(r->ckc, weir_wall_ms()) != 0) {
        snprintf(msg, sizeof msg, "job %s cannot take the savepoint of a rebalance now", r->id);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    r->savepoint_asked = true;
    r->savepoint_stop = false;
    r->rebalance = true;
    r->savepoint_id = 0;
    weir_log_info("job %s: rebalance asked (savepoint, then a new attempt over every live node)",
                  r->id);
    Weir__V1__Reply rep = WEIR__V1__REPLY__INIT;
    rep.ok = true;
    rep.job = r->id;
    coord_reply(c, rid, rid_len, &rep);
}

void coord_ck_on_list(coord_t *c, const void *rid, size_t rid_len, const char *job)
{
    weir_jobrec_t *r = coord_find_job(c, job);
    char err[512] = "";
    weir_ckstore_t *st = coord_ck_store(c, r ? &r->spec : NULL, err, sizeof err);
    weir_ckstore_entry_t *ents = NULL;
    size_t n_ents = 0;
    if (st && weir_ck_job_ok(job))
        weir_ckstore_list(st, job, &ents, &n_ents);
    if (!r && n_ents == 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "no job '%s' and no checkpoints of it", job);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    static Weir__V1__CheckpointInfo infos[WEIR_CKC_HISTORY + 1 + 256];
    static Weir__V1__CheckpointInfo *ptrs[WEIR_CKC_HISTORY + 1 + 256];
    size_t n = 0;
    weir_ckc_stats_t s;
    /* Oldest first: the retained ones the state machine no longer knows,
     * then its history, then the running one. */
    uint64_t oldest_known = UINT64_MAX;
    if (r && r->ckc)
        for (uint32_t i = 0; i < WEIR_CKC_HISTORY && weir_ckc_history(r->ckc, i, &s) == 0; i++)
            if (s.id < oldest_known)
                oldest_known = s.id;
    for (size_t i = 0; i < n_ents && n < 256; i++) {
        if (r && r->ckc && ents[i].id >= oldest_known)
            continue;
        weir__v1__checkpoint_info__init(&infos[n]);
        infos[n].id = ents[i].id;
        infos[n].savepoint = ents[i].savepoint;
        infos[n].phase = "completed";
        infos[n].reason = "";
        infos[n].trigger_ms = ents[i].complete_ms;
        infos[n].state_bytes = ents[i].state_bytes;
        infos[n].retained = true;
        n++;
    }
    if (r && r->ckc) {
        int h = 0;
        while (h < WEIR_CKC_HISTORY && weir_ckc_history(r->ckc, (uint32_t)h, &s) == 0)
            h++;
        for (int i = h - 1; i >= 0; i--) {
            weir_ckc_history(r->ckc, (uint32_t)i, &s);
            bool kept = false;
            for (size_t j = 0; j < n_ents; j++)
                kept |= ents[j].id == s.id;
            s_info(&s, kept, &infos[n++]);
        }
        if (weir_ckc_current(r->ckc, weir_wall_ms(), &s) == 0)
            s_info(&s, false, &infos[n++]);
    }
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &infos[i];
    free(ents);
    Weir__V1__Reply rep = WEIR__V1__REPLY__INIT;
    rep.ok = true;
    rep.job = (char *)job;
    rep.n_checkpoints = n;
    rep.checkpoints = ptrs;
    char sp[96] = "";
    if (r && r->savepoint_id)
        snprintf(sp, sizeof sp, "%s/%llu", r->id, (unsigned long long)r->savepoint_id);
    rep.savepoint = sp;
    coord_reply(c, rid, rid_len, &rep);
}

/* Splits "JOB/N" (n > 0) or "JOB" (n = 0). false when malformed. */
static bool s_parse_ref(const char *ref, char *job, size_t cap, uint64_t *n)
{
    const char *slash = strrchr(ref, '/');
    size_t jl = slash ? (size_t)(slash - ref) : strlen(ref);
    if (jl == 0 || jl >= cap)
        return false;
    memcpy(job, ref, jl);
    job[jl] = '\0';
    *n = 0;
    if (slash) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || v == 0)
            return false;
        *n = v;
    }
    return weir_ck_job_ok(job);
}

void coord_ck_on_delete(coord_t *c, const void *rid, size_t rid_len, const char *ref)
{
    char job[64], msg[600];
    uint64_t n = 0;
    if (!s_parse_ref(ref, job, sizeof job, &n) || n == 0) {
        snprintf(msg, sizeof msg, "'%s' is not a savepoint id (JOB/N, as weir checkpoints shows)",
                 ref);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    weir_jobrec_t *r = coord_find_job(c, job);
    char err[512] = "";
    weir_ckstore_t *st = coord_ck_store(c, r ? &r->spec : NULL, err, sizeof err);
    weir_ck_meta_t m;
    memset(&m, 0, sizeof m);
    int rc = st ? weir_ckstore_load(st, job, n, &m) : WEIR_ENOTFOUND;
    bool sp = m.savepoint;
    weir_ck_meta_clear(&m);
    if (rc) {
        snprintf(msg, sizeof msg, "no stored savepoint %s", ref);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    if (!sp) {
        snprintf(msg, sizeof msg,
                 "%s is a checkpoint, not a savepoint: checkpoints go by checkpoint.retain", ref);
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    rc = weir_ckstore_delete(st, job, n);
    bool running = false;
    for (uint32_t i = 0; i < c->n_jobs; i++)
        running |= c->jobs[i]->state == WEIR_JOB_RUNNING && c->jobs[i]->ckc;
    if (!rc)
        weir_ckstore_gc(st, running ? 10 * 60 * 1000 : 0, NULL);
    if (rc) {
        snprintf(msg, sizeof msg, "cannot delete savepoint %s: %s", ref, weir_ckstore_errmsg(st));
        coord_reply_error(c, rid, rid_len, msg);
        return;
    }
    weir_log_info("savepoint %s deleted", ref);
    Weir__V1__Reply rep = WEIR__V1__REPLY__INIT;
    rep.ok = true;
    rep.job = job;
    coord_reply(c, rid, rid_len, &rep);
}

int coord_ck_prepare_restore(coord_t *c, weir_jobrec_t *r, const char *ref, uint64_t *last_id,
                             char *err, size_t err_cap)
{
    char job[64];
    uint64_t n = 0;
    if (!s_parse_ref(ref, job, sizeof job, &n)) {
        snprintf(err, err_cap,
                 "--from-savepoint '%s' is not a savepoint id: give JOB/N (see weir checkpoints "
                 "JOB) or JOB for its latest checkpoint",
                 ref);
        return WEIR_EINVAL;
    }
    weir_jobrec_t *old = coord_find_job(c, job);
    char serr[512] = "";
    weir_ckstore_t *st = coord_ck_store(c, old ? &old->spec : &r->spec, serr, sizeof serr);
    if (!st) {
        snprintf(err, err_cap, "checkpoint storage: %s", serr);
        return WEIR_EINVAL;
    }
    weir_ck_meta_t m;
    memset(&m, 0, sizeof m);
    int rc = n ? weir_ckstore_load(st, job, n, &m) : weir_ckstore_load_latest(st, job, &m);
    if (rc) {
        snprintf(err, err_cap, "no stored %s %s in %s%s%s",
                 n ? "checkpoint or savepoint" : "checkpoint of job", ref, weir_ckstore_root(st),
                 rc == WEIR_ENOTFOUND ? "" : ": ",
                 rc == WEIR_ENOTFOUND ? "" : weir_ckstore_errmsg(st));
        weir_ck_meta_clear(&m);
        return rc;
    }
    /* The restored job must read the same splits and own the same key
     * groups (parallelism may change: key-group ranges are restored). */
    uint32_t n_src = 0, G = 0;
    for (uint32_t i = 0; i < m.n_tasks; i++) {
        if (m.tasks[i].kind == WEIR_TASK_SOURCE)
            n_src++;
        else if (m.tasks[i].kg_last + 1 > G)
            G = m.tasks[i].kg_last + 1;
    }
    uint32_t splits = (uint32_t)weir_job_splits(&r->spec);
    if (n_src != splits || (G && G != (uint32_t)r->spec.max_key_groups)) {
        snprintf(err, err_cap,
                 "%s/%llu was taken with %u source splits and %u key groups; this job has %u "
                 "splits and %d key groups: keep source.splits and max_key_groups as they were",
                 job, (unsigned long long)m.id, n_src, G, splits, r->spec.max_key_groups);
        weir_ck_meta_clear(&m);
        return WEIR_EINVAL;
    }
    /* The state must mean the same in the new job. */
    char sig[2048];
    weir_job_state_signature(&r->spec, sig, sizeof sig);
    if (m.signature[0] && strcmp(m.signature, sig) != 0) {
        snprintf(err, err_cap,
                 "%s/%llu holds state of another shape: it was taken with [%s], this job has "
                 "[%s]; keep key_by, the window, the aggregates and the kinds of sources as "
                 "they were (or start without --from-savepoint)",
                 job, (unsigned long long)m.id, m.signature, sig);
        weir_ck_meta_clear(&m);
        return WEIR_EINVAL;
    }
    uint8_t *packed = NULL;
    size_t len = 0;
    rc = weir_wire_ckmeta_pack(&m, &packed, &len);
    if (rc) {
        snprintf(err, err_cap, "out of memory");
        weir_ck_meta_clear(&m);
        return rc;
    }
    free(r->restore_meta);
    r->restore_meta = packed;
    r->restore_len = len;
    snprintf(r->restored_from, sizeof r->restored_from, "%s/%llu", job, (unsigned long long)m.id);
    *last_id = m.id;
    weir_ck_meta_clear(&m);
    return 0;
}

void coord_ck_fill_job(const weir_jobrec_t *r, Weir__V1__JobInfo *ji,
                       Weir__V1__CheckpointInfo *latest)
{
    ji->restored_from = (char *)r->restored_from;
    if (!r->ckc)
        return;
    ji->checkpoints_completed = weir_ckc_n_completed(r->ckc);
    ji->checkpoints_aborted = weir_ckc_n_aborted(r->ckc);
    weir_ckc_stats_t s;
    if (weir_ckc_last_completed(r->ckc, &s) == 0) {
        s_info(&s, true, latest);
        ji->latest_checkpoint = latest;
    }
}
