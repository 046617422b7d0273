-- Starting `bowerbird serve` for a buffer, per Neovim version, and talking to it:
--   0.11+  vim.lsp.config + vim.lsp.enable
--   0.8+   vim.lsp.start (reuses a client with the same name and root)
--   0.7    vim.lsp.start_client + vim.lsp.buf_attach_client (one client per root, kept here)
local util = require("bowerbird.util")
local config = require("bowerbird.config")

local M = {}

M.name = "bowerbird"

local uv = vim.loop
local clients_by_root = {} -- 0.7 only: root -> client id
local warned_cmd = false

--- The folder to serve `bufnr` from: the nearest folder above the file that holds one of
--- `markers`, else the file's own folder (nil for buffers without a file).
function M.find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or name:match("^%a[%w+.-]*://") then
    return nil
  end
  local file = vim.fn.fnamemodify(name, ":p")
  local dir = vim.fn.fnamemodify(file, ":h")
  local current = dir
  while current and current ~= "" do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(current .. "/" .. marker) then
        return current
      end
    end
    local parent = vim.fn.fnamemodify(current, ":h")
    if parent == current then
      break
    end
    current = parent
  end
  return dir
end

-- Empty Lua tables would go out as JSON arrays; the server wants objects.
local function as_object(value)
  if type(value) ~= "table" then
    return value
  end
  if next(value) == nil then
    return vim.empty_dict()
  end
  local out = {}
  for k, v in pairs(value) do
    out[k] = as_object(v)
  end
  return out
end

local function capabilities(options)
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  caps.workspace = caps.workspace or {}
  caps.workspace.executeCommand = caps.workspace.executeCommand or { dynamicRegistration = false }
  if options.capabilities then
    caps = vim.tbl_deep_extend("force", caps, options.capabilities)
  end
  return caps
end

local function cmd_problem(cmd)
  if vim.fn.executable(cmd[1]) == 1 then
    return nil
  end
  return string.format("cannot start the server: %q is not an executable (cmd = %s). Install Bowerbird "
    .. "so that it is on PATH, or set `cmd` in setup(), e.g. { \"/path/to/python\", \"-m\", \"bowerbird\", \"serve\" }",
    cmd[1], vim.inspect(cmd))
end

--- The client configuration shared by every start path.
function M.client_config(options, root, on_attach)
  local server_options = config.server_options(options)
  return {
    name = M.name,
    cmd = options.cmd,
    root_dir = root,
    workspace_folders = root and { { uri = vim.uri_from_fname(root), name = root } } or nil,
    init_options = next(server_options) and as_object(server_options) or nil,
    capabilities = capabilities(options),
    on_attach = on_attach,
    flags = { debounce_text_changes = 50 },
    on_exit = function(_, _, client_id)
      for r, id in pairs(clients_by_root) do
        if id == client_id then
          clients_by_root[r] = nil
        end
      end
    end,
  }
end

local function start_07(options, bufnr, root, on_attach)
  local id = clients_by_root[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    id = vim.lsp.start_client(M.client_config(options, root, on_attach))
    if not id then
      return nil
    end
    clients_by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Starts (or reuses) the server for `bufnr` on 0.7 - 0.10; returns the client id or nil.
function M.start(options, bufnr, on_attach)
  local problem = cmd_problem(options.cmd)
  if problem then
    if not warned_cmd then
      warned_cmd = true
      util.warn(problem)
    end
    return nil
  end
  local root = M.find_root(bufnr, options.root_markers)
  if not root then
    return nil
  end
  local ok, result = pcall(function()
    if util.has("0.8") then
      return vim.lsp.start(M.client_config(options, root, on_attach), { bufnr = bufnr })
    end
    return start_07(options, bufnr, root, on_attach)
  end)
  if not ok then
    util.warn("could not start the server: " .. tostring(result))
    return nil
  end
  return result
end

--- Registers the server with vim.lsp.config / vim.lsp.enable (0.11+).
function M.enable(options, on_attach)
  local problem = cmd_problem(options.cmd)
  if problem then
    util.warn(problem)
    return
  end
  local cfg = M.client_config(options, nil, on_attach)
  cfg.root_dir = function(bufnr, on_dir)
    local root = M.find_root(bufnr, options.root_markers)
    if root then
      on_dir(root)
    end
  end
  cfg.workspace_folders = nil
  cfg.filetypes = options.filetypes
  vim.lsp.config(M.name, cfg)
  vim.lsp.enable(M.name)
end

local function all_clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = M.name })
  end
  local out = {}
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == M.name then
      table.insert(out, client)
    end
  end
  return out
end

--- The Bowerbird client attached to `bufnr` (0: current), or nil.
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  for _, client in ipairs(all_clients()) do
    if client.attached_buffers and client.attached_buffers[bufnr] then
      return client
    end
  end
  return nil
end

--- Every running Bowerbird client.
M.clients = all_clients

--- A client by id (nil once it has stopped).
function M.get(id)
  return vim.lsp.get_client_by_id(id)
end

--- client:request on 0.11+, client.request before; returns the request id or nil.
function M.request(client, method, params, handler, bufnr)
  local ok, id
  if util.has("0.11") then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  return ok and id or nil
end

function M.notify(client, method, params)
  if util.has("0.11") then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.cancel(client, id)
  if not id then
    return
  end
  if util.has("0.11") then
    pcall(client.cancel_request, client, id)
  else
    pcall(client.cancel_request, id)
  end
end

--- workspace/executeCommand; `callback(err, result)` is optional.
function M.execute(client, command, arguments, callback, bufnr)
  local params = { command = command, arguments = arguments }
  return M.request(client, "workspace/executeCommand", params, function(err, result)
    if callback then
      callback(err, result)
    end
  end, bufnr)
end

--- workspace/executeCommand, waiting up to `timeout_ms`; returns result, error message.
function M.execute_sync(client, command, arguments, timeout_ms, bufnr)
  local done, answer, failure = false, nil, nil
  local id = M.execute(client, command, arguments, function(err, result)
    done, answer = true, result
    if err then
      failure = err.message or vim.inspect(err)
    end
  end, bufnr)
  if not id then
    return nil, "the server is not running"
  end
  if not vim.wait(timeout_ms or 5000, function()
    return done
  end, 20) then
    M.cancel(client, id)
    return nil, string.format("no answer to %s within %d ms", command, timeout_ms or 5000)
  end
  return answer, failure
end

return M
