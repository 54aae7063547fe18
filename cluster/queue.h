/* queue: bounded multi-producer, single-consumer queues between threads.
 *
 * Two shapes share one ring discipline (head/count under a mutex, a
 * condition variable for the consumer, an optional eventfd so a consumer
 * that also waits on ZeroMQ sockets can poll it):
 *   weir_queue_t   fixed-size plain items copied in and out (events);
 *   weir_mailbox_t data frames for a consuming task, each holding either a
 *                  borrowed local batch or a ZeroMQ message part moved in.
 * Capacity is fixed at creation: a push to a full queue fails (WEIR_EFULL)
 * instead of growing; credits make sure data frames never hit that bound.
 * After a push the producer holds no reference to what it pushed.
 */
#ifndef WEIR_QUEUE_H
#define WEIR_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "batch.h"

typedef struct weir_queue weir_queue_t;

/* item_size bytes per item, cap items; with_fd: also signal an eventfd on
 * every push (weir_queue_fd) for zmq_poll. NULL on failure. */
weir_queue_t *weir_queue_new(size_t item_size, uint32_t cap, bool with_fd);
void weir_queue_destroy(weir_queue_t **q);
/* Copies item in. 0 or WEIR_EFULL. Any thread. */
int weir_queue_push(weir_queue_t *q, const void *item);
/* Copies the oldest item out. Waits up to timeout_ms (0 = no wait, -1 =
 * forever). Returns true when an item was taken. Consumer thread only. */
bool weir_queue_pop(weir_queue_t *q, void *item, int timeout_ms);
/* eventfd to poll for readability (-1 without with_fd); drain it with
 * weir_queue_drain_fd before popping. */
int weir_queue_fd(const weir_queue_t *q);
void weir_queue_drain_fd(weir_queue_t *q);

/* One frame for a consuming task. */
typedef struct {
    uint32_t ch; /* input channel index of the consumer */
    bool has_watermark;
    int64_t watermark_ms;
    bool end_of_stream;
    uint64_t ingest_us;  /* see weir_frame_hdr_t */
    bool idle;           /* the sending split went idle (after this frame's rows) */
    uint64_t barrier;    /* checkpoint barrier id (no rows), or 0 */
    weir_batch_t *batch; /* local frame: a buffer of the channel's ring, or NULL */
    bool remote;         /* remote frame: msg holds the packed batch (maybe empty) */
    zmq_msg_t msg;
} weir_frame_t;

typedef struct weir_mailbox weir_mailbox_t;

weir_mailbox_t *weir_mailbox_new(uint32_t cap);
void weir_mailbox_destroy(weir_mailbox_t **mb);
/* Moves *f into the mailbox (f->msg is left empty). 0 or WEIR_EFULL. */
int weir_mailbox_push(weir_mailbox_t *mb, weir_frame_t *f);
/* Moves the oldest frame into *f (f->msg must be initialised; its old
 * content is released). Waits up to timeout_ms. */
bool weir_mailbox_pop(weir_mailbox_t *mb, weir_frame_t *f, int timeout_ms);
/* Frames waiting now (for stats; any thread). */
uint32_t weir_mailbox_len(weir_mailbox_t *mb);

#endif
