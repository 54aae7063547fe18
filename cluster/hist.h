/* hist: a latency histogram with bounded relative error.
 *
 * Values (microseconds, or any unit) below 64 have a bucket each; above,
 * every power of two is cut into 32 buckets, so a quantile is reported
 * within about 3 % of the true value, up to 2^40. Fixed size (about 9 KB),
 * no allocation; adding is a few instructions. One thread owns one.
 */
#ifndef WEIR_HIST_H
#define WEIR_HIST_H

#include <stdint.h>

#define WEIR_HIST_BUCKETS (64 + 35 * 32)

typedef struct {
    uint64_t counts[WEIR_HIST_BUCKETS];
    uint64_t total;
} weir_hist_t;

/* Records n observations of value v (values past 2^40 count as 2^40). */
void weir_hist_add(weir_hist_t *h, uint64_t v, uint64_t n);

/* The smallest bucket upper bound at or below which a fraction q (0..1) of
 * the observations lie; 0 when empty. */
uint64_t weir_hist_quantile(const weir_hist_t *h, double q);

#endif
