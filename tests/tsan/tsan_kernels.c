/* Drives every OpenMP kernel with two threads on sizes above the parallel threshold,
 * and word2vec's deterministic two-thread training (pthreads, rounds merged in thread
 * order), for ThreadSanitizer (scripts/tsan-check.sh builds it with clang, -fsanitize=thread
 * and LLVM's OpenMP runtime with its Archer annotations). It also checks each result
 * is the same with 1 and 2 threads, so a race that changed results would show even
 * if the sanitizer missed it. Not a Criterion test: Criterion's forking runner does
 * not start under ThreadSanitizer. */
#include "nn/nn.h"
#include "tensor/gemm.h"
#include "tensor/lstm_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Forward and backward of a small model that touches matmul, broadcast, reductions,
 * softmax cross-entropy, gather/scatter and the fused LSTM (the lookup folded into it,
 * and masked under each thread split);
 * returns a checksum of the gradients and outputs. */
static double one_step(void) {
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    Tape *tape = ag_tape_new();
    const int64_t B = 64, T = 12, V = 50, D = 32, H = 64;
    Tensor *table = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(V, D)), true);
    Tensor *kernel = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(D, 4 * H)), true);
    Tensor *recurrent = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(H, 4 * H)), true);
    Tensor *bias = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(4 * H)), true);
    Tensor *out_w = ag_requires_grad(tensor_zeros(NULL, TENSOR_SHAPE(H, V)), true);
    Tensor *params[] = {table, kernel, recurrent, bias, out_w};
    for (int i = 0; i < 5; i++) tensor_fill_uniform(params[i]->data, params[i]->size, &rng, -0.3f, 0.3f);
    Tensor *ids = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T)), *targets = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T));
    for (int64_t i = 0; i < B * T; i++) {
        tensor_i32(ids)[i] = (int32_t)tensor_rng_below(&rng, (uint32_t)V);
        tensor_i32(targets)[i] = (int32_t)tensor_rng_below(&rng, (uint32_t)V);
    }
    Tensor *x = ag_gather_rows(tape, table, ids);
    AgLstmResult r = ag_lstm_lookup(tape, x, table, ids, kernel, recurrent, bias, NULL, NULL, false);
    Tensor *logits = ag_matmul(tape, ag_tanh(tape, r.seq), out_w);
    Tensor *scaled = ag_mul(tape, logits, ag_sigmoid(tape, ag_sum_axis(tape, logits, -1, true)));
    Tensor *loss = ag_add(tape, ag_sparse_cross_entropy(tape, scaled, targets, AG_NO_IGNORE_INDEX),
                          ag_mean(tape, ag_softmax(tape, ag_permute(tape, logits, (int[]){2, 0, 1}), 0)));
    /* The masked LSTM's carry of padded rows, backwards, under both thread splits. */
    Tensor *mask = tensor_zeros(NULL, TENSOR_SHAPE(B, T));
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t <= (b * 5) % T; t++) tensor_f32(mask)[b * T + t] = 1.0f;
    const TensorLstmSplit splits[2] = {TENSOR_LSTM_SPLIT_UNITS, TENSOR_LSTM_SPLIT_ROWS};
    for (int k = 0; k < 2; k++) {
        tensor__lstm_force_split(splits[k]);
        AgLstmResult m = ag_lstm_masked(tape, x, kernel, recurrent, bias, NULL, NULL, mask, true);
        loss = ag_add(tape, loss, ag_add(tape, ag_mean(tape, m.seq), ag_mean(tape, m.c)));
    }
    tensor__lstm_force_split(TENSOR_LSTM_SPLIT_AUTO);
    ag_backward(tape, loss);
    double sum = tensor_f32(loss)[0];
    for (int i = 0; i < 5; i++)
        for (int64_t k = 0; k < params[i]->size; k++) sum += (double)params[i]->grad[k] * (double)(k % 7 + 1);
    float *adam_p = malloc(100000 * sizeof(float)), *adam_g = malloc(100000 * sizeof(float));
    tensor_fill_uniform(adam_p, 100000, &rng, -1, 1);
    tensor_fill_uniform(adam_g, 100000, &rng, -1, 1);
    Optimizer *opt = nn_adam();
    nn_clip_global_norm(100000, adam_g, 1.0f);
    nn_optimizer_step(opt, 100000, adam_p, adam_g);
    for (int64_t k = 0; k < 100000; k += 97) sum += adam_p[k];
    nn_optimizer_free(opt);
    free(adam_p);
    free(adam_g);
    for (int i = 0; i < 5; i++) tensor_free(params[i]);
    tensor_free(ids);
    tensor_free(targets);
    tensor_free(mask);
    ag_tape_free(tape);
    return sum;
}

static double gemm_sum(void) {
    const int64_t M = 300, K = 200, N = 500;
    float *a = malloc((size_t)(M * K) * sizeof(float)), *b = malloc((size_t)(K * N) * sizeof(float)),
          *c = malloc((size_t)(M * N) * sizeof(float));
    for (int64_t i = 0; i < M * K; i++) a[i] = (float)(i % 13) - 6;
    for (int64_t i = 0; i < K * N; i++) b[i] = (float)(i % 7) - 3;
    tensor_sgemm(false, true, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
    double s = 0;
    for (int64_t i = 0; i < M * N; i++) s += c[i] * (double)(i % 5);
    free(a);
    free(b);
    free(c);
    return s;
}

/* Two-thread word2vec on a corpus where both threads touch the same frequent rows in
 * every round: a checksum of both tables (the same run to run if the rounds and the
 * merge are race-free). */
static double word2vec_sum(void) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    char line[256];
    for (int s = 0; s < 300; s++) {
        int n = 0;
        for (int w = 0; w < 12; w++) {
            uint32_t a = tensor_rng_below(&rng, 30), b = tensor_rng_below(&rng, 30), id = a < b ? a : b;
            n += snprintf(line + n, sizeof line - (size_t)n, "w%c%c ", 'a' + id / 10, 'a' + id % 10);
        }
        line[n - 1] = '\n';
        nn_w2v_corpus_add(c, line, n);
    }
    nn_w2v_corpus_finish(c, 1);
    NnWord2Vec *m = nn_w2v(c, .dim = 16, .iter = 2, .threads = 2, .batch_words = 200, .sample = 0.05, .seed = 5);
    double s = 0;
    if (!m || nn_w2v_train(m, NULL) != 0) {
        fprintf(stderr, "tsan_kernels: word2vec failed: %s\n", tensor_last_error());
        s = NAN;
    } else {
        const Tensor *tables[2] = {nn_w2v_input_table(m), nn_w2v_output_table(m)};
        for (int t = 0; t < 2; t++)
            for (int64_t k = 0; k < tables[t]->size; k++) s += (double)tensor_f32(tables[t])[k] * (double)(k % 11 + 1);
    }
    nn_w2v_free(m);
    nn_w2v_corpus_free(c);
    return s;
}

int main(void) {
    tensor_set_num_threads(1);
    double one = one_step() + gemm_sum();
    tensor_set_num_threads(2);
    double two = one_step() + gemm_sum();
    printf("checksum 1 thread %.17g, 2 threads %.17g\n", one, two);
    if (one != two) {
        fprintf(stderr, "tsan_kernels: results differ between 1 and 2 threads\n");
        return 1;
    }
    double w1 = word2vec_sum(), w2 = word2vec_sum();
    printf("word2vec (2 threads) checksum %.17g, again %.17g\n", w1, w2);
    if (w1 != w2 || isnan(w1)) {
        fprintf(stderr, "tsan_kernels: two-thread word2vec differs between runs\n");
        return 1;
    }
    return 0;
}
