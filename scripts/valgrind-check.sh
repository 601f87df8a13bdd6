#!/usr/bin/env bash
# Short runs of each bundled app under valgrind memcheck: fails on any memory error or
# any definitely/possibly lost block (libgomp's thread pool excepted, see
# scripts/valgrind.supp). Usage: scripts/valgrind-check.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible
    --suppressions="$root/scripts/valgrind.supp")
data="${DATA_DIR:-$root/data}"
# With a policy set, the apps do not restart themselves to choose one (which would
# leave valgrind watching nothing but the restart).
export OMP_WAIT_POLICY=passive
small=$(mktemp)
trap 'rm -f "$small"' EXIT
head -c 100000 "$data/sherlock.txt" >"$small"

run() {
  echo "== valgrind: $*"
  "${vg[@]}" "$@" >/dev/null
}
run "$build/apps/sonnets" --model char-many-to-one --max-steps 2 --batch-size 8 --sample 10 --quiet
run "$build/apps/word2vec" --corpus "$small" --iter 1 --dim 16 --threads 2 --quiet --similar holmes
run "$build/apps/sherlock" --data "$(dirname "$small")" --data-file "$(basename "$small")" --units 16 --embed 4 \
  --max-steps 2 --quiet
echo "valgrind: no errors, no leaks"
