# Shared by the scripts: locate the repository, build a preset, find chapters.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# configure PRESET: configures build/PRESET (quietly), so the preset's settings hold
# even in a build directory made before they changed.
configure() {
  local preset=$1
  (cd "$ROOT" && cmake --preset "$preset" >/dev/null)
}

# chapter_dir NN -> "NN-slug" (or fails)
chapter_dir() {
  local nn
  nn=$(printf '%02d' "$((10#$1))")
  local d
  for d in "$ROOT"/chapters/"$nn"-*/; do
    [ -d "$d" ] && { basename "$d"; return 0; }
  done
  echo "no chapter $1 in chapters/" >&2
  return 1
}

# last_chapter -> "NN" of the last chapters/NN-slug (or fails). A glob, sorted by bash, rather
# than `ls | sort | tail` in a $(...), whose failure would pass unnoticed.
last_chapter() {
  local dirs=("$ROOT"/chapters/[0-9][0-9]-*/)
  [ -d "${dirs[0]}" ] || { echo "no chapters in $ROOT/chapters" >&2; return 1; }
  local last=${dirs[-1]%/}
  last=${last##*/}
  echo "${last%%-*}"
}
