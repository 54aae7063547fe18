/* err: names for WEIR_E* codes and negative errno values. No state. */
#include "err.h"

#include <string.h>

const char *weir_strerror(int rc)
{
    switch (rc) {
    case 0: return "success";
    case WEIR_EINVAL: return "invalid input";
    case WEIR_ERANGE: return "value out of range";
    case WEIR_ENOTFOUND: return "not found";
    case WEIR_EVERSION: return "protocol version mismatch";
    case WEIR_ESTALE: return "message from an older job attempt";
    case WEIR_EFULL: return "container full";
    case WEIR_ESTATE: return "state store failure";
    case WEIR_ETIMEDOUT: return "timed out";
    case WEIR_ECANCELED: return "canceled";
    case WEIR_EPROTO: return "malformed message";
    default: break;
    }
    if (rc < 0 && rc > -4096)
        return strerror(-rc);
    return "unknown error";
}
