/* membership: the coordinator's node table. A node registers and is ALIVE;
 * heartbeats keep it ALIVE; silence for longer than the timeout makes it
 * DEAD (reported once, by weir_members_expire); registering again brings
 * it back. Time is an argument, so the tests walk the clock by hand. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "membership.h"

#define TIMEOUT 3000

/* The table is large (256 nodes with endpoints and routing ids): static. */
static weir_members_t s_m;

static int s_reg(const char *id, const char *ep, int64_t now)
{
    return weir_members_register(&s_m, id, ep, id, strlen(id), 100, now);
}

static void a_registered_node_is_alive_with_its_endpoint_and_routing_id(void)
{
    weir_members_init(&s_m, TIMEOUT);
    CU_ASSERT_EQUAL(s_m.n, 0);
    const uint8_t rid[5] = {0, 1, 2, 0xFE, 0xFF};
    int i = weir_members_register(&s_m, "n1", "tcp://10.0.0.1:7000", rid, sizeof rid, 4242, 1000);
    CU_ASSERT_EQUAL(i, 0);
    CU_ASSERT_EQUAL(weir_members_register(&s_m, "n2", "tcp://10.0.0.2:7000", "r2", 2, 7, 1000), 1);
    CU_ASSERT_EQUAL(s_m.n, 2);
    const weir_member_t *n = &s_m.nodes[0];
    CU_ASSERT_STRING_EQUAL(n->id, "n1");
    CU_ASSERT_STRING_EQUAL(n->endpoint, "tcp://10.0.0.1:7000");
    CU_ASSERT_EQUAL(n->rid_len, sizeof rid);
    CU_ASSERT_EQUAL(memcmp(n->rid, rid, sizeof rid), 0);
    CU_ASSERT_EQUAL(n->pid, 4242);
    CU_ASSERT_TRUE(n->alive);
    CU_ASSERT_EQUAL(n->last_seen_ms, 1000);
    CU_ASSERT_EQUAL(n->incarnation, 1);
    CU_ASSERT_EQUAL(weir_members_find(&s_m, "n2"), 1);
    CU_ASSERT_EQUAL(weir_members_find(&s_m, "n3"), WEIR_ENOTFOUND);
    uint32_t alive[4];
    CU_ASSERT_EQUAL(weir_members_alive(&s_m, alive, 4), 2);
    CU_ASSERT_EQUAL(alive[0], 0);
    CU_ASSERT_EQUAL(alive[1], 1);
}

static void heartbeats_keep_a_node_alive_past_the_timeout(void)
{
    weir_members_init(&s_m, TIMEOUT);
    s_reg("n1", "tcp://h:1", 0);
    uint32_t dead[4];
    for (int64_t t = 500; t <= 10000; t += 500) {
        CU_ASSERT_EQUAL(weir_members_heartbeat(&s_m, "n1", t), 0);
        CU_ASSERT_EQUAL(weir_members_expire(&s_m, t + 100, dead, 4), 0);
    }
    CU_ASSERT_TRUE(s_m.nodes[0].alive);
    CU_ASSERT_EQUAL(s_m.nodes[0].last_seen_ms, 10000);
}

static void a_silent_node_dies_after_the_timeout_and_is_reported_once(void)
{
    weir_members_init(&s_m, TIMEOUT);
    s_reg("n1", "tcp://h:1", 1000);
    s_reg("n2", "tcp://h:2", 1000);
    s_reg("n3", "tcp://h:3", 1000);
    uint32_t dead[4] = {99, 99, 99, 99};
    weir_members_heartbeat(&s_m, "n2", 3000);
    /* Silent for exactly the timeout: still alive. */
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 1000 + TIMEOUT, dead, 4), 0);
    CU_ASSERT_TRUE(s_m.nodes[0].alive);
    /* One millisecond more: n1 and n3 are dead, n2 heard from later is not. */
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 1001 + TIMEOUT, dead, 4), 2);
    CU_ASSERT_EQUAL(dead[0], 0);
    CU_ASSERT_EQUAL(dead[1], 2);
    CU_ASSERT_FALSE(s_m.nodes[0].alive);
    CU_ASSERT_TRUE(s_m.nodes[1].alive);
    CU_ASSERT_FALSE(s_m.nodes[2].alive);
    /* A death is reported once. */
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 1002 + TIMEOUT, dead, 4), 0);
    uint32_t alive[4];
    CU_ASSERT_EQUAL(weir_members_alive(&s_m, alive, 4), 1);
    CU_ASSERT_EQUAL(alive[0], 1);
    /* Dead nodes stay in the table (for `weir nodes`). */
    CU_ASSERT_EQUAL(weir_members_find(&s_m, "n1"), 0);
}

static void deaths_beyond_the_callers_buffer_are_reported_by_the_next_call(void)
{
    weir_members_init(&s_m, TIMEOUT);
    s_reg("n1", "tcp://h:1", 0);
    s_reg("n2", "tcp://h:2", 0);
    s_reg("n3", "tcp://h:3", 0);
    uint32_t dead[2];
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 10000, dead, 2), 2);
    CU_ASSERT_EQUAL(dead[0], 0);
    CU_ASSERT_EQUAL(dead[1], 1);
    /* The third death is not lost: every node the table calls DEAD was
     * reported to the caller, which must fail its jobs. */
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 10000, dead, 2), 1);
    CU_ASSERT_EQUAL(dead[0], 2);
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 10000, dead, 2), 0);
    CU_ASSERT_FALSE(s_m.nodes[2].alive);
}

static void a_dead_node_that_registers_again_is_alive_in_a_new_incarnation(void)
{
    weir_members_init(&s_m, TIMEOUT);
    s_reg("n1", "tcp://h:1", 0);
    uint32_t dead[1];
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 5000, dead, 1), 1);
    /* It comes back with another endpoint and pid (it restarted). */
    int i = weir_members_register(&s_m, "n1", "tcp://h:9", "new", 3, 555, 6000);
    CU_ASSERT_EQUAL(i, 0);
    CU_ASSERT_EQUAL(s_m.n, 1);
    CU_ASSERT_TRUE(s_m.nodes[0].alive);
    CU_ASSERT_EQUAL(s_m.nodes[0].incarnation, 2);
    CU_ASSERT_STRING_EQUAL(s_m.nodes[0].endpoint, "tcp://h:9");
    CU_ASSERT_EQUAL(s_m.nodes[0].pid, 555);
    CU_ASSERT_EQUAL(s_m.nodes[0].rid_len, 3);
    CU_ASSERT_EQUAL(memcmp(s_m.nodes[0].rid, "new", 3), 0);
    CU_ASSERT_EQUAL(weir_members_heartbeat(&s_m, "n1", 6500), 0);
    /* Its new timeout counts from the registration. */
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 6500 + TIMEOUT, dead, 1), 0);
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 6501 + TIMEOUT, dead, 1), 1);
    /* An alive node may register again too (a reconnect): same slot. */
    s_reg("n1", "tcp://h:9", 20000);
    CU_ASSERT_EQUAL(weir_members_register(&s_m, "n1", "tcp://h:9", "x", 1, 555, 20100), 0);
    CU_ASSERT_EQUAL(s_m.nodes[0].incarnation, 4);
    CU_ASSERT_EQUAL(s_m.n, 1);
}

static void an_unknown_node_heartbeat_is_told_to_register(void)
{
    weir_members_init(&s_m, TIMEOUT);
    CU_ASSERT_EQUAL(weir_members_heartbeat(&s_m, "ghost", 10), WEIR_ENOTFOUND);
    s_reg("n1", "tcp://h:1", 0);
    CU_ASSERT_EQUAL(weir_members_heartbeat(&s_m, "ghost", 10), WEIR_ENOTFOUND);
    CU_ASSERT_EQUAL(weir_members_heartbeat(&s_m, "", 10), WEIR_ENOTFOUND);
    CU_ASSERT_EQUAL(s_m.n, 1);
}

static void a_dead_node_heartbeat_is_stale_and_does_not_revive_it(void)
{
    weir_members_init(&s_m, TIMEOUT);
    s_reg("n1", "tcp://h:1", 0);
    uint32_t dead[1];
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 4000, dead, 1), 1);
    /* Its heartbeat was on the way (a partition healed): too late. */
    CU_ASSERT_EQUAL(weir_members_heartbeat(&s_m, "n1", 4100), WEIR_ESTALE);
    CU_ASSERT_FALSE(s_m.nodes[0].alive);
    CU_ASSERT_EQUAL(s_m.nodes[0].last_seen_ms, 0);
    uint32_t alive[1];
    CU_ASSERT_EQUAL(weir_members_alive(&s_m, alive, 1), 0);
}

static void bad_ids_endpoints_and_routing_ids_are_refused(void)
{
    weir_members_init(&s_m, TIMEOUT);
    char long_id[WEIR_NODE_ID_MAX + 1];
    memset(long_id, 'n', WEIR_NODE_ID_MAX);
    long_id[WEIR_NODE_ID_MAX] = 0;
    char long_ep[WEIR_ENDPOINT_MAX + 1];
    memset(long_ep, 'e', WEIR_ENDPOINT_MAX);
    long_ep[WEIR_ENDPOINT_MAX] = 0;
    static uint8_t big_rid[WEIR_RID_MAX + 1];
    CU_ASSERT_EQUAL(s_reg("", "tcp://h:1", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_reg("n1", "", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_reg(long_id, "tcp://h:1", 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_reg("n1", long_ep, 0), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_members_register(&s_m, "n1", "tcp://h:1", big_rid, sizeof big_rid, 1, 0),
                    WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_m.n, 0);
    /* The longest allowed id, endpoint and routing id fit. */
    long_id[WEIR_NODE_ID_MAX - 1] = 0;
    long_ep[WEIR_ENDPOINT_MAX - 1] = 0;
    CU_ASSERT_EQUAL(weir_members_register(&s_m, long_id, long_ep, big_rid, WEIR_RID_MAX, 1, 0), 0);
    CU_ASSERT_STRING_EQUAL(s_m.nodes[0].id, long_id);
    CU_ASSERT_STRING_EQUAL(s_m.nodes[0].endpoint, long_ep);
}

static void a_full_table_refuses_new_nodes_but_not_known_ones(void)
{
    weir_members_init(&s_m, TIMEOUT);
    char id[16];
    for (int i = 0; i < WEIR_MAX_NODES; i++) {
        snprintf(id, sizeof id, "n%d", i);
        CU_ASSERT_EQUAL_FATAL(s_reg(id, "tcp://h:1", 0), i);
    }
    CU_ASSERT_EQUAL(s_reg("one-too-many", "tcp://h:1", 0), WEIR_EFULL);
    CU_ASSERT_EQUAL(s_m.n, WEIR_MAX_NODES);
    /* A known node still registers again, also a dead one. */
    uint32_t dead[WEIR_MAX_NODES];
    CU_ASSERT_EQUAL(weir_members_expire(&s_m, 10000, dead, WEIR_MAX_NODES), WEIR_MAX_NODES);
    CU_ASSERT_EQUAL(s_reg("n17", "tcp://h:2", 10000), 17);
    CU_ASSERT_TRUE(s_m.nodes[17].alive);
    /* weir_members_alive fills at most cap indexes. */
    s_reg("n200", "tcp://h:2", 10000);
    uint32_t alive[1];
    CU_ASSERT_EQUAL(weir_members_alive(&s_m, alive, 1), 1);
    CU_ASSERT_EQUAL(alive[0], 17);
}

static void a_node_that_leaves_is_dead_at_once(void)
{
    static weir_members_t m;
    weir_members_init(&m, 3000);
    CU_ASSERT_EQUAL(weir_members_register(&m, "a", "tcp://h:1", "r", 1, 1, 0), 0);
    CU_ASSERT_EQUAL(weir_members_leave(&m, "a"), 0);
    CU_ASSERT_FALSE(m.nodes[0].alive);
    CU_ASSERT_EQUAL(weir_members_leave(&m, "a"), WEIR_ESTALE);
    CU_ASSERT_EQUAL(weir_members_leave(&m, "b"), WEIR_ENOTFOUND);
    uint32_t dead[4];
    CU_ASSERT_EQUAL(weir_members_expire(&m, 10000, dead, 4), 0); /* not reported twice */
    CU_ASSERT_EQUAL(weir_members_register(&m, "a", "tcp://h:1", "r", 1, 2, 20), 0);
    CU_ASSERT_TRUE(m.nodes[0].alive);
}

void test_membership_register(void)
{
    CU_pSuite s = CU_add_suite("membership", NULL, NULL);
    CU_add_test(s, "a node that leaves is dead at once", a_node_that_leaves_is_dead_at_once);
    CU_add_test(s, "a registered node is alive with its endpoint and routing id",
                a_registered_node_is_alive_with_its_endpoint_and_routing_id);
    CU_add_test(s, "heartbeats keep a node alive past the timeout",
                heartbeats_keep_a_node_alive_past_the_timeout);
    CU_add_test(s, "a silent node dies after the timeout and is reported once",
                a_silent_node_dies_after_the_timeout_and_is_reported_once);
    CU_add_test(s, "deaths beyond the caller's buffer are reported by the next call",
                deaths_beyond_the_callers_buffer_are_reported_by_the_next_call);
    CU_add_test(s, "a dead node that registers again is alive in a new incarnation",
                a_dead_node_that_registers_again_is_alive_in_a_new_incarnation);
    CU_add_test(s, "an unknown node's heartbeat is told to register",
                an_unknown_node_heartbeat_is_told_to_register);
    CU_add_test(s, "a dead node's heartbeat is stale and does not revive it",
                a_dead_node_heartbeat_is_stale_and_does_not_revive_it);
    CU_add_test(s, "bad ids, endpoints and routing ids are refused",
                bad_ids_endpoints_and_routing_ids_are_refused);
    CU_add_test(s, "a full table refuses new nodes but not known ones",
                a_full_table_refuses_new_nodes_but_not_known_ones);
}
