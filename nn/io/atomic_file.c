/* Whole-or-nothing file writes; see atomic_file.h. */
#include "nn/io/atomic_file_internal.h"

#include "tensor/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nn_atomic_file_open(NnAtomicFile *af, const char *path) {
    *af = (NnAtomicFile){0};
    const size_t plen = strlen(path);
    char *tmp = tensor_xmalloc(plen + 16);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = tensor_set_error("%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    fchmod(fd, 0644); /* mkstemp creates 0600; these are ordinary data files */
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int rc = tensor_set_error("%s: cannot open a temporary file beside it: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return rc;
    }
    af->f = f;
    af->tmp = tmp;
    af->path = tensor_xmalloc(plen + 1);
    memcpy(af->path, path, plen + 1);
    return 0;
}

int nn_atomic_file_commit(NnAtomicFile *af, bool ok) {
    const char *failed = NULL;
    int err = 0;
    if (ok && (ferror(af->f) || fflush(af->f) != 0)) failed = "write failed", err = errno;
    if (ok && !failed && fsync(fileno(af->f)) != 0) failed = "could not flush to disk", err = errno;
    if (fclose(af->f) != 0 && ok && !failed) failed = "could not close", err = errno;
    if (ok && !failed && rename(af->tmp, af->path) != 0) failed = "could not replace the file", err = errno;
    int rc = 0;
    if (!ok || failed) {
        unlink(af->tmp);
        rc = failed ? tensor_set_error("%s: %s: %s", af->path, failed, strerror(err ? err : EIO)) : -1;
    }
    free(af->tmp);
    free(af->path);
    *af = (NnAtomicFile){0};
    return rc;
}

int nn_write_file_atomically(const char *path, const void *data, size_t len) {
    NnAtomicFile af;
    if (nn_atomic_file_open(&af, path) != 0) return -1;
    const bool ok = fwrite(data, 1, len, af.f) == len;
    if (!ok) tensor_set_error("%s: write failed: %s", path, strerror(errno));
    const int rc = nn_atomic_file_commit(&af, ok);
    return rc;
}
