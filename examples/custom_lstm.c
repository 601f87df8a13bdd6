/* Example: a custom model on the lower-level path, carrying LSTM state. A character
 * model learns "hello world " repeated, by truncated backpropagation through time: the
 * LSTM's final state after one chunk of text is the initial state of the next
 * (nn_rnn_call). It then writes text one character at a time, carrying the state.
 * Exits 1 unless the continuation is the text itself. */
#include <lamina/nn/nn.h>

#include <stdio.h>
#include <string.h>

#define TEXT "hello world "
#define ALPHABET " dehlorw" /* the characters of TEXT: ids 0..7 */
#define V 8                 /* vocabulary */
#define B 8                 /* streams per batch */
#define T 8                 /* characters per chunk */
#define CHUNKS 4            /* chunks per stream, then new streams from a zero state */

static int32_t char_id(char ch) { return (int32_t)(strchr(ALPHABET, ch) - ALPHABET); }

/* One training step's data, and the state carried in and out. */
typedef struct Chunk {
    Tensor *x, *y;          /* (B, T) int32: characters, and the character after each */
    Tensor *h, *c;          /* (B, H) state at the start of the chunk (heap), or NULL: zeros */
    Tensor *next_h, *next_c; /* written by the loss: the state at the end (heap) */
} Chunk;

/* readme:begin loss */
/* The forward of a custom model: layers 0, 1, 2 are Embedding, LSTM and Dense. */
static Tensor *chunk_loss(Model *m, Tape *tape, void *batch, void *user) {
    (void)user;
    Chunk *b = batch;
    NnCallCtx ctx = {.training = true, .logits = true};        /* Dense skips its softmax */
    Tensor *e = nn_layer_call(nn_model_layer(m, 0), tape, b->x, &ctx);          /* (B, T, 16) */
    NnRnnState initial = {.h = b->h, .c = b->c}, final;
    Tensor *seq = nn_rnn_call(nn_model_layer(m, 1), tape, e, &initial, &final, &ctx); /* (B, T, H) */
    Tensor *logits = nn_layer_call(nn_model_layer(m, 2), tape, seq, &ctx);      /* (B, T, V) */
    /* The final state lives in the step's arena, which the step resets: copy it out. */
    b->next_h = tensor_copy(NULL, final.h);
    b->next_c = tensor_copy(NULL, final.c);
    return ag_sparse_cross_entropy(tape, logits, b->y, AG_NO_IGNORE_INDEX);
}
/* readme:end */

/* Fills chunk k of the streams: stream s starts `start + 5 s` characters into TEXT. */
static void fill_chunk(Chunk *b, int start, int k) {
    int32_t *x = tensor_i32(b->x), *y = tensor_i32(b->y);
    for (int s = 0; s < B; s++)
        for (int t = 0; t < T; t++) {
            int pos = start + 5 * s + k * T + t;
            x[s * T + t] = char_id(TEXT[pos % 12]);
            y[s * T + t] = char_id(TEXT[(pos + 1) % 12]);
        }
}

/* Feeds prime, then writes n characters greedily, one step per character. */
static void generate(Model *m, const char *prime, int n, char *out) {
    Layer *embed = nn_model_layer(m, 0), *lstm = nn_model_layer(m, 1), *head = nn_model_layer(m, 2);
    Tape *tape = nn_model_tape(m);
    ag_set_grad_enabled(tape, false);
    /* readme:begin generate */
    NnCallCtx ctx = {.training = false};
    Tensor *h = NULL, *c = NULL; /* the carried state, on the heap between steps */
    int n_prime = (int)strlen(prime);
    int32_t id = char_id(prime[0]);
    for (int i = 1; i < n_prime + n; i++) {
        /* One character in, the distribution of the next one out: O(1) per character. */
        Tensor *x = tensor_i32_from_array(ag_tape_arena(tape), TENSOR_SHAPE(1, 1), &id);
        NnRnnState initial = {.h = h, .c = c}, final;
        Tensor *e = nn_layer_call(embed, tape, x, &ctx);
        Tensor *p = nn_layer_call(head, tape, nn_rnn_call(lstm, tape, e, &initial, &final, &ctx), &ctx);
        tensor_free(h);
        tensor_free(c);
        h = tensor_copy(NULL, final.h); /* the state outlives the step's arena */
        c = tensor_copy(NULL, final.c);
        if (i < n_prime) {
            id = char_id(prime[i]); /* still reading the prime */
        } else {
            id = (int32_t)nn_sample_argmax(tensor_f32(p), V); /* p: (1, 1, V) probabilities */
            *out++ = ALPHABET[id];
        }
        ag_tape_reset(tape); /* frees x, e, p and final: all in the arena */
    }
    /* readme:end */
    *out = '\0';
    tensor_free(h);
    tensor_free(c);
    ag_set_grad_enabled(tape, true);
}

int main(void) {
    Rng rng;
    tensor_rng_seed(&rng, 42, 0);
    Model *m = nn_custom_model();
    Layer *embed = nn_embedding(.vocab = V, .dim = 16);
    Layer *lstm = nn_lstm(.units = 32, .return_sequences = true);
    Layer *head = nn_dense(.units = V, .activation = NN_SOFTMAX);
    /* -1: any number of time steps (T while training, 1 while generating). */
    if (nn_layer_build(embed, NN_SHAPE(TENSOR_I32, -1), &rng) != 0 ||
        nn_layer_build(lstm, NN_SHAPE(TENSOR_F32, -1, 16), &rng) != 0 ||
        nn_layer_build(head, NN_SHAPE(TENSOR_F32, -1, 32), &rng) != 0 || !nn_track(m, embed) ||
        !nn_track(m, lstm) || !nn_track(m, head) || nn_compile(m, .optimizer = nn_adam(.lr = 0.02f)) != 0) {
        fprintf(stderr, "custom_lstm: %s\n", tensor_last_error());
        return 1;
    }
    nn_summary(m, stdout);

    Chunk b = {.x = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T)), .y = tensor_i32_zeros(NULL, TENSOR_SHAPE(B, T))};
    double loss = 0, stream_loss = 0; /* mean over the chunks of the current streams */
    int status = 0;
    for (int step = 0; step < 400 && status == 0; step++) {
        int k = step % CHUNKS;
        if (k == 0) { /* new streams, starting from a zero state */
            tensor_free(b.h);
            tensor_free(b.c);
            b.h = b.c = NULL;
        }
        fill_chunk(&b, 7 * (step / CHUNKS), k);
        status = nn_custom_step(m, chunk_loss, &b, NULL, &loss);
        /* The state this chunk ended in is where the next one starts. */
        tensor_free(b.h);
        tensor_free(b.c);
        b.h = b.next_h;
        b.c = b.next_c;
        stream_loss = (k == 0 ? 0 : stream_loss) + loss / CHUNKS;
        if (k == CHUNKS - 1 && (step + 1) % 100 == 0) printf("step %3d: loss %.4f\n", step + 1, stream_loss);
    }
    if (status != 0) fprintf(stderr, "custom_lstm: %s\n", tensor_last_error());

    char text[64];
    generate(m, "hello w", 24, text);
    printf("hello w|%s\n", text);
    const char *expected = "orld hello world hello w";
    if (status == 0 && strcmp(text, expected) != 0) {
        fprintf(stderr, "custom_lstm: generated \"%s\", expected \"%s\"\n", text, expected);
        status = 1;
    }
    if (status == 0 && stream_loss > 0.05) {
        fprintf(stderr, "custom_lstm: final loss %.4f is above 0.05\n", stream_loss);
        status = 1;
    }
    tensor_free(b.x);
    tensor_free(b.y);
    tensor_free(b.h);
    tensor_free(b.c);
    nn_model_free(m);
    return status ? 1 : 0;
}
