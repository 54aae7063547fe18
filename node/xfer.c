/* xfer: the node's transfer thread. See xfer.h. */
#include "xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ckmeta.h"
#include "endpoint.h"
#include "membership.h"
#include "err.h"
#include "fsx.h"
#include "log.h"
#include "plan.h"
#include "queue.h"
#include "wire.h"

#define S_CHUNK (1u << 20)
#define S_REPLY_MS 60000     /* longest wait for the coordinator's answer */
#define S_HASH_CACHE 4096    /* SST files whose hash is remembered */

typedef struct {
    char job[64];
    uint32_t attempt, task, kg_first, kg_last;
    weir_df_ck_snap_t snap;
} s_item_t;

typedef struct {
    char name[64];
    uint64_t size;
    weir_ck_hash_t hash;
    bool used;
} s_cached_t;

struct node_xfer {
    void *zctx;
    char coordinator[WEIR_ENDPOINT_MAX];
    char node_id[WEIR_NODE_ID_MAX];
    weir_queue_t *q; /* s_item_t * */
    pthread_t thread;
    _Atomic bool stop;
    void *sock; /* DEALER, owned by the thread */
    s_cached_t *cache;
    uint32_t cache_next;
    uint8_t *buf;
};

static bool s_cache_get(node_xfer_t *x, const char *name, uint64_t size, weir_ck_hash_t *h)
{
    for (uint32_t i = 0; i < S_HASH_CACHE; i++)
        if (x->cache[i].used && x->cache[i].size == size && strcmp(x->cache[i].name, name) == 0) {
            *h = x->cache[i].hash;
            return true;
        }
    return false;
}

static void s_cache_put(node_xfer_t *x, const char *name, uint64_t size, const weir_ck_hash_t *h)
{
    s_cached_t *c = &x->cache[x->cache_next];
    x->cache_next = (x->cache_next + 1) % S_HASH_CACHE;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->size = size;
    c->hash = *h;
    c->used = true;
}

/* Waits for a StateNeed or StateCredit of this upload; the caller frees
 * *out. false on timeout, stop or a socket error. */
static bool s_wait_reply(node_xfer_t *x, const s_item_t *it, Weir__V1__Envelope **out)
{
    int64_t deadline = weir_mono_ms() + S_REPLY_MS;
    while (!atomic_load(&x->stop)) {
        int64_t left = deadline - weir_mono_ms();
        if (left <= 0)
            return false;
        zmq_pollitem_t p = {.socket = x->sock, .events = ZMQ_POLLIN};
        if (zmq_poll(&p, 1, left > 200 ? 200 : (long)left) <= 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, x->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        Weir__V1__Envelope *e = NULL;
        int rc = weir_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &e);
        zmq_msg_close(&m);
        if (rc)
            continue;
        bool mine = false;
        if (e->body_case == WEIR__V1__ENVELOPE__BODY_STATE_NEED) {
            const Weir__V1__StateNeed *n = e->state_need;
            mine = n->attempt == it->attempt && n->id == it->snap.id && n->task == it->task &&
                   strcmp(n->job ? n->job : "", it->job) == 0;
        } else if (e->body_case == WEIR__V1__ENVELOPE__BODY_STATE_CREDIT) {
            const Weir__V1__StateCredit *c = e->state_credit;
            mine = c->attempt == it->attempt && c->id == it->snap.id && c->task == it->task &&
                   strcmp(c->job ? c->job : "", it->job) == 0;
        }
        if (mine) {
            *out = e;
            return true;
        }
        weir_wire_free(e); /* an answer to an upload given up on */
    }
    return false;
}

/* Waits for one StateCredit of the upload and adds it to *credits. 0, or
 * an error with *what set (no answer, or the coordinator refused). */
static int s_credit(node_xfer_t *x, const s_item_t *it, int64_t *credits, const char **what)
{
    Weir__V1__Envelope *reply = NULL;
    int rc = 0;
    if (!s_wait_reply(x, it, &reply) || reply->body_case != WEIR__V1__ENVELOPE__BODY_STATE_CREDIT) {
        rc = WEIR_ETIMEDOUT;
        *what = "no chunk credit came from the coordinator";
    } else if (reply->state_credit->error && reply->state_credit->error[0]) {
        rc = WEIR_EINVAL;
        *what = "the coordinator refused a chunk";
        weir_log_warn("state upload: %s", reply->state_credit->error);
    } else {
        *credits += reply->state_credit->credits;
    }
    weir_wire_free(reply);
    return rc;
}

/* Uploads one snapshot and acknowledges it. 0, or an error (logged). */
static int s_upload(node_xfer_t *x, s_item_t *it)
{
    weir_df_ck_snap_t *s = &it->snap;
    char path[WEIR_PATH_MAX + 80];
    size_t n = s->n_files;
    weir_ck_hash_t *hashes = calloc(n ? n : 1, sizeof *hashes);
    Weir__V1__StateFile *sf = calloc(n ? n : 1, sizeof *sf);
    Weir__V1__StateFile **sfp = calloc(n ? n : 1, sizeof *sfp);
    Weir__V1__Envelope *reply = NULL;
    int rc = 0, fd = -1;
    const char *what = "";
    if (!hashes || !sf || !sfp) {
        rc = -ENOMEM;
        what = "out of memory";
        goto out;
    }
    uint64_t state_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const weir_state_ckfile_t *f = &s->files[i];
        uint64_t size = f->size_bytes;
        if (!(f->immutable && s_cache_get(x, f->name, size, &hashes[i]))) {
            snprintf(path, sizeof path, "%s/%s", s->state_dir, f->name);
            rc = weir_ck_hash_file(path, &hashes[i], &size);
            if (rc) {
                what = "cannot read a state file";
                goto out;
            }
            if (f->immutable)
                s_cache_put(x, f->name, size, &hashes[i]);
        }
        weir__v1__state_file__init(&sf[i]);
        sf[i].name = (char *)f->name;
        sf[i].hash.data = hashes[i].b;
        sf[i].hash.len = WEIR_CK_HASH_BYTES;
        sf[i].size = size;
        sfp[i] = &sf[i];
        state_bytes += size;
    }
    Weir__V1__StateOffer of = WEIR__V1__STATE_OFFER__INIT;
    of.node_id = x->node_id;
    of.job = it->job;
    of.attempt = it->attempt;
    of.id = s->id;
    of.task = it->task;
    of.n_files = n;
    of.files = sfp;
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_STATE_OFFER;
    e.state_offer = &of;
    if ((rc = weir_wire_send(x->sock, NULL, 0, &e)) != 0) {
        what = "cannot send to the coordinator";
        goto out;
    }
    if (!s_wait_reply(x, it, &reply) || reply->body_case != WEIR__V1__ENVELOPE__BODY_STATE_NEED) {
        rc = WEIR_ETIMEDOUT;
        what = "the coordinator did not answer the offer";
        goto out;
    }
    const Weir__V1__StateNeed *need = reply->state_need;
    if (need->error && need->error[0]) {
        rc = WEIR_EINVAL;
        what = need->error;
        goto out;
    }
    int64_t credits = need->credits, granted = need->credits;
    uint64_t uploaded = 0;
    size_t n_need = need->n_hashes;
    ProtobufCBinaryData *want = calloc(n_need ? n_need : 1, sizeof *want);
    for (size_t i = 0; want && i < n_need; i++)
        want[i] = need->hashes[i]; /* points into reply: kept until the end */
    Weir__V1__Envelope *need_env = reply;
    reply = NULL;
    for (size_t w = 0; want && w < n_need && !rc; w++) {
        size_t fi = n;
        for (size_t i = 0; i < n && fi == n; i++)
            if (want[w].len == WEIR_CK_HASH_BYTES &&
                memcmp(hashes[i].b, want[w].data, WEIR_CK_HASH_BYTES) == 0)
                fi = i;
        if (fi == n) {
            rc = WEIR_EPROTO;
            what = "the coordinator asked for a file that was not offered";
            break;
        }
        snprintf(path, sizeof path, "%s/%s", s->state_dir, s->files[fi].name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = -errno;
            what = "cannot open a state file";
            break;
        }
        uint64_t off = 0, size = sf[fi].size;
        do {
            while (credits <= 0 && !rc)
                rc = s_credit(x, it, &credits, &what);
            if (rc)
                break;
            size_t want_len = size - off < S_CHUNK ? (size_t)(size - off) : S_CHUNK;
            ssize_t got = want_len ? pread(fd, x->buf, want_len, (off_t)off) : 0;
            if (got < 0 || (size_t)got != want_len) {
                rc = got < 0 ? -errno : WEIR_EINVAL;
                what = "a state file changed while it was read";
                break;
            }
            Weir__V1__StateChunk ch = WEIR__V1__STATE_CHUNK__INIT;
            ch.job = it->job;
            ch.attempt = it->attempt;
            ch.id = s->id;
            ch.task = it->task;
            ch.hash = want[w];
            ch.offset = off;
            ch.data.data = x->buf;
            ch.data.len = (size_t)got;
            Weir__V1__Envelope ce = WEIR__V1__ENVELOPE__INIT;
            ce.body_case = WEIR__V1__ENVELOPE__BODY_STATE_CHUNK;
            ce.state_chunk = &ch;
            if ((rc = weir_wire_send(x->sock, NULL, 0, &ce)) != 0) {
                what = "cannot send to the coordinator";
                break;
            }
            credits--;
            off += (uint64_t)got;
            uploaded += (uint64_t)got;
        } while (off < size);
        close(fd);
        fd = -1;
    }
    /* Every credit back: every chunk written and every file durable. */
    while (!rc && credits < granted)
        rc = s_credit(x, it, &credits, &what);
    free(want);
    weir_wire_free(need_env);
    if (rc)
        goto out;
    /* The acknowledgement, with every file (stored now) and the sizes. */
    weir_ck_task_snap_t ts;
    memset(&ts, 0, sizeof ts);
    ts.task = it->task;
    ts.kind = WEIR_TASK_WINDOW;
    ts.kg_first = it->kg_first;
    ts.kg_last = it->kg_last;
    ts.watermark_ms = s->task_wm;
    ts.alignment_ms = (int64_t)(s->align_us / 1000);
    snprintf(ts.cf, sizeof ts.cf, "%s", s->cf);
    for (size_t i = 0; i < n && !rc; i++)
        rc = weir_ck_snap_add_file(&ts, s->files[i].name, &hashes[i], sf[i].size);
    ts.incremental_bytes = uploaded;
    Weir__V1__TaskSnapshot pb = WEIR__V1__TASK_SNAPSHOT__INIT;
    if (!rc)
        rc = weir_wire_cksnap_to_pb(&ts, &pb);
    if (!rc) {
        Weir__V1__CheckpointAck ack = WEIR__V1__CHECKPOINT_ACK__INIT;
        ack.node_id = x->node_id;
        ack.job = it->job;
        ack.attempt = it->attempt;
        ack.id = s->id;
        ack.snapshot = &pb;
        Weir__V1__Envelope ae = WEIR__V1__ENVELOPE__INIT;
        ae.body_case = WEIR__V1__ENVELOPE__BODY_CHECKPOINT_ACK;
        ae.checkpoint_ack = &ack;
        rc = weir_wire_send(x->sock, NULL, 0, &ae);
        weir_wire_cksnap_pb_release(&pb);
        if (rc)
            what = "cannot send to the coordinator";
    } else {
        what = "out of memory";
    }
    weir_ck_snap_clear(&ts);
    (void)state_bytes;
out:
    if (rc)
        weir_log_warn("job %s: state of task %u for checkpoint %llu not stored: %s (%s)", it->job,
                      it->task, (unsigned long long)s->id, what, weir_strerror(rc));
    if (fd >= 0)
        close(fd);
    weir_wire_free(reply);
    free(hashes);
    free(sf);
    free(sfp);
    return rc;
}

static void s_item_free(s_item_t *it)
{
    if (!it)
        return;
    weir_fs_rmtree(it->snap.state_dir);
    weir_state_ckfiles_free(&it->snap.files);
    free(it);
}

static void *s_main(void *arg)
{
    node_xfer_t *x = arg;
    x->sock = zmq_socket(x->zctx, ZMQ_DEALER);
    int linger = 0;
    int64_t maxmsg = WEIR_WIRE_MAX_MSG;
    zmq_setsockopt(x->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(x->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_connect(x->sock, x->coordinator) != 0)
        weir_log_warn("transfer thread: cannot connect to %s: %s", x->coordinator,
                      zmq_strerror(errno));
    while (!atomic_load(&x->stop)) {
        s_item_t *it = NULL;
        if (!weir_queue_pop(x->q, &it, 200))
            continue;
        s_upload(x, it);
        s_item_free(it);
    }
    zmq_close(x->sock);
    x->sock = NULL;
    return NULL;
}

int node_xfer_start(void *zctx, const char *coordinator, const char *node_id, node_xfer_t **out)
{
    node_xfer_t *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    x->zctx = zctx;
    snprintf(x->coordinator, sizeof x->coordinator, "%s", coordinator);
    snprintf(x->node_id, sizeof x->node_id, "%s", node_id);
    x->q = weir_queue_new(sizeof(s_item_t *), 256, false);
    x->cache = calloc(S_HASH_CACHE, sizeof *x->cache);
    x->buf = malloc(S_CHUNK);
    if (!x->q || !x->cache || !x->buf || pthread_create(&x->thread, NULL, s_main, x) != 0) {
        weir_queue_destroy(&x->q);
        free(x->cache);
        free(x->buf);
        free(x);
        return -ENOMEM;
    }
    *out = x;
    return 0;
}

int node_xfer_submit(node_xfer_t *x, const char *job, uint32_t attempt, uint32_t task,
                     uint32_t kg_first, uint32_t kg_last, weir_df_ck_snap_t *snap)
{
    s_item_t *it = calloc(1, sizeof *it);
    if (!it) {
        weir_fs_rmtree(snap->state_dir);
        weir_state_ckfiles_free(&snap->files);
        return -ENOMEM;
    }
    snprintf(it->job, sizeof it->job, "%s", job);
    it->attempt = attempt;
    it->task = task;
    it->kg_first = kg_first;
    it->kg_last = kg_last;
    it->snap = *snap;
    snap->files = NULL;
    snap->n_files = 0;
    if (weir_queue_push(x->q, &it) != 0) {
        s_item_free(it);
        return WEIR_EFULL;
    }
    return 0;
}

void node_xfer_stop(node_xfer_t **px)
{
    node_xfer_t *x = *px;
    if (!x)
        return;
    atomic_store(&x->stop, true);
    pthread_join(x->thread, NULL);
    s_item_t *it = NULL;
    while (weir_queue_pop(x->q, &it, 0))
        s_item_free(it);
    weir_queue_destroy(&x->q);
    free(x->cache);
    free(x->buf);
    free(x);
    *px = NULL;
}
