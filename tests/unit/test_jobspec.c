/* jobspec: a job file becomes a weir_job_t with every default filled in, or
 * one line "FILE:LINE:COL: problem; fix" that names the key. These tests
 * are the reference for what a job file may say; docs/JOBFILE.md is the
 * same for users. Inputs are inline so that each test reads on its own;
 * the file system is touched only by the path checks, in a fresh temporary
 * directory. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "jobspec.h"

#define FILE_NAME "jobs/trips.yaml"
#define BASE "/srv/weir/jobs"

/* Lines 1-6 of most jobs below: a file source with three columns. */
#define SOURCE                                                                                     \
    "source:\n"                                                                                    \
    "  path: in.csv\n"                                                                             \
    "  schema:\n"                                                                                  \
    "    - {name: ts, type: timestamp}\n"                                                          \
    "    - {name: zone, type: string}\n"                                                           \
    "    - {name: fare, type: double}\n"
#define SINK "sink: {path: out}\n"
#define WINDOW "window: {type: tumbling, size: 1h}\naggregate: [{fn: count}]\n"

static weir_job_t s_job;
static char s_err[512];

static int s_parse_flags(const char *yaml, unsigned flags)
{
    memset(s_err, 'X', sizeof s_err);
    return weir_jobspec_parse(yaml, strlen(yaml), FILE_NAME, BASE, flags, &s_job, s_err,
                              sizeof s_err);
}

static int s_parse(const char *yaml)
{
    return s_parse_flags(yaml, 0);
}

/* Asserts that yaml is refused with WEIR_EINVAL, that the message starts
 * with "FILE:LINE:" (and COL when col > 0), holds each needle, and is one
 * line. Reports failures at the caller's line. */
static void s_expect_err(int at, const char *yaml, int line, int col, const char *const *needles)
{
    int rc = s_parse(yaml);
    char prefix[64];
    if (col > 0)
        snprintf(prefix, sizeof prefix, "%s:%d:%d: ", FILE_NAME, line, col);
    else
        snprintf(prefix, sizeof prefix, "%s:%d:", FILE_NAME, line);
    bool ok =
        rc == WEIR_EINVAL && strncmp(s_err, prefix, strlen(prefix)) == 0 && !strchr(s_err, '\n');
    for (const char *const *n = needles; ok && *n; n++)
        ok = strstr(s_err, *n) != NULL;
    if (!ok)
        fprintf(stderr, "\n  line %d: rc=%d, want %s..., got: %s\n", at, rc, prefix,
                rc ? s_err : "(success)");
    CU_assertImplementation(ok, (unsigned)at, "error message as expected", __FILE__, "", CU_FALSE);
}

#define EXPECT_ERR(yaml, line, col, ...)                                                           \
    s_expect_err(__LINE__, yaml, line, col, (const char *const[]){__VA_ARGS__, NULL})

static void s_expect_ok(int at, const char *yaml)
{
    int rc = s_parse(yaml);
    if (rc)
        fprintf(stderr, "\n  line %d: rc=%d: %s\n", at, rc, s_err);
    CU_assertImplementation(rc == 0, (unsigned)at, "job parses", __FILE__, "", CU_FALSE);
}

#define EXPECT_OK(yaml) s_expect_ok(__LINE__, yaml)

/* ---- what a valid job becomes ------------------------------------------ */

static void minimal_job_gets_every_default(void)
{
    EXPECT_OK(SOURCE SINK);
    const weir_job_t *j = &s_job;
    CU_ASSERT_STRING_EQUAL(j->name, "trips");
    CU_ASSERT_EQUAL(j->parallelism, 1);
    CU_ASSERT_EQUAL(j->max_key_groups, 128);
    CU_ASSERT_EQUAL(j->source.type, WEIR_SOURCE_FILE);
    CU_ASSERT_STRING_EQUAL(j->source.path, BASE "/in.csv");
    CU_ASSERT_EQUAL(j->source.format, WEIR_FORMAT_CSV);
    CU_ASSERT_EQUAL(j->source.splits, 1);
    CU_ASSERT_FALSE(j->source.follow);
    CU_ASSERT_EQUAL(j->source.n_fields, 3);
    CU_ASSERT_STRING_EQUAL(j->source.fields[0].name, "ts");
    CU_ASSERT_EQUAL(j->source.fields[0].type, WEIR_TYPE_TIMESTAMP);
    CU_ASSERT_EQUAL(j->source.fields[0].ts_format, WEIR_TS_ISO8601);
    CU_ASSERT_EQUAL(j->source.fields[1].type, WEIR_TYPE_STRING);
    CU_ASSERT_EQUAL(j->source.fields[2].type, WEIR_TYPE_DOUBLE);
    CU_ASSERT_EQUAL(j->source.event_time_col, 0);
    CU_ASSERT_EQUAL(j->source.max_out_of_orderness_ms, 0);
    CU_ASSERT_EQUAL(j->source.idle_timeout_ms, 0);
    CU_ASSERT_EQUAL(j->source.max_drift_ms, 0);
    CU_ASSERT_EQUAL(j->source.tz_offset_ms, 0);
    CU_ASSERT_STRING_EQUAL(j->filter, "");
    CU_ASSERT_EQUAL(j->n_keys, 0);
    CU_ASSERT_EQUAL(j->window.type, WEIR_WINDOW_NONE);
    CU_ASSERT_EQUAL(j->allowed_lateness_ms, 0);
    CU_ASSERT_EQUAL(j->trigger.every_rows, 0);
    CU_ASSERT_EQUAL(j->trigger.every_ms, 0);
    CU_ASSERT_EQUAL(j->late.policy, WEIR_LATE_DROP);
    CU_ASSERT_EQUAL(j->n_aggs, 0);
    CU_ASSERT_STRING_EQUAL(j->sink.path, BASE "/out");
    CU_ASSERT_EQUAL(j->sink.format, WEIR_FORMAT_CSV);
    CU_ASSERT_EQUAL(j->sink.max_rows_per_second, 0);
    CU_ASSERT_EQUAL(j->batch.max_rows, 1024);
    CU_ASSERT_EQUAL(j->batch.max_bytes, 32768);
    CU_ASSERT_EQUAL(j->batch.flush_ms, 5);
    CU_ASSERT_EQUAL(j->network.buffers_per_channel, 4);
    CU_ASSERT_EQUAL(j->network.floating_buffers, 8);
    CU_ASSERT_EQUAL(j->checkpoint.interval_ms, 0);
    CU_ASSERT_EQUAL(j->checkpoint.timeout_ms, 60000);
    CU_ASSERT_EQUAL(j->checkpoint.retain, 3);
    CU_ASSERT_EQUAL(j->heartbeat.interval_ms, 500);
    CU_ASSERT_EQUAL(j->heartbeat.timeout_ms, 3000);
    CU_ASSERT_EQUAL(j->restart.strategy, WEIR_RESTART_NONE);
    CU_ASSERT_EQUAL(j->restart.delay_ms, 1000);
    CU_ASSERT_EQUAL(j->restart.initial_ms, 1000);
    CU_ASSERT_EQUAL(j->restart.max_ms, 30000);
    CU_ASSERT_EQUAL(j->restart.max_attempts, 10);
    CU_ASSERT_EQUAL(s_err[0], '\0');
}

static void the_taxi_example_job_parses_to_the_expected_job(void)
{
    /* DESIGN §2, verbatim. */
    static const char yaml[] =
        "name: taxi-zone-hourly\n"
        "parallelism: 4                 # instances of each keyed operator\n"
        "max_key_groups: 128            # key groups; upper bound of parallelism\n"
        "source:\n"
        "  type: file                   # file | generator (bench) | kafka (later)\n"
        "  path: examples/data/nyc_taxi/trips_by_dropoff.csv\n"
        "  format: csv                  # csv (RFC 4180, header) | jsonl\n"
        "  splits: 2                    # parallel readers over byte ranges of the file\n"
        "  follow: false                # true: tail the file, the job never finishes\n"
        "  schema:                      # only the columns used; others are ignored\n"
        "    - {name: pickup_datetime, type: timestamp, format: \"%Y-%m-%d %H:%M:%S\"}\n"
        "    - {name: pickup_location_id, type: int64}\n"
        "    - {name: fare_amount, type: double}\n"
        "    - {name: congestion_surcharge, type: double}\n"
        "  event_time: pickup_datetime\n"
        "  watermark: {max_out_of_orderness: 30m, idle_timeout: 1m}\n"
        "filter: \"fare_amount >= 0\"     # optional, an expression over the row\n"
        "key_by: [pickup_location_id]\n"
        "window: {type: tumbling, size: 1h}       # sliding: size + slide; session: gap\n"
        "allowed_lateness: 0\n"
        "late: {policy: file, path: out/late/}    # file | drop (counted); never silent\n"
        "aggregate:\n"
        "  - {fn: count, as: trips}\n"
        "  - {fn: sum, field: fare_amount, as: fare_sum}\n"
        "  - {fn: avg, field: congestion_surcharge, as: surcharge_avg}\n"
        "sink: {type: file, path: out/results/, format: csv}\n"
        "checkpoint: {interval: 10s, retain: 3}\n"
        "restart: {strategy: exponential, initial: 1s, max: 30s, max_attempts: 10}\n";
    EXPECT_OK(yaml);
    const weir_job_t *j = &s_job;
    CU_ASSERT_STRING_EQUAL(j->name, "taxi-zone-hourly");
    CU_ASSERT_EQUAL(j->parallelism, 4);
    CU_ASSERT_EQUAL(j->max_key_groups, 128);
    CU_ASSERT_STRING_EQUAL(j->source.path, BASE "/examples/data/nyc_taxi/trips_by_dropoff.csv");
    CU_ASSERT_EQUAL(j->source.splits, 2);
    CU_ASSERT_EQUAL(j->source.n_fields, 4);
    CU_ASSERT_EQUAL(j->source.fields[0].ts_format, WEIR_TS_PATTERN);
    CU_ASSERT_STRING_EQUAL(j->source.fields[0].ts_pattern, "%Y-%m-%d %H:%M:%S");
    CU_ASSERT_EQUAL(j->source.fields[1].type, WEIR_TYPE_INT64);
    CU_ASSERT_EQUAL(j->source.event_time_col, 0);
    CU_ASSERT_EQUAL(j->source.max_out_of_orderness_ms, 30 * 60000);
    CU_ASSERT_EQUAL(j->source.idle_timeout_ms, 60000);
    CU_ASSERT_STRING_EQUAL(j->filter, "fare_amount >= 0");
    CU_ASSERT_EQUAL(j->n_keys, 1);
    CU_ASSERT_EQUAL(j->key_cols[0], 1);
    CU_ASSERT_EQUAL(j->window.type, WEIR_WINDOW_TUMBLING);
    CU_ASSERT_EQUAL(j->window.size_ms, 3600000);
    CU_ASSERT_EQUAL(j->window.slide_ms, 3600000);
    CU_ASSERT_EQUAL(j->window.offset_ms, 0);
    CU_ASSERT_EQUAL(j->late.policy, WEIR_LATE_FILE);
    CU_ASSERT_STRING_EQUAL(j->late.path, BASE "/out/late");
    CU_ASSERT_EQUAL(j->n_aggs, 3);
    CU_ASSERT_EQUAL(j->aggs[0].fn, WEIR_AGG_COUNT);
    CU_ASSERT_EQUAL(j->aggs[0].field_col, -1);
    CU_ASSERT_STRING_EQUAL(j->aggs[0].as, "trips");
    CU_ASSERT_EQUAL(j->aggs[1].fn, WEIR_AGG_SUM);
    CU_ASSERT_EQUAL(j->aggs[1].field_col, 2);
    CU_ASSERT_STRING_EQUAL(j->aggs[1].as, "fare_sum");
    CU_ASSERT_EQUAL(j->aggs[2].fn, WEIR_AGG_AVG);
    CU_ASSERT_EQUAL(j->aggs[2].field_col, 3);
    CU_ASSERT_STRING_EQUAL(j->sink.path, BASE "/out/results");
    CU_ASSERT_EQUAL(j->checkpoint.interval_ms, 10000);
    CU_ASSERT_EQUAL(j->checkpoint.retain, 3);
    CU_ASSERT_EQUAL(j->restart.strategy, WEIR_RESTART_EXPONENTIAL);
    CU_ASSERT_EQUAL(j->restart.initial_ms, 1000);
    CU_ASSERT_EQUAL(j->restart.max_ms, 30000);
    CU_ASSERT_EQUAL(j->restart.max_attempts, 10);
}

static void the_job_name_defaults_to_the_file_name_without_extension(void)
{
    weir_job_t j;
    char err[256];
    const char *yaml = SOURCE SINK;
    CU_ASSERT_EQUAL(
        weir_jobspec_parse(yaml, strlen(yaml), "/a/b/hourly.v2.yml", "/", 0, &j, err, sizeof err),
        0);
    CU_ASSERT_STRING_EQUAL(j.name, "hourly.v2");
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "noext", "/", 0, &j, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(j.name, "noext");
    /* A file name that cannot be a job name asks for an explicit name. */
    CU_ASSERT_EQUAL(
        weir_jobspec_parse(yaml, strlen(yaml), "my job.yaml", "/", 0, &j, err, sizeof err),
        WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "add name: NAME"));
    EXPECT_ERR("name: ../x\n" SOURCE SINK, 1, 7, "name '../x' is not a valid job name");
}

static void a_generator_source_without_a_schema_gets_the_taxi_columns(void)
{
    EXPECT_OK("source: {type: generator, rows: 1000, rate: 500, seed: 42, splits: 2}\n"
              "key_by: pickup_location_id\n"
              "window: {type: sliding, size: 1h, slide: 25m}\n"
              "aggregate: [{fn: sum, field: total_amount}]\n" SINK);
    const weir_source_t *s = &s_job.source;
    CU_ASSERT_EQUAL(s->type, WEIR_SOURCE_GENERATOR);
    CU_ASSERT_EQUAL(s->gen_rows, 1000);
    CU_ASSERT_EQUAL(s->gen_rate, 500);
    CU_ASSERT_EQUAL(s->gen_seed, 42);
    CU_ASSERT_EQUAL(s->splits, 2);
    CU_ASSERT_EQUAL(s->n_fields, 11);
    CU_ASSERT_STRING_EQUAL(s->fields[0].name, "vendor_id");
    CU_ASSERT_STRING_EQUAL(s->fields[10].name, "total_amount");
    CU_ASSERT_EQUAL(s->fields[2].type, WEIR_TYPE_TIMESTAMP);
    CU_ASSERT_STRING_EQUAL(s->fields[s->event_time_col].name, "pickup_datetime");
    CU_ASSERT_EQUAL(s_job.window.slide_ms, 25 * 60000);
    CU_ASSERT_STRING_EQUAL(s_job.aggs[0].as, "sum_total_amount");
    CU_ASSERT_STRING_EQUAL(s_job.source.fields[s_job.key_cols[0]].name, "pickup_location_id");
    /* rows: 0 is an unbounded stream; a seed may use all 64 bits. */
    EXPECT_OK("source: {type: generator, rows: 0, seed: 18446744073709551615}\n" SINK);
    CU_ASSERT_EQUAL(s_job.source.gen_seed, UINT64_MAX);
    EXPECT_ERR("source: {type: generator, rows: -1}\n" SINK, 1, 33,
               "source.rows -1 is out of range");
}

static void every_section_is_read_into_its_fields(void)
{
    EXPECT_OK("parallelism: 256\nmax_key_groups: 32768\n" SOURCE "  splits: 256\n"
              "  watermark: {max_out_of_orderness: 2s, idle_timeout: 1m, max_drift: 1h}\n"
              "  time_zone: \"-05:30\"\n"
              "window: {type: session, gap: 30m}\n"
              "allowed_lateness: 1d\n"
              "trigger: {every_rows: 1000, every: 10s}\n"
              "aggregate: [{fn: count_distinct, field: zone}, {fn: max, field: ts}]\n"
              "sink: {path: /var/out, max_rows_per_second: 1000}\n"
              "batch: {max_rows: 1, max_bytes: 64, flush: 0}\n"
              "network: {buffers_per_channel: 64, floating_buffers: 0}\n"
              "checkpoint: {interval: 10s, timeout: 2m, retain: 1}\n"
              "heartbeat: {interval: 100ms, timeout: 1s}\n"
              "restart: {strategy: fixed, delay: 250ms, max_attempts: 3}\n");
    const weir_job_t *j = &s_job;
    CU_ASSERT_EQUAL(j->parallelism, 256);
    CU_ASSERT_EQUAL(j->max_key_groups, 32768);
    CU_ASSERT_EQUAL(j->source.splits, 256);
    CU_ASSERT_EQUAL(j->source.max_out_of_orderness_ms, 2000);
    CU_ASSERT_EQUAL(j->source.idle_timeout_ms, 60000);
    CU_ASSERT_EQUAL(j->source.max_drift_ms, 3600000);
    CU_ASSERT_EQUAL(j->source.tz_offset_ms, -(5 * 3600000 + 30 * 60000));
    CU_ASSERT_EQUAL(j->window.type, WEIR_WINDOW_SESSION);
    CU_ASSERT_EQUAL(j->window.gap_ms, 1800000);
    CU_ASSERT_EQUAL(j->allowed_lateness_ms, 86400000);
    CU_ASSERT_EQUAL(j->trigger.every_rows, 1000);
    CU_ASSERT_EQUAL(j->trigger.every_ms, 10000);
    CU_ASSERT_EQUAL(j->aggs[0].fn, WEIR_AGG_COUNT_DISTINCT);
    CU_ASSERT_STRING_EQUAL(j->aggs[0].as, "count_distinct_zone");
    CU_ASSERT_STRING_EQUAL(j->aggs[1].as, "max_ts");
    CU_ASSERT_STRING_EQUAL(j->sink.path, "/var/out");
    CU_ASSERT_EQUAL(j->sink.max_rows_per_second, 1000);
    CU_ASSERT_EQUAL(j->batch.max_rows, 1);
    CU_ASSERT_EQUAL(j->batch.max_bytes, 64);
    CU_ASSERT_EQUAL(j->batch.flush_ms, 0);
    CU_ASSERT_EQUAL(j->network.buffers_per_channel, 64);
    CU_ASSERT_EQUAL(j->network.floating_buffers, 0);
    CU_ASSERT_EQUAL(j->checkpoint.interval_ms, 10000);
    CU_ASSERT_EQUAL(j->checkpoint.timeout_ms, 120000);
    CU_ASSERT_EQUAL(j->checkpoint.retain, 1);
    CU_ASSERT_EQUAL(j->heartbeat.interval_ms, 100);
    CU_ASSERT_EQUAL(j->heartbeat.timeout_ms, 1000);
    CU_ASSERT_EQUAL(j->restart.strategy, WEIR_RESTART_FIXED);
    CU_ASSERT_EQUAL(j->restart.delay_ms, 250);
    CU_ASSERT_EQUAL(j->restart.max_attempts, 3);
}

/* ---- durations --------------------------------------------------------- */

static void durations_take_ms_s_m_h_d_or_bare_milliseconds(void)
{
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"250ms", 250},
        {"10s", 10000},
        {"5m", 300000},
        {"1h", 3600000},
        {"1d", 86400000},
        {"1500", 1500},
        {"0", 0},
        {"0s", 0},
        {"-8h", -28800000},
        {"007s", 7000},
        {"9223372036854775807", INT64_MAX},
        {"106751991167d", 106751991167LL * 86400000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -1;
        CU_ASSERT_EQUAL(weir_duration_parse(ok[i].text, &v), 0);
        CU_ASSERT_EQUAL(v, ok[i].ms);
    }
}

static void durations_refuse_fractions_unknown_units_spaces_and_overflow(void)
{
    static const char *const bad[] = {
        "",
        "ms",
        "1.5s",
        "10 s",
        " 10s",
        "10s ",
        "10S",
        "1w",
        "+5s",
        "--1s",
        "1h30m",
        "0x10",
        "1e3",
        "-",
        "s10",
        "1_000",
        "9223372036854775808",
        "106751991167d1",
        "106751991168d",
        "99999999999999999999999999ms",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        CU_ASSERT_EQUAL(weir_duration_parse(bad[i], &v), WEIR_EINVAL);
        CU_ASSERT_EQUAL(v, 42);
    }
    CU_ASSERT_EQUAL(weir_duration_parse(NULL, NULL), WEIR_EINVAL);
    EXPECT_ERR(SOURCE "  watermark: {idle_timeout: 1.5s}\n" SINK, 7, 29,
               "source.watermark.idle_timeout must be a duration", "'1.5s'");
    EXPECT_ERR(SOURCE "  watermark: {idle_timeout: 999999999999999d}\n" SINK, 7, 29,
               "'999999999999999d' is too large");
    EXPECT_ERR(SOURCE SINK "batch: {flush: 61s}\n", 8, 16,
               "batch.flush '61s' is out of range (0ms to 1m)");
}

static void a_negative_duration_is_refused_except_for_the_window_offset(void)
{
    EXPECT_OK(SOURCE SINK "window: {type: tumbling, size: 1d, offset: -5h}\n"
                          "aggregate: [{fn: count}]\n");
    CU_ASSERT_EQUAL(s_job.window.offset_ms, -5 * 3600000);
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1d}\n"
                           "allowed_lateness: -1s\naggregate: [{fn: count}]\n",
               9, 19, "allowed_lateness must not be negative, got '-1s'");
    EXPECT_ERR(SOURCE "  watermark: {max_out_of_orderness: -1}\n" SINK, 7, 37,
               "source.watermark.max_out_of_orderness must not be negative");
    EXPECT_ERR(SOURCE SINK "checkpoint: {interval: -10s}\n", 8, 24, "checkpoint.interval");
}

/* ---- paths ------------------------------------------------------------- */

static void relative_paths_resolve_against_the_job_files_directory(void)
{
    EXPECT_OK("source:\n  path: ./data/./in.csv\n  schema: [{name: ts, type: timestamp}]\n"
              "window: {type: tumbling, size: 1m}\naggregate: [{fn: count}]\n"
              "late: {policy: file, path: out//late/}\n"
              "sink: {path: .}\n");
    CU_ASSERT_STRING_EQUAL(s_job.source.path, BASE "/data/in.csv");
    CU_ASSERT_STRING_EQUAL(s_job.late.path, BASE "/out/late");
    CU_ASSERT_STRING_EQUAL(s_job.sink.path, BASE);
    /* ".." is kept as written: removing it lexically is wrong across symlinks. */
    EXPECT_OK(SOURCE "sink: {path: ../results}\n");
    CU_ASSERT_STRING_EQUAL(s_job.sink.path, BASE "/../results");
}

static void absolute_paths_are_kept_with_dot_and_double_slashes_removed(void)
{
    EXPECT_OK(SOURCE "sink: {path: //data/./x/}\n");
    CU_ASSERT_STRING_EQUAL(s_job.sink.path, "/data/x");
    EXPECT_OK(SOURCE "sink: {path: /}\n");
    CU_ASSERT_STRING_EQUAL(s_job.sink.path, "/");
    EXPECT_ERR(SOURCE "sink: {path: ''}\n", 7, 14, "sink.path is empty");
    /* A base directory that is not absolute is the caller's mistake. */
    weir_job_t j;
    char err[256];
    const char *yaml = SOURCE SINK;
    CU_ASSERT_EQUAL(
        weir_jobspec_parse(yaml, strlen(yaml), "x.yaml", "jobs", 0, &j, err, sizeof err),
        WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not absolute"));
}

static void a_path_longer_than_the_limit_is_refused_not_truncated(void)
{
    static char yaml[WEIR_PATH_MAX + 512];
    char long_name[WEIR_PATH_MAX];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    /* Fits on its own, but not once joined to the base directory. */
    long_name[WEIR_PATH_MAX - 1 - strlen(BASE)] = '\0';
    snprintf(yaml, sizeof yaml, SOURCE "sink: {path: %s}\n", long_name);
    EXPECT_ERR(yaml, 7, 14, "sink.path", "is too long (at most 1023 bytes once resolved");
    long_name[WEIR_PATH_MAX - 2 - strlen(BASE)] = '\0';
    snprintf(yaml, sizeof yaml, SOURCE "sink: {path: %s}\n", long_name);
    EXPECT_OK(yaml);
    CU_ASSERT_EQUAL(strlen(s_job.sink.path), WEIR_PATH_MAX - 1);
}

static void checked_paths_need_a_readable_source_file(void)
{
    char dir[] = "/tmp/weir-jobspec-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char file[64], yaml[512], want[256];
    snprintf(file, sizeof file, "%s/in.csv", dir);
    FILE *f = fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (!f)
        return;
    fputs("ts\n", f);
    fclose(f);
    weir_job_t j;
    char err[512];

    snprintf(yaml, sizeof yaml,
             "source: {path: in.csv, schema: [{name: ts, type: timestamp}]}\n"
             "sink: {path: out}\n");
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, WEIR_JOBSPEC_CHECK_PATHS,
                                       &j, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(j.source.path, file);

    snprintf(yaml, sizeof yaml,
             "source: {path: missing.csv, schema: [{name: ts, type: "
             "timestamp}]}\nsink: {path: out}\n");
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, WEIR_JOBSPEC_CHECK_PATHS,
                                       &j, err, sizeof err),
                    -ENOENT);
    snprintf(want, sizeof want,
             "j.yaml:1:16: source.path '%s/missing.csv' cannot be read: No such file or "
             "directory (relative paths resolve against the job file's directory)",
             dir);
    CU_ASSERT_STRING_EQUAL(err, want);
    /* Without the flag (the coordinator may not see the nodes' files). */
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, 0, &j, err, sizeof err),
                    0);

    snprintf(yaml, sizeof yaml,
             "source: {path: %s, schema: [{name: ts, type: timestamp}]}\n"
             "sink: {path: out}\n",
             dir);
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, WEIR_JOBSPEC_CHECK_PATHS,
                                       &j, err, sizeof err),
                    -EISDIR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot be read: Is a directory"));
    CU_ASSERT_PTR_NULL(strstr(err, "relative paths"));

    unlink(file);
    rmdir(dir);
}

static void pipes_devices_and_mixed_outputs_are_refused(void)
{
    char dir[] = "/tmp/weir-jobspec-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char fifo[64], yaml[512], path[96];
    weir_job_t j;
    char err[512];
    snprintf(fifo, sizeof fifo, "%s/pipe.csv", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    /* A FIFO would block the source forever (and its node with it). */
    snprintf(yaml, sizeof yaml,
             "source: {path: pipe.csv, schema: [{name: ts, type: timestamp}]}\n"
             "sink: {path: out}\n");
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, WEIR_JOBSPEC_CHECK_PATHS,
                                       &j, err, sizeof err),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
    unlink(fifo);

    /* Late rows and results in one directory would mix two headers. */
    snprintf(yaml, sizeof yaml,
             "source: {path: in.csv, schema: [{name: ts, type: timestamp}]}\n"
             "window: {type: tumbling, size: 1s}\naggregate: [{fn: count}]\n"
             "late: {policy: file, path: out}\nsink: {path: out/}\n");
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, 0, &j, err, sizeof err),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "j.yaml:4:1: late.path is the sink's directory"));

    /* An earlier run's part files: refused only when asked (weir submit). */
    snprintf(path, sizeof path, "%s/out", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/out/part-3.csv", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    snprintf(yaml, sizeof yaml,
             "source: {path: in.csv, schema: [{name: ts, type: timestamp}]}\n"
             "sink: {path: out}\n");
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, 0, &j, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, WEIR_JOBSPEC_CHECK_OUTPUT,
                                       &j, err, sizeof err),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "j.yaml:2:1: sink.path"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "already holds results (part-3.csv"));
    unlink(path);

    /* The sink's directory under another name (a link) is still itself. */
    char alias[96], target[96];
    snprintf(alias, sizeof alias, "%s/al", dir);
    snprintf(target, sizeof target, "%s/out", dir);
    CU_ASSERT_EQUAL_FATAL(symlink(target, alias), 0);
    snprintf(yaml, sizeof yaml,
             "source: {path: in.csv, schema: [{name: ts, type: timestamp}]}\n"
             "window: {type: tumbling, size: 1s}\naggregate: [{fn: count}]\n"
             "late: {policy: file, path: al}\nsink: {path: out/}\n");
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), "j.yaml", dir, WEIR_JOBSPEC_CHECK_OUTPUT,
                                       &j, err, sizeof err),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "under another name"));
    unlink(alias);
    snprintf(path, sizeof path, "%s/out", dir);
    rmdir(path);
    rmdir(dir);
}

/* ---- every kind of error ----------------------------------------------- */

static void an_unknown_key_is_refused_with_its_line_column_and_the_allowed_keys(void)
{
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, sizee: 1h}\n", 8, 26,
               "unknown key 'sizee' in window (expected one of: type, size, slide, gap, offset)");
    EXPECT_ERR("paralelism: 2\n" SOURCE SINK, 1, 1, "unknown key 'paralelism' at the top level",
               "parallelism, max_key_groups, source");
    EXPECT_ERR(SOURCE "  watermark:\n    idle: 1m\n" SINK, 8, 5,
               "unknown key 'idle' in source.watermark",
               "(expected one of: max_out_of_orderness, idle_timeout, max_drift)");
    EXPECT_ERR("source:\n  path: in.csv\n  schema:\n    - {name: ts, typ: timestamp}\n" SINK, 4, 18,
               "unknown key 'typ' in source.schema[1]");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {every_row: 10}\n", 10, 11,
               "unknown key 'every_row' in trigger (expected one of: every_rows, every)");
    EXPECT_ERR(SOURCE SINK "checkpoint: {storag: 'file:///x'}\n", 8, 14,
               "unknown key 'storag' in checkpoint");
    EXPECT_ERR(SOURCE SINK "checkpoint: {storage: 's3://bucket/x'}\n", 8, 23,
               "checkpoint.storage must be file:///ABSOLUTE/PATH", "'s3://bucket/x'");
    EXPECT_ERR(SOURCE SINK "checkpoint: {storage: 'file://rel/x'}\n", 8, 23,
               "checkpoint.storage must be file:///ABSOLUTE/PATH");
    EXPECT_OK(SOURCE SINK "checkpoint: {interval: 2s, storage: 'file:///shared/ck'}\n");
    CU_ASSERT_STRING_EQUAL(s_job.checkpoint.storage, "/shared/ck");
    CU_ASSERT_EQUAL(s_job.checkpoint.interval_ms, 2000);
}

static void a_duplicate_key_is_refused_with_the_line_of_the_first(void)
{
    EXPECT_ERR(SOURCE SINK "parallelism: 2\nparallelism: 3\n", 9, 1,
               "duplicate key 'parallelism' at the top level (first at line 8)");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h, size: 2h}\n", 8, 36,
               "duplicate key 'size' in window");
}

static void a_value_of_the_wrong_type_is_refused(void)
{
    EXPECT_ERR("parallelism: four\n" SOURCE SINK, 1, 14,
               "parallelism must be an integer from 1 to 256, got 'four'");
    EXPECT_ERR("parallelism: \"4\"\n" SOURCE SINK, 1, 14, "parallelism must be an integer",
               "got the string '4'; remove the quotes");
    EXPECT_ERR("parallelism: 2.5\n" SOURCE SINK, 1, 14, "parallelism must be an integer");
    EXPECT_ERR("parallelism: [4]\n" SOURCE SINK, 1, 14, "parallelism", "got a list");
    EXPECT_ERR("parallelism:\n" SOURCE SINK, 1, 13, "parallelism", "got an empty value");
    EXPECT_ERR("source:\n  path: in.csv\n  schema: {name: ts, type: timestamp}\n" SINK, 3, 11,
               "source.schema must be a list of columns", "got a mapping");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\naggregate: {fn: count}\n", 9, 12,
               "aggregate must be a list", "got a mapping");
    EXPECT_ERR(SOURCE "sink: [out]\n", 7, 7, "sink must be a mapping", "got a list");
    EXPECT_ERR("source: in.csv\n" SINK, 1, 9, "source must be a mapping", "got 'in.csv'");
    EXPECT_ERR(SOURCE "  follow: maybe\n" SINK, 7, 11, "source.follow must be true or false",
               "'maybe'");
    EXPECT_ERR(SOURCE "sink: {path: {dir: out}}\n", 7, 14, "sink.path must be a path",
               "got a mapping");
    EXPECT_ERR(SOURCE SINK "key_by: {zone: 1}\n", 8, 9, "key_by must be a list of column names");
    EXPECT_ERR("? [a, b]\n: 1\n" SOURCE SINK, 1, 3, "a key at the top level is a list");
    EXPECT_OK(SOURCE "  follow: yes\n" SINK);
    CU_ASSERT_TRUE(s_job.source.follow);
}

static void a_missing_required_key_names_its_parent_mapping_and_line(void)
{
    EXPECT_ERR(SINK, 1, 1, "missing key 'source' at the top level");
    EXPECT_ERR(SOURCE, 1, 1, "missing key 'sink' at the top level");
    EXPECT_ERR(SINK "source:\n  schema: [{name: ts, type: timestamp}]\n", 2, 1,
               "missing key 'path' in source (the mapping at line 2)");
    EXPECT_ERR("source:\n  path: in.csv\n" SINK, 1, 1, "missing key 'schema' in source");
    EXPECT_ERR(SOURCE "sink:\n  format: csv\n", 7, 1,
               "missing key 'path' in sink (the mapping at line 7)");
    EXPECT_ERR(SOURCE SINK "window: {size: 1h}\naggregate: [{fn: count}]\n", 8, 1,
               "missing key 'type' in window", "tumbling, sliding or session");
    EXPECT_ERR(SOURCE SINK WINDOW "late: {policy: file}\n", 10, 1, "missing key 'path' in late");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\naggregate:\n  - {as: n}\n", 10, 5,
               "missing key 'fn' in aggregate[1] (the mapping at line 10)");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\naggregate:\n  - {fn: sum}\n", 10, 5,
               "missing key 'field' in aggregate[1]", "only count works without one");
    EXPECT_ERR("source:\n  path: in.csv\n  schema:\n    - {type: int64}\n" SINK, 4, 7,
               "missing key 'name' in source.schema[1]");
}

static void a_value_out_of_range_is_refused_with_the_range(void)
{
    EXPECT_ERR("parallelism: 0\n" SOURCE SINK, 1, 14, "parallelism 0 is out of range",
               "from 1 to 256");
    EXPECT_ERR("parallelism: 257\n" SOURCE SINK, 1, 14, "parallelism 257 is out of range");
    EXPECT_ERR("max_key_groups: 32769\n" SOURCE SINK, 1, 17, "max_key_groups 32769 is out");
    EXPECT_ERR(SOURCE "  splits: 0\n" SINK, 7, 11, "source.splits 0 is out of range");
    EXPECT_ERR(SOURCE SINK "batch: {max_rows: 65537}\n", 8, 19, "batch.max_rows 65537");
    EXPECT_ERR(SOURCE SINK "batch: {max_bytes: 63}\n", 8, 20, "batch.max_bytes 63",
               "from 64 to 67108864");
    EXPECT_ERR(SOURCE SINK "network: {buffers_per_channel: 65}\n", 8, 32,
               "network.buffers_per_channel 65");
    EXPECT_ERR(SOURCE SINK "network: {floating_buffers: 1025}\n", 8, 29,
               "network.floating_buffers 1025");
    EXPECT_ERR(SOURCE SINK "checkpoint: {timeout: 0}\n", 8, 23,
               "checkpoint.timeout must be greater than 0");
    EXPECT_ERR(SOURCE SINK "heartbeat: {interval: 5s}\n", 8, 23,
               "heartbeat.timeout 3s must be longer than heartbeat.interval 5s");
    EXPECT_ERR(SOURCE "sink: {path: out, max_rows_per_second: -1}\n", 7, 40,
               "sink.max_rows_per_second -1 is out of range");
}

static void max_key_groups_must_be_at_least_parallelism(void)
{
    EXPECT_ERR("parallelism: 8\nmax_key_groups: 4\n" SOURCE SINK, 2, 17,
               "max_key_groups 4 is smaller than parallelism 8");
    EXPECT_ERR("parallelism: 200\n" SOURCE SINK, 1, 14,
               "max_key_groups 128 is smaller than parallelism 200");
    EXPECT_OK("parallelism: 200\nmax_key_groups: 200\n" SOURCE SINK);
}

static void an_unknown_enum_value_lists_the_allowed_ones(void)
{
    EXPECT_ERR("source:\n  type: kafka\n  path: x\n" SINK, 2, 9,
               "unknown source.type 'kafka' (expected one of: file, generator)");
    EXPECT_ERR(SOURCE SINK "window: {type: hopping, size: 1h}\n", 8, 16,
               "unknown window.type 'hopping' (expected one of: tumbling, sliding, session)");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\naggregate: [{fn: median}]\n", 9, 18,
               "unknown aggregate[1].fn 'median'", "count, sum, avg, min, max, count_distinct");
    EXPECT_ERR("source:\n  path: x\n  schema: [{name: a, type: float}]\n" SINK, 3, 28,
               "unknown source.schema[1].type 'float'", "int64, double, string, bool, timestamp");
    EXPECT_ERR(SOURCE SINK WINDOW "late: {policy: keep}\n", 10, 16,
               "unknown late.policy 'keep' (expected one of: drop, file)");
    EXPECT_ERR(SOURCE SINK "restart: {strategy: always}\n", 8, 21,
               "unknown restart.strategy 'always' (expected one of: none, fixed, exponential)");
    EXPECT_ERR(SOURCE "sink: {path: out, format: parquet}\n", 7, 27,
               "unknown sink.format 'parquet' (expected one of: csv)");
}

static void jsonl_sources_are_refused_as_not_supported_yet(void)
{
    EXPECT_ERR(SOURCE "  format: jsonl\n" SINK, 7, 11, "source.format jsonl is not supported yet");
}

/* ---- windows ----------------------------------------------------------- */

static void a_window_of_size_zero_is_refused(void)
{
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 0}\naggregate: [{fn: count}]\n", 8, 32,
               "window.size must be greater than 0, got '0'");
    EXPECT_ERR(SOURCE SINK "window: {type: sliding, size: 1h, slide: 0s}\n"
                           "aggregate: [{fn: count}]\n",
               8, 42, "window.slide must be greater than 0");
    EXPECT_ERR(SOURCE SINK "window: {type: session, gap: 0ms}\naggregate: [{fn: count}]\n", 8, 30,
               "window.gap must be greater than 0");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling}\naggregate: [{fn: count}]\n", 8, 1,
               "missing key 'size' in window");
}

static void keys_that_do_not_belong_to_the_window_type_are_refused(void)
{
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h, slide: 5m}\n", 8, 36,
               "window.slide does not apply to a tumbling window");
    EXPECT_ERR(SOURCE SINK "window: {type: sliding, size: 1h, slide: 5m, gap: 1m}\n", 8, 46,
               "window.gap does not apply to a sliding window");
    EXPECT_ERR(SOURCE SINK "window: {type: session, gap: 5m, offset: 1m}\n", 8, 34,
               "window.offset does not apply to a session window");
    EXPECT_ERR(SOURCE SINK "window: {type: session, size: 1h}\n", 8, 25,
               "window.size does not apply to a session window");
}

static void a_sliding_window_needs_a_slide_no_larger_than_its_size(void)
{
    EXPECT_OK(SOURCE SINK "window: {type: sliding, size: 10m, slide: 3m, offset: 1m}\n"
                          "aggregate: [{fn: count}]\n");
    CU_ASSERT_EQUAL(s_job.window.size_ms, 600000);
    CU_ASSERT_EQUAL(s_job.window.slide_ms, 180000);
    CU_ASSERT_EQUAL(s_job.window.offset_ms, 60000);
    EXPECT_ERR(SOURCE SINK "window: {type: sliding, size: 10m}\naggregate: [{fn: count}]\n", 8, 1,
               "missing key 'slide' in window");
    EXPECT_ERR(SOURCE SINK "window: {type: sliding, size: 1m, slide: 2m}\n"
                           "aggregate: [{fn: count}]\n",
               8, 42, "window.slide 2m is larger than window.size 1m");
}

static void a_window_needs_aggregates_and_aggregates_need_a_window(void)
{
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\n", 8, 1,
               "missing key 'aggregate' at the top level: the window at line 8 needs");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\naggregate: []\n", 9, 12,
               "aggregate is empty");
    EXPECT_ERR(SOURCE SINK "aggregate: [{fn: count}]\n", 8, 1,
               "aggregate needs a window, and this job has none");
    EXPECT_ERR(SOURCE SINK "allowed_lateness: 1m\n", 8, 1, "allowed_lateness needs a window");
    EXPECT_ERR(SOURCE SINK "late: {policy: drop}\n", 8, 1, "late needs a window");
}

static void early_results_take_every_rows_every_or_both_and_need_a_window(void)
{
    EXPECT_OK(SOURCE SINK WINDOW);
    CU_ASSERT_EQUAL(s_job.trigger.every_rows, 0);
    CU_ASSERT_EQUAL(s_job.trigger.every_ms, 0);
    CU_ASSERT_FALSE(weir_job_has_pane(&s_job));
    EXPECT_OK(SOURCE SINK WINDOW "trigger: {every_rows: 2}\n");
    CU_ASSERT_EQUAL(s_job.trigger.every_rows, 2);
    CU_ASSERT_EQUAL(s_job.trigger.every_ms, 0);
    CU_ASSERT_TRUE(weir_job_has_pane(&s_job));
    EXPECT_OK(SOURCE SINK WINDOW "trigger: {every: 250ms}\n");
    CU_ASSERT_EQUAL(s_job.trigger.every_rows, 0);
    CU_ASSERT_EQUAL(s_job.trigger.every_ms, 250);
    CU_ASSERT_TRUE(weir_job_has_pane(&s_job));
    EXPECT_OK(SOURCE SINK WINDOW "trigger:\n  every_rows: 2_147_483_647\n  every: 1\n");
    CU_ASSERT_EQUAL(s_job.trigger.every_rows, INT32_MAX);
    CU_ASSERT_EQUAL(s_job.trigger.every_ms, 1);
    /* allowed lateness alone brings the pane column too (on_time, late) */
    EXPECT_OK(SOURCE SINK WINDOW "allowed_lateness: 1s\n");
    CU_ASSERT_TRUE(weir_job_has_pane(&s_job));

    EXPECT_ERR(SOURCE SINK "trigger: {every_rows: 2}\n", 8, 1,
               "trigger needs a window (early results are partial values of open windows), and "
               "this job has none (it passes rows through); add a window or remove trigger");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {}\n", 10, 1,
               "trigger names no early result; give every_rows: N, every: DURATION or both");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: 100\n", 10, 10,
               "trigger must be a mapping such as {every_rows: 1000, every: 10s}, got '100'");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {every_rows: 0}\n", 10, 23,
               "trigger.every_rows 0 is out of range; use an integer from 1 to 2147483647");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {every_rows: 2147483648}\n", 10, 23,
               "trigger.every_rows 2147483648 is out of range");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {every_rows: '2'}\n", 10, 23,
               "trigger.every_rows must be an integer", "remove the quotes");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {every: 0}\n", 10, 18,
               "trigger.every must be greater than 0, got '0'");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {every_rows: 2, every: 1.5s}\n", 10, 33,
               "trigger.every must be a duration such as 250ms");
    EXPECT_ERR(SOURCE SINK WINDOW "trigger: {every_rows: 2}\ntrigger: {every: 1s}\n", 11, 1,
               "duplicate key 'trigger' at the top level (first at line 10)");
}

static void the_pane_column_name_is_taken_when_results_carry_it(void)
{
    const char *agg = "window: {type: tumbling, size: 1h}\naggregate: [{fn: count, as: pane}]\n";
    char yaml[512];
    snprintf(yaml, sizeof yaml, SOURCE SINK "%s", agg);
    EXPECT_OK(yaml); /* no pane column: the name is free */
    snprintf(yaml, sizeof yaml, SOURCE SINK "%strigger: {every: 1s}\n", agg);
    EXPECT_ERR(yaml, 9, 29,
               "aggregate[1]: output name 'pane' clashes with the pane column that results carry "
               "when a job has early results (trigger) or allowed_lateness",
               "set a different as: NAME");
    snprintf(yaml, sizeof yaml, SOURCE SINK "allowed_lateness: 10s\n%s", agg);
    EXPECT_ERR(yaml, 10, 29, "output name 'pane' clashes with the pane column");
#define PANE_SOURCE                                                                                \
    "source:\n  path: in.csv\n  schema:\n    - {name: ts, type: timestamp}\n"                      \
    "    - {name: pane, type: string}\n"
    EXPECT_OK(PANE_SOURCE SINK "key_by: [pane]\n" WINDOW);
    EXPECT_ERR(PANE_SOURCE SINK "key_by: [ts, pane]\n" WINDOW "trigger: {every_rows: 5}\n", 7, 14,
               "key_by: key column 'pane' clashes with the pane column", "rename the column");
    EXPECT_ERR(PANE_SOURCE SINK "key_by: pane\n" WINDOW "allowed_lateness: 1m\n", 7, 9,
               "key column 'pane' clashes with the pane column");
#undef PANE_SOURCE
}

/* ---- columns ----------------------------------------------------------- */

static void a_column_not_in_the_schema_is_refused_with_the_schemas_columns(void)
{
    EXPECT_ERR(SOURCE SINK "key_by: [zone, borough]\n", 8, 16,
               "key_by[2] names column 'borough', which is not in source.schema "
               "(columns: ts, zone, fare)");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\n"
                           "aggregate: [{fn: sum, field: tip}]\n",
               9, 30, "aggregate[1].field names column 'tip'");
    EXPECT_ERR(SOURCE "  event_time: pickup\n" SINK, 7, 15,
               "source.event_time names column 'pickup'");
}

static void event_time_defaults_to_the_only_timestamp_column(void)
{
    static const char two_ts[] = "source:\n  path: in.csv\n  schema:\n"
                                 "    - {name: pickup, type: timestamp, format: epoch_ms}\n"
                                 "    - {name: dropoff, type: timestamp, format: epoch_s}\n"
                                 "    - {name: n, type: int64}\n" SINK;
    /* Two timestamp columns and no window: no event time needed. */
    EXPECT_OK(two_ts);
    CU_ASSERT_EQUAL(s_job.source.event_time_col, -1);
    CU_ASSERT_EQUAL(s_job.source.fields[0].ts_format, WEIR_TS_EPOCH_MS);
    CU_ASSERT_EQUAL(s_job.source.fields[1].ts_format, WEIR_TS_EPOCH_S);
    EXPECT_ERR(
        WINDOW
        ""
        "source:\n  path: in.csv\n  schema:\n"
        "    - {name: pickup, type: timestamp}\n    - {name: dropoff, type: timestamp}\n" SINK,
        3, 1, "missing key 'event_time' in source (the mapping at line 3)",
        "2 timestamp columns (pickup, dropoff)");
    EXPECT_ERR("source:\n  path: in.csv\n  schema: [{name: n, type: int64}]\n" SINK WINDOW, 1, 1,
               "a window needs event time, but source.schema has no timestamp column");
    EXPECT_OK("source:\n  path: in.csv\n  schema: [{name: n, type: int64}]\n" SINK);
    CU_ASSERT_EQUAL(s_job.source.event_time_col, -1);
    EXPECT_ERR(SOURCE "  event_time: fare\n" SINK, 7, 15,
               "source.event_time column 'fare' has type double; it must be a timestamp");
}

static void key_by_takes_one_name_or_a_list_of_distinct_columns(void)
{
    EXPECT_OK(SOURCE SINK "key_by: zone\n");
    CU_ASSERT_EQUAL(s_job.n_keys, 1);
    CU_ASSERT_EQUAL(s_job.key_cols[0], 1);
    EXPECT_OK(SOURCE SINK "key_by: [fare, zone]\n");
    CU_ASSERT_EQUAL(s_job.n_keys, 2);
    CU_ASSERT_EQUAL(s_job.key_cols[0], 2);
    CU_ASSERT_EQUAL(s_job.key_cols[1], 1);
    EXPECT_OK(SOURCE SINK "key_by: []\n");
    CU_ASSERT_EQUAL(s_job.n_keys, 0);
    EXPECT_ERR(SOURCE SINK "key_by: [zone, zone]\n", 8, 16, "column 'zone' is a key twice");
    EXPECT_ERR(SOURCE SINK "key_by: [zone, zone, zone, zone, zone, zone, zone, zone, zone]\n", 8, 9,
               "key_by has 9 columns, at most 8");
    EXPECT_ERR(SOURCE SINK "key_by: [[zone]]\n", 8, 10, "key_by[1] must be a column name",
               "got a list");
}

static void aggregates_check_the_types_of_their_fields(void)
{
    static const char flags[] =
        "source:\n  path: x\n  schema:\n"
        "    - {name: ts, type: timestamp}\n"
        "    - {name: ok, type: bool}\n"
        "    - {name: n, type: int64}\n" SINK "window: {type: tumbling, size: 1h}\n";
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%saggregate: [{fn: sum, field: ok}]\n", flags);
    EXPECT_ERR(yaml, 9, 30, "aggregate[1].field: sum needs an int64 or double column",
               "'ok' has type bool");
    snprintf(yaml, sizeof yaml, "%saggregate: [{fn: avg, field: ts}]\n", flags);
    EXPECT_ERR(yaml, 9, 30, "avg needs an int64 or double column");
    snprintf(yaml, sizeof yaml, "%saggregate: [{fn: min, field: ok}]\n", flags);
    EXPECT_ERR(yaml, 9, 30, "min needs an int64, double or timestamp column");
    snprintf(yaml, sizeof yaml,
             "%saggregate: [{fn: min, field: ts}, {fn: max, field: n}, {fn: count, field: ok},"
             " {fn: count_distinct, field: ok}, {fn: sum, field: n}]\n",
             flags);
    EXPECT_OK(yaml);
    CU_ASSERT_EQUAL(s_job.n_aggs, 5);
    CU_ASSERT_STRING_EQUAL(s_job.aggs[0].as, "min_ts");
    CU_ASSERT_STRING_EQUAL(s_job.aggs[2].as, "count_ok");
    CU_ASSERT_EQUAL(s_job.aggs[2].field_col, 1);
    CU_ASSERT_STRING_EQUAL(s_job.aggs[3].as, "count_distinct_ok");
}

static void output_names_must_be_unique_and_not_clash_with_keys_or_window_columns(void)
{
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\n"
                           "aggregate: [{fn: count}, {fn: count}]\n",
               9, 26, "aggregate[2]: output name 'count' clashes with an earlier aggregate");
    EXPECT_ERR(SOURCE SINK "key_by: zone\nwindow: {type: tumbling, size: 1h}\n"
                           "aggregate: [{fn: count, as: zone}]\n",
               10, 29, "output name 'zone' clashes with the key column");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\n"
                           "aggregate: [{fn: max, field: ts, as: window_end}]\n",
               9, 38, "'window_end' clashes with the window column");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 1h}\n"
                           "aggregate: [{fn: count, as: ''}]\n",
               9, 29, "aggregate[1].as is empty");
}

static void timestamp_formats_take_names_or_strftime_patterns(void)
{
    EXPECT_OK("source:\n  path: x\n  schema:\n"
              "    - {name: a, type: timestamp, format: iso8601}\n"
              "    - {name: b, type: timestamp, format: '%d/%m/%Y %H:%M:%S.%f%z'}\n"
              "  event_time: b\n" SINK);
    CU_ASSERT_EQUAL(s_job.source.fields[0].ts_format, WEIR_TS_ISO8601);
    CU_ASSERT_EQUAL(s_job.source.fields[1].ts_format, WEIR_TS_PATTERN);
    CU_ASSERT_STRING_EQUAL(s_job.source.fields[1].ts_pattern, "%d/%m/%Y %H:%M:%S.%f%z");
    CU_ASSERT_EQUAL(s_job.source.event_time_col, 1);
    EXPECT_ERR("source:\n  path: x\n  schema: [{name: a, type: timestamp, format: rfc2822}]\n" SINK,
               3, 47, "unknown source.schema[1].format 'rfc2822'", "iso8601, epoch_ms, epoch_s");
    EXPECT_ERR("source:\n  path: x\n  schema: [{name: a, type: timestamp, format: '%b %d'}]\n" SINK,
               3, 47, "unsupported directive '%b'");
    EXPECT_ERR("source:\n  path: x\n  schema: [{name: a, type: timestamp, format: '%Y%'}]\n" SINK,
               3, 47, "unsupported directive '%'");
    EXPECT_ERR("source:\n  path: x\n  schema: [{name: a, type: int64, format: epoch_ms}]\n" SINK, 3,
               35, "source.schema[1].format applies only to timestamp columns");
}

static void a_column_listed_twice_is_refused(void)
{
    EXPECT_ERR("source:\n  path: x\n  schema:\n    - {name: a, type: int64}\n"
               "    - {name: a, type: double}\n" SINK,
               5, 14, "column 'a' is listed twice (also source.schema[1])");
}

static void time_zones_are_fixed_offsets(void)
{
    static const struct {
        const char *text;
        int32_t ms;
    } ok[] = {{"Z", 0}, {"UTC", 0}, {"'+05:30'", 19800000}, {"-05:00", -18000000}, {"'+00:00'", 0}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, SOURCE "  time_zone: %s\n" SINK, ok[i].text);
        EXPECT_OK(yaml);
        CU_ASSERT_EQUAL(s_job.source.tz_offset_ms, ok[i].ms);
    }
    EXPECT_ERR(SOURCE "  time_zone: America/New_York\n" SINK, 7, 14,
               "source.time_zone must be a fixed offset such as");
    EXPECT_ERR(SOURCE "  time_zone: '+24:00'\n" SINK, 7, 14, "source.time_zone must be");
    EXPECT_ERR(SOURCE "  time_zone: '-5'\n" SINK, 7, 14, "source.time_zone must be");
}

static void the_late_policy_file_needs_a_path_and_drop_refuses_one(void)
{
    EXPECT_OK(SOURCE SINK WINDOW "late: {policy: file, path: /late}\n");
    CU_ASSERT_EQUAL(s_job.late.policy, WEIR_LATE_FILE);
    CU_ASSERT_STRING_EQUAL(s_job.late.path, "/late");
    EXPECT_OK(SOURCE SINK WINDOW "late: {policy: drop}\n");
    CU_ASSERT_EQUAL(s_job.late.policy, WEIR_LATE_DROP);
    EXPECT_ERR(SOURCE SINK WINDOW "late: {path: /late}\n", 10, 8,
               "late.path does not apply to policy: drop");
}

static void source_keys_must_fit_the_source_type(void)
{
    EXPECT_ERR("source: {type: generator, path: x.csv}\n" SINK, 1, 27,
               "source.path does not apply to a generator source");
    EXPECT_ERR(SOURCE "  rows: 10\n" SINK, 7, 3, "source.rows does not apply to a file source");
    EXPECT_ERR(SOURCE "  follow: true\n  splits: 2\n" SINK, 8, 11,
               "source.splits must be 1 when source.follow is true");
}

static void restart_keys_must_fit_the_strategy(void)
{
    EXPECT_ERR(SOURCE SINK "restart: {strategy: fixed, initial: 1s}\n", 8, 28,
               "restart.initial does not apply to strategy: fixed");
    EXPECT_ERR(SOURCE SINK "restart: {max_attempts: 3}\n", 8, 11,
               "restart.max_attempts does not apply to strategy: none");
    EXPECT_ERR(SOURCE SINK "restart: {strategy: exponential, initial: 10s, max: 5s}\n", 8, 53,
               "restart.max 5s is shorter than restart.initial 10s");
    EXPECT_ERR(SOURCE SINK "restart: {strategy: exponential, max_attempts: 0}\n", 8, 48,
               "restart.max_attempts 0 is out of range");
}

static void the_filter_is_stored_raw_up_to_its_limit(void)
{
    EXPECT_OK(SOURCE SINK "filter: 'zone == \"JFK\" and fare > 2.5'\n");
    CU_ASSERT_STRING_EQUAL(s_job.filter, "zone == \"JFK\" and fare > 2.5");
    EXPECT_OK(SOURCE SINK "filter: ''\n");
    CU_ASSERT_STRING_EQUAL(s_job.filter, "");
    static char yaml[WEIR_FILTER_MAX + 256];
    int n = snprintf(yaml, sizeof yaml, SOURCE SINK "filter: ");
    memset(yaml + n, 'f', WEIR_FILTER_MAX - 1);
    strcpy(yaml + n + WEIR_FILTER_MAX - 1, "\n");
    EXPECT_OK(yaml);
    CU_ASSERT_EQUAL(strlen(s_job.filter), WEIR_FILTER_MAX - 1);
    strcpy(yaml + n + WEIR_FILTER_MAX - 1, "f\n");
    EXPECT_ERR(yaml, 8, 9, "filter 'ffff", "is too long (1024 bytes, at most 1023)");
}

/* ---- malformed and hostile input --------------------------------------- */

static void yaml_syntax_errors_are_reported_with_their_line_and_column(void)
{
    EXPECT_ERR(SOURCE "sink: {path: out\n", 8, 1, "invalid YAML");
    EXPECT_ERR("name: x\n  parallelism: 2\n" SOURCE SINK, 2, 14,
               "invalid YAML: mapping values are not allowed in this context");
    EXPECT_ERR("name: \"x\n" SOURCE SINK, 9, 1, "invalid YAML", "quoted scalar at line 1");
    EXPECT_ERR("source: *nowhere\n" SINK, 1, 9, "invalid YAML", "undefined alias");
    EXPECT_ERR("name: x\t\n\tparallelism: 2\n" SOURCE SINK, 2, 1, "invalid YAML");
}

static void an_empty_file_or_a_scalar_or_list_document_is_refused(void)
{
    EXPECT_ERR("", 1, 1, "the job file is empty");
    EXPECT_ERR("# only a comment\n\n", 1, 1, "the job file is empty");
    EXPECT_ERR("42\n", 1, 1, "a job file must be a mapping", "got '42'");
    EXPECT_ERR("- source\n- sink\n", 1, 1, "a job file must be a mapping", "got a list");
    EXPECT_ERR("---\n...\n", 2, 1, "a job file must be a mapping", "an empty value");
    weir_job_t j;
    char err[128];
    CU_ASSERT_EQUAL(weir_jobspec_parse(NULL, 0, "x.yaml", "/", 0, &j, err, sizeof err),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty"));
}

static void a_second_yaml_document_is_refused(void)
{
    EXPECT_ERR(SOURCE SINK "---\nname: other\n", 8, 1, "a second YAML document starts here");
}

static void deep_nesting_is_refused_without_a_crash(void)
{
    size_t depth = 200000;
    char *yaml = malloc(2 * depth + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(yaml);
    if (!yaml)
        return; /* the FATAL assertion jumps out; this tells the compiler */
    size_t o = (size_t)sprintf(yaml, "source: ");
    memset(yaml + o, '[', depth);
    memset(yaml + o + depth, ']', depth);
    strcpy(yaml + o + 2 * depth, "\n" SINK);
    EXPECT_ERR(yaml, 1, 40, "lists and mappings are nested more than 32 deep here");
    /* Nesting where the schema has a scalar, and in flow mappings. */
    o = (size_t)sprintf(yaml, SOURCE SINK "name: ");
    for (size_t i = 0; i < depth / 4; i++)
        o += (size_t)sprintf(yaml + o, "{a: ");
    memset(yaml + o, '}', depth / 4);
    strcpy(yaml + o + depth / 4, "\n");
    EXPECT_ERR(yaml, 8, 131, "nested more than 32 deep");
    free(yaml);
    /* Within the limit, a nested value where a scalar belongs is a type error. */
    EXPECT_ERR(SOURCE SINK "name: [[[[[[[[[[x]]]]]]]]]]\n", 8, 7, "name must be a string",
               "got a list");
}

static void aliases_are_read_as_their_anchored_value_and_cycles_are_harmless(void)
{
    EXPECT_OK("source:\n  path: in.csv\n  schema: &cols [{name: ts, type: timestamp}]\n"
              "sink: {path: &p out}\nname: *p\n");
    CU_ASSERT_STRING_EQUAL(s_job.name, "out");
    EXPECT_ERR("source: &s {path: *s}\n" SINK, 1, 9, "source.path must be a path", "got a mapping");
    /* A "billion laughs" graph costs nothing: no value is expanded. */
    EXPECT_ERR("a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\n" SOURCE SINK,
               1, 1, "unknown key 'a'");
    /* libyaml looks anchors up linearly, so their number is bounded. */
    char yaml[2048];
    size_t o = (size_t)sprintf(yaml, "x: [");
    for (int i = 0; i < 101; i++)
        o += (size_t)sprintf(yaml + o, "&a%d 1, ", i);
    strcpy(yaml + o, "]\n");
    EXPECT_ERR(yaml, 1, 0, "more than 100 anchors");
}

static void huge_numbers_are_refused_as_out_of_range(void)
{
    EXPECT_ERR("parallelism: 99999999999999999999999999999999999999\n" SOURCE SINK, 1, 14,
               "parallelism 99999999999999999999999999999999999999 is out of range");
    EXPECT_ERR("parallelism: -9223372036854775809\n" SOURCE SINK, 1, 14, "is out of range");
    EXPECT_ERR("source: {type: generator, seed: 18446744073709551616}\n" SINK, 1, 33,
               "source.seed 18446744073709551616 is out of range");
    EXPECT_ERR(SOURCE SINK "window: {type: tumbling, size: 9223372036854775808}\n", 8, 32,
               "too large");
}

static void strings_longer_than_their_field_are_refused_never_truncated(void)
{
    char yaml[1024], name[WEIR_NAME_MAX + 1];
    memset(name, 'n', WEIR_NAME_MAX);
    name[WEIR_NAME_MAX] = '\0';
    snprintf(yaml, sizeof yaml, "name: %s\n" SOURCE SINK, name);
    EXPECT_ERR(yaml, 1, 7, "name 'nnnn", "is too long (64 bytes, at most 63)");
    name[WEIR_NAME_MAX - 1] = '\0';
    snprintf(yaml, sizeof yaml, "name: %s\n" SOURCE SINK, name);
    EXPECT_OK(yaml);
    CU_ASSERT_EQUAL(strlen(s_job.name), WEIR_NAME_MAX - 1);
    snprintf(yaml, sizeof yaml, "source: {path: x, schema: [{name: %sxx, type: int64}]}\n" SINK,
             name);
    EXPECT_ERR(yaml, 1, 35, "source.schema[1].name", "is too long");
    /* A long pattern and a default output name that would not fit. */
    snprintf(yaml, sizeof yaml,
             "source: {path: x, schema: [{name: t, type: timestamp, format: '%%Y%s'}]}\n" SINK,
             name);
    EXPECT_ERR(yaml, 1, 63, "source.schema[1].format", "is too long");
    snprintf(
        yaml, sizeof yaml,
        "source: {path: x, schema: [{name: t, type: timestamp}, {name: %s, type: int64}]}\n" SINK
        "window: {type: tumbling, size: 1h}\n"
        "aggregate: [{fn: count_distinct, field: %s}]\n",
        name, name);
    EXPECT_ERR(yaml, 4, 13, "aggregate[1]: the default output name count_distinct_nnn",
               "set as: NAME");
}

static void a_very_long_unknown_key_is_shortened_in_a_one_line_message(void)
{
    size_t len = 100000;
    char *yaml = malloc(len + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(yaml);
    if (!yaml)
        return; /* the FATAL assertion jumps out; this tells the compiler */
    memset(yaml, 'k', len);
    strcpy(yaml + len, ": 1\n");
    /* libyaml limits simple keys to 1024 characters. */
    EXPECT_ERR(yaml, 1, 0, "invalid YAML");
    /* An explicit key has no limit; the message quotes only its start. */
    yaml[0] = '?';
    yaml[1] = ' ';
    strcpy(yaml + len, "\n: 1\n");
    char want[128] = "unknown key '";
    memset(want + 13, 'k', 64);
    strcpy(want + 77, "...' at the top level");
    EXPECT_ERR(yaml, 1, 3, want);
    CU_ASSERT(strlen(s_err) < 400);
    free(yaml);
}

static void control_characters_and_nul_bytes_are_refused(void)
{
    EXPECT_ERR("name: \"a\\nb\"\n" SOURCE SINK, 1, 7, "name 'a\\x0Ab' is not a valid job name");
    EXPECT_ERR(SOURCE "sink: {path: \"out\\0/x\"}\n", 7, 14, "sink.path contains a NUL byte");
    static const char raw[] = "name: a\0b\n";
    int rc =
        weir_jobspec_parse(raw, sizeof raw - 1, FILE_NAME, BASE, 0, &s_job, s_err, sizeof s_err);
    CU_ASSERT_EQUAL(rc, WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, FILE_NAME ":1:8: invalid text"));
    static const char bad_utf8[] = "name: \xC3\x28\n";
    rc = weir_jobspec_parse(bad_utf8, sizeof bad_utf8 - 1, FILE_NAME, BASE, 0, &s_job, s_err,
                            sizeof s_err);
    CU_ASSERT_EQUAL(rc, WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, FILE_NAME ":1:8: invalid text"));
}

static void column_names_with_line_breaks_are_escaped_in_messages(void)
{
    /* Found by fuzzing: the list of schema columns was printed raw. */
    EXPECT_ERR("source:\n  path: x\n  schema: [{name: \"a\\r\\nb\", type: timestamp}]\n"
               "  event_time: c\n" SINK,
               4, 15, "(columns: a\\x0D\\x0Ab)");
    EXPECT_ERR("source:\n  path: x\n  schema: [{name: \"a\\nb\", type: int64}]\n"
               "  event_time: \"a\\nb\"\n" SINK,
               4, 15, "column 'a\\x0Ab' has type int64");
}

static void a_job_file_over_one_mebibyte_is_refused(void)
{
    size_t len = (1u << 20) + 1;
    char *yaml = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(yaml);
    if (!yaml)
        return; /* the FATAL assertion jumps out; this tells the compiler */
    memset(yaml, '#', len);
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, len, FILE_NAME, BASE, 0, &s_job, s_err, sizeof s_err),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "too large"));
    free(yaml);
}

static void the_message_never_overflows_a_small_buffer(void)
{
    const char *yaml = "parallelism: 0\n";
    char err[16];
    memset(err, 'X', sizeof err);
    weir_job_t j;
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), FILE_NAME, BASE, 0, &j, err, 8),
                    WEIR_EINVAL);
    CU_ASSERT_EQUAL(strlen(err), 7);
    CU_ASSERT_EQUAL(err[8], 'X');
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), FILE_NAME, BASE, 0, &j, NULL, 0),
                    WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_jobspec_parse(yaml, strlen(yaml), FILE_NAME, BASE, 0, &j, err, 0),
                    WEIR_EINVAL);
    CU_ASSERT_EQUAL(err[0], 'j');
}

/* Mutates a valid job byte by byte; every result must be a success or a
 * one-line message that names the file. Seed: WEIR_TEST_SEED or fixed. */
static void random_corruptions_of_a_valid_job_never_crash(void)
{
    static const char base[] =
        "name: fuzz\nparallelism: 2\n" SOURCE "  watermark: {max_out_of_orderness: 5s}\n"
        "key_by: [zone]\nwindow: {type: sliding, size: 1h, slide: 10m, offset: -1m}\n"
        "late: {policy: file, path: late}\n"
        "aggregate: [{fn: avg, field: fare}, {fn: count_distinct, field: zone, as: zones}]\n" SINK
        "restart: {strategy: fixed, delay: 1s}\n";
    static const char alphabet[] = "{}[]:,-?&*!|>'\"#%@`\n\t 0123456789abcdefmsh._/\\";
    uint64_t seed = 0x5eed;
    const char *env = getenv("WEIR_TEST_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    uint64_t x = seed | 1;
    char buf[sizeof base + 8];
    int ok = 0, bad = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, base, sizeof base);
        size_t len = sizeof base - 1;
        int edits = 1 + round % 4;
        for (int e = 0; e < edits; e++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x % len);
            buf[at] = alphabet[(x >> 32) % (sizeof alphabet - 1)];
        }
        if (round % 7 == 0)
            len = (size_t)(x >> 20) % len;
        char err[256];
        weir_job_t j;
        int rc = weir_jobspec_parse(buf, len, FILE_NAME, BASE, 0, &j, err, sizeof err);
        bool good = rc == 0 || (rc == WEIR_EINVAL && strncmp(err, FILE_NAME ":", 16) == 0 &&
                                !strchr(err, '\n'));
        if (!good)
            fprintf(stderr, "\n  seed %#llx round %d: rc=%d err=%s\n", (unsigned long long)seed,
                    round, rc, err);
        CU_ASSERT_TRUE(good);
        if (rc)
            bad++;
        else
            ok++;
    }
    CU_ASSERT(bad > 0);
    CU_ASSERT(ok > 0);
}

/* What this version cannot run is refused at its key when the caller asks
 * for a runnable job (weir submit, coordinator, nodes), never ignored. */
static void features_not_built_yet_are_refused_for_running(void)
{
    static const struct {
        const char *yaml;
        int line;
        const char *needle;
    } cases[] = {
        {SOURCE WINDOW "heartbeat: {interval: 1s, timeout: 5s}\n" SINK, 9, "heartbeat.interval"},
    };
    /* A shorter heartbeat timeout per job runs; a longer one does not. */
    CU_ASSERT_EQUAL(s_parse_flags(SOURCE WINDOW "heartbeat: {timeout: 1s}\n" SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    0);
    CU_ASSERT_EQUAL(s_parse_flags(SOURCE WINDOW "heartbeat: {timeout: 5s}\n" SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "at most 3s"));
    CU_ASSERT_EQUAL(s_parse_flags(SOURCE WINDOW "heartbeat: {timeout: 501ms}\n" SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "shorter than two heartbeats"));
    /* Restart strategies run. */
    CU_ASSERT_EQUAL(s_parse_flags(SOURCE WINDOW "restart: {strategy: fixed, delay: 1s}\n" SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    0);
    /* Idleness and follow mode run. */
    CU_ASSERT_EQUAL(s_parse_flags("source:\n  path: in.csv\n  follow: true\n"
                                  "  watermark: {idle_timeout: 1m}\n  schema:\n"
                                  "    - {name: ts, type: timestamp}\n" WINDOW SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(s_parse(cases[i].yaml), 0); /* valid as a file */
        int rc = s_parse_flags(cases[i].yaml, WEIR_JOBSPEC_RUNNABLE);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s:%d:", FILE_NAME, cases[i].line);
        bool ok = rc == WEIR_EINVAL && strncmp(s_err, prefix, strlen(prefix)) == 0 &&
                  strstr(s_err, cases[i].needle) && strstr(s_err, "not supported");
        if (!ok)
            fprintf(stderr, "\n  case %zu: rc=%d: %s\n", i, rc, s_err);
        CU_ASSERT(ok);
    }
    CU_ASSERT_EQUAL(s_parse_flags(SOURCE WINDOW SINK, WEIR_JOBSPEC_RUNNABLE), 0);

    /* A filter must compile against the schema; the error points into it. */
    CU_ASSERT_EQUAL(s_parse_flags(SOURCE "filter: \"fare > 2 and zone = 'JFK'\"\n" WINDOW SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    0);
    CU_ASSERT_EQUAL(s_parse_flags(SOURCE "filter: \"fare > 2 and zon = 'JFK'\"\n" WINDOW SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, FILE_NAME ":7:23: filter: unknown column 'zon'"));

    /* A generator makes fixed columns of fixed types. */
    CU_ASSERT_EQUAL(s_parse_flags("source: {type: generator, rows: 10, schema: [{name: foo, "
                                  "type: int64}]}\n" SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "makes no column 'foo'"));
    CU_ASSERT_EQUAL(s_parse_flags("source: {type: generator, rows: 10, schema: [{name: "
                                  "fare_amount, type: int64}]}\n" SINK,
                                  WEIR_JOBSPEC_RUNNABLE),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "is a double"));

    /* Runnable, but not on any machine: bounded before anything starts. */
    const char *wide = SOURCE "window: {type: sliding, size: 1d, slide: 1ms}\n"
                              "aggregate: [{fn: count}]\n" SINK;
    CU_ASSERT_EQUAL(s_parse_flags(wide, WEIR_JOBSPEC_RUNNABLE), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "at most 4,096"));
    const char *huge = "parallelism: 256\nmax_key_groups: 32768\n"
                       "source:\n  path: in.csv\n  splits: 256\n  schema:\n"
                       "    - {name: ts, type: timestamp}\n" WINDOW SINK;
    CU_ASSERT_EQUAL(s_parse(huge), 0);
    CU_ASSERT_EQUAL(s_parse_flags(huge, WEIR_JOBSPEC_RUNNABLE), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "65536 channels"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "limit 512 MB"));
}

static void a_list_of_sources_is_a_union_with_one_schema(void)
{
    const char *two = "source:\n"
                      "  - {path: a.csv, splits: 2, schema: [{name: ts, type: timestamp}, "
                      "{name: k, type: string}]}\n"
                      "  - {path: b.csv, schema: [{name: ts, type: timestamp, format: epoch_ms}, "
                      "{name: k, type: string}]}\n" WINDOW SINK;
    CU_ASSERT_EQUAL_FATAL(s_parse(two), 0);
    CU_ASSERT_EQUAL(s_job.n_sources, 2);
    CU_ASSERT_EQUAL(weir_job_splits(&s_job), 3);
    CU_ASSERT_STRING_EQUAL(s_job.sources[1].path, BASE "/b.csv");
    CU_ASSERT_EQUAL(s_job.sources[1].splits, 1);
    CU_ASSERT_STRING_EQUAL(s_job.source.path, BASE "/a.csv");
    int local = -1;
    const weir_source_t *src = weir_job_split_source(&s_job, 2, &local);
    CU_ASSERT_PTR_EQUAL(src, &s_job.sources[1]);
    CU_ASSERT_EQUAL(local, 0);
    src = weir_job_split_source(&s_job, 1, &local);
    CU_ASSERT_PTR_EQUAL(src, &s_job.sources[0]);
    CU_ASSERT_EQUAL(local, 1);
    EXPECT_ERR(
        "source:\n"
        "  - {path: a.csv, schema: [{name: ts, type: timestamp}, {name: k, type: string}]}\n"
        "  - {path: b.csv, schema: [{name: ts, type: timestamp}, {name: k, type: int64}]}\n" WINDOW
            SINK,
        3, 5, "source 2", "same column names and types");
    EXPECT_ERR("source: []\n" WINDOW SINK, 1, 9, "1 to 8");
}

void test_jobspec_register(void)
{
    CU_pSuite s = CU_add_suite("jobspec", NULL, NULL);
    CU_add_test(s, "pipes, devices and mixed outputs are refused",
                pipes_devices_and_mixed_outputs_are_refused);
    CU_add_test(s, "a list of sources is a union with one schema",
                a_list_of_sources_is_a_union_with_one_schema);
    CU_add_test(s, "features not built yet are refused for running",
                features_not_built_yet_are_refused_for_running);
    CU_add_test(s, "a minimal job gets every default", minimal_job_gets_every_default);
    CU_add_test(s, "the taxi example job of DESIGN §2 parses to the expected job",
                the_taxi_example_job_parses_to_the_expected_job);
    CU_add_test(s, "the job name defaults to the file name without its extension",
                the_job_name_defaults_to_the_file_name_without_extension);
    CU_add_test(s, "a generator source without a schema gets the taxi columns",
                a_generator_source_without_a_schema_gets_the_taxi_columns);
    CU_add_test(s, "every section is read into its fields", every_section_is_read_into_its_fields);
    CU_add_test(s, "durations take ms, s, m, h, d or bare milliseconds",
                durations_take_ms_s_m_h_d_or_bare_milliseconds);
    CU_add_test(s, "durations refuse fractions, unknown units, spaces and overflow",
                durations_refuse_fractions_unknown_units_spaces_and_overflow);
    CU_add_test(s, "a negative duration is refused except for the window offset",
                a_negative_duration_is_refused_except_for_the_window_offset);
    CU_add_test(s, "relative paths resolve against the job file's directory",
                relative_paths_resolve_against_the_job_files_directory);
    CU_add_test(s, "absolute paths are kept with '.' and '//' removed",
                absolute_paths_are_kept_with_dot_and_double_slashes_removed);
    CU_add_test(s, "a path longer than the limit is refused, not truncated",
                a_path_longer_than_the_limit_is_refused_not_truncated);
    CU_add_test(s, "checked paths need a readable source file",
                checked_paths_need_a_readable_source_file);
    CU_add_test(s, "an unknown key is refused with its line, column and the allowed keys",
                an_unknown_key_is_refused_with_its_line_column_and_the_allowed_keys);
    CU_add_test(s, "a duplicate key is refused with the line of the first",
                a_duplicate_key_is_refused_with_the_line_of_the_first);
    CU_add_test(s, "a value of the wrong type is refused", a_value_of_the_wrong_type_is_refused);
    CU_add_test(s, "a missing required key names its parent mapping and line",
                a_missing_required_key_names_its_parent_mapping_and_line);
    CU_add_test(s, "a value out of range is refused with the range",
                a_value_out_of_range_is_refused_with_the_range);
    CU_add_test(s, "max_key_groups must be at least parallelism",
                max_key_groups_must_be_at_least_parallelism);
    CU_add_test(s, "an unknown enum value lists the allowed ones",
                an_unknown_enum_value_lists_the_allowed_ones);
    CU_add_test(s, "jsonl sources are refused as not supported yet",
                jsonl_sources_are_refused_as_not_supported_yet);
    CU_add_test(s, "a window of size 0 is refused", a_window_of_size_zero_is_refused);
    CU_add_test(s, "keys that do not belong to the window type are refused",
                keys_that_do_not_belong_to_the_window_type_are_refused);
    CU_add_test(s, "a sliding window needs a slide no larger than its size",
                a_sliding_window_needs_a_slide_no_larger_than_its_size);
    CU_add_test(s, "a window needs aggregates and aggregates need a window",
                a_window_needs_aggregates_and_aggregates_need_a_window);
    CU_add_test(s, "early results take every_rows, every or both and need a window",
                early_results_take_every_rows_every_or_both_and_need_a_window);
    CU_add_test(s, "the pane column name is taken when results carry it",
                the_pane_column_name_is_taken_when_results_carry_it);
    CU_add_test(s, "a column not in the schema is refused with the schema's columns",
                a_column_not_in_the_schema_is_refused_with_the_schemas_columns);
    CU_add_test(s, "event_time defaults to the only timestamp column",
                event_time_defaults_to_the_only_timestamp_column);
    CU_add_test(s, "key_by takes one name or a list of distinct columns",
                key_by_takes_one_name_or_a_list_of_distinct_columns);
    CU_add_test(s, "aggregates check the types of their fields",
                aggregates_check_the_types_of_their_fields);
    CU_add_test(s, "output names must be unique and not clash with keys or window columns",
                output_names_must_be_unique_and_not_clash_with_keys_or_window_columns);
    CU_add_test(s, "timestamp formats take names or strftime patterns",
                timestamp_formats_take_names_or_strftime_patterns);
    CU_add_test(s, "a column listed twice is refused", a_column_listed_twice_is_refused);
    CU_add_test(s, "time zones are fixed offsets", time_zones_are_fixed_offsets);
    CU_add_test(s, "the late policy file needs a path and drop refuses one",
                the_late_policy_file_needs_a_path_and_drop_refuses_one);
    CU_add_test(s, "source keys must fit the source type", source_keys_must_fit_the_source_type);
    CU_add_test(s, "restart keys must fit the strategy", restart_keys_must_fit_the_strategy);
    CU_add_test(s, "the filter is stored raw up to its limit",
                the_filter_is_stored_raw_up_to_its_limit);
    CU_add_test(s, "YAML syntax errors are reported with their line and column",
                yaml_syntax_errors_are_reported_with_their_line_and_column);
    CU_add_test(s, "an empty file or a scalar or list document is refused",
                an_empty_file_or_a_scalar_or_list_document_is_refused);
    CU_add_test(s, "a second YAML document is refused", a_second_yaml_document_is_refused);
    CU_add_test(s, "deep nesting is refused without a crash",
                deep_nesting_is_refused_without_a_crash);
    CU_add_test(s, "aliases are read as their anchored value and cycles are harmless",
                aliases_are_read_as_their_anchored_value_and_cycles_are_harmless);
    CU_add_test(s, "huge numbers are refused as out of range",
                huge_numbers_are_refused_as_out_of_range);
    CU_add_test(s, "strings longer than their field are refused, never truncated",
                strings_longer_than_their_field_are_refused_never_truncated);
    CU_add_test(s, "a very long unknown key is shortened in a one-line message",
                a_very_long_unknown_key_is_shortened_in_a_one_line_message);
    CU_add_test(s, "control characters and NUL bytes are refused",
                control_characters_and_nul_bytes_are_refused);
    CU_add_test(s, "column names with line breaks are escaped in messages",
                column_names_with_line_breaks_are_escaped_in_messages);
    CU_add_test(s, "a job file over one mebibyte is refused",
                a_job_file_over_one_mebibyte_is_refused);
    CU_add_test(s, "the message never overflows a small buffer",
                the_message_never_overflows_a_small_buffer);
    CU_add_test(s, "random corruptions of a valid job never crash",
                random_corruptions_of_a_valid_job_never_crash);
}
