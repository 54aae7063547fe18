/* testrand: the seeded random numbers of randomized unit tests.
 *
 * A randomized test runs a fixed list of seeds (so CI is reproducible) or
 * the one seed in the environment variable WEIR_TEST_SEED (to replay a
 * failure), and prints the seed of every run that fails. splitmix64 rather
 * than rand(): the same seed gives the same schedule on every libc.
 * Header-only; one generator per test, owned by the test's thread.
 */
#ifndef WEIR_TESTRAND_H
#define WEIR_TESTRAND_H

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    uint64_t state;
} testrand_t;

static inline void testrand_seed(testrand_t *r, uint64_t seed)
{
    r->state = seed;
}

static inline uint64_t testrand_next(testrand_t *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n >= 1 (the modulo bias is irrelevant for tests). */
static inline uint32_t testrand_below(testrand_t *r, uint32_t n)
{
    return (uint32_t)(testrand_next(r) % n);
}

/* Number of seeds to run and the i-th of them: WEIR_TEST_SEED alone when
 * set, else `fallback` seeds 1..fallback. */
static inline int testrand_n_seeds(int fallback)
{
    return getenv("WEIR_TEST_SEED") ? 1 : fallback;
}

static inline uint64_t testrand_seed_at(int i)
{
    const char *env = getenv("WEIR_TEST_SEED");
    return env ? strtoull(env, NULL, 0) : (uint64_t)i + 1;
}

#endif
