/* lstm: the fused LSTM sequence op (Keras layout, gates i, f, c, o). Forward: one GEMM
 * for the input projection of all B*T rows — or, for ag_lstm_lookup on a table with
 * fewer rows than B*T/4, the (V, 4H) table of projected rows, gathered per step — then
 * a team of threads runs the time steps, split by hidden units or by batch rows (the
 * plan of tensor/lstm_plan.c): each step is the recurrent GEMM on packed columns of the
 * recurrent matrix and the cells (tensor/lstm_cell.c). Backward through time has the
 * same shape (cells, then the GEMM for dh_{t-1}); the weight and input gradients are
 * one GEMM each over all steps at the end. Results do not depend on the thread count or
 * the split: every element's sums run in an order fixed by the shapes. Under a mask a
 * padded row's step runs the carry of tensor/lstm_carry.c instead of its cell, in the
 * same loops; with no mask every path is the unmasked one. */
#include "autograd/ops/lstm_internal.h"

#include "tensor/gemm.h"
#include "tensor/gemm_packed_internal.h"
#include "tensor/lstm_internal.h"
#include "tensor/team_internal.h"

#include <string.h>

/* What backward needs, all in the tape's arena. Time-indexed buffers (t = position in
 * x) line up with x's rows, so the weight gradients are single GEMMs over B*T rows. */
typedef struct LstmSaved {
    float *gates; /* (B, T, 4H) by t: activations i, f, g, o of the step that read x_t */
    float *cs;    /* (B, T, H) by processing index s: c after step s */
    float *tc;    /* (B, T, H) by s: tanh(c) after step s */
    float *hprev; /* (B, T, H) by t: the hidden state that step read (h0 or 0 first) */
    float *mask;  /* (B, T) by t: a copy of the mask, or NULL for none */
} LstmSaved;

/* Inputs of the node; a folded lookup adds the table and the ids. */
enum { IN_X, IN_KERNEL, IN_RECURRENT, IN_BIAS, IN_H0, IN_C0, N_IN, IN_TABLE = N_IN, IN_IDS, N_IN_FOLDED };

/* Processing step s reads x at time t. */
static inline int64_t step_time(int64_t s, int64_t T, bool back) { return back ? T - 1 - s : s; }

/* The whole recurrent matrix packed once in the arena for the row split's threads to
 * share (op(B) = recurrent for forward, recurrent^T for backward). */
static void pack_whole(TensorPackedB *pb, Arena *arena, bool trans, const float *rv, int64_t H) {
    const int64_t G = 4 * H, K = trans ? G : H, width = trans ? H : G, col0 = 0;
    float *buf = tensor_arena_alloc(arena, tensor_packed_b_floats(K, width, 1) * sizeof(float));
    tensor_pack_b(pb, buf, trans, K, 1, &col0, width, rv, G);
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
    const TensorPackedB *whole; /* row split: the shared packed recurrent matrix, or NULL */
    const float *mask;    /* (B, T) by t, 0 at padded steps; NULL for none */
} Fwd;

/* Whether row b's step at time tt is padding (never without a mask). */
static inline bool padded(const float *mask, int64_t b, int64_t T, int64_t tt) {
    return mask && mask[b * T + tt] == 0.0f;
}

/* Step s on rows [b0, b1) and the gate columns of units [u0, u1) (pb holds those
 * columns): the recurrent GEMM h_{s-1} recurrent, then the cells. With pre (this
 * thread's (b1 - b0, 4H) buffer) the product goes there and the cells add the input
 * part: the buffer stays in cache, where z_t's rows are T * 4H floats apart in a
 * (B, T, 4H) array the size of the whole sequence; the GEMM storing into those
 * scattered rows ran 1.13x slower (A: 64 rows x 1024 columns a thread). Without pre
 * the product accumulates onto z_t in place. Either way the sum per element is
 * (h recurrent + input part) + add, so both give the same bits. */
static void forward_step(const Fwd *f, const TensorPackedB *pb, int64_t s, int64_t b0, int64_t b1,
                         int64_t u0, int64_t u1, float *pre) {
    const int64_t T = f->T, H = f->H, G = 4 * H;
    const int64_t tt = step_time(s, T, f->back);
    const int64_t tn = s + 1 < T ? step_time(s + 1, T, f->back) : -1;
    const float *hp = s > 0 ? f->seq + (s - 1) * H : f->h0;
    const int64_t ldh = s > 0 ? T * H : H;
    float *zt = f->z + tt * G;
    if (hp && u1 > u0 && b1 > b0) {
        if (pre) tensor_sgemm_packed(b1 - b0, 1.0f, hp + b0 * ldh, ldh, pb, 0.0f, pre, G);
        else
            tensor_sgemm_packed(b1 - b0, 1.0f, hp + b0 * ldh, ldh, pb, f->proj ? 0.0f : 1.0f,
                                zt + b0 * T * G, T * G);
    }
    const float *cprev = s > 0 ? f->c : f->c0;
    for (int64_t b = b0; b < b1; b++) {
        float *z = zt + b * T * G;
        const float *add = f->proj ? f->proj + (int64_t)f->ids[b * T + tt] * G : f->bias;
        /* In place, z holds the input part (unfolded) and the product (hp). */
        const float *rec = pre ? (hp ? pre + (b - b0) * G : NULL) : (hp || !f->proj ? z : NULL);
        const float *in = pre && !f->proj ? z : NULL;
        const int64_t r = b * T + s;
        if (padded(f->mask, b, T, tt)) {
            tensor__lstm_carry_forward(hp ? hp + b * ldh : NULL, cprev ? cprev + b * H : NULL,
                                       f->c + b * H, f->seq + r * H, f->cs ? f->cs + r * H : NULL,
                                       f->hprev && tn >= 0 ? f->hprev + (b * T + tn) * H : NULL,
                                       u0, u1);
            continue;
        }
        tensor__lstm_cell_forward(rec, in, add, z, cprev ? cprev + b * H : NULL, f->c + b * H,
                                  f->seq + r * H, f->cs ? f->cs + r * H : NULL,
                                  f->tc ? f->tc + r * H : NULL,
                                  f->hprev && tn >= 0 ? f->hprev + (b * T + tn) * H : NULL, H, u0, u1);
    }
}

/* At most this many rows read a briefly used recurrent matrix in place (gemm.c reads B
 * in place for up to 64 rows of A; beyond, it would pack per call). */
enum { RECURRENT_IN_PLACE_MAX_ROWS = 64 };

static void forward_units(void *arg, int t, int nt) {
    const Fwd *f = arg;
    const int64_t T = f->T, H = f->H, G = 4 * H;
    int64_t u0, u1;
    tensor__lstm_unit_range(H, t, nt, &u0, &u1);
    TensorPackedB pb;
    const int64_t uses = T - 1 + (f->h0 ? 1 : 0); /* steps that multiply by recurrent */
    if (uses > 0 && u1 > u0) {
        const int64_t col0[4] = {u0, H + u0, 2 * H + u0, 3 * H + u0};
        /* Used once or twice (Sherlock's T = 3) by few rows, packing costs more than
         * reading in place: packing writes and rereads the whole matrix. */
        if (uses <= 2 && f->B <= RECURRENT_IN_PLACE_MAX_ROWS) {
            tensor_refer_b(&pb, false, H, 4, col0, u1 - u0, f->rv, G);
        } else {
            float *buf = tensor_thread_scratch(0, tensor_packed_b_floats(H, u1 - u0, 4));
            tensor_pack_b(&pb, buf, false, H, 4, col0, u1 - u0, f->rv, G);
        }
    }
    for (int64_t s = 0; s < T; s++) {
        forward_step(f, &pb, s, 0, f->B, u0, u1, NULL);
        if (s + 1 < T) tensor_team_barrier(); /* h_s complete before any thread reads it */
    }
}

static void forward_rows(void *arg, int t, int nt) {
    const Fwd *f = arg;
    int64_t b0, b1;
    tensor__lstm_row_range(f->B, t, nt, &b0, &b1);
    float *pre = tensor_thread_scratch(1, (size_t)((b1 - b0) * 4 * f->H));
    for (int64_t s = 0; s < f->T; s++) forward_step(f, f->whole, s, b0, b1, 0, f->H, pre);
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
    const TensorPackedB *whole;  /* row split: the shared packed recurrent^T, or NULL */
    const float *mask;           /* (B, T) by t, 0 at padded steps; NULL for none */
    float *pass;                 /* masked: (B, H) gradient a padded step hands on */
} Bwd;

/* dp[id] += the dz row of (b, t) over units [u0, u1) of each gate block (id: x_t's id
 * in row b). Every element of dp is summed in the same order (s down, then b) whatever
 * the split and the thread count. */
static inline void scatter_row(const Bwd *w, int64_t b, int64_t tt, int64_t u0, int64_t u1) {
    const int64_t H = w->H, G = 4 * H;
    const float *dz = w->dz + (b * w->T + tt) * G;
    float *dp = w->dp + (int64_t)w->ids[b * w->T + tt] * G;
    for (int g = 0; g < 4; g++) {
        float *dst = dp + g * H;
        const float *src = dz + g * H;
#pragma omp simd
        for (int64_t j = u0; j < u1; j++) dst[j] += src[j];
    }
}

/* Cells of step s for rows [b0, b1) and units [u0, u1); with scatter, their dz rows go
 * into dp too (only when the thread owns these columns of dp for all rows). */
static void backward_cells(const Bwd *w, int64_t s, int64_t b0, int64_t b1, int64_t u0, int64_t u1,
                           bool scatter) {
    const int64_t T = w->T, H = w->H, G = 4 * H;
    const int64_t tt = step_time(s, T, w->back);
    const bool last = s == T - 1;
    for (int64_t b = b0; b < b1; b++) {
        const int64_t r = b * T + s;
        if (padded(w->mask, b, T, tt)) {
            tensor__lstm_carry_backward(w->dh + b * H, w->gseq ? w->gseq + r * H : NULL,
                                        last && w->gh ? w->gh + b * H : NULL, w->dc + b * H,
                                        last && w->gc ? w->gc + b * H : NULL,
                                        w->dz + (b * T + tt) * G,
                                        s == 0 && w->gc0 ? w->gc0 + b * H : NULL,
                                        w->pass + b * H, H, u0, u1);
            continue; /* its dz row is zero: nothing to scatter */
        }
        const float *cprev = s > 0 ? w->cs + (r - 1) * H : w->c0 ? w->c0 + b * H : NULL;
        tensor__lstm_cell_backward(w->gates + (b * T + tt) * G, w->tc + r * H, cprev, w->dh + b * H,
                                   w->gseq ? w->gseq + r * H : NULL,
                                   last && w->gh ? w->gh + b * H : NULL, w->dc + b * H,
                                   last && w->gc ? w->gc + b * H : NULL, w->dz + (b * T + tt) * G,
                                   s == 0 && w->gc0 ? w->gc0 + b * H : NULL, H, u0, u1);
        if (scatter) scatter_row(w, b, tt, u0, u1);
    }
}

/* dh_{s-1} = dz_t recurrent^T for rows [b0, b1) (pb: the columns [u0, u1) of
 * recurrent^T computed): into the carry, or (first step) added into dh0. A padded row's
 * dz is zero, so its product is too; what its step handed on is added after. */
static void backward_recurrence(const Bwd *w, const TensorPackedB *pb, int64_t s, int64_t b0,
                                int64_t b1, int64_t u0, int64_t u1) {
    const int64_t T = w->T, H = w->H, G = 4 * H, tt = step_time(s, T, w->back);
    float *dst = s > 0 ? w->dh : w->gh0;
    if (b1 > b0)
        tensor_sgemm_packed(b1 - b0, 1.0f, w->dz + tt * G + b0 * T * G, T * G, pb,
                            s > 0 ? 0.0f : 1.0f, dst + b0 * H, H);
    for (int64_t b = b0; b < b1; b++)
        if (padded(w->mask, b, T, tt)) tensor__lstm_carry_add(dst + b * H, w->pass + b * H, u0, u1);
}

static void backward_units(void *arg, int t, int nt) {
    const Bwd *w = arg;
    const int64_t B = w->B, T = w->T, H = w->H, G = 4 * H;
    int64_t u0, u1;
    tensor__lstm_unit_range(H, t, nt, &u0, &u1);
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
        backward_cells(w, s, 0, B, u0, u1, w->dp != NULL);
        if (s == 0 && !w->gh0) break;
        tensor_team_barrier(); /* dz_t complete before any thread multiplies it */
        if (u1 > u0) backward_recurrence(w, &pb, s, 0, B, u0, u1);
    }
}

static void backward_rows(void *arg, int t, int nt) {
    const Bwd *w = arg;
    const int64_t T = w->T, H = w->H;
    int64_t b0, b1;
    tensor__lstm_row_range(w->B, t, nt, &b0, &b1);
    memset(w->dh + b0 * H, 0, (size_t)((b1 - b0) * H) * sizeof(float));
    memset(w->dc + b0 * H, 0, (size_t)((b1 - b0) * H) * sizeof(float));
    for (int64_t s = T - 1; s >= 0; s--) {
        backward_cells(w, s, b0, b1, 0, H, false);
        if (s == 0 && !w->gh0) break;
        backward_recurrence(w, w->whole, s, b0, b1, 0, H);
    }
    if (!w->dp) return;
    /* Two threads' rows may share an id: dp is summed once all dz rows exist, each
     * thread over its own columns, rows in the unit split's order. */
    tensor_team_barrier();
    int64_t u0, u1;
    tensor__lstm_unit_range(H, t, nt, &u0, &u1);
    for (int64_t s = T - 1; s >= 0; s--)
        for (int64_t b = 0; b < w->B; b++) scatter_row(w, b, step_time(s, T, w->back), u0, u1);
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
             .gh = ag_output_grad(n, 1), .gc = ag_output_grad(n, 2), .mask = sv->mask};
    w.c0 = n->inputs[IN_C0] ? (const float *)n->inputs[IN_C0]->data : NULL;
    w.gh0 = n->inputs[IN_H0] ? ag_input_grad(n, IN_H0) : NULL;
    w.gc0 = n->inputs[IN_C0] ? ag_input_grad(n, IN_C0) : NULL;
    w.dz = tensor_arena_alloc(arena, (size_t)(BT * G) * sizeof(float));
    w.dh = tensor_arena_alloc(arena, (size_t)(B * H) * sizeof(float));
    w.dc = tensor_arena_alloc(arena, (size_t)(B * H) * sizeof(float));
    if (w.mask) w.pass = tensor_arena_alloc(arena, (size_t)(B * H) * sizeof(float));
    const Tensor *table = folded ? n->inputs[IN_TABLE] : NULL;
    if (folded) {
        w.ids = n->inputs[IN_IDS]->data;
        w.dp = tensor_arena_calloc(arena, (size_t)(table->shape[0] * G), sizeof(float));
    }
    const TensorLstmPlan plan = tensor__lstm_plan(B, H);
    TensorPackedB whole;
    if (plan.split == TENSOR_LSTM_SPLIT_ROWS && (T > 1 || w.gh0)) {
        pack_whole(&whole, arena, true, w.rv, H);
        w.whole = &whole;
    }
    tensor_team_run(plan.nt, plan.split == TENSOR_LSTM_SPLIT_ROWS ? backward_rows : backward_units, &w);

    const float *xv = n->inputs[IN_X]->data, *kv = n->inputs[IN_KERNEL]->data;
    float *gk = ag_input_grad(n, IN_KERNEL), *gr = ag_input_grad(n, IN_RECURRENT),
          *gb = ag_input_grad(n, IN_BIAS);
    if (gr && sv->hprev) recurrent_grad(n, &w, gr);
    if (!folded) {
        float *gx = ag_input_grad(n, IN_X);
        if (gk) tensor_sgemm(true, false, D, G, BT, 1.0f, xv, D, w.dz, G, 1.0f, gk, G);
        if (gx) tensor_sgemm(false, true, BT, D, G, 1.0f, w.dz, G, kv, G, 1.0f, gx, D);
        if (gb) tensor__lstm_bias_grad_add(w.dz, BT, G, gb);
        return;
    }
    /* x = table[ids]: the gradient goes to the table directly, through dp, the sum of
     * the dz rows of each id (x's own gradient is never formed). */
    const int64_t V = table->shape[0];
    const float *dp = w.dp;
    float *gt = ag_input_grad(n, IN_TABLE);
    if (gk) tensor_sgemm(true, false, D, G, V, 1.0f, table->data, D, dp, G, 1.0f, gk, G);
    /* Adam's per-lookup rule needs each lookup's row: x's gradient is formed as
     * unfolded, and the lookup's backward sums it (and its squares) into the table. */
    float *gx = gt && ag_tape_lookup_squares(n->tape, table) ? ag_input_grad(n, IN_X) : NULL;
    if (gx) tensor_sgemm(false, true, BT, D, G, 1.0f, w.dz, G, kv, G, 1.0f, gx, D);
    else if (gt) tensor_sgemm(false, true, V, D, G, 1.0f, dp, G, kv, G, 1.0f, gt, D);
    if (gb) tensor__lstm_bias_grad_add(dp, V, G, gb);
}

static const OpDef LSTM_OP = {"lstm", lstm_backward};

/* Whether ag_record will keep a node for these inputs: then the forward fills what
 * backward needs as it goes (the node itself is recorded once the outputs exist). */
static bool will_record(Tape *tape, Tensor *const *ins, int n_in) {
    bool any = false;
    for (int k = 0; k < n_in; k++) any = any || (ins[k] && ins[k]->requires_grad);
    return ag_grad_enabled(tape) && any;
}

/* What backward needs, in the arena, with f's pointers to the same buffers (hprev only
 * when the recurrent matrix wants a gradient). */
static LstmSaved *alloc_saved(Arena *arena, Fwd *f, bool keep_hprev) {
    const size_t bytes = (size_t)(f->B * f->T * f->H) * sizeof(float);
    LstmSaved *sv = tensor_arena_alloc(arena, sizeof *sv);
    sv->gates = f->z;
    sv->cs = f->cs = tensor_arena_alloc(arena, bytes);
    sv->tc = f->tc = tensor_arena_alloc(arena, bytes);
    sv->hprev = f->hprev = keep_hprev ? tensor_arena_alloc(arena, bytes) : NULL;
    return sv;
}

/* The input part of every step: x kernel into f->z, the bias left to the cells; or,
 * folded, proj = table kernel + bias (V, 4H), whose row ids[b, t] is z_t's input part. */
static void input_projection(Arena *arena, Fwd *f, const Tensor *x, const Tensor *kernel,
                             const Tensor *table, const Tensor *ids) {
    const int64_t D = kernel->shape[0], G = 4 * f->H;
    if (!table) {
        tensor_sgemm(false, false, f->B * f->T, G, D, 1.0f, x->data, D, kernel->data, G, 0.0f, f->z, G);
        return;
    }
    const int64_t V = table->shape[0];
    float *proj = tensor_arena_alloc(arena, (size_t)(V * G) * sizeof(float));
    tensor_sgemm(false, false, V, G, D, 1.0f, table->data, D, kernel->data, G, 0.0f, proj, G);
    for (int64_t v = 0; v < V; v++)
        for (int64_t j = 0; j < G; j++) proj[v * G + j] += f->bias[j];
    f->proj = proj;
    f->ids = ids->data;
}

/* The time loop on a team of threads, as tensor__lstm_plan splits it. */
static void forward_team(Arena *arena, Fwd *f) {
    const int64_t B = f->B, T = f->T, H = f->H;
    if (f->hprev) { /* the state the first step read: h0 or zeros */
        const int64_t t0 = step_time(0, T, f->back);
        for (int64_t b = 0; b < B; b++) {
            float *dst = f->hprev + (b * T + t0) * H;
            if (f->h0) memcpy(dst, f->h0 + b * H, (size_t)H * sizeof(float));
            else memset(dst, 0, (size_t)H * sizeof(float));
        }
    }
    const TensorLstmPlan plan = tensor__lstm_plan(B, H);
    TensorPackedB whole;
    if (plan.split == TENSOR_LSTM_SPLIT_ROWS && (T > 1 || f->h0)) {
        pack_whole(&whole, arena, false, f->rv, H);
        f->whole = &whole;
    }
    tensor_team_run(plan.nt, plan.split == TENSOR_LSTM_SPLIT_ROWS ? forward_rows : forward_units, f);
    f->whole = NULL; /* whole lives in this frame */
}

/* A copy of the mask in the arena, so backward does not depend on the caller's. */
static float *mask_copy(Arena *arena, const Tensor *mask) {
    if (!mask) return NULL;
    float *m = tensor_arena_alloc(arena, (size_t)mask->size * sizeof(float));
    memcpy(m, mask->data, (size_t)mask->size * sizeof(float));
    return m;
}

/* Both entry points: ins are the node's inputs (IN_*), with the table and the ids when
 * x = table[ids] is folded (n_in == N_IN_FOLDED); dims are B, T, D, H; mask checked. */
static AgLstmResult lstm_run(Tape *tape, Tensor *const *ins, int n_in, const int64_t dims[4],
                             const Tensor *mask, bool go_backwards) {
    const int64_t B = dims[0], T = dims[1], D = dims[2], H = dims[3];
    const bool folded = n_in == N_IN_FOLDED;
    const Tensor *h0 = ins[IN_H0], *c0 = ins[IN_C0];
    AgLstmResult res = {
        .seq = ag_output(tape, 3, (int64_t[]){B, T, H}),
        .h = ag_output(tape, 2, (int64_t[]){B, H}),
        .c = ag_output(tape, 2, (int64_t[]){B, H}),
    };
    Arena *arena = ag_tape_arena(tape);
    Fwd f = {.B = B, .T = T, .H = H, .back = go_backwards, .bias = ins[IN_BIAS]->data,
             .rv = ins[IN_RECURRENT]->data, .seq = res.seq->data, .c = res.c->data};
    f.h0 = h0 ? (const float *)h0->data : NULL;
    f.c0 = c0 ? (const float *)c0->data : NULL;
    f.z = tensor_arena_alloc(arena, (size_t)(B * T * 4 * H) * sizeof(float));
    f.mask = mask_copy(arena, mask);
    LstmSaved *sv =
        will_record(tape, ins, n_in) ? alloc_saved(arena, &f, ins[IN_RECURRENT]->requires_grad) : NULL;
    if (sv) sv->mask = (float *)f.mask;
    input_projection(arena, &f, ins[IN_X], ins[IN_KERNEL], folded ? ins[IN_TABLE] : NULL,
                     folded ? ins[IN_IDS] : NULL);
    forward_team(arena, &f);
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

AgLstmResult ag_lstm_masked(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent,
                            Tensor *bias, Tensor *h0, Tensor *c0, const Tensor *mask,
                            bool go_backwards) {
    int64_t dims[4];
    ag__lstm_check("lstm", x, kernel, recurrent, bias, h0, c0, dims);
    ag__mask_check("lstm", mask, dims[0], dims[1]);
    return lstm_run(tape, (Tensor *[]){x, kernel, recurrent, bias, h0, c0}, N_IN, dims, mask,
                    go_backwards);
}

AgLstmResult ag_lstm(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent, Tensor *bias,
                     Tensor *h0, Tensor *c0, bool go_backwards) {
    return ag_lstm_masked(tape, x, kernel, recurrent, bias, h0, c0, NULL, go_backwards);
}

AgLstmResult ag_lstm_lookup_masked(Tape *tape, Tensor *x, Tensor *table, Tensor *ids,
                                   Tensor *kernel, Tensor *recurrent, Tensor *bias, Tensor *h0,
                                   Tensor *c0, const Tensor *mask, bool go_backwards) {
    const char *op = "lstm_lookup";
    int64_t dims[4];
    ag__lstm_check(op, x, kernel, recurrent, bias, h0, c0, dims);
    ag__mask_check(op, mask, dims[0], dims[1]);
    ag__lstm_lookup_check(op, table, ids, dims);
    /* Folded when projecting the table is at most a quarter of the work of projecting
     * x; otherwise x is read, as ag_lstm reads it. */
    if (4 * table->shape[0] > dims[0] * dims[1])
        return lstm_run(tape, (Tensor *[]){x, kernel, recurrent, bias, h0, c0}, N_IN, dims, mask,
                        go_backwards);
    ag__lstm_ids_check(op, ids, table->shape[0]);
    Tensor *ins[N_IN_FOLDED] = {x, kernel, recurrent, bias, h0, c0, table, ids};
    return lstm_run(tape, ins, N_IN_FOLDED, dims, mask, go_backwards);
}

AgLstmResult ag_lstm_lookup(Tape *tape, Tensor *x, Tensor *table, Tensor *ids, Tensor *kernel,
                            Tensor *recurrent, Tensor *bias, Tensor *h0, Tensor *c0,
                            bool go_backwards) {
    return ag_lstm_lookup_masked(tape, x, table, ids, kernel, recurrent, bias, h0, c0, NULL,
                                 go_backwards);
}
