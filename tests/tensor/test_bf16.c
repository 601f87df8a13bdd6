/* float32 <-> bfloat16 conversion: round to nearest with ties to even, NaN kept NaN,
 * Inf kept, overflow to Inf, denormals rounded like other values, arrays same as
 * scalars. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tensor/bf16_internal.h"

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

Test(bf16, exact_values_unchanged) {
    const float v[] = {0.0f, -0.0f, 1.0f, -2.5f, 0.15625f, 65536.0f, from_bits(0x00010000u)};
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(tensor_bf16_to_float(tensor_bf16_from_float(v[i])), v[i]);
        cr_assert_eq(signbit(tensor_bf16_round(v[i])), signbit(v[i]));
    }
}

Test(bf16, round_to_nearest_ties_to_even) {
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x3F808000u)), 0x3F80); /* tie, even below */
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x3F818000u)), 0x3F82); /* tie, even above */
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x3F808001u)), 0x3F81); /* above the tie */
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x3F807FFFu)), 0x3F80); /* below the tie */
    cr_assert_eq(tensor_bf16_from_float(from_bits(0xBF818000u)), 0xBF82); /* negative tie */
}

Test(bf16, nan_inf_overflow) {
    cr_assert_eq(tensor_bf16_from_float(INFINITY), 0x7F80);
    cr_assert_eq(tensor_bf16_from_float(-INFINITY), 0xFF80);
    /* NaNs whose payload is only in the low bits must not become Inf. */
    const uint32_t nans[] = {0x7F800001u, 0xFF800001u, 0x7FC00000u, 0x7FFFFFFFu};
    for (int i = 0; i < 4; i++) {
        const tensor_bf16 h = tensor_bf16_from_float(from_bits(nans[i]));
        cr_assert(isnan(tensor_bf16_to_float(h)), "0x%08x -> 0x%04x", nans[i], h);
        cr_assert_eq(h >> 15, nans[i] >> 31, "sign kept");
    }
    cr_assert_eq(tensor_bf16_from_float(FLT_MAX), 0x7F80, "rounds past the largest bf16");
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x7F7F7FFFu)), 0x7F7F);
}

Test(bf16, denormals) {
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x00000001u)), 0x0000); /* rounds to 0 */
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x80000001u)), 0x8000);
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x00018000u)), 0x0002); /* tie to even */
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x00008000u)), 0x0000); /* tie to even 0 */
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x00008001u)), 0x0001);
    cr_assert_eq(tensor_bf16_from_float(from_bits(0x007FFFFFu)), 0x0080); /* up to normal */
}

Test(bf16, arrays_match_scalars) {
    enum { N = 1003 };
    float src[N], round[N], back[N];
    tensor_bf16 h[N];
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        src[i] = from_bits(s);
    }
    tensor_bf16_from_float_array(h, src, N);
    tensor_bf16_to_float_array(back, h, N);
    tensor_bf16_round_array(round, src, N);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(h[i], tensor_bf16_from_float(src[i]), "element %d", i);
        cr_assert_eq(memcmp(&back[i], &round[i], 4), 0, "element %d", i);
    }
}
