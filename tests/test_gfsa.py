"""The GFSA layer: implicit gradients, the absorbing solve against Monte Carlo, training."""

from __future__ import annotations

import hashlib
import json
import textwrap

import pytest
import torch

from bowerbird.analysis.graphs import EdgeType, graph_for_function
from bowerbird.analysis.graphs.gfsa_view import gfsa_view, move_types
from bowerbird.learners.gfsa.absorbing import DenseVisits, FixedPointVisits, SparseVisits, expected_visits, transition_matrix
from bowerbird.learners.gfsa.checkpoint import load_layer, save_layer
from bowerbird.learners.gfsa.encoding import encode, observation_ids, vocabulary_digest
from bowerbird.learners.gfsa.evaluate import EdgeCounts, edge_counts, evaluate_layer
from bowerbird.learners.gfsa.layer import GfsaConfig, GfsaLayer, finish_adjacency
from bowerbird.learners.gfsa.policy import policy_from_logits
from bowerbird.learners.gfsa.targets import edge_sources, make_examples
from bowerbird.learners.gfsa.train import TrainConfig, edge_loss, train_layer

TINY = textwrap.dedent(
    """
    def f(x):
        y = x + 1
        return y
    """
)

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


def tiny_graph():
    return graph_for_function(TINY, "f")


def random_layer(solver: str, num_states: int = 2, seed: int = 0, **kw) -> GfsaLayer:
    torch.manual_seed(seed)
    config = GfsaConfig(num_states=num_states, solver=solver, init_scale=1.0, tol=1e-13, **kw)
    return GfsaLayer(config).double()


def random_chain(positions=6, states=2, slots=3, starts=3, seed=0):
    """A random substochastic structured chain: move (P, S, K, S), y0 (B, P, S), successor."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(positions, states, slots * states + 2, generator=g, dtype=torch.float64)
    probs = torch.softmax(logits, -1)[..., :-2].reshape(positions, states, slots, states)
    successor = torch.randint(0, positions, (positions, slots), generator=g)
    y0 = torch.rand(starts, positions, states, generator=g, dtype=torch.float64)
    return probs, y0, successor


# --- encoding -----------------------------------------------------------------------------


@pytest.mark.parametrize("view_name", ["ast", "variables", "accesses"])
def test_encoding_successors_follow_the_views_moves(view_name):
    view = gfsa_view(tiny_graph(), view_name)
    enc = encode(view)
    ids = observation_ids(view_name)
    assert enc.view == view_name and enc.num_nodes == len(view.nodes)
    assert enc.num_virtual == len(view.virtual) == (0 if view_name == "ast" else 2)  # x, y
    assert int(enc.position_node.max()) == len(view.states) - 1
    for i, node in enumerate(view.nodes):
        p = int(enc.start[i])
        assert int(enc.position_node[p]) == i
        assert int(enc.position_obs[p]) == ids[(view.observed_type(node), "start")]
    for p in range(enc.num_positions):  # every position, virtual nodes' included
        node = view.states[int(enc.position_node[p])]
        for k, move in enumerate(move_types(view.node_types[node], view_name)):
            q = int(enc.successor[p, k])
            assert view.states[int(enc.position_node[q])] == view.moves[(node, move)]
            assert int(enc.position_obs[q]) == ids[view.observation(node, move)]


def test_default_vocabulary_digest_is_the_one_from_before_views():
    """Checkpoints saved before views existed record this digest (the same formula)."""
    from bowerbird.analysis.graphs.gfsa_view import observation_vocabulary
    from bowerbird.analysis.graphs.syntax import node_classes

    text = repr((observation_vocabulary(), {t: move_types(t) for t in sorted(node_classes())}))
    assert vocabulary_digest() == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert vocabulary_digest("ast") == vocabulary_digest()
    assert vocabulary_digest("variables") != vocabulary_digest()
    assert vocabulary_digest("accesses") not in (vocabulary_digest(), vocabulary_digest("variables"))


# --- the linear system and its implicit gradients -----------------------------------------


def test_dense_transition_matrix_has_the_structured_entries():
    move, _, successor = random_chain()
    q = transition_matrix(move, successor).view(6, 2, 6, 2)
    expected = torch.zeros(6, 2, 6, 2, dtype=torch.float64)
    for p in range(6):
        for k in range(3):
            expected[p, :, successor[p, k], :] += move[p, :, k, :]
    torch.testing.assert_close(q, expected)


def test_dense_solver_solves_the_visit_equation():
    move, y0, successor = random_chain()
    y = DenseVisits.apply(move, y0, successor)
    q = transition_matrix(move, successor)
    torch.testing.assert_close(y.reshape(3, -1) @ (torch.eye(12, dtype=q.dtype) - q), y0.reshape(3, -1))


def test_sparse_solver_solves_the_visit_equation_with_repeated_successors():
    move, y0, successor = random_chain()
    successor[0, 1] = successor[0, 0]  # two slots to the same position: their entries add up
    y = SparseVisits.apply(move, y0, successor)
    q = transition_matrix(move, successor)
    torch.testing.assert_close(y.reshape(3, -1) @ (torch.eye(12, dtype=q.dtype) - q), y0.reshape(3, -1))
    torch.testing.assert_close(y, DenseVisits.apply(move, y0, successor))


def test_sparse_implicit_gradient_matches_finite_differences():
    move, y0, successor = random_chain()
    move.requires_grad_(True)
    y0.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda m, s: SparseVisits.apply(m, s, successor), (move, y0))


def test_dense_implicit_gradient_matches_finite_differences():
    move, y0, successor = random_chain()
    move.requires_grad_(True)
    y0.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda m, s: DenseVisits.apply(m, s, successor), (move, y0))


def test_fixed_point_implicit_gradient_matches_finite_differences():
    move, y0, successor = random_chain()
    move.requires_grad_(True)
    y0.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda m, s: FixedPointVisits.apply(m, s, successor, 1e-14, 10_000), (move, y0)
    )


@pytest.mark.parametrize(("solver", "some_rows"), [("dense", False), ("sparse", False),
                                                   ("fixed_point", False), ("sparse", True)])
def test_layer_gradient_on_a_real_graph_matches_finite_differences(solver, some_rows):
    enc = encode(gfsa_view(tiny_graph()))
    rows = torch.tensor([0, 2, 3]) if some_rows else None  # walks from some start nodes only
    layer = random_layer(solver)
    allowed = layer.policy.allowed[enc.position_obs]
    base = layer.policy.logits[0, enc.position_obs].detach()
    directions = torch.randn(8, *base.shape, dtype=torch.float64)  # 8 random directions

    def adjacency(theta):
        logits = base + torch.einsum("d,d...->...", theta, directions)
        probs = policy_from_logits(logits[None], allowed, 2)
        return finish_adjacency(probs.move[0], probs.finish[0], enc, solver, 1e-13, 10_000, rows)

    theta = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(adjacency, (theta,), atol=1e-6, fast_mode=True)


# --- the absorbing solve -------------------------------------------------------------------


def test_dense_sparse_and_fixed_point_solvers_agree():
    enc = encode(gfsa_view(graph_for_function(BRANCHY, "g")))
    dense = random_layer("dense", num_states=3)(enc)
    iterated = random_layer("fixed_point", num_states=3)(enc)
    factored = random_layer("sparse", num_states=3)(enc)
    torch.testing.assert_close(dense, iterated, atol=1e-9, rtol=0)
    torch.testing.assert_close(dense, factored, atol=1e-9, rtol=0)


def test_auto_solver_is_sparse_on_the_cpu_from_the_configured_size():
    enc = encode(gfsa_view(graph_for_function(BRANCHY, "g")))
    transient = enc.num_positions * 3
    assert random_layer("auto", num_states=3, sparse_min_states=transient).solver_for(enc) == "sparse"
    assert random_layer("auto", num_states=3, sparse_min_states=transient + 1).solver_for(enc) == "dense"


def test_sparse_solver_refuses_tensors_off_the_cpu():
    move, y0, successor = random_chain()
    with pytest.raises(ValueError, match="CPU only"):
        expected_visits(move.to("meta"), y0.to("meta"), successor.to("meta"), "sparse")


def test_rows_of_the_adjacency_sum_to_at_most_one():
    enc = encode(gfsa_view(graph_for_function(BRANCHY, "g")))
    a = random_layer("auto", backtrack_bias=-2.0)(enc)[0]
    assert a.min() >= 0
    assert a.sum(-1).max() <= 1 + 1e-9
    assert a.sum(-1).min() > 0.1  # most mass finishes when backtracking is unlikely


def monte_carlo_adjacency(view, logits, allowed_of, num_states, walks, seed, same_ids=None):
    """Estimate A by sampling walks directly on the view (independent of the encoding); walks
    start at AST nodes only, and a FINISH at a virtual node adds no edge. With ``same_ids``
    (observation id -> its same-variable row), a node of the start node's variable (a Name whose
    `variable` move leads to the same virtual node, or that virtual node) is observed so."""
    ids = observation_ids(view.view)
    index = {n: i for i, n in enumerate(view.states)}
    n, slots = len(view.states), logits.shape[-1] // num_states
    dest = torch.zeros(n, slots, dtype=torch.long)
    arrival = torch.zeros(n, slots, dtype=torch.long)
    for node in view.states:
        for k, move in enumerate(move_types(view.node_types[node], view.view)):
            dest[index[node], k] = index[view.moves[(node, move)]]
            arrival[index[node], k] = ids[view.observation(node, move)]
    probs = torch.softmax(logits.masked_fill(~allowed_of[:, None, :], float("-inf")), -1)
    finish_col, backtrack_col = probs.shape[-1] - 2, probs.shape[-1] - 1
    variable_of = torch.full((n,), -1)
    for node in view.states:
        if node in view.virtual:
            variable_of[index[node]] = index[node]
        elif view.moves.get((node, "variable"), node) != node:
            variable_of[index[node]] = index[view.moves[(node, "variable")]]
    g = torch.Generator().manual_seed(seed)
    counts = torch.zeros(n, n)
    for s, node in enumerate(view.nodes):
        here = torch.full((walks,), s)
        obs = torch.full((walks,), ids[(view.observed_type(node), "start")])
        state = torch.zeros(walks, dtype=torch.long)
        alive = torch.ones(walks, dtype=torch.bool)
        while alive.any():
            seen = obs
            if same_ids is not None and variable_of[s] >= 0:
                seen = torch.where(variable_of[here] == variable_of[s], same_ids[obs], obs)
            action = torch.multinomial(probs[seen, state], 1, generator=g).squeeze(1)
            finished = alive & (action == finish_col)
            counts[s].index_add_(0, here[finished], torch.ones(int(finished.sum())))
            alive &= action < finish_col
            slot, nxt = action // num_states, action % num_states
            slot = torch.where(alive, slot, 0)
            obs = torch.where(alive, arrival[here, slot], obs)
            here = torch.where(alive, dest[here, slot], here)
            state = torch.where(alive, nxt, state)
        assert backtrack_col == finish_col + 1
    return counts[: len(view.nodes), : len(view.nodes)] / walks


@pytest.mark.parametrize("view_name", ["ast", "variables", "accesses"])
def test_absorbing_solve_matches_monte_carlo_rollouts(view_name):
    view = gfsa_view(tiny_graph(), view_name)
    enc = encode(view)
    layer = random_layer("dense", finish_bias=1.5, view=view_name)
    exact = layer(enc)[0].detach()
    walks = 4000
    estimate = monte_carlo_adjacency(
        view, layer.policy.logits[0].detach(), layer.policy.allowed, 2, walks, seed=1
    ).double()
    tolerance = 4.5 * torch.sqrt(exact * (1 - exact) / walks) + 2e-3
    assert ((estimate - exact).abs() <= tolerance).all()
    assert exact.sum() > 1.0  # the comparison is not vacuous


@pytest.mark.parametrize("solver", ["dense", "sparse"])
def test_same_variable_observations_match_monte_carlo_rollouts(solver):
    view = gfsa_view(tiny_graph(), "accesses")
    enc = encode(view)
    layer = random_layer(solver, finish_bias=1.5, view="accesses", same_variable=True)
    exact = layer(enc)[0].detach()
    estimate = monte_carlo_adjacency(view, layer.policy.logits[0].detach(), layer.policy.allowed, 2,
                                     4000, seed=1, same_ids=layer.same_ids).double()  # fmt: skip
    tolerance = 4.5 * torch.sqrt(exact * (1 - exact) / 4000) + 2e-3
    assert ((estimate - exact).abs() <= tolerance).all()
    # the same-variable rows matter: without them (the base rows only) the walks differ
    plain = random_layer(solver, finish_bias=1.5, view="accesses")
    with torch.no_grad():
        plain.policy.logits.copy_(layer.policy.logits[:, : plain.policy.logits.shape[1]])
    assert (plain(enc)[0] - exact).abs().max() > 0.05


def test_encoding_marks_the_variable_of_every_position():
    view = gfsa_view(tiny_graph(), "accesses")  # def f(x): y = x + 1; return y
    enc = encode(view)
    variable = enc.position_variable
    names = {view.moves[(n, "variable")]: [] for n in view.nodes if view.node_types[n] == "Name"
             and view.moves[(n, "variable")] != n}  # fmt: skip
    assert len(names) == 2 == enc.num_virtual  # x and y
    for p in range(enc.num_positions):
        node = view.states[int(enc.position_node[p])]
        if node in view.virtual:
            assert variable[p] == view.virtual.index(node)
        elif view.node_types[node] == "Name" and view.moves[(node, "variable")] != node:
            assert variable[p] == view.virtual.index(view.moves[(node, "variable")])
        else:
            assert variable[p] == -1
    assert encode(gfsa_view(tiny_graph())).position_variable is None  # the AST view has none
    with pytest.raises(ValueError, match="same_variable needs a view with variables"):
        GfsaConfig(same_variable=True)


# --- training, evaluation, checkpoints ------------------------------------------------------


def test_edge_loss_is_bce_and_focal_weighting_downweights_easy_terms():
    a = torch.tensor([[0.9, 0.2], [0.5, 0.01]])
    t = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    bce = torch.nn.functional.binary_cross_entropy(a, t)
    logits = torch.logit(a)
    torch.testing.assert_close(edge_loss(logits, t), bce)
    focal = -(t * (1 - a) ** 2 * a.log() + (1 - t) * a**2 * (1 - a).log()).mean()
    torch.testing.assert_close(edge_loss(logits, t, focal_gamma=2.0), focal)


def test_edge_counts_and_f1():
    a = torch.tensor([[0.9, 0.6], [0.1, 0.2]])
    t = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    counts = edge_counts(a, t, 0.5)
    assert counts == EdgeCounts(tp=1, fp=1, fn=1)
    assert counts.precision == 0.5 and counts.recall == 0.5 and counts.f1 == 0.5


def test_training_learns_the_ast_parent_edge():
    examples = make_examples([graph_for_function(BRANCHY, "g")], [EdgeType.AST_PARENT])
    torch.manual_seed(0)
    layer = GfsaLayer(GfsaConfig(num_states=2, solver="dense"))
    before = evaluate_layer(layer, examples)["edges"]["AST_PARENT"]["f1"]
    result = train_layer(layer, examples, TrainConfig(steps=150, lr=0.1, log_every=50))
    after = evaluate_layer(layer, examples)["edges"]["AST_PARENT"]
    assert before < 0.5
    assert after["f1"] >= 0.95, after
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_probabilities_are_the_adjacency_unless_platt_scaled():
    enc = encode(gfsa_view(graph_for_function(BRANCHY, "g")))
    plain = random_layer("dense", finish_bias=2.0)
    a = plain(enc)
    torch.testing.assert_close(plain.edge_probabilities(enc), a.clamp(1e-6, 1 - 1e-6))
    scaled = random_layer("dense", finish_bias=2.0, platt_scale=True)
    with torch.no_grad():
        scaled.shift.fill_(3.0)  # logit(p) + 3: a row can now hold several edges above 1/2
    rows = (scaled.edge_probabilities(enc)[0] >= 0.5).sum(-1)
    assert (plain.edge_probabilities(enc)[0] >= 0.5).sum(-1).max() <= 1
    assert rows.max() >= 2


def test_an_old_checkpoint_config_without_a_view_loads_as_the_default_view(tmp_path):
    enc = encode(gfsa_view(tiny_graph()))
    layer = random_layer("dense", platt_scale=True)
    save_layer(layer, tmp_path / "gfsa", kinds=["CFG_NEXT"])
    config_path = tmp_path / "gfsa" / "config.json"
    meta = json.loads(config_path.read_text())
    assert meta["gfsa"]["view"] == "ast"
    del meta["gfsa"]["view"]  # as saved before views existed
    config_path.write_text(json.dumps(meta))
    loaded, kinds = load_layer(tmp_path / "gfsa")
    assert kinds == ["CFG_NEXT"] and loaded.config.view == "ast"
    assert loaded.config == layer.config
    torch.testing.assert_close(loaded.double().edge_logits(enc), layer.edge_logits(enc))


def test_a_variables_checkpoint_round_trips_and_refuses_other_views(tmp_path):
    enc = encode(gfsa_view(tiny_graph(), "variables"))
    layer = random_layer("dense", platt_scale=True, view="variables")
    a = layer(enc)
    assert a.shape == (1, enc.num_nodes, enc.num_nodes) and enc.num_virtual == 2
    assert a.sum(-1).max() <= 1 + 1e-9
    save_layer(layer, tmp_path / "gfsa", kinds=["LAST_READ"])
    meta = json.loads((tmp_path / "gfsa" / "config.json").read_text())
    assert meta["gfsa"]["view"] == "variables" and meta["vocabulary"] == vocabulary_digest("variables")
    loaded, _ = load_layer(tmp_path / "gfsa")
    assert loaded.config.view == "variables"
    torch.testing.assert_close(loaded.double().edge_logits(enc), layer.edge_logits(enc))
    with pytest.raises(ValueError, match="'variables' GFSA view"):
        loaded(encode(gfsa_view(tiny_graph())))
    with pytest.raises(ValueError, match="unknown GFSA view"):
        GfsaConfig(view="nope")


def test_examples_in_the_variables_view_keep_the_targets_and_the_size_cap():
    graphs = [graph_for_function(BRANCHY, "g"), tiny_graph()]
    plain = make_examples(graphs, [EdgeType.LAST_READ, EdgeType.LAST_WRITE])
    variables = make_examples(graphs, [EdgeType.LAST_READ, EdgeType.LAST_WRITE], view="variables")
    for x, y in zip(plain, variables, strict=True):
        assert x.encoding.nodes == y.encoding.nodes
        torch.testing.assert_close(x.target, y.target)
    cap = len(gfsa_view(graphs[0]).nodes)  # virtual nodes do not count towards max_nodes
    assert len(make_examples(graphs[:1], [EdgeType.LAST_READ], cap, "variables")) == 1


def test_checkpoint_round_trip_gives_the_same_adjacency(tmp_path):
    enc = encode(gfsa_view(tiny_graph()))
    layer = random_layer("dense", platt_scale=True)
    with torch.no_grad():
        layer.scale.fill_(1.5)
    save_layer(layer, tmp_path / "gfsa", kinds=["CFG_NEXT"])
    loaded, kinds = load_layer(tmp_path / "gfsa")
    assert kinds == ["CFG_NEXT"]
    assert loaded.config == layer.config
    torch.testing.assert_close(loaded.double().edge_logits(enc), layer.edge_logits(enc))


# --- sources: walks start only at the node types that start the edge kind ------------------------


def test_edge_sources_are_the_observed_types_of_nodes_with_an_edge():
    graphs = [graph_for_function(BRANCHY, "g"), tiny_graph()]
    examples = make_examples(graphs, [EdgeType.LAST_WRITE, EdgeType.AST_PARENT], view="accesses")
    last_write, parent = edge_sources(examples, "accesses")
    assert set(last_write) <= {"Name:read", "Name:write", "Name:readwrite"}
    assert "Name:read" in last_write  # `return total` reads the last write of total
    assert "FunctionDef" not in parent and {"Return", "For", "Name:read"} <= set(parent)


def test_a_layer_with_sources_solves_only_their_rows_and_masks_the_others():
    graphs = [graph_for_function(BRANCHY, "g")]
    kinds = [EdgeType.LAST_READ, EdgeType.CFG_NEXT]
    example = make_examples(graphs, kinds, view="accesses")[0]
    sources = edge_sources([example], "accesses")
    every = random_layer("sparse", num_states=3, num_edge_types=2, platt_scale=True, view="accesses")
    some = random_layer("sparse", num_states=3, num_edge_types=2, platt_scale=True, view="accesses",
                        sources=sources)  # fmt: skip
    enc = example.encoding
    for e in range(2):
        rows = some.source_rows(enc, e)
        assert 0 < len(rows) < enc.num_nodes
        assert example.target[e].sum(1).nonzero().squeeze(1).tolist() == [  # every edge's start is solved
            r for r in rows.tolist() if example.target[e, r].sum() > 0
        ]
    full, masked = every.edge_logits(enc), some.edge_logits(enc)
    for e in range(2):
        rows = some.source_rows(enc, e)
        torch.testing.assert_close(masked[e, rows], full[e, rows])
        others = torch.ones(enc.num_nodes, dtype=torch.bool)
        others[rows] = False
        assert (some.edge_probabilities(enc)[e, others] < 1e-12).all()


def test_sources_are_checked_and_round_trip_through_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="2 lists for 1 edge types"):
        GfsaConfig(sources=[["Name"], ["Name"]])
    with pytest.raises(ValueError, match="not node types"):
        GfsaLayer(GfsaConfig(sources=[["NoSuchType"]]))
    layer = random_layer("dense", platt_scale=True, view="accesses", sources=[["Name:write", "Name:read"]],
                         same_variable=True)  # fmt: skip
    assert layer.config.sources == [["Name:read", "Name:write"]]
    save_layer(layer, tmp_path / "gfsa", kinds=["LAST_READ"])
    loaded, _ = load_layer(tmp_path / "gfsa")
    assert loaded.config == layer.config
    enc = encode(gfsa_view(tiny_graph(), "accesses"))
    torch.testing.assert_close(loaded.double().edge_logits(enc), layer.edge_logits(enc))
