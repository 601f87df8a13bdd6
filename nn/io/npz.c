/* NumPy .npz weights: the .npy arrays inside the zip container (zip.c) — writing
 * each tensor's .npy header, parsing the headers strictly (a small Python dict
 * literal), the NnNpz reader, and loading and saving a model's or any tensors by
 * name, every difference reported before anything is copied. */
#include "nn/io/npz.h"
#include "nn/io/zip_internal.h"

#include "nn/model/model_internal.h"
#include "nn/text/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 255       /* an array name, without ".npy" */
#define HEADER_MAX_LEN 16384   /* a .npy dict; numpy's own are ~120 bytes */

static const char *dtype_name(TensorDType d) { return d == TENSOR_I32 ? "int32" : "float32"; }

/* ---- writing ---- */

/* The .npy prefix of t: magic, version 1.0, header length, and the dict padded with
 * spaces and a newline so the data starts at a multiple of 64 (as numpy does). */
static size_t npy_prefix(const Tensor *t, char *out, size_t cap) {
    char shape[8 * 24 + 4] = "(";
    for (int i = 0; i < t->ndim; i++) {
        size_t used = strlen(shape);
        snprintf(shape + used, sizeof shape - used, i + 1 < t->ndim || t->ndim == 1 ? "%lld," : "%lld",
                 (long long)t->shape[i]);
    }
    strcat(shape, ")");
    char dict[320];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     t->dtype == TENSOR_I32 ? "<i4" : "<f4", shape);
    size_t total = ((size_t)10 + (size_t)n + 1 + 63) / 64 * 64; /* + 1 for the newline */
    TENSOR_CHECK(total <= cap, "npy header of %s does not fit", t->name);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (char)((total - 10) & 0xFF);
    out[9] = (char)((total - 10) >> 8);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', total - 10 - (size_t)n - 1);
    out[total - 1] = '\n';
    return total;
}

/* Checks the tensors can be written: named, unique, float32/int32, zip-sized. */
static int check_for_save(const char *path, int n, Tensor *const *ts) {
    if (n < 0 || n > 65535) return tensor_set_error("%s: cannot store %d arrays in one .npz (0..65535)", path, n);
    for (int i = 0; i < n; i++) {
        const Tensor *t = ts[i];
        if (!t) return tensor_set_error("%s: tensor %d is NULL", path, i);
        if (!t->name || !t->name[0]) return tensor_set_error("%s: tensor %d has no name", path, i);
        if (strlen(t->name) > NAME_MAX_LEN)
            return tensor_set_error("%s: name '%.40s...' is longer than %d bytes", path, t->name, NAME_MAX_LEN);
        if (t->dtype != TENSOR_F32 && t->dtype != TENSOR_I32)
            return tensor_set_error("%s: '%s' has an unknown dtype %d", path, t->name, (int)t->dtype);
        if ((uint64_t)t->size > (NN_ZIP_U32_LIMIT - 4096) / 4)
            return tensor_set_error("%s: '%s' is too large for a non-zip64 archive (over 4 GiB)", path, t->name);
        for (int j = 0; j < i; j++)
            if (strcmp(ts[j]->name, t->name) == 0)
                return tensor_set_error("%s: two tensors are named '%s'; .npz names must be unique (give the "
                                        "layers distinct names with .name = ...)",
                                        path, t->name);
    }
    return 0;
}

int nn_npz_save_tensors(const char *path, int n, Tensor *const *tensors) {
    if (!path || !*path) return tensor_set_error("nn_npz_save_tensors: empty path");
    if (check_for_save(path, n, tensors) != 0) return -1;
    NnZipWriter z = {0};
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const Tensor *t = tensors[i];
        char prefix[512], member[NAME_MAX_LEN + 5];
        size_t plen = npy_prefix(t, prefix, sizeof prefix);
        snprintf(member, sizeof member, "%s.npy", t->name);
        if (nn__zip_add(&z, member, prefix, plen, t->data, (size_t)t->size * 4) != 0)
            rc = tensor_set_error("%s: the archive would exceed 4 GiB, which needs zip64 (not written)", path);
    }
    if (rc == 0) rc = nn__zip_write(&z, path);
    nn__zip_free(&z);
    return rc;
}

int nn_save_npz(const Model *m, const char *path) {
    if (!m) return tensor_set_error("nn_save_npz: the model is NULL");
    if (!m->param_buf) return tensor_set_error("%s: save weights: the model is not built", path ? path : "");
    nn__model_draw_init((Model *)m); /* fixes values already determined: m is unchanged */
    return nn_npz_save_tensors(path, m->n_params, m->params);
}

/* ---- reading ---- */

typedef struct NpzArray {
    char name[NAME_MAX_LEN + 1];
    TensorDType dtype;
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t size;
    const unsigned char *data; /* inside the file buffer; possibly unaligned */
} NpzArray;

struct NnNpz {
    char *path;
    char *file;
    NpzArray *arrays;
    int n;
};

static void skip_ws(const char **s) {
    while (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r') (*s)++;
}

/* A quoted Python string without escapes; -1 if malformed or longer than cap - 1. */
static int parse_str(const char **s, char *out, size_t cap) {
    char q = **s;
    if (q != '\'' && q != '"') return -1;
    (*s)++;
    size_t n = 0;
    for (; **s && **s != q; (*s)++) {
        if (**s == '\\' || n + 1 >= cap) return -1;
        out[n++] = **s;
    }
    if (**s != q) return -1;
    (*s)++;
    out[n] = '\0';
    return 0;
}

/* A Python tuple of non-negative ints: "()", "(5,)", "(2, 3)". */
static const char *parse_shape(const char **s, int *ndim, int64_t *shape) {
    if (**s != '(') return "'shape' is not a tuple";
    (*s)++;
    *ndim = 0;
    bool comma = false;
    for (;;) {
        skip_ws(s);
        if (**s == ')') break;
        if (*ndim == TENSOR_MAX_DIMS) return "more than 8 dims";
        if (**s < '0' || **s > '9') return "'shape' holds something other than non-negative ints";
        int64_t v = 0;
        for (; **s >= '0' && **s <= '9'; (*s)++) {
            if (v > (INT64_MAX - 9) / 10) return "a dim in 'shape' is too large";
            v = v * 10 + (**s - '0');
        }
        if (**s == 'L') (*s)++; /* written by Python 2 */
        shape[(*ndim)++] = v;
        skip_ws(s);
        comma = **s == ',';
        if (comma) (*s)++;
        else if (**s != ')') return "'shape' is not a well-formed tuple";
    }
    if (*ndim == 1 && !comma) return "'shape' is not a tuple";
    (*s)++;
    return NULL;
}

static const char DTYPE_REFUSED[] = "dtype";

/* The header dict {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }: each
 * key exactly once, nothing else. Returns NULL, or what was wrong. */
static const char *parse_dict(const char *s, NpzArray *a, char descr[16]) {
    bool seen[3] = {false, false, false};
    char key[32];
    bool fortran = false;
    skip_ws(&s);
    if (*s++ != '{') return "the header is not a dict";
    for (;;) {
        skip_ws(&s);
        if (*s == '}') break;
        if (parse_str(&s, key, sizeof key) != 0) return "a header key is not a short string";
        skip_ws(&s);
        if (*s++ != ':') return "the header dict is malformed";
        skip_ws(&s);
        int k = strcmp(key, "descr") == 0 ? 0 : strcmp(key, "fortran_order") == 0 ? 1 : strcmp(key, "shape") == 0 ? 2 : -1;
        if (k < 0) return "the header has an unknown key";
        if (seen[k]) return "the header repeats a key";
        seen[k] = true;
        if (k == 0 && parse_str(&s, descr, 16) != 0) return "'descr' is not a short string";
        if (k == 1) {
            if (strncmp(s, "True", 4) == 0) fortran = true, s += 4;
            else if (strncmp(s, "False", 5) == 0) s += 5;
            else return "'fortran_order' is neither True nor False";
        }
        if (k == 2) {
            const char *why = parse_shape(&s, &a->ndim, a->shape);
            if (why) return why;
        }
        skip_ws(&s);
        if (*s == ',') s++;
        else if (*s != '}') return "the header dict is malformed";
    }
    s++;
    skip_ws(&s);
    if (*s) return "unexpected text after the header dict";
    if (!seen[0] || !seen[1] || !seen[2]) return "the header lacks 'descr', 'fortran_order' or 'shape'";
    if (strcmp(descr, "<f4") == 0) a->dtype = TENSOR_F32;
    else if (strcmp(descr, "<i4") == 0) a->dtype = TENSOR_I32;
    else return DTYPE_REFUSED;
    int long_dims = 0;
    for (int i = 0; i < a->ndim; i++) long_dims += a->shape[i] > 1;
    if (fortran && long_dims > 1) return "it is stored in Fortran order; save numpy.ascontiguousarray(x)";
    return NULL;
}

/* Parses one member's .npy bytes into a. */
static int parse_npy(const char *path, const char *member, const unsigned char *p, uint64_t len, NpzArray *a) {
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0) return nn__zip_refuse(path, "'%s' is not a .npy array (bad magic)", member);
    uint64_t hlen, start;
    if (p[6] == 1) {
        hlen = nn__le16(p + 8), start = 10;
    } else if ((p[6] == 2 || p[6] == 3) && len >= 12) {
        hlen = nn__le32(p + 8), start = 12;
    } else {
        return nn__zip_refuse(path, "'%s' has .npy format version %u.%u (1.0 to 3.0 are read)", member, p[6], p[7]);
    }
    if (hlen > HEADER_MAX_LEN || hlen > len - start)
        return nn__zip_refuse(path, "'%s' has a header length of %llu bytes that does not fit", member, (unsigned long long)hlen);
    char header[HEADER_MAX_LEN + 1];
    memcpy(header, p + start, hlen);
    header[hlen] = '\0';
    if (strlen(header) != hlen) return nn__zip_refuse(path, "'%s' has a NUL byte in its header", member);
    char descr[16] = "";
    const char *why = parse_dict(header, a, descr);
    if (why == DTYPE_REFUSED)
        return nn__zip_refuse(path, "'%s' has dtype '%s'; only little-endian float32 ('<f4') and int32 ('<i4') are read "
                         "(convert with .astype(numpy.float32))", member, descr);
    if (why) return nn__zip_refuse(path, "'%s': %s", member, why);
    uint64_t count = 1, avail = len - start - hlen;
    for (int i = 0; i < a->ndim; i++) {
        if (a->shape[i] && count > avail / 4 / (uint64_t)a->shape[i])
            return nn__zip_refuse(path, "'%s' holds %llu bytes of data, less than its shape needs", member,
                       (unsigned long long)avail);
        count *= (uint64_t)a->shape[i];
    }
    if (count * 4 != avail)
        return nn__zip_refuse(path, "'%s' holds %llu bytes of data, its shape needs %llu", member, (unsigned long long)avail,
                   (unsigned long long)count * 4);
    a->size = (int64_t)count;
    a->data = p + start + hlen;
    return 0;
}

/* Walks the archive's members: each must be a .npy array with a name of its own. */
static int parse_zip(const char *path, const unsigned char *f, uint64_t len, NnNpz *z) {
    NnZipDir dir;
    if (nn__zip_open_dir(&dir, path, f, len) != 0) return -1;
    z->arrays = tensor_xcalloc(dir.count ? dir.count : 1, sizeof *z->arrays);
    for (uint64_t i = 0; i < dir.count; i++) {
        NnZipMember mb;
        if (nn__zip_next(&dir, i, &mb) != 0) return -1;
        const char *name = mb.shown;
        const uint64_t nlen = mb.name_len;
        if (nlen < 5 || nlen > NAME_MAX_LEN + 4 || memcmp(mb.name + nlen - 4, ".npy", 4) != 0 ||
            memchr(mb.name, 0, nlen) || strlen(name) != nlen)
            return nn__zip_refuse(path, "member '%s' is not a .npy array with a name of 1..%d bytes", name,
                                  NAME_MAX_LEN);
        NpzArray *a = &z->arrays[i];
        memcpy(a->name, mb.name, nlen - 4);
        a->name[nlen - 4] = '\0';
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(z->arrays[j].name, a->name) == 0) return nn__zip_refuse(path, "'%s' appears twice", name);
        if (parse_npy(path, name, mb.data, mb.size, a) != 0) return -1;
        z->n = (int)i + 1;
    }
    return 0;
}

NnNpz *nn_npz_open(const char *path) {
    int64_t len;
    char *file = nn_read_file(path, &len);
    if (!file) return NULL;
    NnNpz *z = tensor_xcalloc(1, sizeof *z);
    z->file = file;
    z->path = tensor_xmalloc(strlen(path) + 1);
    strcpy(z->path, path);
    if (parse_zip(path, (const unsigned char *)file, (uint64_t)len, z) != 0) {
        nn_npz_close(z);
        return NULL;
    }
    return z;
}

void nn_npz_close(NnNpz *z) {
    if (!z) return;
    free(z->arrays);
    free(z->file);
    free(z->path);
    free(z);
}

int nn_npz_count(const NnNpz *z) { return z->n; }

const char *nn_npz_name(const NnNpz *z, int i) {
    TENSOR_CHECK(i >= 0 && i < z->n, "nn_npz_name: index %d outside 0..%d", i, z->n - 1);
    return z->arrays[i].name;
}

int nn_npz_find(const NnNpz *z, const char *name) {
    for (int i = 0; name && i < z->n; i++)
        if (strcmp(z->arrays[i].name, name) == 0) return i;
    return -1;
}

Tensor *nn_npz_get(const NnNpz *z, const char *name, Arena *arena) {
    int k = nn_npz_find(z, name);
    if (k < 0) {
        tensor_set_error("%s: has no array '%s'", z->path, name ? name : "(null)");
        return NULL;
    }
    const NpzArray *a = &z->arrays[k];
    Tensor *t = tensor_empty(arena, a->dtype, a->ndim, a->shape);
    memcpy(t->data, a->data, (size_t)a->size * 4);
    return t;
}

/* ---- matching arrays to tensors ---- */

static _Thread_local char g_report[8192];
static _Thread_local int g_omitted; /* differences that did not fit in g_report */
const char *nn_npz_mismatches(void) { return g_report; }

/* Room kept at the end of g_report for the closing "and N more" line. */
#define REPORT_TAIL 40

static void report_clear(void) {
    g_report[0] = '\0';
    g_omitted = 0;
}

/* Appends one difference as a line, whole or not at all: a line that no longer fits
 * is counted and named by the "and N more" line report_end adds. */
static void report(int *count, const char *fmt, ...) TENSOR_PRINTF(2, 3);
static void report(int *count, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t used = strlen(g_report);
    if (!g_omitted && n >= 0 && (size_t)n < sizeof line && used + (size_t)n + 1 + REPORT_TAIL < sizeof g_report) {
        memcpy(g_report + used, line, (size_t)n);
        memcpy(g_report + used + (size_t)n, "\n", 2);
    } else {
        g_omitted++;
    }
    (*count)++;
}

static void report_end(void) {
    size_t used = strlen(g_report);
    if (g_omitted) snprintf(g_report + used, sizeof g_report - used, "and %d more\n", g_omitted);
}

/* The error for a refused load: as many whole differences as fit, joined by "; ",
 * then how many were left out. */
static int refuse(const char *path, int count) {
    report_end();
    char summary[256] = "";
    int shown = 0;
    for (const char *line = g_report; *line && shown < count - g_omitted;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line), used = strlen(summary);
        if (used + n + 3 >= sizeof summary) break;
        if (shown) strcat(summary, "; ");
        strncat(summary, line, n);
        shown++;
        line += n + (end != NULL);
    }
    char rest[96] = "";
    if (shown < count)
        snprintf(rest, sizeof rest, "; and %d more (nn_npz_mismatches() lists all)", count - shown);
    /* The path is the only part of unbounded length: a long one keeps its end, so the
     * differences and the count of the rest always show whole. */
    size_t plen = strlen(path);
    return tensor_set_error("%s%s: does not match the model (%d difference%s): %s%s", plen > 100 ? "..." : "",
                            plen > 100 ? path + plen - 97 : path, count, count == 1 ? "" : "s", summary, rest);
}

int nn_npz_read_into(const NnNpz *z, int n, Tensor *const *ts, bool allow_extra) {
    report_clear();
    for (int i = 0; i < n; i++)
        if (!ts[i] || !ts[i]->name) return tensor_set_error("%s: tensor %d to load is NULL or unnamed", z->path, i);
    int diffs = 0;
    bool *used = tensor_xcalloc((size_t)(z->n ? z->n : 1), sizeof *used);
    for (int i = 0; i < n; i++) {
        const Tensor *t = ts[i];
        char got[160], want[160];
        bool twice = false;
        for (int j = 0; j < i && !twice; j++) twice = strcmp(ts[j]->name, t->name) == 0;
        int k = nn_npz_find(z, t->name);
        if (twice) {
            report(&diffs, "the model has two tensors named '%s'", t->name);
        } else if (k < 0) {
            report(&diffs, "'%s' is missing from the file", t->name);
        } else {
            const NpzArray *a = &z->arrays[k];
            used[k] = true;
            if (a->dtype != t->dtype)
                report(&diffs, "'%s' is %s in the file but %s in the model", t->name, dtype_name(a->dtype),
                       dtype_name(t->dtype));
            else if (a->ndim != t->ndim || memcmp(a->shape, t->shape, (size_t)a->ndim * sizeof(int64_t)) != 0)
                report(&diffs, "'%s' has shape %s in the file but %s in the model", t->name,
                       tensor_shape_str(a->ndim, a->shape, got, sizeof got),
                       tensor_shape_str(t->ndim, t->shape, want, sizeof want));
        }
    }
    for (int k = 0; k < z->n && !allow_extra; k++)
        if (!used[k]) report(&diffs, "the file has '%s', which the model does not", z->arrays[k].name);
    free(used);
    if (diffs) return refuse(z->path, diffs);
    for (int i = 0; i < n; i++) {
        const NpzArray *a = &z->arrays[nn_npz_find(z, ts[i]->name)];
        memcpy(ts[i]->data, a->data, (size_t)a->size * 4);
    }
    return 0;
}

int nn_npz_load_tensors(const char *path, int n, Tensor *const *tensors) {
    report_clear();
    NnNpz *z = nn_npz_open(path);
    if (!z) return -1;
    int rc = nn_npz_read_into(z, n, tensors, false);
    nn_npz_close(z);
    return rc;
}

int nn_load_npz(Model *m, const char *path) {
    if (!m) return tensor_set_error("nn_load_npz: the model is NULL");
    if (!m->param_buf) return tensor_set_error("%s: build the model before loading weights", path ? path : "");
    int rc = nn_npz_load_tensors(path, m->n_params, m->params);
    if (rc == 0) nn__model_loaded(m); /* every parameter is replaced */
    return rc;
}
