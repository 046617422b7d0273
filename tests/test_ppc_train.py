"""Training RLPG-H on labels: features, the split by repository, the report, the checkpoint."""

from __future__ import annotations

import json

import pytest
import torch

from bowerbird.learners.ppc.model import PPCConfig
from bowerbird.learners.ppc.train import best_single, fit, label_set, load, report, save, split_by_repo


class KindEncoder:
    """Windows that start with "A" and "B" are two kinds of holes: a vector per kind."""

    dim = 8

    def encode(self, texts):
        vectors = torch.zeros(len(texts), self.dim)
        for i, text in enumerate(texts):
            vectors[i, {"A": 0, "B": 1}.get(text[:1], 2)] = 1.0
            vectors[i, 3 + len(text) % 5] = 0.1  # some noise the classifier must ignore
        return vectors


def records(repo: str, count: int) -> list[dict]:
    """Kind A holes are solved by proposal 3 only, kind B by proposal 5 only; both apply to
    every hole, and in_file (62) solves none."""
    out = []
    for i in range(count):
        kind = "AB"[i % 2]
        out.append({"repo": f"/src/{repo}", "path": "m.py", "line": i, "col": 0, "target": "x", "window": kind * (i + 1),
                    "applicable": [3, 5, 9, 62], "solved": [3] if kind == "A" else [5]})
    out.append({"repo": f"/src/{repo}", "path": "m.py", "line": 999, "col": 0, "skipped": True})
    return out


def test_rlpg_h_learns_which_proposal_each_kind_of_hole_needs():
    data = label_set(records("alpha", 40) + records("beta", 20), KindEncoder())
    assert len(data) == 60 and data.holes.shape == (60, 8)
    assert data.applicable[0].nonzero().flatten().tolist() == [3, 5, 9, 62]
    training, held = split_by_repo(data, ["beta"])
    assert (len(training), len(held)) == (40, 20) and set(held.repos) == {"/src/beta"}
    model, curve = fit(training, PPCConfig(kind="rlpg_h", dim=8, hidden=32, dropout=0.0), steps=200, lr=1e-2)
    assert curve[-1]["loss"] < curve[0]["loss"]
    fixed = best_single(training)
    assert fixed == 3  # 20 wins each: ties go to the smaller id
    result = report(model, held, fixed)
    assert result["holes"] == 20
    assert (result["classifier"], result["in_file"], result["fixed_best"], result["oracle"]) == (1.0, 0.0, 0.5, 1.0)


def test_a_checkpoint_round_trips(tmp_path):
    data = label_set(records("alpha", 10), KindEncoder())
    model, _ = fit(data, PPCConfig(kind="rlpg_h", dim=8, hidden=16), steps=5)
    save(model, tmp_path / "ppc", {"encoder": "kind"})
    loaded, meta = load(tmp_path / "ppc")
    assert meta["encoder"] == "kind" and meta["ppc"]["kind"] == "rlpg_h"
    with torch.no_grad():
        torch.testing.assert_close(loaded(data.holes), model(data.holes))


def test_rlpg_r_needs_context_vectors():
    data = label_set(records("alpha", 4), KindEncoder())
    with pytest.raises(ValueError, match="context vectors"):
        fit(data, PPCConfig(kind="rlpg_r", dim=8, heads=2))


def test_rlpg_r_learns_from_the_proposals_contexts_what_the_hole_does_not_say():
    """Every window looks alike; the solving proposal (3 or 5) is the one whose context holds
    a marker. Only a classifier reading the contexts can tell."""
    from bowerbird.learners.ppc.model import NUM_PROPOSALS

    def marked(repo, count):
        out = []
        for i in range(count):
            solver = (3, 5)[i % 2]
            out.append({"repo": f"/src/{repo}", "path": "m.py", "line": i, "col": 0, "target": "x", "window": "C",
                        "applicable": [3, 5, 62], "solved": [solver]})
        return out

    def contexts_for(recs):
        vectors = torch.zeros(len(recs), NUM_PROPOSALS, 8)
        for i, record in enumerate(recs):
            vectors[i, 3, 7] = vectors[i, 5, 7] = 0.5  # both have a context
            vectors[i, record["solved"][0], 6] = 1.0  # the solver's holds the marker
        return vectors, [r["applicable"] for r in recs]

    data = label_set(marked("alpha", 40) + marked("beta", 20), KindEncoder(), contexts_for=contexts_for)
    assert data.contexts.shape == (60, NUM_PROPOSALS, 8)
    training, held = split_by_repo(data, ["beta"])
    assert held.contexts.shape == (20, NUM_PROPOSALS, 8)
    config = PPCConfig(kind="rlpg_r", dim=8, hidden=32, heads=2, dropout=0.0)
    model, _ = fit(training, config, steps=300, lr=1e-2)
    assert report(model, held, best_single(training))["classifier"] == 1.0
    blind, _ = fit(training, PPCConfig(kind="rlpg_h", dim=8, hidden=32, dropout=0.0), steps=300, lr=1e-2)
    assert report(blind, held, best_single(training))["classifier"] == pytest.approx(0.5)  # a coin, at best


def test_the_train_command_checks_its_input(tmp_path, capsys):
    from bowerbird.cli import main

    assert main(["train", "ppc", "--labels", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "no labels file" in capsys.readouterr().err
    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps(r) + "\n" for r in records("alpha", 4)))
    assert main(["train", "ppc", "--labels", str(one), "--out", str(tmp_path / "o")]) == 2
    assert "training and validation need two or more" in capsys.readouterr().err
    two = tmp_path / "two.jsonl"
    two.write_text("".join(json.dumps(r) + "\n" for r in records("alpha", 4) + records("beta", 4)))
    assert main(["train", "ppc", "--labels", str(two), "--out", str(tmp_path / "o"), "--validation", "gamma"]) == 2
    assert "--validation must name some" in capsys.readouterr().err


def test_the_train_command_trains_and_saves(tmp_path, tiny_model, capsys):
    from bowerbird.cli import main

    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in records("alpha", 12) + records("beta", 6)))
    assert main(["train", "ppc", "--labels", str(labels), "--out", str(tmp_path / "ppc"), "--model", str(tiny_model),
                 "--steps", "20", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["validation_repos"] == ["beta"] and summary["validation"]["holes"] == 6
    assert summary["training"]["holes"] == 12 and 0.0 <= summary["validation"]["classifier"] <= 1.0
    assert (tmp_path / "ppc" / "model.safetensors").is_file()


def test_eval_completion_reports_rlpg_h_with_a_trained_classifier(tmp_path, tiny_model, capsys):
    from pathlib import Path

    from bowerbird.cli import main

    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in records("alpha", 12) + records("beta", 6)))
    assert main(["train", "ppc", "--labels", str(labels), "--out", str(tmp_path / "ppc"), "--model", str(tiny_model),
                 "--steps", "20", "--json"]) == 0
    capsys.readouterr()
    fixture = str(Path(__file__).parent / "data" / "pyrepo")
    assert main(["eval", "completion", "--repo", fixture, "--holes", "6", "--model", str(tiny_model),
                 "--ppc", str(tmp_path / "ppc"), "--index-dir", str(tmp_path / "index"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary["methods"]) == ["in_file", "random", "retrieval", "fixed_best", "rlpg_h", "oracle"]
    rlpg = summary["methods"]["rlpg_h"]
    assert 0.0 <= rlpg["em"] <= summary["methods"]["oracle"]["em"] and 0.0 <= rlpg["es"] <= 1.0
    for hole in summary["scored"]:  # a hole rlpg_h solves is one some proposal solves
        assert not hole["em"]["rlpg_h"] or hole["solved_by"]


def test_the_step_count_is_chosen_inside_the_training_repositories():
    from bowerbird.learners.ppc.train import choose_steps

    data = label_set(records("alpha", 20) + records("beta", 20) + records("gamma", 10), KindEncoder())
    training, _ = split_by_repo(data, ["gamma"])  # gamma validates; it must play no part in the choice
    config = PPCConfig(kind="rlpg_h", dim=8, hidden=16, dropout=0.0)
    steps, scores = choose_steps(training, config, lr=1e-2, choices=(1, 150))
    assert set(scores) == {1, 150} and scores[150] == 1.0  # beta, held aside, is learnable from alpha
    assert steps == 150 or scores[1] == 1.0
    one_repo, _ = split_by_repo(data, ["beta", "gamma"])
    assert choose_steps(one_repo, config, choices=(5, 7)) == (7, {})


def test_cross_validation_leaves_each_repository_out_and_pools_every_hole():
    from bowerbird.learners.ppc.train import cross_validate

    data = label_set(records("alpha", 20) + records("beta", 20) + records("gamma", 10), KindEncoder())
    result = cross_validate(data, PPCConfig(kind="rlpg_h", dim=8, hidden=16, dropout=0.0), steps=150, lr=1e-2)
    assert [f["repo"] for f in result["folds"]] == ["alpha", "beta", "gamma"]
    assert [f["holes"] for f in result["folds"]] == [20, 20, 10] and result["holes"] == 50
    assert result["classifier"] == 1.0 and result["in_file"] == 0.0  # learnable from the other two
    assert result["fixed_best"] == pytest.approx(0.5) and result["oracle"] == 1.0
    with pytest.raises(ValueError, match="two or more"):
        cross_validate(label_set(records("alpha", 4), KindEncoder()), PPCConfig(kind="rlpg_h", dim=8))


def test_the_train_command_cross_validates_without_saving(tmp_path, tiny_model, capsys):
    from bowerbird.cli import main

    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in records("alpha", 8) + records("beta", 6)))
    base = ["train", "ppc", "--labels", str(labels), "--model", str(tiny_model), "--steps", "5"]
    assert main(base + ["--cross-validate", "--encoder-layers", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["holes"] == 14 and [f["repo"] for f in result["folds"]] == ["alpha", "beta"]
    assert not list(tmp_path.glob("*/model.safetensors"))
    assert main(base + ["--cross-validate", "--out", str(tmp_path / "o")]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(base) == 2  # neither
    assert main(base + ["--out", str(tmp_path / "o"), "--encoder-layers", "9"]) == 2
    assert "layers must be from 0 to 2" in capsys.readouterr().err
    assert main(base + ["--out", str(tmp_path / "o"), "--encoder-layers", "1"]) == 0
    meta = json.loads((tmp_path / "o" / "config.json").read_text())
    assert meta["encoder_layers"] == 1 and len(meta["encoder_fingerprint"]) == 16


def test_rlpg_r_end_to_end_labels_contexts_training_and_the_harness(tmp_path, tiny_model, capsys):
    """Real labels of two repositories (the tiny model's), RLPG-R trained on the proposals'
    contexts rebuilt from them, and eval completion scoring its picks as rlpg_r."""
    import shutil
    from pathlib import Path

    from bowerbird.cli import main
    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.learners.ppc.contexts import ContextVectors, label_contexts
    from bowerbird.learners.ppc.encode import HiddenStateEncoder
    from bowerbird.learners.ppc.labels import read_labels

    fixture = Path(__file__).parent / "data" / "pyrepo"
    for name in ("alpha", "beta"):
        shutil.copytree(fixture, tmp_path / name)
    labels = tmp_path / "labels.jsonl"
    assert main(["train", "ppc-labels", "--repos", str(tmp_path / "alpha"), str(tmp_path / "beta"), "--out", str(labels),
                 "--holes", "4", "--model", str(tiny_model), "--backend", "transformers", "--json"]) == 0
    capsys.readouterr()
    labelled = [r for r in read_labels(labels) if not r.get("skipped")]
    backend = load_backend("transformers", str(tiny_model), dtype="float32")
    encoder = HiddenStateEncoder(backend)
    vectors, applicable = label_contexts(labelled, ContextVectors(encoder), backend.context_tokens)
    assert applicable == [r["applicable"] for r in labelled]  # rebuilt as labelled
    for i, record in enumerate(labelled):
        assert not vectors[i, 62].any()  # in_file has no context
        assert all(vectors[i, p].any() for p in record["applicable"] if p != 62)
        assert not any(vectors[i, p].any() for p in range(62) if p not in record["applicable"])
    out = tmp_path / "ppc-r"
    assert main(["train", "ppc", "--labels", str(labels), "--kind", "rlpg_r", "--model", str(tiny_model), "--steps", "5",
                 "--validation", "beta", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["validation"]["holes"] == len([r for r in labelled if r["repo"].endswith("beta")])
    assert json.loads((out / "config.json").read_text())["ppc"]["kind"] == "rlpg_r"
    assert main(["eval", "completion", "--repo", str(fixture), "--holes", "4", "--model", str(tiny_model),
                 "--ppc", str(out), "--methods", "in_file,rlpg_r", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["methods"]) == ["in_file", "rlpg_r"] and result["checked"] == "chosen"
    assert main(["eval", "completion", "--repo", str(fixture), "--ppc", str(out), str(out)]) == 2
    assert "two rlpg_r classifiers" in capsys.readouterr().err


def test_ship_ppc_copies_the_classifier_with_a_card_of_its_held_out_table(tmp_path, tiny_model, capsys):
    from bowerbird.cli import main

    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in records("alpha", 12) + records("beta", 6)))
    run = tmp_path / "run"
    assert main(["train", "ppc", "--labels", str(labels), "--out", str(run), "--model", str(tiny_model),
                 "--steps", "5", "--json"]) == 0
    capsys.readouterr()

    def report(repo, holes, in_file, rlpg_h):
        path = tmp_path / f"{repo}.json"
        path.write_text(json.dumps({"repo": f"/lib/{repo}", "holes": holes, "methods": {
            "in_file": {"em": in_file}, "rlpg_h": {"em": rlpg_h}, "oracle": {"em": 0.5}}}))
        return str(path)

    notes = tmp_path / "notes.md"
    notes.write_text("## Limits\n\nA note.\n")
    out = tmp_path / "shipped"
    assert main(["train", "ship-ppc", "--run", str(run), "--to", str(out), "--notes", str(notes),
                 "--eval", report("email", 50, 0.2, 0.24), report("json", 50, 0.3, 0.3)]) == 0
    assert (out / "model.safetensors").read_bytes() == (run / "model.safetensors").read_bytes()
    card = (out / "MODEL_CARD.md").read_text()
    assert "| email | 50 | 20.0% | 24.0% | 50.0% |" in card
    assert "| **all (pooled)** | 100 | **25.0%** | **27.0%** (+8.0%) | **50.0%** (+100.0%) |" in card
    assert "validation repositories | 6 holes" in card and card.endswith("A note.\n")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"repo": "/lib/x", "holes": 5, "methods": {"in_file": {"em": 0.1}}}))
    assert main(["train", "ship-ppc", "--run", str(run), "--to", str(out), "--eval", str(bad)]) == 2
    assert "has no rlpg_h" in capsys.readouterr().err
    assert main(["train", "ship-ppc", "--run", str(tmp_path), "--to", str(out)]) == 2
    assert "not a `train ppc --out DIR` folder" in capsys.readouterr().err
