"""Ranking candidates for the developer: the `Ranker` interface and the model-score ranker.

The reward-features issue adds a per-developer ranker behind the same interface.
"""

from __future__ import annotations

from typing import Protocol

from bowerbird.learners.lm.backend import Candidate


class Ranker(Protocol):
    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        """Best first; may drop candidates the developer would not want to see."""
        ...


class ModelScoreRanker:
    """By the model's mean log-probability per token."""

    def rank(self, candidates: list[Candidate]) -> list[Candidate]:
        return sorted(candidates, key=lambda c: -c.score)
