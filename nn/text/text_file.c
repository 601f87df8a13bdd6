/* nn_read_file: a whole corpus file into one NUL-terminated heap buffer, refusing
 * anything that is not a regular file and reporting every failure (missing file,
 * permissions, read errors, sizes that cannot be held in memory) through
 * tensor_last_error() instead of crashing. */
#include "nn/text/text.h"
#include "tensor/system.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Physical memory in bytes, or SIZE_MAX if unknown: a file larger than this cannot be
 * held in one buffer, and asking malloc for it anyway could succeed lazily (Linux
 * overcommit) and then get the process killed while reading. */
static size_t physical_memory(void) {
    uint64_t bytes = tensor_physical_memory();
    return bytes == 0 || bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

/* Refuses what we cannot or should not read (checked before fopen too, so a FIFO is
 * refused instead of blocking the open). Returns 0 for a regular file. */
static int check_kind(const char *path, const struct stat *st) {
    if (S_ISDIR(st->st_mode)) return tensor_set_error("%s: is a directory", path);
    if (!S_ISREG(st->st_mode)) return tensor_set_error("%s: not a regular file", path);
    return 0;
}

static char *fail(FILE *f, char *buf) {
    if (f) fclose(f);
    free(buf);
    return NULL;
}

char *nn_read_file(const char *path, int64_t *len) {
    if (len) *len = 0;
    if (!path || !*path) {
        tensor_set_error("nn_read_file: empty path");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        tensor_set_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    if (check_kind(path, &st) != 0) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        tensor_set_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    /* The file may have been replaced between stat and fopen: check what we opened. */
    if (fstat(fileno(f), &st) != 0) {
        tensor_set_error("%s: %s", path, strerror(errno));
        return fail(f, NULL);
    }
    if (check_kind(path, &st) != 0) return fail(f, NULL);

    size_t limit = physical_memory();
    if (st.st_size < 0 || (uint64_t)st.st_size >= (uint64_t)SIZE_MAX ||
        (uint64_t)st.st_size >= (uint64_t)limit || (uint64_t)st.st_size >= (uint64_t)INT64_MAX) {
        tensor_set_error("%s: file too large to read into memory (%lld bytes)", path,
                         (long long)st.st_size);
        return fail(f, NULL);
    }
    size_t size = (size_t)st.st_size;
    size_t cap = size + 1; /* +1 for the terminating NUL */
    char *buf = malloc(cap);
    if (!buf) {
        tensor_set_error("%s: out of memory reading %zu bytes", path, size);
        return fail(f, NULL);
    }
    /* Read until EOF rather than trusting st_size: the file may have grown, and some
     * regular files (under /proc, say) report size 0 yet have contents. */
    size_t used = 0;
    errno = 0; /* so a read error reports its own reason, not a stale one */
    for (;;) {
        size_t want = cap - 1 - used;
        size_t got = want ? fread(buf + used, 1, want, f) : 0;
        used += got;
        if (got < want) break; /* end of file, or an error checked below */
        /* The buffer is full: probe for more before growing, so a file whose size
         * was right (the usual case) costs no reallocation. */
        int c = fgetc(f);
        if (c == EOF) break;
        size_t grow = cap < 4096 ? 4096 : cap;
        if (cap > SIZE_MAX - grow || cap + grow > limit) {
            tensor_set_error("%s: file too large to read into memory (more than %zu bytes)",
                             path, used);
            return fail(f, buf);
        }
        char *bigger = realloc(buf, cap + grow);
        if (!bigger) {
            tensor_set_error("%s: out of memory reading more than %zu bytes", path, used);
            return fail(f, buf);
        }
        buf = bigger;
        cap += grow;
        buf[used++] = (char)c;
    }
    if (ferror(f)) {
        tensor_set_error("%s: read error: %s", path, errno ? strerror(errno) : "I/O error");
        return fail(f, buf);
    }
    fclose(f);
    buf[used] = '\0';
    if (used > (size_t)INT64_MAX) { /* cannot happen below the limit; keeps *len honest */
        tensor_set_error("%s: file too large (%zu bytes)", path, used);
        return fail(NULL, buf);
    }
    if (len) *len = (int64_t)used;
    return buf;
}
