#!/usr/bin/env bash
# word2vec with 2 threads on brown_1.txt (one pass, 32-d vectors): two runs with the
# same seed write the very same vectors; a run stopped by SIGINT (exit 130, naming the
# checkpoint and the command that resumes it) and continued with --resume writes
# exactly the vectors of the run never stopped, and so does a run with periodic
# checkpoints; SIGTERM exits 143 and checkpoints to ./word2vec.checkpoint when no
# file is named; a --resume with other options, and bad limits, exit 2.
source "$(dirname "$0")/common.bash"
require_data brown_1.txt
app="$(cd "$build_dir" && pwd)/apps/word2vec" # absolute: one run below starts in another directory
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
args=(--data "$data_dir" --corpus brown_1.txt --iter 1 --dim 32 --threads 2 --seed 5 --quiet)

same_file() { # NAME A B
  if cmp -s "$2" "$3"; then echo "ok: $1"; else echo "FAIL: $1: $2 and $3 differ"; exit 1; fi
}

"$app" "${args[@]}" --save "$tmp/a.bin" >/dev/null
"$app" "${args[@]}" --save "$tmp/b.bin" >/dev/null
same_file "2 threads, same seed: identical vectors" "$tmp/a.bin" "$tmp/b.bin"
"$app" "${args[@]}" --checkpoint-every 100000 --checkpoint "$tmp/p.ckpt" --save "$tmp/p.bin" >/dev/null
same_file "checkpoints every 100000 words change nothing" "$tmp/a.bin" "$tmp/p.bin"
[ -s "$tmp/p.ckpt" ] || { echo "FAIL: no checkpoint written"; exit 1; }

# stop_with SIGNAL CHECKPOINT_FLAG...: starts a run with checkpoints every 20000 words,
# waits for the first one (training is under way), sends the signal; sets rc.
stop_with() {
  local sig="$1"
  shift
  set +e
  "$app" "${args[@]}" --checkpoint-every 20000 "$@" >/dev/null 2>"$tmp/err" &
  local pid=$!
  for _ in $(seq 1500); do [ -s "$ckpt" ] || ! kill -0 "$pid" 2>/dev/null && break; sleep 0.02; done
  kill "-$sig" "$pid"
  wait "$pid"
  rc=$?
  set -e
  cat "$tmp/err"
}

ckpt="$tmp/c.ckpt"
stop_with INT --checkpoint "$ckpt" --save "$tmp/c.bin"
[ "$rc" = 130 ] || { echo "FAIL: SIGINT exited $rc, expected 130"; exit 1; }
grep -q "checkpoint written to $ckpt" "$tmp/err" || { echo "FAIL: the message names no checkpoint"; exit 1; }
grep -q -- "--resume $ckpt" "$tmp/err" || { echo "FAIL: no resume command"; exit 1; }
"$app" "${args[@]}" --save "$tmp/c.bin" --resume "$ckpt" >/dev/null
same_file "SIGINT + --resume: the vectors of the uninterrupted run" "$tmp/a.bin" "$tmp/c.bin"

mkdir "$tmp/cwd"
ckpt="$tmp/cwd/word2vec.checkpoint"
cd "$tmp/cwd"
stop_with TERM
cd - >/dev/null
[ "$rc" = 143 ] || { echo "FAIL: SIGTERM exited $rc, expected 143"; exit 1; }
[ -s "$ckpt" ] || { echo "FAIL: SIGTERM wrote no ./word2vec.checkpoint"; exit 1; }
echo "ok: SIGTERM exits 143 with ./word2vec.checkpoint"

set +e
"$app" "${args[@]}" --window 4 --resume "$ckpt" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "different window" "$tmp/err" || { echo "FAIL: --resume with another window: $rc"; exit 1; }
echo "ok: --resume with other options exits 2: $(cat "$tmp/err")"

for bad in "--dim 0" "--window 0" "--negative -1" "--min-count 0" "--sample -1" "--iter 0" "--alpha 0" \
           "--checkpoint-every 0" "--hogwild --checkpoint-every 1e"; do
  set +e
  # shellcheck disable=SC2086 # the flags split on purpose
  "$app" "${args[@]}" $bad >/dev/null 2>"$tmp/err"
  rc=$?
  set -e
  [ "$rc" = 2 ] && [ -s "$tmp/err" ] || { echo "FAIL: $bad exited $rc"; exit 1; }
done
echo "ok: bad limits exit 2"
printf '1 2 3\n' >"$tmp/digits.txt"
set +e
"$app" --corpus "$tmp/digits.txt" --quiet >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "holds no words" "$tmp/err" || { echo "FAIL: a corpus without words exited $rc"; exit 1; }
echo "ok: a corpus without words exits 2"
