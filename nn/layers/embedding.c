/* Embedding (Keras): int32 token ids (B, ...) -> rows of a (vocab, dim) table,
 * (B, ..., dim). The table starts U(-0.05, 0.05); the lookup is ag_gather_rows, whose
 * backward touches only the rows that were looked up, and whose output names the table
 * and the ids: an LSTM right after this layer reads them there and runs
 * ag_lstm_lookup, folding a small table into its input projection (lstm.c). With
 * mask_zero, id 0 is padding: the output's mask is ids != 0 (Keras's compute_mask). */
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"
#include "nn/layers/layers.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct Embedding {
    Layer base; /* first member */
    int64_t vocab, dim;
    bool mask_zero;
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
    if (e->mask_zero && in->ndim != 1)
        return tensor_set_error("Embedding \"%s\": mask_zero needs (batch, time) ids, got %s", self->name,
                                nn_shape_str(in, s, sizeof s));
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

/* ids (B, T) -> 1 where the id is not 0. */
static const Tensor *embedding_compute_mask(Layer *self, Tape *tape, Tensor *x, const Tensor *mask) {
    (void)mask; /* Keras's Embedding makes its own, whatever came before */
    if (!((Embedding *)self)->mask_zero) return NULL;
    Tensor *m = tensor_zeros(ag_tape_arena(tape), 2, x->shape);
    const int32_t *ids = x->data;
    float *mv = m->data;
    for (int64_t i = 0; i < x->size; i++) mv[i] = ids[i] != 0 ? 1.0f : 0.0f;
    return m;
}

/* Keras's names: input_dim, output_dim, mask_zero (written only when set, so the
 * configs of unmasked models are what they were). */
static void embedding_get_config(const Layer *self, NnConfig *c) {
    const Embedding *e = (const Embedding *)self;
    nn_config_set_int(c, "input_dim", e->vocab);
    nn_config_set_int(c, "output_dim", e->dim);
    if (e->mask_zero) nn_config_set_bool(c, "mask_zero", true);
}

static Layer *embedding_from_config(const NnConfig *c, Layer **children, int n_children) {
    if (nn_config_no_children("Embedding", children, n_children) != 0) return NULL;
    static const char *const known[] = {"input_dim", "output_dim", "mask_zero", NULL};
    NnEmbeddingOpts o = {0};
    if (nn_config_only(c, "Embedding", known) || nn_config_int(c, "Embedding", "input_dim", &o.vocab) < 0 ||
        nn_config_int(c, "Embedding", "output_dim", &o.dim) < 0 ||
        nn_config_bool(c, "Embedding", "mask_zero", &o.mask_zero) < 0)
        return NULL;
    return nn_embedding_new(&o);
}

const LayerVTable nn__embedding_vt = {
    .type = "Embedding",
    .build = embedding_build,
    .call = embedding_call,
    .get_config = embedding_get_config,
    .from_config = embedding_from_config,
    .compute_mask = embedding_compute_mask,
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
    nn_layer_init(&e->base, &nn__embedding_vt, "embedding");
    if (nn__layer_set_name(&e->base, "Embedding", opts->name) != 0) {
        free(e);
        return NULL;
    }
    e->vocab = opts->vocab;
    e->dim = opts->dim;
    e->mask_zero = opts->mask_zero;
    return &e->base;
}
