#!/usr/bin/env bash
# Sizes and hyperparameters the apps cannot use are refused up front, before any large
# allocation, with a message naming the value and exit status 2: zero or negative
# batch sizes, epochs, units and the like, learning rates outside (0, 10], thread
# counts outside 1..1024, sampling settings that mean nothing, a window longer than
# the data, and models too large for this machine's memory.
source "$(dirname "$0")/common.bash"
require_data sonnets.txt sherlock.txt
sonnets="$build_dir/apps/sonnets"
sherlock="$build_dir/apps/sherlock"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf 'shall i compare thee to a summers day\n' >"$tmp/tiny.txt"

# refused STATUS PATTERN COMMAND...: COMMAND exits STATUS with PATTERN on stderr.
refused() {
  local want="$1" pattern="$2"
  shift 2
  set +e
  "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  set -e
  if [ "$rc" != "$want" ] || ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: ${*#$build_dir/apps/} exited $rc (expected $want), stderr:"
    cat "$tmp/err"
    exit 1
  fi
  echo "ok: ${*#$build_dir/apps/} -> $rc: $(head -n 1 "$tmp/err")"
}

s=("$sonnets" --data "$data_dir" --quiet --sample 0)
refused 2 "invalid value '0' for --batch-size" "${s[@]}" --batch-size 0
refused 2 "invalid value '-4' for --batch-size" "${s[@]}" --batch-size -4
refused 2 "invalid value '0' for --threads" "${s[@]}" --threads 0
refused 2 "invalid value '10000' for --threads" "${s[@]}" --threads 10000
refused 2 "invalid value '0' for --lr" "${s[@]}" --lr 0
refused 2 "invalid value '-0.1' for --lr" "${s[@]}" --lr -0.1
refused 2 "invalid value '11' for --lr" "${s[@]}" --lr 11
refused 2 "invalid value '-1' for --epochs" "${s[@]}" --epochs -1
refused 2 "invalid value '0' for --units" "${s[@]}" --units 0
refused 2 "invalid value '-8' for --embed" "${s[@]}" --embed -8
refused 2 "invalid value '-1' for --sample" "${s[@]}" --sample -1
refused 2 "invalid value '0' for --temperature" "${s[@]}" --temperature 0
refused 2 "invalid value '0' for --checkpoint-every" "${s[@]}" --checkpoint-every 0
refused 2 "invalid value '2x' for --checkpoint-every" "${s[@]}" --checkpoint-every 2x
refused 2 "give one of them" "${s[@]}" --resume "$tmp/none" --load "$tmp/none"
refused 2 "cannot resume: .*$tmp/none" "${s[@]}" --max-steps 1 --resume "$tmp/none"
refused 2 "seq-len 10000000 is too long for sonnets.txt" "${s[@]}" --seq-len 10000000
refused 2 "seq-len 40 is too long for tiny.txt" "${s[@]}" --data "$tmp" --data-file tiny.txt
refused 2 "training --units 1000000 .* more than this machine's" "${s[@]}" --units 1000000
# The optional larger corpus: checked when it is there, not required.
if [ -s "$data_dir/tinyshakespeare.txt" ]; then
  refused 2 "training .*--seq-len 40000 .* more than this machine's" "${s[@]}" --data-file tinyshakespeare.txt --seq-len 40000
else
  echo "note: $data_dir/tinyshakespeare.txt not found; its memory-limit case is left out"
fi

h=("$sherlock" --data "$data_dir" --quiet)
refused 2 "invalid value '0' for --batch-size" "${h[@]}" --batch-size 0
refused 2 "invalid value '10000' for --threads" "${h[@]}" --threads 10000
refused 2 "invalid value '0' for --lr" "${h[@]}" --lr 0
refused 2 "invalid value '-2' for --epochs" "${h[@]}" --epochs -2
refused 2 "invalid value '0' for --units" "${h[@]}" --units 0
refused 2 "invalid value '0' for --embed" "${h[@]}" --embed 0
refused 2 "invalid value '0' for --top-k" "${h[@]}" --top-k 0
refused 2 "invalid value '1e5e' for --checkpoint-every" "${h[@]}" --checkpoint-every 1e5e
refused 2 "training --units 1000000 .* more than this machine's" "${h[@]}" --units 1000000
refused 2 "has too few words" "${h[@]}" --data "$tmp" --data-file tiny.txt
