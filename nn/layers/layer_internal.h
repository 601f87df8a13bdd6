/* What the built-in layer constructors share beyond the public Layer interface
 * (layer.h). Not part of the public API. */
#ifndef NN_LAYER_INTERNAL_H
#define NN_LAYER_INTERNAL_H

#include "nn/layers/layer.h"

/* An options struct's name replaces the Keras base name `type`; -1 with a message
 * (tensor_last_error) if it is empty or too long. */
int nn__layer_set_name(Layer *layer, const char *type, const char *name);

/* The built-in layers' vtables, which the registry of layer types (config.c) lists. */
extern const LayerVTable nn__dense_vt, nn__embedding_vt, nn__dropout_vt, nn__lstm_vt, nn__gru_vt,
    nn__simple_rnn_vt, nn__time_distributed_vt, nn__bidirectional_vt, nn__masking_vt;

/* While max_floats >= 0, nn_layer_param refuses (and nn_layer_build reports) a
 * parameter that would take the floats created on this thread past max_floats, so a
 * model described by an untrusted file allocates no more than that file can hold;
 * -1 lifts the limit. */
void nn__param_budget(int64_t max_floats);

/* ---- initialisers (init.c) ---- */

/* A random initialisation not drawn yet: drawing init into param from rng gives the
 * values building would have given it. */
typedef struct NnPendingInit {
    Tensor *param;
    NnInit init;
    Rng rng;
} NnPendingInit;
typedef struct NnPendingInits {
    NnPendingInit *items;
    int n;
} NnPendingInits;

/* Initialises a new parameter (its data zeroed) with init from rng; stops with a
 * message naming it if init cannot apply to its shape. While a sink is set, a random
 * initialisation is recorded there instead and rng moved past the draws it takes, so
 * the generator ends where drawing would have left it. */
void nn__init_param(Tensor *t, NnInit init, Rng *rng);
/* Sets (or with NULL clears) this thread's sink for nn__init_param. */
void nn__init_defer(NnPendingInits *sink);
/* Draws every pending initialisation into its parameter (wherever its data lives
 * now), then empties the list. */
void nn__init_draw_pending(NnPendingInits *pending);
/* Empties the list without drawing (the parameters were given other values). */
void nn__init_forget_pending(NnPendingInits *pending);

#endif
