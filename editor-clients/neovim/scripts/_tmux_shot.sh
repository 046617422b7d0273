# Shared by the screenshot scripts (sourced, not run): where things are, a temporary work
# folder and tmux session cleaned up on exit, waiting for a file the Neovim side writes, and
# capturing the pane as a PNG. Set before sourcing: `out_default` (the PNG's default path,
# relative to the plugin) and `session_prefix`; the script's first argument overrides the path.
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
plugin="$(dirname "$here")"
repo_root="$(cd "$plugin/../.." && pwd)"
out="${1:-$plugin/$out_default}"
python="${PYTHON:-$repo_root/.venv/bin/python}"
[ -x "$python" ] || python=python3
session="$session_prefix-$$"
work="$(mktemp -d)"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

wait_for() { # FILE PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    if [ -f "$1" ] && grep -q -- "$2" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $2 in $1" >&2
  tmux capture-pane -p -t "$session" >&2 || true
  exit 1
}

capture_png() { # extra render_ansi.py options...
  tmux capture-pane -e -p -t "$session" > "$work/pane.ansi"
  local cursor
  cursor="$(tmux display -p -t "$session" '#{cursor_x},#{cursor_y}')"
  mkdir -p "$(dirname "$out")"
  "$python" "$here/render_ansi.py" "$work/pane.ansi" "$out" --cols 100 --lines 30 --cursor "$cursor" "$@"
}
