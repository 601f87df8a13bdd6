/* What the neighbour searches of word_eval.c and keyed_vectors.c share. */
#ifndef NN_WORD_EVAL_INTERNAL_H
#define NN_WORD_EVAL_INTERNAL_H

#include <stdint.h>

/* Keeps the best k (row, score) pairs in rows / scores sorted, best first, *n of them
 * so far; among equal scores the earlier (more frequent) row stays first. */
void nn__keep_best(int64_t k, int64_t *n, int64_t *rows, float *scores, int64_t row, float score);

#endif
