#!/usr/bin/env bash
# Fills data/ (beside this script's repository root) with the corpora the apps train
# on. Order of preference: files already in data/; a local copy (LAMINA_DATA_SOURCE,
# else ../shared/data beside the repository); a download from Project Gutenberg for
# the two books. Every file is checked; when nothing works it says exactly what to
# fetch and where to put it. Exit status: 0 when the default corpora are present.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/data"
source_dir="${LAMINA_DATA_SOURCE:-$root/../shared/data}"
mkdir -p "$dest"

# name  minimum-bytes  a phrase the text must contain  gutenberg-ebook-number
corpora="
sonnets.txt 90000 From_fairest_creatures_we_desire_increase 1041
sherlock.txt 500000 To_Sherlock_Holmes_she_is_always 1661
tinyshakespeare.txt 1000000 First_Citizen -
questions-words.txt 500000 capital-common-countries -
wordsim353.tsv 5000 tiger -
simlex999.txt 10000 old -
brown_1.txt 3000000 Fulton_County -
brown_2.txt 2500000 the -
"

looks_right() { # file min_bytes phrase
  [ -f "$1" ] || return 1
  local size
  size=$(wc -c <"$1")
  [ "$size" -ge "$2" ] || return 1
  grep -q -- "${3//_/ }" "$1"
}

missing=0
while read -r name min phrase ebook; do
  [ -n "$name" ] || continue
  target="$dest/$name"
  if looks_right "$target" "$min" "$phrase"; then continue; fi
  if [ -f "$source_dir/$name" ] && looks_right "$source_dir/$name" "$min" "$phrase"; then
    cp "$source_dir/$name" "$target" && echo "data: copied $name from $source_dir" && continue
  fi
  if [ "$ebook" != "-" ] && command -v curl >/dev/null 2>&1; then
    url="https://www.gutenberg.org/cache/epub/$ebook/pg$ebook.txt"
    if curl -fsSL --max-time 60 -o "$target.part" "$url" 2>/dev/null &&
       looks_right "$target.part" "$min" "$phrase"; then
      mv "$target.part" "$target" &&
        echo "data: downloaded $name from $url (Gutenberg's edition, header included: see docs/data.md)" &&
        continue
    fi
    rm -f "$target.part"
  fi
  if [ "$ebook" != "-" ]; then
    echo "data: $name is missing. Download Project Gutenberg ebook #$ebook as plain text" >&2
    echo "      (https://www.gutenberg.org/ebooks/$ebook) and save it as $target," >&2
    echo "      or set LAMINA_DATA_SOURCE to a directory that holds $name (now: $source_dir)." >&2
    echo "      docs/data.md says where each corpus comes from, with its size and sha256." >&2
    missing=1
  else
    echo "data: optional $name not found in $dest or LAMINA_DATA_SOURCE ($source_dir);" >&2
    echo "      docs/data.md says where it comes from and how to get it" >&2
  fi
done <<<"$corpora"
exit $missing
