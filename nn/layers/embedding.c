/* Embedding (Keras): int32 token ids (B, ...) -> rows of a (vocab, dim) table,
 * (B, ..., dim). The table starts U(-0.05, 0.05); the lookup is ag_gather_rows, whose
 * backward touches only the rows that were looked up, and whose output names the table
 * and the ids: an LSTM right after this layer reads them there and runs
 * ag_lstm_lookup, folding a small table into its input projection (lstm.c). */
#include "nn/layers/layer_internal.h"
#include "nn/layers/layers.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct Embedding {
    Layer base; /* first member */
    int64_t vocab, dim;
} Embedding;


static int embedding_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    Embedding *e = (Embedding *)self;
    char s[160];
    if (in->dtype != TENSOR_I32)
        return tensor_set_error("Embedding \"%s\": input must be int32 token ids, got float32 %s",
                                self->name, nn_shape_str(in, s, sizeof s));
    /* The output adds the dim axis, and the batch axis needs a slot too. */
    if (in->ndim + 2 > TENSOR_MAX_DIMS)
        return tensor_set_error("Embedding \"%s\": input %s has too many dims (at most %d)",
                                self->name, nn_shape_str(in, s, sizeof s), TENSOR_MAX_DIMS - 2);
    nn_layer_param(self, "embeddings", 2, (int64_t[]){e->vocab, e->dim}, NN_INIT_UNIFORM_005, rng);
    *out = *in;
    out->dtype = TENSOR_F32;
    out->dim[out->ndim++] = e->dim;
    return 0;
}

static Tensor *embedding_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    (void)ctx;
    Embedding *e = (Embedding *)self;
    /* Checked here too so the message names the layer, not just the op. */
    const int32_t *ids = x->data;
    for (int64_t i = 0; i < x->size; i++)
        TENSOR_CHECK(ids[i] >= 0 && ids[i] < e->vocab,
                     "Embedding \"%s\": id %d at flat index %lld is outside [0, %lld)", self->name,
                     (int)ids[i], (long long)i, (long long)e->vocab);
    return ag_gather_rows(tape, self->params[0], x);
}

static const LayerVTable EMBEDDING_VT = {
    .type = "Embedding",
    .build = embedding_build,
    .call = embedding_call,
};

Layer *nn_embedding_new(const NnEmbeddingOpts *opts) {
    if (!opts) {
        tensor_set_error("Embedding: options are NULL");
        return NULL;
    }
    if (opts->vocab <= 0 || opts->vocab > INT32_MAX) {
        tensor_set_error("Embedding: vocab must be in 1..%d, got %lld", (int)INT32_MAX,
                         (long long)opts->vocab);
        return NULL;
    }
    if (opts->dim <= 0) {
        tensor_set_error("Embedding: dim must be > 0, got %lld", (long long)opts->dim);
        return NULL;
    }
    Embedding *e = tensor_xcalloc(1, sizeof *e);
    nn_layer_init(&e->base, &EMBEDDING_VT, "embedding");
    if (nn__layer_set_name(&e->base, "Embedding", opts->name) != 0) {
        free(e);
        return NULL;
    }
    e->vocab = opts->vocab;
    e->dim = opts->dim;
    return &e->base;
}
