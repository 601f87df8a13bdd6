/* A layer's configuration, Keras's get_config/from_config: the constructor options
 * that rebuild a layer, as named values. Whole-model files (nn/io/model_file.h) store
 * one per layer, and a program that never built the model rebuilds it from them.
 *
 * A layer type takes part by filling LayerVTable.get_config and .from_config; the
 * built-in layers do, and a user's own type becomes loadable after
 * nn_register_layer_type(&its_vtable). */
#ifndef NN_LAYERS_CONFIG_H
#define NN_LAYERS_CONFIG_H

#include <lamina/nn/layers/layer.h>

#include <stdbool.h>
#include <stdint.h>

#define NN_CONFIG_MAX 32       /* entries per layer */
#define NN_CONFIG_KEY_MAX 32   /* bytes of a key, with its terminating NUL */
#define NN_CONFIG_VALUE_MAX 96 /* bytes of a value as text, with its terminating NUL */

/* Named values, kept as text in the order they were set. Keys are [a-z0-9_]. */
typedef struct NnConfig {
    int n;
    char key[NN_CONFIG_MAX][NN_CONFIG_KEY_MAX];
    char value[NN_CONFIG_MAX][NN_CONFIG_VALUE_MAX];
} NnConfig;

/* Setting: a key set twice keeps the last value. Stops with a message for a key that
 * is not [a-z0-9_]+ or too long, or when the config is full (programming errors). */
void nn_config_set_int(NnConfig *c, const char *key, int64_t value);
void nn_config_set_float(NnConfig *c, const char *key, double value); /* round-trips a double */
/* The shortest text that reads back (strtod, then rounded to float) as this float:
 * 0.001f is written "0.001", not "0.0010000000474974513". */
void nn_config_set_float32(NnConfig *c, const char *key, float value);
void nn_config_set_bool(NnConfig *c, const char *key, bool value);
/* Any bytes but NUL, up to NN_CONFIG_VALUE_MAX - 1 of them (stops beyond). */
void nn_config_set_str(NnConfig *c, const char *key, const char *value);

/* Reading: 0 with *value set when the key is present and well-formed, 1 when it is
 * absent (*value left as it was: the caller's default), -1 with tensor_last_error()
 * naming the key and the value when it is malformed. `what` names the layer in the
 * message (e.g. "Dense \"dense\""). */
int nn_config_int(const NnConfig *c, const char *what, const char *key, int64_t *value);
int nn_config_float(const NnConfig *c, const char *what, const char *key, double *value);
int nn_config_bool(const NnConfig *c, const char *what, const char *key, bool *value);
/* *value points into c. */
int nn_config_str(const NnConfig *c, const char *what, const char *key, const char **value);
/* -1 with a message naming the first key not in the NULL-terminated list `known`
 * (a misspelt or newer option must not be dropped silently), else 0. */
int nn_config_only(const NnConfig *c, const char *what, const char *const *known);

/* For a layer type that wraps no other: 0 when n is 0, else frees the n children
 * (from_config owns them) and returns -1 with a message naming type. */
int nn_config_no_children(const char *type, Layer **children, int n);

/* Activation names as Keras writes them: "linear", "relu", "tanh", "sigmoid",
 * "softmax"; _parse returns -1 with a message for any other. */
const char *nn_activation_name(NnActivation a);
int nn_activation_parse(const char *name, const char *what, NnActivation *out);

/* Makes a layer type loadable from model files: vt must stay valid for the
 * program's life and fill get_config and from_config. Returns 0, or -1 with a
 * message when those are missing, its type is taken by another vtable, or 64 types
 * are registered. Registering the same vtable again is a no-op. */
int nn_register_layer_type(const LayerVTable *vt);
/* The vtable registered (or built in) for a Keras class name, or NULL. */
const LayerVTable *nn_layer_type(const char *type);

#endif
