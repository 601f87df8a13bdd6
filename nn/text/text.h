/* Text utilities for the apps and for users: reading a corpus, the 27-symbol
 * character scheme of the sonnets notebook, a general character vocabulary, a word
 * tokenizer that behaves like Keras's Tokenizer, sliding-window datasets, and padding
 * id lists to one length (Keras's pad_sequences). */
#ifndef NN_TEXT_H
#define NN_TEXT_H

#include <lamina/tensor/tensor.h>

#include <stdbool.h>
#include <stdint.h>

/* Reads a whole file into a NUL-terminated heap buffer (free with free()), writing its
 * length to *len. Returns NULL with tensor_last_error() naming the path and the
 * reason for a missing, unreadable or non-regular file (a directory, say). */
char *nn_read_file(const char *path, int64_t *len);

/* How much of a text is not UTF-8 text: bytes that are not part of a well-formed
 * UTF-8 character (each one is read as U+FFFD by the vocabularies and the tokenizer,
 * as a space by the 27-symbol scheme), and the bytes of control characters other than
 * tab, line feed, vertical tab, form feed and carriage return (C0, DEL and C1). */
typedef struct NnTextCheck {
    int64_t bytes;   /* the text's length */
    int64_t invalid; /* bytes of malformed UTF-8 */
    int64_t control; /* bytes of unwanted control characters (well-formed UTF-8) */
} NnTextCheck;
/* Counts text[0..len) (never past len; NUL bytes count as control characters).
 * Cannot fail. */
NnTextCheck nn_text_check(const char *text, int64_t len);
/* (invalid + control) / bytes, 0 for an empty text: the share a program warns about. */
double nn_text_check_share(const NnTextCheck *check);
/* A copy of text[0..len) with each malformed byte replaced by U+FFFD, so it can be
 * printed as UTF-8 (NUL-terminated heap buffer, free with free(); length to *out_len).
 * Aborts only when out of memory. */
char *nn_text_replace_invalid(const char *text, int64_t len, int64_t *out_len);

/* ---- the 27-symbol scheme: 0 = space, 1..26 = a..z ---- */
#define NN_CHAR27_SIZE 27
/* Maps each UTF-8 character of text to a symbol: letters are lower-cased, anything
 * else (digits, punctuation, newlines, non-ASCII characters, invalid bytes) becomes a
 * space. Writes a heap array (free with free()) and its length; NULL on overflow. */
int32_t *nn_char27_encode(const char *text, int64_t len, int64_t *out_len);
/* The character of a symbol ('?' outside 0..26). */
char nn_char27_decode(int32_t symbol);

/* ---- a character vocabulary of the Unicode code points a text uses ---- */
typedef struct NnCharVocab NnCharVocab;
/* The vocabulary of the characters text uses: ids 0..size-1 in code-point order.
 * Invalid UTF-8 bytes count as U+FFFD. Free with nn_char_vocab_free; NULL with
 * tensor_last_error() set when out of memory. */
NnCharVocab *nn_char_vocab_build(const char *text, int64_t len);
/* Number of distinct characters (ids 0..size-1). */
int32_t nn_char_vocab_size(const NnCharVocab *vocab);
/* Ids for text; a character not in the vocabulary makes it return NULL with
 * tensor_last_error() naming it. */
int32_t *nn_char_vocab_encode(const NnCharVocab *vocab, const char *text, int64_t len, int64_t *out_len);
/* Writes the UTF-8 encoding of id into out (at least 5 bytes, NUL-terminated);
 * returns the byte count (0 for an unknown id). */
int nn_char_vocab_decode(const NnCharVocab *vocab, int32_t id, char *out);
/* Frees the vocabulary. Accepts NULL. */
void nn_char_vocab_free(NnCharVocab *vocab);

/* ---- a word tokenizer like keras.preprocessing.text.Tokenizer ---- */
typedef struct NnTokenizerOpts {
    int64_t num_words;     /* keep only indexes < num_words when encoding (0: all) */
    const char *oov_token; /* if set, gets index 1 and stands for unknown words */
    const char *filters;   /* characters replaced by spaces; NULL: Keras's default
                            * !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ plus tab and newline */
    bool no_lower;         /* keep case (Keras lower=True by default) */
    int64_t min_count;     /* words seen fewer times are left out of the index (0: keep all) */
} NnTokenizerOpts;
typedef struct NnTokenizer NnTokenizer;
/* An empty tokenizer (opts may be NULL: Keras defaults). Free with nn_tokenizer_free;
 * NULL with tensor_last_error() set when num_words or min_count is negative. */
NnTokenizer *nn_tokenizer_new(const NnTokenizerOpts *opts);
#define nn_tokenizer(...) nn_tokenizer_new(&(NnTokenizerOpts){__VA_ARGS__})
/* Counts the words of a text (call once per text, then nn_tokenizer_finish; counting
 * after finish goes on, the index changing only at the next finish). */
void nn_tokenizer_fit(NnTokenizer *tok, const char *text, int64_t len);
/* Ranks words by count (ties: first seen first), index 1 upward (after the OOV token).
 * Returns -1 if no word was seen. */
int nn_tokenizer_finish(NnTokenizer *tok);
/* Words in the index (excluding the reserved 0), i.e. the largest index. */
int64_t nn_tokenizer_vocab_size(const NnTokenizer *tok);
/* The index of a word (after lower-casing), or 0 if unknown. */
int32_t nn_tokenizer_index(const NnTokenizer *tok, const char *word);
/* The word with an index, or NULL. */
const char *nn_tokenizer_word(const NnTokenizer *tok, int32_t index);
/* Encodes a text like texts_to_sequences: unknown words (and indexes >= num_words) are
 * dropped, or become the OOV index if there is one. Heap array, free with free(). */
int32_t *nn_tokenizer_encode(const NnTokenizer *tok, const char *text, int64_t len, int64_t *out_len);
/* Frees the tokenizer and its index. Accepts NULL. */
void nn_tokenizer_free(NnTokenizer *tok);

/* ---- sliding windows over an id sequence ---- */
/* Many-to-one: x[i] = ids[s .. s+window), y[i] = ids[s+window], s = i*stride.
 * x (N, window) and y (N) int32 heap tensors. Returns -1 if the sequence is shorter
 * than window + 1 or an argument is not positive. */
int nn_windows_next(const int32_t *ids, int64_t n, int64_t window, int64_t stride, Tensor **x,
                    Tensor **y);
/* Many-to-many: x[i] = ids[s .. s+window), y[i] = ids[s+1 .. s+window+1). */
int nn_windows_shifted(const int32_t *ids, int64_t n, int64_t window, int64_t stride, Tensor **x,
                       Tensor **y);

/* ---- padding id lists to one length (Keras pad_sequences) ---- */
typedef enum { NN_PAD_PRE = 0, NN_PAD_POST } NnPadSide;
typedef struct NnPadOpts {
    int64_t maxlen;        /* length of every row; 0: the longest sequence's */
    NnPadSide padding;     /* where the padding goes: before (Keras's default) or after */
    NnPadSide truncating;  /* which end a longer sequence loses: its front (default) or back */
    int32_t value;         /* the padding id (default 0, which Embedding(mask_zero) masks) */
} NnPadOpts;
/* n id lists seqs[i] of lens[i] ids -> an int32 (n, maxlen) heap tensor (free with
 * tensor_free), as keras.utils.pad_sequences:
 *   nn_pad_sequences(3, seqs, lens) on [1], [2, 3], [4, 5, 6] gives
 *   [[0, 0, 1], [0, 2, 3], [4, 5, 6]]; .padding = NN_PAD_POST gives
 *   [[1, 0, 0], [2, 3, 0], [4, 5, 6]]; .maxlen = 2 gives [[0, 1], [2, 3], [5, 6]].
 * opts may be NULL (Keras's defaults). NULL with tensor_last_error() set for a negative
 * count, length or maxlen, a NULL list with a positive length, or an unknown side. */
Tensor *nn_pad_sequences_opts(int64_t n, const int32_t *const *seqs, const int64_t *lens,
                              const NnPadOpts *opts);
#define nn_pad_sequences(n, seqs, lens, ...) \
    nn_pad_sequences_opts((n), (seqs), (lens), &(NnPadOpts){__VA_ARGS__})

#endif
