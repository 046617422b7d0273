"""A reward-features checkpoint for the tiny model (tests/tiny_model.py), with seeded random
weights and its fingerprint (or another one), saved as `train reward` saves one."""

from __future__ import annotations

from pathlib import Path


def build_tiny_reward(folder: Path, backend, fingerprint: str | None = None, dim: int = 4) -> Path:
    import torch

    from bowerbird.learners.ppc.encode import fingerprint as fingerprint_of
    from bowerbird.learners.reward.checkpoint import RewardModel, save_reward
    from bowerbird.learners.reward.features import CHEAP_FEATURES
    from bowerbird.learners.reward.model import RewardFeatures

    torch.manual_seed(0)
    width = int(backend.network.config.hidden_size)
    phi = RewardFeatures(3 * width + len(CHEAP_FEATURES), dim, hidden=8).eval()
    model = RewardModel(phi, torch.ones(dim), 1.0, torch.zeros(dim), fingerprint or fingerprint_of(backend),
                        {"source": "tests"})  # fmt: skip
    return save_reward(model, folder)
