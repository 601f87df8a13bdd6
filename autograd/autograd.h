/* The reverse-mode autodiff tape, and the public API for defining ops.
 *
 * An op is a public function (ag_tanh(tape, x)) that checks shapes, computes its
 * output at once, and calls ag_record() to leave a Node on the tape. ag_record only
 * records when grad mode is on and an input requires a gradient. ag_backward walks
 * the recorded nodes in reverse (the tape order is already topological) and calls
 * each op's backward, which *adds* into its inputs' gradients. Everything a step
 * creates lives in the tape's arena and goes away with ag_tape_reset().
 *
 * Defining an op (library ops and user ops use exactly this API):
 *
 *   static void cube_backward(Node *n) {
 *       const float *x = tensor_f32(n->inputs[0]), *gy = n->out->grad;
 *       float *gx = ag_input_grad(n, 0);           // NULL if x needs no gradient
 *       if (gx) for (int64_t i = 0; i < n->out->size; i++) gx[i] += 3 * x[i] * x[i] * gy[i];
 *   }
 *   static const OpDef CUBE = {"cube", cube_backward};
 *
 *   Tensor *cube(Tape *tape, Tensor *x) {
 *       Tensor *y = ag_output(tape, x->ndim, x->shape);
 *       float *xv = tensor_f32(x), *yv = tensor_f32(y);
 *       for (int64_t i = 0; i < x->size; i++) yv[i] = xv[i] * xv[i] * xv[i];
 *       ag_record(tape, &CUBE, y, 1, (Tensor *[]){x});
 *       return y;
 *   }
 */
#ifndef AUTOGRAD_AUTOGRAD_H
#define AUTOGRAD_AUTOGRAD_H

#include <lamina/tensor/arena.h>
#include <lamina/tensor/error.h>
#include <lamina/tensor/parallel.h>
#include <lamina/tensor/rng.h>
#include <lamina/tensor/tensor.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Tape Tape;
typedef struct Node Node;

/* What an op contributes to the tape: its name (for messages) and its backward,
 * which reads n->out->grad and adds into the inputs' gradients via ag_input_grad. */
typedef struct OpDef {
    const char *name;
    void (*backward)(Node *n);
} OpDef;

#define AG_MAX_ARGS 8

struct Node {
    const OpDef *op;
    Tensor *out;             /* the op's (first) output; out->grad holds d(loss)/d(out) */
    Tensor **outputs;        /* all n_outputs outputs, outputs[0] == out (arena-owned) */
    int n_outputs;
    Tensor **inputs;         /* n_inputs tensors (arena-owned array) */
    int n_inputs;
    int64_t iargs[AG_MAX_ARGS]; /* small integer arguments (axes, sizes, flags) */
    float fargs[AG_MAX_ARGS];   /* small float arguments (scales, bounds) */
    void *saved;             /* op-owned scratch from ag_save, lives in the tape's arena */
    Tape *tape;
    unsigned mark;           /* reachability mark used by ag_backward */
};

/* ---- the tape ---- */

/* A new tape with its own arena, grad mode on. Free with ag_tape_free. */
Tape *ag_tape_new(void);

/* Frees the tape and its arena. Accepts NULL. */
void ag_tape_free(Tape *tape);

/* Forgets every node and frees everything allocated in the tape's arena (keeping the
 * memory for the next step). Tensors created in the arena become invalid. */
void ag_tape_reset(Tape *tape);

/* The tape's per-step arena, for tensors a caller wants to live exactly one step. */
Arena *ag_tape_arena(Tape *tape);

/* Asks the tape to keep, for a (V, D) table, the per-row sum of the squares of each
 * lookup's gradient row besides the table's gradient (the sum of those rows): the
 * backward of ag_gather_rows (and of ag_lstm_lookup, through it) adds them into sq,
 * V * D floats the caller owns and zeroes before each backward. Adam's per-lookup rule
 * for embedding tables reads them (NnAdamOpts.embedding_rows). A NULL sq forgets the
 * table. Kept across ag_tape_reset. */
void ag_tape_track_lookup_squares(Tape *tape, const Tensor *table, float *sq);
/* The buffer ag_tape_track_lookup_squares registered for table, or NULL. */
float *ag_tape_lookup_squares(const Tape *tape, const Tensor *table);

/* Number of nodes recorded since the last reset. */
int64_t ag_tape_size(const Tape *tape);

/* Grad mode: when off, ops compute outputs but record nothing (inference, generation,
 * finite differences). ag_set_grad_enabled returns the previous setting. */
bool ag_set_grad_enabled(Tape *tape, bool enabled);
bool ag_grad_enabled(const Tape *tape);

/* Back-propagates from a scalar (size-1) loss: seeds d(loss)/d(loss) = 1 and runs the
 * backward of every node the loss depends on, newest first. Leaf gradients
 * (parameters, inputs with requires_grad) accumulate across calls until zeroed;
 * intermediate gradients start from zero on each call. Stops with a message if the
 * loss is not a scalar. A loss that needs no gradient does nothing. */
void ag_backward(Tape *tape, Tensor *loss);

/* Same, from any tensor, seeded with the given upstream gradient (out->size floats). */
void ag_backward_with(Tape *tape, Tensor *out, const float *upstream);

/* Debug mode for numerical faults: when on, every op's output (in ag_record) and every
 * gradient a backward writes is checked for NaN and infinities, and the first op where
 * one appeared is remembered (not fatal: the caller decides). Costs a pass over each
 * tensor, so it is off by default. ag_tape_reset clears the finding. */
void ag_set_check_finite(Tape *tape, bool enabled);

/* The first non-finite value seen since the last reset in debug mode, as a readable
 * account ("op 'log' produced -inf at element 3 of (2, 3) in forward"), or NULL. */
const char *ag_tape_nonfinite(const Tape *tape);

/* Marks a leaf tensor as needing a gradient (or not). Returns t. */
Tensor *ag_requires_grad(Tensor *t, bool requires);

/* Zeroes the gradient of each of n tensors (the optimizer's zero_grad). */
void ag_zero_grad(int n, Tensor *const *tensors);

/* ---- writing ops ---- */

/* A fresh float32 output tensor in the tape's arena: uninitialised, or zero-filled. */
Tensor *ag_output(Tape *tape, int ndim, const int64_t *shape);
Tensor *ag_output_zeros(Tape *tape, int ndim, const int64_t *shape);

/* Records that `out` was computed by `op` from inputs[0..n_inputs). Returns the node
 * (so the op can fill iargs/fargs/saved) or NULL when nothing needs recording
 * (grad mode off, or no input requires a gradient). On recording, out becomes
 * requires_grad and remembers its node. */
Node *ag_record(Tape *tape, const OpDef *op, Tensor *out, int n_inputs, Tensor *const *inputs);

/* The same for an op with several outputs (an RNN's sequence and final states):
 * the node's backward runs when any output received a gradient; read each with
 * ag_output_grad. */
Node *ag_record_multi(Tape *tape, const OpDef *op, int n_outputs, Tensor *const *outputs,
                      int n_inputs, Tensor *const *inputs);

/* In backward: output k's gradient, or NULL when no gradient reached it (treat as 0). */
const float *ag_output_grad(const Node *n, int k);

/* Scratch memory for a node's backward, in the tape's arena (uninitialised). */
void *ag_save(Node *n, size_t bytes);

/* In backward: input i's gradient buffer (zero-filled on first use) to add into, or
 * NULL when that input does not need a gradient. */
float *ag_input_grad(Node *n, int i);

/* Stops with "<op>: <what>: got (shape a) and (shape b)" at the caller's file:line. */
#define AG_SHAPE_ERROR(op, what, a, b) ag_shape_error(__FILE__, __LINE__, op, what, a, b)
/* What AG_SHAPE_ERROR calls: prints the message with file:line and aborts. */
TENSOR_NORETURN void ag_shape_error(const char *file, int line, const char *op, const char *what,
                                    const Tensor *a, const Tensor *b);

/* Stops with a message naming op unless t is float32 (or int32, for ag_expect_i32). */
void ag_expect_f32(const char *op, const Tensor *t);
void ag_expect_i32(const char *op, const Tensor *t);

#endif
