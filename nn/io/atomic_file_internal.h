/* Files that are either written whole or not at all: the bytes go to a temporary file
 * beside the destination, which is flushed to disk (fsync) and then renamed over it,
 * so a crash, a full disk or a signal in the middle leaves the previous file intact.
 * Weights, checkpoints, npz files, vocabularies and word2vec states are written so. */
#ifndef NN_ATOMIC_FILE_H
#define NN_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct NnAtomicFile {
    FILE *f;    /* write here (binary mode) between open and commit */
    char *tmp;  /* the temporary file's path (owned) */
    char *path; /* the destination (owned copy) */
} NnAtomicFile;

/* Creates the temporary file beside path (mode 0644). Returns 0, or -1 with
 * tensor_last_error() naming path and the reason (nothing is created then). */
int nn_atomic_file_open(NnAtomicFile *af, const char *path);

/* Finishes: when ok is true and every write to af->f succeeded, flushes, fsyncs and
 * renames the temporary file over the destination; otherwise (or if any of that
 * fails) removes it and leaves the destination as it was. Frees af's strings either
 * way. Returns 0 when the file was replaced, else -1 with tensor_last_error() set
 * (left as it is when ok was false, so the caller's own reason survives). */
int nn_atomic_file_commit(NnAtomicFile *af, bool ok);

/* Writes len bytes to path through nn_atomic_file_open / commit. Returns 0 or -1
 * (tensor_last_error() set). */
int nn_write_file_atomically(const char *path, const void *data, size_t len);

#endif
