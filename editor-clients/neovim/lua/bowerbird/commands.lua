-- :Bowerbird reindex | status | forget
local util = require("bowerbird.util")
local lsp = require("bowerbird.lsp")

local M = {}

M.subcommands = { "reindex", "status", "forget" }

--- The client for the current buffer, else the only running one.
local function pick_client()
  local client = lsp.client(0)
  if client then
    return client
  end
  local all = lsp.clients()
  if #all >= 1 then
    return all[1]
  end
  util.warn("no Bowerbird server is running (open a Python or Java file; see :checkhealth bowerbird)")
  return nil
end

local function null(value)
  return value == nil or value == vim.NIL
end

--- Lines describing a bowerbird.status answer.
function M.format_status(status)
  local lines = { "server " .. tostring(status.version or "?") }
  for _, root in ipairs(status.roots or {}) do
    local state = "indexing..."
    if root.indexed then
      state = string.format("indexed, %s files, %s symbols", tostring(root.files), tostring(root.symbols))
    end
    table.insert(lines, string.format("  root %s: %s", tostring(root.root), state))
  end
  if #(status.roots or {}) == 0 then
    table.insert(lines, "  no workspace root")
  end
  local model = status.model or {}
  if model.loaded then
    table.insert(lines, string.format("  model %s on %s", tostring(model.name), tostring(model.device)))
  elseif not null(model.error) then
    table.insert(lines, "  model not loaded: " .. tostring(model.error))
  else
    table.insert(lines, "  model loading...")
  end
  local completions = status.completions or {}
  local total = (completions.timings_ms or {}).total
  if completions.count and completions.count > 0 and total then
    table.insert(lines, string.format("  completions: %d, p50 %s ms, p95 %s ms", completions.count,
      tostring(total.p50), tostring(total.p95)))
  end
  return lines
end

local function answer(command, callback)
  return function(err, result)
    if err then
      util.warn(string.format("%s failed: %s", command, err.message or vim.inspect(err)))
    elseif callback then
      callback(result)
    end
  end
end

function M.status()
  local client = pick_client()
  if not client then
    return
  end
  lsp.execute(client, "bowerbird.status", {}, answer("bowerbird.status", function(status)
    util.info(table.concat(M.format_status(status), "\n"))
  end))
end

function M.reindex()
  local client = pick_client()
  if not client then
    return
  end
  util.info("reindexing...")
  lsp.execute(client, "bowerbird.reindex", {}, answer("bowerbird.reindex", function(status)
    util.info("reindexed\n" .. table.concat(M.format_status(status), "\n"))
  end))
end

function M.forget()
  local client = pick_client()
  if not client then
    return
  end
  local choice = vim.fn.confirm(
    "Delete everything Bowerbird recorded about you (shown, accepted and rejected completions)?",
    "&Delete\n&Cancel", 2)
  if choice ~= 1 then
    util.info("nothing deleted")
    return
  end
  lsp.execute(client, "bowerbird.forget", {}, answer("bowerbird.forget", function(result)
    util.info(string.format("forgot %s completions of developer %s", tostring(result.removed),
      tostring(result.developer)))
  end))
end

function M.run(args)
  local name = (args or "")
  name = name:match("^%s*(%S*)")
  if name == "" then
    name = "status"
  end
  if not vim.tbl_contains(M.subcommands, name) then
    util.warn(string.format("unknown subcommand %q; use one of: %s", name, table.concat(M.subcommands, ", ")))
    return
  end
  M[name]()
end

function M.complete(arg_lead)
  return vim.tbl_filter(function(name)
    return name:sub(1, #arg_lead) == arg_lead
  end, M.subcommands)
end

--- Defines :Bowerbird (idempotent).
function M.create()
  vim.api.nvim_create_user_command("Bowerbird", function(opts)
    M.run(opts.args)
  end, {
    nargs = "?",
    complete = function(arg_lead)
      return M.complete(arg_lead)
    end,
    desc = "Bowerbird: reindex | status | forget",
  })
end

return M
