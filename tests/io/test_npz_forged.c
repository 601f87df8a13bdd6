/* NumPy .npz files forged to be hostile: one-member archives whose .npy header or zip
 * records are edited and whose CRCs are recomputed, so each check is reached: .npy
 * headers are parsed strictly, deflate, encryption and inconsistent records are refused
 * with a reason, and zip64 end records (as Python's zipfile writes) are read. */
#include "helpers.h"

#include "nn/io/bytes_internal.h"
#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>

static void wr32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t rd32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Builds a one-member archive "x.npy" whose .npy bytes are header + data, with
 * correct sizes and CRCs, so only the .npy content is under test. */
static size_t forge(unsigned char *out, const char *dict, const void *data, size_t dlen, unsigned major) {
    unsigned char npy[1024];
    size_t hlen = strlen(dict), start = major == 1 ? 10 : 12;
    memcpy(npy, "\x93NUMPY", 6);
    npy[6] = (unsigned char)major;
    npy[7] = 0;
    if (major == 1) npy[8] = (unsigned char)(hlen & 0xFF), npy[9] = (unsigned char)(hlen >> 8);
    else wr32(npy + 8, (uint32_t)hlen);
    memcpy(npy + start, dict, hlen);
    memcpy(npy + start + hlen, data, dlen);
    size_t n = start + hlen + dlen, pos = 0;
    uint32_t crc = nn__crc32(0, npy, n);
    unsigned char local[30] = {'P', 'K', 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0};
    wr32(local + 14, crc);
    wr32(local + 18, (uint32_t)n);
    wr32(local + 22, (uint32_t)n);
    local[26] = 5;
    memcpy(out, local, 30), pos = 30;
    memcpy(out + pos, "x.npy", 5), pos += 5;
    memcpy(out + pos, npy, n), pos += n;
    size_t cd = pos;
    unsigned char central[46] = {'P', 'K', 1, 2, 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0};
    wr32(central + 16, crc);
    wr32(central + 20, (uint32_t)n);
    wr32(central + 24, (uint32_t)n);
    central[28] = 5;
    memcpy(out + pos, central, 46), pos += 46;
    memcpy(out + pos, "x.npy", 5), pos += 5;
    unsigned char end[22] = {'P', 'K', 5, 6, 0, 0, 0, 0, 1, 0, 1, 0};
    wr32(end + 12, (uint32_t)(pos - cd));
    wr32(end + 16, (uint32_t)cd);
    memcpy(out + pos, end, 22), pos += 22;
    return pos;
}

/* Opens a forged archive; returns NULL-or-not and leaves the error to inspect. */
static NnNpz *open_forged(const char *dict, const void *data, size_t dlen, unsigned major) {
    static unsigned char buf[4096];
    char *path = test_temp_path("forged.npz");
    size_t n = forge(buf, dict, data, dlen, major);
    test_write_bytes(path, buf, n);
    NnNpz *z = nn_npz_open(path);
    free(path);
    return z;
}

#define EXPECT_REFUSED(dict, data, dlen, major, text)                                          \
    do {                                                                                       \
        NnNpz *z_ = open_forged(dict, data, dlen, major);                                      \
        cr_assert_null(z_, "accepted %s", dict);                                              \
        cr_assert(strstr(tensor_last_error(), text), "for %s: %s", dict, tensor_last_error()); \
    } while (0)

Test(npz, npy_headers_are_parsed_strictly) {
    float six[6] = {1, 2, 3, 4, 5, 6};
    /* What numpy writes, also as versions 2.0 and 3.0 and with Python 2 longs. */
    const char *good[] = {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n",
                          "{\"shape\": (2,3), \"descr\": \"<f4\", \"fortran_order\": False}",
                          "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n"};
    for (unsigned v = 1; v <= 3; v++)
        for (int i = 0; i < 3; i++) {
            NnNpz *z = open_forged(good[i], six, sizeof six, v);
            cr_assert_not_null(z, "%s: %s", good[i], tensor_last_error());
            Tensor *t = nn_npz_get(z, "x", NULL);
            cr_assert(t->ndim == 2 && t->shape[1] == 3 && tensor_f32(t)[5] == 6.0f);
            tensor_free(t);
            nn_npz_close(z);
        }
    EXPECT_REFUSED("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", six, 24, 1, "'<f8'");
    EXPECT_REFUSED("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", six, 24, 1, "'>f4'");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", six, 24, 1, "Fortran order");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", six, 24, 1, "holds 24 bytes");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", six, 24, 1, "holds 24 bytes");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", six, 24, 1,
                   "less than its shape needs");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", six, 24, 1,
                   "too large");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }", six, 24, 1,
                   "more than 8 dims");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", six, 24, 1, "non-negative");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", six, 24, 1, "not a tuple");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, }", six, 24, 1, "lacks");
    EXPECT_REFUSED("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six, 24, 1,
                   "repeats");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", six, 24, 1, "unknown key");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (6,), }", six, 24, 1, "True nor False");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x", six, 24, 1, "after the header");
    EXPECT_REFUSED("['descr', '<f4']", six, 24, 1, "not a dict");
    EXPECT_REFUSED("{'descr': '<f4\\x', 'fortran_order': False, 'shape': (6,), }", six, 24, 1, "short string");
    EXPECT_REFUSED("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six, 24, 4, "version 4.0");
    /* A header length that points past the member. */
    static unsigned char buf[4096];
    size_t n = forge(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six, 24, 1);
    buf[35 + 8] = 0xFF, buf[35 + 9] = 0x7F;
    uint32_t crc = nn__crc32(0, buf + 35, rd32(buf + 18));
    wr32(buf + 14, crc);
    wr32(buf + n - 22 - 51 + 16, crc);
    char *path = test_temp_path("hlen.npz");
    test_write_bytes(path, buf, n);
    cr_assert_null(nn_npz_open(path));
    cr_assert(strstr(tensor_last_error(), "header length"), "%s", tensor_last_error());
    free(path);
}

/* Patches a valid archive (one member) and expects the message. */
static void expect_zip_refused(void (*patch)(unsigned char *buf, size_t *n), const char *text) {
    static unsigned char buf[4096];
    float six[6] = {0};
    size_t n = forge(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six, 24, 1);
    patch(buf, &n);
    char *path = test_temp_path("patched.npz");
    test_write_bytes(path, buf, n);
    cr_assert_null(nn_npz_open(path));
    cr_assert(strstr(tensor_last_error(), text), "expected '%s': %s", text, tensor_last_error());
    free(path);
}

/* Offsets in a forged archive of n bytes: the central header and the end record. */
#define CENTRAL(n) ((n) - 22 - 51)
#define END(n) ((n) - 22)
static void deflated(unsigned char *b, size_t *n) { b[8] = b[CENTRAL(*n) + 10] = 8; }
static void encrypted(unsigned char *b, size_t *n) { b[6] = b[CENTRAL(*n) + 8] = 1; }
static void bad_crc(unsigned char *b, size_t *n) { b[80] ^= 1, (void)n; }
static void cd_outside(unsigned char *b, size_t *n) { wr32(b + END(*n) + 16, 0x7FFFFFF0u); }
static void too_many(unsigned char *b, size_t *n) { b[END(*n) + 8] = b[END(*n) + 10] = 200; }
static void multi_disk(unsigned char *b, size_t *n) { b[END(*n) + 4] = 1; }
static void local_far(unsigned char *b, size_t *n) { wr32(b + CENTRAL(*n) + 42, 5000); }
static void name_differs(unsigned char *b, size_t *n) { b[30] = 'y', (void)n; }
static void not_npy(unsigned char *b, size_t *n) { b[33] = b[CENTRAL(*n) + 46 + 3] = 'z'; }
static void size_lies(unsigned char *b, size_t *n) { wr32(b + CENTRAL(*n) + 20, rd32(b + CENTRAL(*n) + 20) + 1); }
static void zip64_missing(unsigned char *b, size_t *n) { wr32(b + END(*n) + 16, 0xFFFFFFFFu); }
static void sizes_ffff(unsigned char *b, size_t *n) { wr32(b + CENTRAL(*n) + 24, 0xFFFFFFFFu); }
static void comment_len(unsigned char *b, size_t *n) { b[END(*n) + 20] = 3; }

Test(npz, forged_zip_structures_are_refused_with_a_reason) {
    expect_zip_refused(deflated, "numpy.savez, not numpy.savez_compressed");
    expect_zip_refused(deflated, "method 8, deflate");
    expect_zip_refused(encrypted, "encrypted");
    expect_zip_refused(bad_crc, "CRC-32 mismatch");
    expect_zip_refused(cd_outside, "outside the file");
    expect_zip_refused(too_many, "claims 200 entries");
    expect_zip_refused(multi_disk, "multi-disk");
    expect_zip_refused(local_far, "local header is missing");
    expect_zip_refused(name_differs, "disagrees with the central directory");
    expect_zip_refused(not_npy, "is not a .npy array");
    expect_zip_refused(size_lies, "claims");
    expect_zip_refused(zip64_missing, "zip64");
    expect_zip_refused(sizes_ffff, "zip64 extra");
    expect_zip_refused(comment_len, "no end-of-directory record");
}

/* A zip64 end record (as zipfile writes for huge archives) and numpy's zip64 local
 * extra fields are read like the plain forms. */
static void to_zip64(unsigned char *b, size_t *n) {
    size_t end = END(*n);
    uint32_t cd_size = rd32(b + end + 12), cd_off = rd32(b + end + 16);
    unsigned char rec[56] = {'P', 'K', 6, 6, 44, 0, 0, 0, 0, 0, 0, 0, 45, 0, 45, 0};
    rec[24] = rec[32] = 1;
    wr32(rec + 40, cd_size);
    wr32(rec + 48, cd_off);
    unsigned char loc[20] = {'P', 'K', 6, 7};
    wr32(loc + 8, (uint32_t)end);
    loc[16] = 1;
    unsigned char eocd[22] = {'P', 'K', 5, 6, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                              0xFF, 0xFF, 0xFF, 0xFF, 0, 0};
    memcpy(b + end, rec, 56);
    memcpy(b + end + 56, loc, 20);
    memcpy(b + end + 76, eocd, 22);
    *n = end + 98;
}

Test(npz, zip64_end_records_are_read) {
    static unsigned char buf[4096];
    float six[6] = {1, 2, 3, 4, 5, 6};
    size_t n = forge(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six, 24, 1);
    to_zip64(buf, &n);
    char *path = test_temp_path("zip64.npz");
    test_write_bytes(path, buf, n);
    NnNpz *z = nn_npz_open(path);
    cr_assert_not_null(z, "%s", tensor_last_error());
    Tensor *t = nn_npz_get(z, "x", NULL);
    cr_assert_eq(tensor_f32(t)[5], 6.0f);
    tensor_free(t);
    nn_npz_close(z);
    /* A damaged zip64 record is refused. */
    buf[n - 98 + 40] = 0xFF;
    test_write_bytes(path, buf, n);
    cr_assert_null(nn_npz_open(path));
    cr_assert(strstr(tensor_last_error(), "outside the file"), "%s", tensor_last_error());
    free(path);
}
