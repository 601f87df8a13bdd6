/* Metrics over a model's predictions: where a target ranks among n scores, the k
 * best entries, top-k hits and accuracy over a (N, C) predictions tensor, and a
 * classifier's loss and top-k accuracies evaluated batch by batch. */
#ifndef NN_METRICS_H
#define NN_METRICS_H

#include <lamina/nn/model/model.h>
#include <lamina/tensor/tensor.h>

#include <stdint.h>

/* The rank of entry target among n scores (probabilities or logits): how many
 * entries beat it, i.e. are greater, or equal with a smaller index (the "first on
 * ties" rule of nn_sample_argmax). 0 means it is the best. A NaN target score ranks
 * n (never a hit); NaN entries never beat it. Stops if target is outside [0, n). */
int64_t nn_topk_rank(const float *scores, int64_t n, int64_t target);

/* Writes the indices of the min(k, n) largest scores to out, best first (ties:
 * smaller index first; NaN entries last), and returns that count. */
int64_t nn_topk_indices(const float *scores, int64_t n, int64_t k, int64_t *out);

/* How many rows of scores (N, C) float32 have their target, targets (N) int32, among
 * their k best entries (rank < k). Stops on mismatched shapes, a wrong dtype, k < 1
 * or a target outside [0, C). */
int64_t nn_topk_hits(const Tensor *scores, const Tensor *targets, int64_t k);

/* nn_topk_hits / N (NaN when N is 0). */
double nn_topk_accuracy(const Tensor *scores, const Tensor *targets, int64_t k);

/* Evaluates a classifier, a compiled Sequential model with a sparse categorical
 * cross-entropy loss and (N, C) outputs, on x (N, ...) and y (N) int32 in batches of
 * batch_size (<= 0: 32), one forward pass per batch and never more than one batch
 * of outputs in memory: *loss gets the mean loss (as nn_evaluate) and acc[j] the
 * fraction of samples whose target ranks among the ks[j] best classes, ranked by
 * the pre-softmax scores as PyTorch's topk would (ties: smaller index first). NaNs
 * for N = 0. Returns 0, or -1 with tensor_last_error() for a model that is not such
 * a classifier or data that does not fit it. */
int nn_evaluate_topk(Model *m, const Tensor *x, const Tensor *y, int64_t batch_size, int n_k, const int64_t *ks,
                     double *loss, double *acc);

#endif
