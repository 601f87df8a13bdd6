/* The fused LSTM's cell kernels: gate non-linearities, cell update and the values
 * backward needs in one pass over a row's hidden units, and the matching backward
 * pass. Written as plain loops over units with a branch-free exp (vecmath_internal.h)
 * the compiler turns into SIMD code; each kernel is compiled for AVX-512, AVX2 and
 * baseline x86-64 and picked once for the CPU (GCC target_clones), like reduce.c's
 * workers. */
#include "tensor/lstm_internal.h"

#include "tensor/parallel.h"
#include "tensor/vecmath_internal.h"

#include <stdbool.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* c ? a : b through bit masks: GCC keeps the FP work of a plain ?: inside branches
 * (it may trap), which stops the loop from vectorising. */
INLINE float select_f(bool c, float a, float b) {
    uint32_t ua, ub, m = -(uint32_t)c;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & m) | (ub & ~m);
    memcpy(&a, &ua, sizeof a);
    return a;
}

/* 1 / (1 + e^-x) with x clamped to +-87, where e^-x is finite and normal: for x < 0
 * the division of 1 by a large e keeps full relative precision (below -87 the result
 * is under 2e-38 either way). The clamp is by comparisons, which a NaN fails, so NaN
 * stays NaN. */
INLINE float sigmoid_f(float x) {
    float xc = select_f(x > 87.0f, 87.0f, x);
    xc = select_f(xc < -87.0f, -87.0f, xc);
    return 1.0f / (1.0f + tensor__exp_poly(-xc));
}

/* tanh: Eigen's float tanh, a rational minimax fit (odd degree 13 over even degree 6)
 * on x clamped to +-7.9053, where it reaches 1.0f; relative error below 4e-7 over the
 * whole line (below 3e-7 with FMA) and no exp, so about half the work of exp-based
 * forms. The clamp is by comparisons, which a NaN fails, so NaN stays NaN. */
INLINE float tanh_f(float x) {
    const float lim = 7.90531110763549805f;
    float xc = select_f(x > lim, lim, x);
    xc = select_f(xc < -lim, -lim, xc);
    const float x2 = xc * xc;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return xc * p / q;
}

/* The forward loop, with the flags constant in each instantiation below so the
 * vectorised loop has no invariant branches. The pre-activation is (rec + in) + add,
 * rec or in left out when absent (never a + 0, which could flip a zero's sign), so
 * it is the same sum whether the recurrent product was accumulated onto the input
 * projection by the GEMM or is added here. act may alias rec or in (same index only);
 * cprev may alias c. */
INLINE void forward_body(const float *rec, const float *in, const float *add, const bool has_rec,
                         const bool has_in, const bool has_cp, const float *cprev, float *c,
                         float *h, const bool save, float *act, float *cs, float *tc, float *hn,
                         int64_t H, int64_t j0, int64_t j1) {
#define PRE(g, j)                                                                              \
    (has_rec ? (has_in ? rec[(g) * H + (j)] + in[(g) * H + (j)] : rec[(g) * H + (j)])           \
             : (has_in ? in[(g) * H + (j)] : 0.0f))
#pragma omp simd
    for (int64_t j = j0; j < j1; j++) {
        const float i = sigmoid_f(PRE(0, j) + add[j]);
        const float f = sigmoid_f(PRE(1, j) + add[H + j]);
        const float g = tanh_f(PRE(2, j) + add[2 * H + j]);
        const float o = sigmoid_f(PRE(3, j) + add[3 * H + j]);
        const float cn = f * (has_cp ? cprev[j] : 0.0f) + i * g;
        const float t = tanh_f(cn);
        const float hv = o * t;
        c[j] = cn;
        h[j] = hv;
        if (save) {
            act[j] = i, act[H + j] = f, act[2 * H + j] = g, act[3 * H + j] = o;
            cs[j] = cn;
            tc[j] = t;
            hn[j] = hv;
        }
    }
#undef PRE
}

TENSOR_MULTIVERSION void tensor__lstm_cell_forward(const float *rec, const float *in,
                                                   const float *add, float *act, const float *cprev,
                                                   float *c, float *h, float *cs, float *tc, float *hn,
                                                   int64_t H, int64_t j0, int64_t j1) {
    const bool save = cs != NULL;
    if (save && !hn) hn = h; /* nothing to hand on: rewriting h is harmless */
#define FWD(R, I, CP, SV) \
    forward_body(rec, in, add, R, I, CP, cprev, c, h, SV, act, cs, tc, hn, H, j0, j1)
#define FWD_SV(R, I, CP) (save ? FWD(R, I, CP, true) : FWD(R, I, CP, false))
#define FWD_CP(R, I) (cprev ? FWD_SV(R, I, true) : FWD_SV(R, I, false))
    if (rec) in ? FWD_CP(true, true) : FWD_CP(true, false);
    else in ? FWD_CP(false, true) : FWD_CP(false, false);
#undef FWD_CP
#undef FWD_SV
#undef FWD
}

INLINE void backward_body(const float *a, const float *tc, const bool has_cp, const float *cprev,
                          const float *dh, float *dc, float *d, const bool has_gc0, float *gc0,
                          int64_t H, int64_t j0, int64_t j1) {
    const float *ai = a, *af = a + H, *ag = a + 2 * H, *ao = a + 3 * H;
    float *di = d, *df = d + H, *dg = d + 2 * H, *dout = d + 3 * H;
#pragma omp simd
    for (int64_t j = j0; j < j1; j++) {
        const float i = ai[j], f = af[j], g = ag[j], o = ao[j], t = tc[j];
        const float cp = has_cp ? cprev[j] : 0.0f, dhv = dh[j];
        const float dct = dc[j] + dhv * o * (1.0f - t * t);
        di[j] = dct * g * i * (1.0f - i);
        df[j] = dct * cp * f * (1.0f - f);
        dg[j] = dct * i * (1.0f - g * g);
        dout[j] = dhv * t * o * (1.0f - o);
        dc[j] = dct * f;
        if (has_gc0) gc0[j] += dct * f;
    }
}

TENSOR_MULTIVERSION void tensor__lstm_cell_backward(const float *a, const float *tc,
                                                    const float *cprev, float *dh, const float *gs,
                                                    const float *gh, float *dc, const float *gc,
                                                    float *d, float *gc0, int64_t H, int64_t j0,
                                                    int64_t j1) {
    /* The extra upstream gradients are folded into dh and dc first, so the main loop
     * has a fixed shape. */
    if (gs)
        for (int64_t j = j0; j < j1; j++) dh[j] += gs[j];
    if (gh)
        for (int64_t j = j0; j < j1; j++) dh[j] += gh[j];
    if (gc)
        for (int64_t j = j0; j < j1; j++) dc[j] += gc[j];
#define BWD(CP, G0) backward_body(a, tc, CP, cprev, dh, dc, d, G0, gc0, H, j0, j1)
    if (cprev) gc0 ? BWD(true, true) : BWD(true, false);
    else gc0 ? BWD(false, true) : BWD(false, false);
#undef BWD
}

TENSOR_MULTIVERSION void tensor__lstm_sigmoid_array(const float *x, float *y, int64_t n) {
#pragma omp simd
    for (int64_t k = 0; k < n; k++) y[k] = sigmoid_f(x[k]);
}

TENSOR_MULTIVERSION void tensor__lstm_tanh_array(const float *x, float *y, int64_t n) {
#pragma omp simd
    for (int64_t k = 0; k < n; k++) y[k] = tanh_f(x[k]);
}
