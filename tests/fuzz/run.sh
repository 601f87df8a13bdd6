#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (tests/fuzz as its own CMake project) and
# runs each for $1 seconds (default 60) from its seed corpus in tests/fuzz/corpus/ (with
# tests/fuzz/<harness>.dict as its dictionary).
# Fails (exit 1) on any crash, hang (-timeout), leak, out-of-memory or sanitizer
# report, or a harness that cannot run; prints execs, coverage and features per
# harness. Environment:
#   FUZZ_BUILD_DIR  build directory (default build-fuzz-libfuzzer in the repository)
#   FUZZ_HARNESSES  which harnesses (default: fuzz_weights fuzz_corpus fuzz_eval_sets
#                   fuzz_w2v_state)
#   FUZZ_PARALLEL=1 run the harnesses at the same time instead of one after another
# New interesting inputs accumulate in $FUZZ_BUILD_DIR/corpus/<harness> (the seeds
# are never modified); a failing input is saved in $FUZZ_BUILD_DIR/artifacts/<harness>/
# and can be replayed with: $FUZZ_BUILD_DIR/<harness> <file>.
# The library-written weights seeds (after a format change) are regenerated with
#   LAMINA_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/fuzz_weights $FUZZ_BUILD_DIR/fuzz_weights
# (npz_numpy_style / npz_zip64_end are those files rewritten as numpy.savez does;
# v1_ckpt_* and v2_ckpt_* are checkpoints in format versions 1 and 2, kept so old files stay covered).
set -uo pipefail

secs=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz-libfuzzer}
harnesses=${FUZZ_HARNESSES:-"fuzz_weights fuzz_corpus fuzz_eval_sets fuzz_w2v_state"}

if ! command -v clang >/dev/null; then
  echo "run.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_C_COMPILER=clang >/dev/null || exit 1
cmake --build "$build" -j2 >"$build/build.log" 2>&1 || { tail -30 "$build/build.log"; exit 1; }

# Longest input per harness: a weights file of the fixed model with optimizer and
# training state is ~2.5 KB; corpora get room for a long single line.
max_len() {
  case $1 in
    fuzz_weights) echo 16384 ;;
    fuzz_corpus) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=0:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lamina-fuzz.XXXXXX")
export TMPDIR=$tmp # the harnesses' scratch files
trap 'rm -rf "$tmp"' EXIT

run_one() {
  local h=$1 log=$build/$1.log
  local start=$SECONDS
  mkdir -p "$build/corpus/$h" "$build/artifacts/$h"
  local dict=()
  if [ -f "$root/tests/fuzz/$h.dict" ]; then dict=(-dict="$root/tests/fuzz/$h.dict"); fi
  "$build/$h" -max_total_time="$secs" -max_len="$(max_len "$h")" -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$build/artifacts/$h/" "${dict[@]}" \
    "$build/corpus/$h" "$root/tests/fuzz/corpus/$h" >"$log" 2>&1
  echo $? >"$build/$h.rc"
  echo $((SECONDS - start)) >"$build/$h.time"
}

if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
  for h in $harnesses; do run_one "$h" & done
  wait
else
  for h in $harnesses; do run_one "$h"; done
fi

status=0
printf '%-16s %10s %8s %8s %8s %7s  %s\n' harness execs exec/s cov ft seconds result
for h in $harnesses; do
  log=$build/$h.log
  rc=$(cat "$build/$h.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  took=$(cat "$build/$h.time" 2>/dev/null)
  result=ok
  # A sanitizer report or libFuzzer finding fails the run even if the exit code did not.
  if [ "$rc" != 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer|property failed|==[0-9]+== ?ERROR' "$log"; then
    result="FAILED (exit $rc; see $log)"
    status=1
  fi
  printf '%-16s %10s %8s %8s %8s %7s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${took:-?}" "$result"
done
if [ $status != 0 ]; then
  for h in $harnesses; do
    if [ "$(cat "$build/$h.rc" 2>/dev/null || echo 1)" != 0 ]; then
      echo "---- $h: last lines of $build/$h.log"
      grep -vE '^#[0-9]+ ' "$build/$h.log" | tail -40
      ls "$build/artifacts/$h/" 2>/dev/null | sed "s|^|  artifact: $build/artifacts/$h/|"
    fi
  done
fi
exit $status
