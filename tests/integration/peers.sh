#!/usr/bin/env bash
# bench --peers runs the peer scripts of the repository (scripts/peers/): the PyTorch
# script builds config C with the sizes bench passes (sherlock's 8,639 rows), so its
# parameter count is ours plus the second bias PyTorch's LSTMs carry; an interpreter
# without torch is skipped with what to install, and a peer directory without the
# scripts is an error. Skipped (77) when /usr/bin/python3 has no torch.
source "$(dirname "$0")/common.bash"
bench="$build_dir/apps/bench"
python="${LAMINA_PEER_PYTHON:-/usr/bin/python3}"
peers="$source_dir/scripts/peers"
for f in lstm_torch.py word2vec_gensim.py; do
  [ -f "$peers/$f" ] || { echo "FAIL: $peers/$f is not in the repository"; exit 1; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Without the scripts: an error that says where they are.
set +e
"$bench" --config B --peers --peers-dir "$tmp" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
if [ "$rc" != 2 ] || ! grep -q "cannot find the peer script $tmp/lstm_torch.py" "$tmp/err"; then
  echo "FAIL: bench --peers-dir without the scripts exited $rc:"; cat "$tmp/err"; exit 1
fi
echo "ok: a peer directory without the scripts is refused: $(head -1 "$tmp/err")"

# An interpreter that cannot run: skipped with what to install, our figures still printed.
"$bench" --config B --steps 1 --reps 1 --warmup 0 --train --peers --python "$tmp/no-python" >"$tmp/out" 2>"$tmp/err"
grep -q "cannot run $tmp/no-python: skipping that peer (apt-get install python3-torch" "$tmp/err" ||
  { echo "FAIL: no word of the missing interpreter:"; cat "$tmp/err"; exit 1; }
grep -q "^    lamina " "$tmp/out" || { echo "FAIL: no lamina row without a peer:"; cat "$tmp/out"; exit 1; }
echo "ok: a missing interpreter is skipped, saying what to install"

if ! "$python" -c "import torch" 2>/dev/null; then
  echo "SKIP: $python has no torch (apt-get install python3-torch)"
  exit 77
fi
# The same model on both sides: config C's parameters, ours (Keras: one bias per LSTM
# gate) and PyTorch's (two), 2 LSTMs of 4 x 1000 gates.
ours="$(OMP_NUM_THREADS=1 "$bench" --child --config C --threads 1 --steps 1 --reps 1 --warmup 0 --infer)"
ours_params="$(json_field "$ours" params)"
torch_line="$(OMP_NUM_THREADS=1 "$python" "$peers/lstm_torch.py" --config C --vocab 8639 --batch 64 --length 3 \
  --threads 1 --steps 1 --reps 1 --warmup 0 --infer | tr -d " ")"
torch_params="$(json_field "$torch_line" params)"
if [ "$torch_params" != "$((ours_params + 8000))" ]; then
  echo "FAIL: config C has $ours_params parameters here and $torch_params in PyTorch"; exit 1
fi
echo "ok: config C is the same model on both sides ($ours_params + 8000 second biases = $torch_params)"
"$bench" --config B --steps 1 --reps 1 --warmup 0 --peers --python "$python" >"$tmp/out" 2>"$tmp/err"
grep -q "^    PyTorch .* torch 1\?[0-9.]*" "$tmp/out" && grep -q "ours/PyTorch throughput" "$tmp/out" ||
  { echo "FAIL: no PyTorch row:"; cat "$tmp/out" "$tmp/err"; exit 1; }
echo "ok: bench --peers timed PyTorch: $(grep '^    PyTorch' "$tmp/out" | head -1 | tr -s ' ')"

# gensim, when this interpreter has it: a row of its own beside ours.
if "$python" -c "import gensim" 2>/dev/null && [ -s "$data_dir/sonnets.txt" ]; then
  "$bench" --word2vec --corpus sonnets.txt --rounds 1 --peers --python "$python" >"$tmp/out" 2>"$tmp/err"
  grep -q "^  gensim [0-9]" "$tmp/out" && grep -q "ours/gensim words/s" "$tmp/out" ||
    { echo "FAIL: no gensim row:"; cat "$tmp/out" "$tmp/err"; exit 1; }
  echo "ok: bench --word2vec --peers trained gensim: $(grep '^  gensim' "$tmp/out" | tr -s ' ')"
else
  echo "note: $python has no gensim (apt-get install python3-gensim): its peer is not checked"
fi
