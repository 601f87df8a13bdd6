/* bench --word2vec: word2vec trained here with the app's defaults, round after round
 * (and gensim after each with --peers), words/s and the vectors' quality on the
 * analogy and WordSim-353 test sets, as a table or one JSON line. */
#include "bench/bench_internal.h"

#include "common/data.h"
#include "common/json.h"
#include "common/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The test sets in the data directory: a missing one is said and its score left out;
 * one that cannot be used (no question or pair in it) is an error. */
static int w2v_load_tests(const Options *o, W2vData *d) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", o->common.data_dir, ANALOGY_FILE);
    if (access(path, F_OK) != 0)
        fprintf(stderr, APP ": %s is missing: no analogy accuracy (scripts/get-data.sh fetches it)\n", path);
    else if (!(d->analogies = nn_analogy_read(path)))
        return fprintf(stderr, APP ": cannot use the analogies: %s\n", tensor_last_error()), APP_EXIT_USAGE;
    snprintf(path, sizeof path, "%s/%s", o->common.data_dir, WORDSIM_FILE);
    if (access(path, F_OK) != 0)
        fprintf(stderr, APP ": %s is missing: no WordSim-353 rho (scripts/get-data.sh fetches it)\n", path);
    else if (!(d->similarity = nn_similarity_read(path)))
        return fprintf(stderr, APP ": cannot use the word pairs: %s\n", tensor_last_error()), APP_EXIT_USAGE;
    return APP_EXIT_OK;
}

/* Reads and tokenises the corpora and the test sets; returns an exit status. */
static int w2v_load(const Options *o, W2vData *d) {
    d->corpus = nn_w2v_corpus_new();
    for (int i = 0; i < o->n_corpus; i++) {
        int64_t len;
        app_data_path(o->common.data_dir, o->corpus[i], d->paths[i], sizeof d->paths[i]);
        char *text = app_read_corpus(APP, o->common.data_dir, o->corpus[i], &len);
        if (!text) return APP_EXIT_USAGE;
        nn_w2v_corpus_add(d->corpus, text, len);
        free(text);
    }
    if (nn_w2v_corpus_finish(d->corpus, 5) != 0) { /* min_count 5, as the app and gensim */
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        return APP_EXIT_USAGE;
    }
    return w2v_load_tests(o, d);
}

static W2vRun run_ours_w2v(const Options *o, const W2vData *d, uint64_t seed) {
    W2vRun r = {.analogy = NAN, .wordsim = NAN};
    NnWord2Vec *m = nn_w2v(d->corpus, .threads = o->common.threads, .hogwild = o->hogwild, .seed = seed);
    NnW2vStats st;
    NnWordVectors *wv = NULL;
    if (!m || nn_w2v_train(m, &st) != 0 || !(wv = nn_w2v_word_vectors(m))) {
        fprintf(stderr, APP ": word2vec training failed: %s\n", tensor_last_error());
        nn_w2v_free(m);
        return r;
    }
    r.ok = true;
    r.words_per_s = st.words_per_s;
    if (d->analogies) {
        r.analogy = nn_analogy_evaluate(wv, d->analogies, 30000);
        if (isnan(r.analogy))
            fprintf(stderr, APP ": no analogy could be asked: all %lld questions have a word outside the 30000 most "
                            "frequent\n", (long long)d->analogies->n_questions);
    }
    if (d->similarity) {
        r.wordsim = nn_similarity_evaluate(wv, d->similarity);
        if (isnan(r.wordsim))
            fprintf(stderr, APP ": no WordSim-353 rho: %lld of %lld pairs have both words in the vocabulary\n",
                    (long long)d->similarity->used, (long long)d->similarity->n_pairs);
    }
    nn_word_vectors_free(wv);
    nn_w2v_free(m);
    return r;
}

typedef struct W2vSummary {
    int n;
    double min, median, analogy, wordsim; /* words/s; quality: means over the rounds */
} W2vSummary;

static W2vSummary summarise(const W2vRun *runs, int n_runs) {
    W2vSummary s = {.min = NAN, .median = NAN, .analogy = NAN, .wordsim = NAN};
    double w[MAX_ROUNDS], an = 0, ws = 0;
    for (int i = 0; i < n_runs; i++) {
        if (!runs[i].ok) continue;
        w[s.n++] = runs[i].words_per_s;
        an += runs[i].analogy;
        ws += runs[i].wordsim;
    }
    if (!s.n) return s;
    s.median = sort_median(w, s.n);
    s.min = w[0];
    s.analogy = an / s.n;
    s.wordsim = ws / s.n;
    return s;
}

/* gensim under every interpreter given, with round r's seed; the faster one is kept
 * in *peer, its version in version (64 bytes). */
static void run_gensim_round(const Options *o, const W2vData *d, int r, W2vRun *peer, char *version) {
    for (int p = 0; p < o->n_pythons; p++) {
        char v[64] = "?";
        W2vRun g = run_gensim(o, o->pythons[p], d, (uint64_t)r + 1, v, sizeof v);
        if (g.ok && (!peer->ok || g.words_per_s > peer->words_per_s)) {
            *peer = g;
            snprintf(version, 64, "%s", v);
        }
    }
    if (!peer->ok) fprintf(stderr, APP ": the gensim peer failed (round %d)\n", r + 1);
}

/* One row of the summary; a quality without a test set (or without a question it
 * could ask) shows as "-", never as "nan". */
static void print_summary_row(const char *who, const W2vSummary *s) {
    char an[32] = "-", ws[32] = "-";
    if (isfinite(s->analogy)) snprintf(an, sizeof an, "%.2f%%", 100 * s->analogy);
    if (isfinite(s->wordsim)) snprintf(ws, sizeof ws, "%.4f", s->wordsim);
    printf("  %-12s%10.0f  %14.0f  %14s  %22s\n", who, s->min, s->median, an, ws);
}

/* The summary over the rounds: one JSON line, or the table. */
static void report_rounds(const Options *o, const W2vData *d, const W2vRun *ours, const W2vRun *peer,
                          const char *version) {
    W2vSummary a = summarise(ours, o->rounds), g = summarise(peer, o->rounds);
    if (o->common.json) {
        AppJson j;
        app_json_begin(&j, stdout);
        app_json_string(&j, "mode", "word2vec");
        app_json_int(&j, "threads", o->common.threads);
        app_json_int(&j, "hogwild", o->hogwild);
        app_json_int(&j, "rounds", o->rounds);
        app_json_int(&j, "words", nn_w2v_corpus_raw_words(d->corpus));
        app_json_number(&j, "words_per_s_min", a.min);
        app_json_number(&j, "words_per_s_median", a.median);
        app_json_number(&j, "analogy", a.analogy);
        app_json_number(&j, "wordsim353", a.wordsim);
        if (g.n) {
            app_json_string(&j, "gensim_version", version);
            app_json_number(&j, "gensim_words_per_s_min", g.min);
            app_json_number(&j, "gensim_words_per_s_median", g.median);
            app_json_number(&j, "gensim_analogy", g.analogy);
            app_json_number(&j, "gensim_wordsim353", g.wordsim);
            app_json_number(&j, "ratio_median", a.median / g.median);
            app_json_number(&j, "ratio_min", a.min / g.min);
        }
        app_json_end(&j);
        return;
    }
    printf("             words/s min  words/s median  analogy (mean)  WordSim-353 rho (mean)\n");
    print_summary_row("lamina", &a);
    if (g.n) {
        char who[16];
        snprintf(who, sizeof who, "gensim %s", version);
        print_summary_row(who, &g);
        printf("  ours/gensim words/s: %.2fx (median), %.2fx (min)", a.median / g.median, a.min / g.min);
        if (isfinite(a.analogy) && isfinite(g.analogy)) printf("; analogy %+.2f points", 100 * (a.analogy - g.analogy));
        if (isfinite(a.wordsim) && isfinite(g.wordsim)) printf("; rho %+.4f", a.wordsim - g.wordsim);
        printf("\n");
    }
    if (!d->analogies || !d->similarity)
        printf("  (a score shown as - has no test set in %s: see the messages above)\n", o->common.data_dir);
}

/* Rounds alternate ours and gensim, round r training with seed r + 1 on both sides. */
int run_word2vec(const Options *o) {
    W2vData d = {0};
    int rc = w2v_load(o, &d);
    W2vRun ours[MAX_ROUNDS] = {0}, peer[MAX_ROUNDS] = {0};
    char version[64] = "?";
    if (rc == APP_EXIT_OK && !o->common.json)
        printf("lamina bench --word2vec: %lld corpus words (%lld sentences, vocabulary %lld), %d thread%s%s, "
               "skip-gram, dim 100, window 5, 5 negatives, 5 passes; %d round%s%s\n",
               (long long)nn_w2v_corpus_raw_words(d.corpus), (long long)nn_w2v_corpus_sentences(d.corpus),
               (long long)nn_w2v_corpus_vocab_size(d.corpus), o->common.threads,
               o->common.threads > 1 ? "s" : "", o->hogwild ? " (Hogwild)" : "", o->rounds, o->rounds > 1 ? "s" : "",
               o->peers ? ", alternating with gensim" : "");
    for (int r = 0; rc == APP_EXIT_OK && r < o->rounds; r++) {
        ours[r] = run_ours_w2v(o, &d, (uint64_t)r + 1);
        if (!ours[r].ok) rc = APP_EXIT_FAILURE;
        if (o->peers && rc == APP_EXIT_OK) run_gensim_round(o, &d, r, &peer[r], version);
        if (!o->common.json && rc == APP_EXIT_OK) {
            printf("  round %d (seed %d): lamina %.0f words/s", r + 1, r + 1, ours[r].words_per_s);
            if (peer[r].ok)
                printf(", gensim %.0f words/s, ratio %.2fx", peer[r].words_per_s,
                       ours[r].words_per_s / peer[r].words_per_s);
            printf("\n");
            fflush(stdout);
        }
    }
    if (rc == APP_EXIT_OK) report_rounds(o, &d, ours, peer, version);
    nn_analogy_set_free(d.analogies);
    nn_similarity_set_free(d.similarity);
    nn_w2v_corpus_free(d.corpus);
    return rc;
}
