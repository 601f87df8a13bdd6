/* libFuzzer harness for the evaluation inputs: the analogy and similarity readers
 * (each set then evaluated against a fixed table) and the word2vec vector reader
 * (text, binary, auto), whose tables must survive a write and re-read bit for bit
 * and are then searched and evaluated. Byte 0 picks the reader, the rest is the file. */
#include "nn/nn.h"
#include "nn/io/vectors_io.h"
#include "nn/word2vec/word_eval.h"

#include "fuzz_util.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>

static NnWordVectors *g_table;  /* fixed vectors the fuzzed sets are evaluated against */
static NnAnalogySet *g_analogy; /* fixed sets the fuzzed vectors are evaluated against */
static NnSimilaritySet *g_similarity;
static char g_path2[4200];

static const char *const k_words[] = {"king", "queen", "man", "woman", "paris", "france", "rome", "italy",
                                      "a",    "b",     "c",   "d",     "King",  "MAN",    "x",    "y"};

static void remove_path2(void) { unlink(g_path2); }

static void fixed_inputs(void) {
    int n = (int)(sizeof k_words / sizeof *k_words);
    g_table = nn_word_vectors_new(n, 4);
    for (int i = 0; i < n; i++) {
        g_table->words[i] = strdup(k_words[i]);
        for (int k = 0; k < 4; k++) g_table->vectors[i * 4 + k] = (float)((i * 7 + k * 3) % 11) - 5.0f;
    }
    g_table->vectors[15 * 4 + 0] = g_table->vectors[15 * 4 + 1] = 0; /* "y" is a zero row */
    g_table->vectors[15 * 4 + 2] = g_table->vectors[15 * 4 + 3] = 0;
    if (nn_word_vectors_finish(g_table) != 0) abort();
    const char *path = fuzz_path("eval");
    static const char analogy[] = ": capitals\nparis france rome italy\nrome italy paris france\n"
                                  ": gender\nking queen man woman\nKING QUEEN MAN WOMAN\na b c d\nman woman x y\n";
    fuzz_write(path, analogy, sizeof analogy - 1);
    g_analogy = nn_analogy_read(path);
    static const char similarity[] = "# w1\tw2\tscore\nking\tqueen\t8.5\nman\twoman\t8.3\nparis\trome\t6\n"
                                     "a\tb\t1\nx\ty\t0.5\nking\tx\t2\n";
    fuzz_write(path, similarity, sizeof similarity - 1);
    g_similarity = nn_similarity_read(path);
    if (!g_analogy || !g_similarity) abort();
    snprintf(g_path2, sizeof g_path2, "%s.out", path);
    atexit(remove_path2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    fixed_inputs();
    return 0;
}

static bool has_space(const char *w) {
    for (; *w; w++)
        if (isspace((unsigned char)*w)) return true;
    return false;
}

static void check_analogy(const NnWordVectors *wv, NnAnalogySet *set, int64_t restrict_rows) {
    for (int64_t i = 0; i < set->n_questions; i++) {
        const NnAnalogyQuestion *q = &set->questions[i];
        FUZZ_ASSERT(q->section >= 0 && q->section < set->n_sections, "section %d of %d", q->section, set->n_sections);
        for (int k = 0; k < 4; k++) FUZZ_ASSERT(*q->w[k] && !has_space(q->w[k]), "word '%s'", q->w[k]);
    }
    double acc = nn_analogy_evaluate(wv, set, restrict_rows);
    int64_t asked = set->correct + set->incorrect;
    FUZZ_ASSERT(asked + set->skipped == set->n_questions, "%lld asked + %lld skipped of %lld", (long long)asked,
                (long long)set->skipped, (long long)set->n_questions);
    FUZZ_ASSERT(asked ? acc >= 0 && acc <= 1 : isnan(acc), "accuracy %g", acc);
    int64_t c = 0, w = 0, s = 0;
    for (int i = 0; i < set->n_sections; i++)
        c += set->sections[i].correct, w += set->sections[i].incorrect, s += set->sections[i].skipped;
    FUZZ_ASSERT(c == set->correct && w == set->incorrect && s == set->skipped, "section sums");
}

static void check_similarity(const NnWordVectors *wv, NnSimilaritySet *set) {
    for (int64_t i = 0; i < set->n_pairs; i++) {
        const NnSimilarityPair *p = &set->pairs[i];
        FUZZ_ASSERT(*p->w1 && *p->w2 && !strchr(p->w1, '\t') && !strchr(p->w2, '\t') && isfinite(p->score),
                    "pair %lld", (long long)i);
    }
    double rho = nn_similarity_evaluate(wv, set);
    FUZZ_ASSERT(set->used + set->skipped == set->n_pairs, "used + skipped");
    FUZZ_ASSERT(isnan(rho) || (rho >= -1.0000001 && rho <= 1.0000001), "rho %g", rho);
}

/* Written then read back, a table must give the same words and the same bits. */
static void check_round_trip(const NnWordVectors *wv, bool binary) {
    if (nn_vectors_write(wv, g_path2, binary) != 0) return; /* disk trouble: not the reader's fault */
    NnWordVectors *back = nn_vectors_read(g_path2, binary ? NN_VECTORS_BINARY : NN_VECTORS_AUTO);
    FUZZ_ASSERT(back != NULL, "re-reading a written %s table: %s", binary ? "binary" : "text", tensor_last_error());
    FUZZ_ASSERT(back->size == wv->size && back->dim == wv->dim, "%lld x %lld came back as %lld x %lld",
                (long long)wv->size, (long long)wv->dim, (long long)back->size, (long long)back->dim);
    for (int64_t i = 0; i < wv->size; i++) {
        FUZZ_ASSERT(strcmp(back->words[i], wv->words[i]) == 0, "word %lld", (long long)i);
        for (int64_t k = 0; k < wv->dim; k++) {
            float a = wv->vectors[i * wv->dim + k], b = back->vectors[i * wv->dim + k];
            FUZZ_ASSERT((isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0, "row %lld: %.9g came back as %.9g",
                        (long long)i, a, b);
        }
    }
    nn_word_vectors_free(back);
}

static void check_vectors(NnWordVectors *wv) {
    FUZZ_ASSERT(wv->size >= 0 && wv->dim >= 1, "size %lld x %lld", (long long)wv->size, (long long)wv->dim);
    for (int64_t i = 0; i < wv->size; i++) {
        FUZZ_ASSERT(wv->words[i] && *wv->words[i] && !has_space(wv->words[i]), "word %lld", (long long)i);
        FUZZ_ASSERT(nn_word_vectors_find(wv, wv->words[i]) == i, "find('%s')", wv->words[i]);
    }
    check_round_trip(wv, false);
    check_round_trip(wv, true);
    if (wv->size >= 1) {
        int64_t rows[3];
        float cos[3];
        int64_t n = nn_nearest_to_row(wv, 0, 3, rows, cos);
        FUZZ_ASSERT(n >= 0 && n <= 3 && n <= wv->size - 1, "nearest gave %lld", (long long)n);
        for (int64_t i = 0; i < n; i++) FUZZ_ASSERT(rows[i] > 0 && rows[i] < wv->size, "row %lld", (long long)rows[i]);
    }
    if (wv->size >= 3) nn_analogy(wv, 0, 1, 2, 2, 0, NULL, NULL);
    check_analogy(wv, g_analogy, 0);
    check_similarity(wv, g_similarity);
    if (wv->size >= 1 && wv->dim <= 32 && wv->size <= 512) {
        float *xy = malloc((size_t)wv->size * 2 * sizeof *xy);
        FUZZ_ASSERT(nn_word_vectors_pca2(wv, wv->size, xy) == 0, "pca: %s", tensor_last_error());
        free(xy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned mode = data[0];
    const char *path = fuzz_path("eval");
    fuzz_write(path, data + 1, size - 1);
    static const int64_t restricts[4] = {0, 1, 3, 100};
    tensor_clear_error();
    switch (mode & 3) {
    case 0: {
        NnAnalogySet *set = nn_analogy_read(path);
        if (!set) { /* a file without a question is refused, and says so */
            FUZZ_ASSERT(strstr(tensor_last_error(), "no analogy question"), "analogy_read: %s", tensor_last_error());
            break;
        }
        check_analogy(g_table, set, restricts[(mode >> 4) & 3]);
        nn_analogy_set_free(set);
        break;
    }
    case 1: {
        NnSimilaritySet *set = nn_similarity_read(path);
        if (!set) { /* a file without a pair is refused, and says so */
            FUZZ_ASSERT(strstr(tensor_last_error(), "no word pair"), "similarity_read: %s", tensor_last_error());
            break;
        }
        check_similarity(g_table, set);
        nn_similarity_set_free(set);
        break;
    }
    default: {
        static const NnVectorsFormat formats[4] = {NN_VECTORS_AUTO, NN_VECTORS_TEXT, NN_VECTORS_BINARY,
                                                   NN_VECTORS_AUTO};
        NnWordVectors *wv = nn_vectors_read(path, formats[(mode >> 2) & 3]);
        if (wv) check_vectors(wv);
        else FUZZ_ASSERT(*tensor_last_error(), "a refused vector file set no error");
        nn_word_vectors_free(wv);
        break;
    }
    }
    return 0;
}
