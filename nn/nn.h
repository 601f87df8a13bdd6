/* lamina's public API for building and training models: include this one header,
 * #include <lamina/nn/nn.h>. It brings in the layers, models, optimizers, metrics, the
 * progress bar, file formats, text utilities, sampling and word2vec, plus the tensor and
 * autograd APIs they are built on (for custom layers and ops). The list of public
 * headers is cmake/public-headers.txt; nothing else is installed. */
#ifndef NN_NN_H
#define NN_NN_H

#include <lamina/autograd/autograd.h>
#include <lamina/autograd/gradcheck.h>
#include <lamina/autograd/ops.h>
#include <lamina/nn/io/model_file.h>
#include <lamina/nn/io/npz.h>
#include <lamina/nn/io/plot.h>
#include <lamina/nn/io/vectors_io.h>
#include <lamina/nn/layers/layer.h>
#include <lamina/nn/layers/layers.h>
#include <lamina/nn/layers/config.h>
#include <lamina/nn/model/beam.h>
#include <lamina/nn/model/metrics.h>
#include <lamina/nn/model/callbacks.h>
#include <lamina/nn/model/model.h>
#include <lamina/nn/model/optim.h>
#include <lamina/nn/model/progress.h>
#include <lamina/nn/model/sample.h>
#include <lamina/nn/text/text.h>
#include <lamina/nn/text/word_text.h>
#include <lamina/nn/text/word_windows.h>
#include <lamina/nn/word2vec/word2vec.h>
#include <lamina/nn/word2vec/word_eval.h>
#include <lamina/nn/word2vec/keyed_vectors.h>
#include <lamina/tensor/gemm.h>
#include <lamina/tensor/rng.h>
#include <lamina/tensor/system.h>
#include <lamina/tensor/tensor.h>

#define LAMINA_VERSION "0.1.0"

#endif
