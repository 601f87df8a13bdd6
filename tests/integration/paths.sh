#!/usr/bin/env bash
# What a run would fail at after minutes of training is refused before any work: an
# output (--save, --plot, --output, the checkpoint) that cannot be written exits 2
# naming the option, the path and why, creating and truncating nothing; an unusable
# --load file is refused before the vocabulary and model are built; sherlock's
# --predict without --load says it needs a model. --data-file takes a path too.
source "$(dirname "$0")/common.bash"
require_data sonnets.txt sherlock.txt
apps="$build_dir/apps"
tmp="$(mktemp -d)"
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir dir
printf 'not weights\n' >notw
printf 'keep me\n' >kept

# refused STATUS PATTERN COMMAND...: COMMAND exits STATUS with PATTERN on stderr and
# prints nothing on stdout (no training, no results).
refused() {
  local want="$1" pattern="$2"
  shift 2
  set +e
  "$@" >out 2>err
  local rc=$?
  set -e
  if [ "$rc" != "$want" ] || ! grep -q -- "$pattern" err || [ -s out ] || [ "$(wc -l <err)" != 1 ]; then
    echo "FAIL: ${*#$apps/} exited $rc (expected $want with '$pattern' alone), stdout:"
    cat out
    echo "stderr:"
    cat err
    exit 1
  fi
  echo "ok: ${*#$apps/} -> $rc: $(cat err)"
}

# absent PATH: the refused run created nothing there.
absent() {
  if [ -e "$1" ]; then echo "FAIL: $1 was created"; exit 1; fi
}

s=("$apps/sonnets" --data "$data_dir" --quiet --sample 0 --max-steps 1 --units 8 --embed 4 --threads 1)
h=("$apps/sherlock" --data "$data_dir" --quiet --max-steps 1 --units 8 --embed 4 --threads 1)
w=("$apps/word2vec" --data "$data_dir" --quiet --max-steps 1 --threads 1)

# Outputs that cannot be written, in every app.
refused 2 "sonnets: --save $tmp/none/x.w: cannot be written: no such directory: $tmp/none" \
  "${s[@]}" --save "$tmp/none/x.w"
absent "$tmp/none"
refused 2 "sonnets: --save dir: cannot be written: it is a directory" "${s[@]}" --save dir
refused 2 "sonnets: --plot none/p.svg: cannot be written: no such directory: none" "${s[@]}" --plot none/p.svg
refused 2 "sonnets: --save kept/x.w: cannot be written: not a directory: kept" "${s[@]}" --save kept/x.w
refused 2 "sonnets: --resume none/c: cannot be written: no such directory: none" \
  "${s[@]}" --checkpoint-every 1 --resume none/c
# A good --save with a bad --plot: the existing file stays as it was.
refused 2 "sonnets: --plot dir: cannot be written: it is a directory" "${s[@]}" --save kept --plot dir
[ "$(cat kept)" = "keep me" ] || { echo "FAIL: kept was changed"; exit 1; }
refused 2 "sherlock: --save none/s.w: cannot be written: no such directory: none" "${h[@]}" --save none/s.w
refused 2 "sherlock: --save dir/: cannot be written: it is a directory" "${h[@]}" --save dir/
mkdir model.vocab
refused 2 "sherlock: --save (its vocabulary) model.vocab: cannot be written: it is a directory" "${h[@]}" --save model
absent model
refused 2 "sherlock: --plot none/p.svg: cannot be written" "${h[@]}" --plot none/p.svg
refused 2 "word2vec: --save none/v.bin: cannot be written" "${w[@]}" --save none/v.bin
refused 2 "word2vec: --output dir: cannot be written: it is a directory" "${w[@]}" --output dir
refused 2 "word2vec: --plot none/p.svg: cannot be written" "${w[@]}" --plot none/p.svg
refused 2 "word2vec: --checkpoint none/c: cannot be written" "${w[@]}" --checkpoint none/c --checkpoint-every 1000
absent none
if [ "$(id -u)" != 0 ]; then # root writes anywhere
  mkdir locked && chmod a-w locked
  refused 2 "sonnets: --save locked/x.w: cannot be written: no permission to write in locked" \
    "${s[@]}" --save locked/x.w
  refused 2 "kept: cannot be written: no permission to write the file" \
    bash -c 'chmod a-w kept && exec "$@"' _ "${s[@]}" --save kept
  chmod u+w kept
fi

# --load of what is not a weights file: refused before the vocabulary and the model.
refused 2 "sonnets: cannot use --load missing.w: No such file or directory" "${s[@]}" --load missing.w
refused 2 "sonnets: cannot use --load notw: not a lamina weights file" "${s[@]}" --load notw
refused 2 "sonnets: cannot use --load dir: it is a directory" "${s[@]}" --load dir
refused 1 "sherlock: cannot use --load missing.w: No such file or directory" "${h[@]}" --load missing.w
refused 1 "sherlock: cannot use --load notw: not a lamina weights file" "${h[@]}" --load notw --predict "a b c"
refused 1 "word2vec: cannot use --load missing.bin: No such file or directory" "${w[@]}" --load missing.bin

# Predicting needs a trained model.
refused 2 "sherlock: --predict needs a trained model: give --load FILE" "${h[@]}" --predict "i am a"
refused 2 "sherlock: --interactive needs a trained model: give --load FILE" "${h[@]}" --interactive </dev/null

# --data-file: an absolute and a relative path, and still a name in --data.
mkdir corpus
cp "$data_dir/sonnets.txt" corpus/son.txt
head -c 20000 "$data_dir/sherlock.txt" >corpus/sh.txt
for f in "$tmp/corpus/son.txt" corpus/son.txt; do
  "${s[@]}" --data /nonexistent --data-file "$f" --json | tail -n 1 | grep -q '"steps":1' ||
    { echo "FAIL: sonnets --data-file $f"; exit 1; }
  echo "ok: sonnets --data-file $f trains"
done
for f in "$tmp/corpus/sh.txt" ./corpus/sh.txt; do
  "${h[@]}" --data /nonexistent --data-file "$f" --json | tail -n 1 | grep -q '"vocab":' ||
    { echo "FAIL: sherlock --data-file $f"; exit 1; }
  echo "ok: sherlock --data-file $f trains"
done
"${s[@]}" --data corpus --data-file son.txt --json | tail -n 1 | grep -q '"steps":1' ||
  { echo "FAIL: sonnets --data corpus --data-file son.txt"; exit 1; }
echo "ok: sonnets --data corpus --data-file son.txt trains"
refused 2 "sonnets: cannot read the corpus: .*none/son.txt" "${s[@]}" --data-file none/son.txt
echo "all path checks passed"
