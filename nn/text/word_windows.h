/* Helpers for word-level next-word models (the Sherlock notebook's pipeline and any
 * like it): the notebook's text normalisation, splitting a phrase into the words a
 * Keras-like tokenizer would see, and saving and reloading a tokenizer's vocabulary.
 * (Top-k ranking and accuracy over the model's predictions: nn/model/metrics.h.) */
#ifndef NN_WORD_WINDOWS_H
#define NN_WORD_WINDOWS_H

#include <lamina/nn/text/text.h>

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

#endif
