/* --mode gradient: the probe over SimpleRNN, GRU and LSTM on the same random inputs,
 * averaged over seeds (geometric mean: the curves are compared on a log scale), with
 * the decay per step fitted to each curve, the distance where it falls below 1e-6 of
 * its value at the end, and the LSTM's forget-gate check. */
#include "gradflow/gradflow_internal.h"

#include "common/json.h"
#include "common/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIST 48
#define N_LAYERS 3 /* SimpleRNN, GRU, LSTM */

/* Per layer: the seeds' sums of log norms, then their geometric means. */
typedef struct Curves {
    double gx[MAX_DIST], gh[MAX_DIST], gc[MAX_DIST], fprod[MAX_DIST], fpred[MAX_DIST];
    int zeros_x[MAX_DIST], zeros_h[MAX_DIST], zeros_c[MAX_DIST]; /* seeds whose norm underflowed to 0 */
    double forget_mean;
} Curves;

typedef struct Fit {
    double rate;  /* fitted factor per step */
    double below; /* distance where the curve falls below 1e-6 of its reference, NaN if never */
} Fit;

static void add_log(double *sum, int *zeros, double v) {
    if (v > 0) *sum += log(v);
    else (*zeros)++;
}

/* Geometric mean over seeds; 0 when any seed underflowed (the curve is lost there). */
static double geo(double sum, int zeros, int seeds) { return zeros ? 0.0 : exp(sum / seeds); }

/* Least squares of log g against d over the points from index `from` with g > 0, and
 * the first (log-interpolated) distance where g < 1e-6 g[ref]. */
static Fit fit_curve(const double *g, const int64_t *dist, int n, int from) {
    double sd = 0, sl = 0, sdd = 0, sdl = 0;
    int m = 0;
    for (int k = from; k < n; k++) {
        if (!(g[k] > 1e-35)) continue; /* below float32's normal range: no longer a measurement */
        double l = log(g[k]);
        sd += (double)dist[k];
        sl += l;
        sdd += (double)dist[k] * (double)dist[k];
        sdl += (double)dist[k] * l;
        m++;
    }
    Fit f = {NAN, NAN};
    if (m >= 2) f.rate = exp((m * sdl - sd * sl) / (m * sdd - sd * sd));
    const double floor = 1e-6 * g[from];
    for (int k = from + 1; k < n; k++) {
        if (g[k] >= floor) continue;
        if (!(g[k] > 0)) {
            f.below = (double)dist[k];
            break;
        }
        double a = log(g[k - 1]), b = log(g[k]), target = log(floor);
        f.below = (double)dist[k - 1] + (double)(dist[k] - dist[k - 1]) * (a - target) / (a - b);
        break;
    }
    return f;
}

static void random_inputs(const Options *o, uint64_t seed, Tensor *x, float *w) {
    Rng rng;
    tensor_rng_seed(&rng, seed, 2);
    tensor_fill_normal(tensor_f32(x), x->size, &rng, 0.0f, 1.0f);
    tensor_fill_normal(w, o->units, &rng, 0.0f, 1.0f);
    double s = 0;
    for (int64_t j = 0; j < o->units; j++) s += (double)w[j] * w[j];
    for (int64_t j = 0; j < o->units; j++) w[j] = (float)(w[j] / sqrt(s));
}

/* Probes one layer kind over every seed into c. Returns 0, or -1 when a layer cannot be built. */
static int measure(const Options *o, CellKind kind, int n, const int64_t *dist, Curves *cv) {
    memset(cv, 0, sizeof *cv);
    Tape *tape = ag_tape_new();
    Tensor *x = tensor_empty(NULL, TENSOR_F32, 3, (int64_t[]){1, o->length, o->input_dim});
    float *w = tensor_xmalloc((size_t)o->units * sizeof *w);
    double buf[5][MAX_DIST];
    ProbeResult r = {buf[0], buf[1], buf[2], buf[3], buf[4], 0};
    int rc = 0;
    for (int64_t s = 0; s < o->seeds && rc == 0; s++) {
        const uint64_t seed = o->common.seed + (uint64_t)s;
        if (!o->common.quiet) fprintf(stderr, APP ": %s, seed %lld of %lld\n", cell_names[kind], (long long)s + 1,
                                      (long long)o->seeds);
        Layer *l = gf_layer_new(kind, o->units, o->input_dim, o->init, seed);
        if (!l) {
            fprintf(stderr, APP ": cannot build %s: %s\n", cell_names[kind], tensor_last_error());
            rc = -1;
            break;
        }
        random_inputs(o, seed, x, w);
        gf_probe(l, kind, tape, x, w, n, dist, &r);
        for (int k = 0; k < n; k++) {
            add_log(&cv->gx[k], &cv->zeros_x[k], r.gx[k]);
            add_log(&cv->gh[k], &cv->zeros_h[k], r.gh[k]);
            if (kind != CELL_LSTM) continue;
            add_log(&cv->gc[k], &cv->zeros_c[k], k ? r.gc[k] : 1.0);
            cv->fprod[k] += log(fmax(r.forget_prod[k], 1e-300));
            cv->fpred[k] += k ? log(fmax(r.forget_pred[k], 1e-300)) : 0.0;
        }
        cv->forget_mean += r.forget_mean / (double)o->seeds;
        nn_layer_free(l);
    }
    const int seeds = (int)o->seeds;
    for (int k = 0; k < n; k++) {
        cv->gx[k] = geo(cv->gx[k], cv->zeros_x[k], seeds);
        cv->gh[k] = geo(cv->gh[k], cv->zeros_h[k], seeds);
        cv->gc[k] = k ? geo(cv->gc[k], cv->zeros_c[k], seeds) : NAN;
        cv->fprod[k] = exp(cv->fprod[k] / seeds);
        cv->fpred[k] = k ? exp(cv->fpred[k] / seeds) : NAN;
    }
    free(w);
    tensor_free(x);
    ag_tape_free(tape);
    return rc;
}

static void print_tables(const Options *o, const Curves *cv, int n, const int64_t *dist) {
    printf("Gradient norms of L = w . h_T (|w| = 1) at distance d = T - t, T = %lld, units %lld, input width %lld,\n"
           "geometric mean over %lld seeds (0: underflowed in float32)\n\n",
           (long long)o->length, (long long)o->units, (long long)o->input_dim, (long long)o->seeds);
    printf("%6s  %10s %10s  %10s %10s  %10s %10s %10s\n", "d", "RNN dL/dx", "RNN dL/dh", "GRU dL/dx", "GRU dL/dh",
           "LSTM dL/dx", "LSTM dL/dh", "LSTM dL/dc");
    for (int k = 0; k < n; k++) {
        printf("%6lld", (long long)dist[k]);
        for (int l = 0; l < N_LAYERS; l++) printf("  %10.3e %10.3e", cv[l].gx[k], cv[l].gh[k]);
        if (k) printf(" %10.3e\n", cv[2].gc[k]);
        else printf(" %10s\n", "-");
    }
    printf("\nLSTM forget-gate check: mean forget gate %.4f (bias %g); the forget-gate term carries the\n"
           "measured dL/dc_{T-1} back through prod diag(f_s) alone\n\n", cv[2].forget_mean, o->init.forget_bias);
    printf("%6s  %12s %12s %10s %14s\n", "d", "dL/dc meas.", "forget term", "meas/term", "|prod diag f|");
    for (int k = 1; k < n; k++) {
        printf("%6lld  %12.4e %12.4e", (long long)dist[k], cv[2].gc[k], cv[2].fpred[k]);
        if (cv[2].gc[k] > 0 && cv[2].fpred[k] > 0) printf(" %10.4g", cv[2].gc[k] / cv[2].fpred[k]);
        else printf(" %10s", "-");
        printf(" %14.4e\n", cv[2].fprod[k]);
    }
}

static void print_fit(const char *layer, const char *what, Fit f, int64_t T) {
    printf("%-10s %-6s decay per step %.5f", layer, what, f.rate);
    if (isnan(f.below)) printf(", stays above 1e-6 of its end value over all %lld steps\n", (long long)T - 1);
    else printf(", below 1e-6 of its end value at distance %.0f\n", f.below);
}

static const char *const KEYS[N_LAYERS] = {"simple_rnn", "gru", "lstm"};

/* v, or NaN (left out of the plot) below float32's normal range. */
static double log_point(double v) { return v >= 1.2e-38 ? v : NAN; }

static int plot(const Options *o, const Curves *cv, int n, const int64_t *dist) {
    double xs[MAX_DIST], ys[5][MAX_DIST];
    for (int k = 0; k < n; k++) {
        xs[k] = (double)dist[k];
        for (int l = 0; l < N_LAYERS; l++) ys[l][k] = log_point(cv[l].gh[k]);
        ys[3][k] = log_point(cv[2].gc[k]);
        ys[4][k] = log_point(cv[2].fpred[k]);
    }
    const NnPlotSeries s[5] = {{"SimpleRNN dL/dh_t", xs, ys[0], n}, {"GRU dL/dh_t", xs, ys[1], n},
                               {"LSTM dL/dh_t", xs, ys[2], n},      {"LSTM dL/dc_t", xs, ys[3], n},
                               {"LSTM forget-gate term", xs, ys[4], n}};
    char title[200];
    snprintf(title, sizeof title, "Gradient of a loss on the last output, T = %lld, %lld units%s", (long long)o->length,
             (long long)o->units, o->init.recurrent_normal ? ", recurrent N(0, 0.05^2)" : "");
    if (o->init.forget_bias != 1.0)
        snprintf(title + strlen(title), sizeof title - strlen(title), ", forget bias %g", o->init.forget_bias);
    if (nn_plot_series_log_svg(o->common.plot, title, "distance T - t (steps)", "gradient norm (log scale)", 5, s) != 0) {
        fprintf(stderr, APP ": %s\n", tensor_last_error());
        return -1;
    }
    return 0;
}

int gf_run_gradient(const Options *o) {
    int64_t dist[MAX_DIST];
    const int n = gf_distances(o->length, 40, dist);
    Curves cv[N_LAYERS];
    for (int l = 0; l < N_LAYERS; l++)
        if (measure(o, (CellKind)l, n, dist, &cv[l]) != 0) return APP_EXIT_FAILURE;
    print_tables(o, cv, n, dist);
    printf("\nFitted over d >= 1 (dL/dc: relative to dL/dc_{T-1}):\n");
    Fit fx[N_LAYERS], fh[N_LAYERS], fc = fit_curve(cv[2].gc, dist, n, 1);
    for (int l = 0; l < N_LAYERS; l++) {
        fx[l] = fit_curve(cv[l].gx, dist, n, 0);
        fh[l] = fit_curve(cv[l].gh, dist, n, 0);
        print_fit(cell_names[l], "dL/dx", fx[l], o->length);
        print_fit(cell_names[l], "dL/dh", fh[l], o->length);
    }
    print_fit("LSTM", "dL/dc", fc, o->length);
    int rc = o->common.plot ? plot(o, cv, n, dist) : 0;
    if (o->common.json) {
        AppJson j;
        char key[64];
        app_json_begin(&j, stdout);
        app_json_string(&j, "mode", "gradient");
        app_json_int(&j, "length", o->length);
        app_json_int(&j, "units", o->units);
        for (int l = 0; l < N_LAYERS; l++) {
            snprintf(key, sizeof key, "%s_dx_decay", KEYS[l]), app_json_number(&j, key, fx[l].rate);
            snprintf(key, sizeof key, "%s_dh_decay", KEYS[l]), app_json_number(&j, key, fh[l].rate);
            snprintf(key, sizeof key, "%s_dx_below_1e6", KEYS[l]), app_json_number(&j, key, fx[l].below);
            snprintf(key, sizeof key, "%s_dh_below_1e6", KEYS[l]), app_json_number(&j, key, fh[l].below);
        }
        app_json_number(&j, "lstm_dc_decay", fc.rate);
        app_json_number(&j, "lstm_dc_below_1e6", fc.below);
        app_json_number(&j, "lstm_forget_mean", cv[2].forget_mean);
        app_json_end(&j);
    }
    return rc ? APP_EXIT_FAILURE : APP_EXIT_OK;
}
