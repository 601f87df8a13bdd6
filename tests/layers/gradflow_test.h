/* What the gradflow tests share: the app's gradient probe itself (apps/gradflow/probe.c,
 * compiled into each test, so the tests hold the code the app runs), random inputs and
 * a unit loss direction, and the comparison of two norms. */
#ifndef TESTS_GRADFLOW_TEST_H
#define TESTS_GRADFLOW_TEST_H

#include "apps/gradflow/probe.c"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

/* x (1, T, D) N(0, 1) and w (H) of unit length, from seed. */
static inline Tensor *gft_inputs(uint64_t seed, int64_t T, int64_t D, int64_t H, float *w) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 7);
    Tensor *x = tensor_zeros(NULL, 3, (int64_t[]){1, T, D});
    tensor_fill_normal(tensor_f32(x), x->size, &rng, 0.0f, 1.0f);
    tensor_fill_normal(w, H, &rng, 0.0f, 1.0f);
    double s = 0;
    for (int64_t j = 0; j < H; j++) s += (double)w[j] * w[j];
    for (int64_t j = 0; j < H; j++) w[j] = (float)(w[j] / sqrt(s));
    return x;
}

/* The arrays of one probe run, on the heap. */
typedef struct GftProbe {
    double v[5][64];
    ProbeResult r;
} GftProbe;

static inline void gft_probe(Layer *l, CellKind kind, const Tensor *x, const float *w, int n, const int64_t *dist,
                             GftProbe *p) {
    p->r = (ProbeResult){p->v[0], p->v[1], p->v[2], p->v[3], p->v[4], 0};
    Tape *tape = ag_tape_new();
    gf_probe(l, kind, tape, x, w, n, dist, &p->r);
    ag_tape_free(tape);
}

/* Relative difference |a - b| / |b|, compared only where b is a normal float32 value
 * well above underflow (below ~1e-30 a float32 gradient has lost its digits); returns
 * -1 when not compared. */
static inline double gft_rel(double a, double b) {
    if (!(fabs(b) > 1e-30)) return -1.0;
    return fabs(a - b) / fabs(b);
}

#endif
