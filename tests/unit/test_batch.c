/* batch: columnar batches are filled row by row, rows can be aborted, and
 * copied between batches of one schema. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "batch.h"

static const weir_type_t s_types[3] = {WEIR_TYPE_INT64, WEIR_TYPE_STRING, WEIR_TYPE_DOUBLE};

static void aborted_row_leaves_no_trace(void)
{
    weir_batch_t *b = weir_batch_new(s_types, 3, 4, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    weir_batch_put_i64(b, 0, 7);
    CU_ASSERT_EQUAL(weir_batch_put_str(b, 1, "hello world", 11), 0);
    weir_batch_put_f64(b, 2, 1.5);
    weir_batch_commit_row(b, 100);
    weir_batch_put_i64(b, 0, 8);
    CU_ASSERT_EQUAL(weir_batch_put_str(b, 1, "junk", 4), 0);
    weir_batch_abort_row(b);
    weir_batch_put_i64(b, 0, 9);
    weir_batch_put_null(b, 1);
    weir_batch_put_f64(b, 2, 2.5);
    weir_batch_commit_row(b, 200);
    CU_ASSERT_EQUAL(b->n_rows, 2);
    uint32_t len;
    const char *s = weir_batch_str(b, 1, 0, &len);
    CU_ASSERT_EQUAL(len, 11);
    CU_ASSERT_NSTRING_EQUAL(s, "hello world", 11);
    CU_ASSERT_EQUAL(b->cols[1].null[1], 1);
    weir_batch_str(b, 1, 1, &len);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(b->cols[0].i64[1], 9);
    CU_ASSERT_EQUAL(b->ts_ms[1], 200);
    weir_batch_destroy(&b);
    CU_ASSERT_PTR_NULL(b);
}

static void copied_rows_equal_their_source(void)
{
    weir_batch_t *a = weir_batch_new(s_types, 3, 8, 1);
    weir_batch_t *b = weir_batch_new(s_types, 3, 8, 1);
    for (int i = 0; i < 5; i++) {
        char txt[16];
        int n = snprintf(txt, sizeof txt, "row-%d", i);
        weir_batch_put_i64(a, 0, i);
        weir_batch_put_str(a, 1, txt, (uint32_t)n);
        weir_batch_put_f64(a, 2, i * 0.5);
        weir_batch_commit_row(a, i * 10);
    }
    CU_ASSERT_EQUAL(weir_batch_copy_row(b, a, 3), 0);
    CU_ASSERT_EQUAL(weir_batch_copy_row(b, a, 1), 0);
    uint32_t len;
    const char *s = weir_batch_str(b, 1, 0, &len);
    CU_ASSERT_NSTRING_EQUAL(s, "row-3", len);
    s = weir_batch_str(b, 1, 1, &len);
    CU_ASSERT_NSTRING_EQUAL(s, "row-1", len);
    CU_ASSERT_EQUAL(b->ts_ms[0], 30);
    CU_ASSERT_DOUBLE_EQUAL(b->cols[2].f64[1], 0.5, 1e-12);
    weir_batch_clear(b);
    CU_ASSERT_EQUAL(b->n_rows, 0);
    weir_batch_destroy(&a);
    weir_batch_destroy(&b);
    weir_batch_destroy(&b);
}

void test_batch_register(void)
{
    CU_pSuite s = CU_add_suite("batch", NULL, NULL);
    CU_add_test(s, "an aborted row leaves no trace", aborted_row_leaves_no_trace);
    CU_add_test(s, "copied rows equal their source", copied_rows_equal_their_source);
}
