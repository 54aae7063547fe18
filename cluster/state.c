/* state: RocksDB behind weir's state API. See state.h for the contract.
 *
 * Column families: RocksDB must be opened with every family that exists on
 * disk, so weir_state_open lists them and opens them all; their handles
 * wait in a registry (a list under a mutex, since task threads open and
 * drop families concurrently) until an operator asks for its name. A
 * handle given out is marked in use so that two operators never share a
 * family by mistake.
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"

#define S_CACHE_BYTES (8u << 20)
#define S_MEMTABLE_BYTES (4u << 20)
#define S_MEMTABLES_PER_CF 2
#define S_MEMTABLE_TOTAL_BYTES (16u << 20)

struct weir_state_cf {
    char *name;
    rocksdb_column_family_handle_t *h;
    bool in_use;                /* given out by weir_state_cf_open */
    struct weir_state_cf *next; /* registry list */
};

struct weir_state {
    rocksdb_t *db;
    rocksdb_options_t *opts; /* also the options of every column family */
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *filter; /* until handed to table */
    rocksdb_writeoptions_t *wopts;
    rocksdb_readoptions_t *ropts;
    pthread_mutex_t mu; /* guards cfs */
    weir_state_cf_t *cfs;
};

struct weir_state_wb {
    rocksdb_writebatch_t *b;
};

struct weir_state_iter {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *ro;
    char *upper; /* the bound ro points at */
};

static void s_errmsg(char *err, size_t cap, const char *what, const char *msg)
{
    if (err && cap)
        snprintf(err, cap, "%s: %s", what, msg ? msg : "unknown error");
}

static void s_free_state(weir_state_t *st)
{
    while (st->cfs) {
        weir_state_cf_t *c = st->cfs;
        st->cfs = c->next;
        if (c->h)
            rocksdb_column_family_handle_destroy(c->h);
        free(c->name);
        free(c);
    }
    if (st->db)
        rocksdb_close(st->db);
    if (st->wopts)
        rocksdb_writeoptions_destroy(st->wopts);
    if (st->ropts)
        rocksdb_readoptions_destroy(st->ropts);
    if (st->opts)
        rocksdb_options_destroy(st->opts);
    if (st->table)
        rocksdb_block_based_options_destroy(st->table);
    if (st->filter)
        rocksdb_filterpolicy_destroy(st->filter);
    if (st->cache)
        rocksdb_cache_destroy(st->cache);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

static weir_state_cf_t *s_cf_add(weir_state_t *st, const char *name,
                                 rocksdb_column_family_handle_t *h)
{
    weir_state_cf_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name = strdup(name);
    if (!c->name) {
        free(c);
        return NULL;
    }
    c->h = h;
    c->next = st->cfs;
    st->cfs = c;
    return c;
}

int weir_state_open(const char *dir, weir_state_t **out, char *err, size_t err_cap)
{
    weir_state_t *st = calloc(1, sizeof *st);
    if (!st) {
        s_errmsg(err, err_cap, dir, "out of memory");
        return WEIR_ESTATE;
    }
    pthread_mutex_init(&st->mu, NULL);
    char **names = NULL;
    size_t n_names = 0;
    const char **cf_names = NULL;
    const rocksdb_options_t **cf_opts = NULL;
    rocksdb_column_family_handle_t **handles = NULL;
    char *rerr = NULL;

    st->opts = rocksdb_options_create();
    st->table = rocksdb_block_based_options_create();
    st->cache = rocksdb_cache_create_lru(S_CACHE_BYTES);
    st->filter = rocksdb_filterpolicy_create_bloom_full(10);
    st->wopts = rocksdb_writeoptions_create();
    st->ropts = rocksdb_readoptions_create();
    if (!st->opts || !st->table || !st->cache || !st->filter || !st->wopts || !st->ropts)
        goto fail;
    rocksdb_block_based_options_set_block_cache(st->table, st->cache);
    rocksdb_block_based_options_set_filter_policy(st->table, st->filter);
    st->filter = NULL; /* the table options own it now */
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(st->table, 1);
    rocksdb_options_set_block_based_table_factory(st->opts, st->table);
    rocksdb_options_set_create_if_missing(st->opts, 1);
    rocksdb_options_set_create_missing_column_families(st->opts, 1);
    rocksdb_options_set_write_buffer_size(st->opts, S_MEMTABLE_BYTES);
    rocksdb_options_set_max_write_buffer_number(st->opts, S_MEMTABLES_PER_CF);
    rocksdb_options_set_db_write_buffer_size(st->opts, S_MEMTABLE_TOTAL_BYTES);
    rocksdb_options_set_max_background_jobs(st->opts, 2);
    rocksdb_options_set_max_open_files(st->opts, 512);
    rocksdb_options_set_keep_log_file_num(st->opts, 2);
    rocksdb_options_set_max_log_file_size(st->opts, 1 << 20);
    rocksdb_options_set_info_log_level(st->opts, 2); /* warnings and worse */
    rocksdb_writeoptions_disable_WAL(st->wopts, 1);

    names = rocksdb_list_column_families(st->opts, dir, &n_names, &rerr);
    if (rerr) { /* no database yet: only the default family */
        rocksdb_free(rerr);
        rerr = NULL;
        if (names)
            rocksdb_list_column_families_destroy(names, n_names);
        names = NULL;
        n_names = 0;
    }
    size_t n = names ? n_names : 1;
    cf_names = calloc(n, sizeof *cf_names);
    cf_opts = calloc(n, sizeof(const rocksdb_options_t *));
    handles = calloc(n, sizeof(rocksdb_column_family_handle_t *));
    if (!cf_names || !cf_opts || !handles)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        cf_names[i] = names ? names[i] : "default";
        cf_opts[i] = st->opts;
    }
    st->db = rocksdb_open_column_families(st->opts, dir, (int)n, cf_names, cf_opts, handles, &rerr);
    if (rerr || !st->db) {
        s_errmsg(err, err_cap, dir, rerr);
        rocksdb_free(rerr);
        st->db = NULL;
        goto fail_quiet;
    }
    for (size_t i = 0; i < n; i++) {
        if (!s_cf_add(st, cf_names[i], handles[i])) {
            for (size_t j = i; j < n; j++)
                rocksdb_column_family_handle_destroy(handles[j]);
            goto fail;
        }
    }
    if (names)
        rocksdb_list_column_families_destroy(names, n_names);
    free(cf_names);
    free(cf_opts);
    free(handles);
    *out = st;
    return 0;
fail:
    s_errmsg(err, err_cap, dir, "out of memory");
fail_quiet:
    if (names)
        rocksdb_list_column_families_destroy(names, n_names);
    free(cf_names);
    free(cf_opts);
    free(handles);
    s_free_state(st);
    return WEIR_ESTATE;
}

void weir_state_destroy(weir_state_t **pst)
{
    if (!pst || !*pst)
        return;
    s_free_state(*pst);
    *pst = NULL;
}

size_t weir_state_key_encode(uint8_t *buf, uint32_t kg, int64_t end_ms, int64_t start_ms,
                             const void *key, size_t key_len)
{
    buf[0] = (uint8_t)(kg >> 8);
    buf[1] = (uint8_t)kg;
    weir_state_put_ts(buf + 2, end_ms);
    weir_state_put_ts(buf + 10, start_ms);
    if (key_len)
        memcpy(buf + WEIR_STATE_KEY_HDR, key, key_len);
    return WEIR_STATE_KEY_HDR + key_len;
}

size_t weir_state_key_bound_after(uint8_t *buf, uint32_t kg, int64_t end_ms)
{
    if (end_ms == INT64_MAX) {
        kg++;
        end_ms = INT64_MIN;
    } else {
        end_ms++;
    }
    buf[0] = (uint8_t)(kg >> 8);
    buf[1] = (uint8_t)kg;
    weir_state_put_ts(buf + 2, end_ms);
    return 10;
}

int weir_state_key_decode(const uint8_t *k, size_t len, uint32_t *kg, int64_t *end_ms,
                          int64_t *start_ms, const uint8_t **key, size_t *key_len)
{
    if (len < WEIR_STATE_KEY_HDR)
        return WEIR_EINVAL;
    *kg = (uint32_t)k[0] << 8 | k[1];
    *end_ms = weir_state_get_ts(k + 2);
    *start_ms = weir_state_get_ts(k + 10);
    *key = k + WEIR_STATE_KEY_HDR;
    *key_len = len - WEIR_STATE_KEY_HDR;
    return 0;
}

static weir_state_cf_t *s_cf_find(weir_state_t *st, const char *name)
{
    for (weir_state_cf_t *c = st->cfs; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void s_cf_unlink(weir_state_t *st, weir_state_cf_t *cf)
{
    for (weir_state_cf_t **p = &st->cfs; *p; p = &(*p)->next) {
        if (*p == cf) {
            *p = cf->next;
            return;
        }
    }
}

int weir_state_cf_open(weir_state_t *st, const char *name, bool fresh, weir_state_cf_t **out)
{
    if (!name[0])
        return WEIR_EINVAL;
    int rc = 0;
    char *rerr = NULL;
    pthread_mutex_lock(&st->mu);
    weir_state_cf_t *c = s_cf_find(st, name);
    if (c && c->in_use) {
        rc = WEIR_EINVAL;
        goto done;
    }
    if (c && fresh && strcmp(name, "default") == 0) {
        rc = WEIR_EINVAL; /* RocksDB cannot drop the default family */
        goto done;
    }
    if (c && fresh) {
        rocksdb_drop_column_family(st->db, c->h, &rerr);
        if (rerr) {
            rocksdb_free(rerr);
            rc = WEIR_ESTATE;
            goto done;
        }
        rocksdb_column_family_handle_destroy(c->h);
        c->h = NULL;
    }
    if (!c || !c->h) {
        rocksdb_column_family_handle_t *h =
            rocksdb_create_column_family(st->db, st->opts, name, &rerr);
        if (rerr || !h) {
            rocksdb_free(rerr);
            if (c) {
                s_cf_unlink(st, c);
                free(c->name);
                free(c);
            }
            rc = WEIR_ESTATE;
            goto done;
        }
        if (c) {
            c->h = h;
        } else if (!(c = s_cf_add(st, name, h))) {
            rocksdb_column_family_handle_destroy(h);
            rc = -ENOMEM;
            goto done;
        }
    }
    c->in_use = true;
    *out = c;
done:
    pthread_mutex_unlock(&st->mu);
    return rc;
}

int weir_state_cf_drop(weir_state_t *st, weir_state_cf_t **pcf)
{
    if (!pcf || !*pcf)
        return 0;
    weir_state_cf_t *cf = *pcf;
    *pcf = NULL;
    char *rerr = NULL;
    pthread_mutex_lock(&st->mu);
    rocksdb_drop_column_family(st->db, cf->h, &rerr);
    rocksdb_column_family_handle_destroy(cf->h);
    s_cf_unlink(st, cf);
    pthread_mutex_unlock(&st->mu);
    free(cf->name);
    free(cf);
    if (rerr) {
        rocksdb_free(rerr);
        return WEIR_ESTATE;
    }
    return 0;
}

void weir_state_cf_close(weir_state_t *st, weir_state_cf_t **pcf)
{
    if (!pcf || !*pcf)
        return;
    pthread_mutex_lock(&st->mu);
    (*pcf)->in_use = false;
    pthread_mutex_unlock(&st->mu);
    *pcf = NULL;
}

weir_state_wb_t *weir_state_wb_new(void)
{
    weir_state_wb_t *wb = calloc(1, sizeof *wb);
    if (!wb)
        return NULL;
    wb->b = rocksdb_writebatch_create();
    if (!wb->b) {
        free(wb);
        return NULL;
    }
    return wb;
}

void weir_state_wb_destroy(weir_state_wb_t **pwb)
{
    if (!pwb || !*pwb)
        return;
    rocksdb_writebatch_destroy((*pwb)->b);
    free(*pwb);
    *pwb = NULL;
}

void weir_state_wb_put(weir_state_wb_t *wb, weir_state_cf_t *cf, const void *key, size_t klen,
                       const void *val, size_t vlen)
{
    rocksdb_writebatch_put_cf(wb->b, cf->h, key, klen, val, vlen);
}

void weir_state_wb_delete(weir_state_wb_t *wb, weir_state_cf_t *cf, const void *key, size_t klen)
{
    rocksdb_writebatch_delete_cf(wb->b, cf->h, key, klen);
}

void weir_state_wb_delete_range(weir_state_wb_t *wb, weir_state_cf_t *cf, const void *from,
                                size_t flen, const void *to, size_t tlen)
{
    rocksdb_writebatch_delete_range_cf(wb->b, cf->h, from, flen, to, tlen);
}

uint32_t weir_state_wb_count(weir_state_wb_t *wb)
{
    return (uint32_t)rocksdb_writebatch_count(wb->b);
}

int weir_state_wb_commit(weir_state_t *st, weir_state_wb_t *wb)
{
    if (rocksdb_writebatch_count(wb->b) == 0)
        return 0;
    char *rerr = NULL;
    rocksdb_write(st->db, st->wopts, wb->b, &rerr);
    if (rerr) {
        rocksdb_free(rerr);
        return WEIR_ESTATE;
    }
    rocksdb_writebatch_clear(wb->b);
    return 0;
}

int weir_state_get(weir_state_t *st, weir_state_cf_t *cf, const void *key, size_t klen,
                   weir_state_val_t *out)
{
    char *rerr = NULL;
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned_cf(st->db, st->ropts, cf->h, key, klen, &rerr);
    if (rerr) {
        rocksdb_free(rerr);
        rocksdb_pinnableslice_destroy(p);
        return WEIR_ESTATE;
    }
    if (!p)
        return WEIR_ENOTFOUND;
    size_t len;
    const char *v = rocksdb_pinnableslice_value(p, &len);
    if (!v) {
        rocksdb_pinnableslice_destroy(p);
        return WEIR_ENOTFOUND;
    }
    out->data = (const uint8_t *)v;
    out->len = len;
    out->pin = p;
    return 0;
}

void weir_state_val_release(weir_state_val_t *v)
{
    if (v->pin)
        rocksdb_pinnableslice_destroy(v->pin);
    v->pin = NULL;
    v->data = NULL;
    v->len = 0;
}

int weir_state_iter_open(weir_state_t *st, weir_state_cf_t *cf, const void *upper, size_t ulen,
                         weir_state_iter_t **out)
{
    weir_state_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return -ENOMEM;
    it->ro = rocksdb_readoptions_create();
    if (!it->ro)
        goto fail;
    if (upper) {
        it->upper = malloc(ulen ? ulen : 1);
        if (!it->upper)
            goto fail;
        memcpy(it->upper, upper, ulen);
        rocksdb_readoptions_set_iterate_upper_bound(it->ro, it->upper, ulen);
    }
    it->it = rocksdb_create_iterator_cf(st->db, it->ro, cf->h);
    if (!it->it)
        goto fail;
    *out = it;
    return 0;
fail:
    weir_state_iter_destroy(&it);
    return -ENOMEM;
}

void weir_state_iter_seek(weir_state_iter_t *it, const void *key, size_t klen)
{
    rocksdb_iter_seek(it->it, key, klen);
}

bool weir_state_iter_valid(const weir_state_iter_t *it)
{
    return rocksdb_iter_valid(it->it);
}

void weir_state_iter_next(weir_state_iter_t *it)
{
    rocksdb_iter_next(it->it);
}

const uint8_t *weir_state_iter_key(const weir_state_iter_t *it, size_t *len)
{
    return (const uint8_t *)rocksdb_iter_key(it->it, len);
}

const uint8_t *weir_state_iter_value(const weir_state_iter_t *it, size_t *len)
{
    return (const uint8_t *)rocksdb_iter_value(it->it, len);
}

int weir_state_iter_status(const weir_state_iter_t *it)
{
    char *rerr = NULL;
    rocksdb_iter_get_error(it->it, &rerr);
    if (rerr) {
        rocksdb_free(rerr);
        return WEIR_ESTATE;
    }
    return 0;
}

void weir_state_iter_destroy(weir_state_iter_t **pit)
{
    if (!pit || !*pit)
        return;
    weir_state_iter_t *it = *pit;
    if (it->it)
        rocksdb_iter_destroy(it->it);
    if (it->ro)
        rocksdb_readoptions_destroy(it->ro);
    free(it->upper);
    free(it);
    *pit = NULL;
}

/* ---- checkpoints ------------------------------------------------------ */

#define S_RESTORE_BATCH_BYTES (1u << 20)
#define S_RESTORE_READAHEAD (2u << 20)

/* A checkpoint directory opened read-only with all of its families. */
typedef struct {
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_t *db;
    char **names;
    size_t n;
    rocksdb_column_family_handle_t **handles;
} s_ro_t;

static void s_ro_close(s_ro_t *ro)
{
    if (ro->handles)
        for (size_t i = 0; i < ro->n; i++)
            if (ro->handles[i])
                rocksdb_column_family_handle_destroy(ro->handles[i]);
    if (ro->db)
        rocksdb_close(ro->db);
    if (ro->names)
        rocksdb_list_column_families_destroy(ro->names, ro->n);
    free(ro->handles);
    if (ro->opts)
        rocksdb_options_destroy(ro->opts);
    if (ro->table)
        rocksdb_block_based_options_destroy(ro->table);
    memset(ro, 0, sizeof *ro);
}

/* Opens dir read-only. Paranoid checks are off so that a checkpoint that
 * holds only some families' SST files opens (see state.h); no block cache,
 * since a restore reads each block once. */
static int s_ro_open(const char *dir, s_ro_t *ro, char *err, size_t err_cap)
{
    memset(ro, 0, sizeof *ro);
    char *rerr = NULL;
    const rocksdb_options_t **cf_opts = NULL;
    ro->opts = rocksdb_options_create();
    ro->table = rocksdb_block_based_options_create();
    if (!ro->opts || !ro->table)
        goto oom;
    rocksdb_block_based_options_set_no_block_cache(ro->table, 1);
    rocksdb_options_set_block_based_table_factory(ro->opts, ro->table);
    rocksdb_options_set_paranoid_checks(ro->opts, 0);
    rocksdb_options_set_info_log_level(ro->opts, 3); /* errors only */
    ro->names = rocksdb_list_column_families(ro->opts, dir, &ro->n, &rerr);
    if (rerr || !ro->names) {
        s_errmsg(err, err_cap, dir, rerr ? rerr : "no column families");
        rocksdb_free(rerr);
        s_ro_close(ro); /* frees the (empty) name array RocksDB returns on error */
        return WEIR_ESTATE;
    }
    cf_opts = calloc(ro->n, sizeof(const rocksdb_options_t *));
    ro->handles = calloc(ro->n, sizeof(rocksdb_column_family_handle_t *));
    if (!cf_opts || !ro->handles)
        goto oom;
    for (size_t i = 0; i < ro->n; i++)
        cf_opts[i] = ro->opts;
    ro->db = rocksdb_open_for_read_only_column_families(
        ro->opts, dir, (int)ro->n, (const char *const *)ro->names, cf_opts, ro->handles, 0, &rerr);
    free(cf_opts);
    if (rerr || !ro->db) {
        s_errmsg(err, err_cap, dir, rerr);
        rocksdb_free(rerr);
        ro->db = NULL;
        memset(ro->handles, 0, ro->n * sizeof(rocksdb_column_family_handle_t *));
        s_ro_close(ro);
        return WEIR_ESTATE;
    }
    return 0;
oom:
    free(cf_opts);
    s_errmsg(err, err_cap, dir, "out of memory");
    s_ro_close(ro);
    return -ENOMEM;
}

/* The files RocksDB puts into a checkpoint; anything else (a LOG, a stray
 * file) is not part of it. */
static bool s_ck_name(const char *n, bool *sst)
{
    size_t len = strlen(n);
    *sst = len > 4 && strcmp(n + len - 4, ".sst") == 0;
    if (*sst || (len > 5 && strcmp(n + len - 5, ".blob") == 0)) {
        *sst = true; /* blob files are immutable too */
        return true;
    }
    return strcmp(n, "CURRENT") == 0 || strncmp(n, "MANIFEST-", 9) == 0 ||
           strncmp(n, "OPTIONS-", 8) == 0 || (len > 4 && strcmp(n + len - 4, ".log") == 0);
}

static int s_cmp_ckfile(const void *pa, const void *pb)
{
    const weir_state_ckfile_t *a = pa, *b = pb;
    if (a->immutable != b->immutable)
        return a->immutable ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Lists the checkpoint files in dir, each SST file with its family. */
static int s_ck_list(const char *dir, const char *only, weir_state_ckfile_t **files,
                     size_t *n_files, char *err, size_t err_cap)
{
    s_ro_t ro;
    int rc = s_ro_open(dir, &ro, err, err_cap);
    if (rc)
        return rc;
    const rocksdb_livefiles_t *lf = rocksdb_livefiles(ro.db);
    DIR *d = opendir(dir);
    weir_state_ckfile_t *out = NULL;
    size_t n = 0, cap = 0;
    if (!lf || !d) {
        rc = d ? -ENOMEM : -errno;
        s_errmsg(err, err_cap, dir, d ? "out of memory" : strerror(errno));
        goto done;
    }
    int n_live = rocksdb_livefiles_count(lf);
    struct dirent *e;
    while ((e = readdir(d))) {
        bool sst;
        if (!s_ck_name(e->d_name, &sst) || strlen(e->d_name) >= sizeof out->name)
            continue;
        const char *cf = "";
        for (int i = 0; sst && i < n_live; i++) {
            const char *ln = rocksdb_livefiles_name(lf, i); /* "/000012.sst" */
            if (ln && strcmp(ln[0] == '/' ? ln + 1 : ln, e->d_name) == 0) {
                cf = rocksdb_livefiles_column_family_name(lf, i);
                break;
            }
        }
        if (only && cf[0] && strcmp(cf, only) != 0)
            continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, 0) != 0) {
            rc = -errno;
            s_errmsg(err, err_cap, dir, strerror(errno));
            goto done;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            weir_state_ckfile_t *p = realloc(out, cap * sizeof *p);
            if (!p) {
                rc = -ENOMEM;
                s_errmsg(err, err_cap, dir, "out of memory");
                goto done;
            }
            out = p;
        }
        weir_state_ckfile_t *f = &out[n++];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", e->d_name);
        snprintf(f->cf, sizeof f->cf, "%s", cf);
        f->size_bytes = (uint64_t)sb.st_size;
        f->immutable = sst;
    }
    if (n)
        qsort(out, n, sizeof *out, s_cmp_ckfile);
done:
    if (d)
        closedir(d);
    if (lf)
        rocksdb_livefiles_destroy(lf);
    s_ro_close(&ro);
    if (rc) {
        free(out);
        return rc;
    }
    *files = out;
    *n_files = n;
    return 0;
}

int weir_state_checkpoint(weir_state_t *st, const char *dir, weir_state_cf_t *only,
                          weir_state_ckfile_t **files, size_t *n_files, char *err, size_t err_cap)
{
    *files = NULL;
    *n_files = 0;
    char *rerr = NULL;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    if (!fo) {
        s_errmsg(err, err_cap, dir, "out of memory");
        return -ENOMEM;
    }
    rocksdb_flushoptions_set_wait(fo, 1);
    pthread_mutex_lock(&st->mu);
    for (weir_state_cf_t *c = st->cfs; c && !rerr; c = c->next)
        if (c->h && (!only || c == only))
            rocksdb_flush_cf(st->db, fo, c->h, &rerr);
    pthread_mutex_unlock(&st->mu);
    rocksdb_flushoptions_destroy(fo);
    if (rerr) {
        s_errmsg(err, err_cap, dir, rerr);
        rocksdb_free(rerr);
        return WEIR_ESTATE;
    }
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(st->db, &rerr);
    if (!rerr && cp)
        /* all families are flushed already when only is NULL; with a
         * family, a flush here would flush the others too */
        rocksdb_checkpoint_create(cp, dir, only ? UINT64_MAX : 0, &rerr);
    if (cp)
        rocksdb_checkpoint_object_destroy(cp);
    if (rerr || !cp) {
        s_errmsg(err, err_cap, dir, rerr);
        rocksdb_free(rerr);
        return WEIR_ESTATE;
    }
    return s_ck_list(dir, only ? only->name : NULL, files, n_files, err, err_cap);
}

void weir_state_ckfiles_free(weir_state_ckfile_t **files)
{
    if (!files)
        return;
    free(*files);
    *files = NULL;
}

int weir_state_restore_range(weir_state_t *st, const char *ckpt_dir, const char *cf_name,
                             weir_state_cf_t *target, uint32_t kg_first, uint32_t kg_last,
                             uint64_t *n_keys, char *err, size_t err_cap)
{
    if (n_keys)
        *n_keys = 0;
    if (kg_first > kg_last || kg_last > 0xFFFF) {
        s_errmsg(err, err_cap, ckpt_dir, "bad key-group range");
        return WEIR_EINVAL;
    }
    s_ro_t ro;
    int rc = s_ro_open(ckpt_dir, &ro, err, err_cap);
    if (rc)
        return rc;
    rocksdb_column_family_handle_t *src = NULL;
    for (size_t i = 0; i < ro.n; i++)
        if (strcmp(ro.names[i], cf_name) == 0)
            src = ro.handles[i];
    rocksdb_readoptions_t *rdo = NULL;
    rocksdb_iterator_t *it = NULL;
    rocksdb_writebatch_t *wb = NULL;
    char *rerr = NULL;
    if (!src) {
        char what[WEIR_STATE_CF_MAX + 64];
        snprintf(what, sizeof what, "no column family '%s'", cf_name);
        s_errmsg(err, err_cap, ckpt_dir, what);
        rc = WEIR_ENOTFOUND;
        goto done;
    }
    uint8_t lower[2] = {(uint8_t)(kg_first >> 8), (uint8_t)kg_first};
    uint8_t upper[2] = {(uint8_t)((kg_last + 1) >> 8), (uint8_t)(kg_last + 1)};
    rdo = rocksdb_readoptions_create();
    wb = rocksdb_writebatch_create();
    if (!rdo || !wb) {
        s_errmsg(err, err_cap, ckpt_dir, "out of memory");
        rc = -ENOMEM;
        goto done;
    }
    rocksdb_readoptions_set_fill_cache(rdo, 0);
    rocksdb_readoptions_set_readahead_size(rdo, S_RESTORE_READAHEAD);
    if (kg_last < 0xFFFF) /* else every key to the end is in range */
        rocksdb_readoptions_set_iterate_upper_bound(rdo, (const char *)upper, sizeof upper);
    it = rocksdb_create_iterator_cf(ro.db, rdo, src);
    if (!it) {
        s_errmsg(err, err_cap, ckpt_dir, "out of memory");
        rc = -ENOMEM;
        goto done;
    }
    uint64_t copied = 0;
    size_t batch_bytes = 0;
    for (rocksdb_iter_seek(it, (const char *)lower, sizeof lower); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);
        rocksdb_writebatch_put_cf(wb, target->h, k, klen, v, vlen);
        copied++;
        batch_bytes += klen + vlen + 16;
        if (batch_bytes >= S_RESTORE_BATCH_BYTES) {
            rocksdb_write(st->db, st->wopts, wb, &rerr);
            if (rerr)
                break;
            rocksdb_writebatch_clear(wb);
            batch_bytes = 0;
        }
    }
    if (!rerr)
        rocksdb_iter_get_error(it, &rerr);
    if (!rerr && rocksdb_writebatch_count(wb) > 0)
        rocksdb_write(st->db, st->wopts, wb, &rerr);
    if (rerr) {
        s_errmsg(err, err_cap, ckpt_dir, rerr);
        rocksdb_free(rerr);
        rc = WEIR_ESTATE;
        goto done;
    }
    if (n_keys)
        *n_keys = copied;
done:
    if (it)
        rocksdb_iter_destroy(it);
    if (rdo)
        rocksdb_readoptions_destroy(rdo);
    if (wb)
        rocksdb_writebatch_destroy(wb);
    s_ro_close(&ro);
    return rc;
}
