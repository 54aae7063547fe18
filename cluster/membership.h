/* membership: the coordinator's table of nodes and their liveness
 * (DESIGN §9), as a state machine over messages and time.
 *
 *   (unknown) --register--> ALIVE --no heartbeat for timeout_ms--> DEAD
 *                             ^    \--------------- leave ---------->  |
 *                             +------------ register ---------------+
 *
 * weir_members_register() performs both arrows into ALIVE,
 * weir_members_heartbeat() keeps ALIVE, weir_members_leave() (a node that
 * stops on purpose) and weir_members_expire() perform ALIVE -> DEAD and returns the nodes that just
 * died. ALIVE guarantees a message from the node within the last timeout_ms; DEAD nodes get no new
 * tasks. Time is passed in (now_ms), so tests need no clock. One thread.
 */
#ifndef WEIR_MEMBERSHIP_H
#define WEIR_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEIR_MAX_NODES 256
#define WEIR_NODE_ID_MAX 64
#define WEIR_ENDPOINT_MAX 256
#define WEIR_RID_MAX 256

typedef struct {
    char id[WEIR_NODE_ID_MAX];
    char endpoint[WEIR_ENDPOINT_MAX]; /* data endpoint */
    uint8_t rid[WEIR_RID_MAX];        /* ZeroMQ routing id of its control socket */
    size_t rid_len;
    int64_t last_seen_ms;
    int32_t pid;
    bool alive;
    uint32_t incarnation; /* bumped on every register */
} weir_member_t;

typedef struct {
    weir_member_t nodes[WEIR_MAX_NODES];
    uint32_t n;
    int64_t timeout_ms;
} weir_members_t;

void weir_members_init(weir_members_t *m, int64_t timeout_ms);

/* A node registers (again). Returns its index, or WEIR_EFULL / WEIR_EINVAL
 * (id or endpoint empty or too long). */
int weir_members_register(weir_members_t *m, const char *id, const char *endpoint, const void *rid,
                          size_t rid_len, int32_t pid, int64_t now_ms);

/* A heartbeat from id; returns its index or WEIR_ENOTFOUND (unknown node:
 * it must register) or WEIR_ESTALE (known but dead: it must register). */
int weir_members_heartbeat(weir_members_t *m, const char *id, int64_t now_ms);

/* A node leaves on purpose: ALIVE -> DEAD now. Returns its index, or
 * WEIR_ENOTFOUND / WEIR_ESTALE (unknown or already dead). */
int weir_members_leave(weir_members_t *m, const char *id);

/* Marks nodes silent for longer than the timeout DEAD, at most cap of them
 * per call; writes their indexes into dead[] and returns how many died now.
 * Nodes beyond cap stay ALIVE until the next call, so every node that
 * becomes DEAD is reported exactly once. */
uint32_t weir_members_expire(weir_members_t *m, int64_t now_ms, uint32_t *dead, uint32_t cap);

int weir_members_find(const weir_members_t *m, const char *id);
/* Indexes of ALIVE nodes in registration order; returns the count. */
uint32_t weir_members_alive(const weir_members_t *m, uint32_t *idx, uint32_t cap);

#endif
