/* gensrc: the `generator` source: taxi-like rows made up from a seed.
 *
 * Columns (any subset may be named in the job's schema, by these names):
 * vendor_id, pickup_datetime, dropoff_datetime, passenger_count,
 * trip_distance, pickup_location_id, dropoff_location_id, payment_type,
 * fare_amount, tip_amount, total_amount. Row i of the whole source (i = 0,
 * 1, 2, ...) is a pure function of (seed, i): drop-offs advance about 33
 * per second of event time from 2019-01-01T01:00:00Z, a pickup lies 0..30
 * minutes before its drop-off (the event time, so rows arrive out of
 * order), 263 pickup zones of which the 20 busiest get a third of the
 * trips. So a run can be replayed from any position. Split s of n makes
 * rows s, s + n, s + 2n, ...; `rows` bounds the source (0 = unbounded) and
 * `rate` paces it in rows per second of processing time across all splits
 * (0 = as fast as possible).
 *
 * Reading allocates nothing; one thread owns a generator.
 */
#ifndef WEIR_GENSRC_H
#define WEIR_GENSRC_H

#include <stdint.h>

#include "batch.h"
#include "job.h"

typedef struct weir_gensrc weir_gensrc_t;

/* Opens split `split` of `n_splits`. WEIR_EINVAL (a schema column the
 * generator does not make: err names it) or -ENOMEM. */
int weir_gensrc_open(const weir_job_t *job, int split, int n_splits, weir_gensrc_t **out, char *err,
                     size_t err_cap);

/* Appends up to max_rows rows to b, no more than the rate allows by now_ns
 * (a monotonic clock, passed in so tests need no sleeping). Sets *eof when
 * the split has made all its rows. Returns 0. */
int weir_gensrc_read(weir_gensrc_t *g, weir_batch_t *b, uint32_t max_rows, int64_t now_ns,
                     int *eof);

/* Nanoseconds until the rate allows the next row (0 when one is due). */
int64_t weir_gensrc_wait_ns(const weir_gensrc_t *g, int64_t now_ns);

/* Rows made so far by this split, and this split's total (0 = unbounded). */
uint64_t weir_gensrc_rows(const weir_gensrc_t *g);
uint64_t weir_gensrc_rows_total(const weir_gensrc_t *g);

/* Moves the split to its `nth` row (replay from a position). */
void weir_gensrc_seek(weir_gensrc_t *g, uint64_t nth);

void weir_gensrc_destroy(weir_gensrc_t **g);

#endif
