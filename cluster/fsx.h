/* fsx: small file-system helpers shared by the daemons, the sinks and the
 * checkpoint store. Return 0 or -errno; no state; any thread.
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

/* Writes all len bytes to fd (retrying short writes and EINTR). */
int weir_fs_write_full(int fd, const void *data, size_t len);

/* fsyncs a directory, so that names created, renamed or removed in it
 * survive a crash. */
int weir_fs_fsync_dir(const char *dir);

/* Renames from to `to` unless `to` exists (-EEXIST then). */
int weir_fs_rename_noreplace(const char *from, const char *to);

/* Removes path and everything under it (a missing path is fine). For the
 * directories weir makes itself (checkpoint and restore scratch). */
int weir_fs_rmtree(const char *path);

#endif
