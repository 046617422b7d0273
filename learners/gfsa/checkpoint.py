"""GFSA checkpoints: a folder with ``config.json`` (`GfsaConfig` plus the target kinds) and
``model.safetensors`` (the policy's logit table). Never pickle.

``config.json``'s ``gfsa.view`` is the GFSA view the layer was trained on (its observation
vocabulary); a config without it (saved before views existed) is the default view, "ast"."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from safetensors.torch import load_file, save_file

from .encoding import vocabulary_digest
from .layer import GfsaConfig, GfsaLayer

CONFIG = "config.json"
WEIGHTS = "model.safetensors"


def save_layer(layer: GfsaLayer, folder: str | Path, kinds: Sequence[str] = (), half: bool = False) -> Path:
    """Write the layer (and the edge kind each policy was trained for) to ``folder``; with
    ``half`` the policy's logit table is stored in fp16 (`load_layer` reads it back as fp32)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"gfsa": layer.config.to_dict(), "kinds": [str(k) for k in kinds],
            "vocabulary": vocabulary_digest(layer.config.view)}  # fmt: skip
    (folder / CONFIG).write_text(json.dumps(meta, indent=2) + "\n")
    tensors = {k: v.detach().contiguous().cpu() for k, v in layer.state_dict().items()}
    if half:
        tensors["policy.logits"] = tensors["policy.logits"].half()
    save_file(tensors, str(folder / WEIGHTS))
    return folder


def load_layer(folder: str | Path) -> tuple[GfsaLayer, list[str]]:
    """The layer saved in ``folder`` and its edge kinds. Raises ValueError when the observation
    vocabulary or the move slots changed since it was saved (the table would not match)."""
    folder = Path(folder)
    meta = json.loads((folder / CONFIG).read_text())
    config = GfsaConfig(**meta["gfsa"])  # no "view": the default view
    if meta["vocabulary"] != vocabulary_digest(config.view):
        raise ValueError(
            f"{folder}: saved for observation vocabulary {meta['vocabulary']} "
            f"({config.view!r} view), the graph builder now has {vocabulary_digest(config.view)}"
        )
    layer = GfsaLayer(config)
    layer.load_state_dict(load_file(str(folder / WEIGHTS)))
    return layer, list(meta["kinds"])
