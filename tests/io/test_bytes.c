/* nn/io/bytes: CRC-32 against zlib's check values (whole and in pieces), fields written
 * little-endian byte by byte and read back, the zip-style field list, and a cursor
 * that refuses to read past its end and stays refused. */
#include "helpers.h"
#include "nn/io/bytes_internal.h"

#include <stdlib.h>
#include <string.h>

Test(bytes, crc32_check_values) {
    cr_assert_eq(nn__crc32(0, "123456789", 9), 0xCBF43926u);
    cr_assert_eq(nn__crc32(0, "", 0), 0u);
    cr_assert_eq(nn__crc32(0, NULL, 0), 0u);
    cr_assert_eq(nn__crc32(nn__crc32(0, "1234", 4), "56789", 5), 0xCBF43926u); /* continued */
}

Test(bytes, fields_are_little_endian) {
    NnBytes b = {0};
    nn__bytes_u32(&b, 0x04034b50u);
    nn__bytes_u64(&b, 0x0102030405060708ull);
    nn__bytes_i64(&b, -2);
    nn__bytes_f64(&b, 1.0);
    nn__bytes_le(&b, "24", 0xBEEFu, 0xCAFEF00Du);
    nn__bytes_put(&b, NULL, 0);
    const unsigned char want[] = {0x50, 0x4b, 0x03, 0x04, 8, 7, 6, 5, 4, 3, 2, 1,
                                  0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                  0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0xEF, 0xBE, 0x0D, 0xF0, 0xFE, 0xCA};
    cr_assert_eq(b.len, sizeof want);
    cr_assert_arr_eq(b.data, want, sizeof want);
    cr_assert_eq(nn__le16(b.data + 28), 0xBEEFu);
    cr_assert_eq(nn__le32(b.data), 0x04034b50u);
    cr_assert_eq(nn__le64(b.data + 4), 0x0102030405060708ull);
    unsigned char x[8];
    nn__store_le64(x, 0x0102030405060708ull);
    cr_assert_arr_eq(x, want + 4, 8);
    free(b.data);
}

Test(bytes, buffer_grows_past_its_first_block) {
    NnBytes b = {0};
    for (uint32_t i = 0; i < 5000; i++) nn__bytes_u32(&b, i);
    cr_assert_eq(b.len, 20000u);
    cr_assert_geq(b.cap, b.len);
    for (uint32_t i = 0; i < 5000; i++) cr_assert_eq(nn__le32(b.data + 4 * i), i);
    free(b.data);
}

Test(bytes, cursor_reads_back_and_stops_at_the_end) {
    NnBytes b = {0};
    nn__bytes_u32(&b, 7);
    nn__bytes_i64(&b, -5);
    nn__bytes_f64(&b, 0.25);
    nn__bytes_u32(&b, 9);
    NnCursor c = {b.data, b.len, 0, false};
    cr_assert_eq(nn__cursor_u32(&c), 7u);
    cr_assert_eq(nn__cursor_i64(&c), -5);
    cr_assert_eq(nn__cursor_f64(&c), 0.25);
    cr_assert_eq(c.pos, 20u);
    cr_assert_eq(nn__cursor_u64(&c), 0u); /* only 4 bytes left */
    cr_assert(c.truncated);
    cr_assert_eq(c.pos, 20u);
    cr_assert_eq(nn__cursor_u32(&c), 0u); /* sticky, though 4 bytes would fit */
    cr_assert_not(nn__cursor_take(&c, NULL, 0));
    NnCursor d = {b.data, b.len - 4, 0, false}; /* a trailer excluded */
    cr_assert(nn__cursor_take(&d, NULL, 20));
    cr_assert_eq(nn__cursor_u32(&d), 0u);
    cr_assert(d.truncated);
    free(b.data);
}
