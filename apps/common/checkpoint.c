/* Checkpoint and resume glue for nn_fit runs (see checkpoint.h). */
#include "common/checkpoint.h"

#include "common/interrupt.h"
#include "common/status.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool app_is_npz(const char *path) {
    size_t n = path ? strlen(path) : 0;
    return n >= 4 && strcasecmp(path + n - 4, ".npz") == 0;
}

bool app_check_resume_or_load(const AppOptions *o) {
    if (o->resume && app_is_npz(o->resume)) {
        fprintf(stderr, "%s: --resume %s: an .npz holds the weights alone; resume from a checkpoint (--save FILE "
                        "with another extension, or the --checkpoint-every file)\n",
                o->app, o->resume);
        return false;
    }
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
    if (!o->load) return true;
    if (app_is_npz(o->load)) /* a zip archive, as numpy.savez writes it */
        return app_check_readable(o->app, "--load", o->load, "PK\003\004", 4, "NumPy .npz");
    return app_check_readable(o->app, "--load", o->load, APP_WEIGHTS_MAGIC, APP_WEIGHTS_MAGIC_LEN, "lamina weights");
}

int app_load_weights(const AppOptions *o, Model *m) {
    return app_is_npz(o->load) ? nn_load_npz(m, o->load) : nn_load_weights(m, o->load);
}

const char *app_checkpoint_path(const AppOptions *o) {
    if (o->save && !app_is_npz(o->save)) return o->save;
    if (o->resume) return o->resume;
    return o->checkpoint_every ? o->default_checkpoint : NULL;
}

void app_fit_checkpoints(const AppOptions *o, int64_t steps_per_epoch, NnFitOpts *fit) {
    const char *path = app_checkpoint_path(o);
    if (path && path == o->default_checkpoint && !o->quiet)
        fprintf(stderr, "%s: checkpoints go to %s (%s)\n", o->app, path,
                o->save ? "--save FILE.npz holds the weights alone" : "no --save FILE given");
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

int app_save_model(const AppOptions *o, const Model *m, const char *what) {
    if (!o->save || (!o->load && !app_is_npz(o->save))) return 0; /* fit's last checkpoint is --save */
    int rc = app_is_npz(o->save) ? nn_save_npz(m, o->save) : nn_save_weights(m, o->save, false);
    if (rc == 0) return 0;
    fprintf(stderr, "%s: cannot save %s: %s\n", o->app, what, tensor_last_error());
    return APP_EXIT_FAILURE;
}
