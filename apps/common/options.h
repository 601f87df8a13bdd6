/* The command line every app shares: one description of the common options (--data,
 * --seed, --threads, --epochs, --save, --resume, --json, --help, ...), parsed in one
 * place, combined with each app's own options. An app says which common options it
 * takes and their upper bounds, lists its own, and parses only the values of those. */
#ifndef APPS_COMMON_OPTIONS_H
#define APPS_COMMON_OPTIONS_H

#include "common/lr_options.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Ids of the common options (getopt_long values), in the order of the table in
 * options.c. --help and --version are taken by every app. */
typedef enum AppOptionId {
    APP_OPT_DATA = 256,       /* --data DIR */
    APP_OPT_DATA_FILE,        /* --data-file FILE */
    APP_OPT_SEED,             /* --seed N, 0 up */
    APP_OPT_THREADS,          /* --threads N, 1 to 1024 */
    APP_OPT_EPOCHS,           /* --epochs N, 1 to max_epochs */
    APP_OPT_MAX_STEPS,        /* --max-steps N, 1 to max_steps */
    APP_OPT_BATCH_SIZE,       /* --batch-size N, 1 to max_batch_size */
    APP_OPT_LR,               /* --lr X, 1e-9 to 10 */
    APP_OPT_LR_SCHEDULE,      /* --lr-schedule SPEC (lr_options.h) */
    APP_OPT_REDUCE_LR,        /* --reduce-lr-on-plateau SPEC (lr_options.h) */
    APP_OPT_SAVE,             /* --save FILE */
    APP_OPT_LOAD,             /* --load FILE */
    APP_OPT_RESUME,           /* --resume FILE */
    APP_OPT_CHECKPOINT_EVERY, /* --checkpoint-every N or Ne */
    APP_OPT_CHECK_NUMERICS,   /* --check-numerics */
    APP_OPT_SUMMARY,          /* --summary */
    APP_OPT_PLOT,             /* --plot FILE.svg */
    APP_OPT_QUIET,            /* --quiet */
    APP_OPT_JSON,             /* --json */
    APP_OPT_VERSION,          /* --version */
    APP_OPT_HELP,             /* --help */
    APP_OPT_COMMON_END,
    APP_OPT_OWN = 512,        /* the first id free for an app's own options */
    APP_OPT_OPERAND = 1023    /* what an app's parser is given for an operand */
} AppOptionId;

/* The bit of a common option in AppOptionSpec.accepts, and all of them. */
#define APP_OPT_BIT(id) (1u << ((id) - APP_OPT_DATA))
#define APP_OPT_ALL (APP_OPT_BIT(APP_OPT_COMMON_END) - 1u)

/* The usual default checkpoint of an app: ./<app>.checkpoint. */
#define APP_DEFAULT_CHECKPOINT(app) "./" app ".checkpoint"

/* The values of the common options, with the command line they came from. The app
 * sets the defaults before parsing; app_parse_options fills the rest. */
typedef struct AppOptions {
    const char *app;                /* the program's name, for messages */
    const char *default_checkpoint; /* where a checkpoint goes when no option names a file */
    int argc;                       /* the command line, for the command that resumes a run */
    char **argv;
    const char *data_dir, *data_file, *save, *load, *resume, *plot;
    uint64_t seed;
    int threads, epochs;
    int64_t max_steps, batch_size;
    int64_t checkpoint_every; /* 0: none; in epochs when checkpoint_in_epochs */
    double lr;
    AppLrSchedule lr_schedule;      /* --lr-schedule */
    AppReduceLr reduce_lr;          /* --reduce-lr-on-plateau */
    bool checkpoint_in_epochs, check_numerics, summary, quiet, json;
} AppOptions;

/* One option of an app's own: its long name (without --), id and whether it takes a
 * value. An entry with a common option's id is another name for it (word2vec's
 * --iter for --epochs); messages name an option by the first name its id has, the
 * app's own entries coming first. */
typedef struct AppOption {
    const char *name;
    int id;
    bool has_value;
} AppOption;

typedef struct AppOptionSpec {
    const char *app;
    void (*usage)(FILE *out); /* the --help text */
    const char *default_checkpoint;
    uint32_t accepts;         /* APP_OPT_BIT of every common option the app takes */
    int64_t max_epochs, max_steps, max_batch_size; /* the upper bounds of those values */
    /* --checkpoint-every's unit: its upper bound and what a bad value's message says
     * was expected (0 / NULL: nn_fit's optimizer steps, up to 10^9). */
    int64_t max_checkpoint_every;
    const char *checkpoint_every_expected;
    const AppOption *own; /* ended by an entry with a NULL name; may be NULL */
    /* Reads the value of one of the app's own options (NULL for one without a value;
     * flag is "--name" for messages), or an operand (id APP_OPT_OPERAND, flag NULL).
     * Returns false after printing why the value is refused. */
    bool (*parse_own)(void *app_options, int id, const char *flag, const char *value);
    void *app_options;
    bool operands; /* takes operands (else "unexpected argument") */
    /* Ignored: every app now words a refused option the same way (see
     * app_parse_options). Kept only so that initialisers still setting it compile;
     * set nothing here. */
    const char *bad_option;
} AppOptionSpec;

/* Parses argv (GNU long options: --name VALUE, --name=VALUE, unambiguous prefixes)
 * into *o and the app's own options, in order: --help and --version print and end
 * the parse there. Returns -1 to go on, else the status to exit with (APP_EXIT_OK
 * after --help or --version, APP_EXIT_USAGE after printing why the line is refused).
 * A refused option reads the same in every app, "<app>: " then one of
 *   unknown option '--x' (see --help)
 *   option '--s' is ambiguous: --save, --seed, --summary (see --help)
 *   option '--seed' needs a value (see --help)
 *   option '--quiet' takes no value (see --help)                                   */
int app_parse_options(const AppOptionSpec *spec, AppOptions *o, int argc, char **argv);

#endif
