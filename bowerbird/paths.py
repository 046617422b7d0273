"""Where Bowerbird keeps things, and how a file finds its repository root."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from bowerbird.analysis.store import index_path_for

ROOT_MARKERS = (".git", "pyproject.toml")


def default_index_dir() -> Path:
    return Path(platformdirs.user_cache_dir("bowerbird")) / "index"


def find_root(file: Path, index_dir: Path) -> Path:
    """The repository root of `file`: the nearest ancestor that has `.git` or
    `pyproject.toml` or that is already indexed; the file's own folder when there is none."""
    for folder in file.resolve().parents:
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
        if index_path_for(folder, index_dir).exists():
            return folder
    return file.resolve().parent
