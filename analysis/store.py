"""The on-disk repository index: one SQLite file per repository root.

Every change happens inside one transaction, so a run that is killed leaves the previous
consistent index. A file that is not a valid index (corrupt, foreign, or of another schema
version) is moved aside and rebuilt, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bowerbird.analysis.facts import FileFacts

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "3"
SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,      -- relative to the root, '/'-separated
    language TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    checked_ns INTEGER NOT NULL,    -- when the content was last hashed (racy-mtime guard)
    hash TEXT NOT NULL,             -- blake2b-128 of the content
    package TEXT,                   -- Java package declaration
    module TEXT,                    -- primary importable name (set by linking)
    facts BLOB NOT NULL             -- zlib(JSON(FileFacts))
);
CREATE TABLE contexts (             -- each context type's items, so a proposal reads only its own
    file_id INTEGER NOT NULL,
    context_type TEXT NOT NULL,     -- RLPG context type (method_names, identifiers, ...)
    items BLOB NOT NULL,            -- zlib(JSON([str])), in file order; no row when empty
    PRIMARY KEY (file_id, context_type)
);
CREATE TABLE modules (name TEXT NOT NULL, file_id INTEGER NOT NULL);
CREATE INDEX modules_name ON modules(name);
CREATE TABLE imports (
    file_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    module TEXT NOT NULL, name TEXT, alias TEXT, level INTEGER NOT NULL, line INTEGER NOT NULL,
    target TEXT,                    -- absolute dotted module (set by linking)
    resolved_path TEXT,             -- repository file imported (set by linking)
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX imports_resolved ON imports(resolved_path);
CREATE TABLE bases (
    file_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    class TEXT NOT NULL,            -- qualified name of the class in this file
    base TEXT NOT NULL,             -- base expression as written
    resolved_path TEXT,             -- repository file defining the base (set by linking)
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX bases_resolved ON bases(resolved_path);
CREATE TABLE symbols (
    file_id INTEGER NOT NULL,
    kind TEXT NOT NULL,             -- class | function | method | field
    name TEXT NOT NULL,
    qualname TEXT NOT NULL,
    line INTEGER NOT NULL,
    end_line INTEGER NOT NULL
);
CREATE INDEX symbols_file ON symbols(file_id);
CREATE INDEX symbols_name ON symbols(name);
CREATE TABLE name_parts (part TEXT NOT NULL, file_id INTEGER NOT NULL);
CREATE INDEX name_parts_part ON name_parts(part);
"""
CHILD_TABLES = ("modules", "imports", "bases", "symbols", "name_parts", "contexts")


@dataclass(frozen=True)
class EncodedFacts:
    """A file's facts as stored: made in the parser processes, so the writer only inserts."""

    facts: bytes  # zlib(JSON(FileFacts))
    contexts: dict[str, bytes]  # context type -> zlib(JSON(items)), non-empty types only


def encode_facts(facts: FileFacts) -> EncodedFacts:
    contexts = {
        context_type: zlib.compress(json.dumps(items).encode(), 1)
        for context_type, items in context_items(facts).items()
        if items
    }
    return EncodedFacts(facts.to_blob(), contexts)


@dataclass(frozen=True)
class StoredFile:
    id: int
    path: str
    language: str
    size: int
    mtime_ns: int
    checked_ns: int
    hash: str


def index_path_for(root: Path, index_dir: Path) -> Path:
    """Where the index of `root` lives inside `index_dir` (one file per root)."""
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:12]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in root.name) or "root"
    return index_dir / f"{name}-{digest}.sqlite"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class IndexStore:
    """Read and write access to one repository's index file."""

    def __init__(self, path: Path, root: Path):
        self.path = path
        self.root = root
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        db = None
        try:
            if not fresh:
                with open(self.path, "rb") as f:  # SQLite would write its header into a foreign file
                    if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                        raise sqlite3.DatabaseError("not an SQLite database")
            db = self._connect()
            if fresh:
                return self._create(db)
            version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version is None or version[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema {version and version[0]}, expected {SCHEMA_VERSION}")
            return db
        except sqlite3.DatabaseError as error:
            if db is not None:
                db.close()
            logger.warning("index %s is unusable (%s); rebuilding it", self.path, error)
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.replace(f"{self.path}{suffix}", f"{self.path}{suffix}.corrupt")
                except FileNotFoundError:
                    pass
            return self._create(self._connect())

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _create(self, db: sqlite3.Connection) -> sqlite3.Connection:
        db.executescript("BEGIN;" + SCHEMA + "COMMIT;")
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)", [("schema", SCHEMA_VERSION), ("root", str(self.root))]
        )
        return db

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------
    def files(self, paths: list[str] | None = None) -> dict[str, StoredFile]:
        """The stored state of every file, or of just `paths` (those that are stored)."""
        query = "SELECT id, path, language, size, mtime_ns, checked_ns, hash FROM files"
        if paths is None:
            rows = self.db.execute(query).fetchall()
        else:
            rows = [r for p in paths for r in self.db.execute(query + " WHERE path = ?", (p,))]
        return {row[1]: StoredFile(*row) for row in rows}

    def facts(self, path: str) -> FileFacts | None:
        row = self.db.execute("SELECT facts FROM files WHERE path = ?", (path,)).fetchone()
        return FileFacts.from_blob(row[0]) if row else None

    def context_items(self, path: str, context_type: str) -> list[str]:
        """The items of one context type of a stored file (empty when it has none)."""
        row = self.db.execute(
            "SELECT c.items FROM contexts c JOIN files f ON f.id = c.file_id "
            "WHERE f.path = ? AND c.context_type = ?",
            (path, context_type),
        ).fetchone()
        return json.loads(zlib.decompress(row[0])) if row else []

    def all_facts(self) -> Iterator[tuple[int, str, FileFacts]]:
        for file_id, path, blob in self.db.execute("SELECT id, path, facts FROM files ORDER BY path"):
            yield file_id, path, FileFacts.from_blob(blob)

    def module_names(self) -> dict[str, list[str]]:
        names: dict[str, list[str]] = {}
        for path, name in self.db.execute(
            "SELECT f.path, m.name FROM modules m JOIN files f ON f.id = m.file_id"
        ):
            names.setdefault(path, []).append(name)
        return names

    def import_targets(self, paths: Iterable[str]) -> dict[str, list[tuple[str, str | None]]]:
        """(target module, resolved file) of each import of each of `paths`, in order."""
        result: dict[str, list[tuple[str, str | None]]] = {p: [] for p in paths}
        if not result:
            return result
        marks = ",".join("?" * len(result))
        for path, target, resolved in self.db.execute(
            f"SELECT f.path, i.target, i.resolved_path FROM imports i JOIN files f ON f.id = i.file_id "
            f"WHERE f.path IN ({marks}) ORDER BY i.file_id, i.seq",
            list(result),
        ):
            result[path].append((target, resolved))
        return result

    def paths_in_directory(self, directory: str, language: str) -> list[str]:
        """Files directly inside `directory` ("" for the root), compared case-sensitively."""
        prefix = f"{directory}/" if directory else ""
        rows = self.db.execute(
            "SELECT path FROM files WHERE language = ? AND substr(path, 1, ?) = ? "
            "AND instr(substr(path, ?), '/') = 0 ORDER BY path",
            (language, len(prefix), prefix, len(prefix) + 1),
        )
        return [p for (p,) in rows]

    def paths_with_name_parts(self, parts: Iterable[str], language: str) -> list[str]:
        parts = list(parts)
        if not parts:
            return []
        marks = ",".join("?" * len(parts))
        rows = self.db.execute(
            f"SELECT DISTINCT f.path FROM name_parts n JOIN files f ON f.id = n.file_id "
            f"WHERE n.part IN ({marks}) AND f.language = ? ORDER BY f.path",
            [*parts, language],
        )
        return [p for (p,) in rows]

    def subclass_files(self, path: str, class_names: Iterable[str]) -> list[str]:
        """Files with a class whose base resolves to a class of `path` named in `class_names`."""
        names = set(class_names)
        rows = self.db.execute(
            "SELECT DISTINCT f.path, b.base FROM bases b JOIN files f ON f.id = b.file_id "
            "WHERE b.resolved_path = ? ORDER BY f.path",
            (path,),
        )
        return list(dict.fromkeys(p for p, base in rows if base.rpartition(".")[2] in names and p != path))

    # -- writing (call inside `transaction()`) --------------------------------------------
    def put_file(
        self, path: str, size: int, mtime_ns: int, checked_ns: int, digest: str, facts: FileFacts,
        blobs: EncodedFacts | None = None,
    ) -> int:
        """Insert or replace a file's row and its derived rows; linking fills resolutions."""
        db = self.db
        blobs = blobs or encode_facts(facts)
        row = db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        values = (facts.language, size, mtime_ns, checked_ns, digest, facts.package, blobs.facts)
        if row is None:
            file_id = db.execute(
                "INSERT INTO files (path, language, size, mtime_ns, checked_ns, hash, package, facts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (path, *values),
            ).lastrowid
        else:
            file_id = row[0]
            db.execute(
                "UPDATE files SET language=?, size=?, mtime_ns=?, checked_ns=?, hash=?, package=?, "
                "facts=? WHERE id=?",
                (*values, file_id),
            )
            for table in ("imports", "bases", "symbols", "name_parts", "contexts"):
                db.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))
        db.executemany(
            "INSERT INTO imports (file_id, seq, module, name, alias, level, line) VALUES (?,?,?,?,?,?,?)",
            [(file_id, i, m.module, m.name, m.alias, m.level, m.line) for i, m in enumerate(facts.imports)],
        )
        db.executemany(
            "INSERT INTO bases (file_id, seq, class, base) VALUES (?,?,?,?)",
            [
                (file_id, i, cls, base)
                for i, (cls, base) in enumerate((c.qualname, b) for c in facts.classes for b in c.bases)
            ],
        )
        db.executemany(
            "INSERT INTO symbols VALUES (?,?,?,?,?,?)",
            [(file_id, *symbol) for symbol in definitions(facts)],
        )
        db.executemany(
            "INSERT INTO name_parts VALUES (?, ?)", [(part, file_id) for part in name_parts(path)]
        )
        db.executemany(
            "INSERT INTO contexts VALUES (?, ?, ?)",
            [(file_id, context_type, blob) for context_type, blob in blobs.contexts.items()],
        )
        return file_id

    def touch_file(self, file_id: int, size: int, mtime_ns: int, checked_ns: int) -> None:
        self.db.execute(
            "UPDATE files SET size=?, mtime_ns=?, checked_ns=? WHERE id=?", (size, mtime_ns, checked_ns, file_id)
        )

    def delete_file(self, file_id: int) -> None:
        for table in CHILD_TABLES:
            self.db.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))
        self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def counts(self) -> dict[str, int]:
        files = self.db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        symbols = self.db.execute("SELECT COUNT(*) FROM symbols").fetchone()[0]
        return {"files": files, "symbols": symbols}


_FIELD_NAME = {
    "python": re.compile(r"(?:self\.)?([A-Za-z_]\w*)"),
    "java": re.compile(r"([A-Za-z_$][\w$]*)\s*(?:=|;|,)"),
}
_NAME_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_COMMON_PARTS = frozenset({"init", "main", "test", "tests", "util", "utils"})


def definitions(facts: FileFacts) -> list[tuple[str, str, str, int, int]]:
    """(kind, name, qualname, line, end_line) of the classes, functions and fields of a file."""
    rows = [("class", c.name, c.qualname, c.line, c.end_line) for c in facts.classes]
    rows += [
        ("method" if f.is_method else "function", f.name, f.qualname, f.line, f.end_line)
        for f in facts.functions
    ]
    pattern = _FIELD_NAME[facts.language]
    for field in facts.fields:
        match = pattern.search(field.text) if facts.language == "java" else pattern.match(field.text)
        if match:
            rows.append(("field", match.group(1), match.group(1), field.line, field.end_line))
    return rows


def name_parts(path: str) -> list[str]:
    """Parts of a file name for RLPG's Similar Name source: `_`/`-` and camelCase split,
    lower-cased, parts shorter than three letters and very common parts dropped."""
    stem = path.rpartition("/")[2].partition(".")[0]
    parts = (p.lower() for p in _NAME_PART.findall(stem))
    return list(dict.fromkeys(p for p in parts if len(p) >= 3 and p not in _COMMON_PARTS))


def context_items(facts: FileFacts) -> dict[str, list[str]]:
    """What each RLPG context type takes from a file, in file order."""
    return {
        "method_names_and_bodies": [f.text for f in facts.functions],
        "method_names": [f.signature for f in facts.functions],
        "identifiers": list(facts.identifiers),
        "type_identifiers": list(facts.type_identifiers),
        "string_literals": list(facts.string_literals),
        "field_declarations": [f.text for f in facts.fields],
    }
