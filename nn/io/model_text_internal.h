/* The architecture text of whole-model files (model_text.c), parsed into plain
 * descriptions that model_file.c turns into layers. Not part of the public API. */
#ifndef NN_IO_MODEL_TEXT_INTERNAL_H
#define NN_IO_MODEL_TEXT_INTERNAL_H

#include "nn/io/bytes_internal.h"
#include "nn/io/model_file.h"
#include "nn/layers/config.h"

#define NN_MODEL_TEXT_MAX_LAYERS 1024 /* counting wrapped ones */
#define NN_MODEL_TEXT_MAX_DEPTH 8     /* wrappers in wrappers */

/* One layer line: its wrapped layers are the lines after it with depth + 1. */
typedef struct NnLayerText {
    int depth;
    char type[64];
    char name[64];
    NnConfig config;
} NnLayerText;

typedef struct NnModelText {
    bool has_input;
    NnShape input;
    int n_layers;
    NnLayerText layers[NN_MODEL_TEXT_MAX_LAYERS];
    bool compiled;
    NnConfig compile;          /* loss, clipnorm, accuracy */
    char optimizer[32];        /* "Adam", "SGD" */
    NnConfig optimizer_config;
} NnModelText;

/* Parses text (as nn_model_to_text writes it) into *out. -1 with a message naming
 * path and the line for anything malformed; nothing is checked against the layer
 * types here (model_file.c does that while building). */
int nn__model_text_parse(const char *text, const char *path, NnModelText *out);

#endif
