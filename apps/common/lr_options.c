/* --lr-schedule and --reduce-lr-on-plateau (see lr_options.h). */
#include "common/lr_options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One "key=value" (or "key") item of a comma-separated list, split in place. */
typedef struct Item {
    char key[32];
    const char *value; /* NULL: no '=' */
} Item;

/* The next item of *list (advanced past it); false at the end. */
static bool next_item(const char **list, Item *it, char *value, size_t cap) {
    if (!**list) return false;
    size_t n = strcspn(*list, ","), k = strcspn(*list, "=");
    size_t key_len = k < n ? k : n;
    snprintf(it->key, sizeof it->key, "%.*s", (int)(key_len < sizeof it->key ? key_len : sizeof it->key - 1), *list);
    it->value = NULL;
    if (k < n) {
        snprintf(value, cap, "%.*s", (int)(n - k - 1), *list + k + 1);
        it->value = value;
    }
    *list += n + ((*list)[n] == ',');
    return true;
}

static bool number(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* N or Ne, N from 1 (or 0 with zero_ok) to 10^9. */
static bool count(const char *s, bool zero_ok, int64_t *out, bool *in_epochs) {
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : -1;
    if (!s || errno || end == s) return false;
    bool epochs = *end == 'e' && end[1] == '\0';
    if ((*end && !epochs) || v < (zero_ok ? 0 : 1) || v > 1000000000) return false;
    *out = v;
    *in_epochs = epochs;
    return true;
}

static bool refuse(const char *app, const char *flag, const char *value, const char *why, const char *key) {
    fprintf(stderr, "%s: invalid value '%s' for %s: %s%s%s\n", app, value, flag, why, key ? " " : "",
            key ? key : "");
    return false;
}

static const char *const SCHEDULE_WANTS = "expected step,every=N[e][,rate=R], exponential,steps=N[e][,rate=R]"
                                          "[,staircase] or cosine,steps=N[e][,warmup=N[e]][,alpha=A]";

/* One key of a schedule of kind s->kind; false for a key it does not take or a bad value. */
static bool schedule_key(AppLrSchedule *s, const Item *it) {
    bool cosine = s->kind == NN_LR_COSINE;
    const char *steps_key = s->kind == NN_LR_STEP ? "every" : "steps";
    if (strcmp(it->key, steps_key) == 0) return count(it->value, false, &s->steps, &s->steps_in_epochs);
    if (!cosine && strcmp(it->key, "rate") == 0) return number(it->value, 1e-9, 1e9, &s->rate);
    if (s->kind == NN_LR_EXPONENTIAL && strcmp(it->key, "staircase") == 0 && !it->value) return s->staircase = true;
    if (cosine && strcmp(it->key, "warmup") == 0) return count(it->value, true, &s->warmup, &s->warmup_in_epochs);
    if (cosine && strcmp(it->key, "alpha") == 0) return number(it->value, 0, 1, &s->alpha);
    return false;
}

bool app_parse_lr_schedule(const char *app, const char *value, AppLrSchedule *out) {
    const char *flag = "--lr-schedule";
    AppLrSchedule s = {.set = true, .rate = 0};
    size_t n = strcspn(value, ",");
    if (n == 4 && strncmp(value, "step", 4) == 0) s.kind = NN_LR_STEP, s.rate = 0.5;
    else if (n == 11 && strncmp(value, "exponential", 11) == 0) s.kind = NN_LR_EXPONENTIAL, s.rate = 0.96;
    else if (n == 6 && strncmp(value, "cosine", 6) == 0) s.kind = NN_LR_COSINE;
    else return refuse(app, flag, value, SCHEDULE_WANTS, NULL);
    const char *rest = value + n + (value[n] == ',');
    Item it;
    char v[64];
    while (next_item(&rest, &it, v, sizeof v))
        if (!schedule_key(&s, &it)) return refuse(app, flag, value, "bad or unknown key", it.key);
    if (!s.steps) return refuse(app, flag, value, s.kind == NN_LR_STEP ? "needs every=N (or Ne epochs)" :
                                                  "needs steps=N (or Ne epochs)", NULL);
    *out = s;
    return true;
}

static bool reduce_key(AppReduceLr *r, const Item *it) {
    NnReduceLrOnPlateau *p = &r->plateau;
    double v;
    if (strcmp(it->key, "monitor") == 0 && it->value && strlen(it->value) < sizeof r->monitor) {
        snprintf(r->monitor, sizeof r->monitor, "%s", it->value);
        return strcmp(r->monitor, "loss") == 0 || strcmp(r->monitor, "val_loss") == 0;
    }
    if (strcmp(it->key, "factor") == 0) return number(it->value, 1e-9, 0.999999, &p->factor);
    if (strcmp(it->key, "min_delta") == 0 && number(it->value, 0, 1e9, &v))
        return p->min_delta = v, p->no_min_delta = v == 0, true;
    if (strcmp(it->key, "min_lr") == 0) return number(it->value, 0, 10, &p->min_lr);
    bool patience = strcmp(it->key, "patience") == 0, cooldown = strcmp(it->key, "cooldown") == 0;
    if ((patience || cooldown) && number(it->value, patience ? 1 : 0, 1000000, &v) && v == floor(v)) {
        *(patience ? &p->patience : &p->cooldown) = (int)v;
        return true;
    }
    return false;
}

bool app_parse_reduce_lr(const char *app, const char *value, AppReduceLr *out) {
    AppReduceLr r = {.set = true};
    const char *rest = strcmp(value, "default") == 0 ? "" : value;
    Item it;
    char v[64];
    if (!*rest && strcmp(value, "default") != 0)
        return refuse(app, "--reduce-lr-on-plateau", value, "expected default or key=value,...", NULL);
    while (next_item(&rest, &it, v, sizeof v))
        if (!reduce_key(&r, &it))
            return refuse(app, "--reduce-lr-on-plateau", value,
                          "bad or unknown key (factor in (0, 1), patience >= 1, min_delta, cooldown >= 0, min_lr, "
                          "monitor loss or val_loss):", it.key);
    *out = r;
    return true;
}

/* ReduceLROnPlateau seeing the val_loss the app measured (r->val_loss) when fit had
 * none; its other hooks as they are. */
static int plateau_epoch_end(Model *m, const NnEpochLogs *logs, void *user) {
    AppReduceLr *r = user;
    NnEpochLogs seen = *logs;
    if (isnan(seen.val_loss) && r->val_loss) seen.val_loss = *r->val_loss;
    return r->inner.on_epoch_end(m, &seen, r->inner.user);
}
static int plateau_train_begin(Model *m, void *user) {
    AppReduceLr *r = user;
    return r->inner.on_train_begin(m, r->inner.user);
}
static size_t plateau_save(const Model *m, void *user, unsigned char *buf) {
    AppReduceLr *r = user;
    return r->inner.save_state(m, r->inner.user, buf);
}
static int plateau_load(Model *m, void *user, const unsigned char *buf, size_t len) {
    AppReduceLr *r = user;
    return r->inner.load_state(m, r->inner.user, buf, len);
}

int app_fit_lr(const AppLrSchedule *s, AppReduceLr *r, double lr, Model *m, int64_t steps_per_epoch,
               NnCallback *callbacks, int *n) {
    if (r->set) {
        r->plateau.monitor = r->monitor[0] ? r->monitor : NULL;
        r->inner = nn_reduce_lr_on_plateau_callback(&r->plateau);
        callbacks[(*n)++] = (NnCallback){.on_epoch_end = plateau_epoch_end, .user = r,
                                         .on_train_begin = plateau_train_begin, .name = r->inner.name,
                                         .save_state = plateau_save, .load_state = plateau_load};
    }
    if (!s->set) return 0;
    int64_t steps = s->steps_in_epochs ? s->steps * steps_per_epoch : s->steps;
    int64_t warmup = s->warmup_in_epochs ? s->warmup * steps_per_epoch : s->warmup;
    NnLrSchedule schedule = {.kind = s->kind, .initial_lr = lr, .decay_steps = steps, .decay_rate = s->rate,
                             .staircase = s->staircase, .alpha = s->alpha};
    if (s->kind == NN_LR_COSINE && warmup > 0) /* Keras's warmup pattern: from 0 up to the peak */
        schedule.initial_lr = 0, schedule.warmup_steps = warmup, schedule.warmup_target = lr;
    return nn_optimizer_set_schedule(nn_model_optimizer(m), &schedule);
}
