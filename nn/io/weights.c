/* Saving and loading a model's weights (and optionally optimizer state) in lamina's
 * binary format, documented in docs/weights-format.md: a magic and version, each
 * parameter's name, shape and float32 values, optional optimizer state, and a CRC-32
 * of everything before it. Saves are atomic (temporary file, fsync, rename); loads
 * validate everything before touching the model. */
#include "nn/io/atomic_file_internal.h"
#include "nn/io/bytes_internal.h"
#include "nn/io/model_file.h"
#include "nn/model/model_internal.h"
#include "nn/text/text.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WEIGHTS_MAGIC "LAMINAW\0"
/* Version 2 extends the training state (the learning rate, its history and the
 * callbacks' states); version 3 adds the architecture of a whole-model file. Each file
 * is written with the lowest version that holds what it has, so a weights file
 * without a training state is still version 1. */
#define WEIGHTS_VERSION 3u
#define MAX_STATES 64u
#define FLAG_OPTIMIZER 1u
#define FLAG_TRAIN_STATE 2u
#define FLAG_ARCHITECTURE 4u
#define MAX_ARCHITECTURE (1u << 20) /* bytes of architecture text: thousands of layers */
/* Step and prediction counts beyond any real run (2^53: still exact as a double);
 * larger ones in a file are damage, and would overflow when training goes on. */
#define MAX_COUNT ((int64_t)1 << 53)

/* ---- writing: an in-memory buffer, then one atomic file write ---- */

static void put_str(NnBytes *b, const char *s) {
    nn__bytes_u32(b, (uint32_t)strlen(s));
    nn__bytes_put(b, s, strlen(s));
}

static void put_train_state(NnBytes *b, const NnTrainState *st) {
    nn__bytes_u32(b, (uint32_t)st->epoch);
    nn__bytes_i64(b, st->step_in_epoch);
    nn__bytes_i64(b, st->n_train);
    nn__bytes_i64(b, st->batch_size);
    for (int k = 0; k < 2; k++) nn__bytes_u64(b, st->model_rng[k]);
    for (int k = 0; k < 2; k++) nn__bytes_u64(b, st->shuffle_rng[k]);
    nn__bytes_f64(b, st->loss_sum);
    nn__bytes_i64(b, st->seen);
    nn__bytes_i64(b, st->correct);
    nn__bytes_i64(b, st->predictions);
    nn__bytes_u32(b, (uint32_t)st->n_history);
    nn__bytes_put(b, st->history, (size_t)st->n_history * 4 * sizeof(double));
    nn__bytes_f64(b, st->lr);
    for (int e = 0; e < st->n_history; e++) nn__bytes_f64(b, st->lr_history ? st->lr_history[e] : NAN);
    nn__bytes_u32(b, (uint32_t)st->n_states);
    for (int k = 0; k < st->n_states; k++) {
        put_str(b, st->states[k].name);
        nn__bytes_u64(b, (uint64_t)st->states[k].len);
        nn__bytes_put(b, st->states[k].data, st->states[k].len);
    }
}

/* Writes weights, optionally optimizer state and training state, atomically. */
static int save_file(const Model *m, const char *path, bool with_optimizer, const NnTrainState *st,
                     const char *architecture) {
    if (!m->param_buf) return tensor_set_error("save weights: the model is not built");
    nn__model_draw_init((Model *)m); /* fixes values already determined: m is unchanged */
    Optimizer *opt = m->optimizer;
    bool save_opt = (with_optimizer || st) && opt;
    NnBytes b = {0};
    nn__bytes_put(&b, WEIGHTS_MAGIC, 8);
    nn__bytes_u32(&b, architecture ? 3u : st ? 2u : 1u);
    nn__bytes_u32(&b, (save_opt ? FLAG_OPTIMIZER : 0) | (st ? FLAG_TRAIN_STATE : 0) |
                          (architecture ? FLAG_ARCHITECTURE : 0));
    nn__bytes_u32(&b, (uint32_t)m->n_params);
    if (architecture) {
        nn__bytes_u32(&b, (uint32_t)strlen(architecture));
        nn__bytes_put(&b, architecture, strlen(architecture));
    }
    for (int i = 0; i < m->n_params; i++) {
        const Tensor *p = m->params[i];
        put_str(&b, p->name ? p->name : "");
        nn__bytes_u32(&b, (uint32_t)p->ndim);
        for (int d = 0; d < p->ndim; d++) nn__bytes_i64(&b, p->shape[d]);
        nn__bytes_u32(&b, (uint32_t)p->dtype);
        nn__bytes_put(&b, p->data, (size_t)p->size * sizeof(float));
    }
    if (save_opt) {
        put_str(&b, nn_optimizer_name(opt));
        nn__bytes_i64(&b, nn_optimizer_iterations(opt));
        nn__bytes_i64(&b, m->steps);
        int count = nn_optimizer_state_count(opt);
        nn__bytes_u32(&b, (uint32_t)count);
        nn__bytes_i64(&b, m->n_floats);
        for (int k = 0; k < count; k++)
            nn__bytes_put(&b, nn_optimizer_state_buffer(opt, k, m->n_floats), (size_t)m->n_floats * sizeof(float));
    }
    if (st) put_train_state(&b, st);
    nn__bytes_u32(&b, nn__crc32(0, b.data, b.len));
    int rc = nn_write_file_atomically(path, b.data, b.len);
    free(b.data);
    return rc;
}

int nn_save_weights(const Model *m, const char *path, bool with_optimizer) {
    return save_file(m, path, with_optimizer, NULL, NULL);
}

/* With the architecture when the model can describe itself, so a program that never
 * built it can nn_load_model the checkpoint and resume from it. */
int nn__save_checkpoint(const Model *m, const char *path, const NnTrainState *st) {
    char *architecture = m->custom ? NULL : nn_model_to_text(m);
    if (!architecture) tensor_clear_error(); /* a custom model or layer: weights alone, as before */
    int rc = save_file(m, path, true, st, architecture);
    free(architecture);
    return rc;
}

int nn__save_with_architecture(const Model *m, const char *path, bool with_optimizer, const char *architecture) {
    if (strlen(architecture) > MAX_ARCHITECTURE)
        return tensor_set_error("%s: the architecture text is %zu bytes, more than %u", path, strlen(architecture),
                                MAX_ARCHITECTURE);
    return save_file(m, path, with_optimizer, NULL, architecture);
}

/* ---- reading: a bounds-checked cursor over the whole file ---- */

/* The differences found while reading, joined into one message: whole ones only (the
 * first 8 that fit), the rest counted by notes_end's "and N more". */
typedef struct Notes {
    char msg[320];
    int count, shown;
} Notes;

static void note(Notes *n, const char *fmt, ...) TENSOR_PRINTF(2, 3);
static void note(Notes *n, const char *fmt, ...) {
    char one[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(one, sizeof one, fmt, ap);
    va_end(ap);
    size_t used = strlen(n->msg);
    /* Room for "; ", the note, and the closing "; and N more". */
    if (n->shown == n->count && n->count < 8 && len >= 0 && (size_t)len < sizeof one &&
        used + 2 + (size_t)len + 24 < sizeof n->msg) {
        if (n->count) {
            memcpy(n->msg + used, "; ", 2);
            used += 2;
        }
        memcpy(n->msg + used, one, (size_t)len + 1);
        n->shown++;
    }
    n->count++;
}

/* Names how many differences the message leaves out. */
static void notes_end(Notes *n) {
    size_t used = strlen(n->msg);
    if (n->shown < n->count)
        snprintf(n->msg + used, sizeof n->msg - used, "%sand %d more", n->shown ? "; " : "", n->count - n->shown);
}

/* What a file holds, found and checked before anything is copied into the model. */
typedef struct Loaded {
    uint32_t version, flags;
    size_t *offsets;       /* where each of the model's tensors starts in the file */
    size_t arch_offset;    /* the architecture text (FLAG_ARCHITECTURE), not NUL-terminated */
    uint32_t arch_len;
    bool load_opt;         /* the optimizer state is for the model's own optimizer */
    size_t opt_offset;     /* where its buffers start */
    int64_t opt_iterations, model_steps;
    uint32_t opt_count;
    NnTrainState state;    /* history on the heap only when the caller asked for it */
} Loaded;

/* The magic, the checksum (checked over the whole file before any field is trusted),
 * the version; leaves the cursor at the tensor count, its end before the checksum. */
static int read_header(NnCursor *c, const char *path, const char *file, int64_t len, Loaded *l, uint32_t *n) {
    char magic[8];
    if (!nn__cursor_take(c, magic, 8) || memcmp(magic, WEIGHTS_MAGIC, 8) != 0)
        return tensor_set_error("%s: not a lamina weights file (bad magic)", path);
    if (len < 8 + 4 + 4) return tensor_set_error("%s: file is truncated", path);
    uint32_t stored_crc = nn__le32((const unsigned char *)file + len - 4);
    if (nn__crc32(0, file, (size_t)len - 4) != stored_crc)
        return tensor_set_error("%s: checksum mismatch: the file is truncated or corrupted", path);
    c->len = (size_t)len - 4; /* the body, without the checksum */
    l->version = nn__cursor_u32(c);
    l->flags = nn__cursor_u32(c);
    *n = nn__cursor_u32(c);
    if (l->version < 1 || l->version > WEIGHTS_VERSION)
        return tensor_set_error("%s: format version %u, this library reads versions 1 to %u", path, l->version,
                                WEIGHTS_VERSION);
    if (l->flags & ~(FLAG_OPTIMIZER | FLAG_TRAIN_STATE | FLAG_ARCHITECTURE) ||
        ((l->flags & FLAG_ARCHITECTURE) && l->version < 3))
        return tensor_set_error("%s: flags 0x%x are not valid in format version %u", path, l->flags, l->version);
    if (!(l->flags & FLAG_ARCHITECTURE)) return 0;
    l->arch_len = nn__cursor_u32(c);
    l->arch_offset = c->pos;
    if (c->truncated || l->arch_len > MAX_ARCHITECTURE || !nn__cursor_take(c, NULL, l->arch_len) ||
        memchr(file + l->arch_offset, 0, l->arch_len))
        return tensor_set_error("%s: the architecture section is truncated or invalid", path);
    return 0;
}

char *nn__read_architecture(const char *path, int64_t *file_len) {
    int64_t len;
    char *file = nn_read_file(path, &len);
    if (!file) return NULL;
    *file_len = len;
    NnCursor c = {(const unsigned char *)file, (size_t)len, 0, false};
    Loaded l = {0};
    uint32_t n;
    char *text = NULL;
    if (read_header(&c, path, file, len, &l, &n) == 0) {
        if (l.flags & FLAG_ARCHITECTURE) {
            text = tensor_xmalloc((size_t)l.arch_len + 1);
            memcpy(text, file + l.arch_offset, l.arch_len);
            text[l.arch_len] = '\0';
        } else {
            tensor_set_error("%s: holds weights but no architecture (build the model in code and use "
                             "nn_load_weights)", path);
        }
    }
    free(file);
    return text;
}

/* One tensor's name, shape and dtype. False, with the cursor marked truncated (the
 * file is malformed from here on), for an implausible name length, rank, shape or
 * dtype; count gets the number of floats that follow. */
static bool read_tensor_header(NnCursor *c, Notes *notes, uint32_t i, char name[256], uint32_t *ndim,
                               int64_t shape[TENSOR_MAX_DIMS], int64_t *count) {
    uint32_t name_len = nn__cursor_u32(c);
    if (name_len >= 256) {
        note(notes, "tensor %u has an implausible name length %u", i, name_len);
        c->truncated = true;
        return false;
    }
    nn__cursor_take(c, name, name_len);
    *ndim = nn__cursor_u32(c);
    if (*ndim > TENSOR_MAX_DIMS) {
        note(notes, "tensor '%s' has %u dims", name, *ndim);
        c->truncated = true;
        return false;
    }
    bool bad_shape = false;
    *count = 1;
    for (uint32_t d = 0; d < *ndim; d++) {
        shape[d] = nn__cursor_i64(c);
        if (shape[d] < 0 || (shape[d] && *count > INT64_MAX / 4 / shape[d])) bad_shape = true;
        else *count *= shape[d];
    }
    uint32_t dtype = nn__cursor_u32(c);
    if (bad_shape || dtype != TENSOR_F32) {
        note(notes, "tensor '%s' has an invalid shape or dtype", name);
        c->truncated = true;
        return false;
    }
    return true;
}

/* The tensors: each must be the model's tensor of the same index, by name and shape;
 * every difference is listed. Records where the model's tensors' values start. */
static int read_tensors(NnCursor *c, const Model *m, const char *path, uint32_t n, size_t *offsets) {
    Notes notes = {"", 0, 0};
    if (n != (uint32_t)m->n_params) note(&notes, "the file has %u tensors, the model %d", n, m->n_params);
    for (uint32_t i = 0; i < n && !c->truncated; i++) {
        char name[256] = "";
        uint32_t ndim;
        int64_t shape[TENSOR_MAX_DIMS], count;
        if (!read_tensor_header(c, &notes, i, name, &ndim, shape, &count)) break;
        if (i < (uint32_t)m->n_params) offsets[i] = c->pos;
        if (!nn__cursor_take(c, NULL, (size_t)count * sizeof(float))) break;
        if (i >= (uint32_t)m->n_params) continue;
        const Tensor *p = m->params[i];
        char want[128], got[128];
        if (strcmp(name, p->name ? p->name : "") != 0)
            note(&notes, "tensor %u is '%s' in the file but '%s' in the model", i, name, p->name ? p->name : "");
        else if ((int)ndim != p->ndim || memcmp(shape, p->shape, ndim * sizeof(int64_t)) != 0)
            note(&notes, "'%s' has shape %s in the file but %s in the model", name,
                 tensor_shape_str((int)ndim, shape, got, sizeof got),
                 tensor_shape_str(p->ndim, p->shape, want, sizeof want));
    }
    notes_end(&notes);
    if (c->truncated)
        return tensor_set_error("%s: file is truncated or malformed%s%s", path, notes.msg[0] ? ": " : "",
                                notes.msg);
    if (notes.count)
        return tensor_set_error("%s: made for another architecture (%d difference%s): %s", path, notes.count,
                                notes.count == 1 ? "" : "s", notes.msg);
    return 0;
}

/* The optimizer state: validated whole; taken later only if it is for the model's
 * own optimizer (the same name and buffer count). */
static int read_optimizer(NnCursor *c, const Model *m, const char *path, Loaded *l) {
    uint32_t nlen = nn__cursor_u32(c);
    char oname[32] = "";
    if (nlen < sizeof oname) nn__cursor_take(c, oname, nlen);
    else c->truncated = true;
    l->opt_iterations = nn__cursor_i64(c);
    l->model_steps = nn__cursor_i64(c);
    l->opt_count = nn__cursor_u32(c);
    int64_t floats = nn__cursor_i64(c);
    l->opt_offset = c->pos;
    if (floats != m->n_floats || l->opt_count > 2 || l->opt_iterations < 0 || l->opt_iterations > MAX_COUNT ||
        l->model_steps < 0 || l->model_steps > MAX_COUNT ||
        !nn__cursor_take(c, NULL, (size_t)l->opt_count * (size_t)(floats > 0 ? floats : 0) * sizeof(float)))
        return tensor_set_error("%s: optimizer state is truncated, invalid or does not match the model", path);
    l->load_opt = m->optimizer && strcmp(oname, nn_optimizer_name(m->optimizer)) == 0 &&
                  (int)l->opt_count == nn_optimizer_state_count(m->optimizer);
    return 0;
}

/* Version 2's part of the training state: the learning rate, its history and the
 * callbacks' states, copied out only when wanted. */
static int read_train_state_v2(NnCursor *c, const char *path, bool want, NnTrainState *state) {
    state->lr = nn__cursor_f64(c);
    size_t lr_offset = c->pos, n_history = (size_t)state->n_history;
    /* 0 means "not recorded"; anything else was a float rate and must be one again
     * (a double such as 1e-300 or 1e39 is no usable float rate). */
    float lr32 = (float)state->lr;
    bool lr_ok = state->lr == 0 || (state->lr > 0 && lr32 > 0 && isfinite(lr32));
    bool ok = lr_ok && nn__cursor_take(c, NULL, n_history * sizeof(double));
    uint32_t n_states = nn__cursor_u32(c);
    if (!ok || c->truncated || n_states > MAX_STATES)
        return tensor_set_error("%s: training state is truncated or invalid (learning rate %g, %u callback states)",
                                path, state->lr, n_states);
    if (want) {
        state->lr_history = tensor_xmalloc((n_history ? n_history : 1) * sizeof(double));
        memcpy(state->lr_history, c->p + lr_offset, n_history * sizeof(double));
        state->states = tensor_xcalloc(n_states ? n_states : 1, sizeof *state->states);
    }
    for (uint32_t k = 0; k < n_states; k++) {
        char name[NN_STATE_NAME_MAX] = "";
        uint32_t name_len = nn__cursor_u32(c);
        if (name_len >= NN_STATE_NAME_MAX || !nn__cursor_take(c, name, name_len))
            return tensor_set_error("%s: callback state %u has an invalid name", path, k);
        uint64_t len = nn__cursor_u64(c);
        size_t offset = c->pos;
        if (c->truncated || len > c->len - c->pos || !nn__cursor_take(c, NULL, (size_t)len))
            return tensor_set_error("%s: callback state '%s' is truncated", path, name);
        if (!want) continue;
        NnCallbackState *cs = &state->states[state->n_states++];
        memcpy(cs->name, name, name_len);
        cs->len = (size_t)len;
        cs->data = tensor_xmalloc(len ? (size_t)len : 1);
        memcpy(cs->data, c->p + offset, (size_t)len);
    }
    return 0;
}

void nn__train_state_free(NnTrainState *st) {
    free(st->history);
    free(st->lr_history);
    for (int k = 0; k < st->n_states; k++) free(st->states[k].data);
    free(st->states);
    st->history = st->lr_history = NULL;
    st->states = NULL;
    st->n_states = 0;
}

/* The training state of a checkpoint; its history is copied out only when wanted. */
static int read_train_state(NnCursor *c, const char *path, uint32_t version, bool want_history,
                            NnTrainState *state) {
    state->lr = NAN;
    uint32_t epoch = nn__cursor_u32(c);
    state->epoch = epoch <= INT32_MAX ? (int)epoch : -1;
    state->step_in_epoch = nn__cursor_i64(c);
    state->n_train = nn__cursor_i64(c);
    state->batch_size = nn__cursor_i64(c);
    for (int k = 0; k < 2; k++) state->model_rng[k] = nn__cursor_u64(c);
    for (int k = 0; k < 2; k++) state->shuffle_rng[k] = nn__cursor_u64(c);
    state->loss_sum = nn__cursor_f64(c);
    state->seen = nn__cursor_i64(c);
    state->correct = nn__cursor_i64(c);
    state->predictions = nn__cursor_i64(c);
    uint32_t n_history = nn__cursor_u32(c);
    size_t offset = c->pos;
    if (n_history > 10000000u || !nn__cursor_take(c, NULL, (size_t)n_history * 4 * sizeof(double)))
        return tensor_set_error("%s: training state is truncated", path);
    /* fit resumes at sample step_in_epoch * batch_size of its data: values fit
     * could not have written are refused here, or a damaged (yet checksummed) or
     * crafted file would send it outside the data (found by fuzzing). */
    if (state->epoch < 1 || state->n_train < 1 || state->batch_size < 1 || state->step_in_epoch < 0 ||
        state->step_in_epoch > (state->n_train - 1) / state->batch_size + 1 || state->seen < 0 ||
        state->seen > state->n_train || state->correct < 0 || state->correct > state->predictions ||
        state->predictions > MAX_COUNT || n_history > (uint32_t)state->epoch)
        return tensor_set_error("%s: training state is invalid (epoch %d, step %lld, %lld samples in batches of "
                                "%lld, %u finished epochs)", path, state->epoch, (long long)state->step_in_epoch,
                                (long long)state->n_train, (long long)state->batch_size, n_history);
    state->n_history = (int)n_history;
    if (want_history) {
        state->history = tensor_xmalloc((size_t)(n_history ? n_history : 1) * 4 * sizeof(double));
        memcpy(state->history, c->p + offset, (size_t)n_history * 4 * sizeof(double));
    }
    return version >= 2 ? read_train_state_v2(c, path, want_history, state) : 0;
}

/* Everything checked: the values (and the optimizer's state when it is its own). */
static void copy_into_model(Model *m, const char *file, const Loaded *l) {
    nn__model_loaded(m); /* every parameter is replaced */
    for (int i = 0; i < m->n_params; i++)
        memcpy(m->params[i]->data, file + l->offsets[i], (size_t)m->params[i]->size * sizeof(float));
    if (!l->load_opt) return;
    for (uint32_t k = 0; k < l->opt_count; k++)
        memcpy(nn_optimizer_state_buffer(m->optimizer, (int)k, m->n_floats),
               file + l->opt_offset + (size_t)k * (size_t)m->n_floats * sizeof(float),
               (size_t)m->n_floats * sizeof(float));
    nn_optimizer_set_iterations(m->optimizer, l->opt_iterations);
    m->steps = l->model_steps;
}

/* Reads and checks the whole file, section by section, then (only if all of it is
 * good and, with st, its training state is accepted) copies it into the model. */
static int load_file(Model *m, const char *path, NnTrainState *st, NnAcceptTrainState accept, void *user) {
    if (!m->param_buf) return tensor_set_error("load weights: build the model before loading %s", path);
    int64_t len;
    char *file = nn_read_file(path, &len);
    if (!file) return -1;
    NnCursor c = {(const unsigned char *)file, (size_t)len, 0, false};
    /* Sized by the model, not by the file's count: a hostile count (up to 2^32) must
     * not decide an allocation. Only the model's tensors are ever copied. */
    Loaded l = {.offsets = tensor_xcalloc((size_t)m->n_params + 1, sizeof *l.offsets)};
    uint32_t n = 0;
    int rc = read_header(&c, path, file, len, &l, &n);
    if (rc == 0) rc = read_tensors(&c, m, path, n, l.offsets);
    if (rc == 0 && (l.flags & FLAG_OPTIMIZER)) rc = read_optimizer(&c, m, path, &l);
    if (rc == 0 && (l.flags & FLAG_TRAIN_STATE)) rc = read_train_state(&c, path, l.version, st != NULL, &l.state);
    if (rc == 0 && c.pos != c.len)
        rc = tensor_set_error("%s: %zu unexpected bytes after the data", path, c.len - c.pos);
    if (rc == 0 && st && (!(l.flags & FLAG_TRAIN_STATE) || !l.load_opt))
        rc = tensor_set_error("%s: has no training state to resume from (save it during fit with a checkpoint "
                              "path)", path);
    if (rc == 0 && st && accept && accept(&l.state, user) != 0) rc = -1;
    if (rc == 0) {
        if (st) *st = l.state; /* the history goes with it */
        copy_into_model(m, file, &l);
    } else {
        nn__train_state_free(&l.state);
    }
    free(l.offsets);
    free(file);
    return rc;
}

int nn_load_weights(Model *m, const char *path) { return load_file(m, path, NULL, NULL, NULL); }

int nn__load_checkpoint(Model *m, const char *path, NnTrainState *st) { return load_file(m, path, st, NULL, NULL); }

int nn__load_checkpoint_if(Model *m, const char *path, NnTrainState *st, NnAcceptTrainState accept, void *user) {
    return load_file(m, path, st, accept, user);
}
