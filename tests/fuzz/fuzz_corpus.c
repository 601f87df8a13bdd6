/* libFuzzer harness for every app's corpus path: nn_read_file, then one of four
 * pipelines (byte 1): char27 + char vocabulary + windows; the Keras-like tokenizer
 * (options from byte 0); the word2vec corpus; the word-model pipeline and
 * nn_vocab_load. Checked besides "no crash, leak or UB": exact bytes back, ids in
 * range, index(word(i)) == i, counts that add up. */
#include "nn/nn.h"
#include "nn/word2vec/word2vec.h"
#include "nn/text/word_text.h"
#include "nn/text/word_windows.h"

#include "fuzz_util.h"

#include <stdbool.h>

/* A filter list with multi-byte characters, to reach the non-ASCII filter path. */
static const char *const k_filters[] = {NULL, "", " .,;\xE2\x80\x94\xC2\xAB\xC2\xBB\xC3\xA9", "aeiou\t\n"};

static void check_char27(const char *text, int64_t len, int64_t *n_sym, int32_t **syms) {
    int64_t n = -1;
    int32_t *s = nn_char27_encode(text, len, &n);
    FUZZ_ASSERT(s != NULL, "char27: %s", tensor_last_error());
    FUZZ_ASSERT(n >= 0 && n <= len, "char27 gave %lld symbols for %lld bytes", (long long)n, (long long)len);
    for (int64_t i = 0; i < n; i++) FUZZ_ASSERT(s[i] >= 0 && s[i] < NN_CHAR27_SIZE, "symbol %d", s[i]);
    *n_sym = n;
    *syms = s;
}

static void check_char_vocab(const char *text, int64_t len, int64_t n_sym) {
    NnCharVocab *v = nn_char_vocab_build(text, len);
    FUZZ_ASSERT(v != NULL, "char vocab: %s", tensor_last_error());
    int32_t size = nn_char_vocab_size(v);
    FUZZ_ASSERT(size >= 0 && (len == 0 || size >= 1), "vocab size %d", size);
    int64_t n = -1;
    int32_t *ids = nn_char_vocab_encode(v, text, len, &n);
    FUZZ_ASSERT(ids != NULL, "char vocab encode: %s", tensor_last_error());
    FUZZ_ASSERT(n == n_sym, "char vocab gave %lld ids, char27 %lld symbols", (long long)n, (long long)n_sym);
    char out[8];
    for (int64_t i = 0; i < n; i++) {
        FUZZ_ASSERT(ids[i] >= 0 && ids[i] < size, "id %d of %d", ids[i], size);
        int k = nn_char_vocab_decode(v, ids[i], out);
        FUZZ_ASSERT(k >= 1 && k <= 4, "decode gave %d bytes", k);
    }
    free(ids);
    nn_char_vocab_free(v);
}

static void check_windows(const int32_t *ids, int64_t n, unsigned opt) {
    int64_t window = 1 + (opt & 7), stride = 1 + ((opt >> 3) & 3);
    Tensor *x = NULL, *y = NULL;
    int rc = (opt & 32) ? nn_windows_shifted(ids, n, window, stride, &x, &y) : nn_windows_next(ids, n, window, stride, &x, &y);
    if (rc == 0) {
        FUZZ_ASSERT(x && y && x->shape[0] == y->shape[0] && x->shape[0] >= 1, "window shapes");
        tensor_free(x);
        tensor_free(y);
    } else {
        FUZZ_ASSERT(n < window + 1, "windows refused %lld ids, window %lld", (long long)n, (long long)window);
    }
}

static void check_tokenizer(const char *text, int64_t len, unsigned opt) {
    static const int64_t num_words[4] = {0, 2, 5, 50};
    NnTokenizerOpts o = {.no_lower = opt & 1, .oov_token = (opt & 2) ? "<OOV>" : NULL,
                         .filters = k_filters[(opt >> 2) & 3], .num_words = num_words[(opt >> 4) & 3],
                         .min_count = (opt >> 6) & 3};
    NnTokenizer *tok = nn_tokenizer_new(&o);
    FUZZ_ASSERT(tok != NULL, "tokenizer: %s", tensor_last_error());
    nn_tokenizer_fit(tok, text, len);
    if (nn_tokenizer_finish(tok) == 0) {
        int64_t v = nn_tokenizer_vocab_size(tok);
        FUZZ_ASSERT(v >= 1, "vocab %lld", (long long)v);
        for (int64_t i = 1; i <= v; i++) {
            const char *w = nn_tokenizer_word(tok, (int32_t)i);
            FUZZ_ASSERT(w != NULL, "word %lld of %lld is NULL", (long long)i, (long long)v);
            int32_t back = nn_tokenizer_index(tok, w);
            FUZZ_ASSERT(back == i, "index('%s') = %d, word(%lld)", w, back, (long long)i);
        }
        int64_t n = -1;
        int32_t *ids = nn_tokenizer_encode(tok, text, len, &n);
        FUZZ_ASSERT(ids != NULL && n >= 0, "encode: %s", tensor_last_error());
        for (int64_t i = 0; i < n; i++) {
            FUZZ_ASSERT(ids[i] >= 1 && ids[i] <= v, "id %d of %lld", ids[i], (long long)v);
            FUZZ_ASSERT(!o.num_words || ids[i] < o.num_words || (o.oov_token && ids[i] == 1), "id %d, num_words %lld",
                        ids[i], (long long)o.num_words);
        }
        free(ids);
    }
    nn_tokenizer_free(tok);
}

static void check_w2v(const char *text, int64_t len, unsigned opt) {
    NnW2vCorpus *c = nn_w2v_corpus_new();
    FUZZ_ASSERT(nn_w2v_corpus_add(c, text, len) == 0, "add: %s", tensor_last_error());
    if (opt & 2) nn_w2v_corpus_add(c, text, len / 2); /* a second file */
    int64_t raw = nn_w2v_corpus_raw_words(c);
    if (nn_w2v_corpus_finish(c, 1 + (opt & 1)) == 0) {
        int64_t v = nn_w2v_corpus_vocab_size(c), total = 0, counted = 0;
        FUZZ_ASSERT(v >= 1, "vocab %lld", (long long)v);
        for (int64_t i = 0; i < v; i++) {
            const char *w = nn_w2v_corpus_word(c, i);
            FUZZ_ASSERT(w && *w, "word %lld", (long long)i);
            FUZZ_ASSERT(nn_w2v_corpus_find(c, w) == i, "find('%s') != %lld", w, (long long)i);
            FUZZ_ASSERT(i == 0 || nn_w2v_corpus_count(c, i) <= nn_w2v_corpus_count(c, i - 1), "not ranked");
            counted += nn_w2v_corpus_count(c, i);
        }
        for (int64_t s = 0; s < nn_w2v_corpus_sentences(c); s++) {
            int64_t n;
            const int32_t *ids = nn_w2v_corpus_sentence(c, s, &n);
            FUZZ_ASSERT(n >= 1, "empty sentence %lld", (long long)s);
            for (int64_t i = 0; i < n; i++) FUZZ_ASSERT(ids[i] >= 0 && ids[i] < v, "id %d of %lld", ids[i], (long long)v);
            total += n;
        }
        FUZZ_ASSERT(total == nn_w2v_corpus_words(c) && counted == total && total <= raw,
                    "%lld ids, %lld counted, %lld kept, %lld raw", (long long)total, (long long)counted,
                    (long long)nn_w2v_corpus_words(c), (long long)raw);
    }
    nn_w2v_corpus_free(c);
}

/* The word-model (sherlock / sonnets word) pipeline. */
static void check_word_pipeline(const char *text, int64_t len, unsigned opt, const char *path) {
    int64_t jn = -1;
    char *joined = nn_text_join_lines(text, len, &jn);
    FUZZ_ASSERT(joined && jn >= 0 && jn <= len, "join_lines: %lld of %lld", (long long)jn, (long long)len);
    int64_t nn = -1;
    char *norm = nn_word_text_normalize(joined, jn, &nn);
    FUZZ_ASSERT(norm && nn >= 0, "normalize");
    int64_t nw = -1;
    char **words = nn_text_split_words(norm, nn, k_filters[opt & 3], &nw);
    FUZZ_ASSERT(words && nw >= 0, "split");
    for (int64_t i = 0; i < nw; i++) FUZZ_ASSERT(words[i] && *words[i], "empty word %lld", (long long)i);
    nn_text_words_free(words, nw);
    NnTokenizer *tok = nn_word_text_tokenizer(norm, nn, (opt >> 2) & 1);
    if (tok) {
        int64_t n = -1;
        char *unknown = NULL;
        int32_t *ids = nn_word_text_encode(tok, norm, nn, &n, (opt & 8) ? &unknown : NULL);
        FUZZ_ASSERT(ids && n >= 0, "word encode: %s", tensor_last_error());
        int64_t v = nn_tokenizer_vocab_size(tok);
        for (int64_t i = 0; i < n; i++) FUZZ_ASSERT(ids[i] >= 1 && ids[i] <= v, "id %d of %lld", ids[i], (long long)v);
        free(ids);
        free(unknown);
        nn_tokenizer_free(tok);
    }
    free(norm);
    free(joined);
    /* The same bytes as a vocabulary file. */
    char header[16];
    NnTokenizer *vt = nn_vocab_load(path, NULL, header, sizeof header);
    if (vt) {
        int64_t v = nn_tokenizer_vocab_size(vt);
        for (int64_t i = 1; i <= v; i++) {
            const char *w = nn_tokenizer_word(vt, (int32_t)i);
            FUZZ_ASSERT(w && nn_tokenizer_index(vt, w) == i, "vocab file word %lld", (long long)i);
        }
        nn_tokenizer_free(vt);
    } else {
        FUZZ_ASSERT(*tensor_last_error(), "vocab_load refused without a message");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    unsigned tok_opt = data[0], other = data[1];
    const char *path = fuzz_path("corpus");
    fuzz_write(path, data + 2, size - 2);

    int64_t len = -1;
    char *text = nn_read_file(path, &len);
    FUZZ_ASSERT(text != NULL, "read_file: %s", tensor_last_error());
    FUZZ_ASSERT(len == (int64_t)(size - 2) && memcmp(text, data + 2, size - 2) == 0 && text[len] == 0,
                "read_file gave %lld bytes for %zu", (long long)len, size - 2);

    /* One pipeline per input (the second byte's low bits), so each run is cheap. */
    unsigned opt = other >> 2;
    switch (other & 3) {
    case 0: {
        int64_t n_sym;
        int32_t *syms;
        check_char27(text, len, &n_sym, &syms);
        check_char_vocab(text, len, n_sym);
        check_windows(syms, n_sym, opt);
        free(syms);
        break;
    }
    case 1: check_tokenizer(text, len, tok_opt); break;
    case 2: check_w2v(text, len, opt); break;
    default: check_word_pipeline(text, len, opt, path); break;
    }
    free(text);
    return 0;
}
