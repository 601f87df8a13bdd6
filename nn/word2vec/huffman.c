/* The Huffman tree of hierarchical softmax, built node by node as word2vec.c's
 * CreateBinaryTree does, so the codes and inner-node rows are word2vec.c's: the
 * counts are sorted most frequent first, leaves are taken from the rare end and new
 * inner nodes from the other queue, a tie going to the inner node. */
#include "nn/word2vec/word2vec_internal.h"

#include <stdlib.h>

void nn__w2v_tree_free(W2vTree *t) {
    free(t->start);
    free(t->code);
    free(t->point);
    *t = (W2vTree){0};
}

/* The smaller of the two queue heads: leaves count[pos1] (falling) and inner nodes
 * count[pos2] (rising); strict <, as word2vec.c. */
static int64_t take_min(const int64_t *count, int64_t *pos1, int64_t *pos2) {
    if (*pos1 >= 0 && count[*pos1] < count[*pos2]) return (*pos1)--;
    return (*pos2)++;
}

int nn__w2v_tree_build(W2vTree *t, const int64_t *counts, int64_t V) {
    *t = (W2vTree){.start = tensor_xcalloc((size_t)V + 1, sizeof *t->start)};
    if (V < 2) return 0; /* no inner node: nothing to predict */
    /* Nodes 0..V-1 are the words, V..2V-2 the inner nodes in order of creation. */
    int64_t *count = tensor_xmalloc((size_t)(2 * V) * sizeof *count);
    int64_t *parent = tensor_xmalloc((size_t)(2 * V) * sizeof *parent);
    uint8_t *binary = tensor_xcalloc((size_t)(2 * V), sizeof *binary);
    for (int64_t a = 0; a < V; a++) count[a] = counts[a];
    for (int64_t a = V; a < 2 * V; a++) count[a] = INT64_MAX / 4; /* word2vec.c's 1e15: not yet made */
    int64_t pos1 = V - 1, pos2 = V;
    for (int64_t a = 0; a < V - 1; a++) {
        int64_t min1 = take_min(count, &pos1, &pos2), min2 = take_min(count, &pos1, &pos2);
        count[V + a] = count[min1] + count[min2];
        parent[min1] = parent[min2] = V + a;
        binary[min2] = 1;
    }
    /* Path lengths first, so the paths can go in one flat array. */
    int64_t total = 0;
    for (int64_t a = 0; a < V; a++) {
        int len = 0;
        for (int64_t b = a; b != 2 * V - 2; b = parent[b]) len++;
        t->start[a] = total;
        total += len;
        if (len > t->max_len) t->max_len = len;
    }
    t->start[V] = total;
    t->code = tensor_xmalloc((size_t)total * sizeof *t->code);
    t->point = tensor_xmalloc((size_t)total * sizeof *t->point);
    for (int64_t a = 0; a < V; a++) { /* walked leaf to root, stored root first */
        int64_t end = t->start[a + 1], i = end;
        for (int64_t b = a; b != 2 * V - 2; b = parent[b]) {
            i--;
            t->code[i] = binary[b];
            t->point[i] = (int32_t)(parent[b] - V); /* the node whose child b is */
        }
    }
    free(count);
    free(parent);
    free(binary);
    return 0;
}
