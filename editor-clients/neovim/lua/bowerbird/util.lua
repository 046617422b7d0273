-- Small helpers shared by the modules: version checks, notifications, LSP position units.
local M = {}

--- True when this Neovim is at least the given version ("0.8", "0.10", ...).
function M.has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

--- Which code paths this Neovim takes (for :checkhealth and the README).
function M.paths()
  local start
  if M.has("0.11") then
    start = "vim.lsp.config + vim.lsp.enable (0.11+)"
  elseif M.has("0.8") then
    start = "vim.lsp.start (0.8+)"
  else
    start = "vim.lsp.start_client + vim.lsp.buf_attach_client (0.7)"
  end
  local ghost
  if M.has("0.12") and vim.lsp.inline_completion ~= nil then
    ghost = "built-in vim.lsp.inline_completion (0.12+)"
  elseif M.has("0.10") then
    ghost = "plugin's own requests, first line as inline virtual text (0.10+)"
  else
    ghost = "plugin's own requests, first line as overlay virtual text (before 0.10)"
  end
  return { start = start, ghost = ghost }
end

local function notify(message, level)
  vim.notify("Bowerbird: " .. message, level, { title = "Bowerbird" })
end

function M.warn(message)
  notify(message, vim.log.levels.WARN)
end

function M.info(message)
  notify(message, vim.log.levels.INFO)
end

-- UTF-8 helpers, written out so they behave the same on every Neovim version
-- (vim.str_utfindex changed its signature in 0.11).

local function char_length(byte)
  if byte < 0x80 then
    return 1
  elseif byte >= 0xF0 then
    return 4
  elseif byte >= 0xE0 then
    return 3
  elseif byte >= 0xC0 then
    return 2
  end
  return 1 -- a stray continuation byte counts as one character
end

--- The LSP character offset of byte column `byte_col` (0-based) of `line`.
function M.to_lsp_col(line, byte_col, encoding)
  if encoding == "utf-8" then
    return byte_col
  end
  local units, i = 0, 1
  while i <= byte_col and i <= #line do
    local n = char_length(line:byte(i))
    units = units + ((encoding == "utf-16" and n == 4) and 2 or 1)
    i = i + n
  end
  return units
end

--- The byte column (0-based) of LSP character offset `character` in `line`.
function M.to_byte_col(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local units, i = 0, 1
  while i <= #line and units < character do
    local n = char_length(line:byte(i))
    units = units + ((encoding == "utf-16" and n == 4) and 2 or 1)
    i = i + n
  end
  return i - 1
end

return M
