#!/usr/bin/env bash
# ThreadSanitizer over the OpenMP kernels: builds tests/tsan/tsan_kernels.c and the
# library with clang -fsanitize=thread against LLVM's OpenMP runtime (whose Archer
# tool tells the sanitizer about OpenMP's barriers), runs it with 2 threads, and fails
# on any report or on results that differ between 1 and 2 threads.
# Also drives word2vec's deterministic two-thread training. Needs clang and libomp-dev
# (Debian). word2vec's opt-in --hogwild training races by design and is not driven here;
# see nn/word2vec/word2vec.h.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build-tsan-kernels}"
mkdir -p "$out"
llvm_lib="$(dirname "$(clang -print-file-name=libomp.so)")"
archer="$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | head -1)"
srcs=$(ls "$root"/tensor/*.c "$root"/autograd/*.c "$root"/autograd/ops/*.c "$root"/nn/*/*.c)
# <lamina/...> resolves through a link to the source root (this build is internal).
mkdir -p "$out/include" && ln -sfn "$root" "$out/include/lamina"
clang -std=c11 -D_POSIX_C_SOURCE=200809L -DLAMINA_NO_TARGET_CLONES -O1 -g -fsanitize=thread -fopenmp \
  -I"$out/include" -I"$root" -I/usr/include/stb $srcs "$root/tests/tsan/tsan_kernels.c" -lm -lpthread -o "$out/tsan_kernels"
export OMP_NUM_THREADS=2 TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1"
[ -n "$archer" ] && export OMP_TOOL_LIBRARIES="$archer"
"$out/tsan_kernels" 2>&1 | tee "$out/tsan.log"
if grep -q "ThreadSanitizer" "$out/tsan.log"; then echo "tsan: reports found"; exit 1; fi
echo "tsan: no data races reported in the OpenMP kernels or two-thread word2vec"
