/* lstm_reference: the LSTM composed only of ordinary tape ops (slice, reshape, matmul,
 * add, sigmoid, tanh, mul, stack; where under a mask), one plain C loop over time. Slow
 * but obviously right: it is what the fused ag_lstm (lstm.c) is tested against. */
#include "autograd/ops/lstm_internal.h"

#include <stdlib.h>

AgLstmResult ag_lstm_reference_masked(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent,
                                      Tensor *bias, Tensor *h0, Tensor *c0, const Tensor *mask,
                                      bool go_backwards) {
    int64_t dims[4];
    ag__lstm_check("lstm_reference", x, kernel, recurrent, bias, h0, c0, dims);
    ag__mask_check("lstm_reference", mask, dims[0], dims[1]);
    const int64_t B = dims[0], T = dims[1], D = dims[2], H = dims[3];
    Tensor *h = h0 ? h0 : ag_output_zeros(tape, 2, (int64_t[]){B, H});
    Tensor *c = c0 ? c0 : ag_output_zeros(tape, 2, (int64_t[]){B, H});
    Tensor **hs = tensor_xmalloc((size_t)T * sizeof *hs);
    for (int64_t s = 0; s < T; s++) {
        int64_t t = go_backwards ? T - 1 - s : s;
        Tensor *xt = ag_reshape(tape, ag_slice(tape, x, 1, t, t + 1), 2, (int64_t[]){B, D});
        /* z = x_t kernel + h_{t-1} recurrent + bias, (B, 4H); the bias broadcasts. */
        Tensor *z = ag_add(tape, ag_matmul(tape, xt, kernel), ag_matmul(tape, h, recurrent));
        z = ag_add(tape, z, bias);
        Tensor *i = ag_sigmoid(tape, ag_slice(tape, z, 1, 0, H));
        Tensor *f = ag_sigmoid(tape, ag_slice(tape, z, 1, H, 2 * H));
        Tensor *g = ag_tanh(tape, ag_slice(tape, z, 1, 2 * H, 3 * H));
        Tensor *o = ag_sigmoid(tape, ag_slice(tape, z, 1, 3 * H, 4 * H));
        Tensor *c_new = ag_add(tape, ag_mul(tape, f, c), ag_mul(tape, i, g));
        Tensor *h_new = ag_mul(tape, o, ag_tanh(tape, c_new));
        if (mask) { /* padded rows keep their state: m (B, 1) picks new where real */
            Tensor *m = ag_slice(tape, (Tensor *)mask, 1, t, t + 1);
            c_new = ag_where(tape, m, c_new, c);
            h_new = ag_where(tape, m, h_new, h);
        }
        c = c_new;
        h = h_new;
        hs[s] = h;
    }
    AgLstmResult res = {.seq = ag_stack(tape, (int)T, hs, 1), .h = h, .c = c};
    free(hs);
    return res;
}

AgLstmResult ag_lstm_reference(Tape *tape, Tensor *x, Tensor *kernel, Tensor *recurrent,
                               Tensor *bias, Tensor *h0, Tensor *c0, bool go_backwards) {
    return ag_lstm_reference_masked(tape, x, kernel, recurrent, bias, h0, c0, NULL, go_backwards);
}
