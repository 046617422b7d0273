"""Bowerbird: repository context for code models, inside the editor."""

__version__ = "0.1.0"
