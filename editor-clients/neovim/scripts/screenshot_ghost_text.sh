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
out_default="screenshots/ghost-text.png"
session_prefix="bowerbird-shot"
# shellcheck source=_tmux_shot.sh
source "$(dirname "${BASH_SOURCE[0]}")/_tmux_shot.sh"

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

tmux new-session -d -s "$session" -x 100 -y 30 \
  "cd '$work/repo' && TERM=xterm-256color nvim --clean -u '$work/init.lua' shapes/circle.py"
wait_for "$work/ready" ready 120
tmux send-keys -t "$session" ":17" Enter o Enter C-u "    def diameter(self) -> float:" Enter
sleep 0.5
tmux send-keys -t "$session" "return 2 * "
wait_for "$work/ghost" "return 2 \* " 60
sleep 0.5
capture_png --cursor-shape bar
echo "ghost text: $(tail -n 1 "$work/ghost")"
