/* filesink: a reader (who lists part-*.csv, hidden names ignored) sees a
 * part only once its checkpoint completed; publishing is idempotent; and
 * recovery, from every state a crash can leave, ends with exactly one
 * final file per (task, checkpoint) and no hidden leftovers. Crashes are
 * simulated by leaving the files as the crash point would (crash.h names
 * the points; a real crash ends the process, which the runner cannot). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filesink.h"
#include "testrand.h"

static char s_root[64];
static int s_n_dirs;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    chmod(path, 0755);
    return remove(path);
}

static int s_setup(void)
{
    snprintf(s_root, sizeof s_root, "/tmp/weir-filesink-XXXXXX");
    return mkdtemp(s_root) ? 0 : -1;
}

static int s_teardown(void)
{
    return nftw(s_root, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory path for one test (not created: the sink makes it). */
static const char *s_fresh(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/t%d", s_root, ++s_n_dirs);
    return buf;
}

/* Final and pending names, from rotating static buffers. */
static const char *s_fin(uint32_t k, uint64_t id)
{
    static char b[16][WEIR_FILESINK_NAME_MAX];
    static int i;
    char *p = b[i++ % 16];
    weir_filesink_final_name(k, id, p);
    return p;
}

static const char *s_pend(uint32_t k, uint64_t id)
{
    static char b[16][WEIR_FILESINK_NAME_MAX];
    static int i;
    char *p = b[i++ % 16];
    weir_filesink_pending_name(k, id, p);
    return p;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in dir (hidden ones too), sorted, joined by spaces. */
static const char *s_ls(const char *dir)
{
    static char out[8192];
    char *names[256];
    int n = 0;
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return "(no directory)";
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], s_cmp_str);
    for (int i = 0; i < n; i++) {
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
    return out;
}

/* 1 when dir holds exactly the names given (NULL-terminated); prints both
 * listings otherwise. */
static int s_dir_is(const char *dir, ...)
{
    char *names[64];
    int n = 0;
    va_list ap;
    va_start(ap, dir);
    for (const char *p; (p = va_arg(ap, const char *)) != NULL && n < 64;)
        names[n++] = (char *)p;
    va_end(ap);
    qsort(names, (size_t)n, sizeof names[0], s_cmp_str);
    char want[8192] = "";
    for (int i = 0; i < n; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? " " : "", names[i]);
    const char *got = s_ls(dir);
    if (strcmp(got, want) == 0)
        return 1;
    fprintf(stderr, "\n%s holds:\n  %s\nexpected:\n  %s\n", dir, got, want);
    return 0;
}

/* Natural order, as the tests' reader sorts: digit runs compare as
 * numbers. */
static int s_natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++, b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int s_natural_qsort(const void *a, const void *b)
{
    return s_natural_cmp(*(char *const *)a, *(char *const *)b);
}

/* What a reader sees: the concatenated data rows (headers dropped) of the
 * non-hidden part-*.csv files in natural name order; each file must start
 * with header. */
static const char *s_reader(const char *dir, const char *header)
{
    static char out[1 << 16];
    char *names[1024];
    int n = 0;
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return out;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 1024) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "part-", 5) == 0 && len > 4 &&
            strcmp(e->d_name + len - 4, ".csv") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], s_natural_qsort);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        char path[512], buf[1 << 14];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "r");
        size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[got] = '\0';
        size_t hl = strlen(header);
        if (strncmp(buf, header, hl) != 0)
            ok = 0;
        else
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s", buf + hl);
        free(names[i]);
    }
    return ok ? out : "(a part without the header)";
}

/* Content of dir/name, or "(no such file)". */
static const char *s_cat(const char *dir, const char *name)
{
    static char buf[1 << 14];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return "(no such file)";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void s_put(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static const char *const s_hdr[] = {"k", "v"};
#define HDR "k,v\n"

/* Writes rows "<from>,x" .. "<to-1>,x". */
static void s_rows(weir_filesink_t *fs, int from, int to)
{
    weir_csvsink_t *w = weir_filesink_writer(fs);
    for (int i = from; i < to; i++) {
        CU_ASSERT_EQUAL(weir_csvsink_i64(w, i), 0);
        CU_ASSERT_EQUAL(weir_csvsink_str(w, "x", 1), 0);
        CU_ASSERT_EQUAL(weir_csvsink_end_row(w), 0);
    }
}

/* The text of rows from..to-1 as s_rows writes them. */
static const char *s_text(int from, int to)
{
    static char b[4][1 << 14];
    static int n;
    char *p = b[n++ % 4];
    p[0] = '\0';
    for (int i = from; i < to; i++)
        snprintf(p + strlen(p), sizeof b[0] - strlen(p), "%d,x\n", i);
    return p;
}

static weir_filesink_t *s_open(const char *dir, uint32_t k, const char *tag)
{
    weir_filesink_t *fs = NULL;
    char err[256] = "";
    int rc = weir_filesink_open(dir, k, tag, s_hdr, 2, &fs, err, sizeof err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "\nopen: %s\n", err);
    return fs;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        char err_[512] = "";                                                                       \
        int rc_ = (call);                                                                          \
        CU_ASSERT_EQUAL(rc_, 0);                                                                   \
        if (rc_)                                                                                   \
            fprintf(stderr, "\n%s: %d %s\n", #call, rc_, err_);                                    \
    } while (0)
#define ERRBUF err_, sizeof err_

static void names_carry_task_and_checkpoint_and_sort_in_checkpoint_order(void)
{
    CU_ASSERT_STRING_EQUAL(s_fin(3, 12), "part-3-00000000000000000012.csv");
    CU_ASSERT_STRING_EQUAL(s_pend(3, 12), ".part-3-00000000000000000012.csv.pending");
    CU_ASSERT_STRING_EQUAL(s_fin(0, UINT64_MAX), "part-0-18446744073709551615.csv");
    CU_ASSERT_STRING_EQUAL(s_pend(4294967295u, UINT64_MAX),
                           ".part-4294967295-18446744073709551615.csv.pending");
    CU_ASSERT(strlen(s_pend(4294967295u, UINT64_MAX)) < WEIR_FILESINK_NAME_MAX);
    static const uint64_t ids[] = {
        0, 1, 2, 9, 10, 11, 99, 100, 1000, 12345678901ull, (uint64_t)1 << 63, UINT64_MAX};
    size_t n = sizeof ids / sizeof ids[0];
    for (size_t i = 0; i + 1 < n; i++) {
        char a[WEIR_FILESINK_NAME_MAX], b[WEIR_FILESINK_NAME_MAX];
        weir_filesink_final_name(7, ids[i], a);
        weir_filesink_final_name(7, ids[i + 1], b);
        CU_ASSERT(strcmp(a, b) < 0);        /* ls, shell globs */
        CU_ASSERT(s_natural_cmp(a, b) < 0); /* the tests' reader */
        weir_filesink_pending_name(7, ids[i], a);
        weir_filesink_pending_name(7, ids[i + 1], b);
        CU_ASSERT(strcmp(a, b) < 0);
    }
}

static void a_precommit_makes_a_pending_part_that_readers_see_only_after_commit(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "trips-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    const char *inprog = ".trips-1-1.part-0.csv.inprogress";
    CU_ASSERT(s_dir_is(dir, inprog, NULL));
    s_rows(fs, 0, 3);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    CU_ASSERT(s_dir_is(dir, inprog, s_pend(0, 1), NULL));
    CU_ASSERT_STRING_EQUAL(s_cat(dir, s_pend(0, 1)), HDR "0,x\n1,x\n2,x\n");
    CU_ASSERT_EQUAL(weir_csvsink_flush(weir_filesink_writer(fs)), 0);
    CU_ASSERT_STRING_EQUAL(s_cat(dir, inprog), HDR); /* a fresh part, with its header */
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 1);
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), "");
    s_rows(fs, 3, 5);
    OK(weir_filesink_precommit(fs, 2, ERRBUF));
    CU_ASSERT(s_dir_is(dir, inprog, s_pend(0, 1), s_pend(0, 2), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), "");
    OK(weir_filesink_commit(fs, 1, ERRBUF));
    CU_ASSERT(s_dir_is(dir, inprog, s_fin(0, 1), s_pend(0, 2), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 3));
    OK(weir_filesink_commit(fs, 2, ERRBUF));
    CU_ASSERT(s_dir_is(dir, inprog, s_fin(0, 1), s_fin(0, 2), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 5));
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 0);
    CU_ASSERT_EQUAL(weir_filesink_rows(fs), 5);
    weir_filesink_destroy(&fs);
    CU_ASSERT_PTR_NULL(fs);
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(0, 2), NULL));
    weir_filesink_destroy(&fs);
}

static void a_commit_publishes_only_parts_up_to_its_checkpoint(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 2, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    for (int ck = 1; ck <= 4; ck++) {
        s_rows(fs, ck * 10, ck * 10 + 2);
        OK(weir_filesink_precommit(fs, (uint64_t)ck * 3, ERRBUF)); /* ids 3 6 9 12 */
    }
    OK(weir_filesink_commit(fs, 7, ERRBUF)); /* no pending part 7: up to it */
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-2.csv.inprogress", s_fin(2, 3), s_fin(2, 6), s_pend(2, 9),
                       s_pend(2, 12), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), "10,x\n11,x\n20,x\n21,x\n");
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 2);
    OK(weir_filesink_commit(fs, 12, ERRBUF));
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-2.csv.inprogress", s_fin(2, 3), s_fin(2, 6), s_fin(2, 9),
                       s_fin(2, 12), NULL));
    weir_filesink_destroy(&fs);
}

static void committing_again_or_an_older_checkpoint_changes_nothing(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    s_rows(fs, 2, 4);
    OK(weir_filesink_precommit(fs, 2, ERRBUF));
    OK(weir_filesink_commit(fs, 2, ERRBUF));
    char before[8192];
    snprintf(before, sizeof before, "%s", s_ls(dir));
    OK(weir_filesink_commit(fs, 2, ERRBUF));
    OK(weir_filesink_commit(fs, 1, ERRBUF));
    OK(weir_filesink_commit(fs, 0, ERRBUF));
    CU_ASSERT_STRING_EQUAL(s_ls(dir), before);
    /* publish_dir for the same checkpoint (another node's view) too */
    OK(weir_filesink_publish_dir(dir, 0, 2, ERRBUF));
    CU_ASSERT_STRING_EQUAL(s_ls(dir), before);
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 4));
    weir_filesink_destroy(&fs);
}

static void a_part_without_rows_creates_nothing_at_precommit(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", NULL));
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 0);
    OK(weir_filesink_commit(fs, 1, ERRBUF));
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", NULL));
    s_rows(fs, 0, 1);
    OK(weir_filesink_precommit(fs, 2, ERRBUF));
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_pend(0, 2), NULL));
    CU_ASSERT_STRING_EQUAL(s_cat(dir, s_pend(0, 2)), HDR "0,x\n");
    weir_filesink_destroy(&fs);
}

static void checkpoint_ids_of_one_sink_must_increase(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 1);
    OK(weir_filesink_precommit(fs, 5, ERRBUF));
    s_rows(fs, 1, 2);
    char err[256] = "";
    CU_ASSERT_EQUAL(weir_filesink_precommit(fs, 5, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not above checkpoint 5"));
    CU_ASSERT_EQUAL(weir_filesink_precommit(fs, 4, NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(weir_filesink_finish(fs, 5, NULL, 0), -EINVAL);
    /* nothing changed: the rows are still in the current part */
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_pend(0, 5), NULL));
    OK(weir_filesink_precommit(fs, 6, ERRBUF));
    CU_ASSERT_STRING_EQUAL(s_cat(dir, s_pend(0, 6)), HDR "1,x\n");
    weir_filesink_destroy(&fs);
}

static void destroy_removes_the_in_progress_part_and_keeps_pending_ones(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 1, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    s_rows(fs, 2, 4);
    weir_filesink_destroy(&fs);
    CU_ASSERT(s_dir_is(dir, s_pend(1, 1), NULL));
}

/* Crash while writing or at sink.precommitted: pending parts on both sides
 * of the restored checkpoint and in-progress files of the old attempt. */
static void recovery_publishes_parts_up_to_the_restored_checkpoint_and_deletes_the_rest(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    for (int ck = 1; ck <= 4; ck++) {
        s_rows(fs, (ck - 1) * 2, ck * 2);
        OK(weir_filesink_precommit(fs, (uint64_t)ck, ERRBUF));
    }
    OK(weir_filesink_commit(fs, 1, ERRBUF));
    weir_filesink_destroy(&fs);
    /* what the crash left: the attempt's in-progress part with rows */
    s_put(dir, ".j-1-1.part-0.csv.inprogress", HDR "8,x\n");
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_fin(0, 1), s_pend(0, 2), s_pend(0, 3),
                       s_pend(0, 4), NULL));
    /* checkpoint 3 completed, its notice never arrived; 4 did not */
    OK(weir_filesink_recover(dir, 0, 3, "j-1-", ERRBUF));
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(0, 2), s_fin(0, 3), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 6));
    OK(weir_filesink_recover(dir, 0, 3, "j-1-", ERRBUF)); /* again: same */
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(0, 2), s_fin(0, 3), NULL));
    /* the new attempt replays from checkpoint 3 */
    fs = s_open(dir, 0, "j-1-2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 6, 9);
    OK(weir_filesink_precommit(fs, 4, ERRBUF));
    OK(weir_filesink_commit(fs, 4, ERRBUF));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 9));
    weir_filesink_destroy(&fs);
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(0, 2), s_fin(0, 3), s_fin(0, 4), NULL));
}

static void a_restore_from_no_checkpoint_deletes_every_pending_part(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    weir_filesink_destroy(&fs);
    s_put(dir, ".j-1-1.part-0.csv.inprogress", HDR); /* sink.precommitted leaves it */
    OK(weir_filesink_recover(dir, 0, 0, "j-1-", ERRBUF));
    CU_ASSERT(s_dir_is(dir, NULL));
}

/* Crash at sink.publishing: the first part of a commit is out, the others
 * are not. */
static void recovery_finishes_a_commit_cut_short(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 5, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    for (int ck = 1; ck <= 3; ck++) {
        s_rows(fs, (ck - 1) * 3, ck * 3);
        OK(weir_filesink_precommit(fs, (uint64_t)ck, ERRBUF));
    }
    weir_filesink_destroy(&fs);
    char from[256], to[256];
    snprintf(from, sizeof from, "%s/%s", dir, s_pend(5, 1));
    snprintf(to, sizeof to, "%s/%s", dir, s_fin(5, 1));
    CU_ASSERT_EQUAL_FATAL(rename(from, to), 0);
    CU_ASSERT(s_dir_is(dir, s_fin(5, 1), s_pend(5, 2), s_pend(5, 3), NULL));
    OK(weir_filesink_recover(dir, 5, 3, "j-1-", ERRBUF));
    CU_ASSERT(s_dir_is(dir, s_fin(5, 1), s_fin(5, 2), s_fin(5, 3), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 9));
}

/* The link + unlink fallback cut short: one part under both names. */
static void a_part_both_pending_and_published_is_published_once(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    s_rows(fs, 2, 4);
    OK(weir_filesink_precommit(fs, 2, ERRBUF));
    char p1[256], f1[256];
    snprintf(p1, sizeof p1, "%s/%s", dir, s_pend(0, 1));
    snprintf(f1, sizeof f1, "%s/%s", dir, s_fin(0, 1));
    CU_ASSERT_EQUAL_FATAL(link(p1, f1), 0);  /* one file, two names */
    OK(weir_filesink_commit(fs, 1, ERRBUF)); /* the sink's own commit */
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_fin(0, 1), s_pend(0, 2), NULL));
    weir_filesink_destroy(&fs);
    /* a copy of equal bytes (another file) under the final name: recovery */
    s_put(dir, s_fin(0, 2), HDR "2,x\n3,x\n");
    OK(weir_filesink_recover(dir, 0, 2, "j-1-", ERRBUF));
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(0, 2), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 4));
}

static void a_part_under_both_names_with_other_content_is_an_error_naming_both(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    s_put(dir, s_fin(0, 1), HDR "something else\n");
    char err[512] = "";
    CU_ASSERT_EQUAL(weir_filesink_commit(fs, 1, err, sizeof err), -EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, s_pend(0, 1)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, s_fin(0, 1)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "differ"));
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 1); /* tried again by a later commit */
    CU_ASSERT_STRING_EQUAL(s_cat(dir, s_fin(0, 1)), HDR "something else\n");
    CU_ASSERT_STRING_EQUAL(s_cat(dir, s_pend(0, 1)), HDR "0,x\n1,x\n");
    weir_filesink_destroy(&fs);
    err[0] = '\0';
    CU_ASSERT_EQUAL(weir_filesink_recover(dir, 0, 1, "j-1-", err, sizeof err), -EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, s_pend(0, 1)));
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_pend(0, 1), NULL)); /* both kept */
    /* a directory in the way is no part either */
    char sub[256];
    snprintf(sub, sizeof sub, "%s/%s", dir, s_fin(1, 2));
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
    s_put(dir, s_pend(1, 2), HDR);
    CU_ASSERT_EQUAL(weir_filesink_publish_dir(dir, 1, 2, NULL, 0), -EEXIST);
    CU_ASSERT_STRING_EQUAL(s_cat(dir, s_pend(1, 2)), HDR);
}

static void a_commit_publishes_in_id_order_and_stops_at_the_first_failure(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    for (int ck = 1; ck <= 3; ck++) {
        s_rows(fs, ck, ck + 1);
        OK(weir_filesink_precommit(fs, (uint64_t)ck, ERRBUF));
    }
    s_put(dir, s_fin(0, 2), "in the way\n");
    CU_ASSERT_EQUAL(weir_filesink_commit(fs, 3, NULL, 0), -EEXIST);
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_fin(0, 1), s_fin(0, 2), s_pend(0, 2),
                       s_pend(0, 3), NULL));
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 2);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, s_fin(0, 2));
    unlink(path);
    OK(weir_filesink_commit(fs, 3, ERRBUF)); /* the retry publishes the rest */
    CU_ASSERT(
        s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_fin(0, 1), s_fin(0, 2), s_fin(0, 3), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(1, 4));
    weir_filesink_destroy(&fs);
}

static void a_part_published_by_another_hand_is_not_published_again(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    OK(weir_filesink_publish_dir(dir, 0, 1, ERRBUF)); /* e.g. a node's publish_dir */
    OK(weir_filesink_commit(fs, 1, ERRBUF));
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 0);
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_fin(0, 1), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 2));
    weir_filesink_destroy(&fs);
}

static void a_pending_part_removed_behind_the_sinks_back_is_reported(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 1);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    char path[256], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", dir, s_pend(0, 1));
    unlink(path);
    CU_ASSERT_EQUAL(weir_filesink_commit(fs, 1, err, sizeof err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, s_pend(0, 1)));
    weir_filesink_destroy(&fs);
}

static void recovery_deletes_only_in_progress_files_of_the_task_and_prefix(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
    const char *keep[] = {
        ".j-1-2.part-1.csv.inprogress",   /* another task */
        ".j-10-1.part-0.csv.inprogress",  /* another job */
        ".part-0.csv.inprogress",         /* no tag */
        ".j-1-1.part-0.csv.inprogress.x", /* not an in-progress name */
        "part-0.csv",                     /* not a checkpoint part */
        "notes.txt",
        ".part-0-0000000000000000001.csv.pending",  /* 19 digits: not ours */
        ".part-0-99999999999999999999.csv.pending", /* above UINT64_MAX */
    };
    size_t n_keep = sizeof keep / sizeof keep[0];
    for (size_t i = 0; i < n_keep; i++)
        s_put(dir, keep[i], "x\n");
    s_put(dir, s_pend(1, 9), HDR "9,x\n"); /* task 1's: not touched for task 0 */
    s_put(dir, ".j-1-1.part-0.csv.inprogress", HDR "1,x\n");
    s_put(dir, ".j-1-2.part-0.csv.inprogress", HDR);
    s_put(dir, ".j-1-2.x.part-0.csv.inprogress", HDR);  /* a tag with a dot */
    OK(weir_filesink_recover(dir, 0, 5, NULL, ERRBUF)); /* NULL: no in-progress file */
    CU_ASSERT_STRING_EQUAL(s_cat(dir, ".j-1-1.part-0.csv.inprogress"), HDR "1,x\n");
    OK(weir_filesink_recover(dir, 0, 5, "j-1-", ERRBUF));
    CU_ASSERT(s_dir_is(dir, keep[0], keep[1], keep[2], keep[3], keep[4], keep[5], keep[6], keep[7],
                       s_pend(1, 9), NULL));
    OK(weir_filesink_recover(dir, 0, 5, "", ERRBUF)); /* any tag: the other job's too */
    CU_ASSERT(s_dir_is(dir, keep[0], keep[2], keep[3], keep[4], keep[5], keep[6], keep[7],
                       s_pend(1, 9), NULL));
}

static void finish_publishes_what_is_pending_and_the_last_part(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    s_rows(fs, 2, 4);
    OK(weir_filesink_precommit(fs, 2, ERRBUF));
    OK(weir_filesink_commit(fs, 1, ERRBUF));
    s_rows(fs, 4, 7);
    CU_ASSERT_EQUAL(weir_filesink_finish(fs, 2, NULL, 0), -EINVAL); /* 2 is pending */
    OK(weir_filesink_finish(fs, 3, ERRBUF));
    CU_ASSERT_PTR_NULL(weir_filesink_writer(fs));
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(0, 2), s_fin(0, 3), NULL));
    CU_ASSERT_STRING_EQUAL(s_reader(dir, HDR), s_text(0, 7));
    CU_ASSERT_EQUAL(weir_filesink_rows(fs), 7);
    CU_ASSERT_EQUAL(weir_filesink_n_pending(fs), 0);
    CU_ASSERT_EQUAL(weir_filesink_precommit(fs, 9, NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(weir_filesink_finish(fs, 9, NULL, 0), -EINVAL);
    weir_filesink_destroy(&fs);
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(0, 2), s_fin(0, 3), NULL));
}

static void finish_without_rows_leaves_a_header_only_when_the_task_has_no_part(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *a = s_open(dir, 0, "j-1-1"), *b = s_open(dir, 1, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    OK(weir_filesink_finish(a, 1, ERRBUF));
    s_rows(b, 0, 1);
    OK(weir_filesink_precommit(b, 1, ERRBUF));
    OK(weir_filesink_commit(b, 1, ERRBUF));
    OK(weir_filesink_finish(b, 2, ERRBUF));
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), s_fin(1, 1), NULL));
    CU_ASSERT_STRING_EQUAL(s_cat(dir, s_fin(0, 1)), HDR);
    weir_filesink_destroy(&a);
    weir_filesink_destroy(&b);
}

static void a_finish_that_fails_stays_failed(void)
{
    char dir[128], sub[256];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 2);
    snprintf(sub, sizeof sub, "%s/%s", dir, s_fin(0, 1));
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0); /* the name is taken */
    char err[512] = "";
    CU_ASSERT_EQUAL(weir_filesink_finish(fs, 1, err, sizeof err), -EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, s_fin(0, 1)));
    CU_ASSERT_EQUAL(weir_filesink_finish(fs, 2, NULL, 0), -EEXIST); /* the cause, again */
    CU_ASSERT_EQUAL(weir_filesink_precommit(fs, 2, NULL, 0), -EEXIST);
    CU_ASSERT_STRING_EQUAL(s_cat(dir, ".j-1-1.part-0.csv.inprogress"), HDR "0,x\n1,x\n");
    weir_filesink_destroy(&fs);
    OK(weir_filesink_recover(dir, 0, 0, "j-1-", ERRBUF));
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), NULL));
}

static void recovery_of_a_missing_directory_is_nothing_to_do(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    OK(weir_filesink_recover(dir, 0, 3, "j-", ERRBUF));
    OK(weir_filesink_publish_dir(dir, 0, 3, ERRBUF));
    CU_ASSERT_EQUAL(access(dir, F_OK), -1);
}

static void a_full_disk_fails_the_precommit_and_the_sink_not_the_process(void)
{
    char dir[128];
    s_fresh(dir, sizeof dir);
    weir_filesink_t *fs = s_open(dir, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 1);
    OK(weir_filesink_precommit(fs, 1, ERRBUF));
    /* A file size limit makes write() fail with EFBIG, as a full disk
     * fails with ENOSPC, for root too. */
    struct rlimit old, small;
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = (rlim_t)16 * 1024;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &small), 0);
    weir_csvsink_t *w = weir_filesink_writer(fs);
    int failed_at = -1;
    for (int i = 0; i < 100000 && failed_at < 0; i++) {
        if (weir_csvsink_i64(w, i) || weir_csvsink_str(w, "xxxxxxxxxxxxxxxx", 16) ||
            weir_csvsink_end_row(w))
            failed_at = i;
    }
    char err[512] = "";
    int rc = weir_filesink_precommit(fs, 2, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    CU_ASSERT(failed_at > 0);
    CU_ASSERT_EQUAL(rc, -EFBIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
    CU_ASSERT_EQUAL(weir_filesink_precommit(fs, 3, NULL, 0), -EFBIG); /* sticky */
    CU_ASSERT_EQUAL(weir_filesink_finish(fs, 4, NULL, 0), -EFBIG);
    OK(weir_filesink_commit(fs, 1, ERRBUF)); /* what was pending still publishes */
    CU_ASSERT(s_dir_is(dir, ".j-1-1.part-0.csv.inprogress", s_fin(0, 1), NULL));
    weir_filesink_destroy(&fs);
    CU_ASSERT(s_dir_is(dir, s_fin(0, 1), NULL));
}

static void a_directory_that_cannot_be_used_is_an_error(void)
{
    char file[128], dir[256];
    s_fresh(file, sizeof file);
    s_put(s_root, strrchr(file, '/') + 1, "a file\n");
    snprintf(dir, sizeof dir, "%s/out", file); /* under a regular file */
    weir_filesink_t *fs = NULL;
    char err[512] = "";
    CU_ASSERT_EQUAL(weir_filesink_open(dir, 0, "j-1-1", s_hdr, 2, &fs, err, sizeof err), -ENOTDIR);
    CU_ASSERT_PTR_NULL(fs);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
    CU_ASSERT_EQUAL(weir_filesink_open(file, 0, "a/b", s_hdr, 2, &fs, NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(weir_filesink_open(file, 0, "", s_hdr, 2, &fs, NULL, 0), -EINVAL);
    CU_ASSERT_EQUAL(weir_filesink_open(file, 0, NULL, s_hdr, 2, &fs, NULL, 0), -EINVAL);
    CU_ASSERT_PTR_NULL(fs);
    err[0] = '\0';
    CU_ASSERT_EQUAL(weir_filesink_recover(file, 0, 1, "j-", err, sizeof err), -ENOTDIR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, file));
    CU_ASSERT_EQUAL(weir_filesink_publish_dir(file, 0, 1, NULL, 0), -ENOTDIR);
    if (geteuid() == 0)
        return; /* root renames in a read-only directory */
    char ro[128];
    s_fresh(ro, sizeof ro);
    fs = s_open(ro, 0, "j-1-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
    s_rows(fs, 0, 1);
    CU_ASSERT_EQUAL_FATAL(chmod(ro, 0555), 0);
    CU_ASSERT_EQUAL(weir_filesink_precommit(fs, 1, NULL, 0), -EACCES);
    chmod(ro, 0755);
    weir_filesink_destroy(&fs);
}

/* A job as a state machine over one sink task: rows numbered in order,
 * barriers, checkpoints that complete (commit) or not, and crashes at
 * every step (the sink dropped with its files left as the step leaves
 * them; then restore from the last completed checkpoint, recovery and
 * replay). Whatever happens, what readers see at the end is every row
 * once, in order. */
static void random_crashes_and_restores_keep_every_row_exactly_once(void)
{
    for (int si = 0; si < testrand_n_seeds(30); si++) {
        uint64_t seed = testrand_seed_at(si);
        testrand_t r;
        testrand_seed(&r, seed);
        char dir[128], tag[32];
        s_fresh(dir, sizeof dir);
        int attempt = 1, total = 40 + (int)testrand_below(&r, 60);
        snprintf(tag, sizeof tag, "j-1-%d", attempt);
        weir_filesink_t *fs = s_open(dir, 3, tag);
        CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
        int pos = 0;                  /* next row the source emits */
        uint64_t next_ck = 1;         /* ids increase across attempts */
        uint64_t completed = 0;       /* last completed checkpoint */
        int completed_pos[512] = {0}; /* source position of each checkpoint */
        int ok = 1;
        while (pos < total && ok) {
            uint32_t op = testrand_below(&r, 10);
            if (op < 5) { /* rows */
                int n = (int)testrand_below(&r, 4);
                if (pos + n > total)
                    n = total - pos;
                s_rows(fs, pos, pos + n);
                pos += n;
            } else if (op < 7) { /* barrier; the checkpoint completes now, later or never */
                uint64_t ck = next_ck++;
                completed_pos[ck] = pos;
                ok &= weir_filesink_precommit(fs, ck, NULL, 0) == 0;
                if (testrand_below(&r, 3)) {
                    completed = ck;
                    if (testrand_below(&r, 4))
                        ok &= weir_filesink_commit(fs, ck, NULL, 0) == 0;
                }
            } else if (op < 9) { /* a late commit of the last completed checkpoint */
                ok &= weir_filesink_commit(fs, completed, NULL, 0) == 0;
            } else { /* crash: sometimes halfway through publishing */
                weir_filesink_destroy(&fs);
                if (testrand_below(&r, 2)) {
                    char stale[128];
                    snprintf(stale, sizeof stale, ".%s.part-3.csv.inprogress", tag);
                    s_put(dir, stale, HDR "-1,torn\n");
                }
                /* the lowest pending part of the completed checkpoint out */
                for (uint64_t id = 1; id <= completed && testrand_below(&r, 2); id++) {
                    char from[256], to[256];
                    snprintf(from, sizeof from, "%s/%s", dir, s_pend(3, id));
                    snprintf(to, sizeof to, "%s/%s", dir, s_fin(3, id));
                    if (rename(from, to) == 0)
                        break;
                    ok &= errno == ENOENT;
                }
                ok &= weir_filesink_recover(dir, 3, completed, "j-1-", NULL, 0) == 0;
                pos = completed_pos[completed];
                snprintf(tag, sizeof tag, "j-1-%d", ++attempt);
                fs = s_open(dir, 3, tag);
                ok &= fs != NULL;
            }
            ok &= next_ck < 500;
        }
        ok &= fs && weir_filesink_finish(fs, next_ck, NULL, 0) == 0;
        weir_filesink_destroy(&fs);
        const char *seen = s_reader(dir, HDR);
        ok &= strcmp(seen, s_text(0, total)) == 0;
        ok &= strstr(s_ls(dir), ".part") == NULL; /* nothing hidden left */
        CU_ASSERT(ok);
        if (!ok)
            fprintf(stderr, "\nseed %llu failed (WEIR_TEST_SEED=%llu): %s holds %s\n",
                    (unsigned long long)seed, (unsigned long long)seed, dir, s_ls(dir));
    }
}

/* Settling for a restart of the same job never touches the new attempt's
 * own in-progress parts (another node may have opened them already), even
 * at attempt 10 whose tag attempt 1's would prefix without the fixed
 * width; it removes the earlier attempts' ones, publishes pending parts up
 * to the restored checkpoint and deletes later ones. For another job's
 * checkpoint every attempt of that job goes. */
static void settling_keeps_the_new_attempts_parts(void)
{
    char d[128];
    s_fresh(d, sizeof d);
    CU_ASSERT_EQUAL_FATAL(mkdir(d, 0755), 0);
    char t1[64], t9[64], t10[64], name[128];
    weir_filesink_tag("job-7", 1, t1, sizeof t1);
    weir_filesink_tag("job-7", 9, t9, sizeof t9);
    weir_filesink_tag("job-7", 10, t10, sizeof t10);
    CU_ASSERT_STRING_EQUAL(t10, "job-7-a0010");
    char n1[128], n9[128], n10[128], other[128];
    snprintf(n1, sizeof n1, ".%s.part-0.csv.inprogress", t1);
    snprintf(n9, sizeof n9, ".%s-late.part-1.csv.inprogress", t9);
    snprintf(n10, sizeof n10, ".%s.part-0.csv.inprogress", t10);
    snprintf(other, sizeof other, ".job-70-a0001.part-0.csv.inprogress");
    s_put(d, n1, "a\n");
    s_put(d, n9, "a\n");
    s_put(d, n10, "a\n");
    s_put(d, other, "a\n");
    s_put(d, s_pend(0, 3), "k,v\n1,1\n");
    s_put(d, s_pend(1, 5), "k,v\n2,2\n");
    char err[256] = "";
    CU_ASSERT_EQUAL(weir_filesink_settle(d, 2, 4, "job-7", "job-7", 10, err, sizeof err), 0);
    CU_ASSERT_TRUE(s_dir_is(d, n10, other, s_fin(0, 3), NULL));
    (void)name;
    /* Restored from another job: all its attempts' parts go, ours stay. */
    s_put(d, n1, "a\n");
    CU_ASSERT_EQUAL(weir_filesink_settle(d, 1, 3, "job-7", "job-8", 1, err, sizeof err), 0);
    CU_ASSERT_TRUE(s_dir_is(d, other, s_fin(0, 3), NULL));
    /* Another job restored from checkpoint 2 would write part 3's rows
     * again: refused, nothing touched. From 3 it is fine. */
    CU_ASSERT_EQUAL(weir_filesink_settle(d, 1, 2, "job-7", "job-9", 1, err, sizeof err), -EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "written after checkpoint 2"));
    CU_ASSERT_TRUE(s_dir_is(d, other, s_fin(0, 3), NULL));
    CU_ASSERT_EQUAL(weir_filesink_settle(d, 1, 3, "job-7", "job-9", 1, err, sizeof err), 0);
}

void test_filesink_register(void)
{
    CU_pSuite s = CU_add_suite("filesink", s_setup, s_teardown);
    CU_add_test(s, "names carry task and checkpoint and sort in checkpoint order",
                names_carry_task_and_checkpoint_and_sort_in_checkpoint_order);
    CU_add_test(s, "a precommit makes a pending part that readers see only after commit",
                a_precommit_makes_a_pending_part_that_readers_see_only_after_commit);
    CU_add_test(s, "a commit publishes only parts up to its checkpoint",
                a_commit_publishes_only_parts_up_to_its_checkpoint);
    CU_add_test(s, "committing again or an older checkpoint changes nothing",
                committing_again_or_an_older_checkpoint_changes_nothing);
    CU_add_test(s, "a part without rows creates nothing at precommit",
                a_part_without_rows_creates_nothing_at_precommit);
    CU_add_test(s, "checkpoint ids of one sink must increase",
                checkpoint_ids_of_one_sink_must_increase);
    CU_add_test(s, "destroy removes the in-progress part and keeps pending ones",
                destroy_removes_the_in_progress_part_and_keeps_pending_ones);
    CU_add_test(s, "recovery publishes parts up to the restored checkpoint and deletes the rest",
                recovery_publishes_parts_up_to_the_restored_checkpoint_and_deletes_the_rest);
    CU_add_test(s, "a restore from no checkpoint deletes every pending part",
                a_restore_from_no_checkpoint_deletes_every_pending_part);
    CU_add_test(s, "recovery finishes a commit cut short", recovery_finishes_a_commit_cut_short);
    CU_add_test(s, "a part both pending and published is published once",
                a_part_both_pending_and_published_is_published_once);
    CU_add_test(s, "a part under both names with other content is an error naming both",
                a_part_under_both_names_with_other_content_is_an_error_naming_both);
    CU_add_test(s, "a commit publishes in id order and stops at the first failure",
                a_commit_publishes_in_id_order_and_stops_at_the_first_failure);
    CU_add_test(s, "a part published by another hand is not published again",
                a_part_published_by_another_hand_is_not_published_again);
    CU_add_test(s, "a pending part removed behind the sink's back is reported",
                a_pending_part_removed_behind_the_sinks_back_is_reported);
    CU_add_test(s, "recovery deletes only in-progress files of the task and prefix",
                recovery_deletes_only_in_progress_files_of_the_task_and_prefix);
    CU_add_test(s, "finish publishes what is pending and the last part",
                finish_publishes_what_is_pending_and_the_last_part);
    CU_add_test(s, "finish without rows leaves a header only when the task has no part",
                finish_without_rows_leaves_a_header_only_when_the_task_has_no_part);
    CU_add_test(s, "a finish that fails stays failed", a_finish_that_fails_stays_failed);
    CU_add_test(s, "recovery of a missing directory is nothing to do",
                recovery_of_a_missing_directory_is_nothing_to_do);
    CU_add_test(s, "a full disk fails the precommit and the sink, not the process",
                a_full_disk_fails_the_precommit_and_the_sink_not_the_process);
    CU_add_test(s, "a directory that cannot be used is an error",
                a_directory_that_cannot_be_used_is_an_error);
    CU_add_test(s, "settling keeps the new attempt's parts", settling_keeps_the_new_attempts_parts);
    CU_add_test(s, "random crashes and restores keep every row exactly once",
                random_crashes_and_restores_keep_every_row_exactly_once);
}
