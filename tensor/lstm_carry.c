/* The fused LSTM's masked step: where a row's step is padding its state is carried
 * unchanged (h_t = h_{t-1}, c_t = c_{t-1}), forward and backward, over one row's hidden
 * units [j0, j1) like the cells of lstm_cell.c. Plain copies and adds: the mask never
 * makes the fused op leave its time loop. */
#include "tensor/lstm_internal.h"

#include <string.h>

/* dst[j0..j1) = src, or zeros when src is NULL; nothing when they are the same row. */
static void copy_units(float *dst, const float *src, int64_t j0, int64_t j1) {
    if (dst == src) return;
    if (src) memcpy(dst + j0, src + j0, (size_t)(j1 - j0) * sizeof(float));
    else memset(dst + j0, 0, (size_t)(j1 - j0) * sizeof(float));
}

void tensor__lstm_carry_forward(const float *hprev, const float *cprev, float *c, float *h,
                                float *cs, float *hn, int64_t j0, int64_t j1) {
    copy_units(c, cprev, j0, j1);
    copy_units(h, hprev, j0, j1);
    if (cs) copy_units(cs, c, j0, j1);
    if (hn) copy_units(hn, h, j0, j1);
}

void tensor__lstm_carry_backward(float *dh, const float *gs, const float *gh, float *dc,
                                 const float *gc, float *d, float *gc0, float *pass, int64_t H,
                                 int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j++) {
        dh[j] += (gs ? gs[j] : 0.0f) + (gh ? gh[j] : 0.0f);
        if (gc) dc[j] += gc[j];
        if (gc0) gc0[j] += dc[j];
        pass[j] = dh[j];
    }
    for (int g = 0; g < 4; g++) memset(d + g * H + j0, 0, (size_t)(j1 - j0) * sizeof(float));
}

void tensor__lstm_carry_add(float *dst, const float *pass, int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j++) dst[j] += pass[j];
}
