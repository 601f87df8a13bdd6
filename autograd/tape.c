/* The tape: node recording, grad mode, and the reverse walk of backward. */
#include "autograd/autograd.h"

#include <math.h>
#include <stb_ds.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Tape {
    Arena *arena;
    Node **nodes; /* recorded nodes in order; keeps its capacity across resets */
    ptrdiff_t count, capacity;
    bool grad_enabled;
    unsigned generation;
    bool check_finite;
    bool found_nonfinite;
    char nonfinite[256];
    /* Tables whose lookups also sum their gradient rows' squares (kept across resets). */
    const Tensor **square_tables;
    float **square_sums;
    int n_square_tables;
};

Tape *ag_tape_new(void) {
    Tape *tape = tensor_xcalloc(1, sizeof *tape);
    tape->arena = tensor_arena_new(0);
    tape->grad_enabled = true;
    return tape;
}

void ag_tape_free(Tape *tape) {
    if (!tape) return;
    free(tape->nodes);
    free(tape->square_tables);
    free(tape->square_sums);
    tensor_arena_free(tape->arena);
    free(tape);
}

void ag_tape_reset(Tape *tape) {
    tape->count = 0;
    tape->found_nonfinite = false;
    tensor_arena_reset(tape->arena);
}

Arena *ag_tape_arena(Tape *tape) { return tape->arena; }

void ag_tape_track_lookup_squares(Tape *tape, const Tensor *table, float *sq) {
    int i = 0;
    while (i < tape->n_square_tables && tape->square_tables[i] != table) i++;
    if (!sq) { /* forget it: the last entry takes its place */
        if (i == tape->n_square_tables) return;
        tape->n_square_tables--;
        tape->square_tables[i] = tape->square_tables[tape->n_square_tables];
        tape->square_sums[i] = tape->square_sums[tape->n_square_tables];
        return;
    }
    if (i == tape->n_square_tables) {
        size_t n = (size_t)tape->n_square_tables + 1;
        tape->square_tables = tensor_xrealloc(tape->square_tables, n * sizeof *tape->square_tables);
        tape->square_sums = tensor_xrealloc(tape->square_sums, n * sizeof *tape->square_sums);
        tape->square_tables[i] = table;
        tape->n_square_tables++;
    }
    tape->square_sums[i] = sq;
}

float *ag_tape_lookup_squares(const Tape *tape, const Tensor *table) {
    for (int i = 0; i < tape->n_square_tables; i++)
        if (tape->square_tables[i] == table) return tape->square_sums[i];
    return NULL;
}

int64_t ag_tape_size(const Tape *tape) { return (int64_t)tape->count; }

bool ag_set_grad_enabled(Tape *tape, bool enabled) {
    bool previous = tape->grad_enabled;
    tape->grad_enabled = enabled;
    return previous;
}

bool ag_grad_enabled(const Tape *tape) { return tape->grad_enabled; }

Tensor *ag_requires_grad(Tensor *t, bool requires) {
    TENSOR_CHECK(!requires || t->dtype == TENSOR_F32, "only float32 tensors can require a gradient");
    t->requires_grad = requires;
    return t;
}

void ag_zero_grad(int n, Tensor *const *tensors) {
    for (int i = 0; i < n; i++) tensor_zero_grad(tensors[i]);
}

Tensor *ag_output(Tape *tape, int ndim, const int64_t *shape) {
    return tensor_empty(tape->arena, TENSOR_F32, ndim, shape);
}

Tensor *ag_output_zeros(Tape *tape, int ndim, const int64_t *shape) {
    return tensor_zeros(tape->arena, ndim, shape);
}

void ag_set_check_finite(Tape *tape, bool enabled) { tape->check_finite = enabled; }

const char *ag_tape_nonfinite(const Tape *tape) { return tape->found_nonfinite ? tape->nonfinite : NULL; }

/* In debug mode: remembers the first non-finite value of values[0..size). */
static void check_finite(Tape *tape, const char *op, const char *phase, const float *values, const Tensor *like) {
    if (!tape->check_finite || tape->found_nonfinite || !values) return;
    for (int64_t i = 0; i < like->size; i++) {
        if (isfinite(values[i])) continue;
        char shape[96];
        snprintf(tape->nonfinite, sizeof tape->nonfinite, "op '%s' produced %s at element %lld of %s in %s", op,
                 isnan(values[i]) ? "NaN" : values[i] > 0 ? "+inf" : "-inf", (long long)i,
                 tensor_shape_str(like->ndim, like->shape, shape, sizeof shape), phase);
        tape->found_nonfinite = true;
        return;
    }
}

Node *ag_record_multi(Tape *tape, const OpDef *op, int n_outputs, Tensor *const *outputs,
                      int n_inputs, Tensor *const *inputs) {
    TENSOR_CHECK(n_outputs >= 1, "%s: an op needs at least one output", op->name);
    for (int k = 0; k < n_outputs && tape->check_finite; k++)
        if (outputs[k]->dtype == TENSOR_F32) check_finite(tape, op->name, "forward", outputs[k]->data, outputs[k]);
    if (!tape->grad_enabled) return NULL;
    bool any = false;
    for (int i = 0; i < n_inputs; i++) any = any || (inputs[i] && inputs[i]->requires_grad);
    if (!any) return NULL;
    Node *n = tensor_arena_alloc(tape->arena, sizeof *n);
    memset(n, 0, sizeof *n);
    n->op = op;
    n->out = outputs[0];
    n->n_outputs = n_outputs;
    n->outputs = tensor_arena_alloc(tape->arena, (size_t)n_outputs * sizeof *n->outputs);
    memcpy(n->outputs, outputs, (size_t)n_outputs * sizeof *n->outputs);
    n->n_inputs = n_inputs;
    n->inputs = tensor_arena_alloc(tape->arena, (size_t)n_inputs * sizeof *n->inputs);
    memcpy(n->inputs, inputs, (size_t)n_inputs * sizeof *n->inputs);
    n->tape = tape;
    for (int k = 0; k < n_outputs; k++) {
        outputs[k]->requires_grad = true;
        outputs[k]->node = n;
    }
    if (tape->count == tape->capacity) {
        tape->capacity = tape->capacity ? 2 * tape->capacity : 256;
        tape->nodes = tensor_xrealloc(tape->nodes, (size_t)tape->capacity * sizeof *tape->nodes);
    }
    tape->nodes[tape->count++] = n;
    return n;
}

Node *ag_record(Tape *tape, const OpDef *op, Tensor *out, int n_inputs, Tensor *const *inputs) {
    return ag_record_multi(tape, op, 1, &out, n_inputs, inputs);
}

const float *ag_output_grad(const Node *n, int k) {
    TENSOR_CHECK(k >= 0 && k < n->n_outputs, "%s: output %d does not exist", n->op->name, k);
    return n->outputs[k]->grad;
}

void *ag_save(Node *n, size_t bytes) { return tensor_arena_alloc(n->tape->arena, bytes); }

float *ag_input_grad(Node *n, int i) {
    Tensor *x = n->inputs[i];
    if (!x || !x->requires_grad) return NULL;
    return tensor_grad(x);
}

/* Marks every node `out` depends on with the current generation (iterative DFS over
 * the arena, so deep graphs such as long unrolled RNNs cannot overflow the stack). */
static void mark_reachable(Tape *tape, Tensor *out) {
    if (!out->node) return;
    Node **stack = NULL;
    out->node->mark = tape->generation;
    arrput(stack, out->node);
    while (arrlen(stack) > 0) {
        Node *n = arrpop(stack);
        for (int i = 0; i < n->n_inputs; i++) {
            Tensor *x = n->inputs[i];
            if (x && x->node && x->node->mark != tape->generation) {
                x->node->mark = tape->generation;
                arrput(stack, x->node);
            }
        }
    }
    arrfree(stack);
}

void ag_backward_with(Tape *tape, Tensor *out, const float *upstream) {
    TENSOR_CHECK(out->dtype == TENSOR_F32, "backward: the output must be float32");
    if (!out->requires_grad) return;
    tape->generation++;
    if (tape->generation == 0) tape->generation = 1; /* 0 is "never marked" */
    mark_reachable(tape, out);
    /* Intermediate gradients start from zero on every backward; leaves accumulate. */
    ptrdiff_t count = tape->count;
    for (ptrdiff_t i = 0; i < count; i++) {
        Node *n = tape->nodes[i];
        if (n->mark == tape->generation)
            for (int k = 0; k < n->n_outputs; k++) tensor_zero_grad(n->outputs[k]);
    }
    float *g = tensor_grad(out);
    for (int64_t i = 0; i < out->size; i++) g[i] += upstream[i];
    for (ptrdiff_t i = count - 1; i >= 0; i--) {
        Node *n = tape->nodes[i];
        if (n->mark != tape->generation) continue;
        bool reached = false;
        for (int k = 0; k < n->n_outputs; k++) reached = reached || n->outputs[k]->grad != NULL;
        if (!reached) continue;
        n->op->backward(n);
        for (int k = 0; k < n->n_inputs && tape->check_finite; k++)
            if (n->inputs[k] && n->inputs[k]->grad)
                check_finite(tape, n->op->name, "backward (gradient of an input)", n->inputs[k]->grad, n->inputs[k]);
    }
}

void ag_backward(Tape *tape, Tensor *loss) {
    if (loss->size != 1) {
        char s[128];
        tensor_fatal(__FILE__, __LINE__,
                     "backward: the loss must be a scalar (one element), got shape %s; "
                     "use ag_backward_with for a non-scalar output",
                     tensor_shape_str(loss->ndim, loss->shape, s, sizeof s));
    }
    const float one = 1.0f;
    ag_backward_with(tape, loss, &one);
}

void ag_shape_error(const char *file, int line, const char *op, const char *what, const Tensor *a,
                    const Tensor *b) {
    char sa[128], sb[128];
    tensor_fatal(file, line, "%s: %s: got %s and %s", op, what,
                 tensor_shape_str(a->ndim, a->shape, sa, sizeof sa),
                 tensor_shape_str(b->ndim, b->shape, sb, sizeof sb));
}

void ag_expect_f32(const char *op, const Tensor *t) {
    TENSOR_CHECK(t->dtype == TENSOR_F32, "%s: expected a float32 tensor, got int32", op);
}

void ag_expect_i32(const char *op, const Tensor *t) {
    TENSOR_CHECK(t->dtype == TENSOR_I32, "%s: expected an int32 tensor, got float32", op);
}
