"""Ranking candidates for the developer: the `Ranker` interface, the model-score ranker, and the
per-developer reward ranker.

`RewardRanker` ranks by r_dev(x, y) = w_dev . (phi(x, y) - anchor) (learners/reward) and hides
the candidates this developer would likely reject: those whose probability of being preferred
to a typical candidate, sigmoid(r_dev), is below `hide_below` — once the developer has made
`HIDE_AFTER` choices (before that, r_dev is the population's, and nothing is hidden for a
taste that is not yet theirs). w_dev starts at the
population's weights (or at the developer's weights saved in the feedback store for this
reward model) and is refitted after every accept or dismissal (`learn`), then saved back:
an accept says the candidate taken beats the others shown with it and a typical candidate;
a dismissal says the first candidate shown loses to a typical one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from typing import Protocol

from bowerbird.learners.lm.backend import Candidate

logger = logging.getLogger(__name__)

REMEMBERED = 512  # candidates whose reward features are kept for the accept or dismissal that follows
HIDE_AFTER = 10  # choices of this developer before anything is hidden: until then the reward is the population's


class Ranker(Protocol):
    def rank(self, candidates: list[Candidate], line_prefix: str = "") -> list[Candidate]:
        """Best first; may drop candidates the developer would not want to see."""
        ...


class ModelScoreRanker:
    """By the model's mean log-probability per token."""

    needs_states = False

    def rank(self, candidates: list[Candidate], line_prefix: str = "") -> list[Candidate]:
        return sorted(candidates, key=lambda c: -c.score)


class RewardRanker:
    """By one developer's reward; `learn` adapts it to their choices."""

    needs_states = True  # the pipeline asks the model for each candidate's hidden state

    def __init__(self, scorer, developer: str, hide_below: float = 0.0, store=None):
        import torch

        from bowerbird.learners.reward.adapt import OnlineWeights

        self.scorer = scorer
        self.developer = developer
        self.hide_below = hide_below
        self.store = store  # a FeedbackStore, or None: the weights live in memory only
        saved = store.saved_weights(developer, scorer.model_id) if store is not None else None
        start = scorer.prior
        self.choices = 0  # the developer's choices behind the current weights (saved ones included)
        if saved is not None and len(saved[0]) == len(start):
            start = torch.tensor(saved[0], dtype=start.dtype)
            self.choices = saved[1]
        self.weights = OnlineWeights(start, scorer.strength)
        self._features: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def rewards(self, candidates: list[Candidate], line_prefix: str = ""):
        """(n,) r_dev of each candidate, or None when they cannot be scored (no hidden states)."""
        features = self.scorer.features(line_prefix, candidates)
        if features is None:
            return None
        with self._lock:
            for candidate, row in zip(candidates, features):
                self._features[(line_prefix, candidate.text)] = row
                self._features.move_to_end((line_prefix, candidate.text))
            while len(self._features) > REMEMBERED:
                self._features.popitem(last=False)
            weights = self.weights.weights
        return features @ weights

    def rank(self, candidates: list[Candidate], line_prefix: str = "") -> list[Candidate]:
        rewards = self.rewards(candidates, line_prefix)
        if rewards is None:
            return ModelScoreRanker().rank(candidates)
        import torch

        with self._lock:
            hiding = self.choices >= HIDE_AFTER
        shown = torch.sigmoid(rewards) >= (self.hide_below if hiding else 0.0)
        order = sorted((i for i in range(len(candidates)) if shown[i]), key=lambda i: -float(rewards[i]))
        return [candidates[i] for i in order]

    def learn(self, line_prefix: str, texts: list[str], accepted: int | None) -> bool:
        """Refit the weights after the developer accepted ``texts[accepted]`` of the candidates
        shown (or dismissed them: None), and save them; False when the candidates' features are
        no longer remembered (nothing learned)."""
        import torch

        with self._lock:
            rows = [self._features.get((line_prefix, t)) for t in texts]
        if accepted is not None:
            if not 0 <= accepted < len(rows) or rows[accepted] is None:
                return False
            taken = rows[accepted]
            z = [taken] + [taken - row for i, row in enumerate(rows) if i != accepted and row is not None]
        else:
            if not rows or rows[0] is None:
                return False
            z = [-rows[0]]
        with self._lock:
            weights = self.weights.add(torch.stack(z))
            self.choices += 1
            events = self.choices
        if self.store is not None:
            try:
                self.store.save_weights(self.developer, self.scorer.model_id, weights.tolist(), events)
            except (ValueError, OSError, sqlite3.Error) as error:  # a full disk must not break completion
                logger.warning("could not save the ranking weights: %s", error)
        return True
