#!/usr/bin/env bash
# Evaluation files without one usable line are errors naming the file (exit 1), never a
# score of "nan" with exit 0; bench --word2vec names the test sets missing from the
# data directory and shows their scores as "-", and refuses an unusable one (exit 2).
source "$(dirname "$0")/common.bash"
require_data sonnets.txt
apps="$build_dir/apps"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
: >empty.txt
printf 'not an analogy\nnor this\n' >garbage.txt
printf 'a\tb\tnot-a-number\n# a comment\n' >garbage.tsv

# fails STATUS PATTERN COMMAND...: COMMAND exits STATUS, PATTERN on stderr, no "nan" anywhere.
fails() {
  local want="$1" pattern="$2"
  shift 2
  set +e
  "$@" >out 2>err
  local rc=$?
  set -e
  if [ "$rc" != "$want" ] || ! grep -q -- "$pattern" err || grep -qi "nan" out err; then
    echo "FAIL: ${*#$apps/} exited $rc (expected $want with '$pattern'), stdout:"
    cat out
    echo "stderr:"
    cat err
    exit 1
  fi
  echo "ok: ${*#$apps/} -> $rc: $(grep -- "$pattern" err)"
}

w2v=("$apps/word2vec" --corpus sonnets.txt --iter 1 --quiet)
# Refused before training (exit 2), so a bad file costs no work.
fails 2 "empty.txt: no analogy question" "${w2v[@]}" --eval-analogies "$tmp/empty.txt"
fails 2 "garbage.txt: no analogy question .* (2 malformed lines)" "${w2v[@]}" --eval-analogies "$tmp/garbage.txt"
fails 2 "empty.txt: no word pair" "${w2v[@]}" --eval-similarity "$tmp/empty.txt"
fails 2 "garbage.tsv: no word pair .* (1 malformed line)" "${w2v[@]}" --eval-similarity "$tmp/garbage.tsv"
"$apps/word2vec" --corpus sonnets.txt --iter 1 --eval-similarity "$tmp/garbage.tsv" 2>err >/dev/null || true
! grep -q "Epoch" err || { echo "FAIL: word2vec trained before refusing:"; cat err; exit 1; }

# Usable files whose every word is unknown: said in words, exit 0, no "nan" (also not in --json).
printf ': sec\nqqqa qqqb qqqc qqqd\n' >oov.txt
printf 'qqqa\tqqqb\t1.0\nqqqc\tqqqd\t2.0\n' >oov.tsv
"${w2v[@]}" --eval-analogies "$tmp/oov.txt" --eval-similarity "$tmp/oov.tsv" --json >out 2>err ||
  { echo "FAIL: all-unknown test sets should not fail:"; cat out err; exit 1; }
grep -q "no question could be asked: all 1 have a word outside" out &&
  grep -q "no Spearman rho: 0 of 2 pairs have both words" out && ! grep -qi "nan" out ||
  { echo "FAIL: all-unknown test sets not reported in words:"; cat out; exit 1; }
echo "ok: test sets with only unknown words are reported in words, without nan"

# bench --word2vec on a data directory without the test sets: says which are missing.
mkdir data
cp "$data_dir/sonnets.txt" data/
"$apps/bench" --word2vec --data "$tmp/data" --corpus sonnets.txt --rounds 1 --threads 1 >out 2>err
for f in questions-words.txt wordsim353.tsv; do
  grep -q "data/$f is missing" err || { echo "FAIL: bench did not say $f is missing:"; cat err; exit 1; }
done
if grep -qi "nan" out; then echo "FAIL: bench printed nan:"; cat out; exit 1; fi
grep -q "^  lamina .* -  *-$" out || { echo "FAIL: bench's row does not show - for the scores:"; cat out; exit 1; }
echo "ok: bench --word2vec names the missing test sets and prints no nan"
cp empty.txt data/questions-words.txt
fails 2 "questions-words.txt: no analogy question" "$apps/bench" --word2vec --data "$tmp/data" --corpus sonnets.txt --rounds 1
