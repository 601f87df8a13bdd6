/* Stopping a run on SIGINT / SIGTERM at a safe point, and telling the user how to go
 * on: the handlers that only request the stop, and the report of a stopped run with
 * the command that resumes it (this command line, shell-quoted, with --resume). */
#ifndef APPS_COMMON_INTERRUPT_H
#define APPS_COMMON_INTERRUPT_H

#include "common/options.h"

#include <signal.h>
#include <stdint.h>

/* The flag the stop handlers set to the signal's number; 0 until one arrives. */
volatile sig_atomic_t *app_stop_flag(void);
/* Clears the flag and, until app_release_stop_signals, lets SIGINT and SIGTERM only
 * set it, for a loop to stop at its next safe point (word2vec: between rounds). The
 * handlers reset on delivery, so a second signal takes its default effect at once
 * (Ctrl-C twice kills). */
void app_catch_stop_signals(void);
/* Restores the handlers app_catch_stop_signals replaced. */
void app_release_stop_signals(void);

/* "SIGINT", "SIGTERM", or "a signal". */
const char *app_signal_name(int signo);

/* Prints "resume with: <argv[0]> <this command line without any --resume> --resume PATH"
 * to stderr, every word quoted so a POSIX shell reads it back unchanged. */
void app_print_resume_command(const AppOptions *o, const char *checkpoint);

/* Reports training stopped by a signal: the step reached, where its checkpoint was
 * written and the command that resumes it, on stderr. Returns the exit status,
 * 128 + signo. */
int app_report_interrupted(const AppOptions *o, int signo, int64_t steps, const char *checkpoint);

#endif
