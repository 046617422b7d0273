#!/usr/bin/env bash
# Screenshot of ghost text in a real Neovim: nvim in a detached tmux pane on a copy of
# tests/data/pyrepo with the default (embedded) model, types the start of a method, waits
# for the suggestion, captures the pane with its colours and renders it to a PNG.
#
#   editor-clients/neovim/scripts/screenshot_ghost_text.sh [OUT.png]
#
# Needs nvim, tmux, Pillow in the Python below and fonts-dejavu-core. PYTHON (default: the
# repository's .venv, else python3) runs both the server and the renderer.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
plugin="$(dirname "$here")"
repo_root="$(cd "$plugin/../.." && pwd)"
out="${1:-$plugin/screenshots/ghost-text.png}"
python="${PYTHON:-$repo_root/.venv/bin/python}"
[ -x "$python" ] || python=python3
session="bowerbird-shot-$$"
work="$(mktemp -d)"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

cp -r "$repo_root/tests/data/pyrepo" "$work/repo"
cat > "$work/init.lua" <<EOF
vim.opt.rtp:prepend("$plugin")
vim.o.number = true
vim.o.background = "dark"
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. "I"
require("bowerbird").setup({
  cmd = { "$python", "-m", "bowerbird", "serve" },
  init_options = { indexDir = "$work/index", dataDir = "$work/data", developerId = "screenshot" },
})
-- Report to the script: "ready" once indexed and loaded, then the line and the ghost text.
local timer = vim.loop.new_timer()
local asked = false
timer:start(200, 200, vim.schedule_wrap(function()
  local lsp = require("bowerbird.lsp")
  local client = lsp.client(0)
  if client and not asked then
    asked = true
    lsp.execute(client, "bowerbird.status", {}, function(_, status)
      asked = false
      if status and status.model.loaded and status.roots[1] and status.roots[1].indexed then
        vim.fn.writefile({ "ready" }, "$work/ready")
      end
    end)
  end
  local current = require("bowerbird.ghost").current(0)
  if current then
    vim.fn.writefile({ vim.api.nvim_get_current_line(), current.lines[1] }, "$work/ghost")
  end
end))
EOF

wait_for() { # FILE PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    if [ -f "$1" ] && grep -q -- "$2" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $2 in $1" >&2
  tmux capture-pane -p -t "$session" >&2 || true
  exit 1
}

tmux new-session -d -s "$session" -x 100 -y 30 \
  "cd '$work/repo' && TERM=xterm-256color nvim --clean -u '$work/init.lua' shapes/circle.py"
wait_for "$work/ready" ready 120
tmux send-keys -t "$session" ":17" Enter o Enter C-u "    def diameter(self) -> float:" Enter
sleep 0.5
tmux send-keys -t "$session" "return 2 * "
wait_for "$work/ghost" "return 2 \* " 60
sleep 0.5
tmux capture-pane -e -p -t "$session" > "$work/pane.ansi"
cursor="$(tmux display -p -t "$session" '#{cursor_x},#{cursor_y}')"
mkdir -p "$(dirname "$out")"
"$python" "$here/render_ansi.py" "$work/pane.ansi" "$out" --cols 100 --lines 30 --cursor "$cursor" --cursor-shape bar
echo "ghost text: $(tail -n 1 "$work/ghost")"
