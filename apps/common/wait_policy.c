/* The apps' OpenMP wait policy (see wait_policy.h). */
#include "common/wait_policy.h"

#include <stdlib.h>
#include <unistd.h>

void app_choose_wait_policy(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return; /* the user's choice */
    /* Passive: an idle kernel thread sleeps at once. OpenMP's default spins for some
     * hundreds of microseconds first, which holds a core another process needs: with
     * one of 2 cores taken, training ran 1.5x slower, while on a quiet machine passive
     * costs nothing measurable (docs/performance.md, "Waiting threads"). */
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
}
