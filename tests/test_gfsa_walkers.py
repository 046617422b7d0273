"""Several walkers per learned edge type, combined by noisy-OR, and widening a trained layer."""

from __future__ import annotations

import textwrap

import pytest
import torch

from bowerbird.analysis.graphs import EdgeType, graph_for_function
from bowerbird.analysis.graphs.gfsa_view import gfsa_view
from bowerbird.learners.gfsa.checkpoint import load_layer, save_layer
from bowerbird.learners.gfsa.encoding import encode
from bowerbird.learners.gfsa.layer import GfsaConfig, GfsaLayer
from bowerbird.learners.gfsa.targets import edge_sources, make_examples
from bowerbird.learners.gfsa.train import TrainConfig, train_layer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LOOP = textwrap.dedent(
    """
    def h(items, flag):
        count = 0
        if flag:
            print(count)
        else:
            count = len(items)
        for item in items:
            count = count + item
        return count
    """
)


def layer_of(walkers: int, seed: int = 0, **kw) -> GfsaLayer:
    torch.manual_seed(seed)
    config = GfsaConfig(num_edge_types=2, num_states=2, solver="dense", init_scale=1.0, view="accesses",
                        walkers=walkers, **kw)  # fmt: skip
    return GfsaLayer(config).double()


def one_walker_copy(layer: GfsaLayer, table: int) -> GfsaLayer:
    """A one-walker, one-edge-type layer whose policy is ``layer``'s table ``table``."""
    single = GfsaLayer(GfsaConfig(num_states=2, solver="dense", view="accesses")).double()
    with torch.no_grad():
        single.policy.logits.copy_(layer.policy.logits[table : table + 1])
    return single


def test_walkers_are_combined_by_noisy_or():
    enc = encode(gfsa_view(graph_for_function(LOOP, "h"), "accesses"))
    layer = layer_of(3)
    assert layer.policy.logits.shape[0] == 6  # 2 edge types x 3 walkers
    a = layer(enc)
    assert a.shape == (2, enc.num_nodes, enc.num_nodes)
    for e in range(2):
        walks = [one_walker_copy(layer, e * 3 + w)(enc)[0] for w in range(3)]
        expected = 1 - (1 - walks[0]) * (1 - walks[1]) * (1 - walks[2])
        torch.testing.assert_close(a[e], expected)
        assert (a[e] >= torch.stack(walks).amax(0) - 1e-12).all()  # never below its best walker


def test_one_walker_is_the_plain_walk():
    enc = encode(gfsa_view(graph_for_function(LOOP, "h"), "accesses"))
    layer = layer_of(1)
    torch.testing.assert_close(layer(enc)[1], one_walker_copy(layer, 1)(enc)[0], rtol=0, atol=0)


def test_walkers_must_be_positive():
    with pytest.raises(ValueError, match="walkers must be at least 1"):
        GfsaConfig(walkers=0)


def test_widening_copies_the_walk_into_every_walker():
    enc = encode(gfsa_view(graph_for_function(LOOP, "h"), "accesses"))
    layer = layer_of(1, platt_scale=True, same_variable=True)
    with torch.no_grad():
        layer.scale.fill_(1.7)
        layer.shift.fill_(0.4)
    exact = layer.widen(3, noise=0.0).double()
    assert exact.config.walkers == 3 and exact.config.same_variable
    torch.testing.assert_close(exact.scale, layer.scale)
    torch.testing.assert_close(exact.shift, layer.shift)
    a = layer(enc)
    torch.testing.assert_close(exact(enc), 1 - (1 - a) ** 3)  # three identical walks
    noisy = layer.widen(3, noise=0.5).double()
    torch.testing.assert_close(noisy.policy.logits[::3], layer.policy.logits)  # walker 0 exactly
    for w in (1, 2):
        difference = (noisy.policy.logits[w::3] - layer.policy.logits).detach()
        assert 0.4 < float(difference.std()) < 0.6  # the others: copies with noise
    with pytest.raises(ValueError, match="one-walker"):
        noisy.widen(4)


def test_a_second_walker_learns_the_target_the_first_cannot_reach_alone():
    """Reads with two last reads: the two-walker layer's recall of them beats the one walker's
    after the same training (each of a start's targets can get its own walker)."""
    graphs = [graph_for_function(LOOP, "h")]
    example = make_examples(graphs, [EdgeType.LAST_READ], view="accesses")[0]
    assert (example.target[0].sum(1) >= 2).any()  # some read has two last reads
    sources = edge_sources([example], "accesses")
    recalls = []
    for walkers in (1, 2):
        torch.manual_seed(0)
        layer = GfsaLayer(GfsaConfig(num_states=2, view="accesses", sources=sources, same_variable=True,
                                     walkers=walkers))  # fmt: skip
        train_layer(layer, [example], TrainConfig(steps=60, lr=0.2))
        with torch.no_grad():
            a = layer(example.encoding)[0]
        multi = example.target[0].sum(1) >= 2
        truth = example.target[0][multi] > 0.5
        recalls.append(float(a[multi][truth].mean()))  # mean walk probability of those targets
    one, two = recalls
    assert one <= 0.5 + 1e-6  # one walk splits its mass among two or more targets
    assert two > 0.7 and two > one + 0.2


def test_walkers_round_trip_through_a_checkpoint(tmp_path):
    enc = encode(gfsa_view(graph_for_function(LOOP, "h"), "accesses"))
    layer = layer_of(2, platt_scale=True)
    save_layer(layer, tmp_path / "gfsa", kinds=["LAST_READ", "LAST_WRITE"])
    loaded, _ = load_layer(tmp_path / "gfsa")
    assert loaded.config == layer.config and loaded.config.walkers == 2
    torch.testing.assert_close(loaded.double().edge_logits(enc), layer.edge_logits(enc))
