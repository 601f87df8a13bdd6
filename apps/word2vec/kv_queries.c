/* word2vec's gensim-style queries: --most-similar (3CosMul with --cosmul),
 * --doesnt-match, --similarity and --n-similarity. Their word lists are read from the
 * option values (checked before any training), answered by nn_kv_*, printed, and
 * kept for --json. */
#include "word2vec/word2vec_internal.h"

#include "common/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 64

typedef enum { Q_MOST_SIMILAR, Q_DOESNT_MATCH, Q_SIMILARITY, Q_N_SIMILARITY } QueryKind;

static const char *const FLAG[] = {"--most-similar", "--doesnt-match", "--similarity", "--n-similarity"};

/* An option value cut into two word lists: most-similar's positive and negative
 * words, n-similarity's two lists, the other queries' one list (in a). */
typedef struct WordLists {
    char buf[1024];
    const char *a[MAX_WORDS], *b[MAX_WORDS];
    int na, nb;
} WordLists;

struct KvAnswer {
    QueryKind kind;
    const char *value; /* the option value */
    int64_t n, *rows;  /* most_similar: the neighbours */
    float *scores;
    double score;      /* similarity, n_similarity */
    const char *odd;   /* doesnt_match's answer */
    char *error;       /* why it could not be answered (heap), or NULL */
};

/* Appends the words of [s, ...) separated by any of seps to list; false when full. */
static bool add_words(char *s, const char *seps, const char **list, int *n) {
    for (char *save = NULL, *w = strtok_r(s, seps, &save); w; w = strtok_r(NULL, seps, &save)) {
        if (*n == MAX_WORDS) return false;
        list[(*n)++] = w;
    }
    return true;
}

/* Cuts value into lists as kind reads it; NULL, or what is wrong with the value. */
static const char *parse_lists(QueryKind kind, const char *value, WordLists *l) {
    *l = (WordLists){0};
    if (strlen(value) >= sizeof l->buf) return "too long";
    strcpy(l->buf, value);
    if (kind == Q_N_SIMILARITY) { /* "a,b c,d": two lists apart, words in a list by commas */
        char *save = NULL, *first = strtok_r(l->buf, " \t", &save), *second = strtok_r(NULL, " \t", &save);
        if (!first || !second || strtok_r(NULL, " \t", &save)) return "expected two lists \"a,b c,d\"";
        if (!add_words(first, ",", l->a, &l->na) || !add_words(second, ",", l->b, &l->nb)) return "too many words";
        return l->na && l->nb ? NULL : "expected two lists \"a,b c,d\"";
    }
    if (!add_words(l->buf, ", \t", l->a, &l->na)) return "too many words";
    if (kind == Q_SIMILARITY) return l->na == 2 ? NULL : "expected two words \"a,b\"";
    if (kind == Q_DOESNT_MATCH) return l->na ? NULL : "expected a list of words \"a,b,c\"";
    int n = l->na; /* most-similar: words with a leading '-' are the negative ones */
    l->na = 0;
    for (int i = 0; i < n; i++) {
        const char *w = l->a[i];
        bool negative = w[0] == '-';
        if (negative || w[0] == '+') w++;
        if (!*w) return "a lone '-' or '+'";
        if (negative) l->b[l->nb++] = w;
        else l->a[l->na++] = w;
    }
    return l->na + l->nb ? NULL : "expected words \"king,woman -man\"";
}

static int option_values(const Options *o, QueryKind kind, const char *const **values) {
    switch (kind) {
    case Q_MOST_SIMILAR: *values = o->most_similar; return o->n_most_similar;
    case Q_DOESNT_MATCH: *values = o->doesnt_match; return o->n_doesnt_match;
    case Q_SIMILARITY: *values = o->similarity; return o->n_similarity_queries;
    default: *values = o->n_similarity; return o->n_n_similarity;
    }
}

bool kv_queries_valid(const Options *o) {
    for (int kind = Q_MOST_SIMILAR; kind <= Q_N_SIMILARITY; kind++) {
        const char *const *values;
        int n = option_values(o, kind, &values);
        for (int i = 0; i < n; i++) {
            WordLists l;
            const char *why = parse_lists(kind, values[i], &l);
            if (!why && kind == Q_MOST_SIMILAR && o->cosmul && l.na == 0)
                why = "--cosmul needs a positive word (3CosMul divides by the negative ones)";
            if (why) {
                fprintf(stderr, APP ": invalid value '%s' for %s: %s\n", values[i], FLAG[kind], why);
                return false;
            }
        }
    }
    return true;
}

/* The vocabulary's spelling of each word (exact, else lower-case); unknown words are
 * kept as given, for the library to name. */
static void spell(const NnWordVectors *wv, const char **words, int n) {
    for (int i = 0; i < n; i++) {
        const char *known = vocabulary_word(wv, words[i]);
        if (known) words[i] = known;
    }
}

/* "[a, b]" into buf. */
static const char *listed(const char *const *words, int n, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && len < cap; i++) len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", words[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
    return buf;
}

static int answer_most_similar(const Options *o, const NnWordVectors *wv, WordLists *l, KvAnswer *a) {
    NnKvQuery q = {.positive = l->a, .n_positive = l->na, .negative = l->b, .n_negative = l->nb, .topn = o->topn,
                   .restrict_vocab = o->restrict_vocab};
    a->rows = malloc((size_t)o->topn * sizeof *a->rows);
    a->scores = malloc((size_t)o->topn * sizeof *a->scores);
    if (!a->rows || !a->scores) return tensor_set_error("--topn %lld: out of memory", (long long)o->topn);
    a->n = (o->cosmul ? nn_kv_most_similar_cosmul : nn_kv_most_similar)(wv, &q, a->rows, a->scores);
    if (a->n < 0) return -1;
    char what[1200], pos[512], neg[512];
    snprintf(what, sizeof what, "%s(positive=%s, negative=%s)", o->cosmul ? "most_similar_cosmul" : "most_similar",
             listed(l->a, l->na, pos, sizeof pos), listed(l->b, l->nb, neg, sizeof neg));
    print_neighbours(wv, what, a->n, a->rows, a->scores);
    return 0;
}

/* One query, printed; -1 (tensor_last_error set) when it cannot be answered. */
static int answer(const Options *o, const NnWordVectors *wv, KvAnswer *a) {
    WordLists l;
    char one[512], two[512];
    parse_lists(a->kind, a->value, &l); /* checked by kv_queries_valid */
    spell(wv, l.a, l.na);
    spell(wv, l.b, l.nb);
    switch (a->kind) {
    case Q_MOST_SIMILAR: return answer_most_similar(o, wv, &l, a);
    case Q_DOESNT_MATCH: {
        int odd = nn_kv_doesnt_match(wv, l.a, l.na);
        if (odd < 0) return -1;
        a->odd = l.a[odd]; /* every word was known, so spell() made it the vocabulary's string */
        printf("doesnt_match(%s): %s\n", listed(l.a, l.na, one, sizeof one), l.a[odd]);
        return 0;
    }
    case Q_SIMILARITY:
        if (nn_kv_similarity(wv, l.a[0], l.a[1], &a->score) != 0) return -1;
        printf("similarity(%s, %s): %.6f\n", l.a[0], l.a[1], a->score);
        return 0;
    default:
        if (nn_kv_n_similarity(wv, l.a, l.na, l.b, l.nb, &a->score) != 0) return -1;
        printf("n_similarity(%s, %s): %.6f\n", listed(l.a, l.na, one, sizeof one), listed(l.b, l.nb, two, sizeof two),
               a->score);
        return 0;
    }
}

int run_kv_queries(const Options *o, const NnWordVectors *wv, KvAnswers *answers) {
    int status = APP_EXIT_OK;
    *answers = (KvAnswers){calloc(4 * MAX_LIST, sizeof(KvAnswer)), 0};
    if (!answers->items) return APP_EXIT_FAILURE;
    for (int kind = Q_MOST_SIMILAR; kind <= Q_N_SIMILARITY; kind++) {
        const char *const *values;
        int n = option_values(o, kind, &values);
        for (int i = 0; i < n; i++) {
            KvAnswer *a = &answers->items[answers->n++];
            *a = (KvAnswer){.kind = kind, .value = values[i], .score = NAN};
            if (answer(o, wv, a) != 0) {
                fprintf(stderr, APP ": %s '%s': %s\n", FLAG[kind], values[i], tensor_last_error());
                status = APP_EXIT_FAILURE;
                a->error = strdup(tensor_last_error());
            }
        }
    }
    return status;
}

static const char *const KIND_NAME[] = {"most_similar", "doesnt_match", "similarity", "n_similarity"};

/* {"query": "most_similar", "words": "king,woman -man", "results": [["queen", 0.71], ...]};
 * a query that failed has "error": "why" instead of its answer. */
static void answer_json(const NnWordVectors *wv, const KvAnswer *a, bool cosmul, AppJson *json) {
    app_json_open(json, NULL, '{');
    app_json_string(json, "query", a->kind == Q_MOST_SIMILAR && cosmul ? "most_similar_cosmul" : KIND_NAME[a->kind]);
    app_json_string(json, "words", a->value);
    if (a->error) {
        app_json_string(json, "error", a->error);
    } else if (a->kind == Q_MOST_SIMILAR) {
        app_json_open(json, "results", '[');
        for (int64_t i = 0; i < a->n; i++) {
            app_json_open(json, NULL, '[');
            app_json_string(json, NULL, wv->words[a->rows[i]]);
            app_json_number(json, NULL, a->scores[i]);
            app_json_close(json, ']');
        }
        app_json_close(json, ']');
    } else if (a->kind == Q_DOESNT_MATCH) {
        app_json_string(json, "answer", a->odd);
    } else {
        app_json_number(json, "score", a->score);
    }
    app_json_close(json, '}');
}

void kv_answers_json(const Options *o, const NnWordVectors *wv, const KvAnswers *answers, AppJson *json) {
    if (answers->n == 0) return;
    app_json_open(json, "queries", '[');
    for (int i = 0; i < answers->n; i++) answer_json(wv, &answers->items[i], o->cosmul, json);
    app_json_close(json, ']');
}

void kv_answers_free(KvAnswers *answers) {
    for (int i = 0; i < answers->n; i++) {
        free(answers->items[i].rows);
        free(answers->items[i].scores);
        free(answers->items[i].error);
    }
    free(answers->items);
    *answers = (KvAnswers){0};
}
