/* Weights as NumPy .npz: an uncompressed ("stored") zip of .npy arrays, one per
 * parameter, named "<layer>/<param>" as nn_model_params names them ("lstm/kernel"
 * (D, 4H), "dense/bias" (units), "embedding/embeddings" (V, D)), in Keras's layouts,
 * so `numpy.load("w.npz")["lstm/kernel"]` reads them with no extra code. See
 * docs/interop.md for the layouts and scripts/convert_weights.py for PyTorch/Keras.
 *
 * Reading validates everything before anything is copied: zip structure (stored
 * method only; deflate is refused with a message naming it), every header field
 * bounds-checked, each member's CRC-32, the .npy headers (little-endian float32 or
 * int32, C order), and then every name, dtype and shape against the destination.
 * All mismatches are reported together by name; on any failure nothing is changed.
 * Fallible calls return 0 / a pointer, or -1 / NULL with tensor_last_error() set. */
#ifndef NN_NPZ_H
#define NN_NPZ_H

#include <lamina/nn/model/model.h>

/* ---- whole models ---- */

/* Writes every parameter of a built model to path (atomically: a temporary file
 * beside it, flushed, then renamed), in nn_model_params order. Two parameters with
 * the same name (e.g. two Bidirectional LSTMs whose inner layers were not given
 * distinct names) are refused: an .npz member name must be unique. */
int nn_save_npz(const Model *m, const char *path);

/* Loads every parameter of a built model from path, matched by name. The file must
 * hold exactly the model's parameters (no missing, extra, mis-shaped or non-float32
 * arrays); otherwise the model is left unchanged and the error lists each
 * difference by name. */
int nn_load_npz(Model *m, const char *path);

/* ---- named tensors (bare layers, custom models) ---- */

/* Writes n tensors (float32 or int32), each as "<t->name>.npy"; names must be set,
 * non-empty, unique and at most 255 bytes. Atomic like nn_save_npz. */
int nn_npz_save_tensors(const char *path, int n, Tensor *const *tensors);

/* Fills n float32 or int32 tensors, matched by name, from path; with the same
 * all-or-nothing checks as nn_load_npz (the file must hold exactly these names). */
int nn_npz_load_tensors(const char *path, int n, Tensor *const *tensors);

/* ---- reading any .npz ---- */

typedef struct NnNpz NnNpz;

/* Reads and validates a whole archive (zip, CRCs, every .npy header). Members must
 * be .npy arrays of little-endian float32 ('<f4') or int32 ('<i4') in C order with
 * at most TENSOR_MAX_DIMS dims. Free with nn_npz_close. */
NnNpz *nn_npz_open(const char *path);

/* Number of arrays, and the name of array i (0 <= i < count) without ".npy". */
int nn_npz_count(const NnNpz *z);
const char *nn_npz_name(const NnNpz *z, int i);

/* Index of the array called name, or -1. */
int nn_npz_find(const NnNpz *z, const char *name);

/* A copy of array `name` as a new tensor in arena (NULL arena: a heap tensor, free
 * with tensor_free). NULL with an error if there is no such array. */
Tensor *nn_npz_get(const NnNpz *z, const char *name, Arena *arena);

/* Copies arrays into n tensors matched by name, after checking every name, dtype and
 * shape (all differences reported at once; nothing copied unless all match). With
 * allow_extra, arrays the tensors do not ask for are ignored; otherwise each one is
 * a difference too. */
int nn_npz_read_into(const NnNpz *z, int n, Tensor *const *tensors, bool allow_extra);

/* Frees the archive. Accepts NULL. */
void nn_npz_close(NnNpz *z);

/* tensor_last_error() holds at most a few hundred characters; after a load refused
 * for mismatched names, dtypes or shapes, this lists every difference, one per line
 * (up to 8 KiB; "" when the last load on this thread had none). */
const char *nn_npz_mismatches(void);

#endif
