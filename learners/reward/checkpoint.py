"""Reward-feature checkpoints: a folder with ``config.json`` and ``model.safetensors`` (theta,
the population's mean weights, and the anchor), plus ``MODEL_CARD.md``. Never pickle.

``RewardModel`` is what the server ranks with: ``phi`` (theta), ``prior`` (the mean weights
of the training developers: where a new developer starts), ``strength`` (how strongly the
adaptation pulls towards the prior, chosen on validation developers), and ``anchor`` (phi of a
typical candidate: the mean over the training candidates, so that ``w . (phi(y) - anchor)`` is
the log-odds that this developer prefers ``y`` to a typical candidate; the show/hide
threshold acts on it). ``encoder_fingerprint`` names the code model whose hidden states and
embeddings theta reads (`ppc.encode.fingerprint`); a ranker refuses another model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .features import LAYOUT
from .model import RewardFeatures

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
FORMAT = 2


@dataclass
class RewardModel:
    phi: RewardFeatures
    prior: torch.Tensor  # (d,)
    strength: float
    anchor: torch.Tensor  # (d,)
    encoder_fingerprint: str | None
    training: dict = field(default_factory=dict)  # what it was trained on (for the card and `doctor`)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x) - anchor: (n, d)."""
        with torch.no_grad():
            return self.phi(x) - self.anchor


def save_reward(model: RewardModel, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = model.phi.base
    meta = {"format": FORMAT, "inputs": model.phi.inputs, "dim": model.phi.dim, "hidden": model.phi.hidden,
            "base": {"dim": base.dim, "hidden": base.hidden} if base is not None else None,
            "layout": LAYOUT, "strength": model.strength,
            "encoder_fingerprint": model.encoder_fingerprint, "training": model.training}  # fmt: skip
    (folder / CONFIG).write_text(json.dumps(meta, indent=2) + "\n")
    tensors = {f"phi.{k}": v.detach().contiguous() for k, v in model.phi.state_dict().items()}
    tensors["prior"] = model.prior.detach().contiguous()
    tensors["anchor"] = model.anchor.detach().contiguous()
    save_file(tensors, str(folder / WEIGHTS))
    return folder


def load_reward(folder: str | Path) -> RewardModel:
    """The model in ``folder``; ValueError when it is not a reward checkpoint of this format."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / CONFIG).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{folder}: no readable {CONFIG} ({error})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{folder}: not a reward checkpoint of format {FORMAT}")
    if meta.get("layout") != LAYOUT:
        raise ValueError(f"{folder}: trained on other inputs ({meta.get('layout')}; this version reads {LAYOUT})")
    tensors = load_file(str(folder / WEIGHTS))
    inputs, base, base_weights = int(meta["inputs"]), None, None
    if meta.get("base"):  # the pooled reward as the first feature (model.RewardFeatures)
        base = RewardFeatures(inputs, int(meta["base"]["dim"]), int(meta["base"]["hidden"]))
        base_weights = torch.zeros(base.dim)
    phi = RewardFeatures(inputs, int(meta["dim"]), int(meta["hidden"]), base=base, base_weights=base_weights)
    try:
        phi.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("phi.")})
    except RuntimeError as error:
        raise ValueError(f"{folder}: the weights do not match the config ({error})") from None
    phi.eval()
    return RewardModel(phi, tensors["prior"], float(meta["strength"]), tensors["anchor"],
                       meta.get("encoder_fingerprint"), meta.get("training", {}))  # fmt: skip
