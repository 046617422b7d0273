"""The language server (LSP over stdio or TCP). Built by the server issue; empty for now."""
