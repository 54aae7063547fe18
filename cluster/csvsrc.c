/* csvsrc: one split of an RFC 4180 CSV file, parsed into columnar batches.
 *
 * Problem: the source is the hot path of every file job (millions of rows
 * per second per core), several readers share one file without talking to
 * each other, and a malformed row must cost one bad-record entry, never the
 * job.
 *
 * Record boundaries. A record ends at the first LF that lies outside
 * quotes, and "outside quotes" is decided by parity alone: an LF is a
 * record end iff the number of '"' bytes between the start of the data
 * (the byte after the header) and the LF is even. For well-formed RFC 4180
 * this is the ordinary grammar (a doubled quote adds two); for malformed
 * text (a stray quote in an unquoted field) it is still one fixed rule, and
 * the record parser falls back to exactly that rule when it meets a quoting
 * error. That is the invariant that makes splits exact: the set of record
 * starts is a function of the file alone, a split counts the quotes before
 * its byte range to learn the parity at its start, and it owns the records
 * whose first byte lies in its range. Every record is therefore read by
 * exactly one split for any number of splits, at the price of each split
 * scanning the bytes before it once at open (8 bytes at a time: about
 * 3 GB/s on the 2-core test machine, so split 7 of 8 of a 1 GB file waits
 * about 0.3 s before its first row).
 *
 * Within a record: fields are separated by ','; a field that starts with
 * '"' is quoted, may hold ',', CR and LF, and "" stands for one quote; a
 * CR right before the ending LF (or at end of file) is not data, a CR
 * elsewhere is. An empty field, quoted or not, is NULL for every type. An
 * empty line (LF or CRLF alone) is skipped. Schema columns are found by
 * header name (first match); other columns are skipped without conversion.
 * Values: int64 (sign, digits; overflow is a bad row), double (the decimal
 * syntax of strtod, finite, whole field), bool (true/false/1/0, any case),
 * string (unquoted bytes), timestamp (timefmt). Nothing is trimmed. A bad
 * row reports one reason: a quoting error first, else a wrong field count,
 * else the first bad value.
 *
 * Costs: the file is mmap'ed once; a row costs one pass over its bytes,
 * allocates nothing (string bytes go into the batch blob, which grows
 * rarely) and makes no system call. Doubles use an exact fast path
 * (at most 19 digits, power of ten at most 22: one IEEE multiply or divide,
 * correctly rounded) and fall back to strtod on a stack copy. Measured:
 * 4 to 6 M rows/s on one core for 18-column taxi rows of which 4 are used
 * (96 MB, 1 M rows, ISO or pattern timestamps, the machine shared).
 *
 * Rejected: stdio line reading (a copy and a call per line, and lines are
 * not records when quoted fields hold newlines); starting a split at "the
 * next newline" (wrong inside quoted newlines, and two readers could both
 * read or both skip a record); resynchronising with heuristics on the
 * field count (not exact).
 */
#include "csvsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "timefmt.h"

/* Bound on header columns, checked before anything is allocated. */
#define S_MAX_HEADER_COLS 65536
/* Longest value quoted in a bad-row reason. */
#define S_REASON_VALUE_MAX 64

typedef unsigned char uchar;

struct weir_csvsrc {
    const weir_job_t *job; /* borrowed; outlives the reader */
    const uchar *map;      /* the whole file, read-only; NULL when empty */
    size_t size;           /* file bytes */
    size_t lo, hi;         /* the split: absolute offsets, data start <= lo <= hi <= size */
    size_t pos;            /* start of the next record (absolute); may pass hi */
    uint64_t line;         /* 1-based line number of the byte at pos */
    bool eof;              /* pos >= hi: the split is exhausted */
    int n_hdr;             /* fields of the header, 1..S_MAX_HEADER_COLS */
    int16_t *col_of;       /* n_hdr entries: schema field index, or -1 (skipped) */
    char **hdr_name;       /* n_hdr NUL-terminated header names (for reasons) */
    char *hdr_buf;         /* storage of the names */
    size_t released;       /* bytes [0, released) of the map given back to the kernel */
    /* follow: true (tail the file). hi is then the end of the last complete
     * record seen (after an LF outside quotes); the file descriptor stays
     * open to notice growth; bytes [data, scanned) have been scanned for
     * quote parity (quote_odd: parity at scanned). */
    bool follow;
    int fd;
    size_t data, scanned;
    bool quote_odd;
    dev_t dev; /* the followed file, to notice it replaced or deleted */
    ino_t ino;
    uint8_t seen[64]; /* the bytes before hi at the last look: a rewrite changes them */
    size_t seen_len;
    const char *stale; /* why the followed file can no longer be read */
};

/* Gives the pages of the map before `upto` back to the kernel, in steps of
 * at least 8 MiB: they were read and are not needed again (a later touch
 * would only fault them in from the file again). Without this a reader's
 * resident memory grows with the size of its file. */
static void s_release(weir_csvsrc_t *s, size_t upto, bool force)
{
    size_t page = 4096;
    size_t at = upto & ~(page - 1);
    if (at <= s->released || (!force && at - s->released < (8u << 20)))
        return;
    madvise((void *)(s->map + s->released), at - s->released, MADV_DONTNEED);
    s->released = at;
}

/* ---- fields ---------------------------------------------------------- */

/* How a field ended. */
enum {
    S_F_COMMA,        /* another field follows; *pp is after the ',' */
    S_F_EOR,          /* last field; *pp is at the ending LF or at the end */
    S_F_STRAY_QUOTE,  /* '"' inside an unquoted field; *pp is at it */
    S_F_AFTER_QUOTE,  /* a closing quote not followed by ',' or the end; *pp is after it */
    S_F_UNTERMINATED, /* the file ends inside quotes */
};

typedef struct {
    const uchar *s, *e; /* value bytes; for a quoted field the bytes between the quotes */
    uint32_t n_lf;      /* LFs inside the quotes (line counting) */
    bool quoted;
    bool dq; /* holds doubled quotes, which still need undoubling */
} s_field_t;

/* Bytes that end an unquoted run. */
static const uint8_t s_special[256] = {[','] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1};

/* High bit of each byte of x that equals c; exact (no false positives). */
static inline uint64_t s_byte_eq(uint64_t x, uchar c)
{
    const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    uint64_t t = x ^ (UINT64_C(0x0101010101010101) * c);
    return ~(((t & low7) + low7) | t) & ~low7;
}

/* Reads the field at *pp. Every return leaves the quote parity counted
 * from the record start even at *pp, except S_F_UNTERMINATED. */
static inline __attribute__((always_inline)) int s_field(const uchar **pp, const uchar *end,
                                                         s_field_t *f)
{
    const uchar *p = *pp;
    f->n_lf = 0;
    f->dq = false;
    if (p < end && *p == '"') {
        f->quoted = true;
        f->s = ++p;
        for (;;) {
            while (p < end && *p != '"') {
                f->n_lf += *p == '\n';
                p++;
            }
            if (p == end) {
                f->e = end;
                *pp = end;
                return S_F_UNTERMINATED;
            }
            if (p + 1 < end && p[1] == '"') {
                f->dq = true;
                p += 2;
                continue;
            }
            break;
        }
        f->e = p++;
        if (p == end || *p == '\n') {
            *pp = p;
            return S_F_EOR;
        }
        if (*p == ',') {
            *pp = p + 1;
            return S_F_COMMA;
        }
        if (*p == '\r' && (p + 1 == end || p[1] == '\n')) {
            *pp = p + 1;
            return S_F_EOR;
        }
        *pp = p;
        return S_F_AFTER_QUOTE;
    }
    f->quoted = false;
    f->s = p;
    for (;;) {
        while (p < end && !s_special[*p])
            p++;
        if (p == end || *p == '\n') {
            f->e = p;
            *pp = p;
            return S_F_EOR;
        }
        if (*p == ',') {
            f->e = p;
            *pp = p + 1;
            return S_F_COMMA;
        }
        if (*p == '"') {
            f->e = p;
            *pp = p;
            return S_F_STRAY_QUOTE;
        }
        /* CR: the end of the record only right before LF or the end */
        if (p + 1 == end || p[1] == '\n') {
            f->e = p;
            *pp = p + 1;
            return S_F_EOR;
        }
        p++;
    }
}

/* From p, with quote parity `odd`, finds the LF that ends the record (the
 * first LF at even parity) or the end; counts the LFs passed on the way. */
static const uchar *s_record_end(const uchar *p, const uchar *end, bool odd, uint64_t *n_lf)
{
    for (;;) {
        if (odd) {
            const uchar *q = memchr(p, '"', (size_t)(end - p));
            if (!q)
                break;
            for (; p < q; p++)
                *n_lf += *p == '\n';
            p = q + 1;
        }
        for (; p < end && *p != '"'; p++)
            if (*p == '\n')
                return p;
        if (p == end)
            return end;
        p++;
        odd = true;
    }
    for (; p < end; p++)
        *n_lf += *p == '\n';
    return end;
}

/* Counts '"' and LF bytes of p[0..n), eight bytes at a time. */
static void s_count_quotes_lfs(const uchar *p, size_t n, uint64_t *quotes, uint64_t *lfs)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    const uint64_t lanes16 = UINT64_C(0x00ff00ff00ff00ff);
    uint64_t nq = 0, nl = 0;
    while (n >= 8) {
        /* Per-byte counters in one word; a lane holds at most 255. */
        uint64_t aq = 0, al = 0;
        size_t words = n / 8 > 255 ? 255 : n / 8;
        for (size_t w = 0; w < words; w++, p += 8) {
            uint64_t x, tq, tl;
            memcpy(&x, p, 8);
            tq = x ^ (ones * '"');
            tl = x ^ (ones * '\n');
            /* high bit of a byte of ((t & 0x7f) + 0x7f) | t is set iff t's byte is non-zero */
            aq += (~(((tq & low7) + low7) | tq) >> 7) & ones;
            al += (~(((tl & low7) + low7) | tl) >> 7) & ones;
        }
        n -= words * 8;
        aq = (aq & lanes16) + ((aq >> 8) & lanes16);
        al = (al & lanes16) + ((al >> 8) & lanes16);
        nq += (aq * UINT64_C(0x0001000100010001)) >> 48;
        nl += (al * UINT64_C(0x0001000100010001)) >> 48;
    }
    for (; n; n--, p++) {
        nq += *p == '"';
        nl += *p == '\n';
    }
    *quotes += nq;
    *lfs += nl;
}

/* ---- values ---------------------------------------------------------- */

enum {
    S_V_OK,
    S_V_NOT_INT,
    S_V_INT_RANGE,
    S_V_NOT_NUM,
    S_V_NUM_RANGE,
    S_V_NOT_BOOL,
    S_V_NOT_TS,
    S_V_TS_RANGE,
    S_V_TS_NULL,
    S_V_TOO_LONG,
    S_V_NOMEM,
};

static int s_parse_i64(const uchar *s, const uchar *e, int64_t *out)
{
    bool neg = false;
    if (s < e && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    if (s == e)
        return S_V_NOT_INT;
    uint64_t v = 0;
    size_t n = (size_t)(e - s);
    for (const uchar *p = s; p < e; p++) {
        unsigned d = (unsigned)*p - '0';
        if (d > 9)
            return S_V_NOT_INT;
        v = v * 10 + d; /* wraps only past 19 digits, which are rejected below */
    }
    while (n > 1 && *s == '0') {
        s++;
        n--;
    }
    if (n > 19 || v > (uint64_t)INT64_MAX + neg)
        return S_V_INT_RANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return S_V_OK;
}

static const double s_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int s_parse_f64(const uchar *s, const uchar *e, double *out)
{
    char buf[352];
    if ((size_t)(e - s) >= sizeof buf)
        return S_V_NOT_NUM; /* bounds the digit counts below */
    const uchar *p = s;
    bool neg = false;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    uint64_t m = 0;
    int n_dig = 0, n_frac = 0;
    unsigned d;
    for (; p < e && (d = (unsigned)*p - '0') <= 9; p++, n_dig++)
        m = m * 10 + d;
    if (p < e && *p == '.')
        for (p++; p < e && (d = (unsigned)*p - '0') <= 9; p++, n_dig++, n_frac++)
            m = m * 10 + d;
    if (n_dig == 0)
        return S_V_NOT_NUM;
    int exp10 = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        const uchar *e0 = p;
        for (; p < e && (d = (unsigned)*p - '0') <= 9; p++)
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (int)d;
        if (p == e0)
            return S_V_NOT_NUM;
        if (eneg)
            exp10 = -exp10;
    }
    if (p != e)
        return S_V_NOT_NUM;
    exp10 -= n_frac;
    if (n_dig <= 19 && m <= UINT64_C(1) << 53 && exp10 >= -22 && exp10 <= 22) {
        /* m and 10^|exp10| are exact doubles: one correctly rounded operation */
        double v = (double)m;
        v = exp10 < 0 ? v / s_pow10[-exp10] : v * s_pow10[exp10];
        *out = neg ? -v : v;
        return S_V_OK;
    }
    size_t n = (size_t)(e - s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    double v = strtod(buf, NULL); /* the syntax was checked: it reads all of buf */
    if (!isfinite(v))
        return S_V_NUM_RANGE;
    *out = v;
    return S_V_OK;
}

static int s_parse_bool(const uchar *s, const uchar *e, int64_t *out)
{
    size_t n = (size_t)(e - s);
    if (n == 1 && (*s == '0' || *s == '1')) {
        *out = *s == '1';
        return S_V_OK;
    }
    char low[5];
    if (n != 4 && n != 5)
        return S_V_NOT_BOOL;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(s[i] | 0x20); /* ASCII lower case for letters */
    if (n == 4 && memcmp(low, "true", 4) == 0) {
        *out = 1;
        return S_V_OK;
    }
    if (n == 5 && memcmp(low, "false", 5) == 0) {
        *out = 0;
        return S_V_OK;
    }
    return S_V_NOT_BOOL;
}

/* Puts field f into column col of the row being written. */
static inline int s_put(weir_batch_t *b, int col, const weir_field_t *fd, const s_field_t *f,
                        int32_t tz_offset_ms, int64_t *ts_ms)
{
    if (f->s == f->e) {
        weir_batch_put_null(b, col);
        return S_V_OK;
    }
    int64_t i;
    double x;
    int rc;
    switch (fd->type) {
    case WEIR_TYPE_INT64:
        if ((rc = s_parse_i64(f->s, f->e, &i)) != S_V_OK)
            return rc;
        weir_batch_put_i64(b, col, i);
        return S_V_OK;
    case WEIR_TYPE_DOUBLE:
        if ((rc = s_parse_f64(f->s, f->e, &x)) != S_V_OK)
            return rc;
        weir_batch_put_f64(b, col, x);
        return S_V_OK;
    case WEIR_TYPE_BOOL:
        if ((rc = s_parse_bool(f->s, f->e, &i)) != S_V_OK)
            return rc;
        weir_batch_put_i64(b, col, i);
        return S_V_OK;
    case WEIR_TYPE_TIMESTAMP:
        rc = weir_ts_parse((const char *)f->s, (size_t)(f->e - f->s), fd->ts_format, fd->ts_pattern,
                           tz_offset_ms, &i);
        if (rc)
            return rc == WEIR_ERANGE ? S_V_TS_RANGE : S_V_NOT_TS;
        weir_batch_put_i64(b, col, i);
        *ts_ms = i;
        return S_V_OK;
    case WEIR_TYPE_STRING:
    default: {
        if (f->e - f->s > INT32_MAX)
            return S_V_TOO_LONG; /* a batch blob holds less */
        if (weir_batch_put_str(b, col, (const char *)f->s, (uint32_t)(f->e - f->s)))
            return S_V_NOMEM;
        if (f->dq) {
            /* Undouble in place: the batch's blob is public, and the value
             * only shrinks. */
            weir_column_t *c = &b->cols[col];
            char *v = c->blob + c->off[b->n_rows], *w = v;
            const char *r = v, *re = c->blob + c->off[b->n_rows + 1];
            while (r < re) {
                char ch = *r++;
                *w++ = ch;
                if (ch == '"')
                    r++;
            }
            c->off[b->n_rows + 1] = (uint32_t)(w - c->blob);
        }
        return S_V_OK;
    }
    }
}

/* ---- reasons --------------------------------------------------------- */

static void s_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    if (!buf || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

static const char *s_col_name(const weir_csvsrc_t *s, int field, char *tmp, size_t cap)
{
    if (field < s->n_hdr)
        return s->hdr_name[field];
    snprintf(tmp, cap, "#%d", field + 1);
    return tmp;
}

static void s_value_reason(const weir_csvsrc_t *s, int field, int kind, const s_field_t *f,
                           char *buf, size_t cap)
{
    static const char *const what[] = {
        [S_V_NOT_INT] = "is not an integer",
        [S_V_INT_RANGE] = "is out of range for int64",
        [S_V_NOT_NUM] = "is not a number",
        [S_V_NUM_RANGE] = "is out of range for double",
        [S_V_NOT_BOOL] = "is not a boolean (true, false, 1, 0)",
        [S_V_NOT_TS] = "is not a valid timestamp",
        [S_V_TS_RANGE] = "is out of range (years 0000..9999)",
        [S_V_TOO_LONG] = "is longer than 2 GiB",
    };
    char tmp[16];
    const char *name = s_col_name(s, field, tmp, sizeof tmp);
    if (kind == S_V_TS_NULL) {
        s_fmt(buf, cap, "column %s: event time is empty", name);
        return;
    }
    size_t n = (size_t)(f->e - f->s);
    s_fmt(buf, cap, "column %s: '%.*s%s' %s", name,
          (int)(n > S_REASON_VALUE_MAX ? S_REASON_VALUE_MAX : n), (const char *)f->s,
          n > S_REASON_VALUE_MAX ? "..." : "", what[kind]);
}

/* ---- reading --------------------------------------------------------- */

/* Outcome of one record. */
enum { S_R_ROW, S_R_SKIP, S_R_BAD, S_R_NOMEM };

/* The row being parsed. */
typedef struct {
    int field;        /* fields seen so far */
    int verr;         /* first value error (S_V_*), S_V_OK if none */
    int verr_field;   /* its field index */
    s_field_t verr_f; /* its value */
    bool have_ts;     /* the event time was read */
    int64_t ts_ms;
} s_row_t;

/* Takes the next field of the row: converts it into the batch if the
 * schema uses it and the row is still good. 0, or -1 when memory ran out. */
static inline __attribute__((always_inline)) int s_take(const weir_csvsrc_t *s, weir_batch_t *b,
                                                        s_row_t *r, const s_field_t *f)
{
    int field = r->field++;
    if (field >= s->n_hdr || s->col_of[field] < 0 || r->verr != S_V_OK)
        return 0;
    const weir_source_t *src = &s->job->source;
    int col = s->col_of[field];
    int64_t t = 0;
    int v = s_put(b, col, &src->fields[col], f, src->tz_offset_ms, &t);
    if (v == S_V_OK && col == src->event_time_col) {
        r->ts_ms = t;
        r->have_ts = f->s != f->e;
        if (!r->have_ts)
            v = S_V_TS_NULL;
    }
    if (v == S_V_NOMEM)
        return -1;
    if (v != S_V_OK) {
        r->verr = v;
        r->verr_field = field;
        r->verr_f = *f;
    }
    return 0;
}

/* High bits of the bytes of the 8 at p (fewer before end) that are ',',
 * LF or '"'. A CR needs no bit: it is data unless an LF or the end follows,
 * and then the field just ends one byte early. */
static inline uint64_t s_delims(const uchar *p, const uchar *end)
{
    uint64_t x = 0;
    if (end - p >= 8)
        memcpy(&x, p, 8);
    else
        memcpy(&x, p, (size_t)(end - p)); /* zero bytes match nothing */
    return s_byte_eq(x, ',') | s_byte_eq(x, '\n') | s_byte_eq(x, '"');
}

/* Parses the record at s->pos into the row being written, and moves s->pos
 * and s->line past it unless memory ran out.
 *
 * Unquoted fields are cut with a bit mask of the delimiters of 8 bytes at a
 * time; the word loads do not depend on where the previous field ended, so
 * the CPU overlaps them, and the branch per field is predictable. A quoted
 * field goes through s_field, then the mask scan resumes after it. */
static int s_record(weir_csvsrc_t *s, weir_batch_t *b, weir_bad_row_fn bad, void *ctx)
{
    const uchar *const end = s->map + s->size, *const rec = s->map + s->pos;
    if (*rec == '\n' || (*rec == '\r' && (rec + 1 == end || rec[1] == '\n'))) {
        s->pos += (size_t)(*rec == '\n' ? 1 : rec + 1 == end ? 1 : 2);
        s->line++;
        return S_R_SKIP; /* empty line */
    }
    /* A job without an event time (a pass-through) stamps its rows 0. */
    s_row_t r = {.verr = S_V_OK, .have_ts = s->job->source.event_time_col < 0};
    uint64_t n_lf = 0;
    int ferr = 0;
    const uchar *term; /* the ending LF, or end */
    s_field_t f = {.s = rec};
    const uchar *base = rec;
    uint64_t m;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    m = s_delims(base, end);
    for (;;) {
        const uchar *q;
        for (;;) {
            if (m) {
                q = base + (__builtin_ctzll(m) >> 3);
                m &= m - 1;
                break;
            }
            base += 8;
            if (base >= end) {
                q = end;
                break;
            }
            m = s_delims(base, end);
        }
        if (q < end && *q == ',') {
            f.e = q;
            if (s_take(s, b, &r, &f))
                goto nomem;
            f.s = q + 1;
            continue;
        }
        if (q == end || *q == '\n') {
            f.e = q > f.s && q[-1] == '\r' ? q - 1 : q;
            if (s_take(s, b, &r, &f))
                goto nomem;
            term = q;
            break;
        }
        if (q != f.s) {
            ferr = S_F_STRAY_QUOTE;
            term = s_record_end(q, end, false, &n_lf);
            break;
        }
        const uchar *p = q;
        int how = s_field(&p, end, &f);
        n_lf += f.n_lf;
        if (how >= S_F_STRAY_QUOTE) {
            ferr = how;
            term = how == S_F_UNTERMINATED ? end : s_record_end(p, end, false, &n_lf);
            break;
        }
        if (s_take(s, b, &r, &f))
            goto nomem;
        if (how == S_F_EOR) {
            term = p;
            break;
        }
        f = (s_field_t){.s = p};
        base = p;
        m = s_delims(base, end);
    }
#else
    (void)base;
    (void)m;
    for (const uchar *p = rec;;) {
        int how = s_field(&p, end, &f);
        n_lf += f.n_lf;
        if (how >= S_F_STRAY_QUOTE) {
            ferr = how;
            term = how == S_F_UNTERMINATED ? end : s_record_end(p, end, false, &n_lf);
            break;
        }
        if (s_take(s, b, &r, &f))
            goto nomem;
        if (how == S_F_EOR) {
            term = p;
            break;
        }
    }
#endif
    uint64_t line = s->line;
    s->pos = (size_t)(term - s->map) + (term < end);
    s->line += n_lf + (term < end);
    if (!ferr && r.field == s->n_hdr && r.verr == S_V_OK && r.have_ts) {
        weir_batch_commit_row(b, r.ts_ms);
        return S_R_ROW;
    }
    weir_batch_abort_row(b);
    char reason[256], tmp[16];
    const char *name = s_col_name(s, r.field, tmp, sizeof tmp);
    if (ferr == S_F_UNTERMINATED)
        s_fmt(reason, sizeof reason, "column %s: quoted field not closed before end of file", name);
    else if (ferr == S_F_STRAY_QUOTE)
        s_fmt(reason, sizeof reason, "column %s: '\"' inside an unquoted field", name);
    else if (ferr == S_F_AFTER_QUOTE)
        s_fmt(reason, sizeof reason, "column %s: text after the closing quote", name);
    else if (r.field != s->n_hdr)
        s_fmt(reason, sizeof reason, "record has %d fields, the header has %d", r.field, s->n_hdr);
    else
        s_value_reason(s, r.verr_field, r.verr == S_V_OK ? S_V_TS_NULL : r.verr, &r.verr_f, reason,
                       sizeof reason);
    if (bad) {
        const uchar *raw_end = term;
        if (ferr != S_F_UNTERMINATED && raw_end > rec && raw_end[-1] == '\r')
            raw_end--;
        bad(ctx, line, reason, (const char *)rec, (size_t)(raw_end - rec));
    }
    return S_R_BAD;
nomem:
    weir_batch_abort_row(b);
    return S_R_NOMEM;
}

/* follow: moves hi to the end of the last complete record in
 * [scanned, size), tracking quote parity from the start of the data. */
static void s_follow_scan(weir_csvsrc_t *s)
{
    bool odd = s->quote_odd;
    size_t last = 0;
    for (size_t i = s->scanned; i < s->size; i++) {
        uchar c = s->map[i];
        if (c == '"')
            odd = !odd;
        else if (c == '\n' && !odd)
            last = i + 1;
    }
    s->quote_odd = odd;
    s->scanned = s->size;
    if (last > s->hi)
        s->hi = last;
    size_t n = s->hi - s->data < sizeof s->seen ? s->hi - s->data : sizeof s->seen;
    memcpy(s->seen, s->map + s->hi - n, n);
    s->seen_len = n;
}

/* follow: maps what was appended since the last look. 0, -errno, or
 * WEIR_ESTALE when the file got shorter (truncated or replaced in place). */
static int s_follow_grow(weir_csvsrc_t *s)
{
    struct stat st, at_path;
    if (fstat(s->fd, &st) != 0)
        return -errno;
    size_t now = (size_t)st.st_size;
    if (now < s->size) {
        s->stale = "got shorter (truncated or rewritten in place)";
        return WEIR_ESTALE;
    }
    /* The name must still lead to the file being read: a rotated,
     * recreated or deleted file is not followed silently. */
    if (stat(s->job->source.path, &at_path) != 0) {
        s->stale = "was deleted";
        return WEIR_ESTALE;
    }
    if (at_path.st_dev != s->dev || at_path.st_ino != s->ino) {
        s->stale = "was replaced by another file (rotated or recreated)";
        return WEIR_ESTALE;
    }
    if (s->seen_len &&
        memcmp(s->map + s->hi - s->seen_len, s->seen, s->seen_len) != 0) {
        s->stale = "was rewritten in place (bytes already read changed)";
        return WEIR_ESTALE;
    }
    if (now == s->size)
        return 0;
    void *m = mremap((void *)s->map, s->size, now, MREMAP_MAYMOVE);
    if (m == MAP_FAILED)
        return -errno;
    s->map = m;
    s->size = now;
    s_follow_scan(s);
    return 0;
}

void weir_csvsrc_position(const weir_csvsrc_t *s, uint64_t *offset, uint64_t *line)
{
    *offset = s->pos;
    *line = s->line;
}

int weir_csvsrc_seek(weir_csvsrc_t *s, uint64_t offset, uint64_t line)
{
    if (s->follow && offset > s->hi)
        s_follow_grow(s); /* the file may have grown since the position was taken */
    /* A record starts at the split's start or right after an LF. */
    if (offset < s->lo || offset > s->size || offset > (s->follow ? s->hi : s->size) ||
        (offset > s->lo && s->map[offset - 1] != '\n') || line == 0)
        return WEIR_EINVAL;
    s->pos = (size_t)offset;
    s->line = line;
    s->eof = s->pos >= s->hi && !s->follow;
    s_release(s, s->pos, true);
    return 0;
}

const char *weir_csvsrc_stale_reason(const weir_csvsrc_t *s)
{
    return s->stale ? s->stale : "changed";
}

size_t weir_csvsrc_incomplete(const weir_csvsrc_t *s, const char **bytes, uint64_t *line)
{
    if (!s->follow || s->size <= s->hi)
        return 0;
    *bytes = (const char *)s->map + s->hi;
    *line = s->line;
    return s->size - s->hi;
}

bool weir_csvsrc_caught_up(const weir_csvsrc_t *s)
{
    return s->pos >= s->hi;
}

int weir_csvsrc_read(weir_csvsrc_t *s, weir_batch_t *b, uint32_t max_rows, size_t max_bytes,
                     weir_bad_row_fn bad, void *ctx, int *eof)
{
    uint32_t added = 0;
    if (s->follow && s->pos >= s->hi) {
        int rc = s_follow_grow(s);
        if (rc)
            return rc;
    }
    while (!s->eof && added < max_rows && !weir_batch_full(b)) {
        if (s->pos >= s->hi) {
            s->eof = !s->follow;
            break;
        }
        int r = s_record(s, b, bad, ctx);
        if (r == S_R_NOMEM)
            return -ENOMEM;
        if (r == S_R_ROW) {
            added++;
            if (weir_batch_bytes(b) >= max_bytes)
                break;
        }
    }
    if (s->pos >= s->hi && !s->follow)
        s->eof = true;
    *eof = s->eof;
    s_release(s, s->pos, false);
    return 0;
}

uint64_t weir_csvsrc_bytes_read(const weir_csvsrc_t *s)
{
    size_t at = s->pos < s->hi ? s->pos : s->hi;
    return at > s->lo ? at - s->lo : 0;
}

uint64_t weir_csvsrc_bytes_total(const weir_csvsrc_t *s)
{
    return s->hi - s->lo;
}

/* ---- opening --------------------------------------------------------- */

/* Reads the header record at *pp: fills the names and maps the schema.
 * Returns 0 or WEIR_EINVAL / -ENOMEM with err written. */
static int s_header(weir_csvsrc_t *s, const uchar **pp, char *err, size_t err_cap)
{
    const uchar *const end = s->map + s->size, *h0 = *pp, *p = h0;
    const char *path = s->job->source.path;
    s_field_t f;
    int n = 0, how;
    do {
        how = s_field(&p, end, &f);
        if (how >= S_F_STRAY_QUOTE) {
            s_fmt(err, err_cap, "%s line 1: malformed header (%s)", path,
                  how == S_F_UNTERMINATED  ? "quoted name not closed"
                  : how == S_F_STRAY_QUOTE ? "'\"' inside an unquoted name"
                                           : "text after a closing quote");
            return WEIR_EINVAL;
        }
        if (++n > S_MAX_HEADER_COLS) {
            s_fmt(err, err_cap, "%s line 1: header has more than %d columns", path,
                  S_MAX_HEADER_COLS);
            return WEIR_EINVAL;
        }
    } while (how == S_F_COMMA);
    const uchar *term = p;
    s->n_hdr = n;
    s->col_of = malloc((size_t)n * sizeof *s->col_of);
    s->hdr_name = malloc((size_t)n * sizeof *s->hdr_name);
    s->hdr_buf = malloc((size_t)(term - h0) + (size_t)n);
    if (!s->col_of || !s->hdr_name || !s->hdr_buf) {
        s_fmt(err, err_cap, "out of memory reading the header of %s", path);
        return -ENOMEM;
    }
    char *w = s->hdr_buf;
    p = h0;
    for (int i = 0; i < n; i++) {
        s_field(&p, end, &f);
        s->hdr_name[i] = w;
        s->col_of[i] = -1;
        for (const uchar *r = f.s; r < f.e; r++) {
            *w++ = (char)*r;
            if (*r == '"' && f.quoted)
                r++;
        }
        *w++ = '\0';
    }
    *pp = term < end ? term + 1 : end;

    const weir_source_t *src = &s->job->source;
    for (int c = 0; c < src->n_fields; c++) {
        int at = -1;
        for (int i = 0; i < n && at < 0; i++)
            if (strcmp(s->hdr_name[i], src->fields[c].name) == 0)
                at = i;
        if (at >= 0 && s->col_of[at] >= 0) {
            s_fmt(err, err_cap, "schema names column '%s' twice", src->fields[c].name);
            return WEIR_EINVAL;
        }
        if (at < 0) {
            size_t k = 0;
            if (err && err_cap) {
                k = (size_t)snprintf(err, err_cap, "column '%s' is not in the header of %s (",
                                     src->fields[c].name, path);
                for (int i = 0; i < n && k < err_cap; i++)
                    k += (size_t)snprintf(err + k, err_cap - k, "%s%s", i ? ", " : "",
                                          s->hdr_name[i]);
                if (k < err_cap)
                    snprintf(err + k, err_cap - k, ")");
            }
            return WEIR_EINVAL;
        }
        s->col_of[at] = (int16_t)c;
    }
    return 0;
}

/* Checks what the reader relies on in the job. */
static int s_check_job(const weir_job_t *job, int split, int n_splits, char *err, size_t err_cap)
{
    const weir_source_t *src = &job->source;
    if (n_splits < 1 || split < 0 || split >= n_splits) {
        s_fmt(err, err_cap, "split %d of %d does not exist", split, n_splits);
        return WEIR_EINVAL;
    }
    if (src->n_fields < 1 || src->n_fields > WEIR_MAX_COLS) {
        s_fmt(err, err_cap, "the schema has %d columns (1..%d)", src->n_fields, WEIR_MAX_COLS);
        return WEIR_EINVAL;
    }
    if ((src->event_time_col < 0 && job->window.type != WEIR_WINDOW_NONE) ||
        src->event_time_col >= src->n_fields ||
        (src->event_time_col >= 0 &&
         src->fields[src->event_time_col].type != WEIR_TYPE_TIMESTAMP)) {
        s_fmt(err, err_cap, "the event-time column is not a timestamp column of the schema");
        return WEIR_EINVAL;
    }
    for (int c = 0; c < src->n_fields; c++) {
        const weir_field_t *fd = &src->fields[c];
        if (fd->type < WEIR_TYPE_INT64 || fd->type > WEIR_TYPE_TIMESTAMP) {
            s_fmt(err, err_cap, "column '%s' has no valid type", fd->name);
            return WEIR_EINVAL;
        }
        if (fd->type == WEIR_TYPE_TIMESTAMP &&
            (fd->ts_format < WEIR_TS_ISO8601 || fd->ts_format > WEIR_TS_PATTERN)) {
            s_fmt(err, err_cap, "column '%s' has no valid timestamp format", fd->name);
            return WEIR_EINVAL;
        }
    }
    return 0;
}

int weir_csvsrc_open(const weir_job_t *job, int split, int n_splits, weir_csvsrc_t **out, char *err,
                     size_t err_cap)
{
    int rc = s_check_job(job, split, n_splits, err, err_cap);
    if (rc)
        return rc;
    const char *path = job->source.path;
    weir_csvsrc_t *s = calloc(1, sizeof *s);
    if (!s) {
        s_fmt(err, err_cap, "out of memory opening %s", path);
        return -ENOMEM;
    }
    s->job = job;
    s->fd = -1;
    s->follow = job->source.follow;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        s_fmt(err, err_cap, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        s_fmt(err, err_cap, "cannot stat %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : WEIR_EINVAL;
        s_fmt(err, err_cap, "%s is not a regular file", path);
        goto fail;
    }
    if (st.st_size == 0) {
        rc = WEIR_EINVAL;
        s_fmt(err, err_cap, "%s is empty: a CSV source needs a header row", path);
        goto fail;
    }
    s->size = (size_t)st.st_size;
    /* Shared when following, so that what is appended to a page already
     * mapped is certainly seen. */
    void *m = mmap(NULL, s->size, PROT_READ, s->follow ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        rc = -errno;
        s_fmt(err, err_cap, "cannot map %s: %s", path, strerror(errno));
        goto fail;
    }
    if (s->follow) {
        s->fd = fd;
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    } else {
        close(fd);
    }
    fd = -1;
    s->map = m;
    madvise(m, s->size, MADV_SEQUENTIAL);

    const uchar *p = s->map, *end = s->map + s->size;
    if (s->size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* UTF-8 byte order mark */
    if ((rc = s_header(s, &p, err, err_cap)) != 0)
        goto fail;
    size_t data = (size_t)(p - s->map), dsize = s->size - data;
    uint64_t q = 0, lines = 0;
    s_count_quotes_lfs(s->map, data, &q, &lines);
    /* floor(dsize * i / n) without overflow */
    size_t per = dsize / (size_t)n_splits, rem = dsize % (size_t)n_splits;
    s->lo = data + per * (size_t)split + rem * (size_t)split / (size_t)n_splits;
    s->hi = data + per * (size_t)(split + 1) + rem * (size_t)(split + 1) / (size_t)n_splits;
    size_t start = s->lo;
    if (s->lo > data) {
        q = 0;
        /* In 8 MiB steps, giving the scanned pages back as it goes, so a
         * late split's resident memory does not peak at the file's size. */
        for (size_t at = data; at < s->lo;) {
            size_t n = s->lo - at < (8u << 20) ? s->lo - at : (8u << 20);
            s_count_quotes_lfs(s->map + at, n, &q, &lines);
            at += n;
            s_release(s, at, false);
        }
        if (!(s->map[s->lo - 1] == '\n' && q % 2 == 0)) {
            const uchar *t = s_record_end(s->map + s->lo, end, q % 2, &lines);
            start = (size_t)(t - s->map) + (t < end);
            lines += t < end;
        }
    }
    s->pos = start;
    s->line = 1 + lines;
    if (s->follow) { /* one split (the job file checks it): hi grows with the file */
        s->data = s->scanned = data;
        s->hi = data;
        s_follow_scan(s);
    }
    s->eof = s->pos >= s->hi && !s->follow;
    s_release(s, start, true); /* the quote-parity scan touched everything before */
    *out = s;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    weir_csvsrc_destroy(&s);
    return rc;
}

void weir_csvsrc_destroy(weir_csvsrc_t **ps)
{
    if (!ps || !*ps)
        return;
    weir_csvsrc_t *s = *ps;
    if (s->map)
        munmap((void *)s->map, s->size);
    if (s->fd >= 0)
        close(s->fd);
    free(s->col_of);
    free(s->hdr_name);
    free(s->hdr_buf);
    free(s);
    *ps = NULL;
}
