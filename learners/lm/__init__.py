"""Code models: backends that produce completion candidates, FIM templates, prompt budgets.

Nothing here imports torch or transformers at import time: backends load them when a model
is loaded (the server does that in the background after `initialize`).
"""
