/* Array conversions between float32 and bfloat16. Plain loops over the inline scalar
 * conversions: the compiler vectorises them, and each level of TENSOR_MULTIVERSION
 * gets its own copy, so weights converted once per step cost one pass. */
#include "tensor/bf16_internal.h"

#include "tensor/parallel.h"

TENSOR_MULTIVERSION void tensor_bf16_from_float_array(tensor_bf16 *dst, const float *src,
                                                      int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = tensor_bf16_from_float(src[i]);
}

TENSOR_MULTIVERSION void tensor_bf16_to_float_array(float *dst, const tensor_bf16 *src,
                                                    int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = tensor_bf16_to_float(src[i]);
}

TENSOR_MULTIVERSION void tensor_bf16_round_array(float *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = tensor_bf16_round(src[i]);
}
