/* batch: columnar row batches. See batch.h for the contract.
 *
 * Rejected: a row-oriented buffer of parsed records. Every consumer (key
 * hashing, aggregation, protobuf packing) walks one column at a time, and a
 * column maps onto one packed protobuf field without copying.
 */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

weir_batch_t *weir_batch_new(const weir_type_t *types, int n_cols, uint32_t cap_rows,
                             uint32_t blob_cap)
{
    if (n_cols < 0 || n_cols > WEIR_MAX_COLS || cap_rows == 0)
        return NULL;
    weir_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->n_cols = n_cols;
    b->cap_rows = cap_rows;
    b->ts_ms = calloc(cap_rows, sizeof *b->ts_ms);
    if (!b->ts_ms)
        goto fail;
    for (int i = 0; i < n_cols; i++) {
        weir_column_t *c = &b->cols[i];
        c->type = types[i];
        c->null = calloc(cap_rows, 1);
        if (!c->null)
            goto fail;
        switch (c->type) {
        case WEIR_TYPE_DOUBLE:
            c->f64 = calloc(cap_rows, sizeof *c->f64);
            if (!c->f64)
                goto fail;
            break;
        case WEIR_TYPE_STRING:
            c->off = calloc((size_t)cap_rows + 1, sizeof *c->off);
            c->blob_cap = blob_cap ? blob_cap : 64;
            c->blob = malloc(c->blob_cap);
            if (!c->off || !c->blob)
                goto fail;
            break;
        default:
            c->i64 = calloc(cap_rows, sizeof *c->i64);
            if (!c->i64)
                goto fail;
            break;
        }
    }
    return b;
fail:
    weir_batch_destroy(&b);
    return NULL;
}

weir_batch_t *weir_batch_new_for_job(const weir_job_t *job, uint32_t cap_rows)
{
    weir_type_t types[WEIR_MAX_COLS];
    for (int i = 0; i < job->source.n_fields; i++)
        types[i] = job->source.fields[i].type;
    return weir_batch_new(types, job->source.n_fields, cap_rows, 16 * cap_rows);
}

void weir_batch_destroy(weir_batch_t **pb)
{
    if (!pb || !*pb)
        return;
    weir_batch_t *b = *pb;
    for (int i = 0; i < b->n_cols; i++) {
        free(b->cols[i].i64);
        free(b->cols[i].f64);
        free(b->cols[i].off);
        free(b->cols[i].blob);
        free(b->cols[i].null);
    }
    free(b->ts_ms);
    free(b);
    *pb = NULL;
}

void weir_batch_clear(weir_batch_t *b)
{
    b->n_rows = 0;
}

void weir_batch_put_i64(weir_batch_t *b, int col, int64_t v)
{
    b->cols[col].i64[b->n_rows] = v;
    b->cols[col].null[b->n_rows] = 0;
}

void weir_batch_put_f64(weir_batch_t *b, int col, double v)
{
    b->cols[col].f64[b->n_rows] = v;
    b->cols[col].null[b->n_rows] = 0;
}

static int s_blob_reserve(weir_column_t *c, uint64_t need)
{
    if (need <= c->blob_cap)
        return 0;
    if (need > UINT32_MAX / 2)
        return -ENOMEM;
    uint32_t cap = c->blob_cap;
    while (cap < need)
        cap *= 2;
    char *p = realloc(c->blob, cap);
    if (!p)
        return -ENOMEM;
    c->blob = p;
    c->blob_cap = cap;
    return 0;
}

int weir_batch_put_str(weir_batch_t *b, int col, const char *s, uint32_t len)
{
    weir_column_t *c = &b->cols[col];
    uint32_t at = c->off[b->n_rows];
    int rc = s_blob_reserve(c, (uint64_t)at + len);
    if (rc)
        return rc;
    memcpy(c->blob + at, s, len);
    c->off[b->n_rows + 1] = at + len;
    c->null[b->n_rows] = 0;
    return 0;
}

void weir_batch_put_null(weir_batch_t *b, int col)
{
    weir_column_t *c = &b->cols[col];
    c->null[b->n_rows] = 1;
    if (c->type == WEIR_TYPE_STRING)
        c->off[b->n_rows + 1] = c->off[b->n_rows];
    else if (c->type == WEIR_TYPE_DOUBLE)
        c->f64[b->n_rows] = 0;
    else
        c->i64[b->n_rows] = 0;
}

void weir_batch_commit_row(weir_batch_t *b, int64_t ts_ms)
{
    b->ts_ms[b->n_rows] = ts_ms;
    b->n_rows++;
}

void weir_batch_abort_row(weir_batch_t *b)
{
    for (int i = 0; i < b->n_cols; i++)
        if (b->cols[i].type == WEIR_TYPE_STRING)
            b->cols[i].off[b->n_rows + 1] = b->cols[i].off[b->n_rows];
}

int weir_batch_copy_row(weir_batch_t *dst, const weir_batch_t *src, uint32_t row)
{
    for (int i = 0; i < src->n_cols; i++) {
        const weir_column_t *c = &src->cols[i];
        if (c->null[row]) {
            weir_batch_put_null(dst, i);
            continue;
        }
        switch (c->type) {
        case WEIR_TYPE_DOUBLE: weir_batch_put_f64(dst, i, c->f64[row]); break;
        case WEIR_TYPE_STRING: {
            uint32_t len;
            const char *s = weir_batch_str(src, i, row, &len);
            int rc = weir_batch_put_str(dst, i, s, len);
            if (rc) {
                weir_batch_abort_row(dst);
                return rc;
            }
            break;
        }
        default: weir_batch_put_i64(dst, i, c->i64[row]); break;
        }
    }
    weir_batch_commit_row(dst, src->ts_ms[row]);
    return 0;
}

size_t weir_batch_bytes(const weir_batch_t *b)
{
    size_t n = (size_t)b->n_rows * 8;
    for (int i = 0; i < b->n_cols; i++) {
        const weir_column_t *c = &b->cols[i];
        n += b->n_rows;
        if (c->type == WEIR_TYPE_STRING)
            n += (size_t)c->off[b->n_rows] + 4u * (size_t)b->n_rows;
        else
            n += 8u * (size_t)b->n_rows;
    }
    return n;
}
