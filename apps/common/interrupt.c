/* Stop signals and the report of an interrupted run (see interrupt.h). */
#include "common/interrupt.h"

#include "common/status.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stop_signal; /* the signal that asked the run to stop */
static struct sigaction previous_int, previous_term;

static void on_stop_signal(int signo) { stop_signal = signo; }

volatile sig_atomic_t *app_stop_flag(void) { return &stop_signal; }

void app_catch_stop_signals(void) {
    stop_signal = 0;
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = (int)SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_int);
    sigaction(SIGTERM, &sa, &previous_term);
}

void app_release_stop_signals(void) {
    sigaction(SIGINT, &previous_int, NULL);
    sigaction(SIGTERM, &previous_term, NULL);
}

const char *app_signal_name(int signo) {
    return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
}

/* Writes an argument so a POSIX shell reads it back unchanged; as the command word,
 * one holding '=' is quoted too, or the shell would read an assignment. */
static void put_shell_word(FILE *out, const char *word, bool command) {
    bool plain = *word != '\0' && !(command && strchr(word, '='));
    for (const char *c = word; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *c)) plain = false;
    if (plain) {
        fputs(word, out);
        return;
    }
    fputc('\'', out);
    for (const char *c = word; *c; c++) {
        if (*c == '\'') fputs("'\\''", out);
        else fputc(*c, out);
    }
    fputc('\'', out);
}

void app_print_resume_command(const AppOptions *o, const char *checkpoint) {
    /* The program as it was started, so the line runs as pasted from the same
     * directory. */
    const char *program = o->argc > 0 && o->argv[0] && *o->argv[0] ? o->argv[0] : o->app;
    fputs("resume with: ", stderr);
    put_shell_word(stderr, program, true);
    for (int i = 1; i < o->argc; i++) {
        if (strcmp(o->argv[i], "--resume") == 0) {
            i++; /* and its value */
            continue;
        }
        if (strncmp(o->argv[i], "--resume=", 9) == 0) continue;
        fputc(' ', stderr);
        put_shell_word(stderr, o->argv[i], false);
    }
    fputs(" --resume ", stderr);
    put_shell_word(stderr, checkpoint, false);
    fputc('\n', stderr);
}

int app_report_interrupted(const AppOptions *o, int signo, int64_t steps, const char *checkpoint) {
    fprintf(stderr, "%s: stopped by %s after step %lld; checkpoint written to %s\n", o->app,
            app_signal_name(signo), (long long)steps, checkpoint);
    app_print_resume_command(o, checkpoint);
    return APP_EXIT_SIGNAL_BASE + signo;
}
