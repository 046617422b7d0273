-- luacheck lua plugin   (Debian: apt-get install lua-check)
std = "luajit"
globals = { "vim" } -- fields like vim.g.x and vim.bo.x are set; no other global is
max_line_length = 120
