/* The test-set readers: questions-words.txt analogies and WordSim-353 / SimLex-999
 * word pairs, tolerant of malformed lines (counted, not fatal). */
#include "nn/word2vec/word_eval.h"

#include "nn/text/text.h"
#include "tensor/error.h"

#include <ctype.h>
#include <math.h>
#include <stb_ds.h>
#include <stdlib.h>
#include <string.h>


/* Calls line(user, b, e) for each line of the file without its "\n" / "\r\n". */
static int for_each_line(const char *path, void (*line)(void *, char *, char *), void *user) {
    int64_t len;
    char *text = nn_read_file(path, &len);
    if (!text) return -1;
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        if (e > p && e[-1] == '\r') e--;
        *e = 0;
        line(user, p, e);
        p = nl ? nl + 1 : end;
    }
    free(text);
    return 0;
}

static char *dup_range(const char *b, const char *e) {
    char *s = tensor_xmalloc((size_t)(e - b) + 1);
    memcpy(s, b, (size_t)(e - b));
    s[e - b] = 0;
    return s;
}

static void analogy_line(void *user, char *b, char *e) {
    NnAnalogySet *set = user;
    if (strlen(b) != (size_t)(e - b)) { /* a NUL byte would silently end the line early */
        set->malformed++;
        return;
    }
    if (*b == ':') { /* ": section-name", stripped like gensim's lstrip(': ').strip() */
        while (b < e && (*b == ':' || *b == ' ')) b++;
        while (e > b && isspace((unsigned char)e[-1])) e--;
        arrput(set->sections, ((NnAnalogySection){.name = dup_range(b, e)}));
        set->n_sections++;
        return;
    }
    char *tok[5], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(b, " \t\v\f\r", &save); t && n < 5; t = strtok_r(NULL, " \t\v\f\r", &save))
        tok[n++] = t;
    if (n == 0) return;
    if (n != 4) {
        set->malformed++;
        return;
    }
    if (set->n_sections == 0) {
        static const char unnamed[] = "(no section)";
        arrput(set->sections, ((NnAnalogySection){.name = dup_range(unnamed, unnamed + strlen(unnamed))}));
        set->n_sections++;
    }
    NnAnalogyQuestion q = {.section = set->n_sections - 1};
    for (int i = 0; i < 4; i++) q.w[i] = dup_range(tok[i], tok[i] + strlen(tok[i]));
    arrput(set->questions, q);
    set->n_questions++;
}

NnAnalogySet *nn_analogy_read(const char *path) {
    NnAnalogySet *set = tensor_xcalloc(1, sizeof *set);
    if (for_each_line(path, analogy_line, set) != 0) {
        free(set);
        return NULL;
    }
    if (set->n_questions == 0) { /* an empty or foreign file would score NaN: say why instead */
        tensor_set_error("%s: no analogy question (a line of four words \"a b c d\") in the file (%lld malformed "
                         "line%s)",
                         path, (long long)set->malformed, set->malformed == 1 ? "" : "s");
        nn_analogy_set_free(set);
        return NULL;
    }
    return set;
}

void nn_analogy_set_free(NnAnalogySet *set) {
    if (!set) return;
    for (int64_t i = 0; i < set->n_questions; i++)
        for (int k = 0; k < 4; k++) free(set->questions[i].w[k]);
    for (int i = 0; i < set->n_sections; i++) free(set->sections[i].name);
    arrfree(set->questions);
    arrfree(set->sections);
    free(set);
}

static char *trim(char *b, char *e) {
    while (b < e && isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) e--;
    *e = 0;
    return b;
}

static void similarity_line(void *user, char *b, char *e) {
    NnSimilaritySet *set = user;
    if (*b == '#') return;
    if (strlen(b) != (size_t)(e - b)) { /* a NUL byte would silently cut a word or the score short */
        set->malformed++;
        return;
    }
    if (trim(b, e)[0] == 0) return;
    char *t1 = memchr(b, '\t', (size_t)(e - b)), *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(e - t1 - 1)) : NULL;
    if (!t2 || memchr(t2 + 1, '\t', (size_t)(e - t2 - 1))) {
        set->malformed++;
        return;
    }
    char *w1 = trim(b, t1), *w2 = trim(t1 + 1, t2), *num = trim(t2 + 1, e), *stop;
    double score = strtod(num, &stop);
    if (!*w1 || !*w2 || stop == num || *stop || !isfinite(score)) {
        set->malformed++;
        return;
    }
    NnSimilarityPair p = {dup_range(w1, w1 + strlen(w1)), dup_range(w2, w2 + strlen(w2)), score};
    arrput(set->pairs, p);
    set->n_pairs++;
}

NnSimilaritySet *nn_similarity_read(const char *path) {
    NnSimilaritySet *set = tensor_xcalloc(1, sizeof *set);
    if (for_each_line(path, similarity_line, set) != 0) {
        free(set);
        return NULL;
    }
    if (set->n_pairs == 0) {
        tensor_set_error("%s: no word pair (a line \"word1<TAB>word2<TAB>score\") in the file (%lld malformed "
                         "line%s)",
                         path, (long long)set->malformed, set->malformed == 1 ? "" : "s");
        nn_similarity_set_free(set);
        return NULL;
    }
    return set;
}

void nn_similarity_set_free(NnSimilaritySet *set) {
    if (!set) return;
    for (int64_t i = 0; i < set->n_pairs; i++) {
        free(set->pairs[i].w1);
        free(set->pairs[i].w2);
    }
    arrfree(set->pairs);
    free(set);
}
