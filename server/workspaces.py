"""The repositories a server works on: one index per workspace root, kept current.

Pure core, no LSP: the features call it from worker threads. Each root has one lock, so an
indexing run and an editor's save never write the same index at once. `status` never waits
for that lock (it is called on the server's event loop): a root that is busy reports the
counts it had after its last finished run, with ``"busy": true``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bowerbird.analysis.indexer import IndexOptions, IndexReport, index_repository, update_files
from bowerbird.analysis.repo import RepoView
from bowerbird.analysis.store import IndexStore, index_path_for

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class Root:
    path: Path
    store: IndexStore
    repo: RepoView
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_report: IndexReport | None = None  # the last full run; None until the first finished
    last_update: IndexReport | None = None  # the last update from file events
    counts: dict | None = None  # files and symbols after the last finished run or update


class Workspaces:
    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self._roots: dict[Path, Root] = {}
        self._guard = threading.Lock()

    def add(self, path: Path) -> Root:
        path = path.resolve()
        with self._guard:
            if path not in self._roots:
                store = IndexStore(index_path_for(path, self.index_dir), path)
                self._roots[path] = Root(path, store, RepoView(store))
            return self._roots[path]

    def remove(self, path: Path) -> None:
        with self._guard:
            root = self._roots.pop(path.resolve(), None)
        if root is not None:
            with root.lock:
                root.store.close()

    def roots(self) -> list[Root]:
        with self._guard:
            return list(self._roots.values())

    def root_of(self, file: Path) -> Root | None:
        """The innermost workspace root that contains `file`."""
        file = file.resolve()
        inside = [r for r in self.roots() if file == r.path or r.path in file.parents]
        return max(inside, key=lambda r: len(r.path.parts), default=None)

    def index(self, root: Root, progress: Progress | None = None) -> IndexReport:
        """Bring a root's index up to date with its files (incremental)."""
        with root.lock:
            report = index_repository(root.store, IndexOptions(), progress)
            root.repo.invalidate()
            root.counts = root.store.counts()  # before last_report: a status that sees the run
            root.last_report = report  # finished (from another thread, lock busy) sees its counts
        logger.info("indexed %s: %d files, %d parsed, %.2fs", root.path, report.files_total,
                    report.files_indexed, report.seconds)
        return report

    def update(self, files: list[Path]) -> list[IndexReport]:
        """Re-index changed, created or deleted files, grouped by root; others are ignored."""
        by_root: dict[Path, tuple[Root, list[str]]] = {}
        for file in files:
            root = self.root_of(file)
            if root is not None:
                by_root.setdefault(root.path, (root, []))[1].append(file.resolve().relative_to(root.path).as_posix())
        reports = []
        for root, paths in by_root.values():
            with root.lock:
                root.last_update = update_files(root.store, paths)
                root.repo.invalidate()
                root.counts = root.store.counts()
                reports.append(root.last_update)
        return reports

    def status(self) -> list[dict]:
        """What the editor's status view shows: per root, the index and its last run."""
        result = []
        for root in self.roots():
            busy = not root.lock.acquire(blocking=False)
            if not busy:
                try:
                    root.counts = root.store.counts()
                finally:
                    root.lock.release()
            counts = root.counts or {"files": 0, "symbols": 0}
            result.append({
                "root": str(root.path),
                "index_path": str(root.store.path),
                "busy": busy,  # an indexing run or update holds the root now
                "files": counts["files"],
                "symbols": counts["symbols"],
                "indexed": root.last_report is not None,
                "last_run": root.last_report.to_json() if root.last_report else None,
                "last_update": root.last_update.to_json() if root.last_update else None,
            })
        return result

    def close(self) -> None:
        for root in self.roots():
            self.remove(root.path)
