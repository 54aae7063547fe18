/* endpoint: tcp://HOST:PORT validation. See endpoint.h. */
#include "endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static int s_split(const char *ep, char *host, size_t hcap, long *port, char *err, size_t ecap)
{
    if (strncmp(ep, "tcp://", 6) != 0) {
        snprintf(err, ecap, "endpoint '%s' must look like tcp://HOST:PORT", ep);
        return WEIR_EINVAL;
    }
    const char *h = ep + 6;
    const char *colon = strrchr(h, ':');
    if (!colon || colon == h || (size_t)(colon - h) >= hcap) {
        snprintf(err, ecap, "endpoint '%s' has no host or port (expected tcp://HOST:PORT)", ep);
        return WEIR_EINVAL;
    }
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = 0;
    /* Digits only: strtol alone would also take " 80", "+80" and "-0". */
    size_t digits = strspn(colon + 1, "0123456789");
    *port = digits ? strtol(colon + 1, NULL, 10) : -1;
    if (digits == 0 || colon[1 + digits] != 0 || *port > 65535) {
        snprintf(err, ecap, "endpoint '%s' has a bad port (0..65535)", ep);
        return WEIR_EINVAL;
    }
    return 0;
}

int weir_endpoint_bindable(const char *ep, char *out, size_t cap, char *err, size_t err_cap)
{
    char host[256];
    long port;
    int rc = s_split(ep, host, sizeof host, &port, err, err_cap);
    if (rc)
        return rc;
    int n = port == 0 ? snprintf(out, cap, "tcp://%s:*", host)
                      : snprintf(out, cap, "tcp://%s:%ld", host, port);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, err_cap, "endpoint '%s' is too long", ep);
        return WEIR_EINVAL;
    }
    return 0;
}

int weir_endpoint_check(const char *ep, char *err, size_t err_cap)
{
    char host[256];
    long port;
    int rc = s_split(ep, host, sizeof host, &port, err, err_cap);
    if (rc)
        return rc;
    if (port == 0) {
        snprintf(err, err_cap, "endpoint '%s': port 0 cannot be connected to", ep);
        return WEIR_EINVAL;
    }
    return 0;
}
