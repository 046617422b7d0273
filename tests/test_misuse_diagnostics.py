"""The pure parts of the server's misuse diagnostics: findings as LSP diagnostics (columns in the
client's units, with non-ASCII text before the name), the suppression comment, the quick fix;
`detect.FunctionCache` re-analysing only the functions whose text changed; the checker's
thread (one torch thread there only) and its yielding to completions."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec
from tiny_misuse_model import BUGGY, CLEAN, train_tiny_misuse_model

from bowerbird.learners.misuse.checkpoint import load_model
from bowerbird.learners.misuse.detect import Finding, FunctionCache, detect_source
from bowerbird.server.checker import Checker, InFlight, Stale
from bowerbird.server.diagnostics import (
    client_column,
    fix_of,
    lines_of,
    message,
    quick_fix,
    suppressed,
    text_at,
    to_diagnostics,
)
from bowerbird.server.options import DiagnosticsOptions

UTF8, UTF16, UTF32 = (types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16,
                      types.PositionEncodingKind.Utf32)  # fmt: skip


def finding(line: int, col: int, name: str = "total", suggestion: str = "count", probability: float = 0.97) -> Finding:
    return Finding("f.py", "f", line, col, line, col + len(name), name, suggestion, probability)


# --- columns ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", [UTF8, UTF16, UTF32])
def test_client_columns_agree_with_pygls_for_non_ascii_text_before_the_name(encoding):
    line = 'x = "é😀\u4e2d\t" + total'
    codec = PositionCodec(encoding)
    for column in range(len(line) + 1):
        expected = codec.position_to_client_units([line + "\n"], types.Position(line=0, character=column)).character
        assert client_column(line, column, encoding) == expected, column


def test_utf16_counts_a_character_outside_the_bmp_twice_and_utf8_counts_bytes():
    line = 'return "é😀" and total'
    column = line.index("total")  # 16 code points; the emoji is 2 UTF-16 units, é 2 bytes and the emoji 4
    assert (client_column(line, column, UTF16), client_column(line, column, UTF8), client_column(line, column, UTF32)) == (17, 20, 16)
    assert client_column(line, column) == 17  # UTF-16 unless the client asked for another


def test_a_finding_becomes_a_warning_at_the_names_range_in_client_units():
    text = 'def f(a, total, count):\n    return "é😀" and total / total\n'
    col = text.split("\n")[1].rindex("total") + 1  # detect's 1-based code-point column
    [diagnostic] = to_diagnostics([finding(2, col)], text, 0.5)
    assert diagnostic.range == types.Range(start=types.Position(line=1, character=col), end=types.Position(line=1, character=col + 5))
    assert diagnostic.message == "`total` may be the wrong variable here — did you mean `count`? (p=0.97)"
    assert (diagnostic.source, diagnostic.code, diagnostic.severity) == ("bowerbird", "BB001", types.DiagnosticSeverity.Warning)
    assert diagnostic.data == {"name": "total", "suggestion": "count", "probability": 0.97, "function": "f"}
    [in_bytes] = to_diagnostics([finding(2, col)], text, 0.5, UTF8)
    assert (in_bytes.range.start.character, in_bytes.range.end.character) == (col - 1 + 4, col - 1 + 4 + 5)
    assert text_at(lines_of(text), in_bytes.range, UTF8) == "total" == text_at(lines_of(text), diagnostic.range)


def test_line_endings_a_byte_order_mark_and_the_threshold():
    text = "\ufeffx = total\r\ny = 1\rz = total\n"
    found = [finding(1, 5, probability=0.6), finding(3, 5, probability=0.4)]
    [first] = to_diagnostics(found, text, 0.5)  # the second is under the threshold
    assert (first.range.start.line, first.range.start.character) == (0, 5)  # after the mark, which counts one unit
    assert [d.range.start.line for d in to_diagnostics(found, text, 0.4)] == [0, 2]  # "\r" ends a line too
    assert message("a", "b", 0.998) == "`a` may be the wrong variable here — did you mean `b`? (p=0.99)"  # cut, not rounded


# --- the suppression comment -------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "return total / total  # bowerbird: ignore",
    "return total / total  #bowerbird:ignore",
    "return total / total  #  BowerBird  :  IGNORE",
    "return total / total  # noqa  # bowerbird: ignore[BB001] because",
    "# bowerbird: ignore",
])  # fmt: skip
def test_the_suppression_comment_matches(line):
    assert suppressed(line)


@pytest.mark.parametrize("line", [
    "return total / total",
    "return total / total  # bowerbird ignore",
    "return total / total  # bowerbird: ignored",
    "return total / total  # bowerbirds: ignore",
    "return total / total  # mypy: ignore",
])  # fmt: skip
def test_other_comments_do_not_suppress(line):
    assert not suppressed(line)


def test_a_suppressed_line_gets_no_diagnostic_and_other_lines_keep_theirs():
    text = "a = total  # Bowerbird: Ignore\nb = total\n"
    assert [d.range.start.line for d in to_diagnostics([finding(1, 5), finding(2, 5)], text, 0.5)] == [1]


# --- the quick fix -----------------------------------------------------------------------------


def test_the_quick_fix_replaces_the_name_with_the_suggestion():
    text = 'def f(a, total, count):\n    return "é😀" and total / total\n'
    col = text.split("\n")[1].rindex("total") + 1
    [diagnostic] = to_diagnostics([finding(2, col)], text, 0.5)
    versioned = quick_fix("file:///f.py", 7, diagnostic, document_changes=True)
    assert (versioned.title, versioned.kind, versioned.is_preferred) == ("Replace `total` with `count`", types.CodeActionKind.QuickFix, True)
    [document_edit] = versioned.edit.document_changes
    assert document_edit.text_document == types.OptionalVersionedTextDocumentIdentifier(uri="file:///f.py", version=7)
    assert document_edit.edits == [types.TextEdit(range=diagnostic.range, new_text="count")]
    plain = quick_fix("file:///f.py", 7, diagnostic, document_changes=False)
    assert plain.edit.changes == {"file:///f.py": [types.TextEdit(range=diagnostic.range, new_text="count")]}
    # someone else's diagnostic, or ours without its data: nothing to offer
    other = types.Diagnostic(range=diagnostic.range, message="x", source="pyright", code="BB001", data=diagnostic.data)
    assert fix_of(other) is None and quick_fix("file:///f.py", 7, other, True) is None
    assert fix_of(types.Diagnostic(range=diagnostic.range, message="x", source="bowerbird", code="BB001")) is None


def test_text_at_refuses_ranges_that_are_not_one_line_or_split_a_character():
    lines = lines_of("a😀b\nc\n")
    one = types.Range(start=types.Position(line=0, character=1), end=types.Position(line=0, character=3))
    assert text_at(lines, one) == "😀"
    assert text_at(lines, types.Range(start=types.Position(line=0, character=2), end=types.Position(line=0, character=3))) is None
    assert text_at(lines, types.Range(start=types.Position(line=0, character=0), end=types.Position(line=1, character=1))) is None
    assert text_at(lines, types.Range(start=types.Position(line=9, character=0), end=types.Position(line=9, character=0))) is None


# --- the per-function cache ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def misuse(tmp_path_factory):
    model, vocabulary, _ = load_model(train_tiny_misuse_model(tmp_path_factory.mktemp("misuse-model")))
    return model, vocabulary


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


def summary(result) -> list[tuple]:
    return [(f.function, f.line, f.col, f.name, f.suggestion, round(f.probability, 6)) for f in result.findings]


def test_the_cache_reanalyses_only_the_functions_whose_text_changed(misuse):
    model, vocabulary = misuse
    cache = FunctionCache()
    first = detect_source(model, vocabulary, BUGGY, cache=cache)
    assert (cache.misses, cache.hits) == (first.functions, 0) == (5, 0)
    again = detect_source(model, vocabulary, BUGGY, cache=cache)
    assert (cache.misses, cache.hits) == (5, 5) and summary(again) == summary(first)
    # an edit inside one function: that function alone is analysed again
    edited = BUGGY.replace("        out.append(value * factor)", "        out.append(factor * value)")
    result = detect_source(model, vocabulary, edited, cache=cache)
    assert (cache.misses, cache.hits) == (6, 9)
    assert summary(result) == summary(detect_source(model, vocabulary, edited))  # as a cold run
    # lines added above and the bug's function moved into another class, indented deeper:
    # the same function text, so the cache answers, at the function's new place in the file
    moved = '"""Moved."""\n\n\nclass Outer:\n' + "".join(f"    {line}\n" if line else "\n" for line in BUGGY.split("\n")[3:14])
    result = detect_source(model, vocabulary, moved, cache=cache)
    assert cache.hits == 11 and cache.misses == 6  # Running.__init__ and Running.mean
    [found] = result.above(0.5)
    assert (found.function, found.line, found.name, found.suggestion) == ("Outer.Running.mean", 15, "total", "count")
    assert moved.split("\n")[found.line - 1][found.col - 1 : found.end_col - 1] == "total"
    assert summary(result) == summary(detect_source(model, vocabulary, moved))


def test_the_cache_forgets_another_models_results_and_keeps_a_bounded_size(misuse):
    model, vocabulary = misuse
    cache = FunctionCache(capacity=3)
    detect_source(model, vocabulary, CLEAN, cache=cache)
    assert len(cache) == 3  # 5 functions, the 3 most recent kept
    other = type(model)(model.config)
    detect_source(other, vocabulary, "def f(a, b):\n    c = a\n    return c + b\n", cache=cache)
    assert len(cache) == 1  # the first model's entries went


def test_a_call_stopped_between_functions_caches_nothing_half_done(misuse):
    model, vocabulary = misuse
    cache = FunctionCache()
    calls = []

    def between():
        calls.append(1)
        if len(calls) == 3:
            raise Stale("f.py")

    with pytest.raises(Stale):
        detect_source(model, vocabulary, BUGGY, cache=cache, between=between)
    assert cache.misses == 1  # Running.__init__ (no variable read: done without the model); nothing else
    result = detect_source(model, vocabulary, BUGGY, cache=cache)
    assert summary(result) == summary(detect_source(model, vocabulary, BUGGY))


# --- the checker's thread ----------------------------------------------------------------------


def test_the_checker_runs_torch_on_one_thread_in_its_own_thread_only(tmp_path):
    torch.set_num_threads(2)  # the process default here (one_torch_thread restores it)
    checker = Checker()
    try:
        error = checker.executor.submit(checker.load, DiagnosticsOptions(model=str(tmp_path / "none"))).result()
        assert "not a misuse model" in error and checker.model is None
        assert checker.executor.submit(torch.get_num_threads).result() == 1
        assert not checker.shipped
        other: list[int] = []
        thread = threading.Thread(target=lambda: other.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        assert other == [2] and torch.get_num_threads() == 2  # a fresh thread, and this one
    finally:
        checker.close()


def test_analyses_wait_while_a_completion_is_in_flight():
    busy = InFlight()
    waited: list[float] = []

    def analysis():
        started = time.perf_counter()
        busy.wait_idle(timeout=5)
        waited.append(time.perf_counter() - started)

    with busy:
        thread = threading.Thread(target=analysis)
        thread.start()
        time.sleep(0.2)
        assert busy.count == 1 and not waited
    thread.join(5)
    assert waited and waited[0] >= 0.15 and busy.count == 0
    assert busy.wait_idle(timeout=0)  # nothing in flight: no wait
    with busy:
        assert not busy.wait_idle(timeout=0.05)  # bounded: diagnostics are never starved


def test_the_checker_analyses_with_its_cache_and_reports_its_state(misuse, tmp_path):
    from bowerbird.learners.misuse.checkpoint import save_model

    model, vocabulary = misuse
    folder = save_model(model, vocabulary, tmp_path / "model", extra={"threshold": {"threshold": 0.8}})
    checker = Checker()
    try:
        options = DiagnosticsOptions(model=str(folder))
        assert checker.executor.submit(checker.load, options).result() is None
        assert checker.threshold(options) == 0.8 and checker.threshold(DiagnosticsOptions(model=str(folder), threshold=0.3)) == 0.3
        result = checker.executor.submit(checker.analyse, BUGGY, "stats.py").result()
        assert [f.function for f in result.above(0.5)] == ["Running.mean"]
        status = checker.status(options)
        assert status["loaded"] and status["model"] == str(folder) and status["error"] is None
        assert status["cache"]["misses"] == 5 and status["analyses"] == 1 and status["timings_ms"]["p50"] > 0
        assert checker.needs_load(options)  # nothing asked for through `request` yet
        checker.request(options)
        assert not checker.needs_load(options) and checker.needs_load(DiagnosticsOptions(model=str(tmp_path)))
    finally:
        checker.close()


def test_a_missing_shipped_model_turns_the_diagnostics_off_with_a_clear_error(tmp_path, monkeypatch):
    from bowerbird.server import checker as checker_module

    monkeypatch.setattr(checker_module, "default_model_folder", lambda: tmp_path / "checkpoints" / "misuse")
    checker = Checker()
    try:
        error = checker.executor.submit(checker.load, DiagnosticsOptions()).result()
        assert "the shipped misuse model is missing" in error and "diagnostics are off" in error
        assert checker.shipped and checker.model is None
    finally:
        checker.close()
