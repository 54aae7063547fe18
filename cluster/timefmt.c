/* timefmt: text timestamps -> int64 ms since the Unix epoch, UTC.
 *
 * Problem: every CSV row of a job carries an event time as text, so this is
 * on the hot path of every source, and its answers must equal the oracle's
 * (shared/tools/window_oracle.py: Python's datetime.fromisoformat, then
 * `microseconds // 1000`; epoch seconds as `int(round(float(text) * 1000))`).
 *
 * Approach: parse the text into civil fields with hand-written digit
 * readers, validate them, and turn the date into a day count with integer
 * arithmetic on a calendar whose year starts in March (so the leap day is
 * the last day of a year and month lengths never depend on the year).
 *
 * Invariants: every value returned by weir_ts_parse lies in
 * [0000-01-01T00:00:00.000Z, 9999-12-31T23:59:59.999Z], whatever the format
 * (so window arithmetic downstream stays far from int64 overflow and the
 * WEIR_TS_MIN / WEIR_TS_MAX sentinels never appear as data). Fractions of a
 * second are truncated to milliseconds, which is the floor also for times
 * before 1970 (1969-12-31T23:59:58.500Z = -1500). Text that does not name a
 * real date or time (month 13, February 30, hour 24, second 60) is
 * WEIR_EINVAL; a well-formed value outside the supported range (year 10000,
 * a signed year, an epoch value beyond year 9999) is WEIR_ERANGE. Nothing
 * around the value is skipped: leading or trailing blanks are WEIR_EINVAL.
 *
 * Costs: no allocation, no locale, no libc time zone; an ISO timestamp is a
 * few dozen integer operations. Epoch seconds with more than three decimals
 * or an exponent go through strtod on a stack copy, so that the rounding of
 * float(text) * 1000 is reproduced exactly, ties included (the process never
 * calls setlocale, so strtod's decimal point is '.').
 *
 * Rejected: mktime/timegm/strptime (locale and TZ-dependent, global state,
 * slow), and a table of days per year (a loop per parse or a 10000-entry
 * table, where a division does the same work).
 */
#include "timefmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define S_MS_PER_DAY INT64_C(86400000)
/* Days in one 400-year Gregorian cycle. */
#define S_DAYS_PER_ERA 146097
/* Days from 0000-03-01 (day 0 of the March-based calendar) to 1970-01-01. */
#define S_EPOCH_SHIFT 719468
/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z. */
#define S_MIN_MS INT64_C(-62167219200000)
#define S_MAX_MS INT64_C(253402300799999)

/* Days before each month of a year that begins on March 1st: index 0 is
 * March, index 10 January, index 11 February (whose length is the only one
 * that varies, and it comes last). */
static const uint16_t s_days_before[12] = {0, 31, 61, 92, 122, 153, 184, 214, 245, 275, 306, 337};

/* Civil fields of a timestamp while it is parsed. */
typedef struct {
    int64_t year;    /* 0..9999 unless year_out */
    unsigned mon;    /* 1..12 once validated */
    unsigned day;    /* 1..days in month once validated */
    unsigned hour;   /* 0..23 */
    unsigned min;    /* 0..59 */
    unsigned sec;    /* 0..59 */
    unsigned ms;     /* 0..999, truncated fraction */
    bool year_out;   /* well-formed year outside 0000..9999 */
    bool zoned;      /* the text carried Z or an offset */
    int32_t zone_ms; /* offset of the text's zone east of UTC */
} s_tm_t;

static inline int64_t s_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

static inline bool s_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline unsigned s_days_in_month(int64_t y, unsigned m)
{
    static const uint8_t len[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_is_leap(y) ? 29 : len[m];
}

int64_t weir_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* January and February count as months 10 and 11 of the previous year. */
    int64_t ym = m <= 2 ? y - 1 : y;
    unsigned mi = (m + 9) % 12;
    int64_t era = s_floordiv(ym, 400);
    int64_t yoe = ym - era * 400; /* 0..399 */
    /* Leap days before March-based year yoe of the era: the Februaries of
     * civil years 1..yoe that are leap; year 400 of the era is not among
     * them, so the 400-year rule never applies inside one era. */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + s_days_before[mi] + (int64_t)d - 1;
    return era * S_DAYS_PER_ERA + doe - S_EPOCH_SHIFT;
}

/* Inverse of weir_days_from_civil: peels 400-year eras, centuries, 4-year
 * cycles and years off the day count. */
static void s_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + S_EPOCH_SHIFT;
    int64_t era = s_floordiv(z, S_DAYS_PER_ERA);
    int64_t doe = z - era * S_DAYS_PER_ERA; /* 0..146096 */
    /* Centuries have 36524 days except the last of an era (36525): only the
     * era's very last day divides to 4. */
    int64_t c = doe / 36524;
    if (c > 3)
        c = 3;
    int64_t r = doe - c * 36524;
    int64_t q = r / 1461; /* 4-year cycles; the last one of a century may be short */
    r -= q * 1461;
    int64_t yy = r / 365; /* the leap day of a cycle divides to 4 */
    if (yy > 3)
        yy = 3;
    int64_t doy = r - yy * 365; /* 0..365, March 1st = 0 */
    unsigned mi = 11;
    while (s_days_before[mi] > doy)
        mi--;
    *d = (unsigned)(doy - s_days_before[mi]) + 1;
    *m = mi < 10 ? mi + 3 : mi - 9;
    *y = era * 400 + c * 100 + q * 4 + yy + (*m <= 2);
}

static inline bool s_digit(char c, unsigned *v)
{
    *v = (unsigned)(unsigned char)c - '0';
    return *v <= 9;
}

/* Exactly two digits at s[*i]; advances *i. */
static inline bool s_two(const char *s, size_t len, size_t *i, unsigned *out)
{
    unsigned a, b;
    if (len - *i < 2 || !s_digit(s[*i], &a) || !s_digit(s[*i + 1], &b))
        return false;
    *out = a * 10 + b;
    *i += 2;
    return true;
}

/* Exactly four digits at s[*i]; advances *i. */
static inline bool s_four(const char *s, size_t len, size_t *i, int64_t *out)
{
    unsigned a, b;
    if (!s_two(s, len, i, &a) || !s_two(s, len, i, &b))
        return false;
    *out = a * 100 + b;
    return true;
}

/* 1 to 9 fraction digits at s[*i]; keeps the first three as milliseconds
 * (truncation, as `microseconds // 1000` does). */
static inline bool s_fraction(const char *s, size_t len, size_t *i, unsigned *ms)
{
    size_t n = 0;
    unsigned v = 0, dg;
    while (*i < len && s_digit(s[*i], &dg)) {
        if (n < 3)
            v = v * 10 + dg;
        n++;
        (*i)++;
    }
    if (n == 0 || n > 9)
        return false;
    for (size_t k = n; k < 3; k++)
        v *= 10;
    *ms = v;
    return true;
}

/* "Z", "+hh:mm", "-hh:mm", "+hhmm" or "-hhmm" at s[*i]. */
static inline bool s_zone(const char *s, size_t len, size_t *i, s_tm_t *t)
{
    if (*i >= len)
        return false;
    char c = s[*i];
    if (c == 'Z') {
        (*i)++;
        t->zoned = true;
        t->zone_ms = 0;
        return true;
    }
    if (c != '+' && c != '-')
        return false;
    (*i)++;
    unsigned hh, mm;
    if (!s_two(s, len, i, &hh))
        return false;
    if (*i < len && s[*i] == ':')
        (*i)++;
    if (!s_two(s, len, i, &mm) || hh > 23 || mm > 59)
        return false;
    t->zoned = true;
    t->zone_ms = (int32_t)((hh * 60 + mm) * 60000);
    if (c == '-')
        t->zone_ms = -t->zone_ms;
    return true;
}

static int s_parse_iso(const char *s, size_t len, s_tm_t *t)
{
    size_t i = 0;
    /* ISO-8601 writes years beyond 0000..9999 with a sign and more digits:
     * such text is well-formed but out of range. */
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        t->year_out = true;
        i++;
    }
    size_t y0 = i;
    unsigned dg;
    int64_t y = 0;
    while (i < len && i - y0 < 18 && s_digit(s[i], &dg)) {
        y = y * 10 + dg;
        i++;
    }
    if (i - y0 < 4)
        return WEIR_EINVAL;
    if (i - y0 > 4)
        t->year_out = true;
    t->year = y;
    if (i >= len || s[i++] != '-' || !s_two(s, len, &i, &t->mon) || i >= len || s[i++] != '-' ||
        !s_two(s, len, &i, &t->day))
        return WEIR_EINVAL;
    if (i == len)
        return 0; /* date only: midnight */
    if (s[i] != 'T' && s[i] != ' ')
        return WEIR_EINVAL;
    i++;
    if (!s_two(s, len, &i, &t->hour) || i >= len || s[i++] != ':' || !s_two(s, len, &i, &t->min) ||
        i >= len || s[i++] != ':' || !s_two(s, len, &i, &t->sec))
        return WEIR_EINVAL;
    if (i < len && s[i] == '.') {
        i++;
        if (!s_fraction(s, len, &i, &t->ms))
            return WEIR_EINVAL;
    }
    if (i < len && !s_zone(s, len, &i, t))
        return WEIR_EINVAL;
    return i == len ? 0 : WEIR_EINVAL;
}

static int s_parse_pattern(const char *s, size_t len, const char *pat, s_tm_t *t)
{
    if (!pat)
        return WEIR_EINVAL;
    size_t i = 0;
    for (const char *p = pat; *p; p++) {
        if (*p != '%') {
            if (i >= len || s[i] != *p)
                return WEIR_EINVAL;
            i++;
            continue;
        }
        bool ok;
        switch (*++p) {
        case 'Y': ok = s_four(s, len, &i, &t->year); break;
        case 'm': ok = s_two(s, len, &i, &t->mon); break;
        case 'd': ok = s_two(s, len, &i, &t->day); break;
        case 'H': ok = s_two(s, len, &i, &t->hour); break;
        case 'M': ok = s_two(s, len, &i, &t->min); break;
        case 'S': ok = s_two(s, len, &i, &t->sec); break;
        case 'f': ok = s_fraction(s, len, &i, &t->ms); break;
        case 'z': ok = s_zone(s, len, &i, t); break;
        case '%': ok = i < len && s[i++] == '%'; break;
        default: return WEIR_EINVAL; /* unknown directive, or '%' ending the pattern */
        }
        if (!ok)
            return WEIR_EINVAL;
    }
    return i == len ? 0 : WEIR_EINVAL;
}

/* Validates the civil fields and turns them into UTC milliseconds. */
static int s_compose(const s_tm_t *t, int32_t tz_offset_ms, int64_t *out_ms)
{
    if (t->mon < 1 || t->mon > 12 || t->day < 1 || t->day > s_days_in_month(t->year, t->mon) ||
        t->hour > 23 || t->min > 59 || t->sec > 59)
        return WEIR_EINVAL;
    if (t->year_out)
        return WEIR_ERANGE;
    int64_t days = weir_days_from_civil(t->year, t->mon, t->day);
    int64_t ms = ((days * 24 + t->hour) * 60 + t->min) * 60 + t->sec;
    ms = ms * 1000 + t->ms;
    ms -= t->zoned ? t->zone_ms : tz_offset_ms;
    if (ms < S_MIN_MS || ms > S_MAX_MS)
        return WEIR_ERANGE;
    *out_ms = ms;
    return 0;
}

/* Optional sign and 1..19 digits. */
static int s_parse_epoch_ms(const char *s, size_t len, int64_t *out_ms)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == len)
        return WEIR_EINVAL;
    uint64_t v = 0;
    bool big = false;
    for (unsigned dg; i < len; i++) {
        if (!s_digit(s[i], &dg))
            return WEIR_EINVAL;
        if (v > UINT64_C(1) << 60)
            big = true; /* keep validating the syntax; the value is out of range */
        else
            v = v * 10 + dg;
    }
    if (big || v > (uint64_t)S_MAX_MS + 1)
        return WEIR_ERANGE;
    int64_t ms = neg ? -(int64_t)v : (int64_t)v;
    if (ms < S_MIN_MS || ms > S_MAX_MS)
        return WEIR_ERANGE;
    *out_ms = ms;
    return 0;
}

/* [sign] digits [. digits] [(e|E) [sign] digits], at least one mantissa
 * digit: the decimal subset of what Python's float() reads. */
static int s_parse_epoch_s(const char *s, size_t len, int64_t *out_ms)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    unsigned dg;
    size_t n_int = 0, n_frac = 0;
    int64_t whole = 0, frac = 0;
    while (i < len && s_digit(s[i], &dg)) {
        if (n_int < 18)
            whole = whole * 10 + dg;
        n_int++;
        i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s_digit(s[i], &dg)) {
            if (n_frac < 18)
                frac = frac * 10 + dg;
            n_frac++;
            i++;
        }
    }
    if (n_int + n_frac == 0)
        return WEIR_EINVAL;
    bool has_exp = false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        has_exp = true;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e0 = i;
        while (i < len && s_digit(s[i], &dg))
            i++;
        if (i == e0)
            return WEIR_EINVAL;
    }
    if (i != len)
        return WEIR_EINVAL;
    int64_t ms;
    if (!has_exp && n_frac <= 3 && n_int <= 15) {
        /* Exact: below 2^50 ms, float(text) * 1000 is within 0.25 of the
         * integer it names, so Python's rounding lands on it too. */
        for (size_t k = n_frac; k < 3; k++)
            frac *= 10;
        ms = whole * 1000 + frac;
        if (neg)
            ms = -ms;
    } else {
        char buf[64];
        if (len >= sizeof buf)
            return WEIR_ERANGE; /* more digits than a double can tell apart */
        memcpy(buf, s, len);
        buf[len] = '\0';
        double v = nearbyint(strtod(buf, NULL) * 1000.0); /* ties to even, as round() */
        if (!(v >= (double)S_MIN_MS && v <= (double)S_MAX_MS))
            return WEIR_ERANGE;
        ms = (int64_t)v;
    }
    if (ms < S_MIN_MS || ms > S_MAX_MS)
        return WEIR_ERANGE;
    *out_ms = ms;
    return 0;
}

int weir_ts_parse(const char *s, size_t len, weir_ts_format_t fmt, const char *pattern,
                  int32_t tz_offset_ms, int64_t *out_ms)
{
    s_tm_t t = {.year = 1970, .mon = 1, .day = 1};
    int rc;
    switch (fmt) {
    case WEIR_TS_ISO8601: rc = s_parse_iso(s, len, &t); break;
    case WEIR_TS_PATTERN: rc = s_parse_pattern(s, len, pattern, &t); break;
    case WEIR_TS_EPOCH_MS: return s_parse_epoch_ms(s, len, out_ms);
    case WEIR_TS_EPOCH_S: return s_parse_epoch_s(s, len, out_ms);
    default: return WEIR_EINVAL;
    }
    if (rc)
        return rc;
    return s_compose(&t, tz_offset_ms, out_ms);
}

/* Writes v as at least `width` decimal digits at p; returns the end. */
static char *s_put_uint(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

void weir_ts_format_iso(int64_t ts_ms, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    int64_t days = ts_ms / S_MS_PER_DAY, rem = ts_ms % S_MS_PER_DAY;
    if (rem < 0) {
        rem += S_MS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    s_civil_from_days(days, &y, &m, &d);
    char tmp[48];
    char *p = tmp;
    if (y < 0 || y > 9999)
        *p++ = y < 0 ? '-' : '+'; /* ISO-8601 expanded year */
    p = s_put_uint(p, y < 0 ? (uint64_t)(-y) : (uint64_t)y, 4);
    *p++ = '-';
    p = s_put_uint(p, m, 2);
    *p++ = '-';
    p = s_put_uint(p, d, 2);
    *p++ = 'T';
    p = s_put_uint(p, (uint64_t)(rem / 3600000), 2);
    *p++ = ':';
    p = s_put_uint(p, (uint64_t)(rem / 60000 % 60), 2);
    *p++ = ':';
    p = s_put_uint(p, (uint64_t)(rem / 1000 % 60), 2);
    *p++ = '.';
    p = s_put_uint(p, (uint64_t)(rem % 1000), 3);
    *p++ = 'Z';
    size_t n = (size_t)(p - tmp);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}
