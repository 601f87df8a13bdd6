/* One C11 thread-specific key whose destructor runs the calling thread's registered
 * release functions; its value only needs to be non-NULL for the destructor to run. */
#include "tensor/thread_exit_internal.h"

#include "tensor/error.h"

#include <threads.h>

enum { MAX_RELEASES = 8 };

static once_flag key_once = ONCE_FLAG_INIT;
static tss_t key;
static int key_ok;

static _Thread_local void (*releases[MAX_RELEASES])(void);
static _Thread_local int n_releases;

static void run_releases(void *unused) {
    (void)unused;
    for (int i = 0; i < n_releases; i++) releases[i]();
    n_releases = 0;
}

static void make_key(void) { key_ok = tss_create(&key, run_releases) == thrd_success; }

void tensor__release_at_thread_exit(void (*release)(void)) {
    for (int i = 0; i < n_releases; i++)
        if (releases[i] == release) return;
    TENSOR_CHECK(n_releases < MAX_RELEASES, "thread exit: more than %d release functions",
                 MAX_RELEASES);
    call_once(&key_once, make_key);
    if (!key_ok) return; /* no key: the buffers stay, as they would without this */
    releases[n_releases++] = release;
    tss_set(key, (void *)1);
}
