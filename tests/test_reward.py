"""Reward features (learners/reward): adaptation, the Bradley-Terry fits, the simulator's
attributes and developers, hidden states kept by the decoding loop, checkpoints, and the
per-developer ranker."""

from __future__ import annotations

import math

import pytest
import torch

from bowerbird.learners.reward.adapt import OnlineWeights, fit_weights
from bowerbird.learners.reward.features import CHEAP_FEATURES, cheap_features
from bowerbird.learners.reward.model import BTConfig, fit_bradley_terry
from bowerbird.learners.reward.simulate import LEVELS, AttributeScale, Item, comparisons, population
from bowerbird.learners.reward.style import ATTRIBUTES, attributes


def synthetic_comparisons(w: torch.Tensor, n: int, seed: int, noise: bool = True) -> torch.Tensor:
    """z = phi(winner) - phi(loser) for pairs of random features chosen by w (Bradley-Terry)."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, len(w), generator=g), torch.randn(n, len(w), generator=g)
    p = torch.sigmoid((a - b) @ w)
    first = torch.rand(n, generator=g) < p if noise else p > 0.5
    return torch.where(first[:, None], a - b, b - a)


def test_adaptation_recovers_known_weights():
    w = torch.tensor([2.0, -1.0, 0.5, 0.0, 1.5])
    fitted = fit_weights(synthetic_comparisons(w, 4000, 0), torch.zeros(5), strength=0.1)
    assert torch.nn.functional.cosine_similarity(fitted, w, dim=0) > 0.99
    assert float(fitted.norm()) == pytest.approx(float(w.norm()), rel=0.15)


def test_adaptation_starts_at_the_prior_and_a_strong_prior_holds():
    prior = torch.tensor([1.0, 0.0, 0.0])
    assert torch.equal(fit_weights(torch.zeros(0, 3), prior, 1.0), prior)
    z = synthetic_comparisons(torch.tensor([0.0, 3.0, 0.0]), 10, 1)
    held = fit_weights(z, prior, strength=1000.0)
    loose = fit_weights(z, prior, strength=0.1)
    assert (held - prior).norm() < 0.05 < (loose - prior).norm()


def test_adaptation_rejects_a_non_positive_strength():
    with pytest.raises(ValueError, match="strength"):
        fit_weights(torch.zeros(1, 2), torch.zeros(2), 0.0)


def test_online_updates_follow_the_choices():
    online = OnlineWeights(torch.zeros(2), strength=1.0)
    for _ in range(5):
        online.add(torch.tensor([1.0, -1.0]))
    assert online.events == 5 and online.weights[0] > 0 > online.weights[1]


def two_camps(n_items: int = 60, per_item: int = 4, dim: int = 6, seed: int = 0):
    """Candidates with random features; camp A prefers feature 0, camp B the opposite."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_items * per_item, dim, generator=g)
    pairs = torch.tensor([(i * per_item + a, i * per_item + b) for i in range(n_items)
                          for a in range(per_item) for b in range(per_item) if a != b])  # fmt: skip
    return x, pairs


def test_the_pooled_model_is_misspecified_for_two_opposing_camps():
    x, pairs = two_camps()
    truth = {0: torch.zeros(6), 1: torch.zeros(6)}
    truth[0][0], truth[1][0] = 4.0, -4.0
    winner, loser, who = [], [], []
    for dev in (0, 1):
        for a, b in pairs.tolist():
            if (x[a] - x[b]) @ truth[dev] > 0:
                winner.append(a), loser.append(b), who.append(dev)
    winner, loser, who = torch.tensor(winner), torch.tensor(loser), torch.tensor(who)
    config = BTConfig(dim=4, hidden=16, steps=300, validation=0.0)
    pooled = fit_bradley_terry(x, winner, loser, who, 2, config, pooled=True)
    per_developer = fit_bradley_terry(x, winner, loser, who, 2, config)

    def accuracy(scores, dev):
        rows = who == dev
        return float((scores[winner[rows]] > scores[loser[rows]]).float().mean())

    with torch.no_grad():
        pooled_scores = pooled.features(x) @ pooled.weights[0]
        f = per_developer.features(x)
    for dev in (0, 1):
        assert accuracy(f @ per_developer.weights[dev], dev) > 0.9
    # one reward for both camps: whatever it prefers, one camp disagrees
    assert min(accuracy(pooled_scores, 0), accuracy(pooled_scores, 1)) < 0.6


def test_population_disagreement_knob():
    low, high = population(LEVELS["low"], 10, seed=0), population(LEVELS["high"], 10, seed=0)
    cos = torch.nn.functional.cosine_similarity
    assert cos(low[0], low[1], dim=0) > 0.8  # everyone agrees
    assert cos(high[0], high[1], dim=0) < -0.3  # the two camps oppose
    assert cos(high[0], high[2], dim=0) > 0.8  # within a camp, they agree
    with pytest.raises(ValueError):
        population(1.5, 2, seed=0)


def toy_items(n: int = 8) -> list[Item]:
    items = []
    for i in range(n):
        texts = ("x", "'a'", f"call(value={i})", '"longer_name"')
        items.append(Item("f.py", "y = ", "x", texts, torch.randn(4, 3),
                          torch.tensor([[float(a) for a in attributes("y = ", t).values()] for t in texts])))  # fmt: skip
    return items


def test_comparisons_are_deterministic_and_follow_the_preference():
    items = toy_items()
    scale = AttributeScale.fit(items)
    prefs = torch.zeros(1, len(ATTRIBUTES))
    prefs[0, ATTRIBUTES.index("length")] = 50.0  # a sharp taste for long lines
    first = comparisons(prefs, items, scale, 40, seed=3)
    assert first == comparisons(prefs, items, scale, 40, seed=3)
    decided = [c for c in first if len(items[c.item].texts[c.winner]) != len(items[c.item].texts[c.loser])]
    assert len(decided) > 20
    for c in decided:
        assert len(items[c.item].texts[c.winner]) > len(items[c.item].texts[c.loser])


@pytest.mark.parametrize("prefix, candidate, expected", [
    ("x = ", "f\"{a}\"  # note", {"quotes": 1.0, "fstrings": 1.0, "comments": 1.0}),
    ("x = ", "'%s' % v", {"quotes": -1.0, "fstrings": -1.0, "comments": 0.0}),
    ("def f(", "self, x: int) -> None:", {"type_hints": 1.0}),
    ("call(", "name=1, other=2)", {"keywords": 1.0}),
    ("x = f(", "a, b)", {"keywords": -1.0}),
    ("    ", "if value is None: raise ValueError('bad')", {"defensive": 1.0}),
    ("y = ", "d.get('k').strip().lower()", {"chaining": 1.0}),
    ("y = ", "", {"length": 0.0, "long_names": 0.0}),
])
def test_style_attributes(prefix, candidate, expected):
    values = attributes(prefix, candidate)
    assert set(values) == set(ATTRIBUTES)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value)


def test_style_attributes_survive_broken_code():
    values = attributes("x = (", "'unterminated")
    assert all(math.isfinite(v) for v in values.values())


def test_cheap_features():
    values = dict(zip(CHEAP_FEATURES, cheap_features("if f(a, (b", "), c):", -0.5)))
    assert values == {"log_chars": pytest.approx(math.log1p(6)), "lines": 0.0, "logprob": -0.5, "closes": 2.0,
                      "opens": 0.0, "colon": 1.0, "blank": 0.0}  # fmt: skip
    assert dict(zip(CHEAP_FEATURES, cheap_features("", "", float("-inf"))))["logprob"] == 0.0


def test_with_the_pooled_reward_as_first_feature_unit_weights_rank_as_the_pooled_model(tmp_path):
    from bowerbird.learners.reward.checkpoint import RewardModel, load_reward, save_reward

    x, pairs = two_camps(n_items=20)
    winner, loser = pairs[:, 0], pairs[:, 1]
    keep = x[winner, 0] > x[loser, 0]  # everyone prefers feature 0
    winner, loser = winner[keep], loser[keep]
    who = torch.zeros(len(winner), dtype=torch.long)
    config = BTConfig(dim=3, hidden=8, steps=100, validation=0.0)
    pooled = fit_bradley_terry(x, winner, loser, who, 1, config, pooled=True)
    rfm = fit_bradley_terry(x, winner, loser, who, 1, config, base=pooled)
    with torch.no_grad():
        f = rfm.features(x)
        assert f.shape == (len(x), 3)
        assert torch.allclose(f[:, 0], pooled.features(x) @ pooled.weights[0], atol=1e-6)
        assert torch.allclose(f @ torch.tensor([1.0, 0.0, 0.0]), f[:, 0])
    model = RewardModel(rfm.features, rfm.mean_weights, 1.0, f.mean(0), "abc", {})
    loaded = load_reward(save_reward(model, tmp_path / "reward"))
    assert torch.allclose(loaded.features(x), model.features(x), atol=1e-6)
