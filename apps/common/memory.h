/* Refusing a run too large for this machine before allocating any of it, with a
 * message giving the sizes, rather than letting it swap or be killed mid-way. */
#ifndef APPS_COMMON_MEMORY_H
#define APPS_COMMON_MEMORY_H

#include <stdbool.h>

/* Whether a run needing `bytes` fits in physical memory; if not, prints
 * "<app>: <what> needs X GiB (<detail>), more than this machine's Y GiB of memory"
 * and returns false. */
bool app_fits_in_memory(const char *app, const char *what, const char *detail, double bytes);

#endif
