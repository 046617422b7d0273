"""Training loop of the misuse model: Adam over shuffled mini-batches of graphs, stopped by a
step count or a wall-clock budget, reporting a loss curve (and saving) every ``log_every``.

The learning rate follows ``schedule``: ``constant``, or ``cosine`` (from ``lr`` at step 0 down
to ``min_lr_ratio * lr`` at ``steps``). It is a function of the step number alone, so a run
stopped by ``minutes`` and resumed continues the same curve."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .graph_inputs import MisuseGraph
from .model import MisuseModel, example_loss

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitConfig:
    steps: int = 1000  # optimizer steps in all (one mini-batch each)
    batch_size: int = 16  # graphs per step
    lr: float = 1e-3
    gfsa_lr: float = 0.01  # the GFSA layer's logit table (edge set "gfsa") learns at its own rate
    minutes: float | None = None  # stop after this long
    log_every: int = 50
    seed: int = 0
    clip: float = 1.0  # gradient norm clip
    schedule: str = "constant"  # "constant" or "cosine" (see the module's docstring)
    min_lr_ratio: float = 0.05  # cosine: the rate at ``steps`` as a share of the peak


SCHEDULES = ("constant", "cosine")


def lr_scale(step: int, config: FitConfig) -> float:
    """The learning rate at ``step`` as a share of the configured rates."""
    if config.schedule == "constant":
        return 1.0
    if config.schedule != "cosine":
        raise ValueError(f"unknown schedule {config.schedule!r} (choose from {', '.join(SCHEDULES)})")
    progress = min(1.0, step / max(1, config.steps))
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class FitResult:
    steps: int  # steps taken in this call
    seconds: float
    curve: list[dict]  # {"step", "loss", "seconds"} per log point


def fit(
    model: MisuseModel, graphs: Sequence[MisuseGraph], config: FitConfig, start_step: int = 0,
    on_log: Callable[[dict], None] | None = None,
) -> FitResult:  # fmt: skip
    """Train ``model`` on ``graphs`` from step ``start_step`` up to ``config.steps``."""
    if not graphs:
        raise ValueError("no training graphs")
    gfsa = [p for n, p in model.named_parameters() if n.startswith("gfsa.")]
    rest = [p for n, p in model.named_parameters() if not n.startswith("gfsa.")]
    groups = [{"params": rest, "lr": config.lr}] + ([{"params": gfsa, "lr": config.gfsa_lr}] if gfsa else [])
    optimizer = torch.optim.Adam(groups)
    rng = random.Random(config.seed * 1_000_003 + start_step)
    order: list[int] = []
    started = time.monotonic()
    curve: list[dict] = []
    window: list[float] = []
    step = start_step
    model.train()
    while step < config.steps:
        if config.minutes is not None and time.monotonic() - started >= 60 * config.minutes:
            break
        if len(order) < config.batch_size:
            more = list(range(len(graphs)))
            rng.shuffle(more)
            order += more
        batch = [graphs[i] for i in order[: config.batch_size]]
        del order[: config.batch_size]
        scale = lr_scale(step, config)
        for group, base in zip(optimizer.param_groups, [config.lr, config.gfsa_lr], strict=False):
            group["lr"] = base * scale
        outputs = model(batch)
        loss = torch.stack([example_loss(o, g) for o, g in zip(outputs, batch, strict=True)]).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        step += 1
        window.append(float(loss.detach()))
        if step % config.log_every == 0 or step == config.steps:
            entry = {"step": step, "loss": sum(window) / len(window), "seconds": time.monotonic() - started}
            window.clear()
            curve.append(entry)
            if on_log is not None:
                on_log(entry)
    return FitResult(step - start_step, time.monotonic() - started, curve)
