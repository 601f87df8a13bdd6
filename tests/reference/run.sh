#!/usr/bin/env bash
# Runs one reference test: `run.sh pytorch PATH/reference_check` (PyTorch's numbers
# against lamina's) or `run.sh converters PATH/interop_example` (converter round trips,
# numpy reading C-written files, the worked example of docs/interop.md). Uses
# $LAMINA_PYTHON if set, else the first of python3 on PATH and /usr/bin/python3 that
# imports torch and numpy; exits 77 (skipped, never passed) when there is none.
set -euo pipefail
mode=$1
binary=$2
here="$(cd "$(dirname "$0")" && pwd)"

py=""
candidates=(python3 /usr/bin/python3)
if [ -n "${LAMINA_PYTHON:-}" ]; then candidates=("$LAMINA_PYTHON"); fi
for candidate in "${candidates[@]}"; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch, numpy" >/dev/null 2>&1; then
    py=$candidate
    break
  fi
done
if [ -z "$py" ]; then
  echo "SKIPPED: no python3 with torch and numpy (Debian: apt-get install python3-torch python3-numpy)"
  exit 77
fi
echo "python: $(command -v "$py") ($("$py" -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'))"

work="$(mktemp -d "${TMPDIR:-/tmp}/lamina-reference-XXXXXX")"
trap 'rm -rf "$work"' EXIT

case "$mode" in
  pytorch)
    "$py" "$here/make_reference.py" "$work"
    "$binary" "$work"
    "$py" "$here/check_interop.py" --c-written "$work"
    ;;
  converters)
    "$py" "$here/check_interop.py" --example "$binary"
    ;;
  *)
    echo "usage: run.sh pytorch|converters BINARY" >&2
    exit 2
    ;;
esac
