"""Labels for the prompt proposal classifier: what the harness's check says, kept on disk and resumed."""

from __future__ import annotations

import json
from pathlib import Path

from test_evaluation import HOLES, CopyingModel, repo  # noqa: F401  (repo: the fixture)

from bowerbird.learners.lm.evaluate import evaluate_repo
from bowerbird.learners.ppc.labels import hole_window, label_holes, read_labels


def copying_model(tiny_model):
    from transformers import AutoTokenizer

    from bowerbird.learners.lm.tokens import TokenizerCounter

    return CopyingModel(TokenizerCounter(AutoTokenizer.from_pretrained(tiny_model)))


def test_the_window_is_two_lines_each_side_of_the_cut_line():
    prefix = "a\nb\nc\nd = f(x"
    assert hole_window(prefix, "e\nf\ng\n") == "b\nc\nd = f(x\ne\nf"
    assert hole_window("x = (", "") == "x = ("  # first and last line of a file


def test_labels_are_the_check_of_every_proposal_and_a_stopped_run_resumes(repo, tiny_model, tmp_path):  # noqa: F811
    model = copying_model(tiny_model)
    holes = [{"path": "pkg/view.py", "line": line, "col": col} for line, col in HOLES]
    out = tmp_path / "labels" / "labels.jsonl"
    first = label_holes(repo, model, holes[:2], out)
    assert (first.labelled, first.cached, first.skipped) == (2, 0, 0)
    copied, elsewhere = read_labels(out)
    # the same verdicts as the evaluation harness, proposal by proposal
    outcomes = evaluate_repo(repo, model, holes[:2], methods=("in_file", "oracle"))
    for record, outcome in zip((copied, elsewhere), outcomes):
        assert record["applicable"] == outcome.applicable and record["solved"] == sorted(outcome.solved_by)
        assert record["repo"] == str(repo.root) and record["target"] == outcome.target
    assert copied["solved"] == copied["applicable"] and 62 in copied["solved"]  # the line repeats in the file
    assert elsewhere["solved"] and 62 not in elsewhere["solved"]  # only proposals holding colors.py's line
    assert elsewhere["window"] == ('    canvas.fill(PALETTE, mode="over")\n    canvas.fill(PALETTE, mode="over")\n'
                                   '    shade = make_palette(\n    return canvas.flush(unique_thing=41)\n')

    with out.open("a") as sink:  # a run killed while writing
        sink.write('{"repo": "' + str(repo.root) + '", "path": "pkg/vi')
    blank = {"path": "pkg/view.py", "line": 7, "col": len("    return canvas.flush(unique_thing=41)")}
    second = label_holes(repo, model, holes + [blank], out)
    assert (second.labelled, second.cached, second.skipped) == (1, 2, 1)
    records = read_labels(out)
    assert [r["line"] for r in records] == [5, 6, 7, 7]
    assert records[2]["solved"] == [] and records[3] == {"repo": str(repo.root), "path": "pkg/view.py", "line": 7,
                                                         "col": blank["col"], "skipped": True}
    third = label_holes(repo, model, holes + [blank], out)  # everything there: nothing redone
    assert (third.labelled, third.cached) == (0, 4) and len(read_labels(out)) == 4


def test_unreadable_lines_are_ignored(tmp_path):
    path = tmp_path / "labels.jsonl"
    assert read_labels(path) == []  # no file yet
    good = {"repo": "r", "path": "a.py", "line": 1, "col": 2, "solved": []}
    path.write_text("\n".join(["[1, 2]", "not json", json.dumps({"path": "a.py"}), json.dumps(good), ""]))
    assert read_labels(path) == [good]


def test_the_labels_command(tmp_path, tiny_model, capsys):
    from bowerbird.cli import main

    fixture = str(Path(__file__).parent / "data" / "pyrepo")
    out = tmp_path / "labels.jsonl"
    args = ["train", "ppc-labels", "--repos", fixture, "--out", str(out), "--holes", "3", "--model", str(tiny_model),
            "--backend", "transformers", "--index-dir", str(tmp_path / "index"), "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["repos"][0]["labelled"] + summary["repos"][0]["skipped"] == 3
    assert summary["holes"] == len([r for r in read_labels(out) if not r.get("skipped")])
    assert main(args) == 0  # run again: all there
    assert json.loads(capsys.readouterr().out)["repos"][0]["cached"] == 3
    assert main(["train", "ppc-labels", "--repos", fixture, "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["train", "ppc-labels", "--repos", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert main(["train", "ppc-labels", "--repos", fixture, "--out", str(out), "--holes", "0"]) == 2
    assert "--holes must be at least 1" in capsys.readouterr().err
