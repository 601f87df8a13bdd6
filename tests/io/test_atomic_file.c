/* nn_atomic_file / nn_write_file_atomically: a write either replaces the file whole or
 * leaves the previous one as it was, with no temporary file left behind, and failures
 * name the path. */
#include "helpers.h"
#include "nn/io/atomic_file_internal.h"
#include "nn/text/text.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[64];

static void make_dir(void) {
    strcpy(g_dir, "/tmp/lamina-atomic-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
}

/* Entries in the directory besides . and .. */
static int entries(void) {
    DIR *d = opendir(g_dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void expect_contents(const char *path, const char *want) {
    int64_t len;
    char *got = nn_read_file(path, &len);
    cr_assert_not_null(got, "%s", tensor_last_error());
    cr_assert_eq((size_t)len, strlen(want));
    cr_assert(memcmp(got, want, (size_t)len) == 0, "contents differ");
    free(got);
}

static void remove_dir(const char *file) {
    unlink(file);
    rmdir(g_dir);
}

Test(atomic_file, replaces_whole_with_an_ordinary_mode_and_no_leftovers) {
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/data.bin", g_dir);
    cr_assert_eq(nn_write_file_atomically(path, "first version", 13), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_write_file_atomically(path, "second", 6), 0, "%s", tensor_last_error());
    expect_contents(path, "second");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644, "mode %o", st.st_mode & 0777);
    cr_assert_eq(entries(), 1, "a temporary file was left behind");
    remove_dir(path);
}

Test(atomic_file, an_abandoned_write_keeps_the_previous_file) {
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/data.bin", g_dir);
    cr_assert_eq(nn_write_file_atomically(path, "good", 4), 0);
    NnAtomicFile af;
    cr_assert_eq(nn_atomic_file_open(&af, path), 0, "%s", tensor_last_error());
    fputs("half of a new ver", af.f);
    tensor_set_error("the caller's reason");
    cr_assert_eq(nn_atomic_file_commit(&af, false), -1);
    cr_assert_str_eq(tensor_last_error(), "the caller's reason");
    expect_contents(path, "good");
    cr_assert_eq(entries(), 1, "the temporary file was not removed");
    remove_dir(path);
}

Test(atomic_file, a_destination_that_cannot_be_written_is_an_error_naming_it) {
    make_dir();
    char path[160];
    snprintf(path, sizeof path, "%s/no/such/dir/data.bin", g_dir);
    cr_assert_eq(nn_write_file_atomically(path, "x", 1), -1);
    cr_assert(strstr(tensor_last_error(), path), "%s", tensor_last_error());
    /* A directory where the file should go: the rename fails, nothing is left. */
    snprintf(path, sizeof path, "%s/taken", g_dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    cr_assert_eq(nn_write_file_atomically(path, "x", 1), -1, "replaced a directory");
    cr_assert(strstr(tensor_last_error(), "could not replace"), "%s", tensor_last_error());
    cr_assert_eq(entries(), 1, "a temporary file was left behind");
    rmdir(path);
    rmdir(g_dir);
}
