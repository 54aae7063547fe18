/* window: which windows a timestamp belongs to, for tumbling, sliding and
 * session windows, including negative timestamps, offsets of both signs,
 * sizes that are not a multiple of the slide, and the int64 extremes. */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "testrand.h"
#include "window.h"

static weir_window_t s_tumbling(int64_t size, int64_t offset)
{
    weir_window_t w = {
        .type = WEIR_WINDOW_TUMBLING, .size_ms = size, .slide_ms = size, .offset_ms = offset};
    return w;
}

static weir_window_t s_sliding(int64_t size, int64_t slide, int64_t offset)
{
    weir_window_t w = {
        .type = WEIR_WINDOW_SLIDING, .size_ms = size, .slide_ms = slide, .offset_ms = offset};
    return w;
}

/* Asserts that ts belongs to exactly the n windows of want (ends descending). */
static void s_expect(const weir_window_t *w, int64_t ts, const int64_t (*want)[2], size_t n)
{
    weir_span_t got[16];
    size_t k = weir_window_assign(w, ts, got, 16);
    CU_ASSERT_EQUAL(k, n);
    for (size_t i = 0; i < n && i < k; i++) {
        CU_ASSERT_EQUAL(got[i].start_ms, want[i][0]);
        CU_ASSERT_EQUAL(got[i].end_ms, want[i][1]);
    }
}

static void tumbling_windows_of_negative_timestamps_start_at_the_floor(void)
{
    weir_window_t w = s_tumbling(1000, 0);
    s_expect(&w, -1500, (const int64_t[][2]){{-2000, -1000}}, 1);
    s_expect(&w, -1, (const int64_t[][2]){{-1000, 0}}, 1);
    s_expect(&w, 0, (const int64_t[][2]){{0, 1000}}, 1);
    s_expect(&w, -1000, (const int64_t[][2]){{-1000, 0}}, 1);
    s_expect(&w, 999, (const int64_t[][2]){{0, 1000}}, 1);
}

static void sliding_windows_of_a_negative_timestamp_are_all_listed(void)
{
    weir_window_t w = s_sliding(10000, 5000, 0);
    s_expect(&w, -7000, (const int64_t[][2]){{-10000, 0}, {-15000, -5000}}, 2);
    s_expect(&w, 5000, (const int64_t[][2]){{5000, 15000}, {0, 10000}}, 2);
}

static void offsets_are_taken_modulo_the_slide(void)
{
    const int64_t day = 86400000, hour = 3600000;
    weir_window_t a = s_tumbling(day, -8 * hour);
    weir_window_t b = s_tumbling(day, 16 * hour);
    weir_window_t c = s_tumbling(day, 16 * hour + 5 * day);
    for (int64_t ts = -3 * day; ts < 3 * day; ts += 977 * 1000 + 13) {
        weir_span_t x[2], y[2], z[2];
        CU_ASSERT_EQUAL(weir_window_assign(&a, ts, x, 2), 1);
        CU_ASSERT_EQUAL(weir_window_assign(&b, ts, y, 2), 1);
        CU_ASSERT_EQUAL(weir_window_assign(&c, ts, z, 2), 1);
        CU_ASSERT_EQUAL(x[0].start_ms, y[0].start_ms);
        CU_ASSERT_EQUAL(x[0].start_ms, z[0].start_ms);
        CU_ASSERT_EQUAL(weir_floormod(x[0].start_ms, day), 16 * hour);
    }
    /* 2019-01-01 03:00 UTC lies in the day that began 2018-12-31 16:00 UTC */
    s_expect(&a, 1546311600000, (const int64_t[][2]){{1546272000000, 1546358400000}}, 1);
}

static void a_size_need_not_be_a_multiple_of_the_slide(void)
{
    weir_window_t w = s_sliding(5500, 5000, 0);
    s_expect(&w, 5200, (const int64_t[][2]){{5000, 10500}, {0, 5500}}, 2);
    s_expect(&w, 5600, (const int64_t[][2]){{5000, 10500}}, 1);
    s_expect(&w, -100, (const int64_t[][2]){{-5000, 500}}, 1);
    CU_ASSERT_EQUAL(weir_window_max_per_row(&w), 2);
    /* size < slide leaves gaps that belong to no window */
    weir_window_t g = s_sliding(1000, 5000, 0);
    s_expect(&g, 999, (const int64_t[][2]){{0, 1000}}, 1);
    s_expect(&g, 1000, NULL, 0);
    s_expect(&g, -3999, NULL, 0);
    s_expect(&g, -4001, (const int64_t[][2]){{-5000, -4000}}, 1);
    CU_ASSERT_EQUAL(weir_window_max_per_row(&g), 1);
}

static void timestamps_at_the_int64_extremes_saturate_instead_of_wrapping(void)
{
    weir_window_t w = s_tumbling(1000, 0);
    weir_span_t s[4];
    CU_ASSERT_EQUAL(weir_window_assign(&w, INT64_MIN, s, 4), 1);
    CU_ASSERT_EQUAL(s[0].start_ms, INT64_MIN); /* exact start is below INT64_MIN */
    CU_ASSERT_EQUAL(s[0].end_ms, INT64_MIN + 808);
    CU_ASSERT_EQUAL(weir_window_assign(&w, INT64_MAX, s, 4), 1);
    CU_ASSERT_EQUAL(s[0].start_ms, INT64_MAX - 807);
    CU_ASSERT_EQUAL(s[0].end_ms, INT64_MAX); /* +inf */
    weir_window_t big = s_sliding(INT64_MAX, INT64_MAX / 2, INT64_MIN);
    size_t n = weir_window_assign(&big, INT64_MIN + 1, s, 4);
    CU_ASSERT(n >= 1 && n <= 3);
    weir_window_t sess = {.type = WEIR_WINDOW_SESSION, .gap_ms = 1000};
    weir_span_t x = weir_window_session(&sess, INT64_MAX - 10);
    CU_ASSERT_EQUAL(x.end_ms, INT64_MAX);
}

static void sessions_merge_when_they_overlap_or_touch(void)
{
    weir_window_t w = {.type = WEIR_WINDOW_SESSION, .gap_ms = 1000};
    weir_span_t a = weir_window_session(&w, -500);
    CU_ASSERT_EQUAL(a.start_ms, -500);
    CU_ASSERT_EQUAL(a.end_ms, 500);
    weir_span_t touching = weir_window_session(&w, 500);
    weir_span_t apart = weir_window_session(&w, 501);
    weir_span_t before = weir_window_session(&w, -1500);
    CU_ASSERT(weir_span_touch(a, touching));
    CU_ASSERT(weir_span_touch(touching, a));
    CU_ASSERT(!weir_span_touch(a, apart));
    CU_ASSERT(weir_span_touch(before, a));
    weir_span_t u = weir_span_union(a, touching);
    CU_ASSERT_EQUAL(u.start_ms, -500);
    CU_ASSERT_EQUAL(u.end_ms, 1500);
    CU_ASSERT_EQUAL(weir_window_max_per_row(&w), 1);
}

static testrand_t s_r;
static uint64_t s_next(void)
{
    return testrand_next(&s_r);
}

static int64_t s_pick(void)
{
    switch (s_next() % 4) {
    case 0: return (int64_t)s_next(); /* anywhere, extremes included */
    case 1: return INT64_MIN + (int64_t)(s_next() % 100000);
    case 2: return INT64_MAX - (int64_t)(s_next() % 100000);
    default: return (int64_t)(s_next() % 2000000) - 1000000;
    }
}

static int64_t s_clamp(__int128 v)
{
    return v < INT64_MIN ? INT64_MIN : v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void random_timestamps_land_only_in_windows_that_hold_them(void)
{
    int bad = 0;
    for (int si = 0; si < testrand_n_seeds(8) && !bad; si++) {
        uint64_t seed = testrand_seed_at(si);
        testrand_seed(&s_r, seed);
        for (int i = 0; i < 25000 && bad < 5; i++) {
            int64_t slide = 1 + (int64_t)(s_next() % (s_next() % 2 ? 50 : 5000000));
            int64_t size =
                s_next() % 3 == 0 ? slide : 1 + (int64_t)(s_next() % (uint64_t)(slide * 5));
            weir_window_t w = s_sliding(size, slide, s_pick());
            if (s_next() % 5 == 0) {
                w = s_tumbling(1 + (int64_t)(s_next() % 10000000), s_pick());
                slide = size = w.size_ms;
            }
            int64_t ts = s_pick();
            /* exact reference in 128 bits: the oracle's loop */
            __int128 last = (__int128)ts - ((((__int128)ts - w.offset_ms) % slide + slide) % slide);
            weir_span_t got[8];
            size_t n = weir_window_assign(&w, ts, got, 8);
            size_t k = 0;
            for (__int128 st = last; st > (__int128)ts - size && k < 8; st -= slide, k++) {
                if (k >= n || got[k].start_ms != s_clamp(st) || got[k].end_ms != s_clamp(st + size))
                    bad++;
            }
            if (n > 8 ? k != 8 : k != n)
                bad++;
            for (size_t j = 0; j < n && j < 8; j++) {
                if (got[j].start_ms > ts)
                    bad++;
                if (got[j].end_ms <= ts && got[j].end_ms != INT64_MAX)
                    bad++;
            }
            if (n > weir_window_max_per_row(&w))
                bad++;
            if (bad)
                fprintf(stderr,
                        "\nwindow mismatch: WEIR_TEST_SEED=%" PRIu64 " size %" PRId64
                        " slide %" PRId64 " offset %" PRId64 " ts %" PRId64 "\n",
                        seed, w.size_ms, slide, w.offset_ms, ts);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

void test_window_register(void)
{
    CU_pSuite s = CU_add_suite("window", NULL, NULL);
    CU_add_test(s, "tumbling windows of negative timestamps start at the floor",
                tumbling_windows_of_negative_timestamps_start_at_the_floor);
    CU_add_test(s, "sliding windows of a negative timestamp are all listed",
                sliding_windows_of_a_negative_timestamp_are_all_listed);
    CU_add_test(s, "offsets are taken modulo the slide", offsets_are_taken_modulo_the_slide);
    CU_add_test(s, "a size need not be a multiple of the slide",
                a_size_need_not_be_a_multiple_of_the_slide);
    CU_add_test(s, "timestamps at the int64 extremes saturate instead of wrapping",
                timestamps_at_the_int64_extremes_saturate_instead_of_wrapping);
    CU_add_test(s, "sessions merge when they overlap or touch",
                sessions_merge_when_they_overlap_or_touch);
    CU_add_test(s, "random timestamps land only in windows that hold them",
                random_timestamps_land_only_in_windows_that_hold_them);
}
