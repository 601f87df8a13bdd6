#!/usr/bin/env bash
# The "resume with:" line that SIGINT leaves is a command to paste: it starts with the
# program as it was invoked (its path, shell-quoted), so it runs as printed, here from
# a folder whose name has a space and a quote, and that run resumes the checkpoint.
source "$(dirname "$0")/common.bash"
require_data sonnets.txt
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dir="$tmp/my app's dir"
mkdir -p "$dir"
ln -s "$(cd "$build_dir" && pwd)/apps/sonnets" "$dir/sonnets"
ckpt="$dir/run.ckpt"
args=(--data "$data_dir" --units 32 --embed 8 --seq-len 20 --batch-size 64 --seed 3 --threads 2 --sample 0
      --quiet --max-steps 100000 --checkpoint-every 1 --save "$ckpt")

# interrupt ERR COMMAND...: runs COMMAND in the background, SIGINTs it once the
# checkpoint has been (re)written, and checks it exits 130.
interrupt() {
  local err="$1" before
  shift
  before="$(stat -c %y "$ckpt" 2>/dev/null || true)"
  set +e
  "$@" 2>"$err" &
  local pid=$!
  for _ in $(seq 1500); do
    [ -s "$ckpt" ] && [ "$(stat -c %y "$ckpt")" != "$before" ] || ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.02
  done
  kill -INT "$pid"
  wait "$pid"
  local rc=$?
  set -e
  [ "$rc" = 130 ] || { echo "FAIL: $* exited $rc, expected 130"; cat "$err"; exit 1; }
}

interrupt "$tmp/err1" "$dir/sonnets" "${args[@]}"
line="$(sed -n 's/^resume with: //p' "$tmp/err1")"
[ -n "$line" ] || { echo "FAIL: no resume command"; cat "$tmp/err1"; exit 1; }
echo "ok: resume with: $line"
# Read back by the shell, it is the program's path, the same options and --resume.
eval "words=($line)"
want=("$dir/sonnets" "${args[@]}" --resume "$ckpt")
[ "${words[*]}" = "${want[*]}" ] && [ "${#words[@]}" = "${#want[@]}" ] ||
  { echo "FAIL: the shell reads ${words[*]}"; echo "expected ${want[*]}"; exit 1; }
echo "ok: the shell reads it back as the invoked path and the same arguments"
first="$(sed -n 's/.*after step \([0-9]*\);.*/\1/p' "$tmp/err1")"
# Pasted as it is, from another directory, it runs and goes on from that step.
interrupt "$tmp/err2" bash -c "cd / && exec $line" # exec: the signal goes to the app
second="$(sed -n 's/.*after step \([0-9]*\);.*/\1/p' "$tmp/err2")"
[ -n "$second" ] && [ "$second" -gt "$first" ] ||
  { echo "FAIL: the pasted command stopped at step '$second', not after $first"; cat "$tmp/err2"; exit 1; }
echo "ok: the pasted command resumed at step $first and was stopped at step $second"
