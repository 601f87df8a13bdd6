#!/usr/bin/env bash
# A corpus of random bytes: every app that reads it warns once, naming the file and the
# share of its bytes that are not UTF-8 text, and still prints only valid UTF-8 (the
# word models' vocabulary, samples, predictions and saved vectors included). A clean
# corpus gets no warning.
source "$(dirname "$0")/common.bash"
require_data sonnets.txt
command -v iconv >/dev/null || { echo "SKIP: iconv not found"; exit 77; }
apps="$build_dir/apps"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# Fixed pseudo-random bytes (the same file every run): 200,000 of them.
LC_ALL=C awk 'BEGIN { srand(7); for (i = 0; i < 200000; i++) printf "%c", int(rand() * 256) }' >rand.txt
[ "$(wc -c <rand.txt)" = 200000 ] || { echo "FAIL: could not write 200000 random bytes"; exit 1; }

# check NAME COMMAND...: exits 0, warns exactly once with a share above 40%, and writes
# valid UTF-8 to stdout and stderr.
check() {
  local name="$1"
  shift
  if ! "$@" >out 2>err; then echo "FAIL: $name exited non-zero:"; cat err; exit 1; fi
  local warnings
  warnings="$(grep -c "warning: .*rand.txt: [0-9.]*% of its 200000 bytes are not UTF-8 text" err || true)"
  if [ "$warnings" != 1 ]; then echo "FAIL: $name warned $warnings times:"; cat err; exit 1; fi
  local share
  share="$(sed -n 's/.*rand.txt: \([0-9.]*\)% of its.*/\1/p' err)"
  assert_above "$name's share of non-text bytes (%)" "$share" 40
  for f in out err; do
    if ! iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1; then echo "FAIL: $name wrote invalid UTF-8 to std$f"; exit 1; fi
  done
  echo "ok: $name warned once and printed valid UTF-8"
}

check "sonnets (characters)" "$apps/sonnets" --data-file ./rand.txt --max-steps 2 --units 16 --sample 40 --quiet
check "sonnets (words)" "$apps/sonnets" --data-file ./rand.txt --model word --max-steps 2 --units 16 --sample 40 --quiet
check "sherlock" "$apps/sherlock" --data-file ./rand.txt --units 16 --embed 4 --max-steps 2 --save r.weights --quiet
iconv -f UTF-8 -t UTF-8 r.weights.vocab >/dev/null || { echo "FAIL: sherlock saved invalid UTF-8 in its vocabulary"; exit 1; }
# Predictions print vocabulary words; a phrase with malformed bytes is echoed as U+FFFD.
"$apps/sherlock" --load r.weights --predict "$(printf 'zq\377 zzq\376 zzzq\375')" >out 2>err || true
cat out err | iconv -f UTF-8 -t UTF-8 >/dev/null || { echo "FAIL: sherlock --predict printed invalid UTF-8"; exit 1; }
phrase="$(sed -n '2p' r.weights.vocab) $(sed -n '3p' r.weights.vocab) $(sed -n '4p' r.weights.vocab)"
"$apps/sherlock" --load r.weights --predict "$phrase" --top-k 20 >out 2>err
[ "$(grep -c '^  ' out)" = 20 ] || { echo "FAIL: sherlock --predict did not list 20 words:"; cat out err; exit 1; }
iconv -f UTF-8 -t UTF-8 out >/dev/null || { echo "FAIL: sherlock's predicted words are invalid UTF-8"; exit 1; }
echo "ok: sherlock's vocabulary and predictions are valid UTF-8"
check "word2vec" "$apps/word2vec" --corpus ./rand.txt --min-count 1 --iter 1 --output vectors.txt --similar a --quiet
iconv -f UTF-8 -t UTF-8 vectors.txt >/dev/null || { echo "FAIL: word2vec saved invalid UTF-8 vectors"; exit 1; }

# A clean corpus: no warning.
"$apps/sonnets" --max-steps 1 --units 16 --sample 0 --quiet >out 2>err
if grep -q "warning" err; then echo "FAIL: sonnets.txt got a warning:"; cat err; exit 1; fi
echo "ok: sonnets.txt gets no warning"
