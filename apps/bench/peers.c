/* bench's peers, run as child processes: scripts/peers/lstm_torch.py under every
 * interpreter given, at the thread settings that can be its best, and
 * scripts/peers/word2vec_gensim.py (gensim with word2vec's defaults). Interpreters
 * without the module are skipped, saying what to install. */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether python can import module (its messages hidden). */
static bool can_import(const char *python, const char *module) {
    char code[64];
    snprintf(code, sizeof code, "import %s", module);
    char *argv[] = {(char *)python, "-c", code, NULL};
    return run_quiet(argv) == 0;
}

int find_peers(Options *o, const char *script) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", o->peers_dir, script);
    if (access(path, R_OK) != 0) {
        fprintf(stderr,
                APP ": cannot find the peer script %s: it is in the repository's scripts/peers/; give\n"
                "  --peers-dir DIR or set LAMINA_PEERS_DIR\n", path);
        return -1;
    }
    const bool torch = !strcmp(script, TORCH_SCRIPT);
    const char *module = torch ? "torch" : "gensim", *package = torch ? "python3-torch" : "python3-gensim";
    int kept = 0;
    for (int p = 0; p < o->n_pythons; p++) {
        const char *py = o->pythons[p];
        if (access(py, X_OK) != 0)
            fprintf(stderr, APP ": cannot run %s: skipping that peer (apt-get install %s, or give --python)\n", py,
                    package);
        else if (!can_import(py, module))
            fprintf(stderr,
                    APP ": %s has no %s module: skipping that peer (apt-get install %s, or pip install %s in a\n"
                    "  venv and give --python VENV/bin/python)\n", py, module, package, module);
        else
            o->pythons[kept++] = py;
    }
    o->n_pythons = kept;
    if (!kept) {
        fprintf(stderr, APP ": no interpreter with %s: measuring lamina alone\n", module);
        o->peers = false;
    }
    return 0;
}

/* How the peer's threads are set: torch 1 OpenMP thread with OpenBLAS N (Debian's
 * torch 1.x), or N OpenMP threads waiting passively or spinning (its default). */
typedef enum TorchSetting { TORCH_OMP1_BLAS_N, TORCH_N_PASSIVE, TORCH_N_ACTIVE } TorchSetting;

/* lstm_torch.py under one interpreter at one thread setting. */
static Result run_torch_setting(const Config *c, const Options *o, const char *python, int threads,
                                TorchSetting setting) {
    char script[4200], t[16], s[16], r[16], w[16], v[24], b[24], len[24], omp[32], blas[40];
    const bool omp1 = setting == TORCH_OMP1_BLAS_N;
    snprintf(script, sizeof script, "%s/" TORCH_SCRIPT, o->peers_dir);
    snprintf(t, sizeof t, "%d", omp1 ? 1 : threads);
    snprintf(s, sizeof s, "%d", o->steps);
    snprintf(r, sizeof r, "%d", o->reps);
    snprintf(w, sizeof w, "%d", o->warmup);
    snprintf(v, sizeof v, "%lld", (long long)c->vocab); /* the sizes come from here: one model on both sides */
    snprintf(b, sizeof b, "%lld", (long long)c->batch);
    snprintf(len, sizeof len, "%lld", (long long)c->T);
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%d", omp1 ? 1 : threads);
    snprintf(blas, sizeof blas, "OPENBLAS_NUM_THREADS=%d", threads);
    const char *env[] = {omp, blas, setting == TORCH_N_PASSIVE ? "OMP_WAIT_POLICY=passive" : NULL, NULL};
    char *argv[] = {(char *)python, script, "--config", (char *)c->name, "--vocab", v, "--batch", b,
                    "--length", len, "--threads", t, "--steps", s, "--reps", r, "--warmup", w,
                    o->train ? "--train" : "--infer", o->train && o->infer ? "--infer" : NULL, NULL};
    Result res = {0};
    char *out = run_capture(argv, env, &res.rss);
    if (!out) return res;
    const char *sect[2] = {strstr(out, "\"train\""), strstr(out, "\"infer\"")};
    const char *ver = strstr(out, "\"torch\": \"");
    if ((sect[0] || !o->train) && (sect[1] || !o->infer)) {
        res.ok = true;
        for (int md = 0; md < 2; md++) {
            res.min[md] = sect[md] ? json_field(out, sect[md], "ms_per_step_min") : NAN;
            res.med[md] = sect[md] ? json_field(out, sect[md], "ms_per_step_median") : NAN;
        }
        const char *names[] = {"OMP=1 OPENBLAS=%d", "OMP=%d passive", "OMP=%d"};
        char how[48];
        snprintf(how, sizeof how, names[setting], threads);
        snprintf(res.setting, sizeof res.setting, "torch %.*s %s", ver ? (int)strcspn(ver + 10, "\"+") : 1,
                 ver ? ver + 10 : "?", how);
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

W2vRun run_gensim(const Options *o, const char *python, const W2vData *d, uint64_t seed, char *version,
                  size_t cap) {
    char t[16], sd[32];
    snprintf(t, sizeof t, "%d", o->common.threads);
    snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
    char script[4200];
    snprintf(script, sizeof script, "%s/" GENSIM_SCRIPT, o->peers_dir);
    char *argv[8 + MAX_CORPORA + 1] = {(char *)python, script, "--threads", t, "--seed", sd, "--data",
                                       (char *)o->common.data_dir};
    for (int i = 0; i < o->n_corpus; i++) argv[8 + i] = (char *)d->paths[i];
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

