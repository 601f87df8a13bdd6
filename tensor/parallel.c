/* Thread count control: a thin wrapper so callers above tensor/ never touch OpenMP. */
#include "tensor/parallel.h"

#include "tensor/error.h"

#include <omp.h>

int tensor_set_num_threads(int n) {
    if (n < 1 || n > 1024) return tensor_set_error("thread count %d is out of range 1..1024", n);
    omp_set_num_threads(n);
    return 0;
}

int tensor_get_num_threads(void) { return omp_get_max_threads(); }

int tensor_in_parallel(void) { return omp_in_parallel(); }
