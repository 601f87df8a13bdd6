/* The fused LSTM's two ways of sharing the time loop among threads — by hidden units
 * (a barrier every step) and by batch rows (none) — give bitwise the same outputs and
 * gradients as each other and on 1, 2 or 3 threads: uneven row and unit counts, with
 * and without h0/c0, both directions, plain inputs and embedding lookups folded by
 * ag_lstm_lookup (where two threads' rows share table ids). Also the property that
 * makes this possible: a packed GEMM gives each output element the same bits however
 * its rows and columns are grouped into calls. */
#include "helpers.h"

#include "tensor/gemm_packed_internal.h"
#include "tensor/lstm_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- the packed GEMM ---- */

/* C = A op(B) for M rows: once whole, then in uneven row chunks, then (for
 * groups > 1) as two halves of each of `groups` column blocks, as the unit split packs
 * them; every way must give the same bits. */
static void check_packed_grouping(bool trans, int64_t K, int64_t N, int64_t M, int groups) {
    Rng rng;
    tensor_rng_seed(&rng, (uint64_t)(K * 131 + N), trans);
    float *A = malloc((size_t)(M * K) * sizeof(float));
    float *Bm = malloc((size_t)(K * N) * sizeof(float));
    float *whole = malloc((size_t)(M * N) * sizeof(float));
    float *parts = malloc((size_t)(M * N) * sizeof(float));
    tensor_fill_uniform(A, M * K, &rng, -1, 1);
    tensor_fill_uniform(Bm, K * N, &rng, -1, 1);
    const int64_t ldb = trans ? K : N, col0 = 0;
    TensorPackedB pb;
    float *buf = tensor_aligned_alloc(tensor_packed_b_floats(K, N, 1) * sizeof(float));
    tensor_pack_b(&pb, buf, trans, K, 1, &col0, N, Bm, ldb);
    tensor_sgemm_packed(M, 1.0f, A, K, &pb, 0.0f, whole, N);

    const int64_t cuts[] = {0, 1, 6, 13, M / 2 + 1, M};
    for (int c = 0; c + 1 < (int)(sizeof cuts / sizeof cuts[0]); c++)
        if (cuts[c + 1] > cuts[c])
            tensor_sgemm_packed(cuts[c + 1] - cuts[c], 1.0f, A + cuts[c] * K, K, &pb, 0.0f,
                                parts + cuts[c] * N, N);
    cr_assert(memcmp(whole, parts, (size_t)(M * N) * sizeof(float)) == 0,
              "rows in chunks differ from one call (trans %d, K %lld, N %lld)", trans, (long long)K,
              (long long)N);

    if (groups > 1) {
        /* Columns [h*g + u0, h*g + u1) of each of the groups blocks of width h, for the
         * two halves [0, cut) and [cut, h) of the block. */
        const int64_t h = N / groups, cut = h / 2 - 3;
        memset(parts, 0, (size_t)(M * N) * sizeof(float));
        const int64_t lo[2] = {0, cut}, hi[2] = {cut, h};
        for (int half = 0; half < 2; half++) {
            int64_t c0[TENSOR_PACKED_MAX_GROUPS];
            for (int g = 0; g < groups; g++) c0[g] = g * h + lo[half];
            const int64_t w = hi[half] - lo[half];
            float *gbuf =
                tensor_aligned_alloc(tensor_packed_b_floats(K, w, groups) * sizeof(float));
            TensorPackedB gp;
            tensor_pack_b(&gp, gbuf, trans, K, groups, c0, w, Bm, ldb);
            tensor_sgemm_packed(M, 1.0f, A, K, &gp, 0.0f, parts, N);
            tensor_aligned_free(gbuf);
        }
        cr_assert(memcmp(whole, parts, (size_t)(M * N) * sizeof(float)) == 0,
                  "column groups differ from one whole packing (trans %d, K %lld, N %lld)", trans,
                  (long long)K, (long long)N);
    }
    tensor_aligned_free(buf);
    free(A), free(Bm), free(whole), free(parts);
}

Test(lstm_batch_split, packed_gemm_does_not_depend_on_grouping) {
    /* The forward product (K = H, N = 4H, four gate groups) and the backward one
     * (recurrent^T: K = 4H, N = H), with H = 72 (not a multiple of the panel width) and
     * H = 300 (K = 1200 spans several K slices). */
    const int64_t hs[2] = {72, 300};
    for (int i = 0; i < 2; i++) {
        check_packed_grouping(false, hs[i], 4 * hs[i], 37, 4);
        check_packed_grouping(true, 4 * hs[i], hs[i], 37, 1);
    }
}

/* ---- the op ---- */

enum { X, TABLE, KERNEL, RECURRENT, BIAS, H0, C0, N_P };

typedef struct Case {
    int64_t V, B, T, D, H; /* V > 0: x is a lookup in a (V, D) table, which ag_lstm_lookup folds */
    bool state, back;
    Tensor *p[N_P];
    Tensor *ids;
} Case;

static Case make_case(uint64_t seed, int64_t V, int64_t B, int64_t T, int64_t D, int64_t H,
                      bool state, bool back) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 3);
    Case c = {V, B, T, D, H, state, back, {NULL}, NULL};
    if (V > 0) {
        cr_assert(4 * V <= B * T, "a table this large would not fold");
        c.p[TABLE] = test_random(&rng, -1, 1, TENSOR_SHAPE(V, D));
        c.ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T));
        for (int64_t i = 0; i < B * T; i++)
            ((int32_t *)c.ids->data)[i] = (int32_t)tensor_rng_below(&rng, (uint32_t)V);
    } else {
        c.p[X] = test_random(&rng, -1, 1, TENSOR_SHAPE(B, T, D));
    }
    c.p[KERNEL] = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(D, 4 * H));
    c.p[RECURRENT] = test_random(&rng, -0.4f, 0.4f, TENSOR_SHAPE(H, 4 * H));
    c.p[BIAS] = test_random(&rng, -0.5f, 0.5f, TENSOR_SHAPE(4 * H));
    if (state) {
        c.p[H0] = test_random(&rng, -1, 1, TENSOR_SHAPE(B, H));
        c.p[C0] = test_random(&rng, -1, 1, TENSOR_SHAPE(B, H));
    }
    return c;
}

static void free_case(Case *c) {
    for (int k = 0; k < N_P; k++) tensor_free(c->p[k]);
    tensor_free(c->ids);
}

typedef struct Out {
    float *v[3];   /* seq, h, c */
    float *g[N_P]; /* gradients of the case's tensors (NULL for those it lacks) */
} Out;

typedef enum { FUSED, REFERENCE } LstmFn;

/* One forward and backward (random upstream gradients on seq, h and c), or forward
 * only; fn is the fused op (ag_lstm_lookup on a lookup, else ag_lstm) or
 * ag_lstm_reference. */
static Out run(Case *c, bool grad, LstmFn fn) {
    Tape *tape = ag_tape_new();
    ag_set_grad_enabled(tape, grad);
    for (int k = 0; k < N_P; k++) tensor_zero_grad(c->p[k]);
    Tensor *x = c->V > 0 ? ag_gather_rows(tape, c->p[TABLE], c->ids) : c->p[X];
    Tensor *kern = c->p[KERNEL], *rk = c->p[RECURRENT], *b = c->p[BIAS], *h0 = c->p[H0], *c0 = c->p[C0];
    AgLstmResult r;
    if (fn == REFERENCE) r = ag_lstm_reference(tape, x, kern, rk, b, h0, c0, c->back);
    else if (c->V > 0) r = ag_lstm_lookup(tape, x, c->p[TABLE], c->ids, kern, rk, b, h0, c0, c->back);
    else r = ag_lstm(tape, x, kern, rk, b, h0, c0, c->back);
    Tensor *outs[3] = {r.seq, r.h, r.c};
    Out o = {{NULL}, {NULL}};
    for (int k = 0; k < 3; k++) o.v[k] = test_copy(outs[k]->data, outs[k]->size);
    if (grad) {
        test_backward_random(tape, outs, 3, 5);
        for (int k = 0; k < N_P; k++)
            if (c->p[k]) o.g[k] = test_copy(tensor_grad(c->p[k]), c->p[k]->size);
    }
    ag_tape_free(tape);
    return o;
}

static void free_out(Out *o) {
    for (int k = 0; k < 3; k++) free(o->v[k]);
    for (int k = 0; k < N_P; k++) free(o->g[k]);
}

static const char *const OUT_NAMES[3] = {"seq", "h", "c"};
static const char *const GRAD_NAMES[N_P] = {"dx",    "dtable", "dkernel", "drecurrent",
                                            "dbias", "dh0",    "dc0"};

static int64_t out_size(const Case *c, int k) { return k == 0 ? c->B * c->T * c->H : c->B * c->H; }

static void assert_same(const Case *c, const Out *a, const Out *b, bool grads, const char *what) {
    for (int k = 0; k < 3; k++)
        cr_assert(memcmp(a->v[k], b->v[k], (size_t)out_size(c, k) * sizeof(float)) == 0,
                  "%s: %s differs (B %lld, H %lld, V %lld, state %d, back %d)", what, OUT_NAMES[k],
                  (long long)c->B, (long long)c->H, (long long)c->V, c->state, c->back);
    if (!grads) return;
    for (int k = 0; k < N_P; k++)
        cr_assert(!c->p[k] || memcmp(a->g[k], b->g[k], (size_t)c->p[k]->size * sizeof(float)) == 0,
                  "%s: %s differs (B %lld, H %lld, V %lld, state %d, back %d)", what, GRAD_NAMES[k],
                  (long long)c->B, (long long)c->H, (long long)c->V, c->state, c->back);
}

static void assert_close(const Case *c, const Out *a, const Out *ref, bool grads) {
    for (int k = 0; k < 3; k++) ASSERT_CLOSE_ARRAY(a->v[k], ref->v[k], out_size(c, k), 1e-4, 1e-5);
    if (!grads) return;
    for (int k = 0; k < N_P; k++)
        if (c->p[k]) ASSERT_CLOSE_ARRAY(a->g[k], ref->g[k], c->p[k]->size, 1e-4, 1e-5);
}

/* Every (split, threads) pair against the unit split on one thread, bitwise; that one
 * against the composed reference op, within rounding. */
static void check_case(Case *c, bool grad) {
    tensor__lstm_force_split(TENSOR_LSTM_SPLIT_UNITS);
    cr_assert_eq(tensor_set_num_threads(1), 0);
    Out base = run(c, grad, FUSED);
    const TensorLstmSplit splits[2] = {TENSOR_LSTM_SPLIT_UNITS, TENSOR_LSTM_SPLIT_ROWS};
    for (int si = 0; si < 2; si++)
        for (int th = 1; th <= 3; th++) {
            tensor__lstm_force_split(splits[si]);
            cr_assert_eq(tensor_set_num_threads(th), 0);
            Out o = run(c, grad, FUSED);
            char what[64];
            snprintf(what, sizeof what, "%s split on %d thread(s)", si ? "row" : "unit", th);
            assert_same(c, &o, &base, grad, what);
            free_out(&o);
        }
    tensor__lstm_force_split(TENSOR_LSTM_SPLIT_AUTO);
    cr_assert_eq(tensor_set_num_threads(1), 0);
    Out ref = run(c, grad, REFERENCE);
    assert_close(c, &base, &ref, grad);
    free_out(&ref);
    free_out(&base);
}

static void restore(void) {
    tensor__lstm_force_split(TENSOR_LSTM_SPLIT_AUTO);
    tensor_set_num_threads(2);
}

Test(lstm_batch_split, splits_and_thread_counts_agree_plain, .fini = restore) {
    /* B = 7 and 33 rows (uneven over 2 and 3 threads), H = 40 (uneven units over 3). */
    const int64_t shapes[][4] = {{7, 5, 3, 40}, {33, 4, 6, 24}};
    uint64_t seed = 1;
    for (int s = 0; s < 2; s++)
        for (int state = 0; state < 2; state++)
            for (int back = 0; back < 2; back++) {
                Case c = make_case(seed++, 0, shapes[s][0], shapes[s][1], shapes[s][2],
                                   shapes[s][3], state, back);
                check_case(&c, true);
                free_case(&c);
            }
}

Test(lstm_batch_split, splits_and_thread_counts_agree_folded, .fini = restore) {
    /* x = table[ids] with few ids, so rows of different threads add into the same rows
     * of the table's gradient. */
    const int64_t shapes[][5] = {{6, 7, 5, 3, 40}, {9, 33, 4, 6, 24}};
    uint64_t seed = 100;
    for (int s = 0; s < 2; s++)
        for (int state = 0; state < 2; state++)
            for (int back = 0; back < 2; back++) {
                Case c = make_case(seed++, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3],
                                   shapes[s][4], state, back);
                check_case(&c, true);
                free_case(&c);
            }
}

Test(lstm_batch_split, splits_agree_in_inference_and_single_steps, .fini = restore) {
    /* Forward only (nothing saved), and T = 1 with and without h0 (no recurrent product
     * at all without it). */
    Case inf[2] = {make_case(200, 0, 33, 6, 4, 40, true, true),
                   make_case(201, 8, 33, 6, 4, 24, false, false)};
    for (int i = 0; i < 2; i++) {
        check_case(&inf[i], false);
        free_case(&inf[i]);
    }
    for (int state = 0; state < 2; state++) {
        Case c = make_case(202 + (uint64_t)state, 0, 7, 1, 3, 40, state, false);
        check_case(&c, true);
        free_case(&c);
    }
}
