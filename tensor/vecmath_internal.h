/* Vectorisable float math shared by tensor/'s element-wise kernels: the polynomial exp
 * behind reduce.c's softmax family and lstm_cell.c's sigmoid. Plain arithmetic and bit
 * moves, no calls and no branches, so the loops calling it become SIMD code. Files that
 * include it are compiled with -ffp-contract=fast (CMakeLists.txt), so their
 * x86-64-v3/v4 copies fuse the multiply-adds; both get the same bits from it. */
#ifndef TENSOR_VECMATH_INTERNAL_H
#define TENSOR_VECMATH_INTERNAL_H

#include <stdint.h>
#include <string.h>

/* exp(x) for x in [-87, 88], where 2^n below is a normal float; outside that range the
 * exponent bits wrap, so callers clamp x or mask the result. Cephes' method:
 * x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact product), exp(r) by a
 * degree-7 polynomial, 2^n built in the exponent bits. Relative error below 1e-7
 * (checked in tests/tensor/test_reduce.c); NaN stays NaN. Always inlined: a call would
 * stop the caller's loop from vectorising. */
static inline __attribute__((always_inline)) float tensor__exp_poly(float x) {
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float t = x * 1.44269504088896341f + shifter;
    float fn = t - shifter; /* n = round(x / ln2) */
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    float r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t sb = (tb - 0x4B400000u + 127u) << 23; /* low bits of t hold n: 2^n */
    float scale;
    memcpy(&scale, &sb, sizeof scale);
    return p * scale;
}

#endif
