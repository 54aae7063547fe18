/* state: state keys sort like (key group, end, start, key), values round
 * trip through write batches, scans stay inside one key group, column
 * families survive a reopen unless opened fresh, and dropping removes them.
 * Checkpoints hold the state as of their flush, share unchanged SST files
 * with the previous one, and restore any key-group range into another
 * family, also from a checkpoint that holds only that family's files.
 * Every test works in its own temporary directory. */
#include <CUnit/CUnit.h>
#include <ftw.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "state.h"
#include "testrand.h"
#include "timeu.h"

static char s_dir[64];

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static weir_state_t *s_open(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/weir-state-XXXXXX");
    if (!mkdtemp(s_dir))
        return NULL;
    weir_state_t *st = NULL;
    char err[256];
    if (weir_state_open(s_dir, &st, err, sizeof err) != 0)
        fprintf(stderr, "\n%s\n", err);
    return st;
}

static void s_close(weir_state_t **st)
{
    weir_state_destroy(st);
    nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct {
    uint32_t kg;
    int64_t end, start;
    uint8_t key[6];
    size_t key_len;
    uint8_t enc[WEIR_STATE_KEY_HDR + 6];
    size_t enc_len;
} s_tuple_t;

static int s_cmp_tuple(const void *pa, const void *pb)
{
    const s_tuple_t *a = pa, *b = pb;
    if (a->kg != b->kg)
        return a->kg < b->kg ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c)
        return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int s_cmp_bytes(const void *pa, const void *pb)
{
    const s_tuple_t *a = pa, *b = pb;
    size_t n = a->enc_len < b->enc_len ? a->enc_len : b->enc_len;
    int c = memcmp(a->enc, b->enc, n);
    if (c)
        return c;
    return a->enc_len < b->enc_len ? -1 : a->enc_len > b->enc_len;
}

static const int64_t s_ts[] = {INT64_MIN, INT64_MIN + 1, -3600000,      -1,       0,
                               1,         3600000,       INT64_MAX - 1, INT64_MAX};

/* Encodes random keys, sorts them by bytes and by fields, and returns how
 * many positions differ. */
static int s_key_order_run(uint64_t seed)
{
    testrand_t r;
    testrand_seed(&r, seed);
    enum { N = 4000 };
    static s_tuple_t a[N], b[N];
    for (int i = 0; i < N; i++) {
        s_tuple_t *t = &a[i];
        t->kg = testrand_below(&r, 3) * 255 + testrand_below(&r, 2);
        t->end = testrand_below(&r, 2) ? s_ts[testrand_below(&r, 9)]
                                       : (int64_t)testrand_below(&r, 2000000) - 1000000;
        t->start = testrand_below(&r, 2) ? s_ts[testrand_below(&r, 9)]
                                         : (int64_t)testrand_below(&r, 2000000) - 1000000;
        t->key_len = testrand_below(&r, 7);
        for (size_t k = 0; k < t->key_len; k++)
            t->key[k] = (uint8_t)(testrand_below(&r, 3) ? testrand_next(&r) : 0xFF);
        t->enc_len = weir_state_key_encode(t->enc, t->kg, t->end, t->start, t->key, t->key_len);
        CU_ASSERT_EQUAL(t->enc_len, WEIR_STATE_KEY_HDR + t->key_len);
        uint32_t kg;
        int64_t end, start;
        const uint8_t *key;
        size_t klen;
        CU_ASSERT_EQUAL(weir_state_key_decode(t->enc, t->enc_len, &kg, &end, &start, &key, &klen),
                        0);
        CU_ASSERT(kg == t->kg && end == t->end && start == t->start && klen == t->key_len);
        CU_ASSERT(memcmp(key, t->key, klen) == 0);
    }
    memcpy(b, a, sizeof a);
    qsort(a, N, sizeof a[0], s_cmp_tuple);
    qsort(b, N, sizeof b[0], s_cmp_bytes);
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += s_cmp_tuple(&a[i], &b[i]) != 0;
    if (bad)
        fprintf(stderr, "\nkey order differs: WEIR_TEST_SEED=%" PRIu64 "\n", seed);
    return bad;
}

static void encoded_keys_sort_like_their_fields(void)
{
    int bad = 0;
    for (int i = 0; i < testrand_n_seeds(3); i++)
        bad += s_key_order_run(testrand_seed_at(i));
    CU_ASSERT_EQUAL(bad, 0);
    uint8_t x[8];
    weir_state_put_ts(x, -1);
    CU_ASSERT(x[0] == 0x7F && x[7] == 0xFF);
    weir_state_put_ts(x, 0);
    CU_ASSERT(x[0] == 0x80 && x[7] == 0x00);
    CU_ASSERT_EQUAL(weir_state_get_ts(x), 0);
    CU_ASSERT_EQUAL(weir_state_key_decode(x, 8, &(uint32_t){0}, &(int64_t){0}, &(int64_t){0},
                                          &(const uint8_t *){NULL}, &(size_t){0}),
                    WEIR_EINVAL);
}

static void values_round_trip_through_write_batches(void)
{
    weir_state_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_state_cf_t *cf = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job/1/win", true, &cf), 0);
    weir_state_cf_t *again = NULL;
    CU_ASSERT_EQUAL(weir_state_cf_open(st, "job/1/win", false, &again), WEIR_EINVAL);
    weir_state_wb_t *wb = weir_state_wb_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wb);
    uint8_t k[64];
    for (int i = 0; i < 1000; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "value %d", i);
        int64_t end = (int64_t)-i * 1000;
        size_t kl = weir_state_key_encode(k, (uint32_t)(i % 7), end, end - 3600000, "key", 3);
        weir_state_wb_put(wb, cf, k, kl, v, (size_t)n);
    }
    CU_ASSERT_EQUAL(weir_state_wb_count(wb), 1000);
    weir_state_val_t val;
    size_t kl = weir_state_key_encode(k, 5, -5000, -5000 - 3600000, "key", 3);
    CU_ASSERT_EQUAL(weir_state_get(st, cf, k, kl, &val), WEIR_ENOTFOUND); /* not committed */
    CU_ASSERT_EQUAL(weir_state_wb_commit(st, wb), 0);
    CU_ASSERT_EQUAL(weir_state_wb_count(wb), 0);
    CU_ASSERT_EQUAL_FATAL(weir_state_get(st, cf, k, kl, &val), 0);
    CU_ASSERT_EQUAL(val.len, 7);
    CU_ASSERT_NSTRING_EQUAL(val.data, "value 5", 7);
    weir_state_val_release(&val);
    weir_state_wb_delete(wb, cf, k, kl);
    CU_ASSERT_EQUAL(weir_state_wb_commit(st, wb), 0);
    CU_ASSERT_EQUAL(weir_state_get(st, cf, k, kl, &val), WEIR_ENOTFOUND);
    weir_state_wb_destroy(&wb);
    CU_ASSERT_PTR_NULL(wb);
    CU_ASSERT_EQUAL(weir_state_cf_drop(st, &cf), 0);
    CU_ASSERT_PTR_NULL(cf);
    s_close(&st);
    CU_ASSERT_PTR_NULL(st);
}

/* Scans [kg|lo_end, kg|hi_end] the way the window operator fires, and
 * returns the ends seen, in order, in out. */
static int s_scan(weir_state_t *st, weir_state_cf_t *cf, uint32_t kg, int64_t lo, int64_t hi,
                  int64_t *out, int cap)
{
    uint8_t lower[WEIR_STATE_KEY_HDR], upper[10];
    weir_state_key_encode(lower, kg, lo, INT64_MIN, NULL, 0);
    CU_ASSERT_EQUAL(weir_state_key_bound_after(upper, kg, hi), 10);
    weir_state_iter_t *it = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_iter_open(st, cf, upper, 10, &it), 0);
    int n = 0;
    for (weir_state_iter_seek(it, lower, 10); weir_state_iter_valid(it); weir_state_iter_next(it)) {
        size_t len;
        const uint8_t *k = weir_state_iter_key(it, &len);
        uint32_t g;
        int64_t end, start;
        const uint8_t *key;
        size_t klen;
        CU_ASSERT_EQUAL(weir_state_key_decode(k, len, &g, &end, &start, &key, &klen), 0);
        CU_ASSERT_EQUAL(g, kg);
        if (n < cap)
            out[n] = end;
        n++;
    }
    CU_ASSERT_EQUAL(weir_state_iter_status(it), 0);
    weir_state_iter_destroy(&it);
    return n;
}

static void range_scans_stay_in_one_key_group_in_end_order(void)
{
    weir_state_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_state_cf_t *cf = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "scan", true, &cf), 0);
    weir_state_wb_t *wb = weir_state_wb_new();
    static const int64_t ends[] = {3000, -2000, INT64_MAX, 0, -1, INT64_MIN, 1000, -1000};
    uint8_t k[64];
    for (uint32_t kg = 3; kg <= 5; kg++)
        for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
            for (int key = 0; key < 2; key++) {
                uint8_t kb = (uint8_t)(key ? 0xFF : 0x00);
                size_t kl =
                    weir_state_key_encode(k, kg, ends[i], weir_sat_sub(ends[i], 1000), &kb, 1);
                weir_state_wb_put(wb, cf, k, kl, "v", 1);
            }
    CU_ASSERT_EQUAL(weir_state_wb_commit(st, wb), 0);
    int64_t seen[64];
    int n = s_scan(st, cf, 4, -2000, 1000, seen, 64);
    static const int64_t want[] = {-2000, -2000, -1000, -1000, -1, -1, 0, 0, 1000, 1000};
    CU_ASSERT_EQUAL(n, 10);
    for (int i = 0; i < n && i < 10; i++)
        CU_ASSERT_EQUAL(seen[i], want[i]);
    n = s_scan(st, cf, 5, INT64_MIN, INT64_MAX, seen, 64);
    CU_ASSERT_EQUAL(n, 16);
    CU_ASSERT_EQUAL(seen[0], INT64_MIN);
    CU_ASSERT_EQUAL(seen[15], INT64_MAX);
    /* a range delete of key group 4's windows ending before 0 */
    uint8_t from[WEIR_STATE_KEY_HDR], to[WEIR_STATE_KEY_HDR];
    weir_state_key_encode(from, 4, INT64_MIN, INT64_MIN, NULL, 0);
    weir_state_key_encode(to, 4, 0, INT64_MIN, NULL, 0);
    weir_state_wb_delete_range(wb, cf, from, 10, to, 10);
    CU_ASSERT_EQUAL(weir_state_wb_commit(st, wb), 0);
    n = s_scan(st, cf, 4, INT64_MIN, INT64_MAX, seen, 64);
    CU_ASSERT_EQUAL(n, 8);
    CU_ASSERT_EQUAL(seen[0], 0);
    CU_ASSERT_EQUAL(s_scan(st, cf, 3, INT64_MIN, INT64_MAX, seen, 64), 16);
    CU_ASSERT_EQUAL(s_scan(st, cf, 6, INT64_MIN, INT64_MAX, seen, 64), 0);
    weir_state_wb_destroy(&wb);
    weir_state_cf_drop(st, &cf);
    s_close(&st);
}

static void families_survive_a_reopen_unless_opened_fresh(void)
{
    weir_state_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_state_cf_t *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "a", true, &a), 0);
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "b", true, &b), 0);
    weir_state_wb_t *wb = weir_state_wb_new();
    weir_state_wb_put(wb, a, "k", 1, "in a", 4);
    weir_state_wb_put(wb, b, "k", 1, "in b", 4);
    CU_ASSERT_EQUAL(weir_state_wb_commit(st, wb), 0);
    weir_state_wb_destroy(&wb);
    weir_state_cf_close(st, &a);
    weir_state_cf_close(st, &b);
    weir_state_destroy(&st);

    char err[256];
    CU_ASSERT_EQUAL_FATAL(weir_state_open(s_dir, &st, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "a", false, &a), 0);
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "b", true, &b), 0);
    weir_state_val_t v;
    CU_ASSERT_EQUAL_FATAL(weir_state_get(st, a, "k", 1, &v), 0);
    CU_ASSERT_NSTRING_EQUAL(v.data, "in a", 4);
    weir_state_val_release(&v);
    CU_ASSERT_EQUAL(weir_state_get(st, b, "k", 1, &v), WEIR_ENOTFOUND);
    CU_ASSERT_EQUAL(weir_state_cf_drop(st, &a), 0);
    weir_state_cf_close(st, &b);
    weir_state_destroy(&st);

    CU_ASSERT_EQUAL_FATAL(weir_state_open(s_dir, &st, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "a", false, &a), 0);
    CU_ASSERT_EQUAL(weir_state_get(st, a, "k", 1, &v), WEIR_ENOTFOUND); /* dropped */
    weir_state_cf_drop(st, &a);
    s_close(&st);
}

static void a_database_that_cannot_open_names_its_directory(void)
{
    weir_state_t *st = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(weir_state_open("/proc/version/db", &st, err, sizeof err), WEIR_ESTATE);
    CU_ASSERT_PTR_NULL(st);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/proc/version/db"));
    weir_state_destroy(&st);
}

/* ---- checkpoints ---- */

/* Puts n keys into each key group in [kg_first, kg_last] of cf; the value
 * says which round wrote it. */
static void s_put_groups(weir_state_t *st, weir_state_cf_t *cf, uint32_t kg_first, uint32_t kg_last,
                         int n, int round)
{
    weir_state_wb_t *wb = weir_state_wb_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(wb);
    uint8_t k[64];
    for (uint32_t kg = kg_first; kg <= kg_last; kg++) {
        for (int i = 0; i < n; i++) {
            char key[16], val[32];
            int kl = snprintf(key, sizeof key, "k%d", i);
            int vl = snprintf(val, sizeof val, "r%d/g%u/k%d", round, (unsigned)kg, i);
            size_t len = weir_state_key_encode(k, kg, 3600000 * (int64_t)(i % 3 + 1),
                                               3600000 * (int64_t)(i % 3), key, (size_t)kl);
            weir_state_wb_put(wb, cf, k, len, val, (size_t)vl);
        }
    }
    CU_ASSERT_EQUAL(weir_state_wb_commit(st, wb), 0);
    weir_state_wb_destroy(&wb);
}

/* Walks all of cf: counts keys per key group (counts[kg] for kg < 64) and
 * checks that every value was written in `round`. Returns the key count. */
static int s_walk(weir_state_t *st, weir_state_cf_t *cf, int *counts, int round)
{
    weir_state_iter_t *it = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_iter_open(st, cf, NULL, 0, &it), 0);
    int n = 0;
    char want[16];
    int wl = snprintf(want, sizeof want, "r%d/", round);
    for (weir_state_iter_seek(it, "", 0); weir_state_iter_valid(it); weir_state_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *k = weir_state_iter_key(it, &klen);
        const uint8_t *v = weir_state_iter_value(it, &vlen);
        uint32_t kg = (uint32_t)k[0] << 8 | k[1];
        if (kg < 64)
            counts[kg]++;
        CU_ASSERT(vlen > (size_t)wl && memcmp(v, want, (size_t)wl) == 0);
        n++;
    }
    CU_ASSERT_EQUAL(weir_state_iter_status(it), 0);
    weir_state_iter_destroy(&it);
    return n;
}

static void a_checkpoint_restores_exactly_the_key_groups_asked_for(void)
{
    weir_state_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_state_cf_t *src = NULL, *dst = NULL, *all = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job/1/w0", true, &src), 0);
    s_put_groups(st, src, 0, 9, 50, 1);
    char ck[128], err[512] = "";
    snprintf(ck, sizeof ck, "%s/ck1", s_dir);
    weir_state_ckfile_t *files = NULL;
    size_t n_files = 0;
    CU_ASSERT_EQUAL_FATAL(weir_state_checkpoint(st, ck, NULL, &files, &n_files, err, sizeof err),
                          0);
    CU_ASSERT(n_files >= 3); /* at least one SST, MANIFEST, CURRENT */
    bool have_sst = false, have_current = false;
    for (size_t i = 0; i < n_files; i++) {
        have_sst |= files[i].immutable && strcmp(files[i].cf, "job/1/w0") == 0;
        have_current |=
            strcmp(files[i].name, "CURRENT") == 0 && !files[i].immutable && files[i].cf[0] == 0;
        CU_ASSERT(files[i].size_bytes > 0);
    }
    CU_ASSERT_TRUE(have_sst);
    CU_ASSERT_TRUE(have_current);
    CU_ASSERT_TRUE(files[0].immutable); /* SST files first */
    weir_state_ckfiles_free(&files);
    CU_ASSERT_PTR_NULL(files);
    /* written after the checkpoint: must not come back */
    s_put_groups(st, src, 3, 5, 60, 2);

    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job/2/w1", true, &dst), 0);
    uint64_t n_keys = 0;
    CU_ASSERT_EQUAL(
        weir_state_restore_range(st, ck, "job/1/w0", dst, 3, 6, &n_keys, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n_keys, 4 * 50);
    int counts[64] = {0};
    CU_ASSERT_EQUAL(s_walk(st, dst, counts, 1), 200);
    for (int kg = 0; kg < 10; kg++)
        CU_ASSERT_EQUAL(counts[kg], kg >= 3 && kg <= 6 ? 50 : 0);

    /* the whole range, up to the last key group */
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job/2/all", true, &all), 0);
    CU_ASSERT_EQUAL(
        weir_state_restore_range(st, ck, "job/1/w0", all, 0, 65535, &n_keys, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n_keys, 500);
    CU_ASSERT_EQUAL(
        weir_state_restore_range(st, ck, "job/1/w0", all, 10, 65535, &n_keys, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n_keys, 0);

    /* refusals */
    CU_ASSERT_EQUAL(weir_state_restore_range(st, ck, "job/1/w0", all, 5, 4, NULL, err, sizeof err),
                    WEIR_EINVAL);
    CU_ASSERT_EQUAL(
        weir_state_restore_range(st, ck, "job/1/w0", all, 0, 65536, NULL, err, sizeof err),
        WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_state_restore_range(st, ck, "nope", all, 0, 9, NULL, err, sizeof err),
                    WEIR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nope"));
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-checkpoint", s_dir);
    CU_ASSERT_EQUAL(
        weir_state_restore_range(st, missing, "job/1/w0", all, 0, 9, NULL, err, sizeof err),
        WEIR_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, missing));
    /* a checkpoint directory that exists already is refused */
    CU_ASSERT_EQUAL(weir_state_checkpoint(st, ck, NULL, &files, &n_files, err, sizeof err),
                    WEIR_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ck));
    CU_ASSERT_PTR_NULL(files);

    weir_state_cf_drop(st, &src);
    weir_state_cf_drop(st, &dst);
    weir_state_cf_drop(st, &all);
    s_close(&st);
}

static const weir_state_ckfile_t *s_find(const weir_state_ckfile_t *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

static void a_second_checkpoint_shares_unchanged_sst_files_with_the_first(void)
{
    weir_state_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_state_cf_t *cf = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "w", true, &cf), 0);
    s_put_groups(st, cf, 0, 31, 40, 1);
    char ck1[128], ck2[128], err[512] = "";
    snprintf(ck1, sizeof ck1, "%s/ck1", s_dir);
    snprintf(ck2, sizeof ck2, "%s/ck2", s_dir);
    weir_state_ckfile_t *f1 = NULL, *f2 = NULL;
    size_t n1 = 0, n2 = 0;
    CU_ASSERT_EQUAL_FATAL(weir_state_checkpoint(st, ck1, NULL, &f1, &n1, err, sizeof err), 0);
    s_put_groups(st, cf, 40, 41, 40, 2);
    CU_ASSERT_EQUAL_FATAL(weir_state_checkpoint(st, ck2, NULL, &f2, &n2, err, sizeof err), 0);
    size_t shared = 0, new_files = 0, sst2 = 0;
    for (size_t i = 0; i < n2; i++) {
        const weir_state_ckfile_t *old = s_find(f1, n1, f2[i].name);
        sst2 += f2[i].immutable;
        if (f2[i].immutable && old && old->size_bytes == f2[i].size_bytes) {
            shared++;
            /* the very same file: hard links into the live database */
            char p1[256], p2[256];
            struct stat s1, s2;
            snprintf(p1, sizeof p1, "%s/%s", ck1, f2[i].name);
            snprintf(p2, sizeof p2, "%s/%s", ck2, f2[i].name);
            CU_ASSERT(stat(p1, &s1) == 0 && stat(p2, &s2) == 0 && s1.st_ino == s2.st_ino);
        } else {
            new_files++; /* what an incremental checkpoint uploads */
        }
    }
    CU_ASSERT(shared >= 1);
    CU_ASSERT(sst2 > shared); /* the second round made a new SST file */
    CU_ASSERT(new_files < n2);
    weir_state_ckfiles_free(&f1);
    weir_state_ckfiles_free(&f2);
    weir_state_cf_drop(st, &cf);
    s_close(&st);
}

static void a_checkpoint_of_one_family_restores_from_its_files_alone(void)
{
    weir_state_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_state_cf_t *a = NULL, *b = NULL, *dst = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job/1/w0", true, &a), 0);
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job/1/w1", true, &b), 0);
    s_put_groups(st, a, 0, 3, 20, 1);
    s_put_groups(st, b, 4, 7, 20, 1);
    char all[128], ck[128], part[128], err[512] = "";
    snprintf(all, sizeof all, "%s/all", s_dir);
    snprintf(ck, sizeof ck, "%s/ck-a", s_dir);
    snprintf(part, sizeof part, "%s/part", s_dir);
    weir_state_ckfile_t *f = NULL;
    size_t n = 0;
    /* b's SST files exist (flushed by a whole checkpoint) */
    CU_ASSERT_EQUAL_FATAL(weir_state_checkpoint(st, all, NULL, &f, &n, err, sizeof err), 0);
    weir_state_ckfiles_free(&f);
    s_put_groups(st, a, 0, 3, 20, 2);
    CU_ASSERT_EQUAL_FATAL(weir_state_checkpoint(st, ck, a, &f, &n, err, sizeof err), 0);
    size_t sst = 0;
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(f[i].cf[0] == 0 || strcmp(f[i].cf, "job/1/w0") == 0);
        CU_ASSERT_EQUAL(f[i].immutable, f[i].cf[0] != 0);
        sst += f[i].immutable;
    }
    CU_ASSERT(sst >= 2); /* both rounds of a */
    /* a directory with only the listed files, as a restoring node builds it */
    CU_ASSERT_EQUAL_FATAL(mkdir(part, 0755), 0);
    for (size_t i = 0; i < n; i++) {
        char from[256], to[256];
        snprintf(from, sizeof from, "%s/%s", ck, f[i].name);
        snprintf(to, sizeof to, "%s/%s", part, f[i].name);
        CU_ASSERT_EQUAL(link(from, to), 0);
    }
    weir_state_ckfiles_free(&f);
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job/2/w0", true, &dst), 0);
    uint64_t n_keys = 0;
    CU_ASSERT_EQUAL(
        weir_state_restore_range(st, part, "job/1/w0", dst, 0, 3, &n_keys, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n_keys, 80);
    int counts[64] = {0};
    CU_ASSERT_EQUAL(s_walk(st, dst, counts, 2), 80);
    weir_state_cf_drop(st, &a);
    weir_state_cf_drop(st, &b);
    weir_state_cf_drop(st, &dst);
    s_close(&st);
}

void test_state_register(void)
{
    CU_pSuite s = CU_add_suite("state", NULL, NULL);
    CU_add_test(s, "encoded keys sort like their fields", encoded_keys_sort_like_their_fields);
    CU_add_test(s, "values round trip through write batches",
                values_round_trip_through_write_batches);
    CU_add_test(s, "range scans stay in one key group in end order",
                range_scans_stay_in_one_key_group_in_end_order);
    CU_add_test(s, "families survive a reopen unless opened fresh",
                families_survive_a_reopen_unless_opened_fresh);
    CU_add_test(s, "a database that cannot open names its directory",
                a_database_that_cannot_open_names_its_directory);
    CU_add_test(s, "a checkpoint restores exactly the key groups asked for",
                a_checkpoint_restores_exactly_the_key_groups_asked_for);
    CU_add_test(s, "a second checkpoint shares unchanged SST files with the first",
                a_second_checkpoint_shares_unchanged_sst_files_with_the_first);
    CU_add_test(s, "a checkpoint of one family restores from its files alone",
                a_checkpoint_of_one_family_restores_from_its_files_alone);
}
