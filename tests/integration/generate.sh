#!/usr/bin/env bash
# Generation that searches, on briefly trained sonnets and sherlock models: --beam 1
# (greedy) writes what --top-p 1e-6 (only the argmax left) writes, the search ignores
# --seed, --top-p 1 changes nothing, --no-repeat-ngram N leaves no N-gram twice in
# prime + sample, and the options that do not go together are refused (exit 2).
source "$(dirname "$0")/common.bash"
require_data sonnets.txt sherlock.txt
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# same NAME A B: A and B are the same text.
same() {
  if [ "$2" = "$3" ]; then echo "ok: $1: $2"; else echo "FAIL: $1 differ: '$2' vs '$3'"; exit 1; fi
}
# refused APP ARG...: exits 2.
refused() {
  local app="$1" rc
  shift
  set +e
  "$build_dir/apps/$app" "$@" >/dev/null 2>"$tmp/err"
  rc=$?
  set -e
  [ "$rc" = 2 ] || { echo "FAIL: $app $* exited $rc, expected 2"; cat "$tmp/err"; exit 1; }
  echo "ok: $app $* -> $(cat "$tmp/err")"
}
# repeats_ngram N TEXT: whether some N characters (or, with words, N words) occur twice.
repeats_ngram() {
  awk -v n="$1" -v words="${3:-}" '{
      k = words ? split($0, w, " ") : length($0)
      for (i = 1; i + n - 1 <= k; i++) {
        g = ""; for (j = i; j < i + n; j++) g = g SUBSEP (words ? w[j] : substr($0, j, 1))
        if (g in seen) { found = 1; exit } seen[g] = 1
      } } END { exit !found }' <<<"$2"
}

sonnets="$build_dir/apps/sonnets"
son() { "$sonnets" --data "$data_dir" --model char-many-to-one --load "$tmp/s.weights" --quiet \
  --prime "shall i compare thee" --sample 40 "$@" | sed -n 's/^sample: //p'; }
"$sonnets" --data "$data_dir" --model char-many-to-one --max-steps 60 --lr 0.01 --seed 0 --threads 2 --quiet \
  --sample 0 --save "$tmp/s.weights" >/dev/null
greedy="$(son --beam 1)"
same "sonnets --beam 1 and --top-p 1e-6" "$greedy" "$(son --top-p 1e-6)"
[ "${#greedy}" = $((20 + 1 + 40)) ] || { echo "FAIL: sample '$greedy' is not prime | 40 characters"; exit 1; }
same "sonnets --beam 4 with --seed 0 and 7" "$(son --beam 4 --seed 0)" "$(son --beam 4 --seed 7)"
same "sonnets --top-p 1 and plain sampling" "$(son --seed 3 --top-p 1)" "$(son --seed 3)"
blocked="$(son --beam 3 --no-repeat-ngram 3)"
if repeats_ngram 3 "${blocked/|/}"; then echo "FAIL: a 3-gram repeats in '$blocked'"; exit 1; fi
echo "ok: --no-repeat-ngram 3: no 3 characters twice in '$blocked'"
repeats_ngram 3 "${greedy/|/}" || echo "note: the greedy sample has no repeated 3-gram either"
refused sonnets --beam 2 --top-p 0.5
refused sonnets --beam 2 --temperature 0.5
refused sonnets --no-repeat-ngram 2
refused sonnets --top-p 0
refused sonnets --top-p 1.5
refused sonnets --beam 0

sherlock="$build_dir/apps/sherlock"
"$sherlock" --data "$data_dir" --units 32 --embed 10 --lr 0.01 --max-steps 100 --seed 0 --threads 2 --quiet \
  --save "$tmp/h.bin" >/dev/null
her() { json_field "$("$sherlock" --load "$tmp/h.bin" --predict "i have seldom heard" --top-k 1 --generate 8 \
  --json "$@" | tail -n 1)" generated; }
greedy="$(her --beam 1)"
same "sherlock --beam 1 and --top-p 1e-6" "$greedy" "$(her --top-p 1e-6)"
same "sherlock --beam 3 with --seed 0 and 7" "$(her --beam 3 --seed 0)" "$(her --beam 3 --seed 7)"
same "sherlock --top-p 1 and plain sampling" "$(her --seed 3 --top-p 1)" "$(her --seed 3)"
blocked="$(her --beam 3 --no-repeat-ngram 1)"
if repeats_ngram 1 "i have seldom heard ${blocked//\"/}" words; then echo "FAIL: a word repeats: $blocked"; exit 1; fi
echo "ok: --no-repeat-ngram 1: no word twice in i have seldom heard + $blocked"
refused sherlock --load "$tmp/h.bin" --predict "i have seldom heard" --beam 2
refused sherlock --load "$tmp/h.bin" --predict "i have seldom heard" --generate 3 --beam 2 --top-p 0.5
refused sherlock --load "$tmp/h.bin" --predict "i have seldom heard" --generate 3 --no-repeat-ngram 2
refused sherlock --generate 3
