/* A team of kernel threads running one function together, with barriers between
 * phases: for kernels whose steps depend on each other (an RNN's time steps), where a
 * parallel loop per step would pay a fork and a join every step. OpenMP stays inside
 * tensor/, as everywhere else. */
#ifndef TENSOR_TEAM_H
#define TENSOR_TEAM_H

/* Runs fn(arg, t, nt) on nt threads (t = 0 .. nt-1), nt <= nthreads (1 when already
 * inside a parallel region), and returns when all have finished. */
void tensor_team_run(int nthreads, void (*fn)(void *arg, int t, int nt), void *arg);

/* Inside fn: waits until every thread of the team has reached this barrier; memory
 * written before it is visible to all threads after it. */
void tensor_team_barrier(void);

#endif
