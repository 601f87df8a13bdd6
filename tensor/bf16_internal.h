/* bfloat16, internal to the library: the upper half of a float32 (same exponent range,
 * 8 significant bits), the operand type of the AMX and AVX512-BF16 dot products. Held
 * as uint16_t so no compiler support for a bf16 type is needed. float32 -> bf16 rounds
 * to nearest, ties to even (what the hardware conversions do); bf16 -> float32 is exact. */
#ifndef TENSOR_BF16_INTERNAL_H
#define TENSOR_BF16_INTERNAL_H

#include <stdint.h>
#include <string.h>

typedef uint16_t tensor_bf16;

/* Round to nearest even. NaN stays NaN (made quiet, sign kept: truncating a NaN with
 * only low payload bits would give Inf); +-Inf stays Inf; values that round past the
 * largest bf16 become Inf; denormals round like any other value. */
static inline tensor_bf16 tensor_bf16_from_float(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (tensor_bf16)((u >> 16) | 0x0040u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (tensor_bf16)(u >> 16);
}

static inline float tensor_bf16_to_float(tensor_bf16 h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* x rounded to the nearest bf16, kept as a float32. */
static inline float tensor_bf16_round(float x) {
    return tensor_bf16_to_float(tensor_bf16_from_float(x));
}

/* dst[i] = bf16(src[i]) for i < n. */
void tensor_bf16_from_float_array(tensor_bf16 *dst, const float *src, int64_t n);

/* dst[i] = float(src[i]) for i < n. */
void tensor_bf16_to_float_array(float *dst, const tensor_bf16 *src, int64_t n);

/* dst[i] = src[i] rounded to bf16, as float32 (dst may be src). */
void tensor_bf16_round_array(float *dst, const float *src, int64_t n);

#endif
