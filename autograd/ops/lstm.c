/* lstm: the fused LSTM sequence op (Keras layout, gates i, f, c, o). Forward: one GEMM
 * for the input projection of all B*T rows, then per step one recurrent GEMM into that
 * step's rows and one gate kernel that also keeps what backward needs. Backward through
 * time is hand-written: per step a gate kernel producing dZ_t and one GEMM for dh_{t-1};
 * the weight and input gradients are one GEMM each over all steps at the end. */
#include "autograd/ops.h"
#include "tensor/gemm.h"

#include <math.h>
#include <string.h>

/* What backward needs, all in the tape's arena. Time-indexed buffers (t = position in
 * x) line up with x's rows, so the weight gradients are single GEMMs over B*T rows. */
typedef struct LstmSaved {
    float *gates; /* (B, T, 4H) by t: activations i, f, g, o of the step that read x_t */
    float *cs;    /* (B, T, H) by processing index s: c after step s */
    float *hprev; /* (B, T, H) by t: the hidden state that step read (h0 or 0 first) */
    float *dz;    /* (B, T, 4H) by t: pre-activation gradients (backward scratch) */
    float *dh;    /* (B, H): dh carried to the previous step (backward scratch) */
    float *dc;    /* (B, H): dc carried to the previous step (backward scratch) */
} LstmSaved;

enum { IN_X, IN_KERNEL, IN_RECURRENT, IN_BIAS, IN_H0, IN_C0, N_IN };

static inline float sigmoid1(float v) {
    if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
    float e = expf(v); /* e / (1 + e) keeps precision for very negative v */
    return e / (1.0f + e);
}

/* tanh without glibc's tanhf, which (through expm1f) took a third of the single-thread
 * run time here. Below |x| = 0.5 a rational minimax fit (Eigen's float tanh), above it
 * 1 - 2 / (e^{2|x|} + 1), which has no cancellation there. Measured against double tanh
 * over [-20, 20]: abs error <= 8.7e-8, rel error <= 2.7e-7 (tanhf: 1.0e-7, 1.6e-7). */
static inline float tanh1(float x) {
    const float ax = fabsf(x);
    if (ax >= 0.5f) return copysignf(1.0f - 2.0f / (expf(2.0f * ax) + 1.0f), x);
    const float x2 = x * x;
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
    return x * p / q;
}

static char *shape_of(const Tensor *t, char *buf, size_t len) {
    return tensor_shape_str(t->ndim, t->shape, buf, len);
}

/* Checks dtypes and shapes of an LSTM call and returns B, T, D, H through dims[4].
 * Shared with lstm_reference.c (declared there), so both give the same messages. */
void ag_lstm__check(const char *op, const Tensor *x, const Tensor *kernel, const Tensor *recurrent,
                    const Tensor *bias, const Tensor *h0, const Tensor *c0, int64_t dims[4]) {
    char s[128];
    const Tensor *all[] = {x, kernel, recurrent, bias, h0, c0};
    for (int k = 0; k < N_IN; k++) {
        TENSOR_CHECK(k >= IN_H0 || all[k], "%s: input %d is NULL (only h0 and c0 may be)", op, k);
        if (all[k]) ag_expect_f32(op, all[k]);
    }
    TENSOR_CHECK(x->ndim == 3, "%s: x must be (B, T, D): got %s", op, shape_of(x, s, sizeof s));
    int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    TENSOR_CHECK(T >= 1, "%s: x must have T >= 1 time steps: got %s", op, shape_of(x, s, sizeof s));
    TENSOR_CHECK(recurrent->ndim == 2 && recurrent->shape[0] >= 1 &&
                     recurrent->shape[1] == 4 * recurrent->shape[0],
                 "%s: recurrent must be (H, 4H) with H >= 1: got %s", op,
                 shape_of(recurrent, s, sizeof s));
    int64_t H = recurrent->shape[0];
    TENSOR_CHECK(kernel->ndim == 2 && kernel->shape[0] == D && kernel->shape[1] == 4 * H,
                 "%s: kernel must be (D, 4H) = (%lld, %lld): got %s", op, (long long)D,
                 (long long)(4 * H), shape_of(kernel, s, sizeof s));
    TENSOR_CHECK(bias->ndim == 1 && bias->shape[0] == 4 * H,
                 "%s: bias must be (4H) = (%lld): got %s", op, (long long)(4 * H),
                 shape_of(bias, s, sizeof s));
    const Tensor *states[] = {h0, c0};
    const char *names[] = {"h0", "c0"};
    for (int k = 0; k < 2; k++)
        TENSOR_CHECK(!states[k] || (states[k]->ndim == 2 && states[k]->shape[0] == B &&
                                    states[k]->shape[1] == H),
                     "%s: %s must be (B, H) = (%lld, %lld): got %s", op, names[k], (long long)B,
                     (long long)H, shape_of(states[k], s, sizeof s));
    dims[0] = B, dims[1] = T, dims[2] = D, dims[3] = H;
}

/* Processing step s reads x at time t. */
static inline int64_t step_time(int64_t s, int64_t T, bool back) { return back ? T - 1 - s : s; }

static void lstm_backward(Node *n) {
    const int64_t B = n->iargs[0], T = n->iargs[1], D = n->iargs[2], H = n->iargs[3];
    const bool back = n->iargs[4] != 0;
    const int64_t G = 4 * H, BT = B * T;
    LstmSaved *sv = n->saved;
    const float *gseq = ag_output_grad(n, 0), *gh = ag_output_grad(n, 1),
                *gc = ag_output_grad(n, 2);
    const float *xv = n->inputs[IN_X]->data, *kv = n->inputs[IN_KERNEL]->data,
                *rv = n->inputs[IN_RECURRENT]->data;
    const float *c0 = n->inputs[IN_C0] ? (const float *)n->inputs[IN_C0]->data : NULL;
    float *gx = ag_input_grad(n, IN_X), *gk = ag_input_grad(n, IN_KERNEL),
          *gr = ag_input_grad(n, IN_RECURRENT), *gb = ag_input_grad(n, IN_BIAS);
    float *gh0 = n->inputs[IN_H0] ? ag_input_grad(n, IN_H0) : NULL;
    float *gc0 = n->inputs[IN_C0] ? ag_input_grad(n, IN_C0) : NULL;
    const float *gates = sv->gates, *cs = sv->cs;
    float *dz = sv->dz, *dhc = sv->dh, *dcc = sv->dc;

    memset(dhc, 0, (size_t)(B * H) * sizeof(float));
    memset(dcc, 0, (size_t)(B * H) * sizeof(float));
    for (int64_t s = T - 1; s >= 0; s--) {
        const int64_t t = step_time(s, T, back);
        const bool last = s == T - 1;
        TENSOR_PARALLEL_FOR(B * G)
        for (int64_t b = 0; b < B; b++) {
            const float *a = gates + (b * T + t) * G;
            float *d = dz + (b * T + t) * G;
            const float *cst = cs + (b * T + s) * H;
            const float *cprev = s > 0 ? cs + (b * T + s - 1) * H : c0 ? c0 + b * H : NULL;
            const float *gs = gseq ? gseq + (b * T + s) * H : NULL;
            float *dhb = dhc + b * H, *dcb = dcc + b * H;
            for (int64_t j = 0; j < H; j++) {
                float dh = dhb[j], dc = dcb[j];
                if (gs) dh += gs[j];
                if (last && gh) dh += gh[b * H + j];
                if (last && gc) dc += gc[b * H + j];
                const float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
                const float tc = tanh1(cst[j]), cp = cprev ? cprev[j] : 0.0f;
                const float dct = dc + dh * o * (1.0f - tc * tc);
                d[j] = dct * g * i * (1.0f - i);
                d[H + j] = dct * cp * f * (1.0f - f);
                d[2 * H + j] = dct * i * (1.0f - g * g);
                d[3 * H + j] = dh * tc * o * (1.0f - o);
                dcb[j] = dct * f;
                if (s == 0 && gc0) gc0[b * H + j] += dct * f;
            }
        }
        /* dh_{s-1} = dZ_t recurrent^T: into the carry, or (first step) into dh0. */
        if (s > 0) tensor_sgemm(false, true, B, H, G, 1.0f, dz + t * G, T * G, rv, G, 0.0f, dhc, H);
        else if (gh0)
            tensor_sgemm(false, true, B, H, G, 1.0f, dz + t * G, T * G, rv, G, 1.0f, gh0, H);
    }
    if (gk) tensor_sgemm(true, false, D, G, BT, 1.0f, xv, D, dz, G, 1.0f, gk, G);
    if (gr && sv->hprev)
        tensor_sgemm(true, false, H, G, BT, 1.0f, sv->hprev, H, dz, G, 1.0f, gr, G);
    if (gx) tensor_sgemm(false, true, BT, D, G, 1.0f, dz, G, kv, G, 1.0f, gx, D);
    if (gb) {
        /* Column sums over B*T rows: each block of columns belongs to one thread and is
         * summed in row order, so the result does not depend on the thread count. */
        const int64_t CB = 64, nblocks = (G + CB - 1) / CB;
        TENSOR_PARALLEL_FOR(BT * G)
        for (int64_t blk = 0; blk < nblocks; blk++) {
            double acc[64] = {0};
            const int64_t j0 = blk * CB, j1 = j0 + CB < G ? j0 + CB : G;
            for (int64_t r = 0; r < BT; r++) {
                const float *row = dz + r * G;
                for (int64_t j = j0; j < j1; j++) acc[j - j0] += row[j];
            }
            for (int64_t j = j0; j < j1; j++) gb[j] += (float)acc[j - j0];
        }
    }
}

static const OpDef LSTM_OP = {"lstm", lstm_backward};

AgLstmResult ag_lstm(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent, Tensor *bias,
                     Tensor *h0, Tensor *c0, bool go_backwards) {
    int64_t dims[4];
    ag_lstm__check("lstm", x, kernel, recurrent, bias, h0, c0, dims);
    const int64_t B = dims[0], T = dims[1], D = dims[2], H = dims[3], G = 4 * H, BT = B * T;
    AgLstmResult res = {
        .seq = ag_output(tape, 3, (int64_t[]){B, T, H}),
        .h = ag_output(tape, 2, (int64_t[]){B, H}),
        .c = ag_output(tape, 2, (int64_t[]){B, H}),
    };
    /* Recorded before computing, so the saved buffers can be written as we go. */
    Node *n = ag_record_multi(tape, &LSTM_OP, 3, (Tensor *[]){res.seq, res.h, res.c}, N_IN,
                              (Tensor *[]){x, kernel, recurrent, bias, h0, c0});
    Arena *arena = ag_tape_arena(tape);
    LstmSaved *sv = NULL;
    float *z;
    if (n) {
        n->iargs[0] = B, n->iargs[1] = T, n->iargs[2] = D, n->iargs[3] = H;
        n->iargs[4] = go_backwards;
        sv = ag_save(n, sizeof *sv);
        sv->gates = ag_save(n, (size_t)(BT * G) * sizeof(float));
        sv->cs = ag_save(n, (size_t)(BT * H) * sizeof(float));
        sv->hprev = recurrent->requires_grad ? ag_save(n, (size_t)(BT * H) * sizeof(float)) : NULL;
        sv->dz = ag_save(n, (size_t)(BT * G) * sizeof(float));
        sv->dh = ag_save(n, (size_t)(B * H) * sizeof(float));
        sv->dc = ag_save(n, (size_t)(B * H) * sizeof(float));
        n->saved = sv;
        z = sv->gates;
    } else {
        z = tensor_arena_alloc(arena, (size_t)(BT * G) * sizeof(float));
    }
    float *cs = sv ? sv->cs : NULL, *hprev = sv ? sv->hprev : NULL;
    const float *bv = bias->data, *rv = recurrent->data;
    const float *h0v = h0 ? (const float *)h0->data : NULL;
    const float *c0v = c0 ? (const float *)c0->data : NULL;
    float *seq = res.seq->data, *cout = res.c->data;

    /* Input projection of every (b, t) row at once; the bias is added in the gate kernel. */
    tensor_sgemm(false, false, BT, G, D, 1.0f, x->data, D, kernel->data, G, 0.0f, z, G);
    if (hprev) {
        const int64_t t0 = step_time(0, T, go_backwards);
        for (int64_t b = 0; b < B; b++) {
            float *dst = hprev + (b * T + t0) * H;
            if (h0v) memcpy(dst, h0v + b * H, (size_t)H * sizeof(float));
            else memset(dst, 0, (size_t)H * sizeof(float));
        }
    }
    for (int64_t s = 0; s < T; s++) {
        const int64_t t = step_time(s, T, go_backwards);
        const int64_t tnext = s + 1 < T ? step_time(s + 1, T, go_backwards) : -1;
        /* z_t += h_{s-1} recurrent, addressing the step's rows of (B, T, 4H) in place. */
        if (s > 0)
            tensor_sgemm(false, false, B, G, H, 1.0f, seq + (s - 1) * H, T * H, rv, G, 1.0f,
                         z + t * G, T * G);
        else if (h0v)
            tensor_sgemm(false, false, B, G, H, 1.0f, h0v, H, rv, G, 1.0f, z + t * G, T * G);
        /* c_{s-1}: c0 (or 0) at the first step, then the running state kept in res.c. */
        const float *cprev = s > 0 ? cout : c0v;
        TENSOR_PARALLEL_FOR(B * G)
        for (int64_t b = 0; b < B; b++) {
            float *zr = z + (b * T + t) * G;
            const float *cp = cprev ? cprev + b * H : NULL;
            float *cb = cout + b * H, *hb = seq + (b * T + s) * H;
            float *csb = cs ? cs + (b * T + s) * H : NULL;
            float *hn = hprev && tnext >= 0 ? hprev + (b * T + tnext) * H : NULL;
            for (int64_t j = 0; j < H; j++) {
                const float i = sigmoid1(zr[j] + bv[j]);
                const float f = sigmoid1(zr[H + j] + bv[H + j]);
                const float g = tanh1(zr[2 * H + j] + bv[2 * H + j]);
                const float o = sigmoid1(zr[3 * H + j] + bv[3 * H + j]);
                const float c = f * (cp ? cp[j] : 0.0f) + i * g;
                const float h = o * tanh1(c);
                zr[j] = i, zr[H + j] = f, zr[2 * H + j] = g, zr[3 * H + j] = o;
                cb[j] = c;
                hb[j] = h;
                if (csb) csb[j] = c;
                if (hn) hn[j] = h;
            }
        }
    }
    float *hout = res.h->data;
    for (int64_t b = 0; b < B; b++)
        memcpy(hout + b * H, seq + (b * T + T - 1) * H, (size_t)H * sizeof(float));
    return res;
}
