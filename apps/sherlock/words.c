/* sherlock's vocabulary and predictions: the Keras-like tokenizer fit on the corpus
 * (saved beside the weights as FILE.vocab, with the model sizes --load restores), and
 * the most likely next words after a phrase (and its continuation, generate.c), given
 * once or read line by line. */
#include "sherlock/sherlock_internal.h"

#include "common/data.h"
#include "common/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int read_corpus(const Options *o, NnTokenizer **tok, int32_t **ids, int64_t *n) {
    int64_t len, joined_len;
    char *text = app_read_corpus(APP, app_data_dir(o->common.data_dir), o->common.data_file, &len);
    if (!text) return APP_EXIT_USAGE;
    char *joined = nn_text_join_lines(text, len, &joined_len);
    free(text);
    if (!*tok) {
        *tok = nn_tokenizer();
        nn_tokenizer_fit(*tok, joined, joined_len);
        if (nn_tokenizer_finish(*tok) != 0) {
            fprintf(stderr, "%s: %s has no words: %s\n", APP, o->common.data_file, tensor_last_error());
            free(joined);
            return APP_EXIT_USAGE;
        }
    }
    *ids = nn_tokenizer_encode(*tok, joined, joined_len, n);
    free(joined);
    if (!*ids) {
        fprintf(stderr, "%s: cannot encode %s: %s\n", APP, o->common.data_file, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    return 0;
}

int load_vocab(Options *o, NnTokenizer **tok) {
    char path[4096], header[256];
    snprintf(path, sizeof path, "%s.vocab", o->common.load);
    *tok = NULL;
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "%s: no %s beside the weights: rebuilding the vocabulary from the corpus\n", APP, path);
        return 0;
    }
    *tok = nn_vocab_load(path, NULL, header, sizeof header);
    if (!*tok) {
        fprintf(stderr, "%s: cannot load the vocabulary: %s\n", APP, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    long long units, embed;
    if (sscanf(header, "lamina sherlock units=%lld embed=%lld", &units, &embed) != 2 || units < 1 || embed < 1) {
        fprintf(stderr, "%s: %s is not a sherlock vocabulary (its header is '%s')\n", APP, path, header);
        return APP_EXIT_FAILURE;
    }
    if ((o->units_set && o->units != units) || (o->embed_set && o->embed != embed)) {
        fprintf(stderr, "%s: %s was trained with --units %lld --embed %lld\n", APP, o->common.load, units, embed);
        return APP_EXIT_USAGE;
    }
    o->units = units;
    o->embed = embed;
    return 0;
}

int save_vocab(const Options *o, const NnTokenizer *tok, const char *weights_path) {
    char path[4096], header[128];
    snprintf(path, sizeof path, "%s.vocab", weights_path);
    snprintf(header, sizeof header, "lamina sherlock units=%lld embed=%lld", (long long)o->units, (long long)o->embed);
    if (nn_vocab_save(tok, path, header) != 0) {
        fprintf(stderr, "%s: cannot save the vocabulary: %s\n", APP, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    return 0;
}

/* The ids of a phrase's known words; unknown ones are reported on stderr and left out. */
static int32_t *phrase_ids(const NnTokenizer *tok, const char *phrase, int64_t *n) {
    int64_t len, n_words;
    char *text = nn_text_join_lines(phrase, (int64_t)strlen(phrase), &len);
    char **words = nn_text_split_words(text, len, NULL, &n_words);
    int32_t *ids = malloc((size_t)(n_words + 1) * sizeof *ids);
    if (!ids) abort();
    *n = 0;
    for (int64_t i = 0; i < n_words; i++) {
        int32_t id = nn_tokenizer_index(tok, words[i]);
        if (id > 0)
            ids[(*n)++] = id;
        else
            fprintf(stderr, "%s: unknown word '%s' (left out)\n", APP, words[i]);
    }
    nn_text_words_free(words, n_words);
    free(text);
    return ids;
}

int predict(Model *m, const NnTokenizer *tok, const char *raw_phrase, int64_t top_k, Generation *g, Prediction *last) {
    int64_t n, phrase_len;
    /* Malformed bytes as U+FFFD, as the vocabulary spells them: nothing echoed is invalid UTF-8. */
    char *phrase = nn_text_replace_invalid(raw_phrase, (int64_t)strlen(raw_phrase), &phrase_len);
    int32_t *ids = phrase_ids(tok, phrase, &n);
    if (n < CONTEXT) {
        fprintf(stderr, "%s: \"%s\" has %lld known word%s; the model reads the last %d known words of a phrase\n",
                APP, phrase, (long long)n, n == 1 ? "" : "s", CONTEXT);
        free(ids);
        free(phrase);
        return APP_EXIT_USAGE;
    }
    free(phrase);
    Tensor *x = tensor_i32_from_array(NULL, TENSOR_SHAPE(1, CONTEXT), ids + n - CONTEXT);
    Tensor *probs = nn_predict(m, x, 1);
    char context[1024] = "";
    for (int i = 0; i < CONTEXT; i++) {
        size_t used = strlen(context);
        snprintf(context + used, sizeof context - used, "%s%s", i ? " " : "",
                 nn_tokenizer_word(tok, ids[n - CONTEXT + i]));
    }
    tensor_free(x);
    if (!probs) {
        free(ids);
        fprintf(stderr, "%s: prediction failed: %s\n", APP, tensor_last_error());
        return APP_EXIT_FAILURE;
    }
    /* Index 0 is padding, never a word: rank indices 1..V only. */
    const float *p = tensor_f32(probs);
    int64_t *best = malloc((size_t)top_k * sizeof *best);
    if (!best) abort();
    int64_t k = nn_topk_indices(p + 1, probs->shape[1] - 1, top_k, best);
    printf("after \"%s\":\n", context);
    if (last) {
        snprintf(last->context, sizeof last->context, "%s", context);
        last->k = k < 16 ? k : 16;
    }
    for (int64_t i = 0; i < k; i++) {
        const char *word = nn_tokenizer_word(tok, (int32_t)(best[i] + 1));
        int width = 0; /* characters, not bytes, so columns line up after “ or é */
        for (const char *c = word; *c; c++) width += ((unsigned char)*c & 0xC0) != 0x80;
        printf("  %s%*s %.4f\n", word, width < 20 ? 20 - width : 0, "", (double)p[best[i] + 1]);
        if (last && i < 16) last->words[i] = word, last->p[i] = p[best[i] + 1];
    }
    free(best);
    tensor_free(probs);
    int status = g && g->words > 0 ? generate(m, tok, ids, n, context, g, last) : 0;
    fflush(stdout);
    free(ids);
    return status;
}

int interactive(Model *m, const NnTokenizer *tok, int64_t top_k, Generation *g) {
    bool tty = isatty(STDIN_FILENO);
    if (tty) fprintf(stderr, "Type a phrase (3 or more words) and press Enter; Ctrl-D ends.\n");
    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    for (;;) {
        if (tty) fprintf(stderr, "> ");
        if (getline(&line, &cap, stdin) < 0) break;
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line) continue;
        int rc = predict(m, tok, line, top_k, g, NULL);
        if (rc == APP_EXIT_FAILURE) {
            status = rc;
            break;
        }
    }
    free(line);
    return status;
}
