# word2vec: one pass over brown_1.txt (600k words) with 50-d vectors on one thread
# (deterministic), then the vectors written in word2vec's text format, read back with
# --load and evaluated again.
# Bounds: the pair loss starts at 6 ln 2 = 4.16 (output vectors zero) and must fall
# below 3.3 (seen: 2.90); the analogy questions (3,924 answerable among ~9,300 words,
# where guessing gets ~0.4 right) must be answered above 0.15% (seen: 0.31%, 12 right);
# a broken kernel (wrong sign, no update, NaN) fails both. The reloaded vectors must
# give the very same analogy accuracy.
source "$(dirname "$0")/common.bash"
require_data brown_1.txt questions-words.txt wordsim353.tsv

app="$build_dir/apps/word2vec"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

out="$("$app" --data "$data_dir" --corpus brown_1.txt --iter 1 --dim 50 --threads 1 --seed 1 --quiet \
        --eval-analogies questions-words.txt --eval-similarity wordsim353.tsv \
        --output "$tmp/vectors.txt" --json)"
echo "$out"
json="$(printf '%s\n' "$out" | tail -n 1)"
assert_below loss "$(json_field "$json" loss)" 3.3
# One epoch: its loss is the run's final loss.
epochs="$(printf '%s\n' "$json" | sed -n 's/.*"epoch_losses":\[\([^]]*\)\].*/\1/p')"
if [ "$epochs" != "$(json_field "$json" loss)" ]; then
  echo "FAIL: epoch_losses [$epochs], expected the one epoch's loss $(json_field "$json" loss)"
  exit 1
fi
echo "ok: epoch_losses [$epochs] is the final loss"
analogy="$(json_field "$json" analogy)"
assert_above analogy "$analogy" 0.0015

reloaded="$("$app" --data "$data_dir" --load "$tmp/vectors.txt" --eval-analogies questions-words.txt --json | tail -n 1)"
echo "$reloaded"
again="$(json_field "$reloaded" analogy)"
if [ "$again" != "$analogy" ]; then
  echo "FAIL: the reloaded vectors score analogy $again, the trained ones $analogy"
  exit 1
fi
echo "ok: reloaded vectors score the same analogy accuracy ($again)"
