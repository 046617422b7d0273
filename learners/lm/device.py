"""The one place where a device is chosen: cuda, then mps, then cpu, unless forced."""

from __future__ import annotations


def choose_device(forced: str | None = None) -> str:
    import torch

    if forced:
        return forced
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"
