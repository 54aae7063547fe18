/* state: a node's RocksDB instance (DESIGN §7).
 *
 * One RocksDB database per node under its data directory, one column family
 * per stateful operator instance (named by the caller, e.g.
 * "<job>/<attempt>/<task>"). Keys start with the key group (2 bytes,
 * big-endian), then window end and start (8 bytes each, big-endian with the
 * sign bit flipped so bytes sort like numbers), then the key bytes
 * (cluster/keygroup). Values are serialized accumulators. The WAL is off:
 * durability comes from checkpoints. Block cache and memtables are bounded.
 * The handle may be shared by the task threads of a node (RocksDB is
 * thread-safe); each column family is used by one task thread.
 *
 * Memory: one LRU block cache of 8 MiB shared by every column family, 4 MiB
 * memtables with at most 2 per column family, and at most 16 MiB of
 * memtables over the whole database (RocksDB's write buffer manager), so a
 * node's RocksDB stays in the tens of MiB whatever the state size. Bloom
 * filters (10 bits/key) make a Get of an absent key cheap.
 *
 * Keys compare as bytes (RocksDB's default comparator), so the key layout
 * below makes a range scan of one key group walk its windows by end time:
 * firing is a seek plus a scan. weir_state_key_encode() writes it.
 *
 * The API is a thin layer over the RocksDB C API (rocksdb/c.h): column
 * families, write batches (the only way to write: rows are batched by the
 * caller), point gets with pinned values (no copy), and iterators with an
 * upper bound. Every call that can fail returns 0 or WEIR_ESTATE (the
 * RocksDB message is dropped; RocksDB logs it in the database's LOG file).
 *
 * Checkpoints (DESIGN §8): weir_state_checkpoint flushes memtables and
 * makes a RocksDB checkpoint, a directory of hard links to the live SST
 * files plus copies of the small MANIFEST, CURRENT and OPTIONS files, and
 * lists its files with the column family of each SST file. SST files never
 * change under their name, so a file that had the same name and size in
 * the previous checkpoint need not be hashed or uploaded again: that is
 * what makes checkpoints incremental. weir_state_restore_range opens such a
 * directory read-only and copies the keys of a key-group range of one of
 * its column families into a live family, so state can move between tasks
 * and nodes (DESIGN §3). The checkpoint may hold only the files of that
 * family plus the shared ones: it is opened without RocksDB's paranoid
 * checks, which would refuse the SST files of other families missing, and
 * only the one family is read.
 *
 * Rejected: one RocksDB instance per operator (many small instances each
 * with its own caches, threads and files); the merge operator for
 * read-modify-write (it would move the aggregation into RocksDB's compaction
 * threads and put a RocksDB call on every row again); restoring by
 * ingesting the checkpoint's SST files (RocksDB ingests only files made by
 * its SstFileWriter, and a task restores part of a file's key groups, so
 * the keys would have to be rewritten anyway); RocksDB's backup engine (it
 * copies into its own layout, which the content-addressed checkpoint store,
 * cluster/ckstore, replaces).
 */
#ifndef WEIR_STATE_H
#define WEIR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct weir_state weir_state_t;
typedef struct weir_state_cf weir_state_cf_t;
typedef struct weir_state_wb weir_state_wb_t;
typedef struct weir_state_iter weir_state_iter_t;

/* Opens (creating) the database in dir. 0, or WEIR_ESTATE with err set. */
int weir_state_open(const char *dir, weir_state_t **out, char *err, size_t err_cap);

/* Closes the database (data stays on disk) and frees every column family
 * handle; handles given out become invalid. Sets *st = NULL; accepts NULL.
 * Call after every thread using the database has stopped. */
void weir_state_destroy(weir_state_t **st);

/* ---- state keys ------------------------------------------------------- */

/* Bytes of a state key before the key bytes: key group, window end, start. */
#define WEIR_STATE_KEY_HDR 18

/* Writes an 8-byte big-endian timestamp with the sign bit flipped, so that
 * bytes compare like the numbers (INT64_MIN is 00..00, -1 is 7F FF..FF, 0
 * is 80 00..00). */
static inline void weir_state_put_ts(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v ^ 0x8000000000000000ULL;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (56 - 8 * i));
}

/* Reads what weir_state_put_ts wrote. */
static inline int64_t weir_state_get_ts(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)(u ^ 0x8000000000000000ULL);
}

/* Writes the state key (kg: 2 bytes big-endian, end, start, then the key
 * bytes) into buf (>= WEIR_STATE_KEY_HDR + key_len bytes) and returns its
 * length. kg < 65536. Any thread. */
size_t weir_state_key_encode(uint8_t *buf, uint32_t kg, int64_t end_ms, int64_t start_ms,
                             const void *key, size_t key_len);

/* Writes the 10-byte prefix of the first key past every window of key
 * group kg ending at or before end_ms: the exclusive upper bound of a scan
 * of kg up to end_ms inclusive (kg|end+1, or (kg+1)|INT64_MIN when end_ms
 * is INT64_MAX). kg < 65535. Returns 10. */
size_t weir_state_key_bound_after(uint8_t *buf, uint32_t kg, int64_t end_ms);

/* Splits a state key. *key points into k (borrowed for k's lifetime).
 * Returns 0, or WEIR_EINVAL when k is shorter than WEIR_STATE_KEY_HDR. */
int weir_state_key_decode(const uint8_t *k, size_t len, uint32_t *kg, int64_t *end_ms,
                          int64_t *start_ms, const uint8_t **key, size_t *key_len);

/* ---- column families -------------------------------------------------- */

/* Gives the handle of column family `name`, creating it if needed. With
 * fresh set, an existing family of that name is dropped first, so it
 * starts empty. The handle is owned by st and lives until
 * weir_state_cf_drop() or weir_state_destroy(). Returns 0, WEIR_EINVAL
 * (the name is open already, or empty) or WEIR_ESTATE. Any thread. */
int weir_state_cf_open(weir_state_t *st, const char *name, bool fresh, weir_state_cf_t **out);

/* Drops the column family and its data and frees the handle. Sets
 * *cf = NULL; accepts NULL. Returns 0 or WEIR_ESTATE (the handle is freed
 * anyway). Any thread; no other use of the family may be in progress. */
int weir_state_cf_drop(weir_state_t *st, weir_state_cf_t **cf);

/* Gives the handle back without dropping the data (a later
 * weir_state_cf_open of the name finds it). Sets *cf = NULL. */
void weir_state_cf_close(weir_state_t *st, weir_state_cf_t **cf);

/* ---- writes ----------------------------------------------------------- */

/* Makes an empty write batch; NULL only when memory runs out. A batch
 * collects puts and deletes, for any column families, and applies them
 * atomically in weir_state_wb_commit(). One thread owns a batch. */
weir_state_wb_t *weir_state_wb_new(void);
void weir_state_wb_destroy(weir_state_wb_t **wb);

/* The batch copies key and value; the caller's buffers are free at return. */
void weir_state_wb_put(weir_state_wb_t *wb, weir_state_cf_t *cf, const void *key, size_t klen,
                       const void *val, size_t vlen);
void weir_state_wb_delete(weir_state_wb_t *wb, weir_state_cf_t *cf, const void *key, size_t klen);

/* Deletes every key in [from, to). Each call leaves a range tombstone, so
 * prefer it for wide ranges, not for a handful of keys. */
void weir_state_wb_delete_range(weir_state_wb_t *wb, weir_state_cf_t *cf, const void *from,
                                size_t flen, const void *to, size_t tlen);

/* Operations in the batch. */
uint32_t weir_state_wb_count(weir_state_wb_t *wb);

/* Applies the batch (WAL off) and empties it. Returns 0, or WEIR_ESTATE
 * (nothing applied; the batch keeps its operations). */
int weir_state_wb_commit(weir_state_t *st, weir_state_wb_t *wb);

/* ---- reads ------------------------------------------------------------ */

/* A value read by weir_state_get: data/len are valid until
 * weir_state_val_release(). */
typedef struct {
    const uint8_t *data;
    size_t len;
    void *pin; /* private */
} weir_state_val_t;

/* Reads key. Returns 0 (found; release *out), WEIR_ENOTFOUND, or
 * WEIR_ESTATE. */
int weir_state_get(weir_state_t *st, weir_state_cf_t *cf, const void *key, size_t klen,
                   weir_state_val_t *out);
void weir_state_val_release(weir_state_val_t *v);

/* Opens an iterator over cf that sees the data as of now and stops before
 * `upper` (exclusive; NULL = no bound; copied). It starts unpositioned:
 * seek first. Returns 0, -ENOMEM or WEIR_ESTATE. One thread uses it. */
int weir_state_iter_open(weir_state_t *st, weir_state_cf_t *cf, const void *upper, size_t ulen,
                         weir_state_iter_t **out);

/* Positions at the first key >= key. */
void weir_state_iter_seek(weir_state_iter_t *it, const void *key, size_t klen);
bool weir_state_iter_valid(const weir_state_iter_t *it);
void weir_state_iter_next(weir_state_iter_t *it);

/* Key and value at the position (valid only while the iterator stays
 * there). */
const uint8_t *weir_state_iter_key(const weir_state_iter_t *it, size_t *len);
const uint8_t *weir_state_iter_value(const weir_state_iter_t *it, size_t *len);

/* 0, or WEIR_ESTATE when the iteration stopped on an error instead of at
 * the end. Check it when weir_state_iter_valid() turns false. */
int weir_state_iter_status(const weir_state_iter_t *it);
void weir_state_iter_destroy(weir_state_iter_t **it);

/* ---- checkpoints ------------------------------------------------------ */

#define WEIR_STATE_CF_MAX 192 /* bytes of a column family name, NUL included */

/* One file of a RocksDB checkpoint directory. */
typedef struct {
    char name[64]; /* file name in the checkpoint directory */
    uint64_t size_bytes;
    char cf[WEIR_STATE_CF_MAX]; /* SST files: their column family; "" for the files
                                   every family needs (MANIFEST, CURRENT, OPTIONS, WAL) */
    bool immutable;             /* an SST file: its content never changes under its name
                                   in this database, so (name, size) may key a hash cache */
} weir_state_ckfile_t;

/* Makes a RocksDB checkpoint of st in dir, which must not exist (its
 * parent must). With only == NULL every column family is flushed and every
 * file listed; with a family, only that one is flushed (the checkpoint may
 * miss recent writes of the others) and only its SST files plus the shared
 * files are listed: what a task uploads and what weir_state_restore_range
 * needs. *files (release with weir_state_ckfiles_free) gets *n_files
 * entries, SST files first in name order. 0, or WEIR_ESTATE / -errno with
 * err set (naming dir); on failure dir may hold a partial checkpoint.
 * Thread: the one that owns `only` (any, when NULL); other threads may
 * keep writing to other families. Holds the family registry while it
 * flushes, so weir_state_cf_open waits meanwhile. */
int weir_state_checkpoint(weir_state_t *st, const char *dir, weir_state_cf_t *only,
                          weir_state_ckfile_t **files, size_t *n_files, char *err, size_t err_cap);

/* Frees what weir_state_checkpoint listed; sets *files = NULL. */
void weir_state_ckfiles_free(weir_state_ckfile_t **files);

/* Copies every key of key groups [kg_first, kg_last] (kg_first <= kg_last
 * <= 65535) of column family cf_name in the checkpoint at ckpt_dir into
 * target, in write batches of about 1 MiB (memory stays bounded whatever
 * the state size). Keys already in target are overwritten, others kept:
 * open target fresh for an exact copy. *n_keys (may be NULL) gets the
 * number copied. 0, WEIR_EINVAL (bad range), WEIR_ENOTFOUND (no such
 * family in the checkpoint) or WEIR_ESTATE, with err set (naming
 * ckpt_dir). On failure target may hold part of the range. Thread: the one
 * that owns target. */
int weir_state_restore_range(weir_state_t *st, const char *ckpt_dir, const char *cf_name,
                             weir_state_cf_t *target, uint32_t kg_first, uint32_t kg_last,
                             uint64_t *n_keys, char *err, size_t err_cap);

#endif
