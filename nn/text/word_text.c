/* The word-model text pipeline (see word_text.h): punctuation to spaces and curly
 * apostrophes to '\'' in one pass, then NnTokenizer (no filters of its own) does the
 * lower-casing, splitting on whitespace, counting and ranking. */
#include "nn/text/word_text.h"
#include "nn/text/utf8_internal.h"

#include "tensor/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* What a code point becomes: '\'' for an apostrophe, ' ' for punctuation, 0 to keep. */
static char wt__map(uint32_t cp) {
    if (cp < 128) {
        if (cp == '-' || cp == '\'') return 0;
        bool punct = (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') ||
                     (cp >= '{' && cp <= '~');
        return punct ? ' ' : 0;
    }
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x201B || cp == 0x02BC) return '\'';
    if (cp == 0x2010 || cp == 0x2011) return '-'; /* Unicode hyphens are hyphens */
    /* Latin-1 punctuation and symbols: ¡ ¦ § ¨ « ¬ ¯ ´ ¶ · ¸ » ¿, and no-break space. */
    if (cp == 0xA0 || cp == 0xA1 || cp == 0xA6 || cp == 0xA7 || cp == 0xA8 || cp == 0xAB || cp == 0xAC ||
        cp == 0xAF || cp == 0xB4 || cp == 0xB6 || cp == 0xB7 || cp == 0xB8 || cp == 0xBB || cp == 0xBF)
        return ' ';
    if (cp >= 0x2000 && cp <= 0x206F) return ' '; /* General Punctuation: spaces, dashes, quotes, ... */
    if (cp == 0x3000 || cp == 0xFEFF) return ' '; /* ideographic space, byte-order mark */
    return 0;
}

char *nn_word_text_normalize(const char *text, int64_t len, int64_t *out_len) {
    TENSOR_CHECK(len >= 0 && (text != NULL || len == 0) && out_len != NULL,
                 "nn_word_text_normalize: bad arguments (text %p, len %lld)", (const void *)text, (long long)len);
    /* Each mapping shortens or keeps a character, except an invalid byte, which becomes
     * U+FFFD (3 bytes). */
    TENSOR_CHECK((uint64_t)len <= (SIZE_MAX - 1) / 3, "nn_word_text_normalize: text too long (%lld bytes)",
                 (long long)len);
    char *out = tensor_xmalloc((size_t)len * 3 + 1);
    int64_t n = 0;
    for (int64_t i = 0; i < len;) {
        uint32_t cp;
        int k = nn__utf8_decode(text + i, len - i, &cp);
        if (k < 0) { /* an invalid byte: U+FFFD, a letter to the tokenizer, never malformed output */
            n += nn__utf8_encode(NN__UTF8_REPLACEMENT, out + n);
            i++;
            continue;
        }
        char c = wt__map(cp);
        if (c) {
            out[n++] = c;
        } else {
            memcpy(out + n, text + i, (size_t)k);
            n += k;
        }
        i += k;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

NnTokenizer *nn_word_text_tokenizer(const char *text, int64_t len, int64_t rare_max) {
    if (rare_max < 0) {
        tensor_set_error("nn_word_text_tokenizer: rare_max must be >= 0 (got %lld)", (long long)rare_max);
        return NULL;
    }
    int64_t n;
    char *norm = nn_word_text_normalize(text, len, &n);
    NnTokenizer *tok = nn_tokenizer(.oov_token = NN_WORD_UNKNOWN, .filters = "", .min_count = rare_max + 1);
    nn_tokenizer_fit(tok, norm, n);
    free(norm);
    if (nn_tokenizer_finish(tok) != 0) {
        nn_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}

static bool wt__space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Appends word to the ", "-separated list *list unless it is already there. */
static void wt__note_unknown(char **list, size_t *used, const char *word) {
    size_t wl = strlen(word);
    for (const char *p = *list; p && (p = strstr(p, word)) != NULL; p += wl) {
        bool starts = p == *list || (p >= *list + 2 && p[-2] == ',' && p[-1] == ' ');
        if (starts && (p[wl] == '\0' || p[wl] == ',')) return;
    }
    *list = tensor_xrealloc(*list, *used + wl + 3);
    if (*used) {
        memcpy(*list + *used, ", ", 2);
        *used += 2;
    }
    memcpy(*list + *used, word, wl + 1);
    *used += wl;
}

int32_t *nn_word_text_encode(const NnTokenizer *tok, const char *text, int64_t len, int64_t *out_len,
                             char **unknown) {
    TENSOR_CHECK(tok != NULL && out_len != NULL, "nn_word_text_encode: NULL tokenizer or out_len");
    int64_t n;
    char *norm = nn_word_text_normalize(text, len, &n);
    /* A word and its separator take at least 2 bytes. */
    int32_t *ids = malloc(((size_t)n / 2 + 1) * sizeof *ids);
    if (!ids) {
        free(norm);
        tensor_set_error("nn_word_text_encode: out of memory for a text of %lld bytes", (long long)len);
        return NULL;
    }
    char *list = NULL;
    size_t used = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < n;) {
        while (i < n && (wt__space(norm[i]) || norm[i] == '\0')) i++;
        int64_t start = i;
        while (i < n && !wt__space(norm[i]) && norm[i] != '\0') i++;
        if (i == start) break;
        char saved = norm[i];
        norm[i] = '\0'; /* the word as a C string, in place */
        int32_t id = nn_tokenizer_index(tok, norm + start);
        if (id <= 0) {
            id = NN_WORD_UNKNOWN_ID;
            if (unknown) wt__note_unknown(&list, &used, norm + start);
        }
        ids[count++] = id;
        norm[i] = saved;
    }
    free(norm);
    if (unknown)
        *unknown = list;
    else
        free(list);
    *out_len = count;
    return ids;
}
