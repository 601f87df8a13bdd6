/* A finite-difference gradient checker, shipped in the library so users can check
 * their own ops the way the library checks its own. */
#ifndef AUTOGRAD_GRADCHECK_H
#define AUTOGRAD_GRADCHECK_H

#include <lamina/autograd/autograd.h>

/* Builds the output to check from the inputs, on the given tape. Must be a pure
 * function of the inputs' values (seed any randomness inside it). */
typedef Tensor *(*AgForwardFn)(Tape *tape, Tensor *const *inputs, void *ctx);

typedef struct AgGradcheckOpts {
    float eps;            /* central-difference step; 0 means 5e-3 */
    float rtol;           /* 0 means 1e-2 */
    float atol;           /* 0 means 1e-3 */
    uint64_t seed;        /* for the random projection of the output */
    int64_t max_elements; /* elements checked per input (spread evenly); 0 means all */
} AgGradcheckOpts;

typedef struct AgGradcheckResult {
    bool ok;
    int64_t checked;        /* elements compared */
    double max_abs_error;   /* over all compared elements */
    int failed_input;       /* first failing input, -1 if none */
    int64_t failed_index;   /* its flat element index */
    double analytic, numeric;
    char message[256];      /* a readable account of the first failure */
} AgGradcheckResult;

/* Checks d(sum(out * w))/d(input) from ag_backward against central differences, for
 * every float32 input with requires_grad, where w is a fixed random projection (so
 * every output element matters) and the sums are taken in double. An element passes
 * when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|). The inputs'
 * values are restored and their gradients left zeroed. */
AgGradcheckResult ag_gradcheck(AgForwardFn fn, int n_inputs, Tensor *const *inputs, void *ctx,
                               AgGradcheckOpts opts);

#endif
