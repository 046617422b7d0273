"""`bowerbird train gfsa` and `bowerbird eval gfsa`: tiny runs, the JSON shapes, usage errors."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch

from bowerbird.cli import main
from bowerbird.commands import gfsa as gfsa_command
from bowerbird.learners.gfsa.checkpoint import load_layer

FILES = {
    "pkg/__init__.py": "",
    "pkg/loops.py": """
        def total(items, limit):
            s = 0
            for item in items:
                if item > limit:
                    break
                s += item
            return s


        def first(xs):
            for x in xs:
                return x
            return None
    """,
    "pkg/calc.py": """
        def area(w, h):
            a = w * h
            return a


        def clamp(v, lo, hi):
            if v < lo:
                v = lo
            elif v > hi:
                v = hi
            return v
    """,
    "pkg/broken.py": "def oops(:\n    pass\n",
}


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def train_tiny(repo, out, capsys, *extra):
    code = main(["train", "gfsa", "--out", str(out), "--repo", str(repo), "--functions", "3",
                 "--steps", "4", "--states", "2", "--log-every", "2", "--json", *extra])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.fixture
def model(repo, tmp_path, capsys):
    out = tmp_path / "model"
    train_tiny(repo, out, capsys)
    return out


def test_train_writes_a_loadable_checkpoint_and_a_train_state(repo, tmp_path, capsys):
    out = tmp_path / "model"
    summary = train_tiny(repo, out, capsys)
    assert summary["step"] == 4 and summary["functions"] == 3
    assert summary["kinds"] == ["CFG_NEXT", "LAST_READ", "LAST_WRITE"]
    layer, kinds = load_layer(out)
    assert kinds == ["CFG_NEXT", "LAST_READ", "LAST_WRITE"]
    assert layer.config.num_states == 2 and layer.config.num_edge_types == 3
    state = json.loads((out / "train_state.json").read_text())
    assert [p["step"] for p in state["curve"]] == [2, 4]
    assert state["seconds"] > 0 and state["finished"]
    assert state["skipped"]["unparsable_files"] == 1  # pkg/broken.py


def test_train_resumes_with_the_same_settings_and_refuses_others(repo, tmp_path, capsys):
    out = tmp_path / "model"
    train_tiny(repo, out, capsys)
    summary = train_tiny(repo, out, capsys, "--steps", "6")
    assert summary["step"] == 6
    state = json.loads((out / "train_state.json").read_text())
    assert [p["step"] for p in state["curve"]] == [2, 4, 6]
    assert [s["start_step"] for s in state["sessions"]] == [0, 4]
    code = main(["train", "gfsa", "--out", str(out), "--repo", str(repo), "--functions", "3",
                 "--steps", "8", "--states", "3"])  # fmt: skip
    assert code == 2
    assert "other settings" in capsys.readouterr().err


def test_train_on_files_with_chosen_kinds(repo, tmp_path, capsys):
    out = tmp_path / "model"
    code = main(["train", "gfsa", "--out", str(out), "--files", str(repo / "pkg/calc.py"),
                 "--kinds", "AST_PARENT", "--steps", "2", "--states", "1", "--no-platt-scale", "--json"])  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out)["functions"] == 2
    layer, kinds = load_layer(out)
    assert kinds == ["AST_PARENT"] and not layer.config.platt_scale


def test_eval_prints_the_design_shape(repo, model, capsys):
    code = main(["eval", "gfsa", "--repo", str(repo), "--model", str(model), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["functions"] == 4
    assert set(result["edges"]) == {"CFG_NEXT", "LAST_READ", "LAST_WRITE"}
    for counts in result["edges"].values():
        assert {"precision", "recall", "f1"} <= set(counts)
        assert all(0.0 <= counts[k] <= 1.0 for k in ("precision", "recall", "f1"))
    assert result["skipped"] == {"unparsable_files": 1}


def test_eval_with_baselines_reports_every_method(repo, model, capsys):
    code = main(["eval", "gfsa", "--repo", str(repo), "--model", str(model), "--kinds", "CFG_NEXT",
                 "--baselines", "--train-repo", str(repo), "--baseline-steps", "3", "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert set(result["edges"]) == {"CFG_NEXT"}
    assert set(result["methods"]) == {"gfsa", "gnn", "random_walk"}
    for method in result["methods"].values():
        assert set(method["edges"]) == {"CFG_NEXT"}
    assert result["methods"]["gfsa"]["edges"] == result["edges"]
    assert result["methods"]["gnn"]["train"]["steps"] == 3


def test_eval_text_output_is_a_table(repo, model, capsys):
    assert main(["eval", "gfsa", "--repo", str(repo), "--model", str(model)]) == 0
    out = capsys.readouterr().out
    assert "CFG_NEXT" in out and "precision" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["eval", "gfsa", "--repo", "{missing}", "--model", "{model}"], "no such directory"),
        (["eval", "gfsa", "--repo", "{repo}", "--model", "{missing}"], "train gfsa"),
        (["eval", "gfsa", "--repo", "{repo}", "--model", "{model}", "--kinds", "NOPE"], "unknown edge kind NOPE"),
        (["eval", "gfsa", "--repo", "{repo}", "--model", "{model}", "--kinds", "CALLS"], "not trained for CALLS"),
        (["train", "gfsa", "--out", "{out}", "--repo", "{repo}", "--kinds", "CFG_NEXT,NOPE"], "unknown edge kind NOPE"),
        (["train", "gfsa", "--out", "{out}", "--repo", "{missing}"], "no such directory"),
        (["train", "gfsa", "--out", "{out}", "--files", "{missing}"], "no such file"),
        (["train", "gfsa", "--out", "{out}", "--repo", "{repo}", "--same-variable"], "needs a view with variables"),
        (["train", "gfsa", "--out", "{out}", "--repo", "{repo}", "--walkers", "0"], "--walkers must be at least 1"),
        (["train", "gfsa", "--out", "{out}", "--repo", "{repo}", "--init", "{missing}"], "--init"),
        (["train", "gfsa", "--out", "{out}", "--repo", "{repo}", "--init", "{model}", "--states", "3"],
         "other settings"),
    ],
)
def test_bad_input_is_a_usage_error(repo, model, tmp_path, capsys, argv, message):
    places = {"missing": str(tmp_path / "missing"), "model": str(model), "repo": str(repo),
              "out": str(tmp_path / "out")}  # fmt: skip
    assert main([a.format(**places) for a in argv]) == 2
    assert message in capsys.readouterr().err


def test_train_from_a_layer_widened_to_two_walkers(repo, model, tmp_path, capsys):
    out = tmp_path / "wide"
    summary = train_tiny(repo, out, capsys, "--init", str(model), "--walkers", "2")
    assert summary["step"] == 4
    layer, kinds = load_layer(out)
    init, _ = load_layer(model)
    assert layer.config.walkers == 2 and layer.config.sources == init.config.sources
    assert layer.policy.logits.shape[0] == 2 * init.policy.logits.shape[0]
    assert not torch.equal(layer.policy.logits[::2], init.policy.logits)  # walker 0 trained on
    state = json.loads((out / "train_state.json").read_text())
    assert state["settings"]["init"] == str(model) and state["settings"]["walkers"] == 2
    assert train_tiny(repo, out, capsys, "--init", str(model), "--walkers", "2", "--steps", "6")["step"] == 6
    assert main(["train", "gfsa", "--out", str(out), "--repo", str(repo), "--functions", "3", "--steps", "8",
                 "--states", "2", "--init", str(model)]) == 2  # resumed with another --walkers  # fmt: skip
    assert "other settings" in capsys.readouterr().err
    assert state["init"]["step"] == 4  # the starting layer's own training, for the card
    code = main(["eval", "gfsa", "--repo", str(repo), "--model", str(out), "--json"])
    assert code == 0 and set(json.loads(capsys.readouterr().out)["edges"]) == {"CFG_NEXT", "LAST_READ", "LAST_WRITE"}
    assert main(["train", "ship-gfsa", "--run", str(out), "--to", str(tmp_path / "shipped")]) == 0
    card = (tmp_path / "shipped" / "MODEL_CARD.md").read_text()
    assert f"--walkers 2 --init {model}" in card and "2 walkers per edge type, combined by noisy-OR" in card
    assert "itself trained 4 steps" in card


def test_eval_without_a_shipped_layer_says_how_to_train_one(repo, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(gfsa_command, "default_model_folder", lambda: tmp_path / "nothing")
    assert main(["eval", "gfsa", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "no shipped GFSA layer" in err and "bowerbird train gfsa --out DIR" in err


def test_eval_of_a_repo_without_functions_is_a_usage_error(tmp_path, model, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "m.py").write_text("X = 1\n")
    assert main(["eval", "gfsa", "--repo", str(empty), "--model", str(model)]) == 2
    assert "no functions" in capsys.readouterr().err


def test_the_view_round_trips_through_train_checkpoint_and_eval(repo, tmp_path, capsys):
    out = tmp_path / "variables"
    summary = train_tiny(repo, out, capsys, "--view", "variables", "--kinds", "LAST_READ,LAST_WRITE")
    assert summary["view"] == "variables" and summary["step"] == 4
    meta = json.loads((out / "config.json").read_text())
    assert meta["gfsa"]["view"] == "variables"
    assert json.loads((out / "train_state.json").read_text())["settings"]["view"] == "variables"
    layer, kinds = load_layer(out)
    assert layer.config.view == "variables" and kinds == ["LAST_READ", "LAST_WRITE"]
    code = main(["eval", "gfsa", "--repo", str(repo), "--model", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["view"] == "variables" and result["functions"] == 4
    assert set(result["edges"]) == {"LAST_READ", "LAST_WRITE"}
    # resuming with the other view is refused; with the same one it continues
    code = main(["train", "gfsa", "--out", str(out), "--repo", str(repo), "--functions", "3",
                 "--steps", "6", "--states", "2", "--kinds", "LAST_READ,LAST_WRITE"])  # fmt: skip
    assert code == 2 and "other settings" in capsys.readouterr().err
    assert train_tiny(repo, out, capsys, "--view", "variables", "--kinds", "LAST_READ,LAST_WRITE",
                      "--steps", "6")["step"] == 6  # fmt: skip


@pytest.mark.parametrize("view", ["accesses", "accesses+fields+scan"])
def test_a_same_variable_layer_with_sources_trains_saves_and_evaluates(repo, tmp_path, capsys, view):
    out = tmp_path / "same"
    summary = train_tiny(repo, out, capsys, "--view", view, "--same-variable", "--kinds", "LAST_READ,CFG_NEXT")
    assert summary["step"] == 4
    layer, _ = load_layer(out)
    assert layer.config.same_variable
    assert layer.config.sources[0] and set(layer.config.sources[0]) <= {"Name:read", "Name:write", "Name:readwrite"}
    settings = json.loads((out / "train_state.json").read_text())["settings"]
    assert settings["same_variable"] is True and settings["sources"] == "targets"
    assert main(["eval", "gfsa", "--repo", str(repo), "--model", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["view"] == view and set(result["edges"]) == {"LAST_READ", "CFG_NEXT"}


def test_eval_of_a_default_model_reports_the_ast_view(repo, model, capsys):
    assert json.loads((model / "config.json").read_text())["gfsa"]["view"] == "ast"
    assert main(["eval", "gfsa", "--repo", str(repo), "--model", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["view"] == "ast"


def test_a_run_saved_before_views_existed_evaluates_and_resumes_as_the_default_view(repo, model, capsys):
    for name, section in (("config.json", "gfsa"), ("train_state.json", "settings")):
        path = model / name
        meta = json.loads(path.read_text())
        del meta[section]["view"]
        path.write_text(json.dumps(meta))
    assert main(["eval", "gfsa", "--repo", str(repo), "--model", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["view"] == "ast"
    assert train_tiny(repo, model, capsys, "--steps", "6")["step"] == 6
    assert main(["train", "gfsa", "--out", str(model), "--repo", str(repo), "--functions", "3",
                 "--steps", "8", "--states", "2", "--view", "variables"]) == 2  # fmt: skip
    assert "other settings" in capsys.readouterr().err


def test_eval_with_baselines_of_a_variables_model(repo, tmp_path, capsys):
    out = tmp_path / "variables"
    train_tiny(repo, out, capsys, "--view", "variables", "--kinds", "LAST_WRITE")
    code = main(["eval", "gfsa", "--repo", str(repo), "--model", str(out), "--baselines",
                 "--train-repo", str(repo), "--baseline-steps", "3", "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["view"] == "variables" and result["baseline_view"] == "variables"
    assert set(result["methods"]) == {"gfsa", "gnn", "random_walk"}
    assert result["methods"]["gnn"]["train"]["config"]["view"] == "variables"
    code = main(["eval", "gfsa", "--repo", str(repo), "--model", str(out), "--baselines", "--baseline-view", "ast",
                 "--train-repo", str(repo), "--baseline-steps", "3", "--json"])  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["baseline_view"] == "ast"
    assert result["methods"]["gnn"]["train"]["config"]["view"] == "ast"


def test_the_view_choices_are_the_views_of_the_gfsa_view():
    from bowerbird.analysis.graphs.gfsa_view import DEFAULT_VIEW, VIEWS

    assert gfsa_command.VIEW_CHOICES == VIEWS
    assert gfsa_command.VIEW_CHOICES[0] == DEFAULT_VIEW == gfsa_command.RESUME_DEFAULTS["view"]


def test_ship_writes_an_fp16_layer_with_the_same_edges_and_a_card(repo, model, tmp_path, capsys):
    assert main(["eval", "gfsa", "--repo", str(repo), "--model", str(model), "--json"]) == 0
    report = tmp_path / "pkg.json"
    report.write_text(capsys.readouterr().out)
    notes = tmp_path / "notes.md"
    notes.write_text("## Limits\n\nA tiny test layer.\n")
    shipped = tmp_path / "shipped"
    assert main(["train", "ship-gfsa", "--run", str(model), "--eval", str(report), "--notes", str(notes),
                 "--to", str(shipped)]) == 0  # fmt: skip
    capsys.readouterr()
    from safetensors.torch import load_file

    assert load_file(str(shipped / "model.safetensors"))["policy.logits"].dtype == torch.float16
    assert main(["eval", "gfsa", "--repo", str(repo), "--model", str(shipped), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    before = json.loads(report.read_text())
    assert {k: (e["tp"], e["fp"], e["fn"]) for k, e in again["edges"].items()} == {
        k: (e["tp"], e["fp"], e["fn"]) for k, e in before["edges"].items()
    }
    card = (shipped / "MODEL_CARD.md").read_text()
    assert "bowerbird train gfsa --out DIR --kinds CFG_NEXT,LAST_READ,LAST_WRITE --view ast --states 2" in card
    assert "| repo | 4 |" in card and "all (pooled counts)" in card and "A tiny test layer." in card
    assert json.loads((shipped / "train_state.json").read_text())["step"] == 4


def test_ship_refuses_a_report_of_another_layer(repo, model, tmp_path, capsys):
    report = tmp_path / "other.json"
    report.write_text(json.dumps({"repo": "x", "functions": 1, "edges": {"CALLS": {}}}))
    assert main(["train", "ship-gfsa", "--run", str(model), "--eval", str(report), "--to", str(tmp_path / "s")]) == 2
    assert "lacks CFG_NEXT" in capsys.readouterr().err
    assert main(["train", "ship-gfsa", "--run", str(tmp_path / "nothing"), "--to", str(tmp_path / "s")]) == 2
    assert "not a `train gfsa` run" in capsys.readouterr().err
