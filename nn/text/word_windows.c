/* Word-level helpers (see word_windows.h): the notebook's line joining and whitespace
 * collapsing, phrase splitting like the tokenizer, and a vocabulary file beside the
 * weights. */
#include "nn/io/atomic_file_internal.h"
#include "nn/text/utf8_internal.h"
#include "nn/text/word_windows.h"

#include <errno.h>
#include <stb_ds.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static const char ww__default_filters[] = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/* Whitespace as Python's str.split() sees it. */
static bool ww__is_space(uint32_t cp) {
    if (cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1C && cp <= 0x1F)) return true;
    if (cp < 0x85) return false;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Decodes the character at text[i]: its code point and byte count; an invalid byte
 * is one "character" with code point 0xFFFFFFFF (never a space or a filter). */
static int ww__char(const char *text, int64_t len, int64_t i, uint32_t *cp) {
    int k = nn__utf8_decode(text + i, len - i, cp);
    if (k > 0) return k;
    *cp = 0xFFFFFFFFu;
    return 1;
}

char *nn_text_join_lines(const char *text, int64_t len, int64_t *out_len) {
    TENSOR_CHECK(len >= 0 && (text != NULL || len == 0), "nn_text_join_lines: bad text (len %lld)", (long long)len);
    TENSOR_CHECK(out_len != NULL, "nn_text_join_lines: out_len is NULL");
    char *out = tensor_xmalloc((size_t)len + 1); /* never longer than the input */
    int64_t n = 0;
    bool pending_space = false; /* a whitespace run seen after some word character */
    for (int64_t i = 0; i < len;) {
        uint32_t cp;
        int k = ww__char(text, len, i, &cp);
        if (cp == 0xFEFF) { /* removed outright: it joins what is on either side */
            i += k;
            continue;
        }
        if (ww__is_space(cp)) { /* line breaks become spaces, as the join puts one there */
            pending_space = n > 0;
            i += k;
            continue;
        }
        if (pending_space) out[n++] = ' ';
        pending_space = false;
        memcpy(out + n, text + i, (size_t)k);
        n += k;
        i += k;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* Whether cp is one of the filter code points (a small list: linear search). */
static bool ww__in(const uint32_t *set, int64_t n, uint32_t cp) {
    for (int64_t i = 0; i < n; i++)
        if (set[i] == cp) return true;
    return false;
}

char **nn_text_split_words(const char *text, int64_t len, const char *filters, int64_t *n) {
    TENSOR_CHECK(len >= 0 && (text != NULL || len == 0), "nn_text_split_words: bad text (len %lld)", (long long)len);
    TENSOR_CHECK(n != NULL, "nn_text_split_words: n is NULL");
    const char *f = filters ? filters : ww__default_filters;
    int64_t flen = (int64_t)strlen(f), nf = 0;
    uint32_t *set = tensor_xmalloc((size_t)(flen + 1) * sizeof *set);
    for (int64_t i = 0; i < flen;) {
        uint32_t cp;
        i += ww__char(f, flen, i, &cp);
        if (cp != 0xFFFFFFFFu) set[nf++] = cp;
    }
    char **words = tensor_xmalloc(sizeof *words); /* grown as words appear */
    int64_t count = 0, cap = 1, start = -1;
    for (int64_t i = 0; i <= len;) {
        uint32_t cp = ' ';
        int k = 1;
        if (i < len) k = ww__char(text, len, i, &cp);
        bool sep = cp == 0 || ww__is_space(cp) || ww__in(set, nf, cp);
        if (!sep && start < 0) start = i;
        if (sep && start >= 0) {
            if (count == cap) words = tensor_xrealloc(words, (size_t)(cap *= 2) * sizeof *words);
            char *w = tensor_xmalloc((size_t)(i - start) + 1);
            memcpy(w, text + start, (size_t)(i - start));
            w[i - start] = '\0';
            words[count++] = w;
            start = -1;
        }
        i += k;
    }
    free(set);
    *n = count;
    return words;
}

void nn_text_words_free(char **words, int64_t n) {
    if (!words) return;
    for (int64_t i = 0; i < n; i++) free(words[i]);
    free(words);
}

int nn_vocab_save(const NnTokenizer *tok, const char *path, const char *header) {
    TENSOR_CHECK(tok != NULL && path != NULL, "nn_vocab_save: NULL argument");
    int64_t v = nn_tokenizer_vocab_size(tok);
    if (v < 1) return tensor_set_error("nn_vocab_save: %s: the tokenizer has no words (call nn_tokenizer_finish)", path);
    if (header && strpbrk(header, "\r\n")) return tensor_set_error("nn_vocab_save: %s: the header has a line break", path);
    for (int64_t i = 1; i <= v; i++) {
        const char *w = nn_tokenizer_word(tok, (int32_t)i);
        if (!w || !*w || strpbrk(w, "\r\n"))
            return tensor_set_error("nn_vocab_save: %s: word %lld cannot be written one per line", path, (long long)i);
    }
    NnAtomicFile af;
    if (nn_atomic_file_open(&af, path) != 0) return -1;
    bool ok = fprintf(af.f, "#%s\n", header ? header : "") >= 0;
    for (int64_t i = 1; ok && i <= v; i++) ok = fprintf(af.f, "%s\n", nn_tokenizer_word(tok, (int32_t)i)) >= 0;
    if (!ok) tensor_set_error("nn_vocab_save: cannot write %s", path);
    return nn_atomic_file_commit(&af, ok);
}

/* The vocabulary file is read by fitting a tokenizer on its words: each occurs once,
 * so the ranking keeps the file's order; a check afterwards proves every word kept
 * its line's index (the options split or changed none). */
NnTokenizer *nn_vocab_load(const char *path, const NnTokenizerOpts *opts, char *header, size_t header_len) {
    TENSOR_CHECK(path != NULL, "nn_vocab_load: path is NULL");
    int64_t len;
    char *text = nn_read_file(path, &len);
    if (!text) return NULL;
    if (len == 0 || text[0] != '#') {
        free(text);
        tensor_set_error("nn_vocab_load: %s: not a vocabulary file (no '#' header line)", path);
        return NULL;
    }
    /* Cut the text into NUL-terminated lines in place (a final newline ends the last). */
    char **lines = NULL;
    int64_t n_lines = 0;
    for (char *p = text; p < text + len;) {
        char *end = memchr(p, '\n', (size_t)(text + len - p));
        if (!end) end = text + len;
        *end = '\0';
        if (end > p && end[-1] == '\r') end[-1] = '\0';
        lines = tensor_xrealloc(lines, (size_t)(n_lines + 1) * sizeof *lines);
        lines[n_lines++] = p;
        p = end + 1;
    }
    if (header && header_len) snprintf(header, header_len, "%s", lines[0] + 1);
    NnTokenizerOpts o = opts ? *opts : (NnTokenizerOpts){0};
    o.min_count = 0;
    NnTokenizer *tok = nn_tokenizer_new(&o);
    struct { char *key; int value; } *seen = NULL;
    sh_new_arena(seen);
    const char *err = NULL;
    int64_t bad = 0; /* the line at fault, 1-based */
    for (int64_t i = 1; tok && i < n_lines && !err; i++) {
        if (!*lines[i]) err = "an empty word", bad = i + 1;
        else if (shgeti(seen, lines[i]) >= 0) err = "a repeated word", bad = i + 1;
        shput(seen, lines[i], 1);
        /* The OOV token has index 1 without being fitted (and may hold filter characters). */
        if (!o.oov_token || strcmp(lines[i], o.oov_token) != 0)
            nn_tokenizer_fit(tok, lines[i], (int64_t)strlen(lines[i]));
    }
    if (tok && !err && (n_lines < 2 || nn_tokenizer_finish(tok) != 0)) err = "no words", bad = n_lines;
    for (int64_t i = 1; tok && !err && i < n_lines; i++) {
        const char *have = nn_tokenizer_word(tok, (int32_t)i);
        if (!have || strcmp(have, lines[i]) != 0) err = "a word the tokenizer would split or change", bad = i + 1;
    }
    if (tok && !err && nn_tokenizer_vocab_size(tok) != n_lines - 1)
        err = "a word the tokenizer would split or change", bad = n_lines;
    if (err) {
        tensor_set_error("nn_vocab_load: %s: line %lld: %s ('%s')", path, (long long)bad, err,
                         bad >= 1 && bad <= n_lines ? lines[bad - 1] : "");
        nn_tokenizer_free(tok);
        tok = NULL;
    }
    shfree(seen);
    free(lines);
    free(text);
    return tok;
}
