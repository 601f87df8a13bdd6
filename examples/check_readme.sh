#!/usr/bin/env bash
# Keeps the README's code honest: every ```c block of README.md must sit right under a
#   <!-- snippet: examples/FILE.c REGION -->
# line and be, character for character, the lines between "/* readme:begin REGION */"
# and "/* readme:end */" in that example (minus the begin marker's indentation). The
# examples are built and run by ctest, so the README shows code that compiles and works.
# Usage: check_readme.sh [SOURCE_DIR]   (run by ctest as example_readme_snippets)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
readme=$root/README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints region NAME of FILE; exit status 3 if the begin marker is missing, 4 if unclosed.
region() {
    awk -v name="$2" '
        index($0, "/* readme:begin " name " */") { inside = 1; found = 1; match($0, /^ */); indent = RLENGTH; next }
        inside && index($0, "/* readme:end */") { inside = 0; exit }
        inside {
            line = $0
            if (substr(line, 1, indent) ~ /^ *$/) line = substr(line, indent + 1)
            print line
        }
        END { if (!found) exit 3; if (inside) exit 4 }' "$1"
}

marker_re='^<!-- snippet: ([^ ]+) ([A-Za-z0-9_]+) -->$'
status=0 checked=0 lineno=0 in_block=0 marker="" block="" where=""
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    if [ "$in_block" = 1 ]; then
        if [ "$line" != '```' ]; then
            printf '%s\n' "$line" >>"$block"
            continue
        fi
        in_block=0
        [ -n "$where" ] || continue
        read -r file name <<<"$where"
        if [ ! -f "$root/$file" ]; then
            echo "README.md:$start: the snippet names $file, which does not exist"
            status=1
            continue
        fi
        rc=0
        region "$root/$file" "$name" >"$tmp/expected" || rc=$?
        if [ "$rc" != 0 ]; then
            echo "README.md:$start: $file has no complete region '$name' (/* readme:begin $name */ ... /* readme:end */)"
            status=1
        elif ! diff -u --label "$file ($name)" --label "README.md:$start" "$tmp/expected" "$block"; then
            echo "README.md:$start: this block differs from $file region '$name' (diff above); copy the example's code"
            status=1
        else
            checked=$((checked + 1))
        fi
        continue
    fi
    if [[ $line =~ $marker_re ]]; then
        marker="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
    elif [ "$line" = '```c' ]; then
        start=$lineno in_block=1 block="$tmp/block$lineno" where="$marker" marker=""
        : >"$block"
        if [ -z "$where" ]; then
            echo "README.md:$lineno: a C block with no '<!-- snippet: examples/FILE.c REGION -->' line right above it"
            status=1
        fi
    elif [ -n "$line" ]; then
        marker="" # the marker must be directly above its block (blank lines aside)
    fi
done <"$readme"

if [ "$in_block" = 1 ]; then
    echo "README.md:$start: unterminated code block"
    status=1
fi
if [ "$checked" = 0 ] && [ "$status" = 0 ]; then
    echo "README.md has no snippet blocks: nothing was checked"
    status=1
fi
[ "$status" = 0 ] && echo "README.md: $checked C blocks match their examples"
exit "$status"
