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

last_chapter() {
  local last
  last=$(cd "$ROOT/chapters" && ls -d [0-9][0-9]-* | sort | tail -n 1)
  echo "${last%%-*}"
}
