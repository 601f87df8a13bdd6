/* gradflow's gradient probe (the code the app runs) against a finite-difference
 * estimate of every norm on a short sequence, for SimpleRNN, GRU and both LSTMs, and
 * the fused LSTM against the composed one over T = 1000 (dL/dx_t through the whole
 * sequence, dL/dh_t and dL/dc_t through the state fed back; 1e-4 relative). */
#include "gradflow_test.h"

#define T_SHORT 6
#define D_SHORT 3
#define H_SHORT 4
#define EPS 1e-2f

/* L = w . h_last of the steps from..T-1 of x run from (h, c) (NULL: zeros), no tape. */
static double loss_from(Layer *l, Tape *tape, const Tensor *x, int64_t from, Tensor *h, Tensor *c, const float *w) {
    bool was = ag_set_grad_enabled(tape, false);
    NnRnnState initial = {.h = h, .c = c};
    Tensor *seq = nn_rnn_call(l, tape, steps(tape, x, from, x->shape[1]), &initial, NULL, &CTX);
    const int64_t n = seq->shape[1], H = seq->shape[2];
    double s = 0;
    for (int64_t j = 0; j < H; j++) s += (double)w[j] * tensor_f32(seq)[(n - 1) * H + j];
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, was);
    return s;
}

/* The norm of the central-difference gradient of L with respect to the n floats at v. */
static double fd_norm(float *v, int64_t n, Layer *l, Tape *tape, const Tensor *x, int64_t from, Tensor *h, Tensor *c,
                      const float *w) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        const float keep = v[i];
        v[i] = keep + EPS;
        double up = loss_from(l, tape, x, from, h, c, w);
        v[i] = keep - EPS;
        double down = loss_from(l, tape, x, from, h, c, w);
        v[i] = keep;
        double g = (up - down) / (2.0 * EPS);
        s += g * g;
    }
    return sqrt(s);
}

static void expect_close(const char *what, CellKind kind, int64_t d, double probe, double fd) {
    cr_expect(fabs(probe - fd) <= 5e-4 * fabs(fd) + 1e-6, "%s %s at d = %lld: probe %.7g, finite differences %.7g",
              cell_names[kind], what, (long long)d, probe, fd);
}

static void check_fd(CellKind kind) {
    float w[H_SHORT];
    Tensor *x = gft_inputs(3, T_SHORT, D_SHORT, H_SHORT, w);
    Layer *l = gf_layer_new(kind, H_SHORT, D_SHORT, (CellInit){.forget_bias = 1.0}, 11);
    cr_assert_not_null(l);
    int64_t dist[T_SHORT];
    const int n = gf_distances(T_SHORT, T_SHORT, dist);
    cr_assert_eq(n, T_SHORT, "every distance 0..T-1 is probed");
    GftProbe p;
    gft_probe(l, kind, x, w, n, dist, &p);
    Tape *tape = ag_tape_new();
    const bool lstm = kind == CELL_LSTM || kind == CELL_LSTM_COMPOSED;
    for (int k = 0; k < n; k++) {
        const int64_t t = T_SHORT - 1 - dist[k];
        expect_close("dL/dx", kind, dist[k], p.r.gx[k], fd_norm(tensor_f32(x) + t * D_SHORT, D_SHORT, l, tape, x, 0,
                                                                   NULL, NULL, w));
        if (k == 0) continue;
        /* The state after step t, then L as a function of it. */
        NnRnnState final;
        nn_rnn_call(l, tape, steps(tape, x, 0, t + 1), NULL, &final, &CTX);
        Tensor *h = tensor_copy(NULL, final.h), *c = lstm ? tensor_copy(NULL, final.c) : NULL;
        ag_tape_reset(tape);
        expect_close("dL/dh", kind, dist[k], p.r.gh[k], fd_norm(tensor_f32(h), H_SHORT, l, tape, x, t + 1, h, c, w));
        if (lstm)
            expect_close("dL/dc", kind, dist[k], p.r.gc[k],
                         fd_norm(tensor_f32(c), H_SHORT, l, tape, x, t + 1, h, c, w));
        tensor_free(h);
        tensor_free(c);
    }
    cr_expect(fabs(p.r.gh[0] - 1.0) < 1e-6, "dL/dh_T is w, of unit length");
    ag_tape_free(tape);
    nn_layer_free(l);
    tensor_free(x);
}

Test(gradflow_probe, simple_rnn_matches_finite_differences) { check_fd(CELL_SIMPLE_RNN); }
Test(gradflow_probe, gru_matches_finite_differences) { check_fd(CELL_GRU); }
Test(gradflow_probe, lstm_matches_finite_differences) { check_fd(CELL_LSTM); }
Test(gradflow_probe, composed_lstm_matches_finite_differences) { check_fd(CELL_LSTM_COMPOSED); }

/* The largest relative difference over n values, counting the values compared. */
static double max_rel(const double *a, const double *b, int n, int *compared) {
    double worst = 0;
    for (int k = 0; k < n; k++) {
        double r = gft_rel(a[k], b[k]);
        if (r < 0) continue;
        (*compared)++;
        if (r > worst) worst = r;
    }
    return worst;
}

Test(gradflow_probe, fused_lstm_matches_composed_over_1000_steps) {
    const int64_t T = 1000, D = 8, H = 16;
    float w[16];
    Tensor *x = gft_inputs(5, T, D, H, w);
    int64_t dist[40];
    const int n = gf_distances(T, 40, dist);
    /* A forget bias of 3 keeps dL/dc above underflow over most of the sequence. */
    const CellInit init = {.forget_bias = 3.0};
    Layer *fused = gf_layer_new(CELL_LSTM, H, D, init, 2), *composed = gf_layer_new(CELL_LSTM_COMPOSED, H, D, init, 2);
    cr_assert(fused && composed);
    for (int i = 0; i < 3; i++)
        cr_assert_arr_eq(tensor_f32(fused->params[i]), tensor_f32(composed->params[i]),
                         (size_t)fused->params[i]->size * sizeof(float), "the same weights");
    static GftProbe a, b;
    gft_probe(fused, CELL_LSTM, x, w, n, dist, &a);
    gft_probe(composed, CELL_LSTM_COMPOSED, x, w, n, dist, &b);
    const char *names[5] = {"dL/dx", "dL/dh", "dL/dc", "prod f", "forget term"};
    for (int q = 0; q < 5; q++) {
        int compared = 0;
        double worst = max_rel(a.v[q], b.v[q], n, &compared);
        fprintf(stderr, "fused vs composed LSTM, T = 1000, %s: %d distances compared, max relative %.2g\n", names[q],
                compared, worst);
        cr_expect(worst <= 1e-4, "%s: fused and composed differ by %.3g relative", names[q], worst);
        cr_expect(compared >= n / 2, "%s: only %d of %d distances above underflow", names[q], compared, n);
    }
    cr_expect(a.v[2][n - 1] < a.v[2][1], "dL/dc decays over 1000 steps");
    nn_layer_free(fused);
    nn_layer_free(composed);
    tensor_free(x);
}
