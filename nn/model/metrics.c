/* Metrics over predictions (see metrics.h): ranks and the k best entries of a row of
 * scores, top-k hits and accuracy over a (N, C) tensor, and a classifier evaluated
 * batch by batch with its loss and top-k accuracies. */
#include "nn/model/metrics.h"

#include "nn/model/model_internal.h"

#include <math.h>
#include <stdlib.h>

int64_t nn_topk_rank(const float *scores, int64_t n, int64_t target) {
    TENSOR_CHECK(scores != NULL && target >= 0 && target < n, "nn_topk_rank: target %lld outside [0, %lld)",
                 (long long)target, (long long)n);
    float t = scores[target];
    if (isnan(t)) return n;
    int64_t rank = 0;
    for (int64_t i = 0; i < target; i++) rank += scores[i] >= t;
    for (int64_t i = target + 1; i < n; i++) rank += scores[i] > t;
    return rank;
}

/* Whether entry a (score sa) should come before entry b: larger first, NaN last,
 * ties by index. */
static bool ranks_before(float sa, int64_t a, float sb, int64_t b) {
    if (isnan(sa) || isnan(sb)) return isnan(sb) && (!isnan(sa) || a < b);
    return sa > sb || (sa == sb && a < b);
}

int64_t nn_topk_indices(const float *scores, int64_t n, int64_t k, int64_t *out) {
    TENSOR_CHECK(n >= 0 && (scores != NULL || n == 0) && (out != NULL || k <= 0), "nn_topk_indices: bad arguments");
    if (k > n) k = n;
    if (k <= 0) return 0;
    int64_t have = 0; /* out[0 .. have) sorted best first; insertion keeps it so */
    for (int64_t i = 0; i < n; i++) {
        if (have == k && !ranks_before(scores[i], i, scores[out[k - 1]], out[k - 1])) continue;
        int64_t j = have < k ? have++ : k - 1;
        while (j > 0 && ranks_before(scores[i], i, scores[out[j - 1]], out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = i;
    }
    return k;
}

int64_t nn_topk_hits(const Tensor *scores, const Tensor *targets, int64_t k) {
    TENSOR_CHECK(scores != NULL && targets != NULL, "nn_topk_hits: NULL tensor");
    char a[96], b[96];
    TENSOR_CHECK(scores->dtype == TENSOR_F32 && scores->ndim == 2 && targets->dtype == TENSOR_I32 &&
                     targets->ndim == 1 && targets->shape[0] == scores->shape[0],
                 "nn_topk_hits: scores %s must be float32 (N, C) and targets %s int32 (N)",
                 tensor_shape_str(scores->ndim, scores->shape, a, sizeof a),
                 tensor_shape_str(targets->ndim, targets->shape, b, sizeof b));
    TENSOR_CHECK(k >= 1, "nn_topk_hits: k must be >= 1 (got %lld)", (long long)k);
    int64_t rows = scores->shape[0], c = scores->shape[1], hits = 0;
    const float *s = tensor_f32(scores);
    const int32_t *t = tensor_i32(targets);
    for (int64_t r = 0; r < rows; r++) {
        TENSOR_CHECK(t[r] >= 0 && t[r] < c, "nn_topk_hits: target %d of row %lld outside [0, %lld)", t[r],
                     (long long)r, (long long)c);
        hits += nn_topk_rank(s + r * c, c, t[r]) < k;
    }
    return hits;
}

double nn_topk_accuracy(const Tensor *scores, const Tensor *targets, int64_t k) {
    int64_t hits = nn_topk_hits(scores, targets, k);
    return scores->shape[0] ? (double)hits / (double)scores->shape[0] : NAN;
}

int nn_evaluate_topk(Model *m, const Tensor *x, const Tensor *y, int64_t batch_size, int n_k, const int64_t *ks,
                     double *loss, double *acc) {
    TENSOR_CHECK(m != NULL && x != NULL && y != NULL && loss != NULL && (n_k == 0 || (ks != NULL && acc != NULL)),
                 "nn_evaluate_topk: NULL argument");
    if (m->failed) return tensor_set_error("%s", m->error);
    if (m->custom || !m->compiled || !m->built || m->n_layers == 0)
        return tensor_set_error("nn_evaluate_topk: needs a built and compiled Sequential model");
    if (m->loss != NN_SPARSE_CATEGORICAL_CROSSENTROPY)
        return tensor_set_error("nn_evaluate_topk: needs a sparse_categorical_crossentropy classifier");
    if (m->layers[m->n_layers - 1]->out_shape.ndim != 1)
        return tensor_set_error("nn_evaluate_topk: the model's outputs must be (N, classes)");
    if (y->dtype != TENSOR_I32 || y->ndim != 1 || x->ndim < 1 || x->shape[0] != y->shape[0])
        return tensor_set_error("nn_evaluate_topk: need x (N, ...) and int32 targets y (N) with the same N");
    if (nn__model_check_input(m, x, "nn_evaluate_topk") != 0) return -1;
    for (int j = 0; j < n_k; j++)
        if (ks[j] < 1) return tensor_set_error("nn_evaluate_topk: k must be >= 1 (got %lld)", (long long)ks[j]);
    if (batch_size <= 0) batch_size = 32;
    int64_t n = x->shape[0];
    int64_t *hits = tensor_xcalloc((size_t)(n_k ? n_k : 1), sizeof *hits);
    Tape *tape = m->tape;
    bool previous = ag_set_grad_enabled(tape, false);
    bool logits = nn__model_loss_uses_logits(m);
    double total = 0;
    for (int64_t start = 0; start < n; start += batch_size) {
        int64_t count = n - start < batch_size ? n - start : batch_size;
        ag_tape_reset(tape);
        Tensor *xb = nn__model_rows(NULL, x, start, count), *yb = nn__model_rows(NULL, y, start, count);
        const Tensor *mask; /* outputs are (N, classes) here: no mask reaches them */
        Tensor *out = nn__model_forward(m, tape, xb, false, logits, &mask);
        Tensor *l = nn__model_loss(m, tape, out, yb, mask, NULL, NULL);
        total += (double)tensor_f32(l)[0] * (double)count;
        for (int j = 0; j < n_k; j++) hits[j] += nn_topk_hits(out, yb, ks[j]);
        tensor_free(xb);
        tensor_free(yb);
    }
    ag_tape_reset(tape);
    ag_set_grad_enabled(tape, previous);
    *loss = n ? total / (double)n : NAN;
    for (int j = 0; j < n_k; j++) acc[j] = n ? (double)hits[j] / (double)n : NAN;
    free(hits);
    return 0;
}
