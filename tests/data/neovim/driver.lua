-- Drives a real (headless) Neovim with the Bowerbird plugin for tests/test_neovim_client.py.
-- Reads its parameters from the JSON file named by $BOWERBIRD_NVIM_PARAMS, runs one scenario
-- step by step on the editor's own event loop (so insert mode, autocommands, timers and
-- keymaps behave as when a person types), writes a JSON result file and quits. A watchdog
-- writes what it has and quits with an error when the run takes too long; every wait has
-- its own timeout too.
local api = vim.api
local uv = vim.loop

local params = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv("BOWERBIRD_NVIM_PARAMS")), "\n"))
local result = { steps = {}, notifications = {} }
local started = uv.hrtime()
local step = "start"
local finished = false

local function elapsed()
  return math.floor((uv.hrtime() - started) / 1e6)
end

local function finish(err)
  if finished then
    return
  end
  finished = true
  result.error = err or vim.NIL
  result.ms = elapsed()
  vim.fn.writefile({ vim.fn.json_encode(result) }, params.out)
  vim.cmd(err and "cquit 3" or "qall!")
end

-- Every notification is recorded (and none waits for a key press).
vim.notify = function(message, level)
  table.insert(result.notifications, { message = message, level = level or vim.log.levels.INFO })
end

vim.defer_fn(function()
  finish("timed out in step: " .. step)
end, params.timeout_ms)

-- Runs `fn` on the event loop after `delay` ms, turning an error into a failed run.
local function later(fn, delay)
  vim.defer_fn(function()
    if finished then
      return
    end
    local ok, err = xpcall(fn, debug.traceback)
    if not ok then
      finish("error in step " .. step .. ": " .. tostring(err))
    end
  end, delay or 0)
end

--- Runs steps one after the other. A step is { name, run = fn, wait = condition,
--- timeout = ms, pause = ms }: `run` first, then (if given) `wait` is polled every 20 ms
--- without blocking the editor, then `pause` ms pass before the next step.
local function run_steps(steps, done)
  local i = 0
  local function next_step()
    i = i + 1
    local s = steps[i]
    if not s then
      return later(done)
    end
    step = s[1]
    table.insert(result.steps, { step = step, ms = elapsed() })
    if s.run then
      s.run()
    end
    local deadline = elapsed() + (s.timeout or params.step_timeout_ms)
    local function poll()
      if not s.wait or s.wait() then
        later(next_step, s.pause or 0)
      elseif elapsed() > deadline then
        finish(string.format("waited %d ms in step: %s", s.timeout or params.step_timeout_ms, step))
      else
        later(poll, 20)
      end
    end
    later(poll)
  end
  later(next_step)
end

local function keys(text, mode)
  api.nvim_feedkeys(api.nvim_replace_termcodes(text, true, false, true), mode or "m", false)
end

local function mode_is(m)
  return function()
    return api.nvim_get_mode().mode == m
  end
end

local function line(row)
  return api.nvim_buf_get_lines(0, row, row + 1, false)[1]
end

-- What the ghost-text extmark shows: the suggestion's first line (chunks in the ghost
-- highlight), the virtual lines, where and how it is drawn, and every chunk as drawn.
local function shown()
  local ghost = require("bowerbird.ghost")
  local marks = api.nvim_buf_get_extmarks(0, ghost.namespace, 0, -1, { details = true })
  if #marks == 0 then
    return nil
  end
  local details = marks[1][4]
  local function ghostly(chunks)
    local parts = {}
    for _, chunk in ipairs(chunks or {}) do
      if chunk[2] == ghost.hl_group then
        table.insert(parts, chunk[1])
      end
    end
    return table.concat(parts)
  end
  local lines = { ghostly(details.virt_text) }
  for _, virt_line in ipairs(details.virt_lines or {}) do
    table.insert(lines, ghostly(virt_line))
  end
  return { row = marks[1][2], col = marks[1][3], pos = details.virt_text_pos, lines = lines,
    virt_text = details.virt_text, virt_lines = details.virt_lines, count = #marks }
end

local function is_shown()
  return shown() ~= nil
end

local scenarios = {}

-- A server session: reject with the dismiss key, then accept with the accept key; then
-- :checkhealth, :Bowerbird status and a declined :Bowerbird forget.
function scenarios.session()
  local bowerbird = require("bowerbird")
  local lsp = require("bowerbird.lsp")
  local ghost = require("bowerbird.ghost")
  bowerbird.setup(params.setup)
  vim.cmd("edit " .. vim.fn.fnameescape(params.file))
  local bufnr = api.nvim_get_current_buf()
  local row, col = params.hole[1], params.hole[2]
  result.filetype = vim.bo.filetype
  result.line_before = line(row)

  local status, asking = nil, false
  local function ready()
    local client = lsp.client(bufnr)
    if client and not asking then
      asking = true
      lsp.execute(client, "bowerbird.status", {}, function(_, answer)
        asking, status = false, answer
      end)
    end
    return status and status.model and status.model.loaded and status.roots and status.roots[1]
      and status.roots[1].indexed
  end
  local function feedback(kind)
    return function()
      return ghost.last_feedback ~= nil and ghost.last_feedback.kind == kind
    end
  end
  local function at_hole_in_insert_mode()
    api.nvim_win_set_cursor(0, { row + 1, col })
    keys("i", "n")
  end

  run_steps({
    { "client attached", wait = function()
      return lsp.client(bufnr) ~= nil
    end },
    { "root indexed and model loaded", wait = ready },
    -- 1. A pause in typing: insert mode at the hole, type and delete a character, wait.
    { "insert mode at the hole", run = function()
      result.status = status
      result.root_dir = lsp.client(bufnr).config.root_dir
      at_hole_in_insert_mode()
    end, wait = mode_is("i"), timeout = 2000 },
    { "ghost text after a typing pause", run = function()
      keys("x<BS>", "n")
    end, wait = is_shown },
    { "dismiss key", run = function()
      result.dismiss = { shown = shown(), current = ghost.current(bufnr), cursor = api.nvim_win_get_cursor(0) }
      keys(params.keymaps.dismiss)
    end, wait = feedback("rejected") },
    { "leave insert mode", run = function()
      result.dismiss.feedback = ghost.last_feedback
      result.dismiss.after = shown() or vim.NIL
      result.dismiss.line = line(row)
      ghost.last_feedback = nil
      keys("<Esc>", "n") -- nothing shown any more, so nothing more is sent
    end, wait = mode_is("n"), timeout = 2000, pause = 300 },
    -- 2. An explicit request: the plugin's function, then the accept key.
    { "insert mode at the hole again", run = function()
      result.dismiss.feedback_after_leaving = ghost.last_feedback or vim.NIL
      at_hole_in_insert_mode()
    end, wait = mode_is("i"), timeout = 2000 },
    { "ghost text after complete()", run = function()
      result.requested = bowerbird.complete()
    end, wait = is_shown },
    { "accept key", run = function()
      result.accept = { shown = shown(), current = ghost.current(bufnr) }
      keys(params.keymaps.accept)
    end, wait = feedback("accepted") },
    { "normal mode again", run = function()
      result.accept.feedback = ghost.last_feedback
      result.accept.lines = api.nvim_buf_get_lines(0, row, row + #result.accept.shown.lines, false)
      result.accept.cursor = api.nvim_win_get_cursor(0)
      keys("<Esc>", "n")
    end, wait = mode_is("n"), timeout = 2000 },
    -- 3. The commands.
    { ":Bowerbird status", run = function()
      vim.cmd("checkhealth bowerbird")
      result.health = api.nvim_buf_get_lines(0, 0, -1, false)
      vim.cmd("tabclose")
      result.notifications = {}
      vim.cmd("Bowerbird status")
    end, wait = function()
      return #result.notifications > 0
    end },
    { ":Bowerbird forget, declined", run = function()
      result.status_notifications = result.notifications
      result.notifications = {}
      local confirm = vim.fn.confirm
      vim.fn.confirm = function(...)
        result.confirm_asked = { ... }
        return 2 -- "Cancel"
      end
      vim.cmd("Bowerbird forget")
      vim.fn.confirm = confirm
      result.forget_notifications = result.notifications
    end },
  }, finish)
end

-- The ghost-text logic against a scripted server (no process): multi-line drawing, cycling,
-- typing through, partial and full accepts, stale answers, dismissal by leaving insert mode.
function scenarios.scripted()
  local bowerbird = require("bowerbird")
  local lsp = require("bowerbird.lsp")
  local ghost = require("bowerbird.ghost")
  bowerbird.setup({ filetypes = {}, ghost_text = { debounce_ms = 20, auto_trigger = false, use_builtin = false } })

  local client = { id = 99, name = "bowerbird", offset_encoding = "utf-16", attached_buffers = {},
    server_capabilities = { inlineCompletionProvider = true }, config = {} }
  local answer, delay = nil, 0
  result.requests, result.commands = {}, {}
  lsp.client = function()
    return client
  end
  lsp.get = function(id)
    return id == client.id and client or nil
  end
  lsp.cancel = function() end
  lsp.request = function(_, method, request, handler)
    table.insert(result.requests, { method = method, params = request })
    local reply = answer
    vim.defer_fn(function()
      handler(nil, reply)
    end, delay)
    return #result.requests
  end
  lsp.execute = function(_, command, arguments, callback)
    table.insert(result.commands, { command = command, arguments = arguments })
    vim.schedule(function()
      if callback then
        callback(nil, true)
      end
    end)
    return 1
  end
  local function item(text, id, index)
    local command = { title = "Accept", command = "bowerbird.acceptCompletion", arguments = { id, index } }
    return { insertText = text, command = command }
  end

  vim.cmd("enew")
  local bufnr = api.nvim_get_current_buf()
  vim.bo.expandtab = true
  api.nvim_buf_set_lines(bufnr, 0, -1, false, { "def f(x):", "    return g(x)" })
  bowerbird._attach(client, bufnr)
  local record = { inline = vim.fn.has("nvim-0.10") == 1 }
  result.record = record

  run_steps({
    { "insert mode before g(x)", run = function()
      api.nvim_win_set_cursor(0, { 2, 11 })
      keys("i", "n")
    end, wait = mode_is("i"), timeout = 2000 },
    { "two candidates", run = function()
      answer = { items = { item("h(\n        x)", "c1", 0), item("k(x) + ", "c1", 1) } }
      bowerbird.complete()
    end, wait = is_shown },
    { "next candidate", run = function()
      record.multi = shown()
      record.next = bowerbird.next()
    end },
    { "previous candidate", run = function()
      record.second = shown()
      bowerbird.prev()
    end },
    { "type the first character", run = function()
      record.first_again = shown()
      keys("h", "n")
    end, wait = function()
      local current = ghost.current(bufnr)
      return current ~= nil and current.lines[1] == "("
    end },
    { "accept a line", run = function()
      record.typed_through = shown()
      record.accept_line = bowerbird.accept_line()
    end },
    { "accept the next line", run = function()
      record.after_first_line = { shown = shown(), lines = api.nvim_buf_get_lines(bufnr, 0, -1, false) }
      record.accept_line_2 = bowerbird.accept_line()
    end },
    { "leave insert mode", run = function()
      record.after_all = { shown = shown() or vim.NIL, lines = api.nvim_buf_get_lines(bufnr, 0, -1, false),
        cursor = api.nvim_win_get_cursor(0), commands = vim.deepcopy(result.commands) }
      keys("<Esc>", "n")
    end, wait = mode_is("n"), timeout = 2000 },
    -- A slow answer that arrives after the text changed is dropped.
    { "slow answer, then typing", run = function()
      api.nvim_buf_set_lines(bufnr, 0, -1, false, { "value = " })
      api.nvim_win_set_cursor(0, { 1, 7 })
      keys("a", "n")
    end, wait = mode_is("i"), timeout = 2000 },
    { "type while it is on its way", run = function()
      answer, delay = { items = { item("compute()", "c2", 0) } }, 300
      bowerbird.complete()
      keys("z", "n")
    end, pause = 500 },
    { "the stale answer", run = function()
      record.stale = { shown = shown() or vim.NIL, requests = #result.requests }
      keys("<BS>", "n")
    end, pause = 100 },
    { "move the cursor while one is on its way", run = function()
      bowerbird.complete()
      api.nvim_win_set_cursor(0, { 1, 2 })
    end, pause = 500 },
    { "the stale answers", run = function()
      record.moved = { shown = shown() or vim.NIL, requests = #result.requests }
      delay = 0
      api.nvim_win_set_cursor(0, { 1, 8 })
    end, pause = 100 },
    { "ask again", run = function()
      answer = { items = { item("alpha_beta.gamma(1)", "c3", 0) } }
      bowerbird.complete()
    end, wait = is_shown },
    { "accept word by word", run = function()
      record.words = {}
      for _ = 1, 2 do
        bowerbird.accept_word()
        table.insert(record.words, { line = line(0), rest = ghost.current(bufnr).lines[1] })
      end
      bowerbird.accept()
      record.words_done = { line = line(0), shown = shown() or vim.NIL, cursor = api.nvim_win_get_cursor(0) }
    end },
    { "dismissed by leaving insert mode", run = function()
      answer = { items = { item("ignored()", "c4", 0) } }
      bowerbird.complete()
    end, wait = is_shown },
    { "leave insert mode again", run = function()
      keys("<Esc>", "n")
    end, wait = mode_is("n"), timeout = 2000, pause = 100 },
    { "keys fall through when nothing is shown", run = function()
      record.after_leaving = shown() or vim.NIL
      keys("A", "n")
    end, wait = mode_is("i"), timeout = 2000 },
    { "press the accept key with nothing shown", run = function()
      keys("<M-l>")
    end, pause = 100 },
    { "done", run = function()
      record.fallthrough = { mode = api.nvim_get_mode().mode, line = line(0) }
    end },
  }, finish)
end

-- :Bowerbird reindex, then :Bowerbird forget, confirmed.
function scenarios.commands()
  local bowerbird = require("bowerbird")
  local lsp = require("bowerbird.lsp")
  bowerbird.setup(params.setup)
  vim.cmd("edit " .. vim.fn.fnameescape(params.file))
  local function said(pattern)
    return function()
      for _, n in ipairs(result.notifications) do
        if n.message:find(pattern) then
          return true
        end
      end
      return false
    end
  end
  run_steps({
    { "client attached", wait = function()
      return lsp.client(0) ~= nil
    end },
    { ":Bowerbird reindex", run = function()
      vim.cmd("Bowerbird reindex")
    end, wait = said("reindexed") },
    { ":Bowerbird forget", run = function()
      vim.fn.confirm = function(...)
        result.confirm_asked = { ... }
        return 1 -- "Delete"
      end
      vim.cmd("Bowerbird forget")
    end, wait = said("forgot") },
  }, finish)
end

-- A planted variable misuse: the server's diagnostic arrives through Neovim's own LSP client
-- (vim.diagnostic), and its quick fix, applied, replaces the name.
function scenarios.diagnostics()
  local bowerbird = require("bowerbird")
  local lsp = require("bowerbird.lsp")
  bowerbird.setup(params.setup)
  vim.cmd("edit " .. vim.fn.fnameescape(params.file))
  local function misuse()
    for _, d in ipairs(vim.diagnostic.get(0)) do
      if d.message:find("may be the wrong variable") then
        return d
      end
    end
  end
  run_steps({
    { "client attached", wait = function()
      return lsp.client(0) ~= nil
    end },
    { "diagnostic", wait = function()
      return misuse() ~= nil
    end },
    { "code action", run = function()
      local d = misuse()
      result.diagnostic = { lnum = d.lnum, col = d.col, end_col = d.end_col, message = d.message,
        source = d.source, severity = d.severity }
      local position = { line = d.lnum, character = d.col }
      lsp.client(0).request("textDocument/codeAction", {
        textDocument = { uri = vim.uri_from_bufnr(0) },
        range = { start = position, ["end"] = { line = d.end_lnum or d.lnum, character = d.end_col } },
        -- the diagnostic as the client holds it (0.7 keeps the server's code in user_data.lsp)
        context = { diagnostics = { {
          range = { start = position, ["end"] = { line = d.lnum, character = d.end_col } },
          message = d.message, source = d.source, severity = d.severity,
          code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) } } },
      }, function(err, answer)
        result.code_action_error = err and vim.inspect(err) or vim.NIL
        result.code_actions = answer or {}
      end, 0)
    end, wait = function()
      return result.code_actions ~= nil
    end },
    { "apply the quick fix", run = function()
      local action = result.code_actions[1]
      result.action_title = action and action.title or vim.NIL
      if action and action.edit then
        vim.lsp.util.apply_workspace_edit(action.edit, lsp.client(0).offset_encoding or "utf-16")
      end
      result.fixed_line = line(result.diagnostic.lnum)
    end },
  }, finish)
end

-- Neovim 0.12+: the built-in vim.lsp.inline_completion shows the server's suggestion after a
-- pause in typing and the accept key inserts it and runs its command. Skipped before 0.12.
function scenarios.builtin()
  local bowerbird = require("bowerbird")
  local lsp = require("bowerbird.lsp")
  if not require("bowerbird.native").available() then
    local v = vim.version()
    result.skipped = string.format("Neovim %d.%d.%d has no vim.lsp.inline_completion (0.12+)",
      v.major, v.minor, v.patch)
    return finish()
  end
  bowerbird.setup(params.setup)
  result.path = bowerbird.ghost_path()
  vim.cmd("edit " .. vim.fn.fnameescape(params.file))
  local bufnr = api.nvim_get_current_buf()
  local row, col = params.hole[1], params.hole[2]
  result.line_before = line(row)
  local namespace
  for name, id in pairs(api.nvim_get_namespaces()) do
    if name:find("inline_completion", 1, true) then
      namespace = id
    end
  end
  local function marks()
    return namespace and api.nvim_buf_get_extmarks(bufnr, namespace, 0, -1, { details = true }) or {}
  end
  local status, asking = nil, false
  local function ask_status()
    local client = lsp.client(bufnr)
    if client and not asking then
      asking = true
      lsp.execute(client, "bowerbird.status", {}, function(_, answer)
        asking, status = false, answer
      end)
    end
  end
  run_steps({
    { "root indexed and model loaded", wait = function()
      ask_status()
      return status and status.model.loaded and status.roots[1] and status.roots[1].indexed
    end },
    { "insert mode at the hole", run = function()
      api.nvim_win_set_cursor(0, { row + 1, col })
      keys("i", "n")
    end, wait = mode_is("i"), timeout = 2000 },
    { "ghost text after a typing pause", run = function()
      keys("x<BS>", "n")
    end, wait = function()
      return #marks() > 0
    end },
    { "accept key", run = function()
      local details = marks()[1][4]
      result.virt_text = details.virt_text
      keys(params.keymaps.accept)
    end, wait = function()
      return line(row) ~= result.line_before
    end },
    { "the server has had the accept", run = function()
      result.line_after = line(row)
      status = nil -- answered in order: after this, the accept command has been handled
      ask_status()
    end, wait = function()
      return status ~= nil
    end },
  }, finish)
end

-- Bad options: warnings, no errors, defaults kept, no globals.
function scenarios.bad_options()
  local before = {}
  for name in pairs(_G) do
    before[name] = true
  end
  local bowerbird = require("bowerbird")
  local ok, err = pcall(bowerbird.setup, "not a table")
  result.string_setup = { ok = ok, err = not ok and tostring(err) or vim.NIL }
  ok, err = pcall(bowerbird.setup, params.setup)
  result.setup = { ok = ok, err = not ok and tostring(err) or vim.NIL }
  result.options = {
    debounce_ms = bowerbird.options.ghost_text.debounce_ms,
    accept_key = bowerbird.options.keymaps.accept,
    filetypes = bowerbird.options.filetypes,
    cmd = bowerbird.options.cmd,
  }
  ok, err = pcall(vim.cmd, "edit " .. vim.fn.fnameescape(params.file))
  result.edit = { ok = ok, err = not ok and tostring(err) or vim.NIL }
  ok, err = pcall(vim.cmd, "Bowerbird status")
  result.command = { ok = ok, err = not ok and tostring(err) or vim.NIL }
  result.globals = {}
  for name in pairs(_G) do
    if not before[name] then
      table.insert(result.globals, name)
    end
  end
  later(finish, 200)
end

later(function()
  step = params.scenario
  scenarios[params.scenario]()
end)
