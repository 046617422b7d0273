"""Precision, recall and F1 of a `GfsaLayer`'s edges against the graph builder's edges.

An edge ``i -> j`` of learned type ``e`` is predicted when its probability (`edge_probabilities`:
``A[e, i, j]``, Platt-scaled if the layer is) is at least ``threshold``. Counts
are summed over all functions before the ratios are taken (micro-averaging), per edge kind.
The result has the shape of ``bowerbird eval gfsa --json`` (DESIGN.md):
``{"functions", "edges": {KIND: {"precision", "recall", "f1", "tp", "fp", "fn"}}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .layer import GfsaLayer
from .targets import Example

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdgeCounts:
    tp: int = 0  # predicted and in the target
    fp: int = 0  # predicted, not in the target
    fn: int = 0  # in the target, not predicted

    def __add__(self, other: EdgeCounts) -> EdgeCounts:
        return EdgeCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "tp": self.tp, "fp": self.fp, "fn": self.fn}  # fmt: skip


def edge_counts(adjacency: torch.Tensor, target: torch.Tensor, threshold: float) -> EdgeCounts:
    """Counts for one (N, N) probability matrix against its 0/1 target."""
    predicted = adjacency >= threshold
    truth = target > 0.5
    return EdgeCounts(
        int((predicted & truth).sum()), int((predicted & ~truth).sum()), int((~predicted & truth).sum())
    )


@torch.no_grad()
def evaluate_layer(
    layer: GfsaLayer, examples: Sequence[Example], threshold: float = 0.5
) -> dict:
    """Micro-averaged precision/recall/F1 per edge kind over ``examples``."""
    layer.eval()
    device = next(layer.parameters()).device
    totals: dict[str, EdgeCounts] = {}
    for example in examples:
        adjacency = layer.edge_probabilities(example.encoding.to(device)).cpu()
        for e, kind in enumerate(example.kinds):
            counts = edge_counts(adjacency[e], example.target[e], threshold)
            totals[str(kind)] = totals.get(str(kind), EdgeCounts()) + counts
    return {"functions": len(examples), "edges": {k: c.to_dict() for k, c in totals.items()}}
