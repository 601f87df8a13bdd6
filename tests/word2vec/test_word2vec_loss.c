/* word2vec's training loss, recomputed: the per-epoch figures nn_w2v_epoch_losses
 * reports equal a replay of the same run pair by pair with the one-pair step (the
 * same subsampling, shrunk windows and negatives, drawn from the same generator), and
 * the replay's tables equal the trained ones bit for bit; with two threads the figures
 * are the same in every run, the last is the stats' loss, and a run resumed from a
 * state file reports exactly what the run never stopped reports. */
#include "helpers.h"
#include "nn/word2vec/word2vec_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ITER 3

/* 80 sentences of 4 to 11 words over 15 words, the low ids more frequent. */
static NnW2vCorpus *tiny_corpus(void) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    Rng rng;
    tensor_rng_seed(&rng, 21, 0);
    char line[256];
    for (int s = 0; s < 80; s++) {
        int n = 0, words = 4 + (int)tensor_rng_below(&rng, 8);
        for (int w = 0; w < words; w++) {
            uint32_t a = tensor_rng_below(&rng, 15), b = tensor_rng_below(&rng, 15);
            n += snprintf(line + n, sizeof line - (size_t)n, "t%u ", a < b ? a : b);
        }
        line[n - 1] = '\n';
        nn_w2v_corpus_add(c, line, n);
    }
    cr_assert_eq(nn_w2v_corpus_finish(c, 1), 0);
    return c;
}

/* A constant learning rate (alpha = min_alpha), so where the run's rounds end does not
 * change any update and the replay needs no rounds. */
#define OPTS(...)                                                                                          \
    (&(NnW2vOpts){.dim = 8, .window = 3, .negative = 4, .iter = ITER, .alpha = 0.05f, .min_alpha = 0.05f, \
                  .sample = 0.05, .batch_words = 50, .seed = 5, __VA_ARGS__})

/* The generator the training loop draws from (splitmix64). */
static uint64_t next_random(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One sentence of the replay: its kept words, then every (center, context) pair. */
static void replay_sentence(const NnWord2Vec *m, const int32_t *sent, int64_t len, uint64_t *rng, float *in,
                            float *out, double *loss, int64_t *pairs) {
    const int64_t D = m->D;
    const int window = m->o.window, K = m->o.negative;
    int32_t piece[64], neg[100];
    float work[64];
    int n = 0;
    for (int64_t p = 0; p < len; p++)
        if (m->keep[sent[p]] == UINT32_MAX || m->keep[sent[p]] >= (uint32_t)next_random(rng)) piece[n++] = sent[p];
    for (int i = 0; i < n; i++) {
        int b = (int)((uint32_t)next_random(rng) % (uint32_t)window);
        for (int j = i - window + b < 0 ? 0 : i - window + b; j <= i + window - b && j < n; j++) {
            if (j == i) continue;
            for (int k = 0; k < K; k++) {
                uint64_t r = next_random(rng);
                uint32_t col = (uint32_t)(((r >> 32) * (uint64_t)m->V) >> 32);
                neg[k] = (uint32_t)r < m->noise_p[col] ? (int32_t)col : m->noise_alias[col];
            }
            *loss += nn_w2v_sgd_pair(in + piece[j] * D, out, D, piece[i], neg, K, m->o.alpha, work);
            (*pairs)++;
        }
    }
}

Test(word2vec_loss, epoch_losses_equal_a_pair_by_pair_replay) {
    NnW2vCorpus *c = tiny_corpus();
    NnWord2Vec *m = nn_w2v_new(c, OPTS(.threads = 1));
    cr_assert_not_null(m, "%s", tensor_last_error());
    /* The replay starts from the same tables and the thread's planned generator. */
    const size_t bytes = (size_t)(m->V * m->D) * sizeof(float);
    float *in = malloc(bytes), *out = malloc(bytes);
    memcpy(in, tensor_f32(m->in), bytes);
    memcpy(out, tensor_f32(m->out), bytes);
    WorkerState plan;
    nn__w2v_plan_into(m, &plan);
    NnW2vStats stats;
    cr_assert_eq(nn_w2v_train(m, &stats), 0, "%s", tensor_last_error());
    double reported[ITER];
    cr_assert_eq(nn_w2v_epoch_losses(m, reported, ITER), ITER);

    uint64_t rng = plan.rng;
    for (int e = 0; e < ITER; e++) {
        double loss = 0;
        int64_t pairs = 0, len;
        for (int64_t s = plan.s0; s < plan.s1; s++) {
            const int32_t *sent = nn_w2v_corpus_sentence(c, s, &len);
            replay_sentence(m, sent, len, &rng, in, out, &loss, &pairs);
        }
        cr_assert(pairs > 0);
        cr_expect_eq(reported[e], loss / (double)pairs, "epoch %d: reported %.17g, replayed %.17g", e + 1,
                     reported[e], loss / (double)pairs);
        if (e == 0) cr_expect(loss / (double)pairs > reported[ITER - 1], "the loss falls over the run");
    }
    cr_expect_eq(stats.loss, reported[ITER - 1], "the stats' loss is the last epoch's");
    cr_expect_eq(memcmp(in, tensor_f32(m->in), bytes), 0, "the replay's input table differs");
    cr_expect_eq(memcmp(out, tensor_f32(m->out), bytes), 0, "the replay's output table differs");
    free(in), free(out);
    nn_w2v_free(m);
    nn_w2v_corpus_free(c);
}

static int save_once(NnWord2Vec *m, void *user) {
    const char *path = user;
    if (access(path, F_OK) == 0) return 0; /* the first checkpoint only */
    return nn_w2v_save_state(m, path);
}

static void two_thread_losses(const NnW2vCorpus *c, const char *checkpoint, double *losses) {
    NnWord2Vec *m = nn_w2v_new(c, OPTS(.threads = 2, .on_checkpoint = checkpoint ? save_once : NULL,
                                       .checkpoint_words = 400, .user = (void *)checkpoint));
    NnW2vStats stats;
    cr_assert_eq(nn_w2v_train(m, &stats), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_w2v_epoch_losses(m, losses, ITER), ITER);
    cr_expect_eq(stats.loss, losses[ITER - 1]);
    nn_w2v_free(m);
}

Test(word2vec_loss, two_threads_report_the_same_losses_across_runs_and_resumes) {
    NnW2vCorpus *c = tiny_corpus();
    char path[128];
    snprintf(path, sizeof path, "/tmp/lamina-w2v-loss-%d.state", (int)getpid());
    unlink(path);
    double a[ITER], b[ITER], resumed[ITER];
    two_thread_losses(c, NULL, a);
    two_thread_losses(c, path, b); /* writes the first checkpoint on the way */
    NnWord2Vec *m = nn_w2v_new(c, OPTS(.threads = 2));
    cr_assert_eq(nn_w2v_load_state(m, path), 0, "%s", tensor_last_error());
    cr_assert_lt(nn_w2v_epoch_losses(m, resumed, ITER), ITER, "the checkpoint is mid-run");
    cr_assert_eq(nn_w2v_train(m, NULL), 0, "%s", tensor_last_error());
    cr_assert_eq(nn_w2v_epoch_losses(m, resumed, ITER), ITER);
    for (int e = 0; e < ITER; e++) {
        cr_expect_eq(a[e], b[e], "epoch %d: %.17g then %.17g", e + 1, a[e], b[e]);
        cr_expect_eq(a[e], resumed[e], "epoch %d: %.17g, resumed %.17g", e + 1, a[e], resumed[e]);
        cr_expect(isfinite(a[e]) && a[e] > 0 && a[e] < 5 * logf(2.0f), "epoch %d: %g", e + 1, a[e]);
    }
    nn_w2v_free(m);
    unlink(path);
    nn_w2v_corpus_free(c);
}

/* A run cut short by max_words reports the epochs it reached, the last partial; more
 * threads than sentences leave some threads nothing to do, which costs no epoch. */
Test(word2vec_loss, short_runs_and_idle_threads_count_only_epochs_that_ran) {
    NnW2vCorpus *c = tiny_corpus();
    double losses[ITER];
    NnWord2Vec *m = nn_w2v_new(c, OPTS(.threads = 2, .max_words = 700));
    NnW2vStats stats;
    cr_assert_eq(nn_w2v_train(m, &stats), 0, "%s", tensor_last_error());
    int n = nn_w2v_epoch_losses(m, losses, ITER);
    cr_expect(n >= 1 && n < ITER, "%d epochs of a run of ~1.3 epochs' words", n);
    cr_expect_eq(losses[n - 1], stats.loss);
    nn_w2v_free(m);

    NnW2vCorpus *small = nn_w2v_corpus_new();
    nn_w2v_corpus_add(small, "a b c a b\nb c a c b a\n", 23);
    cr_assert_eq(nn_w2v_corpus_finish(small, 1), 0);
    m = nn_w2v_new(small, OPTS(.threads = 4, .no_sample = true));
    cr_assert_eq(nn_w2v_train(m, NULL), 0, "%s", tensor_last_error());
    cr_expect_eq(nn_w2v_epoch_losses(m, losses, ITER), ITER, "two busy threads, two with empty slices");
    nn_w2v_free(m);
    nn_w2v_corpus_free(small);
    nn_w2v_corpus_free(c);
}
