/* nn_read_file: exact bytes back (NULs, binary, empty), and readable errors for
 * directories, missing paths, devices, FIFOs and files too large for memory. */
#include "helpers.h"
#include "nn/text/text.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory under /tmp with room for one file name; removed by cleanup. */
typedef struct {
    char dir[64];
    char file[96];
} Scratch;

static void scratch_make(Scratch *s, const char *name) {
    strcpy(s->dir, "/tmp/lamina_text_XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir), "mkdtemp failed");
    snprintf(s->file, sizeof s->file, "%s/%s", s->dir, name);
}

static void scratch_write(Scratch *s, const char *data, size_t n) {
    FILE *f = fopen(s->file, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static void scratch_cleanup(Scratch *s) {
    unlink(s->file);
    rmdir(s->dir);
}

Test(text_file, reads_exact_bytes) {
    Scratch s;
    scratch_make(&s, "sonnet.txt");
    const char text[] = "From fairest creatures we desire increase,\r\nThat thereby\n";
    scratch_write(&s, text, sizeof text - 1);
    int64_t len = -1;
    char *buf = nn_read_file(s.file, &len);
    cr_assert_not_null(buf, "%s", tensor_last_error());
    cr_assert_eq(len, (int64_t)(sizeof text - 1));
    cr_assert_eq(memcmp(buf, text, sizeof text - 1), 0);
    cr_assert_eq(buf[len], '\0', "the buffer is NUL-terminated");
    free(buf);
    scratch_cleanup(&s);
}

Test(text_file, nul_and_binary_bytes_count_in_length) {
    Scratch s;
    scratch_make(&s, "binary.bin");
    char data[512];
    for (int i = 0; i < 512; i++) data[i] = (char)(i * 7 + 3); /* every byte value, NULs too */
    data[0] = '\0';
    scratch_write(&s, data, sizeof data);
    int64_t len = 0;
    char *buf = nn_read_file(s.file, &len);
    cr_assert_not_null(buf, "%s", tensor_last_error());
    cr_assert_eq(len, 512, "length is the byte count, not strlen (got %lld)", (long long)len);
    cr_assert_eq(memcmp(buf, data, 512), 0);
    cr_assert_eq(buf[512], '\0');
    free(buf);
    scratch_cleanup(&s);
}

Test(text_file, empty_file_gives_empty_buffer) {
    Scratch s;
    scratch_make(&s, "empty.txt");
    scratch_write(&s, "", 0);
    int64_t len = 99;
    char *buf = nn_read_file(s.file, &len);
    cr_assert_not_null(buf, "an empty file is not an error: %s", tensor_last_error());
    cr_assert_eq(len, 0);
    cr_assert_eq(buf[0], '\0');
    free(buf);
    scratch_cleanup(&s);
}

Test(text_file, larger_than_one_buffer_and_null_len) {
    Scratch s;
    scratch_make(&s, "big.txt");
    size_t n = 300000;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (char)('a' + i % 26);
    scratch_write(&s, data, n);
    char *buf = nn_read_file(s.file, NULL); /* len is optional */
    cr_assert_not_null(buf, "%s", tensor_last_error());
    cr_assert_eq(memcmp(buf, data, n), 0);
    cr_assert_eq(buf[n], '\0');
    free(buf);
    free(data);
    scratch_cleanup(&s);
}

Test(text_file, directory_is_refused) {
    Scratch s;
    scratch_make(&s, "unused");
    int64_t len = 5;
    cr_assert_null(nn_read_file(s.dir, &len));
    char want[128];
    snprintf(want, sizeof want, "%s: is a directory", s.dir);
    cr_assert_str_eq(tensor_last_error(), want);
    cr_assert_eq(len, 0);
    scratch_cleanup(&s);
}

Test(text_file, missing_file_names_path_and_reason) {
    tensor_clear_error();
    cr_assert_null(nn_read_file("/nonexistent/lamina/corpus.txt", NULL));
    cr_assert_str_eq(tensor_last_error(), "/nonexistent/lamina/corpus.txt: No such file or directory");
    cr_assert_null(nn_read_file("", NULL));
    cr_assert(strstr(tensor_last_error(), "empty path") != NULL, "got: %s", tensor_last_error());
    cr_assert_null(nn_read_file(NULL, NULL));
}

Test(text_file, devices_and_fifos_are_refused) {
    cr_assert_null(nn_read_file("/dev/null", NULL));
    cr_assert_str_eq(tensor_last_error(), "/dev/null: not a regular file");
    /* A FIFO must be refused without blocking in fopen waiting for a writer. */
    Scratch s;
    scratch_make(&s, "fifo");
    cr_assert_eq(mkfifo(s.file, 0600), 0);
    cr_assert_null(nn_read_file(s.file, NULL));
    cr_assert(strstr(tensor_last_error(), "not a regular file") != NULL, "got: %s",
              tensor_last_error());
    scratch_cleanup(&s);
}

Test(text_file, unreadable_file_reports_permission) {
    if (geteuid() == 0) cr_skip_test("root can read any file");
    Scratch s;
    scratch_make(&s, "secret.txt");
    scratch_write(&s, "x", 1);
    cr_assert_eq(chmod(s.file, 0), 0);
    cr_assert_null(nn_read_file(s.file, NULL));
    cr_assert(strstr(tensor_last_error(), "Permission denied") != NULL, "got: %s",
              tensor_last_error());
    scratch_cleanup(&s);
}

Test(text_file, file_larger_than_memory_is_refused) {
    /* A sparse file bigger than physical memory: refused up front, never allocated. */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) cr_skip_test("physical memory size unknown");
    off_t size = (off_t)pages * page * 2;
    Scratch s;
    scratch_make(&s, "huge.txt");
    int fd = open(s.file, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(fd, 0);
    int rc = ftruncate(fd, size);
    close(fd);
    if (rc != 0) {
        scratch_cleanup(&s);
        cr_skip_test("this file system cannot hold a sparse file of %lld bytes", (long long)size);
    }
    int64_t len = 7;
    cr_assert_null(nn_read_file(s.file, &len));
    cr_assert(strstr(tensor_last_error(), "too large") != NULL, "got: %s", tensor_last_error());
    cr_assert(strstr(tensor_last_error(), s.file) != NULL, "names the path: %s", tensor_last_error());
    cr_assert_eq(len, 0);
    scratch_cleanup(&s);
}

Test(text_file, reads_past_a_zero_st_size) {
    /* Files under /proc report size 0 but have contents: read until EOF, not st_size. */
    struct stat st;
    if (stat("/proc/self/status", &st) != 0) cr_skip_test("no /proc here");
    int64_t len = 0;
    char *buf = nn_read_file("/proc/self/status", &len);
    cr_assert_not_null(buf, "%s", tensor_last_error());
    cr_assert_gt(len, 0);
    cr_assert_eq((int64_t)strlen(buf), len);
    cr_assert(strstr(buf, "Name:") != NULL);
    free(buf);
}
