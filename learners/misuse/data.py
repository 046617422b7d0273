"""Variable-misuse examples: the format shared by the data maker and the model (no torch).

One `MisuseExample` is one function of the corpus, on its own: ``source`` is the function's
code (decorators kept, its indentation removed, so that it parses alone as a module) — the
buggy version when ``bug`` is set. Files of examples are gzip JSON Lines (``.jsonl.gz``), one
example per line, in the field order of `MisuseExample`.

Positions (``Bug.line`` / ``Bug.col`` and each ``repair_targets`` pair) are in ``source``
coordinates with the convention of libcst's ``PositionProvider``, which is also that of the
program graphs' nodes: ``line`` is 1-based, ``col`` is 0-based and counts characters (not
bytes; a tab is one character), at the first character of the ``Name``. So the ``Name`` node of
``build_graphs(source)[1]`` (the function's graph; the same as ``graph_for_function(source,
name)`` with the function's own name) with ``line == bug.line`` and ``col == bug.col`` is the
bug site, with ``text == bug.wrong``; each repair target is a ``Name`` node with ``text ==
bug.correct`` and a variable access (``access`` not ``Access.NONE``).
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bug:
    """The one variable misuse of a buggy example."""

    line: int  # 1-based line of the misused Name in the example's source
    col: int  # 0-based column (characters) of the Name's first character
    wrong: str  # the name written there now
    correct: str  # the name that was there in the original code


@dataclass(frozen=True)
class MisuseExample:
    """One function, clean or with one synthesized variable misuse."""

    id: str  # "relative/path.py:Qualname" ("#2", "#3", ... added to a repeated qualname)
    package: str  # top-level package (or module) of the file: the unit of the train/test split
    path: str  # the file's path relative to its root (stdlib folder or --repo), "/"-separated
    function: str  # the function's qualname in its file ("C.m", "f.<locals>.g")
    source: str  # the function's code alone, dedented (the buggy code when `bug` is set)
    bug: Bug | None  # the misuse, or None for a clean function
    # (line, col) of every Name in `source` that reads or writes the correct variable (params and
    # assignment targets included, the bug site excluded); empty for a clean function
    repair_targets: tuple[tuple[int, int], ...]
    # sorted names of the choice set at the bug site (the correct variable and every allowed
    # replacement there); for a clean function, the function's local variables
    candidates: tuple[str, ...]
    tokens: int  # Python tokenize tokens of `source` (see `synthesis.count_tokens`)
    nodes: int  # AST nodes (SYNTAX + TOKEN) of the function's program graph

    @property
    def is_buggy(self) -> bool:
        return self.bug is not None


def to_json(example: MisuseExample) -> dict:
    """The example as a JSON object (the line format of the `.jsonl.gz` files)."""
    bug = example.bug
    return {
        "id": example.id,
        "package": example.package,
        "path": example.path,
        "function": example.function,
        "source": example.source,
        "bug": None if bug is None else {"line": bug.line, "col": bug.col, "wrong": bug.wrong,
                                         "correct": bug.correct},  # fmt: skip
        "repair_targets": [[line, col] for line, col in example.repair_targets],
        "candidates": list(example.candidates),
        "tokens": example.tokens,
        "nodes": example.nodes,
    }


def _int(value: object, what: str) -> int:
    if type(value) is not int:
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {value!r}")
    return value


def from_json(document: object) -> MisuseExample:
    """An example from `to_json`'s object; `ValueError` naming the field when it is malformed."""
    if not isinstance(document, dict):
        raise ValueError(f"an example must be a JSON object, got {type(document).__name__}")
    try:
        raw_bug = document["bug"]
        bug = None
        if raw_bug is not None:
            if not isinstance(raw_bug, dict):
                raise ValueError(f"bug must be an object or null, got {raw_bug!r}")
            bug = Bug(_int(raw_bug["line"], "bug.line"), _int(raw_bug["col"], "bug.col"),
                      _str(raw_bug["wrong"], "bug.wrong"), _str(raw_bug["correct"], "bug.correct"))  # fmt: skip
        targets = []
        for pair in document["repair_targets"]:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"a repair target must be [line, col], got {pair!r}")
            targets.append((_int(pair[0], "repair target line"), _int(pair[1], "repair target col")))
        candidates = document["candidates"]
        if not isinstance(candidates, list):
            raise ValueError(f"candidates must be a list, got {candidates!r}")
        return MisuseExample(
            id=_str(document["id"], "id"),
            package=_str(document["package"], "package"),
            path=_str(document["path"], "path"),
            function=_str(document["function"], "function"),
            source=_str(document["source"], "source"),
            bug=bug,
            repair_targets=tuple(targets),
            candidates=tuple(_str(c, "a candidate") for c in candidates),
            tokens=_int(document["tokens"], "tokens"),
            nodes=_int(document["nodes"], "nodes"),
        )
    except KeyError as error:
        raise ValueError(f"missing field {error.args[0]!r}") from None
    except TypeError as error:  # e.g. a number where a list belongs
        raise ValueError(f"malformed example ({error})") from None


def encode_line(example: MisuseExample) -> bytes:
    """One JSON Lines line (UTF-8, compact, newline-terminated)."""
    text = json.dumps(to_json(example), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def write_examples(path: str | Path, examples: Iterable[MisuseExample]) -> int:
    """Write ``examples`` to a gzip JSON Lines file atomically (``.NAME.partial`` in the same
    folder, renamed over ``path``); returns how many were written. The bytes depend only on the
    examples (no time stamp or file name in the gzip header)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        with open(temporary, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
            for example in examples:
                out.write(encode_line(example))
                count += 1
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count


def iter_examples(path: str | Path) -> Iterator[MisuseExample]:
    """The examples of a `write_examples` file, in order. A truncated or corrupt file raises
    `ValueError` naming the file and the line (1-based) that could not be read."""
    path = Path(path)
    with gzip.open(path, "rb") as stream:
        line_number = 0
        while True:
            line_number += 1
            try:
                line = stream.readline()
            except (EOFError, OSError, zlib.error) as error:  # truncated, not gzip, bad data
                raise ValueError(f"{path}: line {line_number}: corrupt or truncated gzip data ({error})") from None
            if not line:
                return
            if not line.endswith(b"\n"):
                raise ValueError(f"{path}: line {line_number}: truncated (no end of line)")
            try:
                example = from_json(json.loads(line.decode("utf-8")))
            except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                raise ValueError(f"{path}: line {line_number}: not a misuse example ({error})") from None
            yield example


def read_examples(path: str | Path) -> list[MisuseExample]:
    """All examples of a `write_examples` file (see `iter_examples` for the errors)."""
    return list(iter_examples(path))
