/* The checkpoint and resume glue of the apps that train through nn_fit (sonnets,
 * sherlock): --resume against --load, the files a run writes and loads checked before
 * any work (with paths.h), which file a checkpoint goes to, nn_fit's
 * checkpoint and signal settings, and what a failed, refused or interrupted fit
 * reports and exits with. */
#ifndef APPS_COMMON_CHECKPOINT_H
#define APPS_COMMON_CHECKPOINT_H

#include "common/options.h"
#include "common/paths.h"

#include <lamina/nn/nn.h>

#include <stdbool.h>

/* --resume continues training and --load skips it: false after saying so when both
 * are given. */
bool app_check_resume_or_load(const AppOptions *o);

/* Before any work: every file the run will write (--save, --plot, the checkpoint file
 * of app_checkpoint_path, and the n_extra files of extra) can be written, and --load,
 * if given, is a readable lamina weights file. False after saying why not. */
bool app_check_fit_outputs(const AppOptions *o, const AppOutput *extra, int n_extra);
bool app_check_load(const AppOptions *o);

/* The checkpoint file: --save, else --resume's file, else the default
 * (AppOptions.default_checkpoint) when --checkpoint-every asks for one; NULL when
 * none is wanted. */
const char *app_checkpoint_path(const AppOptions *o);

/* Sets fit's checkpoint fields from the options (the file above, --checkpoint-every
 * in optimizer steps given the steps an epoch takes, --resume, and signals that stop
 * training with a checkpoint, to the default file when no other is named), and says
 * on stderr when checkpoints go to the default file unasked (unless --quiet). */
void app_fit_checkpoints(const AppOptions *o, int64_t steps_per_epoch, NnFitOpts *fit);

/* After nn_fit returned NULL: "<app>: cannot resume: <why>" when the --resume
 * checkpoint was refused (exit 2), else "<app>: training failed: <why>" (exit 1).
 * line_open: a progress line without its newline is on stderr. Returns the status. */
int app_fit_failed(const AppOptions *o, const Model *m, bool line_open);

/* After a signal stopped nn_fit: reports where the checkpoint went and how to resume
 * (app_report_interrupted); returns 128 + signo. */
int app_fit_interrupted(const AppOptions *o, const Model *m, int signo, bool line_open);

/* Whether path names a NumPy .npz file (by its extension): --save and --load then
 * write and read the Keras-named weights alone, which numpy.load opens and
 * scripts/convert_weights.py turns into PyTorch or Keras weights; any other name is a
 * lamina checkpoint (weights, optimizer and training state). */
bool app_is_npz(const char *path);
/* --load's weights into m, by its kind (app_is_npz). Returns 0 or -1 (tensor_last_error). */
int app_load_weights(const AppOptions *o, Model *m);
/* The --save file when fit's last checkpoint is not it: the loaded weights after
 * --load, or the trained ones as an .npz. Returns 0, or APP_EXIT_FAILURE after
 * "<app>: cannot save <what>: <why>". */
int app_save_model(const AppOptions *o, const Model *m, const char *what);

#endif
