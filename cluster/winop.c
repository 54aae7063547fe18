/* winop: the keyed event-time window operator. See winop.h for the
 * contract; this is the design.
 *
 * Window table. Accumulators live in a fixed pool of `cap` entries (one
 * allocation at open; a row allocates nothing). An entry holds key group,
 * window start and end, key bytes (inline up to key_inline bytes, longer
 * keys in a separate block made when the window is created), the NULL
 * flags of the key columns, flags and the accumulator. An open-addressing
 * index (linear probing, at least twice the entries in use, backward-shift
 * deletion so there are no tombstones) maps a hash to the entry; it grows
 * with the working set, not with the pool, so it stays in cache.
 * Tumbling/sliding windows hash (key, start, end); session windows hash
 * the key alone, so every session of a key sits on one probe chain and one
 * probe finds them all.
 *
 * End nodes (timers). Every distinct window end that has live windows (in
 * memory or in RocksDB) has a node: how many windows end there, the list of
 * its in-memory entries, and whether any of its windows was ever written to
 * RocksDB (on_disk). A node sits in one of two min-heaps by end: `pending`
 * (not fired: end - 1 > W) or `retained` (fired, kept for allowed lateness:
 * end - 1 <= W < end - 1 + lateness). Advancing W pops pending nodes that
 * came due and retained nodes that expired, so firing costs nothing while W
 * crosses no end, whatever the number of windows. Sessions move their end
 * when they merge: the node of the old end loses a window and disappears
 * at zero, so no stale timer fires.
 *
 * Firing a due node:
 *   - never written to RocksDB: all its windows are in memory; emit them
 *     from its entry list (the common case: RocksDB is not touched);
 *   - else: write its dirty entries in a write batch, then scan RocksDB
 *     for the due ends: per key group, a seek to (kg, lowest due end) and a
 *     scan to the highest, skipping empty key groups by seeking to the next
 *     key present (state keys sort by kg, end, start, key).
 * Then windows whose end - 1 + lateness <= W are dropped (memory entries,
 * RocksDB keys); the others stay, node in `retained`, until W passes them.
 *
 * Rows. A row whose windows are all dropped (sessions: ts - 1 + lateness
 * <= W) is late. Otherwise each non-dropped window is looked up; a miss
 * loads it from RocksDB if its end node says some window there was
 * written, else creates it. A row that updates a window that already fired
 * (end - 1 <= W) flags it; flagged windows are emitted again, with their
 * full value, after the batch (or when evicted first).
 *
 * Spilling. When the pool is full, about 1/8 of it, least recently used
 * first (a per-row clock; a quickselect finds the cut), goes to RocksDB in
 * one write batch (dirty ones only: clean ones are there already). Entries
 * touched by the current row are never chosen. Sessions of one key are
 * evicted and loaded together, so a key's sessions are either all in
 * memory or all in RocksDB; a per-key index in the same column family
 * (0xFF, kg, key length, key, start -> end; the 0xFF lead byte sorts after
 * every window key, whose first byte is < 0x80) finds a spilled key's
 * sessions.
 *
 * Early results and panes (job->trigger, DESIGN §6). Only pending windows
 * get early panes: a row reaching a fired window fires it again (pane
 * late) whatever the trigger says, and the on-time firing always writes a
 * row (pane on_time), also when an early pane showed the same value, so
 * the last row of a window is its final value.
 *   - every_rows N: each entry counts the rows it took since it was last
 *     emitted (since_rows); the row that brings it to N emits the window
 *     at once, inside the batch, and the count restarts. The window stays
 *     open (Flink's CountTrigger with FIRE, not FIRE_AND_PURGE).
 *   - every T: a row that updates a pending window flags it S_CHANGED and
 *     puts its pool slot on the changed list, once (S_LISTED stays with
 *     the slot while it is reused, so the list never outgrows the pool). A
 *     tick (weir_winop_tick, on the caller's clock) emits the flagged
 *     windows and clears the flags; an unchanged window costs nothing. A
 *     changed window that is evicted leaves a key in the changed index
 *     (0xFE, then its state key: between the window keys and the session
 *     index), which the tick scans; reading the window back, or firing it,
 *     deletes the key. A tick costs the changed windows, in memory or not,
 *     plus one seek.
 *   An emission of any kind restarts both (the window is unchanged since).
 *   - Sessions: an early pane shows the session's bounds of the moment.
 *     When the session grows or merges it is a new window: an emitted one
 *     (early or fired) is superseded (counted, written to the retract
 *     sink), and the new one has shown nothing yet; its row count is the
 *     sum of its parts' (the rows no pane has shown yet, as Flink merges a
 *     count trigger's state).
 *
 * Stored values, layout version 1 (byte: content):
 *   0      layout version, 1 (a value of another version is WEIR_ESTATE)
 *   1      key NULL flags (bit k: key column k is NULL)
 *   2      pane flags: bit 0 changed since last emitted (S_CHANGED),
 *          bit 1 an early pane was written under these bounds (S_EARLY)
 *   3..6   rows since last emitted (since_rows), uint32 big-endian
 *   7..    the accumulators (weir_agg_encode)
 * A fired window's pane fields are not used. Index keys carry no version:
 * the session index (0xFF...) holds the session's end, the changed index
 * (0xFE...) an empty value.
 *
 * Lifecycle of a window (its end node carries the state):
 *
 *   first row ----------------------------> PENDING      end - 1 > W: early panes
 *     (s_window_entry, s_session_row)         |  (s_pending_update, weir_winop_tick)
 *                                             | s_fire: W >= end - 1, emit on time
 *                                             v
 *                 lateness left? ---yes---> RETAINED     a row updating it:
 *                       | no                  |          emitted again after
 *                       v                     |          the batch (s_mark_refire)
 *                    DROPPED <----------------+ s_fire: W >= end - 1 + lateness
 *     (s_drop_node frees memory; s_scan deletes RocksDB keys)
 *   A row whose windows are all DROPPED is late. A session in PENDING or
 *   RETAINED that a row merges into a bigger one ends there
 *   (s_kill_session, s_move_session); if it was emitted, it is superseded.
 *
 * Where a window lives:
 *
 *   memory, dirty --s_write_ent (evict, fire, flush)--> memory, clean + RocksDB
 *   memory, clean --s_evict_one--> RocksDB only --miss: Get / s_load_sessions-->
 *   memory, clean; a clean window updated by a row is dirty again, and so
 *   is one whose pane state an emission changed.
 *
 * Invariants: a live window is in exactly one place or in both (memory
 * entry clean = same bytes in RocksDB, pane fields of fired windows aside);
 * every live window's end has a node whose count includes it; pending ends
 * are all > retained ends; S_CHANGED is only ever set on pending windows;
 * the changed index holds exactly the changed pending windows that are not
 * in memory.
 *
 * Costs per row: key encoding, one xxh64 of the key bytes (reused for the
 * key group and the table), one probe per window, the aggregate update,
 * and with a trigger a counter and a flag per window. No allocation,
 * syscall or RocksDB call unless the table spills (or every_rows emits).
 *
 * Rejected: writing every window to RocksDB when it fires and emitting
 * from a RocksDB scan (DESIGN §7 lists firing among the write points):
 * for windows that never left memory that is a write and a read per window
 * for nothing; the on_disk flag makes the in-memory path safe, and
 * weir_winop_flush() makes RocksDB complete before a snapshot.
 * A second column family indexed by end (DESIGN §7): the window keys
 * already sort by end within a key group, so the due windows are one range
 * per key group. A sorted array of ends: sessions make one end per key,
 * and inserting into the middle of a large array costs a memmove per row.
 * For trigger.every: emitting a changed window when it is evicted
 * (simpler, but early panes would follow memory pressure instead of the
 * clock, and a large state would write a burst of them at every spill);
 * scanning the pool at each tick (the whole pool every T, and blind to
 * spilled windows); a processing-time timer per window, as Flink's
 * ContinuousProcessingTimeTrigger keeps (one grid per operator gives the
 * same cadence with one clock and no timer state).
 */
#include "winop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* the same xxh64 as keygroup.c, inlined into the row loop */
#include <xxhash.h>

#include "agg.h"
#include "err.h"
#include "keygroup.h"
#include "timeu.h"
#include "window.h"

#define S_USED 1u      /* the pool entry holds a window */
#define S_DIRTY 2u     /* memory differs from RocksDB (or the window is not there) */
#define S_PERSISTED 4u /* RocksDB holds this window under its current start/end */
#define S_REFIRE 8u    /* fired window updated in this batch: emit after it */
#define S_CHANGED 16u  /* pending window updated since it was last emitted (trigger.every) */
#define S_EARLY 32u    /* an early pane of this window (under its bounds) was written */
#define S_LISTED 64u   /* this pool slot is in op->changed; kept while the slot is reused */

#define S_NONE UINT32_MAX
#define S_TABLE_BUDGET_BYTES (16u << 20)
#define S_MIN_CAPACITY 4u
#define S_MAX_CAPACITY (1u << 24)
#define S_MAX_WINDOWS_PER_ROW 65536u
#define S_KEY_INLINE_STR 32u /* inline key bytes per string key column */
#define S_SESSION_TAG 0xFF   /* first byte of session index keys */
#define S_SIDX_HDR 7         /* tag, kg (2), key length (4) */
#define S_CHANGED_TAG 0xFE   /* first byte of changed-window index keys */

/* Stored values (see "Stored values" above). */
#define S_VAL_VERSION 1
#define S_VAL_HDR 7     /* version, key NULL flags, pane flags, rows since emitted (4) */
#define S_VF_CHANGED 1u /* pane flag: S_CHANGED */
#define S_VF_EARLY 2u   /* pane flag: S_EARLY */

enum { S_PANE_EARLY = 0, S_PANE_ON_TIME = 1, S_PANE_LATE = 2 };
static const char *const s_pane_names[] = {"early", "on_time", "late"};
static const size_t s_pane_lens[] = {5, 7, 4};

enum { S_HEAP_NONE = 0, S_HEAP_PENDING = 1, S_HEAP_RETAINED = 2 };

/* A pool entry's header (64 bytes); key bytes (inline) and the
 * accumulator follow. */
typedef struct {
    uint64_t hash; /* index hash: s_win_hash() or, for sessions, the key hash */
    uint64_t lru;  /* op->clock when last used */
    int64_t start_ms;
    int64_t end_ms;
    uint16_t kg;         /* < WEIR_MAX_KEY_GROUPS */
    uint16_t key_len;    /* <= WEIR_KEY_MAX */
    uint32_t node;       /* end node */
    uint32_t prev;       /* entries of the same node: index + 1, 0 = none */
    uint32_t next;       /* (prev, next) */
    uint32_t since_rows; /* rows since last emitted, < trigger.every_rows; 0 once fired */
    uint8_t flags;       /* S_* */
    uint8_t key_nulls;   /* bit k: key column k is NULL */
    uint8_t pad[2];
    uint8_t *key_ext; /* key bytes when key_len > key_inline, else NULL */
} s_ent_t;

/* An index slot: entry index + 1 (0 = empty) and the low hash bits. */
typedef struct {
    uint32_t ent;
    uint32_t tag;
} s_slot_t;

typedef struct {
    int64_t end_ms;
    uint64_t count;    /* live windows ending here, in memory or RocksDB */
    uint32_t head;     /* first in-memory entry + 1, 0 = none */
    uint32_t heap_pos; /* position in its heap */
    uint32_t next_free;
    uint8_t heap;    /* S_HEAP_* */
    uint8_t on_disk; /* a window ending here was written to RocksDB */
    uint8_t live;
} s_node_t;

typedef struct {
    uint32_t *a; /* node indexes, a min-heap by end */
    uint32_t n;
    uint32_t cap;
} s_heap_t;

/* A growable array of uint32 (due nodes, session siblings). */
typedef struct {
    uint32_t *a;
    uint32_t n;
    uint32_t cap;
} s_vec_t;

struct weir_winop {
    const weir_job_t *job;
    weir_state_t *st;
    weir_state_cf_t *cf;
    uint32_t kg_first, kg_last;
    weir_csvsink_t *results; /* borrowed */
    weir_csvsink_t *late;    /* borrowed, may be NULL */
    weir_csvsink_t *retract; /* borrowed, may be NULL: superseded sessions */
    weir_aggs_t aggs;
    weir_window_t win;
    weir_window_plan_t plan; /* tumbling, sliding */
    int session;
    int fixed_keys; /* no key column is a string: encode inline */
    int64_t lateness_ms;
    int64_t wm_ms;
    uint64_t rows_in, rows_out, late_rows, superseded, early_rows;
    uint64_t clock; /* +1 per row */

    /* early results (job->trigger) */
    int pane_col;         /* result rows end with the pane column */
    uint32_t every_rows;  /* 0 = off */
    int64_t every_ms;     /* 0 = off */
    int64_t tick_next_ms; /* processing time of the next tick; WEIR_TS_MIN = not started */
    uint32_t *changed;    /* cap: pool slots flagged S_LISTED (every_ms only) */
    uint32_t n_changed;   /* each slot at most once, so <= cap */

    /* the window table */
    uint32_t cap;        /* pool entries */
    uint32_t key_inline; /* inline key bytes per entry */
    uint32_t acc_off;    /* accumulator offset in an entry */
    size_t stride;       /* bytes per entry */
    uint8_t *ents;       /* cap * stride */
    uint32_t n_ents;     /* entries in use */
    uint32_t hw;         /* entries ever used: [0, hw) */
    uint32_t *free_ents; /* stack of free indexes below hw */
    uint32_t n_free;
    s_slot_t *slots;   /* grows from 1024 with the entries in use, load <= 1/2 */
    uint32_t mask;     /* slots - 1 */
    uint64_t *scratch; /* cap: LRU stamps for eviction */
    uint32_t *refire;  /* cap: entries flagged S_REFIRE */
    uint32_t n_refire;

    /* end nodes */
    s_node_t *nodes;
    uint32_t nodes_cap;
    uint32_t nodes_hw;
    uint32_t node_free; /* free list head + 1, 0 = none */
    uint32_t *nmap;     /* node index + 1 by end hash */
    uint32_t nmap_mask;
    uint32_t n_nodes;
    s_heap_t pending, retained;
    s_vec_t due; /* nodes that came due or expired in one advance */
    s_vec_t sib; /* sessions of the current row's key */
    s_vec_t evs; /* sessions of a key being evicted */

    /* RocksDB */
    weir_state_wb_t *wb;
    int sess_spilled;    /* some session key was evicted (its sessions may be only on disk) */
    int changed_spilled; /* a changed window was evicted: the 0xFE index may hold keys */
    uint8_t *vbuf;       /* value serialization buffer */
    size_t vbuf_cap;
    void *tmp_acc;  /* accumulator for windows read from RocksDB */
    int64_t *spans; /* session spans of a key being loaded: start, end pairs */
    uint32_t spans_cap;
    uint8_t kbuf[WEIR_KEY_MAX];
    uint8_t skey[WEIR_STATE_KEY_HDR + WEIR_KEY_MAX];
    uint8_t ikey[S_SIDX_HDR + WEIR_KEY_MAX + 9];
    uint8_t xkey[1 + WEIR_STATE_KEY_HDR + WEIR_KEY_MAX];
};

/* ---- small helpers ------------------------------------------------------ */

static inline uint64_t s_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t s_win_hash(uint64_t kh, int64_t start, int64_t end)
{
    return s_mix64(kh ^ (uint64_t)start * 0x9E3779B97F4A7C15ULL ^
                   (uint64_t)end * 0xC2B2AE3D27D4EB4FULL);
}

/* W has reached end - 1: the window fired. */
static inline int s_fired(const weir_winop_t *op, int64_t end)
{
    return weir_sat_sub(end, 1) <= op->wm_ms;
}

/* W has reached end - 1 + lateness: the window is dropped. */
static inline int s_dropped(const weir_winop_t *op, int64_t end)
{
    return weir_sat_add(weir_sat_sub(end, 1), op->lateness_ms) <= op->wm_ms;
}

static inline s_ent_t *s_ent(const weir_winop_t *op, uint32_t i)
{
    return (s_ent_t *)(op->ents + (size_t)i * op->stride);
}

static inline uint8_t *s_key(s_ent_t *e)
{
    return e->key_ext ? e->key_ext : (uint8_t *)(e + 1);
}

static inline void *s_acc(const weir_winop_t *op, s_ent_t *e)
{
    return (uint8_t *)e + op->acc_off;
}

static int s_vec_push(s_vec_t *v, uint32_t x)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 64;
        uint32_t *a = realloc(v->a, cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        v->a = a;
        v->cap = cap;
    }
    v->a[v->n++] = x;
    return 0;
}

static void s_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t s_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* weir_key_encode() for keys without string columns (at most 72 bytes),
 * without its per-byte bounds checks: the same bytes (NULL 0xFF; a value
 * 0x00 then 8 bytes big-endian), a few instructions. */
static size_t s_key_encode_fixed(const weir_job_t *job, const weir_batch_t *b, uint32_t row,
                                 uint8_t *buf)
{
    uint8_t *p = buf;
    for (int k = 0; k < job->n_keys; k++) {
        const weir_column_t *c = &b->cols[job->key_cols[k]];
        if (c->null[row]) {
            *p++ = 0xFF;
            continue;
        }
        uint64_t v;
        if (c->type == WEIR_TYPE_DOUBLE) {
            double d = c->f64[row];
            if (d == 0)
                d = 0; /* -0.0 and 0.0 are one key */
            memcpy(&v, &d, sizeof v);
        } else {
            v = (uint64_t)c->i64[row];
        }
        *p++ = 0x00;
        for (int i = 0; i < 8; i++)
            p[i] = (uint8_t)(v >> (56 - 8 * i));
        p += 8;
    }
    return (size_t)(p - buf);
}

/* ---- heaps of end nodes ------------------------------------------------- */

static inline void s_heap_set(weir_winop_t *op, s_heap_t *h, uint32_t i, uint32_t node)
{
    h->a[i] = node;
    op->nodes[node].heap_pos = i;
}

static inline int64_t s_heap_end(const weir_winop_t *op, const s_heap_t *h, uint32_t i)
{
    return op->nodes[h->a[i]].end_ms;
}

static void s_heap_up(weir_winop_t *op, s_heap_t *h, uint32_t i)
{
    uint32_t node = h->a[i];
    int64_t end = op->nodes[node].end_ms;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (s_heap_end(op, h, p) <= end)
            break;
        s_heap_set(op, h, i, h->a[p]);
        i = p;
    }
    s_heap_set(op, h, i, node);
}

static void s_heap_down(weir_winop_t *op, s_heap_t *h, uint32_t i)
{
    uint32_t node = h->a[i];
    int64_t end = op->nodes[node].end_ms;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && s_heap_end(op, h, c + 1) < s_heap_end(op, h, c))
            c++;
        if (s_heap_end(op, h, c) >= end)
            break;
        s_heap_set(op, h, i, h->a[c]);
        i = c;
    }
    s_heap_set(op, h, i, node);
}

static int s_heap_push(weir_winop_t *op, int which, uint32_t node)
{
    s_heap_t *h = which == S_HEAP_PENDING ? &op->pending : &op->retained;
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        uint32_t *a = realloc(h->a, cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        h->a = a;
        h->cap = cap;
    }
    op->nodes[node].heap = (uint8_t)which;
    h->n++;
    s_heap_set(op, h, h->n - 1, node);
    s_heap_up(op, h, h->n - 1);
    return 0;
}

static void s_heap_remove(weir_winop_t *op, uint32_t node)
{
    s_node_t *nd = &op->nodes[node];
    if (nd->heap == S_HEAP_NONE)
        return;
    s_heap_t *h = nd->heap == S_HEAP_PENDING ? &op->pending : &op->retained;
    uint32_t i = nd->heap_pos;
    nd->heap = S_HEAP_NONE;
    h->n--;
    if (i == h->n)
        return;
    uint32_t moved = h->a[h->n];
    s_heap_set(op, h, i, moved);
    s_heap_down(op, h, i);
    s_heap_up(op, h, op->nodes[moved].heap_pos);
}

/* ---- end nodes ----------------------------------------------------------- */

static uint32_t s_node_find(const weir_winop_t *op, int64_t end)
{
    uint32_t i = (uint32_t)s_mix64((uint64_t)end) & op->nmap_mask;
    while (op->nmap[i]) {
        uint32_t n = op->nmap[i] - 1;
        if (op->nodes[n].end_ms == end)
            return n;
        i = (i + 1) & op->nmap_mask;
    }
    return S_NONE;
}

static void s_nmap_insert(weir_winop_t *op, uint32_t node)
{
    uint32_t i = (uint32_t)s_mix64((uint64_t)op->nodes[node].end_ms) & op->nmap_mask;
    while (op->nmap[i])
        i = (i + 1) & op->nmap_mask;
    op->nmap[i] = node + 1;
}

static int s_nmap_grow(weir_winop_t *op)
{
    uint32_t slots = (op->nmap_mask + 1) * 2;
    uint32_t *m = calloc(slots, sizeof *m);
    if (!m)
        return -ENOMEM;
    uint32_t *old = op->nmap, old_slots = op->nmap_mask + 1;
    op->nmap = m;
    op->nmap_mask = slots - 1;
    for (uint32_t i = 0; i < old_slots; i++)
        if (old[i])
            s_nmap_insert(op, old[i] - 1);
    free(old);
    return 0;
}

static void s_nmap_remove(weir_winop_t *op, uint32_t node)
{
    uint32_t mask = op->nmap_mask;
    uint32_t i = (uint32_t)s_mix64((uint64_t)op->nodes[node].end_ms) & mask;
    while (op->nmap[i] != node + 1)
        i = (i + 1) & mask;
    for (uint32_t j = (i + 1) & mask; op->nmap[j]; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)s_mix64((uint64_t)op->nodes[op->nmap[j] - 1].end_ms) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            op->nmap[i] = op->nmap[j];
            i = j;
        }
    }
    op->nmap[i] = 0;
}

/* Finds or creates the node of end (in the heap its end calls for). */
static int s_node_get(weir_winop_t *op, int64_t end, uint32_t *out)
{
    uint32_t n = s_node_find(op, end);
    if (n != S_NONE) {
        *out = n;
        return 0;
    }
    if ((op->n_nodes + 1) * 2 > op->nmap_mask + 1 && s_nmap_grow(op))
        return -ENOMEM;
    if (op->node_free) {
        n = op->node_free - 1;
        op->node_free = op->nodes[n].next_free;
    } else {
        if (op->nodes_hw == op->nodes_cap) {
            uint32_t cap = op->nodes_cap ? op->nodes_cap * 2 : 64;
            s_node_t *a = realloc(op->nodes, cap * sizeof *a);
            if (!a)
                return -ENOMEM;
            op->nodes = a;
            op->nodes_cap = cap;
        }
        n = op->nodes_hw++;
    }
    s_node_t *nd = &op->nodes[n];
    memset(nd, 0, sizeof *nd);
    nd->end_ms = end;
    nd->live = 1;
    int rc = s_heap_push(op, s_fired(op, end) ? S_HEAP_RETAINED : S_HEAP_PENDING, n);
    if (rc) {
        nd->live = 0;
        nd->next_free = op->node_free;
        op->node_free = n + 1;
        return rc;
    }
    s_nmap_insert(op, n);
    op->n_nodes++;
    *out = n;
    return 0;
}

static void s_node_free(weir_winop_t *op, uint32_t n)
{
    s_heap_remove(op, n);
    s_nmap_remove(op, n);
    op->nodes[n].live = 0;
    op->nodes[n].next_free = op->node_free;
    op->node_free = n + 1;
    op->n_nodes--;
}

/* One window fewer ends at node n; the node goes when none is left. */
static void s_node_unref(weir_winop_t *op, uint32_t n)
{
    if (op->nodes[n].count > 0)
        op->nodes[n].count--;
    if (op->nodes[n].count == 0 && op->nodes[n].head == 0)
        s_node_free(op, n);
}

static void s_node_link(weir_winop_t *op, uint32_t n, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    e->node = n;
    e->prev = 0;
    e->next = op->nodes[n].head;
    if (e->next)
        s_ent(op, e->next - 1)->prev = idx + 1;
    op->nodes[n].head = idx + 1;
}

static void s_node_unlink(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    if (e->prev)
        s_ent(op, e->prev - 1)->next = e->next;
    else
        op->nodes[e->node].head = e->next;
    if (e->next)
        s_ent(op, e->next - 1)->prev = e->prev;
    e->prev = e->next = 0;
}

/* ---- the entry index ---------------------------------------------------- */

static void s_index_insert(weir_winop_t *op, uint32_t idx)
{
    uint64_t h = s_ent(op, idx)->hash;
    uint32_t i = (uint32_t)h & op->mask;
    while (op->slots[i].ent)
        i = (i + 1) & op->mask;
    op->slots[i].ent = idx + 1;
    op->slots[i].tag = (uint32_t)h;
}

static void s_index_remove(weir_winop_t *op, uint32_t idx)
{
    uint32_t mask = op->mask;
    uint32_t i = (uint32_t)s_ent(op, idx)->hash & mask;
    while (op->slots[i].ent != idx + 1)
        i = (i + 1) & mask;
    for (uint32_t j = (i + 1) & mask; op->slots[j].ent; j = (j + 1) & mask) {
        uint32_t home = op->slots[j].tag & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            op->slots[i] = op->slots[j];
            i = j;
        }
    }
    op->slots[i].ent = 0;
}

static inline int s_same_key(const s_ent_t *e, uint32_t kg, const uint8_t *key, uint32_t klen)
{
    return e->kg == kg && e->key_len == klen &&
           memcmp(e->key_ext ? e->key_ext : (const uint8_t *)(e + 1), key, klen) == 0;
}

static uint32_t s_find_window(const weir_winop_t *op, uint64_t h, uint32_t kg, const uint8_t *key,
                              uint32_t klen, int64_t start, int64_t end)
{
    uint32_t i = (uint32_t)h & op->mask;
    for (;; i = (i + 1) & op->mask) {
        s_slot_t s = op->slots[i];
        if (!s.ent)
            return S_NONE;
        if (s.tag != (uint32_t)h)
            continue;
        const s_ent_t *e = s_ent(op, s.ent - 1);
        if (e->hash == h && e->start_ms == start && e->end_ms == end &&
            s_same_key(e, kg, key, klen))
            return s.ent - 1;
    }
}

/* Puts every in-memory session of the key into v; with stamp set, stamps
 * them with the current clock (so that no eviction takes them). */
static int s_collect_sessions(weir_winop_t *op, uint64_t kh, uint32_t kg, const uint8_t *key,
                              uint32_t klen, s_vec_t *v, int stamp)
{
    v->n = 0;
    for (uint32_t i = (uint32_t)kh & op->mask; op->slots[i].ent; i = (i + 1) & op->mask) {
        if (op->slots[i].tag != (uint32_t)kh)
            continue;
        s_ent_t *e = s_ent(op, op->slots[i].ent - 1);
        if (e->hash == kh && s_same_key(e, kg, key, klen)) {
            if (stamp)
                e->lru = op->clock;
            if (s_vec_push(v, op->slots[i].ent - 1))
                return -ENOMEM;
        }
    }
    return 0;
}

/* ---- RocksDB ------------------------------------------------------------ */

static int s_sync(weir_winop_t *op)
{
    return weir_state_wb_commit(op->st, op->wb);
}

static size_t s_skey(weir_winop_t *op, uint32_t kg, int64_t end, int64_t start, const uint8_t *key,
                     uint32_t klen)
{
    return weir_state_key_encode(op->skey, kg, end, start, key, klen);
}

static size_t s_ikey(weir_winop_t *op, uint32_t kg, const uint8_t *key, uint32_t klen,
                     int64_t start)
{
    uint8_t *p = op->ikey;
    p[0] = S_SESSION_TAG;
    p[1] = (uint8_t)(kg >> 8);
    p[2] = (uint8_t)kg;
    s_put_be32(p + 3, klen);
    memcpy(p + S_SIDX_HDR, key, klen);
    weir_state_put_ts(p + S_SIDX_HDR + klen, start);
    return S_SIDX_HDR + (size_t)klen + 8;
}

/* The changed-window index key of a window: S_CHANGED_TAG, then its state
 * key. */
static size_t s_xkey(weir_winop_t *op, uint32_t kg, int64_t end, int64_t start, const uint8_t *key,
                     uint32_t klen)
{
    op->xkey[0] = S_CHANGED_TAG;
    return 1 + weir_state_key_encode(op->xkey + 1, kg, end, start, key, klen);
}

/* A stored value's header (S_VAL_HDR bytes). */
typedef struct {
    uint8_t nulls;       /* key NULL flags */
    uint8_t flags;       /* S_VF_* */
    uint32_t since_rows; /* rows since the window was last emitted */
} s_vhdr_t;

/* Splits a stored value into its header and accumulator (acc must be
 * empty). Returns 0, WEIR_ESTATE (another layout version or malformed) or
 * -ENOMEM. */
static int s_val_decode(const weir_winop_t *op, const uint8_t *v, size_t len, s_vhdr_t *h,
                        void *acc)
{
    if (len < S_VAL_HDR || v[0] != S_VAL_VERSION)
        return WEIR_ESTATE;
    h->nulls = v[1];
    h->flags = v[2];
    h->since_rows = (uint32_t)v[3] << 24 | (uint32_t)v[4] << 16 | (uint32_t)v[5] << 8 | v[6];
    int rc = weir_agg_decode(&op->aggs, acc, v + S_VAL_HDR, len - S_VAL_HDR);
    return rc == WEIR_EINVAL ? WEIR_ESTATE : rc;
}

/* Makes op->vbuf hold at least need bytes. */
static int s_vbuf_reserve(weir_winop_t *op, size_t need)
{
    if (need <= op->vbuf_cap)
        return 0;
    size_t cap = op->vbuf_cap ? op->vbuf_cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(op->vbuf, cap);
    if (!b)
        return -ENOMEM;
    op->vbuf = b;
    op->vbuf_cap = cap;
    return 0;
}

/* Queues the deletion of a window's RocksDB keys. */
static void s_delete_keys(weir_winop_t *op, uint32_t kg, int64_t start, int64_t end,
                          const uint8_t *key, uint32_t klen)
{
    size_t n = s_skey(op, kg, end, start, key, klen);
    weir_state_wb_delete(op->wb, op->cf, op->skey, n);
    if (op->session) {
        n = s_ikey(op, kg, key, klen, start);
        weir_state_wb_delete(op->wb, op->cf, op->ikey, n);
    }
}

/* Queues the write of entry idx and marks it clean and persisted. */
static int s_write_ent(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    void *acc = s_acc(op, e);
    size_t need = S_VAL_HDR + weir_agg_encoded_size(&op->aggs, acc);
    int rc = s_vbuf_reserve(op, need);
    if (rc)
        return rc;
    op->vbuf[0] = S_VAL_VERSION;
    op->vbuf[1] = e->key_nulls;
    op->vbuf[2] = (uint8_t)((e->flags & S_CHANGED ? S_VF_CHANGED : 0) |
                            (e->flags & S_EARLY ? S_VF_EARLY : 0));
    s_put_be32(op->vbuf + 3, e->since_rows);
    weir_agg_encode(&op->aggs, acc, op->vbuf + S_VAL_HDR);
    size_t kl = s_skey(op, e->kg, e->end_ms, e->start_ms, s_key(e), e->key_len);
    weir_state_wb_put(op->wb, op->cf, op->skey, kl, op->vbuf, need);
    if (op->session) {
        uint8_t end[8];
        weir_state_put_ts(end, e->end_ms);
        kl = s_ikey(op, e->kg, s_key(e), e->key_len, e->start_ms);
        weir_state_wb_put(op->wb, op->cf, op->ikey, kl, end, 8);
    }
    e->flags = (uint8_t)((e->flags | S_PERSISTED) & ~S_DIRTY);
    op->nodes[e->node].on_disk = 1;
    return 0;
}

/* ---- output --------------------------------------------------------------- */

static int s_write_key(weir_winop_t *op, weir_csvsink_t *s, const uint8_t *key, uint32_t klen,
                       uint8_t nulls)
{
    const weir_job_t *job = op->job;
    const uint8_t *p = key, *end = key + klen;
    int rc = 0;
    for (int k = 0; k < job->n_keys && !rc; k++) {
        weir_type_t t = job->source.fields[job->key_cols[k]].type;
        if (nulls & (1u << k)) {
            rc = weir_csvsink_null(s);
            p += p < end;
            continue;
        }
        p += p < end; /* the 0x00 tag of a value (cluster/keygroup.h) */
        if (t == WEIR_TYPE_STRING) {
            size_t len = (size_t)(end - p);
            if (k + 1 < job->n_keys) {
                if (len < 4) {
                    rc = weir_csvsink_null(s);
                    p = end;
                    continue;
                }
                uint32_t n =
                    (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
                p += 4;
                len = n < (size_t)(end - p) ? n : (size_t)(end - p);
            }
            rc = weir_csvsink_str(s, (const char *)p, len);
            p += len;
            continue;
        }
        if (end - p < 8) { /* a key cut at WEIR_KEY_MAX */
            rc = weir_csvsink_null(s);
            p = end;
            continue;
        }
        uint64_t v = s_get_be64(p);
        p += 8;
        if (t == WEIR_TYPE_DOUBLE) {
            double d;
            memcpy(&d, &v, sizeof d);
            rc = weir_csvsink_f64(s, d);
        } else if (t == WEIR_TYPE_BOOL) {
            rc = weir_csvsink_bool(s, v != 0);
        } else {
            rc = weir_csvsink_i64(s, (int64_t)v);
        }
    }
    return rc;
}

/* Writes one result row; pane is S_PANE_* (written when the job has the
 * column). */
static int s_emit(weir_winop_t *op, const uint8_t *key, uint32_t klen, uint8_t nulls, int64_t start,
                  int64_t end, const void *acc, int pane)
{
    weir_csvsink_t *s = op->results;
    int rc = s_write_key(op, s, key, klen, nulls);
    if (!rc)
        rc = weir_csvsink_i64(s, start);
    if (!rc)
        rc = weir_csvsink_i64(s, end);
    for (int i = 0; i < op->aggs.n && !rc; i++) {
        char buf[WEIR_AGG_TEXT_MAX];
        int is_null;
        size_t n = weir_agg_format(&op->aggs, acc, i, buf, &is_null);
        rc = is_null ? weir_csvsink_null(s) : weir_csvsink_str(s, buf, n);
    }
    if (!rc && op->pane_col)
        rc = weir_csvsink_str(s, s_pane_names[pane], s_pane_lens[pane]);
    if (!rc)
        rc = weir_csvsink_end_row(s);
    if (!rc)
        op->rows_out++;
    return rc;
}

static int s_emit_ent(weir_winop_t *op, uint32_t idx, int pane)
{
    s_ent_t *e = s_ent(op, idx);
    return s_emit(op, s_key(e), e->key_len, e->key_nulls, e->start_ms, e->end_ms, s_acc(op, e),
                  pane);
}

/* Writes the partial value of pending window idx as an early pane; it
 * stays open, unchanged since this emission. */
static int s_emit_early(weir_winop_t *op, uint32_t idx)
{
    int rc = s_emit_ent(op, idx, S_PANE_EARLY);
    if (rc)
        return rc;
    s_ent_t *e = s_ent(op, idx);
    e->since_rows = 0;
    e->flags = (uint8_t)((e->flags & ~S_CHANGED) | S_EARLY | S_DIRTY);
    op->early_rows++;
    return 0;
}

/* Puts pool slot idx into the changed list unless it is there. A slot is
 * listed at most once (S_LISTED survives the slot's reuse), so the list
 * never holds more than cap slots. */
static void s_list_changed(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    if (e->flags & S_LISTED)
        return;
    e->flags |= S_LISTED;
    op->changed[op->n_changed++] = idx;
}

/* A row updated pending window idx: counts it for trigger.every_rows and
 * marks it changed for trigger.every. */
static int s_pending_update(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    if (op->every_ms && !(e->flags & S_CHANGED)) {
        e->flags |= S_CHANGED;
        s_list_changed(op, idx);
    }
    if (op->every_rows && ++e->since_rows >= op->every_rows)
        return s_emit_early(op, idx);
    return 0;
}

/* Window idx fired on time: its pane state no longer applies. Marks it
 * dirty when that changes what RocksDB holds for it. */
static void s_pane_reset(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    if (!(e->flags & S_CHANGED) && e->since_rows == 0)
        return;
    e->since_rows = 0;
    e->flags = (uint8_t)((e->flags & ~S_CHANGED) | S_DIRTY);
}

static int s_emit_refires(weir_winop_t *op)
{
    int rc = 0;
    for (uint32_t i = 0; i < op->n_refire && !rc; i++) {
        s_ent_t *e = s_ent(op, op->refire[i]);
        if (!(e->flags & S_REFIRE))
            continue; /* emitted at eviction, or the slot was reused */
        e->flags &= (uint8_t)~S_REFIRE;
        rc = s_emit_ent(op, op->refire[i], S_PANE_LATE);
    }
    op->n_refire = 0;
    return rc;
}

static int s_mark_refire(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    if (e->flags & S_REFIRE)
        return 0;
    if (op->n_refire == op->cap) {
        int rc = s_emit_refires(op);
        if (rc)
            return rc;
    }
    e->flags |= S_REFIRE;
    op->refire[op->n_refire++] = idx;
    return 0;
}

/* ---- entries ---------------------------------------------------------------- */

/* Frees entry idx and its memory; its node keeps counting the window. */
static void s_remove_ent(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    s_index_remove(op, idx);
    s_node_unlink(op, idx);
    weir_agg_free(&op->aggs, s_acc(op, e));
    free(e->key_ext);
    e->key_ext = NULL;
    e->flags &= S_LISTED;
    op->free_ents[op->n_free++] = idx;
    op->n_ents--;
}

/* Doubles the index. It starts small and grows with the entries in use
 * (load <= 1/2), so that a small working set keeps a small, cache-resident
 * index however large the pool is. */
static int s_index_grow(weir_winop_t *op)
{
    uint32_t slots = (op->mask + 1) * 2;
    s_slot_t *a = calloc(slots, sizeof *a);
    if (!a)
        return -ENOMEM;
    free(op->slots);
    op->slots = a;
    op->mask = slots - 1;
    for (uint32_t i = 0; i < op->hw; i++)
        if (s_ent(op, i)->flags & S_USED)
            s_index_insert(op, i);
    return 0;
}

/* Makes an entry (the caller made room) linked to node n. Its accumulator
 * is empty. */
static int s_new_ent(weir_winop_t *op, uint64_t hash, uint32_t kg, const uint8_t *key,
                     uint32_t klen, uint8_t nulls, int64_t start, int64_t end, uint32_t n,
                     uint32_t *out)
{
    if ((op->n_ents + 1) * 2 > op->mask + 1) {
        int rc = s_index_grow(op);
        if (rc)
            return rc;
    }
    uint8_t *ext = NULL;
    if (klen > op->key_inline && !(ext = malloc(klen)))
        return -ENOMEM;
    uint32_t idx = op->n_free ? op->free_ents[--op->n_free] : op->hw++;
    s_ent_t *e = s_ent(op, idx);
    uint8_t listed = e->flags & S_LISTED;
    memset(e, 0, sizeof *e);
    e->hash = hash;
    e->lru = op->clock;
    e->start_ms = start;
    e->end_ms = end;
    e->kg = (uint16_t)kg;
    e->key_len = (uint16_t)klen;
    e->key_nulls = nulls;
    e->flags = (uint8_t)(S_USED | listed);
    e->key_ext = ext;
    memcpy(s_key(e), key, klen);
    weir_agg_init(&op->aggs, s_acc(op, e));
    s_node_link(op, n, idx);
    s_index_insert(op, idx);
    op->n_ents++;
    *out = idx;
    return 0;
}

/* Writes (if dirty) and frees entry idx; emits it first if flagged. A
 * changed pending window gets a key in the changed index, so that the next
 * tick finds it in RocksDB. */
static int s_evict_one(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    int rc = 0;
    if (e->flags & S_REFIRE) {
        e->flags &= (uint8_t)~S_REFIRE;
        rc = s_emit_ent(op, idx, S_PANE_LATE);
    }
    if (!rc && (e->flags & S_DIRTY))
        rc = s_write_ent(op, idx);
    if (rc)
        return rc;
    if (e->flags & S_CHANGED) { /* never set on a fired window */
        size_t n = s_xkey(op, e->kg, e->end_ms, e->start_ms, s_key(e), e->key_len);
        weir_state_wb_put(op->wb, op->cf, op->xkey, n, "", 0);
        op->changed_spilled = 1;
    }
    if (op->session)
        op->sess_spilled = 1;
    s_remove_ent(op, idx);
    return 0;
}

static int s_evict(weir_winop_t *op, uint32_t idx)
{
    if (!op->session)
        return s_evict_one(op, idx);
    s_ent_t *e = s_ent(op, idx);
    /* all sessions of the key go together */
    int rc = s_collect_sessions(op, e->hash, e->kg, s_key(e), e->key_len, &op->evs, 0);
    for (uint32_t i = 0; i < op->evs.n && !rc; i++)
        rc = s_evict_one(op, op->evs.a[i]);
    return rc;
}

/* Returns the k-th smallest (0-based) of a[0..n), reordering a. */
static uint64_t s_select(uint64_t *a, uint32_t n, uint32_t k)
{
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint64_t pivot = a[lo + (hi - lo) / 2];
        uint32_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* Makes sure `need` pool entries are free, evicting the least recently
 * used (about an eighth of the pool at a time). Entries used by the current
 * row are kept. WEIR_EFULL when they alone fill the pool. */
static int s_make_room(weir_winop_t *op, uint32_t need)
{
    if (op->cap - op->n_ents >= need)
        return 0;
    uint32_t want = need - (op->cap - op->n_ents);
    uint32_t n = 0;
    for (uint32_t i = 0; i < op->hw; i++) {
        const s_ent_t *e = s_ent(op, i);
        if ((e->flags & S_USED) && e->lru < op->clock)
            op->scratch[n++] = e->lru;
    }
    if (n < want)
        return WEIR_EFULL;
    uint32_t target = want > op->cap / 8 ? want : op->cap / 8;
    if (target > n)
        target = n;
    uint64_t cut = s_select(op->scratch, n, target - 1);
    uint32_t below = 0;
    for (uint32_t i = 0; i < n; i++)
        below += op->scratch[i] < cut;
    uint32_t at_cut = target - below;
    int rc = 0;
    for (uint32_t i = 0; i < op->hw && !rc; i++) {
        const s_ent_t *e = s_ent(op, i);
        if (!(e->flags & S_USED) || e->lru > cut)
            continue;
        if (e->lru == cut) {
            if (!at_cut)
                continue;
            at_cut--;
        }
        rc = s_evict(op, i);
    }
    if (!rc)
        rc = s_sync(op);
    return rc;
}

/* Entry idx was just read from RocksDB with header h: restores its pane
 * state. A changed pending window is in memory again, so it leaves the
 * changed index and joins the changed list. A fired window's pane state is
 * not used (rows reaching it always fire it again). */
static void s_loaded(weir_winop_t *op, uint32_t idx, const s_vhdr_t *h)
{
    s_ent_t *e = s_ent(op, idx);
    if (h->flags & S_VF_EARLY)
        e->flags |= S_EARLY;
    if (s_fired(op, e->end_ms))
        return;
    e->since_rows = h->since_rows;
    if (h->flags & S_VF_CHANGED) {
        e->flags |= S_CHANGED;
        s_list_changed(op, idx);
        size_t n = s_xkey(op, e->kg, e->end_ms, e->start_ms, s_key(e), e->key_len);
        weir_state_wb_delete(op->wb, op->cf, op->xkey, n);
    }
}

/* ---- rows: tumbling and sliding windows ------------------------------------ */

/* Finds, loads or creates the entry of one window of a row. */
static int s_window_entry(weir_winop_t *op, uint64_t kh, uint32_t kg, const uint8_t *key,
                          uint32_t klen, uint8_t nulls, weir_span_t w, uint32_t *out)
{
    uint64_t h = s_win_hash(kh, w.start_ms, w.end_ms);
    uint32_t idx = s_find_window(op, h, kg, key, klen, w.start_ms, w.end_ms);
    if (idx != S_NONE) {
        *out = idx;
        return 0;
    }
    int rc = s_make_room(op, 1);
    if (rc)
        return rc;
    uint32_t n;
    if ((rc = s_node_get(op, w.end_ms, &n)))
        return rc;
    weir_state_val_t val = {0};
    int found = 0;
    if (op->nodes[n].on_disk) {
        if ((rc = s_sync(op)))
            return rc;
        size_t kl = s_skey(op, kg, w.end_ms, w.start_ms, key, klen);
        rc = weir_state_get(op->st, op->cf, op->skey, kl, &val);
        if (rc && rc != WEIR_ENOTFOUND)
            return rc;
        found = rc == 0;
    }
    rc = s_new_ent(op, h, kg, key, klen, nulls, w.start_ms, w.end_ms, n, &idx);
    if (!rc && found) {
        s_ent_t *e = s_ent(op, idx);
        s_vhdr_t vh;
        rc = s_val_decode(op, val.data, val.len, &vh, s_acc(op, e));
        e->flags |= S_PERSISTED;
        if (rc)
            s_remove_ent(op, idx);
        else
            s_loaded(op, idx, &vh);
    } else if (!rc) {
        op->nodes[n].count++;
    } else if (op->nodes[n].count == 0 && op->nodes[n].head == 0) {
        s_node_free(op, n);
    }
    weir_state_val_release(&val);
    *out = idx;
    return rc;
}

static int s_window_row(weir_winop_t *op, const weir_batch_t *b, uint32_t row, uint64_t kh,
                        uint32_t kg, const uint8_t *key, uint32_t klen, uint8_t nulls,
                        int *accepted)
{
    weir_window_iter_t it;
    weir_window_iter_start(&it, &op->plan, b->ts_ms[row]);
    weir_span_t w;
    *accepted = 0;
    while (weir_window_iter_next(&it, &w)) {
        if (s_dropped(op, w.end_ms))
            break; /* ends only decrease from here */
        uint32_t idx;
        int rc = s_window_entry(op, kh, kg, key, klen, nulls, w, &idx);
        if (rc)
            return rc;
        s_ent_t *e = s_ent(op, idx);
        e->lru = op->clock;
        if ((rc = weir_agg_add(&op->aggs, s_acc(op, e), b, row)))
            return rc;
        e->flags |= S_DIRTY;
        rc = s_fired(op, w.end_ms) ? s_mark_refire(op, idx) : s_pending_update(op, idx);
        if (rc)
            return rc;
        *accepted = 1;
    }
    return 0;
}

/* ---- rows: session windows -------------------------------------------------- */

/* Loads every session of a key from RocksDB (none is in memory). */
static int s_load_sessions(weir_winop_t *op, uint64_t kh, uint32_t kg, const uint8_t *key,
                           uint32_t klen, uint8_t nulls)
{
    int rc = s_sync(op);
    if (rc)
        return rc;
    size_t pl = s_ikey(op, kg, key, klen, 0) - 8;
    uint8_t *upper = op->ikey + pl;
    memset(upper, 0xFF, 9);
    weir_state_iter_t *it = NULL;
    if ((rc = weir_state_iter_open(op->st, op->cf, op->ikey, pl + 9, &it)))
        return rc;
    uint32_t n = 0;
    for (weir_state_iter_seek(it, op->ikey, pl); weir_state_iter_valid(it);
         weir_state_iter_next(it)) {
        size_t len, vlen;
        const uint8_t *k = weir_state_iter_key(it, &len);
        const uint8_t *v = weir_state_iter_value(it, &vlen);
        if (len != pl + 8 || vlen != 8 || memcmp(k, op->ikey, pl) != 0)
            continue;
        if (n == op->spans_cap) {
            uint32_t cap = op->spans_cap ? op->spans_cap * 2 : 16;
            int64_t *a = realloc(op->spans, 2 * (size_t)cap * sizeof *a);
            if (!a) {
                rc = -ENOMEM;
                break;
            }
            op->spans = a;
            op->spans_cap = cap;
        }
        op->spans[(size_t)2 * n] = weir_state_get_ts(k + pl);
        op->spans[(size_t)2 * n + 1] = weir_state_get_ts(v);
        n++;
    }
    if (!rc)
        rc = weir_state_iter_status(it);
    weir_state_iter_destroy(&it);
    if (!rc && n)
        rc = s_make_room(op, n + 1);
    for (uint32_t i = 0; i < n && !rc; i++) {
        int64_t start = op->spans[(size_t)2 * i], end = op->spans[(size_t)2 * i + 1];
        size_t kl = s_skey(op, kg, end, start, key, klen);
        weir_state_val_t val = {0};
        rc = weir_state_get(op->st, op->cf, op->skey, kl, &val);
        if (rc == WEIR_ENOTFOUND)
            rc = WEIR_ESTATE; /* the index names a window that is not there */
        if (rc)
            break;
        uint32_t nd = s_node_find(op, end), idx;
        if (nd == S_NONE) { /* cannot happen: the window is live */
            if (!(rc = s_node_get(op, end, &nd)))
                op->nodes[nd].count++;
        }
        if (!rc)
            rc = s_new_ent(op, kh, kg, key, klen, val.len > 1 ? val.data[1] : nulls, start, end, nd,
                           &idx);
        if (!rc) {
            s_ent_t *e = s_ent(op, idx);
            s_vhdr_t vh;
            rc = s_val_decode(op, val.data, val.len, &vh, s_acc(op, e));
            e->flags |= S_PERSISTED;
            if (rc)
                s_remove_ent(op, idx);
            else
                s_loaded(op, idx, &vh);
        }
        weir_state_val_release(&val);
    }
    return rc;
}

/* Entry idx's window is about to stop existing under its bounds (merged
 * into a bigger session). If it was emitted (fired, or an early pane), that
 * emission is stale. */
static int s_supersede(weir_winop_t *op, uint32_t idx)
{
    s_ent_t *e = s_ent(op, idx);
    if (!s_fired(op, e->end_ms) && !(e->flags & S_EARLY))
        return 0;
    op->superseded++;
    if (!op->retract)
        return 0;
    int rc = s_write_key(op, op->retract, s_key(e), e->key_len, e->key_nulls);
    if (!rc)
        rc = weir_csvsink_i64(op->retract, e->start_ms);
    if (!rc)
        rc = weir_csvsink_i64(op->retract, e->end_ms);
    return rc ? rc : weir_csvsink_end_row(op->retract);
}

/* The window of entry idx goes away (merged into another). */
static int s_kill_session(weir_winop_t *op, uint32_t idx)
{
    int rc = s_supersede(op, idx);
    if (rc)
        return rc;
    s_ent_t *e = s_ent(op, idx);
    if (e->flags & S_PERSISTED)
        s_delete_keys(op, e->kg, e->start_ms, e->end_ms, s_key(e), e->key_len);
    uint32_t n = e->node;
    s_remove_ent(op, idx);
    s_node_unref(op, n);
    return 0;
}

/* Entry idx now covers span (it grew by a merge). */
static int s_move_session(weir_winop_t *op, uint32_t idx, weir_span_t span)
{
    int rc = s_supersede(op, idx);
    if (rc)
        return rc;
    s_ent_t *e = s_ent(op, idx);
    if (e->flags & S_PERSISTED) {
        s_delete_keys(op, e->kg, e->start_ms, e->end_ms, s_key(e), e->key_len);
        e->flags &= (uint8_t)~S_PERSISTED;
    }
    uint32_t old = e->node, n;
    s_node_unlink(op, idx);
    s_node_unref(op, old);
    e->start_ms = span.start_ms;
    e->end_ms = span.end_ms;
    e->flags &= (uint8_t)~S_EARLY; /* a new window: nothing emitted under these bounds */
    if ((rc = s_node_get(op, span.end_ms, &n)))
        return rc;
    op->nodes[n].count++;
    s_node_link(op, n, idx);
    return 0;
}

static int s_session_row(weir_winop_t *op, const weir_batch_t *b, uint32_t row, uint64_t kh,
                         uint32_t kg, const uint8_t *key, uint32_t klen, uint8_t nulls,
                         int *accepted)
{
    int64_t ts = b->ts_ms[row];
    *accepted = 0;
    if (s_dropped(op, ts))
        return 0; /* could bridge into a session that was emitted and dropped */
    weir_span_t span = weir_window_session(&op->win, ts);
    int rc = s_collect_sessions(op, kh, kg, key, klen, &op->sib, 1);
    if (!rc && op->sib.n == 0 && op->sess_spilled) {
        rc = s_load_sessions(op, kh, kg, key, klen, nulls);
        if (!rc)
            rc = s_collect_sessions(op, kh, kg, key, klen, &op->sib, 1);
    }
    if (rc)
        return rc;
    /* keep only the touching sessions (at most two: sessions of a key never
     * touch each other and each is at least gap long) */
    uint32_t nt = 0;
    for (uint32_t i = 0; i < op->sib.n; i++) {
        s_ent_t *e = s_ent(op, op->sib.a[i]);
        weir_span_t w = {e->start_ms, e->end_ms};
        if (weir_span_touch(w, span)) {
            op->sib.a[nt++] = op->sib.a[i];
            span = weir_span_union(span, w);
        }
    }
    uint32_t idx;
    if (nt == 0) {
        uint32_t n;
        if ((rc = s_make_room(op, 1)) || (rc = s_node_get(op, span.end_ms, &n)))
            return rc;
        if ((rc = s_new_ent(op, kh, kg, key, klen, nulls, span.start_ms, span.end_ms, n, &idx))) {
            if (op->nodes[n].count == 0 && op->nodes[n].head == 0)
                s_node_free(op, n);
            return rc;
        }
        op->nodes[n].count++;
    } else {
        idx = op->sib.a[0];
        for (uint32_t i = 1; i < nt; i++) {
            s_ent_t *o = s_ent(op, op->sib.a[i]), *t = s_ent(op, idx);
            /* rows no early pane showed yet add up, as Flink merges a count
             * trigger's state */
            t->since_rows = t->since_rows + o->since_rows < t->since_rows
                                ? UINT32_MAX
                                : t->since_rows + o->since_rows;
            if ((rc = weir_agg_merge(&op->aggs, s_acc(op, t), s_acc(op, o))) ||
                (rc = s_kill_session(op, op->sib.a[i])))
                return rc;
        }
        s_ent_t *e = s_ent(op, idx);
        if ((e->start_ms != span.start_ms || e->end_ms != span.end_ms) &&
            (rc = s_move_session(op, idx, span)))
            return rc;
    }
    s_ent_t *e = s_ent(op, idx);
    e->lru = op->clock;
    if ((rc = weir_agg_add(&op->aggs, s_acc(op, e), b, row)))
        return rc;
    e->flags |= S_DIRTY;
    rc = s_fired(op, e->end_ms) ? s_mark_refire(op, idx) : s_pending_update(op, idx);
    if (rc)
        return rc;
    *accepted = 1;
    return 0;
}

/* ---- firing ----------------------------------------------------------------- */

/* Scans RocksDB for the windows ending in [lo, hi] of every key group of
 * the operator. emit: emit each on time (and delete the dropped ones, and
 * the changed-index keys of those that were changed); else delete each. */
static int s_scan(weir_winop_t *op, int64_t lo, int64_t hi, int emit)
{
    int rc = s_sync(op);
    if (rc)
        return rc;
    uint8_t upper[10], seek[WEIR_STATE_KEY_HDR]; /* seeks use the kg + end prefix (10 bytes) */
    weir_state_key_bound_after(upper, op->kg_last, hi);
    weir_state_iter_t *it = NULL;
    if ((rc = weir_state_iter_open(op->st, op->cf, upper, sizeof upper, &it)))
        return rc;
    weir_state_key_encode(seek, op->kg_first, lo, 0, NULL, 0);
    weir_state_iter_seek(it, seek, 10);
    while (!rc && weir_state_iter_valid(it)) {
        size_t len, klen, vlen;
        const uint8_t *k = weir_state_iter_key(it, &len), *key;
        uint32_t kg;
        int64_t end, start;
        if (weir_state_key_decode(k, len, &kg, &end, &start, &key, &klen)) {
            rc = WEIR_ESTATE;
            break;
        }
        if (end < lo) { /* first key of a new key group: jump to its range */
            weir_state_key_encode(seek, kg, lo, 0, NULL, 0);
            weir_state_iter_seek(it, seek, 10);
            continue;
        }
        if (end > hi) { /* past this key group's range: on to the next group */
            if (kg >= op->kg_last)
                break;
            weir_state_key_encode(seek, kg + 1, lo, 0, NULL, 0);
            weir_state_iter_seek(it, seek, 10);
            continue;
        }
        if (emit) {
            const uint8_t *v = weir_state_iter_value(it, &vlen);
            s_vhdr_t vh;
            if ((rc = s_val_decode(op, v, vlen, &vh, op->tmp_acc)))
                break;
            rc = s_emit(op, key, (uint32_t)klen, vh.nulls, start, end, op->tmp_acc, S_PANE_ON_TIME);
            weir_agg_free(&op->aggs, op->tmp_acc);
            if (vh.flags & S_VF_CHANGED) { /* pending and not in memory: it had an index key */
                size_t n = s_xkey(op, kg, end, start, key, (uint32_t)klen);
                weir_state_wb_delete(op->wb, op->cf, op->xkey, n);
            }
        }
        if (!rc && (!emit || s_dropped(op, end)))
            s_delete_keys(op, kg, start, end, key, (uint32_t)klen);
        weir_state_iter_next(it);
    }
    if (!rc)
        rc = weir_state_iter_status(it);
    weir_state_iter_destroy(&it);
    return rc;
}

/* Frees node n and every in-memory window of it. */
static void s_drop_node(weir_winop_t *op, uint32_t n)
{
    while (op->nodes[n].head)
        s_remove_ent(op, op->nodes[n].head - 1);
    s_node_free(op, n);
}

static int s_fire(weir_winop_t *op)
{
    int rc = 0;
    op->due.n = 0;
    while (op->pending.n && s_fired(op, s_heap_end(op, &op->pending, 0))) {
        uint32_t n = op->pending.a[0];
        s_heap_remove(op, n);
        if ((rc = s_vec_push(&op->due, n)))
            return rc;
    }
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (uint32_t i = 0; i < op->due.n && !rc; i++) {
        s_node_t *nd = &op->nodes[op->due.a[i]];
        if (nd->on_disk) {
            lo = nd->end_ms < lo ? nd->end_ms : lo;
            hi = nd->end_ms > hi ? nd->end_ms : hi;
            for (uint32_t e = nd->head; e && !rc; e = s_ent(op, e - 1)->next) {
                s_pane_reset(op, e - 1);
                if (s_ent(op, e - 1)->flags & S_DIRTY)
                    rc = s_write_ent(op, e - 1);
            }
        } else {
            for (uint32_t e = nd->head; e && !rc; e = s_ent(op, e - 1)->next) {
                rc = s_emit_ent(op, e - 1, S_PANE_ON_TIME);
                s_pane_reset(op, e - 1);
            }
        }
    }
    if (!rc && lo <= hi)
        rc = s_scan(op, lo, hi, 1);
    for (uint32_t i = 0; i < op->due.n && !rc; i++) {
        uint32_t n = op->due.a[i];
        if (s_dropped(op, op->nodes[n].end_ms))
            s_drop_node(op, n);
        else
            rc = s_heap_push(op, S_HEAP_RETAINED, n);
    }
    if (rc)
        return rc;
    /* retained windows whose lateness ran out */
    op->due.n = 0;
    lo = INT64_MAX, hi = INT64_MIN;
    while (op->retained.n && s_dropped(op, s_heap_end(op, &op->retained, 0))) {
        uint32_t n = op->retained.a[0];
        s_heap_remove(op, n);
        if ((rc = s_vec_push(&op->due, n)))
            return rc;
        if (op->nodes[n].on_disk) {
            int64_t end = op->nodes[n].end_ms;
            lo = end < lo ? end : lo;
            hi = end > hi ? end : hi;
        }
    }
    if (lo <= hi && (rc = s_scan(op, lo, hi, 0)))
        return rc;
    for (uint32_t i = 0; i < op->due.n; i++)
        s_drop_node(op, op->due.a[i]);
    op->due.n = 0;
    return s_sync(op);
}

/* ---- the table ------------------------------------------------------------- */

static void s_table_free(weir_winop_t *op)
{
    if (op->ents) {
        for (uint32_t i = 0; i < op->hw; i++) {
            s_ent_t *e = s_ent(op, i);
            if (e->flags & S_USED) {
                weir_agg_free(&op->aggs, s_acc(op, e));
                free(e->key_ext);
            }
        }
    }
    free(op->ents);
    free(op->free_ents);
    free(op->slots);
    free(op->scratch);
    free(op->refire);
    free(op->changed);
    op->ents = NULL;
    op->free_ents = op->refire = op->changed = NULL;
    op->slots = NULL;
    op->scratch = NULL;
    op->n_ents = op->hw = op->n_free = op->n_refire = op->n_changed = 0;
}

static int s_table_alloc(weir_winop_t *op, uint32_t cap)
{
    uint32_t slots = 1024;
    op->cap = cap;
    op->ents = calloc(cap, op->stride);
    op->free_ents = calloc(cap, sizeof *op->free_ents);
    op->slots = calloc(slots, sizeof *op->slots);
    op->scratch = calloc(cap, sizeof *op->scratch);
    op->refire = calloc(cap, sizeof *op->refire);
    op->changed = op->every_ms ? calloc(cap, sizeof *op->changed) : NULL;
    op->mask = slots - 1;
    if (!op->ents || !op->free_ents || !op->slots || !op->scratch || !op->refire ||
        (op->every_ms && !op->changed)) {
        s_table_free(op);
        return -ENOMEM;
    }
    return 0;
}

static uint32_t s_min_capacity(const weir_winop_t *op)
{
    uint64_t per_row = weir_window_max_per_row(&op->win);
    return (uint32_t)(per_row + 2 > S_MIN_CAPACITY ? per_row + 2 : S_MIN_CAPACITY);
}

/* ---- public ------------------------------------------------------------------ */

static int s_check_window(const weir_window_t *w)
{
    switch (w->type) {
    case WEIR_WINDOW_TUMBLING: return w->size_ms > 0 ? 0 : WEIR_EINVAL;
    case WEIR_WINDOW_SLIDING:
        if (w->size_ms <= 0 || w->slide_ms <= 0)
            return WEIR_EINVAL;
        return weir_window_max_per_row(w) <= S_MAX_WINDOWS_PER_ROW ? 0 : WEIR_ERANGE;
    case WEIR_WINDOW_SESSION: return w->gap_ms > 0 ? 0 : WEIR_EINVAL;
    default: return WEIR_EINVAL;
    }
}

int weir_winop_open(const weir_job_t *job, weir_state_t *st, const char *cf_name, uint32_t kg_first,
                    uint32_t kg_last, weir_csvsink_t *results, weir_csvsink_t *late,
                    weir_winop_t **out)
{
    int rc = s_check_window(&job->window);
    if (rc)
        return rc;
    if (job->max_key_groups < 1 || job->max_key_groups > WEIR_MAX_KEY_GROUPS ||
        kg_first > kg_last || kg_last >= (uint32_t)job->max_key_groups || job->n_keys < 0 ||
        job->n_keys > WEIR_MAX_KEYS || job->allowed_lateness_ms < 0 ||
        job->trigger.every_rows < 0 || job->trigger.every_rows > INT32_MAX ||
        job->trigger.every_ms < 0)
        return WEIR_EINVAL;
    weir_winop_t *op = calloc(1, sizeof *op);
    if (!op)
        return -ENOMEM;
    op->job = job;
    op->st = st;
    op->kg_first = kg_first;
    op->kg_last = kg_last;
    op->results = results;
    op->late = late;
    op->win = job->window;
    op->session = job->window.type == WEIR_WINDOW_SESSION;
    if (!op->session)
        weir_window_plan(&op->plan, &op->win);
    op->fixed_keys = 1;
    for (int k = 0; k < job->n_keys; k++)
        if (job->source.fields[job->key_cols[k]].type == WEIR_TYPE_STRING)
            op->fixed_keys = 0;
    op->lateness_ms = job->allowed_lateness_ms;
    op->wm_ms = WEIR_TS_MIN;
    op->pane_col = weir_job_has_pane(job);
    op->every_rows = (uint32_t)job->trigger.every_rows;
    op->every_ms = job->trigger.every_ms;
    op->tick_next_ms = WEIR_TS_MIN;
    if ((rc = weir_aggs_init(&op->aggs, job)))
        goto fail;
    uint32_t key_inline = 0;
    for (int k = 0; k < job->n_keys; k++)
        key_inline += job->source.fields[job->key_cols[k]].type == WEIR_TYPE_STRING
                          ? 5 + S_KEY_INLINE_STR
                          : 9; /* tag byte + value (cluster/keygroup.h) */
    op->key_inline = (key_inline + 7) & ~7u;
    op->acc_off = (uint32_t)sizeof(s_ent_t) + op->key_inline;
    op->stride = op->acc_off + op->aggs.size;
    rc = -ENOMEM;
    op->nmap_mask = 63;
    op->nmap = calloc(64, sizeof *op->nmap);
    op->wb = weir_state_wb_new();
    op->tmp_acc = calloc(1, op->aggs.size);
    if (!op->nmap || !op->wb || !op->tmp_acc)
        goto fail;
    uint64_t cap = S_TABLE_BUDGET_BYTES / op->stride;
    if (cap < s_min_capacity(op) * 4ull)
        cap = s_min_capacity(op) * 4ull;
    if (cap > S_MAX_CAPACITY)
        cap = S_MAX_CAPACITY;
    if ((rc = s_table_alloc(op, (uint32_t)cap)))
        goto fail;
    if ((rc = weir_state_cf_open(st, cf_name, true, &op->cf)))
        goto fail;
    *out = op;
    return 0;
fail:
    weir_winop_destroy(&op);
    return rc;
}

void weir_winop_set_retract_sink(weir_winop_t *op, weir_csvsink_t *retract)
{
    op->retract = retract;
}

int weir_winop_set_table_capacity(weir_winop_t *op, uint32_t entries)
{
    if (op->rows_in || op->n_ents || entries < s_min_capacity(op) || entries > S_MAX_CAPACITY)
        return WEIR_EINVAL;
    s_table_free(op);
    return s_table_alloc(op, entries);
}

int weir_winop_process(weir_winop_t *op, const weir_batch_t *b)
{
    const weir_job_t *job = op->job;
    uint32_t groups = (uint32_t)job->max_key_groups;
    int rc = 0, misrouted = 0;
    for (uint32_t row = 0; row < b->n_rows && !rc; row++) {
        op->clock++;
        uint8_t nulls = 0;
        for (int k = 0; k < job->n_keys; k++)
            nulls |= (uint8_t)(b->cols[job->key_cols[k]].null[row] << k);
        size_t full = op->fixed_keys ? s_key_encode_fixed(job, b, row, op->kbuf)
                                     : weir_key_encode(job, b, row, op->kbuf, sizeof op->kbuf);
        uint32_t klen = (uint32_t)(full < sizeof op->kbuf ? full : sizeof op->kbuf);
        uint64_t kh = XXH64(op->kbuf, klen, 0);
        uint32_t kg =
            full <= sizeof op->kbuf ? (uint32_t)(kh % groups) : weir_keygroup_of_row(job, b, row);
        if (kg < op->kg_first || kg > op->kg_last) {
            misrouted = 1;
            continue;
        }
        int accepted;
        rc = op->session ? s_session_row(op, b, row, kh, kg, op->kbuf, klen, nulls, &accepted)
                         : s_window_row(op, b, row, kh, kg, op->kbuf, klen, nulls, &accepted);
        if (rc)
            break;
        op->rows_in++;
        if (!accepted) {
            op->late_rows++;
            if (op->late)
                rc = weir_csvsink_batch_row(op->late, b, row);
        }
    }
    int rc2 = s_emit_refires(op);
    if (!rc)
        rc = rc2;
    if (!rc && weir_state_wb_count(op->wb))
        rc = s_sync(op);
    return rc ? rc : misrouted ? WEIR_EINVAL : 0;
}

int weir_winop_advance(weir_winop_t *op, int64_t wm_ms)
{
    if (wm_ms <= op->wm_ms)
        return 0;
    op->wm_ms = wm_ms;
    return s_fire(op);
}

/* Emits every changed window that was evicted, found by the changed
 * index, and takes it out of the index. */
static int s_emit_changed_spilled(weir_winop_t *op)
{
    int rc = s_sync(op);
    if (rc)
        return rc;
    const uint8_t first = S_CHANGED_TAG, upper = S_CHANGED_TAG + 1;
    weir_state_iter_t *it = NULL;
    if ((rc = weir_state_iter_open(op->st, op->cf, &upper, 1, &it)))
        return rc;
    for (weir_state_iter_seek(it, &first, 1); !rc && weir_state_iter_valid(it);
         weir_state_iter_next(it)) {
        size_t len, klen;
        const uint8_t *x = weir_state_iter_key(it, &len), *key;
        uint32_t kg;
        int64_t end, start;
        if (len < 1 || weir_state_key_decode(x + 1, len - 1, &kg, &end, &start, &key, &klen)) {
            rc = WEIR_ESTATE;
            break;
        }
        weir_state_wb_delete(op->wb, op->cf, x, len);
        if (s_fired(op, end))
            continue; /* cannot happen: firing takes windows out of the index */
        weir_state_val_t val = {0};
        s_vhdr_t vh;
        rc = weir_state_get(op->st, op->cf, x + 1, len - 1, &val);
        if (rc == WEIR_ENOTFOUND)
            rc = WEIR_ESTATE; /* the index names a window that is not there */
        if (!rc)
            rc = s_val_decode(op, val.data, val.len, &vh, op->tmp_acc);
        if (!rc) {
            rc = s_emit(op, key, (uint32_t)klen, vh.nulls, start, end, op->tmp_acc, S_PANE_EARLY);
            weir_agg_free(&op->aggs, op->tmp_acc);
        }
        if (!rc && !(rc = s_vbuf_reserve(op, val.len))) {
            /* the same value, emitted now: unchanged, no rows since */
            memcpy(op->vbuf, val.data, val.len);
            op->vbuf[2] = (uint8_t)((vh.flags & ~S_VF_CHANGED) | S_VF_EARLY);
            s_put_be32(op->vbuf + 3, 0);
            weir_state_wb_put(op->wb, op->cf, x + 1, len - 1, op->vbuf, val.len);
            op->early_rows++;
        }
        weir_state_val_release(&val);
    }
    if (!rc)
        rc = weir_state_iter_status(it);
    weir_state_iter_destroy(&it);
    if (!rc)
        op->changed_spilled = 0;
    return rc;
}

/* Emits every pending window that changed since it was last emitted. */
static int s_emit_changed(weir_winop_t *op)
{
    int rc = 0;
    uint32_t i = 0;
    for (; i < op->n_changed && !rc; i++) {
        uint32_t idx = op->changed[i];
        s_ent_t *e = s_ent(op, idx);
        e->flags &= (uint8_t)~S_LISTED;
        if ((e->flags & (S_USED | S_CHANGED)) != (S_USED | S_CHANGED))
            continue; /* emitted since, evicted, or the slot was reused */
        if (s_fired(op, e->end_ms))
            e->flags &= (uint8_t)~S_CHANGED; /* cannot happen: firing clears it */
        else
            rc = s_emit_early(op, idx);
    }
    /* on failure the slots not visited stay listed */
    memmove(op->changed, op->changed + i, (op->n_changed - i) * sizeof *op->changed);
    op->n_changed -= i;
    if (!rc && op->changed_spilled)
        rc = s_emit_changed_spilled(op);
    return rc ? rc : s_sync(op);
}

int weir_winop_tick(weir_winop_t *op, int64_t now_ms)
{
    if (!op->every_ms)
        return 0;
    if (op->tick_next_ms == WEIR_TS_MIN) {
        op->tick_next_ms = weir_sat_add(now_ms, op->every_ms);
        return 0;
    }
    if (now_ms < op->tick_next_ms)
        return 0;
    /* the next point of the grid tick_next_ms + k * every_ms after now */
    int64_t behind = weir_sat_sub(now_ms, op->tick_next_ms);
    op->tick_next_ms = weir_sat_add(now_ms, op->every_ms - behind % op->every_ms);
    return s_emit_changed(op);
}

int64_t weir_winop_tick_due(const weir_winop_t *op)
{
    if (!op->every_ms || (op->n_changed == 0 && !op->changed_spilled))
        return INT64_MAX;
    return op->tick_next_ms;
}

int weir_winop_flush(weir_winop_t *op)
{
    int rc = 0;
    for (uint32_t i = 0; i < op->hw && !rc; i++)
        if ((s_ent(op, i)->flags & (S_USED | S_DIRTY)) == (S_USED | S_DIRTY))
            rc = s_write_ent(op, i);
    return rc ? rc : s_sync(op);
}

int weir_winop_result_header(const weir_job_t *job, const char **names, int cap)
{
    int n = 0;
    for (int k = 0; k < job->n_keys; k++, n++)
        if (n < cap)
            names[n] = job->source.fields[job->key_cols[k]].name;
    if (n < cap)
        names[n] = "window_start";
    n++;
    if (n < cap)
        names[n] = "window_end";
    n++;
    for (int i = 0; i < job->n_aggs; i++, n++)
        if (n < cap)
            names[n] = job->aggs[i].as;
    if (weir_job_has_pane(job)) {
        if (n < cap)
            names[n] = "pane";
        n++;
    }
    return n;
}

int weir_winop_stored_keys(weir_winop_t *op, uint64_t *out)
{
    int rc = s_sync(op);
    weir_state_iter_t *it = NULL;
    if (rc || (rc = weir_state_iter_open(op->st, op->cf, NULL, 0, &it)))
        return rc;
    uint64_t n = 0;
    for (weir_state_iter_seek(it, "", 0); weir_state_iter_valid(it); weir_state_iter_next(it))
        n++;
    rc = weir_state_iter_status(it);
    weir_state_iter_destroy(&it);
    if (!rc)
        *out = n;
    return rc;
}

int64_t weir_winop_watermark(const weir_winop_t *op)
{
    return op->wm_ms;
}
uint64_t weir_winop_rows_in(const weir_winop_t *op)
{
    return op->rows_in;
}
uint64_t weir_winop_rows_out(const weir_winop_t *op)
{
    return op->rows_out;
}
uint64_t weir_winop_late(const weir_winop_t *op)
{
    return op->late_rows;
}
uint64_t weir_winop_superseded(const weir_winop_t *op)
{
    return op->superseded;
}
uint64_t weir_winop_early(const weir_winop_t *op)
{
    return op->early_rows;
}
uint32_t weir_winop_table_entries(const weir_winop_t *op)
{
    return op->n_ents;
}

void weir_winop_destroy(weir_winop_t **pop)
{
    if (!pop || !*pop)
        return;
    weir_winop_t *op = *pop;
    s_table_free(op);
    if (op->cf)
        weir_state_cf_drop(op->st, &op->cf);
    weir_state_wb_destroy(&op->wb);
    free(op->nodes);
    free(op->nmap);
    free(op->pending.a);
    free(op->retained.a);
    free(op->due.a);
    free(op->sib.a);
    free(op->evs.a);
    free(op->vbuf);
    free(op->tmp_acc);
    free(op->spans);
    free(op);
    *pop = NULL;
}

weir_state_cf_t *weir_winop_cf(const weir_winop_t *op)
{
    return op->cf;
}

int weir_winop_restored(weir_winop_t *op, int64_t wm_ms)
{
    if (wm_ms > op->wm_ms)
        op->wm_ms = wm_ms;
    /* Window keys start with the key group's high byte, below 0x80; the
     * session and changed indexes (0xFF, 0xFE) are not copied by a restore
     * of key groups, so the session index is made again here. */
    const uint8_t first = 0x00, upper = 0x80;
    weir_state_iter_t *it = NULL;
    int rc = weir_state_iter_open(op->st, op->cf, &upper, 1, &it);
    if (rc)
        return rc;
    for (weir_state_iter_seek(it, &first, 1); !rc && weir_state_iter_valid(it);
         weir_state_iter_next(it)) {
        size_t len, klen;
        const uint8_t *k = weir_state_iter_key(it, &len), *key;
        uint32_t kg, n;
        int64_t end, start;
        if (weir_state_key_decode(k, len, &kg, &end, &start, &key, &klen) != 0)
            continue;
        if ((rc = s_node_get(op, end, &n)) != 0)
            break;
        op->nodes[n].count++;
        op->nodes[n].on_disk = 1;
        if (op->session) {
            uint8_t e8[8];
            weir_state_put_ts(e8, end);
            size_t il = s_ikey(op, kg, key, (uint32_t)klen, start);
            weir_state_wb_put(op->wb, op->cf, op->ikey, il, e8, 8);
            op->sess_spilled = 1;
        }
    }
    if (!rc)
        rc = weir_state_iter_status(it);
    weir_state_iter_destroy(&it);
    if (!rc && weir_state_wb_count(op->wb) > 0)
        rc = weir_state_wb_commit(op->st, op->wb);
    return rc;
}
