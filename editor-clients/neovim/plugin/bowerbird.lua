-- Defines :Bowerbird only; the plugin loads when the command is used or setup() is called.
if vim.g.loaded_bowerbird then
  return
end
vim.g.loaded_bowerbird = true

vim.api.nvim_create_user_command("Bowerbird", function(opts)
  require("bowerbird.commands").run(opts.args)
end, {
  nargs = "?",
  complete = function(arg_lead)
    return require("bowerbird.commands").complete(arg_lead)
  end,
  desc = "Bowerbird: reindex | status | forget",
})
