/* hist: log-linear buckets. See hist.h. */
#include "hist.h"

static unsigned s_bucket(uint64_t v)
{
    if (v < 64)
        return (unsigned)v;
    if (v >= (1ULL << 40))
        v = (1ULL << 40) - 1;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 6..39 */
    unsigned sub = (unsigned)(v >> (e - 5)) & 31u;
    return 64u + (e - 6u) * 32u + sub;
}

/* Largest value that falls into bucket b. */
static uint64_t s_upper(unsigned b)
{
    if (b < 64)
        return b;
    unsigned e = (b - 64u) / 32u + 6u, sub = (b - 64u) % 32u;
    return ((32ULL + sub + 1) << (e - 5)) - 1;
}

void weir_hist_add(weir_hist_t *h, uint64_t v, uint64_t n)
{
    h->counts[s_bucket(v)] += n;
    h->total += n;
}

uint64_t weir_hist_quantile(const weir_hist_t *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)h->total + 0.5);
    if (want < 1)
        want = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < WEIR_HIST_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= want)
            return s_upper(b);
    }
    return s_upper(WEIR_HIST_BUCKETS - 1);
}
