/* The Layer base (nn/layers/layer.c): a user-written layer through the vtable (build, call,
 * reset, destroy, children, failed builds), nn_layer_param's initialisers and names,
 * the shape check of nn_layer_call, nn_activate and nn_shape_str. */
#include "helpers.h"
#include "nn/layers/layer.h"
#include "nn/layers/layers.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a tiny user layer: y = x * scale, scale a (dim) vector; counts its hooks ---- */

typedef struct Scale {
    Layer base;
    int *resets, *destroys; /* counters owned by the test */
    bool fail_build;
} Scale;

static int scale_build(Layer *self, const NnShape *in, NnShape *out, Rng *rng) {
    Scale *s = (Scale *)self;
    nn_layer_param(self, "scale", 1, (int64_t[]){in->dim[in->ndim - 1]}, NN_INIT_ONES, rng);
    if (s->fail_build) return tensor_set_error("Scale \"%s\": refusing on purpose", self->name);
    *out = *in;
    return 0;
}

static Tensor *scale_call(Layer *self, Tape *tape, Tensor *x, const NnCallCtx *ctx) {
    (void)ctx;
    return ag_mul(tape, x, self->params[0]);
}

static void scale_reset(Layer *self) { (*((Scale *)self)->resets)++; }
static void scale_destroy(Layer *self) { (*((Scale *)self)->destroys)++; }

static const LayerVTable SCALE_VT = {
    .type = "Scale", .build = scale_build, .call = scale_call, .reset_state = scale_reset, .destroy = scale_destroy};

static Layer *scale_new(int *resets, int *destroys) {
    Scale *s = calloc(1, sizeof *s);
    nn_layer_init(&s->base, &SCALE_VT, "scale");
    s->resets = resets;
    s->destroys = destroys;
    return &s->base;
}

/* A bare layer to hang parameters on (initialiser tests). */
static const LayerVTable DUMMY_VT = {.type = "Dummy"};

Test(layer_base, init_sets_name_type_and_defaults) {
    int r = 0, d = 0;
    Layer *l = scale_new(&r, &d);
    cr_assert_str_eq(l->name, "scale");
    cr_assert_str_eq(l->vt->type, "Scale");
    cr_assert(l->trainable);
    cr_assert_not(l->built);
    cr_assert_eq(l->n_params, 0);
    cr_assert_eq(nn_layer_param_count(l), 0);
    nn_layer_free(l);
    cr_assert_eq(d, 1, "destroy must run exactly once, ran %d times", d);
}

Test(layer_base, build_sets_shapes_and_call_runs) {
    int r = 0, d = 0;
    Layer *l = scale_new(&r, &d);
    Rng rng;
    tensor_rng_seed(&rng, 1, 0);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, -1, 3), &rng), 0, "%s", tensor_last_error());
    cr_assert(l->built);
    cr_assert_eq(l->in_shape.ndim, 2);
    cr_assert_eq(l->in_shape.dim[0], -1);
    cr_assert_eq(l->out_shape.dim[1], 3);
    cr_assert_eq(nn_layer_param_count(l), 3);
    cr_assert_str_eq(l->params[0]->name, "scale/scale");
    float *sv = l->params[0]->data;
    sv[0] = 2, sv[1] = -1, sv[2] = 0.5f;
    Tape *tape = ag_tape_new();
    /* The unknown time axis accepts any length. */
    for (int64_t T = 1; T <= 4; T += 3) {
        Tensor *x = tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(2, T, 3));
        Tensor *y = nn_layer_call(l, tape, x, &(NnCallCtx){0});
        cr_assert_eq(y->shape[1], T);
        float *yv = y->data;
        for (int64_t i = 0; i < y->size; i++) cr_assert_float_eq(yv[i], sv[i % 3], 1e-7f);
    }
    /* A NULL ctx means inference. */
    Tensor *x = tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(1, 2, 3));
    cr_assert_not_null(nn_layer_call(l, tape, x, NULL));
    ag_tape_free(tape);
    nn_layer_free(l);
}

Test(layer_base, building_twice_is_an_error) {
    int r = 0, d = 0;
    Layer *l = scale_new(&r, &d);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 4), NULL), 0);
    tensor_clear_error();
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 4), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "already built"), "got: %s", tensor_last_error());
    cr_assert(strstr(tensor_last_error(), "scale"), "got: %s", tensor_last_error());
    cr_assert_eq(l->n_params, 1, "a refused rebuild must not add parameters");
    nn_layer_free(l);
}

Test(layer_base, failed_build_leaves_layer_unbuilt_without_params) {
    int r = 0, d = 0;
    Layer *l = scale_new(&r, &d);
    ((Scale *)l)->fail_build = true;
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 4), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "refusing on purpose"), "got: %s", tensor_last_error());
    cr_assert_not(l->built);
    cr_assert_eq(l->n_params, 0);
    cr_assert_null(l->params);
    /* and it can be built once the problem is gone */
    ((Scale *)l)->fail_build = false;
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 4), NULL), 0);
    nn_layer_free(l);
}

Test(layer_base, bad_input_shapes_are_refused) {
    int r = 0, d = 0;
    Layer *l = scale_new(&r, &d);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 0, 4), NULL), -1);
    cr_assert(strstr(tensor_last_error(), "bad dim 0"), "got: %s", tensor_last_error());
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, -2, 4), NULL), -1);
    NnShape big = {.dtype = TENSOR_F32, .ndim = TENSOR_MAX_DIMS};
    for (int i = 0; i < big.ndim; i++) big.dim[i] = 1;
    cr_assert_eq(nn_layer_build(l, big, NULL), -1);
    cr_assert(strstr(tensor_last_error(), "rank"), "got: %s", tensor_last_error());
    cr_assert_eq(nn_layer_build(NULL, NN_SHAPE(TENSOR_F32, 4), NULL), -1);
    cr_assert_not(l->built);
    nn_layer_free(l);
}

Test(layer_base, children_are_counted_reset_and_freed) {
    int r = 0, d = 0;
    Layer *inner = scale_new(&r, &d);
    Layer *outer = nn_time_distributed(inner);
    cr_assert_not_null(outer);
    cr_assert_eq(nn_layer_build(outer, NN_SHAPE(TENSOR_F32, 5, 7), NULL), 0, "%s",
                 tensor_last_error());
    cr_assert_eq(nn_layer_param_count(outer), 7);
    nn_layer_reset_state(outer);
    nn_layer_reset_state(outer);
    cr_assert_eq(r, 2, "reset_state must reach the child, reached it %d times", r);
    nn_layer_reset_state(NULL);
    nn_layer_free(outer);
    cr_assert_eq(d, 1, "the child must be destroyed once, got %d", d);
    nn_layer_free(NULL);
}

Test(layer_base, call_with_wrong_shape_aborts, .signal = SIGABRT) {
    Layer *l = nn_dense(.units = 4);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 8), NULL), 0);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(2, 9));
    nn_layer_call(l, tape, x, NULL);
}

Test(layer_base, call_with_wrong_rank_aborts, .signal = SIGABRT) {
    Layer *l = nn_dense(.units = 4);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 8), NULL), 0);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(2, 3, 8));
    nn_layer_call(l, tape, x, NULL);
}

Test(layer_base, call_with_wrong_dtype_aborts, .signal = SIGABRT) {
    Layer *l = nn_dense(.units = 4);
    cr_assert_eq(nn_layer_build(l, NN_SHAPE(TENSOR_F32, 8), NULL), 0);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_i32_zeros(ag_tape_arena(tape), TENSOR_SHAPE(2, 8));
    nn_layer_call(l, tape, x, NULL);
}

Test(layer_base, call_before_build_aborts, .signal = SIGABRT) {
    Layer *l = nn_dense(.units = 4);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(2, 8));
    nn_layer_call(l, tape, x, NULL);
}

/* The abort message names the layer and both shapes: run the mismatch in a child
 * process and read what it printed. */
Test(layer_base, shape_mismatch_message_names_layer_and_shapes) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        Layer *l = nn_dense(.units = 4, .name = "head");
        nn_layer_build(l, NN_SHAPE(TENSOR_F32, -1, 8), NULL);
        Tape *tape = ag_tape_new();
        nn_layer_call(l, tape, tensor_ones(ag_tape_arena(tape), TENSOR_SHAPE(2, 5, 9)), NULL);
        _exit(0);
    }
    close(fds[1]);
    char msg[1024] = {0};
    size_t got = 0;
    ssize_t n;
    while (got < sizeof msg - 1 && (n = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the child did not abort");
    cr_assert(strstr(msg, "head"), "no layer name in: %s", msg);
    cr_assert(strstr(msg, "Dense"), "no layer type in: %s", msg);
    cr_assert(strstr(msg, "(None, None, 8)"), "no built shape in: %s", msg);
    cr_assert(strstr(msg, "(2, 5, 9)"), "no given shape in: %s", msg);
}

/* ---- initialisers ---- */

static Layer *dummy(void) {
    Layer *l = calloc(1, sizeof *l);
    nn_layer_init(l, &DUMMY_VT, "dummy");
    return l;
}

Test(layer_base, param_names_flags_and_ownership) {
    Layer *l = dummy();
    Rng rng;
    tensor_rng_seed(&rng, 5, 0);
    Tensor *a = nn_layer_param(l, "kernel", 2, (int64_t[]){3, 4}, NN_INIT_ZEROS, &rng);
    Tensor *b = nn_layer_param(l, "bias", 1, (int64_t[]){4}, NN_INIT_ONES, NULL);
    cr_assert_eq(l->n_params, 2);
    cr_assert_eq(l->params[0], a);
    cr_assert_eq(l->params[1], b);
    cr_assert_str_eq(a->name, "dummy/kernel");
    cr_assert_str_eq(b->name, "dummy/bias");
    cr_assert(a->requires_grad && b->requires_grad);
    cr_assert_eq(a->dtype, TENSOR_F32);
    cr_assert_null(a->arena, "parameters are heap tensors");
    for (int i = 0; i < 12; i++) cr_assert_eq(((float *)a->data)[i], 0.0f);
    for (int i = 0; i < 4; i++) cr_assert_eq(((float *)b->data)[i], 1.0f);
    cr_assert_eq(nn_layer_param_count(l), 16);
    nn_layer_free(l);
}

Test(layer_base, glorot_uniform_limit_and_moments) {
    Layer *l = dummy();
    Rng rng;
    tensor_rng_seed(&rng, 11, 0);
    Tensor *k = nn_layer_param(l, "kernel", 2, (int64_t[]){300, 200}, NN_INIT_GLOROT_UNIFORM, &rng);
    double limit = sqrt(6.0 / (300 + 200)), mean = 0, var = 0, maxabs = 0;
    const float *v = k->data;
    for (int64_t i = 0; i < k->size; i++) {
        cr_assert(fabs(v[i]) <= limit, "element %lld = %g beyond the Glorot limit %g",
                  (long long)i, (double)v[i], limit);
        mean += v[i];
        if (fabs(v[i]) > maxabs) maxabs = fabs(v[i]);
    }
    mean /= (double)k->size;
    for (int64_t i = 0; i < k->size; i++) var += (v[i] - mean) * (v[i] - mean);
    var /= (double)k->size;
    cr_assert(fabs(mean) < 0.02 * limit, "mean %g", mean);
    cr_assert(fabs(var - limit * limit / 3) < 0.03 * limit * limit / 3, "variance %g, expected %g",
              var, limit * limit / 3);
    cr_assert(maxabs > 0.99 * limit, "the values should reach the limit, max %g", maxabs);
    nn_layer_free(l);
}

/* 1-D and 3-D shapes: the fans count a receptive field, so fan_in * fan_out is not the
 * element count; the initialiser must fill exactly the tensor (ASan sees any overrun)
 * with the Keras limit sqrt(6 / (fan_in + fan_out)). */
Test(layer_base, glorot_uniform_fills_exactly_1d_and_3d_params) {
    Layer *l = dummy();
    Rng rng;
    tensor_rng_seed(&rng, 12, 0);
    Tensor *v = nn_layer_param(l, "vector", 1, (int64_t[]){50}, NN_INIT_GLOROT_UNIFORM, &rng);
    Tensor *c = nn_layer_param(l, "conv", 3, (int64_t[]){3, 8, 16}, NN_INIT_GLOROT_UNIFORM, &rng);
    cr_assert_eq(v->size, 50);
    cr_assert_eq(c->size, 3 * 8 * 16);
    double lv = sqrt(6.0 / (50 + 50)), lc = sqrt(6.0 / (3 * 8 + 3 * 16));
    for (int64_t i = 0; i < v->size; i++) cr_assert(fabsf(tensor_f32(v)[i]) <= lv);
    bool reached = false;
    for (int64_t i = 0; i < c->size; i++) {
        cr_assert(fabsf(tensor_f32(c)[i]) <= lc, "conv[%lld] beyond the limit", (long long)i);
        reached |= fabsf(tensor_f32(c)[i]) > 0.9 * lc;
    }
    cr_assert(reached, "the values should come near the limit");
    nn_layer_free(l);
}

Test(layer_base, orthogonal_is_orthonormal) {
    Layer *l = dummy();
    Rng rng;
    tensor_rng_seed(&rng, 3, 0);
    /* wide: orthonormal rows; tall: orthonormal columns */
    Tensor *w = nn_layer_param(l, "wide", 2, (int64_t[]){4, 12}, NN_INIT_ORTHOGONAL, &rng);
    Tensor *t = nn_layer_param(l, "tall", 2, (int64_t[]){12, 4}, NN_INIT_ORTHOGONAL, &rng);
    const float *wv = w->data, *tv = t->data;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double rows = 0, cols = 0;
            for (int k = 0; k < 12; k++) {
                rows += (double)wv[i * 12 + k] * wv[j * 12 + k];
                cols += (double)tv[k * 4 + i] * tv[k * 4 + j];
            }
            cr_assert(fabs(rows - (i == j)) < 1e-5, "W W^T [%d][%d] = %g", i, j, rows);
            cr_assert(fabs(cols - (i == j)) < 1e-5, "T^T T [%d][%d] = %g", i, j, cols);
        }
    nn_layer_free(l);
}

Test(layer_base, uniform_005_range) {
    Layer *l = dummy();
    Rng rng;
    tensor_rng_seed(&rng, 4, 0);
    Tensor *e = nn_layer_param(l, "embeddings", 2, (int64_t[]){100, 50}, NN_INIT_UNIFORM_005, &rng);
    const float *v = e->data;
    float lo = 1, hi = -1;
    for (int64_t i = 0; i < e->size; i++) {
        lo = fminf(lo, v[i]);
        hi = fmaxf(hi, v[i]);
    }
    cr_assert(lo >= -0.05f && hi < 0.05f, "range [%g, %g]", (double)lo, (double)hi);
    cr_assert(lo < -0.049f && hi > 0.049f, "range [%g, %g] too narrow", (double)lo, (double)hi);
    nn_layer_free(l);
}

Test(layer_base, lstm_bias_forget_quarter_is_one) {
    Layer *l = dummy();
    Tensor *b = nn_layer_param(l, "bias", 1, (int64_t[]){4 * 5}, NN_INIT_LSTM_BIAS, NULL);
    const float *v = b->data;
    for (int i = 0; i < 20; i++)
        cr_assert_eq(v[i], (i >= 5 && i < 10) ? 1.0f : 0.0f, "bias[%d] = %g", i, (double)v[i]);
    nn_layer_free(l);
}

Test(layer_base, same_seed_same_weights) {
    Layer *a = dummy(), *b = dummy();
    Rng ra, rb;
    tensor_rng_seed(&ra, 9, 2);
    tensor_rng_seed(&rb, 9, 2);
    Tensor *ka = nn_layer_param(a, "k", 2, (int64_t[]){7, 5}, NN_INIT_GLOROT_UNIFORM, &ra);
    Tensor *kb = nn_layer_param(b, "k", 2, (int64_t[]){7, 5}, NN_INIT_GLOROT_UNIFORM, &rb);
    cr_assert_eq(memcmp(ka->data, kb->data, 35 * sizeof(float)), 0);
    nn_layer_free(a);
    nn_layer_free(b);
}

Test(layer_base, random_init_without_rng_aborts, .signal = SIGABRT) {
    Layer *l = dummy();
    nn_layer_param(l, "k", 2, (int64_t[]){2, 2}, NN_INIT_GLOROT_UNIFORM, NULL);
}

/* ---- helpers ---- */

Test(layer_base, shape_strings) {
    char buf[64];
    cr_assert_str_eq(nn_shape_str(&NN_SHAPE(TENSOR_F32, 40, 64), buf, sizeof buf), "(None, 40, 64)");
    cr_assert_str_eq(nn_shape_str(&NN_SHAPE(TENSOR_I32, -1, 27), buf, sizeof buf),
                     "(None, None, 27)");
    NnShape scalar = {.dtype = TENSOR_F32, .ndim = 0};
    cr_assert_str_eq(nn_shape_str(&scalar, buf, sizeof buf), "(None,)");
    char tiny[8];
    nn_shape_str(&NN_SHAPE(TENSOR_F32, 40, 64), tiny, sizeof tiny);
    cr_assert_str_eq(tiny, "(None, ", "truncated output must stay terminated");
}

Test(layer_base, activations_match_their_formulas) {
    Tape *tape = ag_tape_new();
    float xs[] = {-2, -0.5f, 0, 1.5f, 3, -1};
    Tensor *x = tensor_from_array(ag_tape_arena(tape), TENSOR_SHAPE(2, 3), xs);
    cr_assert_eq(nn_activate(tape, x, NN_LINEAR), x);
    const float *r = nn_activate(tape, x, NN_RELU)->data;
    const float *t = nn_activate(tape, x, NN_TANH)->data;
    const float *s = nn_activate(tape, x, NN_SIGMOID)->data;
    const float *m = nn_activate(tape, x, NN_SOFTMAX)->data;
    for (int i = 0; i < 6; i++) {
        cr_assert_float_eq(r[i], xs[i] > 0 ? xs[i] : 0, 1e-7f);
        cr_assert_float_eq(t[i], tanhf(xs[i]), 1e-6f);
        cr_assert_float_eq(s[i], 1 / (1 + expf(-xs[i])), 1e-6f);
    }
    for (int row = 0; row < 2; row++) {
        double z = 0;
        for (int j = 0; j < 3; j++) z += exp(xs[row * 3 + j]);
        for (int j = 0; j < 3; j++)
            cr_assert_float_eq(m[row * 3 + j], exp(xs[row * 3 + j]) / z, 1e-6f);
    }
    ag_tape_free(tape);
}
