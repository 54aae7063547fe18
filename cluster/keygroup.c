/* keygroup: key encoding, xxh64 hashing, key-group ranges. See keygroup.h.
 *
 * Rejected: hashing the CSV text of the key. "170" and "0170" are the same
 * int64 key and must land in the same key group and the same state entry.
 */
#include "keygroup.h"

#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

static size_t s_put_be64(uint8_t *buf, size_t cap, size_t at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        if (at + (size_t)i < cap)
            buf[at + (size_t)i] = (uint8_t)(v >> (56 - 8 * i));
    return at + 8;
}

size_t weir_key_encode(const weir_job_t *job, const weir_batch_t *b, uint32_t row, uint8_t *buf,
                       size_t cap)
{
    size_t at = 0;
    for (int k = 0; k < job->n_keys; k++) {
        const weir_column_t *c = &b->cols[job->key_cols[k]];
        if (c->null[row]) {
            if (at < cap)
                buf[at] = 0xFF;
            at++;
            continue;
        }
        if (at < cap)
            buf[at] = 0x00; /* a value follows */
        at++;
        switch (c->type) {
        case WEIR_TYPE_STRING: {
            uint32_t len;
            const char *s = weir_batch_str(b, job->key_cols[k], row, &len);
            if (k + 1 < job->n_keys) {
                for (int i = 0; i < 4; i++) {
                    if (at < cap)
                        buf[at] = (uint8_t)(len >> (24 - 8 * i));
                    at++;
                }
            }
            if (at < cap)
                memcpy(buf + at, s, at + len <= cap ? len : cap - at);
            at += len;
            break;
        }
        case WEIR_TYPE_DOUBLE: {
            double d = c->f64[row];
            if (d == 0)
                d = 0; /* -0.0 and 0.0 are one key */
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            at = s_put_be64(buf, cap, at, bits);
            break;
        }
        default: at = s_put_be64(buf, cap, at, (uint64_t)c->i64[row]); break;
        }
    }
    return at;
}

uint32_t weir_keygroup_of(const void *key, size_t len, uint32_t max_key_groups)
{
    return (uint32_t)(XXH64(key, len, 0) % max_key_groups);
}

uint32_t weir_keygroup_of_row(const weir_job_t *job, const weir_batch_t *b, uint32_t row)
{
    uint8_t buf[WEIR_KEY_MAX];
    size_t len = weir_key_encode(job, b, row, buf, sizeof buf);
    if (len <= sizeof buf)
        return weir_keygroup_of(buf, len, (uint32_t)job->max_key_groups);
    /* A key longer than the buffer: hash it in pieces, column by column. */
    XXH64_state_t st;
    XXH64_reset(&st, 0);
    for (int k = 0; k < job->n_keys; k++) {
        const weir_column_t *c = &b->cols[job->key_cols[k]];
        if (c->type == WEIR_TYPE_STRING && !c->null[row]) {
            uint32_t n;
            const char *s = weir_batch_str(b, job->key_cols[k], row, &n);
            uint8_t tag_len[5] = {0x00, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                                  (uint8_t)n};
            XXH64_update(&st, tag_len, k + 1 < job->n_keys ? 5 : 1);
            XXH64_update(&st, s, n);
        } else {
            weir_job_t one = *job;
            one.n_keys = 1;
            one.key_cols[0] = job->key_cols[k];
            uint8_t tmp[16];
            size_t n = weir_key_encode(&one, b, row, tmp, sizeof tmp);
            XXH64_update(&st, tmp, n);
        }
    }
    return (uint32_t)(XXH64_digest(&st) % (uint64_t)job->max_key_groups);
}

void weir_keygroup_range(uint32_t index, uint32_t parallelism, uint32_t max_key_groups,
                         uint32_t *first, uint32_t *last)
{
    *first = (uint32_t)((uint64_t)index * max_key_groups / parallelism);
    *last = (uint32_t)((uint64_t)(index + 1) * max_key_groups / parallelism) - 1;
}

uint32_t weir_keygroup_owner(uint32_t kg, uint32_t parallelism, uint32_t max_key_groups)
{
    /* Inverse of weir_keygroup_range: the largest i with first(i) <= kg. */
    uint32_t i = (uint32_t)(((uint64_t)kg * parallelism + parallelism - 1) / max_key_groups);
    while (i > 0 && (uint64_t)i * max_key_groups / parallelism > kg)
        i--;
    while (i + 1 < parallelism && (uint64_t)(i + 1) * max_key_groups / parallelism <= kg)
        i++;
    return i;
}
