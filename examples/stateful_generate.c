/* Example: a stateful character model trained at batch 128 generates at batch 1 in a
 * program that never built it. Training reads 128 streams of text side by side, each
 * batch continuing the last (the LSTM carries its state between batches); the model
 * goes to one file with nn_save_model. A second process, this program run with
 * `--generate FILE`, rebuilds it from the file alone with nn_load_model_opts for any
 * sequence length, and feeds a prompt one character at a time at batch 1, the state
 * carried from call to call, then continues it greedily. Its probabilities must equal
 * the trained model's on the whole prompt at batch 1 (after nn_model_reset_states).
 * Exits 1 if training does not learn or the two disagree. */
#include <lamina/nn/nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MODEL_FILE "stateful_generate.lamina"
#define ALPHABET " .abcdefghijklmnopqrstuvwxyz" /* id 0 is unused */
#define V 29
#define BATCH 128
#define T 20
#define STEPS_PER_EPOCH 12
#define PROMPT "the cat sat on the m"

static int32_t id_of(char c) { return (int32_t)(strchr(ALPHABET, c) - ALPHABET) + 1; }
static char char_of(int64_t id) { return id >= 1 && id < V ? ALPHABET[id - 1] : '?'; }

/* Sentences of a small grammar: enough structure to learn in a few dozen steps. */
static char *make_text(int64_t n, Rng *rng) {
    static const char *const words[] = {"the cat", "the dog", "a bird", "sat on", "ran to", "the mat", "a tree",
                                        "the sun", "and", "then"};
    char *text = malloc((size_t)n + 32);
    int64_t k = 0;
    while (k < n) {
        const char *w = words[tensor_rng_below(rng, 10)];
        k += snprintf(text + k, (size_t)(n + 32 - k), "%s%s", w, tensor_rng_below(rng, 5) == 0 ? ". " : " ");
    }
    text[n] = '\0';
    return text;
}

static Model *make_model(void) {
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = V, .dim = 16));
    nn_add(m, nn_lstm(.units = 64, .return_sequences = true, .stateful = true));
    nn_add(m, nn_time_distributed(nn_dense(.units = V, .activation = NN_SOFTMAX)));
    if (nn_build(m, NN_SHAPE(TENSOR_I32, T)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = 0.01f)) != 0) {
        fprintf(stderr, "stateful_generate: %s\n", tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* Batch k of stream-parallel windows: row i reads stream i's characters k*T .. k*T+T-1,
 * so row i of batch k+1 continues row i of batch k. */
static void stream_batch(const char *text, int64_t stream_len, int k, Tensor *x, Tensor *y) {
    for (int64_t i = 0; i < BATCH; i++)
        for (int64_t t = 0; t < T; t++) {
            const char *s = text + i * stream_len + (int64_t)k * T + t;
            tensor_i32(x)[i * T + t] = id_of(s[0]);
            tensor_i32(y)[i * T + t] = id_of(s[1]);
        }
}

static int train(Model *m, double *first, double *last) {
    Rng rng;
    tensor_rng_seed(&rng, 7, 1);
    const int64_t stream_len = STEPS_PER_EPOCH * T + 1;
    char *text = make_text(BATCH * stream_len + 1, &rng);
    Tensor *x = tensor_i32_zeros(NULL, 2, (int64_t[]){BATCH, T}), *y = tensor_i32_zeros(NULL, 2, (int64_t[]){BATCH, T});
    int rc = 0;
    for (int epoch = 0; epoch < 12 && rc == 0; epoch++) {
        nn_model_reset_states(m); /* each epoch reads the streams from their start */
        double sum = 0;
        for (int k = 0; k < STEPS_PER_EPOCH && rc == 0; k++) {
            double loss;
            stream_batch(text, stream_len, k, x, y);
            rc = nn_train_on_batch(m, x, y, &loss);
            sum += loss;
        }
        *last = sum / STEPS_PER_EPOCH;
        if (epoch == 0) *first = *last;
        printf("epoch %d: loss %.4f\n", epoch + 1, *last);
    }
    tensor_free(x), tensor_free(y);
    free(text);
    return rc;
}

/* The second program: the file alone, any length, one character at a time. */
static int generate(const char *path) {
    /* readme:begin load_model */
    /* Rebuilt from the file alone, for sequences of any length (it trained on 20). */
    Model *m = nn_load_model_opts(path, &(NnLoadModelOpts){.input = NN_SHAPE(TENSOR_I32, -1)});
    if (!m) return fprintf(stderr, "stateful_generate: %s\n", tensor_last_error()), 1;
    /* readme:end */
    Tensor *x = tensor_i32_zeros(NULL, 2, (int64_t[]){1, 1});
    char text[64] = PROMPT;
    for (int t = 0; t < 60; t++) {
        tensor_i32(x)[0] = id_of(text[t]);
        Tensor *p = nn_predict(m, x, 1);
        if (!p) return fprintf(stderr, "stateful_generate: %s\n", tensor_last_error()), 1;
        if (t < T) /* the prompt's probabilities, for the first program to compare */
            for (int j = 0; j < V; j++) printf("%.9g\n", (double)tensor_f32(p)[j]);
        if (t + 1 >= (int)strlen(PROMPT) && t + 1 < 63) text[t + 1] = char_of(nn_sample_argmax(tensor_f32(p), V));
        tensor_free(p);
    }
    text[60] = '\0';
    printf("%s\n", text);
    tensor_free(x);
    nn_model_free(m);
    return 0;
}

/* Runs this program with --generate and reads what it prints. */
static FILE *run_generator(const char *self, pid_t *pid) {
    int fd[2];
    if (pipe(fd) != 0 || (*pid = fork()) < 0) return NULL;
    if (*pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        execl(self, self, "--generate", MODEL_FILE, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    return fdopen(fd[0], "r");
}

/* The trained model on the whole prompt at batch 1 against the loaded one stepping. */
static int compare(Model *m, FILE *in) {
    nn_model_reset_states(m); /* it carried state for batch 128 */
    Tensor *x = tensor_i32_zeros(NULL, 2, (int64_t[]){1, T});
    for (int t = 0; t < T; t++) tensor_i32(x)[t] = id_of(PROMPT[t]);
    Tensor *p = nn_predict(m, x, 1);
    double worst = 0;
    int bad = p == NULL;
    for (int64_t i = 0; !bad && i < (int64_t)T * V; i++) {
        double q;
        if (fscanf(in, "%lf", &q) != 1) bad = 1;
        else worst = fmax(worst, fabs(q - tensor_f32(p)[i]));
    }
    char line[128] = "";
    if (!bad && (fscanf(in, " %127[^\n]", line) != 1 || strncmp(line, PROMPT, strlen(PROMPT)) != 0)) bad = 1;
    printf("batch 1, one character at a time, in a second program: largest difference %.3g\n", worst);
    printf("it continues the prompt: \"%s\"\n", line);
    tensor_free(p), tensor_free(x);
    return bad || worst > 1e-5;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--generate") == 0) return generate(argv[2]);
    Model *m = make_model();
    double first = 0, last = 0;
    if (!m || train(m, &first, &last) != 0) return fprintf(stderr, "stateful_generate: %s\n", tensor_last_error()), 1;
    if (nn_save_model(m, MODEL_FILE, true) != 0) return fprintf(stderr, "stateful_generate: %s\n", tensor_last_error()), 1;
    pid_t pid;
    FILE *in = run_generator("/proc/self/exe", &pid);
    if (!in) return fprintf(stderr, "stateful_generate: cannot run the generator\n"), 1;
    int bad = compare(m, in);
    fclose(in);
    int status;
    bad |= waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    if (!(last < 0.6 * first)) bad = 1, printf("training did not learn: loss %.4f -> %.4f\n", first, last);
    nn_model_free(m);
    remove(MODEL_FILE);
    printf(bad ? "FAILED\n" : "ok\n");
    return bad;
}
