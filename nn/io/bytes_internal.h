/* The byte-level pieces of lamina's binary formats (weights and checkpoints, .npz
 * archives, word2vec vector files and training states): little-endian fields, an
 * output buffer that grows as they are appended, a bounds-checked cursor to read
 * them back, and CRC-32. One copy of each, so every format encodes alike. */
#ifndef NN_BYTES_INTERNAL_H
#define NN_BYTES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields are encoded byte by byte, but tensor payloads (float32 / int32 arrays)
 * are copied as they lie in memory, which is what every format stores only on a
 * little-endian host. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lamina's file formats copy float32 / int32 payloads by memcpy: a little-endian host is assumed"
#endif

/* ---- fixed-width little-endian fields at a pointer (no bounds: the caller's) ---- */

static inline uint16_t nn__le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t nn__le32(const unsigned char *p) {
    return (uint32_t)nn__le16(p) | (uint32_t)nn__le16(p + 2) << 16;
}
static inline uint64_t nn__le64(const unsigned char *p) {
    return (uint64_t)nn__le32(p) | (uint64_t)nn__le32(p + 4) << 32;
}
static inline void nn__store_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v & 0xFF);
    p[1] = (unsigned char)((v >> 8) & 0xFF);
    p[2] = (unsigned char)((v >> 16) & 0xFF);
    p[3] = (unsigned char)(v >> 24);
}
static inline void nn__store_le64(unsigned char *p, uint64_t v) {
    nn__store_le32(p, (uint32_t)(v & 0xFFFFFFFFu));
    nn__store_le32(p + 4, (uint32_t)(v >> 32));
}

/* ---- writing: bytes appended to a heap buffer ---- */

typedef struct NnBytes {
    unsigned char *data; /* heap; free() it when done */
    size_t len, cap;
} NnBytes;

/* Appends n bytes (p may be NULL when n is 0); the buffer at least doubles as it grows. */
void nn__bytes_put(NnBytes *b, const void *p, size_t n);
void nn__bytes_u32(NnBytes *b, uint32_t v);
void nn__bytes_u64(NnBytes *b, uint64_t v);
void nn__bytes_i64(NnBytes *b, int64_t v);
void nn__bytes_f64(NnBytes *b, double v); /* its IEEE-754 bits as a u64 */
/* Appends one field per character of sizes ('2' or '4'), each taking an unsigned
 * argument: a zip header reads as its list of fields. */
void nn__bytes_le(NnBytes *b, const char *sizes, ...);

/* ---- reading: a cursor that refuses to run past the end ---- */

typedef struct NnCursor {
    const unsigned char *p;
    size_t len, pos; /* len may be lowered to exclude a trailer */
    bool truncated;  /* a read ran past len (sticky: every later read fails too) */
} NnCursor;

/* Copies the next n bytes to out (NULL: skips them). False, and truncated set, when
 * fewer than n remain; then nothing is read. */
bool nn__cursor_take(NnCursor *c, void *out, size_t n);
/* The next field, or 0 once the cursor is truncated. */
uint32_t nn__cursor_u32(NnCursor *c);
uint64_t nn__cursor_u64(NnCursor *c);
int64_t nn__cursor_i64(NnCursor *c);
double nn__cursor_f64(NnCursor *c);

/* ---- checksums ---- */

/* CRC-32 (IEEE 802.3, zlib's crc32) of p[0..n) continuing from crc (0 to start). */
uint32_t nn__crc32(uint32_t crc, const void *p, size_t n);

#endif
