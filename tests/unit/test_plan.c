/* plan: a job becomes S source tasks (one per split) then P keyed window
 * tasks; keyed task k owns a contiguous key-group range and together they
 * own every key group once; channel s * P + k goes from split s to keyed
 * task k; tasks are spread round-robin over the nodes so that no node has
 * more than one task of a kind more than another. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "plan.h"

static weir_job_t s_job;
static weir_plan_task_t s_tasks[WEIR_PLAN_MAX_TASKS];

static void s_mkjob(int splits, int parallelism, int groups)
{
    memset(&s_job, 0, sizeof s_job);
    s_job.source.splits = splits;
    s_job.parallelism = parallelism;
    s_job.max_key_groups = groups;
}

static void sources_come_first_then_keyed_tasks(void)
{
    s_mkjob(2, 3, 128);
    uint32_t n = 0;
    CU_ASSERT_EQUAL_FATAL(weir_plan_build(&s_job, 1, s_tasks, WEIR_PLAN_MAX_TASKS, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    for (uint32_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(s_tasks[i].index, i);
    CU_ASSERT_EQUAL(s_tasks[0].kind, WEIR_TASK_SOURCE);
    CU_ASSERT_EQUAL(s_tasks[0].split, 0);
    CU_ASSERT_EQUAL(s_tasks[1].kind, WEIR_TASK_SOURCE);
    CU_ASSERT_EQUAL(s_tasks[1].split, 1);
    for (uint32_t k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(s_tasks[2 + k].kind, WEIR_TASK_WINDOW);
        CU_ASSERT_EQUAL(s_tasks[2 + k].keyed_index, k);
    }
    /* 128 groups over 3 tasks: 42, 43, 43. */
    CU_ASSERT_EQUAL(s_tasks[2].kg_first, 0);
    CU_ASSERT_EQUAL(s_tasks[2].kg_last, 41);
    CU_ASSERT_EQUAL(s_tasks[3].kg_first, 42);
    CU_ASSERT_EQUAL(s_tasks[3].kg_last, 84);
    CU_ASSERT_EQUAL(s_tasks[4].kg_first, 85);
    CU_ASSERT_EQUAL(s_tasks[4].kg_last, 127);
    /* One node runs everything. */
    for (uint32_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(s_tasks[i].node, 0);
}

/* Checks that the keyed tasks' ranges are contiguous, in order, cover
 * 0..G-1 exactly once and differ in size by at most one. */
static bool s_ranges_ok(uint32_t S, uint32_t P, uint32_t G)
{
    uint32_t next = 0, smallest = UINT32_MAX, largest = 0;
    for (uint32_t k = 0; k < P; k++) {
        const weir_plan_task_t *t = &s_tasks[S + k];
        if (t->kind != WEIR_TASK_WINDOW || t->kg_first != next || t->kg_last < t->kg_first)
            return false;
        uint32_t size = t->kg_last - t->kg_first + 1;
        smallest = size < smallest ? size : smallest;
        largest = size > largest ? size : largest;
        next = t->kg_last + 1;
    }
    return next == G && largest - smallest <= 1;
}

static void key_group_ranges_cover_every_group_exactly_once(void)
{
    static const uint32_t cases[][3] = {
        /* S, P, G */
        {1, 1, 1},     {1, 1, 128},   {2, 3, 128},       {1, 7, 7},     {3, 8, 100},
        {4, 5, 32768}, {1, 256, 256}, {256, 256, 32768}, {2, 128, 129}, {1, 3, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t S = cases[i][0], P = cases[i][1], G = cases[i][2];
        s_mkjob((int)S, (int)P, (int)G);
        uint32_t n = 0;
        CU_ASSERT_EQUAL_FATAL(weir_plan_build(&s_job, 3, s_tasks, WEIR_PLAN_MAX_TASKS, &n), 0);
        CU_ASSERT_EQUAL(n, S + P);
        if (!s_ranges_ok(S, P, G)) {
            printf("\nplan: S=%u P=%u G=%u: ranges do not cover the groups once\n", S, P, G);
            CU_FAIL("key-group ranges");
        }
    }
}

static void placement_spreads_tasks_evenly_over_the_nodes(void)
{
    static const int shapes[][2] = {{1, 1}, {2, 3}, {3, 2}, {4, 4}, {1, 7}, {5, 9}, {6, 1}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        for (uint32_t nodes = 1; nodes <= 5; nodes++) {
            s_mkjob(shapes[c][0], shapes[c][1], 128);
            uint32_t n = 0;
            CU_ASSERT_EQUAL_FATAL(weir_plan_build(&s_job, nodes, s_tasks, WEIR_PLAN_MAX_TASKS, &n),
                                  0);
            uint32_t per[5][2] = {{0}}, total[5] = {0};
            for (uint32_t i = 0; i < n; i++) {
                CU_ASSERT_FATAL(s_tasks[i].node < nodes);
                per[s_tasks[i].node][s_tasks[i].kind]++;
                total[s_tasks[i].node]++;
            }
            for (uint32_t a = 0; a < nodes; a++) {
                for (uint32_t b = 0; b < nodes; b++) {
                    bool even = per[a][0] <= per[b][0] + 1 && per[a][1] <= per[b][1] + 1 &&
                                total[a] <= total[b] + 1;
                    if (!even) {
                        printf("\nplan: S=%d P=%d over %u nodes: node %u has %u+%u tasks, node "
                               "%u has %u+%u\n",
                               shapes[c][0], shapes[c][1], nodes, a, per[a][0], per[a][1], b,
                               per[b][0], per[b][1]);
                        CU_FAIL("uneven placement");
                    }
                }
            }
        }
    }
}

static void keyed_tasks_go_round_robin_and_sources_continue_after_them(void)
{
    s_mkjob(2, 3, 128);
    uint32_t n = 0;
    CU_ASSERT_EQUAL_FATAL(weir_plan_build(&s_job, 2, s_tasks, WEIR_PLAN_MAX_TASKS, &n), 0);
    /* keyed 0, 1, 2 on nodes 0, 1, 0; sources 0, 1 on nodes 1, 0 */
    CU_ASSERT_EQUAL(s_tasks[2].node, 0);
    CU_ASSERT_EQUAL(s_tasks[3].node, 1);
    CU_ASSERT_EQUAL(s_tasks[4].node, 0);
    CU_ASSERT_EQUAL(s_tasks[0].node, 1);
    CU_ASSERT_EQUAL(s_tasks[1].node, 0);
}

static void channel_numbers_are_split_major_and_unique(void)
{
    s_mkjob(3, 4, 128);
    bool seen[12] = {false};
    for (uint32_t s = 0; s < 3; s++) {
        for (uint32_t k = 0; k < 4; k++) {
            uint32_t c = weir_plan_channel(&s_job, s, k);
            CU_ASSERT_FATAL(c < 12);
            CU_ASSERT_FALSE(seen[c]);
            seen[c] = true;
            /* The receiver finds split and keyed task back from the number. */
            CU_ASSERT_EQUAL(c / 4, s);
            CU_ASSERT_EQUAL(c % 4, k);
        }
    }
    CU_ASSERT_EQUAL(weir_plan_channel(&s_job, 0, 0), 0);
    CU_ASSERT_EQUAL(weir_plan_channel(&s_job, 2, 3), 11);
}

static void a_plan_needs_at_least_one_node(void)
{
    s_mkjob(1, 1, 128);
    uint32_t n = 77;
    CU_ASSERT_EQUAL(weir_plan_build(&s_job, 0, s_tasks, WEIR_PLAN_MAX_TASKS, &n), WEIR_EINVAL);
    CU_ASSERT_EQUAL(n, 77);
}

static void a_plan_that_does_not_fit_the_callers_array_is_refused(void)
{
    s_mkjob(2, 3, 128);
    uint32_t n = 77;
    CU_ASSERT_EQUAL(weir_plan_build(&s_job, 1, s_tasks, 4, &n), WEIR_EFULL);
    CU_ASSERT_EQUAL(n, 77);
    CU_ASSERT_EQUAL(weir_plan_build(&s_job, 1, s_tasks, 0, &n), WEIR_EFULL);
    CU_ASSERT_EQUAL(weir_plan_build(&s_job, 1, s_tasks, 5, &n), 0);
    CU_ASSERT_EQUAL(n, 5);
    /* The largest job fits the largest plan. */
    s_mkjob(WEIR_MAX_PARALLELISM, WEIR_MAX_PARALLELISM, WEIR_MAX_KEY_GROUPS);
    CU_ASSERT_EQUAL(weir_plan_build(&s_job, 5, s_tasks, WEIR_PLAN_MAX_TASKS, &n), 0);
    CU_ASSERT_EQUAL(n, WEIR_PLAN_MAX_TASKS);
}

void test_plan_register(void)
{
    CU_pSuite s = CU_add_suite("plan", NULL, NULL);
    CU_add_test(s, "sources come first, then keyed tasks", sources_come_first_then_keyed_tasks);
    CU_add_test(s, "key-group ranges cover every group exactly once",
                key_group_ranges_cover_every_group_exactly_once);
    CU_add_test(s, "placement spreads tasks evenly over 1 to 5 nodes",
                placement_spreads_tasks_evenly_over_the_nodes);
    CU_add_test(s, "keyed tasks go round-robin and sources continue after them",
                keyed_tasks_go_round_robin_and_sources_continue_after_them);
    CU_add_test(s, "channel numbers are split-major and unique",
                channel_numbers_are_split_major_and_unique);
    CU_add_test(s, "a plan needs at least one node", a_plan_needs_at_least_one_node);
    CU_add_test(s, "a plan that does not fit the caller's array is refused",
                a_plan_that_does_not_fit_the_callers_array_is_refused);
}
