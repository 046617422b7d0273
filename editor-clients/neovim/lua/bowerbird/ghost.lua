-- Ghost text for Neovim 0.7 - 0.11 (and 0.12+ with ghost_text.use_builtin = false): asks the
-- server for textDocument/inlineCompletion itself after typing pauses in insert mode, drops
-- answers that arrive after the text or the cursor moved on, and draws the first line at the
-- cursor and the other lines below it. Accepting inserts the text and runs the item's command
-- (bowerbird.acceptCompletion); a dismissal sends bowerbird.rejectCompletion once.
--
-- How the first line is drawn: 0.10+ has `virt_text_pos = "inline"`. Before 0.10 there is no
-- inline virtual text, so the first line is an overlay at the cursor; when text follows the
-- cursor, the overlay repeats that text after the suggestion (it reads as if inserted), and
-- when that text holds a tab (whose width an overlay cannot reproduce) the suggestion goes
-- to the end of the line ("eol") instead.
local util = require("bowerbird.util")
local lsp = require("bowerbird.lsp")

local M = {}

local api = vim.api
local uv = vim.loop

M.namespace = api.nvim_create_namespace("bowerbird_ghost")
M.hl_group = "BowerbirdGhost"
M.last_feedback = nil -- { kind, id, recorded, error } of the last accept/reject answer

local states = {} -- bufnr -> state
local options = { debounce_ms = 75, auto_trigger = true }

function M.configure(ghost_options)
  options = ghost_options
end

local function define_highlights()
  -- Grey in any colour scheme (a scheme's Comment colour can look like code).
  vim.cmd("highlight default BowerbirdGhost ctermfg=244 guifg=#808080")
  vim.cmd("highlight default link BowerbirdGhostSuffix Normal")
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert_mode()
  return api.nvim_get_mode().mode:sub(1, 1) == "i"
end

local function split_lines(text)
  return vim.split(text, "\n", { plain = true })
end

local function display(text)
  text = text:gsub("\t", string.rep(" ", vim.bo.tabstop > 0 and vim.bo.tabstop or 8))
  return vim.fn.strtrans(text)
end

local function state_of(bufnr)
  local s = states[bufnr]
  if not s then
    s = { bufnr = bufnr, seq = 0 }
    states[bufnr] = s
  end
  return s
end

local function clear_mark(s)
  if s.shown and s.shown.extmark then
    pcall(api.nvim_buf_del_extmark, s.bufnr, M.namespace, s.shown.extmark)
  end
  pcall(api.nvim_buf_clear_namespace, s.bufnr, M.namespace, 0, -1)
end

local function fire_feedback(record)
  M.last_feedback = record
  pcall(api.nvim_exec_autocmds, "User", { pattern = "BowerbirdFeedback", modeline = false })
end

-- Tells the server what happened to the shown completion: "accepted" (with the item's own
-- command) or "rejected" (bowerbird.rejectCompletion [id]).
local function feedback(shown, kind)
  local item = shown.items[shown.index]
  local command = item.command
  if not command or type(command.arguments) ~= "table" or command.arguments[1] == nil then
    return
  end
  local client = lsp.get(shown.client_id)
  if not client then
    return
  end
  local id = command.arguments[1]
  local name, arguments = command.command, command.arguments
  if kind == "rejected" then
    name, arguments = "bowerbird.rejectCompletion", { id }
  end
  lsp.execute(client, name, arguments, function(err, result)
    fire_feedback({ kind = kind, id = id, recorded = result, error = err and (err.message or vim.inspect(err)) })
  end, shown.bufnr)
end

local function cancel_pending(s)
  if s.timer then
    s.timer:stop()
  end
  if s.pending then
    local client = lsp.get(s.pending.client_id)
    if client then
      lsp.cancel(client, s.pending.id)
    end
    s.pending = nil
  end
  s.seq = s.seq + 1 -- any answer still on its way is now stale
end

--- Removes the shown completion; `reject` sends bowerbird.rejectCompletion (once).
local function hide(s, reject)
  local shown = s.shown
  if not shown then
    return
  end
  clear_mark(s)
  s.shown = nil
  if reject and not shown.feedback_sent then
    shown.feedback_sent = true
    feedback(shown, "rejected")
  end
end

local function remaining(shown)
  return shown.items[shown.index].text:sub(shown.consumed + 1)
end

local function draw(s)
  local shown = s.shown
  clear_mark(s)
  local lines = split_lines(remaining(shown))
  local first = display(lines[1])
  local virt_lines = {}
  for i = 2, #lines do
    table.insert(virt_lines, { { display(lines[i]), M.hl_group } })
  end
  local opts = { hl_mode = "combine", priority = 200 }
  local suffix = shown.suffix
  if util.has("0.10") then
    opts.virt_text = { { first, M.hl_group } }
    opts.virt_text_pos = "inline"
  elseif suffix == "" then
    opts.virt_text = { { first, M.hl_group } }
    opts.virt_text_pos = "overlay"
  elseif not suffix:find("\t", 1, true) then
    if #virt_lines == 0 then
      -- The suggestion, then the text after the cursor again, drawn over the line: reads as
      -- if inserted.
      opts.virt_text = { { first, M.hl_group }, { vim.fn.strtrans(suffix), "BowerbirdGhostSuffix" } }
    else
      -- The text after the cursor ends up after the last line: hide it on this line (spaces
      -- over it) and show it at the end of the last virtual line.
      local width = vim.fn.strdisplaywidth(vim.fn.strtrans(suffix))
      local pad = math.max(0, width - vim.fn.strdisplaywidth(first))
      opts.virt_text = { { first, M.hl_group }, { string.rep(" ", pad), "BowerbirdGhostSuffix" } }
      table.insert(virt_lines[#virt_lines], { vim.fn.strtrans(suffix), "BowerbirdGhostSuffix" })
    end
    opts.virt_text_pos = "overlay"
  else
    opts.virt_text = { { first, M.hl_group } }
    opts.virt_text_pos = "eol"
  end
  local chunks = {}
  for _, chunk in ipairs(opts.virt_text) do
    if chunk[1] ~= "" then
      table.insert(chunks, chunk)
    end
  end
  if #chunks == 0 then
    opts.virt_text, opts.virt_text_pos = nil, nil
  else
    opts.virt_text = chunks
  end
  if #virt_lines > 0 then
    opts.virt_lines = virt_lines
  end
  local ok, mark = pcall(api.nvim_buf_set_extmark, s.bufnr, M.namespace, shown.row, shown.col, opts)
  shown.extmark = ok and mark or nil
end

-- The buffer as the shown completion expects it (after our own edits), or the user typed
-- the start of the suggestion: then the rest stays on screen.
local function still_valid(s)
  local shown = s.shown
  local row, col = cursor()
  local tick = api.nvim_buf_get_changedtick(s.bufnr)
  if tick == shown.tick and row == shown.row and col == shown.col then
    return true
  end
  if row ~= shown.row or col <= shown.col then
    return false
  end
  local line = api.nvim_buf_get_lines(s.bufnr, row, row + 1, false)[1] or ""
  local typed = line:sub(shown.col + 1, col)
  local rest = remaining(shown)
  local first = split_lines(rest)[1]
  if line:sub(1, shown.col) ~= shown.prefix or line:sub(col + 1) ~= shown.suffix
    or first:sub(1, #typed) ~= typed then
    return false
  end
  shown.consumed = shown.consumed + #typed
  shown.col, shown.tick, shown.prefix = col, tick, line:sub(1, col)
  if #typed == #rest then -- typed it all: that is an accept
    s.shown = nil
    clear_mark(s)
    shown.feedback_sent = true
    feedback(shown, "accepted")
    return true
  end
  draw(s)
  return true
end

--- Shows `items` (already filtered) for the cursor at row, col.
local function show(s, client, items, row, col)
  hide(s, true)
  local line = api.nvim_buf_get_lines(s.bufnr, row, row + 1, false)[1] or ""
  s.shown = {
    bufnr = s.bufnr,
    client_id = client.id,
    items = items,
    index = 1,
    consumed = 0,
    row = row,
    col = col,
    prefix = line:sub(1, col),
    suffix = line:sub(col + 1),
    tick = api.nvim_buf_get_changedtick(s.bufnr),
  }
  draw(s)
end

-- The items of an answer, as { text, command }, relative to the cursor.
local function items_of(result, client, line, col)
  local raw = result.items or result
  local items = {}
  local encoding = client.offset_encoding or "utf-16"
  for _, item in ipairs(type(raw) == "table" and raw or {}) do
    local text = type(item) == "table" and item.insertText or nil
    if type(text) == "table" then
      text = text.value -- a snippet: shown and inserted as plain text
    end
    if type(text) == "string" and item.range and item.range.start then
      local start = util.to_byte_col(line, item.range.start.character, encoding)
      if start < col then -- the item repeats what was typed since its start
        local typed = line:sub(start + 1, col)
        text = text:sub(1, #typed) == typed and text:sub(#typed + 1) or nil
      end
    end
    if type(text) == "string" and text ~= "" then
      table.insert(items, { text = text, command = item.command })
    end
  end
  return items
end

--- Asks the server now for the cursor in `bufnr`; `invoked` marks an explicit request.
--- Returns false when there is no server to ask (or it cannot complete inline).
function M.request(bufnr, invoked)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local client = lsp.client(bufnr)
  if not client or not (client.server_capabilities or {}).inlineCompletionProvider then
    return false
  end
  local s = state_of(bufnr)
  cancel_pending(s)
  local seq = s.seq
  local row, col = cursor()
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = util.to_lsp_col(line, col, client.offset_encoding or "utf-16") },
    context = { triggerKind = invoked and 1 or 2 },
  }
  local id = lsp.request(client, "textDocument/inlineCompletion", params, function(err, result)
    if s.seq ~= seq then
      return -- superseded or cancelled
    end
    s.pending = nil
    if err or type(result) ~= "table" then -- an error, or null: nothing to show
      return
    end
    local r, c = cursor()
    if api.nvim_get_current_buf() ~= bufnr or api.nvim_buf_get_changedtick(bufnr) ~= tick
      or r ~= row or c ~= col or not in_insert_mode() then
      return -- stale: the text or the cursor moved on
    end
    local items = items_of(result, client, line, col)
    if #items > 0 then
      show(s, client, items, row, col)
    end
  end, bufnr)
  if id then
    s.pending = { client_id = client.id, id = id }
  end
  return id ~= nil
end

--- Asks after `debounce_ms` without typing (restarted by every keystroke).
function M.schedule(bufnr)
  local s = state_of(bufnr)
  cancel_pending(s)
  if not s.timer then
    s.timer = uv.new_timer()
  end
  s.timer:start(options.debounce_ms, 0, vim.schedule_wrap(function()
    if api.nvim_buf_is_valid(bufnr) and api.nvim_get_current_buf() == bufnr and in_insert_mode() then
      M.request(bufnr, false)
    end
  end))
end

function M.visible(bufnr)
  local s = states[(bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr]
  return s ~= nil and s.shown ~= nil
end

--- What is shown: { lines, index, count, id } or nil (for statuslines and tests).
function M.current(bufnr)
  local s = states[(bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr]
  if not s or not s.shown then
    return nil
  end
  local shown = s.shown
  local command = shown.items[shown.index].command
  return {
    lines = split_lines(remaining(shown)),
    index = shown.index,
    count = #shown.items,
    id = command and command.arguments and command.arguments[1],
  }
end

-- The part of `text` that accept_word / accept_line take.
local function next_word(text)
  return text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text:match("^%s+") or text
end

local function next_line(text)
  local newline = text:find("\n", 1, true)
  if newline == 1 then -- at the end of a line: take the line break and the next line
    local after = text:find("\n", 2, true)
    return after and text:sub(1, after - 1) or text
  end
  return newline and text:sub(1, newline - 1) or text
end

--- Accepts all (`what` = "all"), the next word ("word") or the rest of the line ("line").
--- Returns false when nothing is shown.
function M.accept(bufnr, what)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local s = states[bufnr]
  if not s or not s.shown or not still_valid(s) or not s.shown then
    return false
  end
  local shown = s.shown
  local rest = remaining(shown)
  local part = rest
  if what == "word" then
    part = next_word(rest)
  elseif what == "line" then
    part = next_line(rest)
  end
  local lines = split_lines(part)
  local row, col = shown.row, shown.col
  cancel_pending(s)
  clear_mark(s)
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local new_row = row + #lines - 1
  local new_col = (#lines == 1 and col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  if not shown.feedback_sent then
    shown.feedback_sent = true
    feedback(shown, "accepted")
  end
  shown.consumed = shown.consumed + #part
  if shown.consumed >= #shown.items[shown.index].text then
    s.shown = nil
    return true
  end
  local line = api.nvim_buf_get_lines(bufnr, new_row, new_row + 1, false)[1] or ""
  shown.row, shown.col = new_row, new_col
  shown.prefix = line:sub(1, new_col)
  shown.tick = api.nvim_buf_get_changedtick(bufnr)
  draw(s)
  return true
end

--- Shows the next (`delta` = 1) or previous (-1) candidate; false when nothing is shown.
function M.cycle(bufnr, delta)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local s = states[bufnr]
  if not s or not s.shown or s.shown.consumed > 0 then
    return false
  end
  local shown = s.shown
  shown.index = (shown.index - 1 + delta) % #shown.items + 1
  draw(s)
  return true
end

--- Hides what is shown and tells the server it was rejected; false when nothing is shown.
function M.dismiss(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local s = states[bufnr]
  if not s then
    return false
  end
  cancel_pending(s)
  if not s.shown then
    return false
  end
  hide(s, true)
  return true
end

local function detach(bufnr)
  local s = states[bufnr]
  if not s then
    return
  end
  cancel_pending(s)
  hide(s, true)
  if s.timer then
    s.timer:stop()
    s.timer:close()
  end
  states[bufnr] = nil
end

--- Sets up ghost text for `bufnr` (called when the client attaches).
function M.attach(bufnr)
  define_highlights()
  local group = api.nvim_create_augroup("bowerbird_ghost_" .. bufnr, { clear = true })
  local function on(events, callback)
    api.nvim_create_autocmd(events, { group = group, buffer = bufnr, callback = callback })
  end
  on("InsertEnter", function()
    if options.auto_trigger then
      M.schedule(bufnr)
    end
  end)
  on({ "TextChangedI", "TextChangedP" }, function()
    local s = states[bufnr]
    if s and s.shown and still_valid(s) then
      return
    end
    if s then
      hide(s, true)
    end
    if options.auto_trigger then
      M.schedule(bufnr)
    elseif s then
      cancel_pending(s)
    end
  end)
  on("CursorMovedI", function()
    local s = states[bufnr]
    if s and s.shown and not still_valid(s) then
      cancel_pending(s)
      hide(s, true)
    end
  end)
  on({ "InsertLeave", "BufLeave" }, function()
    local s = states[bufnr]
    if s then
      cancel_pending(s)
      hide(s, true)
    end
  end)
  on({ "BufUnload", "BufWipeout" }, function()
    detach(bufnr)
  end)
  api.nvim_create_autocmd("ColorScheme", { group = group, callback = define_highlights })
end

--- Stops ghost text for `bufnr` (the client detached).
M.detach = detach

return M
