"""What the server ranks with: the reward features of a completion's candidates.

`RewardScorer.features(line_prefix, candidates)` gives ``phi(x, y) - anchor`` (n, d) for the
candidates of one completion, from their hidden states (`Candidate.state`, kept by the
decoding loop) and texts; a developer's reward is ``features @ w_dev``. `load_scorer` refuses a
checkpoint trained on another code model's states (`RewardUnavailable`, with the reason).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import torch

from bowerbird.learners import shipped_checkpoint

from .checkpoint import WEIGHTS, RewardModel, load_reward
from .features import TokenEmbedder, feature_vector

logger = logging.getLogger(__name__)

SHIPPED_NAME = "reward"


class RewardUnavailable(Exception):
    """No reward model can rank for this backend; the message says why."""


def shipped_folder() -> Path:
    return shipped_checkpoint(SHIPPED_NAME)


class RewardScorer:
    def __init__(self, model: RewardModel, backend, model_id: str, folder: Path):
        self.model = model
        self.embed = TokenEmbedder(backend)
        self.model_id = model_id  # names theta: per-developer weights are stored under it
        self.folder = folder

    @property
    def prior(self) -> torch.Tensor:
        return self.model.prior

    @property
    def strength(self) -> float:
        return self.model.strength

    def features(self, line_prefix: str, candidates: list) -> torch.Tensor | None:
        """(n, d) centred reward features; None when a candidate has no hidden state (then the
        ranker keeps the model's order)."""
        if not candidates or any(c.state is None for c in candidates):
            return None
        x = torch.stack([feature_vector(line_prefix, c.text, c.score, c.state, self.embed(c.text)) for c in candidates])
        return self.model.features(x)


def model_id(folder: Path) -> str:
    """A short digest of a checkpoint's weights: the key of the weights fitted against it."""
    digest = hashlib.sha256((Path(folder) / WEIGHTS).read_bytes()).hexdigest()[:12]
    return f"reward-{digest}"


def load_scorer(folder: str | Path | None, backend) -> RewardScorer:
    """The scorer of the checkpoint in ``folder`` (None: the shipped one) for ``backend``."""
    from bowerbird.learners.ppc.encode import fingerprint

    folder = Path(folder) if folder else shipped_folder()
    if getattr(backend, "network", None) is None:
        raise RewardUnavailable(f"the {getattr(backend, 'name', 'served')} backend gives no hidden states to rank by")
    if not folder.is_dir():
        raise RewardUnavailable(f"no reward model in {folder}")
    try:
        model = load_reward(folder)
    except (ValueError, OSError, KeyError, RuntimeError) as error:
        raise RewardUnavailable(f"cannot load the reward model in {folder}: {error}") from None
    here = fingerprint(backend)
    if model.encoder_fingerprint != here:
        raise RewardUnavailable(f"{folder} was trained on another code model's states "
                                f"(weights {model.encoder_fingerprint}; {backend.model} is {here})")  # fmt: skip
    return RewardScorer(model, backend, model_id(folder), folder)
