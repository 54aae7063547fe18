/* queue: bounded queues between threads. A weir_queue_t copies small items
 * (a node's task events) in and out in FIFO order, refuses a push when
 * full instead of growing, and can raise an eventfd so that a thread that
 * also polls ZeroMQ sockets wakes on a push. A weir_mailbox_t carries data
 * frames to a consuming task: a local frame lends a batch, a remote one
 * moves its ZeroMQ message in, so the producer keeps no reference. */
#include <CUnit/CUnit.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "queue.h"

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool s_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

typedef struct {
    uint32_t producer;
    uint32_t seq;
    uint64_t payload;
} item_t;

static void items_come_out_in_the_order_they_went_in(void)
{
    weir_queue_t *q = weir_queue_new(sizeof(item_t), 4, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    /* Several rounds, so the ring wraps around. */
    uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 3; i++) {
            item_t it = {.seq = next_in, .payload = next_in * 1000003ull};
            CU_ASSERT_EQUAL(weir_queue_push(q, &it), 0);
            next_in++;
        }
        item_t out;
        while (weir_queue_pop(q, &out, 0)) {
            CU_ASSERT_EQUAL(out.seq, next_out);
            CU_ASSERT_EQUAL(out.payload, next_out * 1000003ull);
            next_out++;
        }
    }
    CU_ASSERT_EQUAL(next_out, 15);
    weir_queue_destroy(&q);
    CU_ASSERT_PTR_NULL(q);
    weir_queue_destroy(&q);
    weir_queue_destroy(NULL);
}

static void a_full_queue_refuses_a_push_and_keeps_its_items(void)
{
    weir_queue_t *q = weir_queue_new(sizeof(uint64_t), 3, false);
    for (uint64_t v = 1; v <= 3; v++)
        CU_ASSERT_EQUAL(weir_queue_push(q, &v), 0);
    uint64_t v = 4;
    CU_ASSERT_EQUAL(weir_queue_push(q, &v), WEIR_EFULL);
    uint64_t out = 0;
    CU_ASSERT_TRUE(weir_queue_pop(q, &out, 0));
    CU_ASSERT_EQUAL(out, 1);
    /* One slot free again. */
    CU_ASSERT_EQUAL(weir_queue_push(q, &v), 0);
    v = 5;
    CU_ASSERT_EQUAL(weir_queue_push(q, &v), WEIR_EFULL);
    for (uint64_t want = 2; want <= 4; want++) {
        CU_ASSERT_TRUE(weir_queue_pop(q, &out, 0));
        CU_ASSERT_EQUAL(out, want);
    }
    CU_ASSERT_FALSE(weir_queue_pop(q, &out, 0));
    weir_queue_destroy(&q);
}

static void a_pop_on_an_empty_queue_gives_up_after_its_timeout(void)
{
    weir_queue_t *q = weir_queue_new(sizeof(uint64_t), 2, false);
    uint64_t out = 77;
    int64_t t0 = s_mono_ms();
    CU_ASSERT_FALSE(weir_queue_pop(q, &out, 0));
    CU_ASSERT(s_mono_ms() - t0 < 20);
    t0 = s_mono_ms();
    CU_ASSERT_FALSE(weir_queue_pop(q, &out, 60));
    int64_t waited = s_mono_ms() - t0;
    CU_ASSERT(waited >= 59);
    CU_ASSERT(waited < 1000);
    /* More than a second of timeout works too (the deadline's seconds). */
    t0 = s_mono_ms();
    CU_ASSERT_FALSE(weir_queue_pop(q, &out, 1010));
    waited = s_mono_ms() - t0;
    CU_ASSERT(waited >= 1009 && waited < 2000);
    CU_ASSERT_EQUAL(out, 77); /* nothing written */
    weir_queue_destroy(&q);
}

typedef struct {
    weir_queue_t *q;
    uint64_t value;
} pusher_t;

static void *s_push_one(void *arg)
{
    pusher_t *p = arg;
    weir_queue_push(p->q, &p->value);
    return NULL;
}

static void a_waiting_consumer_wakes_up_on_a_push_from_another_thread(void)
{
    weir_queue_t *q = weir_queue_new(sizeof(uint64_t), 2, false);
    pusher_t p = {.q = q, .value = 4242};
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, s_push_one, &p), 0);
    uint64_t out = 0;
    /* Forever: returns exactly when the item is there. */
    CU_ASSERT_TRUE(weir_queue_pop(q, &out, -1));
    CU_ASSERT_EQUAL(out, 4242);
    pthread_join(th, NULL);
    weir_queue_destroy(&q);
}

static void the_eventfd_becomes_readable_on_push_and_drains(void)
{
    weir_queue_t *plain = weir_queue_new(sizeof(uint64_t), 2, false);
    CU_ASSERT_EQUAL(weir_queue_fd(plain), -1);
    weir_queue_drain_fd(plain); /* harmless without an fd */
    weir_queue_destroy(&plain);

    weir_queue_t *q = weir_queue_new(sizeof(uint64_t), 8, true);
    int fd = weir_queue_fd(q);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FALSE(s_readable(fd));
    uint64_t v = 1;
    weir_queue_push(q, &v);
    CU_ASSERT_TRUE(s_readable(fd));
    v = 2;
    weir_queue_push(q, &v);
    /* The consumer drains once, then pops everything there is. */
    weir_queue_drain_fd(q);
    CU_ASSERT_FALSE(s_readable(fd));
    uint64_t out;
    CU_ASSERT_TRUE(weir_queue_pop(q, &out, 0));
    CU_ASSERT_EQUAL(out, 1);
    CU_ASSERT_TRUE(weir_queue_pop(q, &out, 0));
    CU_ASSERT_EQUAL(out, 2);
    CU_ASSERT_FALSE(weir_queue_pop(q, &out, 0));
    /* Draining an unsignalled fd does not block. */
    weir_queue_drain_fd(q);
    CU_ASSERT_FALSE(s_readable(fd));
    /* A push after the drain signals again: no wake-up is lost. */
    weir_queue_push(q, &v);
    CU_ASSERT_TRUE(s_readable(fd));
    weir_queue_destroy(&q);
}

/* Several producers push numbered items into a small queue (so it is full
 * often and producers retry) while one consumer pops: every item arrives
 * exactly once and each producer's items arrive in its order. */
enum { N_PRODUCERS = 4, PER_PRODUCER = 20000, STRESS_CAP = 16 };

typedef struct {
    weir_queue_t *q;
    uint32_t id;
    uint64_t full; /* pushes refused */
} producer_t;

static void *s_produce(void *arg)
{
    producer_t *p = arg;
    for (uint32_t i = 0; i < PER_PRODUCER; i++) {
        item_t it = {.producer = p->id, .seq = i, .payload = (uint64_t)p->id << 32 | i};
        while (weir_queue_push(p->q, &it) == WEIR_EFULL) {
            p->full++;
            sched_yield();
        }
    }
    return NULL;
}

static void many_producers_and_one_consumer_lose_and_reorder_nothing(void)
{
    weir_queue_t *q = weir_queue_new(sizeof(item_t), STRESS_CAP, true);
    producer_t prod[N_PRODUCERS];
    pthread_t th[N_PRODUCERS];
    for (uint32_t i = 0; i < N_PRODUCERS; i++) {
        prod[i] = (producer_t){.q = q, .id = i};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, s_produce, &prod[i]), 0);
    }
    uint32_t next[N_PRODUCERS] = {0};
    uint32_t got = 0, bad = 0;
    while (got < N_PRODUCERS * PER_PRODUCER) {
        item_t it;
        /* The way a node's I/O thread consumes: wait on the fd, drain, pop
         * until empty. A bounded wait so a lost item fails, not hangs. */
        struct pollfd pfd = {.fd = weir_queue_fd(q), .events = POLLIN};
        if (poll(&pfd, 1, 5000) != 1) {
            printf("\nqueue: the eventfd stayed silent with %u of %u items received\n", got,
                   N_PRODUCERS * PER_PRODUCER);
            break;
        }
        weir_queue_drain_fd(q);
        while (weir_queue_pop(q, &it, 0)) {
            if (it.producer >= N_PRODUCERS || it.seq != next[it.producer] ||
                it.payload != ((uint64_t)it.producer << 32 | it.seq))
                bad++;
            else
                next[it.producer]++;
            got++;
        }
    }
    for (uint32_t i = 0; i < N_PRODUCERS; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(got, N_PRODUCERS * PER_PRODUCER);
    for (uint32_t i = 0; i < N_PRODUCERS; i++)
        CU_ASSERT_EQUAL(next[i], PER_PRODUCER);
    item_t it;
    CU_ASSERT_FALSE(weir_queue_pop(q, &it, 0));
    weir_queue_destroy(&q);
}

/* ---- mailbox ---------------------------------------------------------- */

static weir_frame_t s_frame(uint32_t ch)
{
    weir_frame_t f;
    memset(&f, 0, sizeof f);
    zmq_msg_init(&f.msg);
    f.ch = ch;
    return f;
}

static void local_frames_lend_their_batch_in_order(void)
{
    static const weir_type_t types[1] = {WEIR_TYPE_INT64};
    weir_batch_t *b1 = weir_batch_new(types, 1, 4, 0);
    weir_batch_t *b2 = weir_batch_new(types, 1, 4, 0);
    weir_mailbox_t *mb = weir_mailbox_new(4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
    weir_frame_t f = s_frame(2);
    f.batch = b1;
    f.has_watermark = true;
    f.watermark_ms = 1000;
    CU_ASSERT_EQUAL(weir_mailbox_push(mb, &f), 0);
    /* After the push the producer holds no reference. */
    CU_ASSERT_PTR_NULL(f.batch);
    f.ch = 3;
    f.batch = b2;
    f.has_watermark = false;
    f.end_of_stream = true;
    f.idle = true;
    f.ingest_us = 77;
    f.barrier = 9;
    CU_ASSERT_EQUAL(weir_mailbox_push(mb, &f), 0);
    zmq_msg_close(&f.msg);

    weir_frame_t g = s_frame(99);
    CU_ASSERT_TRUE(weir_mailbox_pop(mb, &g, 0));
    CU_ASSERT_EQUAL(g.ch, 2);
    CU_ASSERT_PTR_EQUAL(g.batch, b1);
    CU_ASSERT_TRUE(g.has_watermark);
    CU_ASSERT_EQUAL(g.watermark_ms, 1000);
    CU_ASSERT_FALSE(g.end_of_stream);
    CU_ASSERT_FALSE(g.idle);
    CU_ASSERT_FALSE(g.remote);
    CU_ASSERT_TRUE(weir_mailbox_pop(mb, &g, 0));
    CU_ASSERT_EQUAL(g.ch, 3);
    CU_ASSERT_PTR_EQUAL(g.batch, b2);
    CU_ASSERT_FALSE(g.has_watermark);
    CU_ASSERT_TRUE(g.end_of_stream);
    CU_ASSERT_TRUE(g.idle);
    CU_ASSERT_EQUAL(g.ingest_us, 77);
    CU_ASSERT_EQUAL(g.barrier, 9);
    CU_ASSERT_FALSE(weir_mailbox_pop(mb, &g, 0));
    zmq_msg_close(&g.msg);
    weir_mailbox_destroy(&mb);
    CU_ASSERT_PTR_NULL(mb);
    weir_mailbox_destroy(&mb);
    weir_batch_destroy(&b1);
    weir_batch_destroy(&b2);
}

static void remote_frames_move_their_message_in_and_out_intact(void)
{
    weir_mailbox_t *mb = weir_mailbox_new(2);
    char payload[3000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (char)(i * 7);
    weir_frame_t f = s_frame(1);
    f.remote = true;
    CU_ASSERT_EQUAL_FATAL(zmq_msg_init_size(&f.msg, sizeof payload), 0);
    memcpy(zmq_msg_data(&f.msg), payload, sizeof payload);
    void *data_before = zmq_msg_data(&f.msg);
    CU_ASSERT_EQUAL(weir_mailbox_push(mb, &f), 0);
    /* The source message is left empty; its bytes are not copied. */
    CU_ASSERT_EQUAL(zmq_msg_size(&f.msg), 0);

    /* A remote frame without a batch: an empty message. */
    weir_frame_t e = s_frame(0);
    e.remote = true;
    e.has_watermark = true;
    e.watermark_ms = -5;
    CU_ASSERT_EQUAL(weir_mailbox_push(mb, &e), 0);

    /* The consumer's frame may still hold the previous message: popping
     * releases it (valgrind would see a leak otherwise). */
    weir_frame_t g = s_frame(9);
    CU_ASSERT_EQUAL_FATAL(zmq_msg_init_size(&g.msg, 100), 0);
    CU_ASSERT_TRUE(weir_mailbox_pop(mb, &g, 0));
    CU_ASSERT_TRUE(g.remote);
    CU_ASSERT_EQUAL(g.ch, 1);
    CU_ASSERT_PTR_NULL(g.batch);
    CU_ASSERT_EQUAL_FATAL(zmq_msg_size(&g.msg), sizeof payload);
    CU_ASSERT_EQUAL(memcmp(zmq_msg_data(&g.msg), payload, sizeof payload), 0);
    CU_ASSERT_PTR_EQUAL(zmq_msg_data(&g.msg), data_before);
    CU_ASSERT_TRUE(weir_mailbox_pop(mb, &g, 0));
    CU_ASSERT_EQUAL(g.ch, 0);
    CU_ASSERT_EQUAL(zmq_msg_size(&g.msg), 0);
    CU_ASSERT_EQUAL(g.watermark_ms, -5);
    zmq_msg_close(&g.msg);
    zmq_msg_close(&f.msg);
    zmq_msg_close(&e.msg);
    weir_mailbox_destroy(&mb);
}

static void a_full_mailbox_refuses_and_the_producer_keeps_its_frame(void)
{
    weir_mailbox_t *mb = weir_mailbox_new(2);
    for (uint32_t i = 0; i < 2; i++) {
        weir_frame_t f = s_frame(i);
        f.remote = true;
        zmq_msg_init_size(&f.msg, 64);
        memset(zmq_msg_data(&f.msg), (int)i, 64);
        CU_ASSERT_EQUAL(weir_mailbox_push(mb, &f), 0);
        zmq_msg_close(&f.msg);
    }
    weir_frame_t f = s_frame(7);
    f.remote = true;
    zmq_msg_init_size(&f.msg, 32);
    memset(zmq_msg_data(&f.msg), 0xAB, 32);
    CU_ASSERT_EQUAL(weir_mailbox_push(mb, &f), WEIR_EFULL);
    /* Refused: nothing was taken from the frame. */
    CU_ASSERT_EQUAL(zmq_msg_size(&f.msg), 32);
    CU_ASSERT_EQUAL(((uint8_t *)zmq_msg_data(&f.msg))[31], 0xAB);
    /* Make room; now it goes in, behind the older frames. */
    weir_frame_t g = s_frame(0);
    CU_ASSERT_TRUE(weir_mailbox_pop(mb, &g, 0));
    CU_ASSERT_EQUAL(g.ch, 0);
    CU_ASSERT_EQUAL(weir_mailbox_push(mb, &f), 0);
    CU_ASSERT_TRUE(weir_mailbox_pop(mb, &g, 0));
    CU_ASSERT_EQUAL(g.ch, 1);
    /* Frames still queued when the mailbox goes are released with it. */
    zmq_msg_close(&g.msg);
    zmq_msg_close(&f.msg);
    weir_mailbox_destroy(&mb);
}

static void a_pop_on_an_empty_mailbox_gives_up_after_its_timeout(void)
{
    weir_mailbox_t *mb = weir_mailbox_new(1);
    weir_frame_t g = s_frame(5);
    int64_t t0 = s_mono_ms();
    CU_ASSERT_FALSE(weir_mailbox_pop(mb, &g, 0));
    CU_ASSERT_FALSE(weir_mailbox_pop(mb, &g, 40));
    int64_t waited = s_mono_ms() - t0;
    CU_ASSERT(waited >= 39 && waited < 1000);
    CU_ASSERT_EQUAL(g.ch, 5);
    zmq_msg_close(&g.msg);
    weir_mailbox_destroy(&mb);
}

void test_queue_register(void)
{
    CU_pSuite s = CU_add_suite("queue", NULL, NULL);
    CU_add_test(s, "items come out in the order they went in",
                items_come_out_in_the_order_they_went_in);
    CU_add_test(s, "a full queue refuses a push and keeps its items",
                a_full_queue_refuses_a_push_and_keeps_its_items);
    CU_add_test(s, "a pop on an empty queue gives up after its timeout",
                a_pop_on_an_empty_queue_gives_up_after_its_timeout);
    CU_add_test(s, "a waiting consumer wakes up on a push from another thread",
                a_waiting_consumer_wakes_up_on_a_push_from_another_thread);
    CU_add_test(s, "the eventfd becomes readable on push and drains",
                the_eventfd_becomes_readable_on_push_and_drains);
    CU_add_test(s, "many producers and one consumer lose and reorder nothing",
                many_producers_and_one_consumer_lose_and_reorder_nothing);
    CU_add_test(s, "local frames lend their batch, in order",
                local_frames_lend_their_batch_in_order);
    CU_add_test(s, "remote frames move their message in and out intact",
                remote_frames_move_their_message_in_and_out_intact);
    CU_add_test(s, "a full mailbox refuses and the producer keeps its frame",
                a_full_mailbox_refuses_and_the_producer_keeps_its_frame);
    CU_add_test(s, "a pop on an empty mailbox gives up after its timeout",
                a_pop_on_an_empty_mailbox_gives_up_after_its_timeout);
}
