/* Adam's per-lookup rule on a model: when the optimizer asks for it
 * (NnAdamOpts.embedding_rows), compile has the tape sum, for each Embedding layer's
 * table, the squares of every lookup's gradient row into a buffer of the model's, and
 * each step hands those sums to the optimizer as spans of the flat buffers. */
#include "nn/model/model_internal.h"

#include "tensor/optim_kernels_internal.h"

#include <stdlib.h>

void nn__model_forget_lookups(Model *m) {
    for (int i = 0; i < m->n_lookup_tables; i++) ag_tape_track_lookup_squares(m->tape, m->lookup_tables[i], NULL);
    free(m->lookup_tables);
    free(m->lookups);
    tensor_aligned_free(m->square_buf);
    m->lookup_tables = NULL;
    m->lookups = NULL;
    m->square_buf = NULL;
    m->n_lookup_tables = 0;
}

/* Appends the tables of the Embedding layers in layer (and its children), in the order
 * the flat buffers hold them. */
static void collect_tables(Model *m, Layer *layer) {
    if (layer->vt == &nn__embedding_vt && layer->n_params > 0) {
        size_t n = (size_t)m->n_lookup_tables + 1;
        m->lookup_tables = tensor_xrealloc(m->lookup_tables, n * sizeof *m->lookup_tables);
        m->lookup_tables[m->n_lookup_tables++] = layer->params[0];
    }
    for (int i = 0; i < layer->n_children; i++) collect_tables(m, layer->children[i]);
}

static int by_offset(const void *a, const void *b) {
    const NnLookupSquares *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

void nn__model_track_lookups(Model *m) {
    nn__model_forget_lookups(m);
    if (!m->param_buf || nn_optimizer_embedding_rows(m->optimizer) != NN_ADAM_ROWS_PER_LOOKUP) return;
    for (int i = 0; i < m->n_layers; i++) collect_tables(m, m->layers[i]);
    if (m->n_lookup_tables == 0) return;
    int64_t total = 0;
    for (int i = 0; i < m->n_lookup_tables; i++) total += m->lookup_tables[i]->size;
    m->square_buf = tensor_aligned_alloc((size_t)total * sizeof(float));
    m->n_square_floats = total;
    tensor_zero_floats(m->square_buf, total);
    m->lookups = tensor_xcalloc((size_t)m->n_lookup_tables, sizeof *m->lookups);
    int64_t at = 0;
    for (int i = 0; i < m->n_lookup_tables; i++) {
        const Tensor *t = m->lookup_tables[i];
        float *sq = m->square_buf + at;
        m->lookups[i] = (NnLookupSquares){.offset = (float *)t->data - m->param_buf, .n = t->size, .sq = sq};
        ag_tape_track_lookup_squares(m->tape, t, sq);
        at += t->size;
    }
    qsort(m->lookups, (size_t)m->n_lookup_tables, sizeof *m->lookups, by_offset);
}

void nn__model_zero_lookups(Model *m) {
    if (m->square_buf) tensor_zero_floats(m->square_buf, m->n_square_floats);
}
