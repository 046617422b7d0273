#!/usr/bin/env bash
# Screenshot of a variable-misuse diagnostic in a real Neovim: trains the tests' tiny misuse
# model (tests/tiny_misuse_model.py, seconds), opens its planted bug (`total / total` where
# `total / count` belongs) in a detached tmux pane with the plugin, waits for the server's
# diagnostic, opens its float and renders the pane to a PNG.
#
#   editor-clients/neovim/scripts/screenshot_diagnostic.sh [OUT.png]
#
# Needs nvim, tmux, Pillow in the Python below and fonts-dejavu-core. PYTHON (default: the
# repository's .venv, else python3) runs the training, the server and the renderer.
set -euo pipefail
out_default="screenshots/diagnostic.png"
session_prefix="bowerbird-diag"
# shellcheck source=_tmux_shot.sh
source "$(dirname "${BASH_SOURCE[0]}")/_tmux_shot.sh"

mkdir -p "$work/repo"
(cd "$repo_root/tests" && "$python" - "$work" <<'PY'
import sys
from pathlib import Path

from tiny_misuse_model import BUGGY, train_tiny_misuse_model

work = Path(sys.argv[1])
(work / "repo" / "stats.py").write_text(BUGGY)
train_tiny_misuse_model(work / "misuse-model")
PY
) >/dev/null 2>&1
cat > "$work/init.lua" <<EOF
vim.opt.rtp:prepend("$plugin")
vim.o.number = true
vim.o.background = "dark"
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. "I"
require("bowerbird").setup({
  cmd = { "$python", "-m", "bowerbird", "serve" },
  init_options = { indexDir = "$work/index", dataDir = "$work/data", developerId = "screenshot",
    diagnostics = { model = "$work/misuse-model", debounceMs = 0 } },
})
-- Report to the script once the diagnostic is there; then show it under the cursor.
local timer = vim.loop.new_timer()
timer:start(200, 200, vim.schedule_wrap(function()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.message:find("may be the wrong variable") then
      timer:stop()
      vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
      vim.diagnostic.open_float(0, { scope = "cursor" })
      vim.fn.writefile({ d.message }, "$work/diagnostic")
      return
    end
  end
end))
EOF

tmux new-session -d -s "$session" -x 100 -y 30 \
  "cd '$work/repo' && TERM=xterm-256color nvim --clean -u '$work/init.lua' stats.py"
wait_for "$work/diagnostic" "wrong variable" 120
sleep 1
capture_png
echo "diagnostic: $(cat "$work/diagnostic")"
