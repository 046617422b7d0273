"""The feedback store: completions shown to a developer, what they did with them, and the
ranking weights fitted to each developer's choices.

SQLite (WAL) in the data dir (`STORE_NAME` in `bowerbird.paths.default_data_dir()` unless the
`dataDir` option or `--data-dir` says otherwise), local only: nothing in it leaves the machine.
The reward issue learns per-developer rankings from `choice_events()` and keeps them with
`save_weights` / `load_weights`; `export(developer)` is everything held about a developer, and
`forget(developer)` removes a developer entirely (`bowerbird feedback show|export|forget`).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

STORE_NAME = "feedback.sqlite"  # the store's file in the data dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS developers (id TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS shown (
    id TEXT PRIMARY KEY,            -- the completion id the client echoes back
    developer TEXT NOT NULL,
    time REAL NOT NULL,
    path TEXT NOT NULL,             -- document path relative to its repository root
    root TEXT NOT NULL,
    line INTEGER NOT NULL, col INTEGER NOT NULL,
    prefix TEXT NOT NULL,           -- up to 2,000 characters before the cursor
    suffix TEXT NOT NULL,           -- up to 500 characters after the cursor
    proposal INTEGER NOT NULL,      -- RLPG proposal id used for the prompt
    model TEXT NOT NULL,
    candidates TEXT NOT NULL        -- JSON [{"text", "score"}], in the order shown
);
CREATE TABLE IF NOT EXISTS choices (
    shown_id TEXT NOT NULL,
    candidate INTEGER,              -- index into shown.candidates (NULL: all dismissed)
    kind TEXT NOT NULL,             -- accepted | rejected
    time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS weights (
    developer TEXT NOT NULL,
    model TEXT NOT NULL,            -- the ranking model the vector belongs to
    vector TEXT NOT NULL,           -- JSON list of floats
    events INTEGER NOT NULL,        -- choice events it was fitted on
    updated REAL NOT NULL,
    PRIMARY KEY (developer, model)
);
CREATE INDEX IF NOT EXISTS shown_developer ON shown(developer);
CREATE INDEX IF NOT EXISTS choices_shown ON choices(shown_id);
"""


@dataclass(frozen=True)
class Shown:
    developer: str
    root: str
    path: str
    line: int
    col: int
    prefix: str
    suffix: str
    proposal: int
    model: str
    candidates: list[dict]


@dataclass(frozen=True)
class ChoiceEvent:
    """One recorded choice with the completion it was made on."""

    developer: str
    shown_id: str
    prefix: str
    suffix: str
    candidates: list[dict]  # [{"text", "score"}], in the order shown
    candidate: int | None  # index into candidates (None: all dismissed)
    kind: str  # accepted | rejected
    time: float  # when the choice was made


SHOWN_COLUMNS = ("id", "developer", "time", "path", "root", "line", "col", "prefix", "suffix", "proposal", "model",
                 "candidates")


def _placeholders(values: Sequence) -> str:
    return ",".join("?" * len(values))


class FeedbackStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def record_shown(self, shown: Shown) -> str:
        completion_id = uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO developers VALUES (?, ?)", (shown.developer, now))
            self._db.execute(
                "INSERT INTO shown VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (completion_id, shown.developer, now, shown.path, shown.root, shown.line, shown.col,
                 shown.prefix[-2000:], shown.suffix[:500], shown.proposal, shown.model, json.dumps(shown.candidates)),
            )
        return completion_id

    def record_choice(self, completion_id: str, candidate: int | None, kind: str) -> bool:
        """Record an accept or reject; False when the completion id is unknown."""
        if kind not in ("accepted", "rejected"):
            raise ValueError(kind)
        with self._lock:
            known = self._db.execute("SELECT 1 FROM shown WHERE id = ?", (completion_id,)).fetchone()
            if known:
                self._db.execute("INSERT INTO choices VALUES (?, ?, ?, ?)", (completion_id, candidate, kind, time.time()))
        return bool(known)

    def events(self, developer: str) -> list[dict]:
        """A developer's shown completions with their choices, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT s.id, s.path, s.line, s.col, s.candidates, c.candidate, c.kind FROM shown s "
                "LEFT JOIN choices c ON c.shown_id = s.id WHERE s.developer = ? ORDER BY s.time, c.time",
                (developer,),
            ).fetchall()
        return [
            {"id": r[0], "path": r[1], "line": r[2], "col": r[3], "candidates": json.loads(r[4]),
             "candidate": r[5], "kind": r[6]}
            for r in rows
        ]

    def forget(self, developer: str) -> int:
        """Remove everything about a developer; the number of shown completions removed."""
        return self.forget_counts(developer)["shown"]

    def forget_counts(self, developer: str) -> dict[str, int]:
        """Remove everything about a developer (shown completions, their choices, weights and
        the developer's row) in one transaction; how many rows of each went:
        ``{"shown", "choices", "weights"}``."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                choices = self._db.execute(
                    "DELETE FROM choices WHERE shown_id IN (SELECT id FROM shown WHERE developer = ?)", (developer,)
                ).rowcount
                shown = self._db.execute("DELETE FROM shown WHERE developer = ?", (developer,)).rowcount
                weights = self._db.execute("DELETE FROM weights WHERE developer = ?", (developer,)).rowcount
                self._db.execute("DELETE FROM developers WHERE id = ?", (developer,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return {"shown": shown, "choices": choices, "weights": weights}

    def save_weights(self, developer: str, model: str, vector: Sequence[float], events: int) -> None:
        """Store (or replace) the developer's weights for a ranking model, fitted on `events`
        choice events; the developer is added to `developers` when new."""
        values = [float(x) for x in vector]
        if not all(math.isfinite(x) for x in values):
            raise ValueError("weights must be finite")
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute("INSERT OR IGNORE INTO developers VALUES (?, ?)", (developer, now))
                self._db.execute("INSERT OR REPLACE INTO weights VALUES (?, ?, ?, ?, ?)",
                                 (developer, model, json.dumps(values), int(events), now))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def saved_weights(self, developer: str, model: str) -> tuple[list[float], int] | None:
        """The developer's weights for a ranking model and the number of choice events they
        were fitted on; None when there are none."""
        with self._lock:
            row = self._db.execute("SELECT vector, events FROM weights WHERE developer = ? AND model = ?",
                                   (developer, model)).fetchone()
        return None if row is None else ([float(x) for x in json.loads(row[0])], int(row[1]))

    def load_weights(self, developer: str, model: str) -> list[float] | None:
        """The developer's weights for a ranking model; None when there are none."""
        saved = self.saved_weights(developer, model)
        return None if saved is None else saved[0]

    def weights_events(self, developer: str, model: str) -> int:
        """How many choice events the developer's weights for a ranking model were fitted on (0: none)."""
        saved = self.saved_weights(developer, model)
        return 0 if saved is None else saved[1]

    def developers(self) -> list[dict]:
        """Every developer the store knows, by id: ``{"developer", "shown", "accepted",
        "rejected", "weights"}`` (counts of shown completions and of choices; the models with
        weights, sorted)."""
        with self._lock:
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM developers UNION SELECT developer FROM weights UNION SELECT developer FROM shown "
                "ORDER BY 1")]
            shown = dict(self._db.execute("SELECT developer, COUNT(*) FROM shown GROUP BY developer").fetchall())
            choices: dict[tuple[str, str], int] = {
                (r[0], r[1]): r[2] for r in self._db.execute(
                    "SELECT s.developer, c.kind, COUNT(*) FROM choices c JOIN shown s ON s.id = c.shown_id "
                    "GROUP BY s.developer, c.kind")}
            models: dict[str, list[str]] = {}
            for developer, model in self._db.execute("SELECT developer, model FROM weights ORDER BY developer, model"):
                models.setdefault(developer, []).append(model)
        return [
            {"developer": d, "shown": shown.get(d, 0), "accepted": choices.get((d, "accepted"), 0),
             "rejected": choices.get((d, "rejected"), 0), "weights": models.get(d, [])}
            for d in ids
        ]

    def choice_events(self, developers: Sequence[str] | None = None, exclude: Sequence[str] = ()) -> list[ChoiceEvent]:
        """Every recorded choice with its completion, oldest choice first: of `developers`
        (None: all of them; an empty sequence: none), less those in `exclude`."""
        where, params = [], []
        if developers is not None:
            where.append(f"s.developer IN ({_placeholders(developers)})")
            params.extend(developers)
        if exclude:
            where.append(f"s.developer NOT IN ({_placeholders(exclude)})")
            params.extend(exclude)
        with self._lock:
            rows = self._db.execute(
                "SELECT s.developer, s.id, s.prefix, s.suffix, s.candidates, c.candidate, c.kind, c.time "
                "FROM choices c JOIN shown s ON s.id = c.shown_id "
                + (f"WHERE {' AND '.join(where)} " if where else "")
                + "ORDER BY c.time, c.rowid",
                params,
            ).fetchall()
        return [ChoiceEvent(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7]) for r in rows]

    def export(self, developer: str) -> dict:
        """Everything the store holds about a developer, JSON-serialisable: ``{"developer",
        "created", "shown": [{every shown column (candidates decoded), "choices": [{"candidate",
        "kind", "time"}]}], "weights": [{"model", "vector", "events", "updated"}]}``, oldest
        first; an unknown developer has ``"created": None`` and empty lists."""
        with self._lock:
            created = self._db.execute("SELECT created FROM developers WHERE id = ?", (developer,)).fetchone()
            shown_rows = self._db.execute(
                f"SELECT {', '.join(SHOWN_COLUMNS)} FROM shown WHERE developer = ? ORDER BY time, rowid", (developer,)
            ).fetchall()
            choice_rows = self._db.execute(
                "SELECT c.shown_id, c.candidate, c.kind, c.time FROM choices c JOIN shown s ON s.id = c.shown_id "
                "WHERE s.developer = ? ORDER BY c.time, c.rowid", (developer,)
            ).fetchall()
            weight_rows = self._db.execute(
                "SELECT model, vector, events, updated FROM weights WHERE developer = ? ORDER BY model", (developer,)
            ).fetchall()
        choices: dict[str, list[dict]] = {}
        for shown_id, candidate, kind, when in choice_rows:
            choices.setdefault(shown_id, []).append({"candidate": candidate, "kind": kind, "time": when})
        shown = []
        for row in shown_rows:
            item = dict(zip(SHOWN_COLUMNS, row))
            item["candidates"] = json.loads(item["candidates"])
            item["choices"] = choices.get(item["id"], [])
            shown.append(item)
        return {
            "developer": developer,
            "created": created[0] if created else None,
            "shown": shown,
            "weights": [{"model": m, "vector": json.loads(v), "events": e, "updated": u} for m, v, e, u in weight_rows],
        }

    def close(self) -> None:
        self._db.close()
