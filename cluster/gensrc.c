/* gensrc: deterministic taxi-like rows. See gensrc.h.
 *
 * Every value of row i comes from splitmix64 of (seed, i) with no state
 * carried from row to row, which is what makes replay from a position
 * possible and splits independent. Rejected: a sequential random walk for
 * drop-off times (as a file generator may use); it would make row i depend
 * on every row before it.
 */
#include "gensrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

enum {
    G_VENDOR,
    G_PICKUP,
    G_DROPOFF,
    G_PASSENGERS,
    G_DISTANCE,
    G_PU_ZONE,
    G_DO_ZONE,
    G_PAYMENT,
    G_FARE,
    G_TIP,
    G_TOTAL,
    G_N
};

static const char *const s_names[G_N] = {
    "vendor_id",     "pickup_datetime",    "dropoff_datetime",    "passenger_count",
    "trip_distance", "pickup_location_id", "dropoff_location_id", "payment_type",
    "fare_amount",   "tip_amount",         "total_amount",
};

static const weir_type_t s_types[G_N] = {
    WEIR_TYPE_INT64,  WEIR_TYPE_TIMESTAMP, WEIR_TYPE_TIMESTAMP, WEIR_TYPE_INT64,
    WEIR_TYPE_DOUBLE, WEIR_TYPE_INT64,     WEIR_TYPE_INT64,     WEIR_TYPE_INT64,
    WEIR_TYPE_DOUBLE, WEIR_TYPE_DOUBLE,    WEIR_TYPE_DOUBLE,
};

static const char *s_type_name(weir_type_t t)
{
    switch (t) {
    case WEIR_TYPE_INT64: return "int64";
    case WEIR_TYPE_DOUBLE: return "double";
    case WEIR_TYPE_TIMESTAMP: return "timestamp";
    case WEIR_TYPE_STRING: return "string";
    default: return "bool";
    }
}

#define G_BASE_MS 1546304400000LL /* 2019-01-01T01:00:00Z */
#define G_DISORDER_S 1800

struct weir_gensrc {
    const weir_job_t *job;
    int what[WEIR_MAX_COLS]; /* generator column of each schema field */
    uint64_t seed;
    uint64_t next;        /* global position of the next row */
    uint64_t step;        /* n_splits */
    uint64_t made, total; /* rows made by this split; its total (0 = unbounded) */
    double rate;          /* rows per second for this split, 0 = unlimited */
    int64_t start_ns;     /* first read, for pacing; 0 before */
    uint64_t paced_from;  /* `made` when pacing started (after a seek) */
};

static uint64_t s_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int weir_gensrc_open(const weir_job_t *job, int split, int n_splits, weir_gensrc_t **out, char *err,
                     size_t err_cap)
{
    if (n_splits < 1 || split < 0 || split >= n_splits) {
        snprintf(err, err_cap, "bad split %d of %d", split, n_splits);
        return WEIR_EINVAL;
    }
    weir_gensrc_t *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->job = job;
    for (int i = 0; i < job->source.n_fields; i++) {
        int w = -1;
        for (int c = 0; c < G_N; c++)
            if (strcmp(job->source.fields[i].name, s_names[c]) == 0)
                w = c;
        if (w < 0) {
            snprintf(err, err_cap,
                     "the generator makes no column '%s' (it makes vendor_id, pickup_datetime, "
                     "dropoff_datetime, passenger_count, trip_distance, pickup_location_id, "
                     "dropoff_location_id, payment_type, fare_amount, tip_amount, total_amount)",
                     job->source.fields[i].name);
            free(g);
            return WEIR_EINVAL;
        }
        if (job->source.fields[i].type != s_types[w]) {
            snprintf(err, err_cap, "the generator's column '%s' is a %s, the schema says %s",
                     s_names[w], s_type_name(s_types[w]), s_type_name(job->source.fields[i].type));
            free(g);
            return WEIR_EINVAL;
        }
        g->what[i] = w;
    }
    g->seed = job->source.gen_seed;
    g->step = (uint64_t)n_splits;
    g->next = (uint64_t)split;
    uint64_t rows = (uint64_t)job->source.gen_rows;
    if (rows) {
        /* positions split, split + n, ... below rows */
        g->total = rows > (uint64_t)split ? (rows - (uint64_t)split + g->step - 1) / g->step : 0;
        if (g->total == 0)
            g->total = UINT64_MAX; /* marker: this split makes nothing */
    }
    g->rate = job->source.gen_rate > 0 ? (double)job->source.gen_rate / n_splits : 0;
    *out = g;
    return 0;
}

static bool s_done(const weir_gensrc_t *g)
{
    if (g->total == UINT64_MAX)
        return true;
    return g->total && g->made >= g->total;
}

static uint64_t s_allowed(const weir_gensrc_t *g, int64_t now_ns)
{
    if (g->rate <= 0)
        return UINT64_MAX;
    if (g->start_ns == 0)
        return g->made + 1;
    double secs = (double)(now_ns - g->start_ns) / 1e9;
    return g->paced_from + 1 + (uint64_t)(secs * g->rate);
}

int weir_gensrc_read(weir_gensrc_t *g, weir_batch_t *b, uint32_t max_rows, int64_t now_ns, int *eof)
{
    if (g->start_ns == 0 && g->rate > 0) {
        g->start_ns = now_ns;
        g->paced_from = g->made;
    }
    uint64_t allowed = s_allowed(g, now_ns);
    const weir_job_t *job = g->job;
    uint32_t added = 0;
    while (added < max_rows && !weir_batch_full(b) && !s_done(g) && g->made < allowed) {
        uint64_t i = g->next;
        uint64_t r = s_mix(g->seed * 0x2545f4914f6cdd1dULL ^ i);
        uint64_t r2 = s_mix(r);
        int64_t dropoff = G_BASE_MS + (int64_t)(i * 3 / 100) * 1000 + (int64_t)(r2 % 1000);
        int64_t pickup = dropoff - (int64_t)((r2 >> 16) % (G_DISORDER_S + 1)) * 1000;
        double dist = (double)((r >> 32) % 2000) / 100.0;
        double fare = 2.5 + dist * 2.5;
        double tip = ((r >> 44) % 4 == 0) ? 0.0 : fare * (double)((r >> 48) % 25) / 100.0;
        int64_t zone = (r % 3 == 0) ? 1 + (int64_t)((r >> 8) % 20) : 1 + (int64_t)((r >> 8) % 263);
        for (int c = 0; c < job->source.n_fields; c++) {
            switch (g->what[c]) {
            case G_VENDOR: weir_batch_put_i64(b, c, 1 + (int64_t)(r % 2)); break;
            case G_PICKUP: weir_batch_put_i64(b, c, pickup); break;
            case G_DROPOFF: weir_batch_put_i64(b, c, dropoff); break;
            case G_PASSENGERS: weir_batch_put_i64(b, c, 1 + (int64_t)((r >> 4) % 4)); break;
            case G_DISTANCE: weir_batch_put_f64(b, c, dist); break;
            case G_PU_ZONE: weir_batch_put_i64(b, c, zone); break;
            case G_DO_ZONE: weir_batch_put_i64(b, c, 1 + (int64_t)((r >> 20) % 263)); break;
            case G_PAYMENT: weir_batch_put_i64(b, c, 1 + (int64_t)((r >> 12) % 2)); break;
            case G_FARE: weir_batch_put_f64(b, c, fare); break;
            case G_TIP: weir_batch_put_f64(b, c, tip); break;
            default: weir_batch_put_f64(b, c, fare + tip + 0.8); break;
            }
        }
        int64_t ts = job->source.event_time_col >= 0
                         ? b->cols[job->source.event_time_col].i64[b->n_rows]
                         : pickup;
        weir_batch_commit_row(b, ts);
        g->next += g->step;
        g->made++;
        added++;
    }
    *eof = s_done(g);
    return 0;
}

int64_t weir_gensrc_wait_ns(const weir_gensrc_t *g, int64_t now_ns)
{
    if (g->rate <= 0 || g->start_ns == 0 || s_done(g))
        return 0;
    if (g->made < s_allowed(g, now_ns))
        return 0;
    double due = (double)(g->made - g->paced_from) / g->rate * 1e9;
    int64_t at = g->start_ns + (int64_t)due;
    return at > now_ns ? at - now_ns : 0;
}

uint64_t weir_gensrc_rows(const weir_gensrc_t *g)
{
    return g->made;
}

uint64_t weir_gensrc_rows_total(const weir_gensrc_t *g)
{
    return g->total == UINT64_MAX ? 0 : g->total;
}

void weir_gensrc_seek(weir_gensrc_t *g, uint64_t nth)
{
    uint64_t first = g->next - g->made * g->step;
    g->made = nth;
    g->next = first + nth * g->step;
    g->start_ns = 0;
}

void weir_gensrc_destroy(weir_gensrc_t **g)
{
    if (!g || !*g)
        return;
    free(*g);
    *g = NULL;
}
