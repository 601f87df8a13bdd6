#include "gradflow_internal.h"
#include "common/status.h"
int gf_run_scan(const Options *o) {
    (void)o;
    fprintf(stderr, APP ": this mode is not built yet\n");
    return APP_EXIT_FAILURE;
}
