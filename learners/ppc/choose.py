"""A trained classifier as the proposal chooser of the harness (`eval completion --ppc`) and of
the server's pipeline.

The hole's window is encoded by the completing backend's own network, as in training. A
classifier knows which encoder it was trained on (a fingerprint of the weights, encode.py):
the server refuses a classifier trained on another model's vectors (`strict`), since its scores
would mean nothing there, and falls back to its fixed proposal; the harness only warns.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from .labels import hole_window
from .model import choose, proposal_mask

logger = logging.getLogger(__name__)

SHIPPED_NAME = "ppc"


class ChooserUnavailable(ValueError):
    """No classifier can choose for this backend; the message says why."""


def shipped_folder() -> Path:
    """Where the shipped classifier lives in the package."""
    return Path(str(resources.files("bowerbird.learners"))) / "checkpoints" / SHIPPED_NAME


class ProposalChooser:
    """`ranking(hole)`: every proposal id, the classifier's best first; `chooser(hole,
    applicable ids)`: the applicable one it ranks first."""

    def __init__(self, folder: Path, backend, strict: bool = False):
        from .encode import HiddenStateEncoder, fingerprint
        from .train import CONFIG, load

        folder = Path(folder)
        if not (folder / CONFIG).is_file():
            raise ChooserUnavailable(f"no proposal classifier in {folder}")
        if getattr(backend, "network", None) is None:
            raise ChooserUnavailable(f"the {getattr(backend, 'name', 'served')} backend has no local network to encode holes")
        self.model, meta = load(folder)
        if meta["ppc"]["kind"] != "rlpg_h":
            raise ChooserUnavailable(f"a {meta['ppc']['kind']} classifier needs the proposals' context vectors per request")
        self.fixed = int(meta.get("report", {}).get("training", {}).get("fixed_best_id", 62))
        trained_on, here = meta.get("encoder_fingerprint"), fingerprint(backend)
        if trained_on != here:
            message = (f"{folder} was trained on the vectors of {meta.get('encoder')} (weights {trained_on}); "
                       f"this model is {backend.model} (weights {here})")
            if strict:
                raise ChooserUnavailable(message)
            logger.warning("%s", message)
        self.encoder = HiddenStateEncoder(backend, layers=meta.get("encoder_layers"))
        if self.encoder.dim != meta["ppc"]["dim"]:
            raise ChooserUnavailable(f"trained on {meta['ppc']['dim']}-wide vectors; this encoder's are {self.encoder.dim}")
        self.folder = folder

    def scores(self, hole):
        """The classifier's logit per proposal id, [proposals]."""
        import torch

        vector = self.encoder.encode([hole_window(hole.prefix, hole.after)])
        with torch.no_grad():
            return self.model(vector, None, None)[0]

    def ranking(self, hole) -> list[int]:
        return self.scores(hole).argsort(descending=True, stable=True).tolist()

    def __call__(self, hole, applicable: list[int]) -> int:
        mask = proposal_mask([applicable])
        return int(choose(self.scores(hole)[None], mask)[0])


def load_chooser(folder: str | Path | None, backend) -> tuple[ProposalChooser | None, str | None]:
    """The server's chooser: `folder` (None: the shipped classifier) for `backend`; (None, why)
    when there is none to use, and the server keeps its fixed proposal."""
    try:
        return ProposalChooser(Path(folder).expanduser() if folder else shipped_folder(), backend, strict=True), None
    except ChooserUnavailable as error:
        return None, str(error)
    except Exception as error:  # a damaged checkpoint (safetensors, json and torch each fail their own way)
        return None, f"cannot load the proposal classifier: {error}"
