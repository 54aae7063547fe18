/* err: every weir error code has its own message, and a negative errno is
 * named by the C library, so one call names whatever a function returned. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const int s_codes[] = {WEIR_EINVAL,    WEIR_ERANGE, WEIR_ENOTFOUND, WEIR_EVERSION,
                              WEIR_ESTALE,    WEIR_EFULL,  WEIR_ESTATE,    WEIR_ETIMEDOUT,
                              WEIR_ECANCELED, WEIR_EPROTO};
enum { N_CODES = sizeof s_codes / sizeof s_codes[0] };

static void every_code_has_a_distinct_non_empty_message(void)
{
    for (int i = 0; i < N_CODES; i++) {
        const char *m = weir_strerror(s_codes[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT(strlen(m) > 0);
        CU_ASSERT_STRING_NOT_EQUAL(m, "unknown error");
        CU_ASSERT_STRING_NOT_EQUAL(m, weir_strerror(0));
        for (int j = 0; j < i; j++)
            if (strcmp(m, weir_strerror(s_codes[j])) == 0) {
                printf("\nerr: codes %d and %d share the message '%s'\n", s_codes[i], s_codes[j],
                       m);
                CU_FAIL("two codes share a message");
            }
    }
}

static void weir_codes_never_collide_with_negative_errno(void)
{
    for (int i = 0; i < N_CODES; i++)
        CU_ASSERT(s_codes[i] < -4096);
}

static void negative_errno_is_named_by_strerror(void)
{
    static const int errs[] = {ENOENT, EACCES, ENOMEM, EAGAIN, ENOSPC, EIO};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        char want[256];
        snprintf(want, sizeof want, "%s", strerror(errs[i]));
        CU_ASSERT_STRING_EQUAL(weir_strerror(-errs[i]), want);
    }
}

static void success_and_unknown_codes_have_a_message_too(void)
{
    CU_ASSERT_STRING_EQUAL(weir_strerror(0), "success");
    CU_ASSERT_STRING_EQUAL(weir_strerror(-5000), "unknown error");
    CU_ASSERT_STRING_EQUAL(weir_strerror(-5999), "unknown error");
    CU_ASSERT_STRING_EQUAL(weir_strerror(17), "unknown error");
    CU_ASSERT_STRING_EQUAL(weir_strerror(-4096), "unknown error");
}

void test_err_register(void)
{
    CU_pSuite s = CU_add_suite("err", NULL, NULL);
    CU_add_test(s, "every code has a distinct non-empty message",
                every_code_has_a_distinct_non_empty_message);
    CU_add_test(s, "weir codes never collide with negative errno",
                weir_codes_never_collide_with_negative_errno);
    CU_add_test(s, "a negative errno is named by strerror", negative_errno_is_named_by_strerror);
    CU_add_test(s, "success and unknown codes have a message too",
                success_and_unknown_codes_have_a_message_too);
}
