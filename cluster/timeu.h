/* timeu: saturating event-time arithmetic (DESIGN §6).
 *
 * Event time is int64 milliseconds since the Unix epoch. Arithmetic on it
 * saturates at INT64_MIN / INT64_MAX instead of wrapping, so "no watermark
 * yet" (WEIR_TS_MIN) minus a delay stays WEIR_TS_MIN, and "+inf" (end of
 * input, WEIR_TS_MAX) plus a lateness stays WEIR_TS_MAX. Header-only; no
 * state; any thread.
 */
#ifndef WEIR_TIMEU_H
#define WEIR_TIMEU_H

#include <stdint.h>

#define WEIR_TS_MIN INT64_MIN /* no watermark yet */
#define WEIR_TS_MAX INT64_MAX /* end of input: every window fires */

static inline int64_t weir_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static inline int64_t weir_sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* Floor modulo: the result has the sign of m (m > 0), so
 * weir_floormod(-1, 1000) == 999. */
static inline int64_t weir_floormod(int64_t x, int64_t m)
{
    int64_t r = x % m;
    return r < 0 ? r + m : r;
}

#endif
