/* bench's peers, run as child processes: PyTorch's torch_lstm_bench.py under every
 * interpreter given, at the thread settings that can be its best, and gensim trained
 * with word2vec's defaults by a script passed on the command line. */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How the peer's threads are set: torch 1 OpenMP thread with OpenBLAS N (Debian's
 * torch 1.x), or N OpenMP threads waiting passively or spinning (its default). */
typedef enum TorchSetting { TORCH_OMP1_BLAS_N, TORCH_N_PASSIVE, TORCH_N_ACTIVE } TorchSetting;

/* torch_lstm_bench.py under one interpreter at one thread setting. */
static Result run_torch_setting(const Config *c, const Options *o, const char *python, int threads,
                                TorchSetting setting) {
    char script[4096], t[16], s[16], r[16], omp[32], blas[40];
    const bool omp1 = setting == TORCH_OMP1_BLAS_N;
    snprintf(script, sizeof script, "%s/torch_lstm_bench.py", o->peers_dir);
    snprintf(t, sizeof t, "%d", omp1 ? 1 : threads);
    snprintf(s, sizeof s, "%d", o->steps);
    snprintf(r, sizeof r, "%d", o->reps);
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%d", omp1 ? 1 : threads);
    snprintf(blas, sizeof blas, "OPENBLAS_NUM_THREADS=%d", threads);
    const char *env[] = {omp, blas, setting == TORCH_N_PASSIVE ? "OMP_WAIT_POLICY=passive" : NULL, NULL};
    char *argv[] = {(char *)python, script, (char *)c->name, t, s, r, NULL};
    Result res = {0};
    char *out = run_capture(argv, env, &res.rss);
    if (!out) return res;
    const char *sect[2] = {strstr(out, "\"train\""), strstr(out, "\"infer\"")};
    const char *v = strstr(out, "\"torch\": \"");
    if (sect[0] && sect[1]) {
        res.ok = true;
        for (int md = 0; md < 2; md++) {
            res.min[md] = json_field(out, sect[md], "ms_per_step_min");
            res.med[md] = json_field(out, sect[md], "ms_per_step_median");
        }
        const char *names[] = {"OMP=1 OPENBLAS=%d", "OMP=%d passive", "OMP=%d"};
        char how[48];
        snprintf(how, sizeof how, names[setting], threads);
        snprintf(res.setting, sizeof res.setting, "torch %.*s %s", v ? (int)strcspn(v + 10, "\"+") : 1,
                 v ? v + 10 : "?", how);
    }
    free(out);
    return res;
}

/* Keeps, for mode md, whichever of best and r is faster (by median); `how` names it.
 * Peak memory is the training run's. */
static void keep_faster(Result *best, char how[160], const Result *r, int md) {
    if (!r->ok || (how[0] && best->med[md] <= r->med[md])) return;
    best->ok = true;
    best->min[md] = r->min[md];
    best->med[md] = r->med[md];
    if (md == 0) best->rss = r->rss;
    memcpy(how, r->setting, sizeof r->setting);
}

/* PyTorch at its best: every interpreter given, each at the settings that can be its
 * best (torch 1.x: 1 OpenMP thread + OpenBLAS N, or N passive; torch 2.x: N spinning
 * or passive); training and inference each keep the fastest (by median). */
Result run_torch(const Config *c, const Options *o) {
    Result best = {0};
    char how[2][160] = {"", ""};
    for (int p = 0; p < o->n_pythons; p++) {
        Result first = run_torch_setting(c, o, o->pythons[p], o->common.threads,
                                         o->common.threads == 1 ? TORCH_N_ACTIVE : TORCH_N_PASSIVE);
        Result second = {0};
        if (first.ok && o->common.threads > 1) {
            const bool torch1 = strncmp(first.setting, "torch 1.", 8) == 0;
            second = run_torch_setting(c, o, o->pythons[p], o->common.threads,
                                       torch1 ? TORCH_OMP1_BLAS_N : TORCH_N_ACTIVE);
        }
        for (int md = 0; md < 2; md++) {
            keep_faster(&best, how[md], &first, md);
            keep_faster(&best, how[md], &second, md);
        }
    }
    if (strcmp(how[0], how[1]) == 0) memcpy(best.setting, how[0], sizeof best.setting);
    else snprintf(best.setting, sizeof best.setting, "train %.70s, infer %.70s", how[0], how[1]);
    return best;
}

/* gensim with the app's defaults (the settings of ../shared/peers/gensim_word2vec.py),
 * the same tokenisation, timing only train() as ours times only nn_w2v_train. argv:
 * threads seed data_dir corpus... Prints one JSON line. */
static const char GENSIM_SCRIPT[] =
    "import json, re, sys, time\n"
    "from gensim.models import Word2Vec\n"
    "threads, seed, data = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
    "sents = []\n"
    "for f in sys.argv[4:]:\n"
    "    for line in open(f, encoding='utf-8'):\n"
    "        toks = re.sub(r'[^a-z]+', ' ', line.lower()).split()\n"
    "        if toks:\n"
    "            sents.append(toks)\n"
    "m = Word2Vec(sg=1, hs=0, negative=5, vector_size=100, window=5, min_count=5, sample=1e-3, alpha=0.025,\n"
    "             min_alpha=1e-4, workers=threads, epochs=5, seed=seed)\n"
    "m.build_vocab(sents)\n"
    "t0 = time.perf_counter()\n"
    "m.train(sents, total_examples=m.corpus_count, epochs=m.epochs)\n"
    "dt = time.perf_counter() - t0\n"
    "kv = m.wv\n"
    "def score(f):\n"
    "    try:\n"
    "        return f()\n"
    "    except OSError:\n"
    "        return float('nan')\n"
    "an = score(lambda: kv.evaluate_word_analogies(data + '/questions-words.txt', restrict_vocab=30000,\n"
    "                                              case_insensitive=True)[0])\n"
    "ws = score(lambda: float(kv.evaluate_word_pairs(data + '/wordsim353.tsv')[1][0]))\n"
    "import gensim\n"
    "print(json.dumps({'words_per_s': sum(map(len, sents)) * m.epochs / dt, 'analogy': an, 'wordsim353': ws,\n"
    "                  'version': gensim.__version__}).replace('NaN', 'null'))\n";

W2vRun run_gensim(const Options *o, const char *python, const W2vData *d, uint64_t seed, char *version,
                  size_t cap) {
    char t[16], sd[32];
    snprintf(t, sizeof t, "%d", o->common.threads);
    snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
    /* python -c SCRIPT ARGS: the script sees ARGS from sys.argv[1]. */
    char *argv[6 + MAX_CORPORA + 1] = {(char *)python, "-c", (char *)GENSIM_SCRIPT, t, sd,
                                       (char *)o->common.data_dir};
    for (int i = 0; i < o->n_corpus; i++) argv[6 + i] = (char *)d->paths[i];
    double rss;
    W2vRun r = {.analogy = NAN, .wordsim = NAN};
    char *out = run_capture(argv, NULL, &rss);
    if (!out) return r;
    r.words_per_s = json_field(out, NULL, "words_per_s");
    r.analogy = json_field(out, NULL, "analogy");
    r.wordsim = json_field(out, NULL, "wordsim353");
    r.ok = isfinite(r.words_per_s);
    const char *v = strstr(out, "\"version\": \"");
    if (v) snprintf(version, cap, "%.*s", (int)strcspn(v + 12, "\""), v + 12);
    free(out);
    return r;
}

