"""What `bowerbird check` and the server's diagnostics share about misuse findings (no torch):
the rule id, the shipped model's folder, a model's calibrated threshold and how a probability is
shown."""

from __future__ import annotations

import math
from pathlib import Path

RULE_ID = "BB001"  # SARIF's rule id and the LSP diagnostics' code
RULE_NAME = "variable-misuse"
DEFAULT_THRESHOLD = 0.5  # when the model's config has no calibrated threshold
MODEL_FILES = ("config.json", "vocabulary.json", "model.safetensors")  # `checkpoint.py`'s files


def default_model_folder() -> Path:
    """Where the shipped model lives (``learners/checkpoints/misuse``), whether or not it is there."""
    from bowerbird.learners import shipped_checkpoint

    return shipped_checkpoint("misuse")


def is_model_folder(folder: Path) -> bool:
    """Whether ``folder`` has the files of a misuse model (`checkpoint.save_model`)."""
    return all((folder / name).is_file() for name in MODEL_FILES)


def calibrated_threshold(config: dict) -> tuple[float, str | None]:
    """The threshold in a model's config (a number, or `eval misuse`'s threshold object) and
    None; `DEFAULT_THRESHOLD` and None when there is none; `DEFAULT_THRESHOLD` and what is wrong
    when it is not a number in [0, 1]."""
    value = config.get("threshold")
    if isinstance(value, dict):
        value = value.get("threshold")
    if value is None:
        return DEFAULT_THRESHOLD, None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        return DEFAULT_THRESHOLD, f"the model's threshold must be a number in [0, 1], got {value!r}"
    return float(value), None


def shown(probability: float) -> str:
    """Two places, cut rather than rounded (0.998 shows as 0.99, not as a certain 1.00)."""
    return f"{math.floor(probability * 100) / 100:.2f}"
