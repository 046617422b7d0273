"""`bowerbird train reward` and `bowerbird eval reward` on the tiny model: usage errors, the JSON
shape, training from the feedback store (with a developer left out), and the checkpoint the
server would load."""

from __future__ import annotations

import json

import pytest

from bowerbird.cli import main
from bowerbird.server.feedback import FeedbackStore, Shown


def run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # exactly one document
    return json.loads(out)


@pytest.mark.parametrize("argv, message", [
    (["eval", "reward", "--ks", "1,x"], "--ks"),
    (["eval", "reward", "--levels", "none"], "--levels"),
    (["eval", "reward", "--candidates", "1"], "--candidates"),
    (["eval", "reward", "--holes", "0"], "--holes"),
    (["train", "reward", "--out", "OUT", "--exclude-developer", "ann"], "applies to --store"),
    (["train", "reward", "--out", "OUT", "--temperature", "0"], "--temperature"),
])
def test_usage_errors(capsys, tmp_path, argv, message):
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_training_from_a_missing_store_is_a_usage_error(capsys, tmp_path, tiny_model):
    code = main(["train", "reward", "--store", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "out"),
                 "--model", str(tiny_model)])
    assert code == 2 and "no feedback store" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def shown(developer: str, number: int) -> Shown:
    texts = [f"value_{number} + 1", f"'text {number}'", "None", f"call(x={number})"]
    return Shown(developer, "/repo", "pkg/a.py", number, 4, f"def f():\n    y = {number}\n    x = ", "", 62, "tiny",
                 [{"text": t, "score": -0.5} for t in texts])


def test_training_from_the_store_leaves_an_excluded_developer_out(capsys, tmp_path, tiny_model):
    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.learners.reward.score import load_scorer, model_id

    data = tmp_path / "data"
    store = FeedbackStore(data / "feedback.sqlite")
    for number in range(6):
        for developer, pick in (("ann", 0), ("bo", 1), ("cy", 3)):
            store.record_choice(store.record_shown(shown(developer, number)), pick, "accepted")
    store.record_choice(store.record_shown(shown("ann", 99)), None, "rejected")
    store.close()
    out = tmp_path / "reward"
    report = run_json(capsys, ["train", "reward", "--store", "--data-dir", str(data), "--out", str(out),
                               "--model", str(tiny_model), "--exclude-developer", "cy", "--dim", "4", "--json"])
    assert report["developers"] == 2 and report["events"] == 12 and report["comparisons"] == 36
    assert (out / "MODEL_CARD.md").read_text().count("feedback store") >= 1
    scorer = load_scorer(out, load_backend("transformers", str(tiny_model)))
    assert scorer.prior.shape == (4,)
    store = FeedbackStore(data / "feedback.sqlite")
    assert len(store.load_weights("ann", model_id(out))) == 4
    assert store.load_weights("cy", model_id(out)) is None
    store.close()


def test_eval_reward_prints_the_design_shape(capsys, tmp_path, tiny_model):
    argv = ["eval", "reward", "--model", str(tiny_model), "--holes", "24", "--test-holes", "16", "--developers", "4",
            "--test-developers", "2", "--comparisons", "20", "--ks", "0,3", "--levels", "low,high", "--dim", "4",
            "--items-cache", str(tmp_path / "cache"), "--threads", "1", "--plot", str(tmp_path / "acc.png"), "--json"]
    result = run_json(capsys, argv)
    rows = {(r["disagreement"], r["method"], r["k"]) for r in result["results"]}
    assert rows == {(level, method, k) for level in ("low", "high") for method in ("pooled", "rfm", "linear", "oracle")
                    for k in (0, 3)}
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in result["results"])
    oracle = [r["accuracy"] for r in result["results"] if r["method"] == "oracle"]
    assert min(oracle) > 0.5  # the true utilities beat chance under Bradley-Terry noise
    assert {r["method"] for r in result["retained"]} == {"model_score", "pooled", "rfm", "linear", "oracle"}
    assert (tmp_path / "acc.png").read_bytes()[:4] == b"\x89PNG"
    cached = sorted(p.name for p in (tmp_path / "cache").glob("*.json"))
    assert len(cached) == 2  # the candidates are kept: a second run reads them
    again = run_json(capsys, argv)
    assert again["results"] == result["results"]
