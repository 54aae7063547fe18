/* queue: bounded MPSC queues. See queue.h.
 *
 * A mutex and a condition variable per queue: a push or pop costs one
 * uncontended lock, and queues carry whole batches or control events, never
 * single rows, so the lock is not on a per-row path. Rejected: a lock-free
 * ring; it would save little at batch granularity and cost clarity.
 */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

static void s_deadline(struct timespec *ts, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void s_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

struct weir_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *items;
    size_t item_size;
    uint32_t cap, head, count;
    int fd;
};

weir_queue_t *weir_queue_new(size_t item_size, uint32_t cap, bool with_fd)
{
    weir_queue_t *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->items = calloc(cap, item_size);
    q->fd = with_fd ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
    if (!q->items || (with_fd && q->fd < 0)) {
        free(q->items);
        if (q->fd >= 0)
            close(q->fd);
        free(q);
        return NULL;
    }
    q->item_size = item_size;
    q->cap = cap;
    pthread_mutex_init(&q->mu, NULL);
    s_cond_init(&q->cv);
    return q;
}

void weir_queue_destroy(weir_queue_t **p)
{
    if (!p || !*p)
        return;
    weir_queue_t *q = *p;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    if (q->fd >= 0)
        close(q->fd);
    free(q->items);
    free(q);
    *p = NULL;
}

int weir_queue_push(weir_queue_t *q, const void *item)
{
    pthread_mutex_lock(&q->mu);
    if (q->count == q->cap) {
        pthread_mutex_unlock(&q->mu);
        return WEIR_EFULL;
    }
    memcpy(q->items + ((q->head + q->count) % q->cap) * q->item_size, item, q->item_size);
    q->count++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (q->fd >= 0) {
        uint64_t one = 1;
        ssize_t w = write(q->fd, &one, sizeof one);
        (void)w; /* EAGAIN only when the counter is saturated: already readable */
    }
    return 0;
}

bool weir_queue_pop(weir_queue_t *q, void *item, int timeout_ms)
{
    pthread_mutex_lock(&q->mu);
    if (q->count == 0 && timeout_ms != 0) {
        struct timespec dl;
        if (timeout_ms > 0)
            s_deadline(&dl, timeout_ms);
        while (q->count == 0) {
            int rc = timeout_ms < 0 ? pthread_cond_wait(&q->cv, &q->mu)
                                    : pthread_cond_timedwait(&q->cv, &q->mu, &dl);
            if (rc == ETIMEDOUT)
                break;
        }
    }
    bool got = q->count > 0;
    if (got) {
        memcpy(item, q->items + q->head * q->item_size, q->item_size);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    pthread_mutex_unlock(&q->mu);
    return got;
}

int weir_queue_fd(const weir_queue_t *q)
{
    return q->fd;
}

void weir_queue_drain_fd(weir_queue_t *q)
{
    uint64_t v;
    if (q->fd >= 0) {
        ssize_t r = read(q->fd, &v, sizeof v);
        (void)r;
    }
}

struct weir_mailbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    weir_frame_t *slots;
    uint32_t cap, head, count;
};

weir_mailbox_t *weir_mailbox_new(uint32_t cap)
{
    weir_mailbox_t *mb = calloc(1, sizeof *mb);
    if (!mb)
        return NULL;
    mb->slots = calloc(cap, sizeof *mb->slots);
    if (!mb->slots) {
        free(mb);
        return NULL;
    }
    for (uint32_t i = 0; i < cap; i++)
        zmq_msg_init(&mb->slots[i].msg);
    mb->cap = cap;
    pthread_mutex_init(&mb->mu, NULL);
    s_cond_init(&mb->cv);
    return mb;
}

void weir_mailbox_destroy(weir_mailbox_t **p)
{
    if (!p || !*p)
        return;
    weir_mailbox_t *mb = *p;
    for (uint32_t i = 0; i < mb->cap; i++)
        zmq_msg_close(&mb->slots[i].msg);
    pthread_mutex_destroy(&mb->mu);
    pthread_cond_destroy(&mb->cv);
    free(mb->slots);
    free(mb);
    *p = NULL;
}

static void s_frame_move(weir_frame_t *dst, weir_frame_t *src)
{
    dst->ch = src->ch;
    dst->has_watermark = src->has_watermark;
    dst->watermark_ms = src->watermark_ms;
    dst->end_of_stream = src->end_of_stream;
    dst->ingest_us = src->ingest_us;
    dst->idle = src->idle;
    dst->barrier = src->barrier;
    dst->batch = src->batch;
    dst->remote = src->remote;
    zmq_msg_move(&dst->msg, &src->msg);
    src->batch = NULL;
}

int weir_mailbox_push(weir_mailbox_t *mb, weir_frame_t *f)
{
    pthread_mutex_lock(&mb->mu);
    if (mb->count == mb->cap) {
        pthread_mutex_unlock(&mb->mu);
        return WEIR_EFULL;
    }
    s_frame_move(&mb->slots[(mb->head + mb->count) % mb->cap], f);
    mb->count++;
    pthread_cond_signal(&mb->cv);
    pthread_mutex_unlock(&mb->mu);
    return 0;
}

bool weir_mailbox_pop(weir_mailbox_t *mb, weir_frame_t *f, int timeout_ms)
{
    pthread_mutex_lock(&mb->mu);
    if (mb->count == 0 && timeout_ms != 0) {
        struct timespec dl;
        if (timeout_ms > 0)
            s_deadline(&dl, timeout_ms);
        while (mb->count == 0) {
            int rc = timeout_ms < 0 ? pthread_cond_wait(&mb->cv, &mb->mu)
                                    : pthread_cond_timedwait(&mb->cv, &mb->mu, &dl);
            if (rc == ETIMEDOUT)
                break;
        }
    }
    bool got = mb->count > 0;
    if (got) {
        s_frame_move(f, &mb->slots[mb->head]);
        mb->head = (mb->head + 1) % mb->cap;
        mb->count--;
    }
    pthread_mutex_unlock(&mb->mu);
    return got;
}

uint32_t weir_mailbox_len(weir_mailbox_t *mb)
{
    pthread_mutex_lock(&mb->mu);
    uint32_t n = mb->count;
    pthread_mutex_unlock(&mb->mu);
    return n;
}
