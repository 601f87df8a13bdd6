/* Facts about the machine and the time, for rates and for refusing sizes that cannot
 * fit: one copy of each, used by the library and by programs alike. */
#ifndef TENSOR_SYSTEM_H
#define TENSOR_SYSTEM_H

#include <stdint.h>

/* Seconds on a monotonic clock (unaffected by changes of the wall clock): subtract
 * two readings for an elapsed time. */
double tensor_seconds(void);

/* Physical memory in bytes, or 0 if the system does not say. */
uint64_t tensor_physical_memory(void);

#endif
