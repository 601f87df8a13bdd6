/* The common options and the parser that combines them with an app's own (see
 * options.h): one getopt_long table per app, the app's entries first, and the values
 * of the common options range-checked here. */
#include "common/options.h"

#include "common/flags.h"
#include "common/status.h"

#include <lamina/nn/nn.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_OPTIONS = 64 };

/* Indexed by id - APP_OPT_DATA. */
static const AppOption COMMON[APP_OPT_COMMON_END - APP_OPT_DATA] = {
    {"data", APP_OPT_DATA, true},
    {"data-file", APP_OPT_DATA_FILE, true},
    {"seed", APP_OPT_SEED, true},
    {"threads", APP_OPT_THREADS, true},
    {"epochs", APP_OPT_EPOCHS, true},
    {"max-steps", APP_OPT_MAX_STEPS, true},
    {"batch-size", APP_OPT_BATCH_SIZE, true},
    {"lr", APP_OPT_LR, true},
    {"lr-schedule", APP_OPT_LR_SCHEDULE, true},
    {"reduce-lr-on-plateau", APP_OPT_REDUCE_LR, true},
    {"save", APP_OPT_SAVE, true},
    {"load", APP_OPT_LOAD, true},
    {"resume", APP_OPT_RESUME, true},
    {"checkpoint-every", APP_OPT_CHECKPOINT_EVERY, true},
    {"check-numerics", APP_OPT_CHECK_NUMERICS, false},
    {"summary", APP_OPT_SUMMARY, false},
    {"plot", APP_OPT_PLOT, true},
    {"quiet", APP_OPT_QUIET, false},
    {"json", APP_OPT_JSON, false},
    {"version", APP_OPT_VERSION, false},
    {"help", APP_OPT_HELP, false},
};

static struct option long_option(const AppOption *a) {
    return (struct option){a->name, a->has_value ? required_argument : no_argument, NULL, a->id};
}

/* The app's table: its own entries, then the common options it takes (--help and
 * --version always); ended by a zero entry. Returns the number of entries. */
static int build_table(const AppOptionSpec *s, struct option table[MAX_OPTIONS + 1]) {
    int n = 0;
    for (const AppOption *a = s->own; a && a->name && n < MAX_OPTIONS; a++) table[n++] = long_option(a);
    uint32_t accepts = s->accepts | APP_OPT_BIT(APP_OPT_VERSION) | APP_OPT_BIT(APP_OPT_HELP);
    for (int id = APP_OPT_DATA; id < APP_OPT_COMMON_END && n < MAX_OPTIONS; id++)
        if (accepts & APP_OPT_BIT(id)) table[n++] = long_option(&COMMON[id - APP_OPT_DATA]);
    table[n] = (struct option){0};
    return n;
}

/* The name messages use for an id: its first in the table; NULL when it has none. */
static const char *option_name(const struct option *table, int id) {
    for (const struct option *t = table; t->name; t++)
        if (t->val == id) return t->name;
    return NULL;
}

/* The id of the entry named `name` exactly. */
static int option_id(const struct option *table, const char *name) {
    for (const struct option *t = table; t->name; t++)
        if (strcmp(t->name, name) == 0) return t->val;
    return 0;
}

/* Reads the value of a common option into *o; false after printing why not. */
static bool parse_common(const AppOptionSpec *s, AppOptions *o, int id, const char *flag, const char *value) {
    const char *app = s->app;
    int64_t v;
    switch (id) {
    case APP_OPT_DATA: o->data_dir = value; return true;
    case APP_OPT_DATA_FILE: o->data_file = value; return true;
    case APP_OPT_SEED:
        if (!app_parse_int(app, flag, value, 0, INT64_MAX, &v)) return false;
        o->seed = (uint64_t)v;
        return true;
    case APP_OPT_THREADS:
        if (!app_parse_int(app, flag, value, 1, 1024, &v)) return false;
        o->threads = (int)v;
        return true;
    case APP_OPT_EPOCHS:
        if (!app_parse_int(app, flag, value, 1, s->max_epochs, &v)) return false;
        o->epochs = (int)v;
        return true;
    case APP_OPT_MAX_STEPS: return app_parse_int(app, flag, value, 1, s->max_steps, &o->max_steps);
    case APP_OPT_BATCH_SIZE: return app_parse_int(app, flag, value, 1, s->max_batch_size, &o->batch_size);
    case APP_OPT_LR: return app_parse_float(app, flag, value, 1e-9, 10.0, &o->lr);
    case APP_OPT_LR_SCHEDULE: return app_parse_lr_schedule(app, value, &o->lr_schedule);
    case APP_OPT_REDUCE_LR: return app_parse_reduce_lr(app, value, &o->reduce_lr);
    case APP_OPT_SAVE: o->save = value; return true;
    case APP_OPT_LOAD: o->load = value; return true;
    case APP_OPT_RESUME: o->resume = value; return true;
    case APP_OPT_CHECKPOINT_EVERY:
        if (s->checkpoint_every_expected)
            return app_parse_every(app, value, s->max_checkpoint_every, s->checkpoint_every_expected,
                                   &o->checkpoint_every, &o->checkpoint_in_epochs);
        return app_parse_every(app, value, 1000000000,
                               "N optimizer steps or Ne epochs (N from 1 to 1000000000), e.g. 500 or 1e",
                               &o->checkpoint_every, &o->checkpoint_in_epochs);
    case APP_OPT_CHECK_NUMERICS: o->check_numerics = true; return true;
    case APP_OPT_SUMMARY: o->summary = true; return true;
    case APP_OPT_PLOT: o->plot = value; return true;
    case APP_OPT_QUIET: o->quiet = true; return true;
    case APP_OPT_JSON: o->json = true; return true;
    default: return false;
    }
}

/* Fills names with the table's entries that `prefix` (of length len) begins, and
 * returns how many; an exact match alone when there is one, as getopt_long takes it. */
static int prefix_matches(const struct option *table, const char *prefix, size_t len,
                          const char *names[MAX_OPTIONS]) {
    int n = 0;
    for (const struct option *t = table; t->name; t++) {
        if (strncmp(t->name, prefix, len) != 0) continue;
        if (strlen(t->name) == len) {
            names[0] = t->name;
            return 1;
        }
        names[n++] = t->name;
    }
    return n;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "option '--s' is ambiguous: --save, --seed, ..." when the prefix names options
 * with different ids (aliases of one option are not ambiguous); false otherwise. */
static bool report_ambiguous(const AppOptionSpec *s, const struct option *table, const char *arg) {
    if (strncmp(arg, "--", 2) != 0) return false;
    const char *prefix = arg + 2;
    size_t len = strcspn(prefix, "=");
    const char *names[MAX_OPTIONS];
    int n = prefix_matches(table, prefix, len, names);
    bool distinct = false;
    for (int i = 1; i < n; i++)
        if (option_id(table, names[i]) != option_id(table, names[0])) distinct = true;
    if (!distinct) return false;
    qsort(names, (size_t)n, sizeof names[0], compare_names);
    fprintf(stderr, "%s: option '--%.*s' is ambiguous:", s->app, (int)len, prefix);
    for (int i = 0; i < n; i++) fprintf(stderr, "%s --%s", i ? "," : "", names[i]);
    fputs(" (see --help)\n", stderr);
    return true;
}

/* The message for what getopt_long refused, worded the same in every app: an
 * ambiguous prefix, an unknown option, a missing value, or a value given to an
 * option that takes none. */
static void report_bad_option(const AppOptionSpec *s, const struct option *table, char **argv) {
    const char *arg = argv[optind - 1];
    const char *name = optopt ? option_name(table, optopt) : NULL;
    if (report_ambiguous(s, table, arg)) return;
    if (!name)
        fprintf(stderr, "%s: unknown option '%s' (see --help)\n", s->app, arg);
    else if (strchr(arg, '='))
        fprintf(stderr, "%s: option '--%s' takes no value (see --help)\n", s->app, name);
    else
        fprintf(stderr, "%s: option '--%s' needs a value (see --help)\n", s->app, name);
}

int app_parse_options(const AppOptionSpec *s, AppOptions *o, int argc, char **argv) {
    struct option table[MAX_OPTIONS + 1];
    build_table(s, table);
    o->app = s->app;
    o->default_checkpoint = s->default_checkpoint;
    o->argc = argc;
    o->argv = argv;
    opterr = 0;
    int id;
    while ((id = getopt_long(argc, argv, "", table, NULL)) != -1) {
        const char *name = option_name(table, id);
        if (id == '?' || !name) {
            report_bad_option(s, table, argv);
            return APP_EXIT_USAGE;
        }
        char flag[48];
        snprintf(flag, sizeof flag, "--%s", name);
        if (id == APP_OPT_VERSION) {
            printf("lamina %s\n", LAMINA_VERSION);
            return APP_EXIT_OK;
        }
        if (id == APP_OPT_HELP) {
            s->usage(stdout);
            return APP_EXIT_OK;
        }
        bool ok = id >= APP_OPT_OWN ? s->parse_own(s->app_options, id, flag, optarg)
                                    : parse_common(s, o, id, flag, optarg);
        if (!ok) return APP_EXIT_USAGE;
    }
    if (o->lr_schedule.set && o->reduce_lr.set) { /* Keras refuses to set a scheduled rate too */
        fprintf(stderr, "%s: --lr-schedule and --reduce-lr-on-plateau both set the learning rate: give one of "
                        "them\n", s->app);
        return APP_EXIT_USAGE;
    }
    for (; optind < argc; optind++) {
        if (!s->operands) {
            fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", s->app, argv[optind]);
            return APP_EXIT_USAGE;
        }
        if (!s->parse_own(s->app_options, APP_OPT_OPERAND, NULL, argv[optind])) return APP_EXIT_USAGE;
    }
    return -1;
}
