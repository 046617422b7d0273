"""Where Bowerbird keeps things (indexes: the user cache dir; the feedback store: the user data
dir), and how a file finds its repository root."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from bowerbird.analysis.store import index_path_for

ROOT_MARKERS = (".git", "pyproject.toml")


def default_index_dir() -> Path:
    return Path(platformdirs.user_cache_dir("bowerbird")) / "index"


def default_data_dir() -> Path:
    """Where the feedback store lives unless the `dataDir` option or `--data-dir` says otherwise."""
    return Path(platformdirs.user_data_dir("bowerbird"))


def find_root(file: Path, index_dir: Path) -> Path:
    """The repository root of `file`: the nearest ancestor that has `.git` or
    `pyproject.toml` or that is already indexed; the file's own folder when there is none."""
    for folder in file.resolve().parents:
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
        if index_path_for(folder, index_dir).exists():
            return folder
    return file.resolve().parent
