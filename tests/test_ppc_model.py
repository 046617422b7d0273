"""The prompt proposal classifiers: masking, and training that finds a known optimum."""

from __future__ import annotations

import pytest
import torch

from bowerbird.learners.ppc.model import PPCConfig, build, choose, masked_loss


def synthetic(holes: int, dim: int, proposals: int, seed: int = 0):
    """Hole vectors; proposal p solves a hole when the hole's vector points along p's direction
    (a rule a classifier can learn exactly); about half the proposals apply to each hole, the
    last (in_file) to all. Context vectors carry the proposal's direction where it applies."""
    g = torch.Generator().manual_seed(seed)
    hole = torch.randn(holes, dim, generator=g)
    directions = torch.randn(proposals, dim, generator=g)
    labels = (hole @ directions.T) > 1.0
    applicable = torch.rand(holes, proposals, generator=g) < 0.5
    applicable[:, -1] = True
    contexts = directions[None].expand(holes, -1, -1) * applicable[..., None]
    return hole, contexts, applicable, labels & applicable


def train(kind: str, steps: int = 300):
    torch.manual_seed(0)
    hole, contexts, applicable, labels = synthetic(256, 16, 8)
    model = build(PPCConfig(kind=kind, dim=16, hidden=64, heads=4, dropout=0.0, proposals=8))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = masked_loss(model(hole, contexts, applicable), labels, applicable)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        picked = choose(model(hole, contexts, applicable), applicable)
    return picked, applicable, labels, loss.item()


@pytest.mark.parametrize("kind", ["rlpg_h", "rlpg_r"])
def test_training_on_a_learnable_label_set_reaches_the_optimum(kind):
    picked, applicable, labels, loss = train(kind)
    solvable = labels.any(-1)
    solved = labels[torch.arange(len(picked)), picked]
    assert applicable[torch.arange(len(picked)), picked].all()  # only applicable proposals are chosen
    # the optimum: a solving proposal for every hole that has one
    assert solved[solvable].float().mean() >= 0.97, (kind, solved[solvable].float().mean(), loss)


def test_a_proposal_that_does_not_apply_is_never_chosen_and_never_in_the_loss():
    logits = torch.tensor([[5.0, 1.0, 0.0], [9.0, -2.0, -1.0]])
    applicable = torch.tensor([[False, True, True], [False, False, True]])
    assert choose(logits, applicable).tolist() == [1, 2]
    labels = torch.tensor([[1, 0, 1], [0, 0, 1]])
    changed = logits.clone()
    changed[:, 0] = -50.0  # the masked proposal's logit and label change nothing
    flipped = labels.clone()
    flipped[:, 0] = 1 - flipped[:, 0]
    assert float(masked_loss(logits, labels, applicable)) == pytest.approx(float(masked_loss(changed, flipped, applicable)))
    assert float(masked_loss(logits, labels, applicable)) != pytest.approx(float(masked_loss(logits, 1 - labels, applicable)))


def test_rlpg_r_ignores_the_contexts_of_proposals_that_do_not_apply():
    torch.manual_seed(0)
    model = build(PPCConfig(kind="rlpg_r", dim=8, hidden=16, heads=2, dropout=0.0, proposals=4)).eval()
    hole = torch.randn(1, 8)
    contexts = torch.randn(1, 4, 8)
    applicable = torch.tensor([[True, False, True, True]])
    other = contexts.clone()
    other[0, 1] = 100.0
    with torch.no_grad():
        torch.testing.assert_close(model(hole, contexts, applicable), model(hole, other, applicable))


def test_configuration_errors_are_clear():
    with pytest.raises(ValueError, match="unknown classifier 'svm'"):
        build(PPCConfig(kind="svm", dim=8))
    with pytest.raises(ValueError, match="heads \\(3\\) must divide dim \\(8\\)"):
        build(PPCConfig(kind="rlpg_r", dim=8, heads=3))
