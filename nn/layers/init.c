/* Keras's initialisers applied to a new parameter, drawn at once or, while a model
 * builds with deferred initialisation, recorded with the generator state they would
 * start from and drawn on first use (see layer_internal.h). */
#include "nn/layers/layer_internal.h"
#include "tensor/orthogonal_internal.h"

#include <math.h>
#include <stdlib.h>

/* Keras's compute_fans: 2-D (in, out); 1-D n -> (n, n); higher ranks treat the leading
 * dims as a receptive field (convolution kernels). */
static void fans(int ndim, const int64_t *shape, int64_t *fan_in, int64_t *fan_out) {
    if (ndim == 0) {
        *fan_in = *fan_out = 1;
    } else if (ndim == 1) {
        *fan_in = *fan_out = shape[0];
    } else if (ndim == 2) {
        *fan_in = shape[0];
        *fan_out = shape[1];
    } else {
        int64_t receptive = 1;
        for (int i = 0; i < ndim - 2; i++) receptive *= shape[i];
        *fan_in = shape[ndim - 2] * receptive;
        *fan_out = shape[ndim - 1] * receptive;
    }
}

static bool is_random(NnInit init) {
    return init == NN_INIT_GLOROT_UNIFORM || init == NN_INIT_ORTHOGONAL || init == NN_INIT_UNIFORM_005;
}

/* Stops with a message naming the parameter when init cannot apply to its shape, so
 * a deferred initialisation fails at build time as an eager one does. */
static void check_init(const Tensor *t, NnInit init, const Rng *rng) {
    TENSOR_CHECK(!is_random(init) || rng != NULL, "%s: a random initialiser needs an Rng, got NULL", t->name);
    switch (init) {
    case NN_INIT_ZEROS:
    case NN_INIT_ONES:
    case NN_INIT_UNIFORM_005:
        return;
    case NN_INIT_GLOROT_UNIFORM: {
        int64_t fan_in, fan_out;
        fans(t->ndim, t->shape, &fan_in, &fan_out);
        TENSOR_CHECK(fan_in + fan_out > 0, "%s: Glorot initialiser on an empty shape", t->name);
        return;
    }
    case NN_INIT_ORTHOGONAL:
        TENSOR_CHECK(t->ndim >= 2, "%s: the orthogonal initialiser needs at least 2 dims, got %d", t->name,
                     t->ndim);
        return;
    case NN_INIT_LSTM_BIAS:
        TENSOR_CHECK(t->ndim == 1 && t->shape[0] % 4 == 0,
                     "%s: the LSTM bias initialiser needs a 1-D shape divisible by 4", t->name);
        return;
    }
    tensor_fatal(__FILE__, __LINE__, "%s: unknown initialiser %d", t->name, (int)init);
}

/* The generator draws init takes for t: one per uniform, two per normal. */
static uint64_t draws(const Tensor *t, NnInit init) {
    if (!is_random(init)) return 0;
    return (uint64_t)t->size * (init == NN_INIT_ORTHOGONAL ? 2u : 1u);
}

/* Writes init's values into t's (zeroed) data from rng. */
static void fill(Tensor *t, NnInit init, Rng *rng) {
    float *x = t->data;
    switch (init) {
    case NN_INIT_ZEROS:
        break; /* already zero */
    case NN_INIT_ONES:
        for (int64_t i = 0; i < t->size; i++) x[i] = 1.0f;
        break;
    case NN_INIT_GLOROT_UNIFORM: {
        int64_t fan_in, fan_out;
        fans(t->ndim, t->shape, &fan_in, &fan_out);
        /* Over the tensor's own size: for 1-D or 3-D and up, fan_in * fan_out counts
         * the receptive field twice and is not the number of elements. */
        float limit = (float)sqrt(6.0 / (double)(fan_in + fan_out));
        tensor_fill_uniform(x, t->size, rng, -limit, limit);
        break;
    }
    case NN_INIT_ORTHOGONAL: {
        /* Keras flattens all leading dims into the rows. */
        int64_t cols = t->shape[t->ndim - 1], rows = t->size / (cols ? cols : 1);
        tensor__fill_orthogonal_fast(x, rows, cols, rng, 1.0f); /* threaded, same values */
        break;
    }
    case NN_INIT_UNIFORM_005:
        tensor_fill_uniform(x, t->size, rng, -0.05f, 0.05f);
        break;
    case NN_INIT_LSTM_BIAS: {
        /* Keras unit_forget_bias: gates i, f, c, o; the forget quarter starts at 1. */
        int64_t h = t->shape[0] / 4;
        for (int64_t i = h; i < 2 * h; i++) x[i] = 1.0f;
        break;
    }
    }
}

/* Where nn__init_param records random initialisations while a model defers them. */
static _Thread_local NnPendingInits *deferring;

void nn__init_defer(NnPendingInits *sink) { deferring = sink; }

void nn__init_param(Tensor *t, NnInit init, Rng *rng) {
    check_init(t, init, rng);
    if (!deferring || !is_random(init) || t->size == 0) {
        fill(t, init, rng);
        return;
    }
    NnPendingInits *p = deferring;
    p->items = tensor_xrealloc(p->items, (size_t)(p->n + 1) * sizeof *p->items);
    p->items[p->n++] = (NnPendingInit){.param = t, .init = init, .rng = *rng};
    tensor_rng_advance(rng, draws(t, init)); /* where drawing now would leave it */
}

void nn__init_draw_pending(NnPendingInits *pending) {
    for (int i = 0; i < pending->n; i++) {
        NnPendingInit *p = &pending->items[i];
        fill(p->param, p->init, &p->rng);
    }
    nn__init_forget_pending(pending);
}

void nn__init_forget_pending(NnPendingInits *pending) {
    free(pending->items);
    *pending = (NnPendingInits){0};
}
