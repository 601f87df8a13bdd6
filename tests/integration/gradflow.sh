#!/usr/bin/env bash
# gradflow, shortened: the command line (--help, bad values refused with exit 2 before
# any work), the gradient mode's claim in numbers (with a forget-gate bias of 5 the
# LSTM's dL/dh_t stays above 1e-6 of its end value over 299 steps, where SimpleRNN's
# falls below it within 100), its plot, the memory mode at one lag per task (trained at
# lags drawn from 2..L: the adding problem at L = 50, where after 1000 updates the LSTM's
# held-out MSE is below 0.05 and SimpleRNN's above 0.12, always answering 1 scoring
# 0.167; recall at L = 50, where after 1000 updates the LSTM's accuracy is above 0.9 and
# at least 0.15 above SimpleRNN's; recall at L = 10 solved by all three layers after 300
# updates), and the scan mode's timings.
source "$(dirname "$0")/common.bash"
app="$build_dir/apps/gradflow"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$app" --help | grep -q '^Usage: gradflow ' || { echo "FAIL: --help"; exit 1; }
echo "ok: --help"

# refused VALUE...: gradflow VALUE... exits 2 with a message naming the option.
refused() {
  set +e
  "$app" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  if [ "$rc" != 2 ] || ! grep -q "^gradflow: .*${1%%=*}" "$tmp/err" || [ -s "$tmp/out" ]; then
    echo "FAIL: gradflow $* exited $rc (expected 2 with a message naming $1):"
    cat "$tmp/err"
    exit 1
  fi
  echo "ok: gradflow $* -> $(cat "$tmp/err")"
}
refused --mode=bogus
refused --length 1
refused --seeds 0
refused --units=-3
refused --lags 10,0
refused --lags 1,2,3,4,5,6,7,8,9
refused --layers rnn,cnn
refused --forget-bias abc
refused --recurrent-init zeros
refused --task copy
refused --threads 0
refused --plot "$tmp/no/such/dir/plot.svg"

# Gradient mode: the decay per step and where each curve falls below 1e-6.
json="$("$app" --length 300 --seeds 2 --forget-bias 5 --plot "$tmp/grad.svg" --json --quiet | tail -1)"
assert_below "SimpleRNN dL/dh decay per step" "$(json_field "$json" simple_rnn_dh_decay)" 0.9
assert_below "SimpleRNN dL/dh below 1e-6 at distance" "$(json_field "$json" simple_rnn_dh_below_1e6)" 100
assert_above "LSTM dL/dh decay per step (forget bias 5)" "$(json_field "$json" lstm_dh_decay)" 0.99
if [ "$(json_field "$json" lstm_dh_below_1e6)" != null ]; then
  echo "FAIL: LSTM (forget bias 5) dL/dh fell below 1e-6 at $(json_field "$json" lstm_dh_below_1e6)"
  exit 1
fi
echo "ok: LSTM (forget bias 5) dL/dh stays above 1e-6 of its end value over 299 steps"
for want in '<svg' 'SimpleRNN dL/dh_t' 'LSTM forget-gate term' 'distance T - t'; do
  grep -q "$want" "$tmp/grad.svg" || { echo "FAIL: the gradient plot lacks '$want'"; exit 1; }
done
echo "ok: gradient plot written with its legend and axis label"

# Memory mode at one lag, two layers.
json="$("$app" --mode memory --task adding --lags 50 --layers rnn,lstm --updates 1000 --json --quiet | tail -1)"
assert_below "adding, L = 50, LSTM held-out MSE" "$(json_field "$json" adding_lstm_L50)" 0.05
assert_above "adding, L = 50, SimpleRNN held-out MSE" "$(json_field "$json" adding_simple_rnn_L50)" 0.12

# Recall at L = 50: the LSTM remembers the cued symbol through 49 distractors where
# SimpleRNN does measurably worse (the run gives 1.000 against 0.726).
json="$("$app" --mode memory --task recall --lags 50 --layers rnn,lstm --updates 1000 --json --quiet | tail -1)"
lstm="$(json_field "$json" recall_lstm_L50)"
rnn="$(json_field "$json" recall_simple_rnn_L50)"
assert_above "recall, L = 50, LSTM held-out accuracy" "$lstm" 0.9
assert_above "recall, L = 50, LSTM's lead over SimpleRNN" "$(awk -v a="$lstm" -v b="$rnn" 'BEGIN { print a - b }')" 0.15

# Recall at a short lag: every layer names the first symbol through 9 distractors (on
# the balanced held-out set a constant answer scores exactly 1/8).
json="$("$app" --mode memory --task recall --lags 10 --updates 300 --json --quiet | tail -1)"
for k in simple_rnn gru lstm; do
  assert_above "recall, L = 10, $k held-out accuracy" "$(json_field "$json" recall_${k}_L10)" 0.9
done

# Scan mode, small: every timing present and positive.
json="$("$app" --mode scan --length 32 --reps 3 --json --quiet | tail -1)"
for k in simple_rnn gru lstm lstm_composed; do
  assert_above "scan $k forward ms" "$(json_field "$json" ${k}_fwd_ms)" 0
  assert_above "scan $k forward+backward ms" "$(json_field "$json" ${k}_fwdbwd_ms)" 0
done
