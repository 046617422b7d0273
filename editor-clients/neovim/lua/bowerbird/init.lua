-- Bowerbird for Neovim: starts `bowerbird serve` for Python and Java buffers and shows its
-- inline completions as ghost text. Diagnostics and quick fixes come through Neovim's own
-- LSP client (vim.diagnostic, vim.lsp.buf.code_action); nothing here is needed for them.
--
--   require("bowerbird").setup({ init_options = { completion = { backend = "embedded" } } })
local util = require("bowerbird.util")
local config = require("bowerbird.config")
local lsp = require("bowerbird.lsp")
local ghost = require("bowerbird.ghost")
local native = require("bowerbird.native")
local commands = require("bowerbird.commands")

local M = {}

M.options = nil -- the options in force after setup()

--- "builtin" (0.12+ vim.lsp.inline_completion), "plugin" (our own requests) or "off".
function M.ghost_path()
  local options = M.options or config.defaults
  if not options.ghost_text.enabled then
    return "off"
  end
  if options.ghost_text.use_builtin and native.available() then
    return "builtin"
  end
  return "plugin"
end

local function current(bufnr)
  return (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
end

--- Asks for a completion at the cursor now (insert mode).
function M.complete(bufnr)
  bufnr = current(bufnr)
  if M.ghost_path() == "builtin" then
    return native.request(bufnr)
  end
  return ghost.request(bufnr, true)
end

--- Accepts the whole suggestion; false when none is shown.
function M.accept(bufnr)
  bufnr = current(bufnr)
  if M.ghost_path() == "builtin" then
    return native.accept(bufnr)
  end
  return ghost.accept(bufnr, "all")
end

function M.accept_word(bufnr)
  bufnr = current(bufnr)
  return M.ghost_path() == "plugin" and ghost.accept(bufnr, "word")
end

function M.accept_line(bufnr)
  bufnr = current(bufnr)
  return M.ghost_path() == "plugin" and ghost.accept(bufnr, "line")
end

function M.next(bufnr)
  bufnr = current(bufnr)
  if M.ghost_path() == "builtin" then
    return native.cycle(bufnr, 1)
  end
  return ghost.cycle(bufnr, 1)
end

function M.prev(bufnr)
  bufnr = current(bufnr)
  if M.ghost_path() == "builtin" then
    return native.cycle(bufnr, -1)
  end
  return ghost.cycle(bufnr, -1)
end

--- Hides the suggestion and reports it rejected; false when none is shown.
function M.dismiss(bufnr)
  bufnr = current(bufnr)
  return M.ghost_path() == "plugin" and ghost.dismiss(bufnr)
end

--- Whether a suggestion is shown (the plugin's own path only).
function M.visible(bufnr)
  return ghost.visible(current(bufnr))
end

local descriptions = {
  accept = "accept the suggestion",
  accept_word = "accept the next word of the suggestion",
  accept_line = "accept the rest of the line of the suggestion",
  next = "next suggestion",
  prev = "previous suggestion",
  dismiss = "dismiss the suggestion",
  trigger = "ask for a suggestion",
}

local actions = {
  accept = M.accept,
  accept_word = M.accept_word,
  accept_line = M.accept_line,
  next = M.next,
  prev = M.prev,
  dismiss = M.dismiss,
  trigger = function(bufnr)
    M.complete(bufnr)
    return true
  end,
}

local function set_keymaps(bufnr, keymaps)
  if not keymaps then
    return
  end
  for name, lhs in pairs(keymaps) do
    if lhs and actions[name] then
      local keys = vim.api.nvim_replace_termcodes(lhs, true, false, true)
      vim.keymap.set("i", lhs, function()
        if not actions[name](bufnr) then
          -- Nothing to act on: the key does what it does without this mapping.
          vim.api.nvim_feedkeys(keys, "n", false)
        end
      end, { buffer = bufnr, silent = true, desc = "Bowerbird: " .. descriptions[name] })
    end
  end
end

local function on_attach(client, bufnr)
  local options = M.options
  local path = M.ghost_path()
  if path == "builtin" then
    native.attach(bufnr)
  elseif path == "plugin" then
    ghost.attach(bufnr)
  end
  if path ~= "off" then
    set_keymaps(bufnr, options.keymaps)
  end
  if options.on_attach then
    local ok, err = pcall(options.on_attach, client, bufnr)
    if not ok then
      util.warn("on_attach failed: " .. tostring(err))
    end
  end
end

--- Sets up ghost text and keymaps for `bufnr` as when `client` attaches (used by tests).
M._attach = on_attach

local function start_for_filetypes(options)
  local group = vim.api.nvim_create_augroup("bowerbird_start", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = options.filetypes,
    callback = function(args)
      lsp.start(M.options, args.buf, on_attach)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do -- buffers opened before setup()
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(options.filetypes, vim.bo[bufnr].filetype) then
      lsp.start(options, bufnr, on_attach)
    end
  end
end

--- Configures and starts the plugin. Unknown options and values of the wrong type are
--- reported with one warning and replaced by their defaults; setup() never raises.
function M.setup(user)
  local options, problems = config.resolve(user)
  if #problems > 0 then
    table.sort(problems)
    util.warn("setup() options:\n- " .. table.concat(problems, "\n- "))
  end
  M.options = options
  ghost.configure(options.ghost_text)
  commands.create()
  if #options.filetypes == 0 then
    vim.api.nvim_create_augroup("bowerbird_start", { clear = true })
  elseif util.has("0.11") then
    lsp.enable(options, on_attach)
  else
    start_for_filetypes(options)
  end
  return M
end

--- Sends new server options (camelCase) to every running server, merged over the current ones.
function M.update_settings(settings)
  if not M.options then
    util.warn("update_settings(): call setup() first")
    return
  end
  local clean, problems = config.check_server_options(settings)
  if #problems > 0 then
    table.sort(problems)
    util.warn("update_settings():\n- " .. table.concat(problems, "\n- "))
  end
  M.options.settings = vim.tbl_deep_extend("force", M.options.settings or {}, clean)
  local merged = config.server_options(M.options)
  for _, client in ipairs(lsp.clients()) do
    lsp.notify(client, "workspace/didChangeConfiguration", { settings = { bowerbird = merged } })
  end
end

return M
