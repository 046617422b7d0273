"""Incremental indexing gives exactly the index a fresh full run gives, whatever the edits.

Hypothesis draws a small two-package repository and a sequence of edits (content changes,
same-size changes, new and deleted files, `__init__.py` appearing and disappearing, ignore
lines). After every step the incrementally updated index is compared, table by table and
joined on paths, with a fresh index of the same tree.

File times are cut to whole seconds after every write, as on a filesystem with coarse
timestamps: a same-size edit within the same second then keeps size and mtime, and only the
indexer's racy-mtime guard can notice it.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bowerbird.analysis.indexer as indexer_module
from bowerbird.analysis.facts import FileFacts
from bowerbird.analysis.indexer import IndexOptions, index_repository, update_files
from bowerbird.analysis.store import IndexStore, index_path_for

PACKAGES = ("alpha", "gamma")  # same length: swapping them is a same-size edit
MODULES = ("core", "util", "misc")
SOURCE_PATHS = (
    "main.py",
    *(f"{p}/{m}.py" for p in PACKAGES for m in MODULES),
    "alpha/sub/deep.py",
    "gamma/sub/deep.py",
)
INIT_PATHS = ("alpha/__init__.py", "gamma/__init__.py", "alpha/sub/__init__.py", "gamma/sub/__init__.py")
IMPORTS = (
    "from alpha.core import Base",
    "from gamma.core import Base",
    "import alpha.util",
    "import gamma.util as gu",
    "from alpha import misc",
    "from . import util",
    "from .core import Base",
    "from .. import core",
    "from ..gamma.misc import K11",
    "from alpha.sub.deep import *",
    "from .misc import *",
    "import os.path",
    "from sub import deep",
)
BASES = ("Base", "alpha.util.Thing", "gu.Thing", "misc.K11", "core.Base", "deep.K22", "K11", "object", "")
IGNORE_LINES = ("misc.py", "/main.py", "gamma/sub/", "alpha/util.py", "!gamma/misc.py", "deep.py", "*.py\n!core.py")

TICK_NS = 1_000_000_000


def coarse_write(path: Path, text: str) -> None:
    """Write `text`, then cut the file's times to the second (a coarse-timestamp filesystem)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    now = time.time_ns() // TICK_NS * TICK_NS
    os.utime(path, ns=(now, now))


@st.composite
def sources(draw) -> str:
    imports = draw(st.lists(st.sampled_from(IMPORTS), max_size=4))
    classes = draw(st.lists(st.tuples(st.integers(10, 99), st.sampled_from(BASES)), max_size=3))
    lines = [*imports, ""]
    for number, base in classes:
        lines += [f"class K{number}({base}):" if base else f"class K{number}:", f"    x{number} = {number}", ""]
    lines += [f"def f{draw(st.integers(10, 99))}():", "    return 1", ""]
    return "\n".join(lines)


def same_size_variant(text: str) -> str:
    """The same text with packages swapped and digits shifted: same size, other facts."""
    swapped = text.replace("alpha", "\0").replace("gamma", "alpha").replace("\0", "gamma")
    return swapped.translate(str.maketrans("0123456789", "1234567891"))


# -- operations ----------------------------------------------------------------------------------

edit = st.tuples(st.just("edit"), st.sampled_from(SOURCE_PATHS), sources())
same_size = st.tuples(st.just("same_size"), st.sampled_from(SOURCE_PATHS), st.just(""))
delete = st.tuples(st.just("delete"), st.sampled_from(SOURCE_PATHS + INIT_PATHS), st.just(""))
toggle_init = st.tuples(st.just("toggle_init"), st.sampled_from(INIT_PATHS), st.just(""))
ignore = st.tuples(st.just("ignore"), st.sampled_from(("", "alpha/", "gamma/sub/")), st.sampled_from(IGNORE_LINES))
operations = st.lists(st.one_of(edit, same_size, same_size, delete, toggle_init, ignore), min_size=1, max_size=8)


@st.composite
def initial_trees(draw) -> dict[str, str]:
    paths = draw(st.sets(st.sampled_from(SOURCE_PATHS), min_size=2))
    inits = draw(st.sets(st.sampled_from(INIT_PATHS)))
    return {**{p: draw(sources()) for p in sorted(paths)}, **{p: "" for p in sorted(inits)}}


def apply(root: Path, operation: tuple[str, str, str]) -> list[str]:
    """Apply one operation to the tree; the paths it touched (for `update_files`)."""
    kind, path, payload = operation
    target = root / path
    if kind == "edit":
        coarse_write(target, payload)
    elif kind == "same_size":
        if not target.exists():
            return []
        coarse_write(target, same_size_variant(target.read_text(encoding="utf-8")))
    elif kind == "delete":
        if not target.exists():
            return []
        target.unlink()
    elif kind == "toggle_init":
        if target.exists():
            target.unlink()
        else:
            coarse_write(target, "")
    elif kind == "ignore":
        ignore_file = root / path / ".gitignore"
        previous = ignore_file.read_text() if ignore_file.exists() else ""
        coarse_write(ignore_file, previous + payload + "\n")
        return []
    return [path]


# -- comparison ----------------------------------------------------------------------------------


def dump(store: IndexStore) -> dict[str, list]:
    """The content of an index with row ids replaced by paths, in a canonical order."""
    db = store.db
    by_path = lambda sql: sorted(db.execute(sql).fetchall(), key=repr)  # noqa: E731
    files = [
        (path, digest, module, language, package, FileFacts.from_blob(blob))
        for path, digest, module, language, package, blob in db.execute(
            "SELECT path, hash, module, language, package, facts FROM files ORDER BY path"
        )
    ]
    join = "JOIN files f ON f.id = t.file_id"
    return {
        "files": files,
        "modules": by_path(f"SELECT t.name, f.path FROM modules t {join}"),
        "imports": by_path(
            "SELECT f.path, t.seq, t.module, t.name, t.alias, t.level, t.line, t.target, t.resolved_path "
            f"FROM imports t {join}"
        ),
        "bases": by_path(f"SELECT f.path, t.seq, t.class, t.base, t.resolved_path FROM bases t {join}"),
        "symbols": by_path(f"SELECT f.path, t.kind, t.name, t.qualname, t.line, t.end_line FROM symbols t {join}"),
        "name_parts": by_path(f"SELECT t.part, f.path FROM name_parts t {join}"),
        "orphans": [
            (table, db.execute(f"SELECT COUNT(*) FROM {table} WHERE file_id NOT IN (SELECT id FROM files)").fetchone()[0])
            for table in ("modules", "imports", "bases", "symbols", "name_parts")
        ],
    }


def fresh_dump(root: Path, index_dir: Path) -> dict[str, list]:
    store = IndexStore(index_path_for(root, index_dir), root)
    try:
        index_repository(store, IndexOptions(workers=1))
        return dump(store)
    finally:
        store.close()


def assert_same_index(incremental: IndexStore, root: Path, index_dir: Path, history: list) -> None:
    expected = fresh_dump(root, index_dir)
    actual = dump(incremental)
    for table in expected:
        assert actual[table] == expected[table], f"table {table} differs after {history}"


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(tree=initial_trees(), steps=operations)
def test_incremental_index_equals_fresh_index(tree, steps):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        for path, text in tree.items():
            coarse_write(root / path, text)
        store = IndexStore(index_path_for(root, Path(tmp) / "a"), root)
        try:
            index_repository(store, IndexOptions(workers=1))
            assert_same_index(store, root, Path(tmp) / "fresh0", [])
            for number, step in enumerate(steps, 1):
                apply(root, step)
                report = index_repository(store, IndexOptions(workers=1))
                assert report.files_total == store.counts()["files"]
                assert_same_index(store, root, Path(tmp) / f"fresh{number}", steps[:number])
        finally:
            store.close()


@SETTINGS
@given(tree=initial_trees(), steps=operations.map(lambda ops: [op for op in ops if op[0] != "ignore"]))
def test_update_files_equals_fresh_index(tree, steps):
    """An editor's per-file update, told exactly which files changed, matches a full index."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        for path, text in tree.items():
            coarse_write(root / path, text)
        store = IndexStore(index_path_for(root, Path(tmp) / "a"), root)
        try:
            index_repository(store, IndexOptions(workers=1))
            for number, step in enumerate(steps, 1):
                touched = apply(root, step)
                update_files(store, touched)
                assert_same_index(store, root, Path(tmp) / f"fresh{number}", steps[:number])
        finally:
            store.close()


# -- the cases the property is about, spelled out ---------------------------------------------


def _store(tmp_path: Path, root: Path) -> IndexStore:
    return IndexStore(index_path_for(root, tmp_path / "a"), root)


def test_same_size_edit_within_the_same_second_is_seen(tmp_path):
    root = tmp_path / "repo"
    coarse_write(root / "m.py", "class K10(Base):\n    pass\n")
    store = _store(tmp_path, root)
    index_repository(store)
    before = os.stat(root / "m.py")
    coarse_write(root / "m.py", "class K20(Base):\n    pass\n")
    os.utime(root / "m.py", ns=(before.st_atime_ns, before.st_mtime_ns))  # the same clock tick
    after = os.stat(root / "m.py")
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    report = index_repository(store)
    assert report.files_indexed == 1
    assert [c.name for c in store.facts("m.py").classes] == ["K20"]
    assert_same_index(store, root, tmp_path / "fresh", [])


def test_edit_during_a_run_is_seen_by_the_next_run(tmp_path, monkeypatch):
    """A same-size, same-mtime edit made while a run reads the files must not be lost,
    however long that run takes after reading."""
    root = tmp_path / "repo"
    root.mkdir()
    path = root / "m.py"
    path.write_text("A = 1\n")
    tick = time.time_ns() - 1_200_000_000  # a 2 s clock tick (FAT) that began 1.2 s ago
    os.utime(path, ns=(tick, tick))
    real_read = indexer_module.read_source

    def read_then_edit(abspath):
        result = real_read(abspath)
        path.write_text("B = 2\n")  # same size, same tick
        os.utime(path, ns=(tick, tick))
        time.sleep(0.9)  # the rest of a long run: it ends past the tick's 2 s
        return result

    store = _store(tmp_path, root)
    monkeypatch.setattr(indexer_module, "read_source", read_then_edit)
    index_repository(store, IndexOptions(workers=1))
    monkeypatch.setattr(indexer_module, "read_source", real_read)
    assert store.facts("m.py").identifiers == ("A",)
    report = index_repository(store, IndexOptions(workers=1))
    assert report.files_indexed == 1
    assert store.facts("m.py").identifiers == ("B",)


def test_stale_stat_is_trusted_once_old_enough(tmp_path, monkeypatch):
    """The other side of the guard: an old, unchanged file is not read again."""
    root = tmp_path / "repo"
    coarse_write(root / "m.py", "x = 1\n")
    old = time.time_ns() - 3_600 * TICK_NS
    os.utime(root / "m.py", ns=(old, old))
    store = _store(tmp_path, root)
    index_repository(store)
    calls = []
    real_read = indexer_module.read_source
    monkeypatch.setattr(indexer_module, "read_source", lambda abspath: calls.append(abspath) or real_read(abspath))
    report = index_repository(store, IndexOptions(workers=1))
    assert (report.files_unchanged, report.files_indexed, calls) == (1, 0, [])


def test_java_package_change_relinks_importers(tmp_path):
    root = tmp_path / "repo"
    coarse_write(root / "A.java", "package p;\nclass A {}\n")
    coarse_write(root / "B.java", "package q;\nimport p.A;\nclass B extends A {}\n")
    store = _store(tmp_path, root)
    index_repository(store)
    assert store.db.execute("SELECT resolved_path FROM bases").fetchall() == [("A.java",)]
    coarse_write(root / "A.java", "package r;\nclass A {}\n")
    index_repository(store)
    assert store.module_names()["A.java"] == ["r.A"]
    assert store.db.execute("SELECT resolved_path FROM bases").fetchall() == [(None,)]
    assert_same_index(store, root, tmp_path / "fresh", [])


def test_update_files_applies_the_walks_exclusions(tmp_path):
    root = tmp_path / "repo"
    coarse_write(root / "ok.py", "x = 1\n")
    coarse_write(root / ".gitignore", "build/\n")
    store = _store(tmp_path, root)
    index_repository(store)
    new = {
        "msg_pb2.py": "x = 1\n",
        "node_modules/n.py": "x = 1\n",
        "env/pyvenv.cfg": "",
        "env/v.py": "x = 1\n",
        "build/out.py": "x = 1\n",
        "src/build/out.py": "x = 1\n",
        "pkg/new.py": "y = 2\n",
    }
    for path, text in new.items():
        coarse_write(root / path, text)
    report = update_files(store, list(new))
    assert set(store.files()) == {"ok.py", "pkg/new.py"}
    assert report.files_indexed == 1
    assert_same_index(store, root, tmp_path / "fresh", [])
