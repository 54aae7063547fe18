/* fsx: small file-system helpers shared by the daemons and the sinks.
 * Return 0 or -errno; no state; any thread.
 *
 * Publishing a file never replaces another: weir_fs_rename_noreplace uses
 * renameat2(RENAME_NOREPLACE), and on a file system that does not offer it
 * (renameat2 fails with EINVAL, e.g. NFS) link() + unlink(), which refuses
 * an existing name as well. Rejected: rename() after a stat() of the
 * target, which races with another writer and silently replaces. */
#ifndef WEIR_FSX_H
#define WEIR_FSX_H

#include <stddef.h>

/* Creates dir and its missing parents (mode 0755); an existing directory
 * is fine. */
int weir_fs_mkdirs(const char *dir);

/* Writes dir/name atomically: a temporary file in dir, fsync, rename over
 * the name, fsync of the directory. A reader sees the old content or the
 * new one, never a part. */
int weir_fs_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Renames from to to, both paths on one file system, failing with -EEXIST
 * when to exists (it is never replaced). With the link() fallback a crash
 * between link and unlink leaves both names on one file; callers that
 * recover from crashes must accept that state (same content under both
 * names). The directory is not fsynced: see weir_fs_fsync_dir. */
int weir_fs_rename_noreplace(const char *from, const char *to);

/* fsyncs the directory dir, so that renames, creations and removals in it
 * survive a power loss. */
int weir_fs_fsync_dir(const char *dir);

#endif
