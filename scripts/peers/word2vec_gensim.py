#!/usr/bin/env python3
"""word2vec trained by gensim with the settings of lamina's word2vec app, for bench.

bench --word2vec --peers runs this script; by hand:

    python3 scripts/peers/word2vec_gensim.py --threads 2 --seed 1 --data data \
        data/brown_1.txt data/brown_2.txt

It needs gensim (Debian: apt-get install python3-gensim; or pip install gensim).
Tokenisation is the app's: lower-case, every character but a-z separates words, one
sentence per line. Settings are the app's defaults: skip-gram, negative sampling
with 5 negatives, 100 dimensions, window 5, min_count 5, sample 1e-3, 5 passes,
alpha 0.025 decaying to 0.0001. Only train() is timed (bench times only the
training of its own vectors too), and words/s counts every corpus word, rare ones
included, per pass. The vectors are scored on DATA/questions-words.txt (the 30,000
most frequent words, case-insensitive) and DATA/wordsim353.tsv (Spearman rho) when
those files exist. Prints one JSON line: words_per_s, analogy, wordsim353 (null
when the file is missing), version. Exits 3 with a message when gensim cannot be
imported.
"""
import argparse
import json
import os
import re
import sys
import time

try:
    import gensim
    from gensim.models import Word2Vec
except ImportError as e:  # bench reads exit status 3 as "this interpreter has no gensim"
    print(f"word2vec_gensim.py: cannot import gensim ({e}): apt-get install python3-gensim, "
          "or pip install gensim in a venv", file=sys.stderr)
    sys.exit(3)

NOT_A_LETTER = re.compile(r"[^a-z]+")


def sentences(paths):
    out = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = NOT_A_LETTER.sub(" ", line.lower()).split()
                if words:
                    out.append(words)
    return out


def score(path, evaluate):
    """evaluate(path), or None when the test set is not there."""
    return evaluate(path) if os.path.exists(path) else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus", nargs="+")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=".", help="the folder of the test sets")
    args = p.parse_args()
    sents = sentences(args.corpus)
    model = Word2Vec(sg=1, hs=0, negative=5, vector_size=100, window=5, min_count=5, sample=1e-3,
                     alpha=0.025, min_alpha=1e-4, epochs=5, workers=args.threads, seed=args.seed)
    model.build_vocab(sents)
    start = time.perf_counter()
    model.train(sents, total_examples=model.corpus_count, epochs=model.epochs)
    seconds = time.perf_counter() - start
    kv = model.wv
    analogy = score(os.path.join(args.data, "questions-words.txt"),
                    lambda f: kv.evaluate_word_analogies(f, restrict_vocab=30000, case_insensitive=True)[0])
    wordsim = score(os.path.join(args.data, "wordsim353.tsv"),
                    lambda f: float(kv.evaluate_word_pairs(f)[1][0]))
    print(json.dumps({"words_per_s": sum(map(len, sents)) * model.epochs / seconds, "analogy": analogy,
                      "wordsim353": wordsim, "vocab": len(kv), "version": gensim.__version__}))


if __name__ == "__main__":
    main()
