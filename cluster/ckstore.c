/* ckstore: content-addressed blobs and checkpoint metadata in a directory.
 * See ckstore.h for the layout and the crash and GC rules.
 *
 * A blob is hashed while it arrives (chunks come in order), so committing
 * it never reads it back. GC is mark and sweep: every metadata file is read
 * first (any failure stops GC before it deletes anything), the names it
 * references are sorted, then blobs/ is swept with a binary search per
 * entry. Protobuf stays in cluster/wire; this file sees only weir_ck_meta_t.
 */
#include "ckstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fsx.h"
#include "wire.h"

#define S_ROOT_MAX (PATH_MAX - 256) /* leaves room for the names below the root */
#define S_CHUNK (1u << 16)

struct weir_ckstore_blob {
    weir_ckstore_blob_t *next; /* the store's list of open uploads */
    weir_ck_hash_t hash;
    uint64_t size_bytes; /* declared */
    uint64_t written;    /* bytes so far, <= size_bytes */
    int fd;
    bool broken; /* a write failed: only abort remains */
    weir_ck_hasher_t *hasher;
    char tmp_name[128]; /* in blobs/ */
    char tmp[PATH_MAX];
};

struct weir_ckstore {
    char root[PATH_MAX];
    char blobs[PATH_MAX];
    char ckpts[PATH_MAX];
    char err[PATH_MAX + 256];
    weir_ckstore_blob_t *uploads;
    uint64_t tmp_seq; /* makes temporary names unique within the process */
};

/* Records "what: reason" as the store's last error and returns rc. */
__attribute__((format(printf, 3, 4))) static int s_fail(weir_ckstore_t *st, int rc, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof st->err)
        snprintf(st->err + n, sizeof st->err - (size_t)n, ": %s", weir_strerror(rc));
    return rc;
}

static void s_blob_path(const weir_ckstore_t *st, const weir_ck_hash_t *h, char *buf)
{
    char hex[WEIR_CK_HASH_HEX];
    weir_ck_hash_hex(h, hex);
    snprintf(buf, PATH_MAX, "%s/%s", st->blobs, hex);
}

static void s_job_dir(const weir_ckstore_t *st, const char *job, char *buf)
{
    snprintf(buf, PATH_MAX, "%s/%s", st->ckpts, job);
}

static void s_meta_name(uint64_t id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%llu.meta", (unsigned long long)id);
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t s_mtime_ms(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000 + sb->st_mtim.tv_nsec / 1000000;
}

int weir_ckstore_open(const char *where, weir_ckstore_t **out, char *err, size_t err_cap)
{
    const char *path = where;
    if (strncmp(where, "file://", 7) == 0) {
        path = where + 7;
        if (path[0] != '/') {
            snprintf(err, err_cap, "checkpoint storage %s: want file:///absolute/path", where);
            return WEIR_EINVAL;
        }
    } else if (strstr(where, "://")) {
        snprintf(err, err_cap, "checkpoint storage %s: only file:// URLs or paths are supported",
                 where);
        return WEIR_EINVAL;
    }
    if (!path[0] || strlen(path) >= S_ROOT_MAX) {
        snprintf(err, err_cap, "checkpoint storage '%s': empty or too long", where);
        return WEIR_EINVAL;
    }
    weir_ckstore_t *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, err_cap, "checkpoint storage %s: out of memory", path);
        return -ENOMEM;
    }
    snprintf(st->root, sizeof st->root, "%s", path);
    snprintf(st->blobs, sizeof st->blobs, "%s/blobs", path);
    snprintf(st->ckpts, sizeof st->ckpts, "%s/checkpoints", path);
    const char *dirs[] = {st->blobs, st->ckpts};
    for (int i = 0; i < 2; i++) {
        int rc = weir_fs_mkdirs(dirs[i]);
        if (rc) {
            snprintf(err, err_cap, "checkpoint storage: cannot create %s: %s", dirs[i],
                     weir_strerror(rc));
            free(st);
            return rc;
        }
    }
    *out = st;
    return 0;
}

static void s_upload_free(weir_ckstore_blob_t *b)
{
    if (b->fd >= 0)
        close(b->fd);
    unlink(b->tmp);
    weir_ck_hasher_destroy(&b->hasher);
    free(b);
}

static void s_upload_unlink(weir_ckstore_t *st, weir_ckstore_blob_t *b)
{
    for (weir_ckstore_blob_t **p = &st->uploads; *p; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            return;
        }
    }
}

void weir_ckstore_destroy(weir_ckstore_t **pst)
{
    if (!pst || !*pst)
        return;
    weir_ckstore_t *st = *pst;
    while (st->uploads) {
        weir_ckstore_blob_t *b = st->uploads;
        st->uploads = b->next;
        s_upload_free(b);
    }
    free(st);
    *pst = NULL;
}

const char *weir_ckstore_root(const weir_ckstore_t *st)
{
    return st->root;
}

const char *weir_ckstore_errmsg(const weir_ckstore_t *st)
{
    return st->err;
}

/* ---- blobs ------------------------------------------------------------ */

/* 0 when the blob is stored (its mtime refreshed), else -errno. */
static int s_blob_touch(const weir_ckstore_t *st, const weir_ck_hash_t *h, char *path)
{
    s_blob_path(st, h, path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -errno;
    if (!S_ISREG(sb.st_mode))
        return -EINVAL;
    /* A store on a read-only mount still answers; the grace is moot there. */
    (void)utimensat(AT_FDCWD, path, NULL, 0);
    return 0;
}

bool weir_ckstore_has_blob(weir_ckstore_t *st, const weir_ck_hash_t *hash)
{
    char path[PATH_MAX];
    return s_blob_touch(st, hash, path) == 0;
}

int weir_ckstore_blob_begin(weir_ckstore_t *st, const weir_ck_hash_t *hash, uint64_t size_bytes,
                            weir_ckstore_blob_t **out)
{
    char path[PATH_MAX], hex[WEIR_CK_HASH_HEX];
    if (s_blob_touch(st, hash, path) == 0)
        return -EEXIST;
    weir_ckstore_blob_t *b = calloc(1, sizeof *b);
    if (!b)
        return s_fail(st, -ENOMEM, "blob upload");
    b->fd = -1;
    b->hash = *hash;
    b->size_bytes = size_bytes;
    weir_ck_hash_hex(hash, hex);
    snprintf(b->tmp_name, sizeof b->tmp_name, ".%s.%ld.%llu.tmp", hex, (long)getpid(),
             (unsigned long long)++st->tmp_seq);
    snprintf(b->tmp, sizeof b->tmp, "%s/%s", st->blobs, b->tmp_name);
    b->hasher = weir_ck_hasher_new();
    if (!b->hasher) {
        free(b);
        return s_fail(st, -ENOMEM, "blob upload");
    }
    b->fd = open(b->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (b->fd < 0) {
        int rc = -errno;
        weir_ck_hasher_destroy(&b->hasher);
        free(b);
        return s_fail(st, rc, "creating %s", b->tmp);
    }
    b->next = st->uploads;
    st->uploads = b;
    *out = b;
    return 0;
}

int weir_ckstore_blob_write(weir_ckstore_t *st, weir_ckstore_blob_t *b, uint64_t off,
                            const void *data, size_t len)
{
    if (b->broken)
        return s_fail(st, WEIR_EINVAL, "blob upload %s failed before", b->tmp);
    if (off != b->written)
        return s_fail(st, WEIR_EINVAL, "blob upload %s: chunk at offset %llu, expected %llu",
                      b->tmp, (unsigned long long)off, (unsigned long long)b->written);
    if (len > b->size_bytes - b->written)
        return s_fail(st, WEIR_ERANGE, "blob upload %s: %llu bytes past the declared %llu", b->tmp,
                      (unsigned long long)(b->written + len - b->size_bytes),
                      (unsigned long long)b->size_bytes);
    int rc = weir_fs_write_full(b->fd, data, len);
    if (rc) {
        b->broken = true;
        return s_fail(st, rc, "writing %s", b->tmp);
    }
    weir_ck_hasher_update(b->hasher, data, len);
    b->written += len;
    return 0;
}

int weir_ckstore_blob_commit(weir_ckstore_t *st, weir_ckstore_blob_t **pb)
{
    weir_ckstore_blob_t *b = *pb;
    *pb = NULL;
    s_upload_unlink(st, b);
    char path[PATH_MAX], got[WEIR_CK_HASH_HEX];
    s_blob_path(st, &b->hash, path);
    int rc = 0;
    if (b->broken) {
        rc = s_fail(st, WEIR_EINVAL, "blob upload %s failed before", b->tmp);
        goto done;
    }
    if (b->written != b->size_bytes) {
        rc = s_fail(st, WEIR_EINVAL, "blob %s: %llu of %llu bytes arrived", path,
                    (unsigned long long)b->written, (unsigned long long)b->size_bytes);
        goto done;
    }
    weir_ck_hash_t h;
    weir_ck_hasher_final(b->hasher, &h);
    if (!weir_ck_hash_eq(&h, &b->hash)) {
        weir_ck_hash_hex(&h, got);
        rc = s_fail(st, WEIR_EINVAL, "blob %s: the content hashes to %s", path, got);
        goto done;
    }
    if (fsync(b->fd) != 0) {
        rc = s_fail(st, -errno, "fsync %s", b->tmp);
        goto done;
    }
    int fd = b->fd;
    b->fd = -1;
    if (close(fd) != 0) {
        rc = s_fail(st, -errno, "closing %s", b->tmp);
        goto done;
    }
    if (rename(b->tmp, path) != 0) {
        rc = s_fail(st, -errno, "renaming %s to %s", b->tmp, path);
        goto done;
    }
    if ((rc = weir_fs_fsync_dir(st->blobs)))
        s_fail(st, rc, "fsync %s", st->blobs);
done:
    s_upload_free(b); /* the temporary is gone after a rename; else removed */
    return rc;
}

void weir_ckstore_blob_abort(weir_ckstore_t *st, weir_ckstore_blob_t **pb)
{
    if (!pb || !*pb)
        return;
    s_upload_unlink(st, *pb);
    s_upload_free(*pb);
    *pb = NULL;
}

int weir_ckstore_put_file(weir_ckstore_t *st, const char *path, weir_ck_hash_t *hash,
                          uint64_t *size_bytes, bool *uploaded)
{
    *uploaded = false;
    int rc = weir_ck_hash_file(path, hash, size_bytes);
    if (rc)
        return s_fail(st, rc, "reading %s", path);
    weir_ckstore_blob_t *b = NULL;
    rc = weir_ckstore_blob_begin(st, hash, *size_bytes, &b);
    if (rc == -EEXIST)
        return 0;
    if (rc || !b)
        return rc ? rc : -EIO;
    uint8_t *buf = malloc(S_CHUNK);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!buf || fd < 0) {
        rc = buf ? s_fail(st, -errno, "opening %s", path) : s_fail(st, -ENOMEM, "%s", path);
        goto fail;
    }
    uint64_t off = 0;
    for (;;) {
        ssize_t r = read(fd, buf, S_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = s_fail(st, -errno, "reading %s", path);
            goto fail;
        }
        if (r == 0)
            break;
        /* a file that grew since it was hashed fails here or at commit */
        if ((rc = weir_ckstore_blob_write(st, b, off, buf, (size_t)r)))
            goto fail;
        off += (uint64_t)r;
    }
    close(fd);
    free(buf);
    rc = weir_ckstore_blob_commit(st, &b);
    *uploaded = rc == 0;
    return rc;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    weir_ckstore_blob_abort(st, &b);
    return rc;
}

int weir_ckstore_blob_read(weir_ckstore_t *st, const weir_ck_hash_t *hash, uint64_t off, void *buf,
                           size_t cap, size_t *got)
{
    char path[PATH_MAX];
    s_blob_path(st, hash, path);
    *got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? s_fail(st, WEIR_ENOTFOUND, "blob %s", path)
                               : s_fail(st, -errno, "opening %s", path);
    int rc = 0;
    while (*got < cap) {
        ssize_t r = pread(fd, (char *)buf + *got, cap - *got, (off_t)(off + *got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = s_fail(st, -errno, "reading %s", path);
            break;
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    close(fd);
    return rc;
}

static int s_copy_file(weir_ckstore_t *st, const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return s_fail(st, -errno, "opening %s", src);
    int outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (outfd < 0) {
        int rc = -errno;
        close(in);
        return s_fail(st, rc, "creating %s", dst);
    }
    int rc = 0;
    char *buf = malloc(S_CHUNK);
    if (!buf)
        rc = s_fail(st, -ENOMEM, "copying %s", src);
    while (!rc) {
        ssize_t r = read(in, buf, S_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = s_fail(st, -errno, "reading %s", src);
        else if (r == 0)
            break;
        else if ((rc = weir_fs_write_full(outfd, buf, (size_t)r)))
            s_fail(st, rc, "writing %s", dst);
    }
    free(buf);
    close(in);
    if (close(outfd) != 0 && !rc)
        rc = s_fail(st, -errno, "closing %s", dst);
    if (rc)
        unlink(dst);
    return rc;
}

int weir_ckstore_materialize(weir_ckstore_t *st, const weir_ck_task_snap_t *snap, const char *dir)
{
    int rc = weir_fs_mkdirs(dir);
    if (rc)
        return s_fail(st, rc, "creating %s", dir);
    for (uint32_t i = 0; i < snap->n_files; i++) {
        const weir_ck_file_t *f = &snap->files[i];
        char src[PATH_MAX], dst[PATH_MAX];
        if (!weir_ck_file_name_ok(f->name))
            return s_fail(st, WEIR_EINVAL, "state file name '%s' of task %u", f->name,
                          (unsigned)snap->task);
        s_blob_path(st, &f->hash, src);
        if (snprintf(dst, sizeof dst, "%s/%s", dir, f->name) >= (int)sizeof dst)
            return s_fail(st, -ENAMETOOLONG, "%s/%s", dir, f->name);
        struct stat sb;
        if (stat(src, &sb) != 0)
            return errno == ENOENT ? s_fail(st, WEIR_ENOTFOUND, "blob %s (%s of task %u)", src,
                                            f->name, (unsigned)snap->task)
                                   : s_fail(st, -errno, "blob %s", src);
        if ((uint64_t)sb.st_size != f->size_bytes)
            return s_fail(st, WEIR_EINVAL, "blob %s has %lld bytes, %s should have %llu", src,
                          (long long)sb.st_size, f->name, (unsigned long long)f->size_bytes);
        if (link(src, dst) == 0)
            continue;
        if (errno == EEXIST)
            return s_fail(st, -EEXIST, "%s", dst);
        if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
            return s_fail(st, -errno, "linking %s to %s", dst, src);
        if ((rc = s_copy_file(st, src, dst)))
            return rc;
    }
    return 0;
}

/* ---- checkpoint metadata ---------------------------------------------- */

static int s_check_job(weir_ckstore_t *st, const char *job)
{
    if (!weir_ck_job_ok(job))
        return s_fail(st, WEIR_EINVAL, "job id '%s' is not a safe directory name", job);
    return 0;
}

int weir_ckstore_put_meta(weir_ckstore_t *st, const weir_ck_meta_t *m)
{
    int rc = s_check_job(st, m->job);
    if (rc)
        return rc;
    if (m->id == 0)
        return s_fail(st, WEIR_EINVAL, "checkpoint %s/0: ids start at 1", m->job);
    char path[PATH_MAX], dir[PATH_MAX], name[32];
    for (uint32_t t = 0; t < m->n_tasks; t++) {
        const weir_ck_task_snap_t *s = &m->tasks[t];
        for (uint32_t i = 0; i < s->n_files; i++) {
            if (s_blob_touch(st, &s->files[i].hash, path) != 0)
                return s_fail(st, WEIR_ENOTFOUND,
                              "checkpoint %s/%llu: %s of task %u names blob %s, which is not "
                              "stored",
                              m->job, (unsigned long long)m->id, s->files[i].name,
                              (unsigned)s->task, path);
        }
    }
    s_job_dir(st, m->job, dir);
    if ((rc = weir_fs_mkdirs(dir)))
        return s_fail(st, rc, "creating %s", dir);
    /* the job's directory entry must survive a crash too */
    if ((rc = weir_fs_fsync_dir(st->ckpts)))
        return s_fail(st, rc, "fsync %s", st->ckpts);
    s_meta_name(m->id, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, F_OK) == 0)
        return s_fail(st, -EEXIST, "%s", path);
    uint8_t *buf = NULL;
    size_t len = 0;
    if ((rc = weir_wire_ckmeta_pack(m, &buf, &len)))
        return s_fail(st, rc, "packing %s", path);
    rc = weir_fs_write_atomic(dir, name, buf, len);
    free(buf);
    if (rc)
        return s_fail(st, rc, "writing %s", path);
    return 0;
}

/* Parses "<decimal id>.meta" (no sign, no leading zero, id >= 1). */
static bool s_parse_meta_name(const char *name, uint64_t *id)
{
    if (name[0] < '1' || name[0] > '9')
        return false;
    uint64_t v = 0;
    const char *p = name;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (strcmp(p, ".meta") != 0)
        return false;
    *id = v;
    return true;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The ids of job's metadata files, ascending, in *ids (free() it). */
static int s_list_ids(weir_ckstore_t *st, const char *job, uint64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    char dir[PATH_MAX];
    s_job_dir(st, job, dir);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : s_fail(st, -errno, "listing %s", dir);
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t id;
        if (!s_parse_meta_name(e->d_name, &id))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(*ids, cap * sizeof *p);
            if (!p) {
                rc = s_fail(st, -ENOMEM, "listing %s", dir);
                break;
            }
            *ids = p;
        }
        (*ids)[(*n)++] = id;
    }
    closedir(d);
    if (rc) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*ids, *n, sizeof **ids, s_cmp_u64);
    return 0;
}

int weir_ckstore_load(weir_ckstore_t *st, const char *job, uint64_t id, weir_ck_meta_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = s_check_job(st, job);
    if (rc)
        return rc;
    char dir[PATH_MAX], name[32], path[PATH_MAX];
    s_job_dir(st, job, dir);
    s_meta_name(id, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? s_fail(st, WEIR_ENOTFOUND, "checkpoint %s", path)
                               : s_fail(st, -errno, "opening %s", path);
    struct stat sb;
    uint8_t *buf = NULL;
    if (fstat(fd, &sb) != 0) {
        rc = s_fail(st, -errno, "%s", path);
        goto done;
    }
    if (sb.st_size > (off_t)WEIR_WIRE_MAX_MSG) {
        rc = s_fail(st, WEIR_EPROTO, "checkpoint %s: %lld bytes", path, (long long)sb.st_size);
        goto done;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    buf = malloc(len ? len : 1);
    if (!buf) {
        rc = s_fail(st, -ENOMEM, "%s", path);
        goto done;
    }
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? s_fail(st, -errno, "reading %s", path)
                       : s_fail(st, WEIR_EPROTO, "%s shrank while read", path);
            goto done;
        }
        got += (size_t)r;
    }
    rc = weir_wire_ckmeta_unpack(buf, len, out);
    if (rc) {
        s_fail(st, rc, "checkpoint %s cannot be read", path);
        goto done;
    }
    if (out->id != id || strcmp(out->job, job) != 0) {
        rc = s_fail(st, WEIR_EPROTO, "checkpoint %s holds %s/%llu", path, out->job,
                    (unsigned long long)out->id);
        weir_ck_meta_clear(out);
    }
done:
    free(buf);
    close(fd);
    return rc;
}

int weir_ckstore_list(weir_ckstore_t *st, const char *job, weir_ckstore_entry_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int rc = s_check_job(st, job);
    if (rc)
        return rc;
    uint64_t *ids = NULL;
    size_t n_ids = 0;
    if ((rc = s_list_ids(st, job, &ids, &n_ids)) || n_ids == 0)
        return rc;
    weir_ckstore_entry_t *e = calloc(n_ids, sizeof *e);
    if (!e) {
        free(ids);
        return s_fail(st, -ENOMEM, "listing checkpoints of %s", job);
    }
    for (size_t i = 0; i < n_ids; i++) {
        weir_ck_meta_t m;
        if ((rc = weir_ckstore_load(st, job, ids[i], &m))) {
            free(e);
            free(ids);
            return rc;
        }
        e[i].id = m.id;
        e[i].savepoint = m.savepoint;
        e[i].complete_ms = m.complete_ms;
        for (uint32_t t = 0; t < m.n_tasks; t++)
            e[i].state_bytes += m.tasks[t].state_bytes;
        weir_ck_meta_clear(&m);
    }
    free(ids);
    *out = e;
    *n = n_ids;
    return 0;
}

int weir_ckstore_load_latest(weir_ckstore_t *st, const char *job, weir_ck_meta_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = s_check_job(st, job);
    if (rc)
        return rc;
    uint64_t *ids = NULL;
    size_t n = 0;
    if ((rc = s_list_ids(st, job, &ids, &n)))
        return rc;
    if (n == 0)
        return s_fail(st, WEIR_ENOTFOUND, "no checkpoint of %s in %s", job, st->ckpts);
    uint64_t latest = ids[n - 1];
    free(ids);
    return weir_ckstore_load(st, job, latest, out);
}

int weir_ckstore_delete(weir_ckstore_t *st, const char *job, uint64_t id)
{
    int rc = s_check_job(st, job);
    if (rc)
        return rc;
    char dir[PATH_MAX], name[32], path[PATH_MAX];
    s_job_dir(st, job, dir);
    s_meta_name(id, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) != 0)
        return errno == ENOENT ? s_fail(st, WEIR_ENOTFOUND, "checkpoint %s", path)
                               : s_fail(st, -errno, "deleting %s", path);
    if ((rc = weir_fs_fsync_dir(dir)))
        return s_fail(st, rc, "fsync %s", dir);
    return 0;
}

int weir_ckstore_prune(weir_ckstore_t *st, const char *job, uint32_t retain, uint32_t *n_deleted)
{
    if (n_deleted)
        *n_deleted = 0;
    if (retain == 0)
        return s_fail(st, WEIR_EINVAL, "retain 0 for %s would delete its restore point", job);
    weir_ckstore_entry_t *e = NULL;
    size_t n = 0;
    int rc = weir_ckstore_list(st, job, &e, &n);
    if (rc)
        return rc;
    uint32_t kept = 0;
    for (size_t i = n; i-- > 0;) {
        if (e[i].savepoint || kept < retain) {
            kept += !e[i].savepoint;
            continue;
        }
        if ((rc = weir_ckstore_delete(st, job, e[i].id)))
            break;
        if (n_deleted)
            (*n_deleted)++;
    }
    free(e);
    return rc;
}

/* ---- GC --------------------------------------------------------------- */

typedef struct {
    weir_ck_hash_t *h;
    uint8_t *seen; /* per hash: found in blobs/ */
    size_t n, cap;
} s_refs_t;

static int s_cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, WEIR_CK_HASH_BYTES);
}

static int s_refs_add_meta(s_refs_t *r, const weir_ck_meta_t *m)
{
    for (uint32_t t = 0; t < m->n_tasks; t++) {
        for (uint32_t i = 0; i < m->tasks[t].n_files; i++) {
            if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 256;
                weir_ck_hash_t *p = realloc(r->h, cap * sizeof *p);
                if (!p)
                    return -ENOMEM;
                r->h = p;
                r->cap = cap;
            }
            r->h[r->n++] = m->tasks[t].files[i].hash;
        }
    }
    return 0;
}

static bool s_is_tmp(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' && n > 5 && strcmp(name + n - 4, ".tmp") == 0;
}

/* Whether the entry at dir/name (stat in *sb) is older than the grace. */
static bool s_stale(int dfd, const char *name, int64_t now_ms, int64_t grace_ms, struct stat *sb)
{
    if (fstatat(dfd, name, sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb->st_mode))
        return false;
    return now_ms - s_mtime_ms(sb) >= grace_ms;
}

/* Reads every job's metadata into refs. Deletes nothing. */
static int s_gc_mark(weir_ckstore_t *st, s_refs_t *refs)
{
    DIR *d = opendir(st->ckpts);
    if (!d)
        return s_fail(st, -errno, "listing %s", st->ckpts);
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!weir_ck_job_ok(e->d_name))
            continue;
        uint64_t *ids = NULL;
        size_t n = 0;
        if ((rc = s_list_ids(st, e->d_name, &ids, &n)))
            break;
        for (size_t i = 0; !rc && i < n; i++) {
            weir_ck_meta_t m;
            if ((rc = weir_ckstore_load(st, e->d_name, ids[i], &m)))
                break;
            if ((rc = s_refs_add_meta(refs, &m)))
                s_fail(st, rc, "collecting the blobs of %s", e->d_name);
            weir_ck_meta_clear(&m);
        }
        free(ids);
    }
    closedir(d);
    return rc;
}

/* Removes stale temporary metadata files of every job. */
static void s_gc_meta_temps(weir_ckstore_t *st, int64_t now_ms, int64_t grace_ms,
                            weir_ckstore_gc_stats_t *gs)
{
    DIR *d = opendir(st->ckpts);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!weir_ck_job_ok(e->d_name))
            continue;
        char dir[PATH_MAX];
        s_job_dir(st, e->d_name, dir);
        DIR *jd = opendir(dir);
        if (!jd)
            continue;
        struct dirent *f;
        struct stat sb;
        while ((f = readdir(jd))) {
            if (s_is_tmp(f->d_name) && s_stale(dirfd(jd), f->d_name, now_ms, grace_ms, &sb) &&
                unlinkat(dirfd(jd), f->d_name, 0) == 0)
                gs->temps_deleted++;
        }
        closedir(jd);
    }
    closedir(d);
}

static bool s_upload_open(const weir_ckstore_t *st, const char *name)
{
    for (const weir_ckstore_blob_t *b = st->uploads; b; b = b->next)
        if (strcmp(b->tmp_name, name) == 0)
            return true;
    return false;
}

int weir_ckstore_gc(weir_ckstore_t *st, int64_t grace_ms, weir_ckstore_gc_stats_t *stats)
{
    weir_ckstore_gc_stats_t gs;
    memset(&gs, 0, sizeof gs);
    s_refs_t refs = {0};
    int rc = s_gc_mark(st, &refs);
    if (rc)
        goto done;
    if (refs.n) {
        qsort(refs.h, refs.n, sizeof *refs.h, s_cmp_hash);
        size_t u = 1;
        for (size_t i = 1; i < refs.n; i++)
            if (!weir_ck_hash_eq(&refs.h[i], &refs.h[u - 1]))
                refs.h[u++] = refs.h[i];
        refs.n = u;
        refs.seen = calloc(refs.n, 1);
        if (!refs.seen) {
            rc = s_fail(st, -ENOMEM, "collecting garbage in %s", st->root);
            goto done;
        }
    }
    int64_t now_ms = s_now_ms();
    s_gc_meta_temps(st, now_ms, grace_ms, &gs);
    DIR *d = opendir(st->blobs);
    if (!d) {
        rc = s_fail(st, -errno, "listing %s", st->blobs);
        goto done;
    }
    struct dirent *e;
    struct stat sb;
    while ((e = readdir(d))) {
        weir_ck_hash_t h;
        if (s_is_tmp(e->d_name)) {
            if (!s_upload_open(st, e->d_name) &&
                s_stale(dirfd(d), e->d_name, now_ms, grace_ms, &sb) &&
                unlinkat(dirfd(d), e->d_name, 0) == 0)
                gs.temps_deleted++;
            continue;
        }
        if (weir_ck_hash_parse(e->d_name, &h) != 0)
            continue; /* not ours */
        weir_ck_hash_t *hit =
            refs.n ? bsearch(&h, refs.h, refs.n, sizeof *refs.h, s_cmp_hash) : NULL;
        if (hit) {
            refs.seen[hit - refs.h] = 1;
            gs.blobs_kept++;
            if (fstatat(dirfd(d), e->d_name, &sb, 0) == 0)
                gs.bytes_kept += (uint64_t)sb.st_size;
        } else if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
                   !S_ISREG(sb.st_mode)) {
            continue; /* gone meanwhile, or not a file we wrote */
        } else if (now_ms - s_mtime_ms(&sb) < grace_ms) {
            gs.blobs_young++;
            gs.blobs_kept++;
            gs.bytes_kept += (uint64_t)sb.st_size;
        } else if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
            gs.blobs_deleted++;
            gs.bytes_deleted += (uint64_t)sb.st_size;
        } else {
            rc = s_fail(st, -errno, "deleting %s/%s", st->blobs, e->d_name);
            break;
        }
    }
    closedir(d);
    for (size_t i = 0; i < refs.n; i++)
        gs.blobs_missing += !refs.seen[i];
    if (!rc && (gs.blobs_deleted || gs.temps_deleted) && (rc = weir_fs_fsync_dir(st->blobs)))
        s_fail(st, rc, "fsync %s", st->blobs);
done:
    free(refs.h);
    free(refs.seen);
    if (stats)
        *stats = gs;
    return rc;
}
