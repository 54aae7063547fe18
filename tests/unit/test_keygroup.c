/* keygroup: a row's key columns are encoded canonically and hashed with
 * xxh64 into one of max_key_groups key groups; keyed task i of P owns the
 * contiguous range [floor(i*G/P), floor((i+1)*G/P) - 1].
 *
 * Rows are built in a batch of schema s_types; a job names which of its
 * columns form the key.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "keygroup.h"

enum { C_INT, C_STR, C_DBL, C_BOOL, C_TS, C_STR2, N_COLS };
static const weir_type_t s_types[N_COLS] = {WEIR_TYPE_INT64, WEIR_TYPE_STRING,    WEIR_TYPE_DOUBLE,
                                            WEIR_TYPE_BOOL,  WEIR_TYPE_TIMESTAMP, WEIR_TYPE_STRING};

/* weir_job_t is large; the tests share one, reset by s_job(). */
static weir_job_t s_jobv;

static const weir_job_t *s_job(int max_key_groups, int n_keys, const int *cols)
{
    memset(&s_jobv, 0, sizeof s_jobv);
    s_jobv.max_key_groups = max_key_groups;
    s_jobv.n_keys = n_keys;
    for (int i = 0; i < n_keys; i++)
        s_jobv.key_cols[i] = cols[i];
    return &s_jobv;
}

static weir_batch_t *s_batch(void)
{
    return weir_batch_new(s_types, N_COLS, 16, 16);
}

/* Appends a row; str/str2 NULL pointers put NULL values. */
static void s_row(weir_batch_t *b, int64_t i, const char *str, double d, const char *str2)
{
    weir_batch_put_i64(b, C_INT, i);
    if (str)
        weir_batch_put_str(b, C_STR, str, (uint32_t)strlen(str));
    else
        weir_batch_put_null(b, C_STR);
    weir_batch_put_f64(b, C_DBL, d);
    weir_batch_put_i64(b, C_BOOL, i & 1);
    weir_batch_put_i64(b, C_TS, (int64_t)((uint64_t)i * 1000u)); /* wraps, never UB */
    if (str2)
        weir_batch_put_str(b, C_STR2, str2, (uint32_t)strlen(str2));
    else
        weir_batch_put_null(b, C_STR2);
    weir_batch_commit_row(b, i);
}

/* True when rows r1 and r2 have the same key bytes. */
static bool s_same_key(const weir_job_t *job, const weir_batch_t *b, uint32_t r1, uint32_t r2)
{
    uint8_t k1[256], k2[256];
    size_t n1 = weir_key_encode(job, b, r1, k1, sizeof k1);
    size_t n2 = weir_key_encode(job, b, r2, k2, sizeof k2);
    CU_ASSERT_FATAL(n1 <= sizeof k1 && n2 <= sizeof k2);
    return n1 == n2 && memcmp(k1, k2, n1) == 0;
}

/* Checks the ranges of (P, G); returns 0 when they are right. */
static int s_check_ranges(uint32_t p, uint32_t g)
{
    uint32_t lo = g / p, hi = (g + p - 1) / p;
    uint32_t next = 0;
    for (uint32_t i = 0; i < p; i++) {
        uint32_t first, last;
        weir_keygroup_range(i, p, g, &first, &last);
        if (first != next || last < first || last >= g)
            return 1;
        uint32_t size = last - first + 1;
        if (size < lo || size > hi)
            return 1;
        for (uint32_t kg = first; kg <= last; kg++)
            if (weir_keygroup_owner(kg, p, g) != i)
                return 2;
        next = last + 1;
    }
    return next == g ? 0 : 1;
}

static void ranges_cover_all_groups_once_and_owner_inverts_them(void)
{
    int bad = 0;
    for (uint32_t p = 1; p <= 40; p++)
        for (uint32_t g = p; g <= 300; g++)
            if (s_check_ranges(p, g)) {
                printf("\nkeygroup: ranges wrong for P=%u G=%u\n", p, g);
                bad++;
            }
    static const uint32_t big[][2] = {
        {1, WEIR_MAX_KEY_GROUPS},   {3, WEIR_MAX_KEY_GROUPS},   {7, 32767}, {100, 30001},
        {255, WEIR_MAX_KEY_GROUPS}, {256, WEIR_MAX_KEY_GROUPS}, {256, 256}, {256, 257},
        {129, 128 * 129 + 128}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        if (s_check_ranges(big[i][0], big[i][1])) {
            printf("\nkeygroup: ranges wrong for P=%u G=%u\n", big[i][0], big[i][1]);
            bad++;
        }
    CU_ASSERT_EQUAL(bad, 0);
}

static void default_job_splits_128_groups_in_four_ranges_of_32(void)
{
    uint32_t first, last;
    weir_keygroup_range(0, 4, 128, &first, &last);
    CU_ASSERT_EQUAL(first, 0);
    CU_ASSERT_EQUAL(last, 31);
    weir_keygroup_range(3, 4, 128, &first, &last);
    CU_ASSERT_EQUAL(first, 96);
    CU_ASSERT_EQUAL(last, 127);
    /* 10 groups over 3 tasks: 3, 3, 4 (floor boundaries 0, 3, 6, 10). */
    weir_keygroup_range(1, 3, 10, &first, &last);
    CU_ASSERT_EQUAL(first, 3);
    CU_ASSERT_EQUAL(last, 5);
    weir_keygroup_range(2, 3, 10, &first, &last);
    CU_ASSERT_EQUAL(first, 6);
    CU_ASSERT_EQUAL(last, 9);
    CU_ASSERT_EQUAL(weir_keygroup_owner(5, 3, 10), 1);
    CU_ASSERT_EQUAL(weir_keygroup_owner(6, 3, 10), 2);
}

static void equal_values_hash_to_equal_groups(void)
{
    weir_batch_t *b = s_batch();
    s_row(b, 170, "JFK", 2.5, "x");
    s_row(b, 170, "JFK", 2.5, "y"); /* differs only outside the key */
    s_row(b, 171, "JFK", 2.5, "x");
    int cols[] = {C_INT, C_STR, C_DBL};
    const weir_job_t *job = s_job(128, 3, cols);
    CU_ASSERT_TRUE(s_same_key(job, b, 0, 1));
    CU_ASSERT_FALSE(s_same_key(job, b, 0, 2));
    CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, 0), weir_keygroup_of_row(job, b, 1));
    /* The group of a row is the group of its key bytes. */
    uint8_t key[256];
    size_t n = weir_key_encode(job, b, 2, key, sizeof key);
    CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, 2), weir_keygroup_of(key, n, 128));
    /* The same value in another batch lands in the same group. */
    weir_batch_t *b2 = s_batch();
    s_row(b2, 0, "other", 0, NULL);
    s_row(b2, 170, "JFK", 2.5, NULL);
    CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b2, 1), weir_keygroup_of_row(job, b, 0));
    for (uint32_t r = 0; r < 3; r++)
        CU_ASSERT(weir_keygroup_of_row(job, b, r) < 128);
    weir_batch_destroy(&b2);
    weir_batch_destroy(&b);
}

static void values_encode_as_a_tag_and_8_bytes_big_endian(void)
{
    weir_batch_t *b = s_batch();
    s_row(b, 0x0102030405060708, "", 1.0, "");
    s_row(b, -1, "", -2.0, "");
    uint8_t key[64];
    int cols[] = {C_INT};
    size_t n = weir_key_encode(s_job(128, 1, cols), b, 0, key, sizeof key);
    const uint8_t int_be[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    CU_ASSERT_EQUAL(n, 9);
    CU_ASSERT_EQUAL(memcmp(key, int_be, 9), 0);
    int tcols[] = {C_TS};
    n = weir_key_encode(s_job(128, 1, tcols), b, 1, key, sizeof key);
    CU_ASSERT_EQUAL(n, 9);
    const uint8_t minus_1000_be[] = {0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFC, 0x18};
    CU_ASSERT_EQUAL(memcmp(key, minus_1000_be, 9), 0);
    int dcols[] = {C_DBL};
    n = weir_key_encode(s_job(128, 1, dcols), b, 0, key, sizeof key);
    const uint8_t one_be[] = {0, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0};
    CU_ASSERT_EQUAL(n, 9);
    CU_ASSERT_EQUAL(memcmp(key, one_be, 9), 0);
    int bcols[] = {C_BOOL};
    n = weir_key_encode(s_job(128, 1, bcols), b, 1, key, sizeof key);
    const uint8_t true_be[] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    CU_ASSERT_EQUAL(n, 9);
    CU_ASSERT_EQUAL(memcmp(key, true_be, 9), 0);
    weir_batch_destroy(&b);
}

static void key_bytes_and_group_of_a_row_are_pinned(void)
{
    /* (42, "JFK", NULL): tag + 8 bytes; tag + length + bytes (a column
     * follows); NULL. Its group is xxh64 of exactly these 18 bytes,
     * 0xd6dea746a8b6a4c4, computed with libxxhash outside weir. */
    weir_batch_t *b = s_batch();
    weir_batch_put_i64(b, C_INT, 42);
    weir_batch_put_str(b, C_STR, "JFK", 3);
    weir_batch_put_null(b, C_DBL);
    weir_batch_put_i64(b, C_BOOL, 0);
    weir_batch_put_i64(b, C_TS, 0);
    weir_batch_put_null(b, C_STR2);
    weir_batch_commit_row(b, 0);
    int cols[] = {C_INT, C_STR, C_DBL};
    const weir_job_t *job = s_job(128, 3, cols);
    const uint8_t want[] = {0x00, 0, 0, 0, 0, 0, 0, 0, 0x2A, 0x00, 0, 0, 0, 3, 'J', 'F', 'K', 0xFF};
    uint8_t key[64];
    size_t n = weir_key_encode(job, b, 0, key, sizeof key);
    CU_ASSERT_EQUAL_FATAL(n, sizeof want);
    CU_ASSERT_EQUAL(memcmp(key, want, n), 0);
    CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, 0), 0xd6dea746a8b6a4c4ull % 128);
    CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, 0), 68);
    job = s_job(WEIR_MAX_KEY_GROUPS, 3, cols);
    CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, 0), 9412);
    weir_batch_destroy(&b);
}

static void keys_that_differ_only_in_where_a_null_is_are_different_keys(void)
{
    weir_batch_t *b = s_batch();
    /* (NULL, -1) and (-1, NULL) over an INT64 and a TIMESTAMP column. */
    weir_batch_put_null(b, C_INT);
    weir_batch_put_null(b, C_STR);
    weir_batch_put_f64(b, C_DBL, 0);
    weir_batch_put_i64(b, C_BOOL, 0);
    weir_batch_put_i64(b, C_TS, -1);
    weir_batch_put_str(b, C_STR2, "\xFF", 1);
    weir_batch_commit_row(b, 0);
    weir_batch_put_i64(b, C_INT, -1);
    weir_batch_put_null(b, C_STR);
    weir_batch_put_f64(b, C_DBL, 0);
    weir_batch_put_i64(b, C_BOOL, 0);
    weir_batch_put_null(b, C_TS);
    weir_batch_put_null(b, C_STR2);
    weir_batch_commit_row(b, 0);
    int two[] = {C_INT, C_TS};
    CU_ASSERT_FALSE(s_same_key(s_job(128, 2, two), b, 0, 1));
    /* A NULL string and the one-byte string 0xFF. */
    int str2[] = {C_STR2};
    CU_ASSERT_FALSE(s_same_key(s_job(128, 1, str2), b, 0, 1));
    weir_batch_destroy(&b);
}

static void negative_zero_and_zero_are_one_key(void)
{
    weir_batch_t *b = s_batch();
    s_row(b, 1, "a", 0.0, NULL);
    s_row(b, 1, "a", -0.0, NULL);
    s_row(b, 1, "a", 1e-300, NULL);
    int cols[] = {C_DBL};
    const weir_job_t *job = s_job(WEIR_MAX_KEY_GROUPS, 1, cols);
    CU_ASSERT_TRUE(s_same_key(job, b, 0, 1));
    CU_ASSERT_FALSE(s_same_key(job, b, 0, 2));
    CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, 0), weir_keygroup_of_row(job, b, 1));
    /* The batch itself keeps the sign; only the key forgets it. */
    CU_ASSERT_TRUE(signbit(b->cols[C_DBL].f64[1]) != 0);
    weir_batch_destroy(&b);
}

static void null_is_a_key_of_its_own(void)
{
    weir_batch_t *b = s_batch();
    s_row(b, 0, NULL, 0, NULL);
    s_row(b, 0, "", 0, "");
    s_row(b, 0, NULL, 0, NULL);
    weir_batch_put_null(b, C_INT);
    weir_batch_put_null(b, C_STR);
    weir_batch_put_null(b, C_DBL);
    weir_batch_put_null(b, C_BOOL);
    weir_batch_put_null(b, C_TS);
    weir_batch_put_null(b, C_STR2);
    weir_batch_commit_row(b, 0);
    int scols[] = {C_STR};
    const weir_job_t *job = s_job(128, 1, scols);
    CU_ASSERT_FALSE(s_same_key(job, b, 0, 1)); /* NULL != "" */
    CU_ASSERT_TRUE(s_same_key(job, b, 0, 2));  /* NULL == NULL */
    int icols[] = {C_INT};
    job = s_job(128, 1, icols);
    CU_ASSERT_FALSE(s_same_key(job, b, 3, 0)); /* NULL != 0 */
    int dcols[] = {C_DBL};
    job = s_job(128, 1, dcols);
    CU_ASSERT_FALSE(s_same_key(job, b, 3, 0)); /* NULL != 0.0 */
    /* Two string columns: (NULL, NULL), ("", ""), (NULL, "") all differ. */
    int two[] = {C_STR, C_STR2};
    job = s_job(128, 2, two);
    CU_ASSERT_FALSE(s_same_key(job, b, 0, 1));
    CU_ASSERT_TRUE(s_same_key(job, b, 0, 2));
    weir_batch_put_i64(b, C_INT, 0);
    weir_batch_put_null(b, C_STR);
    weir_batch_put_f64(b, C_DBL, 0);
    weir_batch_put_i64(b, C_BOOL, 0);
    weir_batch_put_i64(b, C_TS, 0);
    weir_batch_put_str(b, C_STR2, "", 0);
    weir_batch_commit_row(b, 0);
    CU_ASSERT_FALSE(s_same_key(job, b, 4, 0));
    CU_ASSERT_FALSE(s_same_key(job, b, 4, 1));
    weir_batch_destroy(&b);
}

static void strings_are_delimited_in_multi_column_keys(void)
{
    weir_batch_t *b = s_batch();
    s_row(b, 0, "ab", 0, "c");
    s_row(b, 0, "a", 0, "bc");
    s_row(b, 0, "abc", 0, "");
    s_row(b, 0, "", 0, "abc");
    s_row(b, 0, "ab", 0, "c");
    int cols[] = {C_STR, C_STR2};
    const weir_job_t *job = s_job(WEIR_MAX_KEY_GROUPS, 2, cols);
    for (uint32_t i = 0; i < 4; i++)
        for (uint32_t j = 0; j < 4; j++)
            CU_ASSERT_EQUAL(s_same_key(job, b, i, j), i == j);
    CU_ASSERT_TRUE(s_same_key(job, b, 0, 4));
    /* A string followed by a fixed-width column is delimited too. */
    int mixed[] = {C_STR, C_INT};
    job = s_job(128, 2, mixed);
    weir_batch_clear(b);
    s_row(b, 1, "a", 0, NULL);
    s_row(b, 2, "a", 0, NULL);
    s_row(b, 1, "a", 0, "not in the key");
    CU_ASSERT_FALSE(s_same_key(job, b, 0, 1));
    CU_ASSERT_TRUE(s_same_key(job, b, 0, 2));
    weir_batch_destroy(&b);
}

static void xxh64_of_the_key_bytes_is_pinned(void)
{
    /* Published xxh64 values with seed 0, checked with libxxhash 0.8.1:
     * xxh64("") = 0xef46db3751d8e999, xxh64("abc") = 0x44bc2cf5ad770999.
     * A change of hash function or seed moves every key to another group
     * (and every stored state entry with it); this test says so first. */
    CU_ASSERT_EQUAL(weir_keygroup_of("", 0, WEIR_MAX_KEY_GROUPS),
                    (uint32_t)(0xef46db3751d8e999ull % WEIR_MAX_KEY_GROUPS));
    CU_ASSERT_EQUAL(weir_keygroup_of("", 0, WEIR_MAX_KEY_GROUPS), 27033);
    CU_ASSERT_EQUAL(weir_keygroup_of("abc", 3, WEIR_MAX_KEY_GROUPS), 2457);
    CU_ASSERT_EQUAL(weir_keygroup_of("abc", 3, 1000), 249);
    CU_ASSERT_EQUAL(weir_keygroup_of("weir", 4, 128), 14);
    CU_ASSERT_EQUAL(weir_keygroup_of("abc", 3, UINT32_MAX),
                    (uint32_t)(0x44bc2cf5ad770999ull % UINT32_MAX));
    CU_ASSERT_EQUAL(weir_keygroup_of("abc", 3, 1), 0);
}

static void long_keys_are_hashed_whole_into_a_stable_group(void)
{
    enum { LONG = 3 * WEIR_KEY_MAX + 17 };
    char *s = malloc(LONG + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int i = 0; i < LONG; i++)
        s[i] = (char)('a' + i % 26);
    s[LONG] = 0;
    weir_batch_t *b = weir_batch_new(s_types, N_COLS, 4, 16);
    s_row(b, 7, s, 1.5, "tail");
    s[LONG - 1] = '#'; /* differs only beyond WEIR_KEY_MAX */
    s_row(b, 7, s, 1.5, "tail");
    s_row(b, 7, s, 1.5, "tail");

    static const int cols[][3] = {{C_STR}, {C_INT, C_STR, C_STR2}, {C_STR, C_DBL, C_STR2}};
    static const int n_keys[] = {1, 3, 3};
    size_t cap = LONG + 64;
    uint8_t *full = malloc(cap);
    uint8_t *cut = malloc(WEIR_KEY_MAX);
    CU_ASSERT_PTR_NOT_NULL_FATAL(full);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
    for (int c = 0; c < 3; c++) {
        const weir_job_t *job = s_job(WEIR_MAX_KEY_GROUPS, n_keys[c], cols[c]);
        for (uint32_t r = 0; r < 3; r++) {
            /* encode reports the whole length and fills what fits. */
            size_t n = weir_key_encode(job, b, r, full, cap);
            CU_ASSERT_FATAL(n > WEIR_KEY_MAX && n <= cap);
            CU_ASSERT_EQUAL(weir_key_encode(job, b, r, cut, WEIR_KEY_MAX), n);
            CU_ASSERT_EQUAL(memcmp(cut, full, WEIR_KEY_MAX), 0);
            /* The group is the group of the whole key, every time. */
            uint32_t g = weir_keygroup_of(full, n, WEIR_MAX_KEY_GROUPS);
            CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, r), g);
            CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, r), g);
        }
        CU_ASSERT_EQUAL(weir_keygroup_of_row(job, b, 1), weir_keygroup_of_row(job, b, 2));
    }
    /* Keys that differ only past the cut are still different keys. For this
     * input the two groups happen to differ; they must stay so. */
    const weir_job_t *job = s_job(WEIR_MAX_KEY_GROUPS, 1, cols[0]);
    CU_ASSERT_NOT_EQUAL(weir_keygroup_of_row(job, b, 0), weir_keygroup_of_row(job, b, 1));
    free(cut);
    free(full);
    free(s);
    weir_batch_destroy(&b);
}

void test_keygroup_register(void)
{
    CU_pSuite s = CU_add_suite("keygroup", NULL, NULL);
    CU_add_test(s,
                "ranges cover every key group once, sizes differ by at most one, "
                "and the owner inverts them",
                ranges_cover_all_groups_once_and_owner_inverts_them);
    CU_add_test(s, "128 groups over 4 tasks are four ranges of 32",
                default_job_splits_128_groups_in_four_ranges_of_32);
    CU_add_test(s, "equal values hash to equal groups", equal_values_hash_to_equal_groups);
    CU_add_test(s, "values encode as a tag and 8 bytes big-endian",
                values_encode_as_a_tag_and_8_bytes_big_endian);
    CU_add_test(s, "the key bytes and group of a row are pinned",
                key_bytes_and_group_of_a_row_are_pinned);
    CU_add_test(s, "keys that differ only in where a NULL is are different keys",
                keys_that_differ_only_in_where_a_null_is_are_different_keys);
    CU_add_test(s, "-0.0 and 0.0 are one key", negative_zero_and_zero_are_one_key);
    CU_add_test(s, "NULL is a key of its own", null_is_a_key_of_its_own);
    CU_add_test(s, "strings are delimited in multi-column keys",
                strings_are_delimited_in_multi_column_keys);
    CU_add_test(s, "xxh64 of the key bytes is pinned", xxh64_of_the_key_bytes_is_pinned);
    CU_add_test(s, "long keys are hashed whole into a stable group",
                long_keys_are_hashed_whole_into_a_stable_group);
}
