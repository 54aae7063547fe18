/* membership: node liveness table. See membership.h.
 *
 * A fixed array: clusters are small (tens of nodes), lookups by id are a
 * linear scan done once per control message, not per record.
 */
#include "membership.h"

#include <string.h>

#include "err.h"

void weir_members_init(weir_members_t *m, int64_t timeout_ms)
{
    memset(m, 0, sizeof *m);
    m->timeout_ms = timeout_ms;
}

int weir_members_find(const weir_members_t *m, const char *id)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(m->nodes[i].id, id) == 0)
            return (int)i;
    return WEIR_ENOTFOUND;
}

int weir_members_register(weir_members_t *m, const char *id, const char *endpoint, const void *rid,
                          size_t rid_len, int32_t pid, int64_t now_ms)
{
    size_t idl = strlen(id), epl = strlen(endpoint);
    if (idl == 0 || idl >= WEIR_NODE_ID_MAX || epl == 0 || epl >= WEIR_ENDPOINT_MAX ||
        rid_len > WEIR_RID_MAX)
        return WEIR_EINVAL;
    int i = weir_members_find(m, id);
    if (i < 0) {
        if (m->n == WEIR_MAX_NODES)
            return WEIR_EFULL;
        i = (int)m->n++;
        memset(&m->nodes[i], 0, sizeof m->nodes[i]);
        memcpy(m->nodes[i].id, id, idl + 1);
    }
    weir_member_t *n = &m->nodes[i];
    memcpy(n->endpoint, endpoint, epl + 1);
    memcpy(n->rid, rid, rid_len);
    n->rid_len = rid_len;
    n->pid = pid;
    n->last_seen_ms = now_ms;
    n->alive = true;
    n->incarnation++;
    return i;
}

int weir_members_heartbeat(weir_members_t *m, const char *id, int64_t now_ms)
{
    int i = weir_members_find(m, id);
    if (i < 0)
        return WEIR_ENOTFOUND;
    if (!m->nodes[i].alive)
        return WEIR_ESTALE;
    m->nodes[i].last_seen_ms = now_ms;
    return i;
}

uint32_t weir_members_expire(weir_members_t *m, int64_t now_ms, uint32_t *dead, uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        weir_member_t *x = &m->nodes[i];
        if (x->alive && now_ms - x->last_seen_ms > m->timeout_ms) {
            /* A death that cannot be reported now stays for the next call:
             * marked DEAD unreported, its jobs would never fail. */
            if (n == cap)
                break;
            x->alive = false;
            dead[n++] = i;
        }
    }
    return n;
}

uint32_t weir_members_alive(const weir_members_t *m, uint32_t *idx, uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n && n < cap; i++)
        if (m->nodes[i].alive)
            idx[n++] = i;
    return n;
}

int weir_members_leave(weir_members_t *m, const char *id)
{
    int i = weir_members_find(m, id);
    if (i < 0)
        return WEIR_ENOTFOUND;
    if (!m->nodes[i].alive)
        return WEIR_ESTALE;
    m->nodes[i].alive = false;
    return i;
}
