/* ckstore: checkpoint storage in a directory (DESIGN §8).
 *
 * Problem: checkpoints must survive any crash of any process, state files
 * shared by consecutive checkpoints must be stored once (RocksDB
 * checkpoints are incremental: most SST files carry over), and storage
 * must stay bounded while checkpoints keep coming.
 *
 * Layout under the root (by default the coordinator's data directory; or a
 * shared directory given as file:///path, e.g. on NFS):
 *
 *   blobs/<64 hex digits>               a state file, named by the BLAKE2b-256
 *                                       of its content (cluster/ckmeta.h)
 *   blobs/.<hex>.<pid>.<n>.tmp          an upload in progress
 *   checkpoints/<job>/<id>.meta         a packed CheckpointMeta (cluster/wire):
 *                                       one durable checkpoint or savepoint
 *   checkpoints/<job>/.<id>.meta.tmp    a metadata write in progress
 *
 * Invariants: a name without a leading dot is complete. A blob is written
 * under a temporary name, fsynced, checked against its size and hash,
 * renamed, and its directory fsynced; metadata goes through
 * weir_fs_write_atomic (temporary, fsync, rename, fsync of the directory)
 * and is written only when every blob it names is stored. So a crash at
 * any point leaves either the old state or the new one plus temporary
 * files, which listing ignores and weir_ckstore_gc removes.
 *
 * Retention: weir_ckstore_prune keeps the newest `retain` checkpoints of a
 * job plus every savepoint (until weir_ckstore_delete); weir_ckstore_gc
 * then removes every blob that no remaining metadata names. Storage is
 * therefore bounded by what `retain` checkpoints and the savepoints
 * reference, plus what uploads in progress hold.
 *
 * GC and concurrent uploads: a blob uploaded for a checkpoint whose
 * metadata is not written yet is referenced by nothing. So weir_ckstore_gc
 * spares blobs and temporary files younger than a grace period (by
 * mtime), weir_ckstore_has_blob and weir_ckstore_blob_begin refresh the
 * mtime of a blob they find (so a blob reused by a running checkpoint is
 * young again), and uploads open in this object are never touched. The
 * caller passes a grace longer than its checkpoint timeout, or 0 when no
 * checkpoint is running and nobody else writes into the store.
 *
 * Errors: 0, -errno from the file system (-ENOSPC, -EIO, ...), or a WEIR_E*
 * code; never an abort. weir_ckstore_errmsg() then says what failed and
 * names the path. Metadata that cannot be read makes listing, loading and
 * GC fail (WEIR_EPROTO): GC cannot know which blobs an unreadable
 * checkpoint needs, and falling back to an older checkpoint could repeat
 * output that sinks already published.
 *
 * Thread rules: one thread owns a store object (the coordinator's). Other
 * processes may add blobs to a shared store at the same time (temporary
 * names are unique and renames atomic), but only one process writes
 * metadata and runs GC.
 *
 * Rejected: one directory per checkpoint holding copies of its files (no
 * sharing between checkpoints: every checkpoint would cost the whole
 * state); reference counts on blobs (a counter per blob must itself be
 * kept crash-safe; a mark-and-sweep over the few kept metadata files is
 * simpler and repairs itself); names from RocksDB's file numbers (unique
 * only within one database, and nodes have one database each).
 */
#ifndef WEIR_CKSTORE_H
#define WEIR_CKSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ckmeta.h"

typedef struct weir_ckstore weir_ckstore_t;
typedef struct weir_ckstore_blob weir_ckstore_blob_t;

/* Opens the store at `where`: a directory path or a file:///absolute/path
 * URL; creates it and its blobs/ and checkpoints/ directories if needed.
 * 0, WEIR_EINVAL (another URL scheme, or a path too long) or -errno; err
 * then names the path. */
int weir_ckstore_open(const char *where, weir_ckstore_t **out, char *err, size_t err_cap);

/* Aborts the uploads still open (their temporary files are removed) and
 * frees the store. Sets *st = NULL; accepts NULL. */
void weir_ckstore_destroy(weir_ckstore_t **st);

/* The root directory (borrowed: lives as long as st). */
const char *weir_ckstore_root(const weir_ckstore_t *st);

/* What the last failing call failed on, naming the path (borrowed: valid
 * until the next call on st). "" when nothing failed yet. */
const char *weir_ckstore_errmsg(const weir_ckstore_t *st);

/* ---- blobs ------------------------------------------------------------ */

/* Whether the blob is stored; refreshes its mtime when it is. */
bool weir_ckstore_has_blob(weir_ckstore_t *st, const weir_ck_hash_t *hash);

/* Starts storing a blob of size_bytes whose content hashes to hash. The
 * content then comes in order with weir_ckstore_blob_write. 0, -EEXIST
 * (already stored: nothing to upload; its mtime is refreshed) or -errno.
 * The handle is owned by the caller until commit or abort, and must not
 * outlive st. */
int weir_ckstore_blob_begin(weir_ckstore_t *st, const weir_ck_hash_t *hash, uint64_t size_bytes,
                            weir_ckstore_blob_t **out);

/* Appends len bytes at offset off, which must be the number of bytes
 * written so far (chunks come in order; a sender that lost its place
 * starts the blob again). 0, WEIR_EINVAL (another offset), WEIR_ERANGE
 * (past the declared size) or -errno (e.g. -ENOSPC). After an -errno the
 * upload can only be aborted. */
int weir_ckstore_blob_write(weir_ckstore_t *st, weir_ckstore_blob_t *b, uint64_t off,
                            const void *data, size_t len);

/* Checks size and hash, makes the blob durable under its name. Always
 * takes the handle (*b = NULL). 0, WEIR_EINVAL (fewer bytes than declared,
 * or the content does not match its hash: nothing is stored) or -errno. */
int weir_ckstore_blob_commit(weir_ckstore_t *st, weir_ckstore_blob_t **b);

/* Drops an upload and its temporary file. Sets *b = NULL; accepts NULL. */
void weir_ckstore_blob_abort(weir_ckstore_t *st, weir_ckstore_blob_t **b);

/* Stores the file at path as a blob unless it is stored already (the
 * shared-directory case, where a node writes into the store itself).
 * Gives its hash and size; *uploaded tells whether bytes were written. 0
 * or -errno. */
int weir_ckstore_put_file(weir_ckstore_t *st, const char *path, weir_ck_hash_t *hash,
                          uint64_t *size_bytes, bool *uploaded);

/* Reads up to cap bytes of a blob from offset off into buf; *got = bytes
 * read (0 at the end). For serving blobs to a node that restores. 0,
 * WEIR_ENOTFOUND or -errno. */
int weir_ckstore_blob_read(weir_ckstore_t *st, const weir_ck_hash_t *hash, uint64_t off, void *buf,
                           size_t cap, size_t *got);

/* Puts the files of a task snapshot into dir (created if needed) under
 * their names, as hard links to the blobs, or copies where links are not
 * possible: a RocksDB checkpoint that weir_state_restore_range can open.
 * Nothing may write into those files. 0, WEIR_ENOTFOUND (a blob is
 * missing), WEIR_EINVAL (a blob has another size than the snapshot says,
 * or a bad file name), -EEXIST (dir already holds a file of that name) or
 * -errno. */
int weir_ckstore_materialize(weir_ckstore_t *st, const weir_ck_task_snap_t *snap, const char *dir);

/* ---- checkpoint metadata ---------------------------------------------- */

/* Writes checkpoints/<m->job>/<m->id>.meta atomically and durably. 0,
 * WEIR_EINVAL (a job id that is not a safe name, or id 0), WEIR_ENOTFOUND
 * (a file names a blob that is not stored), -EEXIST (that id is stored
 * already: ids are never reused) or -errno. */
int weir_ckstore_put_meta(weir_ckstore_t *st, const weir_ck_meta_t *m);

/* One stored checkpoint of a job. */
typedef struct {
    uint64_t id;
    bool savepoint;
    int64_t complete_ms;
    uint64_t state_bytes; /* sum over its tasks */
} weir_ckstore_entry_t;

/* The stored checkpoints of job, by increasing id, in *out (free() it;
 * NULL when *n == 0). A job without checkpoints has none (0). 0,
 * WEIR_EINVAL (bad job id), WEIR_EPROTO (unreadable metadata) or
 * -errno. */
int weir_ckstore_list(weir_ckstore_t *st, const char *job, weir_ckstore_entry_t **out, size_t *n);

/* Loads checkpoint id of job into *out (weir_ck_meta_clear frees it). 0,
 * WEIR_ENOTFOUND, WEIR_EPROTO (unreadable, or it names another job or
 * id) or -errno. */
int weir_ckstore_load(weir_ckstore_t *st, const char *job, uint64_t id, weir_ck_meta_t *out);

/* Loads the newest stored checkpoint or savepoint of job: the one to
 * restore from. 0, WEIR_ENOTFOUND (none) or as weir_ckstore_load. */
int weir_ckstore_load_latest(weir_ckstore_t *st, const char *job, weir_ck_meta_t *out);

/* Deletes the metadata of checkpoint id of job (its blobs go at the next
 * GC). 0, WEIR_ENOTFOUND or -errno. */
int weir_ckstore_delete(weir_ckstore_t *st, const char *job, uint64_t id);

/* Deletes all but the newest `retain` (>= 1) checkpoints of job;
 * savepoints are kept and do not count. *n_deleted (may be NULL) says how
 * many went. 0, WEIR_EINVAL (retain 0 or bad job id) or as listing. */
int weir_ckstore_prune(weir_ckstore_t *st, const char *job, uint32_t retain, uint32_t *n_deleted);

typedef struct {
    uint64_t blobs_kept, bytes_kept;
    uint64_t blobs_deleted, bytes_deleted;
    uint64_t temps_deleted; /* stale temporary files (crashed writes) */
    uint64_t blobs_missing; /* named by kept metadata but absent: damage to report */
    uint64_t blobs_young;   /* unreferenced but spared by the grace period */
} weir_ckstore_gc_stats_t;

/* Removes every blob that no stored metadata names and every stale
 * temporary file, sparing those modified less than grace_ms ago and the
 * uploads open in st. stats may be NULL. 0, WEIR_EPROTO (unreadable
 * metadata: nothing is deleted) or -errno. */
int weir_ckstore_gc(weir_ckstore_t *st, int64_t grace_ms, weir_ckstore_gc_stats_t *stats);

#endif
