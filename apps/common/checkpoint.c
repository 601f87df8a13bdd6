/* Checkpoint and resume glue for nn_fit runs (see checkpoint.h). */
#include "common/checkpoint.h"

#include "common/interrupt.h"
#include "common/status.h"

#include <stdio.h>

bool app_check_resume_or_load(const AppOptions *o) {
    if (!o->resume || !o->load) return true;
    fprintf(stderr, "%s: --resume continues training and --load skips it: give one of them\n", o->app);
    return false;
}

bool app_check_fit_outputs(const AppOptions *o, const AppOutput *extra, int n_extra) {
    const char *checkpoint = app_checkpoint_path(o);
    const AppOutput outputs[] = {{"--save", o->save},
                                 {"--plot", o->plot},
                                 {o->resume && checkpoint == o->resume ? "--resume" : "the checkpoint file",
                                  checkpoint == o->save ? NULL : checkpoint}};
    return app_check_outputs(o->app, outputs, 3) && app_check_outputs(o->app, extra, n_extra);
}

bool app_check_load(const AppOptions *o) {
    return !o->load ||
           app_check_readable(o->app, "--load", o->load, APP_WEIGHTS_MAGIC, APP_WEIGHTS_MAGIC_LEN, "lamina weights");
}

const char *app_checkpoint_path(const AppOptions *o) {
    if (o->save) return o->save;
    if (o->resume) return o->resume;
    return o->checkpoint_every ? o->default_checkpoint : NULL;
}

void app_fit_checkpoints(const AppOptions *o, int64_t steps_per_epoch, NnFitOpts *fit) {
    const char *path = app_checkpoint_path(o);
    if (path && !o->save && !o->resume && !o->quiet)
        fprintf(stderr, "%s: checkpoints go to %s (no --save FILE given)\n", o->app, path);
    fit->checkpoint_path = path;
    fit->checkpoint_every =
        o->checkpoint_in_epochs ? o->checkpoint_every * steps_per_epoch : o->checkpoint_every;
    fit->resume_path = o->resume;
    fit->handle_signals = true;
    fit->signal_checkpoint_path = o->default_checkpoint;
}

int app_fit_failed(const AppOptions *o, const Model *m, bool line_open) {
    /* A resumed model has taken steps: none means the checkpoint was refused. */
    bool refused = o->resume && nn_model_steps(m) == 0;
    fprintf(stderr, "%s%s: %s: %s\n", line_open ? "\n" : "", o->app,
            refused ? "cannot resume" : "training failed", tensor_last_error());
    return refused ? APP_EXIT_USAGE : APP_EXIT_FAILURE;
}

int app_fit_interrupted(const AppOptions *o, const Model *m, int signo, bool line_open) {
    if (line_open) fputc('\n', stderr);
    const char *path = app_checkpoint_path(o);
    return app_report_interrupted(o, signo, nn_model_steps(m), path ? path : o->default_checkpoint);
}

int app_save_loaded(const AppOptions *o, const Model *m, const char *what) {
    if (!o->save || !o->load) return 0;
    if (nn_save_weights(m, o->save, false) == 0) return 0;
    fprintf(stderr, "%s: cannot save %s: %s\n", o->app, what, tensor_last_error());
    return APP_EXIT_FAILURE;
}
