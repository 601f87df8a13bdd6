/* Checkpoints and resume: a run stopped part-way (by max_steps or by a signal) and
 * resumed from its checkpoint ends with exactly the weights, optimizer state and
 * history of a run that was never interrupted. */
#include "helpers.h"

#include "nn/nn.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void data(Tensor **x, Tensor **y) {
    const char *text = "shall i compare thee to a summers day thou art more lovely and more temperate ";
    int64_t n;
    int32_t *ids = nn_char27_encode(text, (int64_t)strlen(text), &n);
    cr_assert_eq(nn_windows_shifted(ids, n, 8, 1, x, y), 0);
    free(ids);
}

/* Dropout makes the run depend on the model's Rng too, which a resume must restore. */
static Model *model(void) {
    Model *m = nn_sequential();
    nn_model_seed(m, 5);
    nn_add(m, nn_embedding(.vocab = 27, .dim = 8));
    nn_add(m, nn_lstm(.units = 16, .return_sequences = true));
    nn_add(m, nn_dropout(.rate = 0.2f));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .accuracy = true), 0);
    return m;
}

static char *temp_file(void) {
    char *path = strdup("/tmp/lamina-resume-XXXXXX");
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    return path;
}

static void assert_same_weights(Model *a, Model *b) {
    int n;
    Tensor *const *pa = nn_model_params(a, &n);
    Tensor *const *pb = nn_model_params(b, NULL);
    for (int i = 0; i < n; i++)
        cr_assert_eq(memcmp(pa[i]->data, pb[i]->data, (size_t)pa[i]->size * sizeof(float)), 0,
                     "parameter %s differs", pa[i]->name);
    cr_assert_eq(nn_model_steps(a), nn_model_steps(b));
}

#define FIT_OPTS .batch_size = 8, .epochs = 3, .seed = 9, .quiet = true, .validation_split = 0.2f

Test(resume, stopped_by_max_steps_then_resumed_equals_uninterrupted) {
    Tensor *x, *y;
    data(&x, &y);
    Model *full = model();
    NnHistory *hf = nn_fit(full, x, y, FIT_OPTS);
    cr_assert_not_null(hf, "%s", tensor_last_error());

    char *ckpt = temp_file();
    Model *first = model();
    NnHistory *h1 = nn_fit(first, x, y, FIT_OPTS, .max_steps = 11, .checkpoint_path = ckpt); /* mid epoch 2 */
    cr_assert_not_null(h1, "%s", tensor_last_error());
    cr_assert_eq(nn_model_steps(first), 11);
    Model *second = model();
    NnHistory *h2 = nn_fit(second, x, y, FIT_OPTS, .resume_path = ckpt, .checkpoint_path = ckpt);
    cr_assert_not_null(h2, "%s", tensor_last_error());
    assert_same_weights(full, second);
    cr_assert_eq(h2->epochs, 3);
    for (int e = 0; e < 3; e++) {
        cr_assert_eq(h2->loss[e], hf->loss[e], "epoch %d loss", e + 1);
        cr_assert_eq(h2->val_loss[e], hf->val_loss[e], "epoch %d val_loss", e + 1);
    }
    /* Resuming a finished run changes nothing. */
    Model *third = model();
    NnHistory *h3 = nn_fit(third, x, y, FIT_OPTS, .resume_path = ckpt);
    cr_assert_not_null(h3, "%s", tensor_last_error());
    assert_same_weights(full, third);
    unlink(ckpt);
    free(ckpt);
    nn_history_free(hf);
    nn_history_free(h1);
    nn_history_free(h2);
    nn_history_free(h3);
    nn_model_free(full);
    nn_model_free(first);
    nn_model_free(second);
    nn_model_free(third);
    tensor_free(x);
    tensor_free(y);
}

static int interrupt_after_first_epoch(Model *m, const NnEpochLogs *logs, void *user) {
    (void)m, (void)user;
    if (logs->epoch == 1) raise(SIGINT); /* as if Ctrl-C arrived during epoch 2's first step */
    return 0;
}

Test(resume, sigint_checkpoints_and_the_resumed_run_matches) {
    Tensor *x, *y;
    data(&x, &y);
    Model *full = model();
    NnHistory *hf = nn_fit(full, x, y, FIT_OPTS);
    cr_assert_not_null(hf);

    char *ckpt = temp_file();
    Model *first = model();
    NnCallback cb = {.on_epoch_end = interrupt_after_first_epoch};
    NnHistory *h1 = nn_fit(first, x, y, FIT_OPTS, .checkpoint_path = ckpt, .handle_signals = true,
                           .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h1, "%s", tensor_last_error());
    cr_assert_eq(h1->signal, SIGINT);
    cr_assert_eq(h1->epochs, 1, "stopped during epoch 2");
    cr_assert(access(ckpt, R_OK) == 0, "a checkpoint was written");
    /* The handler is gone again: SIGINT's disposition is back to what it was. */
    struct sigaction now;
    sigaction(SIGINT, NULL, &now);
    cr_assert_eq(now.sa_handler, SIG_DFL);

    Model *second = model();
    NnHistory *h2 = nn_fit(second, x, y, FIT_OPTS, .resume_path = ckpt);
    cr_assert_not_null(h2, "%s", tensor_last_error());
    assert_same_weights(full, second);
    unlink(ckpt);
    free(ckpt);
    nn_history_free(hf);
    nn_history_free(h1);
    nn_history_free(h2);
    nn_model_free(full);
    nn_model_free(first);
    nn_model_free(second);
    tensor_free(x);
    tensor_free(y);
}

Test(resume, periodic_checkpoints_and_mismatched_resumes) {
    Tensor *x, *y;
    data(&x, &y);
    char *ckpt = temp_file();
    Model *m = model();
    NnHistory *h = nn_fit(m, x, y, FIT_OPTS, .checkpoint_path = ckpt, .checkpoint_every = 4, .max_steps = 6);
    cr_assert_not_null(h);
    Model *other = model();
    /* A different batch size cannot continue that run. */
    cr_assert_null(nn_fit(other, x, y, .batch_size = 4, .epochs = 3, .quiet = true, .validation_split = 0.2f,
                          .resume_path = ckpt));
    cr_assert(strstr(tensor_last_error(), "batches of 8") != NULL, "%s", tensor_last_error());
    /* A plain weights file has no training state to resume from. */
    char *plain = temp_file();
    cr_assert_eq(nn_save_weights(m, plain, false), 0);
    cr_assert_null(nn_fit(other, x, y, FIT_OPTS, .resume_path = plain));
    cr_assert(strstr(tensor_last_error(), "no training state") != NULL, "%s", tensor_last_error());
    /* But a checkpoint loads as ordinary weights. */
    cr_assert_eq(nn_load_weights(other, ckpt), 0, "%s", tensor_last_error());
    unlink(ckpt);
    unlink(plain);
    free(ckpt);
    free(plain);
    nn_history_free(h);
    nn_model_free(m);
    nn_model_free(other);
    tensor_free(x);
    tensor_free(y);
}

/* A copy of every parameter value, to check a model was left as it was. */
static float *snapshot(Model *m, int64_t *count) {
    int n;
    Tensor *const *p = nn_model_params(m, &n);
    *count = 0;
    for (int i = 0; i < n; i++) *count += p[i]->size;
    float *copy = malloc((size_t)*count * sizeof *copy), *at = copy;
    for (int i = 0; i < n; i++) {
        memcpy(at, p[i]->data, (size_t)p[i]->size * sizeof(float));
        at += p[i]->size;
    }
    return copy;
}

static void assert_unchanged(Model *m, const float *before, int64_t count, const char *what) {
    int64_t now_count;
    float *now = snapshot(m, &now_count);
    cr_assert_eq(now_count, count);
    cr_assert_eq(memcmp(now, before, (size_t)count * sizeof(float)), 0, "%s changed the weights", what);
    free(now);
}

Test(resume, a_refused_resume_leaves_the_model_untouched) {
    Tensor *x, *y;
    data(&x, &y);
    char *ckpt = temp_file();
    Model *trained = model();
    NnHistory *h = nn_fit(trained, x, y, FIT_OPTS, .checkpoint_path = ckpt, .max_steps = 5);
    cr_assert_not_null(h, "%s", tensor_last_error());

    /* The fresh model's weights differ from the checkpoint's: a copy would show. */
    Model *fresh = model();
    cr_assert_eq(nn_build(fresh, NN_SHAPE(TENSOR_I32, 8)), 0);
    int64_t count;
    float *before = snapshot(fresh, &count);
    cr_assert_null(nn_fit(fresh, x, y, .batch_size = 4, .epochs = 3, .seed = 9, .quiet = true,
                          .validation_split = 0.2f, .resume_path = ckpt));
    cr_assert(strstr(tensor_last_error(), "batches of 8") != NULL, "%s", tensor_last_error());
    assert_unchanged(fresh, before, count, "a resume with another batch size");
    cr_assert_eq(nn_model_steps(fresh), 0);

    /* Other data (fewer training samples): refused too, nothing copied. */
    Tensor *fewer_x = tensor_view(NULL, TENSOR_I32, x->data, NULL, 2, (int64_t[]){x->shape[0] - 10, 8});
    Tensor *fewer_y = tensor_view(NULL, TENSOR_I32, y->data, NULL, 2, (int64_t[]){y->shape[0] - 10, 8});
    cr_assert_null(nn_fit(fresh, fewer_x, fewer_y, FIT_OPTS, .resume_path = ckpt));
    cr_assert(strstr(tensor_last_error(), "training samples") != NULL, "%s", tensor_last_error());
    assert_unchanged(fresh, before, count, "a resume with other data");

    /* Fewer epochs than the checkpoint had reached. */
    Model *longer = model();
    char *late = temp_file();
    NnHistory *hl = nn_fit(longer, x, y, FIT_OPTS, .checkpoint_path = late, .max_steps = 14); /* epoch 3 */
    cr_assert_not_null(hl, "%s", tensor_last_error());
    cr_assert_null(nn_fit(fresh, x, y, .batch_size = 8, .epochs = 2, .seed = 9, .quiet = true,
                          .validation_split = 0.2f, .resume_path = late));
    assert_unchanged(fresh, before, count, "a resume with fewer epochs");

    /* And the right options do load it. */
    NnHistory *ok = nn_fit(fresh, x, y, FIT_OPTS, .resume_path = ckpt, .max_steps = 5);
    cr_assert_not_null(ok, "%s", tensor_last_error());
    assert_same_weights(trained, fresh);

    unlink(ckpt);
    unlink(late);
    free(ckpt);
    free(late);
    free(before);
    nn_history_free(h);
    nn_history_free(hl);
    nn_history_free(ok);
    tensor_free(fewer_x);
    tensor_free(fewer_y);
    nn_model_free(trained);
    nn_model_free(fresh);
    nn_model_free(longer);
    tensor_free(x);
    tensor_free(y);
}

/* Per-step callbacks see every step once, in order, with the model's step count. */
typedef struct StepLog {
    int64_t calls, last_steps;
    int64_t stop_at;
    bool in_order;
} StepLog;

static int log_step(Model *m, const NnBatchLogs *logs, void *user) {
    StepLog *l = user;
    l->calls++;
    if (logs->steps != l->last_steps + 1 || logs->steps != nn_model_steps(m) || logs->step < 1 ||
        logs->step > logs->epoch_steps || !isfinite(logs->loss) || !isfinite(logs->mean_loss) || logs->samples < 1)
        l->in_order = false;
    l->last_steps = logs->steps;
    return l->stop_at && logs->steps >= l->stop_at;
}

Test(resume, max_steps_counts_from_the_original_start_and_batch_callbacks_see_each_step) {
    Tensor *x, *y;
    data(&x, &y);
    Model *full = model();
    NnHistory *hf = nn_fit(full, x, y, FIT_OPTS, .max_steps = 13);
    cr_assert_not_null(hf, "%s", tensor_last_error());

    /* A callback stops the first run after step 6; it resumes to the same 13 steps. */
    char *ckpt = temp_file();
    Model *first = model();
    StepLog log1 = {.stop_at = 6, .in_order = true};
    NnCallback cb1 = {.on_batch_end = log_step, .user = &log1};
    NnHistory *h1 = nn_fit(first, x, y, FIT_OPTS, .max_steps = 13, .checkpoint_path = ckpt, .callbacks = &cb1,
                           .n_callbacks = 1);
    cr_assert_not_null(h1, "%s", tensor_last_error());
    cr_assert_eq(log1.calls, 6);
    cr_assert(log1.in_order);

    Model *second = model();
    StepLog log2 = {.last_steps = 6, .in_order = true};
    NnCallback cb2 = {.on_batch_end = log_step, .user = &log2};
    NnHistory *h2 = nn_fit(second, x, y, FIT_OPTS, .max_steps = 13, .resume_path = ckpt, .callbacks = &cb2,
                           .n_callbacks = 1);
    cr_assert_not_null(h2, "%s", tensor_last_error());
    cr_assert_eq(log2.calls, 7, "steps 7..13");
    cr_assert(log2.in_order);
    assert_same_weights(full, second);
    unlink(ckpt);
    free(ckpt);
    nn_history_free(hf);
    nn_history_free(h1);
    nn_history_free(h2);
    nn_model_free(full);
    nn_model_free(first);
    nn_model_free(second);
    tensor_free(x);
    tensor_free(y);
}

/* Reads a whole file (NULL if missing). */
static char *slurp(const char *path, int64_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)*len + 1);
    cr_assert_eq(fread(buf, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return buf;
}

static int interrupt_at_step_4(Model *m, const NnBatchLogs *logs, void *user) {
    (void)m, (void)user;
    if (logs->steps == 4) raise(SIGTERM); /* acted on after this step */
    return 0;
}

Test(resume, a_signal_without_a_checkpoint_path_writes_to_the_signal_path_only) {
    Tensor *x, *y;
    data(&x, &y);
    char *where = temp_file();
    Model *m = model();
    NnCallback cb = {.on_batch_end = interrupt_at_step_4};
    NnHistory *h = nn_fit(m, x, y, FIT_OPTS, .handle_signals = true, .signal_checkpoint_path = where,
                          .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h, "%s", tensor_last_error());
    cr_assert_eq(h->signal, SIGTERM);
    cr_assert_eq(nn_model_steps(m), 4);
    int64_t len;
    char *file = slurp(where, &len);
    cr_assert_not_null(file, "the signal wrote %s", where);
    free(file);
    /* The checkpoint resumes to the uninterrupted run's weights. */
    Model *full = model(), *resumed = model();
    NnHistory *hf = nn_fit(full, x, y, FIT_OPTS);
    NnHistory *hr = nn_fit(resumed, x, y, FIT_OPTS, .resume_path = where);
    cr_assert_not_null(hr, "%s", tensor_last_error());
    assert_same_weights(full, resumed);
    unlink(where);
    free(where);
    nn_history_free(h);
    nn_history_free(hf);
    nn_history_free(hr);
    nn_model_free(m);
    nn_model_free(full);
    nn_model_free(resumed);
    tensor_free(x);
    tensor_free(y);
}
