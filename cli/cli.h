/* cli: shared pieces of the `weir` command-line tool. One file per command
 * group: jobs.c (submit, list, status, cancel, nodes), local.c (local up,
 * local down), client.c (request/reply with the coordinator). */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#include "weir.pb-c.h"

#define CLI_DEFAULT_ENDPOINT "tcp://127.0.0.1:6510"

/* Sends req to the coordinator at endpoint and waits up to timeout_ms for
 * the reply. Returns the reply (free with cli_reply_free) or NULL after
 * printing why to stderr. */
Weir__V1__Reply *cli_request(const char *endpoint, Weir__V1__Request *req, int timeout_ms);
void cli_reply_free(Weir__V1__Reply *rep);

int cli_submit(const char *endpoint, int argc, char **argv);
int cli_list(const char *endpoint, int argc, char **argv);
int cli_status(const char *endpoint, int argc, char **argv);
int cli_cancel(const char *endpoint, int argc, char **argv);
int cli_stop(const char *endpoint, int argc, char **argv);
int cli_savepoint(const char *endpoint, int argc, char **argv);
int cli_checkpoints(const char *endpoint, int argc, char **argv);
int cli_rebalance(const char *endpoint, int argc, char **argv);
int cli_nodes(const char *endpoint, int argc, char **argv);
int cli_watermarks(const char *endpoint, int argc, char **argv);
int cli_local(int argc, char **argv);

/* Formats an event time (ms) for people: ISO-8601, "-inf" or "+inf". */
void cli_fmt_ts(int64_t ts_ms, char *buf, size_t cap);

#endif
