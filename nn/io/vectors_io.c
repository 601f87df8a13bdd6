/* NnWordVectors (a word -> row table with unit-length copies of the rows) and the
 * word2vec text and binary file formats, written so gensim's
 * KeyedVectors.load_word2vec_format reads them and read back leniently (CRLF line
 * ends, runs of blanks, a repeated word keeps its first vector, as in gensim). */
#include "nn/io/vectors_io.h"

#include "nn/io/bytes_internal.h"
#include "nn/text/text.h"
#include "tensor/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stb_ds.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct NnWordIndexEntry {
    char *key; /* borrowed from words[] */
    int64_t value;
};

NnWordVectors *nn_word_vectors_new(int64_t size, int64_t dim) {
    size_t n;
    if (size < 0 || dim < 1) {
        tensor_set_error("word vectors: invalid size %lld x %lld", (long long)size, (long long)dim);
        return NULL;
    }
    if (tensor_mul_size((size_t)size, (size_t)dim, &n) != 0 || tensor_mul_size(n, sizeof(float), &n) != 0)
        return NULL;
    NnWordVectors *wv = calloc(1, sizeof *wv);
    if (!wv) goto oom;
    wv->size = size;
    wv->dim = dim;
    wv->words = calloc((size_t)size + 1, sizeof *wv->words);
    wv->vectors = calloc(n ? n : 1, 1);
    wv->unit = calloc(n ? n : 1, 1);
    if (wv->words && wv->vectors && wv->unit) return wv;
    nn_word_vectors_free(wv);
oom:
    tensor_set_error("word vectors: cannot allocate %lld x %lld floats", (long long)size, (long long)dim);
    return NULL;
}

int nn_word_vectors_finish(NnWordVectors *wv) {
    shfree(wv->index_);
    for (int64_t i = 0; i < wv->size; i++) {
        const char *w = wv->words[i];
        if (!w || !*w) return tensor_set_error("word vectors: row %lld has no word", (long long)i);
        for (const char *p = w; *p; p++)
            if (isspace((unsigned char)*p))
                return tensor_set_error("word vectors: the word of row %lld ('%s') holds whitespace", (long long)i, w);
        if (shgeti(wv->index_, wv->words[i]) >= 0)
            return tensor_set_error("word vectors: row %lld repeats the word '%s'", (long long)i, w);
        shput(wv->index_, wv->words[i], i);
    }
    const int64_t d = wv->dim;
    for (int64_t i = 0; i < wv->size; i++) {
        const float *v = wv->vectors + i * d;
        double ss = 0;
        for (int64_t k = 0; k < d; k++) ss += (double)v[k] * v[k];
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (int64_t k = 0; k < d; k++) wv->unit[i * d + k] = v[k] * inv;
    }
    return 0;
}

int64_t nn_word_vectors_find(const NnWordVectors *wv, const char *word) {
    NnWordIndexEntry *index = wv->index_; /* shgeti may write the header's scratch slot */
    ptrdiff_t at = shgeti(index, word);
    return at < 0 ? -1 : index[at].value;
}

void nn_word_vectors_free(NnWordVectors *wv) {
    if (!wv) return;
    shfree(wv->index_);
    if (wv->words)
        for (int64_t i = 0; i < wv->size; i++) free(wv->words[i]);
    free(wv->words);
    free(wv->vectors);
    free(wv->unit);
    free(wv->counts);
    free(wv);
}

/* ---- writing ---- */

int nn_vectors_write(const NnWordVectors *wv, const char *path, bool binary) {
    FILE *f = fopen(path, binary ? "wb" : "w");
    if (!f) return tensor_set_error("cannot write %s: %s", path, strerror(errno));
    fprintf(f, "%lld %lld\n", (long long)wv->size, (long long)wv->dim);
    for (int64_t i = 0; i < wv->size; i++) {
        const float *v = wv->vectors + i * wv->dim;
        fputs(wv->words[i], f);
        if (binary) {
            fputc(' ', f);
            for (int64_t k = 0; k < wv->dim; k++) { /* little-endian whatever the host */
                uint32_t b;
                unsigned char le[4];
                memcpy(&b, &v[k], 4);
                nn__store_le32(le, b);
                fwrite(le, 1, 4, f);
            }
        } else {
            for (int64_t k = 0; k < wv->dim; k++) fprintf(f, " %.9g", v[k]);
        }
        fputc('\n', f);
    }
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) return tensor_set_error("cannot write %s: %s", path, strerror(errno ? errno : EIO));
    return 0;
}

/* ---- reading ---- */

typedef struct Reader {
    const char *p, *end, *path;
    int64_t line; /* 1-based line of the text being read (text format and header) */
} Reader;

/* The next line as [*b, *e) without its "\n" or "\r\n"; false at the end. */
static bool next_line(Reader *r, const char **b, const char **e) {
    if (r->p >= r->end) return false;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    *b = r->p;
    *e = nl ? nl : r->end;
    r->p = nl ? nl + 1 : r->end;
    if (*e > *b && (*e)[-1] == '\r') (*e)--;
    r->line++;
    return true;
}

static const char *skip_blanks(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* Parses "word x1 ... xD" from [b, e) into *word (heap) and v. Returns NULL on
 * success, else what was wrong. */
static const char *parse_text_entry(const char *b, const char *e, int64_t dim, char **word, float *v) {
    char num[64];
    b = skip_blanks(b, e);
    const char *w = b;
    while (b < e && *b != ' ' && *b != '\t') b++;
    if (b == w) return "no word";
    /* Words are C strings: a NUL byte would silently cut one short (and make it
     * collide with another word), and strtof would stop at one inside a number. */
    if (memchr(w, 0, (size_t)(e - w))) return "a NUL byte";
    for (int64_t k = 0; k < dim; k++) {
        b = skip_blanks(b, e);
        const char *s = b;
        while (b < e && *b != ' ' && *b != '\t') b++;
        if (b == s) return "fewer numbers than the dimension";
        size_t n = (size_t)(b - s);
        if (n >= sizeof num) return "a value that is not a number";
        memcpy(num, s, n);
        num[n] = 0;
        char *stop;
        errno = 0;
        v[k] = strtof(num, &stop);
        if (*stop || errno == EINVAL) return "a value that is not a number";
    }
    if (skip_blanks(b, e) != e) return "more numbers than the dimension";
    if (word) {
        size_t n = 0;
        while (w + n < e && w[n] != ' ' && w[n] != '\t') n++;
        *word = tensor_xmalloc(n + 1);
        memcpy(*word, w, n);
        (*word)[n] = 0;
    }
    return NULL;
}

/* One binary entry: optional newlines, "word ", dim floats. */
static const char *parse_binary_entry(Reader *r, int64_t dim, char **word, float *v) {
    while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) r->p++;
    const char *w = r->p;
    while (r->p < r->end && *r->p != ' ') r->p++;
    if (r->p >= r->end) return "the file ends inside a word";
    if (r->p == w) return "an empty word";
    size_t n = (size_t)(r->p - w);
    if (memchr(w, 0, n)) return "a word holding a NUL byte"; /* it would end the C string early */
    r->p++;
    if ((size_t)(r->end - r->p) < (size_t)dim * 4) return "the file ends inside a vector";
    const unsigned char *q = (const unsigned char *)r->p;
    for (int64_t k = 0; k < dim; k++, q += 4) {
        uint32_t b = nn__le32(q);
        memcpy(&v[k], &b, 4);
    }
    r->p = (const char *)q;
    *word = tensor_xmalloc(n + 1);
    memcpy(*word, w, n);
    (*word)[n] = 0;
    return NULL;
}

/* The "<words> <dimension>" line, and (NN_VECTORS_AUTO) which format follows it:
 * text if the first entry parses as a text line. */
static int read_header(Reader *r, NnVectorsFormat *format, long long *v_count, long long *dim) {
    const char *b, *e;
    char tail;
    if (!next_line(r, &b, &e))
        return tensor_set_error("%s: empty file, expected a \"<words> <dimension>\" header", r->path);
    char header[128];
    size_t hn = (size_t)(e - b) < sizeof header - 1 ? (size_t)(e - b) : sizeof header - 1;
    memcpy(header, b, hn);
    header[hn] = 0;
    if (sscanf(header, "%lld %lld %c", v_count, dim, &tail) != 2 || *v_count < 0 || *dim < 1 || *dim > (1 << 20))
        return tensor_set_error("%s: line 1 is not a \"<words> <dimension>\" header", r->path);
    if (*format == NN_VECTORS_AUTO) {
        Reader peek = *r;
        float *vec = tensor_xmalloc((size_t)*dim * sizeof *vec);
        *format = NN_VECTORS_BINARY;
        if (*v_count == 0 || (next_line(&peek, &b, &e) && !parse_text_entry(b, e, *dim, NULL, vec)))
            *format = NN_VECTORS_TEXT;
        free(vec);
    }
    return 0;
}

/* The v_count entries into wv's rows; a repeated word keeps its first vector, as in
 * gensim, so wv->size becomes the number of distinct words. */
static int read_entries(Reader *r, NnVectorsFormat format, int64_t v_count, NnWordVectors *wv) {
    const int64_t dim = wv->dim;
    int64_t kept = 0;
    NnWordIndexEntry *seen = NULL;
    sh_new_arena(seen);
    for (int64_t i = 0; i < v_count; i++) {
        char *word = NULL;
        float *v = wv->vectors + kept * dim;
        const char *err, *b, *e;
        if (format == NN_VECTORS_TEXT) {
            if (next_line(r, &b, &e)) {
                err = parse_text_entry(b, e, dim, &word, v);
            } else {
                r->line++; /* the line that is missing */
                err = "the file ends early";
            }
            if (err) tensor_set_error("%s: line %lld: %s (expected a word and %lld numbers)", r->path,
                                      (long long)r->line, err, (long long)dim);
        } else {
            err = parse_binary_entry(r, dim, &word, v);
            if (err)
                tensor_set_error("%s: entry %lld of %lld: %s", r->path, (long long)i + 1, (long long)v_count, err);
        }
        if (err) {
            free(word);
            shfree(seen);
            return -1;
        }
        if (shgeti(seen, word) >= 0) {
            free(word);
            continue;
        }
        shput(seen, word, kept);
        wv->words[kept++] = word;
    }
    shfree(seen);
    wv->size = kept;
    return 0;
}

NnWordVectors *nn_vectors_read(const char *path, NnVectorsFormat format) {
    int64_t len;
    char *data = nn_read_file(path, &len);
    if (!data) return NULL;
    Reader r = {.p = data, .end = data + len, .path = path};
    long long v_count = -1, dim = -1;
    NnWordVectors *wv = NULL;
    if (read_header(&r, &format, &v_count, &dim) != 0) goto fail;
    /* Entries cannot be fewer bytes than this, which bounds what a corrupt header can
     * make us allocate. */
    if (v_count > len / (format == NN_VECTORS_BINARY ? 4 * dim + 2 : 2 * dim + 1) + 1) {
        tensor_set_error("%s: the header promises %lld words of %lld values, more than the file holds", path,
                         v_count, dim);
        goto fail;
    }
    wv = nn_word_vectors_new(v_count, dim);
    if (!wv || read_entries(&r, format, v_count, wv) != 0) goto fail;
    if (nn_word_vectors_finish(wv) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", tensor_last_error());
        tensor_set_error("%s: %s", path, why);
        goto fail;
    }
    free(data);
    return wv;
fail:
    nn_word_vectors_free(wv);
    free(data);
    return NULL;
}
