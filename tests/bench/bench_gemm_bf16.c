/* bf16 GEMM benchmark: GFLOP/s (best and median over repetitions) of tensor_gemm_bf16
 * (operands rounded and packed in every call), tensor_gemm_bf16_packed (op(B) packed
 * once) and float32 tensor_sgemm, at the LSTM shapes, 1 and 2 threads. Shapes are
 * M x N x K. Run without arguments it reruns itself once per bf16 kernel this CPU has
 * (the kernel is chosen once per process). Built, never run by ctest.
 *   bench_gemm_bf16 [--reps R] */
#define _GNU_SOURCE /* setenv */
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/gemm_bf16_internal.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int64_t M, N, K;
} Shape;

static const Shape SHAPES[] = {{128, 1024, 256}, {128, 1024, 320}, {64, 4000, 1000},
                               {64, 4000, 2000}, {1280, 1024, 256}, {1024, 1024, 1024}};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* which: 0 sgemm, 1 bf16, 2 bf16 with pre-packed B. Two warm-up calls, then at least
 * reps calls and 0.2 s. Prints best and median GFLOP/s. */
static void run(int which, const Shape *s, int reps, const float *A, const float *B,
                const TensorBf16PackedB *pb, float *C) {
    double times[1000];
    int n = 0;
    const double start = now();
    for (int i = -2; n < 1000 && (n < reps || now() - start < 0.2); i++) {
        const double t0 = now();
        if (which == 0) tensor_sgemm(false, false, s->M, s->N, s->K, 1.0f, A, s->K, B, s->N, 0.0f, C, s->N);
        else if (which == 1) tensor_gemm_bf16(false, false, s->M, s->N, s->K, 1.0f, A, s->K, B, s->N, 0.0f, C, s->N);
        else tensor_gemm_bf16_packed(false, s->M, 1.0f, A, s->K, pb, 0.0f, C, s->N);
        if (i >= 0) times[n++] = now() - t0;
    }
    qsort(times, (size_t)n, sizeof(double), cmp_double);
    const double flops = 2.0 * (double)s->M * (double)s->N * (double)s->K;
    printf(" %8.1f %8.1f", flops / times[0] * 1e-9, flops / times[n / 2] * 1e-9);
}

static void cpu_model(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(out, cap, "%s", strchr(line, ':') + 2);
            out[strcspn(out, "\n")] = 0;
            break;
        }
    fclose(f);
}

/* One table for the kernel this process runs. */
static void bench(int reps) {
    printf("bf16 kernel: %s, sgemm kernel: %s\n", tensor_gemm_bf16_kernel_name(), tensor_sgemm_kernel_name());
    printf("%-16s %3s | %-17s | %-17s | %-17s\n", "MxNxK", "thr", "sgemm best/med", "bf16 best/med",
           "bf16 packed B");
    for (size_t si = 0; si < sizeof SHAPES / sizeof SHAPES[0]; si++) {
        const Shape *s = &SHAPES[si];
        float *A = malloc(sizeof(float) * (size_t)(s->M * s->K));
        float *B = malloc(sizeof(float) * (size_t)(s->K * s->N));
        float *C = malloc(sizeof(float) * (size_t)(s->M * s->N));
        for (int64_t i = 0; i < s->M * s->K; i++) A[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
        for (int64_t i = 0; i < s->K * s->N; i++) B[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
        TensorBf16PackedB pb;
        void *buf = tensor_aligned_alloc(tensor_bf16_packed_b_bytes(s->K, s->N));
        tensor_bf16_pack_b(&pb, buf, false, s->K, s->N, B, s->N);
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            printf("%5lldx%5lldx%5lld %3d |", (long long)s->M, (long long)s->N, (long long)s->K, threads);
            run(0, s, reps, A, B, &pb, C);
            printf(" |");
            run(1, s, reps, A, B, &pb, C);
            printf(" |");
            run(2, s, reps, A, B, &pb, C);
            printf("\n");
            fflush(stdout);
        }
        tensor_aligned_free(buf);
        free(A);
        free(B);
        free(C);
    }
}

int main(int argc, char **argv) {
    int reps = 9;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--reps R]\n", argv[0]);
            return 2;
        }
    }
    if (getenv("LAMINA_BF16_KERNEL")) {
        bench(reps < 3 ? 3 : reps);
        return 0;
    }
    char model[256];
    cpu_model(model, sizeof model);
    printf("CPU: %s; GFLOP/s best and median of %d+ calls\n", model, reps);
    fflush(stdout);
    const char *kernels[] = {"amx", "avx512bf16", "float32"};
    for (int k = 0; k < 3; k++) {
        if (!tensor_gemm_bf16_kernel_available(kernels[k])) {
            printf("\n%s: not available on this CPU\n", kernels[k]);
            continue;
        }
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "LAMINA_BF16_KERNEL=%s '%s' --reps %d", kernels[k], argv[0], reps);
        printf("\n");
        fflush(stdout);
        if (system(cmd) != 0) return 1;
    }
    return 0;
}
