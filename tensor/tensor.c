/* Tensor creation, views, access and printing. No kernels and no gradients here:
 * only storage and shape bookkeeping. */
#include "tensor/tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t dtype_size(TensorDType dtype) { return dtype == TENSOR_I32 ? sizeof(int32_t) : sizeof(float); }

int64_t tensor_shape_size(int ndim, const int64_t *shape) {
    TENSOR_CHECK(ndim >= 0 && ndim <= TENSOR_MAX_DIMS, "tensor rank %d is outside 0..%d", ndim,
                 TENSOR_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        TENSOR_CHECK(shape[i] >= 0, "negative dimension %lld at axis %d", (long long)shape[i], i);
        TENSOR_CHECK(shape[i] == 0 || n <= INT64_MAX / shape[i], "shape element count overflows");
        n *= shape[i];
    }
    return n;
}

/* A header with the shape filled in, in the arena or on the heap. */
static Tensor *header_new(Arena *arena, TensorDType dtype, int ndim, const int64_t *shape) {
    int64_t size = tensor_shape_size(ndim, shape);
    Tensor *t = arena ? tensor_arena_alloc(arena, sizeof *t) : tensor_xmalloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->size = size;
    t->arena = arena;
    t->flags = arena ? 0 : TENSOR_OWNS_STRUCT;
    return t;
}

static void *storage_alloc(Arena *arena, int64_t count, size_t elem) {
    size_t bytes;
    if (tensor_mul_size((size_t)count, elem, &bytes) != 0)
        tensor_fatal(__FILE__, __LINE__, "tensor storage: %s", tensor_last_error());
    return arena ? tensor_arena_alloc(arena, bytes) : tensor_aligned_alloc(bytes);
}

Tensor *tensor_empty(Arena *arena, TensorDType dtype, int ndim, const int64_t *shape) {
    Tensor *t = header_new(arena, dtype, ndim, shape);
    t->data = storage_alloc(arena, t->size, dtype_size(dtype));
    if (!arena) t->flags |= TENSOR_OWNS_DATA;
    return t;
}

Tensor *tensor_zeros(Arena *arena, int ndim, const int64_t *shape) {
    Tensor *t = tensor_empty(arena, TENSOR_F32, ndim, shape);
    memset(t->data, 0, (size_t)t->size * sizeof(float));
    return t;
}

Tensor *tensor_full(Arena *arena, int ndim, const int64_t *shape, float value) {
    Tensor *t = tensor_empty(arena, TENSOR_F32, ndim, shape);
    float *x = t->data;
    for (int64_t i = 0; i < t->size; i++) x[i] = value;
    return t;
}

Tensor *tensor_ones(Arena *arena, int ndim, const int64_t *shape) {
    return tensor_full(arena, ndim, shape, 1.0f);
}

Tensor *tensor_arange(Arena *arena, float start, float stop, float step) {
    TENSOR_CHECK(step != 0.0f && isfinite(step) && isfinite(start) && isfinite(stop),
                 "arange(%g, %g, %g): step must be finite and non-zero", start, stop, step);
    double count = ceil(((double)stop - start) / step);
    int64_t n = count > 0 ? (int64_t)count : 0;
    Tensor *t = tensor_empty(arena, TENSOR_F32, 1, (int64_t[]){n});
    float *x = t->data;
    for (int64_t i = 0; i < n; i++) x[i] = (float)(start + (double)i * step);
    return t;
}

Tensor *tensor_from_array(Arena *arena, int ndim, const int64_t *shape, const float *values) {
    Tensor *t = tensor_empty(arena, TENSOR_F32, ndim, shape);
    if (t->size) memcpy(t->data, values, (size_t)t->size * sizeof(float));
    return t;
}

Tensor *tensor_i32_zeros(Arena *arena, int ndim, const int64_t *shape) {
    Tensor *t = tensor_empty(arena, TENSOR_I32, ndim, shape);
    memset(t->data, 0, (size_t)t->size * sizeof(int32_t));
    return t;
}

Tensor *tensor_i32_from_array(Arena *arena, int ndim, const int64_t *shape, const int32_t *values) {
    Tensor *t = tensor_empty(arena, TENSOR_I32, ndim, shape);
    if (t->size) memcpy(t->data, values, (size_t)t->size * sizeof(int32_t));
    return t;
}

Tensor *tensor_copy(Arena *arena, const Tensor *src) {
    Tensor *t = tensor_empty(arena, src->dtype, src->ndim, src->shape);
    if (t->size) memcpy(t->data, src->data, (size_t)t->size * dtype_size(src->dtype));
    t->name = src->name;
    return t;
}

Tensor *tensor_zeros_like(Arena *arena, const Tensor *src) {
    return tensor_zeros(arena, src->ndim, src->shape);
}

Tensor *tensor_view(Arena *arena, TensorDType dtype, void *data, float *grad, int ndim,
                    const int64_t *shape) {
    Tensor *t = header_new(arena, dtype, ndim, shape);
    t->data = data;
    t->grad = grad;
    return t;
}

Tensor *tensor_reshape_view(Arena *arena, Tensor *src, int ndim, const int64_t *shape) {
    TENSOR_CHECK(ndim >= 0 && ndim <= TENSOR_MAX_DIMS, "reshape: rank %d is outside 0..%d", ndim,
                 TENSOR_MAX_DIMS);
    int64_t resolved[TENSOR_MAX_DIMS];
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            TENSOR_CHECK(infer < 0, "reshape: more than one -1 in the new shape");
            infer = i;
            resolved[i] = 1;
        } else {
            TENSOR_CHECK(shape[i] >= 0, "reshape: negative dimension %lld", (long long)shape[i]);
            resolved[i] = shape[i];
            known *= shape[i];
        }
    }
    if (infer >= 0) resolved[infer] = known ? src->size / known : 0;
    int64_t size = tensor_shape_size(ndim, resolved);
    if (size != src->size) {
        char a[128], b[128];
        tensor_fatal(__FILE__, __LINE__, "reshape: cannot view %s (%lld elements) as %s",
                     tensor_shape_str(src->ndim, src->shape, a, sizeof a), (long long)src->size,
                     tensor_shape_str(ndim, shape, b, sizeof b));
    }
    return tensor_view(arena, src->dtype, src->data, NULL, ndim, resolved);
}

void tensor_free(Tensor *t) {
    if (!t || !(t->flags & TENSOR_OWNS_STRUCT)) return;
    if (t->flags & TENSOR_OWNS_DATA) tensor_aligned_free(t->data);
    if (t->flags & TENSOR_OWNS_GRAD) tensor_aligned_free(t->grad);
    free(t);
}

float *tensor_f32(const Tensor *t) {
    TENSOR_CHECK(t->dtype == TENSOR_F32, "expected a float32 tensor%s%s, got int32",
                 t->name ? " for " : "", t->name ? t->name : "");
    return t->data;
}

int32_t *tensor_i32(const Tensor *t) {
    TENSOR_CHECK(t->dtype == TENSOR_I32, "expected an int32 tensor%s%s, got float32",
                 t->name ? " for " : "", t->name ? t->name : "");
    return t->data;
}

float *tensor_grad(Tensor *t) {
    if (t->grad) return t->grad;
    TENSOR_CHECK(t->dtype == TENSOR_F32, "int32 tensors have no gradient%s%s",
                 t->name ? ": " : "", t->name ? t->name : "");
    size_t bytes = (size_t)t->size * sizeof(float);
    if (t->arena) {
        t->grad = tensor_arena_alloc(t->arena, bytes);
    } else {
        t->grad = tensor_aligned_alloc(bytes);
        t->flags |= TENSOR_OWNS_GRAD;
    }
    memset(t->grad, 0, bytes);
    return t->grad;
}

void tensor_zero_grad(Tensor *t) {
    if (t && t->grad) memset(t->grad, 0, (size_t)t->size * sizeof(float));
}

bool tensor_same_shape(const Tensor *a, const Tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

char *tensor_shape_str(int ndim, const int64_t *shape, char *buf, size_t len) {
    size_t pos = 0;
    int n = snprintf(buf, len, "(");
    pos = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < ndim && pos < len; i++) {
        n = snprintf(buf + pos, len - pos, i ? ", %lld" : "%lld", (long long)shape[i]);
        if (n < 0) break;
        pos += (size_t)n;
    }
    if (pos < len) snprintf(buf + pos, len - pos, ndim == 1 ? ",)" : ")");
    return buf;
}

int tensor_axis(const char *op, int axis, int ndim) {
    int a = axis < 0 ? axis + ndim : axis;
    TENSOR_CHECK(a >= 0 && a < ndim, "%s: axis %d is out of range for a %d-d tensor", op, axis, ndim);
    return a;
}

int64_t tensor_dims_product(const Tensor *t, int from, int to) {
    int64_t n = 1;
    for (int i = from; i < to; i++) n *= t->shape[i];
    return n;
}

/* Prints one axis of values recursively, abbreviating long axes. */
static void print_axis(const Tensor *t, int axis, int64_t offset, int64_t stride, FILE *out, int indent) {
    const int64_t edge = 3;
    int64_t n = t->shape[axis];
    int64_t inner = stride / (n ? n : 1);
    fputc('[', out);
    for (int64_t i = 0; i < n; i++) {
        if (n > 2 * edge + 1 && i == edge) {
            fputs(axis == t->ndim - 1 ? "..., " : "...,\n", out);
            if (axis != t->ndim - 1) fprintf(out, "%*s", indent + 1, "");
            i = n - edge - 1;
            continue;
        }
        if (axis == t->ndim - 1) {
            if (t->dtype == TENSOR_F32)
                fprintf(out, "%.6g", (double)((const float *)t->data)[offset + i]);
            else
                fprintf(out, "%d", ((const int32_t *)t->data)[offset + i]);
            if (i + 1 < n) fputs(", ", out);
        } else {
            print_axis(t, axis + 1, offset + i * inner, inner, out, indent + 1);
            if (i + 1 < n) fprintf(out, ",\n%*s", indent + 1, "");
        }
    }
    fputc(']', out);
}

void tensor_print(const Tensor *t, FILE *out) {
    char shape[160];
    fprintf(out, "Tensor(shape=%s, dtype=%s", tensor_shape_str(t->ndim, t->shape, shape, sizeof shape),
            t->dtype == TENSOR_F32 ? "float32" : "int32");
    if (t->name) fprintf(out, ", name=%s", t->name);
    fputs(")\n", out);
    if (t->ndim == 0) {
        if (t->dtype == TENSOR_F32)
            fprintf(out, "%.6g\n", (double)((const float *)t->data)[0]);
        else
            fprintf(out, "%d\n", ((const int32_t *)t->data)[0]);
        return;
    }
    print_axis(t, 0, 0, t->size, out, 0);
    fputc('\n', out);
}
