/* The small UTF-8 decoder and encoder the text utilities share (character schemes,
 * vocabularies, the tokenizer, the word pipelines). Not part of the public API. */
#ifndef NN_UTF8_INTERNAL_H
#define NN_UTF8_INTERNAL_H

#include <stdint.h>

/* Decodes one UTF-8 character at text[0..avail) (avail >= 1) into *cp and returns
 * its byte count (1..4), or returns -1 if text[0] does not start a well-formed
 * character (stray continuation, overlong form, surrogate, > U+10FFFF, or a sequence
 * cut short by avail or by a non-continuation byte). Callers then skip exactly that
 * one byte, so every invalid byte stands for one character of its own. Never reads
 * at or past text[avail]. */
int nn__utf8_decode(const char *text, int64_t avail, uint32_t *cp);

/* What an invalid byte is read as where a character must be produced. */
#define NN__UTF8_REPLACEMENT 0xFFFDu

/* Writes the UTF-8 encoding of a code point (<= U+10FFFF) to out; returns 1..4. */
int nn__utf8_encode(uint32_t cp, char *out);

#endif
