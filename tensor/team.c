/* Thread teams (see team.h): one OpenMP parallel region per run, and a barrier of our
 * own. It spins only briefly, then yields the core while it waits: on a quiet machine
 * the other threads arrive within microseconds and the spin catches them; on a busy
 * one a thread that has been descheduled must not be kept off a core by its partner
 * spinning (OpenMP's own barrier spins for a long time first, and an RNN meets one
 * every time step). */
#include "tensor/team_internal.h"

#include <omp.h>
#include <sched.h>
#include <stdatomic.h>

typedef struct Barrier {
    atomic_int arrived;
    atomic_uint generation;
    int n;
} Barrier;

/* The barrier of the team this thread is running in (NULL outside a team). */
static _Thread_local Barrier *current;

typedef struct Run {
    void (*fn)(void *arg, int t, int nt);
    void *arg;
    Barrier barrier;
} Run;

static void run_member(Run *run, int t, int nt) {
    Barrier *outer = current; /* a team started from inside a team's function */
    current = &run->barrier;
    run->fn(run->arg, t, nt);
    current = outer;
}

void tensor_team_run(int nthreads, void (*fn)(void *arg, int t, int nt), void *arg) {
    if (nthreads < 1 || omp_in_parallel()) nthreads = 1;
    Run run = {.fn = fn, .arg = arg};
    atomic_init(&run.barrier.arrived, 0);
    atomic_init(&run.barrier.generation, 0);
    if (nthreads == 1) {
        run.barrier.n = 1;
        run_member(&run, 0, 1);
        return;
    }
#pragma omp parallel num_threads(nthreads)
    {
#pragma omp single
        run.barrier.n = omp_get_num_threads(); /* the implied barrier publishes it */
        run_member(&run, omp_get_thread_num(), omp_get_num_threads());
    }
}

/* Spins of a pause instruction before yielding: some tens of microseconds. */
#define SPINS 2000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void tensor_team_barrier(void) {
    Barrier *b = current;
    if (!b || b->n <= 1) return;
    const unsigned gen = atomic_load(&b->generation);
    if (atomic_fetch_add(&b->arrived, 1) == b->n - 1) {
        /* The last to arrive resets the count and releases the others (seq_cst: what
         * each thread wrote before arriving is visible to all after they leave). */
        atomic_store(&b->arrived, 0);
        atomic_fetch_add(&b->generation, 1);
        return;
    }
    for (int i = 0; atomic_load(&b->generation) == gen; i++) {
        if (i < SPINS) cpu_relax();
        else sched_yield();
    }
}
