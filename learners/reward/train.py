"""`train reward` on simulated developers: theta, the prior and its strength, as the server uses them.

The training holes' items are split by hole: most train theta and the training developers'
weights, the rest (holes theta never saw) report how well the result ranks for new
developers of the same population, as `eval reward` measures it on held-out packages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .checkpoint import RewardModel
from .evaluate import TUNE_K, LevelRun, RewardEvalConfig
from .model import BTConfig
from .simulate import LEVELS, Item

logger = logging.getLogger(__name__)

VALIDATION_SHARE = 0.15  # of the holes, left out of training to report on


def train_simulated(
    backend, items: Sequence[Item], level: str, developers: int = 40, comparisons: int = 200,
    dim: int = 16, seed: int = 0,
) -> tuple[RewardModel, dict]:  # fmt: skip
    """The reward model fitted on ``developers`` simulated developers at disagreement ``level``,
    and a report (data, the prior strength, accuracies on the left-out holes)."""
    from bowerbird.learners.ppc.encode import fingerprint

    if level not in LEVELS:
        raise ValueError(f"unknown disagreement level {level!r}")
    cut = max(2, int(len(items) * (1 - VALIDATION_SHARE)))
    train, held = list(items[:cut]), list(items[cut:])
    if len(train) < 2 or len(held) < 4:
        raise ValueError(f"too few holes with two or more distinct candidates ({len(items)})")
    config = RewardEvalConfig(levels=(level,), ks=(0, TUNE_K), train_developers=developers,
                              train_comparisons=comparisons, seed=seed, bt=BTConfig(dim=dim, seed=seed))  # fmt: skip
    run = LevelRun(level, train, held, config)
    run.fit()
    anchor = run.phi_train.mean(0)  # phi of a typical training candidate
    accuracy = {f"{method}@k={k}": run.accuracy(method, k) for method in ("pooled", "rfm", "oracle")
                for k in ((0, TUNE_K) if method == "rfm" else (0,))}  # fmt: skip
    report = {
        "source": f"simulated developers ({level} disagreement)",
        "disagreement": level, "developers": developers, "comparisons": len(run.train_comps),
        "holes": len(train), "validation_holes": len(held),
        "candidates": int(run.x_train.shape[0]), "strength": run.strength["rfm"],
        "best_step": run.rfm.best_step, "validation_accuracy": accuracy,
    }  # fmt: skip
    model = RewardModel(run.rfm.features, run.rfm.mean_weights, run.strength["rfm"], anchor,
                        fingerprint(backend), {})  # fmt: skip
    return model, report
