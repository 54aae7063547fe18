/* agg: accumulators. See agg.h for the contract and the serialized form.
 *
 * Every accumulator starts with a hidden u64 row count (slot offset 0), so
 * that "rows in this window" is known whatever the aggregates are; count
 * reads it instead of keeping its own.
 *
 * Rejected: a 64-bit integer sum with overflow checks. An error mid-stream
 * would lose the window, saturation would print a wrong number; 128 bits
 * cost one more add-with-carry and cannot overflow on any input that fits
 * on a disk (2^64 rows of int64).
 */
#include "agg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "csvsink.h"
#include "err.h"

typedef __int128 s_i128;

/* ---- distinct sets ---------------------------------------------------- */

/* Open addressing, linear probing, load <= 1/2. A slot's hash is never 0
 * (0 marks an empty slot). Numbers live in val[] as their canonical bits;
 * strings as (offset << 32 | length) into blob. */
typedef struct {
    uint32_t n;    /* distinct values */
    uint32_t mask; /* slots - 1; slots is a power of two >= 8 */
    int is_str;
    uint64_t *hash; /* slots */
    uint64_t *val;  /* slots */
    char *blob;     /* string bytes, back to back */
    size_t blob_len;
    size_t blob_cap;
} s_set_t;

static s_set_t *s_set_new(int is_str)
{
    s_set_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->is_str = is_str;
    s->mask = 7;
    s->hash = calloc(8, sizeof *s->hash);
    s->val = calloc(8, sizeof *s->val);
    if (!s->hash || !s->val) {
        free(s->hash);
        free(s->val);
        free(s);
        return NULL;
    }
    return s;
}

static void s_set_free(s_set_t *s)
{
    if (!s)
        return;
    free(s->hash);
    free(s->val);
    free(s->blob);
    free(s);
}

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x | 1;
}

static int s_set_grow(s_set_t *s)
{
    uint32_t slots = (s->mask + 1) * 2;
    if (slots == 0)
        return -ENOMEM;
    uint64_t *h = calloc(slots, sizeof *h);
    uint64_t *v = calloc(slots, sizeof *v);
    if (!h || !v) {
        free(h);
        free(v);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i <= s->mask; i++) {
        if (!s->hash[i])
            continue;
        uint32_t j = (uint32_t)s->hash[i] & (slots - 1);
        while (h[j])
            j = (j + 1) & (slots - 1);
        h[j] = s->hash[i];
        v[j] = s->val[i];
    }
    free(s->hash);
    free(s->val);
    s->hash = h;
    s->val = v;
    s->mask = slots - 1;
    return 0;
}

static int s_set_add_num(s_set_t *s, uint64_t bits)
{
    uint64_t h = s_mix(bits);
    uint32_t i = (uint32_t)h & s->mask;
    while (s->hash[i]) {
        if (s->hash[i] == h && s->val[i] == bits)
            return 0;
        i = (i + 1) & s->mask;
    }
    if ((s->n + 1) * 2 > s->mask + 1) {
        int rc = s_set_grow(s);
        if (rc)
            return rc;
        i = (uint32_t)h & s->mask;
        while (s->hash[i])
            i = (i + 1) & s->mask;
    }
    s->hash[i] = h;
    s->val[i] = bits;
    s->n++;
    return 0;
}

static const char *s_set_str(const s_set_t *s, uint64_t v, uint32_t *len)
{
    *len = (uint32_t)v;
    return s->blob + (v >> 32);
}

static int s_set_add_str(s_set_t *s, const char *p, uint32_t len)
{
    uint64_t h = XXH64(p, len, 0) | 1;
    uint32_t i = (uint32_t)h & s->mask;
    while (s->hash[i]) {
        uint32_t n;
        const char *q = s_set_str(s, s->val[i], &n);
        if (s->hash[i] == h && n == len && memcmp(p, q, len) == 0)
            return 0;
        i = (i + 1) & s->mask;
    }
    if (s->blob_len + len > UINT32_MAX)
        return -ENOMEM;
    if (s->blob_len + len > s->blob_cap) {
        size_t cap = s->blob_cap ? s->blob_cap : 64;
        while (cap < s->blob_len + len)
            cap *= 2;
        char *nb = realloc(s->blob, cap);
        if (!nb)
            return -ENOMEM;
        s->blob = nb;
        s->blob_cap = cap;
    }
    if ((s->n + 1) * 2 > s->mask + 1) {
        int rc = s_set_grow(s);
        if (rc)
            return rc;
        i = (uint32_t)h & s->mask;
        while (s->hash[i])
            i = (i + 1) & s->mask;
    }
    if (len)
        memcpy(s->blob + s->blob_len, p, len);
    s->hash[i] = h;
    s->val[i] = (uint64_t)s->blob_len << 32 | len;
    s->blob_len += len;
    s->n++;
    return 0;
}

/* ---- slots ------------------------------------------------------------ */

static inline uint64_t *s_u64(void *acc, uint32_t off)
{
    return (uint64_t *)((char *)acc + off);
}
static inline const uint64_t *s_cu64(const void *acc, uint32_t off)
{
    return (const uint64_t *)((const char *)acc + off);
}
static inline s_set_t **s_setp(void *acc, uint32_t off)
{
    return (s_set_t **)((char *)acc + off);
}
static inline s_set_t *s_cset(const void *acc, uint32_t off)
{
    return *(s_set_t *const *)((const char *)acc + off);
}
static inline s_i128 s_get128(const void *acc, uint32_t off)
{
    s_i128 v;
    memcpy(&v, (const char *)acc + off, sizeof v);
    return v;
}
static inline void s_put128(void *acc, uint32_t off, s_i128 v)
{
    memcpy((char *)acc + off, &v, sizeof v);
}
/* Doubles go through memcpy: the same bytes are also written as u64 by
 * weir_agg_decode, and only memcpy may read them back as another type. */
static inline double s_getf(const void *acc, uint32_t off)
{
    double v;
    memcpy(&v, (const char *)acc + off, sizeof v);
    return v;
}
static inline void s_putf(void *acc, uint32_t off, double v)
{
    memcpy((char *)acc + off, &v, sizeof v);
}

static int s_is_int(weir_type_t t)
{
    return t == WEIR_TYPE_INT64 || t == WEIR_TYPE_TIMESTAMP || t == WEIR_TYPE_BOOL;
}

int weir_aggs_init(weir_aggs_t *a, const weir_job_t *job)
{
    memset(a, 0, sizeof *a);
    if (job->n_aggs < 0 || job->n_aggs > WEIR_MAX_AGGS)
        return WEIR_EINVAL;
    uint32_t off = 8; /* the hidden row count */
    for (int i = 0; i < job->n_aggs; i++) {
        const weir_agg_t *g = &job->aggs[i];
        weir_agg_slot_t *s = &a->slot[i];
        s->fn = g->fn;
        s->col = g->field_col;
        if (s->col >= job->source.n_fields)
            return WEIR_EINVAL;
        if (s->col < 0 && g->fn != WEIR_AGG_COUNT)
            return WEIR_EINVAL;
        s->type = s->col >= 0 ? job->source.fields[s->col].type : 0;
        int isint = s_is_int(s->type), isdbl = s->type == WEIR_TYPE_DOUBLE;
        uint32_t bytes = 8;
        switch (g->fn) {
        case WEIR_AGG_COUNT:
            s->kind = s->col < 0 ? WEIR_AGGK_ROWS : WEIR_AGGK_NONNULL;
            bytes = s->col < 0 ? 0 : 8;
            break;
        case WEIR_AGG_SUM:
        case WEIR_AGG_AVG:
            if (!isint && !isdbl)
                return WEIR_EINVAL;
            s->kind = isint ? WEIR_AGGK_SUM_I : WEIR_AGGK_SUM_F;
            bytes = isint ? 24 : 16;
            break;
        case WEIR_AGG_MIN:
        case WEIR_AGG_MAX:
            if (!isint && !isdbl)
                return WEIR_EINVAL;
            s->kind = g->fn == WEIR_AGG_MIN ? (isint ? WEIR_AGGK_MIN_I : WEIR_AGGK_MIN_F)
                                            : (isint ? WEIR_AGGK_MAX_I : WEIR_AGGK_MAX_F);
            bytes = 16;
            break;
        case WEIR_AGG_COUNT_DISTINCT:
            if (s->col < 0)
                return WEIR_EINVAL;
            s->kind = WEIR_AGGK_DISTINCT;
            a->has_sets = 1;
            break;
        default: return WEIR_EINVAL;
        }
        s->off = bytes ? off : 0;
        off += bytes;
    }
    a->n = job->n_aggs;
    a->size = off;
    return 0;
}

void weir_agg_init(const weir_aggs_t *a, void *acc)
{
    memset(acc, 0, a->size);
}

void weir_agg_free(const weir_aggs_t *a, void *acc)
{
    if (a->has_sets)
        for (int i = 0; i < a->n; i++)
            if (a->slot[i].kind == WEIR_AGGK_DISTINCT)
                s_set_free(*s_setp(acc, a->slot[i].off));
    memset(acc, 0, a->size);
}

uint64_t weir_agg_rows(const weir_aggs_t *a, const void *acc)
{
    (void)a;
    return *s_cu64(acc, 0);
}

static uint64_t s_canon_double(double d)
{
    if (d == 0)
        d = 0;
    if (d != d)
        d = NAN;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

static int s_distinct_add(void *acc, const weir_agg_slot_t *s, const weir_batch_t *b, uint32_t row)
{
    s_set_t **sp = s_setp(acc, s->off);
    if (!*sp && !(*sp = s_set_new(s->type == WEIR_TYPE_STRING)))
        return -ENOMEM;
    const weir_column_t *c = &b->cols[s->col];
    switch (s->type) {
    case WEIR_TYPE_STRING: {
        uint32_t len;
        const char *p = weir_batch_str(b, s->col, row, &len);
        return s_set_add_str(*sp, p, len);
    }
    case WEIR_TYPE_DOUBLE: return s_set_add_num(*sp, s_canon_double(c->f64[row]));
    default: return s_set_add_num(*sp, (uint64_t)c->i64[row]);
    }
}

int weir_agg_add(const weir_aggs_t *a, void *acc, const weir_batch_t *b, uint32_t row)
{
    int rc = 0;
    (*s_u64(acc, 0))++;
    for (int i = 0; i < a->n; i++) {
        const weir_agg_slot_t *s = &a->slot[i];
        if (s->kind == WEIR_AGGK_ROWS)
            continue;
        const weir_column_t *c = &b->cols[s->col];
        if (c->null[row])
            continue;
        uint64_t *n = s_u64(acc, s->off);
        switch (s->kind) {
        case WEIR_AGGK_NONNULL: (*n)++; break;
        case WEIR_AGGK_SUM_I:
            (*n)++;
            s_put128(acc, s->off + 8, s_get128(acc, s->off + 8) + c->i64[row]);
            break;
        case WEIR_AGGK_SUM_F:
            (*n)++;
            s_putf(acc, s->off + 8, s_getf(acc, s->off + 8) + c->f64[row]);
            break;
        case WEIR_AGGK_MIN_I:
        case WEIR_AGGK_MAX_I: {
            int64_t *v = (int64_t *)(n + 1), x = c->i64[row];
            if (!*n || (s->kind == WEIR_AGGK_MIN_I ? x < *v : x > *v))
                *v = x;
            (*n)++;
            break;
        }
        case WEIR_AGGK_MIN_F:
        case WEIR_AGGK_MAX_F: {
            double x = c->f64[row];
            if (x != x)
                break; /* NaN neither wins nor counts */
            if (!*n || (s->kind == WEIR_AGGK_MIN_F ? x < s_getf(acc, s->off + 8)
                                                   : x > s_getf(acc, s->off + 8)))
                s_putf(acc, s->off + 8, x);
            (*n)++;
            break;
        }
        case WEIR_AGGK_DISTINCT: {
            int r = s_distinct_add(acc, s, b, row);
            if (r)
                rc = r;
            break;
        }
        default: break;
        }
    }
    return rc;
}

static int s_set_merge(s_set_t **dstp, const s_set_t *src)
{
    if (!src || !src->n)
        return 0;
    if (!*dstp && !(*dstp = s_set_new(src->is_str)))
        return -ENOMEM;
    for (uint32_t i = 0; i <= src->mask; i++) {
        if (!src->hash[i])
            continue;
        int rc;
        if (src->is_str) {
            uint32_t len;
            const char *p = s_set_str(src, src->val[i], &len);
            rc = s_set_add_str(*dstp, p, len);
        } else {
            rc = s_set_add_num(*dstp, src->val[i]);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int weir_agg_merge(const weir_aggs_t *a, void *dst, const void *src)
{
    int rc = 0;
    *s_u64(dst, 0) += *s_cu64(src, 0);
    for (int i = 0; i < a->n; i++) {
        const weir_agg_slot_t *s = &a->slot[i];
        if (s->kind == WEIR_AGGK_ROWS)
            continue;
        if (s->kind == WEIR_AGGK_DISTINCT) {
            int r = s_set_merge(s_setp(dst, s->off), s_cset(src, s->off));
            if (r)
                rc = r;
            continue;
        }
        uint64_t *dn = s_u64(dst, s->off);
        uint64_t sn = *s_cu64(src, s->off);
        if (!sn)
            continue;
        switch (s->kind) {
        case WEIR_AGGK_SUM_I:
            s_put128(dst, s->off + 8, s_get128(dst, s->off + 8) + s_get128(src, s->off + 8));
            break;
        case WEIR_AGGK_SUM_F:
            s_putf(dst, s->off + 8, s_getf(dst, s->off + 8) + s_getf(src, s->off + 8));
            break;
        case WEIR_AGGK_MIN_I:
        case WEIR_AGGK_MAX_I: {
            int64_t *v = (int64_t *)(dn + 1), x = *(const int64_t *)(s_cu64(src, s->off) + 1);
            if (!*dn || (s->kind == WEIR_AGGK_MIN_I ? x < *v : x > *v))
                *v = x;
            break;
        }
        case WEIR_AGGK_MIN_F:
        case WEIR_AGGK_MAX_F: {
            double x = s_getf(src, s->off + 8), v = s_getf(dst, s->off + 8);
            if (!*dn || (s->kind == WEIR_AGGK_MIN_F ? x < v : x > v))
                s_putf(dst, s->off + 8, x);
            break;
        }
        default: break;
        }
        *dn += sn;
    }
    return rc;
}

/* ---- serialization ----------------------------------------------------- */

static uint8_t *s_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}

static uint8_t *s_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 4;
}

static uint64_t s_rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t s_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t s_slot_bytes(const weir_agg_slot_t *s)
{
    switch (s->kind) {
    case WEIR_AGGK_ROWS: return 0;
    case WEIR_AGGK_NONNULL: return 8;
    case WEIR_AGGK_SUM_I: return 24;
    case WEIR_AGGK_DISTINCT: return 4;
    default: return 16;
    }
}

size_t weir_agg_encoded_size(const weir_aggs_t *a, const void *acc)
{
    size_t n = 8;
    for (int i = 0; i < a->n; i++) {
        const weir_agg_slot_t *s = &a->slot[i];
        n += s_slot_bytes(s);
        if (s->kind == WEIR_AGGK_DISTINCT) {
            const s_set_t *set = s_cset(acc, s->off);
            if (set)
                n += set->is_str ? 4 * (size_t)set->n + set->blob_len : 8 * (size_t)set->n;
        }
    }
    return n;
}

size_t weir_agg_encode(const weir_aggs_t *a, const void *acc, uint8_t *buf)
{
    uint8_t *p = s_le64(buf, *s_cu64(acc, 0));
    for (int i = 0; i < a->n; i++) {
        const weir_agg_slot_t *s = &a->slot[i];
        const uint64_t *w = s_cu64(acc, s->off);
        switch (s->kind) {
        case WEIR_AGGK_ROWS: break;
        case WEIR_AGGK_NONNULL: p = s_le64(p, w[0]); break;
        case WEIR_AGGK_SUM_I: {
            s_i128 v = s_get128(acc, s->off + 8);
            p = s_le64(p, w[0]);
            p = s_le64(p, (uint64_t)v);
            p = s_le64(p, (uint64_t)((unsigned __int128)v >> 64));
            break;
        }
        case WEIR_AGGK_DISTINCT: {
            const s_set_t *set = s_cset(acc, s->off);
            p = s_le32(p, set ? set->n : 0);
            if (!set)
                break;
            for (uint32_t j = 0; j <= set->mask; j++) {
                if (!set->hash[j])
                    continue;
                if (!set->is_str) {
                    p = s_le64(p, set->val[j]);
                    continue;
                }
                uint32_t len;
                const char *str = s_set_str(set, set->val[j], &len);
                p = s_le32(p, len);
                memcpy(p, str, len);
                p += len;
            }
            break;
        }
        default: {
            uint64_t v;
            memcpy(&v, w + 1, sizeof v);
            p = s_le64(p, w[0]);
            p = s_le64(p, v);
            break;
        }
        }
    }
    return (size_t)(p - buf);
}

int weir_agg_decode(const weir_aggs_t *a, void *acc, const uint8_t *buf, size_t len)
{
    const uint8_t *p = buf, *end = buf + len;
    int rc = WEIR_EINVAL;
    if (len < 8)
        return WEIR_EINVAL;
    *s_u64(acc, 0) = s_rd64(p);
    p += 8;
    for (int i = 0; i < a->n; i++) {
        const weir_agg_slot_t *s = &a->slot[i];
        size_t need = s_slot_bytes(s);
        if ((size_t)(end - p) < need)
            goto fail;
        uint64_t *w = s_u64(acc, s->off);
        switch (s->kind) {
        case WEIR_AGGK_ROWS: break;
        case WEIR_AGGK_NONNULL: w[0] = s_rd64(p); break;
        case WEIR_AGGK_SUM_I: {
            w[0] = s_rd64(p);
            unsigned __int128 u = (unsigned __int128)s_rd64(p + 16) << 64 | s_rd64(p + 8);
            s_put128(acc, s->off + 8, (s_i128)u);
            break;
        }
        case WEIR_AGGK_DISTINCT: {
            uint32_t n = s_rd32(p);
            int is_str = s->type == WEIR_TYPE_STRING;
            if (n > (size_t)(end - p - 4) / (is_str ? 4 : 8))
                goto fail;
            s_set_t *set = s_set_new(is_str);
            if (!set) {
                rc = -ENOMEM;
                goto fail;
            }
            *s_setp(acc, s->off) = set;
            const uint8_t *q = p + 4;
            for (uint32_t j = 0; j < n; j++) {
                int r;
                if (!is_str) {
                    if (end - q < 8)
                        goto fail;
                    r = s_set_add_num(set, s_rd64(q));
                    q += 8;
                } else {
                    if (end - q < 4)
                        goto fail;
                    uint32_t l = s_rd32(q);
                    if ((size_t)(end - q - 4) < l)
                        goto fail;
                    r = s_set_add_str(set, (const char *)q + 4, l);
                    q += 4 + (size_t)l;
                }
                if (r) {
                    rc = r;
                    goto fail;
                }
            }
            if (set->n != n)
                goto fail; /* duplicates: not a set we wrote */
            need = (size_t)(q - p);
            break;
        }
        default: {
            uint64_t v = s_rd64(p + 8);
            w[0] = s_rd64(p);
            memcpy(w + 1, &v, sizeof v);
            break;
        }
        }
        p += need;
    }
    if (p != end)
        goto fail;
    return 0;
fail:
    weir_agg_free(a, acc);
    return rc;
}

/* ---- output ------------------------------------------------------------ */

static size_t s_i128_text(s_i128 v, char *buf)
{
    char tmp[48];
    int n = 0;
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    size_t k = 0;
    if (v < 0)
        buf[k++] = '-';
    while (n > 0)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
    return k;
}

size_t weir_agg_format(const weir_aggs_t *a, const void *acc, int i, char *buf, int *is_null)
{
    const weir_agg_slot_t *s = &a->slot[i];
    const uint64_t *w = s_cu64(acc, s->off);
    *is_null = 0;
    buf[0] = '\0';
    switch (s->kind) {
    case WEIR_AGGK_ROWS: return s_i128_text((s_i128)*s_cu64(acc, 0), buf);
    case WEIR_AGGK_NONNULL: return s_i128_text((s_i128)w[0], buf);
    case WEIR_AGGK_DISTINCT: {
        const s_set_t *set = s_cset(acc, s->off);
        return s_i128_text(set ? set->n : 0, buf);
    }
    default: break;
    }
    if (!w[0]) {
        *is_null = 1;
        return 0;
    }
    switch (s->kind) {
    case WEIR_AGGK_SUM_I: {
        s_i128 sum = s_get128(acc, s->off + 8);
        if (s->fn == WEIR_AGG_SUM)
            return s_i128_text(sum, buf);
        return weir_csvsink_fmt_f64((double)sum / (double)w[0], buf);
    }
    case WEIR_AGGK_SUM_F: {
        double sum = s_getf(acc, s->off + 8);
        return weir_csvsink_fmt_f64(s->fn == WEIR_AGG_SUM ? sum : sum / (double)w[0], buf);
    }
    case WEIR_AGGK_MIN_I:
    case WEIR_AGGK_MAX_I: return s_i128_text(*(const int64_t *)(w + 1), buf);
    default: return weir_csvsink_fmt_f64(s_getf(acc, s->off + 8), buf);
    }
}
