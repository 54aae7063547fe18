/* csvsink: buffered CSV part files published by atomic rename. See
 * csvsink.h for the contract.
 *
 * Errors are sticky: the first failed write() is remembered and every later
 * call returns it, so a caller that checks only weir_csvsink_close() still
 * learns that the file is incomplete, and close never publishes it.
 *
 * Rejected: stdio (fopen/fprintf). Its buffering is fine, but its errors are
 * not sticky per call in a way that names the errno, and printf-family
 * formatting of every integer costs more than the hand-written conversion.
 */
#include "csvsink.h"
#include "fsx.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_BUF_BYTES ((size_t)64 * 1024)

struct weir_csvsink {
    int fd;           /* the in-progress file, >= 0 while open */
    char *dir;        /* target directory */
    char *tmp_path;   /* dir/.name.inprogress */
    char *final_path; /* dir/name */
    char *buf;        /* S_BUF_BYTES of pending output */
    size_t len;       /* bytes pending in buf */
    int n_fields;     /* fields written in the current row */
    int last_empty;   /* the last field written was empty */
    int err;          /* first write error (-errno), sticky; 0 while healthy */
    uint64_t rows;    /* rows ended in the current file, header excluded */
    char **header;    /* n_cols owned copies of the column names, for rotation */
    int n_cols;       /* >= 0 */
};

static int s_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int s_flush(weir_csvsink_t *s)
{
    if (s->err)
        return s->err;
    int rc = s_write_all(s->fd, s->buf, s->len);
    s->len = 0;
    if (rc)
        s->err = rc;
    return rc;
}

int weir_csvsink_flush(weir_csvsink_t *s)
{
    return s->len ? s_flush(s) : s->err;
}

static int s_put(weir_csvsink_t *s, const char *p, size_t n)
{
    if (s->err)
        return s->err;
    if (n > S_BUF_BYTES - s->len) {
        int rc = s_flush(s);
        if (rc)
            return rc;
        if (n > S_BUF_BYTES) {
            rc = s_write_all(s->fd, p, n);
            if (rc)
                s->err = rc;
            return rc;
        }
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return 0;
}

static int s_sep(weir_csvsink_t *s)
{
    return s->n_fields++ > 0 ? s_put(s, ",", 1) : (s->err ? s->err : 0);
}

static char *s_join(const char *dir, const char *pre, const char *name, const char *post)
{
    size_t n = strlen(dir) + strlen(pre) + strlen(name) + strlen(post) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s%s", dir, pre, name, post);
    return p;
}

static void s_free(weir_csvsink_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->dir);
    free(s->tmp_path);
    free(s->final_path);
    free(s->buf);
    for (int i = 0; i < s->n_cols; i++)
        free(s->header[i]);
    free(s->header);
    free(s);
}

/* Starts the current file with the header row (not counted in rows). */
static int s_write_header(weir_csvsink_t *s)
{
    for (int i = 0; i < s->n_cols; i++)
        weir_csvsink_str(s, s->header[i], strlen(s->header[i]));
    if (s->n_cols > 0) {
        uint64_t rows = s->rows;
        weir_csvsink_end_row(s);
        s->rows = rows;
    }
    return s->err;
}

int weir_csvsink_open(const char *dir, const char *name, const char *const *header, int n_cols,
                      weir_csvsink_t **out)
{
    return weir_csvsink_open_tagged(dir, name, NULL, header, n_cols, out);
}

int weir_csvsink_open_tagged(const char *dir, const char *name, const char *tag,
                             const char *const *header, int n_cols, weir_csvsink_t **out)
{
    if (!name[0] || strchr(name, '/') || (tag && (!tag[0] || strchr(tag, '/'))))
        return -EINVAL;
    char hidden[512];
    if (snprintf(hidden, sizeof hidden, ".%s%s%s", tag ? tag : "", tag ? "." : "", name) >=
        (int)sizeof hidden)
        return -ENAMETOOLONG;
    int rc = weir_fs_mkdirs(dir);
    if (rc)
        return rc;
    weir_csvsink_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->fd = -1;
    s->dir = strdup(dir);
    s->tmp_path = s_join(dir, "", hidden, ".inprogress");
    s->final_path = s_join(dir, "", name, "");
    s->buf = malloc(S_BUF_BYTES);
    s->header = calloc(n_cols > 0 ? (size_t)n_cols : 1, sizeof *s->header);
    if (!s->dir || !s->tmp_path || !s->final_path || !s->buf || !s->header) {
        s_free(s);
        return -ENOMEM;
    }
    for (; s->n_cols < n_cols; s->n_cols++) {
        if (!(s->header[s->n_cols] = strdup(header[s->n_cols]))) {
            s_free(s);
            return -ENOMEM;
        }
    }
    s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        rc = -errno;
        s_free(s);
        return rc;
    }
    if ((rc = s_write_header(s)) != 0) {
        weir_csvsink_discard(&s);
        return rc;
    }
    *out = s;
    return 0;
}

int weir_csvsink_str(weir_csvsink_t *s, const char *v, size_t len)
{
    int rc = s_sep(s);
    if (rc)
        return rc;
    s->last_empty = len == 0;
    size_t i = 0;
    while (i < len && v[i] != ',' && v[i] != '"' && v[i] != '\r' && v[i] != '\n')
        i++;
    if (i == len)
        return s_put(s, v, len);
    rc = s_put(s, "\"", 1);
    size_t from = 0;
    for (i = 0; i < len && !rc; i++) {
        if (v[i] == '"') {
            rc = s_put(s, v + from, i + 1 - from); /* the quote, then its double */
            from = i;
        }
    }
    if (!rc)
        rc = s_put(s, v + from, len - from);
    return rc ? rc : s_put(s, "\"", 1);
}

/* Writes the decimal digits of v into the end of buf[0..24) and returns
 * the first character. */
static char *s_i64_text(int64_t v, char *end)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}

int weir_csvsink_i64(weir_csvsink_t *s, int64_t v)
{
    int rc = s_sep(s);
    if (rc)
        return rc;
    char buf[24];
    char *p = s_i64_text(v, buf + sizeof buf);
    s->last_empty = 0;
    return s_put(s, p, (size_t)(buf + sizeof buf - p));
}

size_t weir_csvsink_fmt_f64(double v, char *buf)
{
    if (isnan(v))
        return (size_t)snprintf(buf, WEIR_CSVSINK_F64_MAX, "nan");
    if (isinf(v))
        return (size_t)snprintf(buf, WEIR_CSVSINK_F64_MAX, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return (size_t)snprintf(buf, WEIR_CSVSINK_F64_MAX, signbit(v) ? "-0.0" : "0.0");
    /* Shortest round-trip digits: for normal values, 15 significant digits
     * (trailing zeros trimmed) give the shortest text whenever one of at
     * most 15 digits exists, then 16, then 17 (always enough for binary64).
     * Subnormals carry fewer bits, so they search from 1 digit. */
    char sci[40];
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(sci, NULL) == v)
            break;
    }
    /* sci is [-]d.ddddde[+-]xx: gather the digits and the exponent. */
    char digits[20];
    int nd = 0;
    const char *p = sci;
    int neg = *p == '-';
    if (neg)
        p++;
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp10 = (int)strtol(p + 1, NULL, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int decpt = exp10 + 1; /* digits[0] is worth 10^(decpt-1) */
    char *o = buf;
    if (neg)
        *o++ = '-';
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -decpt; i++)
                *o++ = '0';
            memcpy(o, digits, (size_t)nd);
            o += nd;
        } else if (decpt >= nd) {
            memcpy(o, digits, (size_t)nd);
            o += nd;
            for (int i = nd; i < decpt; i++)
                *o++ = '0';
            *o++ = '.';
            *o++ = '0';
        } else {
            memcpy(o, digits, (size_t)decpt);
            o += decpt;
            *o++ = '.';
            memcpy(o, digits + decpt, (size_t)(nd - decpt));
            o += nd - decpt;
        }
        *o = '\0';
        return (size_t)(o - buf);
    }
    *o++ = digits[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, digits + 1, (size_t)(nd - 1));
        o += nd - 1;
    }
    int e = decpt - 1;
    o += snprintf(o, 8, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    return (size_t)(o - buf);
}

int weir_csvsink_f64(weir_csvsink_t *s, double v)
{
    int rc = s_sep(s);
    if (rc)
        return rc;
    char buf[WEIR_CSVSINK_F64_MAX];
    size_t n = weir_csvsink_fmt_f64(v, buf);
    s->last_empty = 0;
    return s_put(s, buf, n);
}

int weir_csvsink_bool(weir_csvsink_t *s, int v)
{
    int rc = s_sep(s);
    if (rc)
        return rc;
    s->last_empty = 0;
    return v ? s_put(s, "true", 4) : s_put(s, "false", 5);
}

int weir_csvsink_null(weir_csvsink_t *s)
{
    int rc = s_sep(s);
    s->last_empty = 1;
    return rc;
}

int weir_csvsink_end_row(weir_csvsink_t *s)
{
    int rc = 0;
    if (s->n_fields == 1 && s->last_empty)
        rc = s_put(s, "\"\"", 2);
    s->n_fields = 0;
    s->last_empty = 0;
    if (!rc)
        rc = s_put(s, "\n", 1);
    if (!rc)
        s->rows++;
    return rc;
}

int weir_csvsink_batch_row(weir_csvsink_t *s, const weir_batch_t *b, uint32_t row)
{
    int rc = 0;
    for (int c = 0; c < b->n_cols && !rc; c++) {
        const weir_column_t *col = &b->cols[c];
        if (col->null[row]) {
            rc = weir_csvsink_null(s);
            continue;
        }
        switch (col->type) {
        case WEIR_TYPE_DOUBLE: rc = weir_csvsink_f64(s, col->f64[row]); break;
        case WEIR_TYPE_BOOL: rc = weir_csvsink_bool(s, col->i64[row] != 0); break;
        case WEIR_TYPE_STRING: {
            uint32_t len;
            const char *v = weir_batch_str(b, c, row, &len);
            rc = weir_csvsink_str(s, v, len);
            break;
        }
        default: rc = weir_csvsink_i64(s, col->i64[row]); break;
        }
    }
    return rc ? rc : weir_csvsink_end_row(s);
}

uint64_t weir_csvsink_rows(const weir_csvsink_t *s)
{
    return s->rows;
}

/* Makes the current file durable and gives it the name path (never
 * replacing a file), then fsyncs the directory. The descriptor is closed
 * in every case; an error is remembered (sticky). */
static int s_publish(weir_csvsink_t *s, const char *path)
{
    int rc = s_flush(s);
    if (!rc && fsync(s->fd) != 0)
        rc = -errno;
    if (s->fd >= 0 && close(s->fd) != 0 && !rc)
        rc = -errno;
    s->fd = -1;
    /* Publishing never replaces a file: a part file of that name written
     * by another job (two jobs whose directories are one through a link)
     * makes this one fail, instead of one silently overwriting the other. */
    if (!rc)
        rc = weir_fs_rename_noreplace(s->tmp_path, path);
    if (!rc)
        rc = weir_fs_fsync_dir(s->dir);
    if (rc && !s->err)
        s->err = rc;
    return rc;
}

static char *s_sibling(const weir_csvsink_t *s, const char *name)
{
    if (!name[0] || strchr(name, '/'))
        return NULL;
    return s_join(s->dir, "", name, "");
}

int weir_csvsink_close(weir_csvsink_t **ps)
{
    if (!ps || !*ps)
        return 0;
    weir_csvsink_t *s = *ps;
    *ps = NULL;
    int rc = s_publish(s, s->final_path);
    s_free(s);
    return rc;
}

int weir_csvsink_close_as(weir_csvsink_t **ps, const char *name)
{
    if (!ps || !*ps)
        return 0;
    char *path = s_sibling(*ps, name);
    if (!path)
        return name[0] && !strchr(name, '/') ? -ENOMEM : -EINVAL;
    weir_csvsink_t *s = *ps;
    *ps = NULL;
    int rc = s_publish(s, path);
    free(path);
    s_free(s);
    return rc;
}

int weir_csvsink_rotate(weir_csvsink_t *s, const char *name)
{
    assert(s->n_fields == 0); /* between rows only */
    if (s->err)
        return s->err;
    char *path = s_sibling(s, name);
    if (!path)
        return name[0] && !strchr(name, '/') ? -ENOMEM : -EINVAL;
    int rc = s_publish(s, path);
    free(path);
    if (rc)
        return rc;
    s->rows = 0;
    s->n_fields = 0;
    s->last_empty = 0;
    s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        s->err = -errno;
        return s->err;
    }
    return s_write_header(s);
}

void weir_csvsink_discard(weir_csvsink_t **ps)
{
    if (!ps || !*ps)
        return;
    weir_csvsink_t *s = *ps;
    *ps = NULL;
    unlink(s->tmp_path);
    s_free(s);
}
