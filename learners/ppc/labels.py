"""Labels for the Prompt Proposal Classifier: for each hole of the training repositories, the
applicable proposals and those whose prompt makes the model write the rest of the line exactly.

A proposal is labelled 1 when the model's greedy line from that proposal's prompt is the target
(evaluate.py's check: one teacher-forced pass for a local model, generation for a served one),
with the prompts composed as the server composes them (token healing included when the backend
heals). Labels are the model's: a team labelling with its own GPU-hosted model tunes the
classifier to that model.

Labels are appended to a JSON-lines file as each hole is done, one object per hole:

    {"repo", "path", "line", "col", "target", "window", "applicable": [ids], "solved": [ids]}

`window` is what RLPG-H encodes: the two lines before the hole's line, the line up to the
cursor, and the two lines after. A hole with nothing to score (a blank target, or one longer
than the harness scores) is recorded as {"repo", "path", "line", "col", "skipped": true} so
that it is not tried again. A run that stops, however it stops, resumes where it was: holes
already in the file are not labelled again, and a line cut short by a kill is ignored (and
written again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

WINDOW_LINES = 2  # lines before and after the hole's line in its window


def hole_window(prefix: str, after: str, lines: int = WINDOW_LINES) -> str:
    """The hole's neighbourhood: `lines` lines before the hole's line, that line up to the
    cursor, and `lines` lines after it (never the target)."""
    before = prefix.split("\n")
    following = after.split("\n")[:lines] if after else []
    return "\n".join(before[-(lines + 1):] + following)


def hole_key(repo: str, path: str, line: int, col: int) -> tuple[str, str, int, int]:
    return (repo, path, line, col)


def read_labels(path: Path) -> list[dict]:
    """Every complete record of a labels file, in order; [] when there is none. A line that is
    not a JSON object (a write cut short by a kill) is skipped with a warning."""
    if not path.is_file():
        return []
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not {"repo", "path", "line", "col"} <= record.keys():
                logger.warning("%s:%d: not a label record, ignored", path, number)
                continue
            records.append(record)
    return records


@dataclass
class LabelRun:
    labelled: int = 0  # holes labelled by this run
    cached: int = 0  # holes found in the file already
    skipped: int = 0  # holes with nothing to score (recorded too)


def label_holes(repo, backend, holes: Iterable[dict], out: Path, heal: bool = True,
                progress: Callable[[int, int], None] | None = None) -> LabelRun:
    """Label `holes` (dicts of `extract_holes`) of the indexed repository `repo` (a RepoView)
    with `backend`, appending to `out`; holes already there are kept, not redone."""
    from bowerbird.learners.lm.evaluate import sweep_hole

    holes = list(holes)
    root = str(repo.root)
    done = {hole_key(r["repo"], r["path"], r["line"], r["col"]) for r in read_labels(out)}
    _end_with_newline(out)
    heal = heal and getattr(backend, "healing", False)
    run = LabelRun()
    texts: dict[str, str] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as sink:
        for number, spec in enumerate(holes, 1):
            path, line, col = spec["path"], spec["line"], spec["col"]
            if hole_key(root, path, line, col) in done:
                run.cached += 1
            else:
                if path not in texts:
                    texts[path] = (repo.root / path).read_text(encoding="utf-8", errors="replace")
                swept = sweep_hole(repo, backend, path, texts[path], line, col, heal=heal)
                record: dict = {"repo": root, "path": path, "line": line, "col": col}
                if swept is None:
                    record["skipped"] = True
                    run.skipped += 1
                else:
                    record.update(target=swept.target, window=hole_window(swept.hole.prefix, swept.hole.after),
                                  applicable=sorted(swept.composed), solved=sorted(swept.solved_by))
                    run.labelled += 1
                sink.write(json.dumps(record) + "\n")
                sink.flush()  # each hole is kept the moment it is done
                done.add(hole_key(root, path, line, col))
            if progress:
                progress(number, len(holes))
    return run


def _end_with_newline(path: Path) -> None:
    """A file whose last line was cut short by a kill gets its newline, so the next record
    starts on a line of its own (the cut line stays unreadable and is ignored)."""
    if path.is_file() and path.stat().st_size:
        with path.open("rb+") as handle:
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
