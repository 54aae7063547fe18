/* ckmeta: content hashes are BLAKE2b-256 (known vectors, the same value
 * whole, streamed in pieces or read from a file), print and parse as hex,
 * names are checked before they become paths, and snapshots copy deeply
 * and keep growing after a copy. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckmeta.h"
#include "err.h"

static void s_hex_of(const void *data, size_t len, char *hex)
{
    weir_ck_hash_t h;
    weir_ck_hash_buf(data, len, &h);
    weir_ck_hash_hex(&h, hex);
}

static void hashes_are_blake2b_256(void)
{
    char hex[WEIR_CK_HASH_HEX];
    /* the values `b2sum -l 256` prints */
    s_hex_of("abc", 3, hex);
    CU_ASSERT_STRING_EQUAL(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    s_hex_of("", 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

static void a_hash_is_the_same_whole_streamed_or_from_a_file(void)
{
    enum { N = 300000 };
    uint8_t *data = malloc(N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    for (size_t i = 0; i < N; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 9));
    weir_ck_hash_t whole, streamed, from_file;
    weir_ck_hash_buf(data, N, &whole);
    weir_ck_hasher_t *h = weir_ck_hasher_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    size_t off = 0, step = 1;
    while (off < N) { /* pieces of growing, odd sizes */
        size_t n = off + step > N ? N - off : step;
        weir_ck_hasher_update(h, data + off, n);
        off += n;
        step = step * 3 + 1;
    }
    weir_ck_hasher_final(h, &streamed);
    weir_ck_hasher_destroy(&h);
    CU_ASSERT_PTR_NULL(h);
    CU_ASSERT_TRUE(weir_ck_hash_eq(&whole, &streamed));

    char path[] = "/tmp/weir-ckmeta-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, data, N), N);
    close(fd);
    uint64_t size = 0;
    CU_ASSERT_EQUAL(weir_ck_hash_file(path, &from_file, &size), 0);
    CU_ASSERT_EQUAL(size, N);
    CU_ASSERT_TRUE(weir_ck_hash_eq(&whole, &from_file));
    unlink(path);
    CU_ASSERT_EQUAL(weir_ck_hash_file(path, &from_file, &size), -ENOENT);
    data[N / 2] ^= 1;
    weir_ck_hash_buf(data, N, &from_file);
    CU_ASSERT_FALSE(weir_ck_hash_eq(&whole, &from_file));
    free(data);
}

static void hashes_print_and_parse_as_lower_case_hex(void)
{
    weir_ck_hash_t h, back;
    weir_ck_hash_buf("x", 1, &h);
    char hex[WEIR_CK_HASH_HEX];
    weir_ck_hash_hex(&h, hex);
    CU_ASSERT_EQUAL(strlen(hex), 64);
    CU_ASSERT_EQUAL(weir_ck_hash_parse(hex, &back), 0);
    CU_ASSERT_TRUE(weir_ck_hash_eq(&h, &back));
    char bad[80];
    snprintf(bad, sizeof bad, "%s0", hex); /* too long */
    CU_ASSERT_EQUAL(weir_ck_hash_parse(bad, &back), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_ck_hash_parse("abc", &back), WEIR_EINVAL);
    snprintf(bad, sizeof bad, "%s", hex);
    bad[10] = 'A'; /* upper case is another name on disk */
    CU_ASSERT_EQUAL(weir_ck_hash_parse(bad, &back), WEIR_EINVAL);
    bad[10] = 'g';
    CU_ASSERT_EQUAL(weir_ck_hash_parse(bad, &back), WEIR_EINVAL);
    CU_ASSERT_EQUAL(weir_ck_hash_parse("", &back), WEIR_EINVAL);
}

static void names_are_checked_before_they_become_paths(void)
{
    CU_ASSERT_TRUE(weir_ck_file_name_ok("000012.sst"));
    CU_ASSERT_TRUE(weir_ck_file_name_ok("MANIFEST-000005"));
    CU_ASSERT_TRUE(weir_ck_job_ok("taxi-zone-hourly-3"));
    CU_ASSERT_FALSE(weir_ck_file_name_ok(""));
    CU_ASSERT_FALSE(weir_ck_file_name_ok("."));
    CU_ASSERT_FALSE(weir_ck_file_name_ok(".."));
    CU_ASSERT_FALSE(weir_ck_file_name_ok(".hidden"));
    CU_ASSERT_FALSE(weir_ck_file_name_ok("a/b"));
    CU_ASSERT_FALSE(weir_ck_file_name_ok("a b"));
    CU_ASSERT_FALSE(weir_ck_job_ok("../x"));
    char longname[WEIR_CK_NAME_MAX + 1];
    memset(longname, 'a', sizeof longname - 1);
    longname[WEIR_CK_NAME_MAX] = 0;
    CU_ASSERT_FALSE(weir_ck_file_name_ok(longname));
    longname[WEIR_CK_NAME_MAX - 1] = 0;
    CU_ASSERT_TRUE(weir_ck_file_name_ok(longname));
}

static void snapshots_copy_deeply_and_grow_after_a_copy(void)
{
    weir_ck_task_snap_t a, b;
    memset(&a, 0, sizeof a);
    weir_ck_hash_t h;
    weir_ck_hash_buf("f", 1, &h);
    char name[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "%06d.sst", i);
        CU_ASSERT_EQUAL(weir_ck_snap_add_file(&a, name, &h, 10), 0);
    }
    CU_ASSERT_EQUAL(weir_ck_snap_add_file(&a, "../etc/passwd", &h, 10), WEIR_EINVAL);
    CU_ASSERT_EQUAL(a.n_files, 5);
    CU_ASSERT_EQUAL(a.state_bytes, 50);
    a.watermark_ms = -5;
    snprintf(a.cf, sizeof a.cf, "job/1/w0");
    CU_ASSERT_EQUAL(weir_ck_snap_copy(&b, &a), 0);
    CU_ASSERT_PTR_NOT_EQUAL(a.files, b.files);
    CU_ASSERT_STRING_EQUAL(b.files[4].name, "000004.sst");
    CU_ASSERT_STRING_EQUAL(b.cf, "job/1/w0");
    CU_ASSERT_EQUAL(b.watermark_ms, -5);
    weir_ck_snap_clear(&a);
    CU_ASSERT_PTR_NULL(a.files);
    for (int i = 5; i < 100; i++) { /* the copy grows from its exact size */
        snprintf(name, sizeof name, "%06d.sst", i);
        CU_ASSERT_EQUAL(weir_ck_snap_add_file(&b, name, &h, 1), 0);
    }
    CU_ASSERT_EQUAL(b.n_files, 100);
    CU_ASSERT_STRING_EQUAL(b.files[99].name, "000099.sst");
    CU_ASSERT_EQUAL(b.state_bytes, 50 + 95);
    weir_ck_meta_t m;
    memset(&m, 0, sizeof m);
    m.tasks = calloc(2, sizeof *m.tasks);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m.tasks);
    m.n_tasks = 2;
    m.tasks[1] = b; /* the metadata owns it now */
    weir_ck_meta_clear(&m);
    CU_ASSERT_PTR_NULL(m.tasks);
    weir_ck_meta_clear(&m);
}

void test_ckmeta_register(void)
{
    CU_pSuite s = CU_add_suite("ckmeta", NULL, NULL);
    CU_add_test(s, "hashes are BLAKE2b-256", hashes_are_blake2b_256);
    CU_add_test(s, "a hash is the same whole, streamed or from a file",
                a_hash_is_the_same_whole_streamed_or_from_a_file);
    CU_add_test(s, "hashes print and parse as lower-case hex",
                hashes_print_and_parse_as_lower_case_hex);
    CU_add_test(s, "names are checked before they become paths",
                names_are_checked_before_they_become_paths);
    CU_add_test(s, "snapshots copy deeply and grow after a copy",
                snapshots_copy_deeply_and_grow_after_a_copy);
}
