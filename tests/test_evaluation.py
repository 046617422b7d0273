"""The completion evaluation harness on a model whose outputs are known.

The "copying model" completes a line by copying what followed the same text earlier in its
prompt, so which prompt solves which hole follows from the prompts' contents alone."""

from __future__ import annotations

import textwrap

import pytest

from bowerbird.analysis.indexer import index_repository
from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
from bowerbird.analysis.holes import hole_at
from bowerbird.analysis.repo import RepoView
from bowerbird.analysis.store import IndexStore, index_path_for
from bowerbird.learners.lm.backend import Candidate
from bowerbird.learners.lm.evaluate import HoleOutcome, evaluate_repo, summarise


class CopyingModel:
    """Finds the last word of the prompt's last line earlier in the prompt (its last occurrence)
    and writes what followed it there, to the end of that line; "???" when there is none."""

    name = model = "copying"
    context_tokens = 2048
    fim = None
    healing = False

    def __init__(self, counter):
        self.counter = counter

    def generate(self, request):
        text = request.prompt
        last = text[text.rfind("\n") + 1 :].split(" ")[-1]
        earlier = text[: len(text) - len(last)]
        at = earlier.rfind(last) if last else -1
        if at < 0:
            return [Candidate("???\n", -1.0)]
        rest = earlier[at + len(last) :]
        return [Candidate(rest[: rest.find("\n") + 1] if "\n" in rest else rest, -0.5)]


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "colors.py").write_text(textwrap.dedent('''\
        def sunset():
            return make_palette("sunset", steps=12)


        BORDER = make_border(width=3)
        '''))
    (root / "pkg" / "view.py").write_text(textwrap.dedent('''\
        from pkg.colors import sunset


        def draw(canvas):
            canvas.fill(PALETTE, mode="over")
            canvas.fill(PALETTE, mode="over")
            shade = make_palette("sunset", steps=12)
            return canvas.flush(unique_thing=41)
        '''))
    store = IndexStore(index_path_for(root, tmp_path / "index"), root)
    index_repository(store)
    yield RepoView(store)
    store.close()


HOLES = [  # (line, col) in pkg/view.py
    (5, 13),  # canvas.fi|ll(PALETTE, mode="over"): the same line two lines up
    (6, 25),  # shade = make_palette(|"sunset", steps=12): the rest is in colors.py only
    (7, 28),  # return canvas.flush(uniq|ue_thing=41): nowhere else
]


def test_the_harness_scores_a_known_model_as_its_prompts_dictate(repo, tiny_model):
    from transformers import AutoTokenizer

    from bowerbird.learners.lm.tokens import TokenizerCounter

    model = CopyingModel(TokenizerCounter(AutoTokenizer.from_pretrained(tiny_model)))
    outcomes = evaluate_repo(repo, model, [{"path": "pkg/view.py", "line": l, "col": c} for l, c in HOLES])
    assert [o.target for o in outcomes] == ['ll(PALETTE, mode="over")', '"sunset", steps=12)', "ue_thing=41)"]
    copied, elsewhere, unique = outcomes
    text = (repo.root / "pkg/view.py").read_text()

    # 1. The line repeats inside the file: every prompt holds it, every method solves it.
    assert copied.em == {"in_file": True, "random": True, "retrieval": True, "oracle": True}
    assert copied.solved_by == set(copied.applicable) and copied.es["in_file"] == 1.0

    # 2. Only prompts with colors.py's line solve it: exactly the proposals whose context has it.
    hole = hole_at("pkg/view.py", text, 6, 25)
    has_line = {p.kind.id for p in build_proposals(repo, hole, ProposalOptions(prompt_tokens=2048))
                if 'make_palette("sunset", steps=12)' in p.text}
    assert has_line and elsewhere.solved_by == has_line - {62}
    assert elsewhere.em["in_file"] is False and elsewhere.em["oracle"] is True
    assert elsewhere.em["retrieval"] is True  # the window of colors.py shares its words
    assert elsewhere.es["in_file"] == 0.0  # "???" against the target

    # 3. Nothing anywhere: nothing solves it.
    assert unique.solved_by == set() and not any(unique.em.values())


def outcome(solved: set[int], applicable=(1, 2, 3, 62)) -> HoleOutcome:
    o = HoleOutcome("f.py", 0, 0, "x", solved_by=set(solved), applicable=list(applicable))
    o.em = {"in_file": 62 in solved, "random": False, "retrieval": 1 in solved, "oracle": bool(solved)}
    o.es = {"in_file": 0.5, "random": 0.0, "retrieval": 0.25}
    return o


def test_summary_picks_fixed_best_on_one_half_and_scores_the_other(monkeypatch):
    import bowerbird.learners.lm.evaluate as evaluate

    monkeypatch.setattr(evaluate, "greedy_line", lambda backend, prompt, n, heal="", memory="": "x")
    outcomes = [outcome({2, 62}), outcome({2}), outcome({2}), outcome(set()), outcome({62}), outcome({1})] * 4
    for o in outcomes:
        o.prompts = {pid: f"prompt {pid}" for pid in o.applicable}
    for number, o in enumerate(outcomes):
        o.line = number
    summary = summarise(outcomes, backend=None, seed=3, bootstrap=200)
    assert summary["fixed_best_id"] == 2 and summary["holes"] == summary["calibration_holes"] == 12
    scored = [outcomes[s["line"]] for s in summary["scored"]]
    assert len(scored) == 12
    m = summary["methods"]
    expected = {"in_file": lambda o: 62 in o.solved_by, "fixed_best": lambda o: 2 in o.solved_by,
                "oracle": lambda o: bool(o.solved_by), "retrieval": lambda o: 1 in o.solved_by}
    for method, solves in expected.items():
        assert m[method]["em"] == pytest.approx(sum(map(solves, scored)) / 12, abs=1e-4)
        lo, hi = m[method]["em_ci95"]
        assert lo <= m[method]["em"] <= hi
    assert m["fixed_best"]["relative_to_in_file"] == pytest.approx(m["fixed_best"]["em"] / m["in_file"]["em"] - 1, abs=1e-3)
    assert m["fixed_best"]["es"] == 1.0  # the stubbed line "x" is every target
    for entry, o in zip(summary["scored"], scored):  # each scored hole's own results, to compare runs hole by hole
        assert entry["target"] == "x" and entry["solved_by"] == sorted(o.solved_by)
        assert entry["em"] == {method: solves(o) for method, solves in expected.items()} | {"random": False}
        assert entry["es"]["fixed_best"] == 1.0 and entry["es"]["in_file"] == 0.5


def test_the_results_plot_is_a_png(tmp_path):
    from bowerbird.learners.lm.plot import plot_methods

    methods = {name: {"em": em, "em_ci95": [max(0, em - 0.1), em + 0.1], "es": 0.4, "relative_to_in_file": None}
               for name, em in (("in_file", 0.1), ("retrieval", 0.2), ("oracle", 0.5))}
    methods["oracle"]["es"] = None
    path = plot_methods({"repo": "/x/json", "model": "m", "holes": 30, "fixed_best_id": 4, "methods": methods},
                        tmp_path / "plots" / "json.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_a_quick_evaluation_runs_in_file_only(repo, tiny_model):
    from transformers import AutoTokenizer

    from bowerbird.learners.lm.tokens import TokenizerCounter

    model = CopyingModel(TokenizerCounter(AutoTokenizer.from_pretrained(tiny_model)))
    outcomes = evaluate_repo(repo, model, [{"path": "pkg/view.py", "line": l, "col": c} for l, c in HOLES],
                             methods=("in_file",))
    assert [o.applicable for o in outcomes] == [[62]] * 3
    assert [o.em for o in outcomes] == [{"in_file": True}, {"in_file": False}, {"in_file": False}]
    summary = summarise(outcomes * 2, None, methods=("in_file",), bootstrap=50)
    assert set(summary["methods"]) == {"in_file"}
    with pytest.raises(ValueError):
        evaluate_repo(repo, model, [], methods=("retrieval",))


def test_eval_completion_command(tmp_path, tiny_model, capsys):
    import json
    from pathlib import Path

    from bowerbird.cli import main

    fixture = str(Path(__file__).parent / "data" / "pyrepo")
    assert main(["eval", "completion", "--repo", fixture, "--holes", "8", "--model", str(tiny_model),
                 "--methods", "in_file,retrieval", "--index-dir", str(tmp_path), "--plot", str(tmp_path / "p.png"),
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["methods"]) == {"in_file", "retrieval"} and summary["holes"] >= 2
    assert all(0.0 <= m["es"] <= 1.0 for m in summary["methods"].values())
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["eval", "completion", "--repo", fixture, "--model", str(tiny_model), "--methods", "in_file,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert summary["copy_cache"] == 0.0
    for weight in ("1.0", "-0.5"):
        assert main(["eval", "completion", "--repo", fixture, "--model", str(tiny_model), "--copy-cache", weight]) == 2
        assert "--copy-cache must be in [0, 1)" in capsys.readouterr().err
    assert main(["eval", "completion", "--repo", fixture, "--holes", "4", "--model", str(tiny_model),
                 "--methods", "in_file", "--index-dir", str(tmp_path), "--copy-cache", "0.3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["copy_cache"] == 0.3
    assert main(["eval", "completion", "--repo", fixture, "--model", str(tiny_model), "--copy-memory", "-1"]) == 2
    assert "--copy-memory must be >= 0" in capsys.readouterr().err
    assert main(["eval", "completion", "--repo", fixture, "--holes", "4", "--model", str(tiny_model),
                 "--methods", "in_file", "--index-dir", str(tmp_path), "--copy-cache", "0.3", "--copy-memory", "256",
                 "--copy-written", "off", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["copy_memory"], summary["copy_written"]) == (256, False)


def test_a_healed_sweep_heals_every_prompt(repo, tiny_model):
    from bowerbird.learners.lm.loading import load_backend

    backend = load_backend("transformers", str(tiny_model))
    specs = [{"path": "pkg/view.py", "line": l, "col": c} for l, c in HOLES]
    plain = evaluate_repo(repo, backend, specs, methods=("in_file", "oracle"))
    healed = evaluate_repo(repo, backend, specs, methods=("in_file", "oracle"), healing=True)
    assert all(h == "" for o in plain for h in o.heals.values())
    text = (repo.root / "pkg/view.py").read_text().split("\n")
    for o in healed:
        assert set(o.heals) == set(o.applicable)
        assert all(text[o.line][: o.col].endswith(h) and h for h in o.heals.values())  # mid-word: all heal
        for pid, prompt in o.prompts.items():  # the code before the cursor, less what healing cut
            before = prompt.split("<fim_suffix>")[0]
            kept = text[o.line][: o.col - len(o.heals[pid])]
            assert before.endswith(kept) and not before.endswith(text[o.line][: o.col])
    assert [o.target for o in healed] == [o.target for o in plain]


def test_a_fixed_best_chosen_elsewhere_is_used_as_given(monkeypatch):
    import bowerbird.learners.lm.evaluate as evaluate

    monkeypatch.setattr(evaluate, "greedy_line", lambda backend, prompt, n, heal="", memory="": "x")
    outcomes = [outcome({2, 62}), outcome({2}), outcome({2}), outcome(set()), outcome({62}), outcome({1, 62})] * 4
    for number, o in enumerate(outcomes):
        o.prompts, o.line = {pid: f"prompt {pid}" for pid in o.applicable}, number
    summary = summarise(outcomes, backend=None, seed=3, bootstrap=200, fixed=1)
    assert summary["fixed_best_id"] == 1 and summary["fixed_best_given"]
    scored = [outcomes[s["line"]] for s in summary["scored"]]
    assert summary["methods"]["fixed_best"]["em"] == pytest.approx(sum(1 in o.solved_by for o in scored) / 12, abs=1e-4)
    assert not summarise(outcomes, backend=None, seed=3, bootstrap=200)["fixed_best_given"]


def test_fixed_best_must_be_a_proposal_id(tmp_path, capsys):
    from bowerbird.cli import main

    (tmp_path / "m.py").write_text("x = 1\n")
    assert main(["eval", "completion", "--repo", str(tmp_path), "--fixed-best", "63"]) == 2
    assert "--fixed-best must be a proposal id" in capsys.readouterr().err


def test_fixed_best_is_a_proposal_never_the_in_file_baseline(monkeypatch):
    import bowerbird.learners.lm.evaluate as evaluate

    monkeypatch.setattr(evaluate, "greedy_line", lambda backend, prompt, n, heal="", memory="": "x")
    outcomes = [outcome({62}), outcome({62, 4}), outcome({62}), outcome(set())] * 6  # in_file solves most
    for number, o in enumerate(outcomes):
        o.prompts, o.line = {pid: f"prompt {pid}" for pid in o.applicable}, number
    assert summarise(outcomes, backend=None, seed=1, bootstrap=50)["fixed_best_id"] == 4


def test_rlpg_h_scores_the_proposal_the_chooser_picks(repo, tiny_model):
    from transformers import AutoTokenizer

    from bowerbird.learners.lm.tokens import TokenizerCounter

    model = CopyingModel(TokenizerCounter(AutoTokenizer.from_pretrained(tiny_model)))
    spec = [{"path": "pkg/view.py", "line": 6, "col": 25}]  # solved only by proposals holding colors.py's line
    [base] = evaluate_repo(repo, model, spec, methods=("in_file", "oracle"))
    good = min(base.solved_by)
    bad = min(set(base.applicable) - base.solved_by - {62})
    seen = []

    def picking(pid):
        def chooser(hole, proposals):
            seen.append((hole.line, hole.col, tuple(sorted(p.kind.id for p in proposals))))
            return pid
        return chooser

    for pid, solved in ((good, True), (bad, False), (99, False)):  # 99: no such proposal -> in_file
        [o] = evaluate_repo(repo, model, spec, methods=("in_file", "rlpg_h"), choosers={"rlpg_h": picking(pid)})
        assert o.em["rlpg_h"] is solved and o.es["rlpg_h"] == (1.0 if solved else 0.0)
        assert o.solved_by <= {62, pid}  # without oracle & co only in_file and the pick are checked
    [full] = evaluate_repo(repo, model, spec, methods=("in_file", "rlpg_h", "oracle"),
                           choosers={"rlpg_h": picking(good)})
    assert full.solved_by == base.solved_by and full.em["rlpg_h"] is True
    assert seen[0] == (6, 25, tuple(base.applicable))
    with pytest.raises(ValueError, match="rlpg_h needs a chooser"):
        evaluate_repo(repo, model, spec, methods=("in_file", "rlpg_h"))


def test_rlpg_h_needs_a_classifier(tmp_path, capsys):
    from bowerbird.cli import main

    (tmp_path / "m.py").write_text("x = 1\n")
    assert main(["eval", "completion", "--repo", str(tmp_path), "--methods", "in_file,rlpg_h"]) == 2
    assert "needs --ppc DIR" in capsys.readouterr().err
    assert main(["eval", "completion", "--repo", str(tmp_path), "--ppc", str(tmp_path)]) == 2
    assert "not a `train ppc` folder" in capsys.readouterr().err
