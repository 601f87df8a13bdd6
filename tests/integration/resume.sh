#!/usr/bin/env bash
# Checkpoints and resume in the apps, on the real text with shrunken models: a run
# stopped half-way and resumed with --resume ends with exactly the file of a run that
# was never stopped (the final checkpoint holds weights, Adam state, RNG and position,
# so equal files mean equal training); the same after a SIGINT, which must exit 130
# naming the checkpoint and the command that resumes it; SIGTERM exits 143 and, with
# no --save, checkpoints to ./sonnets.checkpoint. --check-numerics runs clean.
source "$(dirname "$0")/common.bash"
require_data sonnets.txt sherlock.txt
apps="$(cd "$build_dir" && pwd)/apps" # absolute: one run below starts in another directory
sonnets="$apps/sonnets"
sherlock="$apps/sherlock"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
small=(--data "$data_dir" --units 32 --embed 8 --seq-len 20 --batch-size 64 --seed 3 --threads 2 --sample 0 --quiet)

same_file() { # NAME A B
  if cmp -s "$2" "$3"; then echo "ok: $1"; else echo "FAIL: $1: $2 and $3 differ"; exit 1; fi
}

# Uninterrupted 24 steps, against 12 + resumed to 24.
"$sonnets" "${small[@]}" --max-steps 24 --save "$tmp/a" >/dev/null
"$sonnets" "${small[@]}" --max-steps 12 --save "$tmp/b" >/dev/null
"$sonnets" "${small[@]}" --max-steps 24 --save "$tmp/b" --resume "$tmp/b" >/dev/null
same_file "sonnets: 12 steps + --resume to 24 = 24 steps" "$tmp/a" "$tmp/b"
# The same under each rule of Adam for the embedding table (neither has state of its
# own), and the two rules train differently.
for rows in summed per-lookup; do
  "$sonnets" "${small[@]}" --adam-rows "$rows" --max-steps 24 --save "$tmp/r1-$rows" >/dev/null
  "$sonnets" "${small[@]}" --adam-rows "$rows" --max-steps 12 --save "$tmp/r2-$rows" >/dev/null
  "$sonnets" "${small[@]}" --adam-rows "$rows" --max-steps 24 --save "$tmp/r2-$rows" --resume "$tmp/r2-$rows" >/dev/null
  same_file "sonnets --adam-rows $rows: 12 steps + --resume to 24 = 24 steps" "$tmp/r1-$rows" "$tmp/r2-$rows"
done
if cmp -s "$tmp/r1-summed" "$tmp/r1-per-lookup"; then echo "FAIL: --adam-rows changed nothing"; exit 1; fi
# Periodic checkpoints (every 5 steps) change nothing in the training.
"$sonnets" "${small[@]}" --max-steps 24 --checkpoint-every 5 --save "$tmp/p" >/dev/null
same_file "sonnets: --checkpoint-every 5 ends the same" "$tmp/a" "$tmp/p"

# SIGINT after a few steps (a checkpoint after every step shows training is under way).
set +e
"$sonnets" "${small[@]}" --max-steps 100000 --checkpoint-every 1 --save "$tmp/c" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1500); do [ -s "$tmp/c" ] || ! kill -0 "$pid" 2>/dev/null && break; sleep 0.02; done
kill -INT "$pid"
wait "$pid"
rc=$?
set -e
cat "$tmp/err"
[ "$rc" = 130 ] || { echo "FAIL: SIGINT exited $rc, expected 130"; exit 1; }
grep -q "stopped by SIGINT after step [0-9]*; checkpoint written to $tmp/c" "$tmp/err" ||
  { echo "FAIL: no message naming the checkpoint"; exit 1; }
grep -q "resume with: $sonnets .*--resume $tmp/c" "$tmp/err" || { echo "FAIL: no resume command"; exit 1; }
stopped="$(sed -n 's/.*after step \([0-9]*\);.*/\1/p' "$tmp/err")"
[ "$stopped" -lt 24 ] || { echo "FAIL: stopped at step $stopped, too late to compare with a 24-step run"; exit 1; }
echo "ok: SIGINT exits 130 after step $stopped and names $tmp/c"
"$sonnets" "${small[@]}" --max-steps 24 --save "$tmp/c" --resume "$tmp/c" >/dev/null
same_file "sonnets: SIGINT at step $stopped + --resume to 24 = 24 steps" "$tmp/a" "$tmp/c"

# SIGTERM with no --save: the default checkpoint in the working directory.
set +e
(cd "$tmp" && exec "$sonnets" "${small[@]}" --max-steps 100000 --checkpoint-every 2 2>"$tmp/err2") &
pid=$!
for _ in $(seq 1500); do [ -s "$tmp/sonnets.checkpoint" ] || ! kill -0 "$pid" 2>/dev/null && break; sleep 0.02; done
kill -TERM "$pid"
wait "$pid"
rc=$?
set -e
[ "$rc" = 143 ] || { echo "FAIL: SIGTERM exited $rc, expected 143"; cat "$tmp/err2"; exit 1; }
grep -q "stopped by SIGTERM .*checkpoint written to ./sonnets.checkpoint" "$tmp/err2" ||
  { echo "FAIL: SIGTERM message"; cat "$tmp/err2"; exit 1; }
echo "ok: SIGTERM exits 143 and checkpoints to ./sonnets.checkpoint"

# A checkpoint for other options is refused (usage error) and says why.
set +e
"$sonnets" "${small[@]}" --batch-size 32 --max-steps 24 --resume "$tmp/b" 2>"$tmp/err3" >/dev/null
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "cannot resume: .*batches of 64" "$tmp/err3" && echo "ok: a mismatched --resume exits 2" ||
  { echo "FAIL: mismatched --resume exited $rc"; cat "$tmp/err3"; exit 1; }

# sherlock: 10 steps + --resume to 20 = 20 steps, by whole epochs too ("1e").
tiny=(--data "$data_dir" --units 16 --embed 4 --seed 2 --threads 2 --quiet)
"$sherlock" "${tiny[@]}" --max-steps 20 --save "$tmp/s1" >/dev/null
"$sherlock" "${tiny[@]}" --max-steps 10 --checkpoint-every 1e --save "$tmp/s2" >/dev/null
"$sherlock" "${tiny[@]}" --max-steps 20 --save "$tmp/s2" --resume "$tmp/s2" >/dev/null
same_file "sherlock: 10 steps + --resume to 20 = 20 steps" "$tmp/s1" "$tmp/s2"

# Debug mode finds nothing on healthy steps.
out="$("$sonnets" "${small[@]}" --max-steps 3 --check-numerics --json | tail -n 1)"
assert_below "loss with --check-numerics" "$(json_field "$out" loss)" 4
