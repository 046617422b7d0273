"""`bowerbird eval reward`: pairwise accuracy of reward models for held-out simulated developers.

Protocol (all developers drawn from one `simulate.population` per disagreement level):

- training developers make comparisons on the training holes' candidates; theta and their
  weights are fitted on them (`model.fit_bradley_terry`), and, on the same comparisons, the
  pooled Bradley-Terry reward and the pooled linear model on fixed features;
- the last `VALIDATION_HOLES` of the training holes are never trained on: the training
  developers' comparisons there choose theta's stopping step, and validation developers'
  choices there (k = `TUNE_K`, then tested on other pairs) choose the prior strength of
  each adaptive method;
- held-out developers give k choices on one half of the held-out holes (the adaptation
  choices) and are tested on comparisons of the other half.

Methods, each scoring a candidate; a comparison counts as right when the winner scores higher:

- ``pooled``: the non-adaptive Bradley-Terry reward (one weight vector for everyone);
- ``rfm``: reward features, w_dev fitted from k choices towards the population mean (`adapt`);
- ``linear``: a linear model on the fixed inputs (hidden state and cheap features,
  standardised), fitted pooled, then adapted per developer in the same way;
- ``oracle``: the developer's true utility (the ceiling under Bradley-Terry noise).

`retained` simulates showing each held-out developer the top candidate of each held-out hole
under a method (k = `TUNE_K` for the adaptive ones): the developer accepts it with probability
``sigmoid(u(shown) - mean u)`` over the hole's candidates, and keeps the characters it shares with
the real line (its common prefix with the target: what survives the developer's edit). Reported
per shown completion: acceptance rate and accepted-and-retained characters (acceptance alone
rewards short, trivial suggestions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from .adapt import fit_weights
from .features import CHEAP_FEATURES
from .model import BTConfig, fit_bradley_terry, stack_items
from .simulate import DEFAULT_BETA, LEVELS, AttributeScale, Comparison, Item, comparisons, population, utilities

logger = logging.getLogger(__name__)

METHODS = ("pooled", "rfm", "linear", "oracle")
TUNE_K = 10
LOGPROB = CHEAP_FEATURES.index("logprob") - len(CHEAP_FEATURES)  # its column in the inputs (cheap features last)
VALIDATION_HOLES = 0.15  # of the training holes: never trained on; early stopping and the prior strength
STRENGTHS = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0)


@dataclass(frozen=True)
class RewardEvalConfig:
    levels: tuple[str, ...] = ("low", "medium", "high")
    ks: tuple[int, ...] = (0, 5, 10, 20, 50)
    train_developers: int = 40
    validation_developers: int = 20
    test_developers: int = 20
    train_comparisons: int = 200  # per training developer
    test_comparisons: int = 200  # per held-out developer
    beta: float = DEFAULT_BETA
    seed: int = 0
    bt: BTConfig = field(default_factory=BTConfig)


def _tensors(comps: Sequence[Comparison], offsets: Sequence[int]) -> tuple[torch.Tensor, ...]:
    winner = torch.tensor([offsets[c.item] + c.winner for c in comps], dtype=torch.long)
    loser = torch.tensor([offsets[c.item] + c.loser for c in comps], dtype=torch.long)
    who = torch.tensor([c.developer for c in comps], dtype=torch.long)
    return winner, loser, who


def _accuracy(scores: torch.Tensor, winner: torch.Tensor, loser: torch.Tensor) -> tuple[float, int]:
    """(right, total): ties count half."""
    diff = scores[winner] - scores[loser]
    return float((diff > 0).sum() + 0.5 * (diff == 0).sum()), len(diff)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class LevelRun:
    """One disagreement level: its population, comparisons and fitted models."""

    def __init__(self, level: str, train: list[Item], test: list[Item], config: RewardEvalConfig):
        self.level, self.config = level, config
        self.train, self.test = train, test
        self.scale = AttributeScale.fit(train)
        self.x_train, self.off_train = stack_items([i.features for i in train])
        self.x_test, self.off_test = stack_items([i.features for i in test])
        c = config
        n_train, n_val, n_test = c.train_developers, c.validation_developers, c.test_developers
        self.prefs = population(LEVELS[level], n_train + n_val + n_test, c.seed, c.beta)
        self.train_devs = list(range(n_train))
        self.val_devs = list(range(n_train, n_train + n_val))
        self.test_devs = list(range(n_train + n_val, n_train + n_val + n_test))
        kmax = max(c.ks)
        adapt_items = [i for i in range(len(test)) if i % 2 == 0]
        held_items = [i for i in range(len(test)) if i % 2 == 1]
        seed = c.seed * 1000 + list(LEVELS).index(level) * 100
        # the last VALIDATION_HOLES of the training holes: early stopping and the prior strength
        cut = min(len(train) - 2, max(2, int(len(train) * (1 - VALIDATION_HOLES))))
        val_items = list(range(cut, len(train)))
        self.train_comps = comparisons(self.prefs, train, self.scale, c.train_comparisons, seed + 1, self.train_devs)
        self.stop = torch.tensor([c.item >= cut for c in self.train_comps])
        val_holes = [train[i] for i in val_items]
        self.val_adapt = self._within(comparisons(self.prefs, val_holes, self.scale, TUNE_K, seed + 2, self.val_devs),
                                      val_items)  # fmt: skip
        self.val_test = self._within(comparisons(self.prefs, val_holes, self.scale, c.test_comparisons, seed + 3,
                                                 self.val_devs), val_items)  # fmt: skip
        self.adapt = self._within(comparisons(self.prefs, [test[i] for i in adapt_items], self.scale, kmax,
                                              seed + 4, self.test_devs), adapt_items)  # fmt: skip
        self.held = self._within(comparisons(self.prefs, [test[i] for i in held_items], self.scale,
                                             c.test_comparisons, seed + 5, self.test_devs), held_items)  # fmt: skip

    @staticmethod
    def _within(comps: list[Comparison], items: list[int]) -> list[Comparison]:
        """Comparisons made on a subset of the items, renumbered to the full list."""
        return [Comparison(c.developer, items[c.item], c.winner, c.loser) for c in comps]

    def fit(self) -> None:
        w, l, who = _tensors(self.train_comps, self.off_train)
        n = len(self.train_devs)
        self.pooled = fit_bradley_terry(self.x_train, w, l, who, n, self.config.bt, pooled=True, held=self.stop)
        self.rfm = fit_bradley_terry(self.x_train, w, l, who, n, self.config.bt, held=self.stop, base=self.pooled)
        self.mean, self.std = self.x_train.mean(0), self.x_train.std(0).clamp_min(1e-4)
        z = self._fixed(self.x_train)
        fit = ~self.stop
        self.linear_prior = fit_weights(z[w[fit]] - z[l[fit]], torch.zeros(z.shape[1]), 1.0)
        with torch.no_grad():
            self.phi_train, self.phi_test = self.rfm.features(self.x_train), self.rfm.features(self.x_test)
            self.pooled_test = self.pooled.features(self.x_test) @ self.pooled.weights[0]
        self.fixed_train, self.fixed_test = self._fixed(self.x_train), self._fixed(self.x_test)
        self.strength = {"rfm": self._tune(self.phi_train, self.rfm.mean_weights),
                         "linear": self._tune(self.fixed_train, self.linear_prior)}  # fmt: skip

    def _fixed(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def _tune(self, f: torch.Tensor, prior: torch.Tensor) -> float:
        """The prior strength for `TUNE_K` choices, by the one-standard-error rule: the
        strongest prior whose validation accuracy is within one standard error of the best
        (with ten choices, moving away from the population must earn its keep)."""
        scores = []
        for strength in STRENGTHS:
            right = total = 0.0
            for d in self.val_devs:
                a = [c for c in self.val_adapt if c.developer == d]
                t = [c for c in self.val_test if c.developer == d]
                wa, la, _ = _tensors(a, self.off_train)
                wt, lt, _ = _tensors(t, self.off_train)
                weights = fit_weights(f[wa] - f[la], prior, strength)
                r, n = _accuracy(f @ weights, wt, lt)
                right, total = right + r, total + n
            scores.append((right / max(total, 1), total))
        best, total = max(scores)
        standard_error = (best * (1 - best) / max(total, 1)) ** 0.5
        return max(s for s, (accuracy, _) in zip(STRENGTHS, scores) if accuracy >= best - standard_error)

    def dev_weights(self, method: str, d: int, k: int) -> torch.Tensor:
        f, prior = (self.phi_test, self.rfm.mean_weights) if method == "rfm" else (self.fixed_test, self.linear_prior)
        a = [c for c in self.adapt if c.developer == d][:k]
        wa, la, _ = _tensors(a, self.off_test)
        return fit_weights(f[wa] - f[la], prior, self.strength[method])

    def scores(self, method: str, d: int, k: int) -> torch.Tensor:
        """Every held-out candidate's score under ``method`` for developer ``d`` after k choices."""
        if method == "pooled":
            return self.pooled_test
        if method == "oracle":
            return torch.cat([utilities(self.prefs[d : d + 1], item, self.scale)[0] for item in self.test])
        f = self.phi_test if method == "rfm" else self.fixed_test
        return f @ self.dev_weights(method, d, k)

    def accuracy(self, method: str, k: int) -> float:
        right = total = 0.0
        for d in self.test_devs:
            t = [c for c in self.held if c.developer == d]
            wt, lt, _ = _tensors(t, self.off_test)
            r, n = _accuracy(self.scores(method, d, k), wt, lt)
            right, total = right + r, total + n
        return right / max(total, 1)

    def retained(self, method: str) -> dict:
        """Acceptance rate and accepted-and-retained characters per shown completion."""
        held = sorted({c.item for c in self.held})
        accepted = kept = shown = 0.0
        for d in self.test_devs:
            scores = self.scores(method, d, TUNE_K) if method != "model_score" else self.x_test[:, LOGPROB]
            for i in held:
                item = self.test[i]
                start = self.off_test[i]
                top = int(scores[start : start + len(item.texts)].argmax())
                u = utilities(self.prefs[d : d + 1], item, self.scale)[0]
                p = float(torch.sigmoid(u[top] - u.mean()))
                shown += 1
                accepted += p
                kept += p * _common_prefix(item.texts[top], item.target)
        return {"acceptance": accepted / max(shown, 1), "retained_chars": kept / max(shown, 1), "shown": int(shown)}


def evaluate_reward(
    train: list[Item], test: list[Item], config: RewardEvalConfig = RewardEvalConfig(),
    progress: Callable[[str], None] | None = None,
) -> dict:  # fmt: skip
    """``{"results": [{"disagreement", "method", "k", "accuracy"}], "retained": [...], "levels": {...}}``."""
    if len(train) < 2 or len(test) < 4:
        raise ValueError(f"too few holes with two or more distinct candidates ({len(train)} training, "
                         f"{len(test)} held-out)")  # fmt: skip
    results: list[dict] = []
    retained: list[dict] = []
    levels: dict = {}
    for level in config.levels:
        started = time.monotonic()
        if progress is not None:
            progress(f"disagreement {level}: simulating and fitting")
        state = LevelRun(level, train, test, config)
        state.fit()
        for method in METHODS:
            for k in config.ks:
                results.append({"disagreement": level, "method": method, "k": k,
                                "accuracy": state.accuracy(method, k)})  # fmt: skip
        for method in ("model_score", *METHODS):
            retained.append({"disagreement": level, "method": method,
                             "k": TUNE_K if method in ("rfm", "linear") else None, **state.retained(method)})  # fmt: skip
        levels[level] = {"lam": LEVELS[level], "strength": state.strength,
                         "train_comparisons": len(state.train_comps), "test_comparisons": len(state.held),
                         "rfm_loss": state.rfm.losses[-1], "pooled_loss": state.pooled.losses[-1],
                         "seconds": time.monotonic() - started}  # fmt: skip
    return {"results": results, "retained": retained, "levels": levels}
