/* The stored zip archives .npz files are (see zip_internal.h): writing local headers,
 * data and the central directory into memory for one atomic write, and reading them
 * back with every offset and size checked against the file before it is followed. */
#include "nn/io/zip_internal.h"

#include "nn/io/atomic_file_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nn__zip_refuse(const char *path, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tensor_set_error("%s: not a readable .npz: %s", path, msg);
}

/* ---- writing ---- */

int nn__zip_add(NnZipWriter *z, const char *name, const void *head, size_t head_len, const void *data,
                size_t data_len) {
    if (z->b.len + 30 + NN_ZIP_NAME_MAX + head_len + data_len > NN_ZIP_U32_LIMIT - 65536) return -1;
    const uint32_t offset = (uint32_t)z->b.len, crc = nn__crc32(nn__crc32(0, head, head_len), data, data_len),
                   size = (uint32_t)(head_len + data_len);
    const unsigned name_len = (unsigned)strlen(name);
    /* Local header: signature, version needed (2.0), flags (UTF-8 names), stored,
     * time and date (a fixed 1980-01-01 keeps files reproducible), CRC, sizes,
     * name length, extra length. */
    nn__bytes_le(&z->b, "42222244422", 0x04034b50u, 20u, 0x0800u, 0u, 0u, 0x0021u, crc, size, size, name_len, 0u);
    nn__bytes_put(&z->b, name, name_len);
    nn__bytes_put(&z->b, head, head_len);
    nn__bytes_put(&z->b, data, data_len);
    /* Central header: signature, made by (Unix, 2.0), then as the local header,
     * comment length, disk, attributes (a regular rw-r--r-- file), offset. */
    nn__bytes_le(&z->cd, "42222224442222244", 0x02014b50u, 3u << 8 | 20u, 20u, 0x0800u, 0u, 0u, 0x0021u, crc, size,
                 size, name_len, 0u, 0u, 0u, 0u, 0100644u << 16, offset);
    nn__bytes_put(&z->cd, name, name_len);
    z->n++;
    return 0;
}

int nn__zip_write(NnZipWriter *z, const char *path) {
    const size_t cd_start = z->b.len, cd_size = z->cd.len;
    nn__bytes_put(&z->b, z->cd.data, cd_size);
    /* End record: signature, disk numbers, entry counts, directory size and offset,
     * comment length. */
    nn__bytes_le(&z->b, "42222442", 0x06054b50u, 0u, 0u, z->n, z->n, (uint32_t)cd_size, (uint32_t)cd_start, 0u);
    return nn_write_file_atomically(path, z->b.data, z->b.len);
}

void nn__zip_free(NnZipWriter *z) {
    free(z->b.data);
    free(z->cd.data);
    *z = (NnZipWriter){0};
}

/* ---- reading ---- */

/* A member name fit for a message: at most cap-1 bytes, control bytes shown as '?'. */
static const char *printable(char *out, size_t cap, const unsigned char *p, size_t n) {
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++) out[i] = (p[i] < 0x20 || p[i] == 0x7F) ? '?' : (char)p[i];
    out[k] = '\0';
    return out;
}

/* Reads the zip64 extra field of a central entry for the fields set to 0xFFFFFFFF. */
static bool zip64_extra(const unsigned char *x, uint64_t xlen, uint64_t *usize, uint64_t *csize, uint64_t *loc) {
    for (uint64_t q = 0; q + 4 <= xlen;) {
        uint64_t id = nn__le16(x + q), sz = nn__le16(x + q + 2), k = 0;
        if (q + 4 + sz > xlen) return false;
        if (id == 1) {
            uint64_t *fields[3] = {usize, csize, loc};
            for (int f = 0; f < 3; f++)
                if (*fields[f] == NN_ZIP_U32_LIMIT) {
                    if (k + 8 > sz) return false;
                    *fields[f] = nn__le64(x + q + 4 + k);
                    k += 8;
                }
        }
        q += 4 + sz;
    }
    return *usize != NN_ZIP_U32_LIMIT && *csize != NN_ZIP_U32_LIMIT && *loc != NN_ZIP_U32_LIMIT;
}

int nn__zip_open_dir(NnZipDir *d, const char *path, const unsigned char *f, uint64_t len) {
    *d = (NnZipDir){.path = path, .f = f, .len = len};
    if (len < 22)
        return nn__zip_refuse(path, "too short to be a zip archive (%llu bytes)", (unsigned long long)len);
    uint64_t eocd = UINT64_MAX, lowest = len >= 22 + 65535 ? len - 22 - 65535 : 0;
    for (uint64_t pos = len - 22;; pos--) {
        if (nn__le32(f + pos) == 0x06054b50 && pos + 22 + nn__le16(f + pos + 20) == len) {
            eocd = pos;
            break;
        }
        if (pos == lowest) break;
    }
    if (eocd == UINT64_MAX)
        return nn__zip_refuse(path, "no end-of-directory record: truncated, or not a zip archive");
    const unsigned char *e = f + eocd;
    uint64_t on_disk = nn__le16(e + 8), limit = eocd;
    d->count = nn__le16(e + 10), d->size = nn__le32(e + 12), d->offset = nn__le32(e + 16);
    bool multi = nn__le16(e + 4) != 0 || nn__le16(e + 6) != 0;
    if (d->count == 0xFFFF || d->size == NN_ZIP_U32_LIMIT || d->offset == NN_ZIP_U32_LIMIT) {
        if (eocd < 20 || nn__le32(f + eocd - 20) != 0x07064b50)
            return nn__zip_refuse(path, "zip64 values without a zip64 locator");
        const unsigned char *l = f + eocd - 20;
        uint64_t z = nn__le64(l + 8);
        if (z > eocd - 20 || eocd - 20 - z < 56 || nn__le32(f + z) != 0x06064b50)
            return nn__zip_refuse(path, "the zip64 end record is missing or damaged");
        multi = multi || nn__le32(l + 4) != 0 || nn__le32(l + 16) > 1 || nn__le32(f + z + 16) != 0 ||
                nn__le32(f + z + 20) != 0;
        on_disk = nn__le64(f + z + 24), d->count = nn__le64(f + z + 32), d->size = nn__le64(f + z + 40),
        d->offset = nn__le64(f + z + 48);
        limit = z;
    }
    if (multi || on_disk != d->count) return nn__zip_refuse(path, "multi-disk zip archives are not supported");
    if (d->offset > limit || d->size > limit - d->offset)
        return nn__zip_refuse(path, "the central directory lies outside the file (truncated?)");
    if (d->count > d->size / 46 || d->count > 1000000)
        return nn__zip_refuse(path, "the directory claims %llu entries in %llu bytes", (unsigned long long)d->count,
                              (unsigned long long)d->size);
    d->pos = d->offset;
    return 0;
}

int nn__zip_next(NnZipDir *d, uint64_t i, NnZipMember *m) {
    const char *path = d->path;
    const unsigned char *f = d->f, *c = f + d->pos;
    const uint64_t cd_off = d->offset, cd_end = d->offset + d->size;
    if (cd_end - d->pos < 46 || nn__le32(c) != 0x02014b50)
        return nn__zip_refuse(path, "central directory entry %llu is damaged", (unsigned long long)i);
    unsigned flags = nn__le16(c + 8), method = nn__le16(c + 10);
    uint32_t crc = nn__le32(c + 16);
    uint64_t csize = nn__le32(c + 20), usize = nn__le32(c + 24), loc = nn__le32(c + 42);
    uint64_t nlen = nn__le16(c + 28), xlen = nn__le16(c + 30), clen = nn__le16(c + 32);
    if (46 + nlen + xlen + clen > cd_end - d->pos)
        return nn__zip_refuse(path, "central directory entry %llu is damaged", (unsigned long long)i);
    const char *name = printable(m->shown, sizeof m->shown, c + 46, nlen);
    if (flags & 1) return nn__zip_refuse(path, "'%s' is encrypted", name);
    if (method != 0)
        return nn__zip_refuse(path, "'%s' is compressed (method %u%s); only stored (uncompressed) members are read: "
                                    "write it with numpy.savez, not numpy.savez_compressed",
                              name, method, method == 8 ? ", deflate" : "");
    if ((csize == NN_ZIP_U32_LIMIT || usize == NN_ZIP_U32_LIMIT || loc == NN_ZIP_U32_LIMIT) &&
        !zip64_extra(c + 46 + nlen, xlen, &usize, &csize, &loc))
        return nn__zip_refuse(path, "'%s' has a damaged zip64 extra field", name);
    if (csize != usize)
        return nn__zip_refuse(path, "'%s' is stored with %llu bytes but claims %llu", name,
                              (unsigned long long)csize, (unsigned long long)usize);
    if (loc > cd_off || cd_off - loc < 30 || nn__le32(f + loc) != 0x04034b50)
        return nn__zip_refuse(path, "'%s': its local header is missing or outside the data", name);
    uint64_t data = loc + 30 + nn__le16(f + loc + 26) + nn__le16(f + loc + 28);
    if (data > cd_off || csize > cd_off - data)
        return nn__zip_refuse(path, "'%s': its data runs past the end", name);
    if (nn__le16(f + loc + 26) != nlen || memcmp(f + loc + 30, c + 46, nlen) != 0 ||
        nn__le16(f + loc + 8) != method)
        return nn__zip_refuse(path, "'%s': its local header disagrees with the central directory", name);
    if (nn__crc32(0, f + data, csize) != crc)
        return nn__zip_refuse(path, "'%s': CRC-32 mismatch (corrupted)", name);
    m->name = c + 46;
    m->name_len = nlen;
    m->data = f + data;
    m->size = csize;
    d->pos += 46 + nlen + xlen + clen;
    return 0;
}
