/* What the built-in callbacks share (callbacks.c, lr_callbacks.c, csv_logger.c): the
 * value a monitor names, and their state's encoding for checkpoints. */
#ifndef NN_CALLBACKS_INTERNAL_H
#define NN_CALLBACKS_INTERNAL_H

#include "nn/io/bytes_internal.h"
#include "nn/model/callbacks.h"

#include <string.h>

/* What a monitor watches: the value of a log, or (NN_MONITOR_AUTO) val_loss when it
 * was measured, else loss. */
typedef enum { NN_MONITOR_AUTO, NN_MONITOR_LOSS, NN_MONITOR_VAL_LOSS, NN_MONITOR_ACCURACY,
               NN_MONITOR_VAL_ACCURACY } NnMonitor;

/* The monitor `name` (NULL: auto) names, or -1 with the error starting with who. */
int nn__monitor_parse(const char *name, const char *who);
/* Its value in logs (NaN when not measured). */
double nn__monitor_value(NnMonitor monitor, const NnEpochLogs *logs);
/* Keras's mode "auto": names with "acc" are maximised. */
static inline bool nn__monitor_maximise(NnMonitor monitor) {
    return monitor == NN_MONITOR_ACCURACY || monitor == NN_MONITOR_VAL_ACCURACY;
}

/* A callback's state as little-endian fields; with buf NULL it only counts bytes. */
typedef struct NnStateOut {
    unsigned char *buf;
    size_t len;
} NnStateOut;

static inline void nn__state_u64(NnStateOut *o, uint64_t v) {
    if (o->buf) nn__store_le64(o->buf + o->len, v);
    o->len += 8;
}
static inline void nn__state_i64(NnStateOut *o, int64_t v) { nn__state_u64(o, (uint64_t)v); }
static inline void nn__state_f64(NnStateOut *o, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    nn__state_u64(o, bits);
}
static inline void nn__state_bytes(NnStateOut *o, const void *p, size_t n) {
    if (o->buf && n) memcpy(o->buf + o->len, p, n);
    o->len += n;
}

#endif
