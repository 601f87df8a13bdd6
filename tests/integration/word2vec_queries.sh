# word2vec's gensim-style queries on six hand-made 2-D vectors (no training): their
# answers, worked out by hand (a (1,0), b (0,1), c (1,1), d (-1,0), e (3,4),
# f (0,-2)), from the text file and from the binary copy --save writes, in the printed
# lines and the --json line; Pearson, Spearman and the out-of-vocabulary ratio of a
# word-pair file; and the exit statuses: 1 for a word not in the vocabulary (named),
# 2 for a word list of the wrong shape or a bad option value. (scipy: pearsonr 0.98085,
# spearmanr 0.8 on the pairs file.)
source "$(dirname "$0")/common.bash"

app="$build_dir/apps/word2vec"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '6 2\na 1 0\nb 0 1\nc 1 1\nd -1 0\ne 3 4\nf 0 -2\n' >"$tmp/six.txt"
printf 'a\tc\t8\na\te\t7\nb\tf\t1\nc\tf\t0.5\na\tzebra\t5\n' >"$tmp/pairs.tsv"

fail() { echo "FAIL: $*"; exit 1; }

# expect_line OUTPUT LINE: OUTPUT holds LINE exactly.
expect_line() {
  if printf '%s\n' "$1" | grep -qxF -- "$2"; then echo "ok: $2"; else printf '%s\n' "$1"; fail "no line '$2'"; fi
}

queries=(--most-similar a --topn 3 --most-similar "b -a" --doesnt-match "a,c,e,d" --similarity "a,e"
         --n-similarity "a,e b" --similarity "A,e")
out="$("$app" --load "$tmp/six.txt" "${queries[@]}" --save "$tmp/six.bin" --json 2>"$tmp/err")" ||
  fail "the queries exited $?: $(cat "$tmp/err")"
expect_line "$out" "most_similar(positive=[a], negative=[]): c (0.707), e (0.600), b (0.000)"
expect_line "$out" "most_similar(positive=[b], negative=[a]): d (0.707), e (0.141), c (0.000)"
expect_line "$out" "doesnt_match([a, c, e, d]): d"
expect_line "$out" "similarity(a, e): 0.600000"
expect_line "$out" "n_similarity([a, e], [b]): 0.707107"
json="$(printf '%s\n' "$out" | tail -n 1)"
case "$json" in
  *'"queries":[{"query":"most_similar","words":"a","results":[["c",0.707107],["e",0.6],["b",0]]}'*) echo "ok: --json carries the neighbours" ;;
  *) fail "--json: $json" ;;
esac
case "$json" in
  *'{"query":"doesnt_match","words":"a,c,e,d","answer":"d"}'*'{"query":"similarity","words":"A,e","score":0.6}'*) echo "ok: --json carries the other answers" ;;
  *) fail "--json: $json" ;;
esac

again="$("$app" --load "$tmp/six.bin" --load-format binary "${queries[@]}" 2>/dev/null)" || fail "binary: exit $?"
[ "$again" = "$(printf '%s\n' "$out" | sed '$d')" ] || fail "the binary copy answers differently: $again"
echo "ok: the binary copy gives the same answers"

out="$("$app" --load "$tmp/six.txt" --cosmul --most-similar "b,-a" --topn 2 2>/dev/null)"
expect_line "$out" "most_similar_cosmul(positive=[b], negative=[a]): d (500000.000), e (1.125)"

out="$("$app" --load "$tmp/six.txt" --eval-word-pairs "$tmp/pairs.tsv" --json 2>/dev/null)"
printf '%s\n' "$out" | grep -q "Spearman rho 0.8000, Pearson r 0.9808, out-of-vocabulary pairs 20.0%" || fail "word pairs: $out"
json="$(printf '%s\n' "$out" | tail -n 1)"
[ "$(json_field "$json" pairs_oov_ratio)" = 20 ] || fail "OOV ratio: $json"
echo "ok: word pairs: $(printf '%s\n' "$out" | grep '^similarity')"

# status 1: a word not in the vocabulary, named; the other queries still answered
set +e
out="$("$app" --load "$tmp/six.txt" --similarity "a,zebra" --similarity "a,b" 2>"$tmp/err")"
rc=$?
set -e
[ $rc -eq 1 ] || fail "an unknown word exited $rc, expected 1"
grep -q "'zebra' is not in the vocabulary" "$tmp/err" || fail "the message does not name the word: $(cat "$tmp/err")"
expect_line "$out" "similarity(a, b): 0.000000"

# status 2: lists of the wrong shape and bad values, refused before loading anything
bad_lines=("--similarity a" "--similarity a,b,c" "--n-similarity a,b" "--most-similar -"
           "--most-similar ," "--doesnt-match ," "--cosmul --most-similar -a" "--topn 0" "--load-format xml")
for bad in "${bad_lines[@]}"; do
  set +e
  # shellcheck disable=SC2086 # the words of $bad are the option and its value
  "$app" --load "$tmp/six.txt" $bad >/dev/null 2>"$tmp/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "'$bad' exited $rc, expected 2"
  echo "ok: '$bad' refused: $(head -n 1 "$tmp/err")"
done
set +e
"$app" --load "$tmp/six.txt" --n-similarity "a b c" >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "--n-similarity with three lists exited $rc, expected 2"
echo "ok: --n-similarity with three lists refused"
set +e
"$app" --load-format text --similarity a,b >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "--load-format without --load exited $rc, expected 2"
echo "ok: --load-format without --load refused"
