/* The options that make Adam Keras's: the per-lookup rule for embedding tables
 * (NnAdamOpts.embedding_rows: the squares the lookups sum, on plain ag_gather_rows and
 * the folded ag_lstm_lookup, the update against a hand computation, the folded path
 * against the unfolded one) and epsilon_hat (Keras's update, by hand), and both in
 * whole-model configs. */
#include "../helpers.h"

#include "nn/layers/config.h"

#define V 5
#define D 3
#define R 8 /* lookups per step */

static const float B1 = 0.9f, B2 = 0.999f, LR = 0.01f, EPS = 1e-7f;

/* loss = sum(table[ids] * w): lookup r's gradient row is w[r]. */
static void gather_step(Tape *tape, Tensor *table, const int32_t *ids, const float *w) {
    ag_tape_reset(tape);
    Tensor *idt = tensor_i32_from_array(ag_tape_arena(tape), 1, (int64_t[]){R}, ids);
    Tensor *wt = tensor_from_array(ag_tape_arena(tape), 2, (int64_t[]){R, D}, w);
    ag_backward(tape, ag_sum(tape, ag_mul(tape, ag_gather_rows(tape, table, idt), wt)));
}

Test(adam_keras, gather_sums_squares_of_each_lookup) {
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    Tensor *table = test_random(&rng, -1, 1, 2, (int64_t[]){V, D});
    float w[R * D], sq[V * D] = {0};
    tensor_fill_uniform(w, R * D, &rng, -1, 1);
    const int32_t ids[R] = {1, 1, 2, 1, 2, 3, 1, 1}; /* 0 and 4 never looked up */
    Tape *tape = ag_tape_new();
    ag_tape_track_lookup_squares(tape, table, sq);
    cr_assert_eq(ag_tape_lookup_squares(tape, table), sq);
    gather_step(tape, table, ids, w);
    for (int v = 0; v < V; v++)
        for (int c = 0; c < D; c++) {
            double g = 0, s = 0;
            for (int r = 0; r < R; r++)
                if (ids[r] == v) g += w[r * D + c], s += (double)w[r * D + c] * w[r * D + c];
            cr_assert_float_eq(table->grad[v * D + c], g, 1e-6, "grad row %d col %d", v, c);
            cr_assert_float_eq(sq[v * D + c], s, 1e-6, "squares row %d col %d", v, c);
        }
    ag_tape_track_lookup_squares(tape, table, NULL);
    cr_assert_null(ag_tape_lookup_squares(tape, table));
    ag_tape_free(tape);
    tensor_free(table);
}

/* Two Adam steps of the table under the rule, against the same in double: rows looked
 * up in one step only, rows never looked up, duplicates within a step. */
Test(adam_keras, update_matches_hand_computation) {
    Rng rng;
    tensor_rng_seed(&rng, 4, 0);
    Tensor *table = test_random(&rng, -1, 1, 2, (int64_t[]){V, D});
    double p[V * D], m[V * D] = {0}, v[V * D] = {0};
    for (int i = 0; i < V * D; i++) p[i] = tensor_f32(table)[i];
    const int32_t ids[2][R] = {{1, 1, 2, 1, 2, 2, 1, 1}, {3, 3, 3, 4, 3, 1, 3, 3}}; /* 0: never */
    Optimizer *opt = nn_adam(.lr = LR, .embedding_rows = NN_ADAM_ROWS_PER_LOOKUP);
    cr_assert_eq(nn_optimizer_embedding_rows(opt), NN_ADAM_ROWS_PER_LOOKUP);
    Tape *tape = ag_tape_new();
    float sq[V * D];
    ag_tape_track_lookup_squares(tape, table, sq);
    for (int t = 1; t <= 2; t++) {
        float w[R * D];
        tensor_fill_uniform(w, R * D, &rng, -1, 1);
        memset(sq, 0, sizeof sq);
        tensor_zero_grad(table);
        gather_step(tape, table, ids[t - 1], w);
        const NnLookupSquares span = {.offset = 0, .n = V * D, .sq = sq};
        nn_optimizer_step_lookups(opt, V * D, tensor_f32(table), table->grad, 1, &span);
        double c1 = 1 / (1 - pow(B1, t)), c2 = sqrt(1 - pow(B2, t));
        for (int k = 0; k < V * D; k++) {
            double g = 0, s = 0;
            for (int r = 0; r < R; r++)
                if (ids[t - 1][r] == k / D) g += w[r * D + k % D], s += (double)w[r * D + k % D] * w[r * D + k % D];
            m[k] = B1 * m[k] + (1 - B1) * g;
            v[k] = B2 * v[k] + (1 - B2) * s;
            p[k] -= LR * m[k] * c1 / (sqrt(v[k]) / c2 + EPS);
            cr_assert_float_eq(tensor_f32(table)[k], p[k], 2e-6, "step %d row %d col %d: %.8f, hand %.8f", t, k / D,
                               k % D, tensor_f32(table)[k], p[k]);
        }
    }
    /* Row 0 never had a gradient: it never moved. Row 2 moved in step 2 on m alone. */
    cr_assert_eq(m[0], 0);
    nn_optimizer_free(opt);
    ag_tape_free(tape);
    tensor_free(table);
}

/* The summed rule is what nn_optimizer_step does, bit for bit, with or without spans. */
Test(adam_keras, summed_rule_and_no_spans_are_textbook_adam) {
    enum { N = 40 };
    float p1[N], p2[N], g[N], sq[N];
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    tensor_fill_uniform(p1, N, &rng, -1, 1);
    tensor_fill_uniform(g, N, &rng, -1, 1);
    for (int i = 0; i < N; i++) sq[i] = g[i] * g[i];
    memcpy(p2, p1, sizeof p1);
    Optimizer *a = nn_adam(), *b = nn_adam(.embedding_rows = NN_ADAM_ROWS_PER_LOOKUP);
    const NnLookupSquares span = {.offset = 7, .n = 20, .sq = sq + 7};
    for (int s = 0; s < 3; s++) {
        nn_optimizer_step(a, N, p1, g);
        nn_optimizer_step_lookups(b, N, p2, g, 1, &span); /* sq = g^2 there: the same sums */
    }
    cr_assert_arr_eq(p1, p2, sizeof p1);
    nn_optimizer_free(a);
    nn_optimizer_free(b);
}

/* Embedding(4, 3) -> LSTM(5) -> Dense(4): B * T = 16 >= 4 V, so the fused layer folds
 * the lookup (or, unfused, runs the composed op on the gathered rows). */
static Model *small_model(bool unfused, NnAdamRows rows) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 4, .dim = 3));
    nn_add(m, nn_lstm(.units = 5, .return_sequences = true, .unfused = unfused));
    nn_add(m, nn_time_distributed(nn_dense(.units = 4, .activation = NN_SOFTMAX)));
    nn_model_seed(m, 11);
    cr_assert_eq(nn_build(m, NN_SHAPE(TENSOR_I32, 8)), 0);
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY,
                            .optimizer = nn_adam(.lr = 0.05f, .embedding_rows = rows)),
                 0);
    return m;
}

static void train_steps(Model *m, int steps) {
    /* id 3 never appears: its row moves only by the decay of nothing (stays put) */
    int32_t xs[2 * 8] = {0, 1, 1, 2, 1, 0, 0, 1, 2, 2, 1, 0, 1, 1, 2, 0};
    int32_t ys[2 * 8] = {1, 1, 2, 1, 0, 0, 1, 2, 2, 1, 0, 1, 1, 2, 0, 3};
    Tensor *x = tensor_i32_from_array(NULL, 2, (int64_t[]){2, 8}, xs);
    Tensor *y = tensor_i32_from_array(NULL, 2, (int64_t[]){2, 8}, ys);
    for (int s = 0; s < steps; s++) cr_assert_eq(nn_train_on_batch(m, x, y, NULL), 0, "%s", tensor_last_error());
    tensor_free(x);
    tensor_free(y);
}

/* Largest |a - b| over every parameter of two models of the same shape. */
static double max_param_diff(const Model *a, const Model *b) {
    int na, nb;
    Tensor *const *pa = nn_model_params(a, &na), *const *pb = nn_model_params(b, &nb);
    cr_assert_eq(na, nb);
    double worst = 0;
    for (int i = 0; i < na; i++)
        for (int64_t k = 0; k < pa[i]->size; k++)
            worst = fmax(worst, fabs((double)tensor_f32(pa[i])[k] - tensor_f32(pb[i])[k]));
    return worst;
}

Test(adam_keras, fused_lookup_equals_unfused_under_the_rule) {
    Model *fused = small_model(false, NN_ADAM_ROWS_PER_LOOKUP), *plain = small_model(true, NN_ADAM_ROWS_PER_LOOKUP);
    Model *summed = small_model(false, NN_ADAM_ROWS_SUMMED);
    cr_assert_lt(max_param_diff(fused, plain), 1e-12); /* the same start */
    train_steps(fused, 5);
    train_steps(plain, 5);
    train_steps(summed, 5);
    double d = max_param_diff(fused, plain), apart = max_param_diff(fused, summed);
    cr_assert_lt(d, 2e-6, "fused and unfused differ by %g", d);
    cr_assert_gt(apart, 1e3 * d, "the rule changed nothing (%g vs %g)", apart, d);
    int n;
    Tensor *const *p = nn_model_params(fused, &n);
    Tensor *const *p0 = nn_model_params(summed, &n);
    for (int c = 0; c < 3; c++) /* row 3 was never looked up: it never moved under either */
        cr_assert_eq(tensor_f32(p[0])[3 * 3 + c], tensor_f32(p0[0])[3 * 3 + c]);
    nn_model_free(fused);
    nn_model_free(plain);
    nn_model_free(summed);
}

Test(adam_keras, the_option_is_in_configs_only_when_set) {
    NnConfig c = {0};
    Optimizer *plain = nn_adam();
    nn_optimizer_get_config(plain, &c);
    for (int i = 0; i < c.n; i++)
        cr_assert(strcmp(c.key[i], "embedding_rows") != 0 && strcmp(c.key[i], "epsilon_hat") != 0, "%s", c.key[i]);
    cr_assert_not(nn_optimizer_epsilon_hat(plain));
    memset(&c, 0, sizeof c);
    Optimizer *rows = nn_adam(.embedding_rows = NN_ADAM_ROWS_PER_LOOKUP);
    nn_optimizer_get_config(rows, &c);
    Optimizer *back = nn_optimizer_from_config("Adam", &c);
    cr_assert_not_null(back, "%s", tensor_last_error());
    cr_assert_eq(nn_optimizer_embedding_rows(back), NN_ADAM_ROWS_PER_LOOKUP);
    nn_config_set_str(&c, "embedding_rows", "sideways");
    cr_assert_null(nn_optimizer_from_config("Adam", &c));
    cr_assert(strstr(tensor_last_error(), "sideways"), "%s", tensor_last_error());
    cr_assert_null(nn_adam(.embedding_rows = (NnAdamRows)7));
    cr_assert_eq(nn_optimizer_embedding_rows(plain), NN_ADAM_ROWS_SUMMED);
    nn_optimizer_free(plain);
    nn_optimizer_free(rows);
    nn_optimizer_free(back);
}

/* Keras's update, as its update_step writes it, in double: 3 steps. */
Test(adam_keras, epsilon_hat_is_keras_update) {
    enum { N = 24 };
    float p[N], g[N];
    double e[N], m[N] = {0}, v[N] = {0};
    Rng rng;
    tensor_rng_seed(&rng, 6, 0);
    tensor_fill_uniform(p, N, &rng, -1, 1);
    for (int i = 0; i < N; i++) e[i] = p[i];
    Optimizer *opt = nn_adam(.lr = LR, .epsilon_hat = true);
    cr_assert(nn_optimizer_epsilon_hat(opt));
    for (int t = 1; t <= 3; t++) {
        tensor_fill_uniform(g, N, &rng, -1, 1);
        for (int i = 0; i < N; i += 3) g[i] *= 1e-6f; /* near epsilon, where the forms differ */
        nn_optimizer_step(opt, N, p, g);
        double alpha = LR * sqrt(1 - pow(B2, t)) / (1 - pow(B1, t));
        for (int i = 0; i < N; i++) {
            m[i] += (g[i] - m[i]) * (1 - B1);
            v[i] += ((double)g[i] * g[i] - v[i]) * (1 - B2);
            e[i] -= m[i] * alpha / (sqrt(v[i]) + EPS);
            cr_assert_float_eq(p[i], e[i], 2e-6, "step %d element %d: %.8f, Keras %.8f", t, i, p[i], e[i]);
        }
    }
    NnConfig c = {0};
    nn_optimizer_get_config(opt, &c);
    Optimizer *back = nn_optimizer_from_config("Adam", &c);
    cr_assert(back && nn_optimizer_epsilon_hat(back));
    nn_optimizer_free(back);
    nn_optimizer_free(opt);
}

/* x = table[ids] (V 4, D 3; id 3 never looked up) into an LSTM(5) over B 2 x T 8 =
 * 16 >= 4 V lookups, so ag_lstm_lookup folds; with both, a second LSTM reads the same x
 * backwards, as a Bidirectional layer does. Writes the table's gradient and squares,
 * and (unfolded) the per-lookup squares by hand from x's gradient rows. */
static void lookup_lstm(bool fold, bool both, float *gt, float *sq, float *hand) {
    enum { LV = 4, LD = 3, H = 5, B = 2, T = 8 };
    Rng rng;
    tensor_rng_seed(&rng, 8, 0);
    Tensor *table = test_random(&rng, -1, 1, 2, (int64_t[]){LV, LD});
    Tensor *k = test_random(&rng, -1, 1, 2, (int64_t[]){LD, 4 * H});
    Tensor *r = test_random(&rng, -1, 1, 2, (int64_t[]){H, 4 * H});
    Tensor *b = test_random(&rng, -1, 1, 1, (int64_t[]){4 * H});
    Tensor *w = test_random(&rng, -1, 1, 3, (int64_t[]){B, T, H});
    const int32_t idv[B * T] = {0, 1, 1, 2, 1, 0, 0, 1, 2, 2, 1, 0, 1, 1, 2, 0};
    Tape *tape = ag_tape_new();
    memset(sq, 0, LV * LD * sizeof(float));
    ag_tape_track_lookup_squares(tape, table, sq);
    Tensor *ids = tensor_i32_from_array(ag_tape_arena(tape), 2, (int64_t[]){B, T}, idv);
    Tensor *x = ag_gather_rows(tape, table, ids), *loss = NULL;
    for (int dir = 0; dir < (both ? 2 : 1); dir++) {
        AgLstmResult res = fold ? ag_lstm_lookup(tape, x, table, ids, k, r, b, NULL, NULL, dir == 1)
                                : ag_lstm(tape, x, k, r, b, NULL, NULL, dir == 1);
        Tensor *l = ag_sum(tape, ag_mul(tape, res.seq, w));
        loss = loss ? ag_add(tape, loss, l) : l;
    }
    ag_backward(tape, loss);
    memcpy(gt, table->grad, LV * LD * sizeof(float));
    if (hand) {
        memset(hand, 0, LV * LD * sizeof(float));
        for (int i = 0; i < B * T; i++)
            for (int c = 0; c < LD; c++) hand[idv[i] * LD + c] += x->grad[i * LD + c] * x->grad[i * LD + c];
    }
    ag_tape_free(tape);
    Tensor *all[] = {table, k, r, b, w};
    for (int i = 0; i < 5; i++) tensor_free(all[i]);
}

Test(adam_keras, lstm_lookup_squares_each_lookups_input_gradient) {
    for (int both = 0; both < 2; both++) {
        float gt_plain[12], sq_plain[12], hand[12], gt_fold[12], sq_fold[12];
        lookup_lstm(false, both, gt_plain, sq_plain, hand);
        lookup_lstm(true, both, gt_fold, sq_fold, NULL);
        for (int i = 0; i < 12; i++) {
            cr_assert_float_eq(sq_plain[i], hand[i], 1e-6 * (1 + hand[i]), "both %d, %d: %g, hand %g", both, i,
                               sq_plain[i], hand[i]);
            cr_assert_float_eq(sq_fold[i], hand[i], 1e-5 * (1 + hand[i]), "folded, both %d, %d: %g, hand %g", both, i,
                               sq_fold[i], hand[i]);
            cr_assert_float_eq(gt_fold[i], gt_plain[i], 1e-5 * (1 + fabsf(gt_plain[i])), "folded grad, both %d, %d",
                               both, i);
        }
        for (int c = 0; c < 3; c++) cr_assert(sq_fold[9 + c] == 0 && gt_fold[9 + c] == 0, "row 3 was never looked up");
        cr_assert_gt(hand[3], 0); /* row 1, looked up 7 times */
    }
}
