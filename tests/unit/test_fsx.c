/* fsx: directories are made with their parents, files are replaced
 * whole, writes are written in full, directories can be fsynced, and a
 * rename that must not replace refuses an existing name. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"

static void directories_are_made_with_their_parents(void)
{
    char dir[] = "/tmp/weir-fsx-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char deep[128], file[128];
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    CU_ASSERT_EQUAL(weir_fs_mkdirs(deep), 0);
    CU_ASSERT_EQUAL(weir_fs_mkdirs(deep), 0); /* existing is fine */
    struct stat st;
    CU_ASSERT_EQUAL(stat(deep, &st), 0);
    CU_ASSERT_TRUE(S_ISDIR(st.st_mode));
    snprintf(file, sizeof file, "%s/a/f", dir);
    FILE *f = fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    CU_ASSERT_EQUAL(weir_fs_mkdirs(file), -ENOTDIR); /* a file in the way */
    snprintf(deep, sizeof deep, "%s/a/f/x", dir);
    CU_ASSERT_EQUAL(weir_fs_mkdirs(deep), -ENOTDIR);
    unlink(file);
    snprintf(deep, sizeof deep, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(deep), 0);
}

static void a_file_is_replaced_whole(void)
{
    char dir[] = "/tmp/weir-fsx-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    CU_ASSERT_EQUAL(weir_fs_write_atomic(dir, "meta", "first", 5), 0);
    CU_ASSERT_EQUAL(weir_fs_write_atomic(dir, "meta", "second!", 7), 0);
    char path[128], buf[16] = "";
    snprintf(path, sizeof path, "%s/meta", dir);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    CU_ASSERT_EQUAL(n, 7);
    CU_ASSERT_STRING_EQUAL(buf, "second!");
    snprintf(path, sizeof path, "%s/.meta.tmp", dir);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0); /* no temporary left */
    CU_ASSERT_EQUAL(weir_fs_write_atomic("/nonexistent-weir-dir", "x", "y", 1), -ENOENT);
    snprintf(path, sizeof path, "%s/meta", dir);
    unlink(path);
    rmdir(dir);
}

static void writes_are_full_and_directories_fsync(void)
{
    char dir[] = "/tmp/weir-fsx-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    static char big[1 << 20];
    memset(big, 'x', sizeof big);
    CU_ASSERT_EQUAL(weir_fs_write_full(fd, big, sizeof big), 0);
    close(fd);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, sizeof big);
    CU_ASSERT_EQUAL(weir_fs_write_full(-1, "x", 1), -EBADF);
    CU_ASSERT_EQUAL(weir_fs_fsync_dir(dir), 0);
    CU_ASSERT_EQUAL(weir_fs_fsync_dir("/nonexistent-weir-dir"), -ENOENT);
    CU_ASSERT_EQUAL(weir_fs_fsync_dir(path), -ENOTDIR);
    unlink(path);
    rmdir(dir);
}

static void a_rename_never_replaces_a_file(void)
{
    char dir[] = "/tmp/weir-fsx-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    CU_ASSERT_EQUAL(weir_fs_write_atomic(dir, "a", "first", 5), 0);
    CU_ASSERT_EQUAL(weir_fs_write_atomic(dir, "b", "second", 6), 0);
    char a[128], b[128], c[128];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    CU_ASSERT_EQUAL(weir_fs_rename_noreplace(a, b), -EEXIST);
    CU_ASSERT_EQUAL(access(a, F_OK), 0); /* both stay */
    CU_ASSERT_EQUAL(weir_fs_rename_noreplace(a, c), 0);
    CU_ASSERT_NOT_EQUAL(access(a, F_OK), 0);
    CU_ASSERT_EQUAL(access(c, F_OK), 0);
    CU_ASSERT_EQUAL(weir_fs_rename_noreplace(a, c), -ENOENT);
    CU_ASSERT_EQUAL(weir_fs_fsync_dir(dir), 0);
    CU_ASSERT_EQUAL(weir_fs_fsync_dir("/nonexistent-weir-dir"), -ENOENT);
    CU_ASSERT_EQUAL(weir_fs_fsync_dir(b), -ENOTDIR);
    unlink(b);
    unlink(c);
    rmdir(dir);
}

void test_fsx_register(void)
{
    CU_pSuite s = CU_add_suite("fsx", NULL, NULL);
    CU_add_test(s, "directories are made with their parents",
                directories_are_made_with_their_parents);
    CU_add_test(s, "a file is replaced whole", a_file_is_replaced_whole);
    CU_add_test(s, "writes are full and directories fsync", writes_are_full_and_directories_fsync);
    CU_add_test(s, "a rename never replaces a file", a_rename_never_replaces_a_file);
}
