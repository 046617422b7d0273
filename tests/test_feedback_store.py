"""The feedback store's per-developer weights, choice events, export and forget."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bowerbird.server.feedback import ChoiceEvent, FeedbackStore, Shown

TABLES = ("developers", "shown", "choices", "weights")
# the column naming the developer in each table, or how to reach it
DEVELOPER_OF = {
    "developers": "SELECT id FROM developers",
    "shown": "SELECT developer FROM shown",
    "choices": "SELECT s.developer FROM choices c JOIN shown s ON s.id = c.shown_id",
    "weights": "SELECT developer FROM weights",
}


def shown(developer: str, prefix: str = "x = ", texts: tuple[str, ...] = ("1", "2")) -> Shown:
    candidates = [{"text": text, "score": -0.5 - i} for i, text in enumerate(texts)]
    return Shown(developer, "/repo", "a.py", 3, 4, prefix, ")", 62, "tiny", candidates)


@pytest.fixture
def store(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    yield store
    store.close()


def raw_rows(path) -> dict[str, list[str]]:
    """Developer ids of every row of every table, read with a connection of its own."""
    db = sqlite3.connect(path)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == set(TABLES)
        return {table: sorted(r[0] for r in db.execute(query)) for table, query in DEVELOPER_OF.items()}
    finally:
        db.close()


# -- weights -------------------------------------------------------------------------------------


def test_weights_round_trip_upsert_and_models_kept_apart(store, tmp_path):
    assert store.load_weights("ann", "linear") is None
    store.save_weights("ann", "linear", [0.5, -1.25, 3], events=7)
    assert store.load_weights("ann", "linear") == [0.5, -1.25, 3.0]
    store.save_weights("ann", "linear", (2.0, 0.0), events=9)  # replaces the first vector
    store.save_weights("ann", "pairwise", [1.5], events=4)
    assert store.load_weights("ann", "linear") == [2.0, 0.0]
    assert store.load_weights("ann", "pairwise") == [1.5]
    assert store.load_weights("bo", "linear") is None
    assert store.load_weights("ann", "other") is None
    reopened = FeedbackStore(tmp_path / "feedback.sqlite")
    assert reopened.load_weights("ann", "linear") == [2.0, 0.0]
    reopened.close()
    db = sqlite3.connect(tmp_path / "feedback.sqlite")
    rows = db.execute("SELECT developer, model, vector, events FROM weights ORDER BY model").fetchall()
    db.close()
    assert rows == [("ann", "linear", "[2.0, 0.0]", 9), ("ann", "pairwise", "[1.5]", 4)]


def test_save_weights_adds_the_developer_and_refuses_non_finite_values(store):
    store.save_weights("cy", "linear", [1.0], events=1)
    assert store.developers() == [{"developer": "cy", "shown": 0, "accepted": 0, "rejected": 0, "weights": ["linear"]}]
    with pytest.raises(ValueError):
        store.save_weights("cy", "linear", [float("nan")], events=1)
    assert store.load_weights("cy", "linear") == [1.0]


def test_developers_counts_and_models(store):
    a1 = store.record_shown(shown("ann"))
    a2 = store.record_shown(shown("ann"))
    store.record_shown(shown("ann"))
    store.record_choice(a1, 1, "accepted")
    store.record_choice(a2, None, "rejected")
    store.record_choice(a2, 0, "accepted")
    store.record_shown(shown("bo"))
    store.save_weights("ann", "pairwise", [1.0], events=2)
    store.save_weights("ann", "linear", [1.0], events=2)
    store.save_weights("dee", "linear", [0.1, 0.2], events=0)
    assert store.developers() == [
        {"developer": "ann", "shown": 3, "accepted": 2, "rejected": 1, "weights": ["linear", "pairwise"]},
        {"developer": "bo", "shown": 1, "accepted": 0, "rejected": 0, "weights": []},
        {"developer": "dee", "shown": 0, "accepted": 0, "rejected": 0, "weights": ["linear"]},
    ]


def test_an_old_store_without_the_weights_table_gains_it(tmp_path):
    path = tmp_path / "feedback.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE developers (id TEXT PRIMARY KEY, created REAL NOT NULL);"
        "CREATE TABLE shown (id TEXT PRIMARY KEY, developer TEXT NOT NULL, time REAL NOT NULL, path TEXT NOT NULL,"
        " root TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL, prefix TEXT NOT NULL,"
        " suffix TEXT NOT NULL, proposal INTEGER NOT NULL, model TEXT NOT NULL, candidates TEXT NOT NULL);"
        "CREATE TABLE choices (shown_id TEXT NOT NULL, candidate INTEGER, kind TEXT NOT NULL, time REAL NOT NULL);"
        "INSERT INTO developers VALUES ('ann', 1.0);"
        "INSERT INTO shown VALUES"
        " ('s1', 'ann', 2.0, 'a.py', '/repo', 0, 1, 'x', '', 62, 'tiny', '[{\"text\": \"1\"}]');"
        "INSERT INTO choices VALUES ('s1', 0, 'accepted', 3.0);"
    )
    db.close()
    store = FeedbackStore(path)
    assert store.developers() == [{"developer": "ann", "shown": 1, "accepted": 1, "rejected": 0, "weights": []}]
    store.save_weights("ann", "linear", [1.0], events=1)
    assert store.load_weights("ann", "linear") == [1.0]
    assert store.forget("ann") == 1
    store.close()


# -- choice events -------------------------------------------------------------------------------


def test_choice_events_oldest_first_with_filters(store):
    a1 = store.record_shown(shown("ann", prefix="a1 = ", texts=("x", "y", "z")))
    b1 = store.record_shown(shown("bo", prefix="b1 = "))
    store.record_shown(shown("ann", prefix="never chosen"))
    c1 = store.record_shown(shown("cy", prefix="c1 = "))
    store.record_choice(a1, 2, "accepted")
    store.record_choice(b1, None, "rejected")
    store.record_choice(c1, 0, "accepted")
    store.record_choice(a1, None, "rejected")

    events = store.choice_events()
    assert [(e.developer, e.shown_id, e.candidate, e.kind) for e in events] == [
        ("ann", a1, 2, "accepted"), ("bo", b1, None, "rejected"),
        ("cy", c1, 0, "accepted"), ("ann", a1, None, "rejected"),
    ]
    first = events[0]
    assert isinstance(first, ChoiceEvent)
    assert (first.prefix, first.suffix) == ("a1 = ", ")")
    assert first.candidates[first.candidate]["text"] == "z"
    assert [e.time for e in events] == sorted(e.time for e in events)
    with pytest.raises(AttributeError):
        first.kind = "rejected"  # frozen

    assert [(e.developer, e.candidate) for e in store.choice_events(["ann"])] == [("ann", 2), ("ann", None)]
    assert [e.developer for e in store.choice_events(["bo", "cy"])] == ["bo", "cy"]
    assert [e.developer for e in store.choice_events(exclude=["ann"])] == ["bo", "cy"]
    assert [e.developer for e in store.choice_events(["ann", "cy"], exclude=["ann"])] == ["cy"]
    assert store.choice_events([]) == []
    assert store.choice_events(["nobody"]) == []


# -- forget --------------------------------------------------------------------------------------


def test_forget_removes_the_developer_from_every_table_and_keeps_the_others(store, tmp_path):
    for developer in ("ann", "bo"):
        first = store.record_shown(shown(developer))
        second = store.record_shown(shown(developer))
        store.record_choice(first, 0, "accepted")
        store.record_choice(second, None, "rejected")
        store.record_choice(second, 1, "accepted")
        store.save_weights(developer, "linear", [1.0, 2.0], events=3)
        store.save_weights(developer, "pairwise", [1.0], events=3)
    before = raw_rows(tmp_path / "feedback.sqlite")
    assert before["choices"] == ["ann"] * 3 + ["bo"] * 3

    assert store.forget_counts("ann") == {"shown": 2, "choices": 3, "weights": 2}
    after = raw_rows(tmp_path / "feedback.sqlite")
    assert after == {"developers": ["bo"], "shown": ["bo", "bo"], "choices": ["bo"] * 3, "weights": ["bo", "bo"]}
    db = sqlite3.connect(tmp_path / "feedback.sqlite")
    assert db.execute("SELECT COUNT(*) FROM choices").fetchone() == (3,)  # no orphaned choice is left
    db.close()
    assert store.load_weights("ann", "linear") is None
    assert store.load_weights("bo", "linear") == [1.0, 2.0]

    assert store.forget("bo") == 2  # the shown completions removed, as before
    assert raw_rows(tmp_path / "feedback.sqlite") == {table: [] for table in TABLES}
    assert store.forget("bo") == 0
    assert store.forget_counts("nobody") == {"shown": 0, "choices": 0, "weights": 0}


# -- export --------------------------------------------------------------------------------------


def test_export_holds_everything_about_one_developer(store):
    first = store.record_shown(shown("ann", prefix="total = ", texts=("a + b", "a")))
    second = store.record_shown(shown("ann", prefix="y = "))
    store.record_shown(shown("bo"))
    store.record_choice(first, 1, "accepted")
    store.record_choice(first, None, "rejected")
    store.save_weights("ann", "linear", [0.25, -0.5], events=2)
    store.save_weights("bo", "linear", [9.0], events=1)

    exported = store.export("ann")
    assert set(exported) == {"developer", "created", "shown", "weights"}
    assert exported["developer"] == "ann"
    assert isinstance(exported["created"], float)
    assert [s["id"] for s in exported["shown"]] == [first, second]
    item = exported["shown"][0]
    assert {k: v for k, v in item.items() if k not in ("time", "choices")} == {
        "id": first, "developer": "ann", "path": "a.py", "root": "/repo", "line": 3, "col": 4,
        "prefix": "total = ", "suffix": ")", "proposal": 62, "model": "tiny",
        "candidates": [{"text": "a + b", "score": -0.5}, {"text": "a", "score": -1.5}],
    }
    assert [(c["candidate"], c["kind"]) for c in item["choices"]] == [(1, "accepted"), (None, "rejected")]
    assert exported["shown"][1]["choices"] == []
    assert [(w["model"], w["vector"], w["events"]) for w in exported["weights"]] == [("linear", [0.25, -0.5], 2)]
    assert isinstance(exported["weights"][0]["updated"], float)
    assert json.loads(json.dumps(exported)) == exported  # JSON-serialisable as it is


def test_export_of_an_unknown_developer(store):
    store.record_shown(shown("ann"))
    assert store.export("nobody") == {"developer": "nobody", "created": None, "shown": [], "weights": []}
