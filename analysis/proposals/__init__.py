"""RLPG prompt proposals: prompt source x context type, mined from the repository index.

`build.build_proposals` is the entry point; `catalog` holds the 63 proposal kinds.
"""
