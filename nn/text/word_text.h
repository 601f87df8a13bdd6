/* The word pipeline of the Shakespeare notebook's word model, on top of NnTokenizer:
 * lower-case; punctuation removed except '-' and '\'' (typographic apostrophes count
 * as '\''); words seen rare_max times or fewer become the unknown word "<unk>".
 * Ids: 0 is never used (padding), 1 is "<unk>", 2.. the words by falling count, so
 * an Embedding over them needs nn_tokenizer_vocab_size(tok) + 1 rows. */
#ifndef NN_WORD_TEXT_H
#define NN_WORD_TEXT_H

#include <lamina/nn/text/text.h>

#include <stdint.h>

#define NN_WORD_UNKNOWN "<unk>"
#define NN_WORD_UNKNOWN_ID 1

/* A copy of text (NUL-terminated heap buffer, free with free()) with the pipeline's
 * punctuation turned into spaces and typographic apostrophes (U+2018, U+2019, U+201B,
 * U+02BC) into '\''. Case is left alone (the tokenizer lower-cases). ASCII
 * punctuation other than - and ', and the punctuation of Latin-1 and of the General
 * Punctuation block (dashes, quotes, ellipsis, ...), count as punctuation; each
 * invalid UTF-8 byte becomes U+FFFD, so the result is always valid UTF-8. Writes the
 * new length to *out_len. */
char *nn_word_text_normalize(const char *text, int64_t len, int64_t *out_len);

/* A finished tokenizer over text with the pipeline above (oov token "<unk>",
 * min_count rare_max + 1). NULL with tensor_last_error() set when the text has no
 * word seen more than rare_max times or rare_max < 0. Free with nn_tokenizer_free. */
NnTokenizer *nn_word_text_tokenizer(const char *text, int64_t len, int64_t rare_max);

/* The ids of text's words under tok (from nn_word_text_tokenizer); a word outside the
 * vocabulary becomes NN_WORD_UNKNOWN_ID. When unknown is not NULL, *unknown receives
 * the distinct unknown words, as they appear in text, as one heap string "a, b, c" (free with
 * free()), or NULL if every word is known. Heap array (free with free()); NULL with
 * tensor_last_error() set on overflow. */
int32_t *nn_word_text_encode(const NnTokenizer *tok, const char *text, int64_t len, int64_t *out_len,
                             char **unknown);

#endif
