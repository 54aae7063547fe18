/* err: the one table of weir error codes.
 *
 * A fallible function returns int: 0 on success, -errno for an OS failure,
 * or one of the WEIR_E* codes below (all negative and below -4096, so they
 * never collide with -errno). weir_strerror() names either kind. Lower
 * layers return codes; the layer that knows the context (file, peer, job)
 * writes the message once.
 */
#ifndef WEIR_ERR_H
#define WEIR_ERR_H

enum {
    WEIR_EINVAL = -5001,    /* input is malformed (file, row, message, argument) */
    WEIR_ERANGE = -5002,    /* a value is outside its allowed range */
    WEIR_ENOTFOUND = -5003, /* a named thing (job, node, task, column) does not exist */
    WEIR_EVERSION = -5004,  /* a peer speaks another protocol major version */
    WEIR_ESTALE = -5005,    /* message of an older job attempt (fenced) */
    WEIR_EFULL = -5006,     /* a bounded container is full */
    WEIR_ESTATE = -5007,    /* RocksDB or other state store failure */
    WEIR_ETIMEDOUT = -5008, /* a peer did not answer in time */
    WEIR_ECANCELED = -5009, /* the operation was canceled */
    WEIR_EPROTO = -5010,    /* a message could not be decoded */
};

/* Returns a static, human-readable description of rc (a WEIR_E* code or a
 * negative errno). Any thread. */
const char *weir_strerror(int rc);

#endif
