/* word2vec with several threads: the same seed and thread count give bit-identical
 * tables (a different seed different ones), a run stopped between rounds and resumed
 * from its state file ends bit-identical to one never stopped, the stop flag alone
 * (no file) continues the same way, state files refuse other settings and damage,
 * and Hogwild runs still learn but refuse checkpoints. */
#include "helpers.h"
#include "nn/text/text.h"
#include "nn/word2vec/word2vec.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* 600 sentences of 8 to 19 words over 40 words of skewed frequency, so that the
 * threads touch many of the same rows in every round. */
static NnW2vCorpus *skewed_corpus(void) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    Rng rng;
    tensor_rng_seed(&rng, 11, 0);
    char line[512];
    for (int s = 0; s < 600; s++) {
        int n = 0, words = 8 + (int)tensor_rng_below(&rng, 12);
        for (int w = 0; w < words; w++) {
            uint32_t a = tensor_rng_below(&rng, 40), b = tensor_rng_below(&rng, 40);
            uint32_t id = a < b ? a : b; /* low ids are frequent */
            n += snprintf(line + n, sizeof line - (size_t)n, "w%c%c ", 'a' + id / 10, 'a' + id % 10);
        }
        line[n - 1] = '\n';
        nn_w2v_corpus_add(c, line, n);
    }
    cr_assert_eq(nn_w2v_corpus_finish(c, 1), 0);
    return c;
}

/* The options of these tests: 12 dimensions and 2 threads unless OPTS_TD names others. */
#define OPTS_TD(t, d, ...) \
    (&(NnW2vOpts){.dim = d, .iter = 3, .threads = t, .batch_words = 300, .sample = 0.05, __VA_ARGS__})
#define OPTS(...) OPTS_TD(2, 12, __VA_ARGS__)

/* Both tables after training, in one heap buffer (input rows, then output rows). */
static float *train_tables(const NnW2vCorpus *c, const NnW2vOpts *o, NnW2vStats *stats) {
    NnWord2Vec *m = nn_w2v_new(c, o);
    cr_assert_not_null(m, "%s", tensor_last_error());
    cr_assert_eq(nn_w2v_train(m, stats), 0, "%s", tensor_last_error());
    const Tensor *in = nn_w2v_input_table(m), *out = nn_w2v_output_table(m);
    float *both = malloc(2 * (size_t)in->size * sizeof *both);
    memcpy(both, tensor_f32(in), (size_t)in->size * sizeof(float));
    memcpy(both + in->size, tensor_f32(out), (size_t)out->size * sizeof(float));
    nn_w2v_free(m);
    return both;
}

static size_t table_bytes(const NnW2vCorpus *c, int64_t dim) {
    return 2 * (size_t)(nn_w2v_corpus_vocab_size(c) * dim) * sizeof(float);
}

Test(word2vec_threads, same_seed_same_threads_bit_identical) {
    NnW2vCorpus *c = skewed_corpus();
    NnW2vStats s1, s2;
    float *a = train_tables(c, OPTS(.seed = 4), &s1), *b = train_tables(c, OPTS(.seed = 4), &s2),
          *other = train_tables(c, OPTS(.seed = 5), NULL);
    cr_assert(memcmp(a, b, table_bytes(c, 12)) == 0, "two 2-thread runs with seed 4 differ");
    cr_assert(memcmp(a, other, table_bytes(c, 12)) != 0, "seeds 4 and 5 gave the same tables");
    cr_assert_eq(s1.pairs, s2.pairs);
    cr_assert_eq(s1.loss, s2.loss);
    cr_assert_eq(s1.words, 3 * nn_w2v_corpus_raw_words(c));
    /* Three threads: deterministic too, and another partition of the work. */
    float *t3a = train_tables(c, OPTS_TD(3, 12, .seed = 4), NULL),
          *t3b = train_tables(c, OPTS_TD(3, 12, .seed = 4), NULL);
    cr_assert(memcmp(t3a, t3b, table_bytes(c, 12)) == 0, "two 3-thread runs with seed 4 differ");
    cr_assert(memcmp(a, t3a, table_bytes(c, 12)) != 0, "2 and 3 threads gave the same tables");
    free(a);
    free(b);
    free(other);
    free(t3a);
    free(t3b);
    nn_w2v_corpus_free(c);
}

typedef struct Checkpointing {
    const char *path;
    volatile sig_atomic_t stop;
    int calls, stop_at; /* raise the stop flag at this call */
} Checkpointing;

static int save_and_maybe_stop(NnWord2Vec *m, void *user) {
    Checkpointing *ck = user;
    if (++ck->calls == ck->stop_at) {
        cr_assert_eq(nn_w2v_save_state(m, ck->path), 0, "%s", tensor_last_error());
        ck->stop = 1;
    }
    return 0;
}

static void temp_path(char *buf, size_t cap) {
    snprintf(buf, cap, "/tmp/lamina_w2v_state_%d_XXXXXX", (int)getpid());
    int fd = mkstemp(buf);
    cr_assert(fd >= 0);
    close(fd);
}

Test(word2vec_threads, stopped_and_resumed_run_ends_bit_identical) {
    NnW2vCorpus *c = skewed_corpus();
    float *whole = train_tables(c, OPTS(.seed = 9), NULL);
    char path[128];
    temp_path(path, sizeof path);
    for (int stop_at = 1; stop_at <= 3; stop_at += 2) { /* early in the first epoch, and in a later one */
        Checkpointing ck = {.path = path, .stop_at = stop_at};
        int64_t every = nn_w2v_corpus_raw_words(c) / 2;
        NnWord2Vec *m = nn_w2v_new(c, OPTS(.seed = 9, .checkpoint_words = every, .on_checkpoint = save_and_maybe_stop,
                                           .stop = &ck.stop, .user = &ck));
        NnW2vStats first, rest;
        cr_assert_eq(nn_w2v_train(m, &first), 1, "the stop flag did not end training early");
        cr_assert(first.words >= stop_at * every && first.words < 3 * nn_w2v_corpus_raw_words(c), "%lld words",
                  (long long)first.words);
        nn_w2v_free(m);

        NnWord2Vec *resumed = nn_w2v_new(c, OPTS(.seed = 9));
        cr_assert_eq(nn_w2v_load_state(resumed, path), 0, "%s", tensor_last_error());
        cr_assert_eq(nn_w2v_train(resumed, &rest), 0);
        cr_assert_eq(first.words + rest.words, 3 * nn_w2v_corpus_raw_words(c));
        const Tensor *in = nn_w2v_input_table(resumed), *out = nn_w2v_output_table(resumed);
        cr_assert(memcmp(whole, tensor_f32(in), (size_t)in->size * sizeof(float)) == 0,
                  "stopped at checkpoint %d: resumed input vectors differ", stop_at);
        cr_assert(memcmp(whole + in->size, tensor_f32(out), (size_t)out->size * sizeof(float)) == 0,
                  "stopped at checkpoint %d: resumed output vectors differ", stop_at);
        nn_w2v_free(resumed);
    }
    unlink(path);
    free(whole);
    nn_w2v_corpus_free(c);
}

Test(word2vec_threads, stop_flag_then_train_again_continues) {
    NnW2vCorpus *c = skewed_corpus();
    float *whole = train_tables(c, OPTS(.seed = 2), NULL);
    volatile sig_atomic_t stop = 1; /* raised before the start: one round, then stop */
    NnWord2Vec *m = nn_w2v_new(c, OPTS(.seed = 2, .stop = &stop));
    NnW2vStats st;
    cr_assert_eq(nn_w2v_train(m, &st), 1);
    cr_assert(st.words > 0 && st.words < nn_w2v_corpus_raw_words(c), "%lld words in one round", (long long)st.words);
    stop = 0;
    cr_assert_eq(nn_w2v_train(m, NULL), 0);
    cr_assert(memcmp(whole, tensor_f32(nn_w2v_input_table(m)), table_bytes(c, 12) / 2) == 0,
              "the continued run differs from the uninterrupted one");
    nn_w2v_free(m);
    free(whole);
    nn_w2v_corpus_free(c);
}

/* A seed-3 run stopped after its first round, its state saved to a new temporary
 * file whose name goes to path. */
static void save_stopped_state(const NnW2vCorpus *c, char *path, size_t cap) {
    temp_path(path, cap);
    volatile sig_atomic_t stop = 1;
    NnWord2Vec *m = nn_w2v_new(c, OPTS(.seed = 3, .stop = &stop));
    cr_assert_eq(nn_w2v_train(m, NULL), 1);
    cr_assert_eq(nn_w2v_save_state(m, path), 0, "%s", tensor_last_error());
    nn_w2v_free(m);
}

Test(word2vec_threads, state_files_refuse_other_settings_and_damage) {
    NnW2vCorpus *c = skewed_corpus();
    char path[128];
    save_stopped_state(c, path, sizeof path);
    NnWord2Vec *m;

    const struct {
        NnW2vOpts *o;
        const char *named;
    } other[] = {{OPTS(.seed = 4), "seed"}, {OPTS_TD(3, 12, .seed = 3), "threads"},
                 {OPTS_TD(2, 13, .seed = 3), "dim"}, {OPTS(.seed = 3, .window = 4), "window"},
                 {OPTS(.seed = 3, .hogwild = true), "hogwild"}};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        m = nn_w2v_new(c, other[i].o);
        cr_assert_eq(nn_w2v_load_state(m, path), -1, "loaded with a different %s", other[i].named);
        cr_assert(strstr(tensor_last_error(), other[i].named), "%s", tensor_last_error());
        nn_w2v_free(m);
    }

    /* One flipped byte in the tables, and a truncated file. */
    int64_t len;
    char *bytes = nn_read_file(path, &len);
    cr_assert_not_null(bytes);
    for (int damage = 0; damage < 2; damage++) {
        if (damage == 0) bytes[len / 2] ^= 1;
        FILE *f = fopen(path, "wb");
        fwrite(bytes, 1, (size_t)(damage == 0 ? len : len - 100), f);
        fclose(f);
        m = nn_w2v_new(c, OPTS(.seed = 3));
        cr_assert_eq(nn_w2v_load_state(m, path), -1);
        cr_assert(strstr(tensor_last_error(), "damaged"), "%s", tensor_last_error());
        nn_w2v_free(m);
    }
    free(bytes);
    FILE *f = fopen(path, "wb");
    fputs("not a state file at all", f);
    fclose(f);
    m = nn_w2v_new(c, OPTS(.seed = 3));
    cr_assert_eq(nn_w2v_load_state(m, path), -1);
    cr_assert(strstr(tensor_last_error(), "not a word2vec training state"), "%s", tensor_last_error());
    nn_w2v_free(m);
    unlink(path);
    nn_w2v_corpus_free(c);
}

/* FNV-1a 64 of the file's bytes but the last 8, stored there: what a state file's
 * checksum is, so a test can forge a well-formed file with impossible contents. */
static void rewrite_checksum(char *bytes, int64_t len) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (int64_t i = 0; i < len - 8; i++) h = (h ^ (unsigned char)bytes[i]) * 0x100000001B3ull;
    memcpy(bytes + len - 8, &h, 8);
}

/* Writes the state file `good` to path with n bytes at `at` replaced by `with`, and its
 * checksum made right again (a forgery a damaged disk would not produce). */
static void write_forged(const char *path, const char *good, int64_t len, int64_t at, const void *with, size_t n) {
    char *bytes = malloc((size_t)len);
    memcpy(bytes, good, (size_t)len);
    memcpy(bytes + at, with, n);
    rewrite_checksum(bytes, len);
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, (size_t)len, f);
    fclose(f);
    free(bytes);
}

Test(word2vec_threads, forged_states_with_a_right_checksum_are_refused_and_change_nothing) {
    NnW2vCorpus *c = skewed_corpus();
    char path[128];
    save_stopped_state(c, path, sizeof path);
    NnWord2Vec *m;
    int64_t len;
    char *good = nn_read_file(path, &len);
    cr_assert_not_null(good);
    NnW2vStats fresh_stats;
    float *fresh = train_tables(c, OPTS(.seed = 3), &fresh_stats);

    /* Second thread's fields: magic, 17 settings, "started", then 11 per thread (s0,
     * s1, sent, pos, budget, done, epoch, rng, loss, epoch_pairs, pairs). */
    const int64_t thread1 = 8 + 8 * (17 + 1) + 8 * 11;
    const double nan = NAN;
    const struct {
        int field;
        int64_t value;
        const char *what;
    } forged[] = {{5, INT64_MAX, "done beyond any budget (its sums overflowed)"},
                  {4, 1, "another budget"},
                  {6, 1000, "an epoch past iter"},
                  {2, -1, "a sentence before its slice"},
                  {10, INT64_MAX / 2, "more pairs than its words allow"},
                  {8, 0, "a NaN loss"}};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        write_forged(path, good, len, thread1 + 8 * forged[i].field, forged[i].field == 8 ? (const void *)&nan
                                                                                       : &forged[i].value, 8);
        m = nn_w2v_new(c, OPTS(.seed = 3));
        cr_assert_eq(nn_w2v_load_state(m, path), -1, "took a state with %s", forged[i].what);
        cr_assert(strstr(tensor_last_error(), "thread 2"), "%s: %s", forged[i].what, tensor_last_error());
        /* Refused means untouched: training now is a fresh run from the start. */
        cr_assert_eq(nn_w2v_train(m, NULL), 0);
        cr_assert(memcmp(tensor_f32(nn_w2v_input_table(m)), fresh, table_bytes(c, 12) / 2) == 0,
                  "%s: the refused load changed the run", forged[i].what);
        nn_w2v_free(m);
    }
    /* The finished passes' records, 2 threads x 3 epochs of (loss, pairs) after the
     * threads' fields: a NaN or negative loss, or more pairs than the thread's. */
    const int64_t passes_at = 8 + 8 * (17 + 1) + 2 * 8 * 11;
    const struct {
        int64_t offset;
        double loss;
        int64_t pairs;
        const char *what;
    } bad_passes[] = {{3 * 16, NAN, 0, "a NaN pass loss"}, {3 * 16, -1, 0, "a negative pass loss"},
                      {3 * 16, 0, INT64_MAX, "a pass with more pairs than its thread"}};
    for (size_t i = 0; i < sizeof bad_passes / sizeof bad_passes[0]; i++) {
        unsigned char record[16];
        memcpy(record, &bad_passes[i].loss, 8);
        memcpy(record + 8, &bad_passes[i].pairs, 8);
        write_forged(path, good, len, passes_at + bad_passes[i].offset, record, sizeof record);
        m = nn_w2v_new(c, OPTS(.seed = 3));
        cr_assert_eq(nn_w2v_load_state(m, path), -1, "took a state with %s", bad_passes[i].what);
        cr_assert(strstr(tensor_last_error(), "thread 2's loss of epoch 1"), "%s: %s", bad_passes[i].what,
                  tensor_last_error());
        nn_w2v_free(m);
    }
    /* A NaN among the saved vectors: training from it would reach the sigmoid table
     * with a NaN index, so the file is refused too. */
    const int64_t tables_at = passes_at + 2 * 3 * 16;
    write_forged(path, good, len, tables_at + 4 * 5, &(float){NAN}, sizeof(float));
    m = nn_w2v_new(c, OPTS(.seed = 3));
    cr_assert_eq(nn_w2v_load_state(m, path), -1, "took saved vectors holding a NaN");
    cr_assert(strstr(tensor_last_error(), "NaN"), "%s", tensor_last_error());
    nn_w2v_free(m);
    free(fresh);
    free(good);
    unlink(path);
    nn_w2v_corpus_free(c);
}

Test(word2vec_threads, hogwild_learns_but_refuses_checkpoints) {
    NnW2vCorpus *c = skewed_corpus();
    NnW2vStats st;
    NnWord2Vec *m = nn_w2v_new(c, OPTS(.seed = 1, .hogwild = true));
    cr_assert_eq(nn_w2v_train(m, &st), 0);
    cr_assert_eq(st.words, 3 * nn_w2v_corpus_raw_words(c));
    cr_assert(st.loss < 0.9 * 6 * logf(2.0f), "loss %g", st.loss); /* starts at 6 ln 2 */
    nn_w2v_free(m);
    Checkpointing ck = {0};
    cr_assert_null(nn_w2v_new(c, OPTS(.hogwild = true, .checkpoint_words = 100, .on_checkpoint = save_and_maybe_stop,
                                      .user = &ck)));
    cr_assert(strstr(tensor_last_error(), "checkpoints"), "%s", tensor_last_error());
    nn_w2v_corpus_free(c);
}
