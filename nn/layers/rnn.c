/* The machinery LSTM, GRU and SimpleRNN share: the constructor and option checks,
 * build (input (T, D) -> (T, H) or (H)), the call path and nn_rnn_call (initial and
 * final states, input checks), the stateful carry kept in heap buffers copied out of
 * the step arena, reset_state and nn_layer_is_rnn. Each kind's parameters and
 * recurrence live in lstm.c, gru.c and simple_rnn.c. */
#include "autograd/ops/lstm_internal.h"
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"
#include "nn/layers/rnn_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


Layer *nn__rnn_new(const RnnKind *kind, const LayerVTable *vt, const NnRnnOpts *opts) {
    if (!opts) {
        tensor_set_error("%s: options are NULL", kind->type);
        return NULL;
    }
    if (opts->units <= 0) {
        tensor_set_error("%s: units must be > 0, got %lld", kind->type, (long long)opts->units);
        return NULL;
    }
    /* Far beyond any real layer, and it keeps every size below from overflowing. */
    if (opts->units > (INT64_C(1) << 24)) {
        tensor_set_error("%s: units = %lld is too large (at most %lld)", kind->type,
                         (long long)opts->units, (long long)(INT64_C(1) << 24));
        return NULL;
    }
    RnnLayer *r = tensor_xcalloc(1, sizeof *r);
    nn_layer_init(&r->base, vt, kind->base_name);
    if (nn__layer_set_name(&r->base, kind->type, opts->name) != 0) {
        free(r);
        return NULL;
    }
    r->kind = kind;
    r->opts = *opts;
    r->opts.name = NULL; /* the caller's string need not outlive the layer */
    return &r->base;
}

bool nn_layer_is_rnn(const Layer *layer) {
    return layer && layer->vt && layer->vt->build == nn__rnn_build;
}

int nn__rnn_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    RnnLayer *r = (RnnLayer *)self;
    const char *type = r->kind->type;
    char s[160];
    if (in->dtype != TENSOR_F32)
        return tensor_set_error("%s \"%s\": input must be float32 (time, features), got int32 %s "
                                "(put an Embedding first for token ids)",
                                type, self->name, nn_shape_str(in, s, sizeof s));
    if (in->ndim != 2)
        return tensor_set_error("%s \"%s\": input must be (batch, time, features), got %s", type,
                                self->name, nn_shape_str(in, s, sizeof s));
    int64_t D = in->dim[1], H = r->opts.units;
    if (D <= 0)
        return tensor_set_error("%s \"%s\": the feature dim must be known, got %s", type,
                                self->name, nn_shape_str(in, s, sizeof s));
    /* The kernel is (D, up to 4H): refuse sizes whose element count would overflow. */
    size_t elems;
    if (tensor_mul_size((size_t)D, (size_t)(4 * H), &elems) != 0 ||
        tensor_mul_size(elems, sizeof(float), &elems) != 0)
        return tensor_set_error("%s \"%s\": a (%lld, %lld) kernel is too large", type, self->name,
                                (long long)D, (long long)(4 * H));
    if (r->kind->build_params(r, D, rng) != 0) return -1;
    out->dtype = TENSOR_F32;
    if (r->opts.return_sequences) {
        out->ndim = 2;
        out->dim[0] = in->dim[0];
        out->dim[1] = H;
    } else {
        out->ndim = 1;
        out->dim[0] = H;
    }
    return 0;
}

/* Stops unless x is a float32 (B, T, D) batch this layer can take, T >= 1. */
static void check_input(const RnnLayer *r, const Tensor *x) {
    const Layer *l = &r->base;
    char got[160], want[160];
    tensor_shape_str(x->ndim, x->shape, got, sizeof got);
    TENSOR_CHECK(x->dtype == TENSOR_F32 && x->ndim == 3,
                 "%s \"%s\": input must be a float32 (B, T, D) batch, got %s %s", r->kind->type,
                 l->name, x->dtype == TENSOR_I32 ? "int32" : "float32", got);
    int64_t T = x->shape[1], D = l->in_shape.dim[1], T_built = l->in_shape.dim[0];
    TENSOR_CHECK(x->shape[2] == D && (T_built == -1 || T_built == T),
                 "%s \"%s\": built for input %s, got a batch %s", r->kind->type, l->name,
                 nn_shape_str(&l->in_shape, want, sizeof want), got);
    TENSOR_CHECK(T >= 1, "%s \"%s\": the sequence must have at least one step, got %s",
                 r->kind->type, l->name, got);
}

/* Stops unless a given initial state s is a float32 (B, H) tensor. */
static void check_state(const RnnLayer *r, const Tensor *s, const char *what, int64_t B) {
    if (!s) return;
    char got[160];
    TENSOR_CHECK(s->dtype == TENSOR_F32 && s->ndim == 2 && s->shape[0] == B &&
                     s->shape[1] == r->opts.units,
                 "%s \"%s\": initial %s must be float32 (B, units) = (%lld, %lld), got %s",
                 r->kind->type, r->base.name, what, (long long)B, (long long)r->opts.units,
                 tensor_shape_str(s->ndim, s->shape, got, sizeof got));
}

/* A step-arena copy of a carried state. A copy, not a view: the heap buffer is
 * overwritten at the end of this call while the tape may still read it in backward. */
static Tensor *carried(Tape *tape, const float *buf, int64_t B, int64_t H) {
    return tensor_from_array(ag_tape_arena(tape), 2, (int64_t[]){B, H}, buf);
}

/* Copies the final states out of the arena so they outlive ag_tape_reset. */
static void keep_state(RnnLayer *r, const RnnRun *run, int64_t B) {
    size_t bytes = (size_t)(B * r->opts.units) * sizeof(float);
    if (r->state_batch != B) {
        free(r->state_h);
        free(r->state_c);
        r->state_h = tensor_xmalloc(bytes);
        r->state_c = r->kind->has_cell ? tensor_xmalloc(bytes) : NULL;
        r->state_batch = B;
    }
    memcpy(r->state_h, run->h->data, bytes);
    if (r->state_c) memcpy(r->state_c, run->c->data, bytes);
}

/* The common path of nn_rnn_call and the layer's call; x is already checked. */
static Tensor *rnn_run(RnnLayer *r, Tape *tape, Tensor *x, const NnRnnState *initial,
                       NnRnnState *final, const Tensor *mask) {
    const int64_t B = x->shape[0], H = r->opts.units;
    if (mask) {
        char what[96];
        snprintf(what, sizeof what, "%s \"%s\"", r->kind->type, r->base.name);
        ag__mask_check(what, mask, B, x->shape[1]);
    }
    Tensor *h0 = initial ? initial->h : NULL, *c0 = initial ? initial->c : NULL;
    TENSOR_CHECK(!c0 || r->kind->has_cell,
                 "%s \"%s\": has no cell state, so the initial c must be NULL", r->kind->type,
                 r->base.name);
    check_state(r, h0, "h", B);
    check_state(r, c0, "c", B);
    if (r->opts.stateful && r->state_batch != 0) {
        TENSOR_CHECK(r->state_batch == B,
                     "%s \"%s\": stateful layer carries state for batch size %lld, got a batch "
                     "of %lld (use the same batch size, or reset the state first)",
                     r->kind->type, r->base.name, (long long)r->state_batch, (long long)B);
        if (!h0) h0 = carried(tape, r->state_h, B, H);
        if (!c0 && r->state_c) c0 = carried(tape, r->state_c, B, H);
    }
    bool want_seq = r->opts.return_sequences;
    RnnRun run = r->kind->run(r, tape, x, h0, c0, mask, want_seq);
    if (r->opts.stateful) keep_state(r, &run, B);
    if (final) {
        final->h = run.h;
        final->c = r->kind->has_cell ? run.c : NULL;
    }
    return nn__rnn_output(r, tape, &run, mask, h0 != NULL);
}

Tensor *nn__rnn_layer_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    /* No dropout here; the state carries in training and inference alike. */
    RnnLayer *r = (RnnLayer *)self;
    check_input(r, x);
    return rnn_run(r, tape, x, NULL, NULL, ctx->mask);
}

Tensor *nn_rnn_call(Layer *rnn, Tape *tape, Tensor *x, const NnRnnState *initial, NnRnnState *final,
                    const NnCallCtx *ctx) {
    TENSOR_CHECK(rnn != NULL && tape != NULL && x != NULL,
                 "nn_rnn_call: layer, tape and x must not be NULL");
    TENSOR_CHECK(nn_layer_is_rnn(rnn),
                 "nn_rnn_call: layer \"%s\" (%s) is not an LSTM, GRU or SimpleRNN", rnn->name,
                 rnn->vt ? rnn->vt->type : "?");
    TENSOR_CHECK(rnn->built, "nn_rnn_call: layer \"%s\" (%s) is called before it was built",
                 rnn->name, rnn->vt->type);
    RnnLayer *r = (RnnLayer *)rnn;
    check_input(r, x);
    return rnn_run(r, tape, x, initial, final, ctx ? ctx->mask : NULL);
}

void nn__rnn_reset_state(Layer *self) {
    RnnLayer *r = (RnnLayer *)self;
    /* Forgetting is the same as zeros, and lets the next batch have any size. */
    free(r->state_h);
    free(r->state_c);
    r->state_h = r->state_c = NULL;
    r->state_batch = 0;
}

void nn__rnn_destroy(Layer *self) { nn__rnn_reset_state(self); }

void nn__rnn_get_config(const Layer *self, NnConfig *c) {
    const NnRnnOpts *o = &((const RnnLayer *)self)->opts;
    nn_config_set_int(c, "units", o->units);
    nn_config_set_bool(c, "return_sequences", o->return_sequences);
    nn_config_set_bool(c, "return_state", o->return_state);
    nn_config_set_bool(c, "stateful", o->stateful);
    nn_config_set_bool(c, "go_backwards", o->go_backwards);
    nn_config_set_bool(c, "unfused", o->unfused);
    /* Only when set, so the configs of unmasked models are what they were. */
    if (o->zero_output_for_mask) nn_config_set_bool(c, "zero_output_for_mask", true);
}

int nn__rnn_opts_from_config(const NnConfig *c, const char *type, NnRnnOpts *o) {
    static const char *const known[] = {"units", "return_sequences", "return_state", "stateful",
                                        "go_backwards", "unfused", "zero_output_for_mask", NULL};
    *o = (NnRnnOpts){0};
    if (nn_config_only(c, type, known) || nn_config_int(c, type, "units", &o->units) < 0 ||
        nn_config_bool(c, type, "return_sequences", &o->return_sequences) < 0 ||
        nn_config_bool(c, type, "return_state", &o->return_state) < 0 ||
        nn_config_bool(c, type, "stateful", &o->stateful) < 0 ||
        nn_config_bool(c, type, "go_backwards", &o->go_backwards) < 0 ||
        nn_config_bool(c, type, "unfused", &o->unfused) < 0 ||
        nn_config_bool(c, type, "zero_output_for_mask", &o->zero_output_for_mask) < 0)
        return -1;
    return 0;
}
