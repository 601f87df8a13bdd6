/* The word2vec corpus: text tokenised like the gensim peer script (ASCII letters
 * lower-cased, everything else a separator, one sentence per line), then a vocabulary
 * ranked by frequency with the rare words dropped from the sentences. */
#include "nn/word2vec/word2vec_internal.h"

#include <stb_ds.h>
#include <stdlib.h>

NnW2vCorpus *nn_w2v_corpus_new(void) {
    NnW2vCorpus *c = tensor_xcalloc(1, sizeof *c);
    sh_new_arena(c->map);
    arrput(c->starts, 0);
    return c;
}

static void corpus_push_char(NnW2vCorpus *c, char ch) {
    if (c->len + 2 > c->cap) c->buf = tensor_xrealloc(c->buf, c->cap = 2 * c->cap + 32);
    c->buf[c->len++] = ch;
}

static void corpus_end_word(NnW2vCorpus *c) {
    if (!c->len) return;
    c->buf[c->len] = 0;
    c->len = 0;
    ptrdiff_t at = shgeti(c->map, c->buf);
    int64_t id = at >= 0 ? c->map[at].value : shlen(c->map);
    if (at < 0) {
        TENSOR_CHECK(id < INT32_MAX, "word2vec corpus: more than 2^31 distinct words");
        shput(c->map, c->buf, id);
        arrput(c->raw_counts, 0);
    }
    c->raw_counts[id]++;
    arrput(c->ids, (int32_t)id);
    c->raw_words++;
}

static void corpus_end_line(NnW2vCorpus *c) {
    corpus_end_word(c);
    if (arrlen(c->ids) > arrlast(c->starts)) arrput(c->starts, arrlen(c->ids)); /* empty lines vanish */
}

int nn_w2v_corpus_add(NnW2vCorpus *c, const char *text, int64_t len) {
    if (c->finished) return tensor_set_error("word2vec corpus: text added after nn_w2v_corpus_finish");
    const unsigned char *s = (const unsigned char *)text;
    for (int64_t i = 0; i < len; i++) {
        unsigned ch = s[i];
        if (ch == '\n' || ch == '\r') {
            corpus_end_line(c);
        } else if ((ch | 32) >= 'a' && (ch | 32) <= 'z') {
            corpus_push_char(c, (char)(ch | 32));
        } else if (ch == 0xC4 && i + 1 < len && s[i + 1] == 0xB0) { /* U+0130 -> "i" + U+0307 */
            corpus_push_char(c, 'i');
            corpus_end_word(c);
            i++;
        } else if (ch == 0xE2 && i + 2 < len && s[i + 1] == 0x84 && s[i + 2] == 0xAA) { /* U+212A -> "k" */
            corpus_push_char(c, 'k');
            i += 2;
        } else {
            corpus_end_word(c);
        }
    }
    corpus_end_line(c); /* a file's last line ends with the file */
    return 0;
}

typedef struct Ranked {
    int64_t count;
    int32_t id;
} Ranked;

static int cmp_ranked(const void *pa, const void *pb) { /* count descending, then first seen */
    const Ranked *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

int nn_w2v_corpus_finish(NnW2vCorpus *c, int64_t min_count) {
    if (c->finished) return tensor_set_error("word2vec corpus: already finished");
    if (min_count < 1) min_count = 1;
    int64_t n_raw = shlen(c->map);
    Ranked *order = tensor_xmalloc((size_t)(n_raw + 1) * sizeof *order);
    int64_t v = 0;
    for (int64_t i = 0; i < n_raw; i++)
        if (c->raw_counts[i] >= min_count) order[v++] = (Ranked){c->raw_counts[i], (int32_t)i};
    if (v == 0) {
        free(order);
        return tensor_set_error("word2vec corpus: no word occurs %lld times or more (%lld words read)",
                                (long long)min_count, (long long)c->raw_words);
    }
    qsort(order, (size_t)v, sizeof *order, cmp_ranked);
    c->remap = tensor_xmalloc((size_t)(n_raw + 1) * sizeof *c->remap);
    for (int64_t i = 0; i < n_raw; i++) c->remap[i] = -1;
    c->words = tensor_xmalloc((size_t)v * sizeof *c->words);
    c->counts = tensor_xmalloc((size_t)v * sizeof *c->counts);
    for (int64_t i = 0; i < v; i++) {
        c->remap[order[i].id] = (int32_t)i;
        c->words[i] = c->map[order[i].id].key; /* raw id == map position: inserted in order */
        c->counts[i] = order[i].count;
    }
    free(order);
    /* Drop rare words in place; sentences left empty disappear. */
    int64_t out = 0, n_sent = 0, from = 0; /* from: the old start of sentence s */
    for (int64_t s = 0; s + 1 < arrlen(c->starts); s++) {
        int64_t begin = out, to = c->starts[s + 1]; /* read before starts[] is rewritten */
        for (int64_t t = from; t < to; t++)
            if (c->remap[c->ids[t]] >= 0) c->ids[out++] = c->remap[c->ids[t]];
        if (out > begin) c->starts[++n_sent] = out;
        from = to;
    }
    arrsetlen(c->starts, n_sent + 1);
    arrsetlen(c->ids, out);
    c->vocab = v;
    c->finished = true;
    return 0;
}

int64_t nn_w2v_corpus_raw_words(const NnW2vCorpus *c) { return c->raw_words; }
int64_t nn_w2v_corpus_words(const NnW2vCorpus *c) { return c->finished ? arrlen(c->ids) : 0; }
int64_t nn_w2v_corpus_vocab_size(const NnW2vCorpus *c) { return c->vocab; }
int64_t nn_w2v_corpus_sentences(const NnW2vCorpus *c) { return nn__w2v_sentences(c); }

const char *nn_w2v_corpus_word(const NnW2vCorpus *c, int64_t id) {
    return id >= 0 && id < c->vocab ? c->words[id] : NULL;
}

int64_t nn_w2v_corpus_count(const NnW2vCorpus *c, int64_t id) {
    return id >= 0 && id < c->vocab ? c->counts[id] : 0;
}

int64_t nn_w2v_corpus_find(const NnW2vCorpus *c, const char *word) {
    RawEntry *map = c->map;
    ptrdiff_t at = c->finished ? shgeti(map, word) : -1;
    return at < 0 ? -1 : c->remap[map[at].value];
}

const int32_t *nn_w2v_corpus_sentence(const NnW2vCorpus *c, int64_t i, int64_t *len) {
    return nn__w2v_sentence(c, i, len);
}

void nn_w2v_corpus_free(NnW2vCorpus *c) {
    if (!c) return;
    shfree(c->map);
    arrfree(c->raw_counts);
    arrfree(c->ids);
    arrfree(c->starts);
    free(c->remap);
    free(c->words);
    free(c->counts);
    free(c->buf);
    free(c);
}
