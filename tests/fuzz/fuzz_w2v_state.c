/* libFuzzer harness for word2vec's training-state reader (nn_w2v_load_state, what
 * `word2vec --resume FILE` reads) on a model over a small fixed corpus with 2 threads.
 * Byte 0 is the mode: bit 0 repairs the trailing checksum so mutations reach the
 * fields behind it, bit 1 continues training after a load that succeeded. Checked
 * besides "no crash": a refused load names why and leaves both tables unchanged, and a
 * continued run ends (no hang). With LAMINA_FUZZ_WRITE_SEEDS=DIR it
 * writes valid state files there and exits. */
#include "nn/nn.h"

#include "fuzz_util.h"

#include <stdbool.h>

#define FIX_CHECKSUM 1
#define CONTINUE 2

static NnW2vCorpus *g_corpus;

static void make_corpus(void) {
    static const char *const words[] = {"the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away"};
    g_corpus = nn_w2v_corpus_new();
    char line[256];
    uint32_t x = 12345;
    for (int s = 0; s < 40; s++) {
        int n = 0;
        for (int w = 0; w < 6 + s % 5; w++) {
            x = x * 1664525u + 1013904223u;
            n += snprintf(line + n, sizeof line - (size_t)n, "%s ", words[(x >> 24) % 10]);
        }
        line[n - 1] = '\n';
        nn_w2v_corpus_add(g_corpus, line, n);
    }
    if (nn_w2v_corpus_finish(g_corpus, 1) != 0) abort();
}

static NnWord2Vec *new_model(const NnW2vOpts *extra) {
    NnW2vOpts o = extra ? *extra : (NnW2vOpts){0};
    o.dim = 4, o.iter = 2, o.threads = 2, o.batch_words = 20, o.seed = 3;
    NnWord2Vec *m = nn_w2v_new(g_corpus, &o);
    if (!m) {
        fprintf(stderr, "fuzz_w2v_state: cannot make the model: %s\n", tensor_last_error());
        abort();
    }
    return m;
}

/* ---- seeds ---- */

static const char *g_seed_dir;
static int g_checkpoints;

/* Saves a seed at the second checkpoint and stops there (mid-run). */
static int save_and_stop(NnWord2Vec *m, void *user) {
    (void)user;
    if (++g_checkpoints < 2) return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/mid_run", g_seed_dir);
    return nn_w2v_save_state(m, path) == 0 ? 1 : -1;
}

static void write_seed_file(const char *name, const char *from, unsigned mode) {
    int64_t n;
    char *s = nn_read_file(from, &n);
    if (!s) abort();
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_seed_dir, name);
    unsigned char *buf = malloc((size_t)n + 1);
    buf[0] = (unsigned char)mode;
    memcpy(buf + 1, s, (size_t)n);
    fuzz_write(path, buf, (size_t)n + 1);
    free(buf);
    free(s);
}

static void write_seeds(const char *dir) {
    g_seed_dir = dir;
    char raw[4096];
    snprintf(raw, sizeof raw, "%s/mid_run", dir);
    NnWord2Vec *m = new_model(&(NnW2vOpts){.checkpoint_words = 60, .on_checkpoint = save_and_stop});
    nn_w2v_train(m, NULL); /* stops at the second checkpoint with mid_run written */
    nn_w2v_free(m);
    write_seed_file("state_mid_run", raw, CONTINUE);
    write_seed_file("state_mid_run_fixed", raw, CONTINUE | FIX_CHECKSUM);
    m = new_model(NULL);
    if (nn_w2v_save_state(m, raw) != 0) abort(); /* before any training */
    write_seed_file("state_untrained", raw, CONTINUE);
    if (nn_w2v_train(m, NULL) != 0 || nn_w2v_save_state(m, raw) != 0) abort(); /* finished */
    write_seed_file("state_finished", raw, CONTINUE | FIX_CHECKSUM);
    nn_w2v_free(m);
    unlink(raw);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    make_corpus();
    const char *dir = getenv("LAMINA_FUZZ_WRITE_SEEDS");
    if (dir && *dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}

/* ---- one input ---- */

/* The state file's checksum: FNV-1a 64 over every byte before the last 8. */
static void fix_checksum(unsigned char *f, size_t len) {
    if (len < 8) return;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < len - 8; i++) h = (h ^ f[i]) * 0x100000001B3ull;
    memcpy(f + len - 8, &h, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const unsigned mode = data[0];
    unsigned char *file = malloc(size);
    memcpy(file, data + 1, size - 1);
    if (mode & FIX_CHECKSUM) fix_checksum(file, size - 1);
    const char *path = fuzz_path("w2v-state");
    fuzz_write(path, file, size - 1);
    free(file);

    NnWord2Vec *m = new_model(NULL);
    Tensor *in = nn_w2v_input_table(m), *out = nn_w2v_output_table(m);
    const size_t bytes = (size_t)in->size * sizeof(float);
    float *before = malloc(2 * bytes);
    memcpy(before, tensor_f32(in), bytes);
    memcpy((char *)before + bytes, tensor_f32(out), bytes);
    tensor_clear_error();
    if (nn_w2v_load_state(m, path) != 0) {
        if (!tensor_last_error()[0]) {
            fprintf(stderr, "fuzz_w2v_state: a refused load gave no reason\n");
            abort();
        }
        if (memcmp(before, tensor_f32(in), bytes) != 0 || memcmp((char *)before + bytes, tensor_f32(out), bytes) != 0) {
            fprintf(stderr, "fuzz_w2v_state: a refused load changed the tables\n");
            abort();
        }
    } else if (mode & CONTINUE) {
        /* Any values a file with a right checksum holds: training from them must end
         * (libFuzzer's -timeout catches a hang) or refuse, never crash. */
        nn_w2v_train(m, NULL);
    }
    free(before);
    nn_w2v_free(m);
    return 0;
}
