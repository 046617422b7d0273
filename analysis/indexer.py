"""Build and update the repository index: walk, parse what changed, store, link.

A file is re-parsed only when its size or mtime changed and its content hash differs too.
Like git, an mtime too close to the moment the file was last hashed is not trusted (an edit
in the same clock tick would keep it), so such files are re-hashed on the next run.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bowerbird.analysis.extract import parse_source
from bowerbird.analysis.facts import FileFacts
from bowerbird.analysis.link import link
from bowerbird.analysis.store import EncodedFacts, IndexStore, StoredFile, content_hash, encode_facts
from bowerbird.analysis.walk import IgnoreRules, SourceFile, excluded, read_source, walk
from bowerbird.analysis.languages import language_for_path

logger = logging.getLogger(__name__)

RACY_NS = 2_000_000_000  # an mtime this close to the last hash is re-checked
PARALLEL_MIN_FILES = 64  # below this, parsing in worker processes costs more than it saves

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class IndexOptions:
    exclude: tuple[str, ...] = ()  # extra gitignore-style patterns to leave out
    workers: int = 0  # parser processes; 0 = one per CPU core


@dataclass
class IndexReport:
    """The result of one indexing run; `to_json()` is the `bowerbird index --json` shape."""

    root: str
    index_path: str
    files_total: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    files_skipped: Counter = field(default_factory=Counter)
    symbols: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "root": self.root,
            "index_path": self.index_path,
            "files_total": self.files_total,
            "files_indexed": self.files_indexed,
            "files_unchanged": self.files_unchanged,
            "files_deleted": self.files_deleted,
            "files_skipped": dict(sorted(self.files_skipped.items())),
            "symbols": self.symbols,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class _Parsed:
    path: str
    digest: str | None = None  # None when skipped
    facts: FileFacts | None = None  # None when the content hash matched the stored one
    blobs: EncodedFacts | None = None  # `facts` encoded for the store
    skipped: str | None = None


def _parse_one(job: tuple[str, str, str, str | None]) -> _Parsed:
    path, abspath, language, known_digest = job
    data, reason = read_source(abspath)
    if data is None:
        return _Parsed(path, skipped=reason)
    digest = content_hash(data)
    if digest == known_digest:
        return _Parsed(path, digest)
    try:
        facts = parse_source(language, data).compact()
    except Exception:  # a parser bug must not stop the whole run
        logger.exception("cannot parse %s", abspath)
        return _Parsed(path, skipped="parse_error")
    return _Parsed(path, digest, facts, encode_facts(facts))


def _is_fresh(stored: StoredFile | None, source: SourceFile) -> bool:
    return (
        stored is not None
        and stored.size == source.size
        and stored.mtime_ns == source.mtime_ns
        and stored.checked_ns - source.mtime_ns > RACY_NS
    )


def index_repository(
    store: IndexStore, options: IndexOptions = IndexOptions(), progress: Progress | None = None
) -> IndexReport:
    """Bring the index of `store.root` up to date with the files on disk."""
    start = time.perf_counter()
    checked_ns = time.time_ns()  # before any file is read: an edit after this is racy
    root = store.root
    found = walk(root, options.exclude)
    stored = store.files()
    report = IndexReport(str(root), str(store.path), files_skipped=found.skipped)
    sources = {source.path: source for source in found.files}
    jobs = [
        (s.path, s.abspath, s.language, stored[s.path].hash if s.path in stored else None)
        for s in found.files
        if not _is_fresh(stored.get(s.path), s)
    ]
    report.files_unchanged = len(found.files) - len(jobs)
    gone = [stored[path] for path in stored.keys() - sources.keys()]
    results = _run_jobs(jobs, options.workers, progress)
    return _commit(store, results, sources, stored, gone, report, start, checked_ns)


def update_files(store: IndexStore, paths: Iterable[str], exclude: tuple[str, ...] = ()) -> IndexReport:
    """Re-index just `paths` (relative to the root): changed, created or deleted files.

    This is what an editor's save or file-watcher event costs, without walking the tree.
    """
    start = time.perf_counter()
    checked_ns = time.time_ns()  # before any file is read: an edit after this is racy
    root = store.root
    rules = IgnoreRules(root, exclude)
    report = IndexReport(str(root), str(store.path))
    paths = list(dict.fromkeys(paths))
    stored = store.files(paths)
    sources: dict[str, SourceFile] = {}
    jobs, gone = [], []
    for path in paths:
        language = language_for_path(path)
        abspath = os.path.join(root, path)
        try:
            info = None if language is None or excluded(root, path, rules) else os.stat(abspath)
        except OSError:  # deleted, or not reachable
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            if path in stored:
                gone.append(stored[path])
            continue
        sources[path] = SourceFile(path, abspath, language.name, info.st_size, info.st_mtime_ns)
        if _is_fresh(stored.get(path), sources[path]):
            report.files_unchanged += 1
        else:
            jobs.append((path, abspath, language.name, stored[path].hash if path in stored else None))
    results = [_parse_one(job) for job in jobs]
    return _commit(store, results, sources, stored, gone, report, start, checked_ns)


def _run_jobs(jobs: list, workers: int, progress: Progress | None) -> list[_Parsed]:
    total = len(jobs)
    results: list[_Parsed] = []
    workers = workers or os.cpu_count() or 1
    if total < PARALLEL_MIN_FILES or workers == 1:
        iterator: Iterable[_Parsed] = map(_parse_one, jobs)
        pool = None
    else:
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        iterator = pool.map(_parse_one, jobs, chunksize=max(1, min(32, total // (workers * 8))))
    try:
        for done, result in enumerate(iterator, 1):
            results.append(result)
            if progress is not None:
                progress(done, total)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return results


def _commit(
    store: IndexStore,
    results: list[_Parsed],
    sources: dict[str, SourceFile],
    stored: dict[str, StoredFile],
    gone: list[StoredFile],
    report: IndexReport,
    start: float,
    checked_ns: int,
) -> IndexReport:
    """Write parse results and deletions, then relink, all in one transaction.

    `checked_ns` is when the run started, before it read any file: a file whose mtime is
    not well before that may have changed while it was read, and is hashed again next time.
    """
    with store.transaction():
        membership_changed, changed_ids = False, []
        for result in results:
            source, previous = sources[result.path], stored.get(result.path)
            if result.skipped is not None:
                report.files_skipped[result.skipped] += 1
                if previous is not None:
                    gone.append(previous)
            elif result.facts is None:
                store.touch_file(previous.id, source.size, source.mtime_ns, checked_ns)
                report.files_unchanged += 1
            else:
                changed_ids.append(
                    store.put_file(
                        result.path, source.size, source.mtime_ns, checked_ns, result.digest, result.facts, result.blobs
                    )
                )
                report.files_indexed += 1
                membership_changed |= previous is None
        for entry in gone:
            store.delete_file(entry.id)
        report.files_deleted = len(gone)
        if membership_changed or gone:
            link(store.db, None)
        elif changed_ids:
            link(store.db, changed_ids)
    counts = store.counts()
    report.files_total = counts["files"]
    report.symbols = counts["symbols"]
    report.seconds = time.perf_counter() - start
    return report
