/* state: a node's RocksDB instance (DESIGN §7).
 *
 * One RocksDB database per node under its data directory, one column family
 * per stateful operator instance (named by the caller, e.g.
 * "<job>/<attempt>/<task>"). Keys start with the key group (2 bytes,
 * big-endian), then window end and start (8 bytes each, big-endian with the
 * sign bit flipped so bytes sort like numbers), then the key bytes
 * (cluster/keygroup). Values are serialized accumulators. The WAL is off:
 * durability comes from checkpoints. Block cache and memtables are bounded.
 * The handle may be shared by the task threads of a node (RocksDB is
 * thread-safe); each column family is used by one task thread.
 */
#ifndef WEIR_STATE_H
#define WEIR_STATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_state weir_state_t;

/* Opens (creating) the database in dir. 0, or WEIR_ESTATE with err set. */
int weir_state_open(const char *dir, weir_state_t **out, char *err, size_t err_cap);
void weir_state_destroy(weir_state_t **st);

#endif
