#!/usr/bin/env bash
# --lr-schedule and --reduce-lr-on-plateau in the apps, on shrunken models: each
# changes the training (the final loss differs from a run without it), and a run
# stopped part-way and resumed with --resume ends with exactly the file of a run never
# stopped: the schedule's step count, ReduceLROnPlateau's counters and the learning
# rate travel in the checkpoint. Refusals are usage errors (exit 2).
source "$(dirname "$0")/common.bash"
require_data sonnets.txt sherlock.txt
sonnets="$build_dir/apps/sonnets"
sherlock="$build_dir/apps/sherlock"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
head -c 3000 "$data_dir/sonnets.txt" >"$tmp/short.txt" # about 40 steps an epoch
small=(--data-file "$tmp/short.txt" --units 32 --embed 8 --seq-len 20 --batch-size 64 --seed 3 --threads 2
       --sample 0 --quiet)

same_file() { # NAME A B
  if cmp -s "$2" "$3"; then echo "ok: $1"; else echo "FAIL: $1: $2 and $3 differ"; exit 1; fi
}
# The final loss of a run's --json line (the files differ anyway: they hold the state).
loss_of() { "$@" --json | tail -n 1 | sed 's/.*"loss":\([^,]*\),.*/\1/'; }
differ() { # NAME LOSS_A LOSS_B
  if [ "$2" = "$3" ]; then echo "FAIL: $1: the loss is $2 either way"; exit 1; else echo "ok: $1 ($2, $3)"; fi
}

plain="$(loss_of "$sonnets" "${small[@]}" --lr 0.01 --epochs 3)" # the rate both runs below start from

# A cosine schedule with warmup, per step: 30 steps + --resume = uninterrupted.
cosine=(--lr 0.01 --lr-schedule cosine,steps=1e,warmup=10)
differ "sonnets: --lr-schedule changes the training" "$plain" \
  "$(loss_of "$sonnets" "${small[@]}" "${cosine[@]}" --epochs 3 --save "$tmp/a")"
"$sonnets" "${small[@]}" "${cosine[@]}" --epochs 3 --max-steps 30 --save "$tmp/b" >/dev/null
"$sonnets" "${small[@]}" "${cosine[@]}" --epochs 3 --save "$tmp/b" --resume "$tmp/b" >/dev/null
same_file "sonnets: --lr-schedule, 30 steps + --resume = uninterrupted" "$tmp/a" "$tmp/b"

# ReduceLROnPlateau that must reduce after every epoch (no epoch improves by 100),
# stopped in the middle of epoch 2 and resumed.
plateau=(--lr 0.01 --reduce-lr-on-plateau patience=1,min_delta=100,factor=0.5)
differ "sonnets: --reduce-lr-on-plateau changes the training" "$plain" \
  "$(loss_of "$sonnets" "${small[@]}" "${plateau[@]}" --epochs 3 --save "$tmp/c")"
"$sonnets" "${small[@]}" "${plateau[@]}" --epochs 3 --max-steps 60 --save "$tmp/d" >/dev/null
"$sonnets" "${small[@]}" "${plateau[@]}" --epochs 3 --save "$tmp/d" --resume "$tmp/d" >/dev/null
same_file "sonnets: --reduce-lr-on-plateau, 60 steps + --resume = uninterrupted" "$tmp/c" "$tmp/d"

# sherlock: a step decay every 5 steps, 10 steps + --resume to 20.
tiny=(--data "$data_dir" --units 16 --embed 4 --seed 2 --threads 2 --quiet --lr-schedule step,every=5,rate=0.5)
"$sherlock" "${tiny[@]}" --max-steps 20 --save "$tmp/s1" >/dev/null
"$sherlock" "${tiny[@]}" --max-steps 10 --save "$tmp/s2" >/dev/null
"$sherlock" "${tiny[@]}" --max-steps 20 --save "$tmp/s2" --resume "$tmp/s2" >/dev/null
same_file "sherlock: --lr-schedule, 10 steps + --resume to 20 = 20 steps" "$tmp/s1" "$tmp/s2"

# sherlock validates in its own callback: ReduceLROnPlateau watches that val_loss
# (with fit's val_loss missing, monitor=val_loss would never act and change nothing).
head -c 30000 "$data_dir/sherlock.txt" >"$tmp/sherlock_short.txt" # 78 steps an epoch
words=(--data-file "$tmp/sherlock_short.txt" --units 16 --embed 4 --seed 2 --threads 2 --quiet --epochs 3)
watch=(--reduce-lr-on-plateau monitor=val_loss,patience=1,min_delta=100,factor=0.5)
differ "sherlock: --reduce-lr-on-plateau on its val_loss changes the training" \
  "$(loss_of "$sherlock" "${words[@]}")" "$(loss_of "$sherlock" "${words[@]}" "${watch[@]}" --save "$tmp/w1")"
"$sherlock" "${words[@]}" "${watch[@]}" --max-steps 120 --save "$tmp/w2" >/dev/null
"$sherlock" "${words[@]}" "${watch[@]}" --save "$tmp/w2" --resume "$tmp/w2" >/dev/null
same_file "sherlock: --reduce-lr-on-plateau, 120 steps + --resume = uninterrupted" "$tmp/w1" "$tmp/w2"

# Refusals.
expect_usage() { # WHAT ARGS...
  local what="$1"; shift
  set +e
  "$sonnets" "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  set -e
  [ "$rc" = 2 ] || { echo "FAIL: $what exited $rc"; cat "$tmp/err"; exit 1; }
  echo "ok: $what: $(cat "$tmp/err")"
}
expect_usage "a schedule without its length" --lr-schedule cosine,warmup=5
expect_usage "an unknown schedule" --lr-schedule linear,steps=5
expect_usage "a factor of 2" --reduce-lr-on-plateau factor=2
expect_usage "both at once" --lr-schedule step,every=1e --reduce-lr-on-plateau default
