/* Helpers for word-level next-word models (the Sherlock notebook's pipeline and any
 * like it): the notebook's text normalisation, splitting a phrase into the words a
 * Keras-like tokenizer would see, saving and reloading a tokenizer's vocabulary, and
 * top-k ranking / accuracy over a predictions tensor. Include "nn/word_windows.h"
 * beside "nn/nn.h". */
#ifndef NN_WORD_WINDOWS_H
#define NN_WORD_WINDOWS_H

#include <lamina/nn/model/model.h>
#include <lamina/nn/text/text.h>
#include <lamina/tensor/tensor.h>

#include <stddef.h>
#include <stdint.h>

/* ---- text normalisation ---- */

/* The notebook's "join the lines, remove extra whitespace": Python's
 *   " ".join(" ".join(lines).replace("\n","").replace("\r","").replace("\ufeff","").split())
 * for a text read with universal newlines. Every line break (\n, \r\n or a lone \r)
 * becomes a space, byte-order marks (U+FEFF) are removed wherever they are, and each
 * run of whitespace as str.split() sees it (ASCII \t\n\v\f\r, \x1c-\x1f, space, and
 * the Unicode spaces U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
 * U+205F, U+3000) becomes one space, with none at either end. Invalid UTF-8 bytes
 * are kept verbatim. Returns a NUL-terminated heap string (free with free()) and its
 * length in *out_len; text may be NULL when len is 0. */
char *nn_text_join_lines(const char *text, int64_t len, int64_t *out_len);

/* Splits text into words the way the tokenizer does before lower-casing: on the
 * whitespace above and on the characters of filters (UTF-8; NULL means Keras's
 * default !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ plus tab and newline). Case is kept (look
 * words up with nn_tokenizer_index, which lower-cases). Returns a heap array of *n
 * heap strings (free with nn_text_words_free; an empty text gives *n = 0 and a
 * non-NULL array). */
char **nn_text_split_words(const char *text, int64_t len, const char *filters, int64_t *n);
void nn_text_words_free(char **words, int64_t n);

/* ---- a vocabulary file beside a model's weights ---- */

/* Writes the tokenizer's words to path, one per line in index order: line 1 is a
 * header "#<header>" (header may be NULL or empty; it must not contain a newline),
 * then line i + 1 holds the word with index i (1 .. vocab size). The file is written
 * to a temporary name and renamed over path. Refuses (-1, tensor_last_error) a
 * tokenizer with no words, a word containing a line break, or a write failure. */
int nn_vocab_save(const NnTokenizer *tok, const char *path, const char *header);

/* Reads a file written by nn_vocab_save back into a finished tokenizer that gives
 * every word the same index, created with opts (NULL: Keras defaults; min_count is
 * ignored). If header is not NULL, the header line (without '#' and newline) is
 * copied into header[0 .. header_len), truncated and NUL-terminated. Returns NULL
 * with tensor_last_error() naming the path and line for a missing file, a missing
 * header, an empty, repeated or unencodable word (one the options would split or
 * change), or an empty list. */
NnTokenizer *nn_vocab_load(const char *path, const NnTokenizerOpts *opts, char *header, size_t header_len);

/* ---- top-k ranking and accuracy ---- */

/* The rank of entry target among n scores (probabilities or logits): how many
 * entries beat it, i.e. are greater, or equal with a smaller index (the "first on
 * ties" rule of nn_sample_argmax). 0 means it is the best. A NaN target score ranks
 * n (never a hit); NaN entries never beat it. Stops if target is outside [0, n). */
int64_t nn_topk_rank(const float *scores, int64_t n, int64_t target);

/* Writes the indices of the min(k, n) largest scores to out, best first (ties:
 * smaller index first; NaN entries last), and returns that count. */
int64_t nn_topk_indices(const float *scores, int64_t n, int64_t k, int64_t *out);

/* How many rows of scores (N, C) float32 have their target, targets (N) int32, among
 * their k best entries (rank < k). Stops on mismatched shapes, a wrong dtype, k < 1
 * or a target outside [0, C). */
int64_t nn_topk_hits(const Tensor *scores, const Tensor *targets, int64_t k);

/* nn_topk_hits / N (NaN when N is 0). */
double nn_topk_accuracy(const Tensor *scores, const Tensor *targets, int64_t k);

/* Evaluates a classifier, a compiled Sequential model with a sparse categorical
 * cross-entropy loss and (N, C) outputs, on x (N, ...) and y (N) int32 in batches of
 * batch_size (<= 0: 32), one forward pass per batch and never more than one batch
 * of outputs in memory: *loss gets the mean loss (as nn_evaluate) and acc[j] the
 * fraction of samples whose target ranks among the ks[j] best classes, ranked by
 * the pre-softmax scores as PyTorch's topk would (ties: smaller index first). NaNs
 * for N = 0. Returns 0, or -1 with tensor_last_error() for a model that is not such
 * a classifier or data that does not fit it. */
int nn_evaluate_topk(Model *m, const Tensor *x, const Tensor *y, int64_t batch_size, int n_k, const int64_t *ks,
                     double *loss, double *acc);

#endif
