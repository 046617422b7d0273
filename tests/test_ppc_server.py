"""The server's pipeline uses the proposal classifier's choice, and falls back to the fixed
proposal when it cannot (no checkpoint, another model's classifier, index building, failure)."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from bowerbird.analysis.holes import hole_at
from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
from bowerbird.learners.lm.loading import load_backend
from bowerbird.learners.ppc.choose import ProposalChooser, load_chooser
from bowerbird.server.options import CompletionOptions
from bowerbird.server.pipeline import TRY_FIRST, Pipeline
from tiny_classifier import build_tiny_classifier

PATH, LINE, COL = "shapes/circle.py", 16, 15


@pytest.fixture(scope="module")
def backend(tiny_model):
    return load_backend("transformers", str(tiny_model), dtype="float32")


@pytest.fixture(scope="module")
def applicable(pyrepo, backend) -> list[int]:
    text = (pyrepo.root / PATH).read_text()
    built = build_proposals(pyrepo, hole_at(PATH, text, LINE, COL), ProposalOptions(prompt_tokens=backend.context_tokens))
    ids = sorted(p.kind.id for p in built)
    assert len(ids) > 10 and 62 in ids  # the fixture hole has proposals besides in_file
    return ids


class Ranked:
    """A chooser stand-in with a fixed ranking."""

    def __init__(self, ranking):
        self.calls = 0
        self._ranking = ranking

    def ranking(self, hole):
        self.calls += 1
        return list(self._ranking)


def complete(pyrepo, backend, chooser, **kwargs):
    pipeline = Pipeline(pyrepo, backend, CompletionOptions(max_tokens=4, proposal=62), chooser=chooser)
    return pipeline.complete(PATH, (pyrepo.root / PATH).read_text(), LINE, COL, **kwargs)


def test_the_pipeline_uses_the_proposal_the_classifier_ranks_first(pyrepo, backend, applicable):
    pick = applicable[len(applicable) // 2]
    ranking = [pick] + [p for p in range(63) if p != pick]
    completion = complete(pyrepo, backend, Ranked(ranking))
    assert completion.proposal["id"] == pick and completion.proposal["chosen_by"] == "classifier"
    assert completion.timings_ms["choose"] >= 0


def test_proposals_that_do_not_apply_are_passed_over_in_ranking_order(pyrepo, backend):
    path, line, col = "shapes/square.py", 0, 4  # the docstring's first line: few proposals apply
    text = (pyrepo.root / path).read_text()
    built = build_proposals(pyrepo, hole_at(path, text, line, col), ProposalOptions(prompt_tokens=backend.context_tokens))
    applicable = sorted(p.kind.id for p in built)
    missing = [p for p in range(63) if p not in applicable]
    assert len(missing) > TRY_FIRST  # the first picks all fail: every proposal gets built
    best = applicable[3]
    ranking = missing + [best] + [p for p in applicable if p != best]
    pipeline = Pipeline(pyrepo, backend, CompletionOptions(max_tokens=4, proposal=62), chooser=Ranked(ranking))
    assert pipeline.complete(path, text, line, col).proposal["id"] == best


def test_while_the_index_builds_the_fixed_proposal_is_used(pyrepo, backend, applicable):
    chooser = Ranked([applicable[0]] + [p for p in range(63) if p != applicable[0]])
    completion = complete(pyrepo, backend, chooser, index_ready=False)
    assert completion.proposal == {"id": 62, "source": "in_file", "context_type": "default", "chosen_by": "fixed"}
    assert chooser.calls == 0


def test_a_failing_classifier_costs_nothing_but_the_choice(pyrepo, backend, caplog):
    class Broken:
        def ranking(self, hole):
            raise RuntimeError("weights on fire")

    pipeline = Pipeline(pyrepo, backend, CompletionOptions(max_tokens=4, proposal=62), chooser=Broken())
    text = (pyrepo.root / PATH).read_text()
    with caplog.at_level(logging.WARNING):
        first = pipeline.complete(PATH, text, LINE, COL)
        pipeline.complete(PATH, text, LINE, COL - 1)
    assert first.proposal["chosen_by"] == "fixed" and first.proposal["id"] == 62
    assert sum("weights on fire" in r.message for r in caplog.records) == 1  # said once


def test_a_trained_classifier_ranks_and_the_pipeline_follows(pyrepo, backend, applicable, tmp_path):
    first = [p for p in applicable if p != 62][-2:]
    folder = build_tiny_classifier(tmp_path / "ppc", backend, first)
    chooser, note = load_chooser(folder, backend)
    assert note is None
    hole = hole_at(PATH, (pyrepo.root / PATH).read_text(), LINE, COL)
    assert chooser.ranking(hole)[:2] == first
    class Built:  # a build.Proposal as the chooser reads it
        def __init__(self, pid):
            self.kind = type("Kind", (), {"id": pid})()

    assert chooser(hole, [Built(62), Built(first[1])]) == first[1]  # masked: the best applicable one
    assert complete(pyrepo, backend, chooser).proposal["id"] == first[0]
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "encoder_layers": 0}))
    assert load_chooser(folder, backend)[0].encoder.layers == 0  # encodes as it was trained to


def test_no_classifier_for_another_models_vectors_a_served_model_or_no_checkpoint(backend, tmp_path, tiny_model):
    folder = build_tiny_classifier(tmp_path / "ppc", backend, [3])
    config = json.loads((folder / "config.json").read_text())
    config["encoder_fingerprint"] = "0123456789abcdef"
    (folder / "config.json").write_text(json.dumps(config))
    chooser, note = load_chooser(folder, backend)
    assert chooser is None and "trained on the vectors of" in note
    assert ProposalChooser(folder, backend).ranking  # the harness only warns

    class Served:
        name, model = "openai", "remote"

    assert load_chooser(build_tiny_classifier(tmp_path / "ok", backend, [3]), Served())[1].endswith(
        "no local network to encode holes")
    assert load_chooser(tmp_path / "nothing", backend) == (None, f"no proposal classifier in {tmp_path / 'nothing'}")


def test_a_damaged_checkpoint_is_a_reason_not_a_crash(backend, tmp_path):
    folder = build_tiny_classifier(tmp_path / "ppc", backend, [3])
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    chooser, note = load_chooser(folder, backend)
    assert chooser is None and note.startswith("cannot load the proposal classifier")
    shutil.rmtree(folder)
    (folder).mkdir()
    (folder / "config.json").write_text("{")
    assert load_chooser(folder, backend)[0] is None


def test_complete_command_reports_the_classifiers_choice(tiny_model, backend, applicable, tmp_path, capsys):
    from bowerbird.cli import main
    from tiny_model import FIXTURE

    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    pick = [p for p in applicable if p != 62][0]
    folder = build_tiny_classifier(tmp_path / "ppc", backend, [pick])
    argv = ["complete", str(repo / PATH), "--line", str(LINE), "--col", str(COL), "--backend", "transformers",
            "--model", str(tiny_model), "--max-tokens", "4", "--index-dir", str(tmp_path / "idx"), "--json"]
    assert main(argv + ["--classifier", str(folder)]) == 0
    assert json.loads(capsys.readouterr().out)["proposal"] | {} == {
        "id": pick, **{k: v for k, v in _kind(pick).items()}, "chosen_by": "classifier"}
    assert main(argv + ["--proposal", "14"]) == 0
    assert json.loads(capsys.readouterr().out)["proposal"]["chosen_by"] == "fixed"
    assert main(argv + ["--classifier", str(tmp_path / "none")]) == 2
    assert "no proposal classifier" in capsys.readouterr().err
    assert main(argv + ["--classifier", str(folder), "--proposal", "3"]) == 2


def _kind(proposal: int) -> dict:
    from bowerbird.analysis.proposals.catalog import CATALOG

    kind = next(k for k in CATALOG if k.id == proposal)
    return {"source": kind.source, "context_type": kind.context_type}


def test_the_server_takes_rlpg_h_classifiers_only(backend, tmp_path):
    from bowerbird.learners.ppc.encode import fingerprint
    from bowerbird.learners.ppc.model import PPCConfig, build
    from bowerbird.learners.ppc.train import save

    dim = int(backend.network.config.hidden_size)
    folder = save(build(PPCConfig(kind="rlpg_r", dim=dim, hidden=8, heads=2)).eval(), tmp_path / "r",
                  {"encoder": backend.model, "encoder_fingerprint": fingerprint(backend)})
    chooser, note = load_chooser(folder, backend)
    assert chooser is None and "rlpg_r classifier" in note and "too slow per request" in note
    assert ProposalChooser(folder, backend).kind == "rlpg_r"  # the harness scores it


def test_the_server_reloads_only_the_classifier_when_only_its_options_change(monkeypatch, backend, tmp_path):
    import dataclasses

    from bowerbird.server.models import Models

    loads = []
    monkeypatch.setattr("bowerbird.learners.lm.loading.load_backend", lambda *a, **k: loads.append(a) or backend)
    models = Models()
    folder = build_tiny_classifier(tmp_path / "ppc", backend, [3])
    options = CompletionOptions(backend="transformers", model="tiny", classifier=str(folder))
    assert models.needs_load(options) and models.load(options) is None
    assert models.chooser is not None and models.chooser_note is None and len(loads) == 1
    fixed = dataclasses.replace(options, proposal_chooser="fixed")
    assert models.needs_load(fixed)
    models.load(fixed)
    assert models.chooser is None and models.chooser_note == "the proposal chooser is set to fixed"
    missing = dataclasses.replace(options, classifier=str(tmp_path / "gone"))
    models.load(missing)
    assert models.chooser is None and "no proposal classifier" in models.chooser_note
    assert len(loads) == 1 and not models.needs_load(missing)  # the model itself never reloaded
