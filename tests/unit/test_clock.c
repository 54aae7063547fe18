/* clock: the system clock moves forward, a manual clock moves only when
 * told, a file clock follows the number in its file and keeps the last
 * good one when the file holds something else. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"

static void system_clock_is_monotonic(void)
{
    int64_t a = weir_clock_now_ms(NULL);
    int64_t b = weir_clock_now_ms(weir_clock_system());
    CU_ASSERT_TRUE(b >= a);
    const weir_clock_t *s = weir_clock_system();
    weir_clock_destroy((weir_clock_t **)&s); /* ignored */
    CU_ASSERT_PTR_NOT_NULL(weir_clock_system());
}

static void manual_clock_moves_only_when_told(void)
{
    weir_clock_t *c = weir_clock_manual_new(-5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), -5);
    weir_clock_manual_advance(c, 1005);
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), 1000);
    weir_clock_manual_set(c, 42);
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), 42);
    weir_clock_destroy(&c);
    CU_ASSERT_PTR_NULL(c);
    weir_clock_destroy(&c);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void file_clock_follows_its_file(void)
{
    char dir[] = "/tmp/weir-clock-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/clock", dir);
    weir_clock_t *c = NULL;
    char err[256] = "";
    CU_ASSERT_TRUE(weir_clock_file_new(path, &c, err, sizeof err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    s_write(path, "");
    CU_ASSERT_EQUAL_FATAL(weir_clock_file_new(path, &c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), 0);
    s_write(path, "5000\n");
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), 5000);
    s_write(path, "-12");
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), -12);
    s_write(path, "soon");
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), -12);
    s_write(path, "");
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), -12);
    /* Replaced by rename, as a test does to change it atomically. */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    s_write(tmp, "777");
    CU_ASSERT_EQUAL(rename(tmp, path), 0);
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), 777);
    s_write(path, "-12");
    weir_clock_manual_set(c, 7); /* not a manual clock */
    CU_ASSERT_EQUAL(weir_clock_now_ms(c), -12);
    weir_clock_destroy(&c);
    unlink(path);
    rmdir(dir);
}

void test_clock_register(void)
{
    CU_pSuite s = CU_add_suite("clock", NULL, NULL);
    CU_add_test(s, "the system clock is monotonic", system_clock_is_monotonic);
    CU_add_test(s, "a manual clock moves only when told", manual_clock_moves_only_when_told);
    CU_add_test(s, "a file clock follows its file", file_clock_follows_its_file);
}
