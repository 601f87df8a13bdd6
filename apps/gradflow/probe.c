/* The gradient probe: how much of a loss on the last output reaches each earlier
 * input and state. dL/dx_t comes from one backward through the whole sequence;
 * dL/dh_t (and dL/dc_t) is no output gradient, so the state at t is computed first
 * (without a tape) and the rest of the sequence is run from it as an initial state
 * that requires a gradient. Every number is the library's own backward. */
#include "probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const cell_names[CELL_KIND_COUNT] = {"SimpleRNN", "GRU", "LSTM", "LSTM (composed)"};

Layer *gf_layer_new(CellKind kind, int64_t units, int64_t input_dim, CellInit init, uint64_t seed) {
    const NnRnnOpts opts = {.units = units, .return_sequences = true, .unfused = kind == CELL_LSTM_COMPOSED};
    Layer *l = kind == CELL_SIMPLE_RNN ? nn_simple_rnn_new(&opts)
               : kind == CELL_GRU      ? nn_gru_new(&opts)
                                       : nn_lstm_new(&opts);
    Rng rng;
    tensor_rng_seed(&rng, seed, 1);
    if (!l || nn_layer_build(l, NN_SHAPE(TENSOR_F32, -1, input_dim), &rng) != 0) {
        nn_layer_free(l);
        return NULL;
    }
    /* params: kernel, recurrent_kernel, bias (Keras's order). */
    if (init.recurrent_normal) {
        Tensor *r = l->params[1];
        tensor_fill_normal(tensor_f32(r), r->size, &rng, 0.0f, 0.05f);
    }
    if (kind == CELL_LSTM || kind == CELL_LSTM_COMPOSED) {
        float *b = tensor_f32(l->params[2]); /* gates i, f, c, o: the forget quarter is [H, 2H) */
        for (int64_t j = units; j < 2 * units; j++) b[j] = (float)init.forget_bias;
    }
    return l;
}

int gf_distances(int64_t T, int max, int64_t *dist) {
    int n = 0;
    const double top = log1p((double)(T - 1));
    for (int k = 0; k < max && T > 0; k++) {
        double u = max > 1 ? top * k / (max - 1) : 0.0;
        int64_t d = (int64_t)llround(expm1(u));
        if (n > 0 && d <= dist[n - 1]) d = dist[n - 1] + 1; /* where the spacing is below a step */
        if (d > T - 1) break;
        dist[n++] = d;
    }
    return n;
}

static double norm2(const float *v, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

/* Steps from..to-1 of x (1, T, D), as a view in the tape's arena. */
static Tensor *steps(Tape *tape, const Tensor *x, int64_t from, int64_t to) {
    const int64_t D = x->shape[2];
    return tensor_view(ag_tape_arena(tape), TENSOR_F32, tensor_f32(x) + from * D, NULL, 3,
                       (int64_t[]){1, to - from, D});
}

/* L = w . h at the last step of seq (1, T, H). */
static Tensor *last_loss(Tape *tape, Tensor *seq, const float *w) {
    const int64_t T = seq->shape[1], H = seq->shape[2];
    Tensor *h = ag_reshape(tape, ag_slice(tape, seq, 1, T - 1, T), 2, (int64_t[]){1, H});
    Tensor *wt = tensor_from_array(ag_tape_arena(tape), 2, (int64_t[]){1, H}, w);
    return ag_sum(tape, ag_mul(tape, h, wt));
}

static const NnCallCtx CTX = {.training = false};

/* One backward through the whole sequence: dL/dx_t at every distance. Leaves the
 * hidden states h_0..h_{T-1} in hs (T * H floats). */
static void input_grads(Layer *layer, Tape *tape, const Tensor *x, const float *w, int n, const int64_t *dist,
                        double *gx, float *hs) {
    const int64_t T = x->shape[1], D = x->shape[2];
    Tensor *xg = ag_requires_grad(tensor_copy(ag_tape_arena(tape), x), true);
    Tensor *seq = nn_rnn_call(layer, tape, xg, NULL, NULL, &CTX);
    memcpy(hs, tensor_f32(seq), (size_t)seq->size * sizeof *hs);
    ag_backward(tape, last_loss(tape, seq, w));
    for (int k = 0; k < n; k++) gx[k] = norm2(xg->grad + (T - 1 - dist[k]) * D, D);
    ag_tape_reset(tape);
}

/* The states (h_t, c_t) at t = T-1-dist[k] for k >= 1, by running the prefix in pieces
 * from one sampled step to the next without recording; heap copies. */
static void states_at(Layer *layer, Tape *tape, const Tensor *x, int n, const int64_t *dist, Tensor **h,
                      Tensor **c) {
    const int64_t T = x->shape[1];
    bool was = ag_set_grad_enabled(tape, false);
    Tensor *ph = NULL, *pc = NULL;
    int64_t done = 0; /* steps consumed so far */
    for (int k = n - 1; k >= 1; k--) {
        const int64_t t = T - 1 - dist[k];
        NnRnnState initial = {.h = ph, .c = pc}, final = {0};
        nn_rnn_call(layer, tape, steps(tape, x, done, t + 1), &initial, &final, &CTX);
        h[k] = ph = tensor_copy(NULL, final.h);
        c[k] = pc = final.c ? tensor_copy(NULL, final.c) : NULL;
        done = t + 1;
        ag_tape_reset(tape);
    }
    ag_set_grad_enabled(tape, was);
}

/* The forget gates f_t (T, H) of an LSTM from its weights, its inputs and the hidden
 * states it produced, in double: sigmoid(x_t K_f + h_{t-1} R_f + b_f). */
static void forget_gates(const Layer *layer, const Tensor *x, const float *hs, double *f) {
    const int64_t T = x->shape[1], D = x->shape[2], H = layer->params[1]->shape[0], G = 4 * H;
    const float *K = tensor_f32(layer->params[0]), *R = tensor_f32(layer->params[1]);
    const float *b = tensor_f32(layer->params[2]), *xv = tensor_f32(x);
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < H; j++) {
            double z = b[H + j];
            for (int64_t i = 0; i < D; i++) z += (double)xv[t * D + i] * K[i * G + H + j];
            if (t > 0)
                for (int64_t i = 0; i < H; i++) z += (double)hs[(t - 1) * H + i] * R[i * G + H + j];
            f[t * H + j] = 1.0 / (1.0 + exp(-z));
        }
}

/* From the forget gates: their mean, the largest unit's product over s = t+1..T-1 at
 * each distance, and the measured dL/dc_{T-2} (anchor) carried back through
 * diag(f_s), s = t+1..T-2, alone. */
static void forget_path(const double *f, int64_t T, int64_t H, int n, const int64_t *dist, const float *anchor,
                        ProbeResult *out) {
    double sum = 0;
    for (int64_t i = 0; i < T * H; i++) sum += f[i];
    out->forget_mean = sum / (double)(T * H);
    for (int k = 0; k < n; k++) {
        const int64_t t = T - 1 - dist[k];
        double best = 0, pred = 0;
        for (int64_t j = 0; j < H; j++) {
            double p = 1;
            for (int64_t s = t + 1; s < T - 1; s++) p *= f[s * H + j];
            if (anchor) pred += (anchor[j] * p) * (anchor[j] * p);
            p *= t + 1 < T ? f[(T - 1) * H + j] : 1.0;
            if (p > best) best = p;
        }
        out->forget_prod[k] = best;
        out->forget_pred[k] = dist[k] >= 1 && anchor ? sqrt(pred) : NAN;
    }
}

void gf_probe(Layer *layer, CellKind kind, Tape *tape, const Tensor *x, const float *w, int n, const int64_t *dist,
              ProbeResult *out) {
    const int64_t T = x->shape[1], H = layer->params[1]->shape[0];
    const bool lstm = kind == CELL_LSTM || kind == CELL_LSTM_COMPOSED;
    float *hs = tensor_xmalloc((size_t)(T * H) * sizeof *hs);
    input_grads(layer, tape, x, w, n, dist, out->gx, hs);
    Tensor **h = tensor_xcalloc((size_t)n, sizeof *h), **c = tensor_xcalloc((size_t)n, sizeof *c);
    states_at(layer, tape, x, n, dist, h, c);
    out->gh[0] = norm2(w, H); /* dL/dh_{T-1} is w itself */
    if (lstm) out->gc[0] = NAN;
    float *anchor = NULL;
    for (int k = 1; k < n; k++) {
        const int64_t t = T - 1 - dist[k];
        Tensor *h0 = ag_requires_grad(tensor_copy(ag_tape_arena(tape), h[k]), true);
        Tensor *c0 = lstm ? ag_requires_grad(tensor_copy(ag_tape_arena(tape), c[k]), true) : NULL;
        NnRnnState initial = {.h = h0, .c = c0};
        Tensor *seq = nn_rnn_call(layer, tape, steps(tape, x, t + 1, T), &initial, NULL, &CTX);
        ag_backward(tape, last_loss(tape, seq, w));
        out->gh[k] = h0->grad ? norm2(h0->grad, H) : 0.0;
        if (lstm) {
            out->gc[k] = c0->grad ? norm2(c0->grad, H) : 0.0;
            if (dist[k] == 1 && c0->grad) {
                anchor = tensor_xmalloc((size_t)H * sizeof *anchor);
                memcpy(anchor, c0->grad, (size_t)H * sizeof *anchor);
            }
        }
        ag_tape_reset(tape);
    }
    if (lstm) {
        double *f = tensor_xmalloc((size_t)(T * H) * sizeof *f);
        forget_gates(layer, x, hs, f);
        forget_path(f, T, H, n, dist, anchor, out);
        free(f);
    }
    for (int k = 0; k < n; k++) {
        tensor_free(h[k]);
        tensor_free(c[k]);
    }
    free(h);
    free(c);
    free(anchor);
    free(hs);
}
