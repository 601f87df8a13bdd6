/* Running bench's measurements in child processes, so peak memory figures never mix:
 * a child's stdout captured and its peak RSS taken (wait4), a number read from the
 * JSON line it prints, and this program re-executed with --child for one config. */
#define _DEFAULT_SOURCE /* wait4: the peak RSS of each child process */
#include "bench/bench_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const MODES[2] = {"train", "infer"};

char *run_capture(char *const argv[], const char *const env[], double *maxrss_mb) {
    int fd[2];
    if (pipe(fd) != 0) return NULL;
    pid_t pid = fork();
    if (pid < 0) return NULL;
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        for (int i = 0; env && env[i]; i++) {
            const char *eq = strchr(env[i], '=');
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(eq - env[i]), env[i]);
            setenv(key, eq + 1, 1);
        }
        execv(argv[0], argv);
        fprintf(stderr, APP ": cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    ssize_t got;
    while ((got = read(fd[0], out + len, cap - len - 1)) > 0 || (got < 0 && errno == EINTR)) {
        if (got < 0) continue;
        len += (size_t)got;
        if (cap - len < 1024) out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    close(fd[0]);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
    *maxrss_mb = (double)ru.ru_maxrss / 1024.0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

double json_field(const char *s, const char *from, const char *key) {
    char pat[64], *end;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(from ? from : s, pat);
    if (!p) return NAN;
    double v = strtod(p + strlen(pat), &end);
    return end == p + strlen(pat) ? NAN : v; /* null, or no number */
}

int run_quiet(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDOUT_FILENO), dup2(null, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


/* Our children wait passively at OpenMP barriers unless the user chose otherwise: on
 * a machine shared with other work, threads spinning in OpenMP's pool cost more than
 * the futex wake-ups they save (PyTorch's best setting waits passively too). */
static const char *const *our_env(void) {
    static const char *const passive[] = {"OMP_WAIT_POLICY=passive", NULL};
    return getenv("OMP_WAIT_POLICY") ? NULL : passive;
}

Result run_ours(const Config *c, const Options *o, int threads) {
    char t[16], s[16], r[16], w[16];
    snprintf(t, sizeof t, "%d", threads);
    snprintf(s, sizeof s, "%d", o->steps);
    snprintf(r, sizeof r, "%d", o->reps);
    snprintf(w, sizeof w, "%d", o->warmup);
    char *argv[] = {"/proc/self/exe", "--child", "--config", (char *)c->name, "--threads", t, "--steps", s,
                    "--reps", r, "--warmup", w, o->train ? "--train" : "--infer",
                    o->train && o->infer ? "--infer" : NULL, NULL};
    Result res = {0};
    char *out = run_capture(argv, our_env(), &res.rss);
    if (!out) return res;
    res.ok = true;
    for (int md = 0; md < 2; md++) {
        char key[32];
        snprintf(key, sizeof key, "%s_ms_min", MODES[md]);
        res.min[md] = json_field(out, NULL, key);
        snprintf(key, sizeof key, "%s_ms_median", MODES[md]);
        res.med[md] = json_field(out, NULL, key);
        snprintf(key, sizeof key, "%s_cpu_ms_min", MODES[md]);
        res.cpu[md] = json_field(out, NULL, key);
    }
    free(out);
    return res;
}

