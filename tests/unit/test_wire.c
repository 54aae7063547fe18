/* wire: control Envelopes and data frames packed by weir_wire_* go through
 * real ZeroMQ sockets (inproc, in one context per suite) and come back
 * equal; another protocol major version, malformed bytes and batches that
 * do not fit the receiving batch are refused with a code, never a crash.
 * Checkpoint metadata packs and unpacks equal; metadata that breaks a
 * bound (names that are not safe file names, hashes of the wrong size,
 * another format) is refused.
 *
 * The control plane in miniature: a node's DEALER sends to the
 * coordinator's ROUTER, which answers by routing id. The data plane: a
 * producer's DEALER sends frames (header part + batch part) to the
 * consumer node's ROUTER; credits go back by routing id.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "batch.h"
#include "err.h"
#include "testrand.h"
#include "wire.h"

static void *s_ctx;
static int s_endpoint_seq;

static int s_suite_init(void)
{
    s_ctx = zmq_ctx_new();
    return s_ctx ? 0 : 1;
}

static int s_suite_clean(void)
{
    weir_wire_thread_cleanup();
    int rc = zmq_ctx_term(s_ctx);
    s_ctx = NULL;
    return rc;
}

/* A connected socket pair on a fresh inproc endpoint: *srv binds, *cli
 * connects. A DEALER client gets routing id `rid` (may be NULL). Both
 * sockets time out receives after 2 s so a lost message fails the test
 * instead of hanging it. Close both with s_close(). */
static void s_pair(int srv_type, int cli_type, const char *rid, void **srv, void **cli)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://test-wire-%d", s_endpoint_seq++);
    *srv = zmq_socket(s_ctx, srv_type);
    *cli = zmq_socket(s_ctx, cli_type);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*srv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*cli);
    int timeout_ms = 2000, linger_ms = 0;
    zmq_setsockopt(*srv, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(*cli, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(*srv, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_setsockopt(*cli, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    if (rid)
        zmq_setsockopt(*cli, ZMQ_ROUTING_ID, rid, strlen(rid));
    CU_ASSERT_EQUAL_FATAL(zmq_bind(*srv, ep), 0);
    CU_ASSERT_EQUAL_FATAL(zmq_connect(*cli, ep), 0);
}

static void s_close(void **a, void **b)
{
    zmq_close(*a);
    zmq_close(*b);
    *a = *b = NULL;
}

/* All parts of one received message. */
enum { S_MAX_PARTS = 4 };
typedef struct {
    zmq_msg_t part[S_MAX_PARTS];
    int n;
} s_msg_t;

static int s_recv(void *sock, s_msg_t *m)
{
    m->n = 0;
    int more = 1;
    while (more && m->n < S_MAX_PARTS) {
        zmq_msg_t *p = &m->part[m->n];
        zmq_msg_init(p);
        if (zmq_msg_recv(p, sock, 0) < 0) {
            zmq_msg_close(p);
            return -1;
        }
        m->n++;
        more = zmq_msg_more(p);
    }
    return more ? -1 : m->n;
}

static const void *s_data(s_msg_t *m, int i)
{
    return zmq_msg_data(&m->part[i]);
}
static size_t s_size(s_msg_t *m, int i)
{
    return zmq_msg_size(&m->part[i]);
}

static void s_msg_close(s_msg_t *m)
{
    for (int i = 0; i < m->n; i++)
        zmq_msg_close(&m->part[i]);
    m->n = 0;
}

/* ---- control plane ---- */

static void register_and_ack_round_trip_between_dealer_and_router(void)
{
    void *router, *dealer;
    s_pair(ZMQ_ROUTER, ZMQ_DEALER, "node-a", &router, &dealer);

    Weir__V1__Register reg = WEIR__V1__REGISTER__INIT;
    reg.node_id = "node-a";
    reg.data_endpoint = "tcp://10.0.0.7:7101";
    reg.slots = 8;
    reg.pid = -1;
    Weir__V1__Envelope env = WEIR__V1__ENVELOPE__INIT;
    env.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER;
    env.register_ = &reg;
    CU_ASSERT_EQUAL(weir_wire_send(dealer, NULL, 0, &env), 0);
    CU_ASSERT_EQUAL(env.version, WEIR_PROTO_MAJOR); /* set by send */

    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(router, &m), 2);
    CU_ASSERT_EQUAL(s_size(&m, 0), 6);
    CU_ASSERT_EQUAL(memcmp(s_data(&m, 0), "node-a", 6), 0);
    Weir__V1__Envelope *got = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode(s_data(&m, 1), s_size(&m, 1), &got), 0);
    CU_ASSERT_EQUAL(got->version, WEIR_PROTO_MAJOR);
    CU_ASSERT_EQUAL_FATAL(got->body_case, WEIR__V1__ENVELOPE__BODY_REGISTER);
    CU_ASSERT_STRING_EQUAL(got->register_->node_id, "node-a");
    CU_ASSERT_STRING_EQUAL(got->register_->data_endpoint, "tcp://10.0.0.7:7101");
    CU_ASSERT_EQUAL(got->register_->slots, 8);
    CU_ASSERT_EQUAL(got->register_->pid, -1);
    weir_wire_free(got);

    /* The coordinator answers by routing id. */
    Weir__V1__RegisterAck ack = WEIR__V1__REGISTER_ACK__INIT;
    ack.ok = 1;
    ack.heartbeat_interval_ms = 500;
    ack.heartbeat_timeout_ms = 3000;
    Weir__V1__Envelope aenv = WEIR__V1__ENVELOPE__INIT;
    aenv.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER_ACK;
    aenv.register_ack = &ack;
    CU_ASSERT_EQUAL(weir_wire_send(router, s_data(&m, 0), s_size(&m, 0), &aenv), 0);
    s_msg_close(&m);
    CU_ASSERT_EQUAL_FATAL(s_recv(dealer, &m), 1);
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode(s_data(&m, 0), s_size(&m, 0), &got), 0);
    CU_ASSERT_EQUAL_FATAL(got->body_case, WEIR__V1__ENVELOPE__BODY_REGISTER_ACK);
    CU_ASSERT_TRUE(got->register_ack->ok);
    CU_ASSERT_STRING_EQUAL(got->register_ack->error, "");
    CU_ASSERT_EQUAL(got->register_ack->heartbeat_interval_ms, 500);
    CU_ASSERT_EQUAL(got->register_ack->heartbeat_timeout_ms, 3000);
    weir_wire_free(got);
    weir_wire_free(NULL);
    s_msg_close(&m);
    s_close(&router, &dealer);
}

static void heartbeat_carries_every_task_stat(void)
{
    void *router, *dealer;
    s_pair(ZMQ_ROUTER, ZMQ_DEALER, "node-b", &router, &dealer);
    Weir__V1__TaskStats st[3], *stp[3];
    for (int i = 0; i < 3; i++) {
        weir__v1__task_stats__init(&st[i]);
        stp[i] = &st[i];
        st[i].job = "taxi-zone-hourly";
        st[i].attempt = 2;
        st[i].task = (uint32_t)i;
        st[i].state = WEIR__V1__TASK_STATE__TASK_RUNNING;
        st[i].records_in = 1000000007ull * (uint64_t)(i + 1);
        st[i].records_out = 42;
        st[i].late = 3;
        st[i].bad = (uint64_t)i;
        st[i].bytes_read = 1ull << 40;
        st[i].bytes_total = UINT64_MAX;
        st[i].busy_permille = 999;
        st[i].backpressured_permille = 1;
    }
    st[0].watermark_ms = INT64_MIN; /* no watermark yet */
    st[1].watermark_ms = -1;
    st[2].watermark_ms = INT64_MAX; /* finished */
    st[2].state = WEIR__V1__TASK_STATE__TASK_FAILED;
    st[2].error = "split 2: line 17, column 3: not a number";
    Weir__V1__Heartbeat hb = WEIR__V1__HEARTBEAT__INIT;
    hb.node_id = "node-b";
    hb.n_tasks = 3;
    hb.tasks = stp;
    Weir__V1__Envelope env = WEIR__V1__ENVELOPE__INIT;
    env.body_case = WEIR__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    CU_ASSERT_EQUAL(weir_wire_send(dealer, NULL, 0, &env), 0);

    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(router, &m), 2);
    Weir__V1__Envelope *got = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode(s_data(&m, 1), s_size(&m, 1), &got), 0);
    CU_ASSERT_EQUAL_FATAL(got->body_case, WEIR__V1__ENVELOPE__BODY_HEARTBEAT);
    CU_ASSERT_STRING_EQUAL(got->heartbeat->node_id, "node-b");
    CU_ASSERT_EQUAL_FATAL(got->heartbeat->n_tasks, 3);
    for (int i = 0; i < 3; i++) {
        const Weir__V1__TaskStats *g = got->heartbeat->tasks[i];
        CU_ASSERT_STRING_EQUAL(g->job, st[i].job);
        CU_ASSERT_EQUAL(g->attempt, st[i].attempt);
        CU_ASSERT_EQUAL(g->task, st[i].task);
        CU_ASSERT_EQUAL(g->state, st[i].state);
        CU_ASSERT_EQUAL(g->records_in, st[i].records_in);
        CU_ASSERT_EQUAL(g->records_out, st[i].records_out);
        CU_ASSERT_EQUAL(g->watermark_ms, st[i].watermark_ms);
        CU_ASSERT_EQUAL(g->late, st[i].late);
        CU_ASSERT_EQUAL(g->bad, st[i].bad);
        CU_ASSERT_STRING_EQUAL(g->error, st[i].error);
        CU_ASSERT_EQUAL(g->bytes_read, st[i].bytes_read);
        CU_ASSERT_EQUAL(g->bytes_total, st[i].bytes_total);
        CU_ASSERT_EQUAL(g->busy_permille, st[i].busy_permille);
        CU_ASSERT_EQUAL(g->backpressured_permille, st[i].backpressured_permille);
    }
    weir_wire_free(got);
    s_msg_close(&m);
    s_close(&router, &dealer);
}

static void deploy_with_tasks_and_a_long_job_file_round_trips(void)
{
    void *router, *dealer;
    s_pair(ZMQ_ROUTER, ZMQ_DEALER, "node-c", &router, &dealer);
    /* A job file longer than weir_wire_send's stack buffer. */
    size_t yaml_len = 20000;
    char *yaml = malloc(yaml_len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(yaml);
    for (size_t i = 0; i < yaml_len; i++)
        yaml[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    yaml[yaml_len] = 0;
    enum { N_TASKS = 7 };
    Weir__V1__TaskSpec ts[N_TASKS], *tsp[N_TASKS];
    char node[N_TASKS][16];
    for (int i = 0; i < N_TASKS; i++) {
        weir__v1__task_spec__init(&ts[i]);
        tsp[i] = &ts[i];
        snprintf(node[i], sizeof node[i], "node-%d", i % 3);
        ts[i].index = (uint32_t)i;
        ts[i].kind = i < 2 ? WEIR__V1__TASK_KIND__KIND_SOURCE : WEIR__V1__TASK_KIND__KIND_WINDOW;
        ts[i].split = i < 2 ? (uint32_t)i : 0;
        ts[i].kg_first = i < 2 ? 0 : (uint32_t)(i - 2) * 128 / 5;
        ts[i].kg_last = i < 2 ? 0 : (uint32_t)(i - 1) * 128 / 5 - 1;
        ts[i].keyed_index = i < 2 ? 0 : (uint32_t)(i - 2);
        ts[i].node_id = node[i];
        ts[i].data_endpoint = "ipc:///tmp/weir-data";
    }
    Weir__V1__Deploy d = WEIR__V1__DEPLOY__INIT;
    d.job = "job-7f3a";
    d.attempt = 4;
    d.yaml = yaml;
    d.base_dir = "/srv/jobs";
    d.file_name = "taxi.yaml";
    d.n_tasks = N_TASKS;
    d.tasks = tsp;
    Weir__V1__Envelope env = WEIR__V1__ENVELOPE__INIT;
    env.body_case = WEIR__V1__ENVELOPE__BODY_DEPLOY;
    env.deploy = &d;

    /* The node says hello first so that the router knows its routing id. */
    Weir__V1__CancelJob c = WEIR__V1__CANCEL_JOB__INIT;
    Weir__V1__Envelope hi = WEIR__V1__ENVELOPE__INIT;
    hi.body_case = WEIR__V1__ENVELOPE__BODY_CANCEL_JOB;
    hi.cancel_job = &c;
    CU_ASSERT_EQUAL(weir_wire_send(dealer, NULL, 0, &hi), 0);
    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(router, &m), 2);
    s_msg_close(&m);
    CU_ASSERT_EQUAL(weir_wire_send(router, "node-c", 6, &env), 0);

    CU_ASSERT_EQUAL_FATAL(s_recv(dealer, &m), 1);
    Weir__V1__Envelope *got = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode(s_data(&m, 0), s_size(&m, 0), &got), 0);
    CU_ASSERT_EQUAL_FATAL(got->body_case, WEIR__V1__ENVELOPE__BODY_DEPLOY);
    const Weir__V1__Deploy *g = got->deploy;
    CU_ASSERT_STRING_EQUAL(g->job, "job-7f3a");
    CU_ASSERT_EQUAL(g->attempt, 4);
    CU_ASSERT_STRING_EQUAL(g->yaml, yaml);
    CU_ASSERT_STRING_EQUAL(g->base_dir, "/srv/jobs");
    CU_ASSERT_STRING_EQUAL(g->file_name, "taxi.yaml");
    CU_ASSERT_EQUAL_FATAL(g->n_tasks, N_TASKS);
    for (int i = 0; i < N_TASKS; i++) {
        CU_ASSERT_EQUAL(g->tasks[i]->index, ts[i].index);
        CU_ASSERT_EQUAL(g->tasks[i]->kind, ts[i].kind);
        CU_ASSERT_EQUAL(g->tasks[i]->split, ts[i].split);
        CU_ASSERT_EQUAL(g->tasks[i]->kg_first, ts[i].kg_first);
        CU_ASSERT_EQUAL(g->tasks[i]->kg_last, ts[i].kg_last);
        CU_ASSERT_EQUAL(g->tasks[i]->keyed_index, ts[i].keyed_index);
        CU_ASSERT_STRING_EQUAL(g->tasks[i]->node_id, node[i]);
        CU_ASSERT_STRING_EQUAL(g->tasks[i]->data_endpoint, "ipc:///tmp/weir-data");
    }
    weir_wire_free(got);
    s_msg_close(&m);
    free(yaml);
    s_close(&router, &dealer);
}

static void pair_sockets_carry_envelopes_too(void)
{
    void *a, *b;
    s_pair(ZMQ_PAIR, ZMQ_PAIR, NULL, &a, &b);
    Weir__V1__CancelJob c = WEIR__V1__CANCEL_JOB__INIT;
    c.job = "j";
    c.attempt = 9;
    c.reason = "node-2 lost";
    Weir__V1__Envelope env = WEIR__V1__ENVELOPE__INIT;
    env.body_case = WEIR__V1__ENVELOPE__BODY_CANCEL_JOB;
    env.cancel_job = &c;
    CU_ASSERT_EQUAL(weir_wire_send(b, NULL, 0, &env), 0);
    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(a, &m), 1);
    Weir__V1__Envelope *got = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode(s_data(&m, 0), s_size(&m, 0), &got), 0);
    CU_ASSERT_EQUAL_FATAL(got->body_case, WEIR__V1__ENVELOPE__BODY_CANCEL_JOB);
    CU_ASSERT_EQUAL(got->cancel_job->attempt, 9);
    CU_ASSERT_STRING_EQUAL(got->cancel_job->reason, "node-2 lost");
    weir_wire_free(got);
    s_msg_close(&m);
    s_close(&a, &b);
}

/* Packs env as a peer of protocol major `version` would. */
static size_t s_pack_envelope(Weir__V1__Envelope *env, uint32_t version, uint8_t *buf, size_t cap)
{
    env->version = version;
    size_t n = weir__v1__envelope__get_packed_size(env);
    CU_ASSERT_FATAL(n <= cap);
    return weir__v1__envelope__pack(env, buf);
}

static void another_major_version_is_refused(void)
{
    Weir__V1__Register reg = WEIR__V1__REGISTER__INIT;
    reg.node_id = "from-the-future";
    Weir__V1__Envelope env = WEIR__V1__ENVELOPE__INIT;
    env.body_case = WEIR__V1__ENVELOPE__BODY_REGISTER;
    env.register_ = &reg;
    uint8_t buf[256];
    Weir__V1__Envelope sentinel, *got = &sentinel;
    static const uint32_t versions[] = {0, 2, 3, 255, UINT32_MAX};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        size_t n = s_pack_envelope(&env, versions[i], buf, sizeof buf);
        CU_ASSERT_EQUAL(weir_wire_decode(buf, n, &got), WEIR_EVERSION);
        CU_ASSERT_PTR_EQUAL(got, &sentinel);
    }
    /* An empty message is version 0 too. */
    CU_ASSERT_EQUAL(weir_wire_decode("", 0, &got), WEIR_EVERSION);
    CU_ASSERT_PTR_EQUAL(got, &sentinel);
    /* The same message as major 1 is fine. */
    size_t n = s_pack_envelope(&env, WEIR_PROTO_MAJOR, buf, sizeof buf);
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode(buf, n, &got), 0);
    CU_ASSERT_STRING_EQUAL(got->register_->node_id, "from-the-future");
    weir_wire_free(got);
    CU_ASSERT_STRING_EQUAL(weir_strerror(WEIR_EVERSION), "protocol version mismatch");
}

static void garbage_bytes_are_refused(void)
{
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\x08", 1},                         /* varint field without its value */
        {"\x08\x80\x80\x80", 4},             /* unterminated varint */
        {"\xff\xff\xff\xff\xff\xff\xff", 7}, /* no field has this tag */
        {"\x52\x05\x0a\x01", 4},             /* register: length beyond the end */
        {"\x52\x02\x0a\x05", 4},             /* its node_id: beyond its message */
        {"\x0d\x01\x00", 3},                 /* version as fixed32: wrong wire type, cut */
        {"GET / HTTP/1.1\r\n\r\n", 18},
    };
    Weir__V1__Envelope sentinel, *got = &sentinel;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(weir_wire_decode(bad[i].bytes, bad[i].len, &got), WEIR_EPROTO);
        CU_ASSERT_PTR_EQUAL(got, &sentinel);
    }
    CU_ASSERT_STRING_EQUAL(weir_strerror(WEIR_EPROTO), "malformed message");
}

static void truncated_envelopes_are_refused_or_decode_a_prefix(void)
{
    Weir__V1__TaskStats st = WEIR__V1__TASK_STATS__INIT;
    st.job = "j";
    st.records_in = 123456789;
    st.error = "a task error message";
    Weir__V1__TaskStats *stp = &st;
    Weir__V1__Heartbeat hb = WEIR__V1__HEARTBEAT__INIT;
    hb.node_id = "node";
    hb.n_tasks = 1;
    hb.tasks = &stp;
    Weir__V1__Envelope env = WEIR__V1__ENVELOPE__INIT;
    env.body_case = WEIR__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    uint8_t buf[256];
    size_t n = s_pack_envelope(&env, WEIR_PROTO_MAJOR, buf, sizeof buf);
    int refused = 0;
    for (size_t len = 0; len < n; len++) {
        /* A copy of exactly len bytes, so that valgrind sees any overread. */
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, buf, len);
        Weir__V1__Envelope *got = NULL;
        int rc = weir_wire_decode(cut, len, &got);
        CU_ASSERT(rc == 0 || rc == WEIR_EPROTO || rc == WEIR_EVERSION);
        if (rc == 0)
            weir_wire_free(got);
        else
            refused++;
        free(cut);
    }
    CU_ASSERT(refused > 0);
}

/* ---- data plane ---- */

enum { C_I64, C_F64, C_STR, C_BOOL, C_TS, C_STR2, N_COLS };
static const weir_type_t s_types[N_COLS] = {WEIR_TYPE_INT64, WEIR_TYPE_DOUBLE,    WEIR_TYPE_STRING,
                                            WEIR_TYPE_BOOL,  WEIR_TYPE_TIMESTAMP, WEIR_TYPE_STRING};

/* Fills b with n_rows rows of every type: NULLs in every column, empty
 * strings, extreme numbers, bytes that are not text. */
static void s_fill(weir_batch_t *b, uint32_t n_rows)
{
    static const char *strs[] = {"", "JFK", "ünïcödé", "a\0b", "", "a longer string value"};
    static const uint32_t lens[] = {0, 3, 11, 3, 0, 21};
    static const int64_t ints[] = {0, 1, -1, INT64_MIN, INT64_MAX, 170};
    static const double dbls[] = {0.0, -0.0, 1.5, -1e308, 5e-324, 3.141592653589793};
    for (uint32_t r = 0; r < n_rows; r++) {
        uint32_t k = r % 6;
        if (r % 7 == 3)
            weir_batch_put_null(b, C_I64);
        else
            weir_batch_put_i64(b, C_I64, ints[k]);
        if (r % 5 == 2)
            weir_batch_put_null(b, C_F64);
        else
            weir_batch_put_f64(b, C_F64, r == 4 ? NAN : dbls[k]);
        if (r % 4 == 1)
            weir_batch_put_null(b, C_STR);
        else
            weir_batch_put_str(b, C_STR, strs[k], lens[k]);
        if (r % 3 == 0)
            weir_batch_put_null(b, C_BOOL);
        else
            weir_batch_put_i64(b, C_BOOL, r & 1);
        if (r % 6 == 5)
            weir_batch_put_null(b, C_TS);
        else
            weir_batch_put_i64(b, C_TS, 1546300800000 + (int64_t)r * 1000);
        if (r % 2 == 0)
            weir_batch_put_null(b, C_STR2);
        else
            weir_batch_put_str(b, C_STR2, strs[(k + 1) % 6], lens[(k + 1) % 6]);
        weir_batch_commit_row(b, r == 1 ? INT64_MIN : 1546300800000 + (int64_t)r * 1000);
    }
}

/* True when a and b hold the same rows (doubles compared bit for bit). */
static bool s_batch_equal(const weir_batch_t *a, const weir_batch_t *b)
{
    if (a->n_cols != b->n_cols || a->n_rows != b->n_rows)
        return false;
    uint32_t n = a->n_rows;
    if (memcmp(a->ts_ms, b->ts_ms, n * sizeof(int64_t)) != 0)
        return false;
    for (int i = 0; i < a->n_cols; i++) {
        const weir_column_t *x = &a->cols[i], *y = &b->cols[i];
        if (x->type != y->type || memcmp(x->null, y->null, n) != 0)
            return false;
        switch (x->type) {
        case WEIR_TYPE_DOUBLE:
            if (memcmp(x->f64, y->f64, n * sizeof(double)) != 0)
                return false;
            break;
        case WEIR_TYPE_STRING:
            for (uint32_t r = 0; r < n; r++) {
                uint32_t lx, ly;
                const char *sx = weir_batch_str(a, i, r, &lx);
                const char *sy = weir_batch_str(b, i, r, &ly);
                if (lx != ly || memcmp(sx, sy, lx) != 0)
                    return false;
            }
            break;
        default:
            if (memcmp(x->i64, y->i64, n * sizeof(int64_t)) != 0)
                return false;
            break;
        }
    }
    return true;
}

static weir_frame_hdr_t s_hdr(uint32_t channel, uint64_t seq)
{
    weir_frame_hdr_t h;
    memset(&h, 0, sizeof h);
    snprintf(h.job, sizeof h.job, "taxi-zone-hourly");
    h.attempt = 3;
    h.channel = channel;
    h.seq = seq;
    return h;
}

static void frame_with_a_batch_of_every_type_arrives_equal(void)
{
    void *router, *dealer;
    s_pair(ZMQ_ROUTER, ZMQ_DEALER, "producer-1", &router, &dealer);
    weir_wire_scratch_t *scratch = weir_wire_scratch_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(scratch);
    weir_batch_t *out = weir_batch_new(s_types, N_COLS, 64, 8);
    /* The receiving batch starts with a tiny blob: decoding grows it. */
    weir_batch_t *in = weir_batch_new(s_types, N_COLS, 64, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    static const uint32_t sizes[] = {64, 1, 17, 64};
    for (int f = 0; f < 4; f++) {
        weir_batch_clear(out);
        s_fill(out, sizes[f]);
        weir_frame_hdr_t h = s_hdr(5, 100 + (uint64_t)f);
        h.has_watermark = f == 2;
        h.watermark_ms = 1546300799999;
        h.backlog = (uint32_t)f;
        h.idle = f == 3;
        h.barrier = f == 1 ? 42 : 0;
        CU_ASSERT_EQUAL(weir_wire_send_frame(dealer, &h, out, scratch), 0);

        s_msg_t m;
        CU_ASSERT_EQUAL_FATAL(s_recv(router, &m), 3);
        CU_ASSERT_EQUAL(memcmp(s_data(&m, 0), "producer-1", 10), 0);
        weir_data_msg_t *msg = calloc(1, sizeof *msg);
        CU_ASSERT_EQUAL_FATAL(weir_wire_decode_data(s_data(&m, 1), s_size(&m, 1), msg), 0);
        CU_ASSERT_EQUAL(msg->kind, WEIR_DATA_FRAME);
        CU_ASSERT_STRING_EQUAL(msg->frame.job, "taxi-zone-hourly");
        CU_ASSERT_EQUAL(msg->frame.attempt, 3);
        CU_ASSERT_EQUAL(msg->frame.channel, 5);
        CU_ASSERT_EQUAL(msg->frame.seq, 100 + (uint64_t)f);
        CU_ASSERT_EQUAL(msg->frame.has_watermark, f == 2);
        if (f == 2)
            CU_ASSERT_EQUAL(msg->frame.watermark_ms, 1546300799999);
        CU_ASSERT_FALSE(msg->frame.end_of_stream);
        CU_ASSERT_EQUAL(msg->frame.backlog, (uint32_t)f);
        CU_ASSERT_EQUAL(msg->frame.idle, f == 3);
        CU_ASSERT_EQUAL(msg->frame.barrier, f == 1 ? 42u : 0u);
        CU_ASSERT_TRUE(msg->has_batch);
        CU_ASSERT_EQUAL(weir_wire_decode_batch(s_data(&m, 2), s_size(&m, 2), in), 0);
        CU_ASSERT_EQUAL(in->n_rows, sizes[f]);
        CU_ASSERT_TRUE(s_batch_equal(out, in));
        free(msg);
        s_msg_close(&m);
    }
    /* Spot checks, so that "equal" is not equally wrong on both sides. */
    uint32_t len;
    const char *s = weir_batch_str(in, C_STR, 3, &len);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(memcmp(s, "a\0b", 3), 0);
    CU_ASSERT_EQUAL(in->cols[C_STR].null[1], 1);
    CU_ASSERT_EQUAL(in->cols[C_STR].null[4], 0);
    weir_batch_str(in, C_STR, 4, &len);
    CU_ASSERT_EQUAL(len, 0); /* empty string, not NULL */
    CU_ASSERT_EQUAL(in->cols[C_I64].i64[3], 0);
    CU_ASSERT_EQUAL(in->cols[C_I64].null[3], 1);
    CU_ASSERT_EQUAL(in->cols[C_I64].i64[9], INT64_MIN);
    CU_ASSERT_TRUE(isnan(in->cols[C_F64].f64[4]));
    CU_ASSERT_TRUE(signbit(in->cols[C_F64].f64[1]) != 0);
    CU_ASSERT_EQUAL(in->ts_ms[1], INT64_MIN);
    weir_batch_destroy(&in);
    weir_batch_destroy(&out);
    weir_wire_scratch_destroy(&scratch);
    CU_ASSERT_PTR_NULL(scratch);
    weir_wire_scratch_destroy(&scratch);
    s_close(&router, &dealer);
}

static void frame_with_only_a_watermark_has_an_empty_batch_part(void)
{
    void *a, *b;
    s_pair(ZMQ_PAIR, ZMQ_PAIR, NULL, &a, &b);
    weir_wire_scratch_t *scratch = weir_wire_scratch_new();
    weir_batch_t *empty = weir_batch_new(s_types, N_COLS, 4, 4);
    static const int64_t wms[] = {-5, 0, INT64_MIN, INT64_MAX};
    for (int i = 0; i < 4; i++) {
        weir_frame_hdr_t h = s_hdr(0, (uint64_t)i);
        h.has_watermark = true;
        h.watermark_ms = wms[i];
        h.end_of_stream = wms[i] == INT64_MAX;
        /* No batch, or a batch without rows: both send no batch. */
        CU_ASSERT_EQUAL(weir_wire_send_frame(b, &h, i % 2 ? empty : NULL, scratch), 0);
        s_msg_t m;
        CU_ASSERT_EQUAL_FATAL(s_recv(a, &m), 2);
        CU_ASSERT_EQUAL(s_size(&m, 1), 0);
        weir_data_msg_t *msg = calloc(1, sizeof *msg);
        CU_ASSERT_EQUAL_FATAL(weir_wire_decode_data(s_data(&m, 0), s_size(&m, 0), msg), 0);
        CU_ASSERT_EQUAL(msg->kind, WEIR_DATA_FRAME);
        CU_ASSERT_FALSE(msg->has_batch);
        CU_ASSERT_TRUE(msg->frame.has_watermark);
        CU_ASSERT_EQUAL(msg->frame.watermark_ms, wms[i]);
        CU_ASSERT_EQUAL(msg->frame.end_of_stream, wms[i] == INT64_MAX);
        CU_ASSERT_EQUAL(msg->frame.seq, (uint64_t)i);
        free(msg);
        s_msg_close(&m);
    }
    weir_batch_destroy(&empty);
    weir_wire_scratch_destroy(&scratch);
    s_close(&a, &b);
}

static void credit_and_hello_round_trip(void)
{
    void *router, *dealer;
    s_pair(ZMQ_ROUTER, ZMQ_DEALER, "producer-2", &router, &dealer);
    weir_data_msg_t *msg = calloc(1, sizeof *msg);
    /* The producer says hello for its channels... */
    static const uint32_t chans[] = {0, 7, 4095, UINT32_MAX};
    CU_ASSERT_EQUAL(weir_wire_send_hello(dealer, "job-x", 11, chans, 4), 0);
    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(router, &m), 2);
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode_data(s_data(&m, 1), s_size(&m, 1), msg), 0);
    CU_ASSERT_EQUAL(msg->kind, WEIR_DATA_HELLO);
    CU_ASSERT_STRING_EQUAL(msg->job, "job-x");
    CU_ASSERT_EQUAL(msg->attempt, 11);
    CU_ASSERT_EQUAL_FATAL(msg->n_channels, 4);
    CU_ASSERT_EQUAL(memcmp(msg->channels, chans, sizeof chans), 0);
    /* ...and the consumer grants credit by routing id. */
    CU_ASSERT_EQUAL(weir_wire_send_credit(router, s_data(&m, 0), s_size(&m, 0), "job-x", 11, 7, 4),
                    0);
    s_msg_close(&m);
    CU_ASSERT_EQUAL_FATAL(s_recv(dealer, &m), 1);
    memset(msg, 0, sizeof *msg);
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode_data(s_data(&m, 0), s_size(&m, 0), msg), 0);
    CU_ASSERT_EQUAL(msg->kind, WEIR_DATA_CREDIT);
    CU_ASSERT_STRING_EQUAL(msg->job, "job-x");
    CU_ASSERT_EQUAL(msg->attempt, 11);
    CU_ASSERT_EQUAL(msg->channel, 7);
    CU_ASSERT_EQUAL(msg->credits, 4);
    s_msg_close(&m);
    /* A hello for no channel at all, and a job name of the longest size. */
    char job63[64];
    memset(job63, 'j', 63);
    job63[63] = 0;
    CU_ASSERT_EQUAL(weir_wire_send_hello(dealer, job63, 1, NULL, 0), 0);
    CU_ASSERT_EQUAL_FATAL(s_recv(router, &m), 2);
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode_data(s_data(&m, 1), s_size(&m, 1), msg), 0);
    CU_ASSERT_EQUAL(msg->kind, WEIR_DATA_HELLO);
    CU_ASSERT_EQUAL(msg->n_channels, 0);
    CU_ASSERT_STRING_EQUAL(msg->job, job63);
    s_msg_close(&m);
    free(msg);
    s_close(&router, &dealer);
}

/* Packs a DataEnvelope as an arbitrary peer would. */
static size_t s_pack_data(Weir__V1__DataEnvelope *env, uint8_t *buf, size_t cap)
{
    size_t n = weir__v1__data_envelope__get_packed_size(env);
    CU_ASSERT_FATAL(n <= cap);
    return weir__v1__data_envelope__pack(env, buf);
}

static void data_messages_of_another_version_or_malformed_are_refused(void)
{
    weir_data_msg_t *msg = calloc(1, sizeof *msg);
    uint8_t buf[256];
    Weir__V1__Credit c = WEIR__V1__CREDIT__INIT;
    c.job = "j";
    c.credits = 1;
    Weir__V1__DataEnvelope env = WEIR__V1__DATA_ENVELOPE__INIT;
    env.body_case = WEIR__V1__DATA_ENVELOPE__BODY_CREDIT;
    env.credit = &c;
    env.version = 2;
    size_t n = s_pack_data(&env, buf, sizeof buf);
    CU_ASSERT_EQUAL(weir_wire_decode_data(buf, n, msg), WEIR_EVERSION);
    env.version = 0;
    n = s_pack_data(&env, buf, sizeof buf);
    CU_ASSERT_EQUAL(weir_wire_decode_data(buf, n, msg), WEIR_EVERSION);
    env.version = WEIR_PROTO_MAJOR;
    n = s_pack_data(&env, buf, sizeof buf);
    CU_ASSERT_EQUAL(weir_wire_decode_data(buf, n, msg), 0);
    /* A job name that does not fit weir_data_msg_t is refused, not cut. */
    char job64[65];
    memset(job64, 'j', 64);
    job64[64] = 0;
    c.job = job64;
    n = s_pack_data(&env, buf, sizeof buf);
    CU_ASSERT_EQUAL(weir_wire_decode_data(buf, n, msg), WEIR_EPROTO);
    /* A message with no body. */
    Weir__V1__DataEnvelope none = WEIR__V1__DATA_ENVELOPE__INIT;
    none.version = WEIR_PROTO_MAJOR;
    n = s_pack_data(&none, buf, sizeof buf);
    CU_ASSERT_EQUAL(weir_wire_decode_data(buf, n, msg), WEIR_EPROTO);
    /* Bytes that are no protobuf at all. */
    CU_ASSERT_EQUAL(weir_wire_decode_data("\x08\x01\x52\x7f", 4, msg), WEIR_EPROTO);
    CU_ASSERT_EQUAL(weir_wire_decode_data("\xff\xff\xff", 3, msg), WEIR_EPROTO);
    free(msg);
}

static void hello_with_too_many_channels_is_refused(void)
{
    enum { N = 4097 };
    uint32_t *chans = calloc(N, sizeof *chans);
    Weir__V1__Hello h = WEIR__V1__HELLO__INIT;
    h.job = "j";
    h.n_channels = N;
    h.channels = chans;
    Weir__V1__DataEnvelope env = WEIR__V1__DATA_ENVELOPE__INIT;
    env.version = WEIR_PROTO_MAJOR;
    env.body_case = WEIR__V1__DATA_ENVELOPE__BODY_HELLO;
    env.hello = &h;
    uint8_t *buf = malloc(3 * N + 64);
    size_t n = s_pack_data(&env, buf, 3 * N + 64);
    weir_data_msg_t *msg = calloc(1, sizeof *msg);
    CU_ASSERT_EQUAL(weir_wire_decode_data(buf, n, msg), WEIR_EPROTO);
    h.n_channels = N - 1;
    n = s_pack_data(&env, buf, 3 * N + 64);
    CU_ASSERT_EQUAL(weir_wire_decode_data(buf, n, msg), 0);
    CU_ASSERT_EQUAL(msg->n_channels, N - 1);
    free(msg);
    free(buf);
    free(chans);
}

/* A packed Batch built by hand, for shapes weir_wire_send_frame never
 * makes. Columns: one INT64 and one STRING, `rows` rows. */
typedef struct {
    Weir__V1__Batch b;
    Weir__V1__Column c[2];
    Weir__V1__Column *cp[2];
    int64_t ts[8], i64[8];
    uint32_t len[8];
    uint8_t nulls[8];
} s_raw_batch_t;

static void s_raw_init(s_raw_batch_t *r, uint32_t rows)
{
    memset(r, 0, sizeof *r);
    weir__v1__batch__init(&r->b);
    for (int i = 0; i < 2; i++) {
        weir__v1__column__init(&r->c[i]);
        r->cp[i] = &r->c[i];
        r->c[i].nulls.len = rows;
        r->c[i].nulls.data = r->nulls;
    }
    r->b.n_rows = rows;
    r->b.n_ts_ms = rows;
    r->b.ts_ms = r->ts;
    r->b.n_cols = 2;
    r->b.cols = r->cp;
    r->c[0].n_i64 = rows;
    r->c[0].i64 = r->i64;
    for (uint32_t i = 0; i < rows; i++) {
        r->i64[i] = i;
        r->ts[i] = 1000 + i;
        r->len[i] = 2;
    }
    r->c[1].n_len = rows;
    r->c[1].len = r->len;
    r->c[1].blob.len = 2 * rows;
    r->c[1].blob.data = (uint8_t *)"abababababababab";
}

static size_t s_raw_pack(s_raw_batch_t *r, uint8_t *buf, size_t cap)
{
    size_t n = weir__v1__batch__get_packed_size(&r->b);
    CU_ASSERT_FATAL(n <= cap);
    return weir__v1__batch__pack(&r->b, buf);
}

static const weir_type_t s_raw_types[2] = {WEIR_TYPE_INT64, WEIR_TYPE_STRING};

/* Decodes buf into a receiving batch that already holds a row; checks rc
 * and that a refused batch leaves it empty. */
static void s_expect_decode(const uint8_t *buf, size_t n, const weir_type_t *types, int n_cols,
                            uint32_t cap, int want_rc)
{
    weir_batch_t *b = weir_batch_new(types, n_cols, cap, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (int i = 0; i < n_cols; i++)
        weir_batch_put_null(b, i);
    weir_batch_commit_row(b, 1);
    int rc = weir_wire_decode_batch(buf, n, b);
    CU_ASSERT_EQUAL(rc, want_rc);
    if (rc != 0)
        CU_ASSERT_EQUAL(b->n_rows, 0);
    weir_batch_destroy(&b);
}

static void decode_batch_accepts_a_well_formed_batch(void)
{
    s_raw_batch_t r;
    uint8_t buf[512];
    s_raw_init(&r, 4);
    size_t n = s_raw_pack(&r, buf, sizeof buf);
    weir_batch_t *b = weir_batch_new(s_raw_types, 2, 4, 1);
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode_batch(buf, n, b), 0);
    CU_ASSERT_EQUAL(b->n_rows, 4);
    uint32_t len;
    const char *s = weir_batch_str(b, 1, 3, &len);
    CU_ASSERT_EQUAL(len, 2);
    CU_ASSERT_EQUAL(memcmp(s, "ab", 2), 0);
    CU_ASSERT_EQUAL(b->cols[0].i64[3], 3);
    CU_ASSERT_EQUAL(b->ts_ms[2], 1002);
    weir_batch_destroy(&b);
}

static void decode_batch_refuses_a_wrong_column_count(void)
{
    s_raw_batch_t r;
    uint8_t buf[512];
    s_raw_init(&r, 4);
    size_t n = s_raw_pack(&r, buf, sizeof buf);
    static const weir_type_t three[3] = {WEIR_TYPE_INT64, WEIR_TYPE_STRING, WEIR_TYPE_INT64};
    s_expect_decode(buf, n, three, 3, 8, WEIR_EPROTO);
    s_expect_decode(buf, n, three, 1, 8, WEIR_EPROTO);
    s_expect_decode(buf, n, s_raw_types, 2, 8, 0);
    /* Right count, wrong types: an INT64 column has no doubles. */
    static const weir_type_t swapped[2] = {WEIR_TYPE_DOUBLE, WEIR_TYPE_STRING};
    s_expect_decode(buf, n, swapped, 2, 8, WEIR_EPROTO);
    static const weir_type_t two_ints[2] = {WEIR_TYPE_INT64, WEIR_TYPE_TIMESTAMP};
    s_expect_decode(buf, n, two_ints, 2, 8, WEIR_EPROTO);
}

static void decode_batch_refuses_more_rows_than_the_receiving_batch_holds(void)
{
    s_raw_batch_t r;
    uint8_t buf[512];
    s_raw_init(&r, 8);
    size_t n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 7, WEIR_EPROTO);
    s_expect_decode(buf, n, s_raw_types, 2, 1, WEIR_EPROTO);
    s_expect_decode(buf, n, s_raw_types, 2, 8, 0);
    /* n_rows disagreeing with the arrays it describes. */
    r.b.n_rows = 3;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    s_raw_init(&r, 8);
    r.b.n_ts_ms = 7;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    s_raw_init(&r, 8);
    r.c[1].nulls.len = 7;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    s_raw_init(&r, 8);
    r.c[0].n_i64 = 9;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    /* A row count far beyond anything a sender has: refused before any
     * allocation follows it. */
    s_raw_init(&r, 0);
    r.b.n_rows = UINT32_MAX;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
}

static void decode_batch_refuses_inconsistent_string_lengths(void)
{
    s_raw_batch_t r;
    uint8_t buf[512];
    /* Lengths add up to more than the blob. */
    s_raw_init(&r, 4);
    r.len[3] = 3;
    size_t n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    /* ...to less. */
    s_raw_init(&r, 4);
    r.len[0] = 1;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    /* A length that wraps a 32-bit sum back to the blob size. */
    s_raw_init(&r, 4);
    r.len[0] = UINT32_MAX;
    r.len[1] = 5;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    /* Fewer lengths than rows. */
    s_raw_init(&r, 4);
    r.c[1].n_len = 3;
    r.c[1].blob.len = 6;
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, WEIR_EPROTO);
    /* The consistent original decodes. */
    s_raw_init(&r, 4);
    n = s_raw_pack(&r, buf, sizeof buf);
    s_expect_decode(buf, n, s_raw_types, 2, 8, 0);
}

static void batch_without_string_bytes_or_rows_decodes(void)
{
    /* protobuf-c leaves empty bytes and repeated fields NULL on decode:
     * every string empty or NULL, and a batch of no rows at all. */
    void *a, *b;
    s_pair(ZMQ_PAIR, ZMQ_PAIR, NULL, &a, &b);
    weir_wire_scratch_t *scratch = weir_wire_scratch_new();
    weir_batch_t *out = weir_batch_new(s_types, N_COLS, 4, 8);
    weir_batch_t *in = weir_batch_new(s_types, N_COLS, 4, 8);
    for (uint32_t r = 0; r < 3; r++) {
        weir_batch_put_i64(out, C_I64, r);
        weir_batch_put_f64(out, C_F64, r);
        weir_batch_put_str(out, C_STR, "", 0);
        weir_batch_put_i64(out, C_BOOL, 1);
        weir_batch_put_i64(out, C_TS, r);
        weir_batch_put_null(out, C_STR2);
        weir_batch_commit_row(out, r);
    }
    weir_frame_hdr_t h = s_hdr(0, 0);
    CU_ASSERT_EQUAL(weir_wire_send_frame(b, &h, out, scratch), 0);
    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(a, &m), 2);
    CU_ASSERT_EQUAL(weir_wire_decode_batch(s_data(&m, 1), s_size(&m, 1), in), 0);
    CU_ASSERT_TRUE(s_batch_equal(out, in));
    s_msg_close(&m);

    s_raw_batch_t raw;
    uint8_t buf[64];
    s_raw_init(&raw, 0);
    size_t n = s_raw_pack(&raw, buf, sizeof buf);
    weir_batch_t *two = weir_batch_new(s_raw_types, 2, 4, 4);
    weir_batch_put_i64(two, 0, 1);
    weir_batch_put_null(two, 1);
    weir_batch_commit_row(two, 1);
    CU_ASSERT_EQUAL(weir_wire_decode_batch(buf, n, two), 0);
    CU_ASSERT_EQUAL(two->n_rows, 0);
    weir_batch_destroy(&two);
    weir_wire_scratch_destroy(&scratch);
    weir_batch_destroy(&in);
    weir_batch_destroy(&out);
    s_close(&a, &b);
}

static void widest_batch_decodes_on_a_threads_first_frame(void)
{
    /* WEIR_MAX_COLS columns, strings among them: protobuf-c makes several
     * allocations per column, more than a fresh decode arena holds. */
    weir_type_t types[WEIR_MAX_COLS];
    for (int i = 0; i < WEIR_MAX_COLS; i++)
        types[i] = i % 2 ? WEIR_TYPE_STRING : WEIR_TYPE_DOUBLE;
    weir_batch_t *out = weir_batch_new(types, WEIR_MAX_COLS, 4, 8);
    weir_batch_t *in = weir_batch_new(types, WEIR_MAX_COLS, 4, 8);
    for (uint32_t r = 0; r < 4; r++) {
        for (int i = 0; i < WEIR_MAX_COLS; i++) {
            if (i % 2)
                weir_batch_put_str(out, i, "value", 5);
            else
                weir_batch_put_f64(out, i, r * 0.25);
        }
        weir_batch_commit_row(out, r);
    }
    void *a, *b;
    s_pair(ZMQ_PAIR, ZMQ_PAIR, NULL, &a, &b);
    weir_wire_scratch_t *scratch = weir_wire_scratch_new();
    weir_frame_hdr_t h = s_hdr(0, 0);
    CU_ASSERT_EQUAL(weir_wire_send_frame(b, &h, out, scratch), 0);
    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(a, &m), 2);
    /* The state of a thread that has not decoded anything yet. */
    weir_wire_thread_cleanup();
    CU_ASSERT_EQUAL(weir_wire_decode_batch(s_data(&m, 1), s_size(&m, 1), in), 0);
    CU_ASSERT_TRUE(s_batch_equal(out, in));
    s_msg_close(&m);
    weir_wire_scratch_destroy(&scratch);
    weir_batch_destroy(&in);
    weir_batch_destroy(&out);
    s_close(&a, &b);
}

/* A decoded batch, whatever the bytes were, is one the rest of weir can
 * read without going out of bounds. */
static bool s_batch_sane(const weir_batch_t *b)
{
    if (b->n_rows > b->cap_rows)
        return false;
    for (int i = 0; i < b->n_cols; i++) {
        const weir_column_t *c = &b->cols[i];
        if (c->type != WEIR_TYPE_STRING)
            continue;
        if (c->off[0] != 0)
            return false;
        for (uint32_t r = 0; r < b->n_rows; r++)
            if (c->off[r + 1] < c->off[r])
                return false;
        if (c->off[b->n_rows] > c->blob_cap)
            return false;
    }
    return true;
}

static int s_fuzz_run(uint64_t seed, const uint8_t *valid, size_t valid_len, weir_batch_t *b,
                      weir_data_msg_t *msg)
{
    testrand_t r;
    testrand_seed(&r, seed);
    size_t cap = valid_len + 64;
    uint8_t *buf = malloc(cap);
    int bad = 0;
    for (int iter = 0; iter < 200 && !bad; iter++) {
        size_t n;
        switch (testrand_below(&r, 3)) {
        case 0: /* a valid frame cut short */
            n = testrand_below(&r, (uint32_t)valid_len);
            memcpy(buf, valid, n);
            break;
        case 1: /* a valid frame with a few bytes changed */
            n = valid_len;
            memcpy(buf, valid, n);
            for (uint32_t k = testrand_below(&r, 4) + 1; k > 0; k--)
                buf[testrand_below(&r, (uint32_t)n)] = (uint8_t)testrand_next(&r);
            break;
        default: /* noise */
            n = testrand_below(&r, (uint32_t)cap);
            for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)testrand_next(&r);
            break;
        }
        /* Exactly n bytes on the heap, so that valgrind sees overreads. */
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        int rc = weir_wire_decode_batch(exact, n, b);
        if (rc != 0 && (rc != WEIR_EPROTO || b->n_rows != 0))
            bad = 1;
        if (rc == 0 && !s_batch_sane(b))
            bad = 1;
        rc = weir_wire_decode_data(exact, n, msg);
        if (rc != 0 && rc != WEIR_EPROTO && rc != WEIR_EVERSION)
            bad = 1;
        Weir__V1__Envelope *env = NULL;
        rc = weir_wire_decode(exact, n, &env);
        if (rc == 0)
            weir_wire_free(env);
        else if (rc != WEIR_EPROTO && rc != WEIR_EVERSION)
            bad = 1;
        free(exact);
        if (bad)
            printf("\nwire: fuzz seed %llu failed at iteration %d\n", (unsigned long long)seed,
                   iter);
    }
    free(buf);
    return bad;
}

static void decoders_never_crash_on_truncated_or_random_bytes(void)
{
    /* A valid batch frame of every type, captured from a real socket. */
    void *a, *b;
    s_pair(ZMQ_PAIR, ZMQ_PAIR, NULL, &a, &b);
    weir_wire_scratch_t *scratch = weir_wire_scratch_new();
    weir_batch_t *out = weir_batch_new(s_types, N_COLS, 16, 8);
    s_fill(out, 12);
    weir_frame_hdr_t h = s_hdr(1, 1);
    CU_ASSERT_EQUAL(weir_wire_send_frame(b, &h, out, scratch), 0);
    s_msg_t m;
    CU_ASSERT_EQUAL_FATAL(s_recv(a, &m), 2);
    size_t valid_len = s_size(&m, 1);
    uint8_t *valid = malloc(valid_len);
    memcpy(valid, s_data(&m, 1), valid_len);
    s_msg_close(&m);

    weir_batch_t *in = weir_batch_new(s_types, N_COLS, 16, 1);
    weir_data_msg_t *msg = calloc(1, sizeof *msg);
    CU_ASSERT_EQUAL_FATAL(weir_wire_decode_batch(valid, valid_len, in), 0);
    CU_ASSERT_TRUE(s_batch_equal(out, in));
    int n = testrand_n_seeds(20);
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(s_fuzz_run(testrand_seed_at(i), valid, valid_len, in, msg), 0);
    /* After all that, the same batch still decodes. */
    CU_ASSERT_EQUAL(weir_wire_decode_batch(valid, valid_len, in), 0);
    CU_ASSERT_TRUE(s_batch_equal(out, in));
    free(msg);
    free(valid);
    weir_batch_destroy(&in);
    weir_batch_destroy(&out);
    weir_wire_scratch_destroy(&scratch);
    s_close(&a, &b);
}

static void task_stats_survive_the_wire(void)
{
    weir_task_stats_t in;
    memset(&in, 0, sizeof in);
    in.task = 7;
    in.state = 4;
    in.rows_in = 123456789012ull;
    in.rows_out = 5;
    in.late = 6;
    in.bad = 7;
    in.bytes_read = 8;
    in.bytes_total = 9;
    in.watermark_ms = -1500;
    in.busy_permille = 999;
    in.backpressured_permille = 501;
    in.latency_p50_us = 10;
    in.latency_p99_us = 20;
    in.latency_p999_us = 30;
    in.latency_count = 40;
    in.queued_frames = 3;
    in.credits_outstanding = 2;
    in.wm_holder = 2;
    in.idle = true;
    in.paused = true;
    snprintf(in.error, sizeof in.error, "lost node-2");
    Weir__V1__TaskStats pb;
    weir_wire_stats_to_pb(&in, "job-1", 3, &pb);
    CU_ASSERT_STRING_EQUAL(pb.job, "job-1");
    CU_ASSERT_EQUAL(pb.attempt, 3);
    uint8_t buf[512];
    size_t n = weir__v1__task_stats__pack(&pb, buf);
    Weir__V1__TaskStats *back = weir__v1__task_stats__unpack(NULL, n, buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    weir_task_stats_t out;
    weir_wire_stats_from_pb(back, &out);
    weir__v1__task_stats__free_unpacked(back, NULL);
    CU_ASSERT_EQUAL(memcmp(&in, &out, sizeof in), 0); /* kind is 0 on both sides */
}

/* ---- checkpoint metadata ---- */

static void s_fill_meta(weir_ck_meta_t *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->job, sizeof m->job, "taxi-7");
    m->attempt = 3;
    m->id = 42;
    m->savepoint = true;
    m->trigger_ms = 1700000000000;
    m->complete_ms = 1700000000250;
    m->n_tasks = 3;
    m->tasks = calloc(3, sizeof *m->tasks);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->tasks);
    for (uint32_t t = 0; t < 3; t++) {
        weir_ck_task_snap_t *s = &m->tasks[t];
        s->task = t;
        s->kind = t == 0 ? 0 : 1;
        s->kg_first = t * 64;
        s->kg_last = t * 64 + 63;
        s->watermark_ms = t == 2 ? INT64_MIN : -1000 * (int64_t)t;
        s->source_position = t == 0 ? 123456789012ull : 0;
        s->source_line = t == 0 ? 4242 : 0;
        s->finished = t == 1;
        if (t) {
            snprintf(s->cf, sizeof s->cf, "taxi-7/3/w%u", (unsigned)t);
            for (int f = 0; f < 3; f++) {
                char name[32];
                snprintf(name, sizeof name, "%06d.sst", 10 * (int)t + f);
                weir_ck_hash_t h;
                weir_ck_hash_buf(name, strlen(name), &h);
                CU_ASSERT_EQUAL(weir_ck_snap_add_file(s, name, &h, 1000u + (uint64_t)f), 0);
            }
        }
        s->incremental_bytes = 77 * t;
        s->alignment_ms = 5 * t;
    }
}

static void checkpoint_metadata_round_trips(void)
{
    weir_ck_meta_t m, back;
    s_fill_meta(&m);
    uint8_t *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(weir_wire_ckmeta_pack(&m, &buf, &len), 0);
    CU_ASSERT_EQUAL_FATAL(weir_wire_ckmeta_unpack(buf, len, &back), 0);
    CU_ASSERT_STRING_EQUAL(back.job, "taxi-7");
    CU_ASSERT(back.attempt == 3 && back.id == 42 && back.savepoint);
    CU_ASSERT(back.trigger_ms == m.trigger_ms && back.complete_ms == m.complete_ms);
    CU_ASSERT_EQUAL_FATAL(back.n_tasks, 3);
    for (uint32_t t = 0; t < 3; t++) {
        const weir_ck_task_snap_t *a = &m.tasks[t], *b = &back.tasks[t];
        CU_ASSERT(a->task == b->task && a->kind == b->kind);
        CU_ASSERT(a->kg_first == b->kg_first && a->kg_last == b->kg_last);
        CU_ASSERT_EQUAL(a->watermark_ms, b->watermark_ms);
        CU_ASSERT_EQUAL(a->source_position, b->source_position);
        CU_ASSERT_EQUAL(a->source_line, b->source_line);
        CU_ASSERT_EQUAL(a->finished, b->finished);
        CU_ASSERT_STRING_EQUAL(a->cf, b->cf);
        CU_ASSERT_EQUAL(a->state_bytes, b->state_bytes);
        CU_ASSERT_EQUAL(a->incremental_bytes, b->incremental_bytes);
        CU_ASSERT_EQUAL(a->alignment_ms, b->alignment_ms);
        CU_ASSERT_EQUAL_FATAL(a->n_files, b->n_files);
        for (uint32_t f = 0; f < a->n_files; f++) {
            CU_ASSERT_STRING_EQUAL(a->files[f].name, b->files[f].name);
            CU_ASSERT_TRUE(weir_ck_hash_eq(&a->files[f].hash, &b->files[f].hash));
            CU_ASSERT_EQUAL(a->files[f].size_bytes, b->files[f].size_bytes);
        }
    }
    weir_ck_meta_clear(&back);
    free(buf);
    /* no tasks at all */
    weir_ck_meta_t empty;
    memset(&empty, 0, sizeof empty);
    snprintf(empty.job, sizeof empty.job, "j");
    empty.id = 1;
    CU_ASSERT_EQUAL_FATAL(weir_wire_ckmeta_pack(&empty, &buf, &len), 0);
    CU_ASSERT_EQUAL(weir_wire_ckmeta_unpack(buf, len, &back), 0);
    CU_ASSERT_EQUAL(back.n_tasks, 0);
    weir_ck_meta_clear(&back);
    free(buf);
    weir_ck_meta_clear(&m);
}

/* Packs a hand-made CheckpointMeta whose first task has one file. */
static int s_unpack_crafted(uint32_t format, const char *job, const char *file, size_t hash_len)
{
    uint8_t hash[40] = {0};
    Weir__V1__StateFile f = WEIR__V1__STATE_FILE__INIT;
    f.name = (char *)file;
    f.hash.data = hash;
    f.hash.len = hash_len;
    Weir__V1__StateFile *fp = &f;
    Weir__V1__TaskSnapshot t = WEIR__V1__TASK_SNAPSHOT__INIT;
    t.files = &fp;
    t.n_files = 1;
    Weir__V1__TaskSnapshot *tp = &t;
    Weir__V1__CheckpointMeta pb = WEIR__V1__CHECKPOINT_META__INIT;
    pb.format = format;
    pb.job = (char *)job;
    pb.checkpoint_id = 1;
    pb.tasks = &tp;
    pb.n_tasks = 1;
    uint8_t buf[512];
    size_t len = weir__v1__checkpoint_meta__pack(&pb, buf);
    weir_ck_meta_t m;
    int rc = weir_wire_ckmeta_unpack(buf, len, &m);
    if (rc == 0)
        weir_ck_meta_clear(&m);
    else
        CU_ASSERT(m.n_tasks == 0 && m.tasks == NULL && m.job[0] == 0);
    return rc;
}

static void checkpoint_metadata_that_breaks_a_bound_is_refused(void)
{
    CU_ASSERT_EQUAL(s_unpack_crafted(1, "job-1", "000001.sst", 32), 0);
    CU_ASSERT_EQUAL(s_unpack_crafted(2, "job-1", "000001.sst", 32), WEIR_EPROTO);
    CU_ASSERT_EQUAL(s_unpack_crafted(1, "../job", "000001.sst", 32), WEIR_EPROTO);
    CU_ASSERT_EQUAL(s_unpack_crafted(1, "", "000001.sst", 32), WEIR_EPROTO);
    CU_ASSERT_EQUAL(s_unpack_crafted(1, "job-1", "../../x", 32), WEIR_EPROTO);
    CU_ASSERT_EQUAL(s_unpack_crafted(1, "job-1", "000001.sst", 31), WEIR_EPROTO);
    CU_ASSERT_EQUAL(s_unpack_crafted(1, "job-1", "000001.sst", 33), WEIR_EPROTO);
    weir_ck_meta_t m;
    CU_ASSERT_EQUAL(weir_wire_ckmeta_unpack("\xff\xff\xff", 3, &m), WEIR_EPROTO);

    /* every truncation of a good one: refused or decoded, never a crash */
    s_fill_meta(&m);
    uint8_t *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(weir_wire_ckmeta_pack(&m, &buf, &len), 0);
    weir_ck_meta_clear(&m);
    int refused = 0;
    for (size_t n = 0; n < len; n++) {
        int rc = weir_wire_ckmeta_unpack(buf, n, &m);
        CU_ASSERT(rc == 0 || rc == WEIR_EPROTO);
        refused += rc != 0;
        weir_ck_meta_clear(&m);
    }
    CU_ASSERT(refused > 0);
    free(buf);
}

void test_wire_register(void)
{
    CU_pSuite s = CU_add_suite("wire", s_suite_init, s_suite_clean);
    CU_add_test(s, "task stats survive the wire", task_stats_survive_the_wire);
    CU_add_test(s, "register and ack round trip between a DEALER and a ROUTER",
                register_and_ack_round_trip_between_dealer_and_router);
    CU_add_test(s, "a heartbeat carries every task stat", heartbeat_carries_every_task_stat);
    CU_add_test(s, "a deploy with tasks and a long job file round trips",
                deploy_with_tasks_and_a_long_job_file_round_trips);
    CU_add_test(s, "PAIR sockets carry envelopes too", pair_sockets_carry_envelopes_too);
    CU_add_test(s, "another major version is refused", another_major_version_is_refused);
    CU_add_test(s, "garbage bytes are refused", garbage_bytes_are_refused);
    CU_add_test(s, "truncated envelopes are refused or decode a prefix",
                truncated_envelopes_are_refused_or_decode_a_prefix);
    CU_add_test(s, "a frame with a batch of every type arrives equal",
                frame_with_a_batch_of_every_type_arrives_equal);
    CU_add_test(s, "a frame with only a watermark has an empty batch part",
                frame_with_only_a_watermark_has_an_empty_batch_part);
    CU_add_test(s, "credit and hello round trip", credit_and_hello_round_trip);
    CU_add_test(s, "data messages of another version or malformed are refused",
                data_messages_of_another_version_or_malformed_are_refused);
    CU_add_test(s, "a hello with too many channels is refused",
                hello_with_too_many_channels_is_refused);
    CU_add_test(s, "decode_batch accepts a well-formed batch",
                decode_batch_accepts_a_well_formed_batch);
    CU_add_test(s, "decode_batch refuses a wrong column count",
                decode_batch_refuses_a_wrong_column_count);
    CU_add_test(s, "decode_batch refuses more rows than the receiving batch holds",
                decode_batch_refuses_more_rows_than_the_receiving_batch_holds);
    CU_add_test(s, "decode_batch refuses inconsistent string lengths",
                decode_batch_refuses_inconsistent_string_lengths);
    CU_add_test(s, "a batch without string bytes or rows decodes",
                batch_without_string_bytes_or_rows_decodes);
    CU_add_test(s, "the widest batch decodes on a thread's first frame",
                widest_batch_decodes_on_a_threads_first_frame);
    CU_add_test(s, "decoders never crash on truncated or random bytes (seeded)",
                decoders_never_crash_on_truncated_or_random_bytes);
    CU_add_test(s, "checkpoint metadata round trips", checkpoint_metadata_round_trips);
    CU_add_test(s, "checkpoint metadata that breaks a bound is refused",
                checkpoint_metadata_that_breaks_a_bound_is_refused);
}
