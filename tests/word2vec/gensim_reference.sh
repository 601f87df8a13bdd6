#!/usr/bin/env bash
# `gensim_reference.sh PATH/gensim_check`: gensim's answers (gensim_reference.py)
# against lamina's. Uses $LAMINA_PYTHON if set, else the first of python3 on PATH and
# /usr/bin/python3 that imports gensim and numpy; exits 77 (skipped, never passed)
# when there is none or the data files are missing.
set -euo pipefail
binary=$1
here="$(cd "$(dirname "$0")" && pwd)"
source_dir="${LAMINA_SOURCE_DIR:-$(cd "$here/../.." && pwd)}"
data_dir="${DATA_DIR:-$source_dir/data}"

py=""
candidates=(python3 /usr/bin/python3)
if [ -n "${LAMINA_PYTHON:-}" ]; then candidates=("$LAMINA_PYTHON"); fi
for candidate in "${candidates[@]}"; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import gensim, numpy, scipy" >/dev/null 2>&1; then
    py=$candidate
    break
  fi
done
if [ -z "$py" ]; then
  echo "SKIPPED: no python3 with gensim, numpy and scipy (Debian: apt-get install python3-gensim)"
  exit 77
fi
for f in brown_1.txt wordsim353.tsv questions-words.txt; do
  if [ ! -s "$data_dir/$f" ]; then
    echo "SKIPPED: $data_dir/$f not found (run scripts/get-data.sh)"
    exit 77
  fi
done
echo "python: $(command -v "$py") ($("$py" -c 'import gensim, numpy; print("gensim", gensim.__version__, "numpy", numpy.__version__)'))"

work="$(mktemp -d "${TMPDIR:-/tmp}/lamina-gensim-XXXXXX")"
trap 'rm -rf "$work"' EXIT
# gensim seeds each word's first vector from Python's string hash: fix it, so the
# vectors (and the answers) are the same run after run.
PYTHONHASHSEED=0 "$py" "$here/gensim_reference.py" "$data_dir" "$work"
"$binary" "$work"
