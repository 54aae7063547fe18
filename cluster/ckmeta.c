/* ckmeta: content hashes and the checkpoint value types. See ckmeta.h.
 *
 * A snapshot's file array grows by doubling; its capacity is a function of
 * its length (s_cap), so a copy made with the exact capacity of the
 * original can keep growing without a separate capacity field.
 */
#include "ckmeta.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

struct weir_ck_hasher {
    crypto_generichash_state st;
};

static pthread_once_t s_sodium_once = PTHREAD_ONCE_INIT;

static void s_sodium_init(void)
{
    /* Failure leaves libsodium on its portable code paths, which hash the
     * same values, only slower. */
    (void)!sodium_init();
}

void weir_ck_hash_buf(const void *data, size_t len, weir_ck_hash_t *out)
{
    pthread_once(&s_sodium_once, s_sodium_init);
    crypto_generichash(out->b, sizeof out->b, data, len, NULL, 0);
}

weir_ck_hasher_t *weir_ck_hasher_new(void)
{
    pthread_once(&s_sodium_once, s_sodium_init);
    /* The state needs 64-byte alignment on some libsodium builds. */
    weir_ck_hasher_t *h = aligned_alloc(64, (sizeof *h + 63) / 64 * 64);
    if (!h)
        return NULL;
    crypto_generichash_init(&h->st, NULL, 0, WEIR_CK_HASH_BYTES);
    return h;
}

void weir_ck_hasher_update(weir_ck_hasher_t *h, const void *data, size_t len)
{
    crypto_generichash_update(&h->st, data, len);
}

void weir_ck_hasher_final(weir_ck_hasher_t *h, weir_ck_hash_t *out)
{
    crypto_generichash_final(&h->st, out->b, sizeof out->b);
}

void weir_ck_hasher_destroy(weir_ck_hasher_t **h)
{
    if (!h || !*h)
        return;
    free(*h);
    *h = NULL;
}

int weir_ck_hash_file(const char *path, weir_ck_hash_t *out, uint64_t *size_bytes)
{
    enum { CHUNK = 1 << 16 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    uint8_t *buf = malloc(CHUNK);
    weir_ck_hasher_t *h = weir_ck_hasher_new();
    if (!buf || !h) {
        rc = -ENOMEM;
        goto done;
    }
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto done;
        }
        if (r == 0)
            break;
        weir_ck_hasher_update(h, buf, (size_t)r);
        total += (uint64_t)r;
    }
    weir_ck_hasher_final(h, out);
    if (size_bytes)
        *size_bytes = total;
done:
    weir_ck_hasher_destroy(&h);
    free(buf);
    close(fd);
    return rc;
}

void weir_ck_hash_hex(const weir_ck_hash_t *h, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < WEIR_CK_HASH_BYTES; i++) {
        out[2 * i] = digits[h->b[i] >> 4];
        out[2 * i + 1] = digits[h->b[i] & 15];
    }
    out[(size_t)2 * WEIR_CK_HASH_BYTES] = 0;
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int weir_ck_hash_parse(const char *hex, weir_ck_hash_t *out)
{
    weir_ck_hash_t h;
    for (size_t i = 0; i < WEIR_CK_HASH_BYTES; i++) {
        int hi = s_hexval(hex[2 * i]);
        int lo = hi < 0 ? -1 : s_hexval(hex[2 * i + 1]);
        if (lo < 0)
            return WEIR_EINVAL;
        h.b[i] = (uint8_t)(hi << 4 | lo);
    }
    if (hex[(size_t)2 * WEIR_CK_HASH_BYTES] != 0)
        return WEIR_EINVAL;
    *out = h;
    return 0;
}

bool weir_ck_hash_eq(const weir_ck_hash_t *a, const weir_ck_hash_t *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}

static bool s_name_ok(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n == 0 || n >= max || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool weir_ck_file_name_ok(const char *name)
{
    return s_name_ok(name, WEIR_CK_NAME_MAX);
}

bool weir_ck_job_ok(const char *job)
{
    return s_name_ok(job, WEIR_CK_JOB_MAX);
}

/* Capacity of a file array holding n files: 0, then powers of two >= 4. */
static uint32_t s_cap(uint32_t n)
{
    if (n == 0)
        return 0;
    uint32_t c = 4;
    while (c < n)
        c *= 2;
    return c;
}

int weir_ck_snap_add_file(weir_ck_task_snap_t *s, const char *name, const weir_ck_hash_t *hash,
                          uint64_t size_bytes)
{
    if (!weir_ck_file_name_ok(name))
        return WEIR_EINVAL;
    if (s->n_files >= WEIR_CK_MAX_FILES)
        return WEIR_EFULL;
    if (s->n_files == s_cap(s->n_files)) {
        uint32_t cap = s_cap(s->n_files + 1);
        weir_ck_file_t *f = realloc(s->files, (size_t)cap * sizeof *f);
        if (!f)
            return -ENOMEM;
        s->files = f;
    }
    weir_ck_file_t *f = &s->files[s->n_files++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name); /* fits: weir_ck_file_name_ok */
    f->hash = *hash;
    f->size_bytes = size_bytes;
    s->state_bytes += size_bytes;
    return 0;
}

int weir_ck_snap_copy(weir_ck_task_snap_t *dst, const weir_ck_task_snap_t *src)
{
    *dst = *src;
    dst->files = NULL;
    if (src->n_files == 0)
        return 0;
    dst->files = malloc((size_t)s_cap(src->n_files) * sizeof *dst->files);
    if (!dst->files) {
        memset(dst, 0, sizeof *dst);
        return -ENOMEM;
    }
    memcpy(dst->files, src->files, (size_t)src->n_files * sizeof *dst->files);
    return 0;
}

void weir_ck_snap_clear(weir_ck_task_snap_t *s)
{
    free(s->files);
    memset(s, 0, sizeof *s);
}

void weir_ck_meta_clear(weir_ck_meta_t *m)
{
    for (uint32_t i = 0; i < m->n_tasks; i++)
        weir_ck_snap_clear(&m->tasks[i]);
    free(m->tasks);
    memset(m, 0, sizeof *m);
}
