/* Tensor creation, views, access, shape strings and printing. */
#include "helpers.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

Test(tensor, creation_fills_values) {
    Tensor *z = tensor_zeros(NULL, TENSOR_SHAPE(2, 3, 4));
    Tensor *o = tensor_ones(NULL, TENSOR_SHAPE(5));
    Tensor *f = tensor_full(NULL, TENSOR_SHAPE(2, 2), -1.5f);
    cr_assert_eq(z->ndim, 3);
    cr_assert_eq(z->size, 24);
    cr_assert_eq(z->dtype, TENSOR_F32);
    for (int i = 0; i < 24; i++) cr_assert_eq(((float *)z->data)[i], 0.0f);
    for (int i = 0; i < 5; i++) cr_assert_eq(((float *)o->data)[i], 1.0f);
    for (int i = 0; i < 4; i++) cr_assert_eq(((float *)f->data)[i], -1.5f);
    cr_assert_null(z->grad);
    cr_assert(!z->requires_grad);
    tensor_free(z);
    tensor_free(o);
    tensor_free(f);
}

Test(tensor, arange_counts_like_numpy) {
    Tensor *a = tensor_arange(NULL, 0, 5, 1);
    cr_assert_eq(a->size, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(((float *)a->data)[i], (float)i);
    Tensor *b = tensor_arange(NULL, 1, 2, 0.25f); /* 1, 1.25, 1.5, 1.75 */
    cr_assert_eq(b->size, 4);
    cr_assert_float_eq(((float *)b->data)[3], 1.75f, 1e-7);
    Tensor *c = tensor_arange(NULL, 3, 0, -1); /* 3, 2, 1 */
    cr_assert_eq(c->size, 3);
    cr_assert_eq(((float *)c->data)[2], 1.0f);
    Tensor *e = tensor_arange(NULL, 3, 3, 1);
    cr_assert_eq(e->size, 0);
    tensor_free(a);
    tensor_free(b);
    tensor_free(c);
    tensor_free(e);
}

Test(tensor, arange_zero_step_aborts, .signal = SIGABRT) { tensor_arange(NULL, 0, 1, 0); }

Test(tensor, from_array_and_copy_are_independent) {
    float v[] = {1, 2, 3, 4, 5, 6};
    Tensor *a = tensor_from_array(NULL, TENSOR_SHAPE(3, 2), v);
    v[0] = 100; /* the tensor took a copy */
    cr_assert_eq(((float *)a->data)[0], 1.0f);
    Tensor *b = tensor_copy(NULL, a);
    ((float *)a->data)[1] = -7;
    cr_assert_eq(((float *)b->data)[1], 2.0f);
    cr_assert(tensor_same_shape(a, b));
    tensor_free(a);
    tensor_free(b);
}

Test(tensor, int32_tensors) {
    int32_t ids[] = {3, 0, 26, 5};
    Tensor *t = tensor_i32_from_array(NULL, TENSOR_SHAPE(2, 2), ids);
    cr_assert_eq(t->dtype, TENSOR_I32);
    cr_assert_eq(tensor_i32(t)[2], 26);
    Tensor *z = tensor_i32_zeros(NULL, TENSOR_SHAPE(7));
    for (int i = 0; i < 7; i++) cr_assert_eq(tensor_i32(z)[i], 0);
    tensor_free(t);
    tensor_free(z);
}

Test(tensor, wrong_dtype_access_aborts, .signal = SIGABRT) {
    Tensor *t = tensor_i32_zeros(NULL, TENSOR_SHAPE(2));
    tensor_f32(t);
}

Test(tensor, eight_dims_and_scalars) {
    Tensor *t = tensor_zeros(NULL, TENSOR_SHAPE(1, 2, 1, 2, 1, 2, 1, 2));
    cr_assert_eq(t->ndim, 8);
    cr_assert_eq(t->size, 16);
    Tensor *s = tensor_full(NULL, 0, NULL, 4.0f);
    cr_assert_eq(s->ndim, 0);
    cr_assert_eq(s->size, 1);
    cr_assert_eq(tensor_f32(s)[0], 4.0f);
    tensor_free(t);
    tensor_free(s);
}

Test(tensor, nine_dims_abort, .signal = SIGABRT) {
    tensor_zeros(NULL, TENSOR_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1));
}

Test(tensor, negative_dim_aborts, .signal = SIGABRT) { tensor_zeros(NULL, TENSOR_SHAPE(2, -3)); }

Test(tensor, overflowing_shape_aborts, .signal = SIGABRT) {
    tensor_zeros(NULL, TENSOR_SHAPE(1LL << 40, 1LL << 40));
}

Test(tensor, reshape_view_shares_data_and_infers) {
    Tensor *a = tensor_arange(NULL, 0, 24, 1);
    Tensor *v = tensor_reshape_view(NULL, a, TENSOR_SHAPE(2, -1, 4));
    cr_assert_eq(v->shape[1], 3);
    cr_assert_eq(v->data, a->data);
    ((float *)v->data)[5] = -1;
    cr_assert_eq(((float *)a->data)[5], -1.0f);
    tensor_free(v); /* frees only the header */
    cr_assert_eq(((float *)a->data)[5], -1.0f);
    tensor_free(a);
}

Test(tensor, reshape_view_bad_count_aborts, .signal = SIGABRT) {
    Tensor *a = tensor_zeros(NULL, TENSOR_SHAPE(2, 3));
    tensor_reshape_view(NULL, a, TENSOR_SHAPE(4, 2));
}

Test(tensor, grad_allocated_on_first_use_zeroed) {
    Tensor *a = tensor_ones(NULL, TENSOR_SHAPE(3, 3));
    cr_assert_null(a->grad);
    float *g = tensor_grad(a);
    cr_assert_not_null(g);
    for (int i = 0; i < 9; i++) cr_assert_eq(g[i], 0.0f);
    g[4] = 2;
    cr_assert_eq(tensor_grad(a), g, "asking again returns the same buffer");
    tensor_zero_grad(a);
    cr_assert_eq(g[4], 0.0f);
    tensor_zero_grad(NULL);
    tensor_free(a);
}

Test(tensor, arena_tensors_live_in_the_arena) {
    Arena *arena = tensor_arena_new(4096);
    Tensor *t = tensor_zeros(arena, TENSOR_SHAPE(10, 10));
    float *g = tensor_grad(t);
    cr_assert_not_null(g);
    cr_assert_geq(tensor_arena_used(arena), 2 * 100 * sizeof(float));
    tensor_free(t); /* no-op for arena tensors */
    tensor_arena_free(arena);
}

Test(tensor, shape_strings) {
    char buf[64];
    cr_assert_str_eq(tensor_shape_str(TENSOR_SHAPE(2, 3), buf, sizeof buf), "(2, 3)");
    cr_assert_str_eq(tensor_shape_str(TENSOR_SHAPE(7), buf, sizeof buf), "(7,)");
    cr_assert_str_eq(tensor_shape_str(0, NULL, buf, sizeof buf), "()");
    char tiny[4];
    tensor_shape_str(TENSOR_SHAPE(123, 456), tiny, sizeof tiny);
    cr_assert_eq(strlen(tiny), 3, "truncated but terminated");
}

Test(tensor, axis_normalisation) {
    cr_assert_eq(tensor_axis("t", -1, 3), 2);
    cr_assert_eq(tensor_axis("t", 0, 3), 0);
}

Test(tensor, axis_out_of_range_aborts, .signal = SIGABRT) { tensor_axis("t", 3, 3); }

Test(tensor, print_shows_shape_and_values) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    float v[] = {1.5f, 2, 3, 4};
    Tensor *t = tensor_from_array(NULL, TENSOR_SHAPE(2, 2), v);
    tensor_print(t, out);
    Tensor *big = tensor_arange(NULL, 0, 100, 1);
    tensor_print(big, out);
    fclose(out);
    cr_assert(strstr(buf, "shape=(2, 2)") != NULL, "got: %s", buf);
    cr_assert(strstr(buf, "[[1.5, 2],\n [3, 4]]") != NULL, "got: %s", buf);
    cr_assert(strstr(buf, "[0, 1, 2, ..., 97, 98, 99]") != NULL, "got: %s", buf);
    free(buf);
    tensor_free(t);
    tensor_free(big);
}

Test(tensor, view_over_external_memory) {
    float storage[6] = {0, 1, 2, 3, 4, 5};
    float grad[6] = {0};
    Tensor *v = tensor_view(NULL, TENSOR_F32, storage, grad, TENSOR_SHAPE(2, 3));
    cr_assert_eq(tensor_grad(v), grad, "a view uses the gradient buffer it was given");
    tensor_f32(v)[0] = 9;
    cr_assert_eq(storage[0], 9.0f);
    tensor_free(v); /* must not free storage or grad */
    cr_assert_eq(storage[0], 9.0f);
}
