/* Masking (Keras): a float32 (B, T, D) batch whose steps are padding wherever every
 * feature equals mask_value. The output is the input with those steps set to 0, and its
 * mask is 1 at the other steps (Keras's compute_mask: any(x != mask_value, axis=-1)), so
 * the RNNs after it skip the padding. No parameters. */
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"
#include "nn/layers/layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Masking {
    Layer base; /* first member */
    float mask_value;
} Masking;

static int masking_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    (void)rng;
    char s[160];
    if (in->dtype != TENSOR_F32 || in->ndim != 2)
        return tensor_set_error("Masking \"%s\": input must be float32 (batch, time, features), got %s %s",
                                self->name, in->dtype == TENSOR_I32 ? "int32" : "float32",
                                nn_shape_str(in, s, sizeof s));
    *out = *in;
    return 0;
}

/* (B, T): 1 where some feature of the step differs from the mask value. */
static Tensor *steps_mask(Tape *tape, const Tensor *x, float value) {
    const int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
    Tensor *m = tensor_zeros(ag_tape_arena(tape), 2, (int64_t[]){B, T});
    const float *xv = x->data;
    float *mv = m->data;
    for (int64_t r = 0; r < B * T; r++) {
        bool real = false;
        for (int64_t d = 0; d < D && !real; d++) real = xv[r * D + d] != value;
        mv[r] = real ? 1.0f : 0.0f;
    }
    return m;
}

static Tensor *masking_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    (void)ctx;
    Tensor *m = steps_mask(tape, x, ((Masking *)self)->mask_value);
    Tensor *m3 = ag_reshape(tape, m, 3, (int64_t[]){x->shape[0], x->shape[1], 1});
    /* Selected, not multiplied: padded steps become exactly +0 whatever their value. */
    return ag_where(tape, m3, x, ag_output_zeros(tape, x->ndim, x->shape));
}

static const Tensor *masking_compute_mask(Layer *self, Tape *tape, Tensor *x, const Tensor *mask) {
    (void)mask; /* Keras's Masking makes its own, whatever came before */
    return steps_mask(tape, x, ((Masking *)self)->mask_value);
}

static void masking_get_config(const Layer *self, NnConfig *c) {
    nn_config_set_float(c, "mask_value", ((const Masking *)self)->mask_value);
}

static Layer *masking_from_config(const NnConfig *c, Layer **children, int n_children) {
    if (nn_config_no_children("Masking", children, n_children) != 0) return NULL;
    static const char *const known[] = {"mask_value", NULL};
    double value = 0;
    if (nn_config_only(c, "Masking", known) || nn_config_float(c, "Masking", "mask_value", &value) < 0)
        return NULL;
    return nn_masking_new(&(NnMaskingOpts){.mask_value = (float)value});
}

const LayerVTable nn__masking_vt = {
    .type = "Masking",
    .build = masking_build,
    .call = masking_call,
    .get_config = masking_get_config,
    .from_config = masking_from_config,
    .compute_mask = masking_compute_mask,
};

Layer *nn_masking_new(const NnMaskingOpts *opts) {
    if (!opts) {
        tensor_set_error("Masking: options are NULL");
        return NULL;
    }
    if (isnan(opts->mask_value)) { /* NaN equals nothing: every step would be real */
        tensor_set_error("Masking: mask_value must not be NaN");
        return NULL;
    }
    Masking *k = tensor_xcalloc(1, sizeof *k);
    nn_layer_init(&k->base, &nn__masking_vt, "masking");
    if (nn__layer_set_name(&k->base, "Masking", opts->name) != 0) {
        free(k);
        return NULL;
    }
    k->mask_value = opts->mask_value;
    return &k->base;
}
