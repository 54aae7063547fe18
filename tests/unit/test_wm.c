/* wm: a task's watermark is the minimum over its input channels; finished
 * inputs count as +inf, idle inputs are left out, and the watermark never
 * moves back. Each test below is one rule of DESIGN §6, stated in its name.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>

#include "testrand.h"
#include "timeu.h"
#include "wm.h"

static void no_watermark_until_every_input_has_reported(void)
{
    weir_wm_t *wm = weir_wm_new(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wm);
    CU_ASSERT_EQUAL(weir_wm_current(wm), WEIR_TS_MIN);
    CU_ASSERT_FALSE(weir_wm_update(wm, 0, 1000));
    CU_ASSERT_FALSE(weir_wm_update(wm, 2, 3000));
    CU_ASSERT_EQUAL(weir_wm_current(wm), WEIR_TS_MIN);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 1);
    CU_ASSERT_TRUE(weir_wm_update(wm, 1, 2000));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1000);
    weir_wm_destroy(&wm);
    CU_ASSERT_PTR_NULL(wm);
    weir_wm_destroy(&wm);
    weir_wm_destroy(NULL);
}

static void watermark_is_the_minimum_over_inputs(void)
{
    weir_wm_t *wm = weir_wm_new(3);
    weir_wm_update(wm, 0, 500);
    weir_wm_update(wm, 1, 700);
    weir_wm_update(wm, 2, 600);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 500);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 0);
    /* The holder moves ahead: the next lowest input holds the minimum. */
    CU_ASSERT_TRUE(weir_wm_update(wm, 0, 900));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 600);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 2);
    /* An input that is not the holder moving ahead changes nothing. */
    CU_ASSERT_FALSE(weir_wm_update(wm, 1, 800));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 600);
    CU_ASSERT_EQUAL(weir_wm_input(wm, 0), 900);
    CU_ASSERT_EQUAL(weir_wm_input(wm, 1), 800);
    CU_ASSERT_EQUAL(weir_wm_input(wm, 2), 600);
    weir_wm_destroy(&wm);
}

static void watermark_never_moves_back(void)
{
    weir_wm_t *wm = weir_wm_new(2);
    weir_wm_update(wm, 0, 1000);
    weir_wm_update(wm, 1, 2000);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1000);
    /* An input that reports a lower watermark than before is ignored. */
    CU_ASSERT_FALSE(weir_wm_update(wm, 0, 10));
    CU_ASSERT_EQUAL(weir_wm_input(wm, 0), 1000);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1000);
    /* Reporting the same watermark again is not an advance. */
    CU_ASSERT_FALSE(weir_wm_update(wm, 0, 1000));
    CU_ASSERT_TRUE(weir_wm_update(wm, 0, 1001));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1001);
    weir_wm_destroy(&wm);
}

static void finished_input_counts_as_plus_infinity(void)
{
    weir_wm_t *wm = weir_wm_new(2);
    weir_wm_update(wm, 0, 100);
    weir_wm_update(wm, 1, 5000);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 100);
    CU_ASSERT_TRUE(weir_wm_finish(wm, 0));
    CU_ASSERT_EQUAL(weir_wm_input(wm, 0), WEIR_TS_MAX);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 5000);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 1);
    CU_ASSERT_FALSE(weir_wm_all_finished(wm));
    /* A finished input ignores later watermarks and idleness. */
    CU_ASSERT_FALSE(weir_wm_update(wm, 0, 7));
    CU_ASSERT_FALSE(weir_wm_set_idle(wm, 0, true));
    CU_ASSERT_EQUAL(weir_wm_input(wm, 0), WEIR_TS_MAX);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 5000);
    weir_wm_destroy(&wm);
}

static void all_inputs_finished_gives_plus_infinity(void)
{
    weir_wm_t *wm = weir_wm_new(3);
    weir_wm_update(wm, 1, 42);
    CU_ASSERT_FALSE(weir_wm_finish(wm, 0));
    CU_ASSERT_TRUE(weir_wm_finish(wm, 2));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 42);
    CU_ASSERT_TRUE(weir_wm_finish(wm, 1));
    CU_ASSERT_EQUAL(weir_wm_current(wm), WEIR_TS_MAX);
    CU_ASSERT_TRUE(weir_wm_all_finished(wm));
    CU_ASSERT_FALSE(weir_wm_idle(wm));
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 3);
    /* Finishing twice is harmless. */
    CU_ASSERT_FALSE(weir_wm_finish(wm, 1));
    CU_ASSERT_EQUAL(weir_wm_current(wm), WEIR_TS_MAX);
    weir_wm_destroy(&wm);
}

static void task_without_inputs_is_finished(void)
{
    weir_wm_t *wm = weir_wm_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wm);
    CU_ASSERT_EQUAL(weir_wm_current(wm), WEIR_TS_MAX);
    CU_ASSERT_TRUE(weir_wm_all_finished(wm));
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 0);
    weir_wm_destroy(&wm);
}

static void idle_input_is_left_out_of_the_minimum(void)
{
    weir_wm_t *wm = weir_wm_new(3);
    weir_wm_update(wm, 0, 100);
    weir_wm_update(wm, 1, 300);
    weir_wm_update(wm, 2, 200);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 100);
    CU_ASSERT_TRUE(weir_wm_set_idle(wm, 0, true));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 200);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 2);
    CU_ASSERT_FALSE(weir_wm_idle(wm));
    /* An input that never reported (WEIR_TS_MIN) but is idle holds nothing. */
    weir_wm_t *w2 = weir_wm_new(2);
    weir_wm_update(w2, 0, 50);
    CU_ASSERT_EQUAL(weir_wm_current(w2), WEIR_TS_MIN);
    CU_ASSERT_TRUE(weir_wm_set_idle(w2, 1, true));
    CU_ASSERT_EQUAL(weir_wm_current(w2), 50);
    weir_wm_destroy(&w2);
    weir_wm_destroy(&wm);
}

static void all_inputs_idle_move_to_the_highest(void)
{
    weir_wm_t *wm = weir_wm_new(2);
    weir_wm_update(wm, 0, 100);
    weir_wm_update(wm, 1, 300);
    CU_ASSERT_TRUE(weir_wm_set_idle(wm, 0, true));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 300);
    /* The last active input goes idle: nothing is left to hold the
     * watermark back, so it stays at the highest input (not +inf) and the
     * task is idle. */
    CU_ASSERT_FALSE(weir_wm_set_idle(wm, 1, true));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 300);
    CU_ASSERT_TRUE(weir_wm_idle(wm));
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 2);
    /* Both go idle while the lower one holds the minimum: W jumps to the
     * higher one (the windows of a quiet stream fire). */
    weir_wm_t *w3 = weir_wm_new(3);
    weir_wm_update(w3, 0, 100);
    weir_wm_update(w3, 1, 900);
    CU_ASSERT_EQUAL(weir_wm_current(w3), WEIR_TS_MIN);
    CU_ASSERT_TRUE(weir_wm_set_idle(w3, 2, true)); /* never reported */
    CU_ASSERT_EQUAL(weir_wm_current(w3), 100);
    CU_ASSERT_FALSE(weir_wm_set_idle(w3, 1, true));
    CU_ASSERT_TRUE(weir_wm_set_idle(w3, 0, true));
    CU_ASSERT_EQUAL(weir_wm_current(w3), 900);
    /* Input 0 comes back at 150: W stays at 900. */
    CU_ASSERT_FALSE(weir_wm_update(w3, 0, 150));
    CU_ASSERT_EQUAL(weir_wm_current(w3), 900);
    CU_ASSERT_EQUAL(weir_wm_holder(w3), 0);
    weir_wm_destroy(&w3);
    /* A finished input next to idle ones does not make the task finish. */
    weir_wm_t *w2 = weir_wm_new(2);
    weir_wm_update(w2, 0, 10);
    weir_wm_set_idle(w2, 0, true);
    CU_ASSERT_EQUAL(weir_wm_current(w2), WEIR_TS_MIN);
    CU_ASSERT_TRUE(weir_wm_finish(w2, 1)); /* the idle one is all that is left */
    CU_ASSERT_EQUAL(weir_wm_current(w2), 10);
    CU_ASSERT_TRUE(weir_wm_idle(w2));
    CU_ASSERT_FALSE(weir_wm_all_finished(w2));
    weir_wm_destroy(&w2);
    weir_wm_destroy(&wm);
}

static void reactivated_input_never_moves_the_watermark_back(void)
{
    weir_wm_t *wm = weir_wm_new(2);
    weir_wm_update(wm, 0, 100);
    weir_wm_update(wm, 1, 1000);
    weir_wm_set_idle(wm, 0, true);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1000);
    /* Input 0 comes back (explicitly) still at 100: the watermark stays at
     * 1000 and input 0 holds it until it catches up. */
    CU_ASSERT_FALSE(weir_wm_set_idle(wm, 0, false));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1000);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 0);
    CU_ASSERT_FALSE(weir_wm_idle(wm));
    weir_wm_set_idle(wm, 0, true);
    /* A report from an idle input makes it active again, also below W. */
    CU_ASSERT_FALSE(weir_wm_update(wm, 0, 500));
    CU_ASSERT_FALSE(weir_wm_idle(wm));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1000);
    CU_ASSERT_FALSE(weir_wm_update(wm, 1, 2000));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1000);
    CU_ASSERT_TRUE(weir_wm_update(wm, 0, 1500));
    CU_ASSERT_EQUAL(weir_wm_current(wm), 1500);
    weir_wm_destroy(&wm);
}

static void holder_is_an_active_input_at_the_minimum(void)
{
    weir_wm_t *wm = weir_wm_new(4);
    weir_wm_update(wm, 0, 40);
    weir_wm_update(wm, 1, 10);
    weir_wm_update(wm, 2, 30);
    weir_wm_update(wm, 3, 20);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 1);
    weir_wm_set_idle(wm, 1, true);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 3);
    weir_wm_finish(wm, 3);
    CU_ASSERT_EQUAL(weir_wm_holder(wm), 2);
    CU_ASSERT_EQUAL(weir_wm_current(wm), 30);
    weir_wm_destroy(&wm);
}

static void extreme_timestamps_saturate(void)
{
    weir_wm_t *wm = weir_wm_new(2);
    /* INT64_MIN is "no watermark": reporting it is no advance. */
    CU_ASSERT_FALSE(weir_wm_update(wm, 0, INT64_MIN));
    CU_ASSERT_FALSE(weir_wm_update(wm, 1, INT64_MIN));
    CU_ASSERT_EQUAL(weir_wm_current(wm), INT64_MIN);
    CU_ASSERT_FALSE(weir_wm_update(wm, 1, INT64_MAX));
    CU_ASSERT_TRUE(weir_wm_update(wm, 0, INT64_MIN + 1));
    CU_ASSERT_EQUAL(weir_wm_current(wm), INT64_MIN + 1);
    CU_ASSERT_TRUE(weir_wm_update(wm, 0, INT64_MAX));
    CU_ASSERT_EQUAL(weir_wm_current(wm), INT64_MAX);
    /* Inputs at INT64_MAX are not finished ones. */
    CU_ASSERT_FALSE(weir_wm_all_finished(wm));
    CU_ASSERT_FALSE(weir_wm_update(wm, 0, 0));
    CU_ASSERT_FALSE(weir_wm_finish(wm, 0));
    CU_ASSERT_FALSE(weir_wm_finish(wm, 1));
    CU_ASSERT_EQUAL(weir_wm_current(wm), INT64_MAX);
    CU_ASSERT_TRUE(weir_wm_all_finished(wm));
    /* Saturating arithmetic on watermarks stays at the ends. */
    CU_ASSERT_EQUAL(weir_sat_add(WEIR_TS_MAX, 1000), WEIR_TS_MAX);
    CU_ASSERT_EQUAL(weir_sat_sub(WEIR_TS_MIN, 1000), WEIR_TS_MIN);
    CU_ASSERT_EQUAL(weir_sat_sub(WEIR_TS_MAX, -1), WEIR_TS_MAX);
    CU_ASSERT_EQUAL(weir_sat_add(WEIR_TS_MIN, -1), WEIR_TS_MIN);
    CU_ASSERT_EQUAL(weir_sat_sub(1000, 1), 999);
    weir_wm_destroy(&wm);
}

static void inputs_out_of_range_are_ignored(void)
{
    weir_wm_t *wm = weir_wm_new(1);
    CU_ASSERT_FALSE(weir_wm_update(wm, 1, 100));
    CU_ASSERT_FALSE(weir_wm_finish(wm, 7));
    CU_ASSERT_FALSE(weir_wm_set_idle(wm, 1, true));
    CU_ASSERT_EQUAL(weir_wm_input(wm, 1), WEIR_TS_MIN);
    CU_ASSERT_EQUAL(weir_wm_current(wm), WEIR_TS_MIN);
    CU_ASSERT_FALSE(weir_wm_all_finished(wm));
    weir_wm_destroy(&wm);
}

/* A random schedule of updates, idleness and finishes, checked against a
 * direct restatement of the rules after every step. */
enum { S_WM_INPUTS = 5, S_WM_STEPS = 400 };

static int s_wm_run(uint64_t seed)
{
    testrand_t r;
    testrand_seed(&r, seed);
    weir_wm_t *wm = weir_wm_new(S_WM_INPUTS);
    int64_t ts[S_WM_INPUTS];
    bool fin[S_WM_INPUTS] = {0}, idle[S_WM_INPUTS] = {0};
    for (int i = 0; i < S_WM_INPUTS; i++)
        ts[i] = WEIR_TS_MIN;
    int64_t expect = WEIR_TS_MIN;
    int bad = 0;
    for (int step = 0; step < S_WM_STEPS && !bad; step++) {
        uint32_t in = testrand_below(&r, S_WM_INPUTS);
        int64_t before = weir_wm_current(wm);
        bool advanced;
        switch (testrand_below(&r, 10)) {
        case 0:
            advanced = weir_wm_finish(wm, in);
            fin[in] = true;
            ts[in] = WEIR_TS_MAX;
            break;
        case 1:
        case 2: {
            bool v = testrand_below(&r, 2);
            advanced = weir_wm_set_idle(wm, in, v);
            if (!fin[in])
                idle[in] = v;
            break;
        }
        default: {
            int64_t v = (int64_t)testrand_below(&r, 1000) + step * 3 - 500;
            advanced = weir_wm_update(wm, in, v);
            if (!fin[in]) {
                idle[in] = false;
                if (v > ts[in])
                    ts[in] = v;
            }
            break;
        }
        }
        int64_t min = WEIR_TS_MAX, idle_max = WEIR_TS_MIN;
        bool any_active = false, all_fin = true;
        for (int i = 0; i < S_WM_INPUTS; i++) {
            all_fin &= fin[i];
            if (!fin[i] && idle[i] && ts[i] > idle_max)
                idle_max = ts[i];
            if (fin[i] || idle[i])
                continue;
            any_active = true;
            if (ts[i] < min)
                min = ts[i];
        }
        int64_t target = any_active || all_fin ? min : idle_max;
        if (target > expect)
            expect = target;
        int64_t now = weir_wm_current(wm);
        uint32_t h = weir_wm_holder(wm);
        bad |= now != expect || now < before || advanced != (now > before);
        bad |= any_active ? (h >= S_WM_INPUTS || ts[h] != min) : h != S_WM_INPUTS;
        bad |= weir_wm_all_finished(wm) != all_fin;
        bad |= weir_wm_idle(wm) != (!any_active && !all_fin);
        if (bad)
            printf("\nwm: seed %llu failed at step %d\n", (unsigned long long)seed, step);
    }
    weir_wm_destroy(&wm);
    return bad;
}

static void random_schedule_follows_the_rules(void)
{
    int n = testrand_n_seeds(200);
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(s_wm_run(testrand_seed_at(i)), 0);
}

void test_wm_register(void)
{
    CU_pSuite s = CU_add_suite("wm", NULL, NULL);
    CU_add_test(s, "no watermark until every input has reported",
                no_watermark_until_every_input_has_reported);
    CU_add_test(s, "the watermark is the minimum over the inputs",
                watermark_is_the_minimum_over_inputs);
    CU_add_test(s, "the watermark never moves back", watermark_never_moves_back);
    CU_add_test(s, "a finished input counts as +inf", finished_input_counts_as_plus_infinity);
    CU_add_test(s, "all inputs finished gives +inf", all_inputs_finished_gives_plus_infinity);
    CU_add_test(s, "a task without inputs is finished", task_without_inputs_is_finished);
    CU_add_test(s, "an idle input is left out of the minimum",
                idle_input_is_left_out_of_the_minimum);
    CU_add_test(s, "all inputs idle move W to the highest of them",
                all_inputs_idle_move_to_the_highest);
    CU_add_test(s, "a reactivated input never moves the watermark back",
                reactivated_input_never_moves_the_watermark_back);
    CU_add_test(s, "the holder is an active input at the minimum",
                holder_is_an_active_input_at_the_minimum);
    CU_add_test(s, "extreme timestamps saturate", extreme_timestamps_saturate);
    CU_add_test(s, "inputs out of range are ignored", inputs_out_of_range_are_ignored);
    CU_add_test(s, "a random schedule follows the rules (seeded)",
                random_schedule_follows_the_rules);
}
