/* n-dimensional tensors: float32 for values, int32 for token ids and targets.
 * Row-major, contiguous, up to 8 dims, numpy order (shape[0] is the outermost, batch
 * then time). A tensor lives either in an Arena (freed all at once when the arena is
 * reset) or on the heap (freed with tensor_free). It also carries what the autograd
 * tape needs: whether it wants a gradient, its gradient buffer (allocated on first
 * use, in the same place as the tensor) and the tape node that produced it. */
#ifndef TENSOR_TENSOR_H
#define TENSOR_TENSOR_H

#include <lamina/tensor/arena.h>
#include <lamina/tensor/error.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TENSOR_MAX_DIMS 8

typedef enum { TENSOR_F32 = 0, TENSOR_I32 = 1 } TensorDType;

struct Node;

typedef struct Tensor {
    TensorDType dtype;
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t size;        /* number of elements (1 for a 0-d scalar) */
    void *data;          /* size elements of dtype, contiguous */
    float *grad;         /* d(loss)/d(this), same shape; NULL until first needed */
    bool requires_grad;  /* set on leaves by the user, on op outputs by the tape */
    struct Node *node;   /* the tape node that produced this tensor, NULL for leaves */
    Arena *arena;        /* where this tensor and its grad live; NULL means the heap */
    unsigned flags;      /* TENSOR_OWNS_* bits, for tensor_free */
    const char *name;    /* optional label used in messages (parameters have one) */
} Tensor;

enum {
    TENSOR_OWNS_STRUCT = 1u << 0,
    TENSOR_OWNS_DATA = 1u << 1,
    TENSOR_OWNS_GRAD = 1u << 2,
};

/* Shape literal helper: tensor_zeros(NULL, TENSOR_SHAPE(2, 3)) passes ndim=2 and
 * the array {2, 3}. */
#define TENSOR_SHAPE(...)                                             \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) { __VA_ARGS__ }

/* ---- creation (the tensor lives in arena until it is reset, or on the heap when
 * arena is NULL: free it with tensor_free; shapes are checked: ndim in 0..8, every dim
 * >= 0, element count must not overflow; violations stop with a message) ---- */

/* Uninitialised tensor of the given dtype and shape. */
Tensor *tensor_empty(Arena *arena, TensorDType dtype, int ndim, const int64_t *shape);
/* float32 tensors filled with 0, 1, or value. */
Tensor *tensor_zeros(Arena *arena, int ndim, const int64_t *shape);
Tensor *tensor_ones(Arena *arena, int ndim, const int64_t *shape);
Tensor *tensor_full(Arena *arena, int ndim, const int64_t *shape, float value);
/* 1-D float32 tensor start, start+step, ... < stop (step may be negative, not 0). */
Tensor *tensor_arange(Arena *arena, float start, float stop, float step);
/* float32 tensor copying size(shape) floats from values. */
Tensor *tensor_from_array(Arena *arena, int ndim, const int64_t *shape, const float *values);
/* int32 tensors: zero-filled, or copied from values. */
Tensor *tensor_i32_zeros(Arena *arena, int ndim, const int64_t *shape);
Tensor *tensor_i32_from_array(Arena *arena, int ndim, const int64_t *shape, const int32_t *values);
/* A tensor with the same dtype, shape and values as src (not its grad or tape link). */
Tensor *tensor_copy(Arena *arena, const Tensor *src);
/* A tensor shaped like src, zero-filled float32. */
Tensor *tensor_zeros_like(Arena *arena, const Tensor *src);

/* A tensor header over memory someone else owns (for example a model's flat
 * parameter buffer). grad may be NULL. tensor_free frees only the header. */
Tensor *tensor_view(Arena *arena, TensorDType dtype, void *data, float *grad, int ndim,
                    const int64_t *shape);

/* A free view of src with a new shape of the same element count; one dim may be -1
 * (inferred). Shares data; the view has no grad or tape link of its own (use
 * ag_reshape for a differentiable reshape). Stops with a message naming both shapes
 * if the counts differ. */
Tensor *tensor_reshape_view(Arena *arena, Tensor *src, int ndim, const int64_t *shape);

/* Frees a heap tensor: its data and grad if it owns them, and its header. Arena
 * tensors are left to their arena. Accepts NULL. */
void tensor_free(Tensor *t);

/* ---- access ---- */

/* The data as float32 / int32; stops with a message if the dtype differs. */
float *tensor_f32(const Tensor *t);
int32_t *tensor_i32(const Tensor *t);

/* The gradient buffer, allocated zero-filled (in the tensor's arena, or on the heap)
 * the first time it is asked for. float32 tensors only. */
float *tensor_grad(Tensor *t);

/* Sets the gradient to zero if it exists. Accepts NULL. */
void tensor_zero_grad(Tensor *t);

/* Element count of a shape; stops on overflow or negative dims. */
int64_t tensor_shape_size(int ndim, const int64_t *shape);

/* Whether two tensors have identical shapes. */
bool tensor_same_shape(const Tensor *a, const Tensor *b);

/* Writes "(2, 3, 4)" into buf (always terminated); returns buf. */
char *tensor_shape_str(int ndim, const int64_t *shape, char *buf, size_t len);

/* Normalises axis (negative counts from the end) against ndim; stops with a message
 * naming op if it is out of range. */
int tensor_axis(const char *op, int axis, int ndim);

/* Prints "Tensor(shape=(2, 3), dtype=float32)" and the values (long tensors are
 * abbreviated with "..."), to out. */
void tensor_print(const Tensor *t, FILE *out);

/* Product of shape[from..to), the usual outer/inner split around an axis. */
int64_t tensor_dims_product(const Tensor *t, int from, int to);

#endif
