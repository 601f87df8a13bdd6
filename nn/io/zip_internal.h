/* The zip container of .npz files: a writer of stored (uncompressed) archives built in
 * memory and written atomically, and a reader that walks an archive's central
 * directory member by member, every header field bounds-checked against the file and
 * each member's CRC-32 verified. Zip64 records (numpy.savez writes them for every
 * member) are read; deflate, encryption and multi-disk archives are refused by name.
 * What the members hold is the caller's business (npz.c: .npy arrays). */
#ifndef NN_ZIP_INTERNAL_H
#define NN_ZIP_INTERNAL_H

#include "nn/io/bytes_internal.h"

#include "tensor/error.h"

#include <stdint.h>

#define NN_ZIP_NAME_MAX 259 /* a member name: a 255-byte array name and ".npy" */
/* The largest size or offset a zip without zip64 records holds; in a field, this
 * value says the real one is in the zip64 extra field. */
#define NN_ZIP_U32_LIMIT 0xFFFFFFFFu

/* Sets "<path>: not a readable .npz: <why>" and returns -1: every refusal of a file
 * being read, by the container or by its members. */
int nn__zip_refuse(const char *path, const char *fmt, ...) TENSOR_PRINTF(2, 3);

/* ---- writing ---- */

typedef struct NnZipWriter {
    NnBytes b;  /* the local headers and data so far */
    NnBytes cd; /* their central directory entries */
    unsigned n; /* members added (the caller keeps it to 65535: no zip64) */
} NnZipWriter; /* start from {0} */

/* Appends a member called name (1..NN_ZIP_NAME_MAX bytes) whose data is
 * head[0..head_len) followed by data[0..data_len). Returns -1 (nothing added, no
 * error set) when the archive would outgrow the 4 GiB a zip without zip64 addresses. */
int nn__zip_add(NnZipWriter *z, const char *name, const void *head, size_t head_len, const void *data,
                size_t data_len);

/* Appends the central directory and end record and writes the archive to path
 * atomically. Returns 0 or -1 (tensor_last_error() set). */
int nn__zip_write(NnZipWriter *z, const char *path);

/* Frees the writer's buffers (after nn__zip_write, or instead of it). */
void nn__zip_free(NnZipWriter *z);

/* ---- reading ---- */

/* Where the central directory is, and how far through it a walk has come. */
typedef struct NnZipDir {
    const char *path;
    const unsigned char *f;
    uint64_t len;
    uint64_t offset, size, count; /* the directory: its place and entries */
    uint64_t pos;                 /* the next entry */
} NnZipDir;

typedef struct NnZipMember {
    const unsigned char *name; /* in the directory: name_len bytes, not NUL-terminated */
    uint64_t name_len;
    char shown[NN_ZIP_NAME_MAX + 4]; /* the name fit for a message: 262 bytes at most, control bytes as '?' */
    const unsigned char *data;
    uint64_t size;
} NnZipMember;

/* Finds and checks the end records of the archive f[0..len). Returns 0 or -1 (the
 * error set through nn__zip_refuse). */
int nn__zip_open_dir(NnZipDir *d, const char *path, const unsigned char *f, uint64_t len);

/* Reads the next directory entry (index i, 0-based) after checking it and its local
 * header: stored, unencrypted, inside the file, CRC-32 right. Returns 0 or -1. */
int nn__zip_next(NnZipDir *d, uint64_t i, NnZipMember *m);

#endif
