-- :checkhealth bowerbird
local util = require("bowerbird.util")

local M = {}

-- vim.health (0.8+; report_* names before 0.10) or the 0.7 `health` module.
local function reporter()
  local h = vim.health
  if h and h.start then
    return { start = h.start, ok = h.ok, warn = h.warn, error = h.error, info = h.info }
  end
  if h and h.report_start then
    return { start = h.report_start, ok = h.report_ok, warn = h.report_warn, error = h.report_error,
      info = h.report_info }
  end
  local legacy = require("health")
  return { start = legacy.report_start, ok = legacy.report_ok, warn = legacy.report_warn,
    error = legacy.report_error, info = legacy.report_info }
end

function M.check()
  local report = reporter()
  local bowerbird = require("bowerbird")
  local lsp = require("bowerbird.lsp")
  local options = bowerbird.options

  report.start("Bowerbird: set-up")
  local version = vim.version()
  report.info(string.format("Neovim %d.%d.%d", version.major, version.minor, version.patch))
  if not util.has("0.7") then
    report.error("Neovim 0.7 or newer is needed")
  end
  local paths = util.paths()
  report.info("starting the server: " .. paths.start)
  local ghost = bowerbird.ghost_path()
  if ghost == "builtin" then
    report.info("ghost text: " .. paths.ghost)
  elseif ghost == "plugin" then
    report.info(paths.ghost:match("built%-in") and "ghost text: plugin's own requests (ghost_text.use_builtin = false)"
      or ("ghost text: " .. paths.ghost))
  else
    report.info("ghost text: off (ghost_text.enabled = false)")
  end
  if not options then
    report.error('setup() has not been called', { 'add require("bowerbird").setup({}) to your configuration' })
    return
  end
  local cmd = options.cmd
  if vim.fn.executable(cmd[1]) == 1 then
    report.ok(string.format("server command found: %s (%s)", table.concat(cmd, " "), vim.fn.exepath(cmd[1])))
  else
    report.error(string.format("%q is not an executable", cmd[1]), {
      "install Bowerbird (pip install bowerbird) so that `bowerbird` is on PATH",
      'or set cmd = { "/path/to/python", "-m", "bowerbird", "serve" } in setup()',
    })
  end

  report.start("Bowerbird: server")
  local client = lsp.client(0) or lsp.clients()[1]
  if not client then
    report.warn("no Bowerbird server is attached", {
      "open a file of one of these filetypes: " .. table.concat(options.filetypes, ", "),
      "then run :checkhealth bowerbird from that buffer",
    })
    return
  end
  report.ok(string.format("server running (client id %d, root %s)", client.id, tostring(client.config.root_dir)))
  local status, failure = lsp.execute_sync(client, "bowerbird.status", {}, 5000)
  if not status then
    report.error("bowerbird.status did not answer: " .. tostring(failure))
    return
  end
  report.info("server version " .. tostring(status.version))
  for _, root in ipairs(status.roots or {}) do
    if root.indexed then
      report.ok(string.format("index of %s: %s files, %s symbols", root.root, tostring(root.files),
        tostring(root.symbols)))
    else
      report.warn(string.format("index of %s: still being built", root.root))
    end
  end
  local model = status.model or {}
  if model.loaded then
    report.ok(string.format("model %s loaded on %s", tostring(model.name), tostring(model.device)))
  elseif model.error ~= nil and model.error ~= vim.NIL then
    report.error("model not loaded: " .. tostring(model.error),
      { "check completion.backend / completion.model in init_options" })
  else
    report.warn("model still loading")
  end
  local server_options = status.options or {}
  local completion = server_options.completion or {}
  report.info(string.format("completion backend %s, enabled %s", tostring(completion.backend),
    tostring(completion.enabled)))
  report.info("diagnostics (variable misuse) and their quick fixes arrive through Neovim's own LSP client "
    .. "(vim.diagnostic, vim.lsp.buf.code_action); diagnostics.enabled = "
    .. tostring((server_options.diagnostics or {}).enabled))
end

return M
