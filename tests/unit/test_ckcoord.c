/* ckcoord: checkpoints start at the interval, walk TRIGGERED -> ... ->
 * COMPLETED as acknowledgements come in, time out on a fake clock, refuse
 * acknowledgements that do not fit, never reuse an id, count finished tasks
 * as acknowledged, stop after a task failure, and queue savepoints.
 *
 * The plan used throughout: tasks 0 and 1 are source splits, 2 and 3 keyed
 * tasks; interval 1000 ms, timeout 500 ms; the clock starts at 10000. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "ckcoord.h"
#include "err.h"

#define T0 10000
#define INTERVAL 1000
#define TIMEOUT 500

static const bool s_sources[4] = {true, true, false, false};

static weir_ckc_t *s_new(void)
{
    return weir_ckc_new(4, s_sources, INTERVAL, TIMEOUT, T0);
}

/* A snapshot as task i would send it for checkpoint id. */
static weir_ck_task_snap_t s_snap(uint32_t i, uint64_t id)
{
    weir_ck_task_snap_t s;
    memset(&s, 0, sizeof s);
    s.kind = i < 2 ? 0 : 1;
    s.source_position = i < 2 ? 1000 * id + i : 0;
    s.watermark_ms = (int64_t)(100 * id);
    s.incremental_bytes = 10;
    s.alignment_ms = (int64_t)i;
    if (i >= 2) {
        weir_ck_hash_t h;
        char name[32];
        snprintf(name, sizeof name, "%06u.sst", (unsigned)(id * 10 + i));
        weir_ck_hash_buf(name, strlen(name), &h);
        CU_ASSERT_EQUAL(weir_ck_snap_add_file(&s, name, &h, 100), 0);
        snprintf(s.cf, sizeof s.cf, "job/1/w%u", (unsigned)(i - 2));
    }
    return s;
}

static int s_ack(weir_ckc_t *c, uint32_t task, uint64_t id, int64_t now)
{
    weir_ck_task_snap_t s = s_snap(task, id);
    int rc = weir_ckc_ack(c, task, id, &s, now);
    weir_ck_snap_clear(&s);
    return rc;
}

static weir_ckc_phase_t s_phase(weir_ckc_t *c, int64_t now)
{
    weir_ckc_stats_t st;
    return weir_ckc_current(c, now, &st) == 0 ? st.phase : 0;
}

/* Polls once and checks the action's kind; returns its id. */
static uint64_t s_expect(weir_ckc_t *c, int64_t now, weir_ckc_act_t kind)
{
    weir_ckc_action_t a;
    weir_ckc_act_t got = weir_ckc_poll(c, now, &a);
    CU_ASSERT_EQUAL(got, kind);
    CU_ASSERT_EQUAL(a.kind, got);
    return a.id;
}

/* Runs checkpoint id from trigger to COMPLETED at time now. */
static void s_complete(weir_ckc_t *c, uint64_t id, int64_t now)
{
    for (uint32_t t = 0; t < 4; t++)
        CU_ASSERT_EQUAL(s_ack(c, t, id, now), 0);
    CU_ASSERT_EQUAL(s_expect(c, now, WEIR_CKC_PERSIST), id);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, id, now), 0);
    CU_ASSERT_EQUAL(s_expect(c, now, WEIR_CKC_NOTIFY), id);
    CU_ASSERT_EQUAL(weir_ckc_completed(c, id, now), 0);
}

static void checkpoints_start_at_the_interval_after_the_previous_one_ended(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(weir_ckc_last_id(c), 0);
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), T0 + INTERVAL);
    s_expect(c, T0, WEIR_CKC_NONE);
    s_expect(c, T0 + INTERVAL - 1, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(s_expect(c, T0 + INTERVAL, WEIR_CKC_TRIGGER), 1);
    CU_ASSERT_EQUAL(weir_ckc_last_id(c), 1);
    /* one at a time, however late */
    s_expect(c, T0 + INTERVAL + 200, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), T0 + INTERVAL + TIMEOUT);
    s_complete(c, 1, T0 + 1300);
    /* the next is due an interval after the end, not after the trigger */
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), T0 + 1300 + INTERVAL);
    s_expect(c, T0 + 2299, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(s_expect(c, T0 + 2300, WEIR_CKC_TRIGGER), 2);
    weir_ckc_destroy(&c);
    CU_ASSERT_PTR_NULL(c);
    weir_ckc_destroy(&c);
}

static void a_checkpoint_walks_every_state_to_completed(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    weir_ckc_action_t a;
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 11000, &a), WEIR_CKC_TRIGGER);
    CU_ASSERT_EQUAL(a.id, 1);
    CU_ASSERT_FALSE(a.savepoint);
    CU_ASSERT_EQUAL(s_phase(c, 11000), WEIR_CKC_TRIGGERED);
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 11010), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11010), WEIR_CKC_TRIGGERED);
    CU_ASSERT_EQUAL(s_ack(c, 1, 1, 11020), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11020), WEIR_CKC_SOURCES_ACKED);
    CU_ASSERT_EQUAL(s_ack(c, 2, 1, 11030), 0);
    s_expect(c, 11030, WEIR_CKC_NONE);
    /* metadata only once every task acknowledged */
    weir_ck_meta_t m;
    CU_ASSERT_EQUAL(weir_ckc_meta(c, 1, &m), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 1, 11030), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_ack(c, 3, 1, 11040), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11040), WEIR_CKC_TASKS_ACKED);
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), INT64_MIN);
    CU_ASSERT_EQUAL(s_expect(c, 11040, WEIR_CKC_PERSIST), 1);
    s_expect(c, 11040, WEIR_CKC_NONE); /* each action once */
    CU_ASSERT_EQUAL_FATAL(weir_ckc_meta(c, 1, &m), 0);
    CU_ASSERT_EQUAL(m.id, 1);
    CU_ASSERT_EQUAL(m.trigger_ms, 11000);
    CU_ASSERT_EQUAL(m.complete_ms, 11040);
    CU_ASSERT_EQUAL_FATAL(m.n_tasks, 4);
    CU_ASSERT_EQUAL(m.tasks[1].task, 1);
    CU_ASSERT_EQUAL(m.tasks[1].source_position, 1001);
    CU_ASSERT_EQUAL(m.tasks[3].n_files, 1);
    CU_ASSERT_STRING_EQUAL(m.tasks[3].files[0].name, "000013.sst");
    CU_ASSERT_STRING_EQUAL(m.tasks[3].cf, "job/1/w1");
    weir_ck_meta_clear(&m);
    CU_ASSERT_EQUAL(weir_ckc_completed(c, 1, 11050), WEIR_EINVAL); /* not durable yet */
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 1, 11050), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11050), WEIR_CKC_DURABLE);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 1, 11050), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_expect(c, 11050, WEIR_CKC_NOTIFY), 1);
    CU_ASSERT_EQUAL(weir_ckc_completed(c, 1, 11060), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11060), 0); /* none running */
    weir_ckc_stats_t st;
    CU_ASSERT_EQUAL_FATAL(weir_ckc_last_completed(c, &st), 0);
    CU_ASSERT_EQUAL(st.id, 1);
    CU_ASSERT_EQUAL(st.phase, WEIR_CKC_COMPLETED);
    CU_ASSERT_EQUAL(st.trigger_ms, 11000);
    CU_ASSERT_EQUAL(st.sources_acked_ms, 11020);
    CU_ASSERT_EQUAL(st.tasks_acked_ms, 11040);
    CU_ASSERT_EQUAL(st.durable_ms, 11050);
    CU_ASSERT_EQUAL(st.end_ms, 11060);
    CU_ASSERT_EQUAL(st.duration_ms, 60);
    CU_ASSERT_EQUAL(st.n_acked, 4);
    CU_ASSERT_EQUAL(st.state_bytes, 200);
    CU_ASSERT_EQUAL(st.incremental_bytes, 40);
    CU_ASSERT_EQUAL(st.alignment_ms, 3);
    CU_ASSERT_EQUAL(weir_ckc_n_completed(c), 1);
    CU_ASSERT_EQUAL(weir_ckc_n_aborted(c), 0);
    CU_ASSERT_STRING_EQUAL(weir_ckc_phase_name(st.phase), "completed");
    weir_ckc_destroy(&c);
}

static void keyed_tasks_may_acknowledge_before_the_sources(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 1);
    CU_ASSERT_EQUAL(s_ack(c, 3, 1, 11001), 0);
    CU_ASSERT_EQUAL(s_ack(c, 2, 1, 11002), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11002), WEIR_CKC_TRIGGERED);
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 11003), 0);
    CU_ASSERT_EQUAL(s_ack(c, 1, 1, 11004), 0);
    /* the last source completes both steps at once */
    CU_ASSERT_EQUAL(s_phase(c, 11004), WEIR_CKC_TASKS_ACKED);
    weir_ckc_stats_t st;
    CU_ASSERT_EQUAL(weir_ckc_current(c, 11010, &st), 0);
    CU_ASSERT_EQUAL(st.sources_acked_ms, 11004);
    CU_ASSERT_EQUAL(st.tasks_acked_ms, 11004);
    CU_ASSERT_EQUAL(st.duration_ms, 10);
    weir_ckc_destroy(&c);
}

static void a_checkpoint_that_times_out_is_aborted_and_its_id_never_reused(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 1);
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 11100), 0);
    CU_ASSERT_EQUAL(s_ack(c, 1, 1, 11100), 0);
    CU_ASSERT_EQUAL(s_ack(c, 2, 1, 11100), 0);
    s_expect(c, 11499, WEIR_CKC_NONE);
    weir_ckc_action_t a;
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 11500, &a), WEIR_CKC_ABORT);
    CU_ASSERT_EQUAL(a.id, 1);
    CU_ASSERT_EQUAL(a.reason, WEIR_CKC_TIMEOUT);
    s_expect(c, 11500, WEIR_CKC_NONE); /* reported once */
    /* the late acknowledgement of the last task is refused */
    CU_ASSERT_EQUAL(s_ack(c, 3, 1, 11600), WEIR_ESTALE);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 1, 11600), WEIR_ESTALE);
    CU_ASSERT_EQUAL(weir_ckc_abort(c, 1, 11600), WEIR_ESTALE);
    weir_ckc_stats_t st;
    CU_ASSERT_EQUAL_FATAL(weir_ckc_history(c, 0, &st), 0);
    CU_ASSERT_EQUAL(st.phase, WEIR_CKC_ABORTED);
    CU_ASSERT_EQUAL(st.reason, WEIR_CKC_TIMEOUT);
    CU_ASSERT_EQUAL(st.n_acked, 3);
    CU_ASSERT_EQUAL(st.end_ms, 11500);
    CU_ASSERT_STRING_EQUAL(weir_ckc_reason_name(st.reason), "timeout");
    CU_ASSERT_EQUAL(weir_ckc_last_completed(c, &st), WEIR_ENOTFOUND);
    CU_ASSERT_EQUAL(weir_ckc_n_aborted(c), 1);
    /* the next one comes an interval after the abort, with a new id */
    s_expect(c, 12499, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(s_expect(c, 12500, WEIR_CKC_TRIGGER), 2);
    /* a timeout noticed by an acknowledgement, not by poll */
    CU_ASSERT_EQUAL(s_ack(c, 0, 2, 13000), WEIR_ESTALE);
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 13000, &a), WEIR_CKC_ABORT);
    CU_ASSERT_EQUAL(a.id, 2);
    CU_ASSERT_EQUAL(s_expect(c, 14000, WEIR_CKC_TRIGGER), 3);
    s_complete(c, 3, 14100);
    CU_ASSERT_EQUAL(weir_ckc_n_completed(c), 1);
    CU_ASSERT_EQUAL(weir_ckc_n_aborted(c), 2);
    weir_ckc_destroy(&c);
}

static void acknowledgements_that_do_not_fit_are_refused(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 10500), WEIR_ENOTFOUND); /* nothing issued yet */
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 1);
    CU_ASSERT_EQUAL(s_ack(c, 4, 1, 11001), WEIR_ERANGE); /* no such task */
    CU_ASSERT_EQUAL(s_ack(c, 99999, 1, 11001), WEIR_ERANGE);
    CU_ASSERT_EQUAL(s_ack(c, 0, 0, 11001), WEIR_ENOTFOUND); /* ids start at 1 */
    CU_ASSERT_EQUAL(s_ack(c, 0, 2, 11001), WEIR_ENOTFOUND); /* not issued */
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 11001), 0);
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 11002), WEIR_EINVAL); /* twice */
    weir_ckc_stats_t st;
    CU_ASSERT_EQUAL(weir_ckc_current(c, 11002, &st), 0);
    CU_ASSERT_EQUAL(st.n_acked, 1); /* refusals changed nothing */
    CU_ASSERT_EQUAL(st.phase, WEIR_CKC_TRIGGERED);
    for (uint32_t t = 1; t < 4; t++)
        CU_ASSERT_EQUAL(s_ack(c, t, 1, 11003), 0);
    CU_ASSERT_EQUAL(s_ack(c, 3, 1, 11004), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_expect(c, 11004, WEIR_CKC_PERSIST), 1);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 1, 11005), 0);
    CU_ASSERT_EQUAL(weir_ckc_completed(c, 1, 11006), 0);
    /* a completed id is old now */
    CU_ASSERT_EQUAL(s_ack(c, 2, 1, 11007), WEIR_ESTALE);
    CU_ASSERT_EQUAL(weir_ckc_completed(c, 1, 11007), WEIR_ESTALE);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 7, 11007), WEIR_ENOTFOUND);
    weir_ck_meta_t m;
    CU_ASSERT_EQUAL(weir_ckc_meta(c, 1, &m), WEIR_ESTALE);
    CU_ASSERT_EQUAL(s_expect(c, 12006, WEIR_CKC_TRIGGER), 2);
    CU_ASSERT_EQUAL(s_ack(c, 1, 1, 12007), WEIR_ESTALE);
    weir_ckc_destroy(&c);
}

static void finished_tasks_count_as_acknowledged_with_their_final_snapshot(void)
{
    weir_ckc_t *c = s_new();
    weir_ck_task_snap_t fin = s_snap(0, 0);
    fin.source_position = 777; /* the end of split 0 */
    CU_ASSERT_EQUAL(weir_ckc_task_finished(c, 0, &fin, 10500), 0);
    CU_ASSERT_EQUAL(weir_ckc_task_finished(c, 0, &fin, 10501), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_ckc_task_finished(c, 9, &fin, 10501), WEIR_ERANGE);
    weir_ck_snap_clear(&fin);
    /* triggered after split 0 ended: it still completes */
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 1);
    weir_ckc_stats_t st;
    CU_ASSERT_EQUAL(weir_ckc_current(c, 11000, &st), 0);
    CU_ASSERT_EQUAL(st.n_acked, 1);
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 11001), WEIR_EINVAL); /* it has its final snapshot */
    CU_ASSERT_EQUAL(s_ack(c, 1, 1, 11002), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11002), WEIR_CKC_SOURCES_ACKED);
    CU_ASSERT_EQUAL(s_ack(c, 2, 1, 11003), 0);
    /* keyed task 3 finishes before it saw barrier 1 */
    weir_ck_task_snap_t fin3 = s_snap(3, 1);
    CU_ASSERT_EQUAL(weir_ckc_task_finished(c, 3, &fin3, 11004), 0);
    weir_ck_snap_clear(&fin3);
    CU_ASSERT_EQUAL(s_phase(c, 11004), WEIR_CKC_TASKS_ACKED);
    CU_ASSERT_EQUAL(s_expect(c, 11004, WEIR_CKC_PERSIST), 1);
    weir_ck_meta_t m;
    CU_ASSERT_EQUAL_FATAL(weir_ckc_meta(c, 1, &m), 0);
    CU_ASSERT_TRUE(m.tasks[0].finished);
    CU_ASSERT_EQUAL(m.tasks[0].task, 0);
    CU_ASSERT_EQUAL(m.tasks[0].source_position, 777);
    CU_ASSERT_FALSE(m.tasks[1].finished);
    CU_ASSERT_TRUE(m.tasks[3].finished);
    CU_ASSERT_EQUAL(m.tasks[3].n_files, 1);
    weir_ck_meta_clear(&m);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 1, 11005), 0);
    CU_ASSERT_EQUAL(weir_ckc_completed(c, 1, 11006), 0);
    CU_ASSERT_EQUAL(weir_ckc_last_completed(c, &st), 0);
    CU_ASSERT_EQUAL(st.incremental_bytes, 20); /* final snapshots upload nothing */
    /* once every task has finished there is nothing left to snapshot */
    weir_ck_task_snap_t f = s_snap(1, 0);
    CU_ASSERT_EQUAL(weir_ckc_task_finished(c, 1, &f, 11500), 0);
    CU_ASSERT_EQUAL(weir_ckc_task_finished(c, 2, &f, 11500), 0);
    weir_ck_snap_clear(&f);
    s_expect(c, 20000, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), INT64_MAX);
    CU_ASSERT_EQUAL(weir_ckc_savepoint(c, 20000), WEIR_EINVAL);
    weir_ckc_destroy(&c);
}

static void a_task_failure_aborts_the_checkpoint_and_stops_triggering(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 1);
    CU_ASSERT_EQUAL(s_ack(c, 0, 1, 11001), 0);
    CU_ASSERT_EQUAL(weir_ckc_task_failed(c, 7, 11002), WEIR_ERANGE);
    CU_ASSERT_EQUAL(weir_ckc_task_failed(c, 2, 11002), 0);
    weir_ckc_action_t a;
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 11002, &a), WEIR_CKC_ABORT);
    CU_ASSERT_EQUAL(a.id, 1);
    CU_ASSERT_EQUAL(a.reason, WEIR_CKC_TASK_FAILED);
    CU_ASSERT_EQUAL(a.task, 2);
    CU_ASSERT_EQUAL(s_ack(c, 1, 1, 11003), WEIR_ESTALE);
    s_expect(c, 50000, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(weir_ckc_savepoint(c, 50000), WEIR_ECANCELED);
    weir_ckc_destroy(&c);

    /* a failure after the metadata is durable does not undo it */
    c = s_new();
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 1);
    for (uint32_t t = 0; t < 4; t++)
        CU_ASSERT_EQUAL(s_ack(c, t, 1, 11001), 0);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 1, 11002), 0);
    CU_ASSERT_EQUAL(weir_ckc_task_failed(c, 3, 11003), 0);
    CU_ASSERT_EQUAL(s_phase(c, 11003), WEIR_CKC_DURABLE);
    CU_ASSERT_EQUAL(s_expect(c, 11003, WEIR_CKC_NOTIFY), 1);
    CU_ASSERT_EQUAL(weir_ckc_completed(c, 1, 11004), 0);
    CU_ASSERT_EQUAL(weir_ckc_n_completed(c), 1);
    s_expect(c, 50000, WEIR_CKC_NONE);
    weir_ckc_destroy(&c);
}

static void a_savepoint_is_queued_behind_the_running_checkpoint(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_EQUAL(weir_ckc_savepoint(c, 10100), 0);
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), INT64_MIN);
    weir_ckc_action_t a;
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 10100, &a), WEIR_CKC_TRIGGER); /* not waiting */
    CU_ASSERT_EQUAL(a.id, 1);
    CU_ASSERT_TRUE(a.savepoint);
    s_complete(c, 1, 10200);
    weir_ckc_stats_t st;
    CU_ASSERT_EQUAL(weir_ckc_last_completed(c, &st), 0);
    CU_ASSERT_TRUE(st.savepoint);
    /* asked twice while checkpoint 2 runs: one savepoint, right after it */
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 11200, &a), WEIR_CKC_TRIGGER);
    CU_ASSERT_FALSE(a.savepoint);
    CU_ASSERT_EQUAL(weir_ckc_savepoint(c, 11201), 0);
    CU_ASSERT_EQUAL(weir_ckc_savepoint(c, 11202), 0);
    s_expect(c, 11203, WEIR_CKC_NONE);
    s_complete(c, 2, 11300);
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 11300, &a), WEIR_CKC_TRIGGER);
    CU_ASSERT_EQUAL(a.id, 3);
    CU_ASSERT_TRUE(a.savepoint);
    weir_ck_meta_t m;
    for (uint32_t t = 0; t < 4; t++)
        CU_ASSERT_EQUAL(s_ack(c, t, 3, 11301), 0);
    CU_ASSERT_EQUAL_FATAL(weir_ckc_meta(c, 3, &m), 0);
    CU_ASSERT_TRUE(m.savepoint);
    weir_ck_meta_clear(&m);
    /* a savepoint that fails is reported with its flag, and not retried */
    CU_ASSERT_EQUAL(weir_ckc_abort(c, 3, 11302), 0);
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 11302, &a), WEIR_CKC_ABORT);
    CU_ASSERT_TRUE(a.savepoint);
    CU_ASSERT_EQUAL(a.reason, WEIR_CKC_REQUESTED);
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 12302, &a), WEIR_CKC_TRIGGER);
    CU_ASSERT_FALSE(a.savepoint);
    weir_ckc_destroy(&c);

    /* interval 0: savepoints only */
    c = weir_ckc_new(4, s_sources, 0, TIMEOUT, T0);
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), INT64_MAX);
    s_expect(c, INT64_MAX / 2, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(weir_ckc_savepoint(c, 20000), 0);
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 20000, &a), WEIR_CKC_TRIGGER);
    CU_ASSERT_TRUE(a.savepoint);
    weir_ckc_destroy(&c);
}

static void metadata_that_cannot_be_written_aborts_and_durable_cannot_be_aborted(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 1);
    for (uint32_t t = 0; t < 4; t++)
        CU_ASSERT_EQUAL(s_ack(c, t, 1, 11001), 0);
    CU_ASSERT_EQUAL(s_expect(c, 11001, WEIR_CKC_PERSIST), 1);
    /* all acknowledged: the timeout no longer applies */
    s_expect(c, 11000 + 10 * TIMEOUT, WEIR_CKC_NONE);
    CU_ASSERT_EQUAL(s_phase(c, 16000), WEIR_CKC_TASKS_ACKED);
    CU_ASSERT_EQUAL(weir_ckc_next_due_ms(c), INT64_MAX);
    CU_ASSERT_EQUAL(weir_ckc_abort(c, 2, 16000), WEIR_ENOTFOUND);
    CU_ASSERT_EQUAL(weir_ckc_abort(c, 1, 16000), 0); /* e.g. the disk is full */
    weir_ckc_action_t a;
    CU_ASSERT_EQUAL(weir_ckc_poll(c, 16000, &a), WEIR_CKC_ABORT);
    CU_ASSERT_EQUAL(a.reason, WEIR_CKC_REQUESTED);
    CU_ASSERT_EQUAL(s_expect(c, 17000, WEIR_CKC_TRIGGER), 2);
    for (uint32_t t = 0; t < 4; t++)
        CU_ASSERT_EQUAL(s_ack(c, t, 2, 17001), 0);
    CU_ASSERT_EQUAL(weir_ckc_durable(c, 2, 17002), 0);
    CU_ASSERT_EQUAL(weir_ckc_abort(c, 2, 17003), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_phase(c, 17003), WEIR_CKC_DURABLE);
    weir_ckc_destroy(&c);
}

static void ids_continue_after_an_earlier_attempt(void)
{
    weir_ckc_t *c = s_new();
    CU_ASSERT_EQUAL(weir_ckc_resume_after(c, 41), 0);
    CU_ASSERT_EQUAL(weir_ckc_last_id(c), 41);
    CU_ASSERT_EQUAL(s_ack(c, 0, 41, 10001), WEIR_ESTALE); /* the earlier attempt's */
    CU_ASSERT_EQUAL(s_expect(c, 11000, WEIR_CKC_TRIGGER), 42);
    CU_ASSERT_EQUAL(weir_ckc_resume_after(c, 100), WEIR_EINVAL);
    weir_ckc_destroy(&c);
}

static void the_history_keeps_the_newest_ended_checkpoints(void)
{
    weir_ckc_t *c = s_new();
    int64_t now = T0;
    for (uint64_t id = 1; id <= WEIR_CKC_HISTORY + 5; id++) {
        now += INTERVAL;
        CU_ASSERT_EQUAL(s_expect(c, now, WEIR_CKC_TRIGGER), id);
        if (id % 2) {
            s_complete(c, id, now);
        } else {
            now += TIMEOUT;
            CU_ASSERT_EQUAL(s_expect(c, now, WEIR_CKC_ABORT), id);
        }
    }
    weir_ckc_stats_t st;
    CU_ASSERT_EQUAL(weir_ckc_history(c, 0, &st), 0);
    CU_ASSERT_EQUAL(st.id, WEIR_CKC_HISTORY + 5);
    CU_ASSERT_EQUAL(weir_ckc_history(c, WEIR_CKC_HISTORY - 1, &st), 0);
    CU_ASSERT_EQUAL(st.id, 6);
    CU_ASSERT_EQUAL(weir_ckc_history(c, WEIR_CKC_HISTORY, &st), WEIR_ENOTFOUND);
    CU_ASSERT_EQUAL(weir_ckc_last_completed(c, &st), 0);
    CU_ASSERT_EQUAL(st.id, WEIR_CKC_HISTORY + 5);
    CU_ASSERT_EQUAL(weir_ckc_n_completed(c) + weir_ckc_n_aborted(c), WEIR_CKC_HISTORY + 5);
    weir_ckc_destroy(&c);
}

void test_ckcoord_register(void)
{
    CU_pSuite s = CU_add_suite("ckcoord", NULL, NULL);
    CU_add_test(s, "checkpoints start at the interval after the previous one ended",
                checkpoints_start_at_the_interval_after_the_previous_one_ended);
    CU_add_test(s, "a checkpoint walks every state to completed",
                a_checkpoint_walks_every_state_to_completed);
    CU_add_test(s, "keyed tasks may acknowledge before the sources",
                keyed_tasks_may_acknowledge_before_the_sources);
    CU_add_test(s, "a checkpoint that times out is aborted and its id never reused",
                a_checkpoint_that_times_out_is_aborted_and_its_id_never_reused);
    CU_add_test(s, "acknowledgements that do not fit are refused",
                acknowledgements_that_do_not_fit_are_refused);
    CU_add_test(s, "finished tasks count as acknowledged with their final snapshot",
                finished_tasks_count_as_acknowledged_with_their_final_snapshot);
    CU_add_test(s, "a task failure aborts the checkpoint and stops triggering",
                a_task_failure_aborts_the_checkpoint_and_stops_triggering);
    CU_add_test(s, "a savepoint is queued behind the running checkpoint",
                a_savepoint_is_queued_behind_the_running_checkpoint);
    CU_add_test(s, "metadata that cannot be written aborts, and durable cannot be aborted",
                metadata_that_cannot_be_written_aborts_and_durable_cannot_be_aborted);
    CU_add_test(s, "ids continue after an earlier attempt", ids_continue_after_an_earlier_attempt);
    CU_add_test(s, "the history keeps the newest ended checkpoints",
                the_history_keeps_the_newest_ended_checkpoints);
}
