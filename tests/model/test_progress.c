/* The progress bar: its line laid out at 40, 60, 80 and 120 columns (never longer
 * than the width, at any width from 1 to 200; the loss always kept; the bar going
 * first, then the rate, the optional metrics, the time, the other essential metrics
 * and the epoch), the width taken from $COLUMNS off a terminal, and, on a fake clock,
 * the plain lines written to a file: one every ten seconds and the epoch's last. */
#include "nn/model/progress.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const NnMetric RUNNING[] = {{"loss", 3.09, false}};

static const NnMetric FINISHED[] = {{"loss", 3.09, false}, {"val_loss", 2.9, false}, {"top1", 0.4123, true},
                                    {"top5", 0.6812, true}};

static NnProgbarLine running(void) {
    return (NnProgbarLine){.epoch = 3, .epochs = 10, .step = 750, .total = 1520, .seconds = 83, .n_metrics = 1,
                           .metrics = RUNNING, .rate = 21650, .unit = "samples"};
}

static NnProgbarLine finished(void) {
    return (NnProgbarLine){.epoch = 10, .epochs = 10, .step = 1520, .total = 1520, .done = true, .seconds = 123.4,
                           .n_metrics = 4, .metrics = FINISHED, .rate = 21650, .unit = "tokens"};
}

static void format_at(int width, const NnProgbarLine *l, char *buf, size_t size) {
    size_t len = nn_progbar_format(buf, size, width, l);
    cr_assert_eq(len, strlen(buf));
    cr_assert(len <= (size_t)width, "%zu columns at width %d: '%s'", len, width, buf);
    cr_assert_null(strchr(buf, '\n'));
}

Test(progress, a_running_line_at_40_60_80_120_columns) {
    NnProgbarLine l = running();
    char buf[256];
    format_at(120, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 3/10 750/1520 [=============>................] - ETA: 1:23 - loss: 3.0900 - "
                          "21650 samples/s");
    format_at(80, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 3/10 750/1520 [=====>.......] - ETA: 1:23 - loss: 3.0900 - 21650 samples/s");
    format_at(60, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 3/10 750/1520 - ETA: 1:23 - loss: 3.0900");
    format_at(40, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 3/10 750/1520 - loss: 3.0900");
}

Test(progress, a_finished_line_drops_fields_in_order) {
    NnProgbarLine l = finished();
    char buf[256];
    /* All of it, with the shortest bar, takes 122 columns. */
    format_at(122, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 [==========] - 2:03 - loss: 3.0900 - val_loss: 2.9000 - "
                          "top1: 0.4123 - top5: 0.6812 - 21650 tokens/s");
    format_at(120, &l, buf, sizeof buf); /* the bar goes first */
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 - 2:03 - loss: 3.0900 - val_loss: 2.9000 - top1: 0.4123 - "
                          "top5: 0.6812 - 21650 tokens/s");
    format_at(80, &l, buf, sizeof buf); /* then the rate and the last optional metric */
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 - 2:03 - loss: 3.0900 - val_loss: 2.9000 - top1: 0.4123");
    format_at(60, &l, buf, sizeof buf); /* then the other optional one and the time */
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 - loss: 3.0900 - val_loss: 2.9000");
    format_at(40, &l, buf, sizeof buf); /* then val_loss; the epoch would be next */
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 - loss: 3.0900");
    format_at(30, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "1520/1520 - loss: 3.0900");
}

Test(progress, the_loss_is_the_first_essential_metric_and_nan_is_left_out) {
    const NnMetric m[] = {{"alpha", 0.0000251, true}, {"accuracy", NAN, false}, {"loss", 1.5, false}};
    NnProgbarLine l = {.epoch = 2, .epochs = 5, .step = 37, .total = 100, .percent = true, .seconds = 4000,
                       .n_metrics = 3, .metrics = m, .rate = 123456.4, .unit = "words"};
    char buf[256];
    format_at(120, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 2/5 37% [==========>...................] - ETA: 1:06:40 - alpha: 2.5100e-05 - "
                          "loss: 1.5000 - 123456 words/s");
    format_at(24, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "37% - loss: 1.5000");
}

Test(progress, never_longer_than_the_width) {
    NnProgbarLine lines[] = {running(), finished(), running()};
    const NnMetric huge[] = {{"loss", 1e30, false}};
    lines[2].metrics = huge; /* a huge loss is cut, never wrapped */
    lines[2].seconds = 1e9;
    char buf[512];
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        for (int width = 1; width <= 200; width++) {
            format_at(width, &lines[i], buf, sizeof buf);
            if (width >= 24 && i < 2) cr_assert(strstr(buf, "loss: 3.0900"), "%d: %s", width, buf);
        }
    char small[16];
    nn_progbar_format(small, sizeof small, 120, &lines[0]);
    cr_assert_eq(strlen(small), sizeof small - 1);
    cr_assert_eq(nn_progbar_format(buf, sizeof buf, 0, &lines[0]), 0);
    cr_assert_str_eq(buf, "");
}

Test(progress, the_bar_shrinks_before_anything_goes) {
    NnProgbarLine l = running();
    char wide[256], narrow[256];
    format_at(120, &l, wide, sizeof wide);
    size_t bar_wide = strcspn(wide, "]") - strcspn(wide, "[");
    format_at((int)strlen(wide) - 5, &l, narrow, sizeof narrow);
    size_t bar_narrow = strcspn(narrow, "]") - strcspn(narrow, "[");
    cr_assert_eq(bar_narrow + 5, bar_wide, "%s | %s", wide, narrow);
    cr_assert(strstr(narrow, "samples/s"), "%s", narrow);
}

Test(progress, the_width_of_a_file_is_columns_else_80) {
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    unsetenv("COLUMNS");
    cr_assert_eq(nn_progbar_width(f), 80);
    setenv("COLUMNS", "132", 1);
    cr_assert_eq(nn_progbar_width(f), 132);
    setenv("COLUMNS", "wide", 1);
    cr_assert_eq(nn_progbar_width(f), 80);
    unsetenv("COLUMNS");
    fclose(f);
}

static double fake_now;
static double fake_clock(void) { return fake_now; }

/* Steps one second apart, 25 of them, to a file (80 columns): a line at 10 s and
 * 20 s, and the end, whose rate leaves out the evaluation after the last step. */
Test(progress, a_file_gets_a_line_every_ten_seconds_and_the_last) {
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    unsetenv("COLUMNS");
    fake_now = 100;
    NnProgbar p;
    nn_progbar_start(&p, &(NnProgbarOpts){.out = f, .epoch = 1, .epochs = 2, .total = 25, .unit = "samples",
                                          .clock = fake_clock});
    cr_assert_not(p.tty);
    for (int64_t s = 1; s <= 25; s++) {
        fake_now = 100 + (double)s;
        NnMetric loss = {"loss", 1.0 / (double)s, false};
        nn_progbar_update(&p, s, 10 * s, 1, &loss);
    }
    fake_now = 130; /* an evaluation after the last step */
    nn_progbar_finish(&p, 2, (const NnMetric[]){{"loss", 0.04, false}, {"val_loss", 0.5, false}});
    cr_assert_not(p.open);
    nn_progbar_break(&p); /* nothing is open: writes nothing */
    rewind(f);
    char text[1024] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert_str_eq(text, "Epoch 1/2 10/25 [=======>.............] - ETA: 15s - loss: 0.1000 - 10 samples/s\n"
                           "Epoch 1/2 20/25 [================>.....] - ETA: 5s - loss: 0.0500 - 10 samples/s\n"
                           "Epoch 1/2 25/25 - 30.0s - loss: 0.0400 - val_loss: 0.5000 - 10 samples/s\n");
}

Test(progress, quiet_draws_nothing) {
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    fake_now = 0.5;
    NnProgbar p;
    nn_progbar_start(&p, &(NnProgbarOpts){.out = f, .total = 3, .quiet = true, .clock = fake_clock});
    for (int64_t s = 1; s <= 3; s++) {
        fake_now += 20;
        nn_progbar_update(&p, s, s, 1, RUNNING);
    }
    nn_progbar_finish(&p, 1, RUNNING);
    cr_assert_eq(ftell(f), 0);
    fclose(f);
}
