/* credit: receiver and sender credit accounting. See credit.h.
 *
 * Invariant (receiver): for every channel, outstanding + queued + in use
 * <= exclusive + floating held by that channel, and the floating buffers
 * held by all channels plus the pool equal `floating`. Rejected: granting
 * credits by bytes; batches are bounded by batch.max_bytes, so counting
 * buffers bounds memory just as well with one integer per channel.
 */
#include "credit.h"

#include <stdlib.h>

#include "err.h"

typedef struct {
    uint32_t outstanding; /* granted, not yet arrived */
    uint32_t in_use;      /* arrived, not yet consumed */
    uint32_t floating;    /* floating buffers this channel holds */
    uint32_t backlog;     /* last reported sender backlog */
    bool opened, closed;
} s_rx_ch_t;

struct weir_credit_rx {
    uint32_t n;
    uint32_t exclusive;
    uint32_t pool; /* free floating buffers */
    s_rx_ch_t *ch;
};

weir_credit_rx_t *weir_credit_rx_new(uint32_t n_channels, uint32_t exclusive, uint32_t floating)
{
    weir_credit_rx_t *rx = calloc(1, sizeof *rx);
    if (!rx)
        return NULL;
    rx->ch = calloc(n_channels ? n_channels : 1, sizeof *rx->ch);
    if (!rx->ch) {
        free(rx);
        return NULL;
    }
    rx->n = n_channels;
    rx->exclusive = exclusive ? exclusive : 1;
    rx->pool = floating;
    return rx;
}

void weir_credit_rx_destroy(weir_credit_rx_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->ch);
    free(*p);
    *p = NULL;
}

uint32_t weir_credit_rx_open(weir_credit_rx_t *rx, uint32_t ch)
{
    if (ch >= rx->n || rx->ch[ch].opened || rx->ch[ch].closed)
        return 0;
    rx->ch[ch].opened = true;
    rx->ch[ch].outstanding = rx->exclusive;
    return rx->exclusive;
}

int weir_credit_rx_on_frame(weir_credit_rx_t *rx, uint32_t ch, uint32_t backlog)
{
    if (ch >= rx->n || rx->ch[ch].closed || rx->ch[ch].outstanding == 0)
        return WEIR_EPROTO;
    rx->ch[ch].outstanding--;
    rx->ch[ch].in_use++;
    rx->ch[ch].backlog = backlog;
    return 0;
}

uint32_t weir_credit_rx_on_consumed(weir_credit_rx_t *rx, uint32_t ch, uint32_t *grant)
{
    if (ch >= rx->n || rx->ch[ch].in_use == 0)
        return 0;
    s_rx_ch_t *c = &rx->ch[ch];
    c->in_use--;
    uint32_t granted = 0;
    /* The buffer just freed: a floating one goes back to the pool; an
     * exclusive one is credited back to its own channel. */
    if (c->floating > 0 && c->outstanding + c->in_use >= rx->exclusive) {
        c->floating--;
        rx->pool++;
    } else if (!c->closed) {
        c->outstanding++;
        grant[ch]++;
        granted++;
    }
    /* Floating buffers go to the channel with the largest backlog not yet
     * covered by credit: a credit granted already stands for one waiting
     * frame, so want = backlog - outstanding (the reported backlog itself
     * is only replaced by the next frame's). */
    while (rx->pool > 0) {
        uint32_t best = rx->n, best_backlog = 0;
        for (uint32_t i = 0; i < rx->n; i++) {
            s_rx_ch_t *o = &rx->ch[i];
            if (!o->opened || o->closed)
                continue;
            uint32_t want = o->backlog > o->outstanding ? o->backlog - o->outstanding : 0;
            if (want > best_backlog) {
                best_backlog = want;
                best = i;
            }
        }
        if (best == rx->n)
            break;
        rx->pool--;
        rx->ch[best].floating++;
        rx->ch[best].outstanding++;
        if (grant[best]++ == 0)
            granted++;
    }
    return granted;
}

void weir_credit_rx_close(weir_credit_rx_t *rx, uint32_t ch)
{
    if (ch >= rx->n)
        return;
    s_rx_ch_t *c = &rx->ch[ch];
    c->closed = true;
    c->outstanding = 0;
    c->backlog = 0;
    /* The frames still queued fill the channel's exclusive buffers first;
     * it keeps a floating buffer only for each frame beyond those, and
     * on_consumed returns them one by one. Every other floating buffer is
     * idle and goes back now: a closed channel gets no credit back, so a
     * floating buffer kept for a frame that fits in an exclusive buffer
     * would never return to the pool. */
    uint32_t keep = c->in_use > rx->exclusive ? c->in_use - rx->exclusive : 0;
    if (c->floating > keep) {
        rx->pool += c->floating - keep;
        c->floating = keep;
    }
}

uint32_t weir_credit_rx_outstanding(const weir_credit_rx_t *rx, uint32_t ch)
{
    return ch < rx->n ? rx->ch[ch].outstanding : 0;
}

uint32_t weir_credit_rx_floating_free(const weir_credit_rx_t *rx)
{
    return rx->pool;
}

struct weir_credit_tx {
    uint32_t n;
    uint32_t *avail;
    bool *known;
};

weir_credit_tx_t *weir_credit_tx_new(uint32_t n_channels)
{
    weir_credit_tx_t *tx = calloc(1, sizeof *tx);
    if (!tx)
        return NULL;
    tx->n = n_channels;
    tx->avail = calloc(n_channels ? n_channels : 1, sizeof *tx->avail);
    tx->known = calloc(n_channels ? n_channels : 1, sizeof *tx->known);
    if (!tx->avail || !tx->known) {
        weir_credit_tx_destroy(&tx);
        return NULL;
    }
    return tx;
}

void weir_credit_tx_destroy(weir_credit_tx_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->avail);
    free((*p)->known);
    free(*p);
    *p = NULL;
}

int weir_credit_tx_grant(weir_credit_tx_t *tx, uint32_t ch, uint32_t credits)
{
    if (ch >= tx->n || credits > 1u << 20 || tx->avail[ch] > (1u << 20))
        return WEIR_EPROTO;
    tx->avail[ch] += credits;
    tx->known[ch] = true;
    return 0;
}

bool weir_credit_tx_take(weir_credit_tx_t *tx, uint32_t ch)
{
    if (ch >= tx->n || tx->avail[ch] == 0)
        return false;
    tx->avail[ch]--;
    return true;
}

uint32_t weir_credit_tx_available(const weir_credit_tx_t *tx, uint32_t ch)
{
    return ch < tx->n ? tx->avail[ch] : 0;
}

bool weir_credit_tx_known(const weir_credit_tx_t *tx, uint32_t ch)
{
    return ch < tx->n && tx->known[ch];
}
