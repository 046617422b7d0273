"""Holes: where a completion is asked for, and RLPG's hole extraction from a repository.

A hole is (file, line, column), 0-based. The prefix is everything before the cursor, the
target is the rest of that line. Everything after the line stays visible (RLPG's setting).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bowerbird.analysis.languages import LANGUAGES
from bowerbird.analysis.walk import read_source, walk

Split = Literal["middle", "random"]


class HoleError(ValueError):
    """A position that is not in the document."""


@dataclass(frozen=True)
class Hole:
    path: str  # relative to the repository root, '/'-separated
    line: int  # 0-based
    col: int  # 0-based, in characters
    prefix: str  # all text before the cursor
    target: str  # the rest of the line after the cursor
    after: str  # the lines after the hole's line
    text: str = field(default="", repr=False)  # the whole document, as the editor holds it

    @property
    def masked_text(self) -> str:
        """The document with the target removed: what may be shown to a model."""
        return f"{self.prefix}\n{self.after}" if self.after else self.prefix

    @property
    def document(self) -> str:
        """The whole document (rebuilt from its parts when the hole was made without it)."""
        return self.text or f"{self.prefix}{self.target}\n{self.after}"

    @property
    def line_prefix(self) -> str:
        return self.prefix.rpartition("\n")[2]

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "col": self.col,
                "line_prefix": self.line_prefix, "target": self.target}


def hole_at(path: str, text: str, line: int, col: int) -> Hole:
    """The hole at (line, col) of `text`; HoleError when the position is outside it."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        raise HoleError(f"line {line} is outside the file (0..{len(lines) - 1})")
    current = lines[line].rstrip("\r")
    if not 0 <= col <= len(current):
        raise HoleError(f"column {col} is outside line {line} (0..{len(current)})")
    prefix = "\n".join([*lines[:line], current[:col]])
    return Hole(path, line, col, prefix, current[col:].rstrip(), "\n".join(lines[line + 1 :]), text)


def candidate_lines(text: str, language: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every non-blank, non-comment line."""
    comments = LANGUAGES[language].line_comments
    for number, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if stripped and not stripped.startswith(comments):
            yield number, line.rstrip()


def split_column(line: str, split: Split, rng: random.Random) -> int:
    """Where to cut a line: RLPG's middle of the stripped text, or a random column within it."""
    indent = len(line) - len(line.lstrip())
    width = len(line.strip())
    if split == "middle":
        return indent + width // 2
    return indent + rng.randrange(width)


def extract_holes(
    root: Path, per_file: int | None = None, seed: int = 0, split: Split = "middle",
    exclude: tuple[str, ...] = (), progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict]:
    """Holes of every indexable file of `root`, deterministic for a seed.

    Each hole is `{"path", "line", "col", "target"}`; `per_file` samples that many lines per
    file (all when None). `progress(done, total)` is called after each file.
    """
    files = walk(root, exclude).files
    for done, source in enumerate(files, 1):
        if progress is not None:
            progress(done, len(files))
        data, _ = read_source(source.abspath)
        if data is None:
            continue
        rng = random.Random(f"{seed}:{source.path}")
        lines = list(candidate_lines(data.decode("utf-8", "replace"), source.language))
        if per_file is not None and len(lines) > per_file:
            lines = sorted(rng.sample(lines, per_file))
        for number, line in lines:
            col = split_column(line, split, rng)
            yield {"path": source.path, "line": number, "col": col, "target": line[col:]}
