/* keygroup: which key group a row's key belongs to, and which keyed task
 * owns a key group (DESIGN §3).
 *
 * key_group = xxh64(key bytes, seed 0) mod max_key_groups. The key bytes of
 * a row are its key columns in key_by order, each encoded canonically so
 * that equal values hash equally whatever their text looked like, and
 * unambiguously so that different keys never have the same bytes:
 *   NULL:    one byte 0xFF, so NULL is a key of its own;
 *   a value: one byte 0x00, then
 *     INT64, TIMESTAMP, BOOL: 8 bytes, big-endian two's complement;
 *     DOUBLE: 8 bytes, big-endian IEEE-754 bits (-0.0 written as 0.0);
 *     STRING: the bytes; when another key column follows, preceded by
 *             their length as 4 bytes big-endian.
 * The tag byte costs one byte per key column. Without it a NULL could not
 * be told from a value whose bytes begin with 0xFF: (NULL, -1) and
 * (-1, NULL) would be one key, and so would a NULL string and "\xFF".
 * The same bytes are the key part of state keys (cluster/state).
 *
 * Ranges: key groups are split into `parallelism` contiguous ranges, range i
 * = [floor(i*G/P), floor((i+1)*G/P) - 1], so sizes differ by at most one.
 * No state; any thread.
 */
#ifndef WEIR_KEYGROUP_H
#define WEIR_KEYGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "job.h"

#define WEIR_KEY_MAX 4096 /* longest key bytes; longer keys are cut (still hashed whole) */

/* Writes the key bytes of row `row` of b into buf (cap bytes) and returns
 * their full length (which may exceed cap: then buf holds a prefix). */
size_t weir_key_encode(const weir_job_t *job, const weir_batch_t *b, uint32_t row, uint8_t *buf,
                       size_t cap);

/* Key group of the given key bytes. */
uint32_t weir_keygroup_of(const void *key, size_t len, uint32_t max_key_groups);

/* Key group of row `row` of b (encode + hash; allocation-free). */
uint32_t weir_keygroup_of_row(const weir_job_t *job, const weir_batch_t *b, uint32_t row);

/* First and last (inclusive) key group of keyed task `index` of
 * `parallelism` over max_key_groups groups. */
void weir_keygroup_range(uint32_t index, uint32_t parallelism, uint32_t max_key_groups,
                         uint32_t *first, uint32_t *last);

/* Keyed task index that owns key group kg. */
uint32_t weir_keygroup_owner(uint32_t kg, uint32_t parallelism, uint32_t max_key_groups);

#endif
