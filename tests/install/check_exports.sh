#!/usr/bin/env bash
# Checks what liblamina.so exports (nm -D) against the installed headers:
#   - every exported symbol is tensor_*, ag_* or nn_* with no double underscore
#     (internals such as nn__progress_update, ag__lstm_check and stb_ds's stbds_*
#     stay hidden; the static archive still has them, which proves the hiding works);
#   - every exported symbol is declared in an installed header (no accidental API);
#   - every function an installed header declares is exported (no declared API that
#     would fail to link).
# Usage: check_exports.sh LIBLAMINA_SO INCLUDE_DIR [LIBLAMINA_A]
set -euo pipefail
lib=$1 include=$2 archive=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

nm -D --defined-only "$lib" | awk 'NF >= 3 {print $3}' | sed 's/@.*//' | sort -u >"$tmp/exported"
echo "$(wc -l <"$tmp/exported") symbols exported by $(basename "$lib")"
if grep -vE '^(tensor|ag|nn)_[A-Za-z0-9]' "$tmp/exported" | grep -v '^$' >"$tmp/bad"; then
    echo "exported without a module prefix (tensor_, ag_, nn_):"
    sed 's/^/  /' "$tmp/bad"
    status=1
fi
if grep '__' "$tmp/exported" >"$tmp/bad"; then
    echo "internal (double-underscore) symbols exported:"
    sed 's/^/  /' "$tmp/bad"
    status=1
fi

# The functions the installed headers declare: a prefixed name followed by "(" in a
# declaration (not a #define, not a comment line, not a function-pointer member).
find "$include" -name '*.h' -print0 | xargs -0 cat |
    grep -vE '^\s*(#|/?\*|//)' |
    grep -oE '(^|[^A-Za-z0-9_])(tensor|ag|nn)_[A-Za-z0-9_]+\(' |
    sed -E 's/^[^A-Za-z]*//; s/\($//' | grep -v '__' | sort -u >"$tmp/declared"
find "$include" -name '*.h' -print0 | xargs -0 cat >"$tmp/all_headers"
while read -r sym; do
    grep -qw -- "$sym" "$tmp/all_headers" || {
        echo "exported but not declared in any installed header: $sym"
        status=1
    }
done <"$tmp/exported"
# Declared names that are macros (nn_dense(...) -> nn_dense_new) need no symbol.
find "$include" -name '*.h' -print0 | xargs -0 grep -ohE '^\s*#\s*define\s+(tensor|ag|nn)_[A-Za-z0-9_]+' | awk '{print $NF}' |
    sed 's/^define//' | sort -u >"$tmp/macros"
comm -23 "$tmp/declared" "$tmp/exported" | comm -23 - "$tmp/macros" >"$tmp/missing" || true
if [ -s "$tmp/missing" ]; then
    echo "declared in an installed header but not exported:"
    sed 's/^/  /' "$tmp/missing"
    status=1
fi
echo "$(wc -l <"$tmp/declared") functions declared in the installed headers"

if [ -n "$archive" ]; then
    # Non-vacuous: the internals exist in the archive, and only there.
    internals=$(nm -g --defined-only "$archive" 2>/dev/null | awk 'NF == 3 {print $3}' | grep -c '__' || true)
    echo "$internals double-underscore symbols in $(basename "$archive"), none in $(basename "$lib")"
    if [ "$internals" = 0 ]; then
        echo "expected the static archive to hold internal symbols (nn__*)"
        status=1
    fi
fi
[ "$status" = 0 ] && echo "exports: ok"
exit "$status"
