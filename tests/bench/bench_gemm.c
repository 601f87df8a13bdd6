/* SGEMM benchmark: the built-in tensor_sgemm against OpenBLAS (when built with it) on
 * the shapes the models use, with 1 and 2 threads. Shapes are M x K x N (C is M x N,
 * inner dimension K). Prints a table, or JSON with --json. Built, never run by ctest.
 *   bench_gemm [--json] [--reps R] */
#include "tensor/gemm.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
#endif

typedef struct {
    int64_t M, K, N;
    bool ta, tb;
} Shape;

static const Shape SHAPES[] = {
    {128, 320, 1024, false, false}, {128, 256, 1024, false, false},
    {5120, 256, 27, false, false},  {64, 2000, 4000, false, false},
    {1024, 1024, 1024, false, false},
    /* The backward pass multiplies by transposes. */
    {128, 256, 1024, false, true},  {128, 256, 1024, true, false},
    {128, 256, 1024, true, true},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double median, best; /* GFLOP/s from the median and the fastest repetition */
} Rate;

/* which: 0 = ours, 1 = OpenBLAS. Warms up, then times at least `reps` calls and at
 * least 0.2 s. Sleeps afterwards so the other library's spinning workers go idle. */
static Rate run(int which, const Shape *s, int reps, const float *A, const float *B, float *C) {
    const int64_t lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    double times[1000];
    int n = 0;
    double start = now();
    for (int i = -2; n < 1000 && (n < reps || now() - start < 0.2); i++) {
        double t0 = now();
        if (which == 0) {
            tensor_sgemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
        } else {
#ifdef HAVE_OPENBLAS
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                        s->tb ? CblasTrans : CblasNoTrans, (int)s->M, (int)s->N, (int)s->K, 1.0f,
                        A, (int)lda, B, (int)ldb, 0.0f, C, (int)s->N);
#endif
        }
        double t = now() - t0;
        if (i >= 0) times[n++] = t; /* the first two calls are warm-up */
    }
    qsort(times, (size_t)n, sizeof(double), cmp_double);
    double flops = 2.0 * (double)s->M * (double)s->N * (double)s->K;
    nanosleep(&(struct timespec){0, 150 * 1000 * 1000}, NULL);
    return (Rate){flops / times[n / 2] * 1e-9, flops / times[0] * 1e-9};
}

int main(int argc, char **argv) {
    bool json = false;
    int reps = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--json] [--reps R]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 5) reps = 5;
#ifdef HAVE_OPENBLAS
    const bool have_blas = true;
#else
    const bool have_blas = false;
#endif

    if (json) printf("{\"kernel\": \"%s\", \"results\": [\n", tensor_sgemm_kernel_name());
    else {
        printf("kernel: %s%s\n", tensor_sgemm_kernel_name(), have_blas ? "" : " (no OpenBLAS)");
        printf("%-16s %-2s %3s %9s %9s %9s %9s %7s %7s\n", "MxKxN", "op", "thr", "ours_med",
               "ours_best", "blas_med", "blas_best", "med%", "best%");
    }
    int nshapes = (int)(sizeof SHAPES / sizeof SHAPES[0]), first = 1;
    for (int si = 0; si < nshapes; si++) {
        const Shape *s = &SHAPES[si];
        float *A = malloc(sizeof(float) * (size_t)(s->M * s->K));
        float *B = malloc(sizeof(float) * (size_t)(s->K * s->N));
        float *C = malloc(sizeof(float) * (size_t)(s->M * s->N));
        for (int64_t i = 0; i < s->M * s->K; i++) A[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
        for (int64_t i = 0; i < s->K * s->N; i++) B[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
        char shape[48], op[3] = {s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', 0};
        snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)s->M, (long long)s->K,
                 (long long)s->N);
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
#ifdef HAVE_OPENBLAS
            openblas_set_num_threads(threads);
#endif
            Rate ours = run(0, s, reps, A, B, C);
            Rate blas = have_blas ? run(1, s, reps, A, B, C) : (Rate){0, 0};
            double rmed = have_blas ? 100 * ours.median / blas.median : 0;
            double rbest = have_blas ? 100 * ours.best / blas.best : 0;
            if (json)
                printf("%s  {\"shape\": \"%s\", \"op\": \"%s\", \"threads\": %d, "
                       "\"ours_median\": %.1f, \"ours_best\": %.1f, \"blas_median\": %.1f, "
                       "\"blas_best\": %.1f}",
                       first ? "" : ",\n", shape, op, threads, ours.median, ours.best,
                       blas.median, blas.best);
            else
                printf("%-16s %-2s %3d %9.1f %9.1f %9.1f %9.1f %6.0f%% %6.0f%%\n", shape, op,
                       threads, ours.median, ours.best, blas.median, blas.best, rmed, rbest);
            first = 0;
            fflush(stdout);
        }
        free(A);
        free(B);
        free(C);
    }
    if (json) printf("\n]}\n");
    return 0;
}
