"""gensim's answers to KeyedVectors queries, for gensim_check.c to compare with lamina's.

    gensim_reference.py DATA_DIR OUT_DIR

Trains small vectors with gensim on the first lines of brown_1.txt (one thread, a
fixed seed), adds a few capitalised spellings of frequent words at the end (so the
case-insensitive evaluations have variants to fold), and writes them to OUT_DIR as
  gensim.txt, gensim.bin   gensim's save_word2vec_format, text and binary
  w2vc.txt, w2vc.bin       the same vectors as word2vec.c writes them ("%lf " values
                           with a trailing blank; a newline after each binary vector)
  answers.tsv              one query per line with gensim's answer (tab-separated):
    most_similar TOPN RESTRICT POS NEG  WORD SCORE ...   (lists comma-separated, - if empty)
    cosmul       TOPN RESTRICT POS NEG  WORD SCORE ...
    doesnt_match WORDS WORD
    similarity   W1 W2 SCORE
    n_similarity WS1 WS2 SCORE
    word_pairs   FILE RESTRICT CASE_INSENSITIVE DUMMY4UNKNOWN PEARSON SPEARMAN OOV_RATIO
    analogies    FILE RESTRICT CASE_INSENSITIVE DUMMY4UNKNOWN SCORE CORRECT INCORRECT OOV_RATIO
                 (OOV_RATIO as gensim logs it, to one decimal: it returns no such number)
gensim 4.2's most_similar_cosmul ignores restrict_vocab; for a restricted query its
answer is taken from the full score array (topn=None) cut to the first RESTRICT rows.
"""
import logging
import os
import re
import struct
import sys

import numpy as np
from gensim.models import Word2Vec

LINES = 8000


def sentences(path):
    """The corpus as lamina's word2vec app feeds gensim: lower-case, a-z words."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if i == LINES:
                break
            words = re.sub(r"[^a-z]+", " ", line.lower()).split()
            if words:
                yield words


def train(data_dir):
    model = Word2Vec(sentences=list(sentences(os.path.join(data_dir, "brown_1.txt"))), vector_size=24,
                     window=5, min_count=3, sg=1, negative=5, epochs=8, workers=1, seed=7)
    kv = model.wv
    rng = np.random.default_rng(3)
    variants = [w.capitalize() for w in kv.index_to_key[5:9]] + [kv.index_to_key[20].upper()]
    kv.add_vectors(variants, rng.standard_normal((len(variants), kv.vector_size)).astype(np.float32))
    kv.allocate_vecattrs()  # the counts of the new words, rarest of all: they stay last in the files
    for w in variants:
        kv.set_vecattr(w, "count", 1)
    return kv


def write_w2vc(kv, out_dir):
    """word2vec.c's two layouts of the same vectors."""
    with open(os.path.join(out_dir, "w2vc.txt"), "w") as f:
        f.write("%d %d\n" % (len(kv), kv.vector_size))
        for w in kv.index_to_key:
            f.write(w + " " + "".join("%f " % x for x in kv[w]) + "\n")
    with open(os.path.join(out_dir, "w2vc.bin"), "wb") as f:
        f.write(b"%d %d\n" % (len(kv), kv.vector_size))
        for w in kv.index_to_key:
            f.write(w.encode() + b" " + struct.pack("<%df" % kv.vector_size, *kv[w]) + b"\n")


def listed(words):
    return ",".join(words) if words else "-"


def answers(pairs):
    return " ".join("%s %.9g" % (w, s) for w, s in pairs)


def cosmul(kv, pos, neg, topn, restrict):
    if not restrict:
        return kv.most_similar_cosmul(positive=pos, negative=neg, topn=topn)
    dists = kv.most_similar_cosmul(positive=pos, negative=neg, topn=None)[:restrict]
    skip = {kv.get_index(w) for w in pos + neg}
    order = [i for i in np.argsort(-dists, kind="stable") if i not in skip]
    return [(kv.index_to_key[i], float(dists[i])) for i in order[:topn]]


def neighbour_queries(kv, out):
    words = kv.index_to_key
    rng = np.random.default_rng(11)
    pick = lambda n, top: [words[i] for i in rng.choice(top, n, replace=False)]
    queries = [(pick(1, 300), [], 10, 0), (pick(2, 300), pick(1, 300), 10, 0), (pick(1, 500), [], 7, 200),
               ([], pick(1, 100), 5, 0), (pick(2, 1000), pick(2, 1000), 12, 0), (pick(1, 2000), [], 10, 150),
               (["man"], [], 10, 0), (["woman", "king"], ["man"], 10, 0), (pick(3, 200), [], 20, 1000)]
    queries = [q for q in queries if all(w in kv.key_to_index for w in q[0] + q[1])]
    for pos, neg, topn, restrict in queries:
        sims = kv.most_similar(positive=pos, negative=neg, topn=topn, restrict_vocab=restrict or None)
        out.write("most_similar\t%d\t%d\t%s\t%s\t%s\n" % (topn, restrict, listed(pos), listed(neg), answers(sims)))
        if pos:
            sims = cosmul(kv, pos, neg, topn, restrict)
            out.write("cosmul\t%d\t%d\t%s\t%s\t%s\n" % (topn, restrict, listed(pos), listed(neg), answers(sims)))
    for n in (3, 4, 5, 6):
        ws = pick(n, 400)
        out.write("doesnt_match\t%s\t%s\n" % (listed(ws), kv.doesnt_match(ws)))
    for _ in range(6):
        a, b = pick(2, 1000)
        out.write("similarity\t%s\t%s\t%.9g\n" % (a, b, kv.similarity(a, b)))
    for n1, n2 in ((1, 1), (2, 3), (4, 2)):
        ws1, ws2 = pick(n1, 800), pick(n2, 800)
        out.write("n_similarity\t%s\t%s\t%.9g\n" % (listed(ws1), listed(ws2), kv.n_similarity(ws1, ws2)))


def evaluations(kv, data_dir, out):
    pairs = os.path.join(data_dir, "wordsim353.tsv")
    for restrict, case, dummy in ((300000, True, False), (1500, True, False), (300000, True, True),
                                  (300000, False, False)):
        pearson, spearman, oov = kv.evaluate_word_pairs(pairs, restrict_vocab=restrict, case_insensitive=case,
                                                        dummy4unknown=dummy)
        out.write("word_pairs\t%s\t%d\t%d\t%d\t%.12g\t%.12g\t%.12g\n" % (pairs, restrict, case, dummy, pearson[0],
                                                                       spearman[0], oov))
    analogies = os.path.join(data_dir, "questions-words.txt")
    log = GensimLog()
    for restrict, case, dummy in ((300000, True, False), (2000, True, False), (300000, True, True),
                                  (300000, False, False)):
        log.messages.clear()
        score, sections = kv.evaluate_word_analogies(analogies, restrict_vocab=restrict, case_insensitive=case,
                                                     dummy4unknown=dummy)
        total = sections[-1]
        oov = [m for m in log.messages if m.startswith("Quadruplets with out-of-vocabulary words: ")]
        out.write("analogies\t%s\t%d\t%d\t%d\t%.12g\t%d\t%d\t%s\n" % (analogies, restrict, case, dummy, score,
                  len(total["correct"]), len(total["incorrect"]), oov[-1].split(": ")[1].rstrip("%")))


class GensimLog(logging.Handler):
    """The messages gensim's KeyedVectors logs (the analogies' OOV ratio is only logged)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []
        logger = logging.getLogger("gensim.models.keyedvectors")
        logger.setLevel(logging.INFO)
        logger.addHandler(self)
        logger.propagate = False

    def emit(self, record):
        self.messages.append(record.getMessage())


def main():
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    kv = train(data_dir)
    kv.save_word2vec_format(os.path.join(out_dir, "gensim.txt"), binary=False)
    kv.save_word2vec_format(os.path.join(out_dir, "gensim.bin"), binary=True)
    write_w2vc(kv, out_dir)
    with open(os.path.join(out_dir, "answers.tsv"), "w") as out:
        neighbour_queries(kv, out)
        evaluations(kv, data_dir, out)
    print("gensim: %d words of %d dimensions" % (len(kv), kv.vector_size))


if __name__ == "__main__":
    main()
