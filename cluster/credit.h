/* credit: credit accounting for data channels (DESIGN §5), as pure state.
 *
 * Receiver side (weir_credit_rx_t, one per consuming task): each input
 * channel owns `exclusive` buffers; a pool of `floating` buffers is shared
 * by the task's channels and goes to channels that report a backlog. A
 * credit is the right to send one frame. The receiver grants the exclusive
 * credits when the sender says hello, and gives a credit back for each frame
 * it has consumed. A frame that arrives without credit is a protocol
 * violation (the sender is refused). Frames in the receiver's queue are
 * therefore bounded by the buffers: channels x exclusive + floating.
 *
 * Sender side (weir_credit_tx_t, one per producing task): credits held per
 * output channel; a frame may be sent only with one.
 *
 * No sockets, no clock, no locks: the owner thread calls these and performs
 * the returned actions. Unit-tested without sockets.
 */
#ifndef WEIR_CREDIT_H
#define WEIR_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct weir_credit_rx weir_credit_rx_t;
typedef struct weir_credit_tx weir_credit_tx_t;

/* n_channels >= 1, exclusive >= 1, floating >= 0. NULL only on OOM. */
weir_credit_rx_t *weir_credit_rx_new(uint32_t n_channels, uint32_t exclusive, uint32_t floating);
void weir_credit_rx_destroy(weir_credit_rx_t **rx);

/* The sender of ch said hello: returns the credits to grant now (the
 * exclusive buffers the first time, 0 on a repeated hello). */
uint32_t weir_credit_rx_open(weir_credit_rx_t *rx, uint32_t ch);

/* A frame arrived on ch; backlog = frames the sender still has queued for
 * ch. Returns 0, or WEIR_EPROTO when ch had no credit outstanding (or is
 * out of range or closed). */
int weir_credit_rx_on_frame(weir_credit_rx_t *rx, uint32_t ch, uint32_t backlog);

/* The frame of ch was consumed and its buffer is free. Writes into
 * grant[] (n_channels entries, zeroed by the caller) how many credits to
 * send to each channel now: normally 1 back to ch, or a floating buffer
 * handed to the channel with the largest backlog. Returns the number of
 * channels with a non-zero grant. */
uint32_t weir_credit_rx_on_consumed(weir_credit_rx_t *rx, uint32_t ch, uint32_t *grant);

/* The sender of ch is gone (end of stream or peer lost): its outstanding
 * credits are forgotten and its floating buffers go back to the pool. */
void weir_credit_rx_close(weir_credit_rx_t *rx, uint32_t ch);

/* Credits granted to ch and not yet used. */
uint32_t weir_credit_rx_outstanding(const weir_credit_rx_t *rx, uint32_t ch);
/* Free floating buffers in the pool. */
uint32_t weir_credit_rx_floating_free(const weir_credit_rx_t *rx);

weir_credit_tx_t *weir_credit_tx_new(uint32_t n_channels);
void weir_credit_tx_destroy(weir_credit_tx_t **tx);
/* Credits arrived for ch. Returns 0 or WEIR_EPROTO (range/overflow). */
int weir_credit_tx_grant(weir_credit_tx_t *tx, uint32_t ch, uint32_t credits);
/* Uses one credit of ch: true when the frame may be sent. */
bool weir_credit_tx_take(weir_credit_tx_t *tx, uint32_t ch);
uint32_t weir_credit_tx_available(const weir_credit_tx_t *tx, uint32_t ch);
/* True once ch has received any credit (its receiver knows us). */
bool weir_credit_tx_known(const weir_credit_tx_t *tx, uint32_t ch);

#endif
