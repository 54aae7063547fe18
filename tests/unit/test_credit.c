/* credit: a receiver grants one credit per free buffer, a sender sends a
 * frame only with a credit, and a consumed frame frees its buffer again
 * (DESIGN §5). Each channel owns `exclusive` buffers; the task's `floating`
 * buffers go where the backlog is and come back to the pool.
 *
 * The receiver (weir_credit_rx_t) and sender (weir_credit_tx_t) are pure
 * state: the tests play both ends and carry the credits between them.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "credit.h"
#include "err.h"
#include "testrand.h"

static void hello_grants_the_exclusive_credits_once(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(2, 4, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rx);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_open(rx, 0), 4);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 4);
    /* The sender repeats hello until credit arrives: no second grant. */
    CU_ASSERT_EQUAL(weir_credit_rx_open(rx, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 4);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 1), 0);
    /* Floating buffers are not granted on hello; they wait for a backlog. */
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 8);
    /* A channel the task does not have gets nothing. */
    CU_ASSERT_EQUAL(weir_credit_rx_open(rx, 2), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 2), 0);
    weir_credit_rx_destroy(&rx);
    CU_ASSERT_PTR_NULL(rx);
    weir_credit_rx_destroy(&rx);
    weir_credit_rx_destroy(NULL);
}

static void each_frame_uses_one_credit_and_frames_without_credit_are_refused(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(2, 2, 0);
    /* Before hello a channel has no credit at all. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 0), WEIR_EPROTO);
    weir_credit_rx_open(rx, 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 1);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 0);
    /* A third frame was sent without credit: the sender is refused. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 0), WEIR_EPROTO);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 0), WEIR_EPROTO);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 2, 0), WEIR_EPROTO);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, UINT32_MAX, 0), WEIR_EPROTO);
    weir_credit_rx_destroy(&rx);
}

static void consumed_frame_returns_its_credit_to_its_channel(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(3, 2, 0);
    uint32_t grant[3] = {0};
    weir_credit_rx_open(rx, 0);
    weir_credit_rx_open(rx, 1);
    /* Nothing to consume: nothing to grant. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, grant), 0);
    CU_ASSERT_EQUAL(grant[0], 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 1, grant), 1);
    CU_ASSERT_EQUAL(grant[0], 0);
    CU_ASSERT_EQUAL(grant[1], 1);
    CU_ASSERT_EQUAL(grant[2], 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 1), 1);
    memset(grant, 0, sizeof grant);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 1, grant), 1);
    CU_ASSERT_EQUAL(grant[1], 1);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 1), 2);
    /* Consuming more than arrived is ignored, not a credit out of thin air. */
    memset(grant, 0, sizeof grant);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 1, grant), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 9, grant), 0);
    CU_ASSERT_EQUAL(grant[1], 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 1), 2);
    weir_credit_rx_destroy(&rx);
}

static void floating_buffers_go_to_the_channel_with_the_largest_backlog(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(3, 1, 2);
    uint32_t grant[3] = {0};
    for (uint32_t ch = 0; ch < 3; ch++)
        CU_ASSERT_EQUAL(weir_credit_rx_open(rx, ch), 1);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 1), 0); /* 1 more waiting */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 5), 0); /* 5 more waiting */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 2, 0), 0);
    /* Frames arriving do not hand out floating buffers; consuming does. */
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 2);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 2, grant), 2);
    CU_ASSERT_EQUAL(grant[2], 1); /* its exclusive buffer, back */
    CU_ASSERT_EQUAL(grant[1], 2); /* both floating buffers */
    CU_ASSERT_EQUAL(grant[0], 0);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 1), 2);
    weir_credit_rx_destroy(&rx);
}

static void floating_buffers_come_back_to_the_pool_when_consumed(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(2, 1, 2);
    uint32_t grant[2] = {0};
    weir_credit_rx_open(rx, 0);
    weir_credit_rx_open(rx, 1);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 3), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 0), 0);
    weir_credit_rx_on_consumed(rx, 1, grant);
    CU_ASSERT_EQUAL(grant[0], 2);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 0);
    /* Channel 0 uses the floating credits; its sender has nothing left. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 1), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 0);
    /* Three frames queued on channel 0: one exclusive and two floating
     * buffers. The floating ones go back to the pool first; the last frame
     * consumed gives the exclusive credit back. */
    memset(grant, 0, sizeof grant);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, grant), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 1);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, grant), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 2);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, grant), 1);
    CU_ASSERT_EQUAL(grant[0], 1);
    CU_ASSERT_EQUAL(grant[1], 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 1);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 2);
    weir_credit_rx_destroy(&rx);
}

static void closed_channel_refuses_frames_and_returns_idle_floating_buffers(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(2, 2, 3);
    uint32_t grant[2] = {0};
    weir_credit_rx_open(rx, 0);
    weir_credit_rx_open(rx, 1);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 9), 0);
    weir_credit_rx_on_consumed(rx, 0, grant);
    CU_ASSERT_EQUAL(grant[0], 4); /* 1 exclusive back + 3 floating */
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 0);
    /* The peer disappears with credits unused: they are forgotten and the
     * floating buffers, all idle, go back to the pool at once. */
    weir_credit_rx_close(rx, 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 3);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 0), WEIR_EPROTO);
    /* A closed channel never says hello again. */
    CU_ASSERT_EQUAL(weir_credit_rx_open(rx, 0), 0);
    /* The pool now serves the other channel: 3 frames wait there, 2
     * exclusive credits cover two of them, a floating one the third. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 3), 0);
    memset(grant, 0, sizeof grant);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 1, grant), 1);
    CU_ASSERT_EQUAL(grant[0], 0);
    CU_ASSERT_EQUAL(grant[1], 2);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 2);
    weir_credit_rx_close(rx, 1);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 3);
    weir_credit_rx_close(rx, 7); /* out of range: ignored */
    weir_credit_rx_destroy(&rx);
}

static void closed_channel_keeps_its_queued_frames_until_consumed(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(2, 1, 2);
    uint32_t grant[2] = {0};
    weir_credit_rx_open(rx, 0);
    weir_credit_rx_open(rx, 1);
    weir_credit_rx_on_frame(rx, 0, 4);
    weir_credit_rx_on_consumed(rx, 0, grant); /* 1 exclusive + 2 floating */
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 1), 0);
    /* Three frames queued, two of them in floating buffers; the peer goes.
     * The frames are still consumed; as each is, its buffer is free again,
     * but no credit goes to the gone peer. */
    weir_credit_rx_close(rx, 0);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 0);
    for (int i = 0; i < 3; i++) {
        memset(grant, 0, sizeof grant);
        CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, grant), 0);
        CU_ASSERT_EQUAL(grant[0], 0);
    }
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 2);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 0);
    weir_credit_rx_destroy(&rx);
}

static void sender_sends_only_with_credit(void)
{
    weir_credit_tx_t *tx = weir_credit_tx_new(2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tx);
    /* Until its receiver grants credit, a channel is unknown and closed. */
    CU_ASSERT_FALSE(weir_credit_tx_known(tx, 0));
    CU_ASSERT_FALSE(weir_credit_tx_take(tx, 0));
    CU_ASSERT_EQUAL(weir_credit_tx_available(tx, 0), 0);
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 0, 3), 0);
    CU_ASSERT_TRUE(weir_credit_tx_known(tx, 0));
    CU_ASSERT_FALSE(weir_credit_tx_known(tx, 1));
    CU_ASSERT_EQUAL(weir_credit_tx_available(tx, 0), 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(weir_credit_tx_take(tx, 0));
    CU_ASSERT_FALSE(weir_credit_tx_take(tx, 0));
    CU_ASSERT_EQUAL(weir_credit_tx_available(tx, 0), 0);
    /* Known stays true once credit was seen, also at zero credit. */
    CU_ASSERT_TRUE(weir_credit_tx_known(tx, 0));
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 0, 1), 0);
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 0, 1), 0);
    CU_ASSERT_EQUAL(weir_credit_tx_available(tx, 0), 2);
    CU_ASSERT_FALSE(weir_credit_tx_take(tx, 1));
    weir_credit_tx_destroy(&tx);
    CU_ASSERT_PTR_NULL(tx);
    weir_credit_tx_destroy(&tx);
    weir_credit_tx_destroy(NULL);
}

static void sender_refuses_credit_for_unknown_channels_and_absurd_amounts(void)
{
    weir_credit_tx_t *tx = weir_credit_tx_new(1);
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 1, 1), WEIR_EPROTO);
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, UINT32_MAX, 1), WEIR_EPROTO);
    CU_ASSERT_FALSE(weir_credit_tx_known(tx, 1));
    CU_ASSERT_EQUAL(weir_credit_tx_available(tx, 1), 0);
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 0, UINT32_MAX), WEIR_EPROTO);
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 0, (1u << 20) + 1), WEIR_EPROTO);
    CU_ASSERT_EQUAL(weir_credit_tx_available(tx, 0), 0);
    /* A peer that keeps granting cannot overflow the counter. */
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = weir_credit_tx_grant(tx, 0, 1u << 20);
    CU_ASSERT_EQUAL(rc, WEIR_EPROTO);
    CU_ASSERT(weir_credit_tx_available(tx, 0) <= 1u << 21);
    CU_ASSERT(weir_credit_tx_available(tx, 0) >= 1u << 20);
    weir_credit_tx_destroy(&tx);
}

static void sender_and_receiver_move_frames_under_credit(void)
{
    /* The usage example: one channel, two exclusive buffers, no floating.
     * The sender has 5 frames; the receiver consumes one at a time. */
    weir_credit_rx_t *rx = weir_credit_rx_new(1, 2, 0);
    weir_credit_tx_t *tx = weir_credit_tx_new(1);
    CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 0, weir_credit_rx_open(rx, 0)), 0);
    uint32_t waiting = 5, received = 0, consumed = 0;
    while (consumed < 5) {
        while (waiting > 0 && weir_credit_tx_take(tx, 0)) {
            waiting--;
            CU_ASSERT_EQUAL_FATAL(weir_credit_rx_on_frame(rx, 0, waiting), 0);
            received++;
        }
        CU_ASSERT_FATAL(received - consumed <= 2);
        uint32_t grant[1] = {0};
        weir_credit_rx_on_consumed(rx, 0, grant);
        consumed++;
        CU_ASSERT_EQUAL(weir_credit_tx_grant(tx, 0, grant[0]), 0);
    }
    CU_ASSERT_EQUAL(weir_credit_tx_available(tx, 0), 2);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 2);
    weir_credit_tx_destroy(&tx);
    weir_credit_rx_destroy(&rx);
}

void test_credit_register(void)
{
    CU_pSuite s = CU_add_suite("credit", NULL, NULL);
    CU_add_test(s, "hello grants the exclusive credits once",
                hello_grants_the_exclusive_credits_once);
    CU_add_test(s, "each frame uses one credit and frames without credit are refused",
                each_frame_uses_one_credit_and_frames_without_credit_are_refused);
    CU_add_test(s, "a consumed frame returns its credit to its channel",
                consumed_frame_returns_its_credit_to_its_channel);
    CU_add_test(s, "floating buffers go to the channel with the largest backlog",
                floating_buffers_go_to_the_channel_with_the_largest_backlog);
    CU_add_test(s, "floating buffers come back to the pool when consumed",
                floating_buffers_come_back_to_the_pool_when_consumed);
    CU_add_test(s, "a closed channel refuses frames and returns idle floating buffers",
                closed_channel_refuses_frames_and_returns_idle_floating_buffers);
    CU_add_test(s, "a closed channel keeps its queued frames until consumed",
                closed_channel_keeps_its_queued_frames_until_consumed);
    CU_add_test(s, "a sender sends only with credit", sender_sends_only_with_credit);
    CU_add_test(s, "a sender refuses credit for unknown channels and absurd amounts",
                sender_refuses_credit_for_unknown_channels_and_absurd_amounts);
    CU_add_test(s, "a sender and a receiver move frames under credit",
                sender_and_receiver_move_frames_under_credit);
}
