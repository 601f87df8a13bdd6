/* How the apps' kernel threads wait between parallel regions. OpenMP reads its wait
 * settings from the environment once, as the program loads, before main runs, so an
 * app cannot change them for itself: when the user has set none, the app sets its
 * choice and starts itself again (the same program, arguments, process id and
 * terminal). The measurements behind the choice are in docs/performance.md. */
#ifndef APPS_COMMON_WAIT_POLICY_H
#define APPS_COMMON_WAIT_POLICY_H

/* Call first in main, before any kernel runs. Returns only when the policy is in
 * place: the user's (OMP_WAIT_POLICY or GOMP_SPINCOUNT set), or the app's after the
 * restart; if the restart is impossible the run goes on with OpenMP's default. */
void app_choose_wait_policy(char **argv);

#endif
