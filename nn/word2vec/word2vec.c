/* The word2vec model (see word2vec.h): options checked and defaulted, the objective's
 * tables initialised as word2vec.c does (and its Huffman tree built), the subsampling
 * and negative-sampling (alias) tables, and the finished vectors handed out.
 * Training is train.c's, over kernel.c's loop and objectives.c's updates; the corpus
 * is corpus.c's; state files are state.c's. */
#include "nn/word2vec/word2vec_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BAD_OPT(...) (tensor_set_error("word2vec: " __VA_ARGS__), (NnWord2Vec *)NULL)

/* Vose's alias method: exact, O(1) per draw. */
static void build_noise(NnWord2Vec *m) {
    const int64_t V = m->V;
    double *q = tensor_xmalloc((size_t)V * sizeof *q), total = 0;
    int32_t *small = tensor_xmalloc((size_t)V * sizeof *small), *large = tensor_xmalloc((size_t)V * sizeof *large);
    for (int64_t i = 0; i < V; i++) total += q[i] = pow((double)m->corpus->counts[i], 0.75);
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < V; i++) {
        q[i] *= (double)V / total;
        if (q[i] < 1.0) small[ns++] = (int32_t)i;
        else large[nl++] = (int32_t)i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[nl - 1];
        m->noise_p[s] = (uint32_t)(q[s] * 4294967296.0);
        m->noise_alias[s] = l;
        q[l] -= 1.0 - q[s];
        if (q[l] < 1.0) nl--, small[ns++] = l;
    }
    while (nl) m->noise_p[large[--nl]] = UINT32_MAX; /* full columns (and rounding leftovers) */
    while (ns) m->noise_p[small[--ns]] = UINT32_MAX;
    free(q);
    free(small);
    free(large);
}

/* Rounds of 10,000 words per thread cost little waiting; on a small corpus they would
 * be few, and the merged copies of a round then drift apart from what one thread would
 * have written, which costs quality (2 threads on the 105k-word Sherlock text lost a
 * third of their analogy accuracy). At least 128 rounds per thread keep them close. */
int64_t nn_w2v_default_batch_words(const NnW2vCorpus *c, int iter, int threads) {
    const int64_t per_thread = nn_w2v_corpus_words(c) * (iter > 0 ? iter : 5) / (threads > 0 ? threads : 1);
    const int64_t words = per_thread / 128;
    return words < 1000 ? 1000 : words > 10000 ? 10000 : words;
}

NnWord2Vec *nn_w2v_new(const NnW2vCorpus *corpus, const NnW2vOpts *opts) {
    NnW2vOpts o = *opts;
    if (!corpus->finished) return BAD_OPT("the corpus is not finished (call nn_w2v_corpus_finish)");
    o.dim = o.dim ? o.dim : 100;
    o.window = o.window ? o.window : 5;
    if (o.softmax && o.negative) return BAD_OPT("softmax trains no negative samples: leave negative 0");
    if (o.softmax && (o.cbow || o.hs))
        return BAD_OPT("softmax is skip-gram over the full vocabulary: not with %s", o.cbow ? "cbow" : "hs");
    if (o.no_negative && !o.hs)
        return BAD_OPT("no negative sampling and no hierarchical softmax: nothing to train (set hs)");
    if (o.no_negative && o.negative) return BAD_OPT("no_negative with negative %d", o.negative);
    if (o.cbow_sum && !o.cbow) return BAD_OPT("cbow_sum is a CBOW setting: set cbow");
    o.negative = o.softmax || o.no_negative ? 0 : o.negative ? o.negative : 5;
    o.sample = o.sample ? o.sample : 1e-3;
    o.iter = o.iter ? o.iter : 5;
    o.alpha = o.alpha ? o.alpha : 0.025f;
    o.min_alpha = o.min_alpha ? o.min_alpha : 1e-4f;
    o.threads = o.threads ? o.threads : 1;
    o.batch_words = o.batch_words ? o.batch_words : nn_w2v_default_batch_words(corpus, o.iter, o.threads);
    if (o.dim < 1 || o.dim > 10000) return BAD_OPT("dim %lld is outside 1..10000", (long long)o.dim);
    if (o.window < 1 || o.window > 1000) return BAD_OPT("window %d is outside 1..1000", o.window);
    if ((o.negative < 1 && !o.softmax && !o.no_negative) || o.negative > 100)
        return BAD_OPT("negative %d is outside 1..100", o.negative);
    if (!(o.sample > 0) || !isfinite(o.sample)) return BAD_OPT("sample %g is not a positive number", o.sample);
    if (o.iter < 1) return BAD_OPT("iter %d is below 1", o.iter);
    if (!(o.alpha > 0) || !isfinite(o.alpha) || !(o.min_alpha >= 0) || o.min_alpha > o.alpha)
        return BAD_OPT("alpha %g / min_alpha %g: need alpha > 0 and 0 <= min_alpha <= alpha", o.alpha, o.min_alpha);
    if (o.threads < 1 || o.threads > 1024) return BAD_OPT("threads %d is outside 1..1024", o.threads);
    if (o.batch_words < 1 || o.max_words < 0) return BAD_OPT("batch_words must be >= 1 and max_words >= 0");
    if (o.checkpoint_words < 0) return BAD_OPT("checkpoint_words %lld is negative", (long long)o.checkpoint_words);
    if (o.hogwild && o.on_checkpoint)
        return BAD_OPT("checkpoints need the deterministic schedule: Hogwild threads never stop together");
    size_t bytes;
    if (tensor_mul_size((size_t)corpus->vocab, (size_t)o.dim * 3 * sizeof(float), &bytes) != 0 ||
        bytes > ((size_t)1 << 36))
        return BAD_OPT("%lld words x %lld dimensions is too large", (long long)corpus->vocab, (long long)o.dim);
    nn__w2v_init_tables();
    NnWord2Vec *m = tensor_xcalloc(1, sizeof *m);
    *m = (NnWord2Vec){.corpus = corpus, .o = o, .V = corpus->vocab, .D = o.dim};
    m->in = tensor_zeros(NULL, TENSOR_SHAPE(m->V, m->D));
    m->objective = o.softmax ? W2V_SOFTMAX : o.cbow ? W2V_CBOW : W2V_SKIP_GRAM;
    if (o.negative || o.softmax) m->out = tensor_zeros(NULL, TENSOR_SHAPE(m->V, m->D));
    if (o.hs && m->V > 1) {
        m->hs = tensor_zeros(NULL, TENSOR_SHAPE(m->V - 1, m->D));
        nn__w2v_tree_build(&m->tree, corpus->counts, m->V);
    }
    Rng rng;
    tensor_rng_seed(&rng, o.seed, 0x77327631);
    tensor_fill_uniform(tensor_f32(m->in), m->in->size, &rng, -0.5f / (float)m->D, 0.5f / (float)m->D);
    m->keep = tensor_xmalloc((size_t)m->V * sizeof *m->keep);
    m->noise_p = tensor_xmalloc((size_t)m->V * sizeof *m->noise_p);
    m->noise_alias = tensor_xmalloc((size_t)m->V * sizeof *m->noise_alias);
    /* gensim's prepare_vocab: threshold t = sample * retained words. */
    double t = o.sample * (double)nn_w2v_corpus_words(corpus);
    for (int64_t i = 0; i < m->V; i++) {
        double f = (double)corpus->counts[i], p = (sqrt(f / t) + 1.0) * t / f;
        m->keep[i] = o.no_sample || p >= 1.0 ? UINT32_MAX : (uint32_t)(p * 4294967295.0);
    }
    for (int64_t i = 0; i < m->V; i++) m->noise_alias[i] = (int32_t)i;
    build_noise(m);
    m->ws = tensor_xcalloc((size_t)o.threads, sizeof *m->ws);
    m->pass_loss = tensor_xcalloc((size_t)o.threads * (size_t)o.iter, sizeof *m->pass_loss);
    m->pass_pairs = tensor_xcalloc((size_t)o.threads * (size_t)o.iter, sizeof *m->pass_pairs);
    return m;
}

Tensor *nn_w2v_input_table(NnWord2Vec *m) { return m->in; }
Tensor *nn_w2v_output_table(NnWord2Vec *m) { return m->out; }
Tensor *nn_w2v_hs_table(NnWord2Vec *m) { return m->hs; }

NnWordVectors *nn_w2v_word_vectors(const NnWord2Vec *m) {
    NnWordVectors *wv = nn_word_vectors_new(m->V, m->D);
    if (!wv) return NULL;
    wv->counts = tensor_xmalloc((size_t)m->V * sizeof *wv->counts);
    for (int64_t i = 0; i < m->V; i++) {
        wv->words[i] = strdup(m->corpus->words[i]);
        wv->counts[i] = m->corpus->counts[i];
    }
    memcpy(wv->vectors, tensor_f32(m->in), (size_t)(m->V * m->D) * sizeof(float));
    if (nn_word_vectors_finish(wv) != 0) {
        nn_word_vectors_free(wv);
        return NULL;
    }
    return wv;
}

void nn_w2v_free(NnWord2Vec *m) {
    if (!m) return;
    tensor_free(m->in);
    tensor_free(m->out);
    tensor_free(m->hs);
    nn__w2v_tree_free(&m->tree);
    free(m->keep);
    free(m->noise_p);
    free(m->noise_alias);
    free(m->ws);
    free(m->pass_loss);
    free(m->pass_pairs);
    free(m);
}
