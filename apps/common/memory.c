/* The memory-fit check (see memory.h), against tensor_physical_memory(). */
#include "common/memory.h"

#include <lamina/nn/nn.h>

#include <stdio.h>

bool app_fits_in_memory(const char *app, const char *what, const char *detail, double bytes) {
    double memory = (double)tensor_physical_memory();
    if (memory <= 0 || bytes <= memory) return true;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    fprintf(stderr, "%s: %s needs %.1f GiB (%s), more than this machine's %.1f GiB of memory\n", app, what,
            bytes / gib, detail, memory / gib);
    return false;
}
