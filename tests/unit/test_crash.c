/* crash: a spec names known points, optionally for one checkpoint; a
 * misspelt or malformed spec is refused and arms nothing. The tests check
 * matching only: reaching an armed point ends the process, which the
 * runner must survive. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "err.h"

static void an_empty_spec_arms_nothing(void)
{
    CU_ASSERT_EQUAL(weir_crash_set(NULL, NULL, 0), 0);
    CU_ASSERT_FALSE(weir_crash_matches("sink.precommitted", 1));
    CU_ASSERT_EQUAL(weir_crash_set("", NULL, 0), 0);
    CU_ASSERT_FALSE(weir_crash_matches("sink.published", 0));
    weir_crash_point("sink.published", 0); /* returns: nothing armed */
}

static void a_point_without_checkpoint_matches_every_checkpoint(void)
{
    CU_ASSERT_EQUAL_FATAL(weir_crash_set("sink.publishing", NULL, 0), 0);
    CU_ASSERT_TRUE(weir_crash_matches("sink.publishing", 0));
    CU_ASSERT_TRUE(weir_crash_matches("sink.publishing", 7));
    CU_ASSERT_TRUE(weir_crash_matches("sink.publishing", UINT64_MAX));
    CU_ASSERT_FALSE(weir_crash_matches("sink.published", 7));
    CU_ASSERT_FALSE(weir_crash_matches("sink.precommitted", 7));
    weir_crash_point("sink.published", 7); /* another point: returns */
    weir_crash_set(NULL, NULL, 0);
}

static void a_point_with_checkpoint_matches_only_that_checkpoint(void)
{
    CU_ASSERT_EQUAL_FATAL(weir_crash_set("sink.precommitted:7", NULL, 0), 0);
    CU_ASSERT_TRUE(weir_crash_matches("sink.precommitted", 7));
    CU_ASSERT_FALSE(weir_crash_matches("sink.precommitted", 6));
    CU_ASSERT_FALSE(weir_crash_matches("sink.precommitted", 8));
    CU_ASSERT_FALSE(weir_crash_matches("sink.precommitted", 70));
    weir_crash_point("sink.precommitted", 8); /* another checkpoint: returns */
    CU_ASSERT_EQUAL_FATAL(weir_crash_set("sink.published:18446744073709551615", NULL, 0), 0);
    CU_ASSERT_TRUE(weir_crash_matches("sink.published", UINT64_MAX));
    CU_ASSERT_FALSE(weir_crash_matches("sink.published", 0));
    weir_crash_set(NULL, NULL, 0);
}

static void several_entries_are_separated_by_commas(void)
{
    CU_ASSERT_EQUAL_FATAL(
        weir_crash_set("sink.precommitted:3,sink.published:5,sink.precommitted:9", NULL, 0), 0);
    CU_ASSERT_TRUE(weir_crash_matches("sink.precommitted", 3));
    CU_ASSERT_TRUE(weir_crash_matches("sink.precommitted", 9));
    CU_ASSERT_FALSE(weir_crash_matches("sink.precommitted", 5));
    CU_ASSERT_TRUE(weir_crash_matches("sink.published", 5));
    CU_ASSERT_FALSE(weir_crash_matches("sink.published", 3));
    CU_ASSERT_FALSE(weir_crash_matches("sink.publishing", 5));
    weir_crash_set(NULL, NULL, 0);
}

static void a_bad_spec_is_refused_naming_the_entry_and_disarms(void)
{
    static const struct {
        const char *spec;
        const char *named; /* the part of the message that names the entry */
    } bad[] = {
        {"sink.precommited", "\"sink.precommited\""}, /* misspelt */
        {"sink.published:", "\"sink.published:\""},
        {"sink.published:x", "\"sink.published:x\""},
        {"sink.published:-1", "\"sink.published:-1\""},
        {"sink.published: 1", "\"sink.published: 1\""},
        {"sink.published:18446744073709551616", "18446744073709551616"}, /* overflow */
        {":3", "\":3\""},
        {"sink.published,,sink.publishing", "\"\""},
        {"sink.published,", "\"\""},
        {"SINK.PUBLISHED", "\"SINK.PUBLISHED\""},
        {"sink.publishing:1,nope:2", "\"nope:2\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL_FATAL(weir_crash_set("sink.published", NULL, 0), 0);
        char err[256] = "";
        int rc = weir_crash_set(bad[i].spec, err, sizeof err);
        CU_ASSERT_EQUAL(rc, WEIR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].named));
        if (rc != WEIR_EINVAL || !strstr(err, bad[i].named))
            fprintf(stderr, "\nspec %s: rc %d, message %s\n", bad[i].spec, rc, err);
        /* the earlier spec is gone too: a bad spec arms nothing */
        CU_ASSERT_FALSE(weir_crash_matches("sink.published", 1));
        CU_ASSERT_FALSE(weir_crash_matches("sink.publishing", 1));
    }
    char many[1024] = "";
    for (int i = 0; i <= WEIR_CRASH_MAX_ENTRIES; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%ssink.published:%d",
                 i ? "," : "", i);
    CU_ASSERT_EQUAL(weir_crash_set(many, NULL, 0), WEIR_EINVAL);
    CU_ASSERT_FALSE(weir_crash_matches("sink.published", 0));
    many[strrchr(many, ',') - many] = '\0'; /* exactly the maximum */
    CU_ASSERT_EQUAL(weir_crash_set(many, NULL, 0), 0);
    CU_ASSERT_TRUE(weir_crash_matches("sink.published", WEIR_CRASH_MAX_ENTRIES - 1));
    weir_crash_set(NULL, NULL, 0);
}

static void init_reads_the_environment(void)
{
    setenv("WEIR_CRASH_AT", "sink.publishing:4", 1);
    CU_ASSERT_EQUAL(weir_crash_init(NULL, 0), 0);
    CU_ASSERT_TRUE(weir_crash_matches("sink.publishing", 4));
    setenv("WEIR_CRASH_AT", "sink.publish", 1);
    char err[256] = "";
    CU_ASSERT_EQUAL(weir_crash_init(err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sink.publish"));
    CU_ASSERT_FALSE(weir_crash_matches("sink.publishing", 4));
    unsetenv("WEIR_CRASH_AT");
    CU_ASSERT_EQUAL(weir_crash_init(NULL, 0), 0);
    CU_ASSERT_FALSE(weir_crash_matches("sink.publishing", 4));
}

void test_crash_register(void)
{
    CU_pSuite s = CU_add_suite("crash", NULL, NULL);
    CU_add_test(s, "an empty spec arms nothing", an_empty_spec_arms_nothing);
    CU_add_test(s, "a point without checkpoint matches every checkpoint",
                a_point_without_checkpoint_matches_every_checkpoint);
    CU_add_test(s, "a point with checkpoint matches only that checkpoint",
                a_point_with_checkpoint_matches_only_that_checkpoint);
    CU_add_test(s, "several entries are separated by commas",
                several_entries_are_separated_by_commas);
    CU_add_test(s, "a bad spec is refused naming the entry and disarms",
                a_bad_spec_is_refused_naming_the_entry_and_disarms);
    CU_add_test(s, "init reads the environment", init_reads_the_environment);
}
