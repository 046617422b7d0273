"""Repository analysis: the tree-sitter index, RLPG holes and prompt proposals.

Nothing here imports torch; everything here is usable from the CLI, the server and the
learners alike.
"""
