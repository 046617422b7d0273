"""Train a `GfsaLayer` to reproduce the graph builder's edges from the AST alone.

The loss is the binary cross-entropy between the layer's edge probabilities (``A[e, i, j]``, or
its Platt-scaled version; computed from the logits `GfsaLayer.edge_logits`) and the 0/1 target
adjacency, averaged over all (i, j) pairs, optionally with focal weighting
(Lin et al. 2017): each term is multiplied by ``(1 - p_t) ** gamma``, where ``p_t`` is the
probability given to the true label, so that the many easy negatives (pairs far apart in the
tree) stop dominating once they are near 0. ``positive_weight`` scales the terms of true edges.
One graph per step (graphs differ in size), Adam, epochs in a seeded random order.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .layer import GfsaLayer
from .targets import Example

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 300  # optimizer steps (one graph each)
    lr: float = 0.05  # Adam learning rate on the logit table
    focal_gamma: float = 0.0  # 0: plain BCE; 2 is the focal loss's usual value
    positive_weight: float = 1.0  # weight of the terms of true edges
    seed: int = 0  # the order of the examples
    log_every: int = 25  # steps between history entries (and log lines)
    time_limit_s: float | None = None  # stop early after this many seconds


@dataclass
class TrainResult:
    steps: int  # steps taken
    seconds: float  # wall time
    history: list[dict] = field(default_factory=list)  # {"step", "loss"} (mean over the window)


def edge_loss(
    logits: torch.Tensor, target: torch.Tensor, focal_gamma: float = 0.0,
    positive_weight: float = 1.0,
) -> torch.Tensor:  # fmt: skip
    """Mean (focal) binary cross-entropy of ``sigmoid(logits)`` against the 0/1 ``target``."""
    truth = target > 0.5
    signed = torch.where(truth, logits, -logits)  # logit of the probability of the true label
    weight = torch.where(truth, positive_weight, 1.0)
    if focal_gamma:
        weight = weight * torch.sigmoid(-signed) ** focal_gamma  # (1 - p_true) ** gamma
    return -(weight * F.logsigmoid(signed)).mean()


def example_order(num_examples: int, steps: int, seed: int) -> list[int]:
    """Example index per step: shuffled epochs, reproducible from the seed."""
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < steps:
        epoch = list(range(num_examples))
        rng.shuffle(epoch)
        order += epoch
    return order[:steps]


def train_layer(
    layer: GfsaLayer, examples: Sequence[Example], config: TrainConfig,
    on_log: Callable[[dict], None] | None = None,
) -> TrainResult:  # fmt: skip
    """Train ``layer`` in place on ``examples``; returns the loss history."""
    device = next(layer.parameters()).device if examples else None
    return fit(layer, examples, config, lambda example: layer.edge_logits(example.encoding.to(device)), on_log)


def fit(
    model: torch.nn.Module, examples: Sequence[Example], config: TrainConfig,
    edge_logits: Callable[[Example], torch.Tensor], on_log: Callable[[dict], None] | None = None,
    name: str = "",
) -> TrainResult:  # fmt: skip
    """The training loop every edge predictor shares: one graph per step in `example_order`,
    Adam on `edge_loss` of `edge_logits(example)`, a loss record every `log_every` steps."""
    if not examples:
        raise ValueError("no training examples")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    result = TrainResult(0, 0.0)
    start = time.monotonic()
    window: list[float] = []
    model.train()
    for step, i in enumerate(example_order(len(examples), config.steps, config.seed), 1):
        example = examples[i]
        logits = edge_logits(example)
        loss = edge_loss(logits, example.target.to(logits.device), config.focal_gamma,
                         config.positive_weight)  # fmt: skip
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        result.steps = step
        result.seconds = time.monotonic() - start
        if step % config.log_every == 0 or step == config.steps:
            entry = {"step": step, "loss": sum(window) / len(window), "seconds": result.seconds}
            result.history.append(entry)
            logger.info("%sstep %d loss %.4f (%.1f s)", name, step, entry["loss"], result.seconds)
            if on_log is not None:
                on_log(entry)
            window = []
        if config.time_limit_s is not None and result.seconds > config.time_limit_s:
            logger.info("%stime limit reached after %d steps", name, step)
            break
    return result
