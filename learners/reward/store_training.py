"""`train reward --store`: theta from real developers' accepts in the feedback store.

Every accepted completion says the developer preferred the candidate they took to each other
candidate shown with it: one Bradley-Terry comparison each. (A dismissal says nothing about
which candidate is better; the server uses it online, against the anchor.) The events hold
candidate texts, not hidden states, so the candidates are re-read after an in-file prompt
(`features.teacher_forced_features`). `--exclude-developer` leaves developers out entirely.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

from .checkpoint import RewardModel
from .features import teacher_forced_features
from .model import BTConfig, fit_bradley_terry

logger = logging.getLogger(__name__)

MIN_COMPARISONS = 10
DEFAULT_STRENGTH = 1.0  # prior strength: too few developers in a store to tune it on


def train_from_events(
    backend, events: Sequence, dim: int = 16, seed: int = 0
) -> tuple[RewardModel, dict, dict[str, tuple[list[float], int]]]:
    """The reward model fitted on the accepts among ``events`` (`feedback.ChoiceEvent`s), a
    report, and each developer's fitted weights with the number of their comparisons (for
    the feedback store: they belong to this theta)."""
    from bowerbird.learners.ppc.encode import fingerprint

    accepted = [e for e in events if e.kind == "accepted" and e.candidate is not None
                and 0 <= e.candidate < len(e.candidates) and len(e.candidates) >= 2]  # fmt: skip
    pairs = sum(len(e.candidates) - 1 for e in accepted)
    if pairs < MIN_COMPARISONS:
        raise ValueError(f"the feedback store has {pairs} comparisons (accepts among two or more candidates); "
                         f"training needs at least {MIN_COMPARISONS}")  # fmt: skip
    developers = sorted({e.developer for e in accepted})
    index = {d: i for i, d in enumerate(developers)}
    blocks, winner, loser, who, hole = [], [], [], [], []
    offset = 0
    for number, event in enumerate(accepted):
        texts = [str(c.get("text", "")) for c in event.candidates]
        blocks.append(teacher_forced_features(backend, event.prefix, texts))
        for other in range(len(texts)):
            if other != event.candidate:
                winner.append(offset + event.candidate)
                loser.append(offset + other)
                who.append(index[event.developer])
                hole.append(number)
        offset += len(texts)
    x = torch.cat(blocks)
    data = (x, torch.tensor(winner), torch.tensor(loser), torch.tensor(who), len(developers), BTConfig(dim=dim, seed=seed))
    pooled = fit_bradley_terry(*data, pooled=True, group=torch.tensor(hole))
    fitted = fit_bradley_terry(*data, group=torch.tensor(hole), base=pooled)
    with torch.no_grad():
        anchor = fitted.features(x).mean(0)
    report = {"source": "feedback store", "developers": len(developers), "events": len(accepted),
              "comparisons": len(winner), "candidates": int(x.shape[0]), "strength": DEFAULT_STRENGTH,
              "best_step": fitted.best_step}  # fmt: skip
    model = RewardModel(fitted.features, fitted.mean_weights, DEFAULT_STRENGTH, anchor, fingerprint(backend), {})
    counts = torch.bincount(torch.tensor(who), minlength=len(developers)).tolist()
    weights = {d: (fitted.weights[i].tolist(), counts[i]) for d, i in index.items()}
    return model, report, weights
