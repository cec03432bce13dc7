# Shared by the scripts: locate the repository, build a preset, find chapters.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# configure PRESET: configures build/PRESET once (quietly).
configure() {
  local preset=$1
  if [ ! -f "$ROOT/build/$preset/build.ninja" ]; then
    cmake --preset "$preset" -S "$ROOT" >/dev/null
  fi
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
