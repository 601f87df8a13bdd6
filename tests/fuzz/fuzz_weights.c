/* libFuzzer harness for the weight loaders on a small fixed model: nn_load_weights,
 * the checkpoint loader behind fit's resume_path (optionally with the resumed fit),
 * nn_load_npz and nn_npz_open, and nn_load_model, which builds a model from the file
 * alone. Byte 0 picks the path, the rest is the file. Checked besides "no crash": a
 * refused load names why and changes no parameter; a loaded model file describes its
 * model again in text that parses. With LAMINA_FUZZ_WRITE_SEEDS=DIR it writes valid
 * seeds there and exits. */
#include "nn/nn.h"
#include "nn/model/model_internal.h"
#include "nn/io/model_text_internal.h"
#include "nn/io/npz.h"

#include "nn/io/bytes_internal.h"
#include "fuzz_util.h"

#include <stdbool.h>

/* Mode byte: bits 0-1 the loader, bit 2 repair checksums, bit 3 (checkpoints) fit,
 * bit 4 nn_load_model instead of the loader (the file is a weights file). */
enum { LOAD_WEIGHTS = 0, LOAD_CHECKPOINT = 1, LOAD_NPZ = 2, OPEN_NPZ = 3 };
#define FIX_CRC 4
#define RESUME_FIT 8
#define LOAD_MODEL 16

static Model *fixed_model(void) {
    Model *m = nn_sequential();
    nn_model_seed(m, 7);
    nn_add(m, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(m, nn_lstm(.units = 4));
    nn_add(m, nn_dense(.units = 5, .activation = NN_SOFTMAX));
    if (nn_build(m, NN_SHAPE(TENSOR_I32, 3)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .accuracy = true) != 0) {
        fprintf(stderr, "fuzz_weights: cannot build the model: %s\n", tensor_last_error());
        abort();
    }
    return m;
}

static Tensor *g_x, *g_y; /* 4 samples of 3 ids, and their targets */

static void make_data(void) {
    g_x = tensor_i32_zeros(NULL, TENSOR_SHAPE(4, 3));
    g_y = tensor_i32_zeros(NULL, TENSOR_SHAPE(4));
    for (int i = 0; i < 12; i++) tensor_i32(g_x)[i] = (i * 3) % 5;
    for (int i = 0; i < 4; i++) tensor_i32(g_y)[i] = i % 5;
}

/* With the callbacks that keep state in checkpoints (version 2), so their states are
 * in the seeds and their loaders are fuzzed too. */
static NnHistory *resume(Model *m, const char *resume_path, const char *checkpoint_path, int64_t max_steps) {
    NnReduceLrOnPlateau plateau = {.patience = 1, .monitor = "loss"};
    NnEarlyStopping es = {.patience = 5, .restore_best_weights = true};
    NnCallback cbs[] = {nn_reduce_lr_on_plateau_callback(&plateau), nn_early_stopping_callback(&es)};
    return nn_fit(m, g_x, g_y, .batch_size = 2, .epochs = 2, .seed = 3, .quiet = true, .resume_path = resume_path,
                  .checkpoint_path = checkpoint_path, .max_steps = max_steps, .callbacks = cbs, .n_callbacks = 2);
}

/* Sets every member's CRC-32 (local and central headers) to that of its bytes, where
 * the headers are in bounds, so mutations reach the .npy parser. */
static void fix_npz_crcs(unsigned char *f, size_t len) {
    for (size_t c = 0; c + 46 <= len; c++) {
        if (memcmp(f + c, "PK\1\2", 4) != 0) continue;
        uint32_t size = (uint32_t)f[c + 20] | (uint32_t)f[c + 21] << 8 | (uint32_t)f[c + 22] << 16 |
                        (uint32_t)f[c + 23] << 24;
        size_t loc = (size_t)f[c + 42] | (size_t)f[c + 43] << 8 | (size_t)f[c + 44] << 16 | (size_t)f[c + 45] << 24;
        if (loc + 30 > len) continue;
        size_t data = loc + 30 + (f[loc + 26] | f[loc + 27] << 8) + (f[loc + 28] | f[loc + 29] << 8);
        if (data > len || size > len - data) continue;
        uint32_t crc = nn__crc32(0, f + data, size);
        for (int k = 0; k < 4; k++) f[c + 16 + k] = f[loc + 14 + k] = (unsigned char)(crc >> (8 * k));
    }
}

/* ---- seeds ---- */

static unsigned char *slurp(const char *path, size_t *len) {
    int64_t n;
    char *s = nn_read_file(path, &n);
    if (!s) {
        fprintf(stderr, "fuzz_weights: %s\n", tensor_last_error());
        abort();
    }
    *len = (size_t)n;
    return (unsigned char *)s;
}

static void seed(const char *dir, const char *name, unsigned mode, const unsigned char *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char *buf = malloc(n + 1);
    buf[0] = (unsigned char)mode;
    if (n) memcpy(buf + 1, p, n);
    fuzz_write(path, buf, n + 1);
    free(buf);
}

/* One library-written file as three seeds: raw, with its checksum repaired by the
 * harness (weights: the body without its CRC), and the same with the extra flag. */
static void seed_file(const char *dir, const char *name, unsigned mode, const char *file, unsigned extra) {
    size_t n;
    unsigned char *p = slurp(file, &n);
    char nm[256];
    snprintf(nm, sizeof nm, "%s_raw", name);
    seed(dir, nm, mode | extra, p, n);
    snprintf(nm, sizeof nm, "%s_fixed", name);
    bool weights = mode == LOAD_WEIGHTS || mode == LOAD_CHECKPOINT;
    seed(dir, nm, mode | FIX_CRC | extra, p, weights && n >= 4 ? n - 4 : n);
    free(p);
}

static void write_seeds(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/.tmp-model", dir);
    Model *m = fixed_model();
    if (nn_save_weights(m, tmp, false) != 0) abort();
    seed_file(dir, "weights", LOAD_WEIGHTS, tmp, 0);
    if (nn_save_weights(m, tmp, true) != 0) abort();
    seed_file(dir, "weights_adam", LOAD_WEIGHTS, tmp, 0);
    if (nn_save_npz(m, tmp) != 0) abort();
    seed_file(dir, "npz", LOAD_NPZ, tmp, 0);
    seed_file(dir, "npz_open", OPEN_NPZ, tmp, 0);
    /* Checkpoints from a real fit: mid-epoch, and at the end of the run. */
    NnHistory *h = resume(m, NULL, tmp, 1);
    if (!h) abort();
    nn_history_free(h);
    seed_file(dir, "ckpt_step1", LOAD_CHECKPOINT, tmp, RESUME_FIT);
    seed_file(dir, "ckpt_step1_load_only", LOAD_CHECKPOINT, tmp, 0);
    h = resume(m, tmp, tmp, 0);
    if (!h) abort();
    nn_history_free(h);
    seed_file(dir, "ckpt_done", LOAD_CHECKPOINT, tmp, RESUME_FIT);
    /* Whole-model files: the fixed model with Adam's state, and wrappers with SGD on a
     * schedule (every layer type's options and the nesting in the text). */
    if (nn_save_model(m, tmp, true) != 0) abort();
    seed_file(dir, "model", LOAD_WEIGHTS, tmp, LOAD_MODEL);
    Model *w = nn_sequential();
    nn_add(w, nn_embedding(.vocab = 5, .dim = 3));
    nn_add(w, nn_bidirectional(nn_gru(.units = 2, .return_sequences = true)));
    nn_add(w, nn_dropout(.rate = 0.5f));
    nn_add(w, nn_time_distributed(nn_dense(.units = 5, .activation = NN_SOFTMAX)));
    Optimizer *sgd = nn_sgd(.lr = 0.1f, .momentum = 0.9f);
    if (nn_optimizer_set_schedule(sgd, &(NnLrSchedule){.kind = NN_LR_STEP, .initial_lr = 0.1, .decay_steps = 2,
                                                       .decay_rate = 0.5}) != 0 ||
        nn_build(w, NN_SHAPE(TENSOR_I32, -1)) != 0 ||
        nn_compile(w, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = sgd, .clipnorm = 1) != 0 ||
        nn_save_model(w, tmp, true) != 0)
        abort();
    seed_file(dir, "model_wrappers", LOAD_WEIGHTS, tmp, LOAD_MODEL);
    nn_model_free(w);
    unlink(tmp);
    nn_model_free(m);
    seed(dir, "empty_weights", LOAD_WEIGHTS, NULL, 0);
    seed(dir, "empty_npz", LOAD_NPZ, NULL, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    make_data();
    const char *dir = getenv("LAMINA_FUZZ_WRITE_SEEDS");
    if (dir && *dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}

/* ---- one input ---- */

/* nn_load_model; a model it loads must describe itself again in text that parses. */
static int load_model(const char *path) {
    Model *m = nn_load_model(path);
    if (!m) return -1;
    char *text = nn_model_to_text(m);
    FUZZ_ASSERT(text != NULL, "a loaded model cannot describe itself: %s", tensor_last_error());
    NnModelText *t = malloc(sizeof *t);
    FUZZ_ASSERT(nn__model_text_parse(text, path, t) == 0, "its own text does not parse: %s\n%s",
                tensor_last_error(), text);
    FILE *null = fopen("/dev/null", "w");
    if (null) nn_summary(m, null), fclose(null);
    free(t);
    free(text);
    nn_model_free(m);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned mode = data[0];
    const char *path = fuzz_path("weights");
    size_t n = size - 1;
    unsigned char *file = malloc(n + 4);
    if (n) memcpy(file, data + 1, n);
    unsigned loader = mode & 3;
    if ((mode & FIX_CRC) && (loader == LOAD_WEIGHTS || loader == LOAD_CHECKPOINT)) {
        uint32_t crc = nn__crc32(0, file, n); /* the harness appends the checksum */
        memcpy(file + n, &crc, 4);
        n += 4;
    } else if (mode & FIX_CRC) {
        fix_npz_crcs(file, n);
    }
    fuzz_write(path, file, n);
    free(file);

    Model *m = fixed_model();
    int count;
    Tensor *const *params = nn_model_params(m, &count);
    int64_t total = 0;
    for (int i = 0; i < count; i++) total += params[i]->size;
    float *before = malloc((size_t)total * sizeof(float) + 1);
    for (int i = 0, at = 0; i < count; at += (int)params[i]->size, i++)
        memcpy(before + at, params[i]->data, (size_t)params[i]->size * sizeof(float));
    int64_t steps_before = nn_model_steps(m);

    int rc = 0;
    bool check_unchanged = true;
    tensor_clear_error();
    if (mode & LOAD_MODEL) {
        rc = load_model(path);
    } else if (loader == LOAD_WEIGHTS) {
        rc = nn_load_weights(m, path);
    } else if (loader == LOAD_CHECKPOINT && (mode & RESUME_FIT)) {
        NnHistory *h = resume(m, path, NULL, 0);
        rc = h ? 0 : -1;
        nn_history_free(h);
        check_unchanged = false; /* fit may refuse after loading (different data) */
    } else if (loader == LOAD_CHECKPOINT) {
        NnTrainState st;
        rc = nn__load_checkpoint(m, path, &st);
        if (rc == 0) nn__train_state_free(&st);
    } else if (loader == LOAD_NPZ) {
        rc = nn_load_npz(m, path);
    } else {
        NnNpz *z = nn_npz_open(path);
        rc = z ? 0 : -1;
        if (z) {
            int k = nn_npz_count(z);
            FUZZ_ASSERT(k >= 0, "count %d", k);
            for (int i = 0; i < k; i++) {
                const char *name = nn_npz_name(z, i);
                FUZZ_ASSERT(nn_npz_find(z, name) == i, "'%s' is array %d but found at %d", name, i,
                            nn_npz_find(z, name));
                Tensor *t = nn_npz_get(z, name, NULL);
                FUZZ_ASSERT(t != NULL, "get '%s': %s", name, tensor_last_error());
                tensor_free(t);
            }
            nn_npz_read_into(z, count, params, true);
            nn_npz_close(z);
        }
        check_unchanged = false;
    }
    if (rc != 0) {
        const char *err = tensor_last_error();
        FUZZ_ASSERT(err && *err, "a refused load set no error (mode %u)", mode);
    }
    if (rc != 0 && check_unchanged) {
        for (int i = 0, at = 0; i < count; at += (int)params[i]->size, i++)
            FUZZ_ASSERT(memcmp(before + at, params[i]->data, (size_t)params[i]->size * sizeof(float)) == 0,
                        "refused load changed '%s'", params[i]->name);
        FUZZ_ASSERT(nn_model_steps(m) == steps_before, "refused load changed the step count");
    }
    free(before);
    nn_model_free(m);
    return 0;
}
