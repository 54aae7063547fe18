/* client: one request, one reply, over a DEALER socket to the
 * coordinator, with a deadline so that an unreachable coordinator is an
 * error message, never a hang. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "cli.h"
#include "err.h"
#include "timeu.h"
#include "timefmt.h"
#include "wire.h"

Weir__V1__Reply *cli_request(const char *endpoint, Weir__V1__Request *req, int timeout_ms)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    Weir__V1__Reply *rep = NULL;
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "weir: cannot connect to %s: %s\n", endpoint, zmq_strerror(errno));
        goto out;
    }
    Weir__V1__Envelope e = WEIR__V1__ENVELOPE__INIT;
    e.body_case = WEIR__V1__ENVELOPE__BODY_REQUEST;
    e.request = req;
    if (weir_wire_send(s, NULL, 0, &e) != 0) {
        fprintf(stderr, "weir: cannot send to %s\n", endpoint);
        goto out;
    }
    zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, timeout_ms) <= 0) {
        fprintf(stderr,
                "weir: no answer from the coordinator at %s within %d ms; is it running? "
                "(start a local cluster with `weir local up`, or point --coordinator / "
                "$WEIR_COORDINATOR at yours)\n",
                endpoint, timeout_ms);
        goto out;
    }
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, s, 0);
    Weir__V1__Envelope *in = NULL;
    int rc = weir_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &in);
    zmq_msg_close(&m);
    if (rc) {
        fprintf(stderr, "weir: the coordinator at %s answered with a bad message: %s\n", endpoint,
                weir_strerror(rc));
        goto out;
    }
    if (in->body_case != WEIR__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "weir: unexpected answer from %s\n", endpoint);
        weir_wire_free(in);
        goto out;
    }
    rep = in->reply;
    in->reply = NULL;
    in->body_case = WEIR__V1__ENVELOPE__BODY__NOT_SET;
    weir_wire_free(in);
out:
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rep;
}

void cli_reply_free(Weir__V1__Reply *rep)
{
    weir_wire_free_reply(rep);
}

void cli_fmt_ts(int64_t ts_ms, char *buf, size_t cap)
{
    if (ts_ms == WEIR_TS_MIN)
        snprintf(buf, cap, "-inf");
    else if (ts_ms == WEIR_TS_MAX)
        snprintf(buf, cap, "+inf");
    else if (cap >= 32)
        weir_ts_format_iso(ts_ms, buf, cap);
    else
        snprintf(buf, cap, "%lld", (long long)ts_ms);
}
