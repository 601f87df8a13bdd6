/* Layer configurations (named values kept as text) and the registry of layer types
 * a model file can name. */
#include "nn/layers/config.h"
#include "nn/layers/layer_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool key_ok(const char *key) {
    size_t n = strlen(key);
    if (n == 0 || n >= NN_CONFIG_KEY_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') || key[i] == '_')) return false;
    return true;
}

static int find(const NnConfig *c, const char *key) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->key[i], key) == 0) return i;
    return -1;
}

void nn_config_set_str(NnConfig *c, const char *key, const char *value) {
    TENSOR_CHECK(key_ok(key), "config: key \"%s\" must be 1..%d of [a-z0-9_]", key, NN_CONFIG_KEY_MAX - 1);
    TENSOR_CHECK(strlen(value) < NN_CONFIG_VALUE_MAX, "config: the value of %s is longer than %d bytes", key,
                 NN_CONFIG_VALUE_MAX - 1);
    int i = find(c, key);
    if (i < 0) {
        TENSOR_CHECK(c->n < NN_CONFIG_MAX, "config: more than %d entries (at %s)", NN_CONFIG_MAX, key);
        i = c->n++;
        snprintf(c->key[i], NN_CONFIG_KEY_MAX, "%s", key);
    }
    snprintf(c->value[i], NN_CONFIG_VALUE_MAX, "%s", value);
}

void nn_config_set_int(NnConfig *c, const char *key, int64_t value) {
    char s[32];
    snprintf(s, sizeof s, "%" PRId64, value);
    nn_config_set_str(c, key, s);
}

void nn_config_set_float(NnConfig *c, const char *key, double value) {
    char s[40];
    snprintf(s, sizeof s, "%.17g", value);
    nn_config_set_str(c, key, s);
}

void nn_config_set_float32(NnConfig *c, const char *key, float value) {
    char s[40];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(s, sizeof s, "%.*g", digits, (double)value);
        if ((float)strtod(s, NULL) == value) break; /* 9 digits always round-trip a float */
    }
    nn_config_set_str(c, key, s);
}

void nn_config_set_bool(NnConfig *c, const char *key, bool value) { nn_config_set_str(c, key, value ? "true" : "false"); }

int nn_config_str(const NnConfig *c, const char *what, const char *key, const char **value) {
    (void)what;
    int i = find(c, key);
    if (i < 0) return 1;
    *value = c->value[i];
    return 0;
}

int nn_config_int(const NnConfig *c, const char *what, const char *key, int64_t *value) {
    const char *s;
    if (nn_config_str(c, what, key, &s) != 0) return 1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!s[0] || *end || errno == ERANGE)
        return tensor_set_error("%s: %s must be an integer, got \"%s\"", what, key, s);
    *value = (int64_t)v;
    return 0;
}

int nn_config_float(const NnConfig *c, const char *what, const char *key, double *value) {
    const char *s;
    if (nn_config_str(c, what, key, &s) != 0) return 1;
    char *end;
    double v = strtod(s, &end);
    if (!s[0] || *end || !isfinite(v)) return tensor_set_error("%s: %s must be a finite number, got \"%s\"", what, key, s);
    *value = v;
    return 0;
}

int nn_config_bool(const NnConfig *c, const char *what, const char *key, bool *value) {
    const char *s;
    if (nn_config_str(c, what, key, &s) != 0) return 1;
    if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
        return tensor_set_error("%s: %s must be true or false, got \"%s\"", what, key, s);
    *value = s[0] == 't';
    return 0;
}

int nn_config_only(const NnConfig *c, const char *what, const char *const *known) {
    for (int i = 0; i < c->n; i++) {
        bool found = false;
        for (int k = 0; known[k] && !found; k++) found = strcmp(c->key[i], known[k]) == 0;
        if (!found) return tensor_set_error("%s: unknown option %s=\"%s\"", what, c->key[i], c->value[i]);
    }
    return 0;
}

int nn_config_no_children(const char *type, Layer **children, int n) {
    if (n == 0) return 0;
    for (int i = 0; i < n; i++) nn_layer_free(children[i]);
    return tensor_set_error("%s: wraps no layer, but %d %s indented under it", type, n, n == 1 ? "is" : "are");
}

static const char *const ACTIVATION_NAMES[NN_ACTIVATION_COUNT] = {"linear", "relu", "tanh", "sigmoid", "softmax"};

const char *nn_activation_name(NnActivation a) {
    return (unsigned)a < NN_ACTIVATION_COUNT ? ACTIVATION_NAMES[a] : "?";
}

int nn_activation_parse(const char *name, const char *what, NnActivation *out) {
    for (int a = 0; a < NN_ACTIVATION_COUNT; a++)
        if (strcmp(name, ACTIVATION_NAMES[a]) == 0) {
            *out = (NnActivation)a;
            return 0;
        }
    return tensor_set_error("%s: unknown activation \"%s\" (linear, relu, tanh, sigmoid or softmax)", what, name);
}

/* ---- the registry: the built-in types, then the user's ---- */

#define MAX_USER_TYPES 64
static const LayerVTable *user_types[MAX_USER_TYPES];
static int n_user_types;

static const LayerVTable *const *builtin_types(void) {
    static const LayerVTable *const types[] = {&nn__dense_vt,          &nn__embedding_vt, &nn__dropout_vt,
                                               &nn__lstm_vt,           &nn__gru_vt,       &nn__simple_rnn_vt,
                                               &nn__time_distributed_vt, &nn__bidirectional_vt,
                                               &nn__masking_vt,        NULL};
    return types;
}

const LayerVTable *nn_layer_type(const char *type) {
    for (const LayerVTable *const *t = builtin_types(); *t; t++)
        if (strcmp((*t)->type, type) == 0) return *t;
    for (int i = 0; i < n_user_types; i++)
        if (strcmp(user_types[i]->type, type) == 0) return user_types[i];
    return NULL;
}

int nn_register_layer_type(const LayerVTable *vt) {
    if (!vt || !vt->type || !vt->type[0] || !vt->get_config || !vt->from_config)
        return tensor_set_error("nn_register_layer_type: the vtable needs a type, get_config and from_config");
    const LayerVTable *known = nn_layer_type(vt->type);
    if (known == vt) return 0;
    if (known) return tensor_set_error("nn_register_layer_type: type \"%s\" is already registered", vt->type);
    if (n_user_types == MAX_USER_TYPES)
        return tensor_set_error("nn_register_layer_type: more than %d layer types", MAX_USER_TYPES);
    user_types[n_user_types++] = vt;
    return 0;
}
