/* Resuming with learning-rate schedules and stateful callbacks: a run stopped in the
 * middle of an epoch or at its end and resumed from its checkpoint ends with the
 * weights, history, learning rates, callback states and CSV file of a run never
 * stopped, bit for bit; and version-1 checkpoints (before those states) still resume. */
#include "callback_fixture.h"

#include "nn/io/bytes_internal.h"

#include <math.h>

static double decay_10_percent(int epoch, double lr, void *user) {
    (void)user;
    return epoch ? lr * 0.9 : lr; /* depends on the rate it is given: the checkpoint's */
}

/* Everything one run uses, fresh for each. */
typedef struct Run {
    NnLrScheduler sched;
    NnReduceLrOnPlateau plateau;
    NnEarlyStopping es;
    NnCsvLogger csv;
    NnCallback cbs[4];
    Model *m;
} Run;

static void run_init(Run *r, const char *csv_path) {
    *r = (Run){.sched = {.fn = decay_10_percent},
               .plateau = {.factor = 0.5, .patience = 2, .min_delta = 0.05, .cooldown = 1},
               .es = {.patience = 10, .restore_best_weights = true},
               .csv = {.path = csv_path}};
    r->cbs[0] = nn_lr_scheduler_callback(&r->sched);
    r->cbs[1] = nn_reduce_lr_on_plateau_callback(&r->plateau);
    r->cbs[2] = nn_early_stopping_callback(&r->es);
    r->cbs[3] = nn_csv_logger_callback(&r->csv);
    r->m = fixture_model(nn_sgd(.lr = 2.0f, .momentum = 0.5f));
}

#define OPTS .batch_size = 16, .epochs = 6, .seed = 4, .quiet = true, .validation_split = 0.2f

static void assert_same_runs(const Run *a, const NnHistory *ha, const Run *b, const NnHistory *hb) {
    fixture_assert_same_weights(a->m, b->m);
    cr_assert_eq(ha->epochs, hb->epochs);
    for (int e = 0; e < ha->epochs; e++) {
        cr_assert_eq(ha->loss[e], hb->loss[e], "epoch %d loss", e + 1);
        cr_assert_eq(ha->val_loss[e], hb->val_loss[e], "epoch %d val_loss", e + 1);
        cr_assert_eq(ha->lr[e], hb->lr[e], "epoch %d lr: %g and %g", e + 1, ha->lr[e], hb->lr[e]);
    }
    cr_assert_eq(nn_optimizer_lr(nn_model_optimizer(a->m)), nn_optimizer_lr(nn_model_optimizer(b->m)));
    cr_assert_eq(a->plateau.wait, b->plateau.wait);
    cr_assert_eq(a->plateau.cooldown_counter, b->plateau.cooldown_counter);
    cr_assert_eq(a->plateau.best, b->plateau.best);
    cr_assert_eq(a->es.best_epoch, b->es.best_epoch);
    char *ta = fixture_read(a->csv.path), *tb = fixture_read(b->csv.path);
    cr_assert_str_eq(ta, tb, "the CSV files differ:\n%s\n---\n%s", ta, tb);
    free(ta);
    free(tb);
}

static void resume_after(int64_t max_steps) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    char *csv_full = fixture_temp(), *csv_cut = fixture_temp(), *ckpt = fixture_temp();
    Run full, cut, resumed;
    run_init(&full, csv_full);
    NnHistory *hf = nn_fit(full.m, x, y, OPTS, .callbacks = full.cbs, .n_callbacks = 4);
    cr_assert_not_null(hf, "%s", tensor_last_error());
    /* The run changes the learning rate through both callbacks. */
    cr_assert_lt(hf->lr[5], hf->lr[1] * 0.9 * 0.9 * 0.9 * 0.9 * 0.99, "plateau reduced it too: %g", hf->lr[5]);

    run_init(&cut, csv_cut);
    NnHistory *h1 = nn_fit(cut.m, x, y, OPTS, .callbacks = cut.cbs, .n_callbacks = 4, .max_steps = max_steps,
                           .checkpoint_path = ckpt);
    cr_assert_not_null(h1, "%s", tensor_last_error());
    cr_assert_eq(nn_model_steps(cut.m), max_steps);
    nn_model_free(cut.m);
    run_init(&resumed, csv_cut); /* the same file, continued */
    NnHistory *h2 = nn_fit(resumed.m, x, y, OPTS, .callbacks = resumed.cbs, .n_callbacks = 4, .resume_path = ckpt,
                           .checkpoint_path = ckpt);
    cr_assert_not_null(h2, "%s", tensor_last_error());
    assert_same_runs(&full, hf, &resumed, h2);
    unlink(csv_full), unlink(csv_cut), unlink(ckpt);
    free(csv_full), free(csv_cut), free(ckpt);
    nn_history_free(hf), nn_history_free(h1), nn_history_free(h2);
    nn_model_free(full.m), nn_model_free(resumed.m);
    tensor_free(x), tensor_free(y);
}

/* 56 training samples in batches of 16: 4 steps an epoch. */
Test(resume_callbacks, stopped_mid_epoch_then_resumed_equals_uninterrupted) { resume_after(10); }

Test(resume_callbacks, stopped_at_an_epoch_end_then_resumed_equals_uninterrupted) { resume_after(12); }

Test(resume_callbacks, an_optimizer_schedule_resumes_from_the_step_count) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    NnLrSchedule cosine = {.kind = NN_LR_COSINE, .initial_lr = 0, .warmup_target = 0.02, .warmup_steps = 5,
                           .decay_steps = 10, .alpha = 0.1};
    Model *full = fixture_model(nn_adam());
    cr_assert_eq(nn_optimizer_set_schedule(nn_model_optimizer(full), &cosine), 0);
    NnHistory *hf = nn_fit(full, x, y, OPTS);
    cr_assert_not_null(hf, "%s", tensor_last_error());
    cr_assert_eq(nn_optimizer_lr(nn_model_optimizer(full)), 0.002f, "after 24 steps: the end of the cosine, alpha * 0.02");
    char *ckpt = fixture_temp();
    Model *cut = fixture_model(nn_adam());
    nn_optimizer_set_schedule(nn_model_optimizer(cut), &cosine);
    NnHistory *h1 = nn_fit(cut, x, y, OPTS, .max_steps = 7, .checkpoint_path = ckpt);
    cr_assert_not_null(h1);
    Model *resumed = fixture_model(nn_adam());
    nn_optimizer_set_schedule(nn_model_optimizer(resumed), &cosine);
    NnHistory *h2 = nn_fit(resumed, x, y, OPTS, .resume_path = ckpt);
    cr_assert_not_null(h2, "%s", tensor_last_error());
    fixture_assert_same_weights(full, resumed);
    for (int e = 0; e < 6; e++) cr_assert_eq(hf->lr[e], h2->lr[e], "epoch %d", e + 1);
    unlink(ckpt);
    free(ckpt);
    nn_history_free(hf), nn_history_free(h1), nn_history_free(h2);
    nn_model_free(full), nn_model_free(cut), nn_model_free(resumed);
    tensor_free(x), tensor_free(y);
}

/* Rewrites a checkpoint without finished epochs or callback states as the version-1
 * file an older lamina wrote: no architecture (version 3's section after the tensor
 * count), no learning rate, no callback states. */
static void make_version_1(const char *path) {
    FILE *f = fopen(path, "rb");
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_eq(nn__le32(buf + 8), 3u, "written as version 3");
    cr_assert_eq(nn__le32(buf + 12), 7u, "with optimizer, training state and architecture");
    size_t arch = 4 + nn__le32(buf + 20); /* its length and text, after magic, version, flags, count */
    memmove(buf + 20, buf + 20 + arch, n - 20 - arch);
    n -= arch;
    nn__store_le32(buf + 12, 3u);
    size_t body = n - 4 - 8 - 4; /* without the learning rate, the state count and the CRC */
    cr_assert_eq(nn__le32(buf + n - 8), 0u, "no callback states");
    nn__store_le32(buf + 8, 1u);
    nn__store_le32(buf + body, nn__crc32(0, buf, body));
    f = fopen(path, "wb");
    fwrite(buf, 1, body + 4, f);
    fclose(f);
}

Test(resume_callbacks, a_version_1_checkpoint_still_resumes) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *full = fixture_model(NULL);
    NnHistory *hf = nn_fit(full, x, y, OPTS);
    cr_assert_not_null(hf);
    char *ckpt = fixture_temp();
    Model *cut = fixture_model(NULL);
    NnHistory *h1 = nn_fit(cut, x, y, OPTS, .max_steps = 3, .checkpoint_path = ckpt);
    cr_assert_not_null(h1);
    make_version_1(ckpt);
    Model *resumed = fixture_model(NULL);
    NnHistory *h2 = nn_fit(resumed, x, y, OPTS, .resume_path = ckpt);
    cr_assert_not_null(h2, "%s", tensor_last_error());
    fixture_assert_same_weights(full, resumed);
    unlink(ckpt);
    free(ckpt);
    nn_history_free(hf), nn_history_free(h1), nn_history_free(h2);
    nn_model_free(full), nn_model_free(cut), nn_model_free(resumed);
    tensor_free(x), tensor_free(y);
}

/* Where `name`'s state starts in a checkpoint: after its name and its u64 length. */
static size_t state_at(const unsigned char *f, size_t n, const char *name) {
    size_t len = strlen(name);
    for (size_t i = 4; i + len <= n; i++)
        if (nn__le32(f + i - 4) == len && memcmp(f + i, name, len) == 0) return i + len + 8;
    cr_assert_fail("no %s state in the checkpoint", name);
    return 0;
}

static void expect_refused(const char *path, const unsigned char *f, size_t n, const char *why, Tensor *x,
                           Tensor *y) {
    unsigned char *copy = malloc(n);
    memcpy(copy, f, n);
    nn__store_le32(copy + n - 4, nn__crc32(0, copy, n - 4));
    FILE *out = fopen(path, "wb");
    fwrite(copy, 1, n, out);
    fclose(out);
    free(copy);
    Run r;
    run_init(&r, "/tmp/lamina-callbacks-unused.csv");
    cr_assert_eq(nn_build(r.m, NN_SHAPE(TENSOR_I32, 8)), 0);
    float *before = fixture_weights(r.m);
    cr_expect_null(nn_fit(r.m, x, y, OPTS, .callbacks = r.cbs, .n_callbacks = 4, .resume_path = path), "%s", why);
    cr_expect(strstr(tensor_last_error(), why) != NULL, "wanted '%s', got: %s", why, tensor_last_error());
    cr_expect_eq(memcmp(before, r.m->param_buf, (size_t)r.m->n_floats * sizeof(float)), 0, "the model changed");
    cr_expect_eq(nn_model_steps(r.m), 0);
    free(before);
    nn_model_free(r.m);
}

Test(resume_callbacks, damaged_states_are_refused_before_the_model_changes) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    char *ckpt = fixture_temp();
    Run r;
    run_init(&r, "/tmp/lamina-callbacks-unused.csv");
    NnHistory *h = nn_fit(r.m, x, y, OPTS, .callbacks = r.cbs, .n_callbacks = 4, .max_steps = 6,
                          .checkpoint_path = ckpt);
    cr_assert_not_null(h, "%s", tensor_last_error());
    static unsigned char good[1 << 16], f[1 << 16];
    FILE *in = fopen(ckpt, "rb");
    size_t n = fread(good, 1, sizeof good, in);
    fclose(in);
    size_t plateau = state_at(good, n, "ReduceLROnPlateau"), es = state_at(good, n, "EarlyStopping");

    memcpy(f, good, n);
    nn__store_le64(f + plateau + 8, (uint64_t)-1); /* wait */
    expect_refused(ckpt, f, n, "ReduceLROnPlateau: the checkpoint's state is invalid", x, y);
    memcpy(f, good, n);
    nn__store_le64(f + es + 24, (uint64_t)(r.m->n_floats + 1)); /* the best weights' count */
    expect_refused(ckpt, f, n, "EarlyStopping: the checkpoint's state does not fit this model", x, y);
    memcpy(f, good, n);
    nn__store_le64(f + plateau - 8, 1u << 30); /* a state longer than the file */
    expect_refused(ckpt, f, n, "callback state 'ReduceLROnPlateau' is truncated", x, y);
    /* The learning rate: 8 bytes before the one history entry's rate and the state count. */
    size_t count_at = plateau - 8 - strlen("ReduceLROnPlateau") - 4 - 4;
    cr_assert_eq(nn__le32(good + count_at), 3u, "three callback states: %u", nn__le32(good + count_at));
    memcpy(f, good, n);
    double bad = -1;
    memcpy(f + count_at - 16, &bad, 8);
    expect_refused(ckpt, f, n, "learning rate -1", x, y);
    /* Rates no float holds: fit would hand 0 or inf to the optimizer (found by fuzzing). */
    double unfit[] = {1e-300, 1e39, NAN};
    const char *said[] = {"learning rate 1e-300", "learning rate 1e+39", "learning rate nan"};
    for (int k = 0; k < 3; k++) {
        memcpy(f, good, n);
        memcpy(f + count_at - 16, &unfit[k], 8);
        expect_refused(ckpt, f, n, said[k], x, y);
    }
    memcpy(f, good, n);
    nn__store_le32(f + count_at, 100000);
    expect_refused(ckpt, f, n, "100000 callback states", x, y);
    unlink(ckpt);
    free(ckpt);
    nn_history_free(h);
    nn_model_free(r.m);
    unlink("/tmp/lamina-callbacks-unused.csv");
    tensor_free(x), tensor_free(y);
}
