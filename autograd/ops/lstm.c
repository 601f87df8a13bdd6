/* lstm: the fused LSTM sequence op (Keras layout, gates i, f, c, o). Forward: one GEMM
 * for the input projection of all B*T rows — or, when x is a lookup in a table with
 * fewer rows than B*T/4, the (V, 4H) table of projected rows, gathered per step — then
 * a team of threads runs the time steps. Each thread owns a block of hidden units (the
 * same block of the i, f, c and o gate columns), keeps its columns of the recurrent
 * matrix packed for the whole sequence, and per step runs its recurrent GEMM and its
 * cells, then waits at one barrier. Backward through time has the same shape (cells,
 * barrier, GEMM for dh_{t-1}); the weight and input gradients are one GEMM each over
 * all steps at the end. Results do not depend on the thread count: every element's
 * sums run in an order fixed by the shapes. */
#include "lstm_internal.h"

#include "tensor/gemm.h"
#include "tensor/gemm_packed.h"
#include "tensor/team.h"

#include <string.h>

/* What backward needs, all in the tape's arena. Time-indexed buffers (t = position in
 * x) line up with x's rows, so the weight gradients are single GEMMs over B*T rows. */
typedef struct LstmSaved {
    float *gates; /* (B, T, 4H) by t: activations i, f, g, o of the step that read x_t */
    float *cs;    /* (B, T, H) by processing index s: c after step s */
    float *tc;    /* (B, T, H) by s: tanh(c) after step s */
    float *hprev; /* (B, T, H) by t: the hidden state that step read (h0 or 0 first) */
} LstmSaved;

/* Inputs of the node; a folded lookup adds the table and the ids. */
enum { IN_X, IN_KERNEL, IN_RECURRENT, IN_BIAS, IN_H0, IN_C0, N_IN, IN_TABLE = N_IN, IN_IDS, N_IN_FOLDED };

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

/* Threads for the time loop: a team only when a step's recurrent GEMM is big enough
 * (>= 2 MFLOP) that the split pays for a barrier per step, and never fewer than 8
 * hidden units each. At B = 128, H = 64 (4.2 MFLOP) two threads train 1.15x and infer
 * 1.24x faster than one on an idle 2-core machine; below ~2 MFLOP the barrier wins. */
static int team_size(int64_t B, int64_t H) {
    int nt = tensor_get_num_threads();
    if (2.0 * (double)B * (double)(4 * H) * (double)H < 2e6) return 1;
    if (nt > H / 8) nt = (int)(H / 8);
    return nt < 1 ? 1 : nt;
}

/* Thread t's hidden units [u0, u1): equal shares, cut at multiples of 16 when H is
 * large enough, so the packed panels of each gate block stay whole. */
static void unit_range(int64_t H, int t, int nt, int64_t *u0, int64_t *u1) {
    const int64_t q = H >= 32 * nt ? 16 : 1;
    *u0 = (H * t / nt) / q * q;
    *u1 = t == nt - 1 ? H : (H * (t + 1) / nt) / q * q;
}

/* ---- forward ---- */

typedef struct Fwd {
    int64_t B, T, H;
    bool back;
    float *z;             /* (B, T, 4H): x kernel (unfolded), then activations */
    const float *proj;    /* folded: (V, 4H) projected table, bias included; else NULL */
    const int32_t *ids;   /* folded: (B, T) */
    const float *bias, *rv, *h0, *c0;
    float *seq, *c;       /* outputs: (B, T, H) in processing order, running c (B, H) */
    float *cs, *tc, *hprev; /* saved for backward, or NULL */
} Fwd;

static void forward_team(void *arg, int t, int nt) {
    const Fwd *f = arg;
    const int64_t B = f->B, T = f->T, H = f->H, G = 4 * H;
    int64_t u0, u1;
    unit_range(H, t, nt, &u0, &u1);
    TensorPackedB pb;
    if ((T > 1 || f->h0) && u1 > u0) {
        const int64_t col0[4] = {u0, H + u0, 2 * H + u0, 3 * H + u0};
        float *buf = tensor_thread_scratch(0, tensor_packed_b_floats(H, u1 - u0, 4));
        tensor_pack_b(&pb, buf, false, H, 4, col0, u1 - u0, f->rv, G);
    }
    for (int64_t s = 0; s < T; s++) {
        const int64_t tt = step_time(s, T, f->back);
        const int64_t tn = s + 1 < T ? step_time(s + 1, T, f->back) : -1;
        /* z_t (+)= h_{s-1} recurrent on this thread's gate columns, in place in (B, T, 4H). */
        const float *hp = s > 0 ? f->seq + (s - 1) * H : f->h0;
        float *zt = f->z + tt * G;
        if (hp && u1 > u0)
            tensor_sgemm_packed(B, 1.0f, hp, s > 0 ? T * H : H, &pb, f->proj ? 0.0f : 1.0f, zt,
                                T * G);
        const bool zvalid = !f->proj || hp; /* folded first step without h0: z is all proj */
        const float *cprev = s > 0 ? f->c : f->c0;
        for (int64_t b = 0; b < B; b++) {
            const float *add = f->proj ? f->proj + (int64_t)f->ids[b * T + tt] * G : f->bias;
            const int64_t r = b * T + s;
            lstm_cell_forward(zt + b * T * G, add, zvalid, cprev ? cprev + b * H : NULL,
                              f->c + b * H, f->seq + r * H, f->cs ? f->cs + r * H : NULL,
                              f->tc ? f->tc + r * H : NULL,
                              f->hprev && tn >= 0 ? f->hprev + (b * T + tn) * H : NULL, H, u0, u1);
        }
        if (s + 1 < T) tensor_team_barrier(); /* h_s complete before any thread reads it */
    }
}

/* ---- backward ---- */

typedef struct Bwd {
    int64_t B, T, H;
    bool back;
    const float *gates, *cs, *tc, *c0, *rv;
    const float *gseq, *gh, *gc; /* upstream gradients, NULL where none arrived */
    float *dz, *dh, *dc;         /* (B, T, 4H) by t; carries (B, H) */
    float *gh0, *gc0;            /* input gradients of the initial states, or NULL */
    const int32_t *ids;          /* folded: (B, T) ids, and dp (V, 4H) += their dz rows */
    float *dp;
} Bwd;

/* dp[id] += dz row over the thread's units of each gate block, while the row is in
 * cache. Every element of dp is summed in the same order (s down, then b) whatever
 * the thread count. */
static inline void scatter_own(float *dp, const float *dz, int64_t H, int64_t u0, int64_t u1) {
    for (int g = 0; g < 4; g++) {
        float *dst = dp + g * H;
        const float *src = dz + g * H;
#pragma omp simd
        for (int64_t j = u0; j < u1; j++) dst[j] += src[j];
    }
}

static void backward_team(void *arg, int t, int nt) {
    const Bwd *w = arg;
    const int64_t B = w->B, T = w->T, H = w->H, G = 4 * H;
    int64_t u0, u1;
    unit_range(H, t, nt, &u0, &u1);
    TensorPackedB pb; /* op(B) = recurrent^T (4H x H), this thread's columns of dh */
    if ((T > 1 || w->gh0) && u1 > u0) {
        float *buf = tensor_thread_scratch(0, tensor_packed_b_floats(G, u1 - u0, 1));
        tensor_pack_b(&pb, buf, true, G, 1, &u0, u1 - u0, w->rv, G);
    }
    for (int64_t b = 0; b < B; b++) {
        memset(w->dh + b * H + u0, 0, (size_t)(u1 - u0) * sizeof(float));
        memset(w->dc + b * H + u0, 0, (size_t)(u1 - u0) * sizeof(float));
    }
    for (int64_t s = T - 1; s >= 0; s--) {
        const int64_t tt = step_time(s, T, w->back);
        const bool last = s == T - 1;
        for (int64_t b = 0; b < B; b++) {
            const int64_t r = b * T + s;
            const float *cprev = s > 0 ? w->cs + (r - 1) * H : w->c0 ? w->c0 + b * H : NULL;
            lstm_cell_backward(w->gates + (b * T + tt) * G, w->tc + r * H, cprev, w->dh + b * H,
                               w->gseq ? w->gseq + r * H : NULL,
                               last && w->gh ? w->gh + b * H : NULL, w->dc + b * H,
                               last && w->gc ? w->gc + b * H : NULL, w->dz + (b * T + tt) * G,
                               s == 0 && w->gc0 ? w->gc0 + b * H : NULL, H, u0, u1);
            if (w->dp)
                scatter_own(w->dp + (int64_t)w->ids[b * T + tt] * G, w->dz + (b * T + tt) * G, H, u0, u1);
        }
        if (s == 0 && !w->gh0) break;
        tensor_team_barrier(); /* dz_t complete before any thread multiplies it */
        /* dh_{s-1} = dz_t recurrent^T: into the carry, or (first step) into dh0. */
        if (u1 > u0)
            tensor_sgemm_packed(B, 1.0f, w->dz + tt * G, T * G, &pb, s > 0 ? 0.0f : 1.0f,
                                s > 0 ? w->dh : w->gh0, H);
    }
}

/* out[j] += sum over rows of m[r * G + j]: each block of columns belongs to one thread
 * and is summed in row order in double, so the result does not depend on the thread
 * count. */
static void column_sums_add(const float *m, int64_t rows, int64_t G, float *out) {
    const int64_t CB = 64, nblocks = (G + CB - 1) / CB;
    TENSOR_PARALLEL_FOR(rows * G)
    for (int64_t blk = 0; blk < nblocks; blk++) {
        double acc[64] = {0};
        const int64_t j0 = blk * CB, j1 = j0 + CB < G ? j0 + CB : G;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = m + r * G;
#pragma omp simd
            for (int64_t j = j0; j < j1; j++) acc[j - j0] += row[j];
        }
        for (int64_t j = j0; j < j1; j++) out[j] += (float)acc[j - j0];
    }
}

/* d recurrent += hprev^T dz over all B*T rows. Without h0 the rows of the first step
 * read h = 0 and add nothing; for short sequences of wide layers (Sherlock's T = 3,
 * H = 1000) they are a third of the product, so the other rows are gathered into
 * contiguous copies and only they are multiplied. */
static void recurrent_grad(const Node *n, const Bwd *w, float *gr) {
    const int64_t B = w->B, T = w->T, H = w->H, G = 4 * H, BT = B * T;
    const float *hprev = ((const LstmSaved *)n->saved)->hprev;
    const double saved = 2.0 * (double)B * (double)H * (double)G;
    const double copied = (double)(B * (T - 1)) * (double)(H + G);
    if (n->inputs[IN_H0] || T == 1 || saved < 40.0 * copied) {
        tensor_sgemm(true, false, H, G, BT, 1.0f, hprev, H, w->dz, G, 1.0f, gr, G);
        return;
    }
    const int64_t t0 = step_time(0, T, w->back), rows = B * (T - 1);
    Arena *arena = ag_tape_arena(n->tape);
    float *hp = tensor_arena_alloc(arena, (size_t)(rows * H) * sizeof(float));
    float *dz = tensor_arena_alloc(arena, (size_t)(rows * G) * sizeof(float));
    int64_t r = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            if (t == t0) continue;
            memcpy(hp + r * H, hprev + (b * T + t) * H, (size_t)H * sizeof(float));
            memcpy(dz + r * G, w->dz + (b * T + t) * G, (size_t)G * sizeof(float));
            r++;
        }
    tensor_sgemm(true, false, H, G, rows, 1.0f, hp, H, dz, G, 1.0f, gr, G);
}

static void lstm_backward(Node *n) {
    const int64_t B = n->iargs[0], T = n->iargs[1], D = n->iargs[2], H = n->iargs[3];
    const bool back = n->iargs[4] != 0, folded = n->n_inputs == N_IN_FOLDED;
    const int64_t G = 4 * H, BT = B * T;
    const LstmSaved *sv = n->saved;
    Arena *arena = ag_tape_arena(n->tape);
    Bwd w = {.B = B, .T = T, .H = H, .back = back, .gates = sv->gates, .cs = sv->cs, .tc = sv->tc,
             .rv = n->inputs[IN_RECURRENT]->data, .gseq = ag_output_grad(n, 0),
             .gh = ag_output_grad(n, 1), .gc = ag_output_grad(n, 2)};
    w.c0 = n->inputs[IN_C0] ? (const float *)n->inputs[IN_C0]->data : NULL;
    w.gh0 = n->inputs[IN_H0] ? ag_input_grad(n, IN_H0) : NULL;
    w.gc0 = n->inputs[IN_C0] ? ag_input_grad(n, IN_C0) : NULL;
    w.dz = tensor_arena_alloc(arena, (size_t)(BT * G) * sizeof(float));
    w.dh = tensor_arena_alloc(arena, (size_t)(B * H) * sizeof(float));
    w.dc = tensor_arena_alloc(arena, (size_t)(B * H) * sizeof(float));
    const Tensor *table = folded ? n->inputs[IN_TABLE] : NULL;
    if (folded) {
        w.ids = n->inputs[IN_IDS]->data;
        w.dp = tensor_arena_calloc(arena, (size_t)(table->shape[0] * G), sizeof(float));
    }
    tensor_team_run(team_size(B, H), backward_team, &w);

    const float *xv = n->inputs[IN_X]->data, *kv = n->inputs[IN_KERNEL]->data;
    float *gk = ag_input_grad(n, IN_KERNEL), *gr = ag_input_grad(n, IN_RECURRENT),
          *gb = ag_input_grad(n, IN_BIAS);
    if (gr && sv->hprev) recurrent_grad(n, &w, gr);
    if (!folded) {
        float *gx = ag_input_grad(n, IN_X);
        if (gk) tensor_sgemm(true, false, D, G, BT, 1.0f, xv, D, w.dz, G, 1.0f, gk, G);
        if (gx) tensor_sgemm(false, true, BT, D, G, 1.0f, w.dz, G, kv, G, 1.0f, gx, D);
        if (gb) column_sums_add(w.dz, BT, G, gb);
        return;
    }
    /* x = table[ids]: the gradient goes to the table directly, through dp, the sum of
     * the dz rows of each id (x's own gradient is never formed). */
    const int64_t V = table->shape[0];
    const float *dp = w.dp;
    float *gt = ag_input_grad(n, IN_TABLE);
    if (gk) tensor_sgemm(true, false, D, G, V, 1.0f, table->data, D, dp, G, 1.0f, gk, G);
    if (gt) tensor_sgemm(false, true, V, D, G, 1.0f, dp, G, kv, G, 1.0f, gt, D);
    if (gb) column_sums_add(dp, V, G, gb);
}

static const OpDef LSTM_OP = {"lstm", lstm_backward};

/* Whether x is still exactly table[ids] for a gather_rows table small enough to fold
 * (4V <= B*T); then *table and *ids name them. */
static bool fold_source(const Tensor *x, int64_t B, int64_t T, int64_t D, Tensor **table,
                        Tensor **ids) {
    const Node *g = x->node;
    if (!g || g->op != &ag__gather_rows_op || g->n_inputs != 2) return false;
    /* A lookup nothing recorded, on an x that wants its own gradient: keep x's path. */
    if (g->iargs[0] == 1 && x->requires_grad) return false;
    Tensor *tb = g->inputs[0], *id = g->inputs[1];
    if (tb->ndim != 2 || tb->shape[1] != D || id->ndim != 2 || id->shape[0] != B ||
        id->shape[1] != T || 4 * tb->shape[0] > B * T)
        return false;
    /* The rows themselves, so the fold is exact even if something changed in between. */
    const int64_t V = tb->shape[0];
    const int32_t *iv = id->data;
    const float *tv = tb->data, *xv = x->data;
    for (int64_t r = 0; r < B * T; r++)
        if (iv[r] < 0 || iv[r] >= V ||
            memcmp(xv + r * D, tv + (int64_t)iv[r] * D, (size_t)D * sizeof(float)) != 0)
            return false;
    *table = tb;
    *ids = id;
    return true;
}

AgLstmResult ag_lstm(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent, Tensor *bias,
                     Tensor *h0, Tensor *c0, bool go_backwards) {
    int64_t dims[4];
    ag_lstm__check("lstm", x, kernel, recurrent, bias, h0, c0, dims);
    const int64_t B = dims[0], T = dims[1], D = dims[2], H = dims[3], G = 4 * H, BT = B * T;
    Tensor *table = NULL, *ids = NULL;
    const bool folded = fold_source(x, B, T, D, &table, &ids);
    AgLstmResult res = {
        .seq = ag_output(tape, 3, (int64_t[]){B, T, H}),
        .h = ag_output(tape, 2, (int64_t[]){B, H}),
        .c = ag_output(tape, 2, (int64_t[]){B, H}),
    };
    Tensor *ins[N_IN_FOLDED] = {x, kernel, recurrent, bias, h0, c0, table, ids};
    const int n_in = folded ? N_IN_FOLDED : N_IN;
    /* Whether ag_record will keep a node: then the forward fills what backward needs
     * as it goes (the node itself is recorded once the outputs exist). */
    bool recording = ag_grad_enabled(tape);
    bool any = false;
    for (int k = 0; k < n_in; k++) any = any || (ins[k] && ins[k]->requires_grad);
    recording = recording && any;
    Arena *arena = ag_tape_arena(tape);
    Fwd f = {.B = B, .T = T, .H = H, .back = go_backwards, .bias = bias->data,
             .rv = recurrent->data, .seq = res.seq->data, .c = res.c->data};
    f.h0 = h0 ? (const float *)h0->data : NULL;
    f.c0 = c0 ? (const float *)c0->data : NULL;
    f.z = tensor_arena_alloc(arena, (size_t)(BT * G) * sizeof(float));
    LstmSaved *sv = NULL;
    if (recording) {
        sv = tensor_arena_alloc(arena, sizeof *sv);
        sv->gates = f.z;
        sv->cs = f.cs = tensor_arena_alloc(arena, (size_t)(BT * H) * sizeof(float));
        sv->tc = f.tc = tensor_arena_alloc(arena, (size_t)(BT * H) * sizeof(float));
        sv->hprev = f.hprev =
            recurrent->requires_grad ? tensor_arena_alloc(arena, (size_t)(BT * H) * sizeof(float)) : NULL;
    }

    if (folded) {
        /* proj = table kernel + bias, (V, 4H): row ids[b, t] is z_t's input part. */
        const int64_t V = table->shape[0];
        float *proj = tensor_arena_alloc(arena, (size_t)(V * G) * sizeof(float));
        tensor_sgemm(false, false, V, G, D, 1.0f, table->data, D, kernel->data, G, 0.0f, proj, G);
        for (int64_t v = 0; v < V; v++)
            for (int64_t j = 0; j < G; j++) proj[v * G + j] += f.bias[j];
        f.proj = proj;
        f.ids = ids->data;
    } else {
        /* Input projection of every (b, t) row at once; the bias is added in the cells. */
        tensor_sgemm(false, false, BT, G, D, 1.0f, x->data, D, kernel->data, G, 0.0f, f.z, G);
    }
    if (f.hprev) {
        const int64_t t0 = step_time(0, T, go_backwards);
        for (int64_t b = 0; b < B; b++) {
            float *dst = f.hprev + (b * T + t0) * H;
            if (f.h0) memcpy(dst, f.h0 + b * H, (size_t)H * sizeof(float));
            else memset(dst, 0, (size_t)H * sizeof(float));
        }
    }
    tensor_team_run(team_size(B, H), forward_team, &f);
    float *hout = res.h->data;
    for (int64_t b = 0; b < B; b++)
        memcpy(hout + b * H, f.seq + (b * T + T - 1) * H, (size_t)H * sizeof(float));
    Node *n = ag_record_multi(tape, &LSTM_OP, 3, (Tensor *[]){res.seq, res.h, res.c}, n_in, ins);
    TENSOR_CHECK(!n || sv, "lstm: recorded a node without its saved values");
    if (n) {
        n->iargs[0] = B, n->iargs[1] = T, n->iargs[2] = D, n->iargs[3] = H;
        n->iargs[4] = go_backwards;
        n->saved = sv;
    }
    return res;
}
