"""One module per LSP feature; each has `register(server)` and thin handlers over cores."""
