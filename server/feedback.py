"""The feedback store: completions shown to a developer and what they did with them.

SQLite (WAL) in the user data dir, local only. The reward issue learns per-developer
rankings from it; `forget(developer)` removes a developer entirely.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

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
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM shown WHERE developer = ?", (developer,))]
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM choices WHERE shown_id = ?", [(i,) for i in ids])
            self._db.execute("DELETE FROM shown WHERE developer = ?", (developer,))
            self._db.execute("DELETE FROM developers WHERE id = ?", (developer,))
            self._db.execute("COMMIT")
        return len(ids)

    def close(self) -> None:
        self._db.close()
