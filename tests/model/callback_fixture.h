/* What the schedule and callback tests share: a small character model with dropout
 * (so a resume must restore its generator too), its data, temporary files, and a
 * callback recording each epoch's learning rate and the model's weights. */
#ifndef TESTS_MODEL_CALLBACK_FIXTURE_H
#define TESTS_MODEL_CALLBACK_FIXTURE_H

#include "helpers.h"

#include "nn/nn.h"
#include "nn/model/model_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void fixture_data(Tensor **x, Tensor **y) {
    const char *text = "shall i compare thee to a summers day thou art more lovely and more temperate ";
    int64_t n;
    int32_t *ids = nn_char27_encode(text, (int64_t)strlen(text), &n);
    cr_assert_eq(nn_windows_shifted(ids, n, 8, 1, x, y), 0);
    free(ids);
}

static inline Model *fixture_model(Optimizer *opt) {
    Model *m = nn_sequential();
    nn_model_seed(m, 5);
    nn_add(m, nn_embedding(.vocab = 27, .dim = 8));
    nn_add(m, nn_lstm(.units = 16, .return_sequences = true));
    nn_add(m, nn_dropout(.rate = 0.2f));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .accuracy = true,
                            .optimizer = opt ? opt : nn_adam(.lr = 0.01f)), 0);
    return m;
}

static inline char *fixture_temp(void) {
    char *path = strdup("/tmp/lamina-callbacks-XXXXXX");
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    return path;
}

/* A copy of every parameter value. */
static inline float *fixture_weights(Model *m) {
    nn__model_draw_init(m);
    float *w = malloc((size_t)m->n_floats * sizeof(float));
    memcpy(w, m->param_buf, (size_t)m->n_floats * sizeof(float));
    return w;
}

static inline void fixture_assert_same_weights(Model *a, Model *b) {
    cr_assert_eq(a->n_floats, b->n_floats);
    cr_assert_eq(memcmp(a->param_buf, b->param_buf, (size_t)a->n_floats * sizeof(float)), 0, "weights differ");
    cr_assert_eq(nn_model_steps(a), nn_model_steps(b));
}

/* What a recording callback saw: the learning rate at each epoch's start and end. */
typedef struct Seen {
    int epochs;
    float begin_lr[32], end_lr[32];
    int begin_epoch[32];
} Seen;

static inline int seen_begin(Model *m, int epoch, void *user) {
    Seen *s = user;
    s->begin_epoch[s->epochs] = epoch;
    s->begin_lr[s->epochs] = nn_optimizer_lr(nn_model_optimizer(m));
    return 0;
}

static inline int seen_end(Model *m, const NnEpochLogs *logs, void *user) {
    Seen *s = user;
    (void)m;
    s->end_lr[s->epochs++] = (float)logs->lr; /* before later callbacks change it */
    return 0;
}

#define SEEN_CALLBACK(seen) ((NnCallback){.on_epoch_begin = seen_begin, .on_epoch_end = seen_end, .user = (seen)})

static inline char *fixture_read(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

#endif
