"""Misuse model checkpoints: a folder with ``config.json`` (`MisuseConfig`, the GFSA view's
vocabulary digest for edge set "gfsa"), ``vocabulary.json`` (subtoken -> id) and
``model.safetensors``. Never pickle."""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors.torch import load_file, save_file

from .model import MisuseConfig, MisuseModel

CONFIG = "config.json"
VOCABULARY = "vocabulary.json"
WEIGHTS = "model.safetensors"


def save_model(model: MisuseModel, vocabulary: dict[str, int], folder: str | Path, extra: dict | None = None) -> Path:
    """Write the model to ``folder`` (each file replaced atomically); ``extra`` goes into the
    config (e.g. the chosen diagnostic threshold)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"misuse": model.config.to_dict(), **(extra or {})}
    if model.gfsa is not None:
        from bowerbird.learners.gfsa.encoding import vocabulary_digest

        meta["gfsa_vocabulary"] = vocabulary_digest(model.config.gfsa_view)
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(folder / WEIGHTS, lambda tmp: save_file(tensors, str(tmp)))
    atomic_write(folder / VOCABULARY, lambda tmp: tmp.write_text(json.dumps(vocabulary)))
    atomic_write(folder / CONFIG, lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n"))
    return folder


def load_model(folder: str | Path) -> tuple[MisuseModel, dict[str, int], dict]:
    """(model, subtoken vocabulary, the whole config) from ``folder``. Raises ValueError when
    the GFSA view's vocabulary changed since it was saved, OSError / KeyError when a file is
    missing or incomplete."""
    folder = Path(folder)
    meta = json.loads((folder / CONFIG).read_text())
    config = MisuseConfig(**meta["misuse"])
    if config.edge_set == "gfsa":
        from bowerbird.learners.gfsa.encoding import vocabulary_digest

        if meta.get("gfsa_vocabulary") != vocabulary_digest(config.gfsa_view):
            raise ValueError(f"{folder}: saved for another GFSA observation vocabulary ({config.gfsa_view!r} view)")
    model = MisuseModel(config)
    model.load_state_dict(load_file(str(folder / WEIGHTS)))
    vocabulary = json.loads((folder / VOCABULARY).read_text())
    return model, vocabulary, meta


def atomic_write(path: Path, write) -> None:
    """``write(temporary path)``, then the temporary file replaces ``path``."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
