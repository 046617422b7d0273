"""A trained classifier as the harness's (and later the server's) proposal chooser."""

from __future__ import annotations

import logging
from pathlib import Path

from .labels import hole_window
from .model import choose, proposal_mask

logger = logging.getLogger(__name__)


class ProposalChooser:
    """`chooser(hole, applicable ids)` -> the applicable proposal the classifier ranks first.
    The hole's window is encoded by `backend`'s network, as in training; a warning is logged
    when the classifier was trained on another encoder's vectors."""

    def __init__(self, folder: Path, backend):
        from .encode import HiddenStateEncoder
        from .train import load

        self.model, meta = load(folder)
        if meta.get("encoder") != backend.model:
            logger.warning("%s was trained with the encoder %s; encoding with %s", folder, meta.get("encoder"),
                           backend.model)
        if meta["ppc"]["kind"] != "rlpg_h":
            raise ValueError(f"a {meta['ppc']['kind']} classifier needs the proposals' context vectors (not built yet)")
        self.encoder = HiddenStateEncoder(backend)
        if self.encoder.dim != meta["ppc"]["dim"]:
            raise ValueError(f"trained on {meta['ppc']['dim']}-wide vectors; this encoder's are {self.encoder.dim}")

    def __call__(self, hole, applicable: list[int]) -> int:
        import torch

        mask = proposal_mask([applicable])
        vector = self.encoder.encode([hole_window(hole.prefix, hole.after)])
        with torch.no_grad():
            return int(choose(self.model(vector, None, mask), mask)[0])
