/* filesink: part files per checkpoint, published by two-phase commit on
 * names. See filesink.h for the protocol, the names and the crash cases.
 *
 * The sink remembers the ids it pre-committed, so a commit renames known
 * names and never lists the directory (which grows by a file per task and
 * checkpoint). Only recovery, publish_dir and the end of input list it.
 */
#include "filesink.h"
#include "crash.h"
#include "fsx.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_ID_DIGITS 20 /* every uint64_t fits, so names sort like ids */

struct weir_filesink {
    char *dir;            /* the output directory */
    uint32_t k;           /* sink task index */
    weir_csvsink_t *w;    /* the current part; NULL after finish */
    uint64_t *pending;    /* ids pre-committed and not yet published, ascending */
    size_t n_pending;     /* entries used in pending */
    size_t cap_pending;   /* entries allocated in pending */
    int any_ck;           /* 1 once an id was pre-committed (last_ck is valid) */
    uint64_t last_ck;     /* highest id pre-committed; ids strictly increase */
    uint64_t rows_before; /* rows of the parts already pre-committed or finished */
    int err;              /* first precommit/finish failure (-errno), sticky; 0 healthy */
};

/* Fills err with the formatted text and ": <strerror rc>"; returns rc. */
static int s_fail(char *err, size_t err_cap, int rc, const char *fmt, ...)
{
    if (!err || !err_cap)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, err_cap, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < err_cap)
        snprintf(err + n, err_cap - (size_t)n, ": %s", strerror(-rc));
    return rc;
}

void weir_filesink_final_name(uint32_t k, uint64_t id, char *buf)
{
    snprintf(buf, WEIR_FILESINK_NAME_MAX, "part-%u-%0*llu.csv", k, S_ID_DIGITS,
             (unsigned long long)id);
}

void weir_filesink_pending_name(uint32_t k, uint64_t id, char *buf)
{
    snprintf(buf, WEIR_FILESINK_NAME_MAX, ".part-%u-%0*llu.csv.pending", k, S_ID_DIGITS,
             (unsigned long long)id);
}

/* dir/name into buf (PATH_MAX bytes); -ENAMETOOLONG when it does not fit. */
static int s_path(char *buf, const char *dir, const char *name)
{
    return snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Reads exactly len bytes at off; 0, -errno, or -EIO when the file ends
 * first. */
static int s_pread_all(int fd, char *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t r = pread(fd, buf, len, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EIO;
        buf += r;
        len -= (size_t)r;
        off += r;
    }
    return 0;
}

/* 1 when a and b are regular files of equal bytes (or one file), 0 when
 * they differ or one is not a regular file, -errno when they cannot be
 * read. */
static int s_same_content(const char *a, const char *b)
{
    enum { CHUNK = 64 * 1024 };
    int fa = open(a, O_RDONLY | O_CLOEXEC), fb = -1, rc = 0;
    char *ba = NULL, *bb = NULL;
    struct stat sa, sb;
    if (fa < 0 || (fb = open(b, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fa, &sa) != 0 ||
        fstat(fb, &sb) != 0) {
        rc = -errno;
        goto done;
    }
    if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) || sa.st_size != sb.st_size)
        goto done;
    if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) {
        rc = 1;
        goto done;
    }
    ba = malloc(CHUNK);
    bb = malloc(CHUNK);
    if (!ba || !bb) {
        rc = -ENOMEM;
        goto done;
    }
    rc = 1;
    for (off_t off = 0; off < sa.st_size && rc == 1;) {
        size_t n = sa.st_size - off < CHUNK ? (size_t)(sa.st_size - off) : CHUNK;
        int r = s_pread_all(fa, ba, n, off);
        if (!r)
            r = s_pread_all(fb, bb, n, off);
        if (r)
            rc = r;
        else if (memcmp(ba, bb, n) != 0)
            rc = 0;
        off += (off_t)n;
    }
done:
    free(ba);
    free(bb);
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return rc;
}

/* Publishes part (k, id): renames its pending file to the final name.
 * Idempotent: an already published part is success. */
static int s_publish_one(const char *dir, uint32_t k, uint64_t id, char *err, size_t err_cap)
{
    char pname[WEIR_FILESINK_NAME_MAX], fname[WEIR_FILESINK_NAME_MAX];
    char pend[PATH_MAX], fin[PATH_MAX];
    weir_filesink_pending_name(k, id, pname);
    weir_filesink_final_name(k, id, fname);
    int rc = s_path(pend, dir, pname);
    if (!rc)
        rc = s_path(fin, dir, fname);
    if (rc)
        return s_fail(err, err_cap, rc, "%s/%s", dir, pname);
    rc = weir_fs_rename_noreplace(pend, fin);
    if (rc == 0)
        return 0;
    if (rc == -ENOENT) {
        /* Published before (a repeated commit, or one cut short by a
         * crash) when the final name exists. */
        struct stat st;
        if (lstat(fin, &st) == 0)
            return 0;
        return s_fail(err, err_cap, rc, "%s: pending part missing, and %s does not exist", pend,
                      fname);
    }
    if (rc == -EEXIST) {
        /* Both names: left by link + unlink cut short (same content), or a
         * conflict that must not be resolved by guessing. */
        int same = s_same_content(pend, fin);
        if (same < 0)
            return s_fail(err, err_cap, same, "%s and %s both exist, comparing them", pend, fin);
        if (!same)
            return s_fail(err, err_cap, rc, "%s and %s both exist and differ; both kept", pend,
                          fin);
        if (unlink(pend) != 0 && errno != ENOENT)
            return s_fail(err, err_cap, -errno, "%s: removing, already published as %s", pend,
                          fname);
        return 0;
    }
    return s_fail(err, err_cap, rc, "%s: publishing as %s", pend, fname);
}

/* Publishes ids[0..n) (ascending) in order, then fsyncs dir. *n_done: how
 * many were published (all on success). With points, reaches the crash
 * points of a commit of checkpoint ck. */
static int s_publish_ids(const char *dir, uint32_t k, const uint64_t *ids, size_t n, uint64_t ck,
                         int points, size_t *n_done, char *err, size_t err_cap)
{
    *n_done = 0;
    if (n == 0)
        return 0;
    assert(ids);
    int rc = 0;
    size_t i = 0;
    for (; i < n && !rc; i++) {
        rc = s_publish_one(dir, k, ids[i], err, err_cap);
        if (!rc && i == 0 && n > 1 && points)
            weir_crash_point("sink.publishing", ck);
    }
    *n_done = rc ? i - 1 : n;
    if (*n_done == 0)
        return rc;
    /* Also after a failure, so that what was published stays published. */
    int frc = weir_fs_fsync_dir(dir);
    if (frc && !rc)
        rc = s_fail(err, err_cap, frc, "%s: fsync of the directory", dir);
    if (!rc && points)
        weir_crash_point("sink.published", ck);
    return rc;
}

/* --- directory listing ------------------------------------------------ */

typedef struct {
    uint64_t *pending; /* ids of pending parts of task k, ascending after s_scan */
    size_t n_pending;
    size_t cap_pending;
    char **stale; /* names of in-progress files of task k matching the prefix */
    size_t n_stale;
    size_t cap_stale;
    int any_final; /* a final part of task k exists */
} s_scan_t;

static void s_scan_free(s_scan_t *s)
{
    free(s->pending);
    for (size_t i = 0; i < s->n_stale; i++)
        free(s->stale[i]);
    free(s->stale);
    *s = (s_scan_t){0};
}

/* Parses exactly S_ID_DIGITS decimal digits at p (no overflow); returns the
 * end, or NULL. */
static const char *s_parse_id(const char *p, uint64_t *id)
{
    uint64_t v = 0;
    for (int i = 0; i < S_ID_DIGITS; i++, p++) {
        if (*p < '0' || *p > '9')
            return NULL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
    }
    *id = v;
    return p;
}

/* name == <lead>part-<k>-<id:020><tail>; the id in *id. */
static int s_match_part(const char *name, const char *lead, uint32_t k, const char *tail,
                        uint64_t *id)
{
    char head[48];
    int n = snprintf(head, sizeof head, "%spart-%u-", lead, k);
    if (strncmp(name, head, (size_t)n) != 0)
        return 0;
    const char *end = s_parse_id(name + n, id);
    return end && strcmp(end, tail) == 0;
}

/* name == .<tag>.part-<k>.csv.inprogress with tag non-empty and starting
 * with prefix. */
static int s_match_inprogress(const char *name, uint32_t k, const char *prefix)
{
    char tail[48];
    int n = snprintf(tail, sizeof tail, ".part-%u.csv.inprogress", k);
    size_t len = strlen(name), plen = strlen(prefix);
    if (name[0] != '.' || len <= 1 + (size_t)n || strcmp(name + len - (size_t)n, tail) != 0)
        return 0;
    size_t tag_len = len - 1 - (size_t)n;
    return plen <= tag_len && strncmp(name + 1, prefix, plen) == 0;
}

static int s_cmp_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* arr (holding n of *cap elements) with room for one more: itself, or a
 * larger copy (*cap updated); NULL when out of memory (arr unchanged). */
static void *s_reserve(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(arr, nc * elem);
    if (p)
        *cap = nc;
    return p;
}

/* Lists the files of task k in dir. prefix: in-progress files to collect
 * (NULL: none). Returns 0, 1 when dir does not exist, or -errno. */
static int s_scan(const char *dir, uint32_t k, const char *prefix, s_scan_t *out, char *err,
                  size_t err_cap)
{
    *out = (s_scan_t){0};
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 1;
        return s_fail(err, err_cap, -errno, "%s: listing", dir);
    }
    int rc = 0;
    struct dirent *e;
    for (errno = 0; !rc && (e = readdir(d)) != NULL; errno = 0) {
        uint64_t id;
        if (s_match_part(e->d_name, ".", k, ".csv.pending", &id)) {
            uint64_t *ids = s_reserve(out->pending, &out->cap_pending, out->n_pending, sizeof id);
            if (ids) {
                out->pending = ids;
                ids[out->n_pending++] = id;
            } else {
                rc = -ENOMEM;
            }
        } else if (s_match_part(e->d_name, "", k, ".csv", &id)) {
            out->any_final = 1;
        } else if (prefix && s_match_inprogress(e->d_name, k, prefix)) {
            char **names = s_reserve(out->stale, &out->cap_stale, out->n_stale, sizeof *names);
            char *name = names ? strdup(e->d_name) : NULL;
            if (names)
                out->stale = names;
            if (name)
                names[out->n_stale++] = name;
            else
                rc = -ENOMEM;
        }
    }
    if (!rc && errno)
        rc = -errno;
    closedir(d);
    if (rc) {
        s_scan_free(out);
        return s_fail(err, err_cap, rc, "%s: listing", dir);
    }
    if (out->n_pending > 1)
        qsort(out->pending, out->n_pending, sizeof *out->pending, s_cmp_id);
    return 0;
}

/* Number of leading entries of ids[0..n) (ascending) that are <= upto. */
static size_t s_count_upto(const uint64_t *ids, size_t n, uint64_t upto)
{
    size_t m = 0;
    while (m < n && ids[m] <= upto)
        m++;
    return m;
}

/* --- the sink ---------------------------------------------------------- */

int weir_filesink_open(const char *dir, uint32_t k, const char *tag, const char *const *header,
                       int n_cols, weir_filesink_t **out, char *err, size_t err_cap)
{
    if (!tag)
        return s_fail(err, err_cap, -EINVAL, "%s: part %u: no tag", dir, k);
    weir_filesink_t *fs = calloc(1, sizeof *fs);
    if (!fs || !(fs->dir = strdup(dir))) {
        free(fs);
        return s_fail(err, err_cap, -ENOMEM, "%s: part %u", dir, k);
    }
    fs->k = k;
    char name[WEIR_FILESINK_NAME_MAX];
    snprintf(name, sizeof name, "part-%u.csv", k);
    int rc = weir_csvsink_open_tagged(dir, name, tag, header, n_cols, &fs->w);
    if (rc) {
        free(fs->dir);
        free(fs);
        return s_fail(err, err_cap, rc, "%s/.%s.%s.inprogress: opening", dir, tag, name);
    }
    *out = fs;
    return 0;
}

weir_csvsink_t *weir_filesink_writer(weir_filesink_t *fs)
{
    return fs->w;
}

/* The checks precommit and finish share: sticky failure, finished sink,
 * ids that do not increase. */
static int s_check(const weir_filesink_t *fs, uint64_t ck, const char *what, char *err,
                   size_t err_cap)
{
    if (fs->err)
        return s_fail(err, err_cap, fs->err, "%s: part %u: %s %llu: the sink failed before",
                      fs->dir, fs->k, what, (unsigned long long)ck);
    if (!fs->w)
        return s_fail(err, err_cap, -EINVAL, "%s: part %u: %s %llu after the end of input", fs->dir,
                      fs->k, what, (unsigned long long)ck);
    if (fs->any_ck && ck <= fs->last_ck)
        return s_fail(err, err_cap, -EINVAL, "%s: part %u: %s %llu is not above checkpoint %llu",
                      fs->dir, fs->k, what, (unsigned long long)ck,
                      (unsigned long long)fs->last_ck);
    return 0;
}

int weir_filesink_precommit(weir_filesink_t *fs, uint64_t ck, char *err, size_t err_cap)
{
    int rc = s_check(fs, ck, "pre-commit of checkpoint", err, err_cap);
    if (rc)
        return rc;
    char name[WEIR_FILESINK_NAME_MAX];
    weir_filesink_pending_name(fs->k, ck, name);
    /* A write error of a row that never ended leaves rows at 0; flushing
     * surfaces it instead of taking the part for an empty one. */
    rc = weir_csvsink_flush(fs->w);
    if (rc) {
        fs->err = rc;
        return s_fail(err, err_cap, rc, "%s/%s: writing the part", fs->dir, name);
    }
    /* Room for the id first: once renamed, the file must be remembered. */
    uint64_t *ids = s_reserve(fs->pending, &fs->cap_pending, fs->n_pending, sizeof *ids);
    if (!ids)
        return s_fail(err, err_cap, -ENOMEM, "%s/%s", fs->dir, name);
    fs->pending = ids;
    fs->any_ck = 1;
    fs->last_ck = ck;
    uint64_t rows = weir_csvsink_rows(fs->w);
    if (rows == 0)
        return 0;
    rc = weir_csvsink_rotate(fs->w, name);
    if (rc) {
        fs->err = rc;
        return s_fail(err, err_cap, rc, "%s/%s: pre-commit", fs->dir, name);
    }
    fs->pending[fs->n_pending++] = ck;
    fs->rows_before += rows;
    weir_crash_point("sink.precommitted", ck);
    return 0;
}

/* Drops the first n ids of the pending list (published). */
static void s_forget(weir_filesink_t *fs, size_t n)
{
    if (n == 0)
        return;
    memmove(fs->pending, fs->pending + n, (fs->n_pending - n) * sizeof *fs->pending);
    fs->n_pending -= n;
}

int weir_filesink_commit(weir_filesink_t *fs, uint64_t ck, char *err, size_t err_cap)
{
    size_t m = s_count_upto(fs->pending, fs->n_pending, ck), done = 0;
    if (m == 0)
        return 0;
    int rc = s_publish_ids(fs->dir, fs->k, fs->pending, m, ck, 1, &done, err, err_cap);
    s_forget(fs, done);
    return rc;
}

int weir_filesink_finish(weir_filesink_t *fs, uint64_t final_id, char *err, size_t err_cap)
{
    int rc = s_check(fs, final_id, "end of input as part", err, err_cap);
    if (rc)
        return rc;
    size_t done = 0;
    rc =
        s_publish_ids(fs->dir, fs->k, fs->pending, fs->n_pending, final_id, 0, &done, err, err_cap);
    s_forget(fs, done);
    if (rc)
        return rc;
    char name[WEIR_FILESINK_NAME_MAX];
    weir_filesink_final_name(fs->k, final_id, name);
    rc = weir_csvsink_flush(fs->w);
    if (rc) {
        fs->err = rc;
        return s_fail(err, err_cap, rc, "%s/%s: writing the part", fs->dir, name);
    }
    uint64_t rows = weir_csvsink_rows(fs->w);
    if (rows == 0) {
        s_scan_t sc;
        rc = s_scan(fs->dir, fs->k, NULL, &sc, err, err_cap);
        if (rc < 0)
            return rc;
        int other = rc == 0 && (sc.any_final || sc.n_pending > 0);
        s_scan_free(&sc);
        if (other) {
            weir_csvsink_discard(&fs->w);
            return 0;
        }
    }
    rc = weir_csvsink_close_as(&fs->w, name);
    if (rc) {
        fs->err = rc;
        return s_fail(err, err_cap, rc, "%s/%s: publishing the last part", fs->dir, name);
    }
    fs->rows_before += rows;
    fs->any_ck = 1;
    fs->last_ck = final_id;
    return 0;
}

uint64_t weir_filesink_rows(const weir_filesink_t *fs)
{
    return fs->rows_before + (fs->w ? weir_csvsink_rows(fs->w) : 0);
}

size_t weir_filesink_n_pending(const weir_filesink_t *fs)
{
    return fs->n_pending;
}

void weir_filesink_destroy(weir_filesink_t **pfs)
{
    if (!pfs || !*pfs)
        return;
    weir_filesink_t *fs = *pfs;
    *pfs = NULL;
    weir_csvsink_discard(&fs->w);
    free(fs->pending);
    free(fs->dir);
    free(fs);
}

/* --- recovery ---------------------------------------------------------- */

int weir_filesink_publish_dir(const char *dir, uint32_t k, uint64_t upto_ck, char *err,
                              size_t err_cap)
{
    s_scan_t sc;
    int rc = s_scan(dir, k, NULL, &sc, err, err_cap);
    if (rc)
        return rc > 0 ? 0 : rc;
    size_t m = s_count_upto(sc.pending, sc.n_pending, upto_ck), done;
    if (m > 0)
        rc = s_publish_ids(dir, k, sc.pending, m, upto_ck, 1, &done, err, err_cap);
    s_scan_free(&sc);
    return rc;
}

/* Removes dir/name; a name already gone is fine. */
static int s_remove(const char *dir, const char *name, char *err, size_t err_cap)
{
    char path[PATH_MAX];
    int rc = s_path(path, dir, name);
    if (!rc && unlink(path) != 0 && errno != ENOENT)
        rc = -errno;
    return rc ? s_fail(err, err_cap, rc, "%s/%s: removing", dir, name) : 0;
}

int weir_filesink_recover(const char *dir, uint32_t k, uint64_t restored_ck,
                          const char *stale_tag_prefix, char *err, size_t err_cap)
{
    s_scan_t sc;
    int rc = s_scan(dir, k, stale_tag_prefix, &sc, err, err_cap);
    if (rc)
        return rc > 0 ? 0 : rc;
    size_t m = s_count_upto(sc.pending, sc.n_pending, restored_ck), done;
    if (m > 0)
        rc = s_publish_ids(dir, k, sc.pending, m, restored_ck, 1, &done, err, err_cap);
    int removed = 0;
    for (size_t i = m; i < sc.n_pending && !rc; i++, removed++) {
        char name[WEIR_FILESINK_NAME_MAX];
        weir_filesink_pending_name(k, sc.pending[i], name);
        rc = s_remove(dir, name, err, err_cap);
    }
    for (size_t i = 0; i < sc.n_stale && !rc; i++, removed++)
        rc = s_remove(dir, sc.stale[i], err, err_cap);
    s_scan_free(&sc);
    if (!rc && removed) {
        rc = weir_fs_fsync_dir(dir);
        if (rc)
            s_fail(err, err_cap, rc, "%s: fsync of the directory", dir);
    }
    return rc;
}

void weir_filesink_tag(const char *job, uint32_t attempt, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-a%04u", job, attempt);
}

int weir_filesink_settle(const char *dir, uint32_t n_tasks, uint64_t restored_ck,
                         const char *old_job, const char *job, uint32_t attempt, char *err,
                         size_t err_cap)
{
    bool same = strcmp(old_job, job) == 0;
    uint32_t n_prefixes = same ? (attempt > 1 ? attempt - 1 : 0) : 1;
    int rc = 0;
    /* Another job restored from an older checkpoint into a directory that
     * holds what came after it would write those rows again (and meet
     * their names): refused. A restart of the same job may meet a last
     * part its failed attempt published (see ARCHITECTURE, limits). */
    DIR *dd = same ? NULL : opendir(dir);
    struct dirent *e;
    while (dd && (e = readdir(dd)) != NULL) {
        uint64_t id = 0;
        char *after = NULL;
        if (strncmp(e->d_name, "part-", 5) != 0)
            continue;
        unsigned long k = strtoul(e->d_name + 5, &after, 10);
        if (after == e->d_name + 5 || k > UINT32_MAX ||
            !s_match_part(e->d_name, "", (uint32_t)k, ".csv", &id) || id <= restored_ck)
            continue;
        char name[WEIR_FILESINK_NAME_MAX];
        snprintf(name, sizeof name, "%s", e->d_name); /* e goes with closedir */
        closedir(dd);
        return s_fail(err, err_cap, -EEXIST,
                      "%s/%s was written after checkpoint %llu: restoring it here would write "
                      "those rows again; remove the parts after it or choose another output "
                      "directory",
                      dir, name, (unsigned long long)restored_ck);
    }
    if (dd)
        closedir(dd);
    for (uint32_t k = 0; k < n_tasks && !rc; k++) {
        for (uint32_t a = 0; a < (n_prefixes ? n_prefixes : 1) && !rc; a++) {
            char prefix[128];
            if (same)
                weir_filesink_tag(job, a + 1, prefix, sizeof prefix);
            else
                snprintf(prefix, sizeof prefix, "%s-a", old_job);
            /* NULL: no earlier attempt, so no in-progress part to delete */
            rc = weir_filesink_recover(dir, k, restored_ck, n_prefixes ? prefix : NULL, err,
                                       err_cap);
        }
    }
    return rc;
}
