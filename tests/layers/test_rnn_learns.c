/* Recurrent layers that learn: a delayed-echo task (the output at step t is the input
 * symbol at step t-2, 4 symbols, T = 10) trained with a plain loop written here —
 * one-hot input -> RNN(return_sequences) -> Dense logits -> sparse cross-entropy, and a
 * small Adam over the layers' parameters — then scored on held-out sequences. The task
 * needs memory across steps, so a layer whose state is wired wrong cannot pass. */
#include "helpers.h"
#include "nn/layers/layers.h"

#include <stdlib.h>
#include <string.h>

enum { V = 4, T = 10, DELAY = 2, BATCH = 32, HELD_OUT = 256 };

/* One-hot inputs (n, T, V) and targets (n, T): x's symbol DELAY steps earlier, or -1
 * (ignored) for the first DELAY steps, which have nothing to echo. */
static void make_batch(Rng *rng, int n, Tensor **x, Tensor **y) {
    *x = tensor_zeros(NULL, 3, (int64_t[]){n, T, V});
    *y = tensor_i32_zeros(NULL, 2, (int64_t[]){n, T});
    float *xv = tensor_f32(*x);
    int32_t *yv = tensor_i32(*y);
    int32_t sym[T];
    for (int b = 0; b < n; b++)
        for (int t = 0; t < T; t++) {
            sym[t] = (int32_t)tensor_rng_below(rng, V);
            xv[(b * T + t) * V + sym[t]] = 1.0f;
            yv[b * T + t] = t >= DELAY ? sym[t - DELAY] : -1;
        }
}

/* Adam (Kingma & Ba) over every parameter of the given layers, state kept here. */
typedef struct {
    Tensor **p;
    int n;
    float **m, **v;
    int64_t step;
    float lr;
} Adam;

static void adam_init(Adam *a, Layer **layers, int n_layers, float lr) {
    memset(a, 0, sizeof *a);
    a->lr = lr;
    for (int l = 0; l < n_layers; l++)
        for (int i = 0; i < layers[l]->n_params; i++) {
            a->p = realloc(a->p, (size_t)(a->n + 1) * sizeof *a->p);
            a->p[a->n++] = layers[l]->params[i];
        }
    a->m = calloc((size_t)a->n, sizeof *a->m);
    a->v = calloc((size_t)a->n, sizeof *a->v);
    for (int i = 0; i < a->n; i++) {
        a->m[i] = calloc((size_t)a->p[i]->size, sizeof(float));
        a->v[i] = calloc((size_t)a->p[i]->size, sizeof(float));
    }
}

static void adam_step(Adam *a) {
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    a->step++;
    float c1 = 1.0f - powf(b1, (float)a->step), c2 = 1.0f - powf(b2, (float)a->step);
    for (int i = 0; i < a->n; i++) {
        float *w = tensor_f32(a->p[i]), *g = a->p[i]->grad, *m = a->m[i], *v = a->v[i];
        if (!g) continue;
        for (int64_t k = 0; k < a->p[i]->size; k++) {
            m[k] = b1 * m[k] + (1 - b1) * g[k];
            v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
            w[k] -= a->lr * (m[k] / c1) / (sqrtf(v[k] / c2) + eps);
        }
    }
    ag_zero_grad(a->n, a->p);
}

static void adam_free(Adam *a) {
    for (int i = 0; i < a->n; i++) {
        free(a->m[i]);
        free(a->v[i]);
    }
    free(a->m);
    free(a->v);
    free(a->p);
}

/* Fraction of the echo steps (t >= DELAY) whose arg-max logit is the target. */
static double accuracy(const Tensor *logits, const Tensor *y) {
    const float *z = tensor_f32(logits);
    const int32_t *yv = tensor_i32(y);
    int64_t right = 0, total = 0;
    for (int64_t r = 0; r < y->size; r++) {
        if (yv[r] < 0) continue;
        int best = 0;
        for (int c = 1; c < V; c++)
            if (z[r * V + c] > z[r * V + best]) best = c;
        right += best == yv[r];
        total++;
    }
    return (double)right / (double)total;
}

/* Trains rnn (return_sequences; freed here) + Dense(V) for `steps` Adam steps on fresh random
 * batches and returns the accuracy on held-out sequences from another stream. */
static double train_echo(Layer *rnn, int steps, float lr, double *train_loss) {
    Rng init, data, held;
    tensor_rng_seed(&init, 42, 0);
    tensor_rng_seed(&data, 7, 1);
    tensor_rng_seed(&held, 99, 2);
    Layer *head = nn_dense(.units = V);
    cr_assert_eq(nn_layer_build(rnn, NN_SHAPE(TENSOR_F32, T, V), &init), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_layer_build(head, rnn->out_shape, &init), 0, "%s", tensor_last_error());
    Adam adam;
    adam_init(&adam, (Layer *[]){rnn, head}, 2, lr);
    Tape *tape = ag_tape_new();
    NnCallCtx train = {.training = true};
    double loss_sum = 0;
    int loss_n = 0;
    for (int s = 0; s < steps; s++) {
        Tensor *x, *y;
        make_batch(&data, BATCH, &x, &y);
        Tensor *logits = nn_layer_call(head, tape, nn_layer_call(rnn, tape, x, &train), &train);
        Tensor *loss = ag_sparse_cross_entropy(tape, logits, y, -1);
        if (s >= steps - 20) {
            loss_sum += tensor_f32(loss)[0];
            loss_n++;
        }
        ag_backward(tape, loss);
        adam_step(&adam);
        ag_tape_reset(tape);
        tensor_free(x);
        tensor_free(y);
    }
    *train_loss = loss_sum / loss_n;
    Tensor *x, *y;
    make_batch(&held, HELD_OUT, &x, &y);
    ag_set_grad_enabled(tape, false);
    Tensor *logits = nn_layer_call(head, tape, nn_layer_call(rnn, tape, x, NULL), NULL);
    double acc = accuracy(logits, y);
    tensor_free(x);
    tensor_free(y);
    ag_tape_free(tape);
    adam_free(&adam);
    nn_layer_free(head);
    nn_layer_free(rnn);
    return acc;
}

Test(rnn_learns, lstm_delayed_echo) {
    double loss;
    double acc = train_echo(nn_lstm(.units = 16, .return_sequences = true), 300, 0.02f, &loss);
    cr_log_info("LSTM(16) delayed echo (t-2, 4 symbols, T=10): held-out accuracy %.4f, final "
                "train loss %.4f after 300 Adam steps",
                acc, loss);
    cr_assert_geq(acc, 0.95, "LSTM reached only %.4f held-out accuracy", acc);
}

Test(rnn_learns, gru_delayed_echo) {
    double loss;
    double acc = train_echo(nn_gru(.units = 16, .return_sequences = true), 300, 0.02f, &loss);
    cr_log_info("GRU(16) delayed echo: held-out accuracy %.4f, final train loss %.4f", acc, loss);
    cr_assert_geq(acc, 0.95, "GRU reached only %.4f held-out accuracy", acc);
}

Test(rnn_learns, simple_rnn_delayed_echo) {
    double loss;
    double acc = train_echo(nn_simple_rnn(.units = 16, .return_sequences = true), 300, 0.02f, &loss);
    cr_log_info("SimpleRNN(16) delayed echo: held-out accuracy %.4f, final train loss %.4f", acc, loss);
    cr_assert_geq(acc, 0.95, "SimpleRNN reached only %.4f held-out accuracy", acc);
}

/* Chance is 1/4: a model without working memory stays near it. A no-memory baseline
 * (Dense on each step alone) checks the task really needs the recurrence. */
Test(rnn_learns, task_needs_memory) {
    Rng init, data, held;
    tensor_rng_seed(&init, 42, 0);
    tensor_rng_seed(&data, 7, 1);
    tensor_rng_seed(&held, 99, 2);
    Layer *head = nn_dense(.units = V);
    cr_assert_eq(nn_layer_build(head, NN_SHAPE(TENSOR_F32, T, V), &init), 0);
    Adam adam;
    adam_init(&adam, &head, 1, 0.02f);
    Tape *tape = ag_tape_new();
    for (int s = 0; s < 100; s++) {
        Tensor *x, *y;
        make_batch(&data, BATCH, &x, &y);
        ag_backward(tape, ag_sparse_cross_entropy(tape, nn_layer_call(head, tape, x, NULL), y, -1));
        adam_step(&adam);
        ag_tape_reset(tape);
        tensor_free(x);
        tensor_free(y);
    }
    Tensor *x, *y;
    make_batch(&held, HELD_OUT, &x, &y);
    double acc = accuracy(nn_layer_call(head, tape, x, NULL), y);
    cr_log_info("no-memory baseline: held-out accuracy %.4f", acc);
    cr_assert_lt(acc, 0.4);
    tensor_free(x);
    tensor_free(y);
    ag_tape_free(tape);
    adam_free(&adam);
    nn_layer_free(head);
}
