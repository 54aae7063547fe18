/* jobspec: job YAML text -> validated weir_job_t (DESIGN §2). See jobspec.h.
 *
 * The problem: a job file is written by hand and read by every process. A
 * mistake in it must surface at submit time as one line naming the file,
 * line, column, the problem and its fix; never as a crash, a truncated
 * value or a key that is silently ignored and changes what the job means.
 *
 * How: a first pass over libyaml's events bounds the nesting depth and
 * the number of anchors (libyaml's scanner is quadratic in flow nesting and
 * its loader looks anchors up linearly). Then libyaml's document API loads
 * the text into a node tree that is freed in one place. The walker visits
 * only the shapes the schema allows, so its depth is bounded by the
 * schema, and aliases (which can turn the tree into a graph) cost nothing
 * extra. Each mapping is checked against the table of its keys (unknown
 * and duplicate keys are refused) before any of its values is read; each
 * value goes through one typed reader (integer, boolean, duration, enum,
 * string, path, column) that checks kind, range and length and writes the
 * message. A plain scalar is typed by its text; a quoted one is always a
 * string, so `parallelism: "4"` is refused rather than guessed. User text
 * in messages is escaped and shortened, so a message is always one line.
 *
 * Invariant: on success every field of weir_job_t is set (defaults
 * included) and within the ranges of job.h; every column index points into
 * source.fields, except event_time_col, which is -1 for a job without a
 * window whose schema has no single timestamp column. The first error stops
 * the parse.
 *
 * Costs: two passes over the text, and memory proportional to it (capped
 * at 1 MiB); a job file is parsed once per process, so nothing here is
 * tuned for speed.
 *
 * Rejected: libyaml's event API with a hand-written state machine (more
 * code for the same checks, and the marks of parent mappings must be kept
 * by hand); lenient typing (quoted numbers, unknown keys ignored with a
 * warning), because a typo would change a job without a word; removing
 * ".." from paths lexically, which is wrong across symlinks, so ".." is
 * kept as written; jsonl sources, refused until a reader exists.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "jobspec.h"
#include "filter.h"
#include "gensrc.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "err.h"

#define S_MAX_INPUT (1u << 20) /* bytes of YAML; a real job file is a few KiB */
#define S_MAX_MAP_KEYS 17      /* keys of the largest table (the top level) */
#define S_QUOTE_MAX 64         /* bytes of user text quoted in a message */
#define S_LIST_MAX 256         /* bytes of a "one of: a, b, c" list in a message */
#define S_MAX_DEPTH 32         /* nesting of collections; a valid job needs 4 */
#define S_MAX_ANCHORS 100      /* &anchors in a file; libyaml looks them up linearly */

typedef struct {
    const char *file;     /* for messages; borrowed for the parse */
    const char *base_dir; /* absolute; borrowed for the parse */
    unsigned flags;       /* WEIR_JOBSPEC_* */
    yaml_document_t *doc;
    char *err; /* err_cap bytes, may be NULL when err_cap == 0 */
    size_t err_cap;
} s_ctx_t;

/* A mapping whose keys were checked against a table: val[i] is the value
 * of keys[i] and key[i] its key node, both NULL when the key is absent. */
typedef struct {
    const char *path; /* "source", "window", "aggregate[2]"; "" = top level */
    yaml_mark_t mark; /* where the mapping is named, for "missing key" */
    const char *const *keys;
    size_t n_keys;
    yaml_node_t *key[S_MAX_MAP_KEYS];
    yaml_node_t *val[S_MAX_MAP_KEYS];
} s_map_t;

/* User text made safe for a one-line message: control bytes escaped,
 * long text cut at S_QUOTE_MAX bytes (on a UTF-8 boundary) with "...". */
typedef struct {
    char s[S_QUOTE_MAX * 4 + 8];
} s_quote_t;

static const char *const s_top_keys[] = {
    "name",   "parallelism",      "max_key_groups", "source",    "filter",    "key_by",
    "window", "allowed_lateness", "trigger",        "late",      "aggregate", "sink",
    "batch",  "network",          "checkpoint",     "heartbeat", "restart",
};
static const char *const s_source_keys[] = {
    "type",       "path",      "format",    "splits", "follow", "schema",
    "event_time", "watermark", "time_zone", "rows",   "rate",   "seed",
};
static const char *const s_column_keys[] = {"name", "type", "format"};
static const char *const s_watermark_keys[] = {"max_out_of_orderness", "idle_timeout", "max_drift"};
static const char *const s_window_keys[] = {"type", "size", "slide", "gap", "offset"};
static const char *const s_trigger_keys[] = {"every_rows", "every"};
static const char *const s_late_keys[] = {"policy", "path"};
static const char *const s_agg_keys[] = {"fn", "field", "as"};
static const char *const s_sink_keys[] = {"type", "path", "format", "max_rows_per_second"};
static const char *const s_batch_keys[] = {"max_rows", "max_bytes", "flush"};
static const char *const s_network_keys[] = {"buffers_per_channel", "floating_buffers"};
static const char *const s_checkpoint_keys[] = {"interval", "timeout", "retain", "storage"};
static const char *const s_heartbeat_keys[] = {"interval", "timeout"};
static const char *const s_restart_keys[] = {"strategy", "delay", "initial", "max", "max_attempts"};

static const char *const s_source_types[] = {"file", "generator"};
static const char *const s_formats[] = {"csv", "jsonl"};
static const char *const s_col_types[] = {"int64", "double", "string", "bool", "timestamp"};
static const weir_type_t s_col_type_vals[] = {WEIR_TYPE_INT64, WEIR_TYPE_DOUBLE, WEIR_TYPE_STRING,
                                              WEIR_TYPE_BOOL, WEIR_TYPE_TIMESTAMP};
static const char *const s_window_types[] = {"tumbling", "sliding", "session"};
static const char *const s_late_policies[] = {"drop", "file"};
static const char *const s_agg_fns[] = {"count", "sum", "avg", "min", "max", "count_distinct"};
static const weir_agg_fn_t s_agg_fn_vals[] = {WEIR_AGG_COUNT, WEIR_AGG_SUM,
                                              WEIR_AGG_AVG,   WEIR_AGG_MIN,
                                              WEIR_AGG_MAX,   WEIR_AGG_COUNT_DISTINCT};
static const char *const s_sink_types[] = {"file"};
static const char *const s_sink_formats[] = {"csv"};
static const char *const s_restart_strategies[] = {"none", "fixed", "exponential"};

/* The generator's schema when the job gives none: the NYC taxi columns
 * that bench/ and the examples use. */
static const struct {
    const char *name;
    weir_type_t type;
} s_gen_schema[] = {
    {"vendor_id", WEIR_TYPE_INT64},
    {"pickup_datetime", WEIR_TYPE_TIMESTAMP},
    {"dropoff_datetime", WEIR_TYPE_TIMESTAMP},
    {"passenger_count", WEIR_TYPE_INT64},
    {"trip_distance", WEIR_TYPE_DOUBLE},
    {"pickup_location_id", WEIR_TYPE_INT64},
    {"dropoff_location_id", WEIR_TYPE_INT64},
    {"payment_type", WEIR_TYPE_INT64},
    {"fare_amount", WEIR_TYPE_DOUBLE},
    {"tip_amount", WEIR_TYPE_DOUBLE},
    {"total_amount", WEIR_TYPE_DOUBLE},
};
#define S_GEN_EVENT_TIME 1 /* pickup_datetime */

#define S_N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- messages ---------------------------------------------------------- */

static int s_vfail(s_ctx_t *c, int rc, size_t line, size_t col, const char *fmt, va_list ap)
{
    if (!c->err || c->err_cap == 0)
        return rc;
    int n = snprintf(c->err, c->err_cap, "%s:%zu:%zu: ", c->file, line, col);
    if (n >= 0 && (size_t)n < c->err_cap)
        vsnprintf(c->err + n, c->err_cap - (size_t)n, fmt, ap);
    /* One line whatever the input held: user text is escaped where it is
     * quoted, and this catches any control byte that got through. */
    for (char *p = c->err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = '?';
    return rc;
}

/* Writes "FILE:LINE:COL: message" for libyaml mark m; returns WEIR_EINVAL. */
__attribute__((format(printf, 3, 4))) static int s_fail(s_ctx_t *c, yaml_mark_t m, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail(c, WEIR_EINVAL, m.line + 1, m.column + 1, fmt, ap);
    va_end(ap);
    return rc;
}

/* Same, with another return code (-errno of a path check). */
__attribute__((format(printf, 4, 5))) static int s_fail_rc(s_ctx_t *c, int rc, yaml_mark_t m,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vfail(c, rc, m.line + 1, m.column + 1, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *s_quote_as(s_quote_t *q, const char *text, size_t len, bool ticks)
{
    size_t cut = len;
    if (cut > S_QUOTE_MAX) {
        cut = S_QUOTE_MAX;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--;
    }
    size_t o = 0;
    if (ticks)
        q->s[o++] = '\'';
    for (size_t i = 0; i < cut; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < 0x20 || ch == 0x7F) {
            static const char hex[] = "0123456789ABCDEF";
            q->s[o++] = '\\';
            q->s[o++] = 'x';
            q->s[o++] = hex[ch >> 4];
            q->s[o++] = hex[ch & 15];
        } else {
            q->s[o++] = (char)ch;
        }
    }
    if (cut < len) {
        memcpy(q->s + o, "...", 3);
        o += 3;
    }
    if (ticks)
        q->s[o++] = '\'';
    q->s[o] = '\0';
    return q->s;
}

static const char *s_quote(s_quote_t *q, const char *text, size_t len)
{
    return s_quote_as(q, text, len, false);
}

/* "a, b, c" into buf, ending in ", ..." when it does not fit. quote:
 * names are user text (column names), escaped as by s_quote. */
static const char *s_join_as(const char *const *names, size_t n, char *buf, size_t cap, bool quote)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        s_quote_t q;
        const char *name = quote ? s_quote(&q, names[i], strlen(names[i])) : names[i];
        size_t len = strlen(name);
        if (o + len + 2 + 6 >= cap) {
            snprintf(buf + o, cap - o, "%s...", i ? ", " : "");
            break;
        }
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", name);
    }
    return buf;
}

static const char *s_join(const char *const *names, size_t n, char *buf, size_t cap)
{
    return s_join_as(names, n, buf, cap, false);
}

/* Formats ms in the largest unit that divides it ("1h", "90s", "250ms"). */
static const char *s_fmt_dur(int64_t ms, char *buf, size_t cap)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    if (ms != 0)
        for (size_t i = 0; i < S_N(units); i++)
            if (ms % units[i].ms == 0) {
                snprintf(buf, cap, "%" PRId64 "%s", ms / units[i].ms, units[i].unit);
                return buf;
            }
    snprintf(buf, cap, "%" PRId64 "ms", ms);
    return buf;
}

/* ---- nodes ------------------------------------------------------------- */

static bool s_eq(const char *text, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(text, lit, len) == 0;
}

static const char *s_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool s_is_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
           n->data.scalar.style == YAML_ANY_SCALAR_STYLE;
}

/* YAML null: an empty plain value, "~" or "null". */
static bool s_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || !s_is_plain(n))
        return false;
    const char *t = s_text(n);
    size_t len = n->data.scalar.length;
    return len == 0 || s_eq(t, len, "~") || s_eq(t, len, "null") || s_eq(t, len, "Null") ||
           s_eq(t, len, "NULL");
}

/* How a node reads in "got ..." of a message. */
static const char *s_kind(const yaml_node_t *n, s_quote_t *q)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (s_is_null(n))
        return "an empty value";
    return s_quote_as(q, s_text(n), n->data.scalar.length, true);
}

static yaml_node_t *s_node(s_ctx_t *c, int idx)
{
    return yaml_document_get_node(c->doc, idx);
}

static size_t s_seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *s_seq_at(s_ctx_t *c, const yaml_node_t *n, size_t i)
{
    return s_node(c, n->data.sequence.items.start[i]);
}

/* ---- mappings ---------------------------------------------------------- */

static const char *s_where(const char *path, char *buf, size_t cap)
{
    if (!path[0])
        return "at the top level";
    snprintf(buf, cap, "in %s", path);
    return buf;
}

/* Checks that n is a mapping whose keys are all in keys[] and none twice,
 * and records them in m. path names the mapping in messages; mark is where
 * it is named (its key); example shows a valid value. */
static int s_map_read(s_ctx_t *c, yaml_node_t *n, const char *path, yaml_mark_t mark,
                      const char *const *keys, size_t n_keys, const char *example, s_map_t *m)
{
    assert(n_keys <= S_MAX_MAP_KEYS);
    memset(m, 0, sizeof *m);
    m->path = path;
    m->mark = mark;
    m->keys = keys;
    m->n_keys = n_keys;
    char where[96], list[S_LIST_MAX];
    s_quote_t q;
    if (n->type != YAML_MAPPING_NODE) {
        if (!path[0])
            return s_fail(c, n->start_mark,
                          "a job file must be a mapping of keys such as name, source and sink, "
                          "got %s; see docs/JOBFILE.md",
                          s_kind(n, &q));
        return s_fail(c, n->start_mark, "%s must be a mapping such as %s, got %s", path, example,
                      s_kind(n, &q));
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = s_node(c, p->key), *v = s_node(c, p->value);
        if (!k || !v)
            return s_fail(c, n->start_mark, "malformed mapping %s",
                          s_where(path, where, sizeof where));
        if (k->type != YAML_SCALAR_NODE || s_is_null(k))
            return s_fail(c, k->start_mark, "a key %s is %s; keys must be names (one of: %s)",
                          s_where(path, where, sizeof where), s_kind(k, &q),
                          s_join(keys, n_keys, list, sizeof list));
        const char *kt = s_text(k);
        size_t kl = k->data.scalar.length, i = 0;
        while (i < n_keys && !s_eq(kt, kl, keys[i]))
            i++;
        if (i == n_keys)
            return s_fail(c, k->start_mark, "unknown key '%s' %s (expected one of: %s)",
                          s_quote(&q, kt, kl), s_where(path, where, sizeof where),
                          s_join(keys, n_keys, list, sizeof list));
        if (m->key[i])
            return s_fail(c, k->start_mark, "duplicate key '%s' %s (first at line %zu); keep one",
                          keys[i], s_where(path, where, sizeof where),
                          m->key[i]->start_mark.line + 1);
        m->key[i] = k;
        m->val[i] = v;
    }
    return 0;
}

static size_t s_map_idx(const s_map_t *m, const char *key)
{
    for (size_t i = 0; i < m->n_keys; i++)
        if (strcmp(m->keys[i], key) == 0)
            return i;
    assert(!"key is not in the mapping's table");
    return 0;
}

/* The value of key, or NULL when the mapping does not have it. */
static yaml_node_t *s_val(const s_map_t *m, const char *key)
{
    return m->val[s_map_idx(m, key)];
}

/* The mark of key's name; the key must be present. */
static yaml_mark_t s_key_mark(const s_map_t *m, const char *key)
{
    return m->key[s_map_idx(m, key)]->start_mark;
}

/* Refuses a required key that is absent: names the mapping and its line. */
static int s_missing(s_ctx_t *c, const s_map_t *m, const char *key, const char *fix)
{
    if (!m->path[0])
        return s_fail(c, m->mark, "missing key '%s' at the top level of the job; %s", key, fix);
    return s_fail(c, m->mark, "missing key '%s' in %s (the mapping at line %zu); %s", key, m->path,
                  m->mark.line + 1, fix);
}

/* Refuses a key that is present but does not apply (window type, source
 * type, restart strategy). */
static int s_not_for(s_ctx_t *c, const s_map_t *m, const char *key, const char *kind,
                     const char *fix)
{
    return s_fail(c, s_key_mark(m, key), "%s.%s does not apply to %s; %s", m->path, key, kind, fix);
}

/* ---- scalars ----------------------------------------------------------- */

/* The text of a non-empty scalar without NUL bytes, or a message saying
 * that `what` must be `expect`. */
static int s_scalar(s_ctx_t *c, const yaml_node_t *n, const char *what, const char *expect,
                    const char **text, size_t *len)
{
    s_quote_t q;
    *text = "";
    *len = 0;
    if (n->type != YAML_SCALAR_NODE || s_is_null(n))
        return s_fail(c, n->start_mark, "%s must be %s, got %s", what, expect, s_kind(n, &q));
    if (memchr(s_text(n), '\0', n->data.scalar.length))
        return s_fail(c, n->start_mark, "%s contains a NUL byte; remove it", what);
    *text = s_text(n);
    *len = n->data.scalar.length;
    return 0;
}

/* [+-]digits with '_' allowed between digits (YAML 1.1). false on syntax;
 * *ovf when the magnitude does not fit 64 bits. */
static bool s_digits(const char *t, size_t len, bool *neg, uint64_t *mag, bool *ovf)
{
    size_t i = 0;
    *neg = false;
    *mag = 0;
    *ovf = false;
    if (i < len && (t[i] == '-' || t[i] == '+'))
        *neg = t[i++] == '-';
    if (i == len || t[i] < '0' || t[i] > '9')
        return false;
    for (; i < len; i++) {
        if (t[i] == '_' && i + 1 < len && t[i + 1] >= '0' && t[i + 1] <= '9' && t[i - 1] != '_')
            continue;
        if (t[i] < '0' || t[i] > '9')
            return false;
        if (__builtin_mul_overflow(*mag, 10u, mag) ||
            __builtin_add_overflow(*mag, (uint64_t)(t[i] - '0'), mag))
            *ovf = true;
    }
    return true;
}

static int s_int64(s_ctx_t *c, const yaml_node_t *n, const char *what, int64_t min, int64_t max,
                   int64_t *out)
{
    char expect[96];
    snprintf(expect, sizeof expect, "an integer from %" PRId64 " to %" PRId64, min, max);
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, what, expect, &t, &len);
    if (rc)
        return rc;
    s_quote_t q;
    if (!s_is_plain(n))
        return s_fail(c, n->start_mark, "%s must be %s, got the string '%s'; remove the quotes",
                      what, expect, s_quote(&q, t, len));
    bool neg, ovf;
    uint64_t mag;
    if (!s_digits(t, len, &neg, &mag, &ovf))
        return s_fail(c, n->start_mark, "%s must be %s, got '%s'", what, expect,
                      s_quote(&q, t, len));
    bool in = !ovf && (neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= (uint64_t)INT64_MAX);
    int64_t v = 0;
    if (in) {
        v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        in = v >= min && v <= max;
    }
    if (!in)
        return s_fail(c, n->start_mark, "%s %s is out of range; use %s", what, s_quote(&q, t, len),
                      expect);
    *out = v;
    return 0;
}

static int s_int(s_ctx_t *c, const yaml_node_t *n, const char *what, int min, int max, int *out)
{
    int64_t v = 0;
    int rc = s_int64(c, n, what, min, max, &v);
    if (!rc)
        *out = (int)v;
    return rc;
}

static int s_u64(s_ctx_t *c, const yaml_node_t *n, const char *what, uint64_t *out)
{
    const char *expect = "an integer from 0 to 18446744073709551615";
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, what, expect, &t, &len);
    if (rc)
        return rc;
    s_quote_t q;
    bool neg, ovf;
    uint64_t mag;
    if (!s_is_plain(n) || !s_digits(t, len, &neg, &mag, &ovf))
        return s_fail(c, n->start_mark, "%s must be %s, got '%s'", what, expect,
                      s_quote(&q, t, len));
    if (ovf || (neg && mag != 0))
        return s_fail(c, n->start_mark, "%s %s is out of range; use %s", what, s_quote(&q, t, len),
                      expect);
    *out = mag;
    return 0;
}

static int s_bool(s_ctx_t *c, const yaml_node_t *n, const char *what, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, what, "true or false", &t, &len);
    if (rc)
        return rc;
    for (size_t i = 0; s_is_plain(n) && i < S_N(yes); i++) {
        if (s_eq(t, len, yes[i])) {
            *out = true;
            return 0;
        }
        if (s_eq(t, len, no[i])) {
            *out = false;
            return 0;
        }
    }
    s_quote_t q;
    return s_fail(c, n->start_mark, "%s must be true or false, got %s", what, s_kind(n, &q));
}

/* One of names[]; *idx is its position. */
static int s_enum(s_ctx_t *c, const yaml_node_t *n, const char *what, const char *const *names,
                  size_t n_names, int *idx)
{
    char list[S_LIST_MAX], expect[S_LIST_MAX + 16];
    s_join(names, n_names, list, sizeof list);
    snprintf(expect, sizeof expect, "one of: %s", list);
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, what, expect, &t, &len);
    if (rc)
        return rc;
    for (size_t i = 0; i < n_names; i++)
        if (s_eq(t, len, names[i])) {
            *idx = (int)i;
            return 0;
        }
    s_quote_t q;
    return s_fail(c, n->start_mark, "unknown %s '%s' (expected one of: %s)", what,
                  s_quote(&q, t, len), list);
}

/* A string that fits buf (cap bytes with the NUL), never truncated. */
static int s_string(s_ctx_t *c, const yaml_node_t *n, const char *what, bool allow_empty, char *buf,
                    size_t cap)
{
    const char *t;
    size_t len;
    s_quote_t q;
    if (allow_empty && n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
        !s_is_plain(n)) {
        buf[0] = '\0';
        return 0;
    }
    int rc = s_scalar(c, n, what, "a string", &t, &len);
    if (rc)
        return rc;
    if (len == 0 && !allow_empty)
        return s_fail(c, n->start_mark, "%s is empty; give it a value", what);
    if (len >= cap)
        return s_fail(c, n->start_mark, "%s '%s' is too long (%zu bytes, at most %zu); shorten it",
                      what, s_quote(&q, t, len), len, cap - 1);
    memcpy(buf, t, len);
    buf[len] = '\0';
    return 0;
}

/* Durations: 0, WEIR_EINVAL (syntax) or WEIR_ERANGE (overflow). */
static int s_dur_parse(const char *t, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && t[i] == '-') {
        neg = true;
        i++;
    }
    if (i == len || t[i] < '0' || t[i] > '9')
        return WEIR_EINVAL;
    int64_t v = 0;
    bool ovf = false;
    for (; i < len && t[i] >= '0' && t[i] <= '9'; i++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, t[i] - '0', &v))
            ovf = true;
    const char *u = t + i;
    size_t ul = len - i;
    int64_t mult;
    if (ul == 0 || s_eq(u, ul, "ms"))
        mult = 1;
    else if (s_eq(u, ul, "s"))
        mult = 1000;
    else if (s_eq(u, ul, "m"))
        mult = 60000;
    else if (s_eq(u, ul, "h"))
        mult = 3600000;
    else if (s_eq(u, ul, "d"))
        mult = 86400000;
    else
        return WEIR_EINVAL;
    if (ovf || __builtin_mul_overflow(v, mult, &v))
        return WEIR_ERANGE;
    *out = neg ? -v : v;
    return 0;
}

int weir_duration_parse(const char *text, int64_t *out_ms)
{
    if (!text || !out_ms)
        return WEIR_EINVAL;
    int64_t v = 0;
    if (s_dur_parse(text, strlen(text), &v))
        return WEIR_EINVAL;
    *out_ms = v;
    return 0;
}

static int s_dur(s_ctx_t *c, const yaml_node_t *n, const char *what, int64_t min, int64_t max,
                 int64_t *out)
{
    static const char *const expect =
        "a duration such as 250ms, 10s, 5m, 1h, 1d or an integer of milliseconds";
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, what, expect, &t, &len);
    if (rc)
        return rc;
    s_quote_t q;
    int64_t v = 0;
    rc = s_dur_parse(t, len, &v);
    if (rc == WEIR_ERANGE)
        return s_fail(c, n->start_mark, "%s '%s' is too large (it overflows 64-bit milliseconds)",
                      what, s_quote(&q, t, len));
    if (rc)
        return s_fail(c, n->start_mark, "%s must be %s, got '%s'", what, expect,
                      s_quote(&q, t, len));
    char lo[32], hi[32];
    if (v < min && min == 1)
        return s_fail(c, n->start_mark, "%s must be greater than 0, got '%s'", what,
                      s_quote(&q, t, len));
    if (v < min && min == 0)
        return s_fail(c, n->start_mark, "%s must not be negative, got '%s'", what,
                      s_quote(&q, t, len));
    if (v < min || v > max)
        return s_fail(c, n->start_mark, "%s '%s' is out of range (%s to %s)", what,
                      s_quote(&q, t, len), s_fmt_dur(min, lo, sizeof lo),
                      s_fmt_dur(max, hi, sizeof hi));
    *out = v;
    return 0;
}

/* ---- paths ------------------------------------------------------------- */

/* Appends the components of p[0..len) to out[0..*o), dropping empty and
 * "." components. -1 when out (cap bytes with the NUL) is too small. */
static int s_path_append(char *out, size_t cap, size_t *o, const char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && p[i] == '/')
            i++;
        size_t s = i;
        while (i < len && p[i] != '/')
            i++;
        size_t cl = i - s;
        if (cl == 0 || (cl == 1 && p[s] == '.'))
            continue;
        if (*o + 1 + cl >= cap)
            return -1;
        out[(*o)++] = '/';
        memcpy(out + *o, p + s, cl);
        *o += cl;
    }
    return 0;
}

/* Reads a path and makes it absolute against base_dir. */
static int s_path(s_ctx_t *c, const yaml_node_t *n, const char *what, char *out, bool *was_relative)
{
    const char *t;
    size_t len, o = 0;
    int rc = s_scalar(c, n, what, "a path", &t, &len);
    if (rc)
        return rc;
    s_quote_t q;
    if (len == 0)
        return s_fail(c, n->start_mark, "%s is empty; give a file or directory", what);
    *was_relative = t[0] != '/';
    if ((*was_relative &&
         s_path_append(out, WEIR_PATH_MAX, &o, c->base_dir, strlen(c->base_dir)) < 0) ||
        s_path_append(out, WEIR_PATH_MAX, &o, t, len) < 0)
        return s_fail(c, n->start_mark,
                      "%s '%s' is too long (at most %d bytes once resolved against '%s'); "
                      "use a shorter path",
                      what, s_quote(&q, t, len), WEIR_PATH_MAX - 1, c->base_dir);
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return 0;
}

/* With WEIR_JOBSPEC_CHECK_PATHS: path must name a readable file. */
static int s_check_readable(s_ctx_t *c, const yaml_node_t *n, const char *what, const char *path,
                            bool was_relative)
{
    const char *hint =
        was_relative ? " (relative paths resolve against the job file's directory)" : "";
    char ebuf[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int rc = fd < 0 ? -errno : 0;
    struct stat st;
    if (!rc && fstat(fd, &st) < 0)
        rc = -errno;
    if (!rc && S_ISDIR(st.st_mode))
        rc = -EISDIR;
    if (fd >= 0)
        close(fd);
    if (rc)
        return s_fail_rc(c, rc, n->start_mark, "%s '%s' cannot be read: %s%s", what, path,
                         strerror_r(-rc, ebuf, sizeof ebuf), hint);
    /* A FIFO or device would block or never end; the file is mapped. */
    if (!S_ISREG(st.st_mode))
        return s_fail(c, n->start_mark,
                      "%s '%s' is not a regular file (a pipe, socket or device); give the path "
                      "of a file",
                      what, path);
    return 0;
}

/* ---- schema and columns ------------------------------------------------ */

static int s_col_find(const weir_source_t *src, const char *t, size_t len)
{
    for (int i = 0; i < src->n_fields; i++)
        if (s_eq(t, len, src->fields[i].name))
            return i;
    return -1;
}

static const char *s_col_list(const weir_source_t *src, char *buf, size_t cap)
{
    const char *names[WEIR_MAX_COLS];
    for (int i = 0; i < src->n_fields; i++)
        names[i] = src->fields[i].name;
    return s_join_as(names, (size_t)src->n_fields, buf, cap, true);
}

/* A column name that must be in the schema. */
static int s_column(s_ctx_t *c, const yaml_node_t *n, const char *what, const weir_source_t *src,
                    int *out)
{
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, what, "a column name of source.schema", &t, &len);
    if (rc)
        return rc;
    int i = s_col_find(src, t, len);
    if (i < 0) {
        s_quote_t q;
        char list[S_LIST_MAX];
        return s_fail(c, n->start_mark,
                      "%s names column '%s', which is not in source.schema (columns: %s); "
                      "fix the name or add the column to the schema",
                      what, s_quote(&q, t, len), s_col_list(src, list, sizeof list));
    }
    *out = i;
    return 0;
}

/* A strftime-style pattern, with only the directives timefmt reads. */
static int s_ts_pattern(s_ctx_t *c, const yaml_node_t *n, const char *what, weir_field_t *f)
{
    s_quote_t q;
    int rc = s_string(c, n, what, false, f->ts_pattern, sizeof f->ts_pattern);
    if (rc)
        return rc;
    for (const char *p = f->ts_pattern; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (!*p || !strchr("YmdHMSfz%", *p))
            return s_fail(c, n->start_mark,
                          "%s: unsupported directive '%%%.1s' in timestamp pattern '%s' "
                          "(supported: %%Y %%m %%d %%H %%M %%S %%f %%z %%%%)",
                          what, p, s_quote(&q, f->ts_pattern, strlen(f->ts_pattern)));
    }
    f->ts_format = WEIR_TS_PATTERN;
    return 0;
}

static int s_ts_format(s_ctx_t *c, const yaml_node_t *n, const char *what, weir_field_t *f)
{
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, what,
                      "iso8601, epoch_ms, epoch_s or a pattern such as "
                      "\"%Y-%m-%d %H:%M:%S\"",
                      &t, &len);
    if (rc)
        return rc;
    if (s_eq(t, len, "iso8601"))
        f->ts_format = WEIR_TS_ISO8601;
    else if (s_eq(t, len, "epoch_ms"))
        f->ts_format = WEIR_TS_EPOCH_MS;
    else if (s_eq(t, len, "epoch_s"))
        f->ts_format = WEIR_TS_EPOCH_S;
    else if (memchr(t, '%', len))
        return s_ts_pattern(c, n, what, f);
    else {
        s_quote_t q;
        return s_fail(c, n->start_mark,
                      "unknown %s '%s' (expected one of: iso8601, epoch_ms, epoch_s, or a "
                      "pattern with %% fields such as \"%%Y-%%m-%%d %%H:%%M:%%S\")",
                      what, s_quote(&q, t, len));
    }
    return 0;
}

static int s_schema(s_ctx_t *c, const yaml_node_t *n, weir_source_t *src)
{
    s_quote_t q;
    if (n->type != YAML_SEQUENCE_NODE)
        return s_fail(c, n->start_mark,
                      "source.schema must be a list of columns such as "
                      "[{name: ts, type: timestamp}], got %s",
                      s_kind(n, &q));
    size_t count = s_seq_len(n);
    if (count == 0)
        return s_fail(c, n->start_mark, "source.schema is empty; list the columns the job uses");
    if (count > WEIR_MAX_COLS)
        return s_fail(c, n->start_mark,
                      "source.schema has %zu columns, at most %d are allowed; list only the "
                      "columns the job uses (others are ignored)",
                      count, WEIR_MAX_COLS);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = s_seq_at(c, n, i);
        char path[48], what[64];
        snprintf(path, sizeof path, "source.schema[%zu]", i + 1);
        s_map_t m;
        int rc = s_map_read(c, item, path, item->start_mark, s_column_keys, S_N(s_column_keys),
                            "{name: fare_amount, type: double}", &m);
        if (rc)
            return rc;
        weir_field_t *f = &src->fields[i];
        if (!s_val(&m, "name"))
            return s_missing(c, &m, "name", "add name: COLUMN (the CSV header name)");
        if (!s_val(&m, "type"))
            return s_missing(c, &m, "type", "add type: int64, double, string, bool or timestamp");
        snprintf(what, sizeof what, "%s.name", path);
        rc = s_string(c, s_val(&m, "name"), what, false, f->name, sizeof f->name);
        if (rc)
            return rc;
        int dup = s_col_find(src, f->name, strlen(f->name));
        if (dup >= 0)
            return s_fail(c, s_val(&m, "name")->start_mark,
                          "%s: column '%s' is listed twice (also source.schema[%d]); keep one",
                          what, s_quote(&q, f->name, strlen(f->name)), dup + 1);
        snprintf(what, sizeof what, "%s.type", path);
        int ti = 0;
        rc = s_enum(c, s_val(&m, "type"), what, s_col_types, S_N(s_col_types), &ti);
        if (rc)
            return rc;
        f->type = s_col_type_vals[ti];
        yaml_node_t *fmt = s_val(&m, "format");
        if (fmt && f->type != WEIR_TYPE_TIMESTAMP)
            return s_fail(c, s_key_mark(&m, "format"),
                          "%s.format applies only to timestamp columns; remove it", path);
        if (f->type == WEIR_TYPE_TIMESTAMP)
            f->ts_format = WEIR_TS_ISO8601;
        if (fmt) {
            snprintf(what, sizeof what, "%s.format", path);
            rc = s_ts_format(c, fmt, what, f);
            if (rc)
                return rc;
        }
        src->n_fields = (int)i + 1;
    }
    return 0;
}

static void s_gen_default_schema(weir_source_t *src)
{
    src->n_fields = (int)S_N(s_gen_schema);
    for (size_t i = 0; i < S_N(s_gen_schema); i++) {
        weir_field_t *f = &src->fields[i];
        snprintf(f->name, sizeof f->name, "%s", s_gen_schema[i].name);
        f->type = s_gen_schema[i].type;
        f->ts_format = f->type == WEIR_TYPE_TIMESTAMP ? WEIR_TS_ISO8601 : 0;
    }
}

/* "+hh:mm", "-hh:mm", "Z" or "UTC". */
static int s_time_zone(s_ctx_t *c, const yaml_node_t *n, int32_t *out)
{
    static const char *const expect =
        "a fixed offset such as \"-05:00\", \"+05:30\", \"Z\" or \"UTC\"";
    const char *t;
    size_t len;
    int rc = s_scalar(c, n, "source.time_zone", expect, &t, &len);
    if (rc)
        return rc;
    if (s_eq(t, len, "Z") || s_eq(t, len, "UTC")) {
        *out = 0;
        return 0;
    }
    bool ok = len == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':';
    for (size_t i = 1; ok && i < 6; i++)
        ok = i == 3 || (t[i] >= '0' && t[i] <= '9');
    int hh = ok ? (t[1] - '0') * 10 + (t[2] - '0') : 0;
    int mm = ok ? (t[4] - '0') * 10 + (t[5] - '0') : 0;
    if (!ok || hh > 23 || mm > 59) {
        s_quote_t q;
        return s_fail(c, n->start_mark, "source.time_zone must be %s, got '%s'", expect,
                      s_quote(&q, t, len));
    }
    *out = (t[0] == '-' ? -1 : 1) * (hh * 3600000 + mm * 60000);
    return 0;
}

static int s_watermark(s_ctx_t *c, const s_map_t *sm, weir_source_t *src)
{
    yaml_node_t *v = s_val(sm, "watermark");
    if (!v)
        return 0;
    s_map_t m;
    int rc = s_map_read(c, v, "source.watermark", s_key_mark(sm, "watermark"), s_watermark_keys,
                        S_N(s_watermark_keys), "{max_out_of_orderness: 30s, idle_timeout: 1m}", &m);
    if (!rc && s_val(&m, "max_out_of_orderness"))
        rc = s_dur(c, s_val(&m, "max_out_of_orderness"), "source.watermark.max_out_of_orderness", 0,
                   INT64_MAX, &src->max_out_of_orderness_ms);
    if (!rc && s_val(&m, "idle_timeout"))
        rc = s_dur(c, s_val(&m, "idle_timeout"), "source.watermark.idle_timeout", 0, INT64_MAX,
                   &src->idle_timeout_ms);
    if (!rc && s_val(&m, "max_drift"))
        rc = s_dur(c, s_val(&m, "max_drift"), "source.watermark.max_drift", 0, INT64_MAX,
                   &src->max_drift_ms);
    return rc;
}

/* event_time: the named timestamp column; by default the generator's
 * pickup_datetime or the schema's only timestamp column; required for a
 * window; -1 when there is none and no window needs one. */
static int s_event_time(s_ctx_t *c, const s_map_t *sm, weir_source_t *src, bool has_window,
                        bool gen_default)
{
    yaml_node_t *v = s_val(sm, "event_time");
    s_quote_t q;
    if (v) {
        int rc = s_column(c, v, "source.event_time", src, &src->event_time_col);
        if (rc)
            return rc;
        const weir_field_t *f = &src->fields[src->event_time_col];
        if (f->type != WEIR_TYPE_TIMESTAMP)
            return s_fail(c, v->start_mark,
                          "source.event_time column '%s' has type %s; it must be a timestamp "
                          "column (type: timestamp)",
                          s_quote(&q, f->name, strlen(f->name)), s_col_types[f->type - 1]);
        return 0;
    }
    if (gen_default) {
        src->event_time_col = S_GEN_EVENT_TIME;
        return 0;
    }
    int n_ts = 0, last = -1;
    const char *names[WEIR_MAX_COLS];
    for (int i = 0; i < src->n_fields; i++)
        if (src->fields[i].type == WEIR_TYPE_TIMESTAMP) {
            names[n_ts++] = src->fields[i].name;
            last = i;
        }
    src->event_time_col = n_ts == 1 ? last : -1;
    if (n_ts == 1 || !has_window)
        return 0;
    char list[S_LIST_MAX];
    if (n_ts == 0)
        return s_fail(c, sm->mark,
                      "a window needs event time, but source.schema has no timestamp column; add "
                      "one (type: timestamp) and name it in source.event_time");
    return s_fail(c, sm->mark,
                  "missing key 'event_time' in source (the mapping at line %zu): a window needs "
                  "event time and the schema has %d timestamp columns (%s); add event_time: "
                  "COLUMN",
                  sm->mark.line + 1, n_ts, s_join_as(names, (size_t)n_ts, list, sizeof list, true));
}

static int s_source(s_ctx_t *c, const yaml_node_t *n, yaml_mark_t mark, bool has_window,
                    weir_source_t *src)
{
    s_map_t m;
    int rc = s_map_read(c, (yaml_node_t *)n, "source", mark, s_source_keys, S_N(s_source_keys),
                        "{type: file, path: data.csv, schema: [...]}", &m);
    if (rc)
        return rc;
    int ti = 0;
    if (s_val(&m, "type") && (rc = s_enum(c, s_val(&m, "type"), "source.type", s_source_types,
                                          S_N(s_source_types), &ti)))
        return rc;
    src->type = ti == 0 ? WEIR_SOURCE_FILE : WEIR_SOURCE_GENERATOR;
    bool is_file = src->type == WEIR_SOURCE_FILE;
    static const char *const file_only[] = {"path", "format", "follow"};
    static const char *const gen_only[] = {"rows", "rate", "seed"};
    for (size_t i = 0; i < 3; i++) {
        if (!is_file && s_val(&m, file_only[i]))
            return s_not_for(c, &m, file_only[i], "a generator source",
                             "remove it or use type: file");
        if (is_file && s_val(&m, gen_only[i]))
            return s_not_for(c, &m, gen_only[i], "a file source",
                             "remove it or use type: generator");
    }
    if (is_file) {
        yaml_node_t *p = s_val(&m, "path");
        if (!p)
            return s_missing(c, &m, "path",
                             "add path: FILE (relative paths resolve against the job file's "
                             "directory)");
        bool rel = false;
        if ((rc = s_path(c, p, "source.path", src->path, &rel)))
            return rc;
        if ((c->flags & WEIR_JOBSPEC_CHECK_PATHS) &&
            (rc = s_check_readable(c, p, "source.path", src->path, rel)))
            return rc;
        int fi = 0;
        yaml_node_t *fmt = s_val(&m, "format");
        if (fmt && (rc = s_enum(c, fmt, "source.format", s_formats, S_N(s_formats), &fi)))
            return rc;
        if (fi == 1)
            return s_fail(c, fmt->start_mark,
                          "source.format jsonl is not supported yet; convert the input to CSV "
                          "(format: csv)");
        src->format = WEIR_FORMAT_CSV;
        if (s_val(&m, "follow") &&
            (rc = s_bool(c, s_val(&m, "follow"), "source.follow", &src->follow)))
            return rc;
    } else {
        if (s_val(&m, "rows") &&
            (rc = s_int64(c, s_val(&m, "rows"), "source.rows", 0, INT64_MAX, &src->gen_rows)))
            return rc;
        if (s_val(&m, "rate") &&
            (rc = s_int64(c, s_val(&m, "rate"), "source.rate", 0, INT64_MAX, &src->gen_rate)))
            return rc;
        if (s_val(&m, "seed") && (rc = s_u64(c, s_val(&m, "seed"), "source.seed", &src->gen_seed)))
            return rc;
    }
    if (s_val(&m, "splits") && (rc = s_int(c, s_val(&m, "splits"), "source.splits", 1,
                                           WEIR_MAX_PARALLELISM, &src->splits)))
        return rc;
    if (src->follow && src->splits > 1)
        return s_fail(c, s_val(&m, "splits")->start_mark,
                      "source.splits must be 1 when source.follow is true (a growing file cannot "
                      "be cut into byte ranges); remove splits or set follow: false");
    yaml_node_t *schema = s_val(&m, "schema");
    if (schema) {
        if ((rc = s_schema(c, schema, src)))
            return rc;
    } else if (is_file) {
        return s_missing(c, &m, "schema",
                         "a file source lists the columns it reads, e.g. "
                         "schema: [{name: ts, type: timestamp}, {name: fare, type: double}]");
    } else {
        s_gen_default_schema(src);
    }
    if ((rc = s_event_time(c, &m, src, has_window, !schema)))
        return rc;
    if ((rc = s_watermark(c, &m, src)))
        return rc;
    if (s_val(&m, "time_zone") && (rc = s_time_zone(c, s_val(&m, "time_zone"), &src->tz_offset_ms)))
        return rc;
    return 0;
}

/* `source:` is one mapping, or a list of them whose rows are unioned: every
 * source then has the same column names and types (formats may differ) and
 * the same event time column. */
static int s_sources(s_ctx_t *c, const yaml_node_t *n, yaml_mark_t mark, bool has_window,
                     weir_job_t *job)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        job->n_sources = 1;
        int rc = s_source(c, n, mark, has_window, &job->source);
        job->sources[0] = job->source;
        return rc;
    }
    size_t count = s_seq_len(n);
    if (count == 0 || count > WEIR_MAX_SOURCES)
        return s_fail(c, n->start_mark,
                      "source lists %zu sources; a union takes 1 to %d (one mapping each)", count,
                      WEIR_MAX_SOURCES);
    int total = 0;
    const weir_source_t defaults = job->source; /* holds the defaults */
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = s_seq_at(c, n, i);
        weir_source_t *src = &job->sources[i];
        *src = defaults;
        int rc = s_source(c, item, item->start_mark, has_window, src);
        if (rc)
            return rc;
        total += src->splits;
        if (i == 0)
            continue;
        const weir_source_t *first = &job->sources[0];
        bool same =
            src->n_fields == first->n_fields && src->event_time_col == first->event_time_col;
        for (int f = 0; same && f < src->n_fields; f++)
            same = strcmp(src->fields[f].name, first->fields[f].name) == 0 &&
                   src->fields[f].type == first->fields[f].type;
        if (!same)
            return s_fail(c, item->start_mark,
                          "source %zu of the union has another schema or event time than source 1; "
                          "give every source the same column names and types in the same order "
                          "(formats may differ) and the same event_time",
                          i + 1);
    }
    if (total > WEIR_MAX_PARALLELISM)
        return s_fail(c, n->start_mark, "the sources have %d splits together; at most %d", total,
                      WEIR_MAX_PARALLELISM);
    job->n_sources = (int)count;
    job->source = job->sources[0];
    return 0;
}

/* ---- window, keys, aggregates ------------------------------------------ */

static int s_window(s_ctx_t *c, const yaml_node_t *n, yaml_mark_t mark, weir_window_t *w)
{
    s_map_t m;
    int rc = s_map_read(c, (yaml_node_t *)n, "window", mark, s_window_keys, S_N(s_window_keys),
                        "{type: tumbling, size: 1h}", &m);
    if (rc)
        return rc;
    if (!s_val(&m, "type"))
        return s_missing(c, &m, "type", "add type: tumbling, sliding or session");
    int ti;
    if ((rc =
             s_enum(c, s_val(&m, "type"), "window.type", s_window_types, S_N(s_window_types), &ti)))
        return rc;
    static const char *const fix =
        "tumbling takes size and offset, sliding size, slide and offset, session gap";
    static const char *const kinds[] = {"a tumbling window", "a sliding window",
                                        "a session window"};
    static const char *const not_for[3][3] = {
        {"slide", "gap", NULL}, {"gap", NULL, NULL}, {"size", "slide", "offset"}};
    for (size_t i = 0; i < 3; i++)
        if (not_for[ti][i] && s_val(&m, not_for[ti][i]))
            return s_not_for(c, &m, not_for[ti][i], kinds[ti], fix);
    w->type = (weir_window_type_t)(ti + 1);
    if (w->type == WEIR_WINDOW_SESSION) {
        if (!s_val(&m, "gap"))
            return s_missing(c, &m, "gap", "add gap: DURATION, e.g. gap: 30m");
        return s_dur(c, s_val(&m, "gap"), "window.gap", 1, INT64_MAX, &w->gap_ms);
    }
    if (!s_val(&m, "size"))
        return s_missing(c, &m, "size", "add size: DURATION, e.g. size: 1h");
    if ((rc = s_dur(c, s_val(&m, "size"), "window.size", 1, INT64_MAX, &w->size_ms)))
        return rc;
    w->slide_ms = w->size_ms;
    if (w->type == WEIR_WINDOW_SLIDING) {
        if (!s_val(&m, "slide"))
            return s_missing(c, &m, "slide", "add slide: DURATION, e.g. slide: 5m");
        if ((rc = s_dur(c, s_val(&m, "slide"), "window.slide", 1, INT64_MAX, &w->slide_ms)))
            return rc;
        if (w->slide_ms > w->size_ms) {
            char a[32], b[32];
            return s_fail(c, s_val(&m, "slide")->start_mark,
                          "window.slide %s is larger than window.size %s, so rows between "
                          "windows would belong to none; use a slide <= size",
                          s_fmt_dur(w->slide_ms, a, sizeof a), s_fmt_dur(w->size_ms, b, sizeof b));
        }
    }
    if (s_val(&m, "offset"))
        return s_dur(c, s_val(&m, "offset"), "window.offset", INT64_MIN, INT64_MAX, &w->offset_ms);
    return 0;
}

static bool s_is_window_col(const char *name)
{
    return strcmp(name, "window_start") == 0 || strcmp(name, "window_end") == 0;
}

static int s_key_by(s_ctx_t *c, const yaml_node_t *n, weir_job_t *job)
{
    char what[32];
    s_quote_t q;
    size_t count = 1;
    if (n->type == YAML_SEQUENCE_NODE)
        count = s_seq_len(n);
    else if (n->type != YAML_SCALAR_NODE)
        return s_fail(c, n->start_mark,
                      "key_by must be a list of column names such as [pickup_location_id], "
                      "got %s",
                      s_kind(n, &q));
    if (count > WEIR_MAX_KEYS)
        return s_fail(c, n->start_mark, "key_by has %zu columns, at most %d are allowed", count,
                      WEIR_MAX_KEYS);
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = n->type == YAML_SEQUENCE_NODE ? s_seq_at(c, n, i) : n;
        if (n->type == YAML_SEQUENCE_NODE)
            snprintf(what, sizeof what, "key_by[%zu]", i + 1);
        else
            snprintf(what, sizeof what, "key_by");
        int col = 0, rc = s_column(c, item, what, &job->source, &col);
        if (rc)
            return rc;
        const char *name = job->source.fields[col].name;
        for (int k = 0; k < job->n_keys; k++)
            if (job->key_cols[k] == col)
                return s_fail(c, item->start_mark, "%s: column '%s' is a key twice; keep one", what,
                              s_quote(&q, name, strlen(name)));
        if (job->window.type != WEIR_WINDOW_NONE && s_is_window_col(name))
            return s_fail(c, item->start_mark,
                          "%s: key column '%s' clashes with the output column of the same name; "
                          "rename the column",
                          what, s_quote(&q, name, strlen(name)));
        job->key_cols[job->n_keys++] = col;
    }
    return 0;
}

static int s_aggregate(s_ctx_t *c, const yaml_node_t *n, weir_job_t *job)
{
    s_quote_t q;
    if (n->type != YAML_SEQUENCE_NODE)
        return s_fail(c, n->start_mark,
                      "aggregate must be a list such as [{fn: count}, {fn: sum, field: fare}], "
                      "got %s",
                      s_kind(n, &q));
    size_t count = s_seq_len(n);
    if (count == 0)
        return s_fail(c, n->start_mark,
                      "aggregate is empty; a window needs at least one, e.g. [{fn: count}]");
    if (count > WEIR_MAX_AGGS)
        return s_fail(c, n->start_mark, "aggregate has %zu entries, at most %d are allowed", count,
                      WEIR_MAX_AGGS);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = s_seq_at(c, n, i);
        char path[32], what[48];
        snprintf(path, sizeof path, "aggregate[%zu]", i + 1);
        s_map_t m;
        int rc = s_map_read(c, item, path, item->start_mark, s_agg_keys, S_N(s_agg_keys),
                            "{fn: sum, field: fare_amount, as: fare_sum}", &m);
        if (rc)
            return rc;
        weir_agg_t *a = &job->aggs[i];
        if (!s_val(&m, "fn"))
            return s_missing(c, &m, "fn", "add fn: count, sum, avg, min, max or count_distinct");
        snprintf(what, sizeof what, "%s.fn", path);
        int fi = 0;
        if ((rc = s_enum(c, s_val(&m, "fn"), what, s_agg_fns, S_N(s_agg_fns), &fi)))
            return rc;
        a->fn = s_agg_fn_vals[fi];
        a->field_col = -1;
        yaml_node_t *fv = s_val(&m, "field");
        if (!fv && a->fn != WEIR_AGG_COUNT)
            return s_missing(c, &m, "field", "add field: COLUMN (only count works without one)");
        if (fv) {
            snprintf(what, sizeof what, "%s.field", path);
            if ((rc = s_column(c, fv, what, &job->source, &a->field_col)))
                return rc;
            weir_type_t t = job->source.fields[a->field_col].type;
            const char *need = NULL;
            if ((a->fn == WEIR_AGG_SUM || a->fn == WEIR_AGG_AVG) && t != WEIR_TYPE_INT64 &&
                t != WEIR_TYPE_DOUBLE)
                need = "an int64 or double column";
            if ((a->fn == WEIR_AGG_MIN || a->fn == WEIR_AGG_MAX) && t != WEIR_TYPE_INT64 &&
                t != WEIR_TYPE_DOUBLE && t != WEIR_TYPE_TIMESTAMP)
                need = "an int64, double or timestamp column";
            if (need)
                return s_fail(c, fv->start_mark, "%s: %s needs %s, but '%s' has type %s", what,
                              s_agg_fns[fi], need,
                              s_quote(&q, job->source.fields[a->field_col].name,
                                      strlen(job->source.fields[a->field_col].name)),
                              s_col_types[t - 1]);
        }
        yaml_node_t *as = s_val(&m, "as");
        yaml_mark_t as_mark = as ? as->start_mark : item->start_mark;
        if (as) {
            snprintf(what, sizeof what, "%s.as", path);
            if ((rc = s_string(c, as, what, false, a->as, sizeof a->as)))
                return rc;
        } else {
            const char *field = fv ? job->source.fields[a->field_col].name : NULL;
            int len = field ? snprintf(a->as, sizeof a->as, "%s_%s", s_agg_fns[fi], field)
                            : snprintf(a->as, sizeof a->as, "%s", s_agg_fns[fi]);
            if (len < 0 || (size_t)len >= sizeof a->as)
                return s_fail(c, item->start_mark,
                              "%s: the default output name %s_%s is longer than %zu bytes; set "
                              "as: NAME",
                              path, s_agg_fns[fi],
                              s_quote(&q, field ? field : "", field ? strlen(field) : 0),
                              sizeof a->as - 1);
        }
        const char *clash = NULL;
        if (s_is_window_col(a->as))
            clash = "the window column of that name";
        if (!clash && weir_job_has_pane(job) && strcmp(a->as, "pane") == 0)
            clash = "the pane column that results carry when a job has early results (trigger) "
                    "or allowed_lateness";
        for (int k = 0; !clash && k < job->n_keys; k++)
            if (strcmp(a->as, job->source.fields[job->key_cols[k]].name) == 0)
                clash = "the key column of that name";
        for (size_t j = 0; !clash && j < i; j++)
            if (strcmp(a->as, job->aggs[j].as) == 0)
                clash = "an earlier aggregate's output";
        if (clash)
            return s_fail(c, as_mark,
                          "%s: output name '%s' clashes with %s (every output column needs its "
                          "own name); set a different as: NAME",
                          path, s_quote(&q, a->as, strlen(a->as)), clash);
        job->n_aggs = (int)i + 1;
    }
    return 0;
}

static int s_trigger(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc = s_map_read(c, s_val(top, "trigger"), "trigger", s_key_mark(top, "trigger"),
                        s_trigger_keys, S_N(s_trigger_keys), "{every_rows: 1000, every: 10s}", &m);
    if (rc)
        return rc;
    if (!s_val(&m, "every_rows") && !s_val(&m, "every"))
        return s_fail(c, s_key_mark(top, "trigger"),
                      "trigger names no early result; give every_rows: N, every: DURATION or "
                      "both, or remove trigger");
    if (s_val(&m, "every_rows") && (rc = s_int64(c, s_val(&m, "every_rows"), "trigger.every_rows",
                                                 1, INT32_MAX, &job->trigger.every_rows)))
        return rc;
    if (s_val(&m, "every"))
        return s_dur(c, s_val(&m, "every"), "trigger.every", 1, INT64_MAX, &job->trigger.every_ms);
    return 0;
}

/* With a pane column, no key column may be named pane (aggregates are
 * checked as they are read). */
static int s_pane_keys(s_ctx_t *c, const s_map_t *top, const weir_job_t *job)
{
    if (!weir_job_has_pane(job))
        return 0;
    yaml_node_t *kb = s_val(top, "key_by");
    for (int k = 0; k < job->n_keys; k++) {
        if (strcmp(job->source.fields[job->key_cols[k]].name, "pane") != 0)
            continue;
        const yaml_node_t *at = kb->type == YAML_SEQUENCE_NODE ? s_seq_at(c, kb, (size_t)k) : kb;
        return s_fail(c, at->start_mark,
                      "key_by: key column 'pane' clashes with the pane column that results "
                      "carry when a job has early results (trigger) or allowed_lateness; "
                      "rename the column");
    }
    return 0;
}

static int s_late(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc = s_map_read(c, s_val(top, "late"), "late", s_key_mark(top, "late"), s_late_keys,
                        S_N(s_late_keys), "{policy: file, path: out/late/}", &m);
    if (rc)
        return rc;
    int pi = 0;
    if (s_val(&m, "policy") && (rc = s_enum(c, s_val(&m, "policy"), "late.policy", s_late_policies,
                                            S_N(s_late_policies), &pi)))
        return rc;
    job->late.policy = pi == 0 ? WEIR_LATE_DROP : WEIR_LATE_FILE;
    yaml_node_t *p = s_val(&m, "path");
    if (job->late.policy == WEIR_LATE_DROP && p)
        return s_not_for(c, &m, "path", "policy: drop (late rows are counted and dropped)",
                         "remove path or set policy: file");
    if (job->late.policy == WEIR_LATE_FILE && !p)
        return s_missing(c, &m, "path", "add path: DIRECTORY for the late rows");
    bool rel = false;
    return p ? s_path(c, p, "late.path", job->late.path, &rel) : 0;
}

/* ---- runtime sections -------------------------------------------------- */

static int s_sink(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc = s_map_read(c, s_val(top, "sink"), "sink", s_key_mark(top, "sink"), s_sink_keys,
                        S_N(s_sink_keys), "{type: file, path: out/results/, format: csv}", &m);
    if (rc)
        return rc;
    int i;
    if (s_val(&m, "type") &&
        (rc = s_enum(c, s_val(&m, "type"), "sink.type", s_sink_types, S_N(s_sink_types), &i)))
        return rc;
    if (s_val(&m, "format") && (rc = s_enum(c, s_val(&m, "format"), "sink.format", s_sink_formats,
                                            S_N(s_sink_formats), &i)))
        return rc;
    job->sink.format = WEIR_FORMAT_CSV;
    if (!s_val(&m, "path"))
        return s_missing(c, &m, "path", "add path: DIRECTORY for the results");
    bool rel = false;
    if ((rc = s_path(c, s_val(&m, "path"), "sink.path", job->sink.path, &rel)))
        return rc;
    if (s_val(&m, "max_rows_per_second"))
        return s_int64(c, s_val(&m, "max_rows_per_second"), "sink.max_rows_per_second", 0,
                       INT64_MAX, &job->sink.max_rows_per_second);
    return 0;
}

static int s_batch(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc = s_map_read(c, s_val(top, "batch"), "batch", s_key_mark(top, "batch"), s_batch_keys,
                        S_N(s_batch_keys), "{max_rows: 1024, max_bytes: 32768, flush: 5ms}", &m);
    if (!rc && s_val(&m, "max_rows"))
        rc = s_int(c, s_val(&m, "max_rows"), "batch.max_rows", 1, 65536, &job->batch.max_rows);
    if (!rc && s_val(&m, "max_bytes"))
        rc = s_int(c, s_val(&m, "max_bytes"), "batch.max_bytes", 64, 64 << 20,
                   &job->batch.max_bytes);
    if (!rc && s_val(&m, "flush"))
        rc = s_dur(c, s_val(&m, "flush"), "batch.flush", 0, 60000, &job->batch.flush_ms);
    return rc;
}

static int s_network(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc =
        s_map_read(c, s_val(top, "network"), "network", s_key_mark(top, "network"), s_network_keys,
                   S_N(s_network_keys), "{buffers_per_channel: 4, floating_buffers: 8}", &m);
    if (!rc && s_val(&m, "buffers_per_channel"))
        rc = s_int(c, s_val(&m, "buffers_per_channel"), "network.buffers_per_channel", 1, 64,
                   &job->network.buffers_per_channel);
    if (!rc && s_val(&m, "floating_buffers"))
        rc = s_int(c, s_val(&m, "floating_buffers"), "network.floating_buffers", 0, 1024,
                   &job->network.floating_buffers);
    return rc;
}

static int s_checkpoint(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc =
        s_map_read(c, s_val(top, "checkpoint"), "checkpoint", s_key_mark(top, "checkpoint"),
                   s_checkpoint_keys, S_N(s_checkpoint_keys), "{interval: 10s, retain: 3}", &m);
    if (!rc && s_val(&m, "interval"))
        rc = s_dur(c, s_val(&m, "interval"), "checkpoint.interval", 0, INT64_MAX,
                   &job->checkpoint.interval_ms);
    if (!rc && s_val(&m, "timeout"))
        rc = s_dur(c, s_val(&m, "timeout"), "checkpoint.timeout", 1, INT64_MAX,
                   &job->checkpoint.timeout_ms);
    if (!rc && s_val(&m, "retain"))
        rc = s_int(c, s_val(&m, "retain"), "checkpoint.retain", 1, 1000, &job->checkpoint.retain);
    const yaml_node_t *sn = rc ? NULL : s_val(&m, "storage");
    const char *stv = NULL;
    size_t stl = 0;
    if (sn && (rc = s_scalar(c, sn, "checkpoint.storage", "a URL such as file:///shared/ck", &stv,
                             &stl)) != 0)
        return rc;
    if (stv) {
        const char *path = strncmp(stv, "file://", 7) == 0 ? stv + 7 : NULL;
        if (!path || path[0] != '/' || strlen(path) >= sizeof job->checkpoint.storage)
            return s_fail(c, sn->start_mark,
                          "checkpoint.storage must be file:///ABSOLUTE/PATH (a directory every "
                          "process of the cluster reaches), got '%s'",
                          stv);
        snprintf(job->checkpoint.storage, sizeof job->checkpoint.storage, "%s", path);
    }
    return rc;
}

static int s_heartbeat(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc =
        s_map_read(c, s_val(top, "heartbeat"), "heartbeat", s_key_mark(top, "heartbeat"),
                   s_heartbeat_keys, S_N(s_heartbeat_keys), "{interval: 500ms, timeout: 3s}", &m);
    if (!rc && s_val(&m, "interval"))
        rc = s_dur(c, s_val(&m, "interval"), "heartbeat.interval", 1, INT64_MAX,
                   &job->heartbeat.interval_ms);
    if (!rc && s_val(&m, "timeout"))
        rc = s_dur(c, s_val(&m, "timeout"), "heartbeat.timeout", 1, INT64_MAX,
                   &job->heartbeat.timeout_ms);
    if (!rc && job->heartbeat.timeout_ms <= job->heartbeat.interval_ms) {
        char a[32], b[32];
        yaml_node_t *at = s_val(&m, "timeout") ? s_val(&m, "timeout") : s_val(&m, "interval");
        return s_fail(c, at->start_mark,
                      "heartbeat.timeout %s must be longer than heartbeat.interval %s, or every "
                      "node looks dead; raise the timeout",
                      s_fmt_dur(job->heartbeat.timeout_ms, a, sizeof a),
                      s_fmt_dur(job->heartbeat.interval_ms, b, sizeof b));
    }
    return rc;
}

static int s_restart(s_ctx_t *c, const s_map_t *top, weir_job_t *job)
{
    s_map_t m;
    int rc = s_map_read(c, s_val(top, "restart"), "restart", s_key_mark(top, "restart"),
                        s_restart_keys, S_N(s_restart_keys),
                        "{strategy: exponential, initial: 1s, max: 30s, max_attempts: 10}", &m);
    if (rc)
        return rc;
    int si = 0;
    if (s_val(&m, "strategy") &&
        (rc = s_enum(c, s_val(&m, "strategy"), "restart.strategy", s_restart_strategies,
                     S_N(s_restart_strategies), &si)))
        return rc;
    job->restart.strategy = si;
    static const char *const fix =
        "fixed takes delay and max_attempts, exponential initial, max and max_attempts";
    static const char *const kinds[] = {"strategy: none", "strategy: fixed",
                                        "strategy: exponential"};
    static const char *const not_for[3][4] = {{"delay", "initial", "max", "max_attempts"},
                                              {"initial", "max", NULL, NULL},
                                              {"delay", NULL, NULL, NULL}};
    for (size_t i = 0; i < 4; i++)
        if (not_for[si][i] && s_val(&m, not_for[si][i]))
            return s_not_for(c, &m, not_for[si][i], kinds[si], fix);
    if (s_val(&m, "delay") &&
        (rc = s_dur(c, s_val(&m, "delay"), "restart.delay", 0, INT64_MAX, &job->restart.delay_ms)))
        return rc;
    if (s_val(&m, "initial") && (rc = s_dur(c, s_val(&m, "initial"), "restart.initial", 1,
                                            INT64_MAX, &job->restart.initial_ms)))
        return rc;
    if (s_val(&m, "max") &&
        (rc = s_dur(c, s_val(&m, "max"), "restart.max", 1, INT64_MAX, &job->restart.max_ms)))
        return rc;
    if (s_val(&m, "max_attempts") &&
        (rc = s_int(c, s_val(&m, "max_attempts"), "restart.max_attempts", 1, 1000000,
                    &job->restart.max_attempts)))
        return rc;
    if (job->restart.strategy == WEIR_RESTART_EXPONENTIAL &&
        job->restart.max_ms < job->restart.initial_ms) {
        char a[32], b[32];
        yaml_node_t *at = s_val(&m, "max") ? s_val(&m, "max") : s_val(&m, "initial");
        return s_fail(c, at->start_mark,
                      "restart.max %s is shorter than restart.initial %s; raise max",
                      s_fmt_dur(job->restart.max_ms, a, sizeof a),
                      s_fmt_dur(job->restart.initial_ms, b, sizeof b));
    }
    return 0;
}

/* ---- the job ----------------------------------------------------------- */

/* Letters, digits, '-', '_', '.', not starting with '.': names end up in
 * paths, URLs and metric labels. */
static bool s_name_ok(const char *s)
{
    if (!s[0] || s[0] == '.')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static int s_name(s_ctx_t *c, const s_map_t *top, yaml_mark_t root_mark, weir_job_t *job)
{
    static const char *const rule =
        "letters, digits, '-', '_' and '.', not starting with '.', at most 63 bytes";
    yaml_node_t *v = s_val(top, "name");
    s_quote_t q;
    if (v) {
        int rc = s_string(c, v, "name", false, job->name, sizeof job->name);
        if (rc)
            return rc;
        if (!s_name_ok(job->name))
            return s_fail(c, v->start_mark, "name '%s' is not a valid job name (%s)",
                          s_quote(&q, job->name, strlen(job->name)), rule);
        return 0;
    }
    const char *base = strrchr(c->file, '/');
    base = base ? base + 1 : c->file;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (len < sizeof job->name) {
        memcpy(job->name, base, len);
        job->name[len] = '\0';
    }
    if (len >= sizeof job->name || !s_name_ok(job->name))
        return s_fail(c, root_mark,
                      "the job has no name and its file name '%s' is not a valid job name (%s); "
                      "add name: NAME",
                      s_quote(&q, base, strlen(base)), rule);
    return 0;
}

static void s_defaults(weir_job_t *job)
{
    memset(job, 0, sizeof *job);
    job->parallelism = 1;
    job->max_key_groups = 128;
    job->source.type = WEIR_SOURCE_FILE;
    job->source.format = WEIR_FORMAT_CSV;
    job->source.splits = 1;
    job->source.event_time_col = -1;
    job->window.type = WEIR_WINDOW_NONE;
    job->late.policy = WEIR_LATE_DROP;
    job->sink.format = WEIR_FORMAT_CSV;
    job->batch.max_rows = 1024;
    job->batch.max_bytes = 32768;
    job->batch.flush_ms = 5;
    job->network.buffers_per_channel = 4;
    job->network.floating_buffers = 8;
    job->checkpoint.interval_ms = 0;
    job->checkpoint.timeout_ms = 60000;
    job->checkpoint.retain = 3;
    job->heartbeat.interval_ms = 500;
    job->heartbeat.timeout_ms = 3000;
    job->restart.strategy = WEIR_RESTART_NONE;
    job->restart.delay_ms = 1000;
    job->restart.initial_ms = 1000;
    job->restart.max_ms = 30000;
    job->restart.max_attempts = 10;
}

/* True when dir holds a published part file (part-*.csv). */
static bool s_has_parts(const char *dir, char *first, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "part-", 5) == 0 && n > 4 &&
            strcmp(e->d_name + n - 4, ".csv") == 0) {
            snprintf(first, cap, "%s", e->d_name);
            found = true;
        }
    }
    closedir(d);
    return found;
}

/* Results of an earlier run must not mix with this one's: a result or late
 * directory that already holds part files is refused. */
static int s_check_output(s_ctx_t *c, const s_map_t *m, const weir_job_t *job)
{
    char first[256];
    struct stat a, b;
    if (job->late.policy == WEIR_LATE_FILE && stat(job->sink.path, &a) == 0 &&
        stat(job->late.path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return s_fail(c, s_key_mark(m, "late"),
                      "late.path '%s' is the sink's directory '%s' under another name; late rows "
                      "and results need directories of their own",
                      job->late.path, job->sink.path);
    if (s_has_parts(job->sink.path, first, sizeof first))
        return s_fail(c, s_key_mark(m, "sink"),
                      "sink.path '%s' already holds results (%s, ...); remove them or choose "
                      "another directory, so that runs never mix",
                      job->sink.path, first);
    if (job->late.policy == WEIR_LATE_FILE && s_has_parts(job->late.path, first, sizeof first))
        return s_fail(c, s_key_mark(m, "late"),
                      "late.path '%s' already holds late rows (%s, ...); remove them or choose "
                      "another directory",
                      job->late.path, first);
    return 0;
}

/* Features a job file may name that this version of weir cannot run yet:
 * refused at their key, so that nothing is silently ignored. */
static int s_runnable(s_ctx_t *c, const s_map_t *m, const weir_job_t *job)
{
    if (job->filter[0]) {
        /* The expression must compile against the schema; the error
         * points at the character of the expression where it went wrong. */
        char ferr[256];
        int fcol = 0;
        weir_filter_t *f = NULL;
        int frc = weir_filter_compile(job->filter, job, 1, &f, ferr, sizeof ferr, &fcol);
        weir_filter_destroy(&f);
        if (frc) {
            yaml_node_t *v = s_val(m, "filter");
            yaml_mark_t at = v->start_mark;
            bool quoted = v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                          v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
            if (fcol > 0 && v->start_mark.line == v->end_mark.line)
                at.column += (size_t)(fcol - 1) + (quoted ? 1 : 0);
            return s_fail(c, at, "filter: %s (at character %d of the expression)", ferr, fcol);
        }
    }
    for (int i = 0; i < job->n_sources; i++) {
        const weir_source_t *src = &job->sources[i];
        if (src->type == WEIR_SOURCE_GENERATOR) {
            /* The generator makes fixed columns: a schema naming another
             * column, or one of them with another type, is refused here
             * rather than on a node. */
            weir_job_t *view = malloc(sizeof *view);
            if (!view)
                return -ENOMEM;
            *view = *job;
            view->source = *src;
            char gerr[512];
            weir_gensrc_t *g = NULL;
            int grc = weir_gensrc_open(view, 0, 1, &g, gerr, sizeof gerr);
            weir_gensrc_destroy(&g);
            free(view);
            if (grc)
                return s_fail(c, s_key_mark(m, "source"), "source %d: %s", i + 1, gerr);
        }
    }
    /* Nodes heartbeat every 500 ms for every job; a job may only give up
     * on a silent node sooner than the cluster does (3 s). */
    if (job->heartbeat.interval_ms != 500)
        return s_fail(c, s_key_mark(m, "heartbeat"),
                      "heartbeat.interval per job is not supported: nodes heartbeat every 500 "
                      "ms for every job; remove it");
    if (job->heartbeat.timeout_ms < 1000)
        return s_fail(c, s_key_mark(m, "heartbeat"),
                      "heartbeat.timeout %lld ms is shorter than two heartbeats (1s): a healthy "
                      "node would be taken for lost; use 1s to 3s",
                      (long long)job->heartbeat.timeout_ms);
    if (job->heartbeat.timeout_ms > 3000)
        return s_fail(c, s_key_mark(m, "heartbeat"),
                      "heartbeat.timeout %lld ms is not supported: the cluster takes a silent "
                      "node for dead after 3 s for every job; use at most 3s",
                      (long long)job->heartbeat.timeout_ms);
    if (job->window.type == WEIR_WINDOW_SLIDING &&
        job->window.size_ms / job->window.slide_ms > 4096)
        return s_fail(c, s_key_mark(m, "window"),
                      "a sliding window of size %lld ms and slide %lld ms puts each row into %lld "
                      "windows; at most 4,096 are allowed (each is a state update per row): use "
                      "a larger slide",
                      (long long)job->window.size_ms, (long long)job->window.slide_ms,
                      (long long)(job->window.size_ms / job->window.slide_ms));
    /* Channel buffers: every split feeds every keyed task through
     * buffers_per_channel batches (plus the sender's own), each of up to
     * batch.max_rows rows. Bound them before a node runs out of memory. */
    uint64_t row_bytes = 8;
    for (int i = 0; i < job->source.n_fields; i++)
        row_bytes += 9 + (job->source.fields[i].type == WEIR_TYPE_STRING ? 16 : 0);
    uint64_t channels = (uint64_t)weir_job_splits(job) * (uint64_t)job->parallelism;
    uint64_t bytes = channels * (uint64_t)(job->network.buffers_per_channel + 1) *
                     (uint64_t)job->batch.max_rows * row_bytes;
    if (bytes > (512ull << 20))
        return s_fail(c, s_key_mark(m, "source"),
                      "%llu splits x %d keyed tasks = %llu channels would hold up to %llu MB in "
                      "batch buffers (limit 512 MB); lower source.splits, parallelism, "
                      "network.buffers_per_channel or batch.max_rows",
                      (unsigned long long)weir_job_splits(job), job->parallelism,
                      (unsigned long long)channels, (unsigned long long)(bytes >> 20));
    return 0;
}

static int s_job(s_ctx_t *c, yaml_node_t *root, weir_job_t *job)
{
    s_map_t m;
    int rc = s_map_read(c, root, "", root->start_mark, s_top_keys, S_N(s_top_keys), "", &m);
    if (rc)
        return rc;
    if ((rc = s_name(c, &m, root->start_mark, job)))
        return rc;
    if (s_val(&m, "parallelism") && (rc = s_int(c, s_val(&m, "parallelism"), "parallelism", 1,
                                                WEIR_MAX_PARALLELISM, &job->parallelism)))
        return rc;
    if (s_val(&m, "max_key_groups") && (rc = s_int(c, s_val(&m, "max_key_groups"), "max_key_groups",
                                                   1, WEIR_MAX_KEY_GROUPS, &job->max_key_groups)))
        return rc;
    if (job->max_key_groups < job->parallelism) {
        yaml_node_t *at =
            s_val(&m, "max_key_groups") ? s_val(&m, "max_key_groups") : s_val(&m, "parallelism");
        return s_fail(c, at->start_mark,
                      "max_key_groups %d is smaller than parallelism %d (each keyed task needs at "
                      "least one key group); raise max_key_groups",
                      job->max_key_groups, job->parallelism);
    }
    if (!s_val(&m, "source"))
        return s_missing(c, &m, "source",
                         "add source: {type: file, path: FILE, schema: [...]} (see "
                         "docs/JOBFILE.md)");
    yaml_node_t *win = s_val(&m, "window");
    if ((rc = s_sources(c, s_val(&m, "source"), s_key_mark(&m, "source"), win != NULL, job)))
        return rc;
    if (s_val(&m, "filter") &&
        (rc = s_string(c, s_val(&m, "filter"), "filter", true, job->filter, sizeof job->filter)))
        return rc;
    if (win && (rc = s_window(c, win, s_key_mark(&m, "window"), &job->window)))
        return rc;
    if (s_val(&m, "key_by") && (rc = s_key_by(c, s_val(&m, "key_by"), job)))
        return rc;
    static const char *const window_only[] = {"allowed_lateness", "trigger", "late", "aggregate"};
    for (size_t i = 0; !win && i < S_N(window_only); i++)
        if (s_val(&m, window_only[i]))
            return s_fail(c, s_key_mark(&m, window_only[i]),
                          "%s needs a window%s, and this job has none (it passes rows through); "
                          "add a window or remove %s",
                          window_only[i],
                          strcmp(window_only[i], "trigger") == 0
                              ? " (early results are partial values of open windows)"
                              : "",
                          window_only[i]);
    if (s_val(&m, "allowed_lateness") &&
        (rc = s_dur(c, s_val(&m, "allowed_lateness"), "allowed_lateness", 0, INT64_MAX,
                    &job->allowed_lateness_ms)))
        return rc;
    if (s_val(&m, "trigger") && (rc = s_trigger(c, &m, job)))
        return rc;
    if ((rc = s_pane_keys(c, &m, job)))
        return rc;
    if (s_val(&m, "late") && (rc = s_late(c, &m, job)))
        return rc;
    if (win && !s_val(&m, "aggregate"))
        return s_fail(c, s_key_mark(&m, "window"),
                      "missing key 'aggregate' at the top level: the window at line %zu needs at "
                      "least one aggregate; add e.g. aggregate: [{fn: count}]",
                      s_key_mark(&m, "window").line + 1);
    if (win && (rc = s_aggregate(c, s_val(&m, "aggregate"), job)))
        return rc;
    if (!s_val(&m, "sink"))
        return s_missing(c, &m, "sink", "add sink: {type: file, path: DIRECTORY}");
    if ((rc = s_sink(c, &m, job)))
        return rc;
    if (s_val(&m, "batch") && (rc = s_batch(c, &m, job)))
        return rc;
    if (s_val(&m, "network") && (rc = s_network(c, &m, job)))
        return rc;
    if (s_val(&m, "checkpoint") && (rc = s_checkpoint(c, &m, job)))
        return rc;
    if (s_val(&m, "heartbeat") && (rc = s_heartbeat(c, &m, job)))
        return rc;
    if (s_val(&m, "restart") && (rc = s_restart(c, &m, job)))
        return rc;
    if (job->late.policy == WEIR_LATE_FILE && strcmp(job->late.path, job->sink.path) == 0)
        return s_fail(c, s_key_mark(&m, "late"),
                      "late.path is the sink's directory '%s'; late rows and results need "
                      "directories of their own",
                      job->sink.path);
    if ((c->flags & WEIR_JOBSPEC_CHECK_OUTPUT) && (rc = s_check_output(c, &m, job)))
        return rc;
    if (c->flags & WEIR_JOBSPEC_RUNNABLE)
        return s_runnable(c, &m, job);
    return 0;
}

/* libyaml's reader errors carry a byte offset, the others a mark. */
static int s_yaml_error(s_ctx_t *c, const yaml_parser_t *p, const char *yaml, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR)
        return s_fail_rc(c, -ENOMEM, p->problem_mark, "out of memory while reading the job file");
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->error == YAML_READER_ERROR) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (yaml[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)yaml[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        return s_fail(c, (yaml_mark_t){.line = line - 1, .column = col - 1},
                      "invalid text: %s (byte 0x%02X); the job file must be UTF-8 text without "
                      "control characters",
                      problem, (unsigned)(p->problem_value & 0xFF));
    }
    if (p->context)
        return s_fail(c, p->problem_mark,
                      "invalid YAML: %s (%s at line %zu); check indentation, quotes and "
                      "brackets here",
                      problem, p->context, p->context_mark.line + 1);
    return s_fail(c, p->problem_mark,
                  "invalid YAML: %s; check indentation, quotes and brackets here", problem);
}

/* libyaml's scanner spends O(depth) per token inside flow collections (a
 * MiB of '[' takes minutes) and its loader looks anchors up linearly. This
 * first pass over the events stops at the first collection nested too
 * deep or the first anchor too many, before the document is built. */
static int s_prescan(s_ctx_t *c, const char *yaml, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return s_fail_rc(c, -ENOMEM, (yaml_mark_t){0}, "out of memory while reading the job file");
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    int depth = 0, anchors = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = s_yaml_error(c, &p, yaml, len);
            break;
        }
        yaml_event_type_t type = ev.type;
        yaml_mark_t mark = ev.start_mark;
        const yaml_char_t *anchor = NULL;
        if (type == YAML_SEQUENCE_START_EVENT)
            anchor = ev.data.sequence_start.anchor;
        else if (type == YAML_MAPPING_START_EVENT)
            anchor = ev.data.mapping_start.anchor;
        else if (type == YAML_SCALAR_EVENT)
            anchor = ev.data.scalar.anchor;
        anchors += anchor != NULL;
        depth += type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT;
        depth -= type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT;
        yaml_event_delete(&ev);
        if (depth > S_MAX_DEPTH) {
            rc = s_fail(c, mark,
                        "lists and mappings are nested more than %d deep here; a job file "
                        "needs at most 4 levels",
                        S_MAX_DEPTH);
            break;
        }
        if (anchors > S_MAX_ANCHORS) {
            rc = s_fail(c, mark, "more than %d anchors (&name); a job file needs few or none",
                        S_MAX_ANCHORS);
            break;
        }
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

int weir_jobspec_parse(const char *yaml, size_t len, const char *file_name, const char *base_dir,
                       unsigned flags, weir_job_t *out, char *err, size_t err_cap)
{
    s_ctx_t c = {.file = file_name ? file_name : "<job>",
                 .base_dir = base_dir,
                 .flags = flags,
                 .err = err,
                 .err_cap = err ? err_cap : 0};
    yaml_mark_t start = {0};
    if (c.err_cap)
        err[0] = '\0';
    assert(out);
    if (!yaml && len)
        return s_fail(&c, start, "no job text (NULL with a length of %zu)", len);
    if (!base_dir || base_dir[0] != '/')
        return s_fail(&c, start,
                      "the directory to resolve relative paths against ('%s') is not absolute",
                      base_dir ? base_dir : "(null)");
    if (len > S_MAX_INPUT)
        return s_fail(&c, start,
                      "the job file is too large (%zu bytes, at most %u); a job file "
                      "describes one job and is a few KiB",
                      len, S_MAX_INPUT);
    s_defaults(out);
    if (!yaml)
        yaml = "";
    int rc = s_prescan(&c, yaml, len);
    if (rc)
        return rc;

    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_doc = false;
    if (!yaml_parser_initialize(&parser))
        return s_fail_rc(&c, -ENOMEM, start, "out of memory while reading the job file");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = s_yaml_error(&c, &parser, yaml, len);
        goto done;
    }
    have_doc = true;
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = s_fail(&c, start,
                    "the job file is empty; a job needs at least source and sink (see "
                    "docs/JOBFILE.md)");
        goto done;
    }
    /* A second document would be silently ignored by a reader that stops
     * at the first one; refuse it instead. */
    if (!yaml_parser_load(&parser, &extra)) {
        rc = s_yaml_error(&c, &parser, yaml, len);
        goto done;
    }
    bool has_extra = yaml_document_get_root_node(&extra) != NULL;
    yaml_mark_t extra_mark = extra.start_mark;
    yaml_document_delete(&extra);
    if (has_extra) {
        rc = s_fail(&c, extra_mark,
                    "a second YAML document starts here; a job file holds one job, so remove "
                    "the second '---' and what follows");
        goto done;
    }
    rc = s_job(&c, root, out);
done:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

void weir_job_state_signature(const weir_job_t *job, char *out, size_t cap)
{
    static const char *const types[] = {"?", "int64", "double", "string", "bool", "timestamp"};
    static const char *const fns[] = {"?", "count", "sum", "avg", "min", "max", "count_distinct"};
    static const char *const wins[] = {"none", "tumbling", "sliding", "session"};
    size_t o = 0;
#define S_SIG(...)                                                                                 \
    do {                                                                                           \
        if (o < cap)                                                                               \
            o += (size_t)snprintf(out + o, cap - o, __VA_ARGS__);                                  \
    } while (0)
    if (cap)
        out[0] = '\0';
    S_SIG("key_by=");
    for (int i = 0; i < job->n_keys; i++) {
        const weir_field_t *f = &job->source.fields[job->key_cols[i]];
        S_SIG("%s%s:%s", i ? "," : "", f->name, types[f->type < 6 ? f->type : 0]);
    }
    const weir_window_t *w = &job->window;
    S_SIG("; window=%s", wins[w->type < 4 ? w->type : 0]);
    if (w->type == WEIR_WINDOW_SESSION)
        S_SIG(" gap %lldms", (long long)w->gap_ms);
    else if (w->type != WEIR_WINDOW_NONE)
        S_SIG(" %lldms/%lldms offset %lldms", (long long)w->size_ms, (long long)w->slide_ms,
              (long long)w->offset_ms);
    S_SIG("; aggregate=");
    for (int i = 0; i < job->n_aggs; i++) {
        const weir_agg_t *a = &job->aggs[i];
        S_SIG("%s%s(%s)", i ? "," : "", fns[a->fn < 7 ? a->fn : 0],
              a->field_col >= 0 ? job->source.fields[a->field_col].name : "");
    }
    S_SIG("; sources=");
    for (int i = 0; i < job->n_sources; i++) {
        const weir_source_t *src = &job->sources[i];
        if (src->type == WEIR_SOURCE_GENERATOR)
            S_SIG("%sgenerator seed %llu", i ? "," : "", (unsigned long long)src->gen_seed);
        else
            S_SIG("%sfile %s", i ? "," : "", src->path);
    }
#undef S_SIG
}
