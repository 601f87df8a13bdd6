/* CSVLogger as Keras's: a header of "epoch" and the sorted metric names, then one row
 * per epoch with its 0-based index and values that read back exactly as fit's. */
#include "callback_fixture.h"

#include <math.h>

static int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

/* Line `i` (0-based) of text, in a static buffer. */
static char *line(const char *text, int i) {
    static char buf[512];
    for (; i > 0; i--) text = strchr(text, '\n') + 1;
    size_t n = strcspn(text, "\n");
    memcpy(buf, text, n);
    buf[n] = 0;
    return buf;
}

Test(csv_logger, one_row_per_epoch_under_kerass_header) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *m = fixture_model(nn_sgd(.lr = 0.25f));
    char *path = fixture_temp();
    NnCsvLogger csv = {.path = path};
    NnCallback cb = nn_csv_logger_callback(&csv);
    NnHistory *h = nn_fit(m, x, y, .batch_size = 16, .epochs = 3, .quiet = true, .validation_split = 0.2f,
                          .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h, "%s", tensor_last_error());
    char *text = fixture_read(path);
    cr_assert_eq(count_lines(text), 4, "%s", text);
    cr_assert_str_eq(line(text, 0), "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss");
    for (int e = 0; e < 3; e++) {
        char *row = line(text, e + 1), *p = row;
        cr_assert_eq(strtol(p, &p, 10), e, "row %d is epoch %d (0-based): %s", e + 1, e, row);
        const double want[] = {h->accuracy[e], 0.25, h->loss[e], h->val_accuracy[e], h->val_loss[e]};
        for (int k = 0; k < 5; k++) {
            cr_assert_eq(*p, ',', "%s", row);
            double v = strtod(p + 1, &p);
            if (k == 1) cr_assert_eq((float)v, (float)want[k], "%s", row);
            else cr_assert_eq(v, want[k], "field %d of row %d reads back as the history's: %s", k + 1, e + 1, row);
        }
        cr_assert_eq(*p, 0);
    }
    cr_assert(strstr(line(text, 1), ",0.25,"), "the learning rate in its shortest form: %s", line(text, 1));
    free(text);
    nn_history_free(h);

    /* append: the rows go on under the same header, the epochs count from 0 again. */
    csv = (NnCsvLogger){.path = path, .append = true};
    cb = nn_csv_logger_callback(&csv);
    h = nn_fit(m, x, y, .batch_size = 16, .epochs = 2, .quiet = true, .validation_split = 0.2f, .callbacks = &cb,
               .n_callbacks = 1);
    cr_assert_not_null(h);
    text = fixture_read(path);
    cr_assert_eq(count_lines(text), 6, "%s", text);
    cr_assert_eq(strncmp(line(text, 4), "0,", 2), 0, "%s", text);
    free(text);
    nn_history_free(h);
    unlink(path);
    free(path);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}

Test(csv_logger, columns_follow_what_is_measured_and_bad_paths_fail) {
    Tensor *x, *y;
    fixture_data(&x, &y);
    Model *m = nn_sequential();
    nn_add(m, nn_embedding(.vocab = 27, .dim = 4));
    nn_add(m, nn_time_distributed(nn_dense(.units = 27, .activation = NN_SOFTMAX)));
    cr_assert_eq(nn_compile(m, .loss = NN_SPARSE_CATEGORICAL_CROSSENTROPY), 0);
    char *path = fixture_temp();
    NnCsvLogger csv = {.path = path, .separator = ';'};
    NnCallback cb = nn_csv_logger_callback(&csv);
    NnHistory *h = nn_fit(m, x, y, .batch_size = 16, .epochs = 2, .quiet = true, .callbacks = &cb, .n_callbacks = 1);
    cr_assert_not_null(h, "%s", tensor_last_error());
    char *text = fixture_read(path);
    cr_assert_str_eq(line(text, 0), "epoch;learning_rate;loss");
    cr_assert_eq(strncmp(line(text, 2), "1;0.001;", 8), 0, "%s", text);
    free(text);
    nn_history_free(h);
    csv = (NnCsvLogger){.path = "/nonexistent-dir/log.csv"};
    cb = nn_csv_logger_callback(&csv);
    cr_assert_null(nn_fit(m, x, y, .batch_size = 16, .quiet = true, .callbacks = &cb, .n_callbacks = 1));
    cr_assert(strstr(tensor_last_error(), "CSVLogger: cannot write /nonexistent-dir/log.csv"), "%s",
              tensor_last_error());
    unlink(path);
    free(path);
    nn_model_free(m);
    tensor_free(x);
    tensor_free(y);
}
