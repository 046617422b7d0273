-- The plugin's options: defaults, and a checker that warns about unknown keys and wrong
-- types (one vim.notify for all of them) and keeps the default for each bad value, so one
-- typo never throws away the rest of a configuration and never raises an error.
local M = {}

M.defaults = {
  cmd = { "bowerbird", "serve" },
  filetypes = { "python", "java" },
  root_markers = { "pyproject.toml", "setup.py", "setup.cfg", ".git", "pom.xml", "build.gradle" },
  -- Server options (camelCase, as the server documents them), sent as initializationOptions.
  init_options = {},
  -- Also server options; merged over init_options. `require("bowerbird").update_settings()`
  -- sends new ones later with workspace/didChangeConfiguration.
  settings = {},
  ghost_text = {
    enabled = true,
    debounce_ms = 75, -- wait this long after typing stops before asking (0.11 and older)
    auto_trigger = true, -- ask on entering insert mode and after typing pauses
    use_builtin = true, -- on 0.12+, use vim.lsp.inline_completion instead of the plugin's own
  },
  keymaps = {
    accept = "<M-l>",
    accept_word = "<M-w>",
    accept_line = "<M-j>",
    next = "<M-]>",
    prev = "<M-[>",
    dismiss = "<C-]>",
    trigger = "<M-\\>",
  },
  on_attach = nil, -- function(client, bufnr), called after the plugin's own set-up
  capabilities = nil, -- extra client capabilities, merged over Neovim's own
}

-- Schema nodes: { kind = "string" | "number" | "integer" | "boolean" | "function" | "list"
-- | "table" | "key", fields = {...} (for "table"), values = {...} (allowed values),
-- optional = true (nil allowed as a value) }. "key" is a key sequence or false.
local function t(fields, extra)
  local node = { kind = "table", fields = fields }
  for k, v in pairs(extra or {}) do
    node[k] = v
  end
  return node
end

local key = { kind = "key" }

M.server_schema = t({
  indexDir = { kind = "string" },
  dataDir = { kind = "string" },
  developerId = { kind = "string" },
  completion = t({
    enabled = { kind = "boolean" },
    backend = { kind = "string", values = { "embedded", "transformers", "openai" } },
    model = { kind = "string" },
    url = { kind = "string" },
    maxTokens = { kind = "integer" },
    temperature = { kind = "number" },
    candidates = { kind = "integer" },
    debounceMs = { kind = "integer" },
    proposalChooser = { kind = "string", values = { "classifier", "fixed" } },
    classifier = { kind = "string" },
    proposal = { kind = "integer" },
    tokenHealing = { kind = "boolean" },
    dtype = { kind = "string", values = { "auto", "float32", "bfloat16", "float16" } },
    ranking = { kind = "string", values = { "reward", "model_score" } },
    rewardModel = { kind = "string" },
    hideBelow = { kind = "number" },
  }),
  diagnostics = t({
    enabled = { kind = "boolean" },
    model = { kind = "string" },
    threshold = { kind = "number" },
    debounceMs = { kind = "integer" },
  }),
})

M.schema = t({
  cmd = { kind = "list" },
  filetypes = { kind = "list" },
  root_markers = { kind = "list" },
  init_options = M.server_schema,
  settings = M.server_schema,
  ghost_text = t({
    enabled = { kind = "boolean" },
    debounce_ms = { kind = "integer" },
    auto_trigger = { kind = "boolean" },
    use_builtin = { kind = "boolean" },
  }),
  keymaps = t({
    accept = key,
    accept_word = key,
    accept_line = key,
    next = key,
    prev = key,
    dismiss = key,
    trigger = key,
  }, { allow_false = true }),
  on_attach = { kind = "function" },
  capabilities = { kind = "table" },
})

local function describe(value)
  if type(value) == "string" then
    return string.format("%q", value)
  end
  return type(value) == "table" and "a table" or tostring(value)
end

local function fits(node, value)
  local kind = node.kind
  if kind == "integer" then
    return type(value) == "number" and value == math.floor(value)
  elseif kind == "list" then
    if type(value) ~= "table" then
      return false
    end
    for i, item in pairs(value) do
      if type(i) ~= "number" or type(item) ~= "string" then
        return false
      end
    end
    return true
  elseif kind == "key" then
    return value == false or (type(value) == "string" and value ~= "")
  end
  return type(value) == kind
end

local expected = {
  integer = "a whole number",
  list = "a list of strings",
  key = "a key sequence (string) or false",
  table = "a table",
}

-- Checks `value` against `node`; returns the usable part (nil for "use the default") and
-- appends one message per problem to `problems`.
local function check(node, value, path, problems)
  if node.kind == "table" and node.fields then
    if node.allow_false and value == false then
      return false
    end
    if type(value) ~= "table" then
      table.insert(problems, string.format("%s should be a table, got %s; using the default", path, describe(value)))
      return nil
    end
    local clean = {}
    local names = vim.tbl_keys(node.fields)
    table.sort(names)
    for name, item in pairs(value) do
      local child = node.fields[name]
      local where = path == "" and tostring(name) or (path .. "." .. tostring(name))
      if child == nil then
        table.insert(problems, string.format("unknown option %s (ignored; known: %s)", where,
          table.concat(names, ", ")))
      else
        clean[name] = check(child, item, where, problems)
      end
    end
    return clean
  end
  if not fits(node, value) then
    table.insert(problems, string.format("%s should be %s, got %s; using the default", path,
      expected[node.kind] or ("a " .. node.kind), describe(value)))
    return nil
  end
  if node.values and not vim.tbl_contains(node.values, value) then
    table.insert(problems, string.format("%s should be one of %s, got %s; using the default", path,
      table.concat(node.values, ", "), describe(value)))
    return nil
  end
  return value
end

--- Checks user options; returns the options in force (defaults filled in) and the problems.
function M.resolve(user)
  local problems = {}
  if user ~= nil and type(user) ~= "table" then
    table.insert(problems, string.format("setup() takes a table of options, got %s; using the defaults",
      describe(user)))
    user = {}
  end
  local clean = check(M.schema, user or {}, "", problems) or {}
  local options = vim.deepcopy(M.defaults)
  for name, value in pairs(clean) do
    if name == "ghost_text" then
      options.ghost_text = vim.tbl_extend("force", options.ghost_text, value)
    elseif name == "keymaps" then
      options.keymaps = value == false and false or vim.tbl_extend("force", options.keymaps, value)
    elseif name == "init_options" or name == "settings" then
      options[name] = value
    elseif value ~= nil then
      options[name] = value
    end
  end
  if #options.cmd == 0 then
    table.insert(problems, "cmd is empty; using the default")
    options.cmd = vim.deepcopy(M.defaults.cmd)
  end
  return options, problems
end

--- Checks server options alone (for update_settings); returns the usable part and the problems.
function M.check_server_options(value)
  local problems = {}
  local clean = check(M.server_schema, value, "settings", problems) or {}
  return clean, problems
end

--- The server options to send: settings merged over init_options.
function M.server_options(options)
  return vim.tbl_deep_extend("force", {}, options.init_options or {}, options.settings or {})
end

return M
