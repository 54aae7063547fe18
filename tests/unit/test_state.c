/* state: state keys sort like (key group, end, start, key), values round
 * trip through write batches, scans stay inside one key group, column
 * families survive a reopen unless opened fresh, and dropping removes them.
 * Every test works in its own temporary directory. */
#include <CUnit/CUnit.h>
#include <ftw.h>
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
}
