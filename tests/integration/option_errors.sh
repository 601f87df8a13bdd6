#!/usr/bin/env bash
# A refused option reads the same in every app (apps/common/options.c): an ambiguous
# prefix lists its candidates, and an unknown option, a missing value and a value
# given to an option without one each have one wording; all exit 2 before any work.
source "$(dirname "$0")/common.bash"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# says APP WANT ARG...: APP ARG... exits 2 with "APP: WANT" on stderr, all of it (WANT
# is a glob: '*' where an app's list of options may grow).
says() {
  local app="$1" want="$2"
  shift 2
  set +e
  "$build_dir/apps/$app" "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  set -e
  if [ "$rc" != 2 ] || [[ "$(cat "$tmp/err")" != "$app: "$want ]]; then
    echo "FAIL: $app $* exited $rc (expected 2), stderr:"
    cat "$tmp/err"
    echo "expected: $app: $want"
    exit 1
  fi
  echo "ok: $app $* -> $(cat "$tmp/err")"
}

for app in sonnets sherlock word2vec bench; do
  says "$app" "unknown option '--no-such-option' (see --help)" --no-such-option
  says "$app" "unknown option '--no-such=1' (see --help)" --no-such=1
  says "$app" "unknown option '-x' (see --help)" -x
done
for app in sonnets sherlock word2vec; do
  says "$app" "option '--seed' needs a value (see --help)" --seed
  says "$app" "option '--seed' needs a value (see --help)" --see
  says "$app" "option '--quiet' takes no value (see --help)" --quiet=3
done
says bench "option '--steps' needs a value (see --help)" --steps
# Candidates sorted, each once, however many an app has.
says sonnets "option '--s' is ambiguous: --sample, --save, --seed, *--summary (see --help)" --s
says sherlock "option '--s' is ambiguous: *--save, --seed, *--summary (see --help)" --s
says sherlock "option '--s' is ambiguous: *--save, --seed, *--summary (see --help)" --s=1
says word2vec "option '--s' is ambiguous: --sample, --save, --seed, *--similar, --similarity, --softmax, --summary (see --help)" --s
says bench "option '--s' is ambiguous: *--scaling, *--steps* (see --help)" --s
