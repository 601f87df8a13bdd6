#!/usr/bin/env bash
# docs/apps.md quotes each app's --help; this keeps the quotes true. Every fenced block
# that starts with "Usage: APP" must equal what build/apps/APP --help prints, and
# --help must exit 0. scripts/update-app-docs.py rewrites the blocks from the programs.
source "$(dirname "$0")/common.bash"
doc="$source_dir/docs/apps.md"
status=0
for app in sonnets sherlock word2vec bench gradflow; do
  want="$(awk -v app="$app" '
      /^```/ { if (inside) exit; fence = 1; next }
      fence && index($0, "Usage: " app " ") == 1 { inside = 1 }
      { fence = 0 }
      inside { print }' "$doc")"
  if [ -z "$want" ]; then echo "FAIL: docs/apps.md has no 'Usage: $app' block"; status=1; continue; fi
  got="$("$build_dir/apps/$app" --help)" || { echo "FAIL: $app --help exited non-zero"; status=1; continue; }
  if [ "$want" != "$got" ]; then
    echo "FAIL: docs/apps.md's $app --help differs from the program's:"
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -20
    status=1
  else
    echo "ok: $app --help matches docs/apps.md ($(printf '%s\n' "$got" | wc -l) lines)"
  fi
done
exit $status
