#!/usr/bin/env bash
# Installs a built tree into a temporary prefix, as a user would, and builds programs
# from outside the tree against it both ways:
#   cc $(pkg-config --cflags --libs lamina) prog.c     (PKG_CONFIG_PATH set; shared)
#   pkg-config lamina-static                           (the static archive)
#   a CMake project with find_package(lamina) + lamina::lamina / lamina::lamina_static
# then runs each program (the examples, which exit non-zero when their result is
# wrong). Also checks the layout, that every installed header compiles on its own,
# and the shared library's exports (check_exports.sh).
# Usage: run.sh BUILD_DIR     (ctest test "install"; .ci/run calls it too)
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lamina-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

run() { # prints a command, then runs it
    echo "+ $*" >&2
    "$@"
}
fail() {
    echo "install test: $*" >&2
    exit 1
}
# run_program EXE NAME: runs an example where it may write files, with no
# LD_LIBRARY_PATH (the rpath must find the library). An example that reads the corpora
# (which_book) finds them through LAMINA_SOURCE_DIR, as under ctest, and exits 77 when
# they are absent: a skip, not a failure, since this test is about building and linking.
run_program() {
    local out="$work/$(basename "$1").out" status=0
    (cd "$work/run" && env -u LD_LIBRARY_PATH LAMINA_SOURCE_DIR="$src" "$1" >"$out" 2>&1) || status=$?
    case $status in
        0) echo "  $2: ok ($(tail -1 "$out"))" ;;
        77) echo "  $2: skipped, no corpora ($(tail -1 "$out"))" ;;
        *) tail -20 "$out"; fail "$2 failed" ;;
    esac
}

echo "== cmake --install into a temporary prefix"
run cmake --install "$build" --prefix "$prefix" >"$work/install.log" || {
    cat "$work/install.log"
    fail "cmake --install failed"
}
pc=$(find "$prefix" -name lamina.pc -path '*/pkgconfig/*' | head -1)
[ -n "$pc" ] || fail "no lamina.pc installed"
libdir=$(cd "$(dirname "$pc")/.." && pwd)
include=$prefix/include/lamina
for f in "$libdir/liblamina.a" "$libdir/liblamina.so" "$libdir/pkgconfig/lamina-static.pc" \
    "$libdir/cmake/lamina/laminaConfig.cmake" "$libdir/cmake/lamina/laminaConfigVersion.cmake" \
    "$include/nn/nn.h" "$include/autograd/ops.h" "$include/tensor/tensor.h"; do
    [ -e "$f" ] || fail "missing after install: ${f#"$prefix"/}"
done
# Exactly the explicit list of public headers, no internal one.
installed=$(cd "$include" && find . -name '*.h' | sed 's|^\./||' | sort)
listed=$(grep -v '^#' "$src/cmake/public-headers.txt" | sed '/^$/d' | sort)
[ "$installed" = "$listed" ] || fail "installed headers differ from cmake/public-headers.txt:
$(diff <(echo "$listed") <(echo "$installed"))"
! echo "$installed" | grep -q '_internal\.h$' || fail "an internal header is installed"
(cd "$prefix" && find . -type f -o -type l | sed 's|^\./||' | grep -vE '^(include|share)/' | sort | sed 's/^/  /')
echo "  include/lamina: $(find "$include" -name '*.h' | wc -l) headers"

echo "== every installed header compiles on its own"
cc=${CC:-cc}
for h in $(cd "$include" && find . -name '*.h' | sed 's|^\./||' | sort); do
    printf '#include <lamina/%s>\n#include <lamina/%s>\n' "$h" "$h" >"$work/one_header.c"
    "$cc" -std=c11 -Wall -Wextra -Werror -fsyntax-only -I "$prefix/include" "$work/one_header.c" ||
        fail "$h does not compile on its own (or twice)"
done
echo "  ok"

echo "== exports of the shared library"
run bash "$here/check_exports.sh" "$libdir/liblamina.so" "$include" "$libdir/liblamina.a"

# The programs: the examples, copied out of the tree so only installed headers count.
mkdir -p "$work/outside"
cp "$src"/examples/*.c "$here/outside/CMakeLists.txt" "$work/outside/"
programs=$(cd "$work/outside" && ls ./*.c | sed 's|^\./||; s|\.c$||')
mkdir -p "$work/run" # the examples may write files where they run

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
run pkg-config --modversion lamina
# One version everywhere: CMake's project(VERSION) and nn.h's LAMINA_VERSION (--version).
header_version=$(sed -n 's/^#define LAMINA_VERSION "\(.*\)"$/\1/p' "$include/nn/nn.h")
[ "$header_version" = "$(pkg-config --modversion lamina)" ] ||
    fail "nn/nn.h says LAMINA_VERSION \"$header_version\" but the package is $(pkg-config --modversion lamina)"
run pkg-config --cflags --libs lamina
run pkg-config --cflags --libs lamina-static
for p in $programs; do
    # The issue's command, word for word (shared library).
    run "$cc" $(pkg-config --cflags --libs lamina) "$work/outside/$p.c" -o "$work/$p-pc"
    readelf -d "$work/$p-pc" | grep -q 'NEEDED.*liblamina\.so' || fail "$p-pc is not linked to liblamina.so"
    run "$cc" "$work/outside/$p.c" $(pkg-config --cflags --libs lamina-static) -o "$work/$p-pc-static"
    ! readelf -d "$work/$p-pc-static" | grep -q 'NEEDED.*liblamina' || fail "$p-pc-static needs liblamina.so"
done
# No LD_LIBRARY_PATH: the .pc file's rpath finds the library in a non-system prefix.
lamina_so=$(env -u LD_LIBRARY_PATH ldd "$work/$(echo "$programs" | head -1)-pc" | grep liblamina || true)
echo "  ldd: $lamina_so"
case "$lamina_so" in *"$libdir"*) ;; *) fail "the pkg-config build does not load liblamina.so from $libdir" ;; esac
for p in $programs; do
    for kind in pc pc-static; do
        run_program "$work/$p-$kind" "$p-$kind"
    done
done

echo "== CMake: find_package(lamina) + target_link_libraries(... lamina::lamina)"
run cmake -S "$work/outside" -B "$work/outside/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" || { cat "$work/cmake.log"; fail "configuring failed"; }
run cmake --build "$work/outside/build" -j2 >"$work/build.log" || { cat "$work/build.log"; fail "building failed"; }
for p in $programs; do
    readelf -d "$work/outside/build/$p" | grep -q 'NEEDED.*liblamina\.so' || fail "$p is not linked to liblamina.so"
    for exe in "$p" "${p}_static"; do
        run_program "$work/outside/build/$exe" "$exe (CMake build)"
    done
done
echo "== install test passed"
