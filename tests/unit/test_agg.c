/* agg: SQL aggregate semantics over columnar rows (NULLs skipped, NULL when
 * nothing was seen), exact integer sums and distinct counts, merging, and
 * the serialized form, with output text as the oracle prints it. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "err.h"

enum { C_F, C_I, C_S, C_T, N_COLS };

/* count, count(f), sum(f), avg(f), min(f), max(f), sum(i), avg(i), min(i),
 * max(i), count_distinct(s), count_distinct(f), count_distinct(i), min(t) */
static weir_job_t s_job(void)
{
    weir_job_t j;
    memset(&j, 0, sizeof j);
    j.source.n_fields = N_COLS;
    j.source.fields[C_F].type = WEIR_TYPE_DOUBLE;
    j.source.fields[C_I].type = WEIR_TYPE_INT64;
    j.source.fields[C_S].type = WEIR_TYPE_STRING;
    j.source.fields[C_T].type = WEIR_TYPE_TIMESTAMP;
    static const struct {
        weir_agg_fn_t fn;
        int col;
    } aggs[] = {
        {WEIR_AGG_COUNT, -1},
        {WEIR_AGG_COUNT, C_F},
        {WEIR_AGG_SUM, C_F},
        {WEIR_AGG_AVG, C_F},
        {WEIR_AGG_MIN, C_F},
        {WEIR_AGG_MAX, C_F},
        {WEIR_AGG_SUM, C_I},
        {WEIR_AGG_AVG, C_I},
        {WEIR_AGG_MIN, C_I},
        {WEIR_AGG_MAX, C_I},
        {WEIR_AGG_COUNT_DISTINCT, C_S},
        {WEIR_AGG_COUNT_DISTINCT, C_F},
        {WEIR_AGG_COUNT_DISTINCT, C_I},
        {WEIR_AGG_MIN, C_T},
    };
    j.n_aggs = (int)(sizeof aggs / sizeof aggs[0]);
    for (int i = 0; i < j.n_aggs; i++) {
        j.aggs[i].fn = aggs[i].fn;
        j.aggs[i].field_col = aggs[i].col;
    }
    return j;
}

static weir_batch_t *s_batch(void)
{
    weir_type_t types[N_COLS] = {WEIR_TYPE_DOUBLE, WEIR_TYPE_INT64, WEIR_TYPE_STRING,
                                 WEIR_TYPE_TIMESTAMP};
    return weir_batch_new(types, N_COLS, 64, 64);
}

/* Appends a row; f_null / i_null / s == NULL put NULLs. */
static void s_row(weir_batch_t *b, int f_null, double f, int i_null, int64_t i, const char *s)
{
    if (f_null)
        weir_batch_put_null(b, C_F);
    else
        weir_batch_put_f64(b, C_F, f);
    if (i_null)
        weir_batch_put_null(b, C_I);
    else
        weir_batch_put_i64(b, C_I, i);
    if (s)
        weir_batch_put_str(b, C_S, s, (uint32_t)strlen(s));
    else
        weir_batch_put_null(b, C_S);
    weir_batch_put_i64(b, C_T, 1000 + i % 1000);
    weir_batch_commit_row(b, 0);
}

/* Formats every aggregate of acc as "v1|v2|..." with NULL as "-". */
static const char *s_text(const weir_aggs_t *a, const void *acc)
{
    static char out[1024];
    size_t at = 0;
    for (int i = 0; i < a->n; i++) {
        char buf[WEIR_AGG_TEXT_MAX];
        int is_null;
        size_t n = weir_agg_format(a, acc, i, buf, &is_null);
        CU_ASSERT_EQUAL(n, strlen(buf));
        at +=
            (size_t)snprintf(out + at, sizeof out - at, "%s%s", i ? "|" : "", is_null ? "-" : buf);
    }
    return out;
}

static void aggregates_skip_nulls_and_are_null_without_values(void)
{
    weir_job_t job = s_job();
    weir_aggs_t a;
    CU_ASSERT_EQUAL_FATAL(weir_aggs_init(&a, &job), 0);
    CU_ASSERT_EQUAL(a.size % 8, 0);
    uint64_t *acc = calloc(1, a.size);
    weir_agg_init(&a, acc);
    weir_batch_t *b = s_batch();
    s_row(b, 1, 0, 1, 0, NULL);
    s_row(b, 1, 0, 1, 0, NULL);
    for (uint32_t r = 0; r < b->n_rows; r++)
        CU_ASSERT_EQUAL(weir_agg_add(&a, acc, b, r), 0);
    CU_ASSERT_STRING_EQUAL(s_text(&a, acc), "2|0|-|-|-|-|-|-|-|-|0|0|0|1000");
    CU_ASSERT_EQUAL(weir_agg_rows(&a, acc), 2);
    weir_agg_free(&a, acc);
    CU_ASSERT_STRING_EQUAL(s_text(&a, acc), "0|0|-|-|-|-|-|-|-|-|0|0|0|-");
    free(acc);
    weir_batch_destroy(&b);
}

static void values_print_as_the_oracle_prints_them(void)
{
    weir_job_t job = s_job();
    weir_aggs_t a;
    CU_ASSERT_EQUAL_FATAL(weir_aggs_init(&a, &job), 0);
    uint64_t *acc = calloc(1, a.size);
    weir_batch_t *b = s_batch();
    s_row(b, 0, 8.0, 0, 3, "a");
    s_row(b, 0, 9.0, 0, -7, "b");
    s_row(b, 1, 0, 0, 3, "a");
    s_row(b, 0, 0.5, 1, 0, "");
    for (uint32_t r = 0; r < b->n_rows; r++)
        weir_agg_add(&a, acc, b, r);
    /* Python: sum 17.5, 17.5/3 = 5.833333333333333, -1/3 = -0.3333333333333333 */
    CU_ASSERT_STRING_EQUAL(
        s_text(&a, acc),
        "4|3|17.5|5.833333333333333|0.5|9.0|-1|-0.3333333333333333|-7|3|3|3|2|993");
    weir_agg_free(&a, acc);
    weir_batch_clear(b);
    s_row(b, 0, 8.0, 0, INT64_MAX, "x");
    s_row(b, 0, 9.0, 0, INT64_MAX, "x");
    s_row(b, 0, 0.1, 0, INT64_MAX, "x");
    s_row(b, 0, 0.2, 0, INT64_MAX, "x");
    for (uint32_t r = 0; r < 2; r++)
        weir_agg_add(&a, acc, b, r);
    char buf[WEIR_AGG_TEXT_MAX];
    int is_null;
    weir_agg_format(&a, acc, 2, buf, &is_null);
    CU_ASSERT_STRING_EQUAL(buf, "17.0");
    weir_agg_format(&a, acc, 6, buf, &is_null);
    CU_ASSERT_STRING_EQUAL(buf, "18446744073709551614"); /* beyond int64, exact */
    weir_agg_format(&a, acc, 7, buf, &is_null);
    CU_ASSERT_STRING_EQUAL(buf, "9.223372036854776e+18");
    weir_agg_free(&a, acc);
    weir_agg_add(&a, acc, b, 2);
    weir_agg_add(&a, acc, b, 3);
    weir_agg_format(&a, acc, 2, buf, &is_null);
    CU_ASSERT_STRING_EQUAL(buf, "0.30000000000000004"); /* row order, like Python */
    weir_agg_free(&a, acc);
    free(acc);
    weir_batch_destroy(&b);
}

static void distinct_counts_are_exact(void)
{
    weir_job_t job = s_job();
    weir_aggs_t a;
    CU_ASSERT_EQUAL_FATAL(weir_aggs_init(&a, &job), 0);
    uint64_t *acc = calloc(1, a.size);
    weir_batch_t *b = s_batch();
    int rows = 0;
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 5000; k++) {
            char s[32];
            snprintf(s, sizeof s, "value-%d", k * 7919 % 5000);
            s_row(b, 0, k % 2 ? -0.0 : 0.0, 0, (int64_t)k << 40, s);
            weir_agg_add(&a, acc, b, b->n_rows - 1);
            weir_batch_clear(b);
            rows++;
        }
    }
    char buf[WEIR_AGG_TEXT_MAX];
    int is_null;
    weir_agg_format(&a, acc, 10, buf, &is_null);
    CU_ASSERT_STRING_EQUAL(buf, "5000");
    weir_agg_format(&a, acc, 11, buf, &is_null);
    CU_ASSERT_STRING_EQUAL(buf, "1"); /* -0.0 and 0.0 are one value */
    weir_agg_format(&a, acc, 12, buf, &is_null);
    CU_ASSERT_STRING_EQUAL(buf, "5000");
    CU_ASSERT_EQUAL(weir_agg_rows(&a, acc), (uint64_t)rows);
    weir_agg_free(&a, acc);
    free(acc);
    weir_batch_destroy(&b);
}

static void merged_accumulators_equal_one_over_all_rows(void)
{
    weir_job_t job = s_job();
    weir_aggs_t a;
    CU_ASSERT_EQUAL_FATAL(weir_aggs_init(&a, &job), 0);
    uint64_t *all = calloc(1, a.size), *x = calloc(1, a.size), *y = calloc(1, a.size);
    uint64_t *empty = calloc(1, a.size);
    weir_batch_t *b = s_batch();
    for (int i = 0; i < 40; i++) {
        char s[8];
        snprintf(s, sizeof s, "s%d", i % 7);
        s_row(b, i % 5 == 0, i * 0.25, i % 3 == 0, 100 - i * 9, i % 4 ? s : NULL);
    }
    for (uint32_t r = 0; r < b->n_rows; r++) {
        weir_agg_add(&a, all, b, r);
        weir_agg_add(&a, r < 17 ? x : y, b, r);
    }
    CU_ASSERT_EQUAL(weir_agg_merge(&a, x, y), 0);
    CU_ASSERT_EQUAL(weir_agg_merge(&a, x, empty), 0);
    char want[1024];
    snprintf(want, sizeof want, "%s", s_text(&a, all));
    CU_ASSERT_STRING_EQUAL(s_text(&a, x), want);
    CU_ASSERT_EQUAL(weir_agg_merge(&a, empty, all), 0);
    CU_ASSERT_STRING_EQUAL(s_text(&a, empty), want);
    weir_agg_free(&a, all);
    weir_agg_free(&a, x);
    weir_agg_free(&a, y);
    weir_agg_free(&a, empty);
    free(all), free(x), free(y), free(empty);
    weir_batch_destroy(&b);
}

static void serialized_accumulators_read_back_equal(void)
{
    weir_job_t job = s_job();
    weir_aggs_t a;
    CU_ASSERT_EQUAL_FATAL(weir_aggs_init(&a, &job), 0);
    uint64_t *acc = calloc(1, a.size), *back = calloc(1, a.size);
    weir_batch_t *b = s_batch();
    for (int i = 0; i < 30; i++) {
        char s[16];
        snprintf(s, sizeof s, "k,\"%d\"", i % 11);
        s_row(b, i % 4 == 0, -i * 1.5, i % 6 == 0, INT64_MAX - i, s);
    }
    for (uint32_t r = 0; r < b->n_rows; r++)
        weir_agg_add(&a, acc, b, r);
    weir_agg_add(&a, acc, b, 1); /* over int64 in the 128-bit sum */
    size_t n = weir_agg_encoded_size(&a, acc);
    uint8_t *buf = malloc(n);
    CU_ASSERT_EQUAL(weir_agg_encode(&a, acc, buf), n);
    CU_ASSERT_EQUAL(weir_agg_decode(&a, back, buf, n), 0);
    char want[1024];
    snprintf(want, sizeof want, "%s", s_text(&a, acc));
    CU_ASSERT_STRING_EQUAL(s_text(&a, back), want);
    weir_agg_free(&a, back);
    for (size_t cut = 0; cut < n; cut += 3) {
        CU_ASSERT_EQUAL(weir_agg_decode(&a, back, buf, cut), WEIR_EINVAL);
        CU_ASSERT_EQUAL(weir_agg_rows(&a, back), 0);
    }
    /* an empty accumulator round-trips too */
    weir_agg_free(&a, acc);
    n = weir_agg_encoded_size(&a, acc);
    CU_ASSERT_EQUAL(weir_agg_encode(&a, acc, buf), n);
    CU_ASSERT_EQUAL(weir_agg_decode(&a, back, buf, n), 0);
    CU_ASSERT_STRING_EQUAL(s_text(&a, back), "0|0|-|-|-|-|-|-|-|-|0|0|0|-");
    weir_agg_free(&a, back);
    free(buf), free(acc), free(back);
    weir_batch_destroy(&b);
}

static void functions_that_do_not_fit_the_column_are_rejected(void)
{
    weir_job_t job = s_job();
    weir_aggs_t a;
    job.aggs[2].field_col = C_S; /* sum over a string */
    CU_ASSERT_EQUAL(weir_aggs_init(&a, &job), WEIR_EINVAL);
    job = s_job();
    job.aggs[3].field_col = -1; /* avg of nothing */
    CU_ASSERT_EQUAL(weir_aggs_init(&a, &job), WEIR_EINVAL);
    job = s_job();
    job.aggs[0].field_col = N_COLS; /* past the schema */
    CU_ASSERT_EQUAL(weir_aggs_init(&a, &job), WEIR_EINVAL);
    job = s_job();
    job.n_aggs = 1; /* count alone: the accumulator is the row count */
    CU_ASSERT_EQUAL(weir_aggs_init(&a, &job), 0);
    CU_ASSERT_EQUAL(a.size, 8);
}

void test_agg_register(void)
{
    CU_pSuite s = CU_add_suite("agg", NULL, NULL);
    CU_add_test(s, "aggregates skip NULLs and are NULL without values",
                aggregates_skip_nulls_and_are_null_without_values);
    CU_add_test(s, "values print as the oracle prints them",
                values_print_as_the_oracle_prints_them);
    CU_add_test(s, "distinct counts are exact", distinct_counts_are_exact);
    CU_add_test(s, "merged accumulators equal one over all rows",
                merged_accumulators_equal_one_over_all_rows);
    CU_add_test(s, "serialized accumulators read back equal",
                serialized_accumulators_read_back_equal);
    CU_add_test(s, "functions that do not fit the column are rejected",
                functions_that_do_not_fit_the_column_are_rejected);
}
