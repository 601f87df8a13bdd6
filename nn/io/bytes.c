/* Little-endian fields into a growing buffer and back out through a bounds-checked
 * cursor, and CRC-32: the encoding the weights, .npz and word2vec state files share
 * (see bytes_internal.h). */
#include "nn/io/bytes_internal.h"

#include "tensor/error.h"

#include <stdarg.h>
#include <string.h>

void nn__bytes_put(NnBytes *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        b->data = tensor_xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_le(NnBytes *b, uint64_t v, size_t n) {
    unsigned char x[8];
    for (size_t i = 0; i < n; i++) x[i] = (unsigned char)((v >> (8 * i)) & 0xFF);
    nn__bytes_put(b, x, n);
}

void nn__bytes_u32(NnBytes *b, uint32_t v) { put_le(b, v, 4); }
void nn__bytes_u64(NnBytes *b, uint64_t v) { put_le(b, v, 8); }
void nn__bytes_i64(NnBytes *b, int64_t v) { put_le(b, (uint64_t)v, 8); }

void nn__bytes_f64(NnBytes *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(b, u, 8);
}

void nn__bytes_le(NnBytes *b, const char *sizes, ...) {
    va_list ap;
    va_start(ap, sizes);
    for (const char *s = sizes; *s; s++) put_le(b, va_arg(ap, uint32_t), (size_t)(*s - '0'));
    va_end(ap);
}

bool nn__cursor_take(NnCursor *c, void *out, size_t n) {
    if (c->truncated || n > c->len - c->pos) {
        c->truncated = true;
        return false;
    }
    if (out) memcpy(out, c->p + c->pos, n);
    c->pos += n;
    return true;
}

uint32_t nn__cursor_u32(NnCursor *c) {
    unsigned char x[4];
    return nn__cursor_take(c, x, 4) ? nn__le32(x) : 0;
}

uint64_t nn__cursor_u64(NnCursor *c) {
    unsigned char x[8];
    return nn__cursor_take(c, x, 8) ? nn__le64(x) : 0;
}

int64_t nn__cursor_i64(NnCursor *c) { return (int64_t)nn__cursor_u64(c); }

double nn__cursor_f64(NnCursor *c) {
    uint64_t u = nn__cursor_u64(c);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

uint32_t nn__crc32(uint32_t crc, const void *data, size_t n) {
    static uint32_t table[256];
    static int ready = 0;
    if (!ready) { /* benign race: every thread computes the same table */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
