"""Linking: give every file its module names, and resolve imports and bases to files.

Runs inside the indexer's transaction, from the index tables alone (no file is re-read).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from pathlib import PurePath

from bowerbird.analysis.facts import ClassInfo, FileFacts, Import
from bowerbird.analysis.modules import ModuleMap, module_names, resolve_base, resolve_import


def link(db: sqlite3.Connection, file_ids: Collection[int] | None) -> None:
    """Relink the files `file_ids`, or all files (and all module names) when None.

    Module names depend on which files exist, so a run that added or removed files relinks
    everything; a run that only changed contents relinks just those files, unless that
    changed their module names too (a Java package declaration), which relinks everything.
    """
    rows = db.execute("SELECT id, path, language, package FROM files").fetchall()
    paths = frozenset(path for _, path, _, _ in rows)
    by_id = {file_id: (path, language, package) for file_id, path, language, package in rows}
    root = db.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()[0]
    root_name = PurePath(root).name
    if file_ids is None:
        names = {
            path: module_names(path, FileFacts(language, package, 0), paths, root_name)
            for path, language, package in by_id.values()
        }
        db.execute("DELETE FROM modules")
        db.executemany(
            "INSERT INTO modules VALUES (?, ?)",
            [(name, file_id) for file_id, (path, _, _) in by_id.items() for name in names[path]],
        )
        db.executemany(
            "UPDATE files SET module = ? WHERE id = ?",
            [(names[path][0] if names[path] else None, file_id) for file_id, (path, _, _) in by_id.items()],
        )
        file_ids = by_id.keys()
    else:
        names = {}
        for file_id, name in db.execute("SELECT file_id, name FROM modules ORDER BY rowid"):
            names.setdefault(by_id[file_id][0], []).append(name)
        for file_id in file_ids:
            path, language, package = by_id[file_id]
            if module_names(path, FileFacts(language, package, 0), paths, root_name) != names.get(path, []):
                return link(db, None)
    modules = ModuleMap(names, paths)
    for file_id in file_ids:
        _link_file(db, file_id, *by_id[file_id], modules)


def _link_file(
    db: sqlite3.Connection, file_id: int, path: str, language: str, package: str | None, modules: ModuleMap
) -> None:
    imports = tuple(
        Import(module, name, alias, level, line)
        for module, name, alias, level, line in db.execute(
            "SELECT module, name, alias, level, line FROM imports WHERE file_id = ? ORDER BY seq", (file_id,)
        )
    )
    classes = tuple(
        ClassInfo(name, name, 0, 0, ())
        for (name,) in db.execute("SELECT name FROM symbols WHERE file_id = ? AND kind = 'class'", (file_id,))
    )
    facts = FileFacts(language, package, 0, imports=imports, classes=classes)
    resolved = [resolve_import(imp, path, facts, modules) for imp in imports]
    db.executemany(
        "UPDATE imports SET target = ?, resolved_path = ? WHERE file_id = ? AND seq = ?",
        [(res.target, res.path, file_id, seq) for seq, res in enumerate(resolved)],
    )
    bases = db.execute("SELECT seq, base FROM bases WHERE file_id = ?", (file_id,)).fetchall()
    db.executemany(
        "UPDATE bases SET resolved_path = ? WHERE file_id = ? AND seq = ?",
        [(resolve_base(base, path, facts, resolved, modules), file_id, seq) for seq, base in bases],
    )
