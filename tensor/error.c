/* Fatal and recoverable error reporting, and allocation helpers that never return
 * NULL silently. */
#define _DEFAULT_SOURCE /* madvise */
#include "tensor/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

static _Thread_local char last_error[512];

void tensor_fatal(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s:%d: fatal: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

int tensor_set_error(const char *fmt, ...) {
    /* Formatted aside first, so a message may wrap the previous one:
     * tensor_set_error("%s: %s", path, tensor_last_error()). */
    char message[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    memcpy(last_error, message, sizeof message);
    return -1;
}

const char *tensor_last_error(void) { return last_error; }

void tensor_clear_error(void) { last_error[0] = '\0'; }

void *tensor_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    TENSOR_CHECK(p != NULL, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *tensor_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    TENSOR_CHECK(p != NULL, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *tensor_xrealloc(void *ptr, size_t bytes) {
    void *p = realloc(ptr, bytes ? bytes : 1);
    TENSOR_CHECK(p != NULL, "out of memory reallocating to %zu bytes", bytes);
    return p;
}

/* Blocks this big (weights, activations, GEMM packing space) are put on 2 MiB pages
 * where the kernel offers them on request (Linux THP in "madvise" mode): a GEMM
 * streaming a 16 MB matrix with 4 KiB pages walks a new page every few rows and misses
 * the TLB. */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_PAGE_THRESHOLD ((size_t)4 << 20)

void *tensor_aligned_alloc(size_t bytes) {
    const size_t align = bytes >= HUGE_PAGE_THRESHOLD ? HUGE_PAGE : 64;
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    size_t rounded = (bytes + align - 1) & ~(align - 1);
    TENSOR_CHECK(rounded >= bytes, "allocation size overflows: %zu bytes", bytes);
    void *p = aligned_alloc(align, rounded ? rounded : align);
    TENSOR_CHECK(p != NULL, "out of memory allocating %zu aligned bytes", bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == HUGE_PAGE) (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only */
#endif
    return p;
}

void tensor_aligned_free(void *ptr) { free(ptr); }

int tensor_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a)
        return tensor_set_error("size overflow: %zu x %zu does not fit in size_t", a, b);
    *out = a * b;
    return 0;
}
