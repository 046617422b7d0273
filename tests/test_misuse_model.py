"""The misuse model: its inputs, heads and masking, that a tiny one fits a few examples with each
edge set, and the metrics and precision threshold of its evaluation."""

from __future__ import annotations

import textwrap

import pytest
import torch

from bowerbird.analysis.graphs.tensors import build_subtoken_vocabulary, node_type_vocabulary
from bowerbird.learners.gfsa.encoding import num_observations
from bowerbird.learners.misuse.data import Bug, MisuseExample
from bowerbird.learners.misuse.evaluate import (
    Prediction,
    at_threshold,
    calibration_split,
    false_alarms_per_1000,
    metrics,
    precision_threshold,
    predict,
)
from bowerbird.learners.misuse.graph_inputs import ExampleError, misuse_graph, subtoken_texts
from bowerbird.learners.misuse.model import MisuseConfig, MisuseModel, example_loss
from bowerbird.learners.misuse.train import FitConfig, fit, lr_scale

CLEAN = textwrap.dedent(
    """\
    def total(items, start):
        count = start
        for item in items:
            count = count + item
        return count
    """
)
# `start` written where `count` belongs (line 4, column 16)
BUGGY = CLEAN.replace("count = count + item", "count = start + item")
OTHER_CLEAN = textwrap.dedent(
    """\
    def scale(values, factor):
        out = []
        for value in values:
            out.append(value * factor)
        return out
    """
)
# `values` written where `value` belongs (line 4, column 19)
OTHER_BUGGY = OTHER_CLEAN.replace("out.append(value * factor)", "out.append(values * factor)")


def example(source: str, bug: Bug | None, targets=(), name="f") -> MisuseExample:
    return MisuseExample(
        id=f"t.py:{name}", package="t", path="t.py", function=name, source=source, bug=bug,
        repair_targets=tuple(targets), candidates=("count", "item", "items", "start"), tokens=0, nodes=0,
    )  # fmt: skip


def examples() -> list[MisuseExample]:
    return [
        example(CLEAN, None, name="total"),
        example(BUGGY, Bug(4, 16, "start", "count"), [(2, 4), (4, 8), (5, 11)], name="total"),
        example(OTHER_CLEAN, None, name="scale"),
        example(OTHER_BUGGY, Bug(4, 19, "values", "value"), [(3, 8)], name="scale"),
    ]


def tiny_model(edge_set: str, vocabulary: dict, **overrides) -> MisuseModel:
    torch.manual_seed(0)
    config = MisuseConfig(vocab_size=len(vocabulary) + 1, num_node_types=len(node_type_vocabulary()) + 1,
                          edge_set=edge_set, hidden=32, rounds=3, **{"access_inputs": True, **overrides})  # fmt: skip
    return MisuseModel(config)


@pytest.fixture
def vocabulary() -> dict:
    return build_subtoken_vocabulary(subtoken_texts(examples()), 100)


def test_inputs_point_at_reads_for_location_and_at_accesses_for_repair(vocabulary):
    g = misuse_graph(examples()[1], vocabulary, "hand")
    data = [(n, d) for n, d in sorted(misuse_graph_nodes(examples()[1]))]
    names = {n: d["text"] for n, d in data}
    reads = [names[int(n)] for n in g.uses]
    assert reads == ["start", "items", "start", "item", "count"]  # source order; writes left out
    assert names[int(g.uses[g.bug])] == "start" and g.bug == 2
    accesses = [names[int(n)] for n in g.accesses]
    assert sorted(accesses) == ["count"] * 3 + ["item"] * 2 + ["items"] * 2 + ["start"] * 3  # parameters too
    assert sorted(accesses[int(k)] for k in g.repairs) == ["count", "count", "count"]
    assert set(g.edges) == {"AST_CHILD", "AST_PARENT", "NEXT_SYNTAX", "CFG_NEXT", "LAST_READ", "LAST_WRITE",
                            "COMPUTED_FROM", "RETURNS_TO", "FORMAL_ARG_NAME", "LAST_LEXICAL_USE", "CALLS"}  # fmt: skip
    assert set(misuse_graph(examples()[1], vocabulary, "ast").edges) == {"AST_CHILD", "AST_PARENT"}
    clean = misuse_graph(examples()[0], vocabulary, "hand")
    assert clean.bug == -1 and clean.repairs.numel() == 0
    # access kinds: parameters and `count =` / `for item` write, the rest read, other nodes none
    kinds = {(names[n], int(g.access_kinds[n])) for n, _ in data if int(g.access_kinds[n])}
    assert kinds == {("items", 2), ("start", 2), ("count", 2), ("item", 2), ("start", 1), ("items", 1),
                     ("item", 1), ("count", 1)}  # fmt: skip
    assert int((g.access_kinds > 0).sum()) == len(g.accesses)
    augmented = misuse_graph(example(CLEAN.replace("count = count + item", "count += item"), None), vocabulary)
    assert 3 in augmented.access_kinds.tolist()  # `count +=` reads and writes


def misuse_graph_nodes(ex: MisuseExample):
    from bowerbird.learners.misuse.graph_inputs import function_graph

    return function_graph(ex).graph.nodes(data=True)


def test_an_example_whose_bug_is_not_at_a_read_is_refused(vocabulary):
    with pytest.raises(ExampleError, match="not a read"):
        misuse_graph(example(BUGGY, Bug(2, 4, "count", "start"), [(2, 4)]), vocabulary)  # a write
    with pytest.raises(ExampleError, match="does not parse"):
        misuse_graph(example("def f(:\n", None), vocabulary)


@pytest.mark.parametrize("edge_set", ["ast", "hand", "gfsa"])
def test_heads_have_one_logit_per_read_plus_no_bug_and_one_per_access(edge_set, vocabulary, one_torch_thread):
    model = tiny_model(edge_set, vocabulary, gfsa_view="ast")
    graphs = [misuse_graph(ex, vocabulary, edge_set, "ast") for ex in examples()]
    outputs = model(graphs)
    for g, o in zip(graphs, outputs, strict=True):
        assert o.location.shape == (1 + g.uses.numel(),)
        assert o.repair.shape == (g.accesses.numel(),)
    loss = torch.stack([example_loss(o, g) for o, g in zip(outputs, graphs, strict=True)]).mean()
    loss.backward()
    if edge_set == "gfsa":  # trained end to end: the misuse loss reaches the GFSA policy
        assert model.gfsa.policy.logits.grad is not None and model.gfsa.policy.logits.grad.abs().sum() > 0


def test_a_gfsa_edge_set_with_sources_and_same_variable_observations_trains_end_to_end(vocabulary, one_torch_thread):
    sources = [["Name:read", "Name:write"], ["Name:read"]]
    model = tiny_model("gfsa", vocabulary, gfsa_view="accesses", gfsa_edge_types=2, gfsa_sources=sources,
                       gfsa_same_variable=True)  # fmt: skip
    assert model.gfsa.config.sources == sources and model.gfsa.config.same_variable
    graphs = [misuse_graph(ex, vocabulary, "gfsa", "accesses") for ex in examples()]
    outputs = model(graphs)
    torch.stack([example_loss(o, g) for o, g in zip(outputs, graphs, strict=True)]).mean().backward()
    grad = model.gfsa.policy.logits.grad
    assert grad is not None and grad.abs().sum() > 0
    extra = grad[:, num_observations("accesses"):]  # the same-variable rows get gradient too
    assert extra.abs().sum() > 0


@pytest.mark.parametrize("edge_set", ["ast", "hand"])
def test_a_tiny_model_fits_a_few_examples(edge_set, vocabulary, one_torch_thread):
    model = tiny_model(edge_set, vocabulary)
    graphs = [misuse_graph(ex, vocabulary, edge_set) for ex in examples()]
    result = fit(model, graphs, FitConfig(steps=150, batch_size=4, lr=0.01, log_every=50))
    assert result.curve[-1]["loss"] < 0.2 * result.curve[0]["loss"]
    scores = metrics(predict(model, graphs))
    assert scores == {"examples": 4, "buggy": 2, "no_bug_acc": 1.0, "loc_acc": 1.0, "repair_acc": 1.0,
                      "joint_acc": 1.0}  # fmt: skip


def test_cosine_schedule_falls_from_the_peak_to_the_floor_and_constant_stays():
    cosine = FitConfig(steps=100, schedule="cosine", min_lr_ratio=0.1)
    scales = [lr_scale(step, cosine) for step in range(0, 101, 10)]
    assert scales[0] == pytest.approx(1.0) and scales[5] == pytest.approx(0.55) and scales[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(scales, scales[1:], strict=False))
    assert lr_scale(150, cosine) == pytest.approx(0.1)  # past the end it stays at the floor
    assert lr_scale(50, FitConfig(steps=100)) == 1.0
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_scale(1, FitConfig(schedule="linear"))


def test_fit_sets_the_scheduled_rate(vocabulary, one_torch_thread):
    model = tiny_model("ast", vocabulary)
    graphs = [misuse_graph(ex, vocabulary, "ast") for ex in examples()]
    seen = []
    original = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    torch.optim.Adam.step = spy
    try:
        fit(model, graphs, FitConfig(steps=4, batch_size=2, lr=0.01, schedule="cosine", min_lr_ratio=0.0))
    finally:
        torch.optim.Adam.step = original
    assert seen == pytest.approx([0.01, 0.01 * 0.5 * (1 + 2**-0.5), 0.005, 0.01 * 0.5 * (1 - 2**-0.5)])


def prediction(p_bug: float, buggy: bool, right: bool = True) -> Prediction:
    return Prediction("x", buggy, p_bug, location_right=buggy and right, repair_right=buggy and right,
                      no_bug_right=not buggy and p_bug < 0.5)  # fmt: skip


def test_metrics_count_each_kind_of_answer():
    preds = [prediction(0.9, True), prediction(0.8, True, right=False), prediction(0.2, False), prediction(0.7, False)]
    assert metrics(preds) == {"examples": 4, "buggy": 2, "no_bug_acc": 0.5, "loc_acc": 0.5, "repair_acc": 0.5,
                              "joint_acc": 0.5}  # fmt: skip
    assert metrics([])["examples"] == 0 and metrics([])["joint_acc"] == 0.0


def test_precision_threshold_is_the_lowest_that_keeps_precision():
    preds = [prediction(0.99, True), prediction(0.97, True), prediction(0.95, True), prediction(0.9, False),
             prediction(0.8, True), prediction(0.3, True), prediction(0.1, False)]  # fmt: skip
    best = precision_threshold(preds, 0.95)
    assert best["threshold"] == 0.95 and best["precision"] == 1.0 and best["shown"] == 3
    assert best["recall"] == pytest.approx(3 / 5)
    assert precision_threshold(preds, 0.8)["threshold"] == 0.3  # 5 right of 6 shown; 5 of 7 at 0.1
    assert precision_threshold([prediction(0.9, False)], 0.95)["threshold"] is None
    assert best["repair_precision"] == 1.0
    assert at_threshold(preds, 0.9) == {"threshold": 0.9, "precision": 0.75, "recall": 0.6, "shown": 4,
                                        "repair_precision": 0.75}  # fmt: skip
    right_place_wrong_name = Prediction("y", True, 0.999, location_right=True, repair_right=False, no_bug_right=False)
    assert at_threshold([right_place_wrong_name], 0.99)["repair_precision"] == 0.0
    assert at_threshold(preds, 1.0)["precision"] is None
    assert false_alarms_per_1000(preds, 0.95) == 0.0
    assert false_alarms_per_1000(preds, 0.5) == 500.0
    assert false_alarms_per_1000(preds, None) is None


def test_calibration_split_is_by_function_keeps_copies_together_and_ignores_order():
    preds = [Prediction(f"pkg/m{i}.py:f{i}" + suffix, bool(suffix), 0.5, False, False, False)
             for i in range(400) for suffix in ("", "~1", "~2")]  # fmt: skip
    calibrate, report = calibration_split(preds, 0.3)
    assert len(calibrate) + len(report) == len(preds)
    assert 0.2 * len(preds) < len(calibrate) < 0.4 * len(preds)
    side = {}
    for p in calibrate:
        side.setdefault(p.id.split("~")[0], set()).add("c")
    for p in report:
        side.setdefault(p.id.split("~")[0], set()).add("r")
    assert all(len(v) == 1 for v in side.values())  # a function's copies are never split
    again, _ = calibration_split(list(reversed(preds)), 0.3)
    assert {p.id for p in again} == {p.id for p in calibrate}
