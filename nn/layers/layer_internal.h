/* What the built-in layer constructors share beyond the public Layer interface
 * (layer.h). Not part of the public API. */
#ifndef NN_LAYER_INTERNAL_H
#define NN_LAYER_INTERNAL_H

#include "nn/layers/layer.h"

/* An options struct's name replaces the Keras base name `type`; -1 with a message
 * (tensor_last_error) if it is empty or too long. */
int nn__layer_set_name(Layer *layer, const char *type, const char *name);

#endif
