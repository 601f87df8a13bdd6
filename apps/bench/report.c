/* bench's LSTM benchmark in the parent process: every config asked for, in rounds
 * alternating ours, ours at 1 thread (--scaling: the speed-up of --threads) and
 * PyTorch (--peers); the min of the mins and the median of the medians, as a table
 * with tokens/s and GFLOP/s of the nominal matrix products, or a JSON line per config. */
#include "bench/bench_internal.h"

#include "common/json.h"
#include "common/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sort_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct Rounds {
    Result r[MAX_ROUNDS];
    int n;
} Rounds;

static void rounds_add(Rounds *rs, Result r) {
    if (r.ok && rs->n < MAX_ROUNDS) rs->r[rs->n++] = r;
}

/* Min of the mins, median of the medians, the largest peak memory. */
static Result rounds_result(const Rounds *rs) {
    if (rs->n == 0) return (Result){0};
    Result out = rs->r[0];
    for (int md = 0; md < 2; md++) {
        double meds[MAX_ROUNDS];
        for (int i = 0; i < rs->n; i++) {
            out.min[md] = fmin(out.min[md], rs->r[i].min[md]);
            out.cpu[md] = fmin(out.cpu[md], rs->r[i].cpu[md]);
            out.rss = fmax(out.rss, rs->r[i].rss);
            meds[i] = rs->r[i].med[md];
        }
        out.med[md] = sort_median(meds, rs->n);
    }
    return out;
}

static void print_row(const char *who, const Result *r, int md, double units, double flops, const char *note) {
    printf("    %-9s %9.2f %9.2f %12.0f %9.1f %9.0f   %s\n", who, r->min[md], r->med[md], 1e3 * units / r->med[md],
           flops / (r->med[md] * 1e6), r->rss, note ? note : "");
}

/* One config's results: a JSON line, or the table. */
static void report(const Config *c, const Options *o, const Result *ours, const Result *one, const Result *torch) {
    const double units = (double)c->batch * (c->unit[0] == 't' ? (double)c->T : 1.0), f = forward_flops(c);
    const double flops[2] = {3 * f, f};
    const bool want[2] = {o->train, o->infer};
    if (o->common.json) {
        AppJson j;
        char key[64];
        app_json_begin(&j, stdout);
        app_json_string(&j, "config", c->name);
        app_json_int(&j, "threads", o->common.threads);
        app_json_string(&j, "unit", c->unit);
        app_json_number(&j, "peak_rss_mb", ours->rss);
        if (torch->ok) app_json_string(&j, "torch_setting", torch->setting);
        if (torch->ok) app_json_number(&j, "torch_peak_rss_mb", torch->rss);
        for (int md = 0; md < 2; md++) {
            if (!want[md]) continue;
#define KEY(fmt) (snprintf(key, sizeof key, fmt, MODES[md]), key)
            app_json_number(&j, KEY("%s_ms_min"), ours->min[md]);
            app_json_number(&j, KEY("%s_ms_median"), ours->med[md]);
            app_json_number(&j, KEY("%s_cpu_ms_min"), ours->cpu[md]);
            app_json_number(&j, KEY("%s_per_s"), 1e3 * units / ours->med[md]);
            app_json_number(&j, KEY("%s_gflops"), flops[md] / (ours->med[md] * 1e6));
            if (one->ok) app_json_number(&j, KEY("%s_speedup_vs_1_thread"), one->med[md] / ours->med[md]);
            if (torch->ok) {
                app_json_number(&j, KEY("torch_%s_ms_min"), torch->min[md]);
                app_json_number(&j, KEY("torch_%s_ms_median"), torch->med[md]);
                app_json_number(&j, KEY("%s_ratio"), torch->med[md] / ours->med[md]);
            }
#undef KEY
        }
        app_json_end(&j);
        return;
    }
    printf("\nconfig %s: %s; batch %lld, length %lld\n", c->name, c->layers, (long long)c->batch, (long long)c->T);
    printf("              ms/step   ms/step %10s/s   GFLOP/s   peak RSS\n", c->unit);
    printf("                  min    median     (median)  (median)        MB\n");
    for (int md = 0; md < 2; md++) {
        if (!want[md]) continue;
        printf("  %s\n", MODES[md]);
        print_row("lamina", ours, md, units, flops[md], NULL);
        if (one->ok) {
            char note[64];
            snprintf(note, sizeof note, "%d threads / 1 thread: %.2fx", o->common.threads,
                     one->med[md] / ours->med[md]);
            print_row("1 thread", one, md, units, flops[md], note);
        }
        if (torch->ok) {
            print_row("PyTorch", torch, md, units, flops[md], torch->setting);
            printf("    ours/PyTorch throughput: %.2fx (median), %.2fx (min); peak memory %.2fx\n",
                   torch->med[md] / ours->med[md], torch->min[md] / ours->min[md], ours->rss / torch->rss);
        }
    }
}

int run_parent(const Options *o) {
    const char *policy = getenv("OMP_WAIT_POLICY");
    if (!o->common.json)
        printf("lamina bench: %d thread%s (OMP_WAIT_POLICY=%s), %s SGEMM, %d steps x %d reps after %d warm-up "
               "steps, %d round%s%s\n",
               o->common.threads, o->common.threads > 1 ? "s" : "", policy ? policy : "passive",
               tensor_sgemm_kernel_name(), o->steps, o->reps, o->warmup, o->rounds, o->rounds > 1 ? "s" : "",
               o->peers ? "; PyTorch at its best thread setting" : "");
    int rc = APP_EXIT_OK;
    for (int k = 0; k < 4; k++) {
        const Config *c = &CONFIGS[k];
        if (!strchr(o->configs, c->name[0])) continue;
        /* Rounds alternate ours and PyTorch, so a change in the machine's load between
         * them hits both. */
        Rounds r_ours = {0}, r_one = {0}, r_torch = {0};
        for (int r = 0; r < o->rounds; r++) {
            rounds_add(&r_ours, run_ours(c, o, o->common.threads));
            if (o->scaling && o->common.threads > 1) rounds_add(&r_one, run_ours(c, o, 1));
            if (o->peers) rounds_add(&r_torch, run_torch(c, o));
        }
        Result ours = rounds_result(&r_ours), one = rounds_result(&r_one), torch = rounds_result(&r_torch);
        if (!ours.ok) {
            fprintf(stderr, APP ": config %s failed\n", c->name);
            rc = APP_EXIT_FAILURE;
            continue;
        }
        if (o->peers && !torch.ok) fprintf(stderr, APP ": the PyTorch peer failed for config %s\n", c->name);
        report(c, o, &ours, &one, &torch);
    }
    fflush(stdout);
    return rc;
}

