/* jobs: the coordinator's record of a job and its lifecycle (jobs.h):
 *
 *   CREATED --place--> RUNNING --every task finished--> FINISHED
 *                         |  \--a task failed or its node was lost--> FAILED
 *                         \----cancel-------------------------------> CANCELED
 *
 * A job is placed on the alive nodes only; reports of an older attempt are
 * fenced off; a task that reached a final state stays there; a failure
 * says which task on which node and why. Times are arguments. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jobs.h"
#include "timeu.h"

enum { T_RUNNING = 2, T_FINISHED = 3, T_FAILED = 4, T_CANCELED = 5 };

static weir_members_t s_m; /* large: static */
static weir_job_t s_spec;

/* A job of 2 source splits and 3 keyed tasks (plan indexes 0-1 sources,
 * 2-4 keyed) and the nodes n1, n2, n3, with n2 dead. */
static weir_jobrec_t *s_new_job(void)
{
    memset(&s_spec, 0, sizeof s_spec);
    snprintf(s_spec.name, sizeof s_spec.name, "trips");
    s_spec.source.splits = 2;
    s_spec.parallelism = 3;
    s_spec.max_key_groups = 128;
    weir_members_init(&s_m, 3000);
    weir_members_register(&s_m, "n1", "tcp://h:1", "a", 1, 1, 0);
    weir_members_register(&s_m, "n2", "tcp://h:2", "b", 1, 2, 0);
    weir_members_register(&s_m, "n3", "tcp://h:3", "c", 1, 3, 0);
    weir_members_heartbeat(&s_m, "n1", 2000);
    weir_members_heartbeat(&s_m, "n3", 2000);
    uint32_t dead[3];
    weir_members_expire(&s_m, 3500, dead, 3); /* n2 */
    return weir_jobs_new("trips-1", "name: trips\n", "/srv/jobs", "trips.yaml", &s_spec, 123);
}

static weir_task_status_t s_st(int state)
{
    weir_task_status_t st;
    memset(&st, 0, sizeof st);
    st.state = state;
    st.watermark_ms = WEIR_TS_MIN;
    return st;
}

static weir_jobrec_t *s_running_job(void)
{
    weir_jobrec_t *r = s_new_job();
    char err[256];
    CU_ASSERT_EQUAL_FATAL(weir_jobs_place(r, &s_m, err, sizeof err), 0);
    return r;
}

static int s_report(weir_jobrec_t *r, uint32_t task, int state)
{
    weir_task_status_t st = s_st(state);
    return weir_jobs_task_update(r, r->attempt, task, &st, r->task_node[task], 500);
}

static void a_new_job_is_created_with_its_own_copy_of_the_file(void)
{
    weir_jobrec_t *r = s_new_job();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_CREATED);
    CU_ASSERT_EQUAL(r->attempt, 0);
    CU_ASSERT_EQUAL(r->n_tasks, 0);
    CU_ASSERT_STRING_EQUAL(r->id, "trips-1");
    CU_ASSERT_STRING_EQUAL(r->yaml, "name: trips\n");
    CU_ASSERT_STRING_EQUAL(r->base_dir, "/srv/jobs");
    CU_ASSERT_STRING_EQUAL(r->file_name, "trips.yaml");
    CU_ASSERT_EQUAL(r->spec.parallelism, 3);
    CU_ASSERT_EQUAL(r->submitted_ms, 123);
    CU_ASSERT_FALSE(weir_jobs_final(r));
    weir_jobs_destroy(&r);
    CU_ASSERT_PTR_NULL(r);
    weir_jobs_destroy(&r);
    weir_jobs_destroy(NULL);
}

static void placing_runs_every_task_on_alive_nodes_only(void)
{
    weir_jobrec_t *r = s_new_job();
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(weir_jobs_place(r, &s_m, err, sizeof err), 0);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RUNNING);
    CU_ASSERT_EQUAL(r->attempt, 1);
    CU_ASSERT_EQUAL_FATAL(r->n_tasks, 5);
    uint32_t on[3] = {0};
    for (uint32_t i = 0; i < r->n_tasks; i++) {
        /* tasks[].node is the index in the member table, task_node its id. */
        uint32_t m = r->tasks[i].node;
        CU_ASSERT_FATAL(m < s_m.n);
        CU_ASSERT_TRUE(s_m.nodes[m].alive);
        CU_ASSERT_STRING_EQUAL(r->task_node[i], s_m.nodes[m].id);
        on[m]++;
        CU_ASSERT_EQUAL(r->status[i].state, 1); /* deploying */
        CU_ASSERT_EQUAL(r->status[i].watermark_ms, WEIR_TS_MIN);
    }
    CU_ASSERT_EQUAL(on[1], 0); /* n2 is dead */
    CU_ASSERT_EQUAL(on[0] + on[2], 5);
    CU_ASSERT(on[0] >= 2 && on[2] >= 2);
    weir_jobs_destroy(&r);
}

static void a_job_with_no_alive_node_stays_created_and_says_why(void)
{
    weir_jobrec_t *r = s_new_job();
    uint32_t dead[3];
    weir_members_expire(&s_m, 10000, dead, 3);
    char err[256] = "";
    CU_ASSERT_EQUAL(weir_jobs_place(r, &s_m, err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no live nodes"));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_CREATED);
    CU_ASSERT_EQUAL(r->attempt, 0);
    weir_jobs_destroy(&r);
}

static void a_job_finishes_only_when_every_task_has_finished(void)
{
    weir_jobrec_t *r = s_running_job();
    for (uint32_t i = 0; i < r->n_tasks; i++)
        CU_ASSERT_EQUAL(s_report(r, i, T_RUNNING), -1);
    /* Sources finish first; keyed tasks still fire their windows. */
    CU_ASSERT_EQUAL(s_report(r, 0, T_FINISHED), -1);
    CU_ASSERT_EQUAL(s_report(r, 1, T_FINISHED), -1);
    CU_ASSERT_EQUAL(s_report(r, 3, T_FINISHED), -1);
    CU_ASSERT_EQUAL(s_report(r, 2, T_FINISHED), -1);
    /* The same report twice does not finish the job either. */
    CU_ASSERT_EQUAL(s_report(r, 2, T_FINISHED), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RUNNING);
    CU_ASSERT_EQUAL(r->ended_ms, 0);
    CU_ASSERT_EQUAL(s_report(r, 4, T_FINISHED), WEIR_JOB_FINISHED);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FINISHED);
    CU_ASSERT_EQUAL(r->ended_ms, 500);
    CU_ASSERT_TRUE(weir_jobs_final(r));
    /* Late reports change nothing any more. */
    CU_ASSERT_EQUAL(s_report(r, 4, T_FAILED), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FINISHED);
    weir_jobs_destroy(&r);
}

static void a_failed_task_fails_the_job_naming_task_node_and_reason(void)
{
    weir_jobrec_t *r = s_running_job();
    s_report(r, 0, T_FINISHED);
    weir_task_status_t st = s_st(T_FAILED);
    snprintf(st.error, sizeof st.error, "cannot publish results in /out: No space left on device");
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 1, 3, &st, "n3", 900), WEIR_JOB_FAILED);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FAILED);
    CU_ASSERT_EQUAL(r->ended_ms, 900);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "task 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "window 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "node n3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "No space left on device"));
    CU_ASSERT_EQUAL(r->status[3].state, T_FAILED);
    weir_jobs_destroy(&r);

    /* A source names its split. */
    r = s_running_job();
    st = s_st(T_FAILED);
    snprintf(st.error, sizeof st.error, "cannot read /data/in.csv: No such file or directory");
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 1, 1, &st, "n1", 900), WEIR_JOB_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "source split 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "node n1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "/data/in.csv"));
    weir_jobs_destroy(&r);
}

static void losing_a_node_with_an_unfinished_task_fails_the_job(void)
{
    weir_jobrec_t *r = s_running_job();
    /* Every task not on n3 finishes. */
    uint32_t on_n3 = UINT32_MAX;
    for (uint32_t i = 0; i < r->n_tasks; i++)
        if (strcmp(r->task_node[i], "n3") == 0) {
            if (on_n3 == UINT32_MAX)
                on_n3 = i; /* the first one is named */
        } else
            s_report(r, i, T_FINISHED);
    CU_ASSERT_FATAL(on_n3 != UINT32_MAX);
    CU_ASSERT_EQUAL(weir_jobs_node_lost(r, "n3", "no heartbeat for 3000 ms", 777), WEIR_JOB_FAILED);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FAILED);
    CU_ASSERT_EQUAL(r->ended_ms, 777);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "node n3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "no heartbeat for 3000 ms"));
    char task[32];
    snprintf(task, sizeof task, "task %u", on_n3);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, task));
    /* Failed once: losing it again reports nothing new. */
    CU_ASSERT_EQUAL(weir_jobs_node_lost(r, "n3", "again", 778), -1);
    CU_ASSERT_EQUAL(r->ended_ms, 777);
    weir_jobs_destroy(&r);
}

static void losing_a_node_that_runs_nothing_unfinished_of_the_job_changes_nothing(void)
{
    weir_jobrec_t *r = s_running_job();
    /* n2 was dead at placement: nothing of the job runs there. */
    CU_ASSERT_EQUAL(weir_jobs_node_lost(r, "n2", "no heartbeat", 700), -1);
    CU_ASSERT_EQUAL(weir_jobs_node_lost(r, "elsewhere", "no heartbeat", 700), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RUNNING);
    /* Every task of n1 finished (its results are published): losing n1
     * afterwards does not fail the job. */
    for (uint32_t i = 0; i < r->n_tasks; i++)
        if (strcmp(r->task_node[i], "n1") == 0)
            s_report(r, i, T_FINISHED);
    CU_ASSERT_EQUAL(weir_jobs_node_lost(r, "n1", "no heartbeat", 800), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RUNNING);
    CU_ASSERT_STRING_EQUAL(r->error, "");
    weir_jobs_destroy(&r);
}

static void reports_of_an_older_attempt_are_ignored(void)
{
    weir_jobrec_t *r = s_running_job();
    char err[256];
    /* A second deployment (what recovery does) fences off attempt 1. */
    CU_ASSERT_EQUAL_FATAL(weir_jobs_place(r, &s_m, err, sizeof err), 0);
    CU_ASSERT_EQUAL(r->attempt, 2);
    weir_task_status_t st = s_st(T_FAILED);
    snprintf(st.error, sizeof st.error, "old failure");
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 1, 0, &st, "n1", 10), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RUNNING);
    CU_ASSERT_EQUAL(r->status[0].state, 1);
    st = s_st(T_FINISHED);
    for (uint32_t i = 0; i < r->n_tasks; i++)
        CU_ASSERT_EQUAL(weir_jobs_task_update(r, 1, i, &st, "n1", 10), -1);
    /* A future attempt is no better, and neither is a task out of range. */
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 3, 0, &st, "n1", 10), -1);
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 2, 5, &st, "n1", 10), -1);
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 2, UINT32_MAX, &st, "n1", 10), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RUNNING);
    for (uint32_t i = 0; i < r->n_tasks; i++)
        CU_ASSERT_EQUAL(r->status[i].state, 1);
    weir_jobs_destroy(&r);
}

static void a_final_task_state_never_goes_back(void)
{
    weir_jobrec_t *r = s_running_job();
    weir_task_status_t st = s_st(T_FINISHED);
    st.rows_out = 42;
    st.watermark_ms = WEIR_TS_MAX;
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 1, 2, &st, r->task_node[2], 10), -1);
    /* A heartbeat sent before the final report arrives after it. */
    st = s_st(T_RUNNING);
    st.rows_out = 40;
    st.watermark_ms = 1000;
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, 1, 2, &st, r->task_node[2], 11), -1);
    CU_ASSERT_EQUAL(r->status[2].state, T_FINISHED);
    CU_ASSERT_EQUAL(r->status[2].rows_out, 42);
    CU_ASSERT_EQUAL(r->status[2].watermark_ms, WEIR_TS_MAX);
    /* Running tasks do take newer snapshots. */
    st = s_st(T_RUNNING);
    st.rows_out = 7;
    weir_jobs_task_update(r, 1, 3, &st, r->task_node[3], 12);
    CU_ASSERT_EQUAL(r->status[3].rows_out, 7);
    weir_jobs_destroy(&r);
}

static void only_an_active_job_can_be_canceled(void)
{
    weir_jobrec_t *r = s_new_job();
    CU_ASSERT_TRUE(weir_jobs_cancel(r, "canceled by the user", 50));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_CANCELED);
    CU_ASSERT_STRING_EQUAL(r->error, "canceled by the user");
    CU_ASSERT_EQUAL(r->ended_ms, 50);
    CU_ASSERT_FALSE(weir_jobs_cancel(r, "twice", 60));
    CU_ASSERT_STRING_EQUAL(r->error, "canceled by the user");
    CU_ASSERT_EQUAL(r->ended_ms, 50);
    weir_jobs_destroy(&r);

    r = s_running_job();
    CU_ASSERT_TRUE(weir_jobs_cancel(r, "canceled by the user", 50));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_CANCELED);
    /* A canceled job neither finishes nor fails afterwards. */
    for (uint32_t i = 0; i < r->n_tasks; i++)
        CU_ASSERT_EQUAL(s_report(r, i, T_FINISHED), -1);
    CU_ASSERT_EQUAL(s_report(r, 0, T_FAILED), -1);
    CU_ASSERT_EQUAL(weir_jobs_node_lost(r, "n1", "gone", 70), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_CANCELED);
    weir_jobs_destroy(&r);

    r = s_running_job();
    for (uint32_t i = 0; i < r->n_tasks; i++)
        s_report(r, i, T_FINISHED);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FINISHED);
    CU_ASSERT_FALSE(weir_jobs_cancel(r, "too late", 90));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FINISHED);
    CU_ASSERT_STRING_EQUAL(r->error, "");
    weir_jobs_destroy(&r);

    r = s_running_job();
    s_report(r, 0, T_FAILED);
    CU_ASSERT_FALSE(weir_jobs_cancel(r, "too late", 90));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FAILED);
    weir_jobs_destroy(&r);
}

static void the_job_watermark_is_the_minimum_over_its_keyed_tasks(void)
{
    weir_jobrec_t *r = s_new_job();
    /* Not placed: no keyed task, no watermark. */
    CU_ASSERT_EQUAL(weir_jobs_watermark(r), WEIR_TS_MIN);
    weir_jobs_destroy(&r);

    r = s_running_job();
    CU_ASSERT_EQUAL(weir_jobs_watermark(r), WEIR_TS_MIN);
    static const int64_t wm[5] = {100, 50, 7000, 3000, 9000};
    for (uint32_t i = 0; i < 5; i++) {
        weir_task_status_t st = s_st(T_RUNNING);
        st.watermark_ms = wm[i];
        weir_jobs_task_update(r, 1, i, &st, r->task_node[i], 10);
    }
    /* Sources (tasks 0, 1) run ahead or behind; only keyed tasks count. */
    CU_ASSERT_EQUAL(weir_jobs_watermark(r), 3000);
    weir_task_status_t st = s_st(T_FINISHED);
    st.watermark_ms = WEIR_TS_MAX;
    weir_jobs_task_update(r, 1, 3, &st, r->task_node[3], 11);
    CU_ASSERT_EQUAL(weir_jobs_watermark(r), 7000);
    /* An idle keyed task (every input idle) is left out of the minimum... */
    st = s_st(T_RUNNING);
    st.watermark_ms = 7000;
    st.idle = true;
    weir_jobs_task_update(r, 1, 2, &st, r->task_node[2], 12);
    CU_ASSERT_EQUAL(weir_jobs_watermark(r), 9000);
    /* ...and when every unfinished one is idle, the highest counts. */
    st.watermark_ms = 9000;
    weir_jobs_task_update(r, 1, 4, &st, r->task_node[4], 13);
    CU_ASSERT_EQUAL(weir_jobs_watermark(r), 9000);
    weir_jobs_destroy(&r);
}

static void only_the_node_that_runs_a_task_reports_on_it(void)
{
    weir_jobrec_t *r = s_running_job();
    weir_task_status_t st = s_st(4);
    snprintf(st.error, sizeof st.error, "boom");
    const char *other = strcmp(r->task_node[0], "n1") == 0 ? "n2" : "n1";
    CU_ASSERT_EQUAL(weir_jobs_task_update(r, r->attempt, 0, &st, other, 500), -1);
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RUNNING);
    CU_ASSERT_EQUAL(s_report(r, 0, 4), WEIR_JOB_FAILED);
    weir_jobs_destroy(&r);
}

static void a_task_canceled_by_its_node_fails_the_job(void)
{
    weir_jobrec_t *r = s_running_job();
    CU_ASSERT_EQUAL(s_report(r, 1, 5), WEIR_JOB_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "canceled on node"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, r->task_node[1]));
    weir_jobs_destroy(&r);
}

static void a_task_not_started_in_time_fails_the_job_naming_its_node(void)
{
    weir_jobrec_t *r = s_running_job();
    for (uint32_t i = 1; i < r->n_tasks; i++)
        s_report(r, i, 2);
    CU_ASSERT_EQUAL(weir_jobs_check_deploy(r, r->placed_ms + 9999, 10000), -1);
    CU_ASSERT_EQUAL(weir_jobs_check_deploy(r, r->placed_ms + 10000, 10000), WEIR_JOB_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, "task 0 was not started by node"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->error, r->task_node[0]));
    for (uint32_t i = 0; i < r->n_tasks; i++)
        CU_ASSERT_EQUAL(r->status[i].state, 5); /* shown as canceled with the job */
    weir_jobs_destroy(&r);
}

static void restart_strategies_give_delays_and_stop_after_their_attempts(void)
{
    weir_jobrec_t *r = s_running_job();
    /* none: a failed job stays FAILED */
    r->state = WEIR_JOB_FAILED;
    CU_ASSERT_EQUAL(weir_jobs_restart_delay(r), -1);
    CU_ASSERT_FALSE(weir_jobs_begin_restart(r, 100));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_FAILED);
    /* fixed: the same delay, max_attempts times */
    r->spec.restart.strategy = WEIR_RESTART_FIXED;
    r->spec.restart.delay_ms = 1500;
    r->spec.restart.max_attempts = 2;
    snprintf(r->error, sizeof r->error, "node n1 lost");
    CU_ASSERT_TRUE(weir_jobs_begin_restart(r, 100));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_RESTARTING);
    CU_ASSERT_FALSE(weir_jobs_final(r));
    CU_ASSERT_EQUAL(r->restart_at_ms, 1600);
    CU_ASSERT_EQUAL(r->restarts, 1);
    CU_ASSERT_STRING_EQUAL(r->last_failure, "node n1 lost");
    CU_ASSERT_FALSE(weir_jobs_begin_restart(r, 200)); /* only from FAILED */
    r->state = WEIR_JOB_FAILED;
    CU_ASSERT_TRUE(weir_jobs_begin_restart(r, 200));
    r->state = WEIR_JOB_FAILED;
    CU_ASSERT_FALSE(weir_jobs_begin_restart(r, 300)); /* attempts used up */
    CU_ASSERT_TRUE(weir_jobs_final(r));
    /* exponential: initial, doubling, capped at max */
    r->spec.restart.strategy = WEIR_RESTART_EXPONENTIAL;
    r->spec.restart.initial_ms = 1000;
    r->spec.restart.max_ms = 5000;
    r->spec.restart.max_attempts = 10;
    static const int64_t want[] = {1000, 2000, 4000, 5000, 5000};
    r->restarts = 0;
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(weir_jobs_restart_delay(r), want[i]);
        r->restarts++;
    }
    r->restarts = 10;
    CU_ASSERT_EQUAL(weir_jobs_restart_delay(r), -1);
    /* A restarting job can still be canceled. */
    r->restarts = 0;
    r->state = WEIR_JOB_FAILED;
    CU_ASSERT_TRUE(weir_jobs_begin_restart(r, 0));
    CU_ASSERT_TRUE(weir_jobs_cancel(r, "canceled by the user", 5));
    CU_ASSERT_EQUAL(r->state, WEIR_JOB_CANCELED);
    weir_jobs_destroy(&r);
}

void test_jobs_register(void)
{
    CU_pSuite s = CU_add_suite("jobs", NULL, NULL);
    CU_add_test(s, "a new job is created with its own copy of the file",
                a_new_job_is_created_with_its_own_copy_of_the_file);
    CU_add_test(s, "placing runs every task on alive nodes only",
                placing_runs_every_task_on_alive_nodes_only);
    CU_add_test(s, "a job with no alive node stays created and says why",
                a_job_with_no_alive_node_stays_created_and_says_why);
    CU_add_test(s, "a job finishes only when every task has finished",
                a_job_finishes_only_when_every_task_has_finished);
    CU_add_test(s, "a failed task fails the job, naming task, node and reason",
                a_failed_task_fails_the_job_naming_task_node_and_reason);
    CU_add_test(s, "losing a node with an unfinished task fails the job",
                losing_a_node_with_an_unfinished_task_fails_the_job);
    CU_add_test(s, "losing a node that runs nothing unfinished of the job changes nothing",
                losing_a_node_that_runs_nothing_unfinished_of_the_job_changes_nothing);
    CU_add_test(s, "reports of an older attempt are ignored",
                reports_of_an_older_attempt_are_ignored);
    CU_add_test(s, "a final task state never goes back", a_final_task_state_never_goes_back);
    CU_add_test(s, "only the node that runs a task reports on it",
                only_the_node_that_runs_a_task_reports_on_it);
    CU_add_test(s, "a task not started in time fails the job naming its node",
                a_task_not_started_in_time_fails_the_job_naming_its_node);
    CU_add_test(s, "a task canceled by its node fails the job",
                a_task_canceled_by_its_node_fails_the_job);
    CU_add_test(s, "only an active job can be canceled", only_an_active_job_can_be_canceled);
    CU_add_test(s, "restart strategies give delays and stop after their attempts",
                restart_strategies_give_delays_and_stop_after_their_attempts);
    CU_add_test(s, "the job watermark is the minimum over its keyed tasks",
                the_job_watermark_is_the_minimum_over_its_keyed_tasks);
}
