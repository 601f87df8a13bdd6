#!/usr/bin/env bash
# Runs the Keras comparison of Adam's per-lookup rule: `run_keras.sh PATH/keras_adam_rows`.
# Uses $LAMINA_KERAS_PYTHON if set, else ~/peer-venv/bin/python, if it imports
# tensorflow and keras; exits 77 (skipped, never passed) when there is none, or when
# data/sonnets.txt is missing (scripts/get-data.sh). Keras is never a dependency.
set -euo pipefail
binary=$1
here="$(cd "$(dirname "$0")" && pwd)"
text="${LAMINA_SOURCE_DIR:-$here/../..}/data/sonnets.txt"

py=""
candidates=("$HOME/peer-venv/bin/python")
if [ -n "${LAMINA_KERAS_PYTHON:-}" ]; then candidates=("$LAMINA_KERAS_PYTHON"); fi
for candidate in "${candidates[@]}"; do
  if [ -x "$candidate" ] && "$candidate" -c "import tensorflow, keras, numpy" >/dev/null 2>&1; then
    py=$candidate
    break
  fi
done
if [ -z "$py" ]; then
  echo "SKIPPED: no python with tensorflow and keras (set LAMINA_KERAS_PYTHON)"
  exit 77
fi
if [ ! -f "$text" ]; then
  echo "SKIPPED: $text is missing (scripts/get-data.sh)"
  exit 77
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/lamina-keras-XXXXXX")"
trap 'rm -rf "$work"' EXIT
shift
"$py" "$here/keras_adam_rows.py" "$work" "$binary" "$text" "$@"
