/* node: the weir-node daemon's I/O thread (DESIGN §1, §3, §4).
 *
 * Owns the control DEALER to the coordinator and the data ROUTER that
 * receives frames from other nodes; runs the dataflows (job attempts)
 * deployed here. Registration, heartbeats with task stats, deploy and
 * cancel are handled in node_run(); task threads report through a queue.
 */
#ifndef WEIR_NODE_NODE_H
#define WEIR_NODE_NODE_H

typedef struct {
    const char *coordinator; /* tcp://HOST:PORT */
    const char *listen;      /* tcp://HOST:PORT, port 0 = any free port */
    const char *data_dir;
    const char *id; /* NULL = derived from host and port */
} node_opts_t;

/* Runs until SIGINT/SIGTERM. Returns the process exit status. */
int node_run(const node_opts_t *opts);

#endif
