"""`bowerbird feedback show|export|forget` over a local feedback store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bowerbird.cli import main
from bowerbird.server.feedback import FeedbackStore, Shown


def shown(developer: str, text: str, line: int = 3) -> Shown:
    return Shown(developer, "/repo", "pkg/a.py", line, 4, "x = ", ")", 62, "tiny",
                 [{"text": text, "score": -0.5}, {"text": "other", "score": -2.0}])


@pytest.fixture
def store_dir(tmp_path) -> Path:
    """A store with ann (2 shown, 1 accept, 1 reject, weights) and bo (1 shown)."""
    folder = tmp_path / "data"
    store = FeedbackStore(folder / "feedback.sqlite")
    first = store.record_shown(shown("ann", "total + 1"))
    second = store.record_shown(shown("ann", "count", line=9))
    store.record_choice(first, 0, "accepted")
    store.record_choice(second, None, "rejected")
    store.record_shown(shown("bo", "pass"))
    store.save_weights("ann", "linear", [0.5, -1.0, 2.0], events=2)
    store.close()
    return folder


def run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1, out  # exactly one document
    return json.loads(out)


def test_show_lists_the_developers(store_dir, capsys):
    document = run_json(capsys, ["feedback", "show", "--data-dir", str(store_dir), "--json"])
    assert document == {
        "store": str((store_dir / "feedback.sqlite").resolve()),
        "developers": [
            {"developer": "ann", "shown": 2, "accepted": 1, "rejected": 1, "weights": ["linear"]},
            {"developer": "bo", "shown": 1, "accepted": 0, "rejected": 0, "weights": []},
        ],
    }
    assert main(["feedback", "show", "--data-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"feedback store {(store_dir / 'feedback.sqlite').resolve()}"
    assert lines[2].split() == ["ann", "2", "1", "1", "linear"]
    assert lines[3].split() == ["bo", "1", "0", "0", "-"]


def test_show_one_developer(store_dir, capsys):
    document = run_json(capsys, ["feedback", "show", "--developer", "ann", "--data-dir", str(store_dir), "--json"])
    assert document["store"] == str((store_dir / "feedback.sqlite").resolve())
    summary = document["developer"]
    assert (summary["developer"], summary["shown"], summary["accepted"], summary["rejected"]) == ("ann", 2, 1, 1)
    assert isinstance(summary["created"], float)
    assert [(w["model"], w["size"], w["events"]) for w in summary["weights"]] == [("linear", 3, 2)]
    assert [(e["path"], e["line"], e["kind"], e["candidate"], e["text"]) for e in summary["events"]] == [
        ("pkg/a.py", 3, "accepted", 0, "total + 1"), ("pkg/a.py", 9, "rejected", None, "count"),
    ]

    assert main(["feedback", "show", "--developer", "ann", "--data-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "developer ann: 2 shown, 1 accepted, 1 rejected" in out
    assert "weights linear: 3 values, fitted on 2 events" in out
    assert "pkg/a.py:4  accepted  total + 1" in out  # lines are shown 1-based
    assert "pkg/a.py:10  rejected  count" in out


def test_show_lists_at_most_the_last_20_events_and_completions_shown_without_a_choice(tmp_path, capsys):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    for i in range(25):
        completion = store.record_shown(shown("cy", f"value_{i}\nmore", line=i))
        if i % 2 == 0:
            store.record_choice(completion, 0, "accepted")
    store.close()
    document = run_json(capsys, ["feedback", "show", "--developer", "cy", "--data-dir", str(tmp_path), "--json"])
    events = document["developer"]["events"]
    assert [e["line"] for e in events] == list(range(5, 25))
    assert [e["kind"] for e in events[:2]] == ["shown", "accepted"]
    assert events[-1]["text"] == "value_24\nmore"
    assert main(["feedback", "show", "--developer", "cy", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "last 20 events:" in out and "value_24\\nmore" in out and "value_4" not in out


def test_show_an_unknown_developer(store_dir, capsys):
    document = run_json(capsys, ["feedback", "show", "--developer", "zed", "--data-dir", str(store_dir), "--json"])
    assert document["developer"] == {"developer": "zed", "created": None, "shown": 0, "accepted": 0, "rejected": 0,
                                     "weights": [], "events": []}
    assert main(["feedback", "show", "--developer", "zed", "--data-dir", str(store_dir)]) == 0
    assert "developer zed: nothing recorded" in capsys.readouterr().out


def test_export_to_stdout_and_to_a_file(store_dir, tmp_path, capsys):
    document = run_json(capsys, ["feedback", "export", "--developer", "ann", "--data-dir", str(store_dir)])
    assert document["developer"] == "ann"
    assert [s["candidates"][0]["text"] for s in document["shown"]] == ["total + 1", "count"]
    assert [[(c["candidate"], c["kind"]) for c in s["choices"]] for s in document["shown"]] == [
        [(0, "accepted")], [(None, "rejected")],
    ]
    assert [(w["model"], w["vector"], w["events"]) for w in document["weights"]] == [("linear", [0.5, -1.0, 2.0], 2)]

    out = tmp_path / "ann.json"
    assert main(["feedback", "export", "--developer", "ann", "--data-dir", str(store_dir), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ann" in captured.err
    assert json.loads(out.read_text()) == document

    unknown = run_json(capsys, ["feedback", "export", "--developer", "zed", "--data-dir", str(store_dir)])
    assert unknown == {"developer": "zed", "created": None, "shown": [], "weights": []}


def test_forget_reports_what_it_removed(store_dir, capsys):
    document = run_json(capsys, ["feedback", "forget", "--developer", "ann", "--data-dir", str(store_dir), "--json"])
    assert document == {"developer": "ann", "shown_removed": 2, "choices_removed": 2, "weights_removed": 1}
    db = sqlite3.connect(store_dir / "feedback.sqlite")
    assert db.execute("SELECT id FROM developers").fetchall() == [("bo",)]
    assert db.execute("SELECT DISTINCT developer FROM shown").fetchall() == [("bo",)]
    assert db.execute("SELECT COUNT(*) FROM choices").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM weights").fetchone() == (0,)
    db.close()

    again = run_json(capsys, ["feedback", "forget", "--developer", "ann", "--data-dir", str(store_dir), "--json"])
    assert again == {"developer": "ann", "shown_removed": 0, "choices_removed": 0, "weights_removed": 0}
    assert main(["feedback", "forget", "--developer", "bo", "--data-dir", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "forgot developer bo: removed 1 shown completions, 0 choices and 0 weights rows" in out


def test_a_missing_store_is_not_created(tmp_path, capsys):
    missing = tmp_path / "nothing-here"
    store = (missing / "feedback.sqlite").resolve()
    assert run_json(capsys, ["feedback", "show", "--data-dir", str(missing), "--json"]) == {
        "store": str(store), "developers": []}
    assert main(["feedback", "show", "--data-dir", str(missing)]) == 0
    assert "no feedback store" in capsys.readouterr().out
    assert run_json(capsys, ["feedback", "show", "--developer", "ann", "--data-dir", str(missing), "--json"])[
        "developer"]["shown"] == 0

    assert main(["feedback", "export", "--developer", "ann", "--data-dir", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"no feedback store at {store}" in captured.err

    assert run_json(capsys, ["feedback", "forget", "--developer", "ann", "--data-dir", str(missing), "--json"]) == {
        "developer": "ann", "shown_removed": 0, "choices_removed": 0, "weights_removed": 0}
    assert not missing.exists()


@pytest.mark.parametrize("action", ["show", "export", "forget"])
def test_an_empty_developer_id_is_a_usage_error(store_dir, action, capsys):
    assert main(["feedback", action, "--developer", "", "--data-dir", str(store_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--developer must not be empty" in captured.err
    assert run_json(capsys, ["feedback", "show", "--data-dir", str(store_dir), "--json"])["developers"][0]["shown"] == 2


def test_the_default_data_dir_is_the_servers(monkeypatch, tmp_path, capsys):
    from bowerbird.server.app import BowerbirdServer
    from bowerbird.server.options import ServerOptions

    monkeypatch.setattr("platformdirs.user_data_dir", lambda name: str(tmp_path / "user-data" / name))
    server_dir = BowerbirdServer(ServerOptions()).data_dir()
    assert server_dir == tmp_path / "user-data" / "bowerbird"
    document = run_json(capsys, ["feedback", "show", "--json"])
    assert document == {"store": str((server_dir / "feedback.sqlite").resolve()), "developers": []}
