/* lamina's public API for building and training models: include this one header.
 * It brings in the layers, models, optimizers, text utilities and sampling, plus the
 * tensor and autograd APIs they are built on (for custom layers and ops). */
#ifndef NN_NN_H
#define NN_NN_H

#include "autograd/autograd.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/atomic_file.h"
#include "nn/layer.h"
#include "nn/layers.h"
#include "nn/app.h"
#include "nn/model.h"
#include "nn/npz.h"
#include "nn/optim.h"
#include "nn/plot.h"
#include "nn/sample.h"
#include "nn/text.h"
#include "nn/word2vec.h"
#include "nn/word_text.h"
#include "nn/word_windows.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

#define LAMINA_VERSION "0.1.0"

#endif
