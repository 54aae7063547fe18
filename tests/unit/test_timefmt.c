/* timefmt: text timestamps become UTC milliseconds exactly as the oracle
 * (shared/tools/window_oracle.py) computes them; malformed text is
 * WEIR_EINVAL and out-of-range text WEIR_ERANGE; formatting and parsing are
 * inverse. Expected values were computed with the oracle's parse_ts. */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "timefmt.h"

#define HOUR_MS INT64_C(3600000)

static int s_parse(const char *s, weir_ts_format_t fmt, const char *pattern, int32_t tz,
                   int64_t *out)
{
    return weir_ts_parse(s, strlen(s), fmt, pattern, tz, out);
}

static int64_t s_iso(const char *s)
{
    int64_t v = INT64_MIN;
    int rc = s_parse(s, WEIR_TS_ISO8601, NULL, 0, &v);
    if (rc)
        fprintf(stderr, "\nparse of '%s' failed: %d\n", s, rc);
    CU_ASSERT_EQUAL(rc, 0);
    return v;
}

static int s_iso_rc(const char *s, int32_t tz)
{
    int64_t v = 12345;
    int rc = s_parse(s, WEIR_TS_ISO8601, NULL, tz, &v);
    CU_ASSERT_EQUAL(v, 12345); /* untouched on failure */
    return rc;
}

static void iso_timestamps_match_the_oracle(void)
{
    static const struct {
        const char *text;
        int64_t ms;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2019-01-01 00:16:10", INT64_C(1546301770000)},
        {"2023-04-04T15:03:48.180Z", INT64_C(1680620628180)},
        {"1900-01-01", INT64_C(-2208988800000)},
        {"1900-01-01T00:00:00", INT64_C(-2208988800000)},
        {"2000-02-29T12:00:00", INT64_C(951825600000)},
        {"1600-03-01 00:00:00", INT64_C(-11670912000000)},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800000)},
        {"0000-01-01T00:00:00Z", INT64_C(-62167219200000)},
        {"9999-12-31T23:59:59.999Z", INT64_C(253402300799999)},
        {"1969-07-20T20:17:40Z", INT64_C(-14182940000)},
        {"2019-01-01T00:00:00.123456789+00:00", INT64_C(1546300800123)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = s_iso(cases[i].text);
        if (v != cases[i].ms)
            fprintf(stderr, "\n%s: %" PRId64 " != %" PRId64 "\n", cases[i].text, v, cases[i].ms);
        CU_ASSERT_EQUAL(v, cases[i].ms);
    }
}

static void times_before_1970_floor_their_milliseconds(void)
{
    CU_ASSERT_EQUAL(s_iso("1969-12-31T23:59:59Z"), -1000);
    CU_ASSERT_EQUAL(s_iso("1969-12-31T23:59:58.500Z"), -1500);
    CU_ASSERT_EQUAL(s_iso("1969-12-31T23:59:59.9999Z"), -1);
    CU_ASSERT_EQUAL(s_iso("1969-12-31T23:59:59.0019Z"), -999);
    CU_ASSERT_EQUAL(s_iso("1969-12-31"), -86400000);
}

static void fractions_keep_whole_milliseconds(void)
{
    CU_ASSERT_EQUAL(s_iso("1970-01-01T00:00:00.1Z"), 100);
    CU_ASSERT_EQUAL(s_iso("1970-01-01T00:00:00.12Z"), 120);
    CU_ASSERT_EQUAL(s_iso("1970-01-01T00:00:00.123Z"), 123);
    CU_ASSERT_EQUAL(s_iso("1970-01-01T00:00:00.1239Z"), 123);
    CU_ASSERT_EQUAL(s_iso("1970-01-01T00:00:00.999999999Z"), 999);
    CU_ASSERT_EQUAL(s_iso("1970-01-01 00:00:01.5"), 1500);
    CU_ASSERT_EQUAL(s_iso_rc("1970-01-01T00:00:00.1234567890Z", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_iso_rc("1970-01-01T00:00:00.Z", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_iso_rc("1970-01-01T00:00:00.", 0), WEIR_EINVAL);
}

static void leap_days_follow_the_gregorian_rules(void)
{
    CU_ASSERT_EQUAL(s_iso("2000-02-29"), s_iso("2000-02-28") + 86400000);
    CU_ASSERT_EQUAL(s_iso("2000-03-01"), s_iso("2000-02-29") + 86400000);
    CU_ASSERT_EQUAL(s_iso("2004-02-29"), s_iso("2004-03-01") - 86400000);
    CU_ASSERT_EQUAL(s_iso("2400-02-29"), s_iso("2400-03-01") - 86400000);
    CU_ASSERT_EQUAL(s_iso("0000-02-29"), s_iso("0000-03-01") - 86400000);
    CU_ASSERT_EQUAL(s_iso_rc("1900-02-29", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_iso_rc("2100-02-29T00:00:00Z", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_iso_rc("2001-02-29", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_iso_rc("2000-02-30", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_iso_rc("2019-04-31", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_iso("2019-12-31"), s_iso("2020-01-01") - 86400000);
}

static void offsets_in_the_text_win_over_the_source_zone(void)
{
    int64_t utc = s_iso("2019-01-01T00:00:00Z");
    CU_ASSERT_EQUAL(utc, INT64_C(1546300800000));
    CU_ASSERT_EQUAL(s_iso("2019-01-01T00:00:00+05:30"), INT64_C(1546281000000));
    CU_ASSERT_EQUAL(s_iso("2019-01-01T00:00:00-05:00"), INT64_C(1546318800000));
    CU_ASSERT_EQUAL(s_iso("2019-01-01T00:00:00-0500"), INT64_C(1546318800000));
    CU_ASSERT_EQUAL(s_iso("2024-12-31T23:59:59.001-0130"), INT64_C(1735694999001));
    CU_ASSERT_EQUAL(s_iso("2019-01-01T00:00:00+00:00"), utc);
    CU_ASSERT_EQUAL(s_iso("2019-01-01T00:00:00-00:00"), utc);

    /* A zone-less text is local time in the source's zone: 00:00 at -05:00
     * is 05:00 UTC. */
    int64_t v = 0;
    CU_ASSERT_EQUAL(s_parse("2019-01-01 00:00:00", WEIR_TS_ISO8601, NULL, -5 * 3600000, &v), 0);
    CU_ASSERT_EQUAL(v, utc + 5 * HOUR_MS);
    CU_ASSERT_EQUAL(s_parse("2019-01-01", WEIR_TS_ISO8601, NULL, 3600000, &v), 0);
    CU_ASSERT_EQUAL(v, utc - HOUR_MS);
    CU_ASSERT_EQUAL(s_parse("2019-01-01T00:00:00Z", WEIR_TS_ISO8601, NULL, -5 * 3600000, &v), 0);
    CU_ASSERT_EQUAL(v, utc);
    CU_ASSERT_EQUAL(s_parse("2019-01-01T00:00:00+01:00", WEIR_TS_ISO8601, NULL, 7200000, &v), 0);
    CU_ASSERT_EQUAL(v, utc - HOUR_MS);
}

static void malformed_iso_text_is_rejected(void)
{
    static const char *const bad[] = {
        "",
        "2019",
        "2019-01",
        "2019-1-01",
        "2019-01-1",
        "19-01-01",
        "2019/01/01",
        "2019-01-01T",
        "2019-01-01 ",
        " 2019-01-01",
        "2019-01-01T00:00",
        "2019-01-01T00:00:0",
        "2019-01-01T0:00:00",
        "2019-01-01T00-00-00",
        "2019-01-01X00:00:00",
        "2019-01-01t00:00:00",
        "2019-01-01T00:00:00 ",
        "2019-01-01T00:00:00z",
        "2019-01-01T00:00:00ZZ",
        "2019-01-01T00:00:00Z+01:00",
        "2019-01-01T00:00:00+05",
        "2019-01-01T00:00:00+5:00",
        "2019-01-01T00:00:00+05:0",
        "2019-01-01T00:00:00+05:00:00",
        "2019-01-01T00:00:00+24:00",
        "2019-01-01T00:00:00+05:60",
        "2019-01-01T00:00:00UTC",
        "2019-01-01T00:00:00,5",
        "2019-01-01T24:00:00",
        "2019-01-01T23:60:00",
        "2019-01-01T23:59:60",
        "2019-13-01",
        "2019-00-10",
        "2019-01-00",
        "2019-01-32",
        "abcd-ef-gh",
        "2O19-01-01",
        "+",
        "-",
        "2019-01-01T00:00:00.-5",
        "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x91\xef\xbc\x99-01-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = s_iso_rc(bad[i], 0);
        if (rc != WEIR_EINVAL)
            fprintf(stderr, "\n'%s' gave %d\n", bad[i], rc);
        CU_ASSERT_EQUAL(rc, WEIR_EINVAL);
    }
    /* the length is what counts, not a NUL */
    int64_t v = 0;
    CU_ASSERT_EQUAL(weir_ts_parse("2019-01-01\0T00", 14, WEIR_TS_ISO8601, NULL, 0, &v),
                    WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_ts_parse("2019-01-01T00:00:00Zjunk", 20, WEIR_TS_ISO8601, NULL, 0, &v), 0);
    CU_ASSERT_EQUAL(v, INT64_C(1546300800000));
    CU_ASSERT_EQUAL(weir_ts_parse("2019-01-01", 10, (weir_ts_format_t)0, NULL, 0, &v), WEIR_EINVAL);
}

static void years_outside_0000_to_9999_are_out_of_range(void)
{
    CU_ASSERT_EQUAL(s_iso_rc("10000-01-01T00:00:00Z", 0), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_iso_rc("-0001-01-01", 0), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_iso_rc("+12019-01-01", 0), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_iso_rc("9999-12-31T23:59:59.999-00:01", 0), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_iso_rc("0000-01-01T00:00:00+00:01", 0), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_iso_rc("0000-01-01T00:00:00", 3600000), WEIR_ERANGE);
    /* a malformed date stays malformed whatever its year */
    CU_ASSERT_EQUAL(s_iso_rc("10000-13-01", 0), WEIR_EINVAL);
}

static void epoch_milliseconds_are_signed_integers(void)
{
    int64_t v = 0;
    CU_ASSERT_EQUAL(s_parse("0", WEIR_TS_EPOCH_MS, NULL, 0, &v), 0);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(s_parse("1546300800000", WEIR_TS_EPOCH_MS, NULL, 0, &v), 0);
    CU_ASSERT_EQUAL(v, INT64_C(1546300800000));
    CU_ASSERT_EQUAL(s_parse("-1", WEIR_TS_EPOCH_MS, NULL, 0, &v), 0);
    CU_ASSERT_EQUAL(v, -1);
    CU_ASSERT_EQUAL(s_parse("+25", WEIR_TS_EPOCH_MS, NULL, 0, &v), 0);
    CU_ASSERT_EQUAL(v, 25);
    /* the zone of the source does not apply to epoch values */
    CU_ASSERT_EQUAL(s_parse("25", WEIR_TS_EPOCH_MS, NULL, 3600000, &v), 0);
    CU_ASSERT_EQUAL(v, 25);
    CU_ASSERT_EQUAL(s_parse("253402300799999", WEIR_TS_EPOCH_MS, NULL, 0, &v), 0);
    CU_ASSERT_EQUAL(s_parse("-62167219200000", WEIR_TS_EPOCH_MS, NULL, 0, &v), 0);
    v = 7;
    static const char *const bad[] = {"", "-", "+", "1.5", " 1", "1 ", "1e3", "0x10", "--1", "1-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(s_parse(bad[i], WEIR_TS_EPOCH_MS, NULL, 0, &v), WEIR_EINVAL);
    static const char *const big[] = {"253402300800000", "-62167219200001", "9223372036854775807",
                                      "-9223372036854775808", "99999999999999999999999999"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        CU_ASSERT_EQUAL(s_parse(big[i], WEIR_TS_EPOCH_MS, NULL, 0, &v), WEIR_ERANGE);
    CU_ASSERT_EQUAL(v, 7);
}

static void epoch_seconds_round_like_python(void)
{
    static const struct {
        const char *text;
        int64_t ms;
    } cases[] = {
        {"1546300800", INT64_C(1546300800000)},
        {"1.5", 1500},
        {"-1.5", -1500},
        {"0.0005", 0},
        {"0.0015", 2},
        {"0.0025", 2},
        {"0.0045", 4},
        {"1e3", 1000000},
        {"1.2345", 1234},
        {"-1.2345", -1234},
        {"1546300800.123", INT64_C(1546300800123)},
        {"1546300800.1235", INT64_C(1546300800124)},
        {"-0.0005", 0},
        {"-0.0015", -2},
        {".5", 500},
        {"5.", 5000},
        {"1.23456789e2", 123457},
        {"0.0", 0},
        {"-0", 0},
        {"+2", 2000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = INT64_MIN;
        CU_ASSERT_EQUAL(s_parse(cases[i].text, WEIR_TS_EPOCH_S, NULL, 0, &v), 0);
        if (v != cases[i].ms)
            fprintf(stderr, "\n%s: %" PRId64 " != %" PRId64 "\n", cases[i].text, v, cases[i].ms);
        CU_ASSERT_EQUAL(v, cases[i].ms);
    }
    int64_t v = 0;
    static const char *const bad[] = {"",     ".",   "-",   "+.",   "1e", "1e+", "e5",
                                      "1.5.", "inf", "nan", "0x10", " 1", "1 ",  "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(s_parse(bad[i], WEIR_TS_EPOCH_S, NULL, 0, &v), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_parse("1e300", WEIR_TS_EPOCH_S, NULL, 0, &v), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_parse("253402300800", WEIR_TS_EPOCH_S, NULL, 0, &v), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_parse("99999999999999999999", WEIR_TS_EPOCH_S, NULL, 0, &v), WEIR_ERANGE);
}

static void patterns_read_their_fields_and_literals(void)
{
    int64_t v = 0;
    const int64_t t = INT64_C(1546301770000); /* 2019-01-01 00:16:10 UTC */
    CU_ASSERT_EQUAL(s_parse("2019-01-01 00:16:10", WEIR_TS_PATTERN, "%Y-%m-%d %H:%M:%S", 0, &v), 0);
    CU_ASSERT_EQUAL(v, t);
    CU_ASSERT_EQUAL(s_parse("01/01/2019 00:16:10", WEIR_TS_PATTERN, "%d/%m/%Y %H:%M:%S", 0, &v), 0);
    CU_ASSERT_EQUAL(v, t);
    CU_ASSERT_EQUAL(
        s_parse("20190101T001610.25+0100", WEIR_TS_PATTERN, "%Y%m%dT%H%M%S.%f%z", 0, &v), 0);
    CU_ASSERT_EQUAL(v, t + 250 - HOUR_MS);
    CU_ASSERT_EQUAL(
        s_parse("2019-01-01 00:16:10 Z", WEIR_TS_PATTERN, "%Y-%m-%d %H:%M:%S %z", 3600000, &v), 0);
    CU_ASSERT_EQUAL(v, t);
    CU_ASSERT_EQUAL(s_parse("100% 2019-01-01", WEIR_TS_PATTERN, "100%% %Y-%m-%d", -3600000, &v), 0);
    CU_ASSERT_EQUAL(v, INT64_C(1546300800000) + HOUR_MS);
    /* fields the pattern lacks default to 1970-01-01 00:00:00.000 */
    CU_ASSERT_EQUAL(s_parse("00:16:10", WEIR_TS_PATTERN, "%H:%M:%S", 0, &v), 0);
    CU_ASSERT_EQUAL(v, 970000);

    static const struct {
        const char *text, *pattern;
    } bad[] = {
        {"2019-01-01", "%Y-%m-%d %H"},     /* input too short */
        {"2019-01-01 00", "%Y-%m-%d"},     /* input left over */
        {"2019-01-01", "%Y/%m/%d"},        /* literal mismatch */
        {"19-01-01", "%Y-%m-%d"},          /* %Y is four digits */
        {"2019-1-01", "%Y-%m-%d"},         /* %m is two digits */
        {"2019-01-01", "%Y-%m-%q"},        /* unknown directive */
        {"2019-01-01%", "%Y-%m-%d%"},      /* pattern ends in '%' */
        {"2019-02-30", "%Y-%m-%d"},        /* no such day */
        {"2019-01-01 25", "%Y-%m-%d %H"},  /* no such hour */
        {"2019-01-01 x", "%Y-%m-%d %%"},   /* %% is a literal % */
        {"2019-01-01 .", "%Y-%m-%d .%f"},  /* %f needs a digit */
        {"2019-01-01 +01", "%Y-%m-%d %z"}, /* offset needs minutes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 5;
        int rc = s_parse(bad[i].text, WEIR_TS_PATTERN, bad[i].pattern, 0, &v);
        if (rc != WEIR_EINVAL)
            fprintf(stderr, "\n'%s' ~ '%s' gave %d\n", bad[i].text, bad[i].pattern, rc);
        CU_ASSERT_EQUAL(rc, WEIR_EINVAL);
        CU_ASSERT_EQUAL(v, 5);
    }
    CU_ASSERT_EQUAL(s_parse("2019-01-01", WEIR_TS_PATTERN, NULL, 0, &v), WEIR_EINVAL);
}

static void formatting_writes_iso_utc_with_milliseconds(void)
{
    char buf[32];
    weir_ts_format_iso(0, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00.000Z");
    weir_ts_format_iso(-1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:59.999Z");
    weir_ts_format_iso(INT64_C(1680620628180), buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "2023-04-04T15:03:48.180Z");
    weir_ts_format_iso(INT64_C(951825600000), buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "2000-02-29T12:00:00.000Z");
    weir_ts_format_iso(INT64_C(-62167219200000), buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "0000-01-01T00:00:00.000Z");
    weir_ts_format_iso(INT64_C(-62167219200001), buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "-0001-12-31T23:59:59.999Z");
    weir_ts_format_iso(INT64_C(253402300800000), buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "+10000-01-01T00:00:00.000Z");
    /* the extremes of int64 fit in 32 bytes */
    weir_ts_format_iso(INT64_MAX, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "+292278994-08-17T07:12:55.807Z");
    weir_ts_format_iso(INT64_MIN, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "-292275055-05-16T16:47:04.192Z");
    /* a short buffer is truncated and terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    weir_ts_format_iso(0, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "1970-01");
    weir_ts_format_iso(0, small, 0);
    CU_ASSERT_EQUAL(small[0], '1');
}

/* An independent calendar: the next civil date, by month lengths. */
static void s_next_day(int64_t *y, unsigned *m, unsigned *d)
{
    static const unsigned len[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    unsigned n = *m == 2 && leap ? 29 : len[*m];
    if (++*d > n) {
        *d = 1;
        if (++*m > 12) {
            *m = 1;
            ++*y;
        }
    }
}

static void every_day_from_0000_to_9999_is_one_more_than_the_last(void)
{
    int64_t y = 0;
    unsigned m = 1, d = 1;
    int64_t days = weir_days_from_civil(0, 1, 1);
    CU_ASSERT_EQUAL(days, -719528);
    CU_ASSERT_EQUAL(weir_days_from_civil(1970, 1, 1), 0);
    int bad = 0;
    char buf[32], want[64];
    while (y <= 9999 && bad < 5) {
        int64_t got = weir_days_from_civil(y, m, d);
        if (got != days) {
            fprintf(stderr, "\n%04" PRId64 "-%02u-%02u: %" PRId64 " != %" PRId64 "\n", y, m, d, got,
                    days);
            bad++;
        }
        /* the day count formats back to the same date, once a month to
         * keep the walk fast */
        if (d == 28) {
            weir_ts_format_iso(days * 86400000 + 3723004, buf, sizeof buf);
            snprintf(want, sizeof want, "%04d-%02u-%02uT01:02:03.004Z", (int)y, m, d);
            if (strcmp(buf, want) != 0) {
                fprintf(stderr, "\n%s != %s\n", buf, want);
                bad++;
            }
        }
        s_next_day(&y, &m, &d);
        days++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(days, weir_days_from_civil(10000, 1, 1));
    CU_ASSERT_EQUAL(weir_days_from_civil(-1, 12, 31), -719529);
    CU_ASSERT_EQUAL(weir_days_from_civil(-400, 3, 1), weir_days_from_civil(0, 3, 1) - 146097);
}

static uint64_t s_rng;
static uint64_t s_rand(void)
{
    uint64_t z = (s_rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void formatting_and_parsing_round_trip(void)
{
    const char *env = getenv("WEIR_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    s_rng = seed;
    const int64_t lo = INT64_C(-62167219200000), hi = INT64_C(253402300799999);
    int failures = 0;
    for (int i = 0; i < 200000 && failures < 5; i++) {
        int64_t ts;
        uint64_t r = s_rand();
        switch (r % 4) {
        case 0: ts = lo + (int64_t)(s_rand() % (uint64_t)(hi - lo + 1)); break;
        case 1:
            ts = (int64_t)(s_rand() % (UINT64_C(200) * 365 * 86400000)) -
                 INT64_C(100) * 365 * 86400000;
            break;
        case 2: ts = (int64_t)(s_rand() % 200000) - 100000; break; /* around the epoch */
        default:
            ts = (r >> 8) % 2 ? lo + (int64_t)(s_rand() % 100000)
                              : hi - (int64_t)(s_rand() % 100000);
            break;
        }
        char buf[48];
        weir_ts_format_iso(ts, buf, 32);
        int64_t back = 0;
        int rc = weir_ts_parse(buf, strlen(buf), WEIR_TS_ISO8601, NULL, 0, &back);
        /* the same instant written in another zone, with a space and no 'Z' */
        int32_t tz = (int32_t)((int64_t)(s_rand() % (24 * 60 * 2 - 1)) - (24 * 60 - 1)) * 60000;
        int64_t local = ts + tz, back2 = 0, back3 = 0;
        int rc2 = 0, rc3 = 0;
        if (local >= lo && local <= hi) {
            char lbuf[48], zbuf[80];
            weir_ts_format_iso(local, lbuf, 32);
            lbuf[10] = ' ';
            lbuf[23] = '\0';
            rc2 = weir_ts_parse(lbuf, 23, WEIR_TS_ISO8601, NULL, tz, &back2);
            int32_t am = tz < 0 ? -tz : tz;
            snprintf(zbuf, sizeof zbuf, "%s%c%02d:%02d", lbuf, tz < 0 ? '-' : '+', am / 3600000,
                     am / 60000 % 60);
            rc3 = weir_ts_parse(zbuf, strlen(zbuf), WEIR_TS_ISO8601, NULL, 0, &back3);
        } else {
            back2 = back3 = ts;
        }
        if (rc || back != ts || rc2 || back2 != ts || rc3 || back3 != ts) {
            fprintf(stderr,
                    "\nround trip of %" PRId64 " (%s, zone %d ms) failed: %" PRId64 " %" PRId64
                    " %" PRId64 " rc %d %d %d; seed %" PRIu64 "\n",
                    ts, buf, (int)tz, back, back2, back3, rc, rc2, rc3, seed);
            failures++;
        }
    }
    CU_ASSERT_EQUAL(failures, 0);
}

void test_timefmt_register(void)
{
    CU_pSuite s = CU_add_suite("timefmt", NULL, NULL);
    CU_add_test(s, "ISO timestamps match the oracle", iso_timestamps_match_the_oracle);
    CU_add_test(s, "times before 1970 floor their milliseconds",
                times_before_1970_floor_their_milliseconds);
    CU_add_test(s, "fractions keep whole milliseconds", fractions_keep_whole_milliseconds);
    CU_add_test(s, "leap days follow the Gregorian rules", leap_days_follow_the_gregorian_rules);
    CU_add_test(s, "offsets in the text win over the source zone",
                offsets_in_the_text_win_over_the_source_zone);
    CU_add_test(s, "malformed ISO text is rejected", malformed_iso_text_is_rejected);
    CU_add_test(s, "years outside 0000..9999 are out of range",
                years_outside_0000_to_9999_are_out_of_range);
    CU_add_test(s, "epoch milliseconds are signed integers",
                epoch_milliseconds_are_signed_integers);
    CU_add_test(s, "epoch seconds round like Python", epoch_seconds_round_like_python);
    CU_add_test(s, "patterns read their fields and literals",
                patterns_read_their_fields_and_literals);
    CU_add_test(s, "formatting writes ISO UTC with milliseconds",
                formatting_writes_iso_utc_with_milliseconds);
    CU_add_test(s, "every day from 0000 to 9999 is one more than the last",
                every_day_from_0000_to_9999_is_one_more_than_the_last);
    CU_add_test(s, "formatting and parsing round-trip", formatting_and_parsing_round_trip);
}
