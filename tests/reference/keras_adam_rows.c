/* lamina's half of the Keras Adam comparison (keras_adam_rows.py): trains the sonnets
 * character model from Keras's initial weights on Keras's batches, once under each
 * embedding rule of Adam (both with Keras's epsilon, epsilon_hat), and prints the
 * val_loss of both as one JSON line.
 *
 * usage: keras_adam_rows WORK_DIR UPDATES
 * WORK_DIR holds init.npz (the weights, lamina's names), train.i32 and val.i32 (the
 * symbol streams) and batches.i32 (UPDATES x 128 window starts), little-endian int32. */
#include <lamina/nn/nn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T = 40, B = 128, V = 27 };

/* The int32 file WORK_DIR/name, its element count in *n; NULL after saying why. */
static int32_t *read_ids(const char *dir, const char *name, int64_t *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        fprintf(stderr, "keras_adam_rows: cannot read %s\n", path);
        if (f) fclose(f);
        return NULL;
    }
    long bytes = ftell(f);
    rewind(f);
    int32_t *ids = malloc((size_t)bytes + 1);
    *n = bytes / 4;
    if (!ids || fread(ids, 4, (size_t)*n, f) != (size_t)*n) {
        fprintf(stderr, "keras_adam_rows: short read of %s\n", path);
        free(ids);
        ids = NULL;
    }
    fclose(f);
    return ids;
}

/* Windows s[i .. i + T) as x and s[i + 1 .. i + T + 1) as y, one per start. */
static void windows(const int32_t *s, const int32_t *starts, int64_t count, Tensor **x, Tensor **y) {
    *x = tensor_i32_zeros(NULL, 2, (int64_t[]){count, T});
    *y = tensor_i32_zeros(NULL, 2, (int64_t[]){count, T});
    for (int64_t r = 0; r < count; r++) {
        memcpy(tensor_i32(*x) + r * T, s + starts[r], T * sizeof(int32_t));
        memcpy(tensor_i32(*y) + r * T, s + starts[r] + 1, T * sizeof(int32_t));
    }
}

typedef struct Run {
    const char *dir;
    const int32_t *train, *batches;
    int64_t updates;
    Tensor *vx, *vy;
} Run;

/* val_loss after the run's updates under one rule, or -1 after saying why. */
static double train_with(const Run *run, NnAdamRows rows) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = V, .dim = 64));
    nn_add(m, nn_lstm(.units = 256, .return_sequences = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = V, .activation = NN_SOFTMAX)));
    char init[4096];
    snprintf(init, sizeof init, "%s/init.npz", run->dir);
    double loss = -1;
    if (nn_build(m, NN_SHAPE(TENSOR_I32, -1)) != 0 || nn_load_npz(m, init) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY,
                   .optimizer = nn_adam(.lr = 1e-3f, .embedding_rows = rows, .epsilon_hat = true)) != 0) {
        fprintf(stderr, "keras_adam_rows: %s\n", tensor_last_error());
        nn_model_free(m);
        return -1;
    }
    for (int64_t u = 0; u < run->updates; u++) {
        Tensor *x, *y;
        windows(run->train, run->batches + u * B, B, &x, &y);
        int rc = nn_train_on_batch(m, x, y, NULL);
        tensor_free(x);
        tensor_free(y);
        if (rc != 0) {
            fprintf(stderr, "keras_adam_rows: update %lld: %s\n", (long long)u + 1, tensor_last_error());
            nn_model_free(m);
            return -1;
        }
    }
    if (nn_evaluate(m, run->vx, run->vy, 1024, &loss, NULL) != 0) {
        fprintf(stderr, "keras_adam_rows: %s\n", tensor_last_error());
        loss = -1;
    }
    nn_model_free(m);
    return loss;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: keras_adam_rows WORK_DIR UPDATES\n");
        return 2;
    }
    Run run = {.dir = argv[1], .updates = atoll(argv[2])};
    int64_t n_train, n_val, n_batches;
    int32_t *train = read_ids(run.dir, "train.i32", &n_train), *val = read_ids(run.dir, "val.i32", &n_val);
    int32_t *batches = read_ids(run.dir, "batches.i32", &n_batches);
    int status = 1;
    if (train && val && batches && n_batches == run.updates * B) {
        int64_t count = 0;
        int32_t *vstarts = malloc((size_t)(n_val / T + 1) * sizeof(int32_t));
        for (int64_t i = 0; i < n_val - T - 1; i += T) vstarts[count++] = (int32_t)i; /* Keras's windows */
        windows(val, vstarts, count, &run.vx, &run.vy);
        run.train = train;
        run.batches = batches;
        double summed = train_with(&run, NN_ADAM_ROWS_SUMMED), per_lookup = train_with(&run, NN_ADAM_ROWS_PER_LOOKUP);
        if (summed >= 0 && per_lookup >= 0) {
            printf("{\"summed\": %.6f, \"per_lookup\": %.6f}\n", summed, per_lookup);
            status = 0;
        }
        free(vstarts);
        tensor_free(run.vx);
        tensor_free(run.vy);
    } else if (batches) {
        fprintf(stderr, "keras_adam_rows: batches.i32 holds %lld starts, not %lld\n", (long long)n_batches,
                (long long)(run.updates * B));
    }
    free(train);
    free(val);
    free(batches);
    return status;
}
