/* jobs: `weir submit`, `list`, `status`, `cancel`, `nodes`.
 *
 * submit parses and validates the job file here first (with the same
 * parser the coordinator and nodes use), so a bad file is refused with
 * file, line and problem before anything reaches the cluster. */
#include <errno.h>
#include <signal.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "jobs.h"
#include "jobspec.h"

#define CLI_TIMEOUT_MS 5000
#define CLI_MAX_JOB_FILE (1 << 20)

static const char *s_job_state(int s)
{
    return weir_jobs_state_name(s);
}

static const char *s_task_state(int s)
{
    switch (s) {
    case 1: return "DEPLOYING";
    case 2: return "RUNNING";
    case 3: return "FINISHED";
    case 4: return "FAILED";
    case 5: return "CANCELED";
    default: return "UNKNOWN";
    }
}

static char *s_read_file(const char *path, size_t *len)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        fprintf(stderr, "weir: job file %s is not a regular file (a directory?)\n", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "weir: cannot open job file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CLI_MAX_JOB_FILE + 1);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    size_t n = fread(buf, 1, CLI_MAX_JOB_FILE + 1, f);
    fclose(f);
    if (n > CLI_MAX_JOB_FILE) {
        fprintf(stderr, "weir: job file %s is larger than %d bytes\n", path, CLI_MAX_JOB_FILE);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (strlen(buf) != n) {
        fprintf(stderr, "weir: job file %s contains a NUL byte; is it a text file?\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Sends a request about one job (status, cancel, stop, checkpoints,
 * rebalance: the JobRef requests) and gives the reply (NULL: none came). */
static Weir__V1__Reply *s_job_request(const char *endpoint, Weir__V1__Request__ReqCase req_case,
                                      const char *job)
{
    Weir__V1__JobRef ref = WEIR__V1__JOB_REF__INIT;
    ref.job = (char *)job;
    Weir__V1__Request q = WEIR__V1__REQUEST__INIT;
    q.req_case = req_case;
    switch (req_case) {
    case WEIR__V1__REQUEST__REQ_STATUS: q.status = &ref; break;
    case WEIR__V1__REQUEST__REQ_CANCEL: q.cancel = &ref; break;
    case WEIR__V1__REQUEST__REQ_STOP: q.stop = &ref; break;
    case WEIR__V1__REQUEST__REQ_CHECKPOINTS: q.checkpoints = &ref; break;
    case WEIR__V1__REQUEST__REQ_REBALANCE: q.rebalance = &ref; break;
    default: return NULL;
    }
    return cli_request(endpoint, &q, CLI_TIMEOUT_MS);
}

static Weir__V1__JobInfo *s_status(const char *endpoint, const char *job, Weir__V1__Reply **rep)
{
    *rep = s_job_request(endpoint, WEIR__V1__REQUEST__REQ_STATUS, job);
    if (!*rep)
        return NULL;
    if (!(*rep)->ok || (*rep)->n_jobs != 1) {
        fprintf(stderr, "weir: %s\n", (*rep)->error ? (*rep)->error : "no such job");
        cli_reply_free(*rep);
        *rep = NULL;
        return NULL;
    }
    return (*rep)->jobs[0];
}

static void s_progress(const Weir__V1__JobInfo *ji, FILE *f)
{
    uint64_t read = 0, total = 0, in = 0, out = 0, late = 0, bad = 0;
    for (size_t i = 0; i < ji->n_tasks; i++) {
        const Weir__V1__TaskStats *s = ji->tasks[i]->stats;
        if (!s)
            continue;
        if (ji->tasks[i]->kind == WEIR__V1__TASK_KIND__KIND_SOURCE) {
            read += s->bytes_read;
            total += s->bytes_total;
            in += s->records_in;
            bad += s->bad;
        } else {
            out += s->records_out;
            late += s->late;
        }
    }
    char wm[40];
    cli_fmt_ts(ji->watermark_ms, wm, sizeof wm);
    double pct = total ? 100.0 * (double)read / (double)total : 0.0;
    fprintf(f,
            "%s %-8s input %5.1f%% (%.1f/%.1f MB)  rows read %llu  results %llu  late %llu  "
            "bad %llu  watermark %s\n",
            ji->job, s_job_state(ji->state), pct, (double)read / 1e6, (double)total / 1e6,
            (unsigned long long)in, (unsigned long long)out, (unsigned long long)late,
            (unsigned long long)bad, wm);
}

static char s_waiting_for[128];

/* Ctrl-C on `submit --wait` stops the waiting, not the job: say so. */
static void s_on_interrupt(int sig)
{
    (void)sig;
    static const char a[] = "\nweir: stopped waiting; the job keeps running (weir status ";
    static const char b[] = ", or weir cancel to stop it)\n";
    ssize_t w = write(2, a, sizeof a - 1);
    w = write(2, s_waiting_for, strlen(s_waiting_for));
    w = write(2, b, sizeof b - 1);
    (void)w;
    _exit(130);
}

/* Waits for job id to end, printing progress to stderr; says where the
 * results are. 0 when it finished, 1 otherwise. */
static int s_wait_job(const char *endpoint, const char *id)
{
    snprintf(s_waiting_for, sizeof s_waiting_for, "%s", id);
    signal(SIGINT, s_on_interrupt);
    int64_t last_print = 0;
    for (;;) {
        Weir__V1__Reply *sr = NULL;
        Weir__V1__JobInfo *ji = s_status(endpoint, id, &sr);
        if (!ji)
            return 1;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        int state = ji->state;
        if ((state >= 2 && state <= 4) || now - last_print >= 2000) {
            s_progress(ji, stderr);
            last_print = now;
        }
        if (state >= 2 && state <= 4) {
            uint64_t bad = 0;
            for (size_t i = 0; i < ji->n_tasks; i++)
                if (ji->tasks[i]->stats)
                    bad += ji->tasks[i]->stats->bad;
            if (bad) {
                char dir[PATH_MAX], shown[PATH_MAX];
                snprintf(dir, sizeof dir, "%s/../bad", ji->sink_path);
                fprintf(stderr, "%llu rows could not be parsed: see %s/%s-src-*.csv\n",
                        (unsigned long long)bad, realpath(dir, shown) ? shown : dir, id);
            }
            if (state == 2) {
                char shown[PATH_MAX];
                fprintf(stderr, "job %s finished; results in %s\n", id,
                        realpath(ji->sink_path, shown) ? shown : ji->sink_path);
                if (ji->late_path && *ji->late_path)
                    fprintf(stderr, "late rows in %s\n",
                            realpath(ji->late_path, shown) ? shown : ji->late_path);
            } else {
                fprintf(stderr, "job %s %s: %s\n", id, s_job_state(state), ji->error);
            }
            cli_reply_free(sr);
            return state == 2 ? 0 : 1;
        }
        cli_reply_free(sr);
        usleep(200 * 1000);
    }
}

int cli_submit(const char *endpoint, int argc, char **argv)
{
    const char *path = NULL, *from = NULL;
    int wait = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--wait") == 0)
            wait = 1;
        else if (strcmp(argv[i], "--from-savepoint") == 0 && i + 1 < argc && argv[i + 1][0])
            from = argv[++i];
        else if (strcmp(argv[i], "--from-savepoint") == 0) {
            fprintf(stderr, "weir submit: --from-savepoint needs an id, e.g. --from-savepoint "
                            "taxi-zone-hourly-3/7 (see weir checkpoints JOB)\n");
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "weir submit: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!path)
            path = argv[i];
        else {
            fprintf(stderr, "weir submit: one job file at a time\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: weir submit JOB.yaml [--wait] [--from-savepoint ID]\n");
        return 2;
    }
    size_t len;
    char *yaml = s_read_file(path, &len);
    if (!yaml)
        return 2;
    char abs[PATH_MAX];
    if (!realpath(path, abs)) {
        fprintf(stderr, "weir: cannot resolve %s: %s\n", path, strerror(errno));
        free(yaml);
        return 2;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", abs);
    char *base = dirname(dir);
    weir_job_t *job = calloc(1, sizeof *job);
    char err[1024];
    if (!job) {
        free(yaml);
        return 1;
    }
    /* A job resumed from a savepoint continues the output of the one that
     * took it: its directories may hold that job's files. */
    int rc = weir_jobspec_parse(yaml, len, path, base,
                                WEIR_JOBSPEC_CHECK_PATHS | WEIR_JOBSPEC_RUNNABLE |
                                    (from ? 0 : WEIR_JOBSPEC_CHECK_OUTPUT),
                                job, err, sizeof err);
    if (rc) {
        fprintf(stderr, "weir: %s\n", err);
        free(yaml);
        free(job);
        return 2;
    }
    Weir__V1__Submit sub = WEIR__V1__SUBMIT__INIT;
    sub.yaml = yaml;
    sub.base_dir = base;
    sub.file_name = (char *)path;
    sub.from_savepoint = (char *)(from ? from : "");
    Weir__V1__Request q = WEIR__V1__REQUEST__INIT;
    q.req_case = WEIR__V1__REQUEST__REQ_SUBMIT;
    q.submit = &sub;
    Weir__V1__Reply *rep = cli_request(endpoint, &q, CLI_TIMEOUT_MS);
    free(yaml);
    if (!rep) {
        free(job);
        return 1;
    }
    if (!rep->ok) {
        fprintf(stderr, "weir: the coordinator refused %s: %s\n", path, rep->error);
        cli_reply_free(rep);
        free(job);
        return 1;
    }
    char id[128];
    snprintf(id, sizeof id, "%s", rep->job);
    cli_reply_free(rep);
    printf("%s\n", id);
    fflush(stdout);
    free(job);
    if (!wait)
        return 0;
    return s_wait_job(endpoint, id);
}

int cli_list(const char *endpoint, int argc, char **argv)
{
    (void)argv;
    if (argc) {
        fprintf(stderr, "usage: weir list\n");
        return 2;
    }
    Weir__V1__Empty em = WEIR__V1__EMPTY__INIT;
    Weir__V1__Request q = WEIR__V1__REQUEST__INIT;
    q.req_case = WEIR__V1__REQUEST__REQ_LIST;
    q.list = &em;
    Weir__V1__Reply *rep = cli_request(endpoint, &q, CLI_TIMEOUT_MS);
    if (!rep)
        return 1;
    printf("%-40s %-10s %-8s %s\n", "JOB", "STATE", "ATTEMPT", "SUBMITTED");
    for (size_t i = 0; i < rep->n_jobs; i++) {
        const Weir__V1__JobInfo *j = rep->jobs[i];
        char ts[40];
        cli_fmt_ts(j->submitted_ms, ts, sizeof ts);
        printf("%-40s %-10s %-8u %s\n", j->job, s_job_state(j->state), j->attempt, ts);
    }
    cli_reply_free(rep);
    return 0;
}

int cli_status(const char *endpoint, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: weir status JOB\n");
        return 2;
    }
    Weir__V1__Reply *rep = NULL;
    Weir__V1__JobInfo *ji = s_status(endpoint, argv[0], &rep);
    if (!ji)
        return 1;
    char wm[40];
    cli_fmt_ts(ji->watermark_ms, wm, sizeof wm);
    printf("job:       %s (%s)\n", ji->job, ji->name);
    printf("state:     %s\n", s_job_state(ji->state));
    printf("attempt:   %u\n", ji->attempt);
    if (ji->restarts)
        printf("restarts:  %u (last failure: %s)\n", ji->restarts, ji->last_failure);
    if (ji->error && *ji->error)
        printf("reason:    %s\n", ji->error);
    printf("watermark: %s\n", wm);
    if (ji->restored_from && *ji->restored_from)
        printf("restored:  from %s\n", ji->restored_from);
    if (ji->latest_checkpoint) {
        const Weir__V1__CheckpointInfo *ck = ji->latest_checkpoint;
        printf("checkpoint: %s %llu, %lld ms, state %llu bytes (%llu uploaded); %llu completed, "
               "%llu aborted\n",
               ck->savepoint ? "savepoint" : "latest", (unsigned long long)ck->id,
               (long long)ck->duration_ms, (unsigned long long)ck->state_bytes,
               (unsigned long long)ck->incremental_bytes,
               (unsigned long long)ji->checkpoints_completed,
               (unsigned long long)ji->checkpoints_aborted);
    } else if (ji->checkpoints_aborted) {
        printf("checkpoint: none completed, %llu aborted\n",
               (unsigned long long)ji->checkpoints_aborted);
    }
    char shown[PATH_MAX];
    printf("results:   %s\n", realpath(ji->sink_path, shown) ? shown : ji->sink_path);
    if (ji->late_path && *ji->late_path)
        printf("late rows: %s\n", realpath(ji->late_path, shown) ? shown : ji->late_path);
    printf("\n%-4s %-7s %-12s %-22s %-9s %10s %10s %7s %6s %5s %5s  %s\n", "TASK", "KIND", "PART",
           "NODE", "STATE", "ROWS_IN", "ROWS_OUT", "LATE", "BAD", "BUSY", "BP", "WATERMARK");
    for (size_t i = 0; i < ji->n_tasks; i++) {
        const Weir__V1__TaskInfo *t = ji->tasks[i];
        const Weir__V1__TaskStats *s = t->stats;
        char part[32];
        if (t->kind == WEIR__V1__TASK_KIND__KIND_SOURCE)
            snprintf(part, sizeof part, "split %u", t->split);
        else
            snprintf(part, sizeof part, "kg %u-%u", t->kg_first, t->kg_last);
        char tw[40];
        cli_fmt_ts(s ? s->watermark_ms : 0, tw, sizeof tw);
        uint32_t bp = s ? s->backpressured_permille : 0;
        printf("%-4u %-7s %-12s %-22s %-9s %10llu %10llu %7llu %6llu %4u%% %4u%%%s %s\n", t->index,
               t->kind == WEIR__V1__TASK_KIND__KIND_SOURCE ? "source" : "window", part, t->node_id,
               s_task_state(s ? s->state : 0), (unsigned long long)(s ? s->records_in : 0),
               (unsigned long long)(s ? s->records_out : 0), (unsigned long long)(s ? s->late : 0),
               (unsigned long long)(s ? s->bad : 0), s ? s->busy_permille / 10 : 0, bp / 10,
               bp > 500 ? "!" : " ", tw);
        if (s && s->error && *s->error)
            printf("     error: %s\n", s->error);
    }
    /* Flow and latency of the keyed tasks. */
    printf("\n%-4s %8s %8s %12s %12s %12s %10s\n", "TASK", "QUEUED", "CREDITS", "LAT_P50_MS",
           "LAT_P99_MS", "LAT_P999_MS", "RESULTS");
    for (size_t i = 0; i < ji->n_tasks; i++) {
        const Weir__V1__TaskInfo *t = ji->tasks[i];
        const Weir__V1__TaskStats *s = t->stats;
        if (!s || t->kind != WEIR__V1__TASK_KIND__KIND_WINDOW)
            continue;
        if (s->latency_count == 0) { /* nothing measured: no number, not 0 */
            printf("%-4u %8u %8u %12s %12s %12s %10s\n", t->index, s->queued_frames,
                   s->credits_outstanding, "-", "-", "-", "0");
            continue;
        }
        printf("%-4u %8u %8u %12.3f %12.3f %12.3f %10llu\n", t->index, s->queued_frames,
               s->credits_outstanding, (double)s->latency_p50_us / 1000.0,
               (double)s->latency_p99_us / 1000.0, (double)s->latency_p999_us / 1000.0,
               (unsigned long long)s->latency_count);
    }
    cli_reply_free(rep);
    return 0;
}

int cli_cancel(const char *endpoint, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: weir cancel JOB\n");
        return 2;
    }
    Weir__V1__Reply *rep = s_job_request(endpoint, WEIR__V1__REQUEST__REQ_CANCEL, argv[0]);
    if (!rep)
        return 1;
    int rc = 0;
    if (!rep->ok) {
        fprintf(stderr, "weir: %s\n", rep->error);
        rc = 1;
    } else {
        printf("canceled %s\n", rep->job);
    }
    cli_reply_free(rep);
    return rc;
}

int cli_stop(const char *endpoint, int argc, char **argv)
{
    const char *job = NULL;
    int wait = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--wait") == 0)
            wait = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "weir stop: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!job)
            job = argv[i];
        else {
            fprintf(stderr, "weir stop: one job at a time\n");
            return 2;
        }
    }
    if (!job) {
        fprintf(stderr, "usage: weir stop JOB [--wait]\n");
        return 2;
    }
    Weir__V1__Reply *rep = s_job_request(endpoint, WEIR__V1__REQUEST__REQ_STOP, job);
    if (!rep)
        return 1;
    if (!rep->ok) {
        fprintf(stderr, "weir: %s\n", rep->error);
        cli_reply_free(rep);
        return 1;
    }
    char id[128];
    snprintf(id, sizeof id, "%s", rep->job);
    cli_reply_free(rep);
    printf("stopping %s: its sources end their input; every window fires and the results are "
           "published\n",
           id);
    fflush(stdout);
    if (!wait)
        return 0;
    return s_wait_job(endpoint, id);
}

static Weir__V1__Reply *s_checkpoints(const char *endpoint, const char *job)
{
    Weir__V1__Reply *rep = s_job_request(endpoint, WEIR__V1__REQUEST__REQ_CHECKPOINTS, job);
    if (rep && !rep->ok) {
        fprintf(stderr, "weir: %s\n", rep->error);
        cli_reply_free(rep);
        return NULL;
    }
    return rep;
}

int cli_checkpoints(const char *endpoint, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: weir checkpoints JOB\n");
        return 2;
    }
    Weir__V1__Reply *rep = s_checkpoints(endpoint, argv[0]);
    if (!rep)
        return 1;
    printf("%-6s %-9s %-20s %-24s %9s %12s %12s %9s %s\n", "ID", "KIND", "STATE", "TRIGGERED",
           "MS", "STATE_B", "UPLOADED_B", "ALIGN_MS", "RESTORE WITH");
    for (size_t i = 0; i < rep->n_checkpoints; i++) {
        const Weir__V1__CheckpointInfo *c = rep->checkpoints[i];
        char when[40];
        cli_fmt_ts(c->trigger_ms, when, sizeof when);
        char state[48];
        snprintf(state, sizeof state, "%s%s%s", c->phase, c->reason && *c->reason ? ":" : "",
                 c->reason ? c->reason : "");
        char with[160] = "";
        if (c->retained)
            snprintf(with, sizeof with, "--from-savepoint %s/%llu", rep->job,
                     (unsigned long long)c->id);
        printf("%-6llu %-9s %-20s %-24s %9lld %12llu %12llu %9lld %s\n",
               (unsigned long long)c->id, c->savepoint ? "savepoint" : "checkpoint", state, when,
               (long long)c->duration_ms, (unsigned long long)c->state_bytes,
               (unsigned long long)c->incremental_bytes, (long long)c->alignment_ms, with);
    }
    if (rep->n_checkpoints == 0)
        printf("(no checkpoints yet: set checkpoint.interval, or take one with weir savepoint)\n");
    cli_reply_free(rep);
    return 0;
}

int cli_savepoint(const char *endpoint, int argc, char **argv)
{
    const char *job = NULL, *del = NULL;
    bool stop = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--stop") == 0)
            stop = true;
        else if (strcmp(argv[i], "--delete") == 0 && i + 1 < argc)
            del = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "weir savepoint: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!job)
            job = argv[i];
        else {
            fprintf(stderr, "weir savepoint: one job at a time\n");
            return 2;
        }
    }
    if (del && !job && !stop) {
        Weir__V1__SavepointRef ref = WEIR__V1__SAVEPOINT_REF__INIT;
        ref.id = (char *)del;
        Weir__V1__Request q = WEIR__V1__REQUEST__INIT;
        q.req_case = WEIR__V1__REQUEST__REQ_DELETE_SAVEPOINT;
        q.delete_savepoint = &ref;
        Weir__V1__Reply *rep = cli_request(endpoint, &q, CLI_TIMEOUT_MS);
        if (!rep)
            return 1;
        int rc = rep->ok ? 0 : 1;
        if (rep->ok)
            printf("deleted savepoint %s\n", del);
        else
            fprintf(stderr, "weir: %s\n", rep->error);
        cli_reply_free(rep);
        return rc;
    }
    if (!job || del) {
        fprintf(stderr, "usage: weir savepoint JOB [--stop]   or   weir savepoint --delete ID\n");
        return 2;
    }
    Weir__V1__SavepointReq sq = WEIR__V1__SAVEPOINT_REQ__INIT;
    sq.job = (char *)job;
    sq.stop = stop;
    Weir__V1__Request q = WEIR__V1__REQUEST__INIT;
    q.req_case = WEIR__V1__REQUEST__REQ_SAVEPOINT;
    q.savepoint = &sq;
    Weir__V1__Reply *rep = cli_request(endpoint, &q, CLI_TIMEOUT_MS);
    if (!rep)
        return 1;
    if (!rep->ok) {
        fprintf(stderr, "weir: %s\n", rep->error);
        cli_reply_free(rep);
        return 1;
    }
    char want[128];
    snprintf(want, sizeof want, "%s", rep->savepoint ? rep->savepoint : "");
    cli_reply_free(rep);
    /* Wait for it: the coordinator said which id it gets. */
    for (int i = 0; i < 3000; i++) {
        usleep(100 * 1000);
        rep = s_checkpoints(endpoint, job);
        if (!rep)
            return 1;
        const char *id = want[0] ? want : rep->savepoint && *rep->savepoint ? rep->savepoint : NULL;
        const char *slash = id ? strrchr(id, '/') : NULL;
        unsigned long long n = slash ? strtoull(slash + 1, NULL, 10) : 0;
        for (size_t k = 0; n && k < rep->n_checkpoints; k++) {
            const Weir__V1__CheckpointInfo *c = rep->checkpoints[k];
            if (c->id != n)
                continue;
            if (strcmp(c->phase, "completed") == 0) {
                printf("%s\n", id);
                fprintf(stderr, "savepoint %s complete (%lld ms, state %llu bytes)%s; resume "
                                "with: weir submit JOB.yaml --from-savepoint %s\n",
                        id, (long long)c->duration_ms, (unsigned long long)c->state_bytes,
                        stop ? "; the job stopped" : "", id);
                cli_reply_free(rep);
                return 0;
            }
            if (strcmp(c->phase, "aborted") == 0) {
                fprintf(stderr, "weir: savepoint %s aborted (%s)\n", id, c->reason);
                cli_reply_free(rep);
                return 1;
            }
        }
        cli_reply_free(rep);
        if (i % 10 == 9) { /* a job that ended will never complete it */
            Weir__V1__Reply *sr = NULL;
            Weir__V1__JobInfo *ji = s_status(endpoint, job, &sr);
            if (!ji)
                return 1;
            const char *said = ji->error ? strstr(ji->error, "stopped with savepoint ") : NULL;
            if (stop && ji->state == 2 && said) { /* it stopped with its savepoint */
                printf("%s\n", said + strlen("stopped with savepoint "));
                cli_reply_free(sr);
                return 0;
            }
            if (ji->state >= 2 && ji->state <= 4 && !(stop && ji->state == 2)) {
                fprintf(stderr, "weir: job %s is %s before its savepoint completed: %s\n", job,
                        s_job_state(ji->state), ji->error);
                cli_reply_free(sr);
                return 1;
            }
            cli_reply_free(sr);
        }
    }
    fprintf(stderr, "weir: the savepoint of %s did not complete in 5 minutes\n", job);
    return 1;
}

int cli_rebalance(const char *endpoint, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: weir rebalance JOB\n");
        return 2;
    }
    Weir__V1__Reply *sr = NULL;
    Weir__V1__JobInfo *ji = s_status(endpoint, argv[0], &sr);
    if (!ji)
        return 1;
    uint32_t before = ji->attempt;
    cli_reply_free(sr);
    Weir__V1__Reply *rep = s_job_request(endpoint, WEIR__V1__REQUEST__REQ_REBALANCE, argv[0]);
    if (!rep)
        return 1;
    if (!rep->ok) {
        fprintf(stderr, "weir: %s\n", rep->error);
        cli_reply_free(rep);
        return 1;
    }
    cli_reply_free(rep);
    /* Wait for the new attempt to run. */
    for (int i = 0; i < 600; i++) {
        usleep(100 * 1000);
        ji = s_status(endpoint, argv[0], &sr);
        if (!ji)
            return 1;
        if (ji->attempt > before && ji->state == 1) {
            char nodes[1024] = "";
            size_t used = 0;
            for (size_t t = 0; t < ji->n_tasks; t++) {
                const char *nd = ji->tasks[t]->node_id;
                if (!strstr(nodes, nd) && used + strlen(nd) + 2 < sizeof nodes)
                    used += (size_t)snprintf(nodes + used, sizeof nodes - used, "%s%s",
                                             used ? " " : "", nd);
            }
            printf("job %s: attempt %u runs on %s (from %s)\n", ji->job, ji->attempt, nodes,
                   ji->restored_from);
            cli_reply_free(sr);
            return 0;
        }
        if (ji->state >= 2 && ji->state <= 4) {
            fprintf(stderr, "weir: job %s is %s: %s\n", ji->job, s_job_state(ji->state),
                    ji->error);
            cli_reply_free(sr);
            return 1;
        }
        cli_reply_free(sr);
    }
    fprintf(stderr, "weir: job %s did not restart within a minute\n", argv[0]);
    return 1;
}

int cli_nodes(const char *endpoint, int argc, char **argv)
{
    (void)argv;
    if (argc) {
        fprintf(stderr, "usage: weir nodes\n");
        return 2;
    }
    Weir__V1__Empty em = WEIR__V1__EMPTY__INIT;
    Weir__V1__Request q = WEIR__V1__REQUEST__INIT;
    q.req_case = WEIR__V1__REQUEST__REQ_NODES;
    q.nodes = &em;
    Weir__V1__Reply *rep = cli_request(endpoint, &q, CLI_TIMEOUT_MS);
    if (!rep)
        return 1;
    printf("%-24s %-28s %-6s %-10s %-6s %s\n", "NODE", "DATA ENDPOINT", "STATE", "LAST SEEN",
           "TASKS", "PID");
    for (size_t i = 0; i < rep->n_nodes; i++) {
        const Weir__V1__NodeInfo *n = rep->nodes[i];
        printf("%-24s %-28s %-6s %7.1f s  %-6u %d\n", n->node_id, n->data_endpoint,
               n->alive ? "alive" : "dead", (double)n->last_seen_ms_ago / 1000.0, n->tasks, n->pid);
    }
    cli_reply_free(rep);
    return 0;
}

int cli_watermarks(const char *endpoint, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: weir watermarks JOB\n");
        return 2;
    }
    Weir__V1__Reply *rep = NULL;
    Weir__V1__JobInfo *ji = s_status(endpoint, argv[0], &rep);
    if (!ji)
        return 1;
    /* The inputs of every keyed task are the source splits, so an input's
     * watermark is its split's. The job's minimum is the lowest keyed
     * task's; the input holding that task's minimum holds the job's. */
    const Weir__V1__TaskInfo *low = NULL;
    for (size_t i = 0; i < ji->n_tasks; i++) {
        const Weir__V1__TaskInfo *t = ji->tasks[i];
        if (t->kind != WEIR__V1__TASK_KIND__KIND_WINDOW || !t->stats)
            continue;
        /* As the coordinator does: idle keyed tasks hold nothing back. */
        if (!low || (low->stats->idle && !t->stats->idle) ||
            (low->stats->idle == t->stats->idle &&
             t->stats->watermark_ms < low->stats->watermark_ms))
            low = t;
    }
    char wm[40];
    cli_fmt_ts(ji->watermark_ms, wm, sizeof wm);
    printf("job %s (%s): watermark %s", ji->job, s_job_state(ji->state), wm);
    uint32_t holder = low && low->stats ? low->stats->wm_holder : 0;
    if (holder)
        printf(", held by source split %u (through task %u)", holder - 1, low->index);
    printf("\n\n%-4s %-7s %-12s %-10s %-26s %-5s %s\n", "TASK", "KIND", "PART", "STATE",
           "WATERMARK", "IDLE", "NOTE");
    for (size_t i = 0; i < ji->n_tasks; i++) {
        const Weir__V1__TaskInfo *t = ji->tasks[i];
        const Weir__V1__TaskStats *st = t->stats;
        char part[32], tw[40], note[64] = "";
        if (t->kind == WEIR__V1__TASK_KIND__KIND_SOURCE) {
            snprintf(part, sizeof part, "split %u", t->split);
            if (holder && t->split == holder - 1)
                snprintf(note, sizeof note, "holds the job's minimum");
            else if (st && st->idle)
                snprintf(note, sizeof note, "idle: left out of the minimum");
            else if (st && st->paused)
                snprintf(note, sizeof note, "paused: ahead by more than max_drift");
        } else {
            snprintf(part, sizeof part, "kg %u-%u", t->kg_first, t->kg_last);
            if (st && st->wm_holder)
                snprintf(note, sizeof note, "min of its inputs: split %u", st->wm_holder - 1);
        }
        cli_fmt_ts(st ? st->watermark_ms : 0, tw, sizeof tw);
        printf("%-4u %-7s %-12s %-10s %-26s %-5s %s\n", t->index,
               t->kind == WEIR__V1__TASK_KIND__KIND_SOURCE ? "source" : "window", part,
               s_task_state(st ? st->state : 0), tw, st && st->idle ? "yes" : "no", note);
    }
    cli_reply_free(rep);
    return 0;
}
