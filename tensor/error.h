/* Error handling shared by every module.
 * Two kinds, as DESIGN.md says: programmer errors (bad shapes, bad axes, indices out
 * of range) stop at once with file:line and a message, via TENSOR_CHECK; recoverable
 * errors (files, parsing, sizes a user asked for) return a status and leave a
 * readable reason behind tensor_last_error(). */
#ifndef TENSOR_ERROR_H
#define TENSOR_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define TENSOR_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#define TENSOR_NORETURN __attribute__((noreturn))
#else
#define TENSOR_PRINTF(fmt_idx, arg_idx)
#define TENSOR_NORETURN
#endif

/* Prints "file:line: fatal: <message>" to stderr and aborts (SIGABRT).
 * Used for programmer errors that no caller can recover from. */
TENSOR_NORETURN void tensor_fatal(const char *file, int line, const char *fmt, ...)
    TENSOR_PRINTF(3, 4);

/* Always-on check (not disabled by NDEBUG): if cond is false, stop with the message. */
#define TENSOR_CHECK(cond, ...)                                   \
    do {                                                          \
        if (!(cond)) tensor_fatal(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

/* Records a recoverable error's reason (printf-style) for tensor_last_error().
 * Returns -1 so callers can write `return tensor_set_error(...)`. Thread-local. The
 * arguments may include tensor_last_error() itself (to add context to a message). */
int tensor_set_error(const char *fmt, ...) TENSOR_PRINTF(1, 2);

/* The reason of the most recent recoverable error on this thread, or "" if none. */
const char *tensor_last_error(void);

/* Clears the recorded reason. */
void tensor_clear_error(void);

/* malloc/calloc/realloc that stop with a message naming the size on failure, for
 * internal buffers whose size the library chose. Sizes a user asked for are checked
 * up front with the non-fatal tensor_try_* variants instead. */
void *tensor_xmalloc(size_t bytes);
void *tensor_xcalloc(size_t count, size_t size);
void *tensor_xrealloc(void *ptr, size_t bytes);

/* 64-byte aligned allocation (for SIMD kernels), freed with tensor_aligned_free.
 * Stops with a message on failure. */
void *tensor_aligned_alloc(size_t bytes);
void tensor_aligned_free(void *ptr);

/* Overflow-checked size arithmetic: returns 0 and stores the result, or returns -1
 * (with tensor_last_error set) if a*b would overflow. */
int tensor_mul_size(size_t a, size_t b, size_t *out);

#endif
