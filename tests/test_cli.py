"""The `bowerbird` command line: JSON on stdout, holes, proposals, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bowerbird.analysis.proposals.catalog import CATALOG
from bowerbird.analysis.store import index_path_for
from bowerbird.cli import main

FILES = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "pkg/__init__.py": "",
    "pkg/base.py": (
        "class Base:\n"
        "    \"\"\"A base.\"\"\"\n"
        "    size = 1\n"
        "\n"
        "    def area(self):\n"
        "        return self.size * self.size\n"
    ),
    "pkg/square.py": (
        "# A square.\n"
        "from pkg.base import Base\n"
        "\n"
        "\n"
        "class Square(Base):\n"
        "    def __init__(self, side):\n"
        "        self.side = side    \n"  # trailing blanks: not part of any target
        "\n"
        "    def area(self):\n"
        "        # the area\n"
        "        return self.side * self.side\n"
    ),
    "main.py": "from pkg.square import Square\n\nprint(Square(2).area())\n",
    "README.md": "# not indexed\n",
}
INDEX_KEYS = {
    "root", "index_path", "files_total", "files_indexed", "files_unchanged", "files_deleted",
    "files_skipped", "symbols", "seconds",
}


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1, out  # exactly one document
    return json.loads(out)


# -- index -------------------------------------------------------------------------------------


def test_index_json_report(repo, tmp_path, capsys):
    index_dir = tmp_path / "idx"
    report = run_json(capsys, ["index", str(repo), "--json", "--index-dir", str(index_dir)])
    assert set(report) == INDEX_KEYS
    assert report["root"] == str(repo.resolve())
    assert Path(report["index_path"]).parent == index_dir.resolve()
    assert Path(report["index_path"]).is_file()
    assert (report["files_total"], report["files_indexed"], report["files_unchanged"]) == (4, 4, 0)
    assert report["files_skipped"] == {}
    assert report["symbols"] == 7  # Base, size, area, Square, __init__, self.side, area
    assert isinstance(report["seconds"], float) and report["seconds"] >= 0


def test_second_index_run_reports_every_file_unchanged(repo, tmp_path, capsys):
    argv = ["index", str(repo), "--json", "--index-dir", str(tmp_path / "idx")]
    first = run_json(capsys, argv)
    second = run_json(capsys, argv)
    assert second["index_path"] == first["index_path"]
    assert second["files_unchanged"] == second["files_total"] == first["files_total"]
    assert (second["files_indexed"], second["files_deleted"]) == (0, 0)
    assert second["symbols"] == first["symbols"]


def test_index_reports_changes_and_skips(repo, tmp_path, capsys):
    argv = ["index", str(repo), "--json", "--index-dir", str(tmp_path / "idx")]
    run_json(capsys, argv)
    (repo / "main.py").unlink()
    (repo / "pkg" / "base.py").write_text("class Base:\n    pass\n")
    (repo / "blob.py").write_bytes(b"\0\0")
    report = run_json(capsys, argv)
    assert (report["files_total"], report["files_indexed"], report["files_unchanged"]) == (3, 1, 2)
    assert report["files_deleted"] == 1
    assert report["files_skipped"] == {"binary": 1}


def test_index_exclude_option(repo, tmp_path, capsys):
    argv = ["index", str(repo), "--json", "--index-dir", str(tmp_path / "idx"), "--exclude", "main.py", "--exclude", "base.py"]
    report = run_json(capsys, argv)
    assert report["files_total"] == 2


def test_index_text_output(repo, tmp_path, capsys):
    assert main(["index", str(repo), "--index-dir", str(tmp_path / "idx")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{repo.resolve()}: 4 files (4 parsed, 0 unchanged, 0 removed), 7 symbols")
    assert "skipped: none" in out and "index: " in out


def test_index_cli_is_pure_json_on_stdout_in_a_subprocess(repo, tmp_path):
    (repo / "blob.py").write_bytes(b"\0")
    index_dir = tmp_path / "idx"
    index_dir.mkdir()
    index_path_for(repo.resolve(), index_dir.resolve()).write_bytes(b"garbage")  # makes it log a warning
    command = [sys.executable, "-m", "bowerbird", "-vv", "index", str(repo), "--json", "--index-dir", str(index_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole of stdout is one document
    assert done.stdout.strip().count("\n") == 0
    assert set(report) == INDEX_KEYS
    assert (report["files_total"], report["files_indexed"], report["files_skipped"]) == (4, 4, {"binary": 1})
    assert "WARNING bowerbird.analysis.store" in done.stderr and "rebuilding" in done.stderr
    # a usage error: nothing on stdout, a message and exit code 2
    command[5] = str(repo / "main.py")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"bowerbird index: {repo / 'main.py'}: not a directory\n"


# -- holes -------------------------------------------------------------------------------------


def holes_of(capsys, repo: Path, out: Path, *extra: str) -> list[dict]:
    assert main(["holes", str(repo), "--out", str(out), *extra]) == 0
    capsys.readouterr()
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_holes_are_deterministic_and_well_formed(repo, tmp_path, capsys):
    args = ("--seed", "1", "--per-file", "2")
    first = holes_of(capsys, repo, tmp_path / "a.jsonl", *args)
    second = holes_of(capsys, repo, tmp_path / "b.jsonl", *args)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert first == second
    per_file: dict[str, int] = {}
    for hole in first:
        assert set(hole) == {"path", "line", "col", "target"}
        per_file[hole["path"]] = per_file.get(hole["path"], 0) + 1
        line = (repo / hole["path"]).read_text().split("\n")[hole["line"]]
        stripped = line.strip()
        assert stripped and not stripped.startswith("#")
        indent = len(line) - len(line.lstrip())
        assert hole["col"] == indent + len(stripped) // 2  # the middle split
        assert hole["target"] == line.rstrip()[hole["col"]:]
    # pkg/__init__.py has no lines; main.py has two candidate lines; every other file two samples
    assert per_file == {"main.py": 2, "pkg/base.py": 2, "pkg/square.py": 2}
    # holes within a file come in line order
    for path in per_file:
        lines = [h["line"] for h in first if h["path"] == path]
        assert lines == sorted(lines)


def test_holes_without_sampling_cover_every_candidate_line(repo, tmp_path, capsys):
    holes = holes_of(capsys, repo, tmp_path / "all.jsonl")
    square = [h["line"] for h in holes if h["path"] == "pkg/square.py"]
    assert square == [1, 4, 5, 6, 8, 10]  # blank lines and comments left out


def test_holes_seed_changes_the_sample(repo, tmp_path, capsys):
    samples = {
        seed: [(h["path"], h["line"]) for h in holes_of(capsys, repo, tmp_path / f"{seed}.jsonl", "--seed", str(seed), "--per-file", "2")]
        for seed in range(6)
    }
    assert len(set(map(tuple, samples.values()))) > 1


def test_random_split_is_deterministic_per_seed_and_differs_from_middle(repo, tmp_path, capsys):
    middle = holes_of(capsys, repo, tmp_path / "m.jsonl", "--seed", "3")
    random_a = holes_of(capsys, repo, tmp_path / "r1.jsonl", "--seed", "3", "--split", "random")
    random_b = holes_of(capsys, repo, tmp_path / "r2.jsonl", "--seed", "3", "--split", "random")
    other_seed = holes_of(capsys, repo, tmp_path / "r3.jsonl", "--seed", "4", "--split", "random")
    assert random_a == random_b
    assert [(h["path"], h["line"]) for h in random_a] == [(h["path"], h["line"]) for h in middle]
    assert [h["col"] for h in random_a] != [h["col"] for h in middle]
    assert [h["col"] for h in random_a] != [h["col"] for h in other_seed]
    for hole in random_a:
        line = (repo / hole["path"]).read_text().split("\n")[hole["line"]].rstrip()
        indent = len(line) - len(line.lstrip())
        assert indent <= hole["col"] < len(line)
        assert hole["target"] == line[hole["col"]:] and hole["target"]


def test_holes_json_summary(repo, tmp_path, capsys):
    out = tmp_path / "h.jsonl"
    summary = run_json(capsys, ["holes", str(repo), "--out", str(out), "--json", "--per-file", "1"])
    assert summary == {"root": str(repo.resolve()), "holes": 3, "files": 3, "out": str(out)}
    assert len(out.read_text().splitlines()) == 3


def test_holes_to_stdout(repo, capsys):
    assert main(["holes", str(repo), "--per-file", "1", "--seed", "2"]) == 0
    captured = capsys.readouterr()
    holes = [json.loads(line) for line in captured.out.splitlines()]
    assert len(holes) == 3 and "3 holes from 3 files" in captured.err


@pytest.mark.parametrize("argv,message", [
    (["--per-file", "0"], "--per-file must be positive"),
    (["--json"], "give the holes a file with --out"),
])
def test_holes_usage_errors(repo, capsys, argv, message):
    assert main(["holes", str(repo), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


# -- proposals ---------------------------------------------------------------------------------


def test_proposals_json(repo, tmp_path, capsys):
    file = repo / "pkg" / "square.py"
    line, col = 10, 15  # "        return self.side * self.side" cut after "return "
    document = run_json(capsys, [
        "proposals", str(file), "--line", str(line), "--col", str(col), "--json", "--index-dir", str(tmp_path / "idx"),
    ])
    assert set(document) == {"hole", "proposals"}
    assert document["hole"] == {
        "root": str(repo.resolve()), "path": "pkg/square.py", "line": 10, "col": 15,
        "line_prefix": "        return ", "target": "self.side * self.side",
    }
    proposals = document["proposals"]
    ids = [p["id"] for p in proposals]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert 62 in ids
    kinds = {kind.id: kind for kind in CATALOG}
    for proposal in proposals:
        assert set(proposal) == {"id", "source", "context_type", "text", "tokens"}
        kind = kinds[proposal["id"]]
        assert (proposal["source"], proposal["context_type"]) == (kind.source, kind.context_type)
        assert isinstance(proposal["text"], str) and isinstance(proposal["tokens"], int)
        assert (proposal["tokens"] > 0) == bool(proposal["text"])
        assert "self.side * self.side" not in proposal["text"] or proposal["source"] != "current"
    in_file = next(p for p in proposals if p["id"] == 62)
    assert (in_file["source"], in_file["text"], in_file["tokens"]) == ("in_file", "", 0)
    parent = [p for p in proposals if p["source"] == "parent_class"]
    assert parent and all("pkg/base.py" in p["text"] for p in parent)


def test_proposals_brings_the_index_up_to_date(repo, tmp_path, capsys):
    index_dir = str(tmp_path / "idx")
    run_json(capsys, ["index", str(repo), "--json", "--index-dir", index_dir])
    (repo / "pkg" / "base.py").write_text("class Base:\n    def perimeter(self):\n        return 0\n")
    document = run_json(capsys, [
        "proposals", str(repo / "pkg" / "square.py"), "--line", "10", "--col", "15", "--json", "--index-dir", index_dir,
    ])
    names = next(p for p in document["proposals"] if p["source"] == "parent_class" and p["context_type"] == "method_names")
    assert "perimeter" in names["text"] and "area" not in names["text"]


def test_proposals_text_output(repo, tmp_path, capsys):
    file = repo / "pkg" / "square.py"
    assert main(["proposals", str(file), "--line", "10", "--col", "15", "--index-dir", str(tmp_path / "idx")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{repo.resolve()}/pkg/square.py:10:15  target: 'self.side * self.side'"
    assert out[-1].split()[:3] == ["62", "in_file", "default"]


def test_proposals_prompt_tokens_must_be_positive(repo, tmp_path, capsys):
    argv = ["proposals", str(repo / "main.py"), "--line", "0", "--col", "0", "--prompt-tokens", "0",
            "--index-dir", str(tmp_path / "idx")]
    assert main(argv) == 2
    assert "--prompt-tokens must be positive" in capsys.readouterr().err


def test_missing_command_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err
