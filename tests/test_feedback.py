"""The feedback store records shown completions and choices, and forgets a developer."""

from bowerbird.server.feedback import FeedbackStore, Shown


def shown(developer: str) -> Shown:
    return Shown(developer, "/repo", "a.py", 3, 4, "x = ", ")", 62, "tiny", [{"text": "1", "score": -0.5}])


def test_shown_and_accepted_events_are_stored(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    first = store.record_shown(shown("ann"))
    second = store.record_shown(shown("ann"))
    assert store.record_choice(first, 0, "accepted")
    assert store.record_choice(second, None, "rejected")
    assert not store.record_choice("no-such-id", 0, "accepted")
    events = store.events("ann")
    assert [(e["id"], e["candidate"], e["kind"]) for e in events] == [(first, 0, "accepted"), (second, None, "rejected")]
    assert events[0]["candidates"] == [{"text": "1", "score": -0.5}]


def test_forget_removes_one_developer_only(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    ann = store.record_shown(shown("ann"))
    store.record_choice(ann, 0, "accepted")
    bo = store.record_shown(shown("bo"))
    assert store.forget("ann") == 1
    assert store.events("ann") == []
    assert [e["id"] for e in store.events("bo")] == [bo]
    reopened = FeedbackStore(tmp_path / "feedback.sqlite")
    assert [e["id"] for e in reopened.events("bo")] == [bo]
