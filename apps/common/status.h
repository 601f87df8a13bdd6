/* The exit statuses every bundled app uses, so scripts can tell a failed run from a
 * bad command line and from a run stopped by a signal. */
#ifndef APPS_COMMON_STATUS_H
#define APPS_COMMON_STATUS_H

/* 0 success, 1 a failure while running (training diverged, a file could not be
 * written), 2 bad usage (unknown flag, bad value, missing corpus); training stopped by
 * a signal exits 128 + its number (130 SIGINT, 143 SIGTERM), as a shell reports a
 * process the signal killed. */
enum { APP_EXIT_OK = 0, APP_EXIT_FAILURE = 1, APP_EXIT_USAGE = 2, APP_EXIT_SIGNAL_BASE = 128 };

#endif
