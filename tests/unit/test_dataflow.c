/* dataflow: one job attempt on one node. These tests play the node: they
 * parse a job file, plan it, start a dataflow per "node" and run the
 * node's I/O loop themselves (node/node.c does the same with real
 * sockets): task events come through the events queue (weir_df_on_event),
 * and for tasks on two nodes the test owns each node's data ROUTER on an
 * inproc endpoint, decodes what arrives and hands hellos and frames to
 * weir_df_on_hello / weir_df_on_frame.
 *
 * The input is a CSV file written by the test with seeded random keys,
 * amounts and event-time disorder; the test computes the expected count
 * and sum per (key, window) itself and compares them with the published
 * part files. With two splits, a row that is late for its own split may or
 * may not be late for its keyed task (that depends on how the splits
 * interleave), so those tests check that every row is either counted or in
 * the late file, and that only such rows are late; with one split and one
 * row per batch the late rows are exactly those of the per-row model.
 * Seeds print on failure; WEIR_TEST_SEED replays one. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#include "dataflow.h"
#include "filesink.h"
#include "err.h"
#include "jobspec.h"
#include "keygroup.h"
#include "plan.h"
#include "state.h"
#include "testrand.h"
#include "timeu.h"
#include "wire.h"

#define JOB_ID "dftest-1"
#define ATTEMPT 3u
#define RUN_LIMIT_MS 20000 /* a run that takes longer has hung: fail, do not wait */

/* ---- fixture: a temp dir, a ZeroMQ context ----------------------------- */

static char s_dir[64];
static void *s_zctx;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void s_up(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/weir-df-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(s_dir));
    s_zctx = zmq_ctx_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s_zctx);
}

static void s_down(void)
{
    zmq_ctx_term(s_zctx);
    s_zctx = NULL;
    nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static weir_state_t *s_state(const char *name)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    weir_state_t *st = NULL;
    if (weir_state_open(path, &st, err, sizeof err) != 0)
        printf("\ndataflow: cannot open state in %s: %s\n", path, err);
    return st;
}

/* ---- the input: rows, the CSV file, the expected output ----------------- */

enum { N_KEYS = 7, N_WIN = 64, MAX_ROWS = 1200, WIN_MS = 1000, D_MS = 500 };
#define T0 INT64_C(1700000010000) /* first event time; windows from T0 - 10 s */
#define W0 (T0 - 10000)

typedef struct {
    int64_t ts, key;
    bool has_amount;
    double amount;
    bool candidate; /* late for its own split's watermark (or could be) */
} row_t;

static row_t s_rows[MAX_ROWS];
static uint32_t s_n_rows;

/* n in-order rows, every event time at most 400 ms behind the largest
 * before it (within max_out_of_orderness, so never late), plus, when
 * with_late, after every 40th row one row 5 s in the past. */
static void s_make_rows(uint64_t seed, uint32_t n, bool with_late)
{
    testrand_t r;
    testrand_seed(&r, seed);
    s_n_rows = 0;
    for (uint32_t i = 0; i < n && s_n_rows + 2 <= MAX_ROWS; i++) {
        row_t *x = &s_rows[s_n_rows++];
        x->ts = T0 + (int64_t)i * 50 - testrand_below(&r, 401);
        x->key = testrand_below(&r, N_KEYS);
        x->has_amount = testrand_below(&r, 10) != 0;
        x->amount = testrand_below(&r, 100) + 0.25; /* sums are exact */
        x->candidate = false;
        if (with_late && i % 40 == 39) {
            row_t *l = &s_rows[s_n_rows++];
            *l = *x;
            l->ts = x->ts - 5000;
            l->key = testrand_below(&r, N_KEYS);
            l->candidate = true;
        }
    }
}

#define CSV_HEADER "key,comment,ts,amount\n"

static void s_write_csv(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    /* A column the job does not use, and columns in another order than
     * the schema: the reader matches them by name. */
    fprintf(f, CSV_HEADER);
    for (uint32_t i = 0; i < s_n_rows; i++) {
        const row_t *x = &s_rows[i];
        fprintf(f, "%" PRId64 ",\"row %u, as text\",%" PRId64 ",", x->key, i, x->ts);
        if (x->has_amount)
            fprintf(f, "%.2f", x->amount);
        fprintf(f, "\n");
    }
    fclose(f);
}

static int s_win(int64_t ts)
{
    return (int)((ts - W0) / WIN_MS);
}

typedef struct {
    uint64_t n;
    uint32_t n_amounts;
    double sum;
} agg_t;

/* ---- the job ------------------------------------------------------------ */

static weir_job_t s_job;

/* Parses the test job (as a node does) with `extra` YAML lines appended. */
static int s_parse_job(int splits, int parallelism, const char *input, const char *extra)
{
    char yaml[2048], err[512];
    snprintf(yaml, sizeof yaml,
             "name: dftest\n"
             "parallelism: %d\n"
             "max_key_groups: 16\n"
             "source:\n"
             "  path: %s\n"
             "  splits: %d\n"
             "  schema:\n"
             "    - {name: ts, type: timestamp, format: epoch_ms}\n"
             "    - {name: key, type: int64}\n"
             "    - {name: amount, type: double}\n"
             "  event_time: ts\n"
             "  watermark: {max_out_of_orderness: %d}\n"
             "key_by: [key]\n"
             "window: {type: tumbling, size: 1s}\n"
             "late: {policy: file, path: late}\n"
             "aggregate:\n"
             "  - {fn: count, as: n}\n"
             "  - {fn: sum, field: amount, as: total}\n"
             "%s",
             parallelism, input, splits, D_MS, extra);
    memset(&s_job, 0, sizeof s_job);
    int rc = weir_jobspec_parse(yaml, strlen(yaml), "dftest.yaml", s_dir, WEIR_JOBSPEC_RUNNABLE,
                                &s_job, err, sizeof err);
    if (rc)
        printf("\ndataflow: the test job does not parse: %s\n", err);
    return rc;
}

/* ---- a node, played by the test ----------------------------------------- */

typedef struct {
    const char *id;
    char endpoint[64];
    void *router; /* its data ROUTER (NULL when everything is local) */
    weir_queue_t *events;
    weir_state_t *state;
    weir_df_t *df;
    uint32_t done_events; /* TASK_DONE events seen */
    uint32_t refused;     /* frames weir_df_on_frame did not take */
    uint32_t dropped;     /* messages for a dataflow not started (yet) */
} node_t;

static void s_node_up(node_t *n, const char *id, bool with_router)
{
    memset(n, 0, sizeof *n);
    n->id = id;
    snprintf(n->endpoint, sizeof n->endpoint, "inproc://weir-df-%s", id);
    n->events = weir_queue_new(sizeof(weir_df_event_t), 4096, true);
    n->state = s_state(id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n->events);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n->state);
    if (!with_router)
        return;
    n->router = zmq_socket(s_zctx, ZMQ_ROUTER);
    int hwm = 0, linger = 0;
    zmq_setsockopt(n->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(n->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(n->router, ZMQ_LINGER, &linger, sizeof linger);
    CU_ASSERT_EQUAL_FATAL(zmq_bind(n->router, n->endpoint), 0);
}

static void s_node_down(node_t *n)
{
    weir_df_destroy(&n->df);
    if (n->router)
        zmq_close(n->router);
    n->router = NULL;
    weir_queue_destroy(&n->events);
    weir_state_destroy(&n->state);
}

/* The plan's tasks with the node ids and endpoints of nodes[]. */
static uint32_t s_plan(node_t *nodes, uint32_t n_nodes, weir_df_task_t *tasks)
{
    weir_plan_task_t plan[WEIR_PLAN_MAX_TASKS];
    uint32_t n = 0;
    CU_ASSERT_EQUAL_FATAL(weir_plan_build(&s_job, n_nodes, plan, WEIR_PLAN_MAX_TASKS, &n), 0);
    for (uint32_t i = 0; i < n; i++) {
        memset(&tasks[i], 0, sizeof tasks[i]);
        tasks[i].plan = plan[i];
        snprintf(tasks[i].node_id, sizeof tasks[i].node_id, "%s", nodes[plan[i].node].id);
        snprintf(tasks[i].endpoint, sizeof tasks[i].endpoint, "%s", nodes[plan[i].node].endpoint);
    }
    return n;
}

static int s_start(node_t *n, const weir_df_task_t *tasks, uint32_t n_tasks, uint64_t df_id)
{
    weir_df_config_t cfg = {.job_id = JOB_ID,
                            .attempt = ATTEMPT,
                            .job = &s_job,
                            .tasks = tasks,
                            .n_tasks = n_tasks,
                            .self_id = n->id,
                            .zctx = s_zctx,
                            .state = n->state,
                            .events = n->events,
                            .df_id = df_id};
    char err[512] = "";
    int rc = weir_df_start(&cfg, &n->df, err, sizeof err);
    if (rc)
        printf("\ndataflow: weir_df_start on %s: %s\n", n->id, err);
    return rc;
}

/* What node_on_events does: drain the fd, handle every event. */
static void s_node_events(node_t *n)
{
    weir_queue_drain_fd(n->events);
    weir_df_event_t ev;
    while (weir_queue_pop(n->events, &ev, 0)) {
        CU_ASSERT_EQUAL(ev.df_id, weir_df_id(n->df));
        if (ev.kind == WEIR_DF_EV_TASK_DONE)
            n->done_events++;
        else
            weir_df_on_event(n->df, n->router, &ev);
    }
}

/* What node_on_data does for one message on the ROUTER: [rid, header,
 * (batch)]; hellos and frames of this job attempt go to the dataflow. */
static weir_data_msg_t s_dm; /* large */

static bool s_node_data(node_t *n)
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
            zmq_msg_move(&parts[np++], &m);
        }
        zmq_msg_close(&m);
    }
    bool got = np > 0;
    CU_ASSERT(np == 0 || np >= 2);
    if (np > 0 && !n->df) {
        n->dropped++; /* as a node drops what is for an attempt it does not run */
    } else if (np >= 2 && weir_wire_decode_data(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]),
                                                &s_dm) == 0) {
        if (s_dm.kind == WEIR_DATA_HELLO && strcmp(s_dm.job, JOB_ID) == 0 &&
            s_dm.attempt == ATTEMPT) {
            weir_df_on_hello(n->df, n->router, zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]),
                             s_dm.channels, s_dm.n_channels);
        } else if (s_dm.kind == WEIR_DATA_FRAME && strcmp(s_dm.frame.job, JOB_ID) == 0 &&
                   s_dm.frame.attempt == ATTEMPT) {
            if (weir_df_on_frame(n->df, &s_dm.frame, np >= 3 ? &parts[2] : NULL) != 0)
                n->refused++;
        } else {
            CU_FAIL("a data message that is not a hello or frame of this job attempt");
        }
    } else if (np >= 2) {
        CU_FAIL("an undecodable data message");
    }
    for (int i = 0; i < np; i++)
        zmq_msg_close(&parts[i]);
    return got;
}

/* The I/O loop of every node at once, until each dataflow is done or
 * limit_ms passed. Returns true when all are done. A node without a
 * dataflow yet drops what it receives. */
static bool s_run(node_t *nodes, uint32_t n_nodes, int64_t limit_ms)
{
    int64_t deadline = s_mono_ms() + limit_ms;
    for (;;) {
        bool all_done = true;
        for (uint32_t i = 0; i < n_nodes; i++)
            all_done &= nodes[i].df && weir_df_done(nodes[i].df);
        if (all_done)
            return true;
        if (s_mono_ms() > deadline)
            return false;
        zmq_pollitem_t items[8];
        int ni = 0;
        for (uint32_t i = 0; i < n_nodes; i++) {
            items[ni++] =
                (zmq_pollitem_t){.fd = weir_queue_fd(nodes[i].events), .events = ZMQ_POLLIN};
            if (nodes[i].router)
                items[ni++] = (zmq_pollitem_t){.socket = nodes[i].router, .events = ZMQ_POLLIN};
        }
        zmq_poll(items, ni, 100);
        /* Data first, then events: both are drained every round anyway. */
        for (uint32_t i = 0; i < n_nodes; i++)
            if (nodes[i].router)
                for (int k = 0; k < 256 && s_node_data(&nodes[i]); k++)
                    ;
        for (uint32_t i = 0; i < n_nodes; i++)
            if (nodes[i].df)
                s_node_events(&nodes[i]);
    }
}

/* ---- reading the output ------------------------------------------------- */

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    buf[got] = 0;
    fclose(f);
    return buf;
}

/* Names in dir that start with prefix (0 when dir does not exist). */
static int s_count_files(const char *sub, const char *prefix)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static uint32_t s_owner(int64_t key, uint32_t P)
{
    /* The canonical key bytes of one int64 column: tag 0x00, big-endian. */
    uint8_t kb[9] = {0};
    for (int i = 0; i < 8; i++)
        kb[1 + i] = (uint8_t)((uint64_t)key >> (56 - 8 * i));
    return weir_keygroup_owner(weir_keygroup_of(kb, sizeof kb, 16), P, 16);
}

typedef struct {
    agg_t got[N_KEYS][N_WIN];
    bool seen[N_KEYS][N_WIN];
    uint32_t result_rows;
    bool late_row[MAX_ROWS]; /* row i of s_rows is in a late file */
    uint32_t late_rows;
    const char *why;
} output_t;

static output_t s_out;

/* Reads results/part-k.csv and late/part-k.csv for every keyed task k. */
static void s_read_output(uint32_t P)
{
    memset(&s_out, 0, sizeof s_out);
    output_t *o = &s_out;
    for (uint32_t k = 0; k < P && !o->why; k++) {
        char path[128];
        char part[96];
        weir_filesink_final_name(k, 9000000000000000000ULL + ATTEMPT, part); /* the last part of the attempt */
        snprintf(path, sizeof path, "%s/results/%s", s_dir, part);
        char *text = s_slurp(path);
        if (!text) {
            o->why = "a result file is missing";
            break;
        }
        const char *hdr = "key,window_start,window_end,n,total\n";
        if (strncmp(text, hdr, strlen(hdr)) != 0)
            o->why = "a result file has the wrong header";
        for (char *p = text + strlen(hdr); *p && !o->why;) {
            char *e;
            int64_t key = strtoll(p, &e, 10);
            int64_t start = strtoll(e + 1, &e, 10);
            int64_t end = strtoll(e + 1, &e, 10);
            uint64_t n = strtoull(e + 1, &e, 10);
            bool has_sum = e[1] != '\n';
            double sum = has_sum ? strtod(e + 1, &e) : 0;
            p = strchr(e, '\n');
            p = p ? p + 1 : e + strlen(e);
            int w = s_win(start);
            if (key < 0 || key >= N_KEYS || w < 0 || w >= N_WIN || (start - W0) % WIN_MS ||
                end != start + WIN_MS) {
                o->why = "a result row with a bad key or window";
            } else if (o->seen[key][w]) {
                o->why = "a (key, window) is in the results twice";
            } else if (s_owner(key, P) != k) {
                o->why = "a key is in the result file of a task that does not own it";
            } else {
                o->seen[key][w] = true;
                o->got[key][w] = (agg_t){.n = n, .n_amounts = has_sum, .sum = sum};
                o->result_rows++;
            }
        }
        free(text);

        weir_filesink_final_name(k, 9000000000000000000ULL + ATTEMPT, part);
        snprintf(path, sizeof path, "%s/late/%s", s_dir, part);
        text = s_slurp(path);
        if (!text) {
            o->why = "a late file is missing";
            break;
        }
        const char *lhdr = "ts,key,amount\n";
        if (strncmp(text, lhdr, strlen(lhdr)) != 0)
            o->why = "a late file has the wrong header";
        for (char *p = text + strlen(lhdr); *p && !o->why;) {
            char *e;
            int64_t ts = strtoll(p, &e, 10);
            int64_t key = strtoll(e + 1, &e, 10);
            bool has_amount = e[1] != '\n';
            double amount = has_amount ? strtod(e + 1, &e) : 0;
            p = strchr(e, '\n');
            p = p ? p + 1 : e + strlen(e);
            /* Find the row (the first not yet matched with these values). */
            uint32_t i;
            for (i = 0; i < s_n_rows; i++) {
                const row_t *x = &s_rows[i];
                if (!o->late_row[i] && x->ts == ts && x->key == key &&
                    x->has_amount == has_amount && (!has_amount || x->amount == amount))
                    break;
            }
            if (i == s_n_rows) {
                o->why = "the late file holds a row that is not in the input";
            } else if (s_owner(key, P) != k) {
                o->why = "a late row is in the file of a task that does not own its key";
            } else {
                o->late_row[i] = true;
                o->late_rows++;
            }
        }
        free(text);
    }
}

/* Every row not in a late file is counted in its (key, window), and
 * nothing else is; late rows are candidates only. Returns why not. */
static const char *s_check_output(uint32_t P)
{
    s_read_output(P);
    if (s_out.why)
        return s_out.why;
    static agg_t want[N_KEYS][N_WIN];
    memset(want, 0, sizeof want);
    for (uint32_t i = 0; i < s_n_rows; i++) {
        const row_t *x = &s_rows[i];
        if (s_out.late_row[i]) {
            if (!x->candidate)
                return "a row within the out-of-orderness bound was called late";
            continue;
        }
        agg_t *a = &want[x->key][s_win(x->ts)];
        a->n++;
        if (x->has_amount) {
            a->n_amounts++;
            a->sum += x->amount;
        }
    }
    for (int k = 0; k < N_KEYS; k++) {
        for (int w = 0; w < N_WIN; w++) {
            const agg_t *a = &want[k][w], *g = &s_out.got[k][w];
            if ((a->n > 0) != s_out.seen[k][w])
                return a->n ? "a (key, window) with rows has no result"
                            : "a result for a (key, window) without rows";
            if (a->n != g->n)
                return "a count differs";
            if ((a->n_amounts > 0) != (g->n_amounts > 0) || a->sum != g->sum)
                return "a sum differs";
        }
    }
    return NULL;
}

/* The late rows of the per-row model (one split, one row per batch):
 * a row is late when W, after the rows before it, has passed its window. */
static void s_model_late(bool *late)
{
    int64_t w = WEIR_TS_MIN, max_ts = WEIR_TS_MIN;
    for (uint32_t i = 0; i < s_n_rows; i++) {
        const row_t *x = &s_rows[i];
        int64_t end = W0 + (int64_t)(s_win(x->ts) + 1) * WIN_MS;
        late[i] = w >= end - 1;
        if (x->ts > max_ts)
            max_ts = x->ts;
        int64_t nw = weir_sat_sub(weir_sat_sub(max_ts, D_MS), 1);
        w = nw > w ? nw : w;
    }
}

typedef struct {
    uint64_t src_in, src_out, win_in, win_out, late, bytes_read, bytes_total;
    uint32_t n, finished;
    const char *why;
} stats_sum_t;

static void s_add_stats(stats_sum_t *s, const weir_df_t *df)
{
    for (uint32_t i = 0; i < weir_df_n_local(df); i++) {
        weir_df_stats_t st;
        weir_df_stats(df, i, &st);
        s->n++;
        s->finished += st.state == WEIR_DF_FINISHED;
        if (st.state == WEIR_DF_FINISHED && st.watermark_ms != WEIR_TS_MAX)
            s->why = "a finished task's watermark is not +inf";
        if (st.kind == WEIR_TASK_SOURCE) {
            s->src_in += st.rows_in;
            s->src_out += st.rows_out;
            s->bytes_read += st.bytes_read;
            s->bytes_total += st.bytes_total;
        } else {
            s->win_in += st.rows_in;
            s->win_out += st.rows_out;
            s->late += st.late;
        }
    }
}

/* Stats agree with the input and the output files. */
static void s_check_stats(node_t *nodes, uint32_t n_nodes, uint32_t n_tasks)
{
    stats_sum_t s = {0};
    for (uint32_t i = 0; i < n_nodes; i++) {
        s_add_stats(&s, nodes[i].df);
        /* Every local task reported its end once. */
        CU_ASSERT_EQUAL(nodes[i].done_events, weir_df_n_local(nodes[i].df));
        CU_ASSERT_EQUAL(nodes[i].refused, 0);
    }
    CU_ASSERT_PTR_NULL(s.why);
    CU_ASSERT_EQUAL(s.n, n_tasks);
    CU_ASSERT_EQUAL(s.finished, n_tasks);
    CU_ASSERT_EQUAL(s.src_in, s_n_rows);
    CU_ASSERT_EQUAL(s.src_out, s_n_rows);
    CU_ASSERT_EQUAL(s.win_in, s_n_rows);
    CU_ASSERT_EQUAL(s.win_out, s_out.result_rows);
    CU_ASSERT_EQUAL(s.late, s_out.late_rows);
    CU_ASSERT_EQUAL(s.bytes_read, s.bytes_total);
    char path[128];
    snprintf(path, sizeof path, "%s/in.csv", s_dir);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    /* The splits cover the file after its header, and nothing twice. */
    CU_ASSERT_EQUAL(s.bytes_total, (uint64_t)sb.st_size - strlen(CSV_HEADER));
    /* No bad rows: no bad file. */
    CU_ASSERT_EQUAL(s_count_files("bad", "part-"), 0);
}

/* ---- tests -------------------------------------------------------------- */

static void one_node_running_every_task_publishes_the_expected_windows(void)
{
    uint64_t seed = testrand_seed_at(0);
    s_up();
    s_make_rows(seed, 400, true);
    s_write_csv("in.csv");
    CU_ASSERT_EQUAL_FATAL(
        s_parse_job(2, 3, "in.csv", "sink: {path: results}\nbatch: {max_rows: 32}\n"), 0);
    node_t n1;
    s_node_up(&n1, "n1", false);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(&n1, 1, tasks);
    CU_ASSERT_EQUAL(n_tasks, 5);
    CU_ASSERT_EQUAL_FATAL(s_start(&n1, tasks, n_tasks, 11), 0);
    CU_ASSERT_EQUAL(weir_df_n_local(n1.df), 5);
    CU_ASSERT_STRING_EQUAL(weir_df_job(n1.df), JOB_ID);
    CU_ASSERT_EQUAL(weir_df_attempt(n1.df), ATTEMPT);
    CU_ASSERT_EQUAL(weir_df_id(n1.df), 11);
    bool done = s_run(&n1, 1, RUN_LIMIT_MS);
    CU_ASSERT_TRUE(done);
    const char *why = done ? s_check_output(3) : "the dataflow did not finish";
    if (why)
        printf("\ndataflow: seed %" PRIu64 ": %s\n", seed, why);
    CU_ASSERT_PTR_NULL(why);
    if (done)
        s_check_stats(&n1, 1, n_tasks);
    /* Every ended task's final state is handed out once, whatever order
     * its TASK_DONE event came in (a node reports with it). */
    bool seen[WEIR_PLAN_MAX_TASKS] = {false};
    weir_df_stats_t st;
    uint32_t reports = 0;
    while (weir_df_next_report(n1.df, &st)) {
        CU_ASSERT(st.task < n_tasks && !seen[st.task]);
        if (st.task < n_tasks)
            seen[st.task] = true;
        CU_ASSERT_EQUAL(st.state, WEIR_DF_FINISHED);
        reports++;
    }
    CU_ASSERT_EQUAL(reports, n_tasks);
    CU_ASSERT_FALSE(weir_df_next_report(n1.df, &st));
    /* Published files only: nothing in progress is left over. */
    CU_ASSERT_EQUAL(s_count_files("results", "part-"), 3);
    CU_ASSERT_EQUAL(s_count_files("results", "."), 2); /* . and .. */
    CU_ASSERT_EQUAL(s_count_files("late", "."), 2);
    s_node_down(&n1);
    s_down();
}

static void one_split_with_one_row_per_batch_makes_exactly_the_model_rows_late(void)
{
    uint64_t seed = testrand_seed_at(0) + 100;
    s_up();
    s_make_rows(seed, 300, true);
    s_write_csv("in.csv");
    CU_ASSERT_EQUAL_FATAL(
        s_parse_job(1, 3, "in.csv", "sink: {path: results}\nbatch: {max_rows: 1}\n"), 0);
    node_t n1;
    s_node_up(&n1, "n1", false);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(&n1, 1, tasks);
    CU_ASSERT_EQUAL_FATAL(s_start(&n1, tasks, n_tasks, 1), 0);
    bool done = s_run(&n1, 1, RUN_LIMIT_MS);
    CU_ASSERT_TRUE(done);
    const char *why = done ? s_check_output(3) : "the dataflow did not finish";
    static bool model[MAX_ROWS];
    s_model_late(model);
    uint32_t n_model = 0;
    for (uint32_t i = 0; i < s_n_rows && !why; i++) {
        n_model += model[i];
        if (model[i] != s_out.late_row[i])
            why = model[i] ? "a row the model calls late was counted"
                           : "a row the model counts was called late";
    }
    if (why)
        printf("\ndataflow: seed %" PRIu64 ": %s\n", seed, why);
    CU_ASSERT_PTR_NULL(why);
    /* The test data has late rows to find (all but the earliest). */
    CU_ASSERT(n_model >= 5);
    if (done)
        s_check_stats(&n1, 1, n_tasks);
    s_node_down(&n1);
    s_down();
}

/* Two nodes in one process: tasks are placed over n1 and n2 by the plan,
 * so some channels stay on a node and some cross between them. */
static void s_two_nodes(const char *extra, uint64_t seed, bool n2_starts_late)
{
    s_up();
    s_make_rows(seed, 400, true);
    s_write_csv("in.csv");
    CU_ASSERT_EQUAL_FATAL(s_parse_job(2, 3, "in.csv", extra), 0);
    node_t nodes[2];
    s_node_up(&nodes[0], "n1", true);
    s_node_up(&nodes[1], "n2", true);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(nodes, 2, tasks);
    CU_ASSERT_EQUAL_FATAL(s_start(&nodes[0], tasks, n_tasks, 1), 0);
    if (n2_starts_late) {
        /* n2 gets the deployment later: n1's senders find nobody there and
         * say hello again every 100 ms until somebody answers. */
        CU_ASSERT_FALSE(s_run(nodes, 2, 250));
        CU_ASSERT(nodes[1].dropped >= 1);
        CU_ASSERT_FALSE(weir_df_done(nodes[0].df));
    }
    CU_ASSERT_EQUAL_FATAL(s_start(&nodes[1], tasks, n_tasks, 2), 0);
    CU_ASSERT_EQUAL(weir_df_n_local(nodes[0].df) + weir_df_n_local(nodes[1].df), n_tasks);
    CU_ASSERT(weir_df_n_local(nodes[0].df) > 0 && weir_df_n_local(nodes[1].df) > 0);
    bool done = s_run(nodes, 2, RUN_LIMIT_MS);
    if (!done)
        printf("\ndataflow: seed %" PRIu64 ": two nodes did not finish (deadlock?)\n", seed);
    CU_ASSERT_TRUE(done);
    const char *why = done ? s_check_output(3) : NULL;
    if (why)
        printf("\ndataflow: seed %" PRIu64 ": %s\n", seed, why);
    CU_ASSERT_PTR_NULL(why);
    if (done)
        s_check_stats(nodes, 2, n_tasks);
    s_node_down(&nodes[0]);
    s_node_down(&nodes[1]);
    s_down();
}

static void two_nodes_started_at_different_times_publish_the_expected_windows(void)
{
    s_two_nodes("sink: {path: results}\n", testrand_seed_at(0) + 200, true);
}

static void two_nodes_with_one_row_per_batch_and_one_buffer_per_channel_do_not_deadlock(void)
{
    s_two_nodes("sink: {path: results}\n"
                "batch: {max_rows: 1}\n"
                "network: {buffers_per_channel: 1, floating_buffers: 0}\n",
                testrand_seed_at(0) + 300, false);
}

static void a_missing_input_fails_the_source_tasks_naming_the_file(void)
{
    s_up();
    CU_ASSERT_EQUAL_FATAL(s_parse_job(2, 2, "no-such.csv", "sink: {path: results}\n"), 0);
    node_t n1;
    s_node_up(&n1, "n1", false);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(&n1, 1, tasks);
    CU_ASSERT_EQUAL_FATAL(s_start(&n1, tasks, n_tasks, 1), 0);
    /* Both sources report their end; the keyed tasks wait for input (the
     * coordinator fails the job and cancels them). */
    int64_t deadline = s_mono_ms() + RUN_LIMIT_MS;
    while (n1.done_events < 2 && s_mono_ms() < deadline) {
        struct pollfd p = {.fd = weir_queue_fd(n1.events), .events = POLLIN};
        poll(&p, 1, 100);
        s_node_events(&n1);
    }
    CU_ASSERT_EQUAL(n1.done_events, 2);
    CU_ASSERT_FALSE(weir_df_done(n1.df));
    char path[128];
    snprintf(path, sizeof path, "%s/no-such.csv", s_dir);
    for (uint32_t i = 0; i < weir_df_n_local(n1.df); i++) {
        weir_df_stats_t st;
        weir_df_stats(n1.df, i, &st);
        if (st.kind == WEIR_TASK_SOURCE) {
            CU_ASSERT_EQUAL(st.state, WEIR_DF_FAILED);
            CU_ASSERT_PTR_NOT_NULL(strstr(st.error, path));
            CU_ASSERT_PTR_NOT_NULL(strstr(st.error, "No such file"));
        } else {
            CU_ASSERT_EQUAL(st.state, WEIR_DF_RUNNING);
            CU_ASSERT_STRING_EQUAL(st.error, "");
        }
    }
    int64_t t0 = s_mono_ms();
    weir_df_destroy(&n1.df);
    CU_ASSERT_PTR_NULL(n1.df);
    CU_ASSERT(s_mono_ms() - t0 < 1000);
    CU_ASSERT_EQUAL(s_count_files("results", "part-"), 0);
    CU_ASSERT_EQUAL(s_count_files("results", "." JOB_ID), 0);
    CU_ASSERT_EQUAL(s_count_files("late", "part-"), 0);
    CU_ASSERT_EQUAL(s_count_files("late", ".part-"), 0);
    s_node_down(&n1);
    s_down();
}

static void a_canceled_dataflow_stops_promptly_and_publishes_nothing(void)
{
    s_up();
    s_make_rows(testrand_seed_at(0) + 400, 400, false);
    s_write_csv("in.csv");
    /* One row per batch fires windows as the watermark moves, and the
     * sink writes one result row per second: the job would take minutes. */
    CU_ASSERT_EQUAL_FATAL(s_parse_job(2, 3, "in.csv",
                                      "sink: {path: results, max_rows_per_second: 1}\n"
                                      "batch: {max_rows: 1}\n"),
                          0);
    node_t n1;
    s_node_up(&n1, "n1", false);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(&n1, 1, tasks);
    CU_ASSERT_EQUAL_FATAL(s_start(&n1, tasks, n_tasks, 1), 0);
    /* Wait until a result row is written (in progress, not published). */
    int64_t deadline = s_mono_ms() + RUN_LIMIT_MS;
    uint64_t out = 0;
    while (out == 0 && s_mono_ms() < deadline) {
        struct pollfd p = {.fd = weir_queue_fd(n1.events), .events = POLLIN};
        poll(&p, 1, 10);
        s_node_events(&n1);
        for (uint32_t i = 0; i < weir_df_n_local(n1.df); i++) {
            weir_df_stats_t st;
            weir_df_stats(n1.df, i, &st);
            out += st.kind == WEIR_TASK_WINDOW ? st.rows_out : 0;
        }
    }
    CU_ASSERT_FATAL(out > 0);
    CU_ASSERT_FALSE(weir_df_done(n1.df));
    CU_ASSERT(s_count_files("results", "." JOB_ID "-") > 0);
    int64_t t0 = s_mono_ms();
    weir_df_cancel(n1.df);
    CU_ASSERT(s_run(&n1, 1, 1000));
    CU_ASSERT(s_mono_ms() - t0 < 1000);
    CU_ASSERT_EQUAL(n1.done_events, n_tasks);
    for (uint32_t i = 0; i < weir_df_n_local(n1.df); i++) {
        weir_df_stats_t st;
        weir_df_stats(n1.df, i, &st);
        if (st.kind == WEIR_TASK_WINDOW) {
            CU_ASSERT_EQUAL(st.state, WEIR_DF_CANCELED);
        } else {
            CU_ASSERT(st.state == WEIR_DF_CANCELED || st.state == WEIR_DF_FINISHED);
        }
    }
    /* A reader finds no result and no late file, published or not. */
    CU_ASSERT_EQUAL(s_count_files("results", "part-"), 0);
    CU_ASSERT_EQUAL(s_count_files("results", "." JOB_ID), 0);
    CU_ASSERT_EQUAL(s_count_files("late", "part-"), 0);
    CU_ASSERT_EQUAL(s_count_files("late", ".part-"), 0);
    t0 = s_mono_ms();
    weir_df_destroy(&n1.df);
    CU_ASSERT(s_mono_ms() - t0 < 1000);
    s_node_down(&n1);
    s_down();
}

static void *s_destroy_main(void *arg)
{
    weir_df_destroy(arg);
    return NULL;
}

static void destroy_returns_promptly_even_when_nobody_drains_the_events(void)
{
    s_up();
    s_make_rows(testrand_seed_at(0) + 500, 400, false);
    s_write_csv("in.csv");
    CU_ASSERT_EQUAL_FATAL(
        s_parse_job(2, 3, "in.csv", "sink: {path: results}\nbatch: {max_rows: 1}\n"), 0);
    node_t n1;
    s_node_up(&n1, "n1", false);
    /* An events queue with room for one event, never drained: what a busy
     * I/O thread's queue looks like while it is itself in weir_df_destroy. */
    weir_queue_destroy(&n1.events);
    n1.events = weir_queue_new(sizeof(weir_df_event_t), 1, true);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(&n1, 1, tasks);
    CU_ASSERT_EQUAL_FATAL(s_start(&n1, tasks, n_tasks, 1), 0);
    /* Destroy on another thread, so that a hang fails the test. */
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, s_destroy_main, &n1.df), 0);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 3;
    if (pthread_timedjoin_np(th, NULL, &dl) != 0) {
        CU_FAIL("weir_df_destroy hangs while task threads wait for room in the events queue");
        /* The dataflow's threads are stuck: leave what they use. */
        nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
        return;
    }
    CU_ASSERT_PTR_NULL(n1.df);
    CU_ASSERT_EQUAL(s_count_files("results", "part-"), 0);
    s_node_down(&n1);
    s_down();
}

/* Receives one data message on a DEALER (header part only) into s_dm. */
static bool s_dealer_recv(void *dealer)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    bool ok = zmq_msg_recv(&m, dealer, 0) >= 0 &&
              weir_wire_decode_data(zmq_msg_data(&m), zmq_msg_size(&m), &s_dm) == 0;
    zmq_msg_close(&m);
    return ok;
}

/* A receiving node only: the job's one source runs on n1 (not started;
 * the test sends in its place), both keyed tasks on n2, so channels 0 and
 * 1 come from n1 over the network. Two buffers per channel. */
static void s_receiver_up(node_t *n2)
{
    s_up();
    CU_ASSERT_EQUAL_FATAL(s_parse_job(1, 2, "in.csv",
                                      "sink: {path: results}\nnetwork: {buffers_per_channel: 2, "
                                      "floating_buffers: 0}\n"),
                          0);
    weir_df_task_t tasks[3];
    memset(tasks, 0, sizeof tasks);
    tasks[0].plan = (weir_plan_task_t){.index = 0, .kind = WEIR_TASK_SOURCE, .split = 0};
    snprintf(tasks[0].node_id, sizeof tasks[0].node_id, "n1");
    snprintf(tasks[0].endpoint, sizeof tasks[0].endpoint, "inproc://weir-df-n1");
    for (uint32_t k = 0; k < 2; k++) {
        tasks[1 + k].plan = (weir_plan_task_t){.index = 1 + k,
                                               .kind = WEIR_TASK_WINDOW,
                                               .keyed_index = k,
                                               .kg_first = k * 8,
                                               .kg_last = k * 8 + 7};
        snprintf(tasks[1 + k].node_id, sizeof tasks[1 + k].node_id, "n2");
        snprintf(tasks[1 + k].endpoint, sizeof tasks[1 + k].endpoint, "inproc://weir-df-n2");
    }
    s_node_up(n2, "n2", true);
    CU_ASSERT_EQUAL_FATAL(s_start(n2, tasks, 3, 7), 0);
    CU_ASSERT_EQUAL(weir_df_n_local(n2->df), 2);
}

/* n1's sender: a DEALER connected to n2 that says hello on channel 0 and
 * gets the receiver's two buffers as credit. */
static void *s_sender_hello(node_t *n2)
{
    void *dealer = zmq_socket(s_zctx, ZMQ_DEALER);
    int linger = 0, timeout = 5000;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    CU_ASSERT_EQUAL(zmq_connect(dealer, n2->endpoint), 0);
    uint32_t ch0 = 0;
    CU_ASSERT_EQUAL(weir_wire_send_hello(dealer, JOB_ID, ATTEMPT, &ch0, 1), 0);
    zmq_pollitem_t it = {.socket = n2->router, .events = ZMQ_POLLIN};
    CU_ASSERT_EQUAL(zmq_poll(&it, 1, 5000), 1);
    CU_ASSERT_TRUE(s_node_data(n2));
    CU_ASSERT(s_dealer_recv(dealer));
    CU_ASSERT_EQUAL(s_dm.kind, WEIR_DATA_CREDIT);
    CU_ASSERT_STRING_EQUAL(s_dm.job, JOB_ID);
    CU_ASSERT_EQUAL(s_dm.attempt, ATTEMPT);
    CU_ASSERT_EQUAL(s_dm.channel, 0);
    CU_ASSERT_EQUAL(s_dm.credits, 2);
    return dealer;
}

static void a_frame_without_credit_is_refused(void)
{
    node_t n2;
    s_receiver_up(&n2);
    weir_frame_hdr_t h = {
        .attempt = ATTEMPT, .channel = 0, .has_watermark = true, .watermark_ms = 1000};
    snprintf(h.job, sizeof h.job, JOB_ID);
    /* Before a hello the channel has no credit at all. */
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, NULL), WEIR_EPROTO);
    /* A channel this node does not consume. */
    h.channel = 2;
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, NULL), WEIR_ENOTFOUND);

    /* n1's sender says hello on channel 0; the receiver grants its two
     * buffers as credit, back to that sender. */
    void *dealer = s_sender_hello(&n2);

    /* Two frames use the two credits; the third is refused. */
    h.channel = 0;
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, NULL), 0);
    h.watermark_ms = 2000;
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, NULL), 0);
    h.watermark_ms = 3000;
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, NULL), WEIR_EPROTO);
    /* Channel 1 said no hello: still nothing. */
    h.channel = 1;
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, NULL), WEIR_EPROTO);

    /* The keyed task consumes both frames and tells the I/O thread, which
     * sends the credits back: one per consumed frame. */
    uint32_t credits = 0;
    int64_t deadline = s_mono_ms() + 5000;
    while (credits < 2 && s_mono_ms() < deadline) {
        struct pollfd p = {.fd = weir_queue_fd(n2.events), .events = POLLIN};
        poll(&p, 1, 100);
        s_node_events(&n2);
        zmq_pollitem_t d = {.socket = dealer, .events = ZMQ_POLLIN};
        while (zmq_poll(&d, 1, 0) == 1 && s_dealer_recv(dealer)) {
            CU_ASSERT_EQUAL(s_dm.kind, WEIR_DATA_CREDIT);
            CU_ASSERT_EQUAL(s_dm.channel, 0);
            credits += s_dm.credits;
        }
    }
    CU_ASSERT_EQUAL(credits, 2);
    /* With credit again, a frame is taken. */
    h.channel = 0;
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, NULL), 0);
    CU_ASSERT_FALSE(weir_df_done(n2.df));
    zmq_close(dealer);
    int64_t t0 = s_mono_ms();
    weir_df_destroy(&n2.df);
    CU_ASSERT(s_mono_ms() - t0 < 1000);
    CU_ASSERT_EQUAL(s_count_files("results", "part-"), 0);
    s_node_down(&n2);
    s_down();
}

static void a_malformed_batch_fails_its_keyed_task_and_nothing_else(void)
{
    node_t n2;
    s_receiver_up(&n2);
    void *dealer = s_sender_hello(&n2);
    weir_frame_hdr_t h = {.attempt = ATTEMPT, .channel = 0};
    snprintf(h.job, sizeof h.job, JOB_ID);
    zmq_msg_t junk;
    zmq_msg_init_size(&junk, 16);
    memset(zmq_msg_data(&junk), 0xFF, 16);
    CU_ASSERT_EQUAL(weir_df_on_frame(n2.df, &h, &junk), 0);
    CU_ASSERT_EQUAL(zmq_msg_size(&junk), 0); /* moved to the consumer */
    zmq_msg_close(&junk);
    int64_t deadline = s_mono_ms() + 5000;
    while (n2.done_events == 0 && s_mono_ms() < deadline) {
        struct pollfd p = {.fd = weir_queue_fd(n2.events), .events = POLLIN};
        poll(&p, 1, 100);
        s_node_events(&n2);
    }
    CU_ASSERT_EQUAL(n2.done_events, 1);
    for (uint32_t i = 0; i < weir_df_n_local(n2.df); i++) {
        weir_df_stats_t st;
        weir_df_stats(n2.df, i, &st);
        if (st.task == 1) {
            CU_ASSERT_EQUAL(st.state, WEIR_DF_FAILED);
            CU_ASSERT_PTR_NOT_NULL(strstr(st.error, "malformed batch on channel 0"));
            CU_ASSERT_PTR_NOT_NULL(strstr(st.error, "source split 0"));
        } else {
            CU_ASSERT_EQUAL(st.state, WEIR_DF_RUNNING);
        }
    }
    zmq_close(dealer);
    weir_df_destroy(&n2.df);
    CU_ASSERT_EQUAL(s_count_files("results", "part-"), 0);
    CU_ASSERT_EQUAL(s_count_files("results", "." JOB_ID), 0);
    s_node_down(&n2);
    s_down();
}

static void a_sender_whose_receiver_never_deploys_waits_and_cancels_promptly(void)
{
    s_up();
    s_make_rows(testrand_seed_at(0) + 600, 400, false);
    s_write_csv("in.csv");
    CU_ASSERT_EQUAL_FATAL(s_parse_job(2, 3, "in.csv", "sink: {path: results}\n"), 0);
    node_t nodes[2];
    s_node_up(&nodes[0], "n1", true);
    s_node_up(&nodes[1], "n2", true);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(nodes, 2, tasks);
    CU_ASSERT_EQUAL_FATAL(s_start(&nodes[0], tasks, n_tasks, 1), 0);
    /* n2 never runs its part: n1's source has no credit for n2's keyed
     * task, so it holds its rows (nothing is dropped) and keeps saying
     * hello; n1's keyed tasks wait for n2's source. */
    CU_ASSERT_FALSE(s_run(nodes, 2, 300));
    CU_ASSERT(nodes[1].dropped >= 1);
    for (uint32_t i = 0; i < weir_df_n_local(nodes[0].df); i++) {
        weir_df_stats_t st;
        weir_df_stats(nodes[0].df, i, &st);
        CU_ASSERT_EQUAL(st.state, WEIR_DF_RUNNING);
    }
    int64_t t0 = s_mono_ms();
    weir_df_destroy(&nodes[0].df);
    CU_ASSERT(s_mono_ms() - t0 < 1000);
    CU_ASSERT_EQUAL(s_count_files("results", "part-"), 0);
    CU_ASSERT_EQUAL(s_count_files("results", "." JOB_ID), 0);
    s_node_down(&nodes[0]);
    s_node_down(&nodes[1]);
    s_down();
}

static void bad_rows_go_beside_the_results_with_line_and_reason(void)
{
    s_up();
    char path[128];
    snprintf(path, sizeof path, "%s/in.csv", s_dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, CSV_HEADER);
    fprintf(f, "1,a,%" PRId64 ",2.5\n", T0);      /* line 2 */
    fprintf(f, "1,b,%" PRId64 ",abc\n", T0 + 10); /* line 3: bad number */
    fprintf(f, "2,c,%" PRId64 "\n", T0 + 20);     /* line 4: a field short */
    fprintf(f, "2,d,yesterday,1\n");              /* line 5: bad timestamp */
    fprintf(f, "1,e,%" PRId64 ",1.5\n", T0 + 30); /* line 6 */
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(s_parse_job(1, 2, "in.csv", "sink: {path: out/results}\n"), 0);
    node_t n1;
    s_node_up(&n1, "n1", false);
    weir_df_task_t tasks[WEIR_PLAN_MAX_TASKS];
    uint32_t n_tasks = s_plan(&n1, 1, tasks);
    CU_ASSERT_EQUAL_FATAL(s_start(&n1, tasks, n_tasks, 1), 0);
    CU_ASSERT_TRUE(s_run(&n1, 1, RUN_LIMIT_MS));
    uint64_t bad = 0, in = 0;
    for (uint32_t i = 0; i < weir_df_n_local(n1.df); i++) {
        weir_df_stats_t st;
        weir_df_stats(n1.df, i, &st);
        CU_ASSERT_EQUAL(st.state, WEIR_DF_FINISHED);
        bad += st.bad;
        in += st.kind == WEIR_TASK_WINDOW ? st.rows_in : 0;
    }
    CU_ASSERT_EQUAL(bad, 3);
    CU_ASSERT_EQUAL(in, 2);
    /* bad/ is beside results/, one file per split. */
    snprintf(path, sizeof path, "%s/out/bad/" JOB_ID "-src-0.csv", s_dir);
    char *text = s_slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strncmp(text, "file,line,reason,record\n", 24), 0);
    char in_csv[128];
    snprintf(in_csv, sizeof in_csv, "%s/in.csv,3,", s_dir);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, in_csv));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "abc"));
    in_csv[strlen(in_csv) - 2] = '4';
    CU_ASSERT_PTR_NOT_NULL(strstr(text, in_csv));
    in_csv[strlen(in_csv) - 2] = '5';
    CU_ASSERT_PTR_NOT_NULL(strstr(text, in_csv));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "yesterday"));
    CU_ASSERT_PTR_NULL(strstr(text, ",2,"));
    CU_ASSERT_PTR_NULL(strstr(text, ",6,"));
    free(text);
    /* The good rows are counted: key 1, one window, 2 rows, 4.0. */
    int found = 0;
    for (uint32_t k = 0; k < 2; k++) {
        char part[96];
        weir_filesink_final_name(k, 9000000000000000000ULL + ATTEMPT, part);
        snprintf(path, sizeof path, "%s/out/results/%s", s_dir, part);
        text = s_slurp(path);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        char want[128];
        snprintf(want, sizeof want, "\n1,%" PRId64 ",%" PRId64 ",2,4.0\n", T0 - T0 % WIN_MS,
                 T0 - T0 % WIN_MS + WIN_MS);
        found += strstr(text, want) != NULL;
        free(text);
    }
    CU_ASSERT_EQUAL(found, 1);
    s_node_down(&n1);
    s_down();
}

void test_dataflow_register(void)
{
    CU_pSuite s = CU_add_suite("dataflow", NULL, NULL);
    CU_add_test(s, "one node running every task publishes the expected windows (seeded)",
                one_node_running_every_task_publishes_the_expected_windows);
    CU_add_test(s, "one split with one row per batch makes exactly the model's rows late (seeded)",
                one_split_with_one_row_per_batch_makes_exactly_the_model_rows_late);
    CU_add_test(s, "two nodes started at different times publish the expected windows (seeded)",
                two_nodes_started_at_different_times_publish_the_expected_windows);
    CU_add_test(s,
                "two nodes with one row per batch and one buffer per channel do not deadlock "
                "(seeded)",
                two_nodes_with_one_row_per_batch_and_one_buffer_per_channel_do_not_deadlock);
    CU_add_test(s, "a missing input fails the source tasks, naming the file",
                a_missing_input_fails_the_source_tasks_naming_the_file);
    CU_add_test(s, "a canceled dataflow stops promptly and publishes nothing",
                a_canceled_dataflow_stops_promptly_and_publishes_nothing);
    CU_add_test(s, "destroy returns promptly even when nobody drains the events",
                destroy_returns_promptly_even_when_nobody_drains_the_events);
    CU_add_test(s, "a frame without credit is refused", a_frame_without_credit_is_refused);
    CU_add_test(s, "a malformed batch fails its keyed task and nothing else",
                a_malformed_batch_fails_its_keyed_task_and_nothing_else);
    CU_add_test(s, "a sender whose receiver never deploys waits and cancels promptly",
                a_sender_whose_receiver_never_deploys_waits_and_cancels_promptly);
    CU_add_test(s, "bad rows go beside the results with line and reason",
                bad_rows_go_beside_the_results_with_line_and_reason);
}
