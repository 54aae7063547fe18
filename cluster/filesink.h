/* filesink: the file protocol of the exactly-once file sink (DESIGN §8):
 * one part file per checkpoint, pre-committed on the barrier and
 * published when the checkpoint completes, by two-phase commit on names.
 *
 * Problem. A sink task that writes rows to a file and then fails is
 * restored from the last completed checkpoint, and the rows after it are
 * replayed. Rows it had already made visible would then be seen twice, and
 * rows it had not yet made durable would be lost. So a reader must see
 * exactly the rows that a completed checkpoint covers, and a restore must
 * be able to tell, from the directory alone, which files those are.
 *
 * Names (in the sink's directory; k = sink task 0..parallelism-1, n =
 * checkpoint id written as 20 digits, so that both plain and natural name
 * order follow n for every uint64_t):
 *
 *   .<tag>.part-<k>.csv.inprogress      rows since the last pre-commit
 *   .part-<k>-<n:020>.csv.pending       rows up to barrier n, durable
 *   part-<k>-<n:020>.csv                published: what readers read
 *
 * e.g. part-3-00000000000000000012.csv. tag names the job attempt that
 * writes (e.g. "trips-4-2"), so that attempts never share an in-progress
 * file. Pending and final names are deterministic per (k, n): they carry
 * no attempt, so a restored attempt finds what an earlier one left, and a
 * checkpoint needs to store nothing about the files. Readers ignore hidden
 * names (a leading '.'); they see a part file whole or not at all.
 *
 * Steps and their guarantees:
 *
 *   rows --> in-progress --precommit(n)--> pending n --commit(m >= n)--> final
 *               |                             |
 *               +--- restore from c: deleted  +--- restore from c: published
 *                                                  when n <= c, else deleted
 *
 * - weir_filesink_precommit(n), on barrier n: flush, fsync, rename the
 *   in-progress file to the pending name of n (never replacing a file),
 *   fsync the directory, start a new in-progress file. After it returns,
 *   the rows up to barrier n survive a crash, and the task may acknowledge
 *   checkpoint n. An in-progress file holding no row (only the header)
 *   creates nothing: no pending file, no empty part; its rows-to-come
 *   simply go to a later checkpoint's part. Checkpoint ids of one sink
 *   strictly increase.
 * - weir_filesink_commit(m), when checkpoint m completes: every pending
 *   file this sink pre-committed with n <= m is renamed to its final name
 *   in id order, then the directory is fsynced. Pending files of aborted
 *   checkpoints are published by the next completed one, whose state
 *   covers their rows as well.
 * - weir_filesink_recover(c), before a restored attempt opens its sink:
 *   pending files n <= c are published (their checkpoint completed; only
 *   the notice was lost), pending files n > c are deleted (their rows will
 *   be replayed), in-progress files of earlier attempts are deleted.
 *
 * Publishing is idempotent: a pending name that is gone while its final
 * name exists was published already. Renames use RENAME_NOREPLACE, so a
 * final file is never replaced; where the file system lacks it, link +
 * unlink, after which a crash may leave both names: if their contents are
 * equal the pending one is removed, otherwise both are kept and the call
 * fails naming both paths.
 *
 * Crash cases (each has a unit test; crash.h injects them in processes):
 *   while writing, or in precommit before the rename: a stale in-progress
 *     file; recover deletes it (restore is from a checkpoint < n).
 *   at sink.precommitted (pending n and a fresh in-progress file): n
 *     completed or not, recover publishes or deletes the pending file and
 *     deletes the in-progress one.
 *   at sink.publishing (some pending files of a commit published, some
 *     not): recover from c >= m publishes the rest; nothing twice.
 *   between link and unlink (fallback): final and pending of one content;
 *     the pending one is removed.
 *   at sink.published, or in recover itself: recover again; same result.
 * Final files are never removed or replaced. A restore from a checkpoint
 * older than a published one (a savepoint) finds those names taken when it
 * publishes again: identical content passes, other content fails (-EEXIST);
 * write such a run into a fresh directory.
 *
 * Assumptions: the directory holds the output of one job at a time (the
 * coordinator refuses two running jobs on one directory), and one sink
 * (or one recovery) per task k acts on it at a time.
 *
 * Threads: one thread owns a sink. weir_filesink_recover and
 * weir_filesink_publish_dir may run on any thread, never at the same time
 * as a sink or another recovery of the same (dir, k).
 *
 * Costs: precommit = fsync of the part + a rename + an fsync of the
 * directory, once per checkpoint per task; commit = one rename per pending
 * file + a directory fsync, with no directory listing (the sink remembers
 * its pending ids). Recovery lists the directory once. A part file per
 * checkpoint per task: frequent checkpoints make many small files.
 *
 * Rejected:
 * - One growing file per task, truncated on restore to the length recorded
 *   in the checkpoint (Flink's recoverable writers): readers would see rows
 *   that a restore then takes back, and the checkpoint would have to carry
 *   file state.
 * - The attempt (tag) in pending and final names: a restored attempt could
 *   not compute them, and a replay would publish the same rows under a
 *   second name.
 * - A manifest of published parts: every reader would have to learn it;
 *   the directory listing is the manifest.
 * - rename() without NOREPLACE: a bug or a second job would silently
 *   replace output that readers may already have read.
 *
 * Errors: every fallible function returns 0, -errno (OS failure) or
 * -EINVAL (a bad argument), and writes one line into err (err_cap bytes;
 * err may be NULL) naming the path and what failed; the caller adds the
 * job and task when it logs.
 */
#ifndef WEIR_FILESINK_H
#define WEIR_FILESINK_H

#include <stddef.h>
#include <stdint.h>

#include "csvsink.h"

typedef struct weir_filesink weir_filesink_t;

/* Room for any pending or final name, NUL included. */
#define WEIR_FILESINK_NAME_MAX 64

/* Writes the final name of part (k, id) into buf (WEIR_FILESINK_NAME_MAX
 * bytes): part-<k>-<id:020>.csv. Any thread. */
void weir_filesink_final_name(uint32_t k, uint64_t id, char *buf);

/* Writes the pending name of part (k, id) into buf: .part-<k>-<id:020>.csv.pending. */
void weir_filesink_pending_name(uint32_t k, uint64_t id, char *buf);

/* Opens sink task k in dir (made with its parents if missing): a new
 * in-progress file .<tag>.part-<k>.csv.inprogress holding the header.
 * tag: not empty, no '/' (else -EINVAL). header: n_cols names, copied.
 * Returns 0 and *out, or -errno. A restored attempt runs
 * weir_filesink_recover first. */
int weir_filesink_open(const char *dir, uint32_t k, const char *tag, const char *const *header,
                       int n_cols, weir_filesink_t **out, char *err, size_t err_cap);

/* The writer of the current part: rows are written through it (csvsink.h).
 * Borrowed: one pointer for the sink's whole life (pre-commits switch its
 * file underneath), NULL after weir_filesink_finish. */
weir_csvsink_t *weir_filesink_writer(weir_filesink_t *fs);

/* On barrier ck, between rows: makes the current part the pending file of
 * ck and starts a new part (see the steps above); a part without rows
 * creates nothing. Returns 0; -EINVAL when ck is not above every id this
 * sink pre-committed (nothing changes); -errno of a write, fsync, rename
 * or open. A failure other than -EINVAL is sticky: the sink takes no more
 * rows, every later precommit or finish returns it, and the task must fail
 * (recovery cleans up; commit still works for files already pending). */
int weir_filesink_precommit(weir_filesink_t *fs, uint64_t ck, char *err, size_t err_cap);

/* Checkpoint ck completed: publishes, in id order, every pending file this
 * sink pre-committed with id <= ck. Idempotent: a second call, or a call
 * for an older checkpoint, does nothing. On an error the files not yet
 * published stay pending and a later commit tries them again. */
int weir_filesink_commit(weir_filesink_t *fs, uint64_t ck, char *err, size_t err_cap);

/* End of input: publishes every file this sink still has pending, then
 * the current part directly (without a pending stage) as
 * part-<k>-<final_id>.csv. No checkpoint covers what finish publishes:
 * call it when the job will not be restored any more (its input has
 * ended and its end is final), or a restore replays those rows. final_id must be above
 * every id this sink pre-committed (-EINVAL otherwise, nothing changes):
 * the last completed checkpoint + 1 when none is outstanding. A part
 * without rows is published only when task k has no other part in dir, so
 * that every task leaves at least its header; otherwise it is removed.
 * Afterwards the writer is gone; destroy the sink. Errors as in precommit. */
int weir_filesink_finish(weir_filesink_t *fs, uint64_t final_id, char *err, size_t err_cap);

/* Rows written through this sink since open (all parts, header excluded). */
uint64_t weir_filesink_rows(const weir_filesink_t *fs);

/* Pre-committed files not yet published by this sink. */
size_t weir_filesink_n_pending(const weir_filesink_t *fs);

/* Frees the sink and sets *fs = NULL; accepts NULL. An unfinished
 * in-progress file is removed (its rows belong to no checkpoint: a
 * canceled task drops them, a restored one replays them); pending files
 * are kept, for a later commit or recovery to decide. */
void weir_filesink_destroy(weir_filesink_t **fs);

/* The tag of a job attempt's in-progress parts: "<job>-a<attempt, 4
 * digits>" (the late output adds "-late"). Fixed width, so that the tag of
 * one attempt never begins another's: settling matches tags by prefix. */
void weir_filesink_tag(const char *job, uint32_t attempt, char *buf, size_t cap);

/* Settles dir for attempt `attempt` of job `job`, which starts from
 * checkpoint restored_ck of job old_job, whose n_tasks sink tasks wrote
 * there: for each of them weir_filesink_recover, deleting the in-progress
 * parts of every attempt of old_job when it is another job, else of this
 * job's attempts before `attempt` (never this attempt's own, which another
 * node may have opened already). Same returns as weir_filesink_recover. */
int weir_filesink_settle(const char *dir, uint32_t n_tasks, uint64_t restored_ck,
                         const char *old_job, const char *job, uint32_t attempt, char *err,
                         size_t err_cap);

/* Recovery of task k in dir after a restore from checkpoint restored_ck (0:
 * from none, the job starts over), without an open sink: publishes pending
 * files with id <= restored_ck in id order, deletes those above it, and
 * deletes the in-progress files of task k whose tag starts with
 * stale_tag_prefix ("" any tag; NULL none; end the prefix with a separator,
 * "trips-4-" and not "trips-4", or it also matches job trips-40). Run it
 * before the new attempt opens its sink: it would delete that sink's file
 * too if its tag matched. A missing dir is nothing to recover (0). Stops
 * at the first error; running it again is safe. */
int weir_filesink_recover(const char *dir, uint32_t k, uint64_t restored_ck,
                          const char *stale_tag_prefix, char *err, size_t err_cap);

/* Publishes, in id order, the pending files of task k in dir with id <=
 * upto_ck, found by listing dir (for a node that publishes for a task it
 * no longer runs). Idempotent; a missing dir is 0. */
int weir_filesink_publish_dir(const char *dir, uint32_t k, uint64_t upto_ck, char *err,
                              size_t err_cap);

#endif
