/* split: x cut into n pieces along an axis, as n slices (each its own tape node, so
 * the pieces' gradients add back into x's through slice's backward). */
#include "autograd/ops.h"

void ag_split(Tape *tape, Tensor *x, int axis, int n, const int64_t *sizes, Tensor **outs) {
    ag_expect_f32("split", x);
    int a = tensor_axis("split", axis, x->ndim);
    int64_t dim = x->shape[a];
    char s[128];
    TENSOR_CHECK(n >= 1, "split: needs at least one piece, got %d", n);
    if (!sizes) {
        TENSOR_CHECK(dim % n == 0, "split: axis %d of shape %s (size %lld) does not divide into %d equal pieces",
                     axis, tensor_shape_str(x->ndim, x->shape, s, sizeof s), (long long)dim, n);
    } else {
        int64_t total = 0;
        for (int i = 0; i < n; i++) {
            TENSOR_CHECK(sizes[i] >= 0 && sizes[i] <= dim,
                         "split: piece %d has size %lld, outside 0..%lld (axis %d of shape %s)", i,
                         (long long)sizes[i], (long long)dim, axis,
                         tensor_shape_str(x->ndim, x->shape, s, sizeof s));
            total += sizes[i];
        }
        TENSOR_CHECK(total == dim, "split: sizes sum to %lld but axis %d of shape %s has size %lld",
                     (long long)total, axis, tensor_shape_str(x->ndim, x->shape, s, sizeof s),
                     (long long)dim);
    }
    int64_t start = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = sizes ? sizes[i] : dim / n;
        outs[i] = ag_slice(tape, x, a, start, start + len);
        start += len;
    }
}
