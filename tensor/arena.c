/* Chunked bump allocator; see arena.h for why reset merges chunks. */
#include "tensor/arena.h"

#include "tensor/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64
#define ARENA_DEFAULT_CHUNK (1u << 20)

typedef struct Chunk {
    struct Chunk *next;
    size_t size;
    size_t used;
    unsigned char *data;
} Chunk;

struct Arena {
    Chunk *head;       /* current chunk; older ones follow */
    size_t total_used; /* bytes handed out since reset, across chunks */
    size_t system_allocs;
};

static Chunk *chunk_new(Arena *arena, size_t size) {
    Chunk *c = tensor_xmalloc(sizeof *c);
    c->data = tensor_aligned_alloc(size);
    c->size = size;
    c->used = 0;
    c->next = NULL;
    arena->system_allocs++;
    return c;
}

Arena *tensor_arena_new(size_t initial_bytes) {
    Arena *arena = tensor_xcalloc(1, sizeof *arena);
    arena->head = chunk_new(arena, initial_bytes ? initial_bytes : ARENA_DEFAULT_CHUNK);
    return arena;
}

void tensor_arena_free(Arena *arena) {
    if (!arena) return;
    Chunk *c = arena->head;
    while (c) {
        Chunk *next = c->next;
        tensor_aligned_free(c->data);
        free(c);
        c = next;
    }
    free(arena);
}

void *tensor_arena_alloc(Arena *arena, size_t bytes) {
    size_t rounded = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    TENSOR_CHECK(rounded >= bytes, "arena allocation of %zu bytes overflows", bytes);
    Chunk *c = arena->head;
    if (c->size - c->used < rounded) {
        size_t size = c->size * 2;
        if (size < rounded) size = rounded;
        Chunk *fresh = chunk_new(arena, size);
        fresh->next = c;
        arena->head = c = fresh;
    }
    void *p = c->data + c->used;
    c->used += rounded;
    arena->total_used += rounded;
    return p;
}

void *tensor_arena_calloc(Arena *arena, size_t count, size_t size) {
    size_t bytes;
    if (tensor_mul_size(count, size, &bytes) != 0)
        tensor_fatal(__FILE__, __LINE__, "arena calloc: %s", tensor_last_error());
    void *p = tensor_arena_alloc(arena, bytes);
    memset(p, 0, bytes);
    return p;
}

void tensor_arena_reset(Arena *arena) {
    if (arena->head->next) {
        /* Several chunks were needed: replace them by one that fits the whole step. */
        size_t capacity = 0;
        for (Chunk *c = arena->head; c; c = c->next) capacity += c->size;
        Chunk *c = arena->head;
        while (c) {
            Chunk *next = c->next;
            tensor_aligned_free(c->data);
            free(c);
            c = next;
        }
        arena->head = chunk_new(arena, capacity);
    }
    arena->head->used = 0;
    arena->total_used = 0;
}

size_t tensor_arena_used(const Arena *arena) { return arena->total_used; }

size_t tensor_arena_capacity(const Arena *arena) {
    size_t capacity = 0;
    for (const Chunk *c = arena->head; c; c = c->next) capacity += c->size;
    return capacity;
}

size_t tensor_arena_system_allocs(const Arena *arena) { return arena->system_allocs; }
