/* hist: quantiles of recorded values within the bucket precision. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "hist.h"

static void an_empty_histogram_reports_zero(void)
{
    weir_hist_t h;
    memset(&h, 0, sizeof h);
    CU_ASSERT_EQUAL(weir_hist_quantile(&h, 0.5), 0);
}

static void small_values_are_exact(void)
{
    weir_hist_t h;
    memset(&h, 0, sizeof h);
    for (uint64_t v = 1; v <= 50; v++)
        weir_hist_add(&h, v, 1);
    CU_ASSERT_EQUAL(weir_hist_quantile(&h, 0.5), 25);
    CU_ASSERT_EQUAL(weir_hist_quantile(&h, 1.0), 50);
}

static void quantiles_stay_within_three_percent(void)
{
    weir_hist_t h;
    memset(&h, 0, sizeof h);
    /* 1..100000: the q-quantile is about q * 100000 */
    for (uint64_t v = 1; v <= 100000; v++)
        weir_hist_add(&h, v, 1);
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double want = qs[i] * 100000, got = (double)weir_hist_quantile(&h, qs[i]);
        CU_ASSERT(got >= want * 0.999 && got <= want * 1.035);
    }
}

static void a_tail_shows_in_the_high_quantiles_only(void)
{
    weir_hist_t h;
    memset(&h, 0, sizeof h);
    weir_hist_add(&h, 1000, 990);
    weir_hist_add(&h, 50000, 10);
    CU_ASSERT(weir_hist_quantile(&h, 0.5) < 1100);
    CU_ASSERT(weir_hist_quantile(&h, 0.99) < 1100);
    CU_ASSERT(weir_hist_quantile(&h, 0.999) >= 50000);
    weir_hist_add(&h, UINT64_MAX, 1); /* clamped, never out of range */
    CU_ASSERT(weir_hist_quantile(&h, 1.0) >= (1ULL << 39));
}

void test_hist_register(void)
{
    CU_pSuite s = CU_add_suite("hist", NULL, NULL);
    CU_add_test(s, "an empty histogram reports zero", an_empty_histogram_reports_zero);
    CU_add_test(s, "small values are exact", small_values_are_exact);
    CU_add_test(s, "quantiles stay within three percent", quantiles_stay_within_three_percent);
    CU_add_test(s, "a tail shows in the high quantiles only",
                a_tail_shows_in_the_high_quantiles_only);
}
