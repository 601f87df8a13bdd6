/* The float32 backward the gradient probe reads, over T = 1000 steps, against the same
 * norms recomputed in double: the forward and backpropagation through time of
 * SimpleRNN, GRU (Keras reset_after) and LSTM written out here from the layers' own
 * weights. Agreement to 1e-4 relative at every distance above underflow says the decay
 * curves gradflow prints are the models', not float32 rounding. */
#include "gradflow_test.h"

#include <stdlib.h>

#define T_LONG 1000
#define D_LONG 8
#define H_LONG 16

typedef struct Net {
    const float *K, *R, *b; /* kernel (D, G), recurrent (H, G), bias */
    int64_t D, H, G;
} Net;

static double sigm(double z) { return 1.0 / (1.0 + exp(-z)); }

/* out[j] = sum_i v[i] M[i, col0 + j], j < H, for a (rows, G) matrix M. */
static void vecmat(const double *v, const float *M, int64_t rows, int64_t G, int64_t col0, int64_t H, double *out) {
    for (int64_t j = 0; j < H; j++) {
        double s = 0;
        for (int64_t i = 0; i < rows; i++) s += v[i] * M[i * G + col0 + j];
        out[j] = s;
    }
}

/* out[i] += sum_j g[j] M[i, col0 + j]: the transpose product backward needs. */
static void matvec_t(const double *g, const float *M, int64_t rows, int64_t G, int64_t col0, int64_t H, double *out) {
    for (int64_t i = 0; i < rows; i++) {
        double s = 0;
        for (int64_t j = 0; j < H; j++) s += g[j] * M[i * G + col0 + j];
        out[i] += s;
    }
}

static double norm(const double *v, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += v[i] * v[i];
    return sqrt(s);
}

/* Per-step values the backward needs, (T + 1) * H each (index t + 1 holds step t). */
typedef struct Trace {
    double *h, *c, *a, *b2, *g, *o; /* hidden, cell, and per-cell gate values */
} Trace;

static void forward(CellKind kind, const Net *n, const double *x, Trace *tr) {
    const int64_t H = n->H;
    double *zx = calloc((size_t)n->G, sizeof *zx), *zh = calloc((size_t)n->G, sizeof *zh);
    for (int64_t t = 0; t < T_LONG; t++) {
        const double *hp = tr->h + t * H, *cp = tr->c + t * H;
        double *h = tr->h + (t + 1) * H, *c = tr->c + (t + 1) * H;
        vecmat(x + t * n->D, n->K, n->D, n->G, 0, n->G, zx);
        vecmat(hp, n->R, H, n->G, 0, n->G, zh);
        for (int64_t j = 0; j < H; j++) {
            const int64_t s = (t + 1) * H + j;
            if (kind == CELL_SIMPLE_RNN) {
                h[j] = tanh(zx[j] + zh[j] + n->b[j]);
            } else if (kind == CELL_GRU) { /* z, r, h; bias row 0 input, row 1 recurrent */
                double z = sigm(zx[j] + n->b[j] + zh[j] + n->b[n->G + j]);
                double r = sigm(zx[H + j] + n->b[H + j] + zh[H + j] + n->b[n->G + H + j]);
                double u = zh[2 * H + j] + n->b[n->G + 2 * H + j];
                double hh = tanh(zx[2 * H + j] + n->b[2 * H + j] + r * u);
                h[j] = z * hp[j] + (1 - z) * hh;
                tr->a[s] = z, tr->b2[s] = r, tr->g[s] = hh, tr->o[s] = u;
            } else { /* i, f, c, o */
                double i = sigm(zx[j] + zh[j] + n->b[j]), f = sigm(zx[H + j] + zh[H + j] + n->b[H + j]);
                double g = tanh(zx[2 * H + j] + zh[2 * H + j] + n->b[2 * H + j]);
                double o = sigm(zx[3 * H + j] + zh[3 * H + j] + n->b[3 * H + j]);
                c[j] = f * cp[j] + i * g;
                h[j] = o * tanh(c[j]);
                tr->a[s] = i, tr->b2[s] = f, tr->g[s] = g, tr->o[s] = o;
            }
        }
    }
    free(zx);
    free(zh);
}

/* Backward from dL/dh_{T-1} = w: the norms of dL/dx_t, dL/dh_t, dL/dc_t at every t. */
static void backward(CellKind kind, const Net *n, const Trace *tr, const float *w, double *gx, double *gh, double *gc) {
    const int64_t H = n->H, G = n->G;
    double *dh = calloc((size_t)H, sizeof *dh), *dc = calloc((size_t)H, sizeof *dc);
    double *dz = calloc((size_t)G, sizeof *dz), *dzh = calloc((size_t)G, sizeof *dzh);
    double *nh = calloc((size_t)H, sizeof *nh), *dx = calloc((size_t)n->D, sizeof *dx);
    for (int64_t j = 0; j < H; j++) dh[j] = w[j];
    for (int64_t t = T_LONG - 1; t >= 0; t--) {
        gh[t] = norm(dh, H);
        gc[t] = norm(dc, H);
        const double *hp = tr->h + t * H, *h = tr->h + (t + 1) * H, *cp = tr->c + t * H, *c = tr->c + (t + 1) * H;
        for (int64_t j = 0; j < H; j++) {
            const int64_t s = (t + 1) * H + j;
            const double a = tr->a[s], b = tr->b2[s], g = tr->g[s], o = tr->o[s];
            if (kind == CELL_SIMPLE_RNN) {
                dz[j] = dzh[j] = dh[j] * (1 - h[j] * h[j]);
                nh[j] = 0;
            } else if (kind == CELL_GRU) { /* a = z, b = r, g = hh, o = recurrent part u */
                double dzz = dh[j] * (hp[j] - g) * a * (1 - a), dah = dh[j] * (1 - a) * (1 - g * g);
                double dr = dah * o * b * (1 - b);
                dz[j] = dzh[j] = dzz;
                dz[H + j] = dzh[H + j] = dr;
                dz[2 * H + j] = dah;
                dzh[2 * H + j] = dah * b;
                nh[j] = dh[j] * a;
            } else { /* a = i, b = f, g, o */
                double tc = tanh(c[j]), dct = dc[j] + dh[j] * o * (1 - tc * tc);
                dz[j] = dzh[j] = dct * g * a * (1 - a);
                dz[H + j] = dzh[H + j] = dct * cp[j] * b * (1 - b);
                dz[2 * H + j] = dzh[2 * H + j] = dct * a * (1 - g * g);
                dz[3 * H + j] = dzh[3 * H + j] = dh[j] * tc * o * (1 - o);
                dc[j] = dct * b;
                nh[j] = 0;
            }
        }
        for (int64_t i = 0; i < n->D; i++) dx[i] = 0;
        matvec_t(dz, n->K, n->D, G, 0, G, dx);
        gx[t] = norm(dx, n->D);
        matvec_t(dzh, n->R, H, G, 0, G, nh);
        for (int64_t j = 0; j < H; j++) dh[j] = nh[j];
    }
    free(dh), free(dc), free(dz), free(dzh), free(nh), free(dx);
}

static void check_float64(CellKind kind) {
    float w[H_LONG];
    Tensor *x = gft_inputs(9, T_LONG, D_LONG, H_LONG, w);
    Layer *l = gf_layer_new(kind, H_LONG, D_LONG, (CellInit){.forget_bias = 1.0}, 4);
    cr_assert_not_null(l);
    int64_t dist[40];
    const int n = gf_distances(T_LONG, 40, dist);
    static GftProbe p;
    gft_probe(l, kind, x, w, n, dist, &p);

    const int64_t G = l->params[1]->shape[1];
    const Net net = {tensor_f32(l->params[0]), tensor_f32(l->params[1]), tensor_f32(l->params[2]), D_LONG, H_LONG, G};
    const size_t cells = (size_t)((T_LONG + 1) * H_LONG);
    Trace tr = {calloc(cells, 8), calloc(cells, 8), calloc(cells, 8), calloc(cells, 8), calloc(cells, 8),
                calloc(cells, 8)};
    double *xd = malloc((size_t)x->size * sizeof *xd), *gx = malloc(T_LONG * 8), *gh = malloc(T_LONG * 8),
           *gc = malloc(T_LONG * 8);
    for (int64_t i = 0; i < x->size; i++) xd[i] = tensor_f32(x)[i];
    forward(kind, &net, xd, &tr);
    backward(kind, &net, &tr, w, gx, gh, gc);

    double worst = 0, smallest = 1;
    int compared = 0;
    for (int k = 0; k < n; k++) {
        const int64_t t = T_LONG - 1 - dist[k];
        const double pairs[3][2] = {{p.r.gx[k], gx[t]}, {p.r.gh[k], gh[t]}, {k ? p.r.gc[k] : 0, gc[t]}};
        for (int q = 0; q < (kind == CELL_LSTM && k ? 3 : 2); q++) {
            double r = gft_rel(pairs[q][0], pairs[q][1]);
            if (r < 0) continue;
            compared++;
            if (pairs[q][1] < smallest) smallest = pairs[q][1];
            if (r > worst) worst = r;
            cr_expect(r <= 1e-4, "%s, %s at d = %lld: float32 %.7g, float64 %.7g", cell_names[kind],
                      q == 0 ? "dL/dx" : q == 1 ? "dL/dh" : "dL/dc", (long long)dist[k], pairs[q][0], pairs[q][1]);
        }
    }
    fprintf(stderr, "%s, T = 1000: float32 probe vs float64: %d norms compared (down to %.2g), max relative %.2g\n",
            cell_names[kind], compared, smallest, worst);
    cr_expect(smallest < 1e-10, "the comparison reaches far down the decay (smallest %.3g)", smallest);
    free(tr.h), free(tr.c), free(tr.a), free(tr.b2), free(tr.g), free(tr.o);
    free(xd), free(gx), free(gh), free(gc);
    nn_layer_free(l);
    tensor_free(x);
}

Test(gradflow_float64, simple_rnn) { check_float64(CELL_SIMPLE_RNN); }
Test(gradflow_float64, gru) { check_float64(CELL_GRU); }
Test(gradflow_float64, lstm) { check_float64(CELL_LSTM); }
