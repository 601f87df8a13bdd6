/* sherlock's continuations: --generate N words after a phrase, sampled (--top-p) or
 * the most likely continuation a beam search finds (--beam, --no-repeat-ngram). The
 * model reads 3-word windows, so a beam's state is its last 3 words, and a step is one
 * batched prediction for all beams: O(1) per word per beam. */
#include "sherlock/sherlock_internal.h"

#include "common/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state beam search carries: each row's last CONTEXT words. */
typedef struct Windows {
    Model *m;
    int32_t *w, *scratch; /* (rows, CONTEXT), and room for a reordering */
    int64_t rows, vocab;
} Windows;

/* NnBeamModel.step: shift each row's tokens into its window, predict all rows at once. */
static int windows_step(void *user, const int32_t *tokens, int64_t n, int64_t t, float *logp) {
    Windows *w = user;
    for (int64_t b = 0; b < n; b++) {
        int32_t *row = w->w + b * CONTEXT;
        int64_t keep = t >= CONTEXT ? 0 : CONTEXT - t, take = CONTEXT - keep;
        memmove(row, row + take, (size_t)keep * sizeof *row);
        memcpy(row + keep, tokens + b * t + t - take, (size_t)take * sizeof *row);
    }
    w->rows = n;
    Tensor *x = tensor_i32_from_array(NULL, TENSOR_SHAPE(n, CONTEXT), w->w);
    Tensor *p = nn_predict(w->m, x, n);
    tensor_free(x);
    if (!p) return -1;
    for (int64_t i = 0; i < n * w->vocab; i++) logp[i] = tensor_f32(p)[i] > 0 ? logf(tensor_f32(p)[i]) : -INFINITY;
    tensor_free(p);
    return 0;
}

/* NnBeamModel.reorder: row j's window becomes row parent[j]'s. */
static int windows_reorder(void *user, const int64_t *parent, int64_t n) {
    Windows *w = user;
    for (int64_t j = 0; j < n; j++)
        memcpy(w->scratch + j * CONTEXT, w->w + parent[j] * CONTEXT, CONTEXT * sizeof *w->w);
    memcpy(w->w, w->scratch, (size_t)(n * CONTEXT) * sizeof *w->w);
    w->rows = n;
    return 0;
}

/* n words sampled one at a time (id 0, padding, never drawn); 0 or -1. */
static int sample_words(Windows *w, const int32_t *ids, int64_t n_ids, Generation *g, int32_t *out) {
    float *logp = malloc((size_t)w->vocab * sizeof *logp);
    if (!logp) abort();
    int rc = windows_step(w, ids, 1, n_ids, logp);
    for (int64_t i = 0; rc == 0 && i < g->words; i++) {
        for (int64_t v = 0; v < w->vocab; v++) logp[v] = v ? expf(logp[v]) : 0.0f; /* now probabilities */
        out[i] = (int32_t)nn_sample_with(logp, w->vocab, &g->rng, .top_p = (float)g->top_p);
        if (i + 1 < g->words) rc = windows_step(w, &out[i], 1, 1, logp);
    }
    free(logp);
    return rc;
}

/* The best continuation of a beam search; 0 or -1. */
static int beam_words(Windows *w, const int32_t *ids, int64_t n_ids, const Generation *g, int32_t *out,
                      int64_t *n_out) {
    NnBeamModel model = {.step = windows_step, .reorder = windows_reorder, .user = w, .vocab = w->vocab};
    const int32_t padding = 0;
    NnBeamResult *r = nn_beam_search(&model, ids, n_ids, .width = g->beam, .max_tokens = g->words,
                                     .no_repeat_ngram = g->no_repeat_ngram, .banned = &padding, .n_banned = 1);
    if (!r) return -1;
    *n_out = r->n ? r->hyps[0].length : 0;
    if (*n_out) memcpy(out, r->hyps[0].tokens, (size_t)*n_out * sizeof *out);
    nn_beam_result_free(r);
    return 0;
}

int generate(Model *m, const NnTokenizer *tok, const int32_t *ids, int64_t n_ids, const char *context, Generation *g,
             Prediction *last) {
    int64_t rows = g->beam > 0 ? g->beam : 1, n_out = g->words;
    Windows w = {.m = m, .vocab = nn_tokenizer_vocab_size(tok) + 1};
    w.w = calloc((size_t)(rows * CONTEXT), sizeof *w.w);
    w.scratch = calloc((size_t)(rows * CONTEXT), sizeof *w.scratch);
    int32_t *out = calloc((size_t)g->words, sizeof *out);
    if (!w.w || !w.scratch || !out) abort();
    int rc = g->beam ? beam_words(&w, ids, n_ids, g, out, &n_out) : sample_words(&w, ids, n_ids, g, out);
    if (rc == 0) {
        char text[4096] = "";
        for (int64_t i = 0; i < n_out; i++) {
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, "%s%s", i ? " " : "", nn_tokenizer_word(tok, out[i]));
        }
        printf("continued: %s | %s\n", context, text);
        if (last) snprintf(last->generated, sizeof last->generated, "%s", text);
    } else {
        fprintf(stderr, "%s: generation failed: %s\n", APP, tensor_last_error());
    }
    free(out);
    free(w.w);
    free(w.scratch);
    return rc == 0 ? 0 : APP_EXIT_FAILURE;
}
