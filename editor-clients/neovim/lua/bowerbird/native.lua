-- Ghost text on Neovim 0.12+: the built-in vim.lsp.inline_completion asks, draws, cycles and
-- accepts (and runs the item's command, bowerbird.acceptCompletion, after inserting). It has
-- no partial accept and no dismissal hook, so accept_word/accept_line/dismiss fall through to
-- their keys here and dismissals are not reported (set ghost_text.use_builtin = false for the
-- plugin's own path, which reports them).
local M = {}

function M.available()
  local ic = vim.lsp.inline_completion
  return vim.fn.has("nvim-0.12") == 1 and ic ~= nil and ic.enable ~= nil and ic.get ~= nil
end

function M.attach(bufnr)
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
end

function M.accept(bufnr)
  -- get() answers false when nothing was shown (older builds answer nothing: taken as done).
  return vim.lsp.inline_completion.get({ bufnr = bufnr }) ~= false
end

function M.cycle(bufnr, delta)
  local select = vim.lsp.inline_completion.select
  if not select then
    return false
  end
  select({ bufnr = bufnr, count = delta })
  return true
end

function M.request(bufnr)
  -- get() with nothing shown asks the server (an "invoked" request).
  vim.lsp.inline_completion.get({ bufnr = bufnr })
  return true
end

return M
