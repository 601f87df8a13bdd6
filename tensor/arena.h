/* A bump allocator for everything one training step creates (activations, saved
 * values, tape nodes, intermediate gradients). Resetting it keeps its memory, and
 * after a reset that follows a step needing several chunks, it merges them into one,
 * so steady-state steps do no malloc at all. */
#ifndef TENSOR_ARENA_H
#define TENSOR_ARENA_H

#include <stddef.h>

typedef struct Arena Arena;

/* A new arena whose first chunk holds at least initial_bytes (0 picks a default).
 * Free with tensor_arena_free. */
Arena *tensor_arena_new(size_t initial_bytes);

/* Frees the arena and all its chunks. Accepts NULL. */
void tensor_arena_free(Arena *arena);

/* 64-byte aligned, uninitialised memory valid until the next reset. Stops with a
 * message if the system is out of memory. bytes may be 0. */
void *tensor_arena_alloc(Arena *arena, size_t bytes);

/* Same, zero-filled. */
void *tensor_arena_calloc(Arena *arena, size_t count, size_t size);

/* Forgets everything allocated; keeps (and merges) the memory for reuse. */
void tensor_arena_reset(Arena *arena);

/* Bytes handed out since the last reset, and bytes reserved from the system. */
size_t tensor_arena_used(const Arena *arena);
size_t tensor_arena_capacity(const Arena *arena);

/* How many times this arena has asked the system for memory (to test that a
 * steady-state step allocates nothing). */
size_t tensor_arena_system_allocs(const Arena *arena);

#endif
