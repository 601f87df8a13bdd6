/* The architecture text of a whole-model file (docs/weights-format.md): written from
 * a model, and parsed into a tree of layer descriptions, refusing anything malformed
 * with the line it is on. One line per item, words separated by single spaces:
 *   lamina-model 1
 *   input dtype=int32 shape=40
 *   layer Embedding name=embedding input_dim=27 output_dim=64
 *   layer TimeDistributed name=time_distributed
 *     layer Dense name=dense units=27 activation=softmax use_bias=true
 *   compile loss=sparse_categorical_crossentropy clipnorm=0 accuracy=false
 *   optimizer Adam lr=0.0010000000474974513 beta1=...
 * A wrapped layer's lines follow its wrapper's, indented two spaces more. Values are
 * percent-encoded outside the printable ASCII other than '%' and '='. */
#include "nn/io/model_text_internal.h"
#include "nn/model/model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

static void put_text(NnBytes *b, const char *s) { nn__bytes_put(b, s, strlen(s)); }

static void put_encoded(NnBytes *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p > ' ' && *p < 0x7f && *p != '%' && *p != '=') {
            nn__bytes_put(b, p, 1);
        } else {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", *p);
            put_text(b, hex);
        }
    }
}

static void put_config(NnBytes *b, const NnConfig *c) {
    for (int i = 0; i < c->n; i++) {
        put_text(b, " ");
        put_text(b, c->key[i]);
        put_text(b, "=");
        put_encoded(b, c->value[i]);
    }
    put_text(b, "\n");
}

static int put_layer(NnBytes *b, const Layer *l, int depth) {
    if (!l->vt->get_config)
        return tensor_set_error("layer \"%s\" (%s) has no get_config, so a model file cannot describe it (save "
                                "the weights alone with nn_save_weights)", l->name, l->vt->type);
    if (depth >= NN_MODEL_TEXT_MAX_DEPTH) return tensor_set_error("layer \"%s\": wrappers nested too deep", l->name);
    for (int d = 0; d < depth; d++) put_text(b, "  ");
    put_text(b, "layer ");
    put_encoded(b, l->vt->type);
    put_text(b, " name=");
    put_encoded(b, l->name);
    NnConfig c = {0};
    l->vt->get_config(l, &c);
    put_config(b, &c);
    for (int i = 0; i < l->n_children; i++)
        if (put_layer(b, l->children[i], depth + 1) != 0) return -1;
    return 0;
}

static void put_compile(NnBytes *b, const Model *m) {
    NnConfig c = {0};
    nn_config_set_str(&c, "loss", nn_loss_name(m->loss));
    nn_config_set_float32(&c, "clipnorm", m->clipnorm);
    nn_config_set_bool(&c, "accuracy", m->accuracy);
    put_text(b, "compile");
    put_config(b, &c);
    put_text(b, "optimizer ");
    put_encoded(b, nn_optimizer_name(m->optimizer));
    c = (NnConfig){0};
    nn_optimizer_get_config(m->optimizer, &c);
    put_config(b, &c);
}

char *nn_model_to_text(const Model *m) {
    if (m->custom) {
        tensor_set_error("a custom model's forward is code, so a model file cannot describe it (save the weights "
                         "with nn_save_weights and build it in code)");
        return NULL;
    }
    if (!m->built) return tensor_set_error("a model file needs a built model (nn_build)"), NULL;
    NnBytes b = {0};
    char s[64 + 24 * TENSOR_MAX_DIMS];
    int n = snprintf(s, sizeof s, "lamina-model 1\ninput dtype=%s shape=", m->input.dtype == TENSOR_I32 ? "int32" : "float32");
    for (int d = 0; d < m->input.ndim; d++)
        n += snprintf(s + n, sizeof s - (size_t)n, "%s%lld", d ? "," : "", (long long)m->input.dim[d]);
    snprintf(s + n, sizeof s - (size_t)n, "\n");
    put_text(&b, s);
    for (int i = 0; i < m->n_layers; i++)
        if (put_layer(&b, m->layers[i], 0) != 0) {
            free(b.data);
            return NULL;
        }
    if (m->compiled) put_compile(&b, m);
    nn__bytes_put(&b, "", 1);
    return (char *)b.data;
}

/* ---- parsing ---- */

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes s[0..n) into out (cap bytes with the NUL); false if malformed or too long. */
static bool decode(const char *s, size_t n, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k + 1 >= cap) return false;
        if (s[i] != '%') {
            out[k++] = s[i];
            continue;
        }
        if (i + 2 >= n) return false; /* "%X" cut short */
        int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
        out[k++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[k] = '\0';
    return true;
}

typedef struct Parser {
    const char *path;
    int line;
    NnModelText *out;
} Parser;

static int fail(const Parser *p, const char *what) {
    return tensor_set_error("%s: architecture line %d: %s", p->path, p->line, what);
}

/* Splits one line's words after the first two into key=value entries of c. */
static int parse_pairs(const Parser *p, char *rest, NnConfig *c, char *name, size_t name_cap) {
    for (char *w = rest; w && *w;) {
        char *end = strchr(w, ' ');
        size_t len = end ? (size_t)(end - w) : strlen(w);
        char *eq = memchr(w, '=', len);
        if (!eq || eq == w) return fail(p, "expected key=value");
        size_t klen = (size_t)(eq - w);
        char key[NN_CONFIG_KEY_MAX], value[NN_CONFIG_VALUE_MAX];
        if (klen >= sizeof key) return fail(p, "a key is too long");
        memcpy(key, w, klen);
        key[klen] = '\0';
        if (name && strcmp(key, "name") == 0) {
            if (!decode(eq + 1, len - klen - 1, name, name_cap) || !name[0]) return fail(p, "a bad layer name");
        } else {
            if (!decode(eq + 1, len - klen - 1, value, sizeof value)) return fail(p, "a malformed or long value");
            for (const char *k = key; *k; k++)
                if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_')) return fail(p, "a bad key");
            for (int i = 0; i < c->n; i++)
                if (strcmp(c->key[i], key) == 0) return fail(p, "a key given twice");
            if (c->n == NN_CONFIG_MAX) return fail(p, "too many options");
            nn_config_set_str(c, key, value);
        }
        w = end ? end + 1 : NULL;
    }
    return 0;
}

static int parse_input(const Parser *p, char *rest) {
    NnConfig c = {0};
    if (parse_pairs(p, rest, &c, NULL, 0) != 0) return -1;
    const char *dtype = NULL, *shape = NULL;
    if (nn_config_str(&c, "input", "dtype", &dtype) || nn_config_str(&c, "input", "shape", &shape) || c.n != 2)
        return fail(p, "input needs dtype= and shape= and nothing else");
    NnShape *s = &p->out->input;
    if (strcmp(dtype, "int32") != 0 && strcmp(dtype, "float32") != 0) return fail(p, "dtype must be int32 or float32");
    s->dtype = dtype[0] == 'i' ? TENSOR_I32 : TENSOR_F32;
    s->ndim = 0;
    for (const char *q = shape; *q;) {
        char *end;
        long long v = strtoll(q, &end, 10);
        if (end == q || (v < 1 && v != -1) || v > ((long long)1 << 40) || s->ndim == TENSOR_MAX_DIMS - 1)
            return fail(p, "shape must be up to 7 sizes (-1 for unknown) separated by commas");
        s->dim[s->ndim++] = v;
        q = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return fail(p, "shape must be sizes separated by commas");
    }
    if (s->ndim == 0) return fail(p, "an empty shape");
    p->out->has_input = true;
    return 0;
}

static int parse_layer(const Parser *p, int depth, char *rest) {
    NnModelText *t = p->out;
    if (t->n_layers == NN_MODEL_TEXT_MAX_LAYERS) return fail(p, "too many layers");
    if (depth > 0 && (t->n_layers == 0 || t->layers[t->n_layers - 1].depth < depth - 1))
        return fail(p, "a wrapped layer without its wrapper (indented too far)");
    NnLayerText *l = &t->layers[t->n_layers];
    *l = (NnLayerText){.depth = depth};
    char *sp = strchr(rest, ' ');
    if (!sp || !decode(rest, (size_t)(sp - rest), l->type, sizeof l->type)) return fail(p, "expected layer TYPE name=...");
    if (parse_pairs(p, sp + 1, &l->config, l->name, sizeof l->name) != 0) return -1;
    if (!l->name[0]) return fail(p, "a layer without name=");
    t->n_layers++;
    return 0;
}

static int parse_line(Parser *p, char *line, bool *seen_compile) {
    int spaces = 0;
    while (line[spaces] == ' ') spaces++;
    char *word = line + spaces, *rest = strchr(word, ' ');
    if (rest) *rest++ = '\0';
    if (strcmp(word, "layer") == 0 && rest && spaces % 2 == 0 && spaces / 2 < NN_MODEL_TEXT_MAX_DEPTH)
        return *seen_compile ? fail(p, "a layer after compile") : parse_layer(p, spaces / 2, rest);
    if (spaces) return fail(p, "unexpected indentation");
    if (strcmp(word, "input") == 0 && rest && !p->out->has_input) return parse_input(p, rest);
    if (strcmp(word, "compile") == 0 && rest && !*seen_compile) {
        *seen_compile = true;
        p->out->compiled = true;
        return parse_pairs(p, rest, &p->out->compile, NULL, 0);
    }
    if (strcmp(word, "optimizer") == 0 && rest && *seen_compile && !p->out->optimizer[0]) {
        char *sp = strchr(rest, ' ');
        if (sp) *sp = '\0';
        if (!decode(rest, strlen(rest), p->out->optimizer, sizeof p->out->optimizer) || !p->out->optimizer[0])
            return fail(p, "a bad optimizer name");
        return sp ? parse_pairs(p, sp + 1, &p->out->optimizer_config, NULL, 0) : 0;
    }
    return fail(p, "expected input, layer, compile or optimizer (each once, in that order)");
}

int nn__model_text_parse(const char *text, const char *path, NnModelText *out) {
    memset(out, 0, sizeof *out);
    char *copy = tensor_xmalloc(strlen(text) + 1);
    strcpy(copy, text);
    Parser p = {path, 1, out};
    bool seen_compile = false;
    int rc = 0;
    char *line = copy, *next = strchr(line, '\n');
    if (!next || strncmp(line, "lamina-model 1\n", 15) != 0) rc = fail(&p, "not \"lamina-model 1\"");
    for (line = next ? next + 1 : NULL; rc == 0 && line && *line; line = next) {
        p.line++;
        next = strchr(line, '\n');
        if (!next) {
            rc = fail(&p, "the text must end with a newline");
            break;
        }
        *next++ = '\0';
        rc = parse_line(&p, line, &seen_compile);
    }
    if (rc == 0 && (!out->has_input || out->n_layers == 0)) rc = fail(&p, "needs an input line and a layer");
    if (rc == 0 && out->compiled && !out->optimizer[0]) rc = fail(&p, "compile without an optimizer line");
    free(copy);
    return rc;
}
