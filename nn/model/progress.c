/* Progress display for fit (see progress_internal.h). */
#include "nn/model/progress_internal.h"
#include "tensor/system.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

void nn__progress_epoch_start(NnProgress *p, FILE *out, bool quiet, int epoch, int epochs, int64_t total_steps) {
    p->out = out;
    p->quiet = quiet;
    p->tty = isatty(fileno(out));
    p->total_steps = total_steps;
    p->start = tensor_seconds();
    p->last_draw = 0;
    if (!quiet) {
        fprintf(out, "Epoch %d/%d\n", epoch, epochs);
        fflush(out);
    }
}

static void draw_bar(NnProgress *p, int64_t step) {
    const int width = 30;
    int filled = p->total_steps ? (int)((double)width * (double)step / (double)p->total_steps) : width;
    fprintf(p->out, "%lld/%lld [", (long long)step, (long long)p->total_steps);
    for (int i = 0; i < width; i++) fputc(i < filled - 1 ? '=' : i == filled - 1 ? (step == p->total_steps ? '=' : '>') : '.', p->out);
    fputc(']', p->out);
}

void nn__progress_update(NnProgress *p, int64_t step, double loss, int64_t samples) {
    if (p->quiet || !p->tty) return;
    double now = tensor_seconds();
    if (step != p->total_steps && now - p->last_draw < 0.1) return;
    p->last_draw = now;
    double elapsed = now - p->start;
    double eta = step > 0 ? elapsed / (double)step * (double)(p->total_steps - step) : 0;
    fputc('\r', p->out);
    draw_bar(p, step);
    fprintf(p->out, " - ETA: %.0fs - loss: %.4f - %.0f samples/s\033[K", eta, loss,
            elapsed > 0 ? (double)samples / elapsed : 0.0);
    fflush(p->out);
}

void nn__progress_epoch_end(NnProgress *p, int64_t steps, double loss, double accuracy, double val_loss,
                            double val_accuracy, int64_t samples) {
    if (p->quiet) return;
    double elapsed = tensor_seconds() - p->start;
    if (p->tty) fputc('\r', p->out);
    draw_bar(p, steps);
    fprintf(p->out, " - %.1fs - loss: %.4f", elapsed, loss);
    if (!isnan(accuracy)) fprintf(p->out, " - accuracy: %.4f", accuracy);
    if (!isnan(val_loss)) fprintf(p->out, " - val_loss: %.4f", val_loss);
    if (!isnan(val_accuracy)) fprintf(p->out, " - val_accuracy: %.4f", val_accuracy);
    fprintf(p->out, " - %.0f samples/s%s\n", elapsed > 0 ? (double)samples / elapsed : 0.0, p->tty ? "\033[K" : "");
    fflush(p->out);
}
