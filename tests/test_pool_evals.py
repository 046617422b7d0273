"""scripts/pool_evals.py: pooling eval results over packages and pairing two runs' holes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "pool_evals.py"
spec = importlib.util.spec_from_file_location("pool_evals", SCRIPT)
pool_evals = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pool_evals)


def run(folder: Path, repo: str, in_file: list[bool], oracle: list[bool]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    scored = [{"path": "m.py", "line": i, "col": 0, "target": "x", "em": {"in_file": a, "oracle": b},
               "es": {"in_file": 0.5}} for i, (a, b) in enumerate(zip(in_file, oracle))]
    result = {"repo": repo, "holes": len(scored), "scored": scored, "methods": {
        "in_file": {"em": sum(in_file) / len(in_file), "es": 0.5},
        "oracle": {"em": sum(oracle) / len(oracle), "es": None}}}
    (folder / f"{Path(repo).name}.json").write_text(json.dumps(result))


def test_pooled_exact_match_weights_packages_by_their_holes(tmp_path):
    run(tmp_path / "a", "/lib/python3.11/email", [True, False, False, False], [True, True, False, False])
    run(tmp_path / "a", "/venv/site-packages/rich", [True, True], [True, True])
    report = pool_evals.pooled(pool_evals.load(tmp_path / "a"))
    assert report["holes"] == 6
    assert report["methods"]["in_file"]["em"] == pytest.approx(3 / 6, abs=1e-4)
    assert report["methods"]["oracle"]["em"] == pytest.approx(4 / 6, abs=1e-4)
    assert report["methods"]["oracle"]["relative_to_in_file"] == pytest.approx(4 / 3 - 1, abs=1e-3)
    lo, hi = report["methods"]["in_file"]["em_ci95"]
    assert 0 <= lo <= 0.5 <= hi <= 1
    stdlib = pool_evals.pooled(pool_evals.load(tmp_path / "a", stdlib_only=True))
    assert stdlib["packages"] == ["email"] and stdlib["methods"]["in_file"]["em"] == 0.25


def test_paired_difference_is_over_the_holes_both_runs_scored(tmp_path):
    run(tmp_path / "new", "/lib/email", [True, True, True, False], [True, True, True, True])
    run(tmp_path / "old", "/lib/email", [False, False, True, False], [True, False, True, False])
    report = pool_evals.paired(pool_evals.load(tmp_path / "new"), pool_evals.load(tmp_path / "old"))
    assert report["holes"] == 4
    in_file = report["methods"]["in_file"]
    assert (in_file["em"], in_file["em_other"], in_file["difference"]) == (0.75, 0.25, 0.5)
    lo, hi = in_file["difference_ci95"]
    assert 0 <= lo <= 0.5 <= hi


def test_files_that_are_not_eval_results_are_skipped(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert pool_evals.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.json: not an eval result" in err and "no eval results" in err


def test_fixed_best_across_packages_is_chosen_on_the_other_packages(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    for name, solved in (("a", [[7], [7, 62], []]), ("b", [[5], [5], [7]]), ("c", [[5, 7], [62], []])):
        scored = [{"path": "m.py", "line": i, "col": 0, "em": {}, "solved_by": ids} for i, ids in enumerate(solved)]
        (folder / f"{name}.json").write_text(json.dumps({"repo": f"/lib/{name}", "holes": 3, "scored": scored,
                                                          "methods": {"in_file": {"em": 0.0}}}))
    report = pool_evals.fixed_best_across_packages(pool_evals.load(folder))
    # a: b and c give 5 three wins, 7 two -> 5 solves none of a; b: 7 (three) -> one; c: 7 (three) vs 5 (two) -> one
    assert report["chosen"] == {"a": 5, "b": 7, "c": 7}
    assert report["holes"] == 9 and report["em"] == round(2 / 9, 4)


def test_the_best_single_proposal_is_the_one_that_solves_most_holes_of_all_runs(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    for name, solved in (("a", [[7], [7, 62], []]), ("b", [[5], [5], [7]]), ("c", [[5, 7], [62], []])):
        scored = [{"path": "m.py", "line": i, "col": 0, "em": {"in_file": 62 in ids}, "solved_by": ids}
                  for i, ids in enumerate(solved)]
        (folder / f"{name}.json").write_text(json.dumps({"repo": f"/lib/{name}", "holes": 3, "scored": scored,
                                                          "methods": {"in_file": {"em": 0.0}}}))
    best = pool_evals.best_proposal(pool_evals.load(folder))
    # 7 solves four holes, 5 three; in_file (62) solves two and is never the choice
    assert (best["id"], best["solved"], best["in_file_solved"], best["holes"]) == (7, 4, 2, 9)
    assert best["ranking"] == [(7, 4), (5, 3)]
    only_in_file = [{"path": "m.py", "line": 0, "col": 0, "em": {"in_file": True}, "solved_by": [62]}]
    (folder / "a.json").write_text(json.dumps({"repo": "/lib/a", "holes": 1, "scored": only_in_file,
                                               "methods": {"in_file": {"em": 1.0}}}))
    for name in ("b", "c"):
        (folder / f"{name}.json").unlink()
    assert pool_evals.best_proposal(pool_evals.load(folder))["id"] == 62  # nothing else solves anything
