/* The C half of the PyTorch reference test: for each case written by
 * make_reference.py, builds the lamina layers, loads <case>.npz by name with the npz
 * API, runs the inputs through them on a tape, back-propagates sum(output * upstream)
 * (or the sonnets model's loss) and compares outputs, final states and every
 * parameter and input gradient with PyTorch's; then three Adam steps of the sonnets
 * model against torch.optim.Adam(eps=1e-7); then masked LSTM, GRU, SimpleRNN and
 * Bidirectional LSTM on post-padded batches against PyTorch's packed sequences (outputs
 * at real steps, final states, gradients). Prints the worst differences per case.
 * Usage: reference_check DIR   (exit 0: all within tolerance, 1: a mismatch). */
#include "nn/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tolerances, relative as below: outputs (and losses) 1e-5, gradients 1e-4; the
 * Adam optimizer fed PyTorch's gradients 1e-6. Three Adam steps of the whole model
 * also compound the float32 gradients' rounding, which Adam amplifies by up to
 * 1/(4 epsilon) where a gradient is near epsilon = 1e-7: there the parameters must
 * agree within 1e-4 and their moves within 1% of the largest possible, 3 lr. */
#define OUT_TOL 1e-5
#define GRAD_TOL 1e-4
#define ADAM_TOL 1e-6
#define MOVE_TOL 1e-2
#define ADAM_LR 1e-3

static const char *g_dir;
static int g_failures;

typedef struct Worst {
    double out, grad;          /* largest relative error seen */
    double out_abs, grad_abs;  /* largest absolute difference seen */
} Worst;

/* max_i |a_i - e_i| / (|e_i| + max_j |e_j|): relative to each element, with the
 * tensor's own scale as the floor, so values near zero are judged against the
 * tensor's magnitude instead of against themselves. */
static double rel_error(const float *a, const float *e, int64_t n, double *abs_out) {
    double scale = 0, worst = 0, worst_abs = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(e[i]));
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - e[i]);
        if (!(d <= worst_abs)) worst_abs = d; /* NaN-safe: a NaN always counts as worst */
        double r = d / (fabs(e[i]) + scale + 1e-30);
        if (!(r <= worst)) worst = r;
    }
    *abs_out = worst_abs;
    return worst;
}

static bool same_shape(const Tensor *a, const Tensor *b) {
    if (a->size != b->size) return false;
    /* 0-d and (1,) scalars, as numpy writes either, are the same thing. */
    if (a->size == 1) return true;
    return a->ndim == b->ndim && memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(int64_t)) == 0;
}

/* Compares got (float values, n = want->size) with want; records and reports. */
static void compare(const char *name, const char *what, const float *got, const Tensor *want, double tol,
                    double *worst, double *worst_abs) {
    double abs_err, err = rel_error(got, tensor_f32(want), want->size, &abs_err);
    if (!(err <= *worst)) *worst = err;
    if (!(abs_err <= *worst_abs)) *worst_abs = abs_err;
    if (!(err <= tol)) {
        printf("FAIL %s: %s differs from PyTorch: relative error %.3g (tolerance %.0e), max |diff| %.3g\n", name,
               what, err, tol, abs_err);
        g_failures++;
    }
}

static NnNpz *open_data(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.data.npz", g_dir, name);
    NnNpz *z = nn_npz_open(path);
    if (!z) {
        fprintf(stderr, "reference_check: %s\n", tensor_last_error());
        exit(2);
    }
    return z;
}

/* An array of the data file as a tensor in the tape's arena (stops if missing). */
static Tensor *get(NnNpz *z, const char *key, Tape *tape, bool requires_grad) {
    Tensor *t = nn_npz_get(z, key, ag_tape_arena(tape));
    if (!t) {
        fprintf(stderr, "reference_check: %s\n", tensor_last_error());
        exit(2);
    }
    if (requires_grad) ag_requires_grad(t, true);
    return t;
}

/* Every parameter of a layer tree, appended to ps. */
static void collect(Layer *l, Tensor **ps, int *n, int cap) {
    for (int i = 0; i < l->n_params && *n < cap; i++) ps[(*n)++] = l->params[i];
    for (int i = 0; i < l->n_children; i++) collect(l->children[i], ps, n, cap);
}

#define MAX_PARAMS 32

/* Loads <case>.npz into the parameters of the given layers (all of them, by name). */
static int load_layers(const char *name, int nl, Layer **layers, Tensor **ps) {
    int n = 0;
    for (int i = 0; i < nl; i++) collect(layers[i], ps, &n, MAX_PARAMS);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.npz", g_dir, name);
    if (nn_npz_load_tensors(path, n, ps) != 0) {
        printf("FAIL %s: %s\n%s", name, tensor_last_error(), nn_npz_mismatches());
        g_failures++;
        return -1;
    }
    return n;
}

/* The outputs of one case, named as in the data file ("out", "h", "c_1", ...). */
typedef struct Outputs {
    int n;
    const char *names[8];
    Tensor *t[8];
} Outputs;

static void add_out(Outputs *o, const char *name, Tensor *t) {
    o->names[o->n] = name;
    o->t[o->n++] = t;
}

/* Compares outputs, back-propagates sum(out_k * g_k) and compares every parameter
 * gradient and the gradients of the named inputs. */
static void check(const char *name, NnNpz *z, Tape *tape, const Outputs *o, int np, Tensor **ps, int ni,
                  const char *const *in_names, Tensor **inputs, Worst *w) {
    Tensor *loss = NULL;
    char key[300];
    for (int k = 0; k < o->n; k++) {
        Tensor *want = get(z, o->names[k], tape, false);
        if (!same_shape(o->t[k], want)) {
            printf("FAIL %s: '%s' has a different shape than PyTorch's\n", name, o->names[k]);
            g_failures++;
            continue;
        }
        compare(name, o->names[k], tensor_f32(o->t[k]), want, OUT_TOL, &w->out, &w->out_abs);
        snprintf(key, sizeof key, "g:%s", o->names[k]);
        Tensor *term = ag_sum(tape, ag_mul(tape, o->t[k], get(z, key, tape, false)));
        loss = loss ? ag_add(tape, loss, term) : term;
    }
    ag_backward(tape, loss);
    for (int i = 0; i < np + ni; i++) {
        Tensor *t = i < np ? ps[i] : inputs[i - np];
        snprintf(key, sizeof key, "grad:%s", i < np ? t->name : in_names[i - np]);
        Tensor *want = get(z, key, tape, false);
        float *g = tensor_grad(t); /* zeros if nothing reached it */
        if (want->size != t->size) {
            printf("FAIL %s: %s has %lld elements, PyTorch's %lld\n", name, key, (long long)t->size,
                   (long long)want->size);
            g_failures++;
            continue;
        }
        compare(name, key, g, want, GRAD_TOL, &w->grad, &w->grad_abs);
    }
}

static void report(const char *name, const Worst *w) {
    printf("%-26s outputs %.2e (|d| %.1e)   gradients %.2e (|d| %.1e)\n", name, w->out, w->out_abs, w->grad,
           w->grad_abs);
}

static Layer *built(Layer *l, NnShape in) {
    if (!l || nn_layer_build(l, in, NULL) != 0) {
        fprintf(stderr, "reference_check: %s\n", tensor_last_error());
        exit(2);
    }
    return l;
}

/* ---- the cases ---- */

static void dense_case(void) {
    NnNpz *z = open_data("dense");
    Tape *tape = ag_tape_new();
    Tensor *x = get(z, "x", tape, true);
    Layer *l = built(nn_dense(.units = 7, .activation = NN_TANH), NN_SHAPE(TENSOR_F32, x->shape[1], x->shape[2]));
    Tensor *ps[MAX_PARAMS];
    int np = load_layers("dense", 1, &l, ps);
    if (np >= 0) {
        Outputs o = {0};
        add_out(&o, "out", nn_layer_call(l, tape, x, NULL));
        Worst w = {0};
        check("dense (tanh)", z, tape, &o, np, ps, 1, (const char *[]){"x"}, &x, &w);
        report("Dense (tanh)", &w);
    }
    nn_layer_free(l);
    ag_tape_free(tape);
    nn_npz_close(z);
}

static void embedding_case(void) {
    NnNpz *z = open_data("embedding");
    Tape *tape = ag_tape_new();
    Tensor *x = get(z, "x", tape, false);
    Layer *l = built(nn_embedding(.vocab = 11, .dim = 4), NN_SHAPE(TENSOR_I32, x->shape[1]));
    Tensor *ps[MAX_PARAMS];
    int np = load_layers("embedding", 1, &l, ps);
    if (np >= 0) {
        Outputs o = {0};
        add_out(&o, "out", nn_layer_call(l, tape, x, NULL));
        Worst w = {0};
        check("embedding", z, tape, &o, np, ps, 0, NULL, NULL, &w);
        report("Embedding", &w);
    }
    nn_layer_free(l);
    ag_tape_free(tape);
    nn_npz_close(z);
}

typedef enum { SIMPLE, LSTM, LSTM_UNFUSED, GRU } Kind;

static Layer *make_rnn(Kind kind, int64_t units, const char *name) {
    NnRnnOpts o = {.units = units, .return_sequences = true, .unfused = kind == LSTM_UNFUSED, .name = name};
    return kind == SIMPLE ? nn_simple_rnn_new(&o) : kind == GRU ? nn_gru_new(&o) : nn_lstm_new(&o);
}

/* One RNN (or a stack of `layers` of them), initial states given, all final states
 * compared: the simple_rnn, lstm, gru and stacked_lstm cases. */
static void rnn_case(const char *file, const char *label, Kind kind, int layers) {
    NnNpz *z = open_data(file);
    Tape *tape = ag_tape_new();
    bool cell = kind == LSTM || kind == LSTM_UNFUSED;
    Tensor *x = get(z, "x", tape, true);
    Tensor *inputs[1 + 2 * 4] = {x};
    const char *in_names[1 + 2 * 4] = {"x"};
    static const char *h0n[] = {"h0_0", "h0_1", "h0_2", "h0_3"}, *c0n[] = {"c0_0", "c0_1", "c0_2", "c0_3"};
    static const char *hn[] = {"h_0", "h_1", "h_2", "h_3"}, *cn[] = {"c_0", "c_1", "c_2", "c_3"};
    static const char *lname[] = {"lstm", "lstm_1", "lstm_2", "lstm_3"};
    int ni = 1;
    Layer *ls[4];
    int64_t D = x->shape[2], H = get(z, layers > 1 ? "h0_0" : "h0", tape, false)->shape[1];
    for (int k = 0; k < layers; k++)
        ls[k] = built(make_rnn(kind, H, layers > 1 ? lname[k] : NULL), NN_SHAPE(TENSOR_F32, x->shape[1], k ? H : D));
    Tensor *ps[MAX_PARAMS];
    int np = load_layers(file, layers, ls, ps);
    if (np >= 0) {
        Outputs o = {0};
        Tensor *seq = x;
        NnRnnState fin[4];
        for (int k = 0; k < layers; k++) {
            const char *hk = layers > 1 ? h0n[k] : "h0", *ck = layers > 1 ? c0n[k] : "c0";
            NnRnnState init = {.h = get(z, hk, tape, true), .c = cell ? get(z, ck, tape, true) : NULL};
            in_names[ni] = hk, inputs[ni++] = init.h;
            if (cell) in_names[ni] = ck, inputs[ni++] = init.c;
            seq = nn_rnn_call(ls[k], tape, seq, &init, &fin[k], NULL);
        }
        add_out(&o, "out", seq);
        for (int k = 0; k < layers; k++) {
            add_out(&o, layers > 1 ? hn[k] : "h", fin[k].h);
            if (cell) add_out(&o, layers > 1 ? cn[k] : "c", fin[k].c);
        }
        Worst w = {0};
        check(label, z, tape, &o, np, ps, ni, in_names, inputs, &w);
        report(label, &w);
    }
    for (int k = 0; k < layers; k++) nn_layer_free(ls[k]);
    ag_tape_free(tape);
    nn_npz_close(z);
}

/* out with its padded steps zeroed, as pad_packed_sequence gives them: only the real
 * steps are compared (PyTorch's upstream gradient is zero at the others). */
static Tensor *real_steps_only(Tape *tape, Tensor *out, Tensor *mask) {
    if (out->ndim != 3) return out;
    Tensor *m = ag_reshape(tape, mask, 3, (int64_t[]){mask->shape[0], mask->shape[1], 1});
    return ag_mul(tape, out, m);
}

/* One RNN from given initial states, post-padded and masked, against PyTorch's packed
 * sequences: the masked_lstm, masked_gru and masked_simple_rnn cases. */
static void masked_rnn_case(const char *file, const char *label, Kind kind) {
    NnNpz *z = open_data(file);
    Tape *tape = ag_tape_new();
    const bool cell = kind == LSTM || kind == LSTM_UNFUSED;
    Tensor *x = get(z, "x", tape, true), *mask = get(z, "mask", tape, false);
    Tensor *h0 = get(z, "h0", tape, true), *c0 = cell ? get(z, "c0", tape, true) : NULL;
    Layer *l = built(make_rnn(kind, h0->shape[1], NULL), NN_SHAPE(TENSOR_F32, x->shape[1], x->shape[2]));
    Tensor *ps[MAX_PARAMS];
    int np = load_layers(file, 1, &l, ps);
    if (np >= 0) {
        NnRnnState init = {.h = h0, .c = c0}, fin;
        Tensor *seq = nn_rnn_call(l, tape, x, &init, &fin, &(NnCallCtx){.mask = mask});
        Outputs o = {0};
        add_out(&o, "out", real_steps_only(tape, seq, mask));
        add_out(&o, "h", fin.h);
        if (cell) add_out(&o, "c", fin.c);
        Worst w = {0};
        check(label, z, tape, &o, np, ps, cell ? 3 : 2, (const char *[]){"x", "h0", "c0"},
              (Tensor *[]){x, h0, c0}, &w);
        report(label, &w);
    }
    nn_layer_free(l);
    ag_tape_free(tape);
    nn_npz_close(z);
}

/* A Bidirectional LSTM case; a masked one (its file holds a "mask") compares the
 * real steps only, as PyTorch's packed sequences give zeros at the padding. */
static void bidirectional_case(const char *file, const char *label, bool return_sequences, bool masked) {
    NnNpz *z = open_data(file);
    Tape *tape = ag_tape_new();
    Tensor *x = get(z, "x", tape, true), *mask = masked ? get(z, "mask", tape, false) : NULL;
    int64_t H = get(z, "grad:forward_lstm/recurrent_kernel", tape, false)->shape[0];
    Layer *l = built(nn_bidirectional(nn_lstm(.units = H, .return_sequences = return_sequences)),
                     NN_SHAPE(TENSOR_F32, x->shape[1], x->shape[2]));
    Tensor *ps[MAX_PARAMS];
    int np = load_layers(file, 1, &l, ps);
    if (np >= 0) {
        Outputs o = {0};
        Tensor *out = nn_layer_call(l, tape, x, masked ? &(NnCallCtx){.mask = mask} : NULL);
        add_out(&o, "out", masked ? real_steps_only(tape, out, mask) : out);
        Worst w = {0};
        check(label, z, tape, &o, np, ps, 1, (const char *[]){"x"}, &x, &w);
        report(label, &w);
    }
    nn_layer_free(l);
    ag_tape_free(tape);
    nn_npz_close(z);
}

/* The sonnets notebook's char many-to-many model as a Sequential. */
static Model *sonnets_model(void) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 27, .dim = 64));
    nn_add(m, nn_lstm(.units = 256, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    if (nn_build(m, NN_SHAPE(TENSOR_I32, -1)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = (float)ADAM_LR)) != 0) {
        fprintf(stderr, "reference_check: %s\n", tensor_last_error());
        exit(2);
    }
    return m;
}

static void sonnets_case(void) {
    NnNpz *z = open_data("sonnets");
    Model *m = sonnets_model();
    char path[512];
    snprintf(path, sizeof path, "%s/sonnets.npz", g_dir);
    if (nn_load_npz(m, path) != 0) {
        printf("FAIL sonnets: %s\n%s", tensor_last_error(), nn_npz_mismatches());
        g_failures++;
        nn_model_free(m);
        nn_npz_close(z);
        return;
    }
    /* What C wrote must read back in numpy as the same arrays (checked in Python). */
    snprintf(path, sizeof path, "%s/sonnets.from_c.npz", g_dir);
    if (nn_save_npz(m, path) != 0) printf("FAIL sonnets: %s\n", tensor_last_error()), g_failures++;

    /* Loss and gradients: the model's layers called in turn on a tape. */
    Tape *tape = ag_tape_new();
    Tensor *x = get(z, "x", tape, false), *y = get(z, "y", tape, false);
    NnCallCtx ctx = {.training = true};
    Tensor *h = x;
    for (int i = 0; i < nn_model_layer_count(m); i++) {
        ctx.logits = i == nn_model_layer_count(m) - 1; /* softmax fused into the loss */
        h = nn_layer_call(nn_model_layer(m, i), tape, h, &ctx);
    }
    Tensor *loss = ag_sparse_cross_entropy(tape, h, y, AG_NO_IGNORE_INDEX);
    Tensor *probs = ag_softmax(tape, h, -1);
    Worst w = {0};
    compare("sonnets", "probabilities", tensor_f32(probs), get(z, "out", tape, false), OUT_TOL, &w.out, &w.out_abs);
    compare("sonnets", "loss", tensor_f32(loss), get(z, "loss", tape, false), OUT_TOL, &w.out, &w.out_abs);
    ag_backward(tape, loss);
    int np;
    Tensor *const *ps = nn_model_params(m, &np);
    for (int i = 0; i < np; i++) {
        char key[300];
        snprintf(key, sizeof key, "grad:%s", ps[i]->name);
        compare("sonnets", key, ps[i]->grad, get(z, key, tape, false), GRAD_TOL, &w.grad, &w.grad_abs);
    }
    report("sonnets model + loss", &w);

    /* Three Adam steps from the same weights, on the three batches PyTorch used. */
    snprintf(path, sizeof path, "%s/sonnets.npz", g_dir);
    Model *a = sonnets_model();
    Worst wa = {0};
    if (nn_load_npz(a, path) != 0) printf("FAIL sonnets: %s\n", tensor_last_error()), g_failures++;
    for (int s = 1; s <= 3; s++) {
        char kx[32], ky[32], kl[32];
        snprintf(kx, sizeof kx, "adam:x%d", s), snprintf(ky, sizeof ky, "adam:y%d", s);
        snprintf(kl, sizeof kl, "adam:loss%d", s);
        double value;
        if (nn_train_on_batch(a, get(z, kx, tape, false), get(z, ky, tape, false), &value) != 0)
            printf("FAIL adam: %s\n", tensor_last_error()), g_failures++;
        float v = (float)value;
        compare("adam", kl, &v, get(z, kl, tape, false), OUT_TOL, &wa.out, &wa.out_abs);
    }
    ps = nn_model_params(a, &np);
    double move = 0;
    for (int i = 0; i < np; i++) {
        char key[300];
        snprintf(key, sizeof key, "adam:%s", ps[i]->name);
        Tensor *want = get(z, key, tape, false);
        compare("adam", key, tensor_f32(ps[i]), want, GRAD_TOL, &wa.grad, &wa.grad_abs);
        for (int64_t k = 0; k < want->size; k++)
            move = fmax(move, fabs((double)tensor_f32(ps[i])[k] - tensor_f32(want)[k]) / (3 * ADAM_LR));
    }
    if (!(move <= MOVE_TOL)) {
        printf("FAIL adam: a parameter's 3-step move differs by %.3g of 3 lr (tolerance %.0e)\n", move, MOVE_TOL);
        g_failures++;
    }
    snprintf(path, sizeof path, "%s/sonnets.adam_from_c.npz", g_dir);
    if (nn_save_npz(a, path) != 0) printf("FAIL adam: %s\n", tensor_last_error()), g_failures++;
    printf("%-26s losses  %.2e (|d| %.1e)   parameters %.2e (|d| %.1e, %.1e of 3 lr)\n",
           "sonnets + Adam, 3 steps", wa.out, wa.out_abs, wa.grad, wa.grad_abs, move);

    /* The optimizer alone: PyTorch's float32 gradients in, the same parameters out. */
    Tensor *p = get(z, "adamopt:p0", tape, false);
    Optimizer *opt = nn_adam(.lr = (float)ADAM_LR);
    for (int s = 1; s <= 3; s++) {
        char kg[32];
        snprintf(kg, sizeof kg, "adamopt:g%d", s);
        nn_optimizer_step(opt, p->size, tensor_f32(p), tensor_f32(get(z, kg, tape, false)));
    }
    Worst wo = {0};
    compare("adam", "optimizer alone", tensor_f32(p), get(z, "adamopt:p", tape, false), ADAM_TOL, &wo.out,
            &wo.out_abs);
    printf("%-26s parameters %.2e (|d| %.1e)\n", "Adam alone, 3 steps", wo.out, wo.out_abs);
    nn_optimizer_free(opt);
    nn_model_free(a);
    nn_model_free(m);
    ag_tape_free(tape);
    nn_npz_close(z);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: reference_check DIR (written by tests/reference/make_reference.py)\n");
        return 2;
    }
    g_dir = argv[1];
    printf("lamina vs PyTorch (relative error: max |a - e| / (|e| + max|e|); tolerances: outputs %.0e, "
           "gradients %.0e, Adam alone %.0e)\n",
           OUT_TOL, GRAD_TOL, ADAM_TOL);
    dense_case();
    embedding_case();
    rnn_case("simple_rnn", "SimpleRNN (tanh)", SIMPLE, 1);
    rnn_case("lstm", "LSTM (fused)", LSTM, 1);
    rnn_case("lstm", "LSTM (composed)", LSTM_UNFUSED, 1);
    rnn_case("gru", "GRU (reset_after)", GRU, 1);
    rnn_case("stacked_lstm", "stacked LSTM x2", LSTM, 2);
    bidirectional_case("bidirectional_lstm", "Bidirectional LSTM (seq)", true, false);
    bidirectional_case("bidirectional_lstm_last", "Bidirectional LSTM (last)", false, false);
    sonnets_case();
    masked_rnn_case("masked_lstm", "masked LSTM (fused)", LSTM);
    masked_rnn_case("masked_lstm", "masked LSTM (composed)", LSTM_UNFUSED);
    masked_rnn_case("masked_gru", "masked GRU", GRU);
    masked_rnn_case("masked_simple_rnn", "masked SimpleRNN", SIMPLE);
    bidirectional_case("masked_bidirectional_lstm", "masked Bidirectional seq", true, true);
    bidirectional_case("masked_bidirectional_lstm_last", "masked Bidirectional last", false, true);
    if (g_failures) {
        printf("%d comparison%s failed\n", g_failures, g_failures == 1 ? "" : "s");
        return 1;
    }
    printf("all comparisons within tolerance\n");
    return 0;
}
