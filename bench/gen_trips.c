/* gen_trips: deterministic generator of taxi-trip CSV for benchmarks and
 * long-running tests.
 *
 *   weir-gen-trips ROWS [SEED] [DISORDER_S] > trips.csv
 *
 * Writes a header and ROWS trips with the columns of the NYC taxi sample in
 * examples/data/nyc_taxi that a benchmark job reads:
 *
 *   vendor_id,pickup_datetime,dropoff_datetime,passenger_count,trip_distance,
 *   pickup_location_id,dropoff_location_id,payment_type,fare_amount,
 *   tip_amount,total_amount
 *
 * Shape of the stream, which is what a benchmark of event-time windows
 * cares about:
 *   - rows come in dropoff order, starting 2019-01-01 01:00:00 UTC; the
 *     dropoff clock moves one second forward before a row with probability
 *     3/100, so there are about 33 trips per second of event time;
 *   - the pickup time (the event time of the jobs) lies behind the dropoff
 *     by a uniform 0..DISORDER_S seconds (default 1800), so a watermark
 *     bound of DISORDER_S seconds makes no row late;
 *   - 263 pickup zones (1..263) with a skew: a third of the picks go to the
 *     20 zones that are busiest in the real January 2019 sample, the rest
 *     spread evenly over all 263 (so those 20 hold about 38%);
 *   - distances 0.00..19.99 miles, fare 2.50 + 2.50 per mile, no tip in a
 *     quarter of the trips and 0..24% of the fare otherwise, total = fare +
 *     tip + 0.80. Money is computed in integer cents, so the text is exact.
 *
 * The same ROWS, SEED and DISORDER_S always give the same bytes (xorshift64*
 * generator, no libc randomness, no locale, no time zone).
 *
 * Cost: about 80 bytes a row. printf per field would spend most of the time
 * parsing format strings, so rows are formatted by hand into a 1 MiB buffer
 * that is written with fwrite; the date part of a timestamp is formatted
 * once per day and cached. 5,000,000 rows take about a second.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_START_S 1546304400 /* 2019-01-01 01:00:00 UTC */
#define GEN_BUF_BYTES (1 << 20)
#define GEN_ROW_MAX 256 /* generous upper bound of one formatted row */

/* The 20 busiest pickup zones of examples/data/nyc_taxi (January 2019). */
static const int s_busy_zones[20] = {237, 236, 161, 162, 186, 230, 170, 48,  142, 234,
                                     239, 163, 141, 79,  164, 132, 68,  107, 263, 229};

/* xorshift64* (Vigna): tiny, fast, good enough for synthetic data. The
 * state must never be 0. */
static uint64_t s_rng;

static uint64_t s_next(void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 0x2545F4914F6CDD1DULL;
}

/* Uniform in 0..n-1 (n small: the modulo bias is below 2^-50). */
static uint64_t s_below(uint64_t n)
{
    return (s_next() >> 11) % n;
}

static char *s_two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* "YYYY-MM-DD" of one day, cached: pickups and dropoffs touch at most two
 * consecutive days at a time, so two slots hit nearly always. */
typedef struct {
    int64_t day; /* days since 1970-01-01, -1 = empty */
    char text[11];
} day_cache_t;

static day_cache_t s_days[2] = {{-1, ""}, {-1, ""}};

static const char *s_day_text(int64_t day)
{
    for (int i = 0; i < 2; i++)
        if (s_days[i].day == day)
            return s_days[i].text;
    /* Evict the older day: days only move forward (up to the disorder). */
    int slot = s_days[0].day < s_days[1].day ? 0 : 1;
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    char *p = s_days[slot].text;
    int year = tm.tm_year + 1900; /* 1970..9999: DISORDER_S is bounded */
    p = s_two(p, year / 100);
    p = s_two(p, year % 100);
    *p++ = '-';
    p = s_two(p, tm.tm_mon + 1);
    *p++ = '-';
    p = s_two(p, tm.tm_mday);
    *p = '\0';
    s_days[slot].day = day;
    return s_days[slot].text;
}

/* "YYYY-MM-DD HH:MM:SS" of a time in seconds since the epoch (>= 0). */
static char *s_put_time(char *p, int64_t t_s)
{
    int64_t day = t_s / 86400;
    int sec = (int)(t_s % 86400);
    memcpy(p, s_day_text(day), 10);
    p[10] = ' ';
    p = s_two(p + 11, sec / 3600);
    *p++ = ':';
    p = s_two(p, sec / 60 % 60);
    *p++ = ':';
    return s_two(p, sec % 60);
}

/* Decimal of a non-negative integer. */
static char *s_put_uint(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* cents as "D.CC". */
static char *s_put_cents(char *p, uint64_t cents)
{
    p = s_put_uint(p, cents / 100);
    *p++ = '.';
    return s_two(p, (int)(cents % 100));
}

/* Parses a whole non-negative decimal number; 0 or -1. */
static int s_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int s_usage(void)
{
    fprintf(stderr, "usage: weir-gen-trips ROWS [SEED] [DISORDER_S] > trips.csv\n"
                    "  ROWS        number of trips to write\n"
                    "  SEED        any non-negative integer (default 1)\n"
                    "  DISORDER_S  pickup is 0..DISORDER_S s before dropoff (default 1800)\n");
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t rows, seed = 1, disorder_s = 1800;
    if (argc < 2 || argc > 4 || s_parse_u64(argv[1], &rows) != 0 ||
        (argc > 2 && s_parse_u64(argv[2], &seed) != 0) ||
        (argc > 3 && s_parse_u64(argv[3], &disorder_s) != 0) || disorder_s > 86400 * 365)
        return s_usage();

    /* Multiplying by a large odd constant and running a few rounds puts
     * seeds 1, 2, 3 far apart; the state is never 0. */
    s_rng = (seed + 1) * 0x9E3779B97F4A7C15ULL;
    if (s_rng == 0)
        s_rng = 1;
    for (int i = 0; i < 8; i++)
        s_next();

    char *buf = malloc(GEN_BUF_BYTES);
    if (!buf) {
        fprintf(stderr, "weir-gen-trips: out of memory\n");
        return 1;
    }
    static const char header[] =
        "vendor_id,pickup_datetime,dropoff_datetime,passenger_count,trip_distance,"
        "pickup_location_id,dropoff_location_id,payment_type,fare_amount,tip_amount,"
        "total_amount\n";
    memcpy(buf, header, sizeof header - 1);
    char *p = buf + sizeof header - 1;

    int64_t dropoff_s = GEN_START_S;
    for (uint64_t i = 0; i < rows; i++) {
        if (s_below(100) < 3)
            dropoff_s++;
        int64_t pickup_s = dropoff_s - (int64_t)s_below(disorder_s + 1);
        int zone = s_below(3) == 0 ? s_busy_zones[s_below(20)] : 1 + (int)s_below(263);
        int dropoff_zone = 1 + (int)s_below(263);
        uint64_t dist_c = s_below(2000);              /* hundredths of a mile */
        uint64_t fare_c = 250 + (5 * dist_c + 1) / 2; /* 2.50 + 2.50/mile, rounded */
        uint64_t tip_c = s_below(4) == 0 ? 0 : (fare_c * s_below(25) + 50) / 100;

        *p++ = (char)('1' + s_below(2)); /* vendor_id */
        *p++ = ',';
        p = s_put_time(p, pickup_s);
        *p++ = ',';
        p = s_put_time(p, dropoff_s);
        *p++ = ',';
        *p++ = (char)('1' + s_below(4)); /* passenger_count */
        *p++ = ',';
        p = s_put_cents(p, dist_c);
        *p++ = ',';
        p = s_put_uint(p, (uint64_t)zone);
        *p++ = ',';
        p = s_put_uint(p, (uint64_t)dropoff_zone);
        *p++ = ',';
        *p++ = (char)('1' + s_below(2)); /* payment_type */
        *p++ = ',';
        p = s_put_cents(p, fare_c);
        *p++ = ',';
        p = s_put_cents(p, tip_c);
        *p++ = ',';
        p = s_put_cents(p, fare_c + tip_c + 80);
        *p++ = '\n';

        if ((size_t)(p - buf) > GEN_BUF_BYTES - GEN_ROW_MAX) {
            if (fwrite(buf, 1, (size_t)(p - buf), stdout) != (size_t)(p - buf))
                goto write_failed;
            p = buf;
        }
    }
    if (fwrite(buf, 1, (size_t)(p - buf), stdout) != (size_t)(p - buf) || fflush(stdout) != 0)
        goto write_failed;
    free(buf);
    return 0;

write_failed:
    fprintf(stderr, "weir-gen-trips: write: %s\n", strerror(errno));
    free(buf);
    return 1;
}
