/* Whole-model files (Keras's model.save / load_model): one file holding the
 * architecture (every layer's type, options and name, and the input shape), the
 * compile settings (loss, optimizer and its schedule, clipnorm, accuracy), the
 * weights and optionally the optimizer's state, so a program that never built the
 * model can load it and predict or keep training. The file is lamina's weights format
 * (docs/weights-format.md) in version 3 with the architecture as a text section, so
 * nn_load_weights also reads one into a model built in code. */
#ifndef NN_IO_MODEL_FILE_H
#define NN_IO_MODEL_FILE_H

#include <lamina/nn/model/model.h>

#include <stdbool.h>

/* Saves a built Sequential model, atomically (as nn_save_weights), with the
 * optimizer's state when with_optimizer and the model is compiled (Keras's
 * include_optimizer). Returns 0, or -1 with tensor_last_error() set: a custom model
 * (its forward is code, not configuration), or a layer whose type has no
 * get_config. */
int nn_save_model(const Model *m, const char *path, bool with_optimizer);

/* Rebuilds the model a file describes: its layers (each type built in or
 * registered with nn_register_layer_type), built for the saved input shape, compiled
 * as it was when it was saved compiled, with its weights and (if saved) its
 * optimizer state and step count. NULL with tensor_last_error() naming the file and
 * what is wrong: not a lamina file, a plain weights file (no architecture), an
 * unknown layer type or option, or any damage the weights loader refuses. */
Model *nn_load_model(const char *path);

typedef struct NnLoadModelOpts {
    /* Build for this per-sample input shape instead of the saved one (ndim 0: as
     * saved), e.g. NN_SHAPE(TENSOR_I32, -1) to step a model trained on windows of 40
     * one token at a time. The weights must still fit it. The batch size is never
     * part of a shape, so a model trained at batch 128 (stateful or not) predicts
     * at batch 1 as loaded. */
    NnShape input;
} NnLoadModelOpts;
/* nn_load_model with options. */
Model *nn_load_model_opts(const char *path, const NnLoadModelOpts *opts);

/* The architecture and compile text nn_save_model stores (malloc'd; free it), e.g.
 * to show or compare models; NULL with a message for a model it cannot describe. */
char *nn_model_to_text(const Model *m);

#endif
