/* xfer: the node's transfer thread, which stores keyed tasks' checkpoint
 * files with the coordinator (DESIGN §8).
 *
 * A keyed task's snapshot is a RocksDB checkpoint directory (hard links,
 * made in the task's short synchronous part). The I/O thread hands it here
 * and goes on; this thread hashes the files (an SST file keeps its hash
 * under its name and size, so only new files are read), offers them to the
 * coordinator, sends the ones the store lacks in chunks of 1 MiB with the
 * coordinator's chunk credits, waits for every credit to come back (each
 * chunk written, each file durable), then acknowledges the task's part of
 * the checkpoint and removes the directory. It has a connection of its own
 * to the coordinator, so uploads never delay heartbeats.
 *
 * A failed upload is logged and not acknowledged: the checkpoint times out
 * at the coordinator and the next one starts over.
 */
#ifndef WEIR_NODE_XFER_H
#define WEIR_NODE_XFER_H

#include <stdint.h>

#include "dataflow.h"

typedef struct node_xfer node_xfer_t;

/* Starts the thread. 0 or -errno / -ENOMEM. */
int node_xfer_start(void *zctx, const char *coordinator, const char *node_id, node_xfer_t **out);

/* Queues the upload and acknowledgement of a keyed task's snapshot. Takes
 * snap->files (set to NULL). kg range and kind come from the plan. 0, or
 * WEIR_EFULL (too many waiting: the checkpoint will time out). */
int node_xfer_submit(node_xfer_t *x, const char *job, uint32_t attempt, uint32_t task,
                     uint32_t kg_first, uint32_t kg_last, weir_df_ck_snap_t *snap);

/* Stops the thread (uploads in progress are dropped) and frees. */
void node_xfer_stop(node_xfer_t **x);

#endif
