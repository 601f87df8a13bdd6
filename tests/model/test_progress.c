/* The progress line of fit laid out for a width: never longer than it at 40, 80 and
 * 120 columns (nor at any width from 1 to 200), the bar going first and the rate
 * next as the width shrinks, and the width taken from $COLUMNS off a terminal. */
#include "nn/model/progress_internal.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static NnProgressLine running(void) {
    return (NnProgressLine){.epoch = 3, .epochs = 10, .step = 750, .total_steps = 1520, .seconds = 83,
                            .loss = 3.09, .accuracy = NAN, .val_loss = NAN, .val_accuracy = NAN, .rate = 21650};
}

static NnProgressLine finished(void) {
    return (NnProgressLine){.epoch = 10, .epochs = 10, .step = 1520, .total_steps = 1520, .done = true,
                            .seconds = 123.4, .loss = 3.09, .accuracy = 0.4123, .val_loss = 2.9,
                            .val_accuracy = 0.3812, .rate = 21650};
}

static void format_at(int width, const NnProgressLine *l, char *buf, size_t size) {
    size_t len = nn__progress_format(buf, size, width, l);
    cr_assert_eq(len, strlen(buf));
    cr_assert(len <= (size_t)width, "%zu columns at width %d: '%s'", len, width, buf);
    cr_assert_null(strchr(buf, '\n'));
}

Test(progress, a_running_line_at_40_80_120_columns) {
    NnProgressLine l = running();
    char buf[256];
    format_at(120, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 3/10 750/1520 [=============>................] - ETA: 1:23 - loss: 3.0900 - "
                          "21650 samples/s");
    format_at(80, &l, buf, sizeof buf);
    cr_assert(strstr(buf, "Epoch 3/10 750/1520 [") == buf, "%s", buf);
    cr_assert(strstr(buf, "] - ETA: 1:23 - loss: 3.0900 - 21650 samples/s"), "%s", buf);
    format_at(40, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 3/10 750/1520 - loss: 3.0900");
}

Test(progress, a_finished_line_at_40_80_120_columns) {
    NnProgressLine l = finished();
    char buf[256];
    /* All of it, with the shortest bar, takes 135 columns: at 120 the bar goes, then the rate. */
    format_at(135, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 [==========] - 2:03 - loss: 3.0900 - accuracy: 0.4123 - "
                          "val_loss: 2.9000 - val_accuracy: 0.3812 - 21650 samples/s");
    format_at(120, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 - 2:03 - loss: 3.0900 - accuracy: 0.4123 - val_loss: 2.9000 - "
                          "val_accuracy: 0.3812");
    /* 80: the accuracies go too; the validation loss stays. */
    format_at(80, &l, buf, sizeof buf);
    cr_assert_str_eq(buf, "Epoch 10/10 1520/1520 - 2:03 - loss: 3.0900 - val_loss: 2.9000");
    format_at(40, &l, buf, sizeof buf);
    cr_assert(strstr(buf, "loss: 3.0900"), "%s", buf);
    cr_assert_null(strstr(buf, "samples/s"), "%s", buf);
}

Test(progress, never_longer_than_the_width) {
    NnProgressLine lines[] = {running(), finished(), running()};
    lines[2].loss = 1e30; /* a huge loss is cut, never wrapped */
    lines[2].seconds = 1e9;
    char buf[512];
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        for (int width = 1; width <= 200; width++) format_at(width, &lines[i], buf, sizeof buf);
    char small[16];
    nn__progress_format(small, sizeof small, 120, &lines[0]);
    cr_assert_eq(strlen(small), sizeof small - 1);
    cr_assert_eq(nn__progress_format(buf, sizeof buf, 0, &lines[0]), 0);
    cr_assert_str_eq(buf, "");
}

Test(progress, the_bar_shrinks_before_anything_goes) {
    NnProgressLine l = running();
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
    cr_assert_eq(nn__progress_width(f), 80);
    setenv("COLUMNS", "132", 1);
    cr_assert_eq(nn__progress_width(f), 132);
    setenv("COLUMNS", "wide", 1);
    cr_assert_eq(nn__progress_width(f), 80);
    unsetenv("COLUMNS");
    fclose(f);
}
