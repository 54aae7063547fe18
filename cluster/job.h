/* job: the parsed, validated form of a job file (DESIGN §2).
 *
 * weir_job_t is a plain value: fixed-size arrays, no pointers, so it can be
 * copied between threads and compared with memcmp-free field checks. The
 * YAML text itself is what travels (CLI -> coordinator -> nodes); every
 * process parses it with weir_jobspec_parse() (cluster/jobspec.h) and gets
 * the same weir_job_t. Relative paths are already resolved against the job
 * file's directory when the struct is filled.
 *
 * Invariant after a successful parse: every index (event_time_col,
 * key_cols[], aggs[].field_col) points into source.fields[], every size is
 * in range, and the window is valid (size > 0, 0 < slide, ...).
 */
#ifndef WEIR_JOB_H
#define WEIR_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEIR_MAX_COLS 32
#define WEIR_MAX_KEYS 8
#define WEIR_MAX_AGGS 16
#define WEIR_NAME_MAX 64
#define WEIR_PATH_MAX 1024
#define WEIR_FILTER_MAX 1024
#define WEIR_MAX_PARALLELISM 256
#define WEIR_MAX_SOURCES 8
#define WEIR_MAX_KEY_GROUPS 32768

/* Column types of a schema and of batch columns. */
typedef enum {
    WEIR_TYPE_INT64 = 1,
    WEIR_TYPE_DOUBLE = 2,
    WEIR_TYPE_STRING = 3,
    WEIR_TYPE_BOOL = 4,
    WEIR_TYPE_TIMESTAMP = 5, /* int64 ms since the Unix epoch, UTC */
} weir_type_t;

/* How a text timestamp column is written. */
typedef enum {
    WEIR_TS_ISO8601 = 1,  /* 2019-01-01T00:16:10[.fff][Z|+hh:mm], 'T' or ' ' */
    WEIR_TS_EPOCH_MS = 2, /* integer milliseconds */
    WEIR_TS_EPOCH_S = 3,  /* integer or decimal seconds */
    WEIR_TS_PATTERN = 4,  /* strftime-style pattern in ts_pattern */
} weir_ts_format_t;

typedef struct {
    char name[WEIR_NAME_MAX];
    weir_type_t type;
    weir_ts_format_t ts_format;     /* only for WEIR_TYPE_TIMESTAMP */
    char ts_pattern[WEIR_NAME_MAX]; /* only for WEIR_TS_PATTERN, e.g. "%Y-%m-%d %H:%M:%S" */
} weir_field_t;

typedef enum { WEIR_SOURCE_FILE = 1, WEIR_SOURCE_GENERATOR = 2 } weir_source_type_t;
typedef enum { WEIR_FORMAT_CSV = 1, WEIR_FORMAT_JSONL = 2 } weir_format_t;

typedef struct {
    weir_source_type_t type;
    char path[WEIR_PATH_MAX]; /* absolute after parsing */
    weir_format_t format;
    int splits;   /* 1..WEIR_MAX_PARALLELISM, default 1 */
    bool follow;  /* default false */
    int n_fields; /* 1..WEIR_MAX_COLS */
    weir_field_t fields[WEIR_MAX_COLS];
    int event_time_col;              /* index into fields, type TIMESTAMP */
    int64_t max_out_of_orderness_ms; /* >= 0, default 0 */
    int64_t idle_timeout_ms;         /* 0 = never idle (default) */
    int64_t max_drift_ms;            /* 0 = no alignment (default) */
    int32_t tz_offset_ms; /* `time_zone: "-05:00"`: offset of zone-less text timestamps, default 0
                             (UTC) */
    /* generator source (type == WEIR_SOURCE_GENERATOR) */
    int64_t gen_rows; /* 0 = unbounded */
    int64_t gen_rate; /* rows per second, 0 = unlimited */
    uint64_t gen_seed;
} weir_source_t;

typedef enum {
    WEIR_WINDOW_NONE = 0, /* pass-through job */
    WEIR_WINDOW_TUMBLING = 1,
    WEIR_WINDOW_SLIDING = 2,
    WEIR_WINDOW_SESSION = 3,
} weir_window_type_t;

typedef struct {
    weir_window_type_t type;
    int64_t size_ms;   /* tumbling, sliding: > 0 */
    int64_t slide_ms;  /* sliding: > 0; tumbling: == size_ms */
    int64_t gap_ms;    /* session: > 0 */
    int64_t offset_ms; /* tumbling, sliding; any sign, used modulo slide */
} weir_window_t;

typedef enum {
    WEIR_AGG_COUNT = 1, /* field_col < 0: rows; else non-NULL values */
    WEIR_AGG_SUM = 2,
    WEIR_AGG_AVG = 3,
    WEIR_AGG_MIN = 4,
    WEIR_AGG_MAX = 5,
    WEIR_AGG_COUNT_DISTINCT = 6,
} weir_agg_fn_t;

typedef struct {
    weir_agg_fn_t fn;
    int field_col;          /* index into source.fields or -1 */
    char as[WEIR_NAME_MAX]; /* output column name */
} weir_agg_t;

typedef enum { WEIR_LATE_DROP = 1, WEIR_LATE_FILE = 2 } weir_late_policy_t;

typedef struct {
    char name[WEIR_NAME_MAX];
    int parallelism;      /* 1..WEIR_MAX_PARALLELISM, default 1 */
    int max_key_groups;   /* parallelism..WEIR_MAX_KEY_GROUPS, default 128 */
    weir_source_t source; /* the first (or only) source; its schema is the job's */
    int n_sources;        /* 1..WEIR_MAX_SOURCES; `source:` may be a list (a union) */
    weir_source_t sources[WEIR_MAX_SOURCES]; /* every source; sources[0] equals source;
                                              * all have the same schema and event time column */
    char filter[WEIR_FILTER_MAX];            /* empty = none */
    int n_keys;                              /* 0..WEIR_MAX_KEYS */
    int key_cols[WEIR_MAX_KEYS];             /* indexes into source.fields */
    weir_window_t window;
    int64_t allowed_lateness_ms; /* >= 0, default 0 */
    struct {
        weir_late_policy_t policy; /* default DROP (counted) */
        char path[WEIR_PATH_MAX];  /* directory, for FILE */
    } late;
    int n_aggs;
    weir_agg_t aggs[WEIR_MAX_AGGS];
    struct {
        int64_t every_rows; /* 0 = off; else 1..INT32_MAX: a window that took this many rows
                             * since it was last emitted is emitted (pane early) */
        int64_t every_ms;   /* 0 = off; else >= 1: processing time between early panes */
    } trigger;              /* early results (DESIGN §6); only with a window */
    struct {
        char path[WEIR_PATH_MAX];    /* result directory (absolute) */
        weir_format_t format;        /* CSV */
        int64_t max_rows_per_second; /* 0 = unlimited */
    } sink;
    struct {
        int max_rows;     /* 1..65536, default 1024 */
        int max_bytes;    /* 64..64 MiB, default 32768 */
        int64_t flush_ms; /* 0..60000, default 5 */
    } batch;
    struct {
        int buffers_per_channel; /* 1..64, default 4 */
        int floating_buffers;    /* 0..1024, default 8 */
    } network;
    struct {
        int64_t interval_ms; /* 0 = off (default) */
        int64_t timeout_ms;  /* default 60000 */
        int retain;          /* default 3 */
        char storage[WEIR_PATH_MAX]; /* "" = the coordinator's data directory, else a path */
    } checkpoint;
    struct {
        int64_t interval_ms; /* default 500 */
        int64_t timeout_ms;  /* default 3000 */
    } heartbeat;
    struct {
        int strategy;       /* WEIR_RESTART_*, default NONE */
        int64_t delay_ms;   /* fixed: default 1000 */
        int64_t initial_ms; /* exponential: default 1000 */
        int64_t max_ms;     /* exponential: default 30000 */
        int max_attempts;   /* default 10 */
    } restart;
} weir_job_t;

enum { WEIR_RESTART_NONE = 0, WEIR_RESTART_FIXED = 1, WEIR_RESTART_EXPONENTIAL = 2 };

/* True when the job's results carry the `pane` column (early, on_time,
 * late): it has a window and early results or allowed lateness. */
static inline bool weir_job_has_pane(const weir_job_t *job)
{
    return job->window.type != WEIR_WINDOW_NONE &&
           (job->trigger.every_rows > 0 || job->trigger.every_ms > 0 ||
            job->allowed_lateness_ms > 0);
}

/* Splits of all sources together: the job's source tasks, numbered source
 * by source (the splits of sources[0] first). A job built by hand with
 * n_sources == 0 has the one source `source`. */
static inline int weir_job_splits(const weir_job_t *job)
{
    if (job->n_sources <= 1)
        return job->source.splits;
    int n = 0;
    for (int i = 0; i < job->n_sources; i++)
        n += job->sources[i].splits;
    return n;
}

/* The source and its own split number of the job's split `split`. */
static inline const weir_source_t *weir_job_split_source(const weir_job_t *job, int split,
                                                         int *local_split)
{
    if (job->n_sources <= 1) {
        *local_split = split;
        return &job->source;
    }
    for (int i = 0; i < job->n_sources; i++) {
        if (split < job->sources[i].splits) {
            *local_split = split;
            return &job->sources[i];
        }
        split -= job->sources[i].splits;
    }
    *local_split = 0;
    return &job->source;
}

/* The job's state signature: what a checkpoint's state means (key columns
 * with their types, the window, the aggregates with their fields and
 * types, the kind of each source). A job may be restored only from a
 * checkpoint with the same signature; the text says what each part is, so
 * an error can show both. Writes at most cap bytes (NUL included). */
void weir_job_state_signature(const weir_job_t *job, char *out, size_t cap);

#endif
