/* NnTokenizer: a word tokenizer that behaves like keras.preprocessing.text.Tokenizer
 * (fit_on_texts, word_index, texts_to_sequences): lower-case, filter characters to
 * spaces, split on whitespace, rank words by count with ties in first-seen order.
 * Words live in an stb_ds string hash map whose insertion order is first occurrence. */
#include "nn/text/text.h"
#include "nn/text/utf8_internal.h"

#include <stb_ds.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


static const char tok__default_filters[] = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

typedef struct TokWord {
    int64_t count; /* occurrences over every fitted text */
    int32_t index; /* rank from nn_tokenizer_finish; 0 while unranked or dropped */
} TokWord;

typedef struct TokEntry {
    char *key;
    TokWord value;
} TokEntry;

struct NnTokenizer {
    int64_t num_words, min_count;
    bool lower;
    char *oov;                  /* owned copy of opts->oov_token, or NULL */
    bool filter_ascii[128];     /* ASCII filter characters */
    uint32_t *filter_other;     /* stb_ds array of non-ASCII filter code points */
    TokEntry *words;            /* stb_ds string map, entries in first-seen order */
    const char **index_word;    /* index -> word, [0] = NULL, keys owned by words */
    int64_t vocab;              /* largest index (0 before finish) */
    bool finished;
    char *buf;                  /* scratch for the word being read by fit */
    size_t cap;
};

/* Lower-casing as Python's str.lower() for ASCII and for the simple one-to-one blocks:
 * Latin-1 (À..Þ but ×), Greek (Α..Ω) and Cyrillic (Ѐ..Я). Other characters keep their
 * case (Python would lower a few more, e.g. Latin Extended-A). */
static uint32_t tok__lower(uint32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp < 0xC0) return cp;
    if (cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    return cp;
}

static bool tok__is_filter(const NnTokenizer *tok, uint32_t cp) {
    if (cp < 128) return tok->filter_ascii[cp];
    for (ptrdiff_t i = 0; i < arrlen(tok->filter_other); i++)
        if (tok->filter_other[i] == cp) return true;
    return false;
}

/* Makes room for `more` bytes (plus a NUL) after `used` in a growable buffer. */
static void tok__reserve(char **buf, size_t *cap, size_t used, size_t more) {
    if (used + more + 1 <= *cap) return;
    size_t want = *cap ? *cap : 64;
    while (want < used + more + 1) {
        TENSOR_CHECK(want <= SIZE_MAX / 2, "nn_tokenizer: word too long (%zu bytes)", used);
        want *= 2;
    }
    *buf = tensor_xrealloc(*buf, want);
    *cap = want;
}

/* Reads the next word of text from *pos into *buf (NUL-terminated) and returns true,
 * or returns false at the end. Separators: ASCII whitespace (so CRLF and tabs split
 * words; Keras splits on " " after turning its default filters, which include \t
 * and \n, into spaces), filter characters (after lower-casing, as Keras), and NUL
 * bytes (words are C strings). Each invalid UTF-8 byte becomes U+FFFD inside its
 * word, as Python's errors="replace" reading would give: words are always valid UTF-8,
 * so printing or saving them never writes malformed text. */
static bool tok__next_word(const NnTokenizer *tok, const char *text, int64_t len, int64_t *pos,
                           char **buf, size_t *cap) {
    size_t used = 0;
    int64_t i = *pos;
    while (i < len) {
        uint32_t cp;
        int k = nn__utf8_decode(text + i, len - i, &cp);
        if (k < 0) {
            cp = NN__UTF8_REPLACEMENT, k = 1;
        }
        i += k;
        if (tok->lower) cp = tok__lower(cp);
        bool sep = cp == 0 || cp == ' ' || (cp >= '\t' && cp <= '\r') || tok__is_filter(tok, cp);
        if (sep) {
            if (used > 0) break;
            continue;
        }
        tok__reserve(buf, cap, used, 4);
        used += (size_t)nn__utf8_encode(cp, *buf + used);
    }
    *pos = i;
    if (used == 0) return false;
    (*buf)[used] = '\0';
    return true;
}

NnTokenizer *nn_tokenizer_new(const NnTokenizerOpts *opts) {
    NnTokenizerOpts o = opts ? *opts : (NnTokenizerOpts){0};
    if (o.num_words < 0) {
        tensor_set_error("nn_tokenizer: num_words must be >= 0 (got %lld)", (long long)o.num_words);
        return NULL;
    }
    if (o.min_count < 0) {
        tensor_set_error("nn_tokenizer: min_count must be >= 0 (got %lld)", (long long)o.min_count);
        return NULL;
    }
    NnTokenizer *tok = tensor_xcalloc(1, sizeof *tok);
    tok->num_words = o.num_words;
    tok->min_count = o.min_count;
    tok->lower = !o.no_lower;
    if (o.oov_token) {
        size_t n = strlen(o.oov_token);
        tok->oov = tensor_xmalloc(n + 1);
        memcpy(tok->oov, o.oov_token, n + 1);
    }
    const char *f = o.filters ? o.filters : tok__default_filters;
    for (int64_t i = 0, n = (int64_t)strlen(f); i < n;) {
        uint32_t cp;
        int k = nn__utf8_decode(f + i, n - i, &cp);
        if (k < 0) { /* an invalid byte cannot name a character: ignore it */
            i += 1;
            continue;
        }
        i += k;
        if (cp < 128)
            tok->filter_ascii[cp] = true;
        else
            arrput(tok->filter_other, cp);
    }
    sh_new_strdup(tok->words); /* never NULL, so lookups through a copy never allocate */
    return tok;
}

/* Fitting after nn_tokenizer_finish keeps counting (as Keras's fit_on_texts does); the
 * index stays as it was until the next nn_tokenizer_finish re-ranks every word. */
void nn_tokenizer_fit(NnTokenizer *tok, const char *text, int64_t len) {
    TENSOR_CHECK(tok != NULL, "nn_tokenizer_fit: tokenizer is NULL");
    TENSOR_CHECK(len >= 0, "nn_tokenizer_fit: negative length %lld", (long long)len);
    TENSOR_CHECK(text != NULL || len == 0, "nn_tokenizer_fit: text is NULL");
    int64_t pos = 0;
    while (tok__next_word(tok, text, len, &pos, &tok->buf, &tok->cap)) {
        ptrdiff_t at = shgeti(tok->words, tok->buf);
        if (at >= 0) {
            tok->words[at].value.count++;
        } else {
            TokWord w = {1, 0};
            shput(tok->words, tok->buf, w);
        }
    }
}

/* Sort key: count descending, then first occurrence (the map's order), which is
 * what Keras's stable sort(reverse=True) over an OrderedDict gives. */
typedef struct TokRank {
    int64_t count;
    ptrdiff_t first;
} TokRank;
static int tok__cmp(const void *a, const void *b) {
    const TokRank *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

int nn_tokenizer_finish(NnTokenizer *tok) {
    TENSOR_CHECK(tok != NULL, "nn_tokenizer_finish: tokenizer is NULL");
    ptrdiff_t n = shlen(tok->words);
    TokRank *order = tensor_xmalloc((size_t)(n ? n : 1) * sizeof *order);
    for (ptrdiff_t i = 0; i < n; i++) order[i] = (TokRank){tok->words[i].value.count, i};
    qsort(order, (size_t)n, sizeof *order, tok__cmp);

    free(tok->index_word);
    tok->index_word = tensor_xcalloc((size_t)n + 2, sizeof *tok->index_word);
    int64_t next = 1;
    if (tok->oov) tok->index_word[next++] = tok->oov;
    for (ptrdiff_t r = 0; r < n; r++) {
        TokEntry *e = &tok->words[order[r].first];
        e->value.index = 0;
        /* A word spelled like the OOV token keeps the OOV index (Keras would give it a
         * second index and leave 1 unused). */
        if (e->value.count < tok->min_count || (tok->oov && strcmp(e->key, tok->oov) == 0)) continue;
        if (next > INT32_MAX) break; /* cannot happen with real memory; ids are int32 */
        e->value.index = (int32_t)next;
        tok->index_word[next++] = e->key;
    }
    free(order);
    tok->vocab = next - 1;
    tok->finished = true;
    if (n == 0) return tensor_set_error("nn_tokenizer_finish: no word was seen");
    if (tok->vocab == (tok->oov ? 1 : 0))
        return tensor_set_error("nn_tokenizer_finish: no word occurs at least min_count = %lld times",
                                (long long)tok->min_count);
    return 0;
}

int64_t nn_tokenizer_vocab_size(const NnTokenizer *tok) {
    TENSOR_CHECK(tok != NULL, "nn_tokenizer_vocab_size: tokenizer is NULL");
    return tok->vocab;
}

/* The index of an already normalised word (0 if unknown or unranked). */
static int32_t tok__lookup(const NnTokenizer *tok, const char *word) {
    if (tok->oov && strcmp(word, tok->oov) == 0) return 1;
    /* shgeti writes a scratch slot in the map header, so concurrent lookups on one
     * tokenizer from several threads are not safe (nn/ callers are single-threaded). */
    TokEntry *words = tok->words;
    ptrdiff_t at = shgeti(words, word);
    return at >= 0 ? words[at].value.index : 0;
}

int32_t nn_tokenizer_index(const NnTokenizer *tok, const char *word) {
    TENSOR_CHECK(tok != NULL && word != NULL, "nn_tokenizer_index: NULL argument");
    if (!tok->finished) return 0;
    if (tok->oov && strcmp(word, tok->oov) == 0) return 1;
    /* Lower-case the query the way texts are (nothing else: "cat." is not "cat"). */
    int64_t len = (int64_t)strlen(word);
    /* Lower-casing at most doubles a character; an invalid byte becomes U+FFFD (3 bytes),
     * as in fitted words. */
    char *norm = tensor_xmalloc((size_t)len * 3 + 1);
    size_t used = 0;
    for (int64_t i = 0; i < len;) {
        uint32_t cp;
        int k = nn__utf8_decode(word + i, len - i, &cp);
        if (k < 0) {
            cp = NN__UTF8_REPLACEMENT, k = 1;
        }
        i += k;
        used += (size_t)nn__utf8_encode(tok->lower ? tok__lower(cp) : cp, norm + used);
    }
    norm[used] = '\0';
    int32_t index = tok__lookup(tok, norm);
    free(norm);
    return index;
}

const char *nn_tokenizer_word(const NnTokenizer *tok, int32_t index) {
    TENSOR_CHECK(tok != NULL, "nn_tokenizer_word: tokenizer is NULL");
    if (!tok->finished || index < 1 || index > tok->vocab) return NULL;
    return tok->index_word[index];
}

int32_t *nn_tokenizer_encode(const NnTokenizer *tok, const char *text, int64_t len,
                             int64_t *out_len) {
    TENSOR_CHECK(tok != NULL, "nn_tokenizer_encode: tokenizer is NULL");
    TENSOR_CHECK(tok->finished, "nn_tokenizer_encode: call nn_tokenizer_finish first");
    TENSOR_CHECK(len >= 0, "nn_tokenizer_encode: negative length %lld", (long long)len);
    TENSOR_CHECK(text != NULL || len == 0, "nn_tokenizer_encode: text is NULL");
    TENSOR_CHECK(out_len != NULL, "nn_tokenizer_encode: out_len is NULL");
    /* A word and its separator take at least 2 bytes, so len / 2 + 1 ids suffice. */
    size_t bytes;
    if ((uint64_t)len > SIZE_MAX ||
        tensor_mul_size((size_t)len / 2 + 1, sizeof(int32_t), &bytes) != 0) {
        tensor_set_error("nn_tokenizer_encode: a text of %lld bytes is too long", (long long)len);
        return NULL;
    }
    int32_t *out = malloc(bytes);
    if (!out) {
        tensor_set_error("nn_tokenizer_encode: out of memory for a text of %lld bytes",
                         (long long)len);
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0;
    int64_t n = 0, pos = 0;
    while (tok__next_word(tok, text, len, &pos, &buf, &cap)) {
        int32_t index = tok__lookup(tok, buf);
        if (index > 0 && (tok->num_words == 0 || index < tok->num_words))
            out[n++] = index;
        else if (tok->oov)
            out[n++] = 1; /* unknown, or ranked past num_words */
    }
    free(buf);
    int32_t *shrunk = realloc(out, (size_t)(n + 1) * sizeof(int32_t));
    if (shrunk) out = shrunk;
    *out_len = n;
    return out;
}

void nn_tokenizer_free(NnTokenizer *tok) {
    if (!tok) return;
    shfree(tok->words);
    arrfree(tok->filter_other);
    free(tok->index_word);
    free(tok->oov);
    free(tok->buf);
    free(tok);
}
