/* Thread policy for every kernel. OpenMP lives only in tensor/: kernels go parallel
 * above a size threshold (below it the fork/join costs more than it saves) and use
 * static schedules, so results depend only on the thread count, never on timing. */
#ifndef TENSOR_PARALLEL_H
#define TENSOR_PARALLEL_H

#include <stdint.h>

/* Element count below which element-wise and reduction kernels stay serial. */
#define TENSOR_PARALLEL_THRESHOLD 32768

/* `TENSOR_PARALLEL_FOR(n)` placed before a `for` loop over n independent items runs it
 * with a static schedule on all threads when n >= TENSOR_PARALLEL_THRESHOLD.
 * Each iteration must write only its own outputs (no atomics, no shared sums). */
#define TENSOR_PRAGMA_(x) _Pragma(#x)
#define TENSOR_PARALLEL_FOR(n) \
    TENSOR_PRAGMA_(omp parallel for schedule(static) if ((n) >= TENSOR_PARALLEL_THRESHOLD))

/* Marks a hot function to be compiled for the x86-64-v4 (AVX-512) and x86-64-v3 (AVX2
 * with FMA) levels and baseline x86-64, the right copy picked once at load time, so
 * one binary is fast on any x86-64 CPU without compiling for a single one. The levels
 * rather than "avx512f"/"avx2" because those alone leave out FMA. Empty elsewhere, or with
 * -DLAMINA_NO_TARGET_CLONES. (GCC wants noinline beside it; clang refuses that.) */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(LAMINA_NO_TARGET_CLONES)
#if __has_attribute(target_clones)
#if defined(__clang__)
#define TENSOR_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TENSOR_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), noinline))
#endif
#endif
#endif
#ifndef TENSOR_MULTIVERSION
#define TENSOR_MULTIVERSION
#endif

/* Sets the number of threads kernels use (1..1024); returns -1 with
 * tensor_last_error() set if n is out of range. */
int tensor_set_num_threads(int n);

/* The number of threads kernels will use. */
int tensor_get_num_threads(void);

/* Whether the caller is already inside a parallel region (kernels then run serially). */
int tensor_in_parallel(void);

#endif
