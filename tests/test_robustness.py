"""The indexer on hostile input: broken sources, odd files, links, bad indexes, bad arguments.

Every test builds its repository in `tmp_path` and indexes it the way the CLI does.
"""

from __future__ import annotations

import builtins
import logging
import os
import shutil
import sqlite3
import sysconfig
from pathlib import Path

import pytest

import bowerbird.analysis.indexer as indexer_module
import bowerbird.analysis.walk as walk_module
from bowerbird.analysis.indexer import IndexOptions, index_repository
from bowerbird.analysis.store import SCHEMA_VERSION, IndexStore, index_path_for
from bowerbird.analysis.walk import MAX_FILE_BYTES
from bowerbird.cli import main


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


def open_store(root: Path, tmp_path: Path) -> IndexStore:
    return IndexStore(index_path_for(root, tmp_path / "idx"), root)


def index(root: Path, tmp_path: Path, **options):
    store = open_store(root, tmp_path)
    return store, index_repository(store, IndexOptions(**options))


def snapshot(store: IndexStore) -> dict:
    """Everything in the index, keyed by path rather than row id."""
    db = store.db
    files = {
        path: (language, size, mtime_ns, checked_ns, digest, package, module, facts)
        for path, language, size, mtime_ns, checked_ns, digest, package, module, facts in db.execute(
            "SELECT path, language, size, mtime_ns, checked_ns, hash, package, module, facts FROM files"
        )
    }
    tables = {}
    for table in ("modules", "imports", "bases", "symbols", "name_parts"):
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})") if row[1] != "file_id"]
        rows = db.execute(
            f"SELECT f.path, {', '.join('t.' + c for c in columns)} FROM {table} t JOIN files f ON f.id = t.file_id"
        ).fetchall()
        tables[table] = sorted(rows, key=repr)
    return {"files": files, **tables}


# -- broken and odd sources -------------------------------------------------------------------


@pytest.mark.parametrize("broken", [
    "def broken(x):\n    return x +\n",  # incomplete expression
    "def broken(:\n    pass\n",  # bad parameter list
    "def broken(x):\n    if x\n        return (\n    ]\n",  # missing colon, unbalanced brackets
])
def test_syntax_error_keeps_the_well_formed_parts(repo, tmp_path, broken):
    write(repo, "broken.py", (
        "import os\n"
        + broken
        + "\n"
        "class Good(Base):\n"
        "    limit = 3\n"
        "    def method(self):\n"
        "        return os.sep\n"
    ))
    store, report = index(repo, tmp_path)
    assert report.files_indexed == 1 and not report.files_skipped
    facts = store.facts("broken.py")
    assert [i.module for i in facts.imports] == ["os"]
    assert [(c.name, c.bases) for c in facts.classes] == [("Good", ("Base",))]
    assert "Good.method" in {f.qualname for f in facts.functions}
    symbols = {(kind, qualname) for kind, qualname in store.db.execute("SELECT kind, qualname FROM symbols")}
    assert {("class", "Good"), ("method", "Good.method"), ("field", "limit")} <= symbols


def test_hopelessly_broken_file_is_still_indexed(repo, tmp_path):
    write(repo, "chaos.py", "class (:\n  ]]] def def\n\t\t'unterminated\nfrom import\n" * 50)
    store, report = index(repo, tmp_path)
    assert (report.files_indexed, dict(report.files_skipped)) == (1, {})
    assert store.facts("chaos.py").lines == 201


def test_non_utf8_file_is_indexed(repo, tmp_path):
    write(repo, "latin.py", "greeting = 'caf\xe9 cr\xe8me'\n\nclass Kl\xe4sse:\n    pass\n\ndef after(): pass\n".encode("latin-1"))
    store, report = index(repo, tmp_path)
    assert report.files_indexed == 1 and not report.files_skipped
    facts = store.facts("latin.py")
    assert "greeting" in facts.identifiers
    assert "after" in {f.name for f in facts.functions}
    assert facts.lines == 7


def test_binary_file_with_py_extension_is_skipped(repo, tmp_path):
    write(repo, "blob.py", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(repo, "ok.py", "x = 1\n")
    store, report = index(repo, tmp_path)
    assert report.files_skipped["binary"] == 1
    assert set(store.files()) == {"ok.py"}


def test_file_that_turns_binary_leaves_the_index(repo, tmp_path):
    write(repo, "a.py", "def f(): pass\n")
    store, _ = index(repo, tmp_path)
    write(repo, "a.py", b"\x00" * 64)
    report = index_repository(store)
    assert report.files_skipped == {"binary": 1}
    assert report.files_deleted == 1
    assert store.files() == {} and store.counts() == {"files": 0, "symbols": 0}


def test_empty_file_is_indexed_without_symbols(repo, tmp_path):
    write(repo, "pkg/__init__.py", "")
    store, report = index(repo, tmp_path)
    assert (report.files_total, report.files_indexed, report.symbols) == (1, 1, 0)
    facts = store.facts("pkg/__init__.py")
    assert (facts.lines, facts.imports, facts.classes, facts.functions, facts.identifiers) == (1, (), (), (), ())
    assert store.db.execute("SELECT module FROM files").fetchone() == ("pkg",)


def test_files_over_the_size_limit_are_skipped(repo, tmp_path):
    line = b"# " + b"a" * 97 + b"\n"  # 100 bytes: long enough to be quick, short enough not to look minified
    write(repo, "exact.py", line * (MAX_FILE_BYTES // 100))
    write(repo, "huge.py", line * (MAX_FILE_BYTES // 100) + b"x")
    store, report = index(repo, tmp_path)
    assert os.path.getsize(repo / "exact.py") == MAX_FILE_BYTES
    assert report.files_skipped == {"too_large": 1}
    assert set(store.files()) == {"exact.py"}


@pytest.mark.parametrize("header", [
    "# Code generated by protoc-gen-python. DO NOT EDIT.\n",
    "# -*- coding: utf-8 -*-\n# @generated by tooling\n",
    '"""Auto-generated module."""\n',
])
def test_generated_header_is_skipped(repo, tmp_path, header):
    write(repo, "gen.py", header + "class Message:\n    pass\n")
    write(repo, "hand.py", "class Hand:\n    pass\n")
    store, report = index(repo, tmp_path)
    assert report.files_skipped == {"generated": 1}
    assert set(store.files()) == {"hand.py"}


def test_generated_file_names_are_skipped(repo, tmp_path):
    write(repo, "x_pb2.py", "class X:\n    pass\n")
    write(repo, "x_pb2_grpc.py", "class XStub:\n    pass\n")
    write(repo, "x.py", "class Y:\n    pass\n")
    store, report = index(repo, tmp_path)
    assert report.files_skipped == {"generated": 2}
    assert set(store.files()) == {"x.py"}


def test_generated_marker_far_below_the_header_does_not_count(repo, tmp_path):
    write(repo, "notes.py", "x = 1\n" * 20 + "# do not edit the line above\n")
    store, report = index(repo, tmp_path)
    assert not report.files_skipped and set(store.files()) == {"notes.py"}


def test_minified_file_is_skipped(repo, tmp_path):
    write(repo, "bundle.py", "data = [" + ", ".join(str(i) for i in range(10_000)) + "]\n")
    write(repo, "long_but_normal.py", "value = 123456789\n" * 5_000)  # 90 KB of short lines
    store, report = index(repo, tmp_path)
    assert os.path.getsize(repo / "bundle.py") > 20_000
    assert report.files_skipped == {"minified": 1}
    assert set(store.files()) == {"long_but_normal.py"}


def test_fifo_named_like_a_source_is_not_read(repo, tmp_path):
    write(repo, "ok.py", "x = 1\n")
    os.mkfifo(repo / "pipe.py")
    store, report = index(repo, tmp_path)
    assert report.files_skipped == {"not_a_file": 1}
    assert set(store.files()) == {"ok.py"}


# -- links ----------------------------------------------------------------------------------


def test_symlink_loop_terminates_and_indexes_each_file_once(repo, tmp_path):
    write(repo, "a.py", "def a(): pass\n")
    write(repo, "pkg/m.py", "def m(): pass\n")
    os.symlink("..", repo / "pkg" / "up")  # pkg/up -> the root
    os.symlink(".", repo / "pkg" / "self")  # pkg/self -> pkg
    store, report = index(repo, tmp_path)
    assert set(store.files()) == {"a.py", "pkg/m.py"}
    assert report.files_skipped == {"symlink_loop": 2}
    assert report.symbols == 2


def test_symlinks_out_of_the_root_are_skipped(repo, tmp_path):
    outside = tmp_path / "elsewhere"
    write(outside, "secret.py", "TOKEN = 1\n")
    write(repo, "inside.py", "x = 1\n")
    os.symlink(outside, repo / "linked_dir")
    os.symlink(outside / "secret.py", repo / "linked_file.py")
    store, report = index(repo, tmp_path)
    assert report.files_skipped == {"outside_root": 2}
    assert set(store.files()) == {"inside.py"}


def test_symlinked_file_inside_the_root_is_indexed(repo, tmp_path):
    write(repo, "real.py", "def f(): pass\n")
    os.symlink("real.py", repo / "alias.py")
    store, report = index(repo, tmp_path)
    assert set(store.files()) == {"alias.py", "real.py"}
    assert store.files()["alias.py"].hash == store.files()["real.py"].hash


def test_broken_symlink_is_counted(repo, tmp_path):
    write(repo, "ok.py", "x = 1\n")
    os.symlink("missing.py", repo / "dangling.py")
    os.symlink("missing_dir", repo / "dangling_dir")
    store, report = index(repo, tmp_path)
    assert report.files_skipped == {"broken_link": 1}
    assert set(store.files()) == {"ok.py"}


# -- files that change or fail under the indexer ---------------------------------------------


def test_unreadable_file_is_skipped(repo, tmp_path, monkeypatch):
    # Tests run as root, where chmod does not stop reads: make `open` fail instead.
    write(repo, "locked.py", "x = 1\n")
    write(repo, "open.py", "y = 2\n")
    locked = str(repo / "locked.py")

    def guarded_open(file, *args, **kwargs):
        if os.fspath(file) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(walk_module, "open", guarded_open, raising=False)
    store, report = index(repo, tmp_path, workers=1)
    assert report.files_skipped == {"unreadable": 1}
    assert set(store.files()) == {"open.py"}


def test_file_deleted_between_walk_and_parse(repo, tmp_path, monkeypatch):
    write(repo, "stays.py", "x = 1\n")
    write(repo, "goes.py", "y = 2\n")
    store, first = index(repo, tmp_path)
    assert first.files_total == 2
    write(repo, "goes.py", "y = 3\n")  # changed, so it must be read again
    real_walk = indexer_module.walk

    def walk_then_delete(root, exclude=()):
        found = real_walk(root, exclude)
        os.remove(repo / "goes.py")
        return found

    monkeypatch.setattr(indexer_module, "walk", walk_then_delete)
    report = index_repository(store, IndexOptions(workers=1))
    assert report.files_skipped == {"vanished": 1}
    assert report.files_deleted == 1
    assert set(store.files()) == {"stays.py"}


def test_new_file_deleted_between_walk_and_parse(repo, tmp_path, monkeypatch):
    write(repo, "stays.py", "x = 1\n")
    write(repo, "goes.py", "y = 2\n")
    real_walk = indexer_module.walk

    def walk_then_delete(root, exclude=()):
        found = real_walk(root, exclude)
        os.remove(repo / "goes.py")
        return found

    monkeypatch.setattr(indexer_module, "walk", walk_then_delete)
    store, report = index(repo, tmp_path, workers=1)
    assert report.files_skipped == {"vanished": 1}
    assert (report.files_total, report.files_indexed, report.files_deleted) == (1, 1, 0)
    assert set(store.files()) == {"stays.py"}


def test_read_source_turns_os_errors_into_skip_reasons(repo, monkeypatch):
    write(repo, "ok.py", "x = 1\n")
    assert walk_module.read_source(str(repo / "ok.py")) == (b"x = 1\n", None)
    assert walk_module.read_source(str(repo / "missing.py")) == (None, "vanished")
    assert walk_module.read_source(str(repo)) == (None, "unreadable")  # a directory

    def failing_open(file, *args, **kwargs):
        raise OSError(5, "Input/output error", os.fspath(file))

    monkeypatch.setattr(walk_module, "open", failing_open, raising=False)
    assert walk_module.read_source(str(repo / "ok.py")) == (None, "unreadable")


def test_unlistable_directory_is_skipped(repo, tmp_path, monkeypatch):
    write(repo, "a.py", "x = 1\n")
    write(repo, "locked/b.py", "y = 2\n")
    write(repo, "open/c.py", "z = 3\n")
    real_scandir = os.scandir
    locked = repo / "locked"

    def guarded_scandir(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(walk_module.os, "scandir", guarded_scandir)
    store, report = index(repo, tmp_path)
    assert report.files_skipped == {"unreadable_dir": 1}
    assert set(store.files()) == {"a.py", "open/c.py"}


def test_parser_crash_is_a_parse_error_skip(repo, tmp_path, monkeypatch):
    write(repo, "a.py", "x = 1\n")
    write(repo, "b.py", "y = 2\n")
    real_parse = indexer_module.parse_source

    def crashing_parse(language, data):
        if b"x = 1" in data:
            raise RuntimeError("parser bug")
        return real_parse(language, data)

    monkeypatch.setattr(indexer_module, "parse_source", crashing_parse)
    store, report = index(repo, tmp_path, workers=1)
    assert report.files_skipped == {"parse_error": 1}
    assert set(store.files()) == {"b.py"}


# -- the index file itself ---------------------------------------------------------------------


def _assert_rebuilt(repo: Path, tmp_path: Path, index_path: Path, old: bytes, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="bowerbird.analysis.store"):
        store = open_store(repo, tmp_path)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "bowerbird.analysis.store"]
    assert len(warnings) == 1 and "rebuilding" in warnings[0].getMessage()
    assert str(index_path) in warnings[0].getMessage()
    corrupt = index_path.with_name(index_path.name + ".corrupt")
    assert corrupt.read_bytes()[: len(old)] == old
    report = index_repository(store)
    assert (report.files_total, report.files_indexed) == (1, 1)
    assert set(store.files()) == {"a.py"}
    assert store.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (SCHEMA_VERSION,)
    store.close()
    # and the rebuilt index opens cleanly next time
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bowerbird.analysis.store"):
        again = open_store(repo, tmp_path)
    assert not caplog.records
    assert set(again.files()) == {"a.py"}
    again.close()


@pytest.mark.parametrize("garbage", [b"not a database at all\n" * 200, os.urandom(4096), b"\x01"])
def test_corrupt_index_is_moved_aside_and_rebuilt(repo, tmp_path, caplog, garbage):
    write(repo, "a.py", "def f(): pass\n")
    index_path = index_path_for(repo, tmp_path / "idx")
    index_path.parent.mkdir(parents=True)
    index_path.write_bytes(garbage)
    _assert_rebuilt(repo, tmp_path, index_path, garbage, caplog)


def test_index_of_another_schema_version_is_rebuilt(repo, tmp_path, caplog):
    write(repo, "a.py", "def f(): pass\n")
    store, _ = index(repo, tmp_path)
    store.db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    store.close()
    index_path = index_path_for(repo, tmp_path / "idx")
    old = index_path.read_bytes()[:16]
    _assert_rebuilt(repo, tmp_path, index_path, old, caplog)


def test_foreign_sqlite_database_is_rebuilt(repo, tmp_path, caplog):
    write(repo, "a.py", "def f(): pass\n")
    index_path = index_path_for(repo, tmp_path / "idx")
    index_path.parent.mkdir(parents=True)
    db = sqlite3.connect(index_path)
    db.execute("CREATE TABLE other (x)")
    db.commit()
    db.close()
    _assert_rebuilt(repo, tmp_path, index_path, index_path.read_bytes()[:16], caplog)


def test_killed_run_leaves_the_last_consistent_index(repo, tmp_path, monkeypatch):
    write(repo, "pkg/__init__.py", "")
    write(repo, "pkg/a.py", "class A:\n    pass\n")
    write(repo, "pkg/b.py", "from pkg.a import A\nclass B(A):\n    pass\n")
    write(repo, "c.py", "import pkg.b\n")
    store, first = index(repo, tmp_path)
    assert first.files_indexed == 4
    before = snapshot(store)

    write(repo, "pkg/a.py", "class A2:\n    pass\n")
    write(repo, "pkg/b.py", "from pkg.a import A2\nclass B(A2):\n    pass\n")
    write(repo, "d.py", "x = 1\n")
    os.remove(repo / "c.py")
    calls = []
    real_put = IndexStore.put_file

    def dying_put(self, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt  # what a killed run looks like from inside
        return real_put(self, *args, **kwargs)

    monkeypatch.setattr(IndexStore, "put_file", dying_put)
    with pytest.raises(KeyboardInterrupt):
        index_repository(store, IndexOptions(workers=1))
    assert len(calls) == 2
    assert snapshot(store) == before
    store.close()
    reopened = open_store(repo, tmp_path)
    assert snapshot(reopened) == before

    monkeypatch.setattr(IndexStore, "put_file", real_put)
    report = index_repository(reopened)
    assert (report.files_indexed, report.files_deleted) == (3, 1)
    assert set(reopened.files()) == {"pkg/__init__.py", "pkg/a.py", "pkg/b.py", "d.py"}
    bases = reopened.db.execute("SELECT class, base, resolved_path FROM bases").fetchall()
    assert bases == [("B", "A2", "pkg/a.py")]
    reopened.close()


# -- command-line misuse -----------------------------------------------------------------------


def test_index_of_a_file_is_a_usage_error(repo, tmp_path, capsys):
    file = write(repo, "a.py", "x = 1\n")
    assert main(["index", str(file), "--index-dir", str(tmp_path / "idx")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not a directory" in captured.err and str(file) in captured.err
    assert not (tmp_path / "idx").exists()


def test_index_of_a_missing_path_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["index", str(missing), "--json", "--index-dir", str(tmp_path / "idx")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no such directory" in captured.err


@pytest.mark.parametrize("line,col,message", [
    (99, 0, "line 99 is outside the file"),
    (-1, 0, "line -1 is outside the file"),
    (1, 50, "column 50 is outside line 1"),
    (0, -2, "column -2 is outside line 0"),
])
def test_proposals_position_out_of_range(repo, tmp_path, capsys, line, col, message):
    (repo / ".git").mkdir()
    file = write(repo, "m.py", "import os\ndef f(): pass\n")
    argv = ["proposals", str(file), "--line", str(line), "--col", str(col), "--json", "--index-dir", str(tmp_path / "idx")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


@pytest.mark.parametrize("name", ["notes.txt", "script.js", "Makefile"])
def test_proposals_for_an_unsupported_file_type(repo, tmp_path, capsys, name):
    file = write(repo, name, "hello\n")
    argv = ["proposals", str(file), "--line", "0", "--col", "0", "--index-dir", str(tmp_path / "idx")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "not a Python or Java file" in captured.err


def test_proposals_for_a_missing_or_binary_file(repo, tmp_path, capsys):
    argv = ["--line", "0", "--col", "0", "--index-dir", str(tmp_path / "idx")]
    assert main(["proposals", str(repo / "missing.py"), *argv]) == 2
    assert "no such file" in capsys.readouterr().err
    write(repo, "blob.py", b"\x00\x01")
    assert main(["proposals", str(repo / "blob.py"), *argv]) == 2
    assert "binary" in capsys.readouterr().err


# -- real code ---------------------------------------------------------------------------------


def _stdlib_copy(tmp_path: Path, packages: tuple[str, ...]) -> tuple[Path, int]:
    root = tmp_path / "stdlib"
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in packages:
        shutil.copytree(stdlib / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root, sum(1 for _ in root.rglob("*.py"))


def test_stdlib_packages_index_without_parse_errors(tmp_path):
    root, count = _stdlib_copy(tmp_path, ("email", "json"))
    assert count > 30
    store, report = index(root, tmp_path)
    assert "parse_error" not in report.files_skipped
    assert report.files_indexed == count == report.files_total
    assert store.files()["json/decoder.py"].language == "python"
    modules = dict(store.db.execute("SELECT path, module FROM files"))
    assert modules["email/mime/text.py"] == "email.mime.text"
    assert modules["json/__init__.py"] == "json"
    classes = {name for (name,) in store.db.execute("SELECT qualname FROM symbols WHERE kind = 'class'")}
    assert {"JSONDecoder", "JSONEncoder", "Message", "MIMEText"} <= classes
    resolved = store.db.execute(
        "SELECT b.resolved_path FROM bases b JOIN files f ON f.id = b.file_id "
        "WHERE f.path = 'email/mime/text.py' AND b.class = 'MIMEText'"
    ).fetchall()
    assert resolved == [("email/mime/nonmultipart.py",)]
    # a second run re-reads nothing new
    again = index_repository(store)
    assert (again.files_indexed, again.files_unchanged) == (0, count)


@pytest.mark.slow
def test_site_packages_index_fully(tmp_path):
    root = Path(sysconfig.get_paths()["purelib"]).resolve()
    store = IndexStore(index_path_for(root, tmp_path / "idx"), root)
    report = index_repository(store)
    assert report.files_indexed > 100
    assert "parse_error" not in report.files_skipped
    assert report.files_total == report.files_indexed == store.counts()["files"]
    assert report.symbols > 1000


@pytest.mark.slow
def test_whole_stdlib_indexes_without_parse_errors(tmp_path):
    root = Path(sysconfig.get_paths()["stdlib"]).resolve()
    store = IndexStore(index_path_for(root, tmp_path / "idx"), root)
    report = index_repository(store, IndexOptions(exclude=("site-packages/",)))
    assert report.files_indexed > 1000
    assert "parse_error" not in report.files_skipped
    assert report.files_total == report.files_indexed
