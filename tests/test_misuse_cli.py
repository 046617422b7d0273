"""`bowerbird train misuse --data DIR --out MODEL` and `bowerbird eval misuse`: a tiny run on a
tiny repository's examples, resuming, and clear errors for bad input."""

from __future__ import annotations

import json

import pytest
import torch

from bowerbird.cli import main
from test_misuse_data import REPO


@pytest.fixture
def data(tmp_path, capsys):
    root = tmp_path / "repo"
    for name, text in REPO.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    out = tmp_path / "data"
    assert main(["train", "misuse", "--make-data", "--out", str(out), "--repo", str(root)]) == 0
    capsys.readouterr()
    return out / "repo.jsonl.gz"


def train(data, out, capsys, *extra) -> dict:
    code = main(["train", "misuse", "--data", str(data), "--out", str(out), "--hidden", "16", "--rounds", "2",
                 "--batch-size", "4", "--log-every", "2", "--threads", "1", "--json", *extra])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_train_resume_and_evaluate(data, tmp_path, capsys, one_torch_thread):
    model = tmp_path / "model"
    first = train(data, model, capsys, "--steps", "4")
    assert (first["step"], first["examples"], first["edge_set"]) == (4, 7, "hand")
    assert {p.name for p in model.iterdir()} >= {"config.json", "vocabulary.json", "model.safetensors", "train_state.json"}
    state = json.loads((model / "train_state.json").read_text())
    assert [point["step"] for point in state["curve"]] == [2, 4]
    more = train(data, model, capsys, "--steps", "6")
    assert more["step"] == 6
    assert [s["start_step"] for s in json.loads((model / "train_state.json").read_text())["sessions"]] == [0, 4]
    assert main(["train", "misuse", "--data", str(data), "--out", str(model), "--steps", "8", "--lr", "0.5"]) == 2
    assert "other settings" in capsys.readouterr().err

    assert main(["eval", "misuse", "--data", str(data), "--model", str(model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 7 and report["edge_set"] == "hand"
    for key in ("no_bug_acc", "loc_acc", "repair_acc", "joint_acc"):
        assert 0.0 <= report[key] <= 1.0
    assert set(report["threshold"]) >= {"threshold", "precision", "recall", "shown", "target"}
    assert main(["eval", "misuse", "--data", str(data), "--model", str(model), "--threshold", "0.5", "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)["threshold"]
    assert fixed["threshold"] == 0.5 and set(fixed) == {"threshold", "precision", "recall", "shown", "repair_precision"}
    assert main(["eval", "misuse", "--data", str(data), "--model", str(model), "--threshold", "2"]) == 2
    code = main(["eval", "misuse", "--data", str(data), "--model", str(model), "--calibration-share", "0.5",
                 "--precision", "0.01", "--json"])  # fmt: skip
    assert code == 0
    split = json.loads(capsys.readouterr().out)
    assert split["calibration"]["share"] == 0.5 and split["threshold"]["target"] == 0.01
    assert split["calibration"]["examples"] + split["threshold"]["examples"] == 7
    assert main(["eval", "misuse", "--data", str(data), "--model", str(model), "--calibration-share", "0.001"]) == 2
    assert "one part is empty" in capsys.readouterr().err
    for bad in (["--calibration-share", "1"], ["--calibration-share", "0.5", "--threshold", "0.5"]):
        assert main(["eval", "misuse", "--data", str(data), "--model", str(model), *bad]) == 2
        assert "--calibration-share" in capsys.readouterr().err


def test_bad_input_gets_a_clear_error(data, tmp_path, capsys):
    assert main(["train", "misuse", "--data", str(data)]) == 2
    assert "--out MODEL" in capsys.readouterr().err
    assert main(["train", "misuse", "--data", str(tmp_path / "none.jsonl.gz"), "--out", str(tmp_path / "m")]) == 2
    assert "--data" in capsys.readouterr().err
    assert main(["eval", "misuse", "--data", str(data), "--model", str(tmp_path / "nothing")]) == 2
    assert "cannot load the model" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.jsonl.gz"
    corrupt.write_bytes(b"not gzip at all")
    assert main(["train", "misuse", "--data", str(corrupt), "--out", str(tmp_path / "m")]) == 2
    assert "corrupt.jsonl.gz" in capsys.readouterr().err
    assert main(["train", "misuse", "--data", str(data), "--out", str(tmp_path / "m"), "--steps", "0"]) == 2
    assert "--steps must be at least 1" in capsys.readouterr().err


def test_ship_takes_the_calibrated_threshold_and_writes_a_card(data, tmp_path, capsys, one_torch_thread):
    from bowerbird.learners.misuse.checkpoint import load_model
    from bowerbird.learners.misuse.defaults import calibrated_threshold

    model = tmp_path / "model"
    train(data, model, capsys, "--steps", "4")
    assert main(["eval", "misuse", "--data", str(data), "--model", str(model), "--json"]) == 0
    plain = tmp_path / "plain.json"
    plain.write_text(capsys.readouterr().out)
    # a report as `--calibration-share` writes it (a 4-step model finds no threshold of its own)
    report = json.loads(plain.read_text())
    report["calibration"] = {"share": 0.5, "examples": 3, "chosen": {"threshold": 0.625, "precision": 1.0,
                                                                     "recall": 0.5, "shown": 1, "target": 0.95}}
    report["threshold"] = {"threshold": 0.625, "precision": 1.0, "recall": 0.5, "shown": 1, "target": 0.95,
                           "repair_precision": 1.0, "examples": 4}  # fmt: skip
    calibrated = tmp_path / "calibrated.json"
    calibrated.write_text(json.dumps(report))
    hopeless = tmp_path / "hopeless.json"
    report["calibration"]["chosen"]["threshold"] = None
    hopeless.write_text(json.dumps(report))
    notes = tmp_path / "notes.md"
    notes.write_text("## How it was made\n\nBy a test.\n")
    shipped = tmp_path / "shipped"

    # the threshold must come from a calibrated report
    assert main(["train", "ship-misuse", "--model", str(model), "--eval", str(plain), "--to", str(shipped)]) == 2
    assert "--calibration-share" in capsys.readouterr().err and not shipped.exists()
    assert main(["train", "ship-misuse", "--model", str(model), "--eval", str(hopeless), "--to", str(shipped)]) == 2
    assert "no threshold reached precision 0.95" in capsys.readouterr().err and not shipped.exists()
    assert main(["train", "ship-misuse", "--model", str(tmp_path), "--eval", str(calibrated), "--to", str(shipped)]) == 2
    assert "not a trained misuse model" in capsys.readouterr().err

    assert main(["train", "ship-misuse", "--model", str(model), "--eval", str(calibrated), str(plain),
                 "--notes", str(notes), "--to", str(shipped)]) == 0  # fmt: skip
    capsys.readouterr()
    _, _, config = load_model(shipped)
    assert calibrated_threshold(config) == (0.625, None) and config["threshold_precision_target"] == 0.95
    card = (shipped / "MODEL_CARD.md").read_text()
    assert "By a test." in card and card.count("`data/repo.jsonl.gz`") == 2 and "| repo | 2 | 4 | 7 | 7 |" in card and "p(bug) >= 0.6250" in card
    assert "| 0.6250 (on 4 of them) | 100.0% | 100.0% | 50.0% |" in card
    assert (shipped / "loss_curve.svg").read_text().startswith("<svg")


def test_init_from_starts_a_new_run_from_a_models_weights_and_vocabulary(data, tmp_path, capsys, one_torch_thread):
    from bowerbird.learners.misuse.checkpoint import load_model

    first = tmp_path / "first"
    train(data, first, capsys, "--steps", "4")
    second = tmp_path / "second"
    code = main(["train", "misuse", "--data", str(data), "--out", str(second), "--init-from", str(first),
                 "--hidden", "8", "--steps", "2", "--batch-size", "4", "--log-every", "1", "--lr", "1e-9",
                 "--threads", "1", "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["step"] == 2 and "starting from the weights of" in captured.err
    a, vocabulary_a, _ = load_model(first)
    b, vocabulary_b, _ = load_model(second)
    assert b.config == a.config and b.config.hidden == 16  # the starting model's size, not --hidden 8
    assert vocabulary_b == vocabulary_a
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-6), name  # two steps at lr 1e-9 leave the weights
    state = json.loads((second / "train_state.json").read_text())
    assert state["settings"]["init_from"] == str(first.resolve()) and state["sessions"][0]["start_step"] == 0
    code = main(["train", "misuse", "--data", str(data), "--out", str(second), "--init-from", str(first),
                 "--steps", "3", "--batch-size", "4", "--lr", "1e-9", "--threads", "1"])  # fmt: skip
    assert code == 0 and "resuming" in capsys.readouterr().err  # resumes with the same --init-from
    assert main(["train", "misuse", "--data", str(data), "--out", str(tmp_path / "third"),
                 "--init-from", str(tmp_path / "missing")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--init-from" in err and "not a misuse model" in err
