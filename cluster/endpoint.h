/* endpoint: checks and rewrites ZeroMQ TCP endpoints given on command lines.
 * "tcp://HOST:PORT" with PORT 0..65535; port 0 means "any free port"
 * (ZeroMQ spells that "*" when binding). No state; any thread. */
#ifndef WEIR_ENDPOINT_H
#define WEIR_ENDPOINT_H

#include <stddef.h>

/* Validates ep. On success returns 0 and writes the form to bind (port 0
 * becomes "*") into out. WEIR_EINVAL with a message in err otherwise. */
int weir_endpoint_bindable(const char *ep, char *out, size_t cap, char *err, size_t err_cap);

/* Validates an endpoint to connect to (port 1..65535). 0 or WEIR_EINVAL. */
int weir_endpoint_check(const char *ep, char *err, size_t err_cap);

#endif
