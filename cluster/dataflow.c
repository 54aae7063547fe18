/* dataflow: task threads and channels of one job attempt on one node.
 * See dataflow.h for the model.
 *
 * Costs per row: one key encoding and hash, one columnar copy into the
 * destination batch. Per batch: one credit (a ring pop or a counter), one
 * mailbox push, and for remote channels one protobuf pack, one ZeroMQ send
 * and, at the receiver, one unpack into a reused batch. Nothing allocates
 * per row or per batch after start-up.
 *
 * Rejected: routing every frame through the node's I/O thread (one more hop
 * and a thread that all data must cross); sending single rows (DESIGN §5:
 * per-row messages would cost more than all the other work).
 */
#include "dataflow.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "credit.h"
#include "csvsink.h"
#include "csvsrc.h"
#include "gensrc.h"
#include "hist.h"
#include "err.h"
#include "filesink.h"
#include "filter.h"
#include "fsx.h"
#include "keygroup.h"
#include "log.h"
#include "timeu.h"
#include "winop.h"
#include "wm.h"

#define S_POLL_MS 100  /* longest wait before a thread rechecks cancel */
#define S_HELLO_MS 100 /* hello retry period while a receiver is unknown */
#define S_FOLLOW_POLL_MS 20 /* a followed file with nothing new is looked at this often */
#define S_FINAL_BASE 9000000000000000000ULL /* last parts: this + attempt */

typedef struct s_task s_task_t;

/* One channel with at least one local end. */
typedef struct {
    uint32_t c;    /* global channel number */
    uint32_t s, k; /* source split, keyed index */
    bool src_local, dst_local;
    /* local -> local: ring of buffers; a free buffer is a credit */
    pthread_mutex_t mu;
    weir_batch_t **ring;
    uint32_t n_free;
    weir_batch_t **all;
    uint32_t n_all;
    /* remote -> local: where credits go */
    uint8_t rid[WEIR_RID_MAX];
    size_t rid_len;
    bool rid_known;
} s_chan_t;

typedef struct {
    _Atomic int state;
    _Atomic uint64_t rows_in, rows_out, late, bad, bytes_read, bytes_total;
    _Atomic int64_t wm;
    _Atomic uint64_t busy_ns, bp_ns;                        /* cumulated */
    _Atomic uint32_t busy_pm, bp_pm;                        /* last full second */
    _Atomic uint64_t lat_p50, lat_p99, lat_p999, lat_count; /* us, since start */
    _Atomic uint32_t queued, credits_out;
    _Atomic uint32_t wm_holder;
    _Atomic bool idle, paused;
    char error[512];
} s_stats_t;

struct s_task {
    weir_df_t *df;
    weir_df_task_t spec;
    pthread_t thread;
    bool started;
    bool reported; /* final state handed out by weir_df_next_report */
    s_stats_t st;
    /* SOURCE */
    int efd; /* local credits returned */
    /* WINDOW */
    weir_mailbox_t *mb;
    weir_credit_rx_t *rx; /* remote inputs, owned by the I/O thread */
    /* The task's part of the latest checkpoint, for the I/O thread
     * (weir_df_ck_snap); written before the CK_* event is posted. */
    pthread_mutex_t ck_mu;
    weir_df_ck_snap_t ck;
};

struct weir_df {
    char job_id[64];
    uint32_t attempt;
    uint64_t id;
    weir_job_t job;
    weir_df_task_t *all; /* every task of the plan */
    uint32_t n_all;
    char self[WEIR_NODE_ID_MAX];
    void *zctx;
    weir_state_t *state;
    weir_queue_t *events;
    s_task_t *local; /* local tasks */
    uint32_t n_local;
    s_task_t **by_index; /* plan index -> local task or NULL */
    s_chan_t **chans;    /* global channel -> channel or NULL */
    uint32_t n_chans;
    _Atomic bool cancel;
    _Atomic bool stop; /* end the input where it is (weir_df_stop) */
    _Atomic uint64_t ck_req;       /* latest checkpoint the sources are asked for */
    _Atomic uint64_t ck_completed; /* latest checkpoint known complete */
    _Atomic uint64_t ck_stop_after; /* savepoint --stop: read nothing after this barrier */
    char data_dir[WEIR_PATH_MAX];
    char coordinator[WEIR_ENDPOINT_MAX];
    weir_ck_meta_t restore; /* zeroed when not restoring */
    const weir_clock_t *clock;
    _Atomic int64_t job_wm; /* the coordinator's view; WEIR_TS_MIN until told */
    char bad_dir[WEIR_PATH_MAX];
};

static uint64_t s_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void s_fail(s_task_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_fail(s_task_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->st.error, sizeof t->st.error, fmt, ap);
    va_end(ap);
    atomic_store_explicit(&t->st.state, WEIR_DF_FAILED, memory_order_release);
}

static void s_done_event(s_task_t *t)
{
    weir_df_event_t ev = {
        .kind = WEIR_DF_EV_TASK_DONE, .df_id = t->df->id, .task = t->spec.plan.index};
    /* A full queue waits for the I/O thread, unless it is joining this
     * task in weir_df_destroy: then it drains nothing and would wait for
     * us forever. The task's state is set already; nobody needs the event. */
    while (weir_queue_push(t->df->events, &ev) != 0) {
        if (atomic_load(&t->df->cancel))
            return;
        usleep(1000);
    }
}

/* Busy/backpressure accounting, folded into per-mille of the last second. */
typedef struct {
    int64_t window_start, busy, bp;
} s_meter_t;

static void s_meter_add(s_task_t *t, s_meter_t *m, int64_t busy_ns, int64_t bp_ns)
{
    m->busy += busy_ns;
    m->bp += bp_ns;
    int64_t now = s_now_ns();
    if (m->window_start == 0)
        m->window_start = now;
    int64_t span = now - m->window_start;
    if (span >= 1000000000LL) {
        int64_t busy = m->busy * 1000 / span, bp = m->bp * 1000 / span;
        atomic_store(&t->st.busy_pm, (uint32_t)(busy > 1000 ? 1000 : busy));
        atomic_store(&t->st.bp_pm, (uint32_t)(bp > 1000 ? 1000 : bp));
        m->window_start = now;
        m->busy = m->bp = 0;
    }
}

/* ------------------------------------------------------------------ */
/* source task                                                         */

typedef struct {
    void *sock;
    void *mon;           /* PAIR receiving the DEALER's disconnect events */
    const char *node_id; /* the peer node, for messages */
    const char *endpoint;
    uint32_t chs[WEIR_MAX_PARALLELISM];
    uint32_t n;
    int64_t last_hello_ns;
} s_dealer_t;

typedef struct {
    s_chan_t *chan;     /* NULL for remote */
    weir_batch_t *fill; /* rows waiting (local: a ring buffer; remote: own) */
    int dealer;         /* remote: index into dealers */
    uint64_t seq;
    int64_t wm_sent;
} s_out_t;

typedef struct {
    s_task_t *t;
    weir_df_t *df;
    const weir_job_t *job; /* as this split sees it (its own source) */
    uint32_t P;
    s_out_t *out;
    s_dealer_t *dealers;
    uint32_t n_dealers;
    weir_credit_tx_t *tx;
    weir_wire_scratch_t *scratch;
    int64_t wm;
    uint64_t wm_ingest_us; /* when the row that last advanced wm was read */
    int64_t bp_ns;         /* time spent waiting for credit in this round */
    int lost;              /* index + 1 of a dealer whose peer went away, or 0 */
    bool idle;             /* no input for idle_timeout: frames say so */
    uint64_t barrier;      /* set while s_src_barrier sends: frames carry it */
    weir_csvsink_t *bad;
} s_src_t;

/* SIGBUS: the input file is mapped, and a file that shrinks under a reader
 * turns the next touch of a vanished page into SIGBUS. A source thread
 * that is reading arms s_bus_env; the handler jumps back there and the
 * task fails with a message, instead of the whole node dying. A SIGBUS
 * anywhere else keeps its default action. */
static _Thread_local sigjmp_buf *s_bus_env;
static pthread_once_t s_bus_once = PTHREAD_ONCE_INIT;

static void s_on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)si, (void)uc;
    if (s_bus_env)
        siglongjmp(*s_bus_env, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void s_bus_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = s_on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static void s_src_on_bad(void *ctx, uint64_t line, const char *reason, const char *raw,
                         size_t raw_len);

/* weir_csvsrc_read with SIGBUS turned into *bus = true (see above). Kept
 * out of line so that no caller's locals live across the jump. */
static __attribute__((noinline)) int s_read_guarded(weir_csvsrc_t *src, weir_batch_t *parse,
                                                    uint32_t max_rows, size_t max_bytes, void *ctx,
                                                    int *eof, bool *bus)
{
    sigjmp_buf env;
    if (sigsetjmp(env, 1)) {
        s_bus_env = NULL;
        *bus = true;
        return 0;
    }
    s_bus_env = &env;
    int rc = weir_csvsrc_read(src, parse, max_rows, max_bytes, s_src_on_bad, ctx, eof);
    s_bus_env = NULL;
    return rc;
}

static void s_src_on_bad(void *ctx, uint64_t line, const char *reason, const char *raw,
                         size_t raw_len)
{
    s_src_t *x = ctx;
    atomic_fetch_add(&x->t->st.bad, 1);
    if (!x->bad) {
        /* bad/ is shared by the jobs whose results lie beside it: the job
         * id keeps their files apart. */
        char name[128];
        snprintf(name, sizeof name, "%s-src-%u.csv", x->df->job_id, x->t->spec.plan.split);
        const char *hdr[] = {"file", "line", "reason", "record"};
        if (weir_csvsink_open(x->df->bad_dir, name, hdr, 4, &x->bad) != 0)
            return; /* counted; reported as the task's error below if it persists */
    }
    weir_csvsink_str(x->bad, x->job->source.path, strlen(x->job->source.path));
    weir_csvsink_i64(x->bad, (int64_t)line);
    weir_csvsink_str(x->bad, reason, strlen(reason));
    size_t n = raw_len;
    while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
        n--;
    weir_csvsink_str(x->bad, raw, n);
    weir_csvsink_end_row(x->bad);
}

/* Reads credits that arrived on the dealers (non-blocking), and notices a
 * peer whose connection broke (its process died or the link went away):
 * the channel's credits will never come back, so the task must fail
 * rather than wait. */
static int s_src_read_credits(s_src_t *x)
{
    for (uint32_t d = 0; d < x->n_dealers; d++) {
        zmq_msg_t ev;
        zmq_msg_init(&ev);
        while (x->dealers[d].mon && zmq_msg_recv(&ev, x->dealers[d].mon, ZMQ_DONTWAIT) >= 0) {
            int more = zmq_msg_more(&ev);
            if (zmq_msg_size(&ev) >= 2) {
                uint16_t code;
                memcpy(&code, zmq_msg_data(&ev), sizeof code);
                if (code == ZMQ_EVENT_DISCONNECTED && !x->lost)
                    x->lost = (int)d + 1;
            }
            while (more) { /* the second part: the endpoint */
                zmq_msg_close(&ev);
                zmq_msg_init(&ev);
                if (zmq_msg_recv(&ev, x->dealers[d].mon, 0) < 0)
                    break;
                more = zmq_msg_more(&ev);
            }
        }
        zmq_msg_close(&ev);
    }
    for (uint32_t d = 0; d < x->n_dealers; d++) {
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, x->dealers[d].sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            weir_data_msg_t dm;
            int rc = weir_wire_decode_data(zmq_msg_data(&m), zmq_msg_size(&m), &dm);
            int more = zmq_msg_more(&m);
            zmq_msg_close(&m);
            while (more) { /* unexpected extra parts: drain */
                zmq_msg_init(&m);
                zmq_msg_recv(&m, x->dealers[d].sock, 0);
                more = zmq_msg_more(&m);
                zmq_msg_close(&m);
            }
            if (rc != 0 || dm.kind != WEIR_DATA_CREDIT || strcmp(dm.job, x->df->job_id) != 0 ||
                dm.attempt != x->df->attempt)
                continue; /* not ours or stale: ignored */
            if (dm.channel < x->t->spec.plan.split * x->P ||
                dm.channel >= (x->t->spec.plan.split + 1) * x->P)
                continue;
            weir_credit_tx_grant(x->tx, dm.channel - x->t->spec.plan.split * x->P, dm.credits);
        }
    }
    return 0;
}

static void s_src_hellos(s_src_t *x, bool force)
{
    int64_t now = s_now_ns();
    for (uint32_t d = 0; d < x->n_dealers; d++) {
        s_dealer_t *dl = &x->dealers[d];
        bool unknown = false;
        for (uint32_t i = 0; i < dl->n; i++)
            if (!weir_credit_tx_known(x->tx, dl->chs[i] % x->P))
                unknown = true;
        if (!unknown)
            continue;
        if (!force && now - dl->last_hello_ns < S_HELLO_MS * 1000000LL)
            continue;
        weir_wire_send_hello(dl->sock, x->df->job_id, x->df->attempt, dl->chs, dl->n);
        dl->last_hello_ns = now;
    }
}

/* Waits for a credit event: local buffer returned or remote credit. */
static void s_src_wait(s_src_t *x)
{
    zmq_pollitem_t items[2 * WEIR_MAX_PARALLELISM + 1];
    uint32_t n = 0;
    for (uint32_t d = 0; d < x->n_dealers; d++) {
        items[n++] = (zmq_pollitem_t){.socket = x->dealers[d].sock, .events = ZMQ_POLLIN};
        if (x->dealers[d].mon)
            items[n++] = (zmq_pollitem_t){.socket = x->dealers[d].mon, .events = ZMQ_POLLIN};
    }
    items[n++] = (zmq_pollitem_t){.fd = x->t->efd, .events = ZMQ_POLLIN};
    int64_t t0 = s_now_ns();
    zmq_poll(items, (int)n, S_HELLO_MS);
    if (items[n - 1].revents & ZMQ_POLLIN) {
        uint64_t v;
        ssize_t r = read(x->t->efd, &v, sizeof v);
        (void)r;
    }
    x->bp_ns += s_now_ns() - t0;
    s_src_read_credits(x);
    s_src_hellos(x, false);
}

static weir_batch_t *s_ring_take(s_chan_t *ch)
{
    weir_batch_t *b = NULL;
    pthread_mutex_lock(&ch->mu);
    if (ch->n_free > 0)
        b = ch->ring[--ch->n_free];
    pthread_mutex_unlock(&ch->mu);
    return b;
}

static void s_ring_give(s_chan_t *ch, weir_batch_t *b)
{
    weir_batch_clear(b);
    pthread_mutex_lock(&ch->mu);
    ch->ring[ch->n_free++] = b;
    pthread_mutex_unlock(&ch->mu);
}

/* Makes sure out k has a buffer to fill (local: takes a credit). Returns
 * false when canceled. */
static bool s_src_ensure_fill(s_src_t *x, uint32_t k)
{
    s_out_t *o = &x->out[k];
    while (!o->fill) {
        if (atomic_load(&x->df->cancel))
            return false;
        o->fill = s_ring_take(o->chan);
        if (!o->fill)
            s_src_wait(x);
    }
    return true;
}

/* Sends what out k holds, with the current watermark (and end of stream).
 * Blocks until there is credit. Returns 0, WEIR_ECANCELED or -errno. */
static int s_src_flush(s_src_t *x, uint32_t k, bool eos)
{
    s_out_t *o = &x->out[k];
    int64_t wm = eos ? WEIR_TS_MAX : x->wm;
    if (o->chan) {
        if (!s_src_ensure_fill(x, k))
            return WEIR_ECANCELED;
        weir_frame_t f;
        memset(&f, 0, sizeof f);
        zmq_msg_init(&f.msg);
        f.ch = x->t->spec.plan.split;
        f.has_watermark = true;
        f.watermark_ms = wm;
        f.end_of_stream = eos;
        f.ingest_us = eos ? s_wall_us() : x->wm_ingest_us;
        f.idle = x->idle && !eos;
        f.barrier = x->barrier;
        f.batch = o->fill;
        uint32_t rows = o->fill->n_rows;
        weir_mailbox_t *mb = x->df->by_index[weir_job_splits(&x->df->job) + k]->mb;
        while (weir_mailbox_push(mb, &f) != 0) { /* cannot happen with credits; be safe */
            if (atomic_load(&x->df->cancel)) {
                zmq_msg_close(&f.msg);
                return WEIR_ECANCELED;
            }
            usleep(1000);
        }
        zmq_msg_close(&f.msg);
        o->fill = NULL;
        atomic_fetch_add(&x->t->st.rows_out, rows);
    } else {
        /* Backlog: a sender that had to wait for this credit has more to
         * send than its credits allow; it says so, and the receiver hands
         * it a floating buffer when one is free. */
        uint32_t backlog = 0;
        while (!weir_credit_tx_take(x->tx, k)) {
            if (atomic_load(&x->df->cancel))
                return WEIR_ECANCELED;
            if (x->lost)
                return WEIR_ETIMEDOUT;
            backlog = 1;
            s_src_wait(x);
        }
        weir_frame_hdr_t h = {0};
        snprintf(h.job, sizeof h.job, "%s", x->df->job_id);
        h.attempt = x->df->attempt;
        h.channel = x->t->spec.plan.split * x->P + k;
        h.seq = o->seq;
        h.has_watermark = true;
        h.watermark_ms = wm;
        h.end_of_stream = eos;
        h.backlog = eos ? 0 : backlog;
        h.ingest_us = eos ? s_wall_us() : x->wm_ingest_us;
        h.idle = x->idle && !eos;
        h.barrier = x->barrier;
        int rc = weir_wire_send_frame(x->dealers[o->dealer].sock, &h, o->fill, x->scratch);
        if (rc)
            return rc;
        atomic_fetch_add(&x->t->st.rows_out, o->fill->n_rows);
        weir_batch_clear(o->fill);
    }
    o->seq++;
    o->wm_sent = wm;
    return 0;
}

/* Posts a task event (waits while the queue is full). False when canceled. */
static bool s_post(s_task_t *t, weir_df_event_kind_t kind, uint64_t ck)
{
    weir_df_event_t ev = {.kind = kind, .df_id = t->df->id, .task = t->spec.plan.index, .ck = ck};
    while (weir_queue_push(t->df->events, &ev) != 0) {
        if (atomic_load(&t->df->cancel))
            return false;
        usleep(1000);
    }
    return true;
}

/* Checkpoint `id` at a source split: what it read so far goes out first,
 * then a barrier on every channel; the position after the last row read
 * (snap) goes to the I/O thread. 0 or as s_src_flush. */
static int s_src_barrier(s_src_t *x, uint64_t id, const weir_df_ck_snap_t *snap)
{
    int rc = 0;
    for (uint32_t k = 0; k < x->P && !rc; k++)
        if (x->out[k].fill && x->out[k].fill->n_rows > 0)
            rc = s_src_flush(x, k, false);
    x->barrier = id;
    for (uint32_t k = 0; k < x->P && !rc; k++)
        rc = s_src_flush(x, k, false);
    x->barrier = 0;
    if (rc)
        return rc;
    pthread_mutex_lock(&x->t->ck_mu);
    x->t->ck = *snap;
    pthread_mutex_unlock(&x->t->ck_mu);
    return s_post(x->t, WEIR_DF_EV_CK_SOURCE, id) ? 0 : WEIR_ECANCELED;
}

static int s_src_setup(s_src_t *x, char *err, size_t cap)
{
    weir_df_t *df = x->df;
    uint32_t S = (uint32_t)weir_job_splits(&df->job);
    x->P = (uint32_t)df->job.parallelism;
    x->out = calloc(x->P, sizeof *x->out);
    x->dealers = calloc(x->P, sizeof *x->dealers);
    x->tx = weir_credit_tx_new(x->P);
    x->scratch = weir_wire_scratch_new();
    if (!x->out || !x->dealers || !x->tx || !x->scratch) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    x->wm = WEIR_TS_MIN;
    for (uint32_t k = 0; k < x->P; k++) {
        s_out_t *o = &x->out[k];
        const weir_df_task_t *dst = &df->all[S + k];
        uint32_t c = x->t->spec.plan.split * x->P + k;
        o->wm_sent = WEIR_TS_MIN;
        if (strcmp(dst->node_id, df->self) == 0) {
            o->chan = df->chans[c];
            continue;
        }
        uint32_t d;
        for (d = 0; d < x->n_dealers; d++)
            if (strcmp(x->dealers[d].endpoint, dst->endpoint) == 0)
                break;
        if (d == x->n_dealers) {
            s_dealer_t *dl = &x->dealers[x->n_dealers++];
            dl->endpoint = dst->endpoint;
            dl->sock = zmq_socket(df->zctx, ZMQ_DEALER);
            if (!dl->sock) {
                snprintf(err, cap, "cannot create a socket: %s", zmq_strerror(errno));
                return -errno;
            }
            int linger = 5000, hwm = 0;
            zmq_setsockopt(dl->sock, ZMQ_LINGER, &linger, sizeof linger);
            zmq_setsockopt(dl->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
            zmq_setsockopt(dl->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
            dl->node_id = dst->node_id;
            char mon_ep[96];
            snprintf(mon_ep, sizeof mon_ep, "inproc://weir-mon-%llu-%u-%u",
                     (unsigned long long)df->id, x->t->spec.plan.index, x->n_dealers - 1);
            if (zmq_socket_monitor(dl->sock, mon_ep, ZMQ_EVENT_DISCONNECTED) == 0) {
                dl->mon = zmq_socket(df->zctx, ZMQ_PAIR);
                if (dl->mon && zmq_connect(dl->mon, mon_ep) != 0) {
                    zmq_close(dl->mon);
                    dl->mon = NULL;
                }
            }
            if (zmq_connect(dl->sock, dst->endpoint) != 0) {
                snprintf(err, cap, "cannot connect to node %s at %s: %s", dst->node_id,
                         dst->endpoint, zmq_strerror(errno));
                return -errno;
            }
        }
        o->dealer = (int)d;
        x->dealers[d].chs[x->dealers[d].n++] = c;
        o->fill = weir_batch_new_for_job(&df->job, (uint32_t)df->job.batch.max_rows);
        if (!o->fill) {
            snprintf(err, cap, "out of memory");
            return -ENOMEM;
        }
    }
    s_src_hellos(x, true);
    return 0;
}

/* Frees what the source set up. finished: the last frames were sent and
 * should still reach their peers (the sockets linger up to 5 s); otherwise
 * (canceled, failed) undelivered frames are dropped at once, so a node
 * never waits on a peer that is gone. */
static void s_src_teardown(s_src_t *x, bool finished)
{
    for (uint32_t k = 0; x->out && k < x->P; k++) {
        s_out_t *o = &x->out[k];
        if (o->chan && o->fill)
            s_ring_give(o->chan, o->fill);
        else if (!o->chan)
            weir_batch_destroy(&o->fill);
    }
    for (uint32_t d = 0; d < x->n_dealers; d++) {
        if (!finished) {
            int zero = 0;
            zmq_setsockopt(x->dealers[d].sock, ZMQ_LINGER, &zero, sizeof zero);
        }
        zmq_socket_monitor(x->dealers[d].sock, NULL, 0);
        if (x->dealers[d].mon)
            zmq_close(x->dealers[d].mon);
        zmq_close(x->dealers[d].sock);
    }
    free(x->out);
    free(x->dealers);
    weir_credit_tx_destroy(&x->tx);
    weir_wire_scratch_destroy(&x->scratch);
    if (x->bad)
        weir_csvsink_close(&x->bad);
}

static void *s_source_main(void *arg)
{
    s_task_t *t = arg;
    weir_df_t *df = t->df;
    /* The job as this split's source sees it: for a union of sources, a
     * copy whose `source` is the one this split reads. */
    int local_split = 0;
    const weir_source_t *mine =
        weir_job_split_source(&df->job, (int)t->spec.plan.split, &local_split);
    static _Thread_local weir_job_t view;
    view = df->job;
    view.source = *mine;
    const weir_job_t *job = &view;
    s_src_t x = {.t = t, .df = df, .job = job};
    char err[512] = "";
    weir_csvsrc_t *src = NULL;
    weir_gensrc_t *gen = NULL;
    weir_filter_t *filter = NULL;
    uint8_t *keep = NULL; /* filter result per row of `parse` */
    const bool generated = job->source.type == WEIR_SOURCE_GENERATOR;
    weir_batch_t *parse = NULL;
    s_meter_t meter = {0};
    int end = WEIR_DF_FAILED; /* how the task ends: FINISHED, FAILED or CANCELED */
    int rc = s_src_setup(&x, err, sizeof err);
    if (rc)
        goto fail;
    rc = generated ? weir_gensrc_open(job, local_split, job->source.splits, &gen, err, sizeof err)
                   : weir_csvsrc_open(job, local_split, job->source.splits, &src, err, sizeof err);
    if (rc && generated) {
        char msg[600];
        snprintf(msg, sizeof msg, "generator source: %s", err);
        snprintf(err, sizeof err, "%s", msg);
        goto fail;
    }
    if (rc) {
        if (!err[0])
            snprintf(err, sizeof err, "%s", weir_strerror(rc));
        char msg[600];
        snprintf(msg, sizeof msg, "cannot read %s: %s", job->source.path, err);
        snprintf(err, sizeof err, "%s", msg);
        goto fail;
    }
    if (src) {
        atomic_store(&t->st.bytes_total, weir_csvsrc_bytes_total(src));
        pthread_once(&s_bus_once, s_bus_install);
    }
    parse = weir_batch_new_for_job(job, (uint32_t)job->batch.max_rows);
    if (!parse) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    if (job->filter[0]) {
        keep = malloc((size_t)job->batch.max_rows);
        if (!keep || weir_filter_compile(job->filter, job, (uint32_t)job->batch.max_rows, &filter,
                                         err, sizeof err, NULL) != 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "filter: %s", keep ? err : "out of memory");
            snprintf(err, sizeof err, "%s", msg);
            goto fail;
        }
    }
    int64_t max_ts = WEIR_TS_MIN, last_flush = s_now_ns(), wm_broadcast = WEIR_TS_MIN;
    /* Idleness (processing time, df->clock): quiet_since is when the split
     * last ran out of input; idle_timeout later it goes idle and tells its
     * consumers; its next row makes it active again on every channel. */
    const int64_t idle_ms = job->source.idle_timeout_ms;
    uint64_t ck_done = 0; /* the last checkpoint this split took part in */
    size_t tail_warned = 0; /* followed file: incomplete bytes last warned about */
    bool quiet = false;
    int64_t quiet_since = 0;
    int eof = 0;
    /* Restored: continue where the checkpoint's split stood. */
    uint32_t me = t->spec.plan.index;
    if (df->restore.n_tasks > me && df->restore.tasks[me].kind == WEIR_TASK_SOURCE) {
        const weir_ck_task_snap_t *rs = &df->restore.tasks[me];
        ck_done = df->restore.id;
        if (rs->finished) {
            eof = 1; /* it had read everything: only the end of stream goes out */
        } else if (src) {
            if (weir_csvsrc_seek(src, rs->source_position, rs->source_line) != 0) {
                snprintf(err, sizeof err,
                         "cannot continue %s from byte %llu (line %llu) as checkpoint %s/%llu "
                         "says: the file changed since (restore only from a checkpoint of the "
                         "same input)",
                         job->source.path, (unsigned long long)rs->source_position,
                         (unsigned long long)rs->source_line, df->restore.job,
                         (unsigned long long)df->restore.id);
                goto fail;
            }
        } else {
            weir_gensrc_seek(gen, rs->source_position);
        }
        x.wm = rs->watermark_ms;
        max_ts = x.wm == WEIR_TS_MIN ? WEIR_TS_MIN : weir_sat_add(weir_sat_add(x.wm, job->source.max_out_of_orderness_ms), 1);
    }
    const int64_t D = job->source.max_out_of_orderness_ms;
    const int64_t drift = job->source.max_drift_ms;
    const int64_t flush_ns = job->batch.flush_ms * 1000000LL;
    const size_t max_bytes = (size_t)job->batch.max_bytes;
    while (!eof) {
        if (atomic_load(&df->cancel)) {
            rc = WEIR_ECANCELED;
            goto canceled;
        }
        if (atomic_load(&df->stop)) {
            /* weir stop: the input ends here, as at the end of a file. A
             * followed file's unfinished last record is a bad row (never
             * silently dropped). */
            const char *tail = NULL;
            uint64_t tline = 0;
            size_t tn = src ? weir_csvsrc_incomplete(src, &tail, &tline) : 0;
            if (tn)
                s_src_on_bad(&x, tline,
                             "incomplete record at the end of the followed file when the job "
                             "was stopped (no line break after it outside quotes: an unclosed "
                             "quote?)",
                             tail, tn < 4096 ? tn : 4096);
            break;
        }
        uint64_t ck = atomic_load(&df->ck_req);
        if (ck > ck_done) {
            weir_df_ck_snap_t snap = {.id = ck, .max_ts = max_ts, .wm = x.wm};
            if (src)
                weir_csvsrc_position(src, &snap.offset, &snap.line);
            else
                snap.offset = weir_gensrc_rows(gen);
            rc = s_src_barrier(&x, ck, &snap);
            if (rc)
                goto flush_failed;
            ck_done = ck;
            last_flush = s_now_ns();
        }
        uint64_t stop_after = atomic_load(&df->ck_stop_after);
        if (stop_after && ck_done >= stop_after) {
            usleep(5000); /* savepoint --stop: nothing more is read */
            continue;
        }
        int64_t t0 = s_now_ns();
        x.bp_ns = 0;
        /* Alignment: ahead of the job's watermark by more than max_drift,
         * this split waits (its waiting frames still go out on the flush
         * timer below, so the minimum can catch up). */
        if (drift > 0 && x.wm > weir_sat_add(atomic_load(&df->job_wm), drift)) {
            atomic_store(&t->st.paused, true);
            usleep(2000);
            x.bp_ns = s_now_ns() - t0;
            int64_t now = s_now_ns();
            if (now - last_flush >= flush_ns) {
                for (uint32_t k = 0; k < x.P; k++)
                    if (x.out[k].fill && x.out[k].fill->n_rows > 0 &&
                        (rc = s_src_flush(&x, k, false)) != 0)
                        goto flush_failed;
                last_flush = now;
            }
            s_meter_add(t, &meter, 0, x.bp_ns);
            continue;
        }
        atomic_store(&t->st.paused, false);
        weir_batch_clear(parse);
        if (generated) {
            rc = weir_gensrc_read(gen, parse, (uint32_t)job->batch.max_rows, t0, &eof);
        } else {
            bool bus = false;
            rc = s_read_guarded(src, parse, (uint32_t)job->batch.max_rows, max_bytes, &x, &eof,
                                &bus);
            if (bus) {
                snprintf(err, sizeof err,
                         "the input file %s shrank or vanished while being read (it must not "
                         "change while a job reads it)",
                         job->source.path);
                goto fail;
            }
            if (!rc)
                atomic_store(&t->st.bytes_read, weir_csvsrc_bytes_read(src));
            if (!rc && job->source.follow) /* a followed file grows */
                atomic_store(&t->st.bytes_total, weir_csvsrc_bytes_total(src));
        }
        if (rc == WEIR_ESTALE && !generated) {
            snprintf(err, sizeof err,
                     "the followed file %s %s while being read (a followed file may only grow: "
                     "append to it; do not truncate, rewrite, rotate or delete it)",
                     job->source.path, weir_csvsrc_stale_reason(src));
            goto fail;
        }
        if (rc) {
            snprintf(err, sizeof err, "reading %s: %s", job->source.path, weir_strerror(rc));
            goto fail;
        }
        atomic_fetch_add(&t->st.rows_in, parse->n_rows);
        if (filter && parse->n_rows)
            weir_filter_eval(filter, parse, keep);
        uint64_t read_us = parse->n_rows ? s_wall_us() : 0;
        for (uint32_t r = 0; r < parse->n_rows; r++) {
            int64_t ts = parse->ts_ms[r];
            if (ts > max_ts) {
                max_ts = ts;
                int64_t w = weir_sat_sub(weir_sat_sub(max_ts, D), 1);
                if (w > x.wm) {
                    x.wm = w;
                    x.wm_ingest_us = read_us;
                }
            }
            /* The watermark comes from every row the source read (as it is
             * assigned at the source); the filter then drops rows. */
            if (filter && !keep[r])
                continue;
            /* Without key_by, rows keep to their split's keyed task
             * (forward); with it they go to the owner of their key group. */
            uint32_t k = t->spec.plan.split % x.P;
            if (job->n_keys > 0)
                k = weir_keygroup_owner(weir_keygroup_of_row(job, parse, r), x.P,
                                        (uint32_t)job->max_key_groups);
            if (!s_src_ensure_fill(&x, k)) {
                rc = WEIR_ECANCELED;
                goto canceled;
            }
            s_out_t *o = &x.out[k];
            if (weir_batch_copy_row(o->fill, parse, r) != 0) {
                snprintf(err, sizeof err, "out of memory");
                goto fail;
            }
            if (weir_batch_full(o->fill) || weir_batch_bytes(o->fill) >= max_bytes) {
                rc = s_src_flush(&x, k, false);
                if (rc)
                    goto flush_failed;
                last_flush = s_now_ns();
            }
        }
        bool idle_change = false;
        if (parse->n_rows > 0) {
            quiet = false;
            if (x.idle) { /* active again: every consumer hears it */
                x.idle = false;
                idle_change = true;
                atomic_store(&t->st.idle, false);
            }
        } else if (!eof && idle_ms > 0 && !x.idle) {
            int64_t c = weir_clock_now_ms(df->clock);
            if (!quiet) {
                quiet = true;
                quiet_since = c;
            } else if (weir_sat_sub(c, quiet_since) >= idle_ms) {
                x.idle = true;
                idle_change = true;
                atomic_store(&t->st.idle, true);
            }
        }
        int64_t now = s_now_ns();
        bool timer = now - last_flush >= flush_ns;
        if (timer || x.wm > wm_broadcast || idle_change) {
            for (uint32_t k = 0; k < x.P && !eof; k++) {
                s_out_t *o = &x.out[k];
                bool rows = o->fill && o->fill->n_rows > 0;
                if ((rows && timer) || (!rows && o->wm_sent < x.wm) || idle_change) {
                    rc = s_src_flush(&x, k, false);
                    if (rc)
                        goto flush_failed;
                }
            }
            wm_broadcast = x.wm;
            if (timer)
                last_flush = now;
        }
        atomic_store(&t->st.wm, x.wm);
        int64_t busy = s_now_ns() - t0 - x.bp_ns;
        s_meter_add(t, &meter, busy, x.bp_ns);
        if (!eof && parse->n_rows == 0 && (generated || weir_csvsrc_caught_up(src))) {
            /* A generator ahead of its rate, or a followed file with
             * nothing new: sleep until the next row is due (a followed
             * file is looked at every S_FOLLOW_POLL_MS) or the next flush,
             * whichever comes first. */
            int64_t now2 = s_now_ns();
            int64_t wait = generated ? weir_gensrc_wait_ns(gen, now2) : S_FOLLOW_POLL_MS * 1000000LL;
            const char *tail = NULL;
            uint64_t tline = 0;
            size_t tn = src ? weir_csvsrc_incomplete(src, &tail, &tline) : 0;
            if (tn >= tail_warned + (1u << 20)) { /* every MiB more */
                weir_log_warn("job %s: %s has %zu bytes after its last complete record (line "
                              "%llu): a quote that never closes? They are read once a line "
                              "break outside quotes follows, or reported as bad at stop",
                              df->job_id, job->source.path, tn, (unsigned long long)tline);
                tail_warned = tn;
            }
            int64_t to_flush = last_flush + flush_ns - now2;
            if (to_flush < wait)
                wait = to_flush;
            if (wait > 100000000)
                wait = 100000000;
            if (wait > 0)
                usleep((useconds_t)(wait / 1000));
        }
    }
    for (uint32_t k = 0; k < x.P; k++) {
        rc = s_src_flush(&x, k, true);
        if (rc)
            goto flush_failed;
    }
    atomic_store(&t->st.wm, WEIR_TS_MAX);
    end = WEIR_DF_FINISHED;
    goto out;
flush_failed:
    if (rc == WEIR_ECANCELED)
        goto canceled;
    if (x.lost)
        snprintf(err, sizeof err,
                 "lost the connection to node %s (%s) while sending to it: its channels' "
                 "credits will not come back",
                 x.dealers[x.lost - 1].node_id, x.dealers[x.lost - 1].endpoint);
    else
        snprintf(err, sizeof err, "sending to a keyed task failed: %s", weir_strerror(rc));
fail:
    end = WEIR_DF_FAILED;
    goto out;
canceled:
    end = WEIR_DF_CANCELED;
out:
    weir_csvsrc_destroy(&src);
    weir_gensrc_destroy(&gen);
    weir_filter_destroy(&filter);
    free(keep);
    weir_batch_destroy(&parse);
    s_src_teardown(&x, end == WEIR_DF_FINISHED);
    if (end == WEIR_DF_FAILED)
        s_fail(t, "%s", err[0] ? err : weir_strerror(rc));
    else
        atomic_store_explicit(&t->st.state, end, memory_order_release);
    weir_wire_thread_cleanup();
    s_done_event(t);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* window task                                                         */

static void s_publish_latency(s_task_t *t, const weir_hist_t *h)
{
    atomic_store(&t->st.lat_p50, weir_hist_quantile(h, 0.5));
    atomic_store(&t->st.lat_p99, weir_hist_quantile(h, 0.99));
    atomic_store(&t->st.lat_p999, weir_hist_quantile(h, 0.999));
    atomic_store(&t->st.lat_count, h->total);
}

/* sink.max_rows_per_second: sleeps while the rows written since the start
 * run ahead of the allowed rate. The task stops consuming meanwhile, so
 * its credits run out and its producers slow down to its pace. Returns
 * false when canceled. */
static bool s_throttle(weir_df_t *df, int64_t started_ns, uint64_t rows, double per_second)
{
    for (;;) {
        int64_t allowed_ns = (int64_t)((double)rows / per_second * 1e9);
        int64_t ahead = started_ns + allowed_ns - s_now_ns();
        if (ahead <= 0)
            return true;
        if (atomic_load(&df->cancel))
            return false;
        usleep((useconds_t)(ahead > 50000000 ? 50000 : ahead / 1000 + 1));
    }
}

/* Frames of inputs that delivered the barrier of the checkpoint being
 * aligned: held back, in order, until every input has delivered it. A
 * channel has at most its credits in flight, so cap never overflows. */
typedef struct {
    weir_frame_t *q;
    uint32_t head, n, cap;
} s_held_t;

static void s_frame_move(weir_frame_t *dst, weir_frame_t *src)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_move(&m, &src->msg);
    zmq_msg_close(&dst->msg);
    *dst = *src;
    zmq_msg_init(&dst->msg);
    zmq_msg_move(&dst->msg, &m);
    zmq_msg_close(&m);
    src->batch = NULL;
}

static s_held_t *s_held_new(uint32_t n_inputs, uint32_t cap)
{
    s_held_t *h = calloc(n_inputs, sizeof *h);
    for (uint32_t i = 0; h && i < n_inputs; i++) {
        h[i].q = calloc(cap, sizeof *h[i].q);
        if (!h[i].q) {
            for (uint32_t j = 0; j < i; j++)
                free(h[j].q);
            free(h);
            return NULL;
        }
        h[i].cap = cap;
        for (uint32_t j = 0; j < cap; j++)
            zmq_msg_init(&h[i].q[j].msg);
    }
    return h;
}

static void s_held_free(s_held_t *h, uint32_t n_inputs)
{
    for (uint32_t i = 0; h && i < n_inputs; i++) {
        for (uint32_t j = 0; j < h[i].cap; j++)
            zmq_msg_close(&h[i].q[j].msg);
        free(h[i].q);
    }
    free(h);
}

/* Fetches the blob of file f from the coordinator into path (FetchBlob,
 * 1 MiB at a time) and checks its hash. 0 or an error (err filled). */
static int s_fetch_file(void *sock, const weir_ck_file_t *f, const char *path, char *err,
                        size_t err_cap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_cap, "cannot create %s: %s", path, strerror(errno));
        return -errno;
    }
    int rc = 0;
    uint64_t off = 0;
    while (off < f->size_bytes && !rc) {
        Weir__V1__FetchBlob fb = WEIR__V1__FETCH_BLOB__INIT;
        fb.hash.data = (uint8_t *)f->hash.b;
        fb.hash.len = WEIR_CK_HASH_BYTES;
        fb.offset = off;
        fb.max_bytes = 1u << 20;
        Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
        e.body_case = WEIR__V1__ENVELOPE__BODY_FETCH_BLOB;
        e.fetch_blob = &fb;
        if ((rc = weir_wire_send(sock, NULL, 0, &e)) != 0) {
            snprintf(err, err_cap, "cannot ask the coordinator for state file %s", f->name);
            break;
        }
        zmq_pollitem_t p = {.socket = sock, .events = ZMQ_POLLIN};
        if (zmq_poll(&p, 1, 30000) <= 0) {
            rc = WEIR_ETIMEDOUT;
            snprintf(err, err_cap, "the coordinator did not send state file %s", f->name);
            break;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        Weir__V1__Envelope *r = NULL;
        if (zmq_msg_recv(&m, sock, 0) < 0 ||
            weir_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &r) != 0) {
            zmq_msg_close(&m);
            rc = WEIR_EPROTO;
            snprintf(err, err_cap, "malformed answer while fetching state file %s", f->name);
            break;
        }
        zmq_msg_close(&m);
        if (r->body_case != WEIR__V1__ENVELOPE__BODY_STATE_CHUNK || r->state_chunk->offset != off ||
            r->state_chunk->data.len == 0) {
            rc = WEIR_ENOTFOUND;
            snprintf(err, err_cap,
                     "the coordinator has no state file %s of this checkpoint any more (was it "
                     "collected, or the storage directory changed?)",
                     f->name);
        } else if ((rc = weir_fs_write_full(fd, r->state_chunk->data.data,
                                            r->state_chunk->data.len)) != 0) {
            snprintf(err, err_cap, "cannot write %s: %s", path, strerror(-rc));
        } else {
            off += r->state_chunk->data.len;
        }
        weir_wire_free(r);
    }
    close(fd);
    if (rc)
        return rc;
    weir_ck_hash_t h;
    uint64_t size = 0;
    if ((rc = weir_ck_hash_file(path, &h, &size)) != 0 || size != f->size_bytes ||
        !weir_ck_hash_eq(&h, &f->hash)) {
        snprintf(err, err_cap, "state file %s arrived damaged (hash or size differs)", f->name);
        return rc ? rc : WEIR_EPROTO;
    }
    return 0;
}

/* A restored keyed task: copies the key groups it owns from the state of
 * every keyed task of the checkpoint that held some of them (fetched from
 * the coordinator), then lets the operator learn its windows and the
 * watermark of the cut. 0 or an error (err filled). */
static int s_win_restore(s_task_t *t, weir_winop_t *op, char *err, size_t err_cap)
{
    weir_df_t *df = t->df;
    uint32_t first = t->spec.plan.kg_first, last = t->spec.plan.kg_last;
    int64_t wm = WEIR_TS_MIN;
    int rc = 0;
    void *sock = NULL;
    char base[WEIR_PATH_MAX];
    snprintf(base, sizeof base, "%s/restore/%s-a%u-t%u", df->data_dir, df->job_id, df->attempt,
             t->spec.plan.index);
    weir_fs_rmtree(base);
    for (uint32_t i = 0; i < df->restore.n_tasks && !rc; i++) {
        const weir_ck_task_snap_t *s = &df->restore.tasks[i];
        if (s->kind != WEIR_TASK_WINDOW)
            continue;
        if (!s->finished && s->watermark_ms > wm)
            wm = s->watermark_ms;
        if (s->n_files == 0 || s->kg_last < first || s->kg_first > last)
            continue;
        if (!sock) {
            sock = zmq_socket(df->zctx, ZMQ_DEALER);
            int linger = 0;
            int64_t maxmsg = WEIR_WIRE_MAX_MSG;
            if (sock) {
                zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
                zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
            }
            if (!sock || zmq_connect(sock, df->coordinator) != 0) {
                snprintf(err, err_cap, "cannot reach the coordinator at %s to fetch state",
                         df->coordinator);
                rc = WEIR_ETIMEDOUT;
                break;
            }
        }
        char dir[WEIR_PATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s/%u", base, s->task);
        if ((rc = weir_fs_mkdirs(dir)) != 0) {
            snprintf(err, err_cap, "cannot create %s: %s", dir, strerror(-rc));
            break;
        }
        for (uint32_t j = 0; j < s->n_files && !rc; j++) {
            char path[WEIR_PATH_MAX + 96];
            snprintf(path, sizeof path, "%s/%s", dir, s->files[j].name);
            rc = s_fetch_file(sock, &s->files[j], path, err, err_cap);
        }
        if (rc)
            break;
        uint32_t from = s->kg_first > first ? s->kg_first : first;
        uint32_t to = s->kg_last < last ? s->kg_last : last;
        uint64_t n_keys = 0;
        char serr[512] = "";
        rc = weir_state_restore_range(df->state, dir, s->cf, weir_winop_cf(op), from, to, &n_keys,
                                      serr, sizeof serr);
        if (rc)
            snprintf(err, err_cap, "restoring key groups %u-%u from checkpoint %s/%llu: %s", from,
                     to, df->restore.job, (unsigned long long)df->restore.id, serr);
    }
    if (sock)
        zmq_close(sock);
    weir_fs_rmtree(base);
    if (!rc && (rc = weir_winop_restored(op, wm)) != 0)
        snprintf(err, err_cap, "restoring window timers: %s", weir_strerror(rc));
    return rc;
}

/* Checkpoint `done` completed: the task's pending output up to it is
 * published. */
static int s_win_commit(weir_filesink_t *rfs, weir_filesink_t *lfs, uint64_t done, char *err,
                        size_t err_cap)
{
    char serr[512] = "";
    int rc = rfs ? weir_filesink_commit(rfs, done, serr, sizeof serr) : 0;
    if (!rc && lfs)
        rc = weir_filesink_commit(lfs, done, serr, sizeof serr);
    if (rc)
        snprintf(err, err_cap, "publishing checkpoint %llu: %s", (unsigned long long)done, serr);
    return rc;
}

/* The synchronous part of a keyed task's checkpoint `id`: the window
 * state goes to RocksDB, the task's part is recorded for the I/O thread
 * and CK_TASK posted. 0, WEIR_ECANCELED or an error (err filled). */
static int s_win_snapshot(s_task_t *t, weir_winop_t *op, weir_filesink_t *rfs,
                          weir_filesink_t *lfs, uint64_t id, int64_t task_wm, int64_t align_us,
                          char *err, size_t err_cap)
{
    int64_t s0 = s_now_ns();
    weir_df_t *df = t->df;
    weir_df_ck_snap_t snap = {.id = id, .task_wm = task_wm, .align_us = (uint64_t)align_us};
    int rc = op ? weir_winop_flush(op) : 0;
    if (rc) {
        snprintf(err, err_cap, "checkpoint %llu: writing window state: %s",
                 (unsigned long long)id, weir_strerror(rc));
        return rc;
    }
    if (op) {
        /* RocksDB's own checkpoint: a flush and hard links, so this part
         * is short; the node uploads the files while the task goes on. */
        snprintf(snap.state_dir, sizeof snap.state_dir, "%s/ck/%s-a%u-t%u-c%llu", df->data_dir,
                 df->job_id, df->attempt, t->spec.plan.index, (unsigned long long)id);
        weir_fs_rmtree(snap.state_dir);
        char cdir[WEIR_PATH_MAX];
        snprintf(cdir, sizeof cdir, "%s/ck", df->data_dir);
        weir_fs_mkdirs(cdir);
        weir_state_cf_t *cf = weir_winop_cf(op);
        char serr[512] = "";
        rc = weir_state_checkpoint(df->state, snap.state_dir, cf, &snap.files, &snap.n_files, serr,
                                   sizeof serr);
        if (rc) {
            snprintf(err, err_cap, "checkpoint %llu: %s", (unsigned long long)id, serr);
            return rc;
        }
        snprintf(snap.cf, sizeof snap.cf, "%s/%u/w%u", df->job_id, df->attempt,
                 t->spec.plan.keyed_index);
    }
    /* The output written before the cut: pending for checkpoint id. */
    char serr[512] = "";
    if ((rc = weir_filesink_precommit(rfs, id, serr, sizeof serr)) != 0 ||
        (lfs && (rc = weir_filesink_precommit(lfs, id, serr, sizeof serr)) != 0)) {
        snprintf(err, err_cap, "checkpoint %llu: %s", (unsigned long long)id, serr);
        weir_state_ckfiles_free(&snap.files);
        return rc;
    }
    snap.sync_us = (uint64_t)((s_now_ns() - s0) / 1000);
    pthread_mutex_lock(&t->ck_mu);
    weir_state_ckfiles_free(&t->ck.files); /* a snapshot nobody took (aborted) */
    t->ck = snap;
    pthread_mutex_unlock(&t->ck_mu);
    return s_post(t, WEIR_DF_EV_CK_TASK, id) ? 0 : WEIR_ECANCELED;
}

static void *s_window_main(void *arg)
{
    s_task_t *t = arg;
    weir_df_t *df = t->df;
    const weir_job_t *job = &df->job;
    uint32_t S = (uint32_t)weir_job_splits(job), P = (uint32_t)job->parallelism;
    uint32_t k = t->spec.plan.keyed_index;
    char err[512] = "";
    int rc = 0, end = WEIR_DF_FAILED; /* how the task ends */
    weir_csvsink_t *results = NULL, *late = NULL; /* the writers of rfs and lfs */
    weir_filesink_t *rfs = NULL, *lfs = NULL;
    uint64_t committed = 0, last_pre = 0; /* checkpoints published / pre-committed */
    weir_winop_t *op = NULL;
    weir_wm_t *wm = weir_wm_new(S);
    weir_batch_t *scratch = weir_batch_new_for_job(job, (uint32_t)job->batch.max_rows);
    weir_frame_t f;
    memset(&f, 0, sizeof f);
    zmq_msg_init(&f.msg);
    s_meter_t meter = {0};
    s_held_t *held = NULL;
    bool *blocked = NULL, *fin = NULL;
    if (!wm || !scratch) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    /* Result header: key columns, window bounds, aggregates (and the pane
     * column); or, for a pass-through job, the schema's columns. */
    const bool pass = job->window.type == WEIR_WINDOW_NONE;
    const char *hdr[WEIR_MAX_COLS + WEIR_MAX_KEYS + 2 + WEIR_MAX_AGGS + 1];
    int nh = 0;
    if (pass) {
        for (int i = 0; i < job->source.n_fields; i++)
            hdr[nh++] = job->source.fields[i].name;
    } else {
        nh = weir_winop_result_header(job, hdr, (int)(sizeof hdr / sizeof hdr[0]));
    }
    /* Output goes through the exactly-once file sink (cluster/filesink):
     * pre-committed at each checkpoint, published when it completes, and
     * the last part when the input ends. */
    /* The attempt is zero-padded, so that the tag of one attempt is never
     * the beginning of another's (a restore deletes old attempts' files by
     * tag prefix). */
    char tag[96];
    weir_filesink_tag(df->job_id, df->attempt, tag, sizeof tag);
    char serr[512] = "";
    rc = weir_filesink_open(job->sink.path, k, tag, hdr, nh, &rfs, serr, sizeof serr);
    if (rc) {
        snprintf(err, sizeof err, "cannot open the result file: %s", serr);
        goto fail;
    }
    results = weir_filesink_writer(rfs);
    if (!pass && job->late.policy == WEIR_LATE_FILE) {
        const char *lh[WEIR_MAX_COLS];
        for (int i = 0; i < job->source.n_fields; i++)
            lh[i] = job->source.fields[i].name;
        char late_tag[112]; /* its own in-progress name, even if late.path aliases sink.path */
        snprintf(late_tag, sizeof late_tag, "%s-late", tag);
        rc = weir_filesink_open(job->late.path, k, late_tag, lh, job->source.n_fields, &lfs, serr,
                                sizeof serr);
        if (rc) {
            snprintf(err, sizeof err, "cannot open the late file: %s", serr);
            goto fail;
        }
        late = weir_filesink_writer(lfs);
    }
    char cf[160];
    snprintf(cf, sizeof cf, "%s/%u/w%u", df->job_id, df->attempt, k);
    rc = pass ? 0
              : weir_winop_open(job, df->state, cf, t->spec.plan.kg_first, t->spec.plan.kg_last,
                                results, late, &op);
    if (rc) {
        snprintf(err, sizeof err, "cannot open window state: %s", weir_strerror(rc));
        goto fail;
    }
    if (op && df->restore.n_tasks > 0 && (rc = s_win_restore(t, op, err, sizeof err)) != 0)
        goto fail;
    if (df->restore.n_tasks > 0)
        committed = last_pre = df->restore.id;
    int64_t started_ns = s_now_ns(), lat_published = started_ns;
    uint64_t pass_rows = 0;
    static _Thread_local weir_hist_t lat; /* 9 KB: not on the stack */
    memset(&lat, 0, sizeof lat);
    /* Barrier alignment (DESIGN §8): aligning ck_align; an input that
     * delivered its barrier is blocked (its frames held) until every input
     * has delivered it or finished. */
    held = s_held_new(S, (uint32_t)(job->network.buffers_per_channel +
                                     job->network.floating_buffers + 2));
    blocked = calloc(S, sizeof *blocked);
    fin = calloc(S, sizeof *fin);
    if (!held || !blocked || !fin) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    uint64_t ck_align = 0;
    bool aligning = false;
    uint32_t n_blocked = 0, n_fin = 0, n_held = 0;
    int64_t align_t0 = 0;
    /* trigger.every runs on the dataflow's processing-time clock (ms):
     * ticked before and after each frame (so a tick never counts a frame's
     * rows as older than they are) and when the poll times out; the poll
     * waits no longer than the next tick that has something to emit. Jobs
     * without it read no clock per frame. */
    const bool ticks = op && job->trigger.every_ms > 0;
    if (ticks && (rc = weir_winop_tick(op, weir_clock_now_ms(df->clock))) != 0)
        goto tick_failed;
    while (!weir_wm_all_finished(wm)) {
        if (atomic_load(&df->cancel))
            goto canceled;
        uint64_t done = atomic_load(&df->ck_completed);
        if (done > committed) {
            if ((rc = s_win_commit(rfs, lfs, done, err, sizeof err)) != 0)
                goto fail;
            committed = done;
        }
        /* Held frames of inputs no longer blocked come first, in order. */
        bool from_held = false;
        for (uint32_t c = 0; n_held > 0 && c < S && !from_held; c++) {
            s_held_t *h = &held[c];
            if (blocked[c] || h->n == 0)
                continue;
            s_frame_move(&f, &h->q[h->head]);
            h->head = (h->head + 1) % h->cap;
            h->n--;
            n_held--;
            from_held = true;
        }
        int poll_ms = S_POLL_MS;
        if (ticks) {
            int64_t due = weir_winop_tick_due(op), now_ms = weir_clock_now_ms(df->clock);
            if (due != INT64_MAX)
                poll_ms = due <= now_ms              ? 0
                          : due - now_ms < S_POLL_MS ? (int)(due - now_ms)
                                                     : S_POLL_MS;
        }
        bool got = from_held || weir_mailbox_pop(t->mb, &f, poll_ms);
        if (ticks && (rc = weir_winop_tick(op, weir_clock_now_ms(df->clock))) != 0)
            goto tick_failed;
        if (!got) {
            /* Nothing to do: the in-progress files catch up with what was
             * written, so a long-running job's output can be looked at. */
            if (results && (rc = weir_csvsink_flush(results)) != 0) {
                snprintf(err, sizeof err, "writing results in %s: %s", job->sink.path,
                         weir_strerror(rc));
                goto fail;
            }
            if (late)
                weir_csvsink_flush(late);
            s_meter_add(t, &meter, 0, 0);
            continue;
        }
        if (f.ch < S && blocked[f.ch]) {
            s_held_t *h = &held[f.ch];
            if (h->n == h->cap) {
                snprintf(err, sizeof err,
                         "source split %u sent more frames than its credits allow while its "
                         "checkpoint barrier was aligned",
                         f.ch);
                goto fail;
            }
            s_frame_move(&h->q[(h->head + h->n) % h->cap], &f);
            h->n++;
            n_held++;
            continue;
        }
        int64_t t0 = s_now_ns();
        if (f.barrier) {
            if (f.barrier > ck_align) {
                /* A newer checkpoint: one still aligning was given up by
                 * the coordinator (its barriers will not all come). */
                memset(blocked, 0, S * sizeof *blocked);
                ck_align = f.barrier;
                aligning = true;
                n_blocked = 0;
                align_t0 = t0;
            }
            if (aligning && f.barrier == ck_align && !blocked[f.ch]) {
                blocked[f.ch] = true;
                n_blocked++;
            }
        }
        const weir_batch_t *b = f.batch;
        if (f.remote && zmq_msg_size(&f.msg) > 0) {
            rc = weir_wire_decode_batch(zmq_msg_data(&f.msg), zmq_msg_size(&f.msg), scratch);
            if (rc) {
                snprintf(err, sizeof err, "malformed batch on channel %u from source split %u: %s",
                         f.ch * P + k, f.ch, weir_strerror(rc));
                goto fail;
            }
            b = scratch;
        }
        if (b && b->n_rows > 0 && pass) {
            atomic_fetch_add(&t->st.rows_in, b->n_rows);
            for (uint32_t r = 0; r < b->n_rows && !rc; r++)
                rc = weir_csvsink_batch_row(results, b, r);
            if (rc) {
                snprintf(err, sizeof err, "writing results in %s: %s", job->sink.path,
                         weir_strerror(rc));
                goto fail;
            }
            pass_rows += b->n_rows;
        } else if (b && b->n_rows > 0) {
            atomic_fetch_add(&t->st.rows_in, b->n_rows);
            rc = weir_winop_process(op, b);
            if (rc) {
                snprintf(err, sizeof err, "window operator (results in %s): %s", job->sink.path,
                         weir_strerror(rc));
                goto fail;
            }
        }
        bool adv = false;
        if (f.end_of_stream && f.ch < S && !fin[f.ch]) {
            fin[f.ch] = true;
            n_fin++;
        }
        if (f.end_of_stream)
            adv = weir_wm_finish(wm, f.ch);
        else if (f.has_watermark)
            adv = weir_wm_update(wm, f.ch, f.watermark_ms); /* also makes it active again */
        if (f.idle && !f.end_of_stream)
            adv |= weir_wm_set_idle(wm, f.ch, true);
        if (f.batch) {
            s_chan_t *ch = df->chans[f.ch * P + k];
            s_ring_give(ch, f.batch);
            f.batch = NULL;
            s_task_t *src = df->by_index[f.ch];
            uint64_t one = 1;
            if (src) {
                ssize_t w = write(src->efd, &one, sizeof one);
                (void)w;
            }
        } else if (f.remote) {
            weir_df_event_t ev = {.kind = WEIR_DF_EV_CONSUMED,
                                  .df_id = df->id,
                                  .task = t->spec.plan.index,
                                  .input = f.ch};
            while (weir_queue_push(df->events, &ev) != 0) {
                if (atomic_load(&df->cancel))
                    goto canceled;
                usleep(1000);
            }
        }
        if (adv && pass) {
            atomic_store(&t->st.wm, weir_wm_current(wm));
        } else if (adv) {
            uint64_t before = weir_winop_rows_out(op);
            rc = weir_winop_advance(op, weir_wm_current(wm));
            uint64_t fired = weir_winop_rows_out(op) - before;
            uint64_t now_us = s_wall_us();
            if (fired && f.ingest_us && now_us >= f.ingest_us)
                weir_hist_add(&lat, now_us - f.ingest_us, fired);
            if (rc) {
                snprintf(err, sizeof err, "firing windows into %s: %s", job->sink.path,
                         weir_strerror(rc));
                goto fail;
            }
            atomic_store(&t->st.wm, weir_wm_current(wm));
        }
        if (aligning && n_blocked + n_fin == S) {
            /* Every input delivered the barrier or ended: the cut. */
            rc = s_win_snapshot(t, op, rfs, lfs, ck_align, weir_wm_current(wm),
                                (t0 - align_t0) / 1000, err, sizeof err);
            if (rc == WEIR_ECANCELED)
                goto canceled;
            if (rc)
                goto fail;
            last_pre = ck_align;
            memset(blocked, 0, S * sizeof *blocked);
            n_blocked = 0;
            aligning = false;
        }
        if (ticks && (rc = weir_winop_tick(op, weir_clock_now_ms(df->clock))) != 0)
            goto tick_failed;
        uint64_t written = pass ? pass_rows : weir_winop_rows_out(op);
        atomic_store(&t->st.rows_out, written);
        if (!pass)
            atomic_store(&t->st.late, weir_winop_late(op));
        /* The rate is the sink's, shared evenly by its parallel tasks. */
        if (job->sink.max_rows_per_second > 0 &&
            !s_throttle(df, started_ns, written,
                        (double)job->sink.max_rows_per_second / job->parallelism))
            goto canceled;
        int64_t t1 = s_now_ns();
        s_meter_add(t, &meter, t1 - t0, 0);
        if (t1 - lat_published >= 1000000000LL) {
            s_publish_latency(t, &lat);
            lat_published = t1;
        }
        atomic_store(&t->st.queued, weir_mailbox_len(t->mb));
        uint32_t holder = weir_wm_holder(wm);
        atomic_store(&t->st.wm_holder, holder < S ? holder + 1 : 0);
        atomic_store(&t->st.idle, weir_wm_idle(wm));
    }
    s_publish_latency(t, &lat);
    weir_winop_destroy(&op);
    /* The input ended: what was pre-committed and the last part are
     * published. The last part is named after the attempt, above every
     * checkpoint id (S_FINAL_BASE + attempt), so that a later attempt of
     * the job never meets the name of an earlier attempt's last part. */
    uint64_t final_id = S_FINAL_BASE + df->attempt;
    if (final_id <= last_pre || final_id <= committed)
        final_id = (last_pre > committed ? last_pre : committed) + 1;
    rc = weir_filesink_finish(rfs, final_id, serr, sizeof serr);
    if (rc) {
        snprintf(err, sizeof err, "cannot publish results: %s%s", serr,
                 rc == -EEXIST ? " (a part file of that name is there: another job's output?)"
                               : "");
        goto fail;
    }
    if (lfs && (rc = weir_filesink_finish(lfs, final_id, serr, sizeof serr)) != 0) {
        snprintf(err, sizeof err, "cannot publish late rows: %s", serr);
        goto fail;
    }
    end = WEIR_DF_FINISHED;
    goto out;
tick_failed:
    snprintf(err, sizeof err, "writing early results into %s: %s", job->sink.path,
             weir_strerror(rc));
fail:
    end = WEIR_DF_FAILED;
    goto out;
canceled:
    end = WEIR_DF_CANCELED;
out:
    /* Pending parts of completed checkpoints are published even when the
     * task stops early (a savepoint --stop cancels right after completing);
     * in-progress parts are dropped, pending ones of later checkpoints
     * kept for a restore to decide. */
    if (end != WEIR_DF_FINISHED) {
        uint64_t done = atomic_load(&df->ck_completed);
        if (done > committed)
            s_win_commit(rfs, lfs, done, serr, sizeof serr);
    }
    weir_winop_destroy(&op);
    weir_filesink_destroy(&rfs);
    weir_filesink_destroy(&lfs);
    zmq_msg_close(&f.msg);
    s_held_free(held, S);
    free(blocked);
    free(fin);
    weir_wm_destroy(&wm);
    weir_batch_destroy(&scratch);
    if (end == WEIR_DF_FAILED)
        s_fail(t, "%s", err);
    else
        atomic_store_explicit(&t->st.state, end, memory_order_release);
    weir_wire_thread_cleanup();
    s_done_event(t);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

static void s_free(weir_df_t *df)
{
    for (uint32_t c = 0; df->chans && c < df->n_chans; c++) {
        s_chan_t *ch = df->chans[c];
        if (!ch)
            continue;
        for (uint32_t i = 0; i < ch->n_all; i++)
            weir_batch_destroy(&ch->all[i]);
        free(ch->all);
        free(ch->ring);
        pthread_mutex_destroy(&ch->mu);
        free(ch);
    }
    free(df->chans);
    for (uint32_t i = 0; df->local && i < df->n_local; i++) {
        s_task_t *t = &df->local[i];
        if (t->efd >= 0)
            close(t->efd);
        weir_mailbox_destroy(&t->mb);
        weir_credit_rx_destroy(&t->rx);
        weir_state_ckfiles_free(&t->ck.files);
        pthread_mutex_destroy(&t->ck_mu);
    }
    free(df->local);
    free(df->by_index);
    free(df->all);
    weir_ck_meta_clear(&df->restore);
    free(df);
}

int weir_df_start(const weir_df_config_t *cfg, weir_df_t **out, char *err, size_t err_cap)
{
    weir_df_t *df = calloc(1, sizeof *df);
    if (!df)
        goto oom;
    snprintf(df->job_id, sizeof df->job_id, "%s", cfg->job_id);
    df->attempt = cfg->attempt;
    df->id = cfg->df_id;
    df->job = *cfg->job;
    snprintf(df->self, sizeof df->self, "%s", cfg->self_id);
    df->zctx = cfg->zctx;
    atomic_store(&df->job_wm, WEIR_TS_MIN);
    df->state = cfg->state;
    df->events = cfg->events;
    df->clock = cfg->clock ? cfg->clock : weir_clock_system();
    snprintf(df->data_dir, sizeof df->data_dir, "%s", cfg->data_dir ? cfg->data_dir : "/tmp");
    snprintf(df->coordinator, sizeof df->coordinator, "%s",
             cfg->coordinator ? cfg->coordinator : "");
    if (cfg->restore) {
        df->restore = *cfg->restore;
        df->restore.tasks = NULL;
        df->restore.n_tasks = 0;
        df->restore.tasks = calloc(cfg->restore->n_tasks ? cfg->restore->n_tasks : 1,
                                   sizeof *df->restore.tasks);
        if (!df->restore.tasks) {
            snprintf(err, err_cap, "out of memory");
            s_free(df);
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < cfg->restore->n_tasks; i++) {
            if (weir_ck_snap_copy(&df->restore.tasks[i], &cfg->restore->tasks[i]) != 0) {
                snprintf(err, err_cap, "out of memory");
                s_free(df);
                return -ENOMEM;
            }
            df->restore.n_tasks++;
        }
    }
    df->n_all = cfg->n_tasks;
    df->all = calloc(cfg->n_tasks, sizeof *df->all);
    df->by_index = calloc(cfg->n_tasks, sizeof(s_task_t *));
    if (!df->all || !df->by_index)
        goto oom;
    memcpy(df->all, cfg->tasks, cfg->n_tasks * sizeof *df->all);
    uint32_t S = (uint32_t)weir_job_splits(&df->job), P = (uint32_t)df->job.parallelism;
    if (S + P != cfg->n_tasks) {
        snprintf(err, err_cap, "plan has %u tasks, job needs %u", cfg->n_tasks, S + P);
        s_free(df);
        return WEIR_EINVAL;
    }
    /* bad rows go beside the results: <parent of sink dir>/bad */
    char tmp[WEIR_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", df->job.sink.path);
    size_t tl = strlen(tmp);
    while (tl > 1 && tmp[tl - 1] == '/')
        tmp[--tl] = 0;
    snprintf(df->bad_dir, sizeof df->bad_dir, "%s/bad", dirname(tmp));

    for (uint32_t i = 0; i < cfg->n_tasks; i++)
        if (strcmp(df->all[i].node_id, df->self) == 0)
            df->n_local++;
    df->local = calloc(df->n_local ? df->n_local : 1, sizeof *df->local);
    if (!df->local)
        goto oom;
    uint32_t j = 0;
    uint32_t bpc = (uint32_t)df->job.network.buffers_per_channel;
    for (uint32_t i = 0; i < cfg->n_tasks; i++) {
        if (strcmp(df->all[i].node_id, df->self) != 0)
            continue;
        s_task_t *t = &df->local[j++];
        t->df = df;
        pthread_mutex_init(&t->ck_mu, NULL);
        t->spec = df->all[i];
        t->efd = -1;
        atomic_store(&t->st.state, WEIR_DF_RUNNING);
        atomic_store(&t->st.wm, WEIR_TS_MIN);
        df->by_index[i] = t;
        if (t->spec.plan.kind == WEIR_TASK_SOURCE) {
            t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (t->efd < 0)
                goto oom;
        } else {
            uint32_t floating = (uint32_t)df->job.network.floating_buffers;
            t->mb = weir_mailbox_new(S * bpc + floating + 4);
            t->rx = weir_credit_rx_new(S, bpc, floating);
            if (!t->mb || !t->rx)
                goto oom;
        }
    }
    df->n_chans = S * P;
    df->chans = calloc(df->n_chans, sizeof(s_chan_t *));
    if (!df->chans)
        goto oom;
    for (uint32_t s = 0; s < S; s++) {
        for (uint32_t k = 0; k < P; k++) {
            bool sl = df->by_index[s] != NULL, dl = df->by_index[S + k] != NULL;
            if (!sl && !dl)
                continue;
            s_chan_t *ch = calloc(1, sizeof *ch);
            if (!ch)
                goto oom;
            uint32_t c = s * P + k;
            df->chans[c] = ch;
            ch->c = c;
            ch->s = s;
            ch->k = k;
            ch->src_local = sl;
            ch->dst_local = dl;
            pthread_mutex_init(&ch->mu, NULL);
            if (sl && dl) {
                ch->ring = calloc(bpc, sizeof(weir_batch_t *));
                ch->all = calloc(bpc, sizeof(weir_batch_t *));
                if (!ch->ring || !ch->all)
                    goto oom;
                for (uint32_t b = 0; b < bpc; b++) {
                    ch->all[b] = weir_batch_new_for_job(&df->job, (uint32_t)df->job.batch.max_rows);
                    if (!ch->all[b])
                        goto oom;
                    ch->n_all++;
                    ch->ring[ch->n_free++] = ch->all[b];
                }
            }
        }
    }
    for (uint32_t i = 0; i < df->n_local; i++) {
        s_task_t *t = &df->local[i];
        void *(*fn)(void *) = t->spec.plan.kind == WEIR_TASK_SOURCE ? s_source_main : s_window_main;
        if (pthread_create(&t->thread, NULL, fn, t) != 0) {
            snprintf(err, err_cap, "cannot start a task thread: %s", strerror(errno));
            weir_df_destroy(&df);
            return -EAGAIN;
        }
        t->started = true;
    }
    *out = df;
    return 0;
oom:
    snprintf(err, err_cap, "out of memory while starting the job");
    if (df)
        s_free(df);
    return -ENOMEM;
}

const char *weir_df_job(const weir_df_t *df)
{
    return df->job_id;
}
uint32_t weir_df_attempt(const weir_df_t *df)
{
    return df->attempt;
}
uint64_t weir_df_id(const weir_df_t *df)
{
    return df->id;
}

/* Credits this task's remote senders hold (I/O thread: it owns rx). */
static void s_count_credits(weir_df_t *df, s_task_t *t)
{
    uint32_t n = 0, S = (uint32_t)weir_job_splits(&df->job);
    for (uint32_t s = 0; s < S; s++)
        n += weir_credit_rx_outstanding(t->rx, s);
    atomic_store(&t->st.credits_out, n);
}

void weir_df_on_hello(weir_df_t *df, void *router, const void *rid, size_t rid_len,
                      const uint32_t *channels, uint32_t n)
{
    uint32_t S = (uint32_t)weir_job_splits(&df->job), P = (uint32_t)df->job.parallelism;
    if (rid_len > WEIR_RID_MAX)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = channels[i];
        if (c >= df->n_chans || !df->chans[c] || !df->chans[c]->dst_local ||
            df->chans[c]->src_local)
            continue;
        s_chan_t *ch = df->chans[c];
        memcpy(ch->rid, rid, rid_len);
        ch->rid_len = rid_len;
        ch->rid_known = true;
        s_task_t *t = df->by_index[S + c % P];
        uint32_t credits = weir_credit_rx_open(t->rx, c / P);
        if (credits)
            weir_wire_send_credit(router, rid, rid_len, df->job_id, df->attempt, c, credits);
        s_count_credits(df, t);
    }
}

int weir_df_on_frame(weir_df_t *df, const weir_frame_hdr_t *h, zmq_msg_t *batch_part)
{
    uint32_t S = (uint32_t)weir_job_splits(&df->job), P = (uint32_t)df->job.parallelism;
    uint32_t c = h->channel;
    if (c >= df->n_chans || !df->chans[c] || !df->chans[c]->dst_local || df->chans[c]->src_local)
        return WEIR_ENOTFOUND;
    s_task_t *t = df->by_index[S + c % P];
    int rc = weir_credit_rx_on_frame(t->rx, c / P, h->backlog);
    if (rc)
        return rc;
    weir_frame_t f;
    memset(&f, 0, sizeof f);
    zmq_msg_init(&f.msg);
    f.ch = c / P;
    f.has_watermark = h->has_watermark;
    f.watermark_ms = h->watermark_ms;
    f.end_of_stream = h->end_of_stream;
    f.ingest_us = h->ingest_us;
    f.idle = h->idle;
    f.barrier = h->barrier;
    f.remote = true;
    if (batch_part)
        zmq_msg_move(&f.msg, batch_part);
    rc = weir_mailbox_push(t->mb, &f);
    zmq_msg_close(&f.msg);
    if (h->end_of_stream) /* nothing follows: its credits and floating buffers go back */
        weir_credit_rx_close(t->rx, c / P);
    s_count_credits(df, t);
    return rc;
}

void weir_df_on_event(weir_df_t *df, void *router, const weir_df_event_t *ev)
{
    if (ev->kind != WEIR_DF_EV_CONSUMED || ev->task >= df->n_all || !df->by_index[ev->task])
        return;
    s_task_t *t = df->by_index[ev->task];
    uint32_t S = (uint32_t)weir_job_splits(&df->job), P = (uint32_t)df->job.parallelism;
    uint32_t grant[WEIR_MAX_PARALLELISM] = {0};
    if (weir_credit_rx_on_consumed(t->rx, ev->input, grant) == 0)
        return;
    for (uint32_t s = 0; s < S; s++) {
        if (!grant[s])
            continue;
        uint32_t c = s * P + t->spec.plan.keyed_index;
        s_chan_t *ch = df->chans[c];
        if (ch && ch->rid_known)
            weir_wire_send_credit(router, ch->rid, ch->rid_len, df->job_id, df->attempt, c,
                                  grant[s]);
    }
    s_count_credits(df, t);
}

uint32_t weir_df_n_local(const weir_df_t *df)
{
    return df->n_local;
}

void weir_df_stats(const weir_df_t *df, uint32_t i, weir_df_stats_t *o)
{
    const s_task_t *t = &df->local[i];
    memset(o, 0, sizeof *o);
    o->task = t->spec.plan.index;
    o->kind = t->spec.plan.kind;
    o->state = atomic_load_explicit(&((s_task_t *)t)->st.state, memory_order_acquire);
    s_stats_t *st = (s_stats_t *)&t->st;
    o->rows_in = atomic_load(&st->rows_in);
    o->rows_out = atomic_load(&st->rows_out);
    o->late = atomic_load(&st->late);
    o->bad = atomic_load(&st->bad);
    o->bytes_read = atomic_load(&st->bytes_read);
    o->bytes_total = atomic_load(&st->bytes_total);
    o->watermark_ms = atomic_load(&st->wm);
    o->busy_permille = atomic_load(&st->busy_pm);
    o->backpressured_permille = atomic_load(&st->bp_pm);
    o->latency_p50_us = atomic_load(&st->lat_p50);
    o->latency_p99_us = atomic_load(&st->lat_p99);
    o->latency_p999_us = atomic_load(&st->lat_p999);
    o->latency_count = atomic_load(&st->lat_count);
    o->queued_frames = atomic_load(&st->queued);
    o->credits_outstanding = atomic_load(&st->credits_out);
    o->wm_holder = atomic_load(&st->wm_holder);
    o->idle = atomic_load(&st->idle);
    o->paused = atomic_load(&st->paused);
    if (o->state == WEIR_DF_FAILED)
        snprintf(o->error, sizeof o->error, "%s", t->st.error);
}

bool weir_df_done(const weir_df_t *df)
{
    for (uint32_t i = 0; i < df->n_local; i++)
        if (atomic_load(&((s_task_t *)&df->local[i])->st.state) == WEIR_DF_RUNNING)
            return false;
    return true;
}

void weir_df_cancel(weir_df_t *df)
{
    atomic_store(&df->cancel, true);
}

void weir_df_trigger_checkpoint(weir_df_t *df, uint64_t id)
{
    uint64_t cur = atomic_load(&df->ck_req);
    while (id > cur && !atomic_compare_exchange_weak(&df->ck_req, &cur, id)) {
    }
}

void weir_df_checkpoint_complete(weir_df_t *df, uint64_t id)
{
    uint64_t cur = atomic_load(&df->ck_completed);
    while (id > cur && !atomic_compare_exchange_weak(&df->ck_completed, &cur, id)) {
    }
}

bool weir_df_ck_snap(weir_df_t *df, uint32_t task, weir_df_ck_snap_t *out)
{
    s_task_t *t = task < df->n_all ? df->by_index[task] : NULL;
    if (!t)
        return false;
    pthread_mutex_lock(&t->ck_mu);
    *out = t->ck;
    t->ck.files = NULL; /* handed over */
    t->ck.n_files = 0;
    pthread_mutex_unlock(&t->ck_mu);
    return true;
}

void weir_df_task_range(const weir_df_t *df, uint32_t task, uint32_t *kg_first, uint32_t *kg_last)
{
    if (task < df->n_all) {
        *kg_first = df->all[task].plan.kg_first;
        *kg_last = df->all[task].plan.kg_last;
    }
}

void weir_df_stop_after(weir_df_t *df, uint64_t id)
{
    atomic_store(&df->ck_stop_after, id);
}

void weir_df_stop(weir_df_t *df)
{
    atomic_store(&df->stop, true);
}

void weir_df_set_job_watermark(weir_df_t *df, int64_t wm_ms)
{
    if (wm_ms > atomic_load(&df->job_wm))
        atomic_store(&df->job_wm, wm_ms); /* never moves back */
}

void weir_df_destroy(weir_df_t **p)
{
    if (!p || !*p)
        return;
    weir_df_t *df = *p;
    atomic_store(&df->cancel, true);
    for (uint32_t i = 0; i < df->n_local; i++)
        if (df->local[i].started)
            pthread_join(df->local[i].thread, NULL);
    s_free(df);
    *p = NULL;
}

bool weir_df_next_report(weir_df_t *df, weir_df_stats_t *out)
{
    for (uint32_t i = 0; i < df->n_local; i++) {
        s_task_t *t = &df->local[i];
        if (t->reported ||
            atomic_load_explicit(&t->st.state, memory_order_acquire) == WEIR_DF_RUNNING)
            continue;
        t->reported = true;
        weir_df_stats(df, i, out);
        return true;
    }
    return false;
}
