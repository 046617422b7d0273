"""Shared fixtures: small fixture repositories, copied and indexed in a temporary folder.

The repositories under tests/data are never written to: each fixture copies one into a
temporary folder and builds its index there. `pyrepo` and `javarepo` are shared by the whole
session and must be treated as read only; a test that edits files or the index takes its own
copy from `indexed_repo("pyrepo")`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bowerbird.analysis.indexer import IndexOptions, index_repository
from bowerbird.analysis.repo import RepoView
from bowerbird.analysis.store import IndexStore, index_path_for

DATA = Path(__file__).parent / "data"


def _indexed_copy(name: str, tmp_path: Path) -> RepoView:
    root = tmp_path / name
    shutil.copytree(DATA / name, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    store = IndexStore(index_path_for(root, tmp_path / "index"), root)
    index_repository(store, IndexOptions(workers=1))
    return RepoView(store)


@pytest.fixture
def data_dir() -> Path:
    """tests/data (read only)."""
    return DATA


@pytest.fixture
def indexed_repo(tmp_path: Path) -> Iterator[Callable[[str], RepoView]]:
    """A factory: `indexed_repo("pyrepo")` copies tests/data/pyrepo into tmp_path, indexes it
    and returns a RepoView of the copy. Stores are closed at teardown."""
    views: list[RepoView] = []

    def make(name: str) -> RepoView:
        view = _indexed_copy(name, tmp_path)
        views.append(view)
        return view

    yield make
    for view in views:
        view.store.close()


@pytest.fixture(scope="session")
def pyrepo(tmp_path_factory) -> Iterator[RepoView]:
    """tests/data/pyrepo, copied and indexed once per session (read only)."""
    view = _indexed_copy("pyrepo", tmp_path_factory.mktemp("pyrepo"))
    yield view
    view.store.close()


@pytest.fixture(scope="session")
def javarepo(tmp_path_factory) -> Iterator[RepoView]:
    """tests/data/javarepo, copied and indexed once per session (read only)."""
    view = _indexed_copy("javarepo", tmp_path_factory.mktemp("javarepo"))
    yield view
    view.store.close()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny FIM-capable causal LM saved to a folder (see tests/tiny_model.py)."""
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def one_torch_thread():
    """Small solves are fastest (and steadiest on a busy machine) on one thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
