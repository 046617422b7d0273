"""The GFSA experiment's baselines: a GNN edge classifier and a fixed random-walk kernel."""

from __future__ import annotations

import textwrap

import pytest
import torch

from bowerbird.analysis.graphs import EdgeType, graph_for_function
from bowerbird.analysis.graphs.gfsa_view import gfsa_view, move_types
from bowerbird.learners.gfsa.baselines import (
    GnnConfig,
    GnnEdgeClassifier,
    RandomWalkKernel,
    ast_structure,
    best_threshold,
    evaluate_predictor,
    halting_kernel,
    move_ids,
    node_type_ids,
    run_baselines,
    train_gnn,
    walk_matrix,
)
from bowerbird.learners.gfsa.encoding import encode
from bowerbird.learners.gfsa.targets import make_examples
from bowerbird.learners.gfsa.train import TrainConfig

BRANCHY = textwrap.dedent(
    """
    def g(items, limit):
        total = 0
        for item in items:
            if item > limit:
                break
            total += item
        else:
            total = -1
        return total
    """
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small solves are fastest on one thread


def parent_examples(kinds=(EdgeType.AST_PARENT,)):
    return make_examples([graph_for_function(BRANCHY, "g")], list(kinds))


def test_ast_structure_is_the_views_node_types_and_present_moves():
    view = gfsa_view(graph_for_function(BRANCHY, "g"))
    ast = ast_structure(encode(view))
    types = node_type_ids()
    assert ast.node_type.tolist() == [types[view.node_types[n]] for n in view.nodes]
    index = {n: i for i, n in enumerate(view.nodes)}
    expected = sorted(
        (index[n], index[view.moves[(n, m)]], move_ids()[m])
        for n in view.nodes
        for m in move_types(view.node_types[n])
        if not view.is_missing(n, m)
    )
    assert sorted(zip(ast.src.tolist(), ast.dst.tolist(), ast.move.tolist())) == expected


def test_structure_of_a_view_with_variables_has_their_nodes_moves_and_pairs():
    view = gfsa_view(graph_for_function(BRANCHY, "g"), "accesses")
    enc = encode(view)
    ast = ast_structure(enc)
    n, v = enc.num_nodes, enc.num_virtual
    assert v == 4 and ast.node_type.shape == (n + v,)  # items, limit, total, item
    types = node_type_ids("accesses")
    assert ast.node_type[n:].tolist() == [types["<variable>"]] * v
    assert types["Name:read"] in ast.node_type.tolist() and types["Name:write"] in ast.node_type.tolist()
    occurrence = move_ids("accesses")["occurrence.next"]
    hops = [(s, d) for s, d, m in zip(ast.src.tolist(), ast.dst.tolist(), ast.move.tolist()) if m == occurrence]
    assert hops and all(s < n and d < n for s, d in hops)
    index = {node: i for i, node in enumerate(view.nodes)}
    for s, d in hops:  # an occurrence move joins two accesses of one variable
        assert ast.same_variable[s, d]
        assert view.moves[(view.nodes[s], "variable")] == view.moves[(view.nodes[d], "variable")]
    assert ast.same_variable.shape == (n, n) and not ast.same_variable[index[view.nodes[0]]].any()


def test_baselines_in_a_view_with_variables_score_the_ast_nodes_only():
    examples = make_examples([graph_for_function(BRANCHY, "g")], [EdgeType.LAST_READ], view="accesses")
    torch.manual_seed(0)
    model = GnnEdgeClassifier(GnnConfig(num_edge_types=1, hidden=16, view="accesses"))
    with torch.no_grad():
        model.same_variable.fill_(5.0)
    logits = model.edge_logits(examples[0])
    assert logits.shape == examples[0].target.shape
    same = ast_structure(examples[0].encoding).same_variable
    plain = GnnEdgeClassifier(GnnConfig(num_edge_types=1, hidden=16, view="accesses"))
    plain.load_state_dict({**model.state_dict(), "same_variable": torch.zeros(1)})
    torch.testing.assert_close(logits[0] - plain.edge_logits(examples[0])[0], 5.0 * same.float())
    kernel = RandomWalkKernel().kernel(examples[0], 0.3)
    assert kernel.shape == examples[0].target.shape[1:]
    assert (kernel.sum(1) <= 1 + 1e-9).all()  # mass that halts at a virtual node is not an edge


def test_gnn_learns_the_ast_parent_edge():
    examples = parent_examples()
    torch.manual_seed(0)
    model = GnnEdgeClassifier(GnnConfig(num_edge_types=1, hidden=32))
    before = evaluate_predictor(model.edge_probabilities, examples)["edges"]["AST_PARENT"]["f1"]
    result = train_gnn(model, examples, TrainConfig(steps=150, lr=0.01, log_every=50))
    after = evaluate_predictor(model.edge_probabilities, examples)["edges"]["AST_PARENT"]
    assert before < 0.5
    assert after["f1"] >= 0.9, after
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert model.edge_logits(examples[0]).shape == examples[0].target.shape


def test_walk_kernel_rows_are_distributions_of_where_the_walk_halts():
    example = parent_examples()[0]
    p = walk_matrix(ast_structure(example.encoding), example.encoding.num_nodes)
    torch.testing.assert_close(p.sum(1), torch.ones(p.shape[0], dtype=p.dtype))
    for halt, steps in ((0.3, 0), (0.8, 1)):
        k = halting_kernel(p, halt, steps)
        torch.testing.assert_close(k.sum(1), torch.ones(k.shape[0], dtype=k.dtype))
        assert (k >= 0).all()
    # a walk that must halt at once stays at its start
    torch.testing.assert_close(halting_kernel(p, 1.0, 0), torch.eye(p.shape[0], dtype=p.dtype))


def test_best_threshold_maximises_f1_and_cuts_only_between_distinct_scores():
    scores = torch.tensor([0.9, 0.8, 0.1])
    truth = torch.tensor([False, True, False])
    t, f1 = best_threshold(scores, truth)
    assert t == pytest.approx(0.8) and f1 == pytest.approx(2 / 3)
    # the tied 0.8s are predicted together (cutting between them would claim F1 = 1)
    t, f1 = best_threshold(torch.tensor([0.8, 0.8, 0.1]), torch.tensor([True, False, False]))
    assert t == pytest.approx(0.8) and f1 == pytest.approx(2 / 3)
    t, f1 = best_threshold(torch.tensor([0.9, 0.5, 0.2]), torch.tensor([True, True, False]))
    assert t == pytest.approx(0.5) and f1 == pytest.approx(1.0)


def test_random_walk_kernel_fits_the_ast_parent_edge():
    examples = parent_examples()
    unfitted = evaluate_predictor(RandomWalkKernel().adjacency, examples)["edges"]["AST_PARENT"]
    kernel = RandomWalkKernel().fit(examples)
    fitted = evaluate_predictor(kernel.adjacency, examples, kernel.threshold)["edges"]["AST_PARENT"]
    assert fitted["f1"] == pytest.approx(kernel.fit_f1[0])
    assert fitted["f1"] >= 0.6 and fitted["f1"] > unfitted["f1"]
    assert kernel.min_steps == [1]  # the parent is one move away
    # edge_probabilities puts each fitted threshold at 0.5
    rescaled = evaluate_predictor(kernel.edge_probabilities, examples)["edges"]["AST_PARENT"]
    assert rescaled["tp"] == fitted["tp"] and rescaled["fp"] == fitted["fp"]


def test_run_baselines_gives_both_methods_in_the_evaluation_shape():
    examples = parent_examples((EdgeType.AST_PARENT, EdgeType.CFG_NEXT))
    torch.manual_seed(0)
    out = run_baselines(examples, examples, TrainConfig(steps=5, lr=0.01, log_every=5))
    assert set(out) == {"gnn", "random_walk"}
    for result in out.values():
        assert result["functions"] == 1
        assert set(result["edges"]) == {"AST_PARENT", "CFG_NEXT"}
        for counts in result["edges"].values():
            assert {"precision", "recall", "f1"} <= set(counts)
    assert out["gnn"]["train"]["steps"] == 5
    assert len(out["random_walk"]["train"]["halt"]) == 2
