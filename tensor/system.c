/* The monotonic clock and the physical-memory query (see system.h). */
#include "tensor/system.h"

#include <time.h>
#include <unistd.h>

double tensor_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t tensor_physical_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0 || (uint64_t)pages > UINT64_MAX / (uint64_t)page) return 0;
    return (uint64_t)pages * (uint64_t)page;
}
