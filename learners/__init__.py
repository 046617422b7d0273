"""Learned models: code model, prompt-proposal classifier, GFSA, misuse, reward."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_checkpoint(name: str) -> Path:
    """The folder of the shipped checkpoint ``name`` (package data: `learners/checkpoints/<name>`)."""
    return Path(str(resources.files("bowerbird.learners"))) / "checkpoints" / name
