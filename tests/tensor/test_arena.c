/* The per-step arena: alignment, growth, and allocation-free steady state. */
#include "helpers.h"

#include <stdint.h>
#include <string.h>

Test(arena, allocations_are_aligned_and_distinct) {
    Arena *a = tensor_arena_new(1024);
    char *p = tensor_arena_alloc(a, 3);
    char *q = tensor_arena_alloc(a, 100);
    char *r = tensor_arena_alloc(a, 0);
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert_eq((uintptr_t)q % 64, 0);
    cr_assert_eq((uintptr_t)r % 64, 0);
    cr_assert(q >= p + 3);
    memset(p, 1, 3);
    memset(q, 2, 100);
    cr_assert_eq(p[2], 1);
    tensor_arena_free(a);
}

Test(arena, grows_past_the_first_chunk_and_calloc_zeroes) {
    Arena *a = tensor_arena_new(256);
    for (int i = 0; i < 100; i++) {
        float *f = tensor_arena_calloc(a, 1000, sizeof(float));
        for (int j = 0; j < 1000; j++) cr_assert_eq(f[j], 0.0f);
        f[999] = (float)i;
    }
    cr_assert_geq(tensor_arena_capacity(a), 100 * 4000);
    tensor_arena_free(a);
}

Test(arena, steady_state_steps_do_not_allocate) {
    Arena *a = tensor_arena_new(1024);
    /* A "step" that needs far more than the first chunk. */
    for (int step = 0; step < 5; step++) {
        for (int i = 0; i < 50; i++) tensor_arena_alloc(a, 10000);
        tensor_arena_reset(a);
    }
    size_t before = tensor_arena_system_allocs(a);
    for (int step = 0; step < 5; step++) {
        for (int i = 0; i < 50; i++) tensor_arena_alloc(a, 10000);
        cr_assert_eq(tensor_arena_used(a) > 0, 1);
        tensor_arena_reset(a);
    }
    cr_assert_eq(tensor_arena_system_allocs(a), before, "after warm-up a step reuses the merged chunk");
    cr_assert_eq(tensor_arena_used(a), 0);
    tensor_arena_free(a);
}

Test(arena, free_accepts_null) { tensor_arena_free(NULL); }
