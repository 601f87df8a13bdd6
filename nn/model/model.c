/* Models: building a Sequential stack (shape inference, unique Keras-style names),
 * packing parameters into flat buffers, compile, the summary table, the loss of a
 * batch, and custom models whose forward is user code. Training loops are in fit.c,
 * weights files in weights.c. */
#include "nn/model/model_internal.h"
#include "tensor/optim_kernels_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static Model *model_alloc(bool custom) {
    Model *m = tensor_xcalloc(1, sizeof *m);
    m->custom = custom;
    m->tape = ag_tape_new();
    tensor_rng_seed(&m->rng, 0, 0x6d6f64656c);
    return m;
}

Model *nn_sequential(void) { return model_alloc(false); }

Model *nn_custom_model(void) { return model_alloc(true); }

void nn_model_seed(Model *m, uint64_t seed) { tensor_rng_seed(&m->rng, seed, 0x6d6f64656c); }

void nn_model_reset_states(Model *m) {
    for (int i = 0; i < m->n_layers; i++) nn_layer_reset_state(m->layers[i]);
}

/* Records the first construction error; later calls report it again. */
static int model_fail(Model *m, const char *fmt, ...) TENSOR_PRINTF(2, 3);
static int model_fail(Model *m, const char *fmt, ...) {
    if (!m->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->error, sizeof m->error, fmt, ap);
        va_end(ap);
        m->failed = true;
    }
    return tensor_set_error("%s", m->error);
}

static bool name_in_layer(const Layer *layer, const char *name) {
    if (strcmp(layer->name, name) == 0) return true;
    for (int i = 0; i < layer->n_children; i++)
        if (name_in_layer(layer->children[i], name)) return true;
    return false;
}

static bool name_taken(const Model *m, const char *name) {
    for (int i = 0; i < m->n_layers; i++)
        if (name_in_layer(m->layers[i], name)) return true;
    return false;
}

/* Keras naming: the first "dense" stays "dense", the next becomes "dense_1". Wrapped
 * layers (Bidirectional's forward_lstm, ...) are made unique too, so every parameter
 * name in a model is distinct. */
static void make_name_unique(const Model *m, Layer *layer) {
    for (int i = 0; i < layer->n_children; i++) make_name_unique(m, layer->children[i]);
    if (!name_taken(m, layer->name)) return;
    char base[64];
    snprintf(base, sizeof base, "%s", layer->name);
    for (int k = 1;; k++) {
        char candidate[64];
        snprintf(candidate, sizeof candidate, "%.50s_%d", base, k);
        if (!name_taken(m, candidate)) {
            snprintf(layer->name, sizeof layer->name, "%s", candidate);
            return;
        }
    }
}

static void append_layer(Model *m, Layer *layer) {
    make_name_unique(m, layer);
    m->layers = tensor_xrealloc(m->layers, (size_t)(m->n_layers + 1) * sizeof *m->layers);
    m->layers[m->n_layers++] = layer;
}

int nn_add(Model *m, Layer *layer) {
    if (!layer)
        return model_fail(m, "layer %d could not be created: %s", m->n_layers + 1, tensor_last_error());
    if (m->custom) {
        nn_layer_free(layer);
        return model_fail(m, "nn_add is for Sequential models; use nn_track on a custom model");
    }
    if (m->built) {
        nn_layer_free(layer);
        return model_fail(m, "cannot add layer to a model that is already built");
    }
    append_layer(m, layer);
    return 0;
}

Layer *nn_track(Model *m, Layer *layer) {
    if (!layer) {
        model_fail(m, "layer could not be created: %s", tensor_last_error());
        return NULL;
    }
    if (!m->custom) {
        nn_layer_free(layer);
        model_fail(m, "nn_track is for custom models; use nn_add on a Sequential model");
        return NULL;
    }
    if (m->compiled) {
        nn_layer_free(layer);
        model_fail(m, "cannot track a layer after compile");
        return NULL;
    }
    append_layer(m, layer);
    return layer;
}

static void collect_params(Model *m, Layer *layer) {
    for (int i = 0; i < layer->n_params; i++) {
        m->params = tensor_xrealloc(m->params, (size_t)(m->n_params + 1) * sizeof *m->params);
        m->params[m->n_params++] = layer->params[i];
    }
    for (int i = 0; i < layer->n_children; i++) collect_params(m, layer->children[i]);
}

int nn__model_pack(Model *m) {
    if (m->param_buf) return 0;
    for (int i = 0; i < m->n_layers; i++) {
        if (!m->layers[i]->built)
            return model_fail(m, "layer '%s' is not built (call nn_layer_build before compile)",
                              m->layers[i]->name);
        collect_params(m, m->layers[i]);
    }
    int64_t total = 0;
    for (int i = 0; i < m->n_params; i++) total += m->params[i]->size;
    m->n_floats = total;
    m->param_buf = tensor_aligned_alloc((size_t)(total ? total : 1) * sizeof(float));
    m->grad_buf = tensor_aligned_alloc((size_t)(total ? total : 1) * sizeof(float));
    memset(m->grad_buf, 0, (size_t)total * sizeof(float));
    int64_t offset = 0;
    for (int i = 0; i < m->n_params; i++) {
        Tensor *p = m->params[i];
        float *data = m->param_buf + offset;
        memcpy(data, p->data, (size_t)p->size * sizeof(float));
        if (p->flags & TENSOR_OWNS_DATA) tensor_aligned_free(p->data);
        if (p->flags & TENSOR_OWNS_GRAD) tensor_aligned_free(p->grad);
        p->flags &= ~(unsigned)(TENSOR_OWNS_DATA | TENSOR_OWNS_GRAD);
        p->data = data;
        p->grad = m->grad_buf + offset;
        offset += p->size;
    }
    if (m->optimizer) nn__model_track_lookups(m); /* compiled before it was built */
    return 0;
}

int nn_build_opts(Model *m, NnShape input, const NnBuildOpts *opts) {
    if (m->failed) return tensor_set_error("%s", m->error);
    if (m->custom) return model_fail(m, "nn_build is for Sequential models");
    if (m->built) return 0;
    if (m->n_layers == 0) return model_fail(m, "the model has no layers");
    NnShape shape = input;
    if (opts && opts->defer_init) nn__init_defer(&m->pending);
    if (opts && opts->max_floats > 0) nn__param_budget(opts->max_floats);
    for (int i = 0; i < m->n_layers; i++) {
        Layer *layer = m->layers[i];
        if (nn_layer_build(layer, shape, &m->rng) != 0) {
            nn__init_defer(NULL);
            nn__param_budget(-1);
            char s[128];
            nn_shape_str(&shape, s, sizeof s);
            if (i == 0)
                return model_fail(m, "layer '%s' (%s) cannot take the model input %s: %s", layer->name,
                                  layer->vt->type, s, tensor_last_error());
            return model_fail(m, "layer '%s' (%s) cannot follow layer '%s' (%s), whose output is %s: %s",
                              layer->name, layer->vt->type, m->layers[i - 1]->name,
                              m->layers[i - 1]->vt->type, s, tensor_last_error());
        }
        shape = layer->out_shape;
    }
    nn__init_defer(NULL);
    nn__param_budget(-1);
    m->input = input;
    m->built = true;
    return nn__model_pack(m);
}

int nn_build(Model *m, NnShape input) { return nn_build_opts(m, input, NULL); }

void nn__model_draw_init(Model *m) {
    if (m->pending.n) nn__init_draw_pending(&m->pending);
}

void nn__model_loaded(Model *m) { nn__init_forget_pending(&m->pending); }

bool nn_model_initialised(const Model *m) { return m->param_buf && m->pending.n == 0; }

const char *nn_loss_name(NnLoss loss) {
    switch (loss) {
    case NN_SPARSE_CATEGORICAL_CROSSENTROPY: return "sparse_categorical_crossentropy";
    case NN_CATEGORICAL_CROSSENTROPY: return "categorical_crossentropy";
    case NN_BINARY_CROSSENTROPY: return "binary_crossentropy";
    case NN_MSE: return "mse";
    default: return "none";
    }
}

int nn_compile_opts(Model *m, const NnCompileOpts *opts) {
    if (m->failed) {
        nn_optimizer_free(opts->optimizer);
        return tensor_set_error("%s", m->error);
    }
    if (opts->loss == NN_LOSS_NONE && !m->custom) {
        nn_optimizer_free(opts->optimizer);
        return model_fail(m, "compile: a Sequential model needs a loss");
    }
    if (opts->loss < NN_LOSS_NONE || opts->loss >= NN_LOSS_COUNT) {
        nn_optimizer_free(opts->optimizer);
        return model_fail(m, "compile: unknown loss %d", (int)opts->loss);
    }
    if (!(opts->clipnorm >= 0) || !isfinite(opts->clipnorm)) {
        nn_optimizer_free(opts->optimizer);
        return model_fail(m, "compile: clipnorm %g must be >= 0", opts->clipnorm);
    }
    nn_optimizer_free(m->optimizer);
    m->optimizer = opts->optimizer ? opts->optimizer : nn_adam();
    m->loss = opts->loss;
    m->clipnorm = opts->clipnorm;
    m->accuracy = opts->accuracy;
    if (m->custom && nn__model_pack(m) != 0) return -1;
    if (m->built && m->n_layers > 0) {
        const Layer *last = m->layers[m->n_layers - 1];
        bool classes = m->loss == NN_SPARSE_CATEGORICAL_CROSSENTROPY || m->loss == NN_CATEGORICAL_CROSSENTROPY;
        if (classes && last->activation != NN_SOFTMAX && last->activation != NN_LINEAR)
            return model_fail(m, "compile: %s needs a softmax (or linear, read as logits) output, but the "
                                 "last layer '%s' ends with another activation",
                              nn_loss_name(m->loss), last->name);
        if (m->loss == NN_BINARY_CROSSENTROPY && last->activation != NN_SIGMOID && last->activation != NN_LINEAR)
            return model_fail(m, "compile: binary_crossentropy needs a sigmoid (or linear, read as logits) "
                                 "output, but the last layer '%s' ends with another activation",
                              last->name);
    }
    nn__model_track_lookups(m);
    m->compiled = true;
    return 0;
}

bool nn__model_loss_uses_logits(const Model *m) {
    return m->loss == NN_SPARSE_CATEGORICAL_CROSSENTROPY || m->loss == NN_CATEGORICAL_CROSSENTROPY ||
           m->loss == NN_BINARY_CROSSENTROPY;
}

Tensor *nn__model_forward(Model *m, Tape *tape, Tensor *x, bool training, bool logits,
                          const Tensor **mask) {
    nn__model_draw_init(m);
    NnCallCtx ctx = {.training = training, .rng = &m->rng};
    Tensor *h = x;
    for (int i = 0; i < m->n_layers; i++) {
        ctx.logits = logits && i == m->n_layers - 1;
        Tensor *in = h;
        h = nn_layer_call(m->layers[i], tape, in, &ctx);
        /* Keras's mask propagation: each layer says what mask its output carries. */
        ctx.mask = nn_layer_compute_mask(m->layers[i], tape, in, ctx.mask);
    }
    if (mask) *mask = ctx.mask;
    return h;
}

/* Counts argmax hits of a (rows, C) output against class ids (or, for float targets,
 * their argmax). */
static void count_class_hits(const Tensor *out, const Tensor *y, int64_t *correct, int64_t *total) {
    int64_t classes = out->shape[out->ndim - 1], rows = out->size / (classes ? classes : 1);
    const float *o = out->data;
    int64_t hits = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t best = 0;
        for (int64_t c = 1; c < classes; c++)
            if (o[r * classes + c] > o[r * classes + best]) best = c;
        int64_t target;
        if (y->dtype == TENSOR_I32) {
            target = ((const int32_t *)y->data)[r];
        } else {
            const float *t = (const float *)y->data + r * classes;
            target = 0;
            for (int64_t c = 1; c < classes; c++)
                if (t[c] > t[target]) target = c;
        }
        hits += best == target;
    }
    *correct += hits;
    *total += rows;
}

/* Whether a mask applies to outputs out and targets y: both (B, T, ...) with the
 * mask's (B, T) leading dims. */
static bool mask_applies(const Tensor *mask, const Tensor *out, const Tensor *y) {
    if (!mask || out->ndim < 2 || y->ndim < 2) return false;
    const int64_t B = mask->shape[0], T = mask->shape[1];
    return out->shape[0] == B && out->shape[1] == T && y->shape[0] == B && y->shape[1] == T;
}

Tensor *nn__model_loss(Model *m, Tape *tape, Tensor *out, Tensor *y, const Tensor *mask, int64_t *correct,
                       int64_t *total) {
    if (mask_applies(mask, out, y)) {
        /* Keras: masked steps count in neither the loss nor the metrics, so both are the
         * mean over the real steps, taken as rows of their own. */
        out = nn_mask_rows(tape, out, mask);
        y = nn_mask_rows(tape, y, mask);
        if (out->shape[0] == 0) return ag_output_zeros(tape, 0, NULL); /* nothing to count */
    }
    Tensor *loss = NULL;
    switch (m->loss) {
    case NN_SPARSE_CATEGORICAL_CROSSENTROPY:
        loss = ag_sparse_cross_entropy(tape, out, y, AG_NO_IGNORE_INDEX);
        if (correct) count_class_hits(out, y, correct, total);
        break;
    case NN_CATEGORICAL_CROSSENTROPY: {
        if (!tensor_same_shape(out, y)) AG_SHAPE_ERROR("categorical_crossentropy", "outputs and targets differ", out, y);
        Tensor *picked = ag_mul(tape, y, ag_log_softmax(tape, out, -1));
        loss = ag_neg(tape, ag_mean(tape, ag_sum_axis(tape, picked, -1, false)));
        if (correct) count_class_hits(out, y, correct, total);
        break;
    }
    case NN_BINARY_CROSSENTROPY:
        loss = ag_bce_with_logits(tape, out, y);
        if (correct) {
            const float *o = out->data, *t = y->data;
            for (int64_t i = 0; i < out->size; i++) *correct += (o[i] > 0) == (t[i] > 0.5f);
            *total += out->size;
        }
        break;
    case NN_MSE:
        loss = ag_mean(tape, ag_square(tape, ag_sub(tape, out, y)));
        break;
    default:
        tensor_fatal(__FILE__, __LINE__, "model loss: the model was not compiled with a loss");
    }
    return loss;
}

void nn__model_zero_grad(Model *m) {
    tensor_zero_floats(m->grad_buf, m->n_floats);
    nn__model_zero_lookups(m);
}

int nn__model_apply_gradients(Model *m) {
    /* One read of the gradients before any write: a NaN must never reach the weights. */
    const float *g = m->grad_buf;
    int64_t bad = tensor_first_nonfinite(g, m->n_floats); /* parallel, vectorised */
    if (bad >= 0) {
        int64_t offset = 0;
        const Tensor *p = NULL;
        for (int i = 0; i < m->n_params && !p; i++) {
            if (bad < offset + m->params[i]->size) p = m->params[i];
            else offset += m->params[i]->size;
        }
        const char *where = ag_tape_nonfinite(m->tape);
        return tensor_set_error("gradient of '%s' is %s at step %lld (element %lld)%s%s; parameters were not updated",
                                p && p->name ? p->name : "?", isnan(g[bad]) ? "NaN" : "infinite",
                                (long long)m->steps + 1, (long long)(bad - offset), where ? ": first " : "",
                                where ? where : "");
    }
    if (m->square_buf && (bad = tensor_first_nonfinite(m->square_buf, m->n_square_floats)) >= 0)
        return tensor_set_error("the squared lookup gradients of an embedding table overflow at step %lld (element "
                                "%lld); parameters were not updated",
                                (long long)m->steps + 1, (long long)bad);
    if (m->clipnorm > 0) {
        float norm = nn_clip_global_norm(m->n_floats, m->grad_buf, m->clipnorm);
        float scale = m->clipnorm / norm; /* the squares scale as the gradient's square */
        if (m->square_buf && norm > m->clipnorm)
            for (int64_t i = 0; i < m->n_square_floats; i++) m->square_buf[i] *= scale * scale;
    }
    nn_optimizer_step_lookups(m->optimizer, m->n_floats, m->param_buf, m->grad_buf, m->n_lookup_tables, m->lookups);
    m->steps++;
    return 0;
}

int nn__model_nonfinite_loss(Model *m, double loss) {
    const char *where = ag_tape_nonfinite(m->tape);
    return tensor_set_error("loss is %s at step %lld%s%s; parameters were not updated", isnan(loss) ? "NaN" : "infinite",
                            (long long)m->steps + 1, where ? ": first " : "", where ? where : "");
}

void nn_model_check_numerics(Model *m, bool enabled) { ag_set_check_finite(m->tape, enabled); }

int nn_custom_step(Model *m, NnLossFn fn, void *batch, void *user, double *loss_out) {
    if (!m->compiled) return tensor_set_error("nn_custom_step: compile the model first");
    nn__model_zero_grad(m);
    ag_tape_reset(m->tape);
    Tensor *loss = fn(m, m->tape, batch, user);
    TENSOR_CHECK(loss && loss->size == 1, "nn_custom_step: the loss function must return a scalar");
    double value = ((const float *)loss->data)[0];
    if (loss_out) *loss_out = value;
    if (!isfinite(value)) {
        int rc = nn__model_nonfinite_loss(m, value);
        ag_tape_reset(m->tape);
        return rc;
    }
    ag_backward(m->tape, loss);
    int rc = nn__model_apply_gradients(m);
    ag_tape_reset(m->tape);
    return rc;
}

Tape *nn_model_tape(Model *m) { return m->tape; }

int64_t nn_model_param_count(const Model *m) {
    int64_t n = 0;
    for (int i = 0; i < m->n_layers; i++) n += nn_layer_param_count(m->layers[i]);
    return n;
}

int nn_model_layer_count(const Model *m) { return m->n_layers; }

Layer *nn_model_layer(const Model *m, int i) {
    TENSOR_CHECK(i >= 0 && i < m->n_layers, "model has %d layers, asked for layer %d", m->n_layers, i);
    nn__model_draw_init((Model *)m); /* the caller may read its parameters */
    return m->layers[i];
}

Tensor *const *nn_model_params(const Model *m, int *count) {
    if (count) *count = m->n_params;
    nn__model_draw_init((Model *)m); /* the caller may read the values */
    return m->params;
}

int64_t nn_model_steps(const Model *m) { return m->steps; }

Optimizer *nn_model_optimizer(const Model *m) { return m->optimizer; }

/* 1234567 -> "1,234,567" */
static char *with_commas(int64_t v, char *buf, size_t len) {
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)v);
    size_t n = strlen(digits), pos = 0;
    for (size_t i = 0; i < n && pos + 1 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0 && digits[0] != '-' && pos + 1 < len) buf[pos++] = ',';
        buf[pos++] = digits[i];
    }
    buf[pos] = '\0';
    return buf;
}

static void rule(FILE *out, int width, char c) {
    for (int i = 0; i < width; i++) fputc(c, out);
    fputc('\n', out);
}

void nn_summary(const Model *m, FILE *out) {
    /* Keras's layout: three columns, widened when a name does not fit. */
    int col1 = 29, col2 = 26, col3 = 10;
    for (int i = 0; i < m->n_layers; i++) {
        int len = (int)(strlen(m->layers[i]->name) + strlen(m->layers[i]->vt->type)) + 5;
        if (len > col1) col1 = len;
    }
    int width = col1 + col2 + col3;
    fprintf(out, "Model: \"%s\"\n", m->custom ? "model" : "sequential");
    rule(out, width, '_');
    fprintf(out, " %-*s%-*s%-*s\n", col1 - 1, "Layer (type)", col2, "Output Shape", col3, "Param #");
    rule(out, width, '=');
    int64_t total = 0, trainable = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const Layer *l = m->layers[i];
        char label[160], shape[128];
        snprintf(label, sizeof label, "%s (%s)", l->name, l->vt->type);
        if (l->built)
            nn_shape_str(&l->out_shape, shape, sizeof shape);
        else
            snprintf(shape, sizeof shape, "(unbuilt)");
        int64_t count = nn_layer_param_count(l);
        total += count;
        if (l->trainable) trainable += count;
        fprintf(out, " %-*s%-*s%-*lld\n", col1 - 1, label, col2, shape, col3, (long long)count);
        if (i + 1 < m->n_layers) fputc('\n', out);
    }
    rule(out, width, '=');
    char a[32], b[32], c[32];
    fprintf(out, "Total params: %s\n", with_commas(total, a, sizeof a));
    fprintf(out, "Trainable params: %s\n", with_commas(trainable, b, sizeof b));
    fprintf(out, "Non-trainable params: %s\n", with_commas(total - trainable, c, sizeof c));
    rule(out, width, '_');
}

void nn_model_free(Model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_layers; i++) nn_layer_free(m->layers[i]);
    free(m->layers);
    free(m->params);
    nn__init_forget_pending(&m->pending);
    tensor_aligned_free(m->param_buf);
    tensor_aligned_free(m->grad_buf);
    nn__model_forget_lookups(m);
    nn_optimizer_free(m->optimizer);
    ag_tape_free(m->tape);
    free(m);
}
