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

static void floating_credit_covers_a_backlog_while_the_pool_lasts(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(1, 1, 4);
    uint32_t grant[1] = {0};
    weir_credit_rx_open(rx, 0);
    /* The sender has 3 more frames waiting behind this one. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 3), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, grant), 1);
    /* The exclusive credit covers one of them, two floating ones the rest;
     * the pool keeps what nobody waits for. */
    CU_ASSERT_EQUAL(grant[0], 3);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 3);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 2);
    weir_credit_rx_destroy(&rx);

    /* Two channels waiting: no floating buffer stays in the pool while a
     * channel still has frames waiting without credit. */
    rx = weir_credit_rx_new(2, 1, 3);
    uint32_t g2[2] = {0};
    weir_credit_rx_open(rx, 0);
    weir_credit_rx_open(rx, 1);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 3), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 2), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, g2), 2);
    CU_ASSERT_EQUAL(g2[0] + g2[1], 4); /* 1 exclusive + 3 floating */
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 0), 3); /* all 3 covered */
    CU_ASSERT_EQUAL(weir_credit_rx_outstanding(rx, 1), 1); /* 1 of 2: pool empty */
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

static void closing_a_channel_returns_its_floating_buffers_and_leaks_no_credit(void)
{
    weir_credit_rx_t *rx = weir_credit_rx_new(2, 2, 1);
    uint32_t grant[2] = {0};
    weir_credit_rx_open(rx, 0);
    weir_credit_rx_open(rx, 1);
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 5), 0);
    weir_credit_rx_on_consumed(rx, 0, grant);
    CU_ASSERT_EQUAL(grant[0], 2); /* its exclusive buffer + the floating one */
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 0);
    /* One more frame arrives, then the peer disappears. The queued frame
     * fits in the channel's exclusive buffers, so the floating buffer it
     * held is idle and goes back to the pool now. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 0, 5), 0);
    weir_credit_rx_close(rx, 0);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 1);
    memset(grant, 0, sizeof grant);
    CU_ASSERT_EQUAL(weir_credit_rx_on_consumed(rx, 0, grant), 0);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 1);
    /* The other channel can have it. */
    CU_ASSERT_EQUAL(weir_credit_rx_on_frame(rx, 1, 4), 0);
    memset(grant, 0, sizeof grant);
    weir_credit_rx_on_consumed(rx, 1, grant);
    CU_ASSERT_EQUAL(grant[0], 0);
    CU_ASSERT_EQUAL(grant[1], 2);
    CU_ASSERT_EQUAL(weir_credit_rx_floating_free(rx), 0);
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

/* A random schedule of producing, hello, sending, delivering, consuming,
 * credits going back and peers disappearing, played on both ends. After
 * every step: the frames queued at the receiver fit its buffers
 * (channels x exclusive + floating), every open channel's outstanding
 * credit is exactly what the sender holds or has in flight, and no
 * floating buffer is lost. At the end every sender has sent everything
 * (no credit was lost on the way) and, once every peer is gone and every
 * frame consumed, the pool is whole again. */
enum { S_MAX_CH = 6, S_MAX_FLIGHT = 256, S_STEPS = 3000 };

typedef struct {
    testrand_t r;
    uint32_t n, excl, floating;
    weir_credit_rx_t *rx;
    weir_credit_tx_t *tx;
    bool closed[S_MAX_CH], hello[S_MAX_CH];
    uint32_t waiting[S_MAX_CH];              /* frames the sender has not sent */
    uint32_t flight[S_MAX_CH][S_MAX_FLIGHT]; /* backlog of each frame on the way */
    uint32_t n_flight[S_MAX_CH], flight_head[S_MAX_CH];
    uint32_t credit_flight[S_MAX_CH]; /* credits on the way back */
    uint32_t queued[S_MAX_CH];        /* frames at the receiver */
    const char *why;
} s_sim_t;

static void s_sim_consume(s_sim_t *s, uint32_t ch)
{
    uint32_t grant[S_MAX_CH] = {0};
    uint32_t k = weir_credit_rx_on_consumed(s->rx, ch, grant);
    s->queued[ch]--;
    uint32_t nonzero = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (!grant[i])
            continue;
        nonzero++;
        if (s->closed[i] || !s->hello[i])
            s->why = "credit granted to a channel without a sender";
        s->credit_flight[i] += grant[i];
    }
    if (k != nonzero)
        s->why = "on_consumed miscounted the channels it granted to";
}

static bool s_sim_deliver_frame(s_sim_t *s, uint32_t ch)
{
    if (s->n_flight[ch] == 0)
        return false;
    uint32_t backlog = s->flight[ch][s->flight_head[ch]];
    s->flight_head[ch] = (s->flight_head[ch] + 1) % S_MAX_FLIGHT;
    s->n_flight[ch]--;
    int rc = weir_credit_rx_on_frame(s->rx, ch, backlog);
    if (s->closed[ch]) {
        if (rc != WEIR_EPROTO)
            s->why = "a closed channel accepted a frame";
    } else if (rc != 0) {
        s->why = "a frame sent with credit was refused";
    } else {
        s->queued[ch]++;
    }
    return true;
}

static bool s_sim_send(s_sim_t *s, uint32_t ch)
{
    if (s->closed[ch] || s->waiting[ch] == 0 || !weir_credit_tx_take(s->tx, ch))
        return false;
    if (s->n_flight[ch] == S_MAX_FLIGHT) {
        s->why = "test: flight ring full";
        return false;
    }
    s->waiting[ch]--;
    uint32_t at = (s->flight_head[ch] + s->n_flight[ch]) % S_MAX_FLIGHT;
    s->flight[ch][at] = s->waiting[ch];
    s->n_flight[ch]++;
    return true;
}

static bool s_sim_deliver_credit(s_sim_t *s, uint32_t ch)
{
    if (s->credit_flight[ch] == 0)
        return false;
    if (!s->closed[ch] && weir_credit_tx_grant(s->tx, ch, s->credit_flight[ch]) != 0)
        s->why = "the sender refused a credit";
    s->credit_flight[ch] = 0;
    return true;
}

static void s_sim_hello(s_sim_t *s, uint32_t ch)
{
    if (s->closed[ch])
        return;
    uint32_t g = weir_credit_rx_open(s->rx, ch);
    if (g != (s->hello[ch] ? 0 : s->excl))
        s->why = "hello granted the wrong number of credits";
    s->hello[ch] = true;
    s->credit_flight[ch] += g;
}

static void s_sim_check(s_sim_t *s)
{
    uint32_t total = 0, closed_queued = 0;
    uint64_t held = weir_credit_rx_floating_free(s->rx);
    for (uint32_t ch = 0; ch < s->n; ch++) {
        total += s->queued[ch];
        uint32_t out = weir_credit_rx_outstanding(s->rx, ch);
        if (s->closed[ch]) {
            closed_queued += s->queued[ch];
            if (out != 0)
                s->why = "a closed channel has credit outstanding";
            continue;
        }
        if (!s->hello[ch])
            continue;
        uint32_t on_the_way =
            weir_credit_tx_available(s->tx, ch) + s->credit_flight[ch] + s->n_flight[ch];
        if (out != on_the_way)
            s->why = "outstanding credit differs from the credit the sender has";
        if (out + s->queued[ch] < s->excl)
            s->why = "an open channel lost exclusive buffers";
        else
            held += out + s->queued[ch] - s->excl;
        if (out == 0 && weir_credit_rx_on_frame(s->rx, ch, 0) != WEIR_EPROTO)
            s->why = "a frame without credit was accepted";
    }
    if (total > s->n * s->excl + s->floating)
        s->why = "more frames queued than the receiver has buffers";
    /* Floating buffers held by open channels plus the pool: all of them,
     * less at most one per frame still queued on a closed channel. */
    if (held > s->floating || held + closed_queued < s->floating)
        s->why = "floating buffers were lost or made up";
}

static const char *s_sim_run(uint64_t seed)
{
    static s_sim_t sim;
    s_sim_t *s = &sim;
    memset(s, 0, sizeof *s);
    testrand_seed(&s->r, seed);
    s->n = 1 + testrand_below(&s->r, S_MAX_CH);
    s->excl = 1 + testrand_below(&s->r, 4);
    s->floating = testrand_below(&s->r, 8);
    s->rx = weir_credit_rx_new(s->n, s->excl, s->floating);
    s->tx = weir_credit_tx_new(s->n);
    for (int step = 0; step < S_STEPS && !s->why; step++) {
        uint32_t ch = testrand_below(&s->r, s->n);
        uint32_t op = testrand_below(&s->r, 100);
        if (op < 20) {
            if (!s->closed[ch])
                s->waiting[ch] += 1 + testrand_below(&s->r, 4);
        } else if (op < 24) {
            s_sim_hello(s, ch);
        } else if (op < 44) {
            s_sim_send(s, ch);
        } else if (op < 62) {
            s_sim_deliver_frame(s, ch);
        } else if (op < 82) {
            if (s->queued[ch] > 0)
                s_sim_consume(s, ch);
        } else if (op < 98) {
            s_sim_deliver_credit(s, ch);
        } else if (testrand_below(&s->r, 4) == 0) {
            /* The peer of ch disappears; what it had in flight is lost. */
            weir_credit_rx_close(s->rx, ch);
            s->closed[ch] = true;
            s->waiting[ch] = 0;
        }
        s_sim_check(s);
    }
    /* Drain: every live sender says hello and gets everything through. */
    for (uint32_t ch = 0; ch < s->n && !s->why; ch++)
        s_sim_hello(s, ch);
    for (bool moved = true; moved && !s->why;) {
        moved = false;
        for (uint32_t ch = 0; ch < s->n; ch++) {
            moved |= s_sim_send(s, ch);
            moved |= s_sim_deliver_frame(s, ch);
            if (s->queued[ch] > 0) {
                s_sim_consume(s, ch);
                moved = true;
            }
            moved |= s_sim_deliver_credit(s, ch);
        }
        s_sim_check(s);
    }
    for (uint32_t ch = 0; ch < s->n && !s->why; ch++)
        if (s->waiting[ch] != 0)
            s->why = "a sender was left without credit (deadlock)";
    /* Every peer goes away; the queues drain; the pool is whole. */
    for (uint32_t ch = 0; ch < s->n && !s->why; ch++) {
        weir_credit_rx_close(s->rx, ch);
        s->closed[ch] = true;
        while (s->queued[ch] > 0)
            s_sim_consume(s, ch);
    }
    if (!s->why && weir_credit_rx_floating_free(s->rx) != s->floating)
        s->why = "floating buffers leaked after every channel closed";
    weir_credit_tx_destroy(&s->tx);
    weir_credit_rx_destroy(&s->rx);
    return s->why;
}

static void random_schedule_keeps_queues_bounded_and_leaks_no_credit(void)
{
    int n = testrand_n_seeds(300);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        uint64_t seed = testrand_seed_at(i);
        const char *why = s_sim_run(seed);
        if (why) {
            printf("\ncredit: seed %llu: %s\n", (unsigned long long)seed, why);
            failed++;
        }
    }
    CU_ASSERT_EQUAL(failed, 0);
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
    CU_add_test(s, "floating credit covers a backlog while the pool lasts",
                floating_credit_covers_a_backlog_while_the_pool_lasts);
    CU_add_test(s, "floating buffers come back to the pool when consumed",
                floating_buffers_come_back_to_the_pool_when_consumed);
    CU_add_test(s, "a closed channel refuses frames and returns idle floating buffers",
                closed_channel_refuses_frames_and_returns_idle_floating_buffers);
    CU_add_test(s, "a closed channel keeps its queued frames until consumed",
                closed_channel_keeps_its_queued_frames_until_consumed);
    CU_add_test(s, "closing a channel returns its floating buffers and leaks no credit",
                closing_a_channel_returns_its_floating_buffers_and_leaks_no_credit);
    CU_add_test(s, "a sender sends only with credit", sender_sends_only_with_credit);
    CU_add_test(s, "a sender refuses credit for unknown channels and absurd amounts",
                sender_refuses_credit_for_unknown_channels_and_absurd_amounts);
    CU_add_test(s, "a sender and a receiver move frames under credit",
                sender_and_receiver_move_frames_under_credit);
    CU_add_test(s, "a random schedule keeps queues bounded and leaks no credit (seeded)",
                random_schedule_keeps_queues_bounded_and_leaks_no_credit);
}
