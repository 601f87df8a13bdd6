/* Saving and loading a model's weights (and optionally optimizer state) in lamina's
 * binary format, documented in docs/weights-format.md: a magic and version, each
 * parameter's name, shape and float32 values, optional optimizer state, and a CRC-32
 * of everything before it. Saves are atomic (temporary file, fsync, rename); loads
 * validate everything before touching the model. */
#include "nn/io/atomic_file_internal.h"
#include "nn/model/model_internal.h"
#include "nn/text/text.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEIGHTS_MAGIC "LAMINAW\0"
#define WEIGHTS_VERSION 1u
#define FLAG_OPTIMIZER 1u
#define FLAG_TRAIN_STATE 2u
/* Step and prediction counts beyond any real run (2^53: still exact as a double);
 * larger ones in a file are damage, and would overflow when training goes on. */
#define MAX_COUNT ((int64_t)1 << 53)

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n) {
    static uint32_t table[256];
    static int ready = 0;
    if (!ready) { /* benign race: every thread computes the same table */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ---- writing: an in-memory buffer, then one atomic file write ---- */

typedef struct Buf {
    unsigned char *data;
    size_t len, cap;
} Buf;

static void buf_put(Buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        b->data = tensor_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static void put_u32(Buf *b, uint32_t v) { buf_put(b, &v, 4); }
static void put_i64(Buf *b, int64_t v) { buf_put(b, &v, 8); }
static void put_str(Buf *b, const char *s) {
    put_u32(b, (uint32_t)strlen(s));
    buf_put(b, s, strlen(s));
}

static void put_f64(Buf *b, double v) { buf_put(b, &v, 8); }

static void put_train_state(Buf *b, const NnTrainState *st) {
    put_u32(b, (uint32_t)st->epoch);
    put_i64(b, st->step_in_epoch);
    put_i64(b, st->n_train);
    put_i64(b, st->batch_size);
    for (int k = 0; k < 2; k++) put_i64(b, (int64_t)st->model_rng[k]);
    for (int k = 0; k < 2; k++) put_i64(b, (int64_t)st->shuffle_rng[k]);
    put_f64(b, st->loss_sum);
    put_i64(b, st->seen);
    put_i64(b, st->correct);
    put_i64(b, st->predictions);
    put_u32(b, (uint32_t)st->n_history);
    buf_put(b, st->history, (size_t)st->n_history * 4 * sizeof(double));
}

/* Writes weights, optionally optimizer state and training state, atomically. */
static int save_file(const Model *m, const char *path, bool with_optimizer, const NnTrainState *st) {
    if (!m->param_buf) return tensor_set_error("save weights: the model is not built");
    Optimizer *opt = m->optimizer;
    bool save_opt = (with_optimizer || st) && opt;
    Buf b = {0};
    buf_put(&b, WEIGHTS_MAGIC, 8);
    put_u32(&b, WEIGHTS_VERSION);
    put_u32(&b, (save_opt ? FLAG_OPTIMIZER : 0) | (st ? FLAG_TRAIN_STATE : 0));
    put_u32(&b, (uint32_t)m->n_params);
    for (int i = 0; i < m->n_params; i++) {
        const Tensor *p = m->params[i];
        put_str(&b, p->name ? p->name : "");
        put_u32(&b, (uint32_t)p->ndim);
        for (int d = 0; d < p->ndim; d++) put_i64(&b, p->shape[d]);
        put_u32(&b, (uint32_t)p->dtype);
        buf_put(&b, p->data, (size_t)p->size * sizeof(float));
    }
    if (save_opt) {
        put_str(&b, nn_optimizer_name(opt));
        put_i64(&b, nn_optimizer_iterations(opt));
        put_i64(&b, m->steps);
        int count = nn_optimizer_state_count(opt);
        put_u32(&b, (uint32_t)count);
        put_i64(&b, m->n_floats);
        for (int k = 0; k < count; k++)
            buf_put(&b, nn_optimizer_state_buffer(opt, k, m->n_floats), (size_t)m->n_floats * sizeof(float));
    }
    if (st) put_train_state(&b, st);
    put_u32(&b, crc32_update(0, b.data, b.len));
    int rc = nn_write_file_atomically(path, b.data, b.len);
    free(b.data);
    return rc;
}

int nn_save_weights(const Model *m, const char *path, bool with_optimizer) {
    return save_file(m, path, with_optimizer, NULL);
}

int nn__save_checkpoint(const Model *m, const char *path, const NnTrainState *st) {
    return save_file(m, path, true, st);
}

/* ---- reading: bounds-checked cursor over the whole file ---- */

typedef struct Cursor {
    const unsigned char *p;
    size_t len, pos;
    bool truncated;
} Cursor;

static bool take(Cursor *c, void *out, size_t n) {
    if (c->truncated || n > c->len - c->pos) {
        c->truncated = true;
        return false;
    }
    if (out) memcpy(out, c->p + c->pos, n);
    c->pos += n;
    return true;
}
static uint32_t get_u32(Cursor *c) {
    uint32_t v = 0;
    take(c, &v, 4);
    return v;
}
static int64_t get_i64(Cursor *c) {
    int64_t v = 0;
    take(c, &v, 8);
    return v;
}
static double get_f64(Cursor *c) {
    double v = 0;
    take(c, &v, 8);
    return v;
}

/* Appends a mismatch description to the error list. */
static void note(char *msg, size_t cap, int *count, const char *fmt, ...) TENSOR_PRINTF(4, 5);
static void note(char *msg, size_t cap, int *count, const char *fmt, ...) {
    size_t used = strlen(msg);
    if (*count < 8 && used + 4 < cap) {
        if (*count > 0) strncat(msg, "; ", cap - used - 1);
        used = strlen(msg);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + used, cap - used, fmt, ap);
        va_end(ap);
    }
    (*count)++;
}

static int load_file(Model *m, const char *path, NnTrainState *st, NnAcceptTrainState accept, void *user) {
    if (!m->param_buf) return tensor_set_error("load weights: build the model before loading %s", path);
    int64_t len;
    char *file = nn_read_file(path, &len);
    if (!file) return -1;
    Cursor c = {(const unsigned char *)file, (size_t)len, 0, false};
    int rc = -1;
    char magic[8];
    if (!take(&c, magic, 8) || memcmp(magic, WEIGHTS_MAGIC, 8) != 0) {
        tensor_set_error("%s: not a lamina weights file (bad magic)", path);
        goto done;
    }
    if (len < 8 + 4 + 4) {
        tensor_set_error("%s: file is truncated", path);
        goto done;
    }
    uint32_t stored_crc;
    memcpy(&stored_crc, file + len - 4, 4);
    if (crc32_update(0, (const unsigned char *)file, (size_t)len - 4) != stored_crc) {
        tensor_set_error("%s: checksum mismatch: the file is truncated or corrupted", path);
        goto done;
    }
    c.len = (size_t)len - 4; /* the body, without the checksum */
    uint32_t version = get_u32(&c), flags = get_u32(&c), n = get_u32(&c);
    if (version != WEIGHTS_VERSION) {
        tensor_set_error("%s: format version %u, this library reads version %u", path, version, WEIGHTS_VERSION);
        goto done;
    }
    char msg[1024] = "";
    int mismatches = 0;
    if (n != (uint32_t)m->n_params)
        note(msg, sizeof msg, &mismatches, "the file has %u tensors, the model %d", n, m->n_params);
    /* Sized by the model, not by the file's count: a hostile count (up to 2^32) must
     * not decide an allocation. Only the model's tensors are ever copied. */
    size_t *offsets = tensor_xcalloc((size_t)m->n_params + 1, sizeof *offsets);
    for (uint32_t i = 0; i < n && !c.truncated; i++) {
        uint32_t name_len = get_u32(&c);
        char name[256] = "";
        if (name_len >= sizeof name) {
            note(msg, sizeof msg, &mismatches, "tensor %u has an implausible name length %u", i, name_len);
            c.truncated = true;
            break;
        }
        take(&c, name, name_len);
        uint32_t ndim = get_u32(&c);
        if (ndim > TENSOR_MAX_DIMS) {
            note(msg, sizeof msg, &mismatches, "tensor '%s' has %u dims", name, ndim);
            c.truncated = true;
            break;
        }
        int64_t shape[TENSOR_MAX_DIMS], count = 1;
        bool bad_shape = false;
        for (uint32_t d = 0; d < ndim; d++) {
            shape[d] = get_i64(&c);
            if (shape[d] < 0 || (shape[d] && count > INT64_MAX / 4 / shape[d])) bad_shape = true;
            else count *= shape[d];
        }
        uint32_t dtype = get_u32(&c);
        if (bad_shape || dtype != TENSOR_F32) {
            note(msg, sizeof msg, &mismatches, "tensor '%s' has an invalid shape or dtype", name);
            c.truncated = true;
            break;
        }
        if (i < (uint32_t)m->n_params) offsets[i] = c.pos;
        if (!take(&c, NULL, (size_t)count * sizeof(float))) break;
        if (i < (uint32_t)m->n_params) {
            const Tensor *p = m->params[i];
            char want[128], got[128];
            if (strcmp(name, p->name ? p->name : "") != 0)
                note(msg, sizeof msg, &mismatches, "tensor %u is '%s' in the file but '%s' in the model", i, name,
                     p->name ? p->name : "");
            else if ((int)ndim != p->ndim || memcmp(shape, p->shape, ndim * sizeof(int64_t)) != 0)
                note(msg, sizeof msg, &mismatches, "'%s' has shape %s in the file but %s in the model", name,
                     tensor_shape_str((int)ndim, shape, got, sizeof got),
                     tensor_shape_str(p->ndim, p->shape, want, sizeof want));
        }
    }
    if (c.truncated) {
        tensor_set_error("%s: file is truncated or malformed%s%s", path, msg[0] ? ": " : "", msg);
        free(offsets);
        goto done;
    }
    if (mismatches) {
        tensor_set_error("%s: made for another architecture (%d difference%s): %s", path, mismatches,
                         mismatches == 1 ? "" : "s", msg);
        free(offsets);
        goto done;
    }
    /* Optimizer state, validated before anything is copied. */
    size_t opt_offset = 0;
    int64_t opt_iterations = 0, model_steps = 0;
    uint32_t opt_count = 0;
    bool load_opt = false;
    if (flags & FLAG_OPTIMIZER) {
        uint32_t nlen = get_u32(&c);
        char oname[32] = "";
        if (nlen < sizeof oname) take(&c, oname, nlen);
        else c.truncated = true;
        opt_iterations = get_i64(&c);
        model_steps = get_i64(&c);
        opt_count = get_u32(&c);
        int64_t floats = get_i64(&c);
        opt_offset = c.pos;
        if (floats != m->n_floats || opt_count > 2 || opt_iterations < 0 || opt_iterations > MAX_COUNT ||
            model_steps < 0 || model_steps > MAX_COUNT ||
            !take(&c, NULL, (size_t)opt_count * (size_t)(floats > 0 ? floats : 0) * sizeof(float))) {
            tensor_set_error("%s: optimizer state is truncated, invalid or does not match the model", path);
            free(offsets);
            goto done;
        }
        load_opt = m->optimizer && strcmp(oname, nn_optimizer_name(m->optimizer)) == 0 &&
                   (int)opt_count == nn_optimizer_state_count(m->optimizer);
    }
    NnTrainState state = {0};
    if (flags & FLAG_TRAIN_STATE) {
        uint32_t epoch = get_u32(&c);
        state.epoch = epoch <= INT32_MAX ? (int)epoch : -1;
        state.step_in_epoch = get_i64(&c);
        state.n_train = get_i64(&c);
        state.batch_size = get_i64(&c);
        for (int k = 0; k < 2; k++) state.model_rng[k] = (uint64_t)get_i64(&c);
        for (int k = 0; k < 2; k++) state.shuffle_rng[k] = (uint64_t)get_i64(&c);
        state.loss_sum = get_f64(&c);
        state.seen = get_i64(&c);
        state.correct = get_i64(&c);
        state.predictions = get_i64(&c);
        uint32_t n_history = get_u32(&c);
        size_t offset = c.pos;
        if (n_history > 10000000u || !take(&c, NULL, (size_t)n_history * 4 * sizeof(double))) {
            tensor_set_error("%s: training state is truncated", path);
            free(offsets);
            goto done;
        }
        /* fit resumes at sample step_in_epoch * batch_size of its data: values fit
         * could not have written are refused here, or a damaged (yet checksummed) or
         * crafted file would send it outside the data (found by fuzzing). */
        if (state.epoch < 1 || state.n_train < 1 || state.batch_size < 1 || state.step_in_epoch < 0 ||
            state.step_in_epoch > (state.n_train - 1) / state.batch_size + 1 || state.seen < 0 ||
            state.seen > state.n_train || state.correct < 0 || state.correct > state.predictions ||
            state.predictions > MAX_COUNT || n_history > (uint32_t)state.epoch) {
            tensor_set_error("%s: training state is invalid (epoch %d, step %lld, %lld samples in batches of "
                             "%lld, %u finished epochs)", path, state.epoch, (long long)state.step_in_epoch,
                             (long long)state.n_train, (long long)state.batch_size, n_history);
            free(offsets);
            goto done;
        }
        state.n_history = (int)n_history;
        if (st) {
            state.history = tensor_xmalloc((size_t)(n_history ? n_history : 1) * 4 * sizeof(double));
            memcpy(state.history, file + offset, (size_t)n_history * 4 * sizeof(double));
        }
    }
    if (c.pos != c.len) {
        tensor_set_error("%s: %zu unexpected bytes after the data", path, c.len - c.pos);
        free(offsets);
        free(state.history);
        goto done;
    }
    if (st) {
        if (!(flags & FLAG_TRAIN_STATE) || !load_opt) {
            tensor_set_error("%s: has no training state to resume from (save it during fit with a checkpoint path)",
                             path);
            free(offsets);
            free(state.history);
            goto done;
        }
        if (accept && accept(&state, user) != 0) {
            free(offsets);
            free(state.history);
            goto done;
        }
        *st = state;
    }
    for (int i = 0; i < m->n_params; i++)
        memcpy(m->params[i]->data, file + offsets[i], (size_t)m->params[i]->size * sizeof(float));
    if (load_opt) {
        for (uint32_t k = 0; k < opt_count; k++)
            memcpy(nn_optimizer_state_buffer(m->optimizer, (int)k, m->n_floats),
                   file + opt_offset + (size_t)k * (size_t)m->n_floats * sizeof(float),
                   (size_t)m->n_floats * sizeof(float));
        nn_optimizer_set_iterations(m->optimizer, opt_iterations);
        m->steps = model_steps;
    }
    free(offsets);
    rc = 0;
done:
    free(file);
    return rc;
}

int nn_load_weights(Model *m, const char *path) { return load_file(m, path, NULL, NULL, NULL); }

int nn__load_checkpoint(Model *m, const char *path, NnTrainState *st) { return load_file(m, path, st, NULL, NULL); }

int nn__load_checkpoint_if(Model *m, const char *path, NnTrainState *st, NnAcceptTrainState accept, void *user) {
    return load_file(m, path, st, accept, user);
}
