"""Reward features: r_dev(x, y) = w_dev . phi_theta(x, y) (Barreto et al. 2025).

``phi_theta`` (`RewardFeatures`) maps what the models see of a candidate in its context (the
code model's hidden state and cheap features, `features.py`, standardised with statistics
kept in the module) through a small MLP to R^d. Training (`fit_bradley_terry`) fits theta and
one weight vector per training developer jointly by the Bradley-Terry loss
``-log sigmoid(w_dev . (phi(y) - phi(y')))`` over their comparisons. With ``pooled=True`` all
developers share one weight vector: the ordinary (non-adaptive) Bradley-Terry reward model,
which a population with opposing preferences misspecifies.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)


class RewardFeatures(nn.Module):
    """phi_theta: (..., inputs) -> (..., dim).

    With ``base`` (a pooled reward: features and their one weight vector, frozen), the first
    feature is the pooled reward itself and the MLP gives the other ``dim - 1``: a developer
    whose weights are (1, 0, ...) ranks exactly as the pooled model does, so the population's
    ranking is always within reach of the adaptation, and the other features say how a
    developer departs from it."""

    def __init__(self, inputs: int, dim: int = 16, hidden: int = 64, dropout: float = 0.0,
                 base: RewardFeatures | None = None, base_weights: torch.Tensor | None = None):  # fmt: skip
        super().__init__()
        self.inputs, self.dim, self.hidden = inputs, dim, hidden
        self.register_buffer("mean", torch.zeros(inputs))
        self.register_buffer("std", torch.ones(inputs))
        self.base = base
        if base is not None:
            if base_weights is None or base_weights.shape != (base.dim,):
                raise ValueError("a base reward needs its weight vector")
            base.requires_grad_(False)
            self.register_buffer("base_weights", base_weights.detach().clone())
            dim -= 1  # the MLP gives the rest
        if hidden:
            self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))
        else:  # linear reward features: a rank-d map of the inputs
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(inputs, dim))

    def set_scale(self, x: torch.Tensor) -> None:
        """Standardise inputs with the mean and std of ``x`` (n, inputs), the training candidates."""
        with torch.no_grad():
            self.mean.copy_(x.mean(0))
            self.std.copy_(x.std(0).clamp_min(1e-4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net((x - self.mean) / self.std)
        if self.base is None:
            return out
        pooled = self.base(x) @ self.base_weights
        return torch.cat([pooled[..., None], out], dim=-1)

    def train(self, mode: bool = True) -> RewardFeatures:
        super().train(mode)
        if self.base is not None:
            self.base.eval()  # frozen: no dropout in the pooled reward
        return self


@dataclass(frozen=True)
class BTConfig:
    dim: int = 16  # d, the reward features
    hidden: int = 64  # the MLP's hidden width (0: linear features)
    steps: int = 1500  # full-batch Adam steps (the best on held-out holes is kept)
    lr: float = 3e-3
    # Strong regularisation: each training hole's few candidates are compared by many developers,
    # so an unregularised phi memorises them (validation loss rises after ~50 steps); with these
    # values it keeps improving for a few hundred (measured in the README's reward section)
    weight_decay: float = 5e-2  # on theta
    weight_l2: float = 1e-3  # on the developers' weights
    dropout: float = 0.5  # on the MLP's hidden layer, in training
    validation: float = 0.15  # share of the comparisons held out to pick the best step (early stopping)
    check_every: int = 20  # steps between validation checks
    patience: int = 400  # stop when the held-out loss has not improved for this many steps
    seed: int = 0


@dataclass
class FittedReward:
    features: RewardFeatures  # theta
    weights: torch.Tensor  # (developers, d): one row per training developer (one row if pooled)
    losses: list[float]  # the training loss at each validation check
    validation_losses: list[float]  # the held-out comparisons' loss at each check
    best_step: int  # the step kept (lowest validation loss)

    @property
    def mean_weights(self) -> torch.Tensor:
        """The population's weights: the mean over the training developers (the adaptation prior)."""
        return self.weights.mean(0)


def fit_bradley_terry(
    x: torch.Tensor, winner: torch.Tensor, loser: torch.Tensor, developer: torch.Tensor, developers: int,
    config: BTConfig = BTConfig(), pooled: bool = False, group: torch.Tensor | None = None,
    held: torch.Tensor | None = None, base: FittedReward | None = None,
) -> FittedReward:  # fmt: skip
    """Fit theta and the weights on comparisons ``winner[i] > loser[i]`` (rows of the candidate
    matrix ``x`` (n, inputs)) made by ``developer[i]``. The comparisons held out for early
    stopping are a random `BTConfig.validation` share of them, or, with ``group`` (e.g. the
    hole of each comparison), those of that share of the groups: the step kept is then the one
    that ranks candidates of holes theta has not seen best. ``held`` (bool per comparison)
    names the held-out comparisons instead. With ``base`` (a pooled fit), the first feature
    is its reward (`RewardFeatures`) and every developer's weights start at (1, 0, ...)."""
    if len(winner) == 0:
        raise ValueError("no comparisons to train on")
    torch.manual_seed(config.seed)
    rows = 1 if pooled else developers
    if base is not None:
        phi = RewardFeatures(x.shape[1], config.dim, config.hidden, config.dropout, base.features, base.weights[0])
        start = torch.cat([torch.ones(rows, 1), torch.randn(rows, config.dim - 1) * 0.1], dim=1)
    else:
        phi = RewardFeatures(x.shape[1], config.dim, config.hidden, config.dropout)
        start = torch.randn(rows, config.dim) * 0.1
    phi.set_scale(x)
    weights = nn.Parameter(start)
    who = torch.zeros_like(developer) if pooled else developer
    if held is not None:
        is_held = held.clone()
    elif group is not None:
        groups = group.unique()
        chosen = groups[torch.randperm(len(groups))[: int(len(groups) * config.validation)]]
        is_held = torch.isin(group, chosen)
    else:
        is_held = torch.zeros(len(winner), dtype=torch.bool)
        is_held[torch.randperm(len(winner))[: int(len(winner) * config.validation)]] = True
    if len(winner) < 10 or is_held.all():
        is_held[:] = False
    held, fit = is_held.nonzero().squeeze(1), (~is_held).nonzero().squeeze(1)
    trainable = [p for p in phi.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam([{"params": trainable, "weight_decay": config.weight_decay},
                                  {"params": [weights], "weight_decay": 0.0}], lr=config.lr)  # fmt: skip

    def loss_of(rows_: torch.Tensor) -> torch.Tensor:
        f = phi(x)
        margin = (weights[who[rows_]] * (f[winner[rows_]] - f[loser[rows_]])).sum(-1)
        return F.softplus(-margin).mean()

    losses: list[float] = []
    validation_losses: list[float] = []
    best = (float("inf"), 0, copy.deepcopy(phi.state_dict()), weights.detach().clone())
    for step in range(1, config.steps + 1):
        phi.train()
        loss = loss_of(fit) + config.weight_l2 * weights.pow(2).sum(1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % config.check_every == 0 or step == config.steps:
            phi.eval()
            with torch.no_grad():
                held_loss = float(loss_of(held)) if len(held) else float(loss)
            losses.append(float(loss.detach()))
            validation_losses.append(held_loss)
            if held_loss < best[0]:
                best = (held_loss, step, copy.deepcopy(phi.state_dict()), weights.detach().clone())
            elif len(held) and step - best[1] >= config.patience:
                break
    phi.load_state_dict(best[2])
    phi.eval()
    return FittedReward(phi, best[3], losses, validation_losses, best[1])


def stack_items(features: Sequence[torch.Tensor]) -> tuple[torch.Tensor, list[int]]:
    """All items' candidate rows in one matrix, and each item's first row."""
    offsets, total = [], 0
    for f in features:
        offsets.append(total)
        total += len(f)
    return torch.cat(list(features)), offsets
