"""A trained classifier as the proposal chooser of the harness (`eval completion --ppc`) and of
the server's pipeline.

The hole's window is encoded by the completing backend's own network, as in training. A
classifier knows which encoder it was trained on (a fingerprint of the weights, encode.py):
the server refuses a classifier trained on another model's vectors (`strict`), since its scores
would mean nothing there, and falls back to its fixed proposal; the harness only warns.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bowerbird.learners import shipped_checkpoint

from .labels import hole_window
from .model import choose, proposal_mask

logger = logging.getLogger(__name__)

SHIPPED_NAME = "ppc"


class ChooserUnavailable(ValueError):
    """No classifier can choose for this backend; the message says why."""


def shipped_folder() -> Path:
    """Where the shipped classifier lives in the package."""
    return shipped_checkpoint(SHIPPED_NAME)


class ProposalChooser:
    """`chooser(hole, proposals)`: of the applicable proposals (build.Proposal, in_file among
    them), the id the classifier ranks first. `ranking(hole)` (RLPG-H, which reads no
    proposal): every proposal id, best first, before any proposal is built."""

    def __init__(self, folder: Path, backend, strict: bool = False):
        from .encode import HiddenStateEncoder, fingerprint
        from .train import CONFIG, load

        folder = Path(folder)
        if not (folder / CONFIG).is_file():
            raise ChooserUnavailable(f"no proposal classifier in {folder}")
        if getattr(backend, "network", None) is None:
            raise ChooserUnavailable(f"the {getattr(backend, 'name', 'served')} backend has no local network to encode holes")
        self.model, meta = load(folder)
        self.kind = meta["ppc"]["kind"]
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
        self.contexts = None
        if self.kind == "rlpg_r":
            from .contexts import ContextVectors

            self.contexts = ContextVectors(self.encoder)
        self.folder = folder

    def scores(self, hole, proposals=None):
        """The classifier's logit per proposal id, [proposals]; RLPG-R needs the applicable
        `proposals` (their contexts)."""
        import torch

        vector = self.encoder.encode([hole_window(hole.prefix, hole.after)])
        contexts = mask = None
        if self.contexts is not None:
            if proposals is None:
                raise ValueError("an rlpg_r classifier scores the applicable proposals' contexts: build them first")
            contexts = self.contexts.matrix(proposals)[None]
            mask = proposal_mask([[p.kind.id for p in proposals]])
        with torch.no_grad():
            return self.model(vector, contexts, mask)[0]

    def ranking(self, hole) -> list[int]:
        return self.scores(hole).argsort(descending=True, stable=True).tolist()

    def __call__(self, hole, proposals) -> int:
        mask = proposal_mask([[p.kind.id for p in proposals]])
        return int(choose(self.scores(hole, proposals)[None], mask)[0])


def load_chooser(folder: str | Path | None, backend) -> tuple[ProposalChooser | None, str | None]:
    """The server's chooser: `folder` (None: the shipped classifier) for `backend`; (None, why)
    when there is none to use, and the server keeps its fixed proposal."""
    try:
        chooser = ProposalChooser(Path(folder).expanduser() if folder else shipped_folder(), backend, strict=True)
        if chooser.kind != "rlpg_h":
            return None, (f"{chooser.folder} is an {chooser.kind} classifier: it encodes every proposal's context, "
                          "too slow per request; the server uses RLPG-H classifiers")
        return chooser, None
    except ChooserUnavailable as error:
        return None, str(error)
    except Exception as error:  # a damaged checkpoint (safetensors, json and torch each fail their own way)
        return None, f"cannot load the proposal classifier: {error}"
