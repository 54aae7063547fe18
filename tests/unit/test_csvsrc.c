/* csvsrc: CSV files become columnar batches. Columns are found by header
 * name, quoted fields keep their commas, quotes and line breaks, empty
 * fields are NULL, bad rows go to the callback with their line and reason
 * and are skipped, reading stops at the row and byte limits, and the splits
 * of a file read every record exactly once, whatever the quoting. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "csvsrc.h"
#include "err.h"

/* ---- helpers ---------------------------------------------------------- */

/* A growing text buffer. */
typedef struct {
    char *p;
    size_t len, cap;
} s_buf_t;

static void s_add(s_buf_t *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b->p);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void s_addf(s_buf_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    s_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static const char *s_str(const s_buf_t *b)
{
    return b->p ? b->p : "";
}

static void s_free(s_buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Writes content to a new temporary file; the path lives in path[64]. */
static void s_write_file(char *path, const void *content, size_t len)
{
    strcpy(path, "/tmp/weir-csvsrc-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, content, len) == (ssize_t)len);
    close(fd);
}

/* Fills a job whose schema is "name=type;..." with types int64, double,
 * bool, string, iso, ms, s or pat:<pattern>; the first timestamp column is
 * the event time. */
static void s_job(weir_job_t *job, const char *path, const char *schema)
{
    memset(job, 0, sizeof *job);
    job->source.type = WEIR_SOURCE_FILE;
    job->source.format = WEIR_FORMAT_CSV;
    job->source.splits = 1;
    job->source.event_time_col = -1;
    snprintf(job->source.path, sizeof job->source.path, "%s", path);
    char spec[512];
    snprintf(spec, sizeof spec, "%s", schema);
    char *save = NULL;
    for (char *tok = strtok_r(spec, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        weir_field_t *f = &job->source.fields[job->source.n_fields++];
        char *eq = strchr(tok, '=');
        CU_ASSERT_PTR_NOT_NULL_FATAL(eq);
        *eq = '\0';
        snprintf(f->name, sizeof f->name, "%s", tok);
        const char *t = eq + 1;
        f->type = WEIR_TYPE_TIMESTAMP;
        if (strcmp(t, "int64") == 0)
            f->type = WEIR_TYPE_INT64;
        else if (strcmp(t, "double") == 0)
            f->type = WEIR_TYPE_DOUBLE;
        else if (strcmp(t, "bool") == 0)
            f->type = WEIR_TYPE_BOOL;
        else if (strcmp(t, "string") == 0)
            f->type = WEIR_TYPE_STRING;
        else if (strcmp(t, "iso") == 0)
            f->ts_format = WEIR_TS_ISO8601;
        else if (strcmp(t, "ms") == 0)
            f->ts_format = WEIR_TS_EPOCH_MS;
        else if (strcmp(t, "s") == 0)
            f->ts_format = WEIR_TS_EPOCH_S;
        else if (strncmp(t, "pat:", 4) == 0) {
            f->ts_format = WEIR_TS_PATTERN;
            snprintf(f->ts_pattern, sizeof f->ts_pattern, "%s", t + 4);
        } else
            CU_FAIL_FATAL("unknown type in test schema");
        if (f->type == WEIR_TYPE_TIMESTAMP && job->source.event_time_col < 0)
            job->source.event_time_col = job->source.n_fields - 1;
    }
}

/* What a read produced: one text line per row and per bad row. */
typedef struct {
    s_buf_t rows;
    s_buf_t bad;
    int n_rows, n_bad;
} s_out_t;

static void s_on_bad(void *ctx, uint64_t line, const char *reason, const char *raw, size_t len)
{
    s_out_t *o = ctx;
    s_addf(&o->bad, "%" PRIu64 ": %s [", line, reason);
    s_add(&o->bad, raw, len);
    s_add(&o->bad, "]\n", 2);
    o->n_bad++;
}

/* Appends rows [from, n_rows) of b as "v|v|...@ts\n"; NULL is "~". */
static void s_render(s_out_t *o, const weir_batch_t *b, uint32_t from)
{
    for (uint32_t r = from; r < b->n_rows; r++) {
        for (int c = 0; c < b->n_cols; c++) {
            const weir_column_t *col = &b->cols[c];
            if (c)
                s_add(&o->rows, "|", 1);
            if (col->null[r]) {
                s_add(&o->rows, "~", 1);
                continue;
            }
            switch (col->type) {
            case WEIR_TYPE_DOUBLE: s_addf(&o->rows, "%.17g", col->f64[r]); break;
            case WEIR_TYPE_STRING: {
                uint32_t len;
                const char *s = weir_batch_str(b, c, r, &len);
                s_add(&o->rows, "'", 1);
                s_add(&o->rows, s, len);
                s_add(&o->rows, "'", 1);
                break;
            }
            case WEIR_TYPE_BOOL: s_addf(&o->rows, "%s", col->i64[r] ? "T" : "F"); break;
            default: s_addf(&o->rows, "%" PRId64, col->i64[r]); break;
            }
        }
        s_addf(&o->rows, "@%" PRId64 "\n", b->ts_ms[r]);
        o->n_rows++;
    }
}

/* Reads split `split` of n to the end in batches of up to batch_rows rows. */
static int s_read_split(const weir_job_t *job, int split, int n, uint32_t batch_rows, s_out_t *o)
{
    weir_csvsrc_t *src = NULL;
    char err[256] = "";
    int rc = weir_csvsrc_open(job, split, n, &src, err, sizeof err);
    if (rc) {
        fprintf(stderr, "\nopen: %s\n", err);
        return rc;
    }
    weir_batch_t *b = weir_batch_new_for_job(job, batch_rows);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int eof = 0, rounds = 0;
    while (!eof && rounds++ < 1000000) {
        weir_batch_clear(b);
        rc = weir_csvsrc_read(src, b, batch_rows, SIZE_MAX, s_on_bad, o, &eof);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        s_render(o, b, 0);
    }
    CU_ASSERT_EQUAL(weir_csvsrc_bytes_read(src), weir_csvsrc_bytes_total(src));
    weir_batch_destroy(&b);
    weir_csvsrc_destroy(&src);
    CU_ASSERT_PTR_NULL(src);
    return 0;
}

/* Writes content to a file and reads it whole with one split. */
static int s_read_text(const char *content, size_t len, const char *schema, s_out_t *o)
{
    char path[64];
    weir_job_t job;
    s_write_file(path, content, len);
    s_job(&job, path, schema);
    int rc = s_read_split(&job, 0, 1, 3, o);
    unlink(path);
    return rc;
}

#define READ(text, schema, out) s_read_text(text, sizeof(text) - 1, schema, out)

static void s_out_free(s_out_t *o)
{
    s_free(&o->rows);
    s_free(&o->bad);
}

static void s_expect(const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n%s:\n--- got ---\n%s--- want ---\n%s---\n", what, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
}

/* ---- tests ------------------------------------------------------------ */

static void columns_are_found_by_header_name_and_typed(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("name,skip,ts,n,x,ok,extra\n"
                         "alpha,zz,2019-01-01 00:00:01,42,1.5,true,e\n"
                         "\"be,ta\",,2019-01-01T00:00:02Z,-7,-2.5e3,FALSE,\n"
                         ",q,1970-01-01,,,,\n"
                         "\"\",q,1970-01-01T00:00:00.001+00:00,+0,.25,1,x\n"
                         "d,q,1970-01-01,9223372036854775807,1e-400,0,x\n",
                         "ts=iso;n=int64;x=double;ok=bool;name=string", &o),
                    0);
    s_expect("rows", s_str(&o.rows),
             "1546300801000|42|1.5|T|'alpha'@1546300801000\n"
             "1546300802000|-7|-2500|F|'be,ta'@1546300802000\n"
             "0|~|~|~|~@0\n"
             "1|0|0.25|T|~@1\n"
             "0|9223372036854775807|0|F|'d'@0\n");
    CU_ASSERT_EQUAL(o.n_bad, 0);
    s_out_free(&o);
}

static void quoted_fields_keep_commas_quotes_and_line_breaks(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("id,ts,s\n"
                         "1,5,\"a,b\"\n"
                         "2,6,\"say \"\"hi\"\"\"\n"
                         "3,7,\"line1\nline2\"\n"
                         "4,8,\"cr\r\nlf\"\r\n"
                         "5,9,\"\"\n"
                         "6,10,\"lone\rcr\"\n"
                         "\"7\",\"11\",\"\"\"\"\n"
                         "8,12,plain\rcr\n"
                         "x,13,after the quoted newlines\n",
                         "id=int64;ts=ms;s=string", &o),
                    0);
    s_expect("rows", s_str(&o.rows),
             "1|5|'a,b'@5\n"
             "2|6|'say \"hi\"'@6\n"
             "3|7|'line1\nline2'@7\n"
             "4|8|'cr\r\nlf'@8\n"
             "5|9|~@9\n"
             "6|10|'lone\rcr'@10\n"
             "7|11|'\"'@11\n"
             "8|12|'plain\rcr'@12\n");
    s_expect("bad", s_str(&o.bad),
             "12: column id: 'x' is not an integer [x,13,after the quoted newlines]\n");
    s_out_free(&o);
}

static void records_may_end_in_crlf_and_the_last_needs_no_newline(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("id,ts,s\r\n1,5,abc\r\n2,6,\r\n3,7,last", "id=int64;ts=ms;s=string", &o),
                    0);
    s_expect("crlf", s_str(&o.rows), "1|5|'abc'@5\n2|6|~@6\n3|7|'last'@7\n");
    s_out_free(&o);

    memset(&o, 0, sizeof o);
    CU_ASSERT_EQUAL(READ("id,ts,s\r\n1,5,abc\r", "id=int64;ts=ms;s=string", &o), 0);
    s_expect("cr at the end", s_str(&o.rows), "1|5|'abc'@5\n");
    s_out_free(&o);

    memset(&o, 0, sizeof o);
    CU_ASSERT_EQUAL(READ("id,ts,s\n1,5,\"q\"", "id=int64;ts=ms;s=string", &o), 0);
    s_expect("quoted last", s_str(&o.rows), "1|5|'q'@5\n");
    s_out_free(&o);

    memset(&o, 0, sizeof o);
    CU_ASSERT_EQUAL(READ("id,ts,s\n1,5,\"q\"\r\n2,6,\"\"\r", "id=int64;ts=ms;s=string", &o), 0);
    s_expect("quoted then crlf", s_str(&o.rows), "1|5|'q'@5\n2|6|~@6\n");
    CU_ASSERT_EQUAL(o.n_bad, 0);
    s_out_free(&o);
}

static void empty_lines_are_skipped_but_counted(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("id,ts\n\n1,5\n\r\n\n2,x\n\n", "id=int64;ts=ms", &o), 0);
    s_expect("rows", s_str(&o.rows), "1|5@5\n");
    s_expect("bad", s_str(&o.bad), "6: column ts: 'x' is not a valid timestamp [2,x]\n");
    s_out_free(&o);
}

static void bad_rows_name_line_column_and_value_and_are_skipped(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("id,ts,v,b\n"                  /* 1 */
                         "1,5,1.5,true\n"               /* 2 */
                         "2,6\n"                        /* 3 */
                         "3,7,1,0,9\n"                  /* 4 */
                         "x,8,1,0\n"                    /* 5 */
                         "99999999999999999999,9,1,0\n" /* 6 */
                         "4,,1,0\n"                     /* 7 */
                         "5,abc,1,0\n"                  /* 8 */
                         "6,10,1.5.5,0\n"               /* 9 */
                         "7,11,1,yes\n"                 /* 10 */
                         "8,12,ab\"c,1\n9,13,d\",1\n"   /* 11-12: parity joins them */
                         "10,14,\"q\"x,1\r\n"           /* 13 */
                         "11,15,2.5,1\n"                /* 14 */
                         "12,16,1e999,1\n"              /* 15 */
                         "13,9999999999999999,1,1\n"    /* 16 */
                         "x,17,nan,1\n"                 /* 17: first error wins */
                         "14,18,\"open\n15,19,1,1\n",   /* 18: runs to the end */
                         "id=int64;ts=ms;v=double;b=bool", &o),
                    0);
    s_expect("rows", s_str(&o.rows), "1|5|1.5|T@5\n11|15|2.5|T@15\n");
    s_expect("bad", s_str(&o.bad),
             "3: record has 2 fields, the header has 4 [2,6]\n"
             "4: record has 5 fields, the header has 4 [3,7,1,0,9]\n"
             "5: column id: 'x' is not an integer [x,8,1,0]\n"
             "6: column id: '99999999999999999999' is out of range for int64 "
             "[99999999999999999999,9,1,0]\n"
             "7: column ts: event time is empty [4,,1,0]\n"
             "8: column ts: 'abc' is not a valid timestamp [5,abc,1,0]\n"
             "9: column v: '1.5.5' is not a number [6,10,1.5.5,0]\n"
             "10: column b: 'yes' is not a boolean (true, false, 1, 0) [7,11,1,yes]\n"
             "11: column v: '\"' inside an unquoted field [8,12,ab\"c,1\n9,13,d\",1]\n"
             "13: column v: text after the closing quote [10,14,\"q\"x,1]\n"
             "15: column v: '1e999' is out of range for double [12,16,1e999,1]\n"
             "16: column ts: '9999999999999999' is out of range (years 0000..9999) "
             "[13,9999999999999999,1,1]\n"
             "17: column id: 'x' is not an integer [x,17,nan,1]\n"
             "18: column v: quoted field not closed before end of file "
             "[14,18,\"open\n15,19,1,1\n]\n");
    s_out_free(&o);
}

static void a_wrong_field_count_outranks_a_bad_value(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("id,ts\nx\nx,1,2\n\"x\"y,1\n", "id=int64;ts=ms", &o), 0);
    s_expect("bad", s_str(&o.bad),
             "2: record has 1 fields, the header has 2 [x]\n"
             "3: record has 3 fields, the header has 2 [x,1,2]\n"
             "4: column id: text after the closing quote [\"x\"y,1]\n");
    s_out_free(&o);
}

static void long_bad_values_are_shortened_in_the_reason(void)
{
    s_out_t o = {0};
    char text[400];
    int n = snprintf(text, sizeof text, "id,ts\n1,");
    for (int i = 0; i < 100; i++)
        text[n++] = 'z';
    text[n++] = '\n';
    CU_ASSERT_EQUAL(s_read_text(text, (size_t)n, "id=int64;ts=ms", &o), 0);
    CU_ASSERT_EQUAL(o.n_bad, 1);
    char want[128] = "2: column ts: '";
    memset(want + strlen(want), 'z', 64);
    strcpy(want + strlen("2: column ts: '") + 64, "...' is not a valid timestamp [1,");
    CU_ASSERT_NSTRING_EQUAL(s_str(&o.bad), want, strlen(want));
    s_out_free(&o);
}

static void numbers_are_parsed_exactly(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("i,ts,x\n"
                         "-9223372036854775808,0,123456789012345678901234567890\n"
                         "00000000000000000000001,0,-0.0\n"
                         "+5,0,5.\n"
                         "9223372036854775808,0,1\n"
                         "1.0,0,1\n"
                         "0,0,0x10\n"
                         "0,0,inf\n"
                         "0,0, 1\n"
                         "-,0,1\n"
                         "0,0,-\n"
                         "0,0,1e\n"
                         "0,0,2.2250738585072014e-308\n",
                         "i=int64;ts=ms;x=double", &o),
                    0);
    s_expect("rows", s_str(&o.rows),
             "-9223372036854775808|0|1.2345678901234568e+29@0\n"
             "1|0|-0@0\n"
             "5|0|5@0\n"
             "0|0|2.2250738585072014e-308@0\n");
    CU_ASSERT_EQUAL(o.n_bad, 8);
    s_out_free(&o);

    /* the fast path agrees bit for bit with strtod */
    s_buf_t text = {0};
    s_add(&text, "ts,x\n", 5);
    uint64_t z = 88172645463325252u;
    char vals[2000][40];
    for (int i = 0; i < 2000; i++) {
        z ^= z << 13, z ^= z >> 7, z ^= z << 17;
        int digits = 1 + (int)(z % 17), point = (int)((z >> 8) % (unsigned)(digits + 1));
        int k = 0;
        if ((z >> 16) & 1)
            vals[i][k++] = '-';
        uint64_t d = z >> 20;
        for (int j = 0; j < digits; j++, d /= 10) {
            if (j == point && j)
                vals[i][k++] = '.';
            vals[i][k++] = (char)('0' + d % 10);
        }
        if ((z >> 60) == 0)
            k += snprintf(vals[i] + k, 8, "e%d", (int)((z >> 30) % 40) - 20);
        vals[i][k] = '\0';
        s_addf(&text, "0,%s\n", vals[i]);
    }
    char path[64];
    weir_job_t job;
    s_write_file(path, text.p, text.len);
    s_job(&job, path, "ts=ms;x=double");
    weir_csvsrc_t *src = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 0, 1, &src, NULL, 0), 0);
    weir_batch_t *b = weir_batch_new_for_job(&job, 2000);
    int eof = 0;
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, b, 2000, SIZE_MAX, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(eof, 1);
    CU_ASSERT_EQUAL_FATAL(b->n_rows, 2000);
    int mismatches = 0;
    for (int i = 0; i < 2000; i++) {
        double want = strtod(vals[i], NULL);
        if (memcmp(&want, &b->cols[1].f64[i], sizeof want) != 0 && mismatches++ < 5)
            fprintf(stderr, "\n%s: %.17g != %.17g\n", vals[i], b->cols[1].f64[i], want);
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    weir_batch_destroy(&b);
    weir_csvsrc_destroy(&src);
    unlink(path);
    s_free(&text);
}

static void timestamps_use_the_column_format_and_source_zone(void)
{
    char path[64];
    static const char text[] = "a,b,c\n"
                               "2019-01-01 00:00:00,1546300800.5,01/01/2019 00:00\n"
                               "2019-01-01T00:00:00Z,-1,31/12/1969 23:59\n";
    s_write_file(path, text, sizeof text - 1);
    weir_job_t job;
    s_job(&job, path, "a=iso;b=s;c=pat:%d/%m/%Y %H:%M");
    job.source.tz_offset_ms = -5 * 3600000;
    s_out_t o = {0};
    CU_ASSERT_EQUAL(s_read_split(&job, 0, 1, 4, &o), 0);
    s_expect("rows", s_str(&o.rows),
             "1546318800000|1546300800500|1546318800000@1546318800000\n"
             "1546300800000|-1000|17940000@1546300800000\n");
    s_out_free(&o);
    /* the event time can be any timestamp column */
    job.source.event_time_col = 1;
    memset(&o, 0, sizeof o);
    CU_ASSERT_EQUAL(s_read_split(&job, 0, 1, 4, &o), 0);
    s_expect("rows", s_str(&o.rows),
             "1546318800000|1546300800500|1546318800000@1546300800500\n"
             "1546300800000|-1000|17940000@-1000\n");
    s_out_free(&o);
    unlink(path);
}

static void headers_may_be_quoted_and_start_with_a_bom(void)
{
    s_out_t o = {0};
    CU_ASSERT_EQUAL(READ("\xEF\xBB\xBF\"ts\",\"a,b\",\"say \"\"x\"\"\"\r\n1,2,3\r\n",
                         "ts=ms;a,b=int64;say \"x\"=int64", &o),
                    0);
    s_expect("rows", s_str(&o.rows), "1|2|3@1\n");
    s_out_free(&o);

    /* header only, with and without its newline: no rows */
    memset(&o, 0, sizeof o);
    CU_ASSERT_EQUAL(READ("ts,a\n", "ts=ms", &o), 0);
    CU_ASSERT_EQUAL(READ("ts,a", "ts=ms", &o), 0);
    CU_ASSERT_EQUAL(o.n_rows + o.n_bad, 0);
    s_out_free(&o);
}

static int s_open_text(const char *text, const char *schema, int split, int n, char *err,
                       size_t cap)
{
    char path[64];
    weir_job_t job;
    s_write_file(path, text, strlen(text));
    s_job(&job, path, schema);
    weir_csvsrc_t *src = NULL;
    int rc = weir_csvsrc_open(&job, split, n, &src, err, cap);
    CU_ASSERT_EQUAL(src == NULL, rc != 0);
    weir_csvsrc_destroy(&src);
    unlink(path);
    return rc;
}

static void opening_fails_clearly(void)
{
    char err[256];
    CU_ASSERT_EQUAL(
        s_open_text("alpha,beta,gamma\n1,2,3\n", "ts=ms;delta=int64", 0, 1, err, sizeof err),
        WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'ts'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "(alpha, beta, gamma)"));
    CU_ASSERT_EQUAL(s_open_text("ts,beta\n", "ts=ms;delta=int64", 0, 1, err, sizeof err),
                    WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'delta' is not in the header"));
    /* a tiny error buffer is still terminated, and no buffer is fine */
    char tiny[8];
    CU_ASSERT_EQUAL(s_open_text("a\n", "ts=ms", 0, 1, tiny, sizeof tiny), WEIR_EINVAL);
    CU_ASSERT_EQUAL(strlen(tiny), 7);
    CU_ASSERT_EQUAL(s_open_text("a\n", "ts=ms", 0, 1, NULL, 0), WEIR_EINVAL);

    CU_ASSERT_EQUAL(s_open_text("ts,a\n", "ts=ms;ts=ms", 0, 1, err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "twice"));
    CU_ASSERT_EQUAL(s_open_text("ts,\"a\n", "ts=ms", 0, 1, err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 1"));
    CU_ASSERT_EQUAL(s_open_text("", "ts=ms", 0, 1, err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty"));
    CU_ASSERT_EQUAL(s_open_text("ts\n", "ts=ms", 1, 1, err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_open_text("ts\n", "ts=ms", 0, 0, err, sizeof err), WEIR_EINVAL);
    /* No event time: fine for a pass-through job (rows are stamped 0),
     * refused when the job has a window. */
    CU_ASSERT_EQUAL(s_open_text("ts\n1\n", "ts=int64", 0, 1, err, sizeof err), 0);
    {
        char path[64];
        weir_job_t wj;
        s_write_file(path, "ts\n1\n", 5);
        s_job(&wj, path, "ts=int64");
        wj.window.type = WEIR_WINDOW_TUMBLING;
        weir_csvsrc_t *ws = NULL;
        CU_ASSERT_EQUAL(weir_csvsrc_open(&wj, 0, 1, &ws, err, sizeof err), WEIR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "event-time column"));
        weir_csvsrc_destroy(&ws);
        unlink(path);
    }

    weir_job_t job;
    weir_csvsrc_t *src = NULL;
    s_job(&job, "/nonexistent/weir/input.csv", "ts=ms");
    CU_ASSERT_EQUAL(weir_csvsrc_open(&job, 0, 1, &src, err, sizeof err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/weir/input.csv"));
    s_job(&job, "/tmp", "ts=ms");
    CU_ASSERT_EQUAL(weir_csvsrc_open(&job, 0, 1, &src, err, sizeof err), -EISDIR);
    CU_ASSERT_PTR_NULL(src);
}

static void reading_stops_at_the_row_and_byte_limits(void)
{
    char path[64];
    s_buf_t text = {0};
    s_add(&text, "id,ts,s\n", 8);
    for (int i = 0; i < 10; i++)
        s_addf(&text, "%d,%d,row-%d\n", i, i * 10, i);
    s_write_file(path, text.p, text.len);
    weir_job_t job;
    s_job(&job, path, "id=int64;ts=ms;s=string");
    weir_csvsrc_t *src = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 0, 1, &src, NULL, 0), 0);
    CU_ASSERT_EQUAL(weir_csvsrc_bytes_total(src), text.len - 8);
    CU_ASSERT_EQUAL(weir_csvsrc_bytes_read(src), 0);
    weir_batch_t *b = weir_batch_new_for_job(&job, 16);
    int eof = 7;
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, b, 3, SIZE_MAX, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(b->n_rows, 3);
    CU_ASSERT_EQUAL(eof, 0);
    CU_ASSERT_EQUAL(weir_csvsrc_bytes_read(src), strlen("0,0,row-0\n1,10,row-1\n2,20,row-2\n"));
    /* rows are appended after those already in the batch */
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, b, 2, SIZE_MAX, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(b->n_rows, 5);
    CU_ASSERT_EQUAL(b->cols[0].i64[4], 4);
    CU_ASSERT_EQUAL(b->ts_ms[4], 40);
    uint32_t len;
    const char *s = weir_batch_str(b, 2, 4, &len);
    CU_ASSERT_NSTRING_EQUAL(s, "row-4", len);
    /* a byte limit already reached still lets one row in */
    size_t have = weir_batch_bytes(b);
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, b, 100, have, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(b->n_rows, 6);
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, b, 100, weir_batch_bytes(b) + 1, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(b->n_rows, 7);
    CU_ASSERT_EQUAL(eof, 0);
    /* a full batch stops reading whatever max_rows says */
    weir_batch_t *small = weir_batch_new_for_job(&job, 2);
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, small, 100, SIZE_MAX, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(small->n_rows, 2);
    CU_ASSERT_EQUAL(small->cols[0].i64[0], 7);
    /* the last row and the end come together */
    weir_batch_clear(small);
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, small, 100, SIZE_MAX, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(small->n_rows, 1);
    CU_ASSERT_EQUAL(small->cols[0].i64[0], 9);
    CU_ASSERT_EQUAL(eof, 1);
    CU_ASSERT_EQUAL(weir_csvsrc_bytes_read(src), weir_csvsrc_bytes_total(src));
    weir_batch_clear(small);
    eof = 0;
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, small, 100, SIZE_MAX, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL(small->n_rows, 0);
    CU_ASSERT_EQUAL(eof, 1);
    weir_batch_destroy(&small);
    weir_batch_destroy(&b);
    weir_csvsrc_destroy(&src);
    weir_csvsrc_destroy(&src);
    unlink(path);
    s_free(&text);
}

/* ---- splits ----------------------------------------------------------- */

static uint64_t s_rng;
static uint64_t s_rand(void)
{
    uint64_t z = (s_rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A random string value, quoted or not, and its expected rendering. */
static void s_gen_value(s_buf_t *csv, s_buf_t *want)
{
    static const char *const pieces[] = {"a", "bc", ",", "\"", "\n", "\r\n", "\r", " ", "x,y"};
    int quoted = (int)(s_rand() % 2), n = (int)(s_rand() % 5);
    s_buf_t v = {0};
    for (int i = 0; i < n; i++) {
        const char *p = pieces[s_rand() % (sizeof pieces / sizeof pieces[0])];
        if (!quoted && strpbrk(p, ",\"\n\r"))
            p = "u";
        s_add(&v, p, strlen(p));
    }
    if (quoted) {
        s_add(csv, "\"", 1);
        for (size_t i = 0; i < v.len; i++) {
            if (v.p[i] == '"')
                s_add(csv, "\"", 1);
            s_add(csv, v.p + i, 1);
        }
        s_add(csv, "\"", 1);
    } else if (v.len) {
        s_add(csv, v.p, v.len);
    }
    if (v.len) {
        s_add(want, "'", 1);
        s_add(want, v.p, v.len);
        s_add(want, "'", 1);
    } else {
        s_add(want, "~", 1);
    }
    s_free(&v);
}

/* A random CSV text with good rows, bad rows, quoted line breaks, empty
 * lines, CRLF and LF, and sometimes an unterminated quote at the end. */
static void s_gen_csv(s_buf_t *csv, s_buf_t *want_rows, int *n_bad)
{
    s_add(csv, "id,s,ts,t\n", 10);
    int rows = (int)(s_rand() % 60);
    *n_bad = 0;
    for (int i = 0; i < rows; i++) {
        int kind = (int)(s_rand() % 12);
        if (kind == 0) {
            if (s_rand() % 2)
                s_add(csv, "\n", 1);
            else
                s_add(csv, "\r\n", 2);
            continue;
        }
        if (kind == 1) {
            s_addf(csv, "%d,only two", i);
            (*n_bad)++;
        } else if (kind == 2) {
            s_addf(csv, "%d,\"bad\"x,%d,", i, i);
            (*n_bad)++;
        } else if (kind == 3) {
            s_addf(csv, "%d,,notatime,", i);
            (*n_bad)++;
        } else {
            s_addf(csv, "%d,", i);
            s_addf(want_rows, "%d|", i);
            s_gen_value(csv, want_rows);
            s_addf(csv, ",%d,", i * 1000);
            s_addf(want_rows, "|%d|", i * 1000);
            s_gen_value(csv, want_rows);
            s_addf(want_rows, "@%d\n", i * 1000);
        }
        if (i + 1 < rows || s_rand() % 2) {
            if (s_rand() % 2)
                s_add(csv, "\n", 1);
            else
                s_add(csv, "\r\n", 2);
        }
    }
    if (s_rand() % 8 == 0) {
        if (csv->p[csv->len - 1] != '\n')
            s_add(csv, "\n", 1);
        s_add(csv, "99,\"never closed\n,1,2\n", 22);
        (*n_bad)++;
    }
}

static void every_record_is_read_by_exactly_one_split(void)
{
    const char *env = getenv("WEIR_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    s_rng = seed;
    int failures = 0;
    for (int round = 0; round < 300 && !failures; round++) {
        s_buf_t csv = {0}, want = {0};
        int n_bad;
        s_gen_csv(&csv, &want, &n_bad);
        char path[64];
        s_write_file(path, csv.p, csv.len);
        weir_job_t job;
        s_job(&job, path, "id=int64;s=string;ts=ms;t=string");
        s_out_t whole = {0};
        CU_ASSERT_EQUAL(s_read_split(&job, 0, 1, 5, &whole), 0);
        if (strcmp(s_str(&whole.rows), s_str(&want)) != 0 || whole.n_bad != n_bad) {
            fprintf(stderr,
                    "\nseed %" PRIu64 " round %d: one split read\n%s\nexpected\n%s\n"
                    "bad rows %d, expected %d:\n%s",
                    seed, round, s_str(&whole.rows), s_str(&want), whole.n_bad, n_bad,
                    s_str(&whole.bad));
            failures++;
        }
        for (int n = 2; n <= 8 && !failures; n++) {
            s_out_t all = {0};
            for (int i = 0; i < n; i++)
                CU_ASSERT_EQUAL(s_read_split(&job, i, n, 1 + (uint32_t)(s_rand() % 4), &all), 0);
            if (strcmp(s_str(&all.rows), s_str(&whole.rows)) != 0 ||
                strcmp(s_str(&all.bad), s_str(&whole.bad)) != 0) {
                fprintf(stderr,
                        "\nseed %" PRIu64 " round %d: %d splits read\n%s%s\n"
                        "one split read\n%s%s\n",
                        seed, round, n, s_str(&all.rows), s_str(&all.bad), s_str(&whole.rows),
                        s_str(&whole.bad));
                failures++;
            }
            s_out_free(&all);
        }
        s_out_free(&whole);
        unlink(path);
        s_free(&csv);
        s_free(&want);
    }
    CU_ASSERT_EQUAL(failures, 0);
}

static void splits_agree_even_on_garbage(void)
{
    const char *env = getenv("WEIR_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    s_rng = seed;
    static const char alphabet[] = "1,,\"\"\n\n\r a";
    int failures = 0;
    for (int round = 0; round < 300 && !failures; round++) {
        s_buf_t csv = {0};
        s_add(&csv, "ts,s\n", 5);
        int len = (int)(s_rand() % 200);
        for (int i = 0; i < len; i++)
            s_add(&csv, &alphabet[s_rand() % (sizeof alphabet - 1)], 1);
        char path[64];
        s_write_file(path, csv.p, csv.len);
        weir_job_t job;
        s_job(&job, path, "ts=ms;s=string");
        s_out_t whole = {0};
        CU_ASSERT_EQUAL(s_read_split(&job, 0, 1, 3, &whole), 0);
        for (int n = 2; n <= 8 && !failures; n++) {
            s_out_t all = {0};
            for (int i = 0; i < n; i++)
                CU_ASSERT_EQUAL(s_read_split(&job, i, n, 1 + (uint32_t)(s_rand() % 4), &all), 0);
            if (strcmp(s_str(&all.rows), s_str(&whole.rows)) != 0 ||
                strcmp(s_str(&all.bad), s_str(&whole.bad)) != 0) {
                fprintf(stderr, "\nseed %" PRIu64 " round %d: %d splits disagree on\n%s\n", seed,
                        round, n, csv.p);
                failures++;
            }
            s_out_free(&all);
        }
        s_out_free(&whole);
        unlink(path);
        s_free(&csv);
    }
    CU_ASSERT_EQUAL(failures, 0);
}

static void splits_beyond_the_records_read_nothing(void)
{
    char path[64];
    static const char text[] = "ts\n1\n2\n";
    s_write_file(path, text, sizeof text - 1);
    weir_job_t job;
    s_job(&job, path, "ts=ms");
    s_out_t all = {0};
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(s_read_split(&job, i, 8, 1, &all), 0);
    s_expect("rows", s_str(&all.rows), "1@1\n2@2\n");
    s_out_free(&all);
    unlink(path);
}

/* ---- real samples ----------------------------------------------------- */

static void the_nyc_taxi_sample_reads_with_crlf_and_nulls(void)
{
    weir_job_t job;
    s_job(&job, WEIR_TEST_DATA_DIR "/nyc_taxi_2019-01_head.csv",
          "pickup_datetime=pat:%Y-%m-%d %H:%M:%S;pickup_location_id=int64;fare_amount=double;"
          "congestion_surcharge=double");
    weir_batch_t *b = weir_batch_new_for_job(&job, 64);
    weir_csvsrc_t *src = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 0, 1, &src, NULL, 0), 0);
    int eof = 0;
    s_out_t o = {0};
    CU_ASSERT_EQUAL(weir_csvsrc_read(src, b, 64, SIZE_MAX, s_on_bad, &o, &eof), 0);
    CU_ASSERT_EQUAL(eof, 1);
    CU_ASSERT_EQUAL(o.n_bad, 0);
    CU_ASSERT_EQUAL_FATAL(b->n_rows, 50);
    CU_ASSERT_EQUAL(b->ts_ms[0], INT64_C(1547523372000));
    CU_ASSERT_EQUAL(b->ts_ms[1], INT64_C(1548440432000));
    CU_ASSERT_EQUAL(b->ts_ms[49], INT64_C(1547550864000));
    double fare = 0;
    int64_t zones = 0;
    int nulls = 0;
    for (uint32_t r = 0; r < b->n_rows; r++) {
        fare += b->cols[2].f64[r];
        zones += b->cols[1].i64[r];
        nulls += b->cols[3].null[r];
    }
    CU_ASSERT_DOUBLE_EQUAL(fare, 692.0, 1e-9);
    CU_ASSERT_EQUAL(zones, 8358);
    CU_ASSERT_EQUAL(nulls, 31);
    weir_csvsrc_destroy(&src);
    weir_batch_destroy(&b);
    s_out_free(&o);
}

static void the_usgs_sample_reads_quoted_utf8_places(void)
{
    weir_job_t job;
    s_job(&job, WEIR_TEST_DATA_DIR "/usgs_all_month_head.csv",
          "time=iso;mag=double;place=string;nst=int64");
    s_out_t o = {0};
    int n_rows = 0;
    for (int n = 1; n <= 3; n++) {
        weir_batch_t *b = weir_batch_new_for_job(&job, 64);
        for (int i = 0; i < n; i++) {
            weir_csvsrc_t *src = NULL;
            CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, i, n, &src, NULL, 0), 0);
            int eof = 0;
            while (!eof)
                CU_ASSERT_EQUAL_FATAL(weir_csvsrc_read(src, b, 64, SIZE_MAX, s_on_bad, &o, &eof),
                                      0);
            weir_csvsrc_destroy(&src);
        }
        CU_ASSERT_EQUAL_FATAL(b->n_rows, 50);
        CU_ASSERT_EQUAL(b->ts_ms[0], INT64_C(1680620628180));
        CU_ASSERT_EQUAL(b->ts_ms[1], INT64_C(1680620222860));
        CU_ASSERT_EQUAL(b->ts_ms[49], INT64_C(1680596783130));
        uint32_t len;
        const char *s = weir_batch_str(b, 2, 0, &len);
        CU_ASSERT_EQUAL(len, strlen("7km NW of The Geysers, CA"));
        CU_ASSERT_NSTRING_EQUAL(s, "7km NW of The Geysers, CA", len);
        s = weir_batch_str(b, 2, 49, &len);
        CU_ASSERT_NSTRING_EQUAL(s, "Puerto Rico region", len);
        double mag = 0;
        int nulls = 0, utf8 = 0;
        for (uint32_t r = 0; r < b->n_rows; r++) {
            mag += b->cols[1].f64[r];
            nulls += b->cols[3].null[r];
            s = weir_batch_str(b, 2, r, &len);
            utf8 += memmem(s, len, "P\xc4\x81hala", 7) != NULL;
        }
        CU_ASSERT_DOUBLE_EQUAL(mag, 88.73, 1e-6);
        CU_ASSERT_EQUAL(nulls, 23);
        CU_ASSERT_EQUAL(utf8, 2);
        n_rows += (int)b->n_rows;
        weir_batch_destroy(&b);
    }
    CU_ASSERT_EQUAL(n_rows, 150);
    CU_ASSERT_EQUAL(o.n_bad, 0);
    s_out_free(&o);
}

/* Resident memory of this process, from /proc/self/statm, in bytes. */
static size_t s_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void reading_a_split_keeps_resident_memory_flat(void)
{
    /* 48 MiB of rows; split 1 of 2 scans the first half for quote parity
     * and then reads the second half. The reader gives pages back as it
     * goes, so resident memory must not grow by anything near the file. */
    const size_t target = 48u << 20;
    s_buf_t b = {0};
    s_add(&b, "ts,k,v,pad\n", 11);
    char row[64];
    for (int i = 0; b.len < target; i++) {
        int n = snprintf(row, sizeof row, "%d,%d,%d.25,padding-padding-padding\n", i, i % 97, i);
        s_add(&b, row, (size_t)n);
    }
    char path[64];
    s_write_file(path, b.p, b.len);
    s_free(&b);
    weir_job_t job;
    s_job(&job, path, "ts=ms;k=int64;v=double");
    weir_batch_t *batch = weir_batch_new_for_job(&job, 1024);
    CU_ASSERT_PTR_NOT_NULL_FATAL(batch);
    size_t before = s_rss_bytes();
    size_t peak = before;
    weir_csvsrc_t *src = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 1, 2, &src, err, sizeof err), 0);
    int eof = 0;
    uint64_t rows = 0;
    while (!eof) {
        weir_batch_clear(batch);
        CU_ASSERT_EQUAL_FATAL(weir_csvsrc_read(src, batch, 1024, 1u << 20, NULL, NULL, &eof), 0);
        rows += batch->n_rows;
        size_t now = s_rss_bytes();
        if (now > peak)
            peak = now;
    }
    CU_ASSERT(rows > 100000);
    CU_ASSERT(peak - before < (24u << 20));
    if (peak - before >= (24u << 20))
        fprintf(stderr, "\nresident memory grew by %zu MiB\n", (peak - before) >> 20);
    weir_csvsrc_destroy(&src);
    weir_batch_destroy(&batch);
    unlink(path);
}

static void s_append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* Reads what is there now; returns the rows read, appends their ts. */
static uint32_t s_follow_read(weir_csvsrc_t *src, weir_batch_t *b, int64_t *ts, uint32_t cap,
                              int *rc)
{
    uint32_t n = 0;
    int eof = 0;
    for (;;) {
        weir_batch_clear(b);
        *rc = weir_csvsrc_read(src, b, 3, SIZE_MAX, NULL, NULL, &eof);
        CU_ASSERT_EQUAL(eof, 0); /* a followed file never ends */
        if (*rc || b->n_rows == 0)
            return n;
        for (uint32_t r = 0; r < b->n_rows && n < cap; r++)
            ts[n++] = b->ts_ms[r];
    }
}

/* follow: true reads complete records only, picks up what is appended
 * (also past the first page, and a quoted line break split over two
 * writes), never ends, and refuses a file that got shorter. */
static void follow_reads_what_is_appended(void)
{
    char path[64];
    const char *start = "ts,k\n1,a\n2,b";
    s_write_file(path, start, strlen(start));
    weir_job_t job;
    s_job(&job, path, "ts=ms;k=string");
    job.source.follow = true;
    weir_csvsrc_t *src = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 0, 1, &src, err, sizeof err), 0);
    weir_batch_t *b = weir_batch_new_for_job(&job, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    static int64_t ts[20000];
    int rc = 0;
    CU_ASSERT_EQUAL(s_follow_read(src, b, ts, 20000, &rc), 1);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(ts[0], 1);
    CU_ASSERT_TRUE(weir_csvsrc_caught_up(src));
    /* "2,b" gets its LF; a quoted field with a line break arrives in two
     * parts and is read once whole. */
    s_append(path, "\n3,\"multi\nli");
    CU_ASSERT_EQUAL(s_follow_read(src, b, ts, 20000, &rc), 1);
    CU_ASSERT_EQUAL(ts[0], 2);
    s_append(path, "ne\"\n");
    uint32_t n = s_follow_read(src, b, ts, 20000, &rc);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(ts[0], 3);
    weir_batch_clear(b);
    /* Far past the first mapped page. */
    FILE *f = fopen(path, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 10000; i++)
        fprintf(f, "%d,key-%d\n", 100 + i, i);
    fclose(f);
    n = s_follow_read(src, b, ts, 20000, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL_FATAL(n, 10000);
    CU_ASSERT_EQUAL(ts[0], 100);
    CU_ASSERT_EQUAL(ts[9999], 10099);
    CU_ASSERT_TRUE(weir_csvsrc_caught_up(src));
    CU_ASSERT_EQUAL(s_follow_read(src, b, ts, 20000, &rc), 0);
    CU_ASSERT_EQUAL(rc, 0);
    /* A record that never ends (an open quote) is not read, but shown. */
    s_append(path, "20000,\"open\n20001,x\n");
    CU_ASSERT_EQUAL(s_follow_read(src, b, ts, 20000, &rc), 0);
    const char *tail = NULL;
    uint64_t tline = 0;
    CU_ASSERT_EQUAL(weir_csvsrc_incomplete(src, &tail, &tline), strlen("20000,\"open\n20001,x\n"));
    CU_ASSERT_EQUAL(strncmp(tail, "20000,", 6), 0);
    /* Shortened in place: refused, not misread. */
    CU_ASSERT_EQUAL(truncate(path, 5), 0);
    CU_ASSERT_EQUAL(s_follow_read(src, b, ts, 20000, &rc), 0);
    CU_ASSERT_EQUAL(rc, WEIR_ESTALE);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_csvsrc_stale_reason(src), "shorter"));
    weir_batch_destroy(&b);
    weir_csvsrc_destroy(&src);
    unlink(path);
}

/* A followed file that is replaced (rotated), deleted or rewritten in
 * place is refused with the reason, not read on from an old offset. */
static void follow_refuses_a_replaced_deleted_or_rewritten_file(void)
{
    static const char *const how[] = {"replaced", "deleted", "rewritten"};
    for (int i = 0; i < 3; i++) {
        char path[64];
        const char *start = "ts,k\n1,a\n2,b\n";
        s_write_file(path, start, strlen(start));
        weir_job_t job;
        s_job(&job, path, "ts=ms;k=string");
        job.source.follow = true;
        weir_csvsrc_t *src = NULL;
        char err[256] = "";
        CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 0, 1, &src, err, sizeof err), 0);
        weir_batch_t *b = weir_batch_new_for_job(&job, 3);
        int64_t ts[8];
        int rc = 0;
        CU_ASSERT_EQUAL(s_follow_read(src, b, ts, 8, &rc), 2);
        if (i == 0) {
            char other[80];
            snprintf(other, sizeof other, "%s.new", path);
            FILE *f = fopen(other, "w");
            fputs("ts,k\n7,x\n8,y\n9,z\n", f);
            fclose(f);
            CU_ASSERT_EQUAL(rename(other, path), 0);
        } else if (i == 1) {
            unlink(path);
        } else {
            FILE *f = fopen(path, "w"); /* same name, same inode, new bytes, longer */
            fputs("ts,k\n9,z\n9,z\n9,z\n", f);
            fclose(f);
        }
        CU_ASSERT_EQUAL(s_follow_read(src, b, ts, 8, &rc), 0);
        CU_ASSERT_EQUAL(rc, WEIR_ESTALE);
        if (i == 2 && rc != WEIR_ESTALE)
            fprintf(stderr, "\nrewrite: rc %d\n", rc);
        CU_ASSERT_PTR_NOT_NULL(strstr(weir_csvsrc_stale_reason(src), how[i]));
        weir_batch_destroy(&b);
        weir_csvsrc_destroy(&src);
        unlink(path);
    }
}

/* A reader continues from a recorded position exactly where the first one
 * was (rows and line numbers), and refuses a position that is not at the
 * start of a line or lies outside its split. */
static void seek_continues_from_a_position(void)
{
    char path[64];
    const char *text = "ts,k\n1,a\n2,\"b\nc\"\n3,c\nx,bad\n4,d\n";
    s_write_file(path, text, strlen(text));
    weir_job_t job;
    s_job(&job, path, "ts=ms;k=string");
    weir_csvsrc_t *a = NULL, *b = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 0, 1, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(weir_csvsrc_open(&job, 0, 1, &b, err, sizeof err), 0);
    weir_batch_t *x = weir_batch_new_for_job(&job, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    int eof = 0;
    CU_ASSERT_EQUAL(weir_csvsrc_read(a, x, 2, SIZE_MAX, NULL, NULL, &eof), 0);
    CU_ASSERT_EQUAL_FATAL(x->n_rows, 2);
    uint64_t off = 0, line = 0;
    weir_csvsrc_position(a, &off, &line);
    CU_ASSERT_EQUAL(off, strlen("ts,k\n1,a\n2,\"b\nc\"\n"));
    CU_ASSERT_EQUAL(line, 5);
    CU_ASSERT_EQUAL(weir_csvsrc_seek(b, off - 1, line), WEIR_EINVAL); /* mid-line */
    CU_ASSERT_EQUAL(weir_csvsrc_seek(b, 3, 1), WEIR_EINVAL);          /* before the data */
    CU_ASSERT_EQUAL(weir_csvsrc_seek(b, strlen(text) + 5, 9), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_csvsrc_seek(b, off, line), 0);
    /* Both go on alike: rows 3 and 4, and the bad row on line 6. */
    s_out_t oa = {0}, ob = {0};
    weir_batch_clear(x);
    CU_ASSERT_EQUAL(weir_csvsrc_read(a, x, 8, SIZE_MAX, s_on_bad, &oa, &eof), 0);
    CU_ASSERT_EQUAL(x->n_rows, 2);
    CU_ASSERT_EQUAL(x->ts_ms[0], 3);
    CU_ASSERT_EQUAL(x->ts_ms[1], 4);
    weir_batch_clear(x);
    CU_ASSERT_EQUAL(weir_csvsrc_read(b, x, 8, SIZE_MAX, s_on_bad, &ob, &eof), 0);
    CU_ASSERT_EQUAL(x->n_rows, 2);
    CU_ASSERT_EQUAL(x->ts_ms[0], 3);
    CU_ASSERT_EQUAL(eof, 1);
    CU_ASSERT_EQUAL(oa.n_bad, 1);
    CU_ASSERT_EQUAL(ob.n_bad, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(oa.bad.p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ob.bad.p);
    CU_ASSERT_EQUAL(strncmp(oa.bad.p, "6: ", 3), 0);
    CU_ASSERT_STRING_EQUAL(oa.bad.p, ob.bad.p);
    free(oa.bad.p);
    free(ob.bad.p);
    weir_batch_destroy(&x);
    weir_csvsrc_destroy(&a);
    weir_csvsrc_destroy(&b);
    unlink(path);
}

void test_csvsrc_register(void)
{
    CU_pSuite s = CU_add_suite("csvsrc", NULL, NULL);
    CU_add_test(s, "columns are found by header name and typed",
                columns_are_found_by_header_name_and_typed);
    CU_add_test(s, "quoted fields keep commas, quotes and line breaks",
                quoted_fields_keep_commas_quotes_and_line_breaks);
    CU_add_test(s, "records may end in CRLF and the last needs no newline",
                records_may_end_in_crlf_and_the_last_needs_no_newline);
    CU_add_test(s, "empty lines are skipped but counted", empty_lines_are_skipped_but_counted);
    CU_add_test(s, "bad rows name line, column and value and are skipped",
                bad_rows_name_line_column_and_value_and_are_skipped);
    CU_add_test(s, "a wrong field count outranks a bad value",
                a_wrong_field_count_outranks_a_bad_value);
    CU_add_test(s, "long bad values are shortened in the reason",
                long_bad_values_are_shortened_in_the_reason);
    CU_add_test(s, "numbers are parsed exactly", numbers_are_parsed_exactly);
    CU_add_test(s, "timestamps use the column format and the source zone",
                timestamps_use_the_column_format_and_source_zone);
    CU_add_test(s, "headers may be quoted and start with a BOM",
                headers_may_be_quoted_and_start_with_a_bom);
    CU_add_test(s, "opening fails clearly", opening_fails_clearly);
    CU_add_test(s, "reading stops at the row and byte limits",
                reading_stops_at_the_row_and_byte_limits);
    CU_add_test(s, "every record is read by exactly one split",
                every_record_is_read_by_exactly_one_split);
    CU_add_test(s, "splits agree even on garbage", splits_agree_even_on_garbage);
    CU_add_test(s, "splits beyond the records read nothing",
                splits_beyond_the_records_read_nothing);
    CU_add_test(s, "the NYC taxi sample reads with CRLF and NULLs",
                the_nyc_taxi_sample_reads_with_crlf_and_nulls);
    CU_add_test(s, "reading a split keeps resident memory flat",
                reading_a_split_keeps_resident_memory_flat);
    CU_add_test(s, "follow: true reads what is appended", follow_reads_what_is_appended);
    CU_add_test(s, "seek continues from a recorded position", seek_continues_from_a_position);
    CU_add_test(s, "follow refuses a replaced, deleted or rewritten file",
                follow_refuses_a_replaced_deleted_or_rewritten_file);
    CU_add_test(s, "the USGS sample reads quoted UTF-8 places",
                the_usgs_sample_reads_quoted_utf8_places);
}
