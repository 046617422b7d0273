"""GREAT's metrics for a misuse model, and the threshold that makes its diagnostics precise.

Per example the model gives ``p_bug = 1 - p(no bug)``, the most likely read (the location) and
the most likely access for the repair. Over a data set:

- ``no_bug_acc``: clean functions whose most likely location is the "no bug" slot;
- ``loc_acc``: buggy functions whose most likely location is the bug;
- ``repair_acc``: buggy functions whose most likely repair access is an occurrence of the right
  variable (GREAT scores the repair pointer on buggy examples, whatever the location);
- ``joint_acc``: buggy functions with both right.

A diagnostic is shown when ``p_bug >= threshold`` and then points at the most likely read.
`precision_threshold` picks the smallest threshold whose shown diagnostics are right (a real
bug, the right read) at least ``target`` of the time, and reports the recall there. Chosen and
reported on the same examples that is optimistic; `calibration_split` divides held-out
examples into a part that chooses the threshold and a part that reports at it.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .graph_inputs import MisuseGraph
from .model import MisuseModel

logger = logging.getLogger(__name__)

_VARIANT = re.compile(r"~\d+$")  # `synthesis.paired_examples`' suffix of a buggy copy


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one example, and whether it is right."""

    id: str
    buggy: bool  # the example has a bug
    p_bug: float  # 1 - p(no bug)
    location_right: bool  # the most likely read is the bug (buggy examples)
    repair_right: bool  # the most likely access holds the right variable (buggy examples)
    no_bug_right: bool  # clean example, and the most likely location is "no bug"


@torch.no_grad()
def predict(model: MisuseModel, graphs: Sequence[MisuseGraph], batch_size: int = 16) -> list[Prediction]:
    model.eval()
    out: list[Prediction] = []
    for start in range(0, len(graphs), batch_size):
        batch = graphs[start : start + batch_size]
        for g, o in zip(batch, model(batch), strict=True):
            p = torch.softmax(o.location, 0)
            where = int(p.argmax())
            repair = int(o.repair.argmax()) if o.repair.numel() else -1
            buggy = g.bug >= 0
            out.append(Prediction(
                g.id, buggy, float(1 - p[0]),
                location_right=buggy and where == g.bug + 1,
                repair_right=buggy and repair in g.repairs.tolist(),
                no_bug_right=not buggy and where == 0,
            ))  # fmt: skip
    return out


def metrics(predictions: Sequence[Prediction]) -> dict:
    """``{"examples", "buggy", "no_bug_acc", "loc_acc", "repair_acc", "joint_acc"}``."""
    buggy = [p for p in predictions if p.buggy]
    clean = [p for p in predictions if not p.buggy]

    def share(items, test) -> float:
        return sum(1 for p in items if test(p)) / len(items) if items else 0.0

    return {
        "examples": len(predictions),
        "buggy": len(buggy),
        "no_bug_acc": share(clean, lambda p: p.no_bug_right),
        "loc_acc": share(buggy, lambda p: p.location_right),
        "repair_acc": share(buggy, lambda p: p.repair_right),
        "joint_acc": share(buggy, lambda p: p.location_right and p.repair_right),
    }


def precision_threshold(predictions: Sequence[Prediction], target: float = 0.95) -> dict:
    """The smallest ``p_bug`` threshold at which shown diagnostics (``p_bug >= threshold``; right
    when the example is buggy and the location is right) have precision >= ``target``:
    ``{"threshold", "precision", "recall", "shown"}`` (recall over the buggy examples).
    ``threshold`` is None when no threshold reaches the target."""
    ranked = sorted(predictions, key=lambda p: -p.p_bug)
    buggy = sum(1 for p in predictions if p.buggy)
    best = {"threshold": None, "precision": None, "recall": 0.0, "shown": 0, "target": target}
    right = joint = 0
    for k, p in enumerate(ranked, start=1):
        right += p.buggy and p.location_right
        joint += p.buggy and p.location_right and p.repair_right
        if k < len(ranked) and ranked[k].p_bug == p.p_bug:
            continue  # ties are shown together
        precision = right / k
        if precision >= target:
            best = {"threshold": p.p_bug, "precision": precision, "recall": right / buggy if buggy else 0.0,
                    "shown": k, "target": target, "repair_precision": joint / k}  # fmt: skip
    return best


def at_threshold(predictions: Sequence[Prediction], threshold: float) -> dict:
    """Shown diagnostics at a given threshold: ``{"threshold", "precision", "recall", "shown",
    "repair_precision"}`` (the precisions None when nothing is shown; ``repair_precision``: the
    share of shown diagnostics whose suggested variable is right too)."""
    shown = [p for p in predictions if p.p_bug >= threshold]
    right = sum(1 for p in shown if p.buggy and p.location_right)
    joint = sum(1 for p in shown if p.buggy and p.location_right and p.repair_right)
    buggy = sum(1 for p in predictions if p.buggy)
    return {"threshold": threshold, "precision": right / len(shown) if shown else None,
            "recall": right / buggy if buggy else 0.0, "shown": len(shown),
            "repair_precision": joint / len(shown) if shown else None}  # fmt: skip


def calibration_split(
    predictions: Sequence[Prediction], share: float,
) -> tuple[list[Prediction], list[Prediction]]:  # fmt: skip
    """(calibration part, report part): each example goes to the calibration part when a hash of
    its function's id (its id without a ``~k`` variant suffix, so the copies of one function
    stay together) falls below ``share``; deterministic, independent of order."""
    calibrate, report = [], []
    for p in predictions:
        key = _VARIANT.sub("", p.id).encode("utf-8")
        (calibrate if zlib.crc32(key) / 2**32 < share else report).append(p)
    return calibrate, report


def false_alarms_per_1000(predictions: Sequence[Prediction], threshold: float | None) -> float | None:
    """Diagnostics shown per 1,000 clean functions at ``threshold`` (None without one)."""
    if threshold is None:
        return None
    clean = [p for p in predictions if not p.buggy]
    return 1000 * sum(1 for p in clean if p.p_bug >= threshold) / len(clean) if clean else 0.0
