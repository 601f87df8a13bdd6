# Shared by the integration scripts: locate the app and the data, run it, read a
# field of its final JSON line, and compare against a bound.
set -euo pipefail
build_dir="${1:?usage: $0 BUILD_DIR}"
source_dir="${LAMINA_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
data_dir="${DATA_DIR:-$source_dir/data}"

# require_data FILE...: skip (exit 77) unless every file is in the data directory.
require_data() {
  for f in "$@"; do
    if [ ! -s "$data_dir/$f" ]; then
      echo "SKIP: $data_dir/$f not found (run scripts/get-data.sh)"
      exit 77
    fi
  done
}

# json_field JSON KEY: prints the number stored under KEY in a one-line JSON object.
json_field() {
  printf '%s\n' "$1" | tr ',{}' '\n\n\n' | awk -F: -v k="\"$2\"" '$1 == k { print $2 }'
}

# assert_below NAME VALUE BOUND
assert_below() {
  if awk -v v="$2" -v b="$3" 'BEGIN { exit !(v != "" && v != "null" && v + 0 < b + 0) }'; then
    echo "ok: $1 = $2 < $3"
  else
    echo "FAIL: $1 = $2, expected below $3"
    exit 1
  fi
}

# assert_above NAME VALUE BOUND
assert_above() {
  if awk -v v="$2" -v b="$3" 'BEGIN { exit !(v != "" && v != "null" && v + 0 > b + 0) }'; then
    echo "ok: $1 = $2 > $3"
  else
    echo "FAIL: $1 = $2, expected above $3"
    exit 1
  fi
}
