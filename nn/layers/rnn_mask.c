/* What the RNNs do under a mask, as Keras's RNN layer does it. The state is carried
 * unchanged through padded steps (inside each kind's recurrence: the fused LSTM's
 * carry, or nn__rnn_keep_state in the composed GRU and SimpleRNN). What the layer
 * outputs at a padded step is then Keras's choice between two rules:
 *   zero_output_for_mask: zeros (Bidirectional sets this on its halves when they return
 *     sequences, as Keras's Bidirectional does);
 *   otherwise (Keras's default): the previous step's output, zeros before the first
 *     real step (Keras's TensorFlow and PyTorch backends start it at zeros), which is
 *     the carried state once a real step has run.
 * Without return_sequences the output is the last step's output under the same rule.
 * The final states (nn_rnn_call's final, the stateful carry) are the carried state:
 * the state after each row's last real step in processing order. */
#include "nn/layers/rnn_internal.h"

Tensor *nn__rnn_keep_state(Tape *tape, const Tensor *mask, int64_t t, Tensor *fresh, Tensor *old) {
    if (!mask) return fresh;
    return ag_where(tape, ag_slice(tape, (Tensor *)mask, 1, t, t + 1), fresh, old);
}

/* (B, T) in processing order (go_backwards: time reversed): where the rule keeps the
 * step's own state as its output. Zero rule: the real steps; carry rule: every step
 * from the row's first real one on. Sets *all when that is every step. */
static Tensor *kept_steps(Tape *tape, const Tensor *mask, bool back, bool zero_rule, bool *all) {
    const int64_t B = mask->shape[0], T = mask->shape[1];
    Tensor *keep = tensor_zeros(ag_tape_arena(tape), 2, mask->shape);
    const float *m = mask->data;
    float *k = keep->data;
    *all = true;
    for (int64_t b = 0; b < B; b++) {
        bool seen = false;
        for (int64_t s = 0; s < T; s++) {
            const bool real = m[b * T + (back ? T - 1 - s : s)] != 0.0f;
            seen = seen || real;
            k[b * T + s] = (zero_rule ? real : seen) ? 1.0f : 0.0f;
            *all = *all && k[b * T + s] != 0.0f;
        }
    }
    return keep;
}

Tensor *nn__rnn_output(const RnnLayer *r, Tape *tape, const RnnRun *run, const Tensor *mask, bool has_h0) {
    const bool seq = r->opts.return_sequences, zero_rule = r->opts.zero_output_for_mask;
    Tensor *out = seq ? run->seq : run->h;
    /* Carry rule from zeros: before the first real step the state is zero already. */
    if (!mask || (!zero_rule && !has_h0)) return out;
    bool all;
    Tensor *keep = kept_steps(tape, mask, r->opts.go_backwards, zero_rule, &all);
    if (all) return out;
    const int64_t B = keep->shape[0], T = keep->shape[1];
    Tensor *sel = seq ? ag_reshape(tape, keep, 3, (int64_t[]){B, T, 1}) : ag_slice(tape, keep, 1, T - 1, T);
    return ag_where(tape, sel, out, ag_output_zeros(tape, out->ndim, out->shape));
}

const Tensor *nn__rnn_compute_mask(Layer *self, Tape *tape, Tensor *x, const Tensor *mask) {
    (void)tape, (void)x;
    return ((const RnnLayer *)self)->opts.return_sequences ? mask : NULL;
}
