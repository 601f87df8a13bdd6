/* Whole-model files: nn_save_model writes the architecture text (model_text.c) into a
 * weights file; nn_load_model rebuilds the layers from it, builds and compiles the
 * model as it was, then loads the weights through the one weights loader, which
 * checks every byte before the model is touched. */
#include "nn/io/model_text_internal.h"
#include "nn/model/model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHILDREN 8

int nn_save_model(const Model *m, const char *path, bool with_optimizer) {
    char *text = nn_model_to_text(m);
    if (!text) return tensor_set_error("%s: %s", path, tensor_last_error());
    int rc = nn__save_with_architecture(m, path, with_optimizer && m->compiled, text);
    free(text);
    return rc;
}

/* Gives the layer and its children the names the file lists (a wrapper's
 * constructor names its children after itself; the file says what they were). */
static void set_names(Layer *l, const NnModelText *t, int at) {
    snprintf(l->name, sizeof l->name, "%s", t->layers[at].name);
    int child = 0;
    for (int k = at + 1; k < t->n_layers && t->layers[k].depth > t->layers[at].depth; k++)
        if (t->layers[k].depth == t->layers[at].depth + 1 && child < l->n_children)
            set_names(l->children[child++], t, k);
}

static Layer *from_config(const NnModelText *t, int at, Layer **children, int n, const char *path) {
    const NnLayerText *d = &t->layers[at];
    const LayerVTable *vt = nn_layer_type(d->type);
    if (!vt || !vt->from_config) {
        for (int i = 0; i < n; i++) nn_layer_free(children[i]);
        tensor_set_error("%s: layer \"%s\" has type \"%s\", which is neither built in nor registered "
                         "(nn_register_layer_type)", path, d->name, d->type);
        return NULL;
    }
    Layer *l = vt->from_config(&d->config, children, n); /* takes the children, also on failure */
    if (!l) {
        tensor_set_error("%s: layer \"%s\": %s", path, d->name, tensor_last_error());
        return NULL;
    }
    set_names(l, t, at);
    return l;
}

/* The layer described at `at` and the lines it wraps; *next gets the index after
 * them. NULL with a message naming the layer. */
static Layer *make_layer(const NnModelText *t, int at, int *next, const char *path) {
    Layer *children[MAX_CHILDREN];
    int n = 0, k = at + 1;
    while (k < t->n_layers && t->layers[k].depth > t->layers[at].depth) {
        Layer *c = NULL;
        if (n == MAX_CHILDREN)
            tensor_set_error("%s: layer \"%s\" wraps more than %d layers", path, t->layers[at].name, MAX_CHILDREN);
        else
            c = make_layer(t, k, &k, path);
        if (!c) {
            for (int i = 0; i < n; i++) nn_layer_free(children[i]);
            return NULL;
        }
        children[n++] = c;
    }
    *next = k;
    return from_config(t, at, children, n, path);
}

static int parse_loss(const char *name, const char *path, NnLoss *out) {
    for (int k = 1; k < NN_LOSS_COUNT; k++)
        if (strcmp(name, nn_loss_name((NnLoss)k)) == 0) {
            *out = (NnLoss)k;
            return 0;
        }
    return tensor_set_error("%s: unknown loss \"%s\"", path, name);
}

static int compile_as_saved(Model *m, const NnModelText *t, const char *path) {
    static const char *const known[] = {"loss", "clipnorm", "accuracy", NULL};
    const char *loss = "";
    double clipnorm = 0;
    NnCompileOpts o = {0};
    if (nn_config_only(&t->compile, "compile", known) || nn_config_str(&t->compile, "compile", "loss", &loss) < 0 ||
        nn_config_float(&t->compile, "compile", "clipnorm", &clipnorm) < 0 ||
        nn_config_bool(&t->compile, "compile", "accuracy", &o.accuracy) < 0)
        return tensor_set_error("%s: %s", path, tensor_last_error());
    if (parse_loss(loss, path, &o.loss) != 0) return -1;
    if (!(clipnorm >= 0 && clipnorm < 1e30)) return tensor_set_error("%s: clipnorm %g is out of range", path, clipnorm);
    o.clipnorm = (float)clipnorm;
    o.optimizer = nn_optimizer_from_config(t->optimizer, &t->optimizer_config);
    if (!o.optimizer) return tensor_set_error("%s: %s", path, tensor_last_error());
    if (nn_compile_opts(m, &o) != 0) return tensor_set_error("%s: %s", path, tensor_last_error());
    return 0;
}

/* The model the text describes, built (its values to come from the file) and
 * compiled as saved. */
static Model *model_from_text(const NnModelText *t, const char *path, int64_t file_len) {
    Model *m = nn_sequential();
    for (int k = 0; k < t->n_layers;) {
        if (t->layers[k].depth != 0) {
            tensor_set_error("%s: layer \"%s\" is indented but follows no wrapper", path, t->layers[k].name);
            nn_model_free(m);
            return NULL;
        }
        Layer *l = make_layer(t, k, &k, path);
        if (!l || nn_add(m, l) != 0) {
            if (l) tensor_set_error("%s: %s", path, tensor_last_error());
            nn_model_free(m);
            return NULL;
        }
    }
    /* Deferred: the file's weights replace every initial value, so none is drawn. And
     * the parameters cannot outgrow the file that must hold them, so a hostile
     * architecture asks for no more memory than its file has bytes. */
    if (nn_build_opts(m, t->input, &(NnBuildOpts){.defer_init = true, .max_floats = file_len / 4 + 1}) != 0) {
        tensor_set_error("%s: %s", path, tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    if (t->compiled && compile_as_saved(m, t, path) != 0) {
        nn_model_free(m);
        return NULL;
    }
    return m;
}

Model *nn_load_model(const char *path) { return nn_load_model_opts(path, &(NnLoadModelOpts){0}); }

Model *nn_load_model_opts(const char *path, const NnLoadModelOpts *opts) {
    int64_t file_len = 0;
    char *text = nn__read_architecture(path, &file_len);
    if (!text) return NULL;
    NnModelText *t = tensor_xcalloc(1, sizeof *t);
    int rc = nn__model_text_parse(text, path, t);
    if (opts && opts->input.ndim) t->input = opts->input;
    Model *m = rc == 0 ? model_from_text(t, path, file_len) : NULL;
    free(text);
    free(t);
    if (m && nn_load_weights(m, path) != 0) {
        nn_model_free(m);
        return NULL;
    }
    return m;
}
