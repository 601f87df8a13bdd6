/* Example: which book a sentence comes from, a many-to-one task on real text of many
 * lengths. The sonnets, The Adventures of Sherlock Holmes and Tiny Shakespeare are
 * split into sentences of 3 to 40 words, as many from each book, shuffled and split
 * into training and held-out sets; a Keras-like Tokenizer fitted on the training
 * sentences alone turns them into word ids, post-padded with nn_pad_sequences. The
 * model is Embedding(mask_zero) -> Bidirectional(LSTM) -> Dense(3, softmax).
 *
 * The same model is then trained without the mask, padding read as data, and both are
 * asked about the held-out sentences again with 40 more padded steps after each, and
 * with no padding at all. The masked model's probabilities must not change by a
 * single bit; the unmasked one's change, and so do some of its answers. Exits 1
 * unless that holds and the masked model beats the majority class by 0.25; 77 (a skip
 * to ctest) when the corpora are absent.
 *
 *   which_book [DATA_DIR]
 * DATA_DIR, else $DATA_DIR, else data/ and then ../shared/data of the source tree
 * ($LAMINA_SOURCE_DIR, which ctest sets; else the current directory). */
#include <lamina/nn/nn.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BOOKS 3
#define MIN_WORDS 3
#define MAX_WORDS 40           /* every row is padded to this many steps */
#define EXTRA_PADDING 40       /* the padding-invariance check adds this many steps */
#define PER_BOOK_CAP 1500      /* sentences taken from each book, at most */
#define TEST_SHARE 0.2         /* of the sentences, held out */
#define VOCAB_WORDS 5000       /* Tokenizer num_words: ids 0 (padding), 1 (OOV), 2..4999 */
#define EPOCHS 6
#define LEARNING_RATE 0.002f
#define SEED 7
/* What the example asserts. Over ten seeds (the same on 1 and 2 threads) the masked
 * model beat the majority class by 0.38 to 0.43; the extra padding moved a probability
 * of the unmasked one by 0.149 to 0.728, and unpadded sentences changed 6.3% to 19%
 * of its answers. Its accuracy is no worse: on post-padded input the backward half of
 * a Bidirectional reads the padding first and the sentence last. */
#define MIN_GAIN_OVER_MAJORITY 0.25
#define MIN_UNMASKED_CHANGE 0.01      /* of a probability, from the extra padding */
#define MIN_UNMASKED_CHANGED 0.02     /* share of answers changed without padding */
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const BOOK_FILES[N_BOOKS] = {"sonnets.txt", "sherlock.txt", "tinyshakespeare.txt"};
static const char *const BOOK_NAMES[N_BOOKS] = {"sonnets", "sherlock", "shakespeare"};

/* Sentences, each a normalized heap string, with the book it came from. */
typedef struct {
    char **text;
    int *book;
    int64_t n, cap;
} Sentences;

static void sentences_push(Sentences *s, char *text, int book) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->text = realloc(s->text, (size_t)s->cap * sizeof *s->text);
        s->book = realloc(s->book, (size_t)s->cap * sizeof *s->book);
        if (!s->text || !s->book) {
            fprintf(stderr, "which_book: out of memory\n");
            exit(1);
        }
    }
    s->text[s->n] = text;
    s->book[s->n++] = book;
}

static void sentences_free(Sentences *s) {
    for (int64_t i = 0; i < s->n; i++) free(s->text[i]);
    free(s->text);
    free(s->book);
}

/* ---- finding the corpora ---- */

/* dir/BOOK_FILES[book] as a heap string (free with free()). */
static char *book_path(const char *dir, int book) {
    size_t n = strlen(dir) + strlen(BOOK_FILES[book]) + 2;
    char *path = malloc(n);
    if (!path) {
        fprintf(stderr, "which_book: out of memory\n");
        exit(1);
    }
    snprintf(path, n, "%s/%s", dir, BOOK_FILES[book]);
    return path;
}

static bool has_books(const char *dir) {
    for (int b = 0; b < N_BOOKS; b++) {
        char *path = book_path(dir, b);
        FILE *f = fopen(path, "rb");
        free(path);
        if (!f) return false;
        fclose(f);
    }
    return true;
}

/* The data directory holding all three books, written to dir; false if none does. */
static bool find_data_dir(const char *asked, char *dir, size_t cap) {
    if (asked) return snprintf(dir, cap, "%s", asked), has_books(dir);
    const char *env = getenv("DATA_DIR");
    if (env && *env) return snprintf(dir, cap, "%s", env), has_books(dir);
    const char *src = getenv("LAMINA_SOURCE_DIR");
    if (!src || !*src) src = ".";
    /* The repository's data/ (scripts/get-data.sh fills it), else the shared copy beside it. */
    const char *const under_source[] = {"data", "../shared/data"};
    for (int i = 0; i < 2; i++) {
        snprintf(dir, cap, "%s/%s", src, under_source[i]);
        if (has_books(dir)) return true;
    }
    snprintf(dir, cap, "%s/data", src);
    return false;
}

/* ---- sentences ---- */

/* Words as the tokenizer will see them: runs of non-whitespace. */
static int64_t word_count(const char *s) {
    int64_t n = 0;
    for (bool in_word = false; *s; s++) {
        bool space = isspace((unsigned char)*s);
        if (!space && !in_word) n++;
        in_word = !space;
    }
    return n;
}

/* Where a sentence ends. The colon and semicolon count too: the play's speaker
 * headings ("First Citizen:") would otherwise open the next sentence and give the
 * book away by its characters' names. */
static bool ends_sentence(char c) {
    return c == '.' || c == '!' || c == '?' || c == ':' || c == ';';
}

/* Whether a blank line starts at text[i] (a newline, then only spaces to the next). */
static bool blank_line_at(const char *text, int64_t len, int64_t i) {
    if (text[i] != '\n') return false;
    for (int64_t j = i + 1; j < len; j++) {
        if (text[j] == '\n') return true;
        if (!isspace((unsigned char)text[j])) return false;
    }
    return true;
}

/* Appends the sentences of text[start, end) of MIN_WORDS..MAX_WORDS words, normalized
 * as the word pipeline does (punctuation to spaces, curly apostrophes to '\'', so the
 * books' typography gives nothing away). */
static void add_sentence(Sentences *out, const char *text, int64_t start, int64_t end, int book) {
    int64_t n;
    char *norm = nn_word_text_normalize(text + start, end - start, &n);
    int64_t words = word_count(norm);
    if (words >= MIN_WORDS && words <= MAX_WORDS) sentences_push(out, norm, book);
    else free(norm);
}

/* Splits a book on . ! ? : ; and blank lines. */
static void split_sentences(const char *text, int64_t len, int book, Sentences *out) {
    int64_t start = 0;
    for (int64_t i = 0; i < len; i++) {
        if (ends_sentence(text[i]) || blank_line_at(text, len, i)) {
            add_sentence(out, text, start, i, book);
            start = i + 1;
        }
    }
    add_sentence(out, text, start, len, book);
}

/* ---- the data set ---- */

static void shuffle(int64_t *idx, int64_t n, Rng *rng) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)tensor_rng_below(rng, (uint32_t)(i + 1));
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* Reads the books and keeps the same number of sentences from each (the smallest
 * book's count, at most PER_BOOK_CAP), in shuffled order. Returns -1 on a read error. */
static int load_balanced(const char *dir, Rng *rng, Sentences *out) {
    Sentences all = {0};
    int64_t per_book[N_BOOKS] = {0}, take = PER_BOOK_CAP;
    for (int b = 0; b < N_BOOKS; b++) {
        char *path = book_path(dir, b);
        int64_t len;
        char *text = nn_read_file(path, &len);
        free(path);
        if (!text) {
            fprintf(stderr, "which_book: %s\n", tensor_last_error());
            sentences_free(&all);
            return -1;
        }
        int64_t before = all.n;
        split_sentences(text, len, b, &all);
        free(text);
        per_book[b] = all.n - before;
        printf("%-12s %6lld sentences of %d..%d words\n", BOOK_NAMES[b], (long long)per_book[b], MIN_WORDS,
               MAX_WORDS);
        if (per_book[b] < take) take = per_book[b];
    }
    int64_t *idx = malloc((size_t)all.n * sizeof *idx), kept = 0, taken[N_BOOKS] = {0};
    for (int64_t i = 0; i < all.n; i++) idx[i] = i;
    shuffle(idx, all.n, rng); /* a random `take` of each book... */
    for (int64_t k = 0; k < all.n; k++)
        if (taken[all.book[idx[k]]]++ < take) idx[kept++] = idx[k];
    shuffle(idx, kept, rng); /* ...and the books mixed, the smallest one's not all at the end */
    for (int64_t k = 0; k < kept; k++) {
        sentences_push(out, all.text[idx[k]], all.book[idx[k]]);
        all.text[idx[k]] = NULL; /* now out's */
    }
    free(idx);
    sentences_free(&all);
    return 0;
}

/* Word ids of sentences [from, to) post-padded to maxlen steps, and their books. */
static void encode(const NnTokenizer *tok, const Sentences *s, int64_t from, int64_t to, int64_t maxlen,
                   Tensor **x, Tensor **y) {
    int64_t n = to - from;
    int32_t **ids = malloc((size_t)n * sizeof *ids);
    int64_t *lens = malloc((size_t)n * sizeof *lens);
    *y = tensor_i32_zeros(NULL, 1, (int64_t[]){n});
    /* readme:begin which_book_pad */
    for (int64_t i = 0; i < n; i++) { /* a word id list per sentence: Keras's texts_to_sequences */
        const char *text = s->text[from + i];
        ids[i] = nn_tokenizer_encode(tok, text, (int64_t)strlen(text), &lens[i]);
        tensor_i32(*y)[i] = s->book[from + i];
    }
    /* One (n, maxlen) batch, each list followed by zeros. */
    *x = nn_pad_sequences(n, (const int32_t *const *)ids, lens, .maxlen = maxlen, .padding = NN_PAD_POST);
    /* readme:end */
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(lens);
}

/* The best accuracy a constant answer gets on the held-out set: its largest class share. */
static double majority_accuracy(const Tensor *y_test) {
    int64_t count[N_BOOKS] = {0}, most = 0;
    for (int64_t i = 0; i < y_test->size; i++) count[tensor_i32((Tensor *)y_test)[i]]++;
    for (int b = 0; b < N_BOOKS; b++)
        if (count[b] > most) most = count[b];
    return (double)most / (double)y_test->size;
}

/* ---- the model ---- */

/* What a change of padding does to the held-out predictions. */
typedef struct {
    double accuracy;   /* held-out accuracy with that padding */
    double max_change; /* the largest change of a probability */
    int64_t changed;   /* held-out sentences whose predicted book changes */
    bool identical;    /* no probability changes by a single bit */
} PaddingEffect;

typedef struct {
    double loss, accuracy, seconds; /* held out, padded to MAX_WORDS; training time */
    PaddingEffect longer;           /* EXTRA_PADDING more padded steps */
    PaddingEffect alone;            /* each sentence on its own, no padding at all */
} Score;

static Model *make_model(int64_t vocab, bool mask_zero) {
    /* readme:begin which_book_model */
    Model *m = nn_sequential();
    nn_model_seed(m, SEED);
    nn_add(m, nn_embedding(.vocab = vocab, .dim = 32, .mask_zero = mask_zero)); /* id 0: padding */
    nn_add(m, nn_bidirectional(nn_lstm(.units = 32))); /* each sentence read both ways */
    nn_add(m, nn_dense(.units = N_BOOKS, .activation = NN_SOFTMAX));
    /* Any length: the padding checks feed rows of other lengths than training did. */
    if (nn_build(m, NN_SHAPE(TENSOR_I32, -1)) != 0 ||
        nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY, .optimizer = nn_adam(.lr = LEARNING_RATE),
                   .accuracy = true) != 0) {
        fprintf(stderr, "which_book: %s\n", tensor_last_error());
        nn_model_free(m);
        return NULL;
    }
    /* readme:end */
    return m;
}

static int64_t argmax_row(const float *p) {
    int64_t best = 0;
    for (int64_t k = 1; k < N_BOOKS; k++)
        if (p[k] > p[best]) best = k;
    return best;
}

/* Compares probabilities q with the reference p (both (n, N_BOOKS)). */
static PaddingEffect compare(const Tensor *p, const Tensor *q, const Tensor *y) {
    const float *pv = tensor_f32((Tensor *)p), *qv = tensor_f32((Tensor *)q);
    PaddingEffect e = {.identical = memcmp(pv, qv, (size_t)p->size * sizeof *pv) == 0};
    int64_t hits = 0;
    for (int64_t i = 0; i < y->size; i++) {
        const float *pi = pv + i * N_BOOKS, *qi = qv + i * N_BOOKS;
        for (int k = 0; k < N_BOOKS; k++) e.max_change = fmax(e.max_change, fabsf(pi[k] - qi[k]));
        e.changed += argmax_row(pi) != argmax_row(qi);
        hits += argmax_row(qi) == tensor_i32((Tensor *)y)[i];
    }
    e.accuracy = (double)hits / (double)y->size;
    return e;
}

/* Each post-padded row of x predicted on its own, cut at its first padding id. */
static Tensor *predict_alone(Model *m, Tensor *x) {
    int64_t n = x->shape[0], t_max = x->shape[1];
    Tensor *out = tensor_zeros(NULL, 2, (int64_t[]){n, N_BOOKS});
    for (int64_t i = 0; i < n; i++) {
        const int32_t *row = tensor_i32(x) + i * t_max;
        int64_t len = 0;
        while (len < t_max && row[len] != 0) len++;
        Tensor *xi = tensor_i32_from_array(NULL, TENSOR_SHAPE(1, len), row);
        Tensor *p = nn_predict(m, xi, 1);
        tensor_free(xi);
        if (!p) return tensor_free(out), NULL;
        memcpy(tensor_f32(out) + i * N_BOOKS, tensor_f32(p), N_BOOKS * sizeof(float));
        tensor_free(p);
    }
    return out;
}

/* Held-out predictions as trained (padded to MAX_WORDS), with more padding, and alone. */
static int score_padding(Model *m, Tensor *x_test, Tensor *x_longer, Tensor *y_test, Score *s) {
    Tensor *p = nn_predict(m, x_test, 128), *longer = nn_predict(m, x_longer, 128);
    Tensor *alone = p && longer ? predict_alone(m, x_test) : NULL;
    int rc = alone ? 0 : -1;
    if (rc != 0) {
        fprintf(stderr, "which_book: %s\n", tensor_last_error());
    } else {
        s->longer = compare(p, longer, y_test);
        s->alone = compare(p, alone, y_test);
    }
    tensor_free(p), tensor_free(longer), tensor_free(alone);
    return rc;
}

/* Trains a fresh model and scores it on the held-out set. */
static int train_and_score(int64_t vocab, bool mask_zero, Tensor *x, Tensor *y, Tensor *x_test,
                           Tensor *x_longer, Tensor *y_test, Score *s) {
    Model *m = make_model(vocab, mask_zero);
    if (!m) return -1;
    double start = tensor_seconds();
    NnHistory *h = nn_fit(m, x, y, .batch_size = 32, .epochs = EPOCHS, .seed = SEED, .quiet = true);
    s->seconds = tensor_seconds() - start;
    int rc = h && nn_evaluate(m, x_test, y_test, 128, &s->loss, &s->accuracy) == 0 ? 0 : -1;
    if (rc != 0) fprintf(stderr, "which_book: %s\n", tensor_last_error());
    else rc = score_padding(m, x_test, x_longer, y_test, s);
    nn_history_free(h);
    nn_model_free(m);
    return rc;
}

static void print_effect(const char *what, const PaddingEffect *e) {
    printf("          %s: accuracy %.3f, %lld answers changed, largest change of a probability %.3g%s\n", what,
           e->accuracy, (long long)e->changed, e->max_change, e->identical ? " (identical, bit for bit)" : "");
}

static void print_score(const char *name, const Score *s) {
    printf("%-9s held-out accuracy %.3f, loss %.4f (trained in %.1f s)\n", name, s->accuracy, s->loss,
           s->seconds);
    print_effect("with " STR(EXTRA_PADDING) " more padded steps", &s->longer);
    print_effect("each sentence alone, unpadded", &s->alone);
}

/* A Keras-like Tokenizer over the training sentences only, the vocabulary capped. */
static NnTokenizer *fit_tokenizer(const Sentences *s, int64_t n_train) {
    /* The sentences are normalized already: split on whitespace alone. */
    NnTokenizer *tok = nn_tokenizer(.num_words = VOCAB_WORDS, .oov_token = "<unk>", .filters = "");
    for (int64_t i = 0; i < n_train; i++) nn_tokenizer_fit(tok, s->text[i], (int64_t)strlen(s->text[i]));
    if (nn_tokenizer_finish(tok) != 0) {
        fprintf(stderr, "which_book: %s\n", tensor_last_error());
        nn_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}

static void print_shares(const char *name, const Tensor *y) {
    int64_t count[N_BOOKS] = {0};
    for (int64_t i = 0; i < y->size; i++) count[tensor_i32((Tensor *)y)[i]]++;
    printf("%-9s %5lld sentences:", name, (long long)y->size);
    for (int b = 0; b < N_BOOKS; b++) printf(" %s %.3f", BOOK_NAMES[b], (double)count[b] / (double)y->size);
    printf("\n");
}

/* Whether the figures are what the example promises (see the top of the file). */
static bool check(double majority, int64_t n_test, const Score *masked, const Score *unmasked) {
    bool ok = true;
    if (masked->accuracy < majority + MIN_GAIN_OVER_MAJORITY) {
        printf("FAIL: masked accuracy %.3f is not %.2f above the majority class's %.3f\n", masked->accuracy,
               MIN_GAIN_OVER_MAJORITY, majority);
        ok = false;
    }
    if (!masked->longer.identical || !masked->alone.identical) {
        printf("FAIL: the padding changed the masked model's probabilities (by up to %.3g and %.3g)\n",
               masked->longer.max_change, masked->alone.max_change);
        ok = false;
    }
    if (unmasked->longer.max_change < MIN_UNMASKED_CHANGE) {
        printf("FAIL: more padding moved the unmasked model's probabilities by %.3g only (expected %.2g)\n",
               unmasked->longer.max_change, MIN_UNMASKED_CHANGE);
        ok = false;
    }
    if ((double)unmasked->alone.changed < MIN_UNMASKED_CHANGED * (double)n_test) {
        printf("FAIL: without padding the unmasked model changed %lld answers only (expected %.0f%%)\n",
               (long long)unmasked->alone.changed, 100 * MIN_UNMASKED_CHANGED);
        ok = false;
    }
    if (ok) printf("ok: masked beats the majority class by %.2f, padding leaves it unchanged; it changes the "
                   "unmasked model\n", masked->accuracy - majority);
    return ok;
}

static int run(const char *dir) {
    double start = tensor_seconds();
    Rng rng;
    tensor_rng_seed(&rng, SEED, 0);
    Sentences s = {0};
    if (load_balanced(dir, &rng, &s) != 0) return 1;
    int64_t n_test = (int64_t)(TEST_SHARE * (double)s.n), n_train = s.n - n_test;
    NnTokenizer *tok = fit_tokenizer(&s, n_train);
    if (!tok) return sentences_free(&s), 1;
    int64_t vocab = nn_tokenizer_vocab_size(tok) + 1; /* + the padding id 0 */
    if (vocab > VOCAB_WORDS) vocab = VOCAB_WORDS;
    printf("vocabulary: %lld words of the training sentences, the %lld most common kept (with <unk>)\n",
           (long long)nn_tokenizer_vocab_size(tok), (long long)vocab - 1);

    Tensor *x, *y, *x_test, *y_test, *x_longer, *y_unused;
    encode(tok, &s, 0, n_train, MAX_WORDS, &x, &y);
    encode(tok, &s, n_train, s.n, MAX_WORDS, &x_test, &y_test);
    encode(tok, &s, n_train, s.n, MAX_WORDS + EXTRA_PADDING, &x_longer, &y_unused);
    print_shares("training", y);
    print_shares("held out", y_test);
    double majority = majority_accuracy(y_test);
    printf("majority class: held-out accuracy %.3f\n", majority);

    Score masked = {0}, unmasked = {0};
    int rc = train_and_score(vocab, true, x, y, x_test, x_longer, y_test, &masked);
    if (rc == 0) rc = train_and_score(vocab, false, x, y, x_test, x_longer, y_test, &unmasked);
    if (rc == 0) {
        print_score("masked", &masked);
        print_score("unmasked", &unmasked);
        printf("accuracy masked - unmasked: %+.3f; %.1f s in all\n", masked.accuracy - unmasked.accuracy,
               tensor_seconds() - start);
        rc = check(majority, n_test, &masked, &unmasked) ? 0 : -1;
    }
    tensor_free(x), tensor_free(y), tensor_free(x_test), tensor_free(y_test);
    tensor_free(x_longer), tensor_free(y_unused);
    nn_tokenizer_free(tok);
    sentences_free(&s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))) {
        fprintf(stderr, "usage: which_book [DATA_DIR]   (a folder holding %s, %s and %s)\n", BOOK_FILES[0],
                BOOK_FILES[1], BOOK_FILES[2]);
        return argc > 2 ? 2 : 0;
    }
    char dir[4096];
    if (!find_data_dir(argc == 2 ? argv[1] : NULL, dir, sizeof dir)) {
        fprintf(stderr, "which_book: %s lacks %s, %s or %s: run scripts/get-data.sh, or name the folder "
                        "that holds them (which_book DIR, or DATA_DIR)\n",
                dir, BOOK_FILES[0], BOOK_FILES[1], BOOK_FILES[2]);
        return argc == 2 ? 1 : 77; /* a folder named on the command line must hold them */
    }
    return run(dir);
}
