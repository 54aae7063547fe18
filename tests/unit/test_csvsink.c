/* csvsink: part files appear under their final name only when closed (or
 * rotated), values are quoted per RFC 4180, doubles read back exactly and
 * look like Python's repr (the oracle's), NULL is an empty field. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvsink.h"

static char s_dir[64];

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/weir-csvsink-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void)
{
    return nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads a whole file into a static buffer; NULL when it does not exist. */
static const char *s_slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int s_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void nothing_is_visible_under_the_final_name_before_close(void)
{
    char dir[128], final[192], tmp[192];
    snprintf(dir, sizeof dir, "%s/a/b", s_dir);
    snprintf(final, sizeof final, "%s/part-0.csv", dir);
    snprintf(tmp, sizeof tmp, "%s/.part-0.csv.inprogress", dir);
    const char *hdr[] = {"k", "v"};
    weir_csvsink_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open(dir, "part-0.csv", hdr, 2, &s), 0);
    for (int i = 0; i < 20000; i++) { /* more than one buffer */
        CU_ASSERT_EQUAL(weir_csvsink_i64(s, i), 0);
        CU_ASSERT_EQUAL(weir_csvsink_str(s, "x", 1), 0);
        CU_ASSERT_EQUAL(weir_csvsink_end_row(s), 0);
    }
    CU_ASSERT_EQUAL(weir_csvsink_rows(s), 20000);
    CU_ASSERT(!s_exists(final));
    CU_ASSERT(s_exists(tmp));
    CU_ASSERT_EQUAL(weir_csvsink_close(&s), 0);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(s_exists(final));
    CU_ASSERT(!s_exists(tmp));
    FILE *f = fopen(final, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[64];
    int n = 0, ok = 1;
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_STRING_EQUAL(line, "k,v\n");
    while (fgets(line, sizeof line, f)) {
        char want[64];
        snprintf(want, sizeof want, "%d,x\n", n++);
        ok &= strcmp(line, want) == 0;
    }
    fclose(f);
    CU_ASSERT(ok);
    CU_ASSERT_EQUAL(n, 20000);
}

static void a_discarded_sink_leaves_no_file(void)
{
    char tmp[192];
    snprintf(tmp, sizeof tmp, "%s/.gone.csv.inprogress", s_dir);
    const char *hdr[] = {"a"};
    weir_csvsink_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open(s_dir, "gone.csv", hdr, 1, &s), 0);
    weir_csvsink_i64(s, 1);
    weir_csvsink_end_row(s);
    CU_ASSERT(s_exists(tmp));
    weir_csvsink_discard(&s);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(!s_exists(tmp));
    weir_csvsink_discard(&s);
}

static void values_with_separators_or_quotes_are_quoted(void)
{
    const char *hdr[] = {"name", "note, with comma"};
    weir_csvsink_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open(s_dir, "q.csv", hdr, 2, &s), 0);
    weir_csvsink_str(s, "plain", 5);
    weir_csvsink_str(s, "a,b", 3);
    weir_csvsink_end_row(s);
    weir_csvsink_str(s, "say \"hi\"", 8);
    weir_csvsink_str(s, "two\nlines\r", 10);
    weir_csvsink_end_row(s);
    weir_csvsink_null(s);
    weir_csvsink_str(s, "", 0);
    weir_csvsink_end_row(s);
    weir_csvsink_null(s); /* a lone empty field must not look like a blank line */
    weir_csvsink_end_row(s);
    CU_ASSERT_EQUAL(weir_csvsink_close(&s), 0);
    char path[192];
    snprintf(path, sizeof path, "%s/q.csv", s_dir);
    const char *txt = s_slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    CU_ASSERT_STRING_EQUAL(txt, "name,\"note, with comma\"\n"
                                "plain,\"a,b\"\n"
                                "\"say \"\"hi\"\"\",\"two\nlines\r\"\n"
                                ",\n"
                                "\"\"\n");
}

static void doubles_read_back_exactly_in_python_repr_layout(void)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {12.5, "12.5"},
        {0.1, "0.1"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {100.0, "100.0"},
        {17.0, "17.0"},
        {-3.25, "-3.25"},
        {1e16, "1e+16"},
        {1234567890123456.0, "1234567890123456.0"},
        {1.5e-07, "1.5e-07"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {12.35, "12.35"},
        {2.5e22, "2.5e+22"},
        {123456.789, "123456.789"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[WEIR_CSVSINK_F64_MAX];
        size_t n = weir_csvsink_fmt_f64(cases[i].v, buf);
        CU_ASSERT_EQUAL(n, strlen(buf));
        CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
        if (strcmp(buf, cases[i].text) != 0)
            fprintf(stderr, "\n%.17g formatted as %s, want %s\n", cases[i].v, buf, cases[i].text);
    }
    char buf[WEIR_CSVSINK_F64_MAX];
    weir_csvsink_fmt_f64(1.0 / 0.0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "inf");
    weir_csvsink_fmt_f64(-1.0 / 0.0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "-inf");
    weir_csvsink_fmt_f64(0.0 / 0.0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "nan");
    /* random bit patterns read back to themselves */
    uint64_t x = 88172645463325252ULL;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (d != d || d - d != 0)
            continue;
        weir_csvsink_fmt_f64(d, buf);
        bad += strtod(buf, NULL) != d;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void batch_rows_are_written_with_typed_values(void)
{
    weir_type_t types[5] = {WEIR_TYPE_INT64, WEIR_TYPE_STRING, WEIR_TYPE_DOUBLE, WEIR_TYPE_BOOL,
                            WEIR_TYPE_TIMESTAMP};
    weir_batch_t *b = weir_batch_new(types, 5, 4, 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    weir_batch_put_i64(b, 0, -42);
    weir_batch_put_str(b, 1, "Upper East, Side", 16);
    weir_batch_put_f64(b, 2, 8.0);
    weir_batch_put_i64(b, 3, 1);
    weir_batch_put_i64(b, 4, 1546301770000);
    weir_batch_commit_row(b, 1546301770000);
    weir_batch_put_null(b, 0);
    weir_batch_put_null(b, 1);
    weir_batch_put_null(b, 2);
    weir_batch_put_i64(b, 3, 0);
    weir_batch_put_i64(b, 4, -1);
    weir_batch_commit_row(b, -1);
    const char *hdr[] = {"i", "s", "d", "b", "t"};
    weir_csvsink_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open(s_dir, "batch.csv", hdr, 5, &s), 0);
    CU_ASSERT_EQUAL(weir_csvsink_batch_row(s, b, 0), 0);
    CU_ASSERT_EQUAL(weir_csvsink_batch_row(s, b, 1), 0);
    CU_ASSERT_EQUAL(weir_csvsink_rows(s), 2);
    CU_ASSERT_EQUAL(weir_csvsink_close(&s), 0);
    char path[192];
    snprintf(path, sizeof path, "%s/batch.csv", s_dir);
    const char *txt = s_slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    CU_ASSERT_STRING_EQUAL(txt, "i,s,d,b,t\n"
                                "-42,\"Upper East, Side\",8.0,true,1546301770000\n"
                                ",,,false,-1\n");
    weir_batch_destroy(&b);
}

static void a_directory_that_is_a_file_is_an_error(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/plainfile", s_dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    const char *hdr[] = {"a"};
    weir_csvsink_t *s = NULL;
    CU_ASSERT_EQUAL(weir_csvsink_open(path, "x.csv", hdr, 1, &s), -ENOTDIR);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(weir_csvsink_open(s_dir, "a/b.csv", hdr, 1, &s), -EINVAL);
}

static void publishing_never_replaces_a_file(void)
{
    char final[192];
    snprintf(final, sizeof final, "%s/part-7.csv", s_dir);
    const char *hdr[] = {"k"};
    weir_csvsink_t *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open_tagged(s_dir, "part-7.csv", "job-a", hdr, 1, &a), 0);
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open_tagged(s_dir, "part-7.csv", "job-b", hdr, 1, &b), 0);
    weir_csvsink_str(a, "from a", 6);
    weir_csvsink_end_row(a);
    weir_csvsink_str(b, "from b", 6);
    weir_csvsink_end_row(b);
    CU_ASSERT_EQUAL(weir_csvsink_close(&b), 0);
    CU_ASSERT_EQUAL(weir_csvsink_close(&a), -EEXIST); /* b's file stays */
    FILE *f = fopen(final, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[64] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    CU_ASSERT_STRING_EQUAL(buf, "k\nfrom b\n");
    char left[192];
    snprintf(left, sizeof left, "%s/.job-a.part-7.csv.inprogress", s_dir);
    CU_ASSERT(s_exists(left)); /* kept for inspection */
    unlink(left);
    unlink(final);
}

static void rotation_publishes_the_rows_and_goes_on_in_a_new_file_with_the_header(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/rot", s_dir);
    const char *hdr[] = {"k", "v"};
    weir_csvsink_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open_tagged(dir, "p.csv", "t", hdr, 2, &s), 0);
    weir_csvsink_i64(s, 1);
    weir_csvsink_str(s, "a", 1);
    weir_csvsink_end_row(s);
    CU_ASSERT_EQUAL(weir_csvsink_rotate(s, "one.csv"), 0);
    CU_ASSERT_EQUAL(weir_csvsink_rows(s), 0);
    weir_csvsink_i64(s, 2);
    weir_csvsink_str(s, "b", 1);
    weir_csvsink_end_row(s);
    CU_ASSERT_EQUAL(weir_csvsink_rotate(s, "a/b"), -EINVAL); /* nothing changes */
    CU_ASSERT_EQUAL(weir_csvsink_rotate(s, "two.csv"), 0);
    CU_ASSERT_EQUAL(weir_csvsink_rotate(s, "empty.csv"), 0); /* the header alone */
    char path[192];
    snprintf(path, sizeof path, "%s/one.csv", dir);
    CU_ASSERT_STRING_EQUAL(s_slurp(path), "k,v\n1,a\n");
    snprintf(path, sizeof path, "%s/two.csv", dir);
    CU_ASSERT_STRING_EQUAL(s_slurp(path), "k,v\n2,b\n");
    snprintf(path, sizeof path, "%s/empty.csv", dir);
    CU_ASSERT_STRING_EQUAL(s_slurp(path), "k,v\n");
    /* a taken name fails and the sink stays failed, its rows kept */
    weir_csvsink_i64(s, 3);
    weir_csvsink_str(s, "c", 1);
    weir_csvsink_end_row(s);
    CU_ASSERT_EQUAL(weir_csvsink_rotate(s, "one.csv"), -EEXIST);
    CU_ASSERT_EQUAL(weir_csvsink_i64(s, 4), -EEXIST);
    snprintf(path, sizeof path, "%s/.t.p.csv.inprogress", dir);
    CU_ASSERT_STRING_EQUAL(s_slurp(path), "k,v\n3,c\n");
    CU_ASSERT_EQUAL(weir_csvsink_close(&s), -EEXIST);
    snprintf(path, sizeof path, "%s/p.csv", dir);
    CU_ASSERT(!s_exists(path));
}

static void close_as_publishes_under_another_name(void)
{
    const char *hdr[] = {"a"};
    weir_csvsink_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_csvsink_open(s_dir, "x.csv", hdr, 1, &s), 0);
    weir_csvsink_str(s, "1", 1);
    weir_csvsink_end_row(s);
    CU_ASSERT_EQUAL(weir_csvsink_close_as(&s, ""), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s); /* still open */
    CU_ASSERT_EQUAL(weir_csvsink_close_as(&s, "y.csv"), 0);
    CU_ASSERT_PTR_NULL(s);
    char path[192];
    snprintf(path, sizeof path, "%s/x.csv", s_dir);
    CU_ASSERT(!s_exists(path));
    snprintf(path, sizeof path, "%s/y.csv", s_dir);
    CU_ASSERT_STRING_EQUAL(s_slurp(path), "a\n1\n");
    unlink(path);
}

void test_csvsink_register(void)
{
    CU_pSuite s = CU_add_suite("csvsink", s_setup, s_teardown);
    CU_add_test(s, "publishing never replaces a file", publishing_never_replaces_a_file);
    CU_add_test(s, "nothing is visible under the final name before close",
                nothing_is_visible_under_the_final_name_before_close);
    CU_add_test(s, "a discarded sink leaves no file", a_discarded_sink_leaves_no_file);
    CU_add_test(s, "values with separators or quotes are quoted",
                values_with_separators_or_quotes_are_quoted);
    CU_add_test(s, "doubles read back exactly in Python repr layout",
                doubles_read_back_exactly_in_python_repr_layout);
    CU_add_test(s, "batch rows are written with typed values",
                batch_rows_are_written_with_typed_values);
    CU_add_test(s, "a directory that is a file is an error",
                a_directory_that_is_a_file_is_an_error);
    CU_add_test(s, "rotation publishes the rows and goes on in a new file with the header",
                rotation_publishes_the_rows_and_goes_on_in_a_new_file_with_the_header);
    CU_add_test(s, "close_as publishes under another name", close_as_publishes_under_another_name);
}
