/* wire: protobuf packing and unpacking for the control and data planes.
 * See wire.h.
 *
 * Decoding a Batch goes through a bump arena owned by the calling thread
 * (protobuf-c lets the caller supply the allocator), so a frame costs no
 * malloc once the arena has grown to the largest frame seen. Rejected:
 * decoding straight into the weir_batch_t arrays; protobuf-c has no such
 * hook, and one memcpy per column is cheap next to the row work.
 */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "err.h"

static int s_send_parts(void *sock, const void *rid, size_t rid_len, const void *a, size_t alen,
                        const void *b, size_t blen, int with_b)
{
    if (rid && zmq_send(sock, rid, rid_len, ZMQ_SNDMORE) < 0)
        return -errno;
    if (zmq_send(sock, a, alen, with_b ? ZMQ_SNDMORE : 0) < 0)
        return -errno;
    if (with_b && zmq_send(sock, b, blen, 0) < 0)
        return -errno;
    return 0;
}

int weir_wire_send(void *sock, const void *rid, size_t rid_len, Weir__V1__Envelope *env)
{
    env->version = WEIR_PROTO_MAJOR;
    size_t n = weir__v1__envelope__get_packed_size(env);
    uint8_t stackbuf[4096];
    uint8_t *buf = n <= sizeof stackbuf ? stackbuf : malloc(n);
    if (!buf)
        return -ENOMEM;
    weir__v1__envelope__pack(env, buf);
    int rc = s_send_parts(sock, rid, rid_len, buf, n, NULL, 0, 0);
    if (buf != stackbuf)
        free(buf);
    return rc;
}

int weir_wire_decode(const void *data, size_t len, Weir__V1__Envelope **out)
{
    if (len > WEIR_WIRE_MAX_MSG)
        return WEIR_EPROTO;
    Weir__V1__Envelope *e = weir__v1__envelope__unpack(NULL, len, data);
    if (!e)
        return WEIR_EPROTO;
    if (e->version != WEIR_PROTO_MAJOR) {
        weir__v1__envelope__free_unpacked(e, NULL);
        return WEIR_EVERSION;
    }
    *out = e;
    return 0;
}

void weir_wire_free(Weir__V1__Envelope *env)
{
    if (env)
        weir__v1__envelope__free_unpacked(env, NULL);
}

void weir_wire_free_reply(Weir__V1__Reply *rep)
{
    if (rep)
        weir__v1__reply__free_unpacked(rep, NULL);
}

void weir_wire_stats_to_pb(const weir_task_stats_t *s, const char *job, uint32_t attempt,
                           Weir__V1__TaskStats *pb)
{
    weir__v1__task_stats__init(pb);
    pb->job = (char *)job;
    pb->attempt = attempt;
    pb->task = s->task;
    pb->state = (Weir__V1__TaskState)s->state;
    pb->records_in = s->rows_in;
    pb->records_out = s->rows_out;
    pb->watermark_ms = s->watermark_ms;
    pb->late = s->late;
    pb->bad = s->bad;
    pb->error = (char *)s->error;
    pb->bytes_read = s->bytes_read;
    pb->bytes_total = s->bytes_total;
    pb->busy_permille = s->busy_permille;
    pb->backpressured_permille = s->backpressured_permille;
    pb->latency_p50_us = s->latency_p50_us;
    pb->latency_p99_us = s->latency_p99_us;
    pb->latency_p999_us = s->latency_p999_us;
    pb->latency_count = s->latency_count;
    pb->queued_frames = s->queued_frames;
    pb->credits_outstanding = s->credits_outstanding;
    pb->wm_holder = s->wm_holder;
    pb->idle = s->idle;
    pb->paused = s->paused;
}

void weir_wire_stats_from_pb(const Weir__V1__TaskStats *pb, weir_task_stats_t *s)
{
    memset(s, 0, sizeof *s);
    s->task = pb->task;
    s->state = pb->state;
    s->rows_in = pb->records_in;
    s->rows_out = pb->records_out;
    s->late = pb->late;
    s->bad = pb->bad;
    s->bytes_read = pb->bytes_read;
    s->bytes_total = pb->bytes_total;
    s->watermark_ms = pb->watermark_ms;
    s->busy_permille = pb->busy_permille;
    s->backpressured_permille = pb->backpressured_permille;
    s->latency_p50_us = pb->latency_p50_us;
    s->latency_p99_us = pb->latency_p99_us;
    s->latency_p999_us = pb->latency_p999_us;
    s->latency_count = pb->latency_count;
    s->queued_frames = pb->queued_frames;
    s->credits_outstanding = pb->credits_outstanding;
    s->wm_holder = pb->wm_holder;
    s->idle = pb->idle;
    s->paused = pb->paused;
    snprintf(s->error, sizeof s->error, "%s", pb->error ? pb->error : "");
}

/* ---- data plane ---- */

struct weir_wire_scratch {
    uint8_t *buf;
    size_t cap;
    uint32_t *lens; /* string lengths of one column */
    size_t lens_cap;
};

weir_wire_scratch_t *weir_wire_scratch_new(void)
{
    return calloc(1, sizeof(weir_wire_scratch_t));
}

void weir_wire_scratch_destroy(weir_wire_scratch_t **ps)
{
    if (!ps || !*ps)
        return;
    free((*ps)->buf);
    free((*ps)->lens);
    free(*ps);
    *ps = NULL;
}

static int s_reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

int weir_wire_send_frame(void *sock, const weir_frame_hdr_t *h, const weir_batch_t *b,
                         weir_wire_scratch_t *s)
{
    Weir__V1__DataFrame f = WEIR__V1__DATA_FRAME__INIT;
    f.job = (char *)h->job;
    f.attempt = h->attempt;
    f.channel = h->channel;
    f.seq = h->seq;
    f.has_batch = b && b->n_rows > 0;
    f.has_watermark = h->has_watermark;
    f.watermark_ms = h->watermark_ms;
    f.end_of_stream = h->end_of_stream;
    f.backlog = h->backlog;
    f.ingest_us = h->ingest_us;
    f.idle = h->idle;
    f.barrier = h->barrier;
    Weir__V1__DataEnvelope env = WEIR__V1__DATA_ENVELOPE__INIT;
    env.version = WEIR_PROTO_MAJOR;
    env.body_case = WEIR__V1__DATA_ENVELOPE__BODY_FRAME;
    env.frame = &f;
    uint8_t hdr[256];
    size_t hlen = weir__v1__data_envelope__get_packed_size(&env);
    if (hlen > sizeof hdr)
        return -EINVAL;
    weir__v1__data_envelope__pack(&env, hdr);
    if (!f.has_batch)
        return s_send_parts(sock, NULL, 0, hdr, hlen, NULL, 0, 1);

    Weir__V1__Column cols[WEIR_MAX_COLS];
    Weir__V1__Column *colp[WEIR_MAX_COLS];
    size_t n = b->n_rows;
    size_t lens_total = 0;
    for (int i = 0; i < b->n_cols; i++)
        if (b->cols[i].type == WEIR_TYPE_STRING)
            lens_total += n;
    if (s_reserve((void **)&s->lens, &s->lens_cap, lens_total + 1, sizeof *s->lens))
        return -ENOMEM;
    uint32_t *lens = s->lens;
    for (int i = 0; i < b->n_cols; i++) {
        const weir_column_t *c = &b->cols[i];
        Weir__V1__Column *pc = &cols[i];
        weir__v1__column__init(pc);
        colp[i] = pc;
        pc->nulls.len = n;
        pc->nulls.data = c->null;
        switch (c->type) {
        case WEIR_TYPE_DOUBLE:
            pc->n_f64 = n;
            pc->f64 = c->f64;
            break;
        case WEIR_TYPE_STRING:
            for (size_t r = 0; r < n; r++)
                lens[r] = c->off[r + 1] - c->off[r];
            pc->n_len = n;
            pc->len = lens;
            lens += n;
            pc->blob.len = c->off[n];
            pc->blob.data = (uint8_t *)c->blob;
            break;
        default:
            pc->n_i64 = n;
            pc->i64 = c->i64;
            break;
        }
    }
    Weir__V1__Batch pb = WEIR__V1__BATCH__INIT;
    pb.n_rows = (uint32_t)n;
    pb.n_ts_ms = n;
    pb.ts_ms = b->ts_ms;
    pb.n_cols = (size_t)b->n_cols;
    pb.cols = colp;
    size_t blen = weir__v1__batch__get_packed_size(&pb);
    if (s_reserve((void **)&s->buf, &s->cap, blen, 1))
        return -ENOMEM;
    weir__v1__batch__pack(&pb, s->buf);
    return s_send_parts(sock, NULL, 0, hdr, hlen, s->buf, blen, 1);
}

int weir_wire_send_credit(void *sock, const void *rid, size_t rid_len, const char *job,
                          uint32_t attempt, uint32_t channel, uint32_t credits)
{
    Weir__V1__Credit c = WEIR__V1__CREDIT__INIT;
    c.job = (char *)job;
    c.attempt = attempt;
    c.channel = channel;
    c.credits = credits;
    Weir__V1__DataEnvelope env = WEIR__V1__DATA_ENVELOPE__INIT;
    env.version = WEIR_PROTO_MAJOR;
    env.body_case = WEIR__V1__DATA_ENVELOPE__BODY_CREDIT;
    env.credit = &c;
    uint8_t buf[256];
    size_t len = weir__v1__data_envelope__get_packed_size(&env);
    if (len > sizeof buf)
        return -EINVAL;
    weir__v1__data_envelope__pack(&env, buf);
    return s_send_parts(sock, rid, rid_len, buf, len, NULL, 0, 0);
}

int weir_wire_send_hello(void *sock, const char *job, uint32_t attempt, const uint32_t *channels,
                         size_t n_channels)
{
    Weir__V1__Hello h = WEIR__V1__HELLO__INIT;
    h.job = (char *)job;
    h.attempt = attempt;
    h.n_channels = n_channels;
    h.channels = (uint32_t *)channels;
    Weir__V1__DataEnvelope env = WEIR__V1__DATA_ENVELOPE__INIT;
    env.version = WEIR_PROTO_MAJOR;
    env.body_case = WEIR__V1__DATA_ENVELOPE__BODY_HELLO;
    env.hello = &h;
    size_t len = weir__v1__data_envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    weir__v1__data_envelope__pack(&env, buf);
    int rc = s_send_parts(sock, NULL, 0, buf, len, NULL, 0, 0);
    free(buf);
    return rc;
}

/* memcpy for arrays that came from the wire: protobuf-c leaves an empty
 * repeated or bytes field NULL, and memcpy from NULL is undefined even for
 * zero bytes (the compiler may assume the pointer non-NULL afterwards). */
static void s_copy(void *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
}

static int s_copy_job(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        return WEIR_EPROTO;
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

int weir_wire_decode_data(const void *data, size_t len, weir_data_msg_t *out)
{
    if (len > 65536)
        return WEIR_EPROTO;
    Weir__V1__DataEnvelope *e = weir__v1__data_envelope__unpack(NULL, len, data);
    if (!e)
        return WEIR_EPROTO;
    int rc = 0;
    if (e->version != WEIR_PROTO_MAJOR) {
        rc = WEIR_EVERSION;
        goto done;
    }
    switch (e->body_case) {
    case WEIR__V1__DATA_ENVELOPE__BODY_FRAME: {
        Weir__V1__DataFrame *f = e->frame;
        out->kind = WEIR_DATA_FRAME;
        rc = s_copy_job(out->frame.job, sizeof out->frame.job, f->job);
        out->frame.attempt = f->attempt;
        out->frame.channel = f->channel;
        out->frame.seq = f->seq;
        out->frame.has_watermark = f->has_watermark;
        out->frame.watermark_ms = f->watermark_ms;
        out->frame.end_of_stream = f->end_of_stream;
        out->frame.backlog = f->backlog;
        out->frame.ingest_us = f->ingest_us;
        out->frame.idle = f->idle;
        out->frame.barrier = f->barrier;
        out->has_batch = f->has_batch;
        break;
    }
    case WEIR__V1__DATA_ENVELOPE__BODY_CREDIT:
        out->kind = WEIR_DATA_CREDIT;
        rc = s_copy_job(out->job, sizeof out->job, e->credit->job);
        out->attempt = e->credit->attempt;
        out->channel = e->credit->channel;
        out->credits = e->credit->credits;
        break;
    case WEIR__V1__DATA_ENVELOPE__BODY_HELLO:
        out->kind = WEIR_DATA_HELLO;
        rc = s_copy_job(out->job, sizeof out->job, e->hello->job);
        out->attempt = e->hello->attempt;
        if (e->hello->n_channels > sizeof out->channels / sizeof out->channels[0]) {
            rc = WEIR_EPROTO;
            break;
        }
        out->n_channels = (uint32_t)e->hello->n_channels;
        s_copy(out->channels, e->hello->channels, out->n_channels * sizeof(uint32_t));
        break;
    default: rc = WEIR_EPROTO; break;
    }
done:
    weir__v1__data_envelope__free_unpacked(e, NULL);
    return rc;
}

/* Bump arena for protobuf-c: one per thread (thread-local), grown to the
 * largest frame seen, reset after each decode. Requests that do not fit
 * fall back to malloc and are freed at reset. There is no limit on their
 * number: protobuf-c makes several requests per column, and a cap would
 * refuse a valid wide batch (as malformed) until the arena had grown. */
typedef struct {
    uint8_t *mem;
    size_t cap, used;
    void *spill; /* malloc'd blocks, linked through their first word */
    size_t want; /* largest total seen, to grow mem at the next reset */
} s_arena_t;

enum { S_SPILL_HDR = 16 }; /* link word, padded to keep 16-byte alignment */

static _Thread_local s_arena_t s_arena;

static void *s_arena_alloc(void *ud, size_t size)
{
    s_arena_t *a = ud;
    size = (size + 15) & ~(size_t)15;
    a->want += size;
    if (a->used + size <= a->cap) {
        void *p = a->mem + a->used;
        a->used += size;
        return p;
    }
    void **blk = malloc(S_SPILL_HDR + size);
    if (!blk)
        return NULL;
    *blk = a->spill;
    a->spill = blk;
    return (uint8_t *)blk + S_SPILL_HDR;
}

static void s_arena_free(void *ud, void *p)
{
    (void)ud, (void)p;
}

static void s_arena_reset(s_arena_t *a)
{
    while (a->spill) {
        void **blk = a->spill;
        a->spill = *blk;
        free(blk);
    }
    if (a->want > a->cap) {
        size_t c = a->want * 2;
        uint8_t *m = realloc(a->mem, c);
        if (m) {
            a->mem = m;
            a->cap = c;
        }
    }
    a->used = 0;
    a->want = 0;
}

int weir_wire_decode_batch(const void *data, size_t len, weir_batch_t *b)
{
    weir_batch_clear(b);
    if (len > WEIR_WIRE_MAX_MSG)
        return WEIR_EPROTO;
    ProtobufCAllocator al = {s_arena_alloc, s_arena_free, &s_arena};
    Weir__V1__Batch *pb = weir__v1__batch__unpack(&al, len, data);
    int rc = WEIR_EPROTO;
    if (!pb)
        goto done;
    size_t n = pb->n_rows;
    if (n > b->cap_rows || pb->n_ts_ms != n || (int)pb->n_cols != b->n_cols)
        goto done;
    for (int i = 0; i < b->n_cols; i++) {
        const Weir__V1__Column *pc = pb->cols[i];
        weir_column_t *c = &b->cols[i];
        if (pc->nulls.len != n)
            goto done;
        switch (c->type) {
        case WEIR_TYPE_DOUBLE:
            if (pc->n_f64 != n)
                goto done;
            break;
        case WEIR_TYPE_STRING: {
            if (pc->n_len != n)
                goto done;
            uint64_t total = 0;
            for (size_t r = 0; r < n; r++)
                total += pc->len[r];
            if (total != pc->blob.len)
                goto done;
            break;
        }
        default:
            if (pc->n_i64 != n)
                goto done;
            break;
        }
    }
    for (int i = 0; i < b->n_cols; i++) {
        const Weir__V1__Column *pc = pb->cols[i];
        weir_column_t *c = &b->cols[i];
        s_copy(c->null, pc->nulls.data, n);
        switch (c->type) {
        case WEIR_TYPE_DOUBLE: s_copy(c->f64, pc->f64, n * sizeof(double)); break;
        case WEIR_TYPE_STRING: {
            if (pc->blob.len > c->blob_cap) {
                char *nb = realloc(c->blob, pc->blob.len);
                if (!nb) {
                    rc = -ENOMEM;
                    goto done;
                }
                c->blob = nb;
                c->blob_cap = (uint32_t)pc->blob.len;
            }
            s_copy(c->blob, pc->blob.data, pc->blob.len);
            c->off[0] = 0;
            for (size_t r = 0; r < n; r++)
                c->off[r + 1] = c->off[r] + pc->len[r];
            break;
        }
        default: s_copy(c->i64, pc->i64, n * sizeof(int64_t)); break;
        }
    }
    s_copy(b->ts_ms, pb->ts_ms, n * sizeof(int64_t));
    b->n_rows = (uint32_t)n;
    rc = 0;
done:
    if (rc)
        weir_batch_clear(b);
    s_arena_reset(&s_arena);
    return rc;
}

void weir_wire_thread_cleanup(void)
{
    s_arena_reset(&s_arena);
    free(s_arena.mem);
    memset(&s_arena, 0, sizeof s_arena);
}

/* ---- checkpoints ------------------------------------------------------ */

#define S_CKMETA_FORMAT 1

int weir_wire_cksnap_to_pb(const weir_ck_task_snap_t *s, Weir__V1__TaskSnapshot *pb)
{
    weir__v1__task_snapshot__init(pb);
    pb->task = s->task;
    pb->kind = (Weir__V1__TaskKind)s->kind;
    pb->kg_first = s->kg_first;
    pb->kg_last = s->kg_last;
    pb->watermark_ms = s->watermark_ms;
    pb->source_position = s->source_position;
    pb->source_line = s->source_line;
    pb->finished = s->finished;
    pb->column_family = (char *)s->cf;
    pb->state_bytes = s->state_bytes;
    pb->incremental_bytes = s->incremental_bytes;
    pb->alignment_ms = s->alignment_ms;
    if (s->n_files == 0)
        return 0;
    /* One allocation: the pointer array, then the messages it points at. */
    size_t n = s->n_files;
    void *mem = malloc(n * (sizeof(Weir__V1__StateFile *) + sizeof(Weir__V1__StateFile)));
    if (!mem)
        return -ENOMEM;
    Weir__V1__StateFile **ptrs = mem;
    Weir__V1__StateFile *files = (Weir__V1__StateFile *)(ptrs + n);
    for (size_t i = 0; i < n; i++) {
        const weir_ck_file_t *f = &s->files[i];
        weir__v1__state_file__init(&files[i]);
        files[i].name = (char *)f->name;
        files[i].hash.data = (uint8_t *)f->hash.b;
        files[i].hash.len = sizeof f->hash.b;
        files[i].size = f->size_bytes;
        ptrs[i] = &files[i];
    }
    pb->files = ptrs;
    pb->n_files = n;
    return 0;
}

void weir_wire_cksnap_pb_release(Weir__V1__TaskSnapshot *pb)
{
    free(pb->files);
    pb->files = NULL;
    pb->n_files = 0;
}

int weir_wire_cksnap_from_pb(const Weir__V1__TaskSnapshot *pb, weir_ck_task_snap_t *s)
{
    memset(s, 0, sizeof *s);
    if (pb->n_files > WEIR_CK_MAX_FILES || !pb->column_family ||
        strlen(pb->column_family) >= sizeof s->cf)
        return WEIR_EPROTO;
    s->task = pb->task;
    s->kind = pb->kind;
    s->kg_first = pb->kg_first;
    s->kg_last = pb->kg_last;
    s->watermark_ms = pb->watermark_ms;
    s->source_position = pb->source_position;
    s->source_line = pb->source_line;
    s->finished = pb->finished;
    memcpy(s->cf, pb->column_family, strlen(pb->column_family) + 1); /* length checked */
    for (size_t i = 0; i < pb->n_files; i++) {
        const Weir__V1__StateFile *f = pb->files[i];
        weir_ck_hash_t h;
        if (!f->name || f->hash.len != sizeof h.b) {
            weir_ck_snap_clear(s);
            return WEIR_EPROTO;
        }
        memcpy(h.b, f->hash.data, sizeof h.b);
        int rc = weir_ck_snap_add_file(s, f->name, &h, f->size);
        if (rc) {
            weir_ck_snap_clear(s);
            return rc == -ENOMEM ? rc : WEIR_EPROTO;
        }
    }
    /* the sender's totals, not the sum add_file kept */
    s->state_bytes = pb->state_bytes;
    s->incremental_bytes = pb->incremental_bytes;
    s->alignment_ms = pb->alignment_ms;
    return 0;
}

int weir_wire_ckmeta_pack(const weir_ck_meta_t *m, uint8_t **out, size_t *len)
{
    Weir__V1__CheckpointMeta pb = WEIR__V1__CHECKPOINT_META__INIT;
    pb.format = S_CKMETA_FORMAT;
    pb.job = (char *)m->job;
    pb.attempt = m->attempt;
    pb.checkpoint_id = m->id;
    pb.savepoint = m->savepoint;
    pb.trigger_ms = m->trigger_ms;
    pb.complete_ms = m->complete_ms;
    pb.state_signature = (char *)m->signature;
    int rc = -ENOMEM;
    size_t n = m->n_tasks, done = 0;
    Weir__V1__TaskSnapshot *tasks = NULL;
    Weir__V1__TaskSnapshot **ptrs = NULL;
    uint8_t *buf = NULL;
    if (n) {
        tasks = calloc(n, sizeof *tasks);
        ptrs = calloc(n, sizeof(Weir__V1__TaskSnapshot *));
        if (!tasks || !ptrs)
            goto done;
        for (; done < n; done++) {
            if (weir_wire_cksnap_to_pb(&m->tasks[done], &tasks[done]))
                goto done;
            ptrs[done] = &tasks[done];
        }
        pb.tasks = ptrs;
        pb.n_tasks = n;
    }
    size_t sz = weir__v1__checkpoint_meta__get_packed_size(&pb);
    buf = malloc(sz ? sz : 1);
    if (!buf)
        goto done;
    weir__v1__checkpoint_meta__pack(&pb, buf);
    *out = buf;
    *len = sz;
    rc = 0;
done:
    for (size_t i = 0; i < done; i++)
        weir_wire_cksnap_pb_release(&tasks[i]);
    free(tasks);
    free(ptrs);
    return rc;
}

int weir_wire_ckmeta_unpack(const void *data, size_t len, weir_ck_meta_t *m)
{
    memset(m, 0, sizeof *m);
    if (len > WEIR_WIRE_MAX_MSG)
        return WEIR_EPROTO;
    Weir__V1__CheckpointMeta *pb = weir__v1__checkpoint_meta__unpack(NULL, len, data);
    if (!pb)
        return WEIR_EPROTO;
    int rc = WEIR_EPROTO;
    if (pb->format != S_CKMETA_FORMAT || !weir_ck_job_ok(pb->job) ||
        pb->n_tasks > WEIR_CK_MAX_TASKS)
        goto done;
    snprintf(m->job, sizeof m->job, "%s", pb->job); /* fits: weir_ck_job_ok */
    m->attempt = pb->attempt;
    m->id = pb->checkpoint_id;
    m->savepoint = pb->savepoint;
    m->trigger_ms = pb->trigger_ms;
    m->complete_ms = pb->complete_ms;
    snprintf(m->signature, sizeof m->signature, "%s", pb->state_signature ? pb->state_signature : "");
    if (pb->n_tasks) {
        m->tasks = calloc(pb->n_tasks, sizeof *m->tasks);
        if (!m->tasks) {
            rc = -ENOMEM;
            goto done;
        }
    }
    for (size_t i = 0; i < pb->n_tasks; i++) {
        rc = weir_wire_cksnap_from_pb(pb->tasks[i], &m->tasks[i]);
        if (rc)
            goto done;
        m->n_tasks = (uint32_t)i + 1;
    }
    rc = 0;
done:
    weir__v1__checkpoint_meta__free_unpacked(pb, NULL);
    if (rc)
        weir_ck_meta_clear(m);
    return rc;
}
