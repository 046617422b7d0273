"""RLPG's prompt sources: which repository files each source draws from, in rank order.

- Parent Class: the files defining the bases of the class enclosing the hole.
- Import: imported repository files, nearest use of the imported name to the hole first.
- Sibling (same directory), Similar Name (file names sharing a part), Child Class (files
  subclassing a class of this file): most imports shared with the current file first.
- Import of X: the files imported by the X files, most frequent first.
Ties keep path order (imports: import order), so rankings are deterministic.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from bowerbird.analysis.facts import FileFacts, ParsedFile
from bowerbird.analysis.holes import Hole
from bowerbird.analysis.modules import Resolution, enclosing_class, resolve_base, resolve_import
from bowerbird.analysis.proposals.mask import mask_hole
from bowerbird.analysis.repo import RepoView
from bowerbird.analysis.store import name_parts


@dataclass(frozen=True)
class CurrentFile:
    """The file being completed: its document's parse, and that parse as the hole sees it."""

    path: str
    document: ParsedFile  # the whole document, target included: use only through `visible`
    parsed: ParsedFile  # the document with the hole's target masked out
    facts: FileFacts  # imports and classes of `parsed` (no name lists)
    resolutions: tuple[Resolution, ...]  # one per import of `facts`

    def import_keys(self) -> set[str]:
        return {res.path or res.target for res in self.resolutions}


def current_file(repo: RepoView, path: str, document: ParsedFile, hole: Hole) -> CurrentFile:
    parsed = mask_hole(document, hole)
    facts = FileFacts(parsed.language, parsed.package, parsed.lines, parsed.imports, parsed.classes)
    resolutions = tuple(resolve_import(imp, path, facts, repo.modules) for imp in facts.imports)
    return CurrentFile(path, document, parsed, facts, resolutions)


def rank_sources(repo: RepoView, current: CurrentFile, hole: Hole) -> dict[str, list[str]]:
    """Ranked files of every source except `current`.

    Only Parent Class and Import depend on the hole's position; the other rankings depend on
    the file's imports and classes alone and are cached in the view."""
    mine = frozenset(current.import_keys())
    classes = frozenset(c.name for c in current.facts.classes)
    ranked = {
        "parent_class": _parent_class_files(repo, current, hole),
        "import": _import_files(current, hole),
    }
    finders = {
        "sibling": lambda: _siblings(repo, current),
        "similar_name": lambda: _similar_names(repo, current),
        "child_class": lambda: repo.store.subclass_files(current.path, classes),
    }
    for source, find in finders.items():
        key = (source, current.path, mine, classes if source == "child_class" else None)
        ranked[source] = repo.ranking(key, lambda find=find: _by_shared_imports(repo, mine, find()))
        ranked[f"import_of_{source}"] = repo.ranking(
            ("import_of", *key), lambda source=source: _imports_of(repo, ranked[source], current.path)
        )
    ranked["import_of_parent_class"] = repo.ranking(
        ("import_of_parent_class", current.path, tuple(ranked["parent_class"])),
        lambda: _imports_of(repo, ranked["parent_class"], current.path),
    )
    return ranked


def _siblings(repo: RepoView, current: CurrentFile) -> list[str]:
    parent = PurePosixPath(current.path).parent
    directory = "" if str(parent) == "." else str(parent)  # not removeprefix("."): `.github/`
    return [p for p in repo.store.paths_in_directory(directory, current.facts.language) if p != current.path]


def _similar_names(repo: RepoView, current: CurrentFile) -> list[str]:
    paths = repo.store.paths_with_name_parts(name_parts(current.path), current.facts.language)
    return [p for p in paths if p != current.path]


def _parent_class_files(repo: RepoView, current: CurrentFile, hole: Hole) -> list[str]:
    cls = enclosing_class(current.facts.classes, hole.line)
    if cls is None:
        return []
    files = (
        resolve_base(base, current.path, current.facts, list(current.resolutions), repo.modules)
        for base in cls.bases
    )
    return list(dict.fromkeys(f for f in files if f and f != current.path))


def _import_files(current: CurrentFile, hole: Hole) -> list[str]:
    cursor = (hole.line, len(hole.line_prefix.encode("utf-8")))
    distance: dict[str, tuple[float, int]] = {}
    for order, (imp, res) in enumerate(zip(current.facts.imports, current.resolutions)):
        if res.path is None or res.path == current.path:
            continue
        uses = current.document.import_uses.get(imp.bound or "", [])
        nearest = _nearest_use(uses, cursor, skip_line=imp.line)
        distance[res.path] = min(distance.get(res.path, (nearest, order)), (nearest, order))
    return sorted(distance, key=distance.__getitem__)


def _nearest_use(uses: list[tuple[int, int, int]], cursor: tuple[int, int], skip_line: int) -> float:
    """Lines between the hole and the nearest visible use (none on the import's own line,
    none reaching past the cursor on the hole's line)."""
    line, col = cursor
    start = bisect.bisect_left(uses, (line,))
    best = float("inf")
    for index in range(start - 1, -1, -1):  # before the hole's line
        if uses[index][0] != skip_line:
            best = line - uses[index][0]
            break
    for use_line, _, end_col in uses[start:]:  # the hole's line, then after it
        if use_line == skip_line or (use_line == line and end_col > col):
            continue
        return min(best, use_line - line)
    return best


def _by_shared_imports(repo: RepoView, mine: frozenset[str], paths: list[str]) -> list[str]:
    targets = repo.import_targets(paths)
    shared = {p: len(mine & {res or target for target, res in targets[p]}) for p in paths}
    return sorted(paths, key=lambda p: (-shared[p], p))


def _imports_of(repo: RepoView, paths: list[str], current_path: str) -> list[str]:
    counts: Counter[str] = Counter()
    for imports in repo.import_targets(paths).values():
        counts.update(set(res for _, res in imports if res and res != current_path))
    return [p for p, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
