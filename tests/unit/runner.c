/* The one CUnit runner: registers every suite listed in the generated
 * suites.inc (one per tests/unit/test_<module>.c) and runs all of them, or
 * only the suites named on the command line. Exit status 0 only when every
 * selected test passed. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#define WEIR_SUITE(m) void test_##m##_register(void);
#include "suites.inc"
#undef WEIR_SUITE

typedef struct {
    const char *name;
    void (*reg)(void);
} suite_t;

static const suite_t s_suites[] = {
#define WEIR_SUITE(m) {#m, test_##m##_register},
#include "suites.inc"
#undef WEIR_SUITE
};

int main(int argc, char **argv)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    size_t n = sizeof s_suites / sizeof s_suites[0];
    int picked = 0;
    for (size_t i = 0; i < n; i++) {
        int want = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], s_suites[i].name) == 0)
                want = 1;
        if (want) {
            s_suites[i].reg();
            picked++;
        }
    }
    if (!picked) {
        fprintf(stderr, "weir_unit_tests: no suite matches; suites:");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %s", s_suites[i].name);
        fprintf(stderr, "\n");
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
