/* Shared by the libFuzzer harnesses: the library's readers take paths, so each input
 * is written to one per-process temporary file (under $TMPDIR, /tmp by default) and
 * read back through the real code path; plus a CRC-32 to repair checksums. */
#ifndef LAMINA_FUZZ_UTIL_H
#define LAMINA_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The harness's scratch path, created on first use and removed at exit. */
static char fuzz__path[4096];
static void fuzz__cleanup(void) {
    if (fuzz__path[0]) unlink(fuzz__path);
}
static inline const char *fuzz_path(const char *tag) {
    if (!fuzz__path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(fuzz__path, sizeof fuzz__path, "%s/lamina-fuzz-%s-%ld", dir && *dir ? dir : "/tmp", tag,
                 (long)getpid());
        atexit(fuzz__cleanup);
    }
    return fuzz__path;
}

/* Writes the bytes to path (truncating); aborts if the disk refuses, which would
 * make every later input meaningless. */
static inline void fuzz_write(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        abort();
    }
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0) {
            perror(path);
            abort();
        }
        p += w;
        len -= (size_t)w;
    }
    close(fd);
}


/* A property the library promised did not hold: report it as a crash. */
#define FUZZ_ASSERT(cond, ...)                                                     \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            abort();                                                               \
        }                                                                          \
    } while (0)

#endif
