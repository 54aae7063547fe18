/* ckstore: blobs arrive in chunks and are stored under their hash, or
 * refused when the content does not match; metadata is written whole or
 * not at all (a temporary file left by a crash is ignored and collected);
 * GC keeps exactly what kept metadata names (and what is young or being
 * uploaded); retention keeps storage bounded over a hundred checkpoints; a
 * full disk gives a code and a message naming the path; and a task's
 * RocksDB state round-trips through the store into another family.
 * Every test works in its own temporary directory. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckstore.h"
#include "err.h"
#include "state.h"

static char s_dir[64];

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static weir_ckstore_t *s_open(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/weir-ckstore-XXXXXX");
    if (!mkdtemp(s_dir))
        return NULL;
    char root[128], err[512];
    snprintf(root, sizeof root, "%s/store", s_dir);
    weir_ckstore_t *st = NULL;
    if (weir_ckstore_open(root, &st, err, sizeof err) != 0)
        fprintf(stderr, "\n%s\n", err);
    return st;
}

static void s_close(weir_ckstore_t **st)
{
    weir_ckstore_destroy(st);
    nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Number of entries in root/sub whose names start (or not) with a dot. */
static int s_count(weir_ckstore_t *st, const char *sub, bool dotted)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", weir_ckstore_root(st), sub);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (e->d_name[0] == '.') == dotted)
            n++;
    closedir(d);
    return n;
}

/* Stores len bytes in chunks of `chunk` bytes; returns their hash. */
static weir_ck_hash_t s_put(weir_ckstore_t *st, const void *data, size_t len, size_t chunk)
{
    weir_ck_hash_t h;
    weir_ck_hash_buf(data, len, &h);
    weir_ckstore_blob_t *b = NULL;
    int rc = weir_ckstore_blob_begin(st, &h, len, &b);
    if (rc == -EEXIST)
        return h;
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, off, (const char *)data + off, n), 0);
    }
    CU_ASSERT_EQUAL(weir_ckstore_blob_commit(st, &b), 0);
    CU_ASSERT_PTR_NULL(b);
    return h;
}

/* A blob of `len` bytes made from a seed. */
static weir_ck_hash_t s_put_seeded(weir_ckstore_t *st, uint32_t seed, size_t len)
{
    char *buf = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(seed * 31 + i * 7 + (i >> 8));
    weir_ck_hash_t h = s_put(st, buf, len, 4096);
    free(buf);
    return h;
}

/* Metadata of checkpoint id of job with one keyed task whose files are
 * the given blobs (each `size` bytes). */
static void s_meta(weir_ck_meta_t *m, const char *job, uint64_t id, bool savepoint,
                   const weir_ck_hash_t *blobs, int n, size_t size)
{
    memset(m, 0, sizeof *m);
    snprintf(m->job, sizeof m->job, "%s", job);
    m->id = id;
    m->attempt = 1;
    m->savepoint = savepoint;
    m->complete_ms = (int64_t)id * 1000;
    m->n_tasks = 1;
    m->tasks = calloc(1, sizeof *m->tasks);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->tasks);
    m->tasks[0].kind = 1;
    m->tasks[0].kg_last = 127;
    snprintf(m->tasks[0].cf, sizeof m->tasks[0].cf, "%s/1/w0", job);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%06d.sst", i);
        CU_ASSERT_EQUAL(weir_ck_snap_add_file(&m->tasks[0], name, &blobs[i], size), 0);
    }
}

static void s_put_meta(weir_ckstore_t *st, const char *job, uint64_t id, bool savepoint,
                       const weir_ck_hash_t *blobs, int n, size_t size)
{
    weir_ck_meta_t m;
    s_meta(&m, job, id, savepoint, blobs, n, size);
    CU_ASSERT_EQUAL(weir_ckstore_put_meta(st, &m), 0);
    weir_ck_meta_clear(&m);
}

static void blobs_arrive_in_chunks_and_are_stored_under_their_hash(void)
{
    weir_ckstore_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    char data[10000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i % 251);
    weir_ck_hash_t h = s_put(st, data, sizeof data, 3000);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &h));
    char hex[WEIR_CK_HASH_HEX], path[256];
    weir_ck_hash_hex(&h, hex);
    snprintf(path, sizeof path, "%s/blobs/%s", weir_ckstore_root(st), hex);
    weir_ck_hash_t back;
    uint64_t size = 0;
    CU_ASSERT_EQUAL(weir_ck_hash_file(path, &back, &size), 0);
    CU_ASSERT_TRUE(weir_ck_hash_eq(&h, &back));
    CU_ASSERT_EQUAL(size, sizeof data);
    CU_ASSERT_EQUAL(s_count(st, "blobs", true), 0); /* no temporary left */
    /* a blob stored already needs no upload */
    weir_ckstore_blob_t *b = NULL;
    CU_ASSERT_EQUAL(weir_ckstore_blob_begin(st, &h, sizeof data, &b), -EEXIST);
    CU_ASSERT_PTR_NULL(b);
    /* read back in pieces, as the coordinator serves a restoring node */
    char got[4096];
    size_t n = 0;
    CU_ASSERT_EQUAL(weir_ckstore_blob_read(st, &h, 8000, got, sizeof got, &n), 0);
    CU_ASSERT_EQUAL(n, 2000);
    CU_ASSERT_EQUAL(memcmp(got, data + 8000, 2000), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_read(st, &h, 10000, got, sizeof got, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    weir_ck_hash_t other;
    weir_ck_hash_buf("other", 5, &other);
    CU_ASSERT_FALSE(weir_ckstore_has_blob(st, &other));
    CU_ASSERT_EQUAL(weir_ckstore_blob_read(st, &other, 0, got, sizeof got, &n), WEIR_ENOTFOUND);
    /* an empty file is a blob too */
    weir_ck_hash_t empty = s_put(st, "", 0, 1);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &empty));
    /* a local file, stored once */
    char file[128];
    snprintf(file, sizeof file, "%s/f.sst", s_dir);
    FILE *f = fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(data, 1, 5000, f);
    fclose(f);
    bool uploaded = false;
    CU_ASSERT_EQUAL(weir_ckstore_put_file(st, file, &back, &size, &uploaded), 0);
    CU_ASSERT_TRUE(uploaded);
    CU_ASSERT_EQUAL(size, 5000);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &back));
    CU_ASSERT_EQUAL(weir_ckstore_put_file(st, file, &back, &size, &uploaded), 0);
    CU_ASSERT_FALSE(uploaded);
    CU_ASSERT_EQUAL(s_count(st, "blobs", false), 3);
    s_close(&st);
}

static void a_blob_that_does_not_match_its_hash_is_refused(void)
{
    weir_ckstore_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_ck_hash_t h;
    weir_ck_hash_buf("the real content", 16, &h);
    weir_ckstore_blob_t *b = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_blob_begin(st, &h, 16, &b), 0);
    CU_ASSERT_EQUAL(s_count(st, "blobs", true), 1); /* the upload's temporary */
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 0, "the fake content", 16), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_commit(st, &b), WEIR_EINVAL);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_ckstore_errmsg(st), "hashes to"));
    CU_ASSERT_FALSE(weir_ckstore_has_blob(st, &h));
    CU_ASSERT_EQUAL(s_count(st, "blobs", true) + s_count(st, "blobs", false), 0);

    /* fewer bytes than declared */
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_blob_begin(st, &h, 16, &b), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 0, "the real", 8), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_commit(st, &b), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_ckstore_errmsg(st), "8 of 16 bytes"));
    /* chunks out of order, or past the declared size */
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_blob_begin(st, &h, 16, &b), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 8, " content", 8), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 0, "the real content!", 17), WEIR_ERANGE);
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 0, "the real", 8), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 0, "the real", 8), WEIR_EINVAL); /* twice */
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 8, " content", 8), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_commit(st, &b), 0);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &h));
    /* an abandoned upload leaves nothing */
    weir_ck_hash_t h2;
    weir_ck_hash_buf("x", 1, &h2);
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_blob_begin(st, &h2, 1, &b), 0);
    weir_ckstore_blob_abort(st, &b);
    CU_ASSERT_PTR_NULL(b);
    weir_ckstore_blob_abort(st, &b);
    CU_ASSERT_EQUAL(s_count(st, "blobs", true), 0);
    /* so does one still open when the store goes */
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_blob_begin(st, &h2, 1, &b), 0);
    weir_ckstore_destroy(&st);
    char tmpdir[128];
    snprintf(tmpdir, sizeof tmpdir, "%s/store/blobs", s_dir);
    DIR *d = opendir(tmpdir);
    int left = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        left += e->d_name[0] == '.' && strlen(e->d_name) > 2;
    if (d)
        closedir(d);
    CU_ASSERT_EQUAL(left, 0);
    s_close(&st);
}

static void metadata_is_written_whole_and_a_crashed_write_is_ignored_then_collected(void)
{
    weir_ckstore_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_ck_hash_t blobs[2] = {s_put_seeded(st, 1, 1000), s_put_seeded(st, 2, 1000)};
    s_put_meta(st, "job-1", 1, false, blobs, 2, 1000);
    /* a crash during the write of checkpoint 2: only its temporary exists,
     * with part of the bytes */
    char path[256];
    snprintf(path, sizeof path, "%s/checkpoints/job-1/.2.meta.tmp", weir_ckstore_root(st));
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("\x08\x01\x12", f);
    fclose(f);
    /* and a crash during an upload */
    snprintf(path, sizeof path, "%s/blobs/.abc.1.1.tmp", weir_ckstore_root(st));
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    weir_ckstore_entry_t *e = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(weir_ckstore_list(st, "job-1", &e, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(e[0].id, 1);
    CU_ASSERT_EQUAL(e[0].state_bytes, 2000);
    free(e);
    weir_ck_meta_t m;
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_load_latest(st, "job-1", &m), 0);
    CU_ASSERT_EQUAL(m.id, 1);
    CU_ASSERT_EQUAL(m.tasks[0].n_files, 2);
    CU_ASSERT_TRUE(weir_ck_hash_eq(&m.tasks[0].files[1].hash, &blobs[1]));
    CU_ASSERT_STRING_EQUAL(m.tasks[0].cf, "job-1/1/w0");
    weir_ck_meta_clear(&m);
    /* young temporaries are spared (a write may be running), stale ones go */
    weir_ckstore_gc_stats_t gs;
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 60000, &gs), 0);
    CU_ASSERT_EQUAL(gs.temps_deleted, 0);
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 0, &gs), 0);
    CU_ASSERT_EQUAL(gs.temps_deleted, 2);
    CU_ASSERT_EQUAL(gs.blobs_kept, 2);
    CU_ASSERT_EQUAL(gs.blobs_deleted, 0);
    CU_ASSERT_EQUAL(s_count(st, "checkpoints/job-1", true), 0);
    CU_ASSERT_EQUAL(s_count(st, "blobs", true), 0);

    /* metadata naming a blob that is not stored is refused */
    weir_ck_hash_t missing[1];
    weir_ck_hash_buf("never uploaded", 14, &missing[0]);
    s_meta(&m, "job-1", 2, false, missing, 1, 14);
    CU_ASSERT_EQUAL(weir_ckstore_put_meta(st, &m), WEIR_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_ckstore_errmsg(st), "000000.sst"));
    weir_ck_meta_clear(&m);
    CU_ASSERT_EQUAL(s_count(st, "checkpoints/job-1", false), 1);
    /* ids are never written twice; job ids are safe names */
    s_meta(&m, "job-1", 1, false, blobs, 1, 1000);
    CU_ASSERT_EQUAL(weir_ckstore_put_meta(st, &m), -EEXIST);
    snprintf(m.job, sizeof m.job, "../evil");
    CU_ASSERT_EQUAL(weir_ckstore_put_meta(st, &m), WEIR_EINVAL);
    weir_ck_meta_clear(&m);
    CU_ASSERT_EQUAL(weir_ckstore_list(st, "../evil", &e, &n), WEIR_EINVAL);
    s_close(&st);
}

static void checkpoints_list_by_id_and_the_latest_is_loaded(void)
{
    weir_ckstore_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_ck_meta_t m;
    CU_ASSERT_EQUAL(weir_ckstore_load_latest(st, "job-1", &m), WEIR_ENOTFOUND);
    weir_ckstore_entry_t *e = NULL;
    size_t n = 7;
    CU_ASSERT_EQUAL(weir_ckstore_list(st, "job-1", &e, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(e);
    weir_ck_hash_t b[1] = {s_put_seeded(st, 1, 100)};
    static const uint64_t ids[] = {9, 10, 2, 11};
    for (int i = 0; i < 4; i++)
        s_put_meta(st, "job-1", ids[i], ids[i] == 10, b, 1, 100);
    s_put_meta(st, "other-2", 50, false, b, 1, 100);
    CU_ASSERT_EQUAL(weir_ckstore_list(st, "job-1", &e, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT(e[0].id == 2 && e[1].id == 9 && e[2].id == 10 && e[3].id == 11); /* numeric */
    CU_ASSERT(e[2].savepoint && !e[3].savepoint);
    CU_ASSERT_EQUAL(e[3].complete_ms, 11000);
    free(e);
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_load_latest(st, "job-1", &m), 0);
    CU_ASSERT_EQUAL(m.id, 11);
    weir_ck_meta_clear(&m);
    CU_ASSERT_EQUAL(weir_ckstore_delete(st, "job-1", 11), 0);
    CU_ASSERT_EQUAL(weir_ckstore_delete(st, "job-1", 11), WEIR_ENOTFOUND);
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_load_latest(st, "job-1", &m), 0);
    CU_ASSERT_EQUAL(m.id, 10);
    CU_ASSERT_TRUE(m.savepoint);
    weir_ck_meta_clear(&m);
    CU_ASSERT_EQUAL(weir_ckstore_load(st, "job-1", 3, &m), WEIR_ENOTFOUND);

    /* metadata that cannot be read: an error naming it, never an older
     * checkpoint in its place, and GC deletes nothing */
    char path[256], dst[256];
    snprintf(path, sizeof path, "%s/checkpoints/job-1/12.meta", weir_ckstore_root(st));
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("garbage", f);
    fclose(f);
    CU_ASSERT_EQUAL(weir_ckstore_load_latest(st, "job-1", &m), WEIR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_ckstore_errmsg(st), path));
    weir_ck_hash_t lone = s_put_seeded(st, 2, 100);
    weir_ckstore_gc_stats_t gs;
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 0, &gs), WEIR_EPROTO);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &lone));
    /* a metadata file under another id's name is refused too */
    snprintf(dst, sizeof dst, "%s/checkpoints/job-1/2.meta", weir_ckstore_root(st));
    CU_ASSERT_EQUAL(rename(dst, path), 0);
    CU_ASSERT_EQUAL(weir_ckstore_load_latest(st, "job-1", &m), WEIR_EPROTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_ckstore_errmsg(st), "holds job-1/2"));
    CU_ASSERT_EQUAL(unlink(path), 0);
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 0, &gs), 0);
    CU_ASSERT_FALSE(weir_ckstore_has_blob(st, &lone));
    s_close(&st);
}

static void gc_keeps_referenced_young_and_uploading_blobs_and_deletes_the_rest(void)
{
    weir_ckstore_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_ck_hash_t a[3], b[2];
    for (int i = 0; i < 3; i++)
        a[i] = s_put_seeded(st, 10 + (uint32_t)i, 500);
    for (int i = 0; i < 2; i++)
        b[i] = s_put_seeded(st, 20 + (uint32_t)i, 700);
    weir_ck_hash_t loose = s_put_seeded(st, 30, 300);
    s_put_meta(st, "job-a", 1, false, a, 3, 500);
    s_put_meta(st, "job-b", 1, false, b, 2, 700);
    /* an upload in progress: its temporary is spared even without grace */
    weir_ck_hash_t up;
    weir_ck_hash_buf("uploading", 9, &up);
    weir_ckstore_blob_t *ub = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_blob_begin(st, &up, 9, &ub), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, ub, 0, "uplo", 4), 0);

    weir_ckstore_gc_stats_t gs;
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 60000, &gs), 0); /* all young */
    CU_ASSERT_EQUAL(gs.blobs_deleted, 0);
    CU_ASSERT_EQUAL(gs.blobs_young, 1);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &loose));

    /* an old unreferenced blob that a running checkpoint finds again is
     * refreshed, so GC spares it until its metadata is written */
    char hex[WEIR_CK_HASH_HEX], path[256];
    weir_ck_hash_hex(&loose, hex);
    snprintf(path, sizeof path, "%s/blobs/%s", weir_ckstore_root(st), hex);
    struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, old, 0), 0);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &loose));
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 60000, &gs), 0);
    CU_ASSERT_EQUAL(gs.blobs_young, 1);
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, old, 0), 0);
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 60000, &gs), 0);
    CU_ASSERT_EQUAL(gs.blobs_deleted, 1);
    CU_ASSERT_EQUAL(gs.bytes_deleted, 300);
    CU_ASSERT_FALSE(weir_ckstore_has_blob(st, &loose));
    CU_ASSERT_EQUAL(gs.blobs_kept, 5);
    CU_ASSERT_EQUAL(gs.bytes_kept, 3 * 500 + 2 * 700);

    /* deleting job-b's checkpoint frees exactly its blobs */
    CU_ASSERT_EQUAL(weir_ckstore_delete(st, "job-b", 1), 0);
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 0, &gs), 0);
    CU_ASSERT_EQUAL(gs.blobs_deleted, 2);
    CU_ASSERT_EQUAL(gs.temps_deleted, 0); /* the open upload */
    for (int i = 0; i < 3; i++)
        CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &a[i]));
    for (int i = 0; i < 2; i++)
        CU_ASSERT_FALSE(weir_ckstore_has_blob(st, &b[i]));
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, ub, 4, "ading", 5), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_commit(st, &ub), 0);
    CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &up));

    /* a referenced blob that vanished is reported */
    weir_ck_hash_hex(&a[0], hex);
    snprintf(path, sizeof path, "%s/blobs/%s", weir_ckstore_root(st), hex);
    CU_ASSERT_EQUAL(unlink(path), 0);
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 0, &gs), 0);
    CU_ASSERT_EQUAL(gs.blobs_missing, 1);
    s_close(&st);
}

static void a_hundred_checkpoints_with_retain_3_keep_storage_bounded(void)
{
    weir_ckstore_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    /* each checkpoint: two files carried over from the previous one and
     * two new ones, as RocksDB's incremental checkpoints do; checkpoint 7
     * is a savepoint */
    enum { N = 100, FILES = 4 };
    weir_ck_hash_t prev[FILES], cur[FILES], sp[FILES];
    int max_blobs = 0;
    for (uint64_t id = 1; id <= N; id++) {
        for (int i = 0; i < FILES; i++)
            cur[i] = id > 1 && i < 2 ? prev[i + 2]
                                     : s_put_seeded(st, (uint32_t)(id * FILES) + (uint32_t)i, 256);
        s_put_meta(st, "long-job", id, id == 7, cur, FILES, 256);
        if (id == 7)
            memcpy(sp, cur, sizeof sp);
        uint32_t deleted = 0;
        CU_ASSERT_EQUAL(weir_ckstore_prune(st, "long-job", 3, &deleted), 0);
        CU_ASSERT(deleted <= 1);
        CU_ASSERT_EQUAL(weir_ckstore_gc(st, 0, NULL), 0);
        int n = s_count(st, "blobs", false);
        if (n > max_blobs)
            max_blobs = n;
        memcpy(prev, cur, sizeof prev);
    }
    /* 3 checkpoints share files pairwise: 4 + 2 + 2 blobs, plus the
     * savepoint's 4 */
    CU_ASSERT(max_blobs <= 8 + FILES);
    weir_ckstore_entry_t *e = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(weir_ckstore_list(st, "long-job", &e, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT(e[0].id == 7 && e[0].savepoint);
    CU_ASSERT(e[1].id == 98 && e[2].id == 99 && e[3].id == 100);
    free(e);
    for (int i = 0; i < FILES; i++)
        CU_ASSERT_TRUE(weir_ckstore_has_blob(st, &sp[i]));
    CU_ASSERT_EQUAL(weir_ckstore_prune(st, "long-job", 0, NULL), WEIR_EINVAL);
    /* a savepoint goes only when deleted */
    CU_ASSERT_EQUAL(weir_ckstore_delete(st, "long-job", 7), 0);
    weir_ckstore_gc_stats_t gs;
    CU_ASSERT_EQUAL(weir_ckstore_gc(st, 0, &gs), 0);
    CU_ASSERT_EQUAL(gs.blobs_kept, 8);
    CU_ASSERT_EQUAL(s_count(st, "blobs", false), 8);
    s_close(&st);
}

static void a_full_disk_gives_a_code_and_names_the_path(void)
{
    weir_ckstore_t *st = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_ck_hash_t small = s_put_seeded(st, 1, 100);
    /* A file size limit fails writes the way a full disk does (EFBIG
     * instead of ENOSPC), without a special file system. */
    struct rlimit saved, lim;
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &saved), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = saved;
    lim.rlim_cur = 4096;
    fflush(stdout); /* the runner's output may go to a file, too */
    fflush(stderr);
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);

    char *big = calloc(1, 20000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    weir_ck_hash_t h;
    weir_ck_hash_buf(big, 20000, &h);
    weir_ckstore_blob_t *b = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_blob_begin(st, &h, 20000, &b), 0);
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 0, big, 20000), -EFBIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_ckstore_errmsg(st), "/blobs/."));
    CU_ASSERT_EQUAL(weir_ckstore_blob_write(st, b, 4096, big, 100), WEIR_EINVAL); /* broken */
    CU_ASSERT_EQUAL(weir_ckstore_blob_commit(st, &b), WEIR_EINVAL);
    CU_ASSERT_FALSE(weir_ckstore_has_blob(st, &h));
    CU_ASSERT_EQUAL(s_count(st, "blobs", true), 0);

    /* metadata larger than the limit: refused, and no part of it visible */
    weir_ck_hash_t many[200];
    for (int i = 0; i < 200; i++)
        many[i] = small;
    weir_ck_meta_t m;
    s_meta(&m, "job-1", 1, false, many, 200, 100);
    int rc = weir_ckstore_put_meta(st, &m);
    CU_ASSERT_EQUAL(rc, -EFBIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(weir_ckstore_errmsg(st), "checkpoints/job-1/1.meta"));
    weir_ck_meta_clear(&m);

    CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);
    free(big);
    weir_ckstore_entry_t *e = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(weir_ckstore_list(st, "job-1", &e, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(s_count(st, "checkpoints/job-1", true), 0);
    s_close(&st);
}

static void stores_open_from_paths_or_file_urls_only(void)
{
    weir_ckstore_t *st = s_open(); /* for s_dir */
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    weir_ckstore_destroy(&st);
    char url[160], err[512] = "";
    snprintf(url, sizeof url, "file://%s/shared", s_dir);
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_open(url, &st, err, sizeof err), 0);
    CU_ASSERT_NSTRING_EQUAL(weir_ckstore_root(st), s_dir, strlen(s_dir));
    CU_ASSERT_STRING_EQUAL(weir_ckstore_errmsg(st), "");
    weir_ckstore_destroy(&st);
    CU_ASSERT_EQUAL(weir_ckstore_open("s3://bucket/x", &st, err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s3://bucket/x"));
    CU_ASSERT_EQUAL(weir_ckstore_open("file://host/x", &st, err, sizeof err), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_ckstore_open("/proc/version/store", &st, err, sizeof err), -ENOTDIR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/proc/version/store"));
    CU_ASSERT_PTR_NULL(st);
    s_close(&st);
}

static void a_tasks_state_round_trips_through_the_store(void)
{
    weir_ckstore_t *cs = s_open();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cs);
    char db[128], ck[128], restore[128], err[512] = "";
    snprintf(db, sizeof db, "%s/db", s_dir);
    snprintf(ck, sizeof ck, "%s/ck-1", s_dir);
    snprintf(restore, sizeof restore, "%s/restore-1", s_dir);
    weir_state_t *st = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_open(db, &st, err, sizeof err), 0);
    weir_state_cf_t *cf = NULL, *dst = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job-1/1/w0", true, &cf), 0);
    weir_state_wb_t *wb = weir_state_wb_new();
    uint8_t k[64];
    for (uint32_t kg = 0; kg < 8; kg++) {
        for (int i = 0; i < 10; i++) {
            size_t kl = weir_state_key_encode(k, kg, 1000, 0, &i, sizeof i);
            weir_state_wb_put(wb, cf, k, kl, "acc", 3);
        }
    }
    CU_ASSERT_EQUAL(weir_state_wb_commit(st, wb), 0);
    weir_state_wb_destroy(&wb);

    /* the node: checkpoint, store what is new, describe it */
    weir_state_ckfile_t *files = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(weir_state_checkpoint(st, ck, cf, &files, &n, err, sizeof err), 0);
    weir_ck_task_snap_t snap;
    memset(&snap, 0, sizeof snap);
    snap.task = 2;
    snap.kind = 1;
    snap.kg_first = 0;
    snap.kg_last = 7;
    snprintf(snap.cf, sizeof snap.cf, "job-1/1/w0");
    for (size_t i = 0; i < n; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", ck, files[i].name);
        weir_ck_hash_t h;
        uint64_t size = 0;
        bool uploaded = false;
        CU_ASSERT_EQUAL(weir_ckstore_put_file(cs, path, &h, &size, &uploaded), 0);
        CU_ASSERT_EQUAL(size, files[i].size_bytes);
        if (uploaded)
            snap.incremental_bytes += size;
        CU_ASSERT_EQUAL(weir_ck_snap_add_file(&snap, files[i].name, &h, size), 0);
    }
    weir_state_ckfiles_free(&files);
    CU_ASSERT(snap.incremental_bytes > 0);

    /* the coordinator: metadata */
    weir_ck_meta_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.job, sizeof m.job, "job-1");
    m.id = 1;
    m.n_tasks = 1;
    m.tasks = calloc(1, sizeof *m.tasks);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m.tasks);
    m.tasks[0] = snap; /* m owns the files now */
    CU_ASSERT_EQUAL(weir_ckstore_put_meta(cs, &m), 0);
    weir_ck_meta_clear(&m);

    /* recovery: the latest checkpoint, key groups 2..5 into a new family */
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_load_latest(cs, "job-1", &m), 0);
    CU_ASSERT_EQUAL_FATAL(weir_ckstore_materialize(cs, &m.tasks[0], restore), 0);
    CU_ASSERT_EQUAL(weir_ckstore_materialize(cs, &m.tasks[0], restore), -EEXIST);
    CU_ASSERT_EQUAL_FATAL(weir_state_cf_open(st, "job-1/2/w1", true, &dst), 0);
    uint64_t n_keys = 0;
    CU_ASSERT_EQUAL(
        weir_state_restore_range(st, restore, m.tasks[0].cf, dst, 2, 5, &n_keys, err, sizeof err),
        0);
    CU_ASSERT_EQUAL(n_keys, 40);
    /* a snapshot naming a blob the store lacks cannot be materialized */
    m.tasks[0].files[0].hash.b[0] ^= 1;
    char again[160];
    snprintf(again, sizeof again, "%s/restore-2", s_dir);
    CU_ASSERT_EQUAL(weir_ckstore_materialize(cs, &m.tasks[0], again), WEIR_ENOTFOUND);
    weir_ck_meta_clear(&m);
    weir_state_cf_drop(st, &cf);
    weir_state_cf_drop(st, &dst);
    weir_state_destroy(&st);
    s_close(&cs);
}

void test_ckstore_register(void)
{
    CU_pSuite s = CU_add_suite("ckstore", NULL, NULL);
    CU_add_test(s, "blobs arrive in chunks and are stored under their hash",
                blobs_arrive_in_chunks_and_are_stored_under_their_hash);
    CU_add_test(s, "a blob that does not match its hash is refused",
                a_blob_that_does_not_match_its_hash_is_refused);
    CU_add_test(s, "metadata is written whole, and a crashed write is ignored then collected",
                metadata_is_written_whole_and_a_crashed_write_is_ignored_then_collected);
    CU_add_test(s, "checkpoints list by id and the latest is loaded",
                checkpoints_list_by_id_and_the_latest_is_loaded);
    CU_add_test(s, "gc keeps referenced, young and uploading blobs and deletes the rest",
                gc_keeps_referenced_young_and_uploading_blobs_and_deletes_the_rest);
    CU_add_test(s, "a hundred checkpoints with retain 3 keep storage bounded",
                a_hundred_checkpoints_with_retain_3_keep_storage_bounded);
    CU_add_test(s, "a full disk gives a code and names the path",
                a_full_disk_gives_a_code_and_names_the_path);
    CU_add_test(s, "stores open from paths or file URLs only",
                stores_open_from_paths_or_file_urls_only);
    CU_add_test(s, "a task's state round trips through the store",
                a_tasks_state_round_trips_through_the_store);
}
