"""A prompt proposal classifier with a known ranking, for the tiny model (tests/tiny_model.py).

Its MLP's weights are zero and its output biases rank `first` (in that order) above every
other proposal, so whatever the hole, the classifier ranks `first[0]` first. It is saved as
`train ppc` saves one, with the tiny model's fingerprint, so the server accepts it.
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_classifier(folder: Path, backend, first: list[int]) -> Path:
    import torch

    from bowerbird.learners.ppc.encode import fingerprint
    from bowerbird.learners.ppc.model import PPCConfig, build
    from bowerbird.learners.ppc.train import save

    model = build(PPCConfig(kind="rlpg_h", dim=int(backend.network.config.hidden_size), hidden=8))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        for rank, proposal in enumerate(first):
            model.mlp[-1].bias[proposal] = 10.0 - rank
    return save(model.eval(), folder, {"encoder": backend.model, "encoder_fingerprint": fingerprint(backend)})
