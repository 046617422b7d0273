"""Train a prompt proposal classifier on labels (labels.py), validated on other repositories.

The hole vectors come from the frozen encoder (encode.py) over each label's window; RLPG-R also
reads each applicable proposal's context vector (contexts.py). Training is
full-batch Adam on the masked loss (a few thousand holes fit in memory at once). Validation
holes come from repositories that no training hole came from, as RLPG splits by repository;
the report compares, on them, the classifier's choice with in_file, the proposal that is best
on the training holes (fixed_best) and the oracle, all read off the labels.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from bowerbird.learners.lm.evaluate import IN_FILE_ID, most_wins, proposal_wins

from .model import PPCConfig, build, choose, masked_loss, proposal_mask

logger = logging.getLogger(__name__)

CONFIG, WEIGHTS = "config.json", "model.safetensors"


@dataclass
class LabelSet:
    holes: torch.Tensor  # [N, dim] window vectors
    labels: torch.Tensor  # [N, P] bool: the proposal's prompt solves the hole
    applicable: torch.Tensor  # [N, P] bool
    repos: list[str]  # each hole's repository
    contexts: torch.Tensor | None = None  # [N, P, dim] proposal context vectors (RLPG-R), zeros where absent

    def subset(self, keep: list[int]) -> LabelSet:
        return LabelSet(self.holes[keep], self.labels[keep], self.applicable[keep], [self.repos[i] for i in keep],
                        None if self.contexts is None else self.contexts[keep])

    def logits(self, model) -> torch.Tensor:
        return model(self.holes, self.contexts, self.applicable)

    def __len__(self) -> int:
        return len(self.repos)


def label_set(records: list[dict], encoder, contexts_for=None) -> LabelSet:
    """The labelled holes of `records` (skipped ones left out), windows encoded. `contexts_for`
    (RLPG-R): records -> (context vectors, applicable ids as rebuilt), contexts.label_contexts."""
    records = [r for r in records if not r.get("skipped")]
    contexts = None
    rows = [r["applicable"] for r in records]
    if contexts_for is not None:
        contexts, rows = contexts_for(records)
    applicable = proposal_mask(rows)
    labels = proposal_mask([r["solved"] for r in records])
    holes = encoder.encode([r["window"] for r in records]) if records else torch.zeros(0, encoder.dim)
    return LabelSet(holes, labels & applicable, applicable, [r["repo"] for r in records], contexts)


def split_by_repo(data: LabelSet, validation: list[str]) -> tuple[LabelSet, LabelSet]:
    """(training, validation): the holes of repositories whose folder name is in `validation`
    validate, the others train."""
    names = [Path(repo).name for repo in data.repos]
    held = [i for i, name in enumerate(names) if name in validation]
    kept = set(held)
    return data.subset([i for i in range(len(names)) if i not in kept]), data.subset(held)


def fit(data: LabelSet, config: PPCConfig, steps: int = 500, lr: float = 3e-3, weight_decay: float = 1e-4,
        seed: int = 0, progress=None) -> tuple[torch.nn.Module, list[dict]]:
    """Full-batch training (RLPG-R needs `data.contexts`); returns the model (in eval mode) and
    the loss curve."""
    if config.kind == "rlpg_r" and data.contexts is None:
        raise ValueError("rlpg_r trains on the proposals' context vectors: build the label set with contexts")
    torch.manual_seed(seed)
    model = build(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    curve = []
    for step in range(1, steps + 1):
        model.train()
        loss = masked_loss(data.logits(model), data.labels, data.applicable)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % max(1, steps // 20) == 0 or step == steps:
            curve.append({"step": step, "loss": round(loss.item(), 4)})
            if progress:
                progress(step, steps)
    return model.eval(), curve


STEP_CHOICES = (25, 50, 100, 200, 400)


def choose_steps(training: LabelSet, config: PPCConfig, lr: float = 3e-3, seed: int = 0,
                 choices: tuple[int, ...] = STEP_CHOICES) -> tuple[int, dict[int, float]]:
    """How long to train, chosen inside `training` alone: the repository last by name is held
    aside, a classifier is fitted on the others for each of `choices` steps, and the length
    whose choice solves the most held-aside holes wins (the shorter on a tie). Returns (steps,
    {steps: success rate}); the longest choice when `training` has one repository."""
    names = sorted({Path(repo).name for repo in training.repos})
    if len(names) < 2:
        return max(choices), {}
    inner, aside = split_by_repo(training, names[-1:])
    fixed = best_single(inner)
    scores = {}
    for steps in choices:
        model, _ = fit(inner, config, steps=steps, lr=lr, seed=seed)
        scores[steps] = report(model, aside, fixed)["classifier"]
    best = max(scores, key=lambda s: (scores[s], -s))
    return best, scores


def cross_validate(data: LabelSet, config: PPCConfig, steps: int | str = "auto", lr: float = 3e-3,
                   seed: int = 0) -> dict:
    """Leave one repository out: for each repository, a classifier trained on all the others
    (steps chosen among them when "auto") picks for its holes; the success rates are pooled
    over every hole, with fixed_best chosen on each fold's training repositories too. Much less
    noisy than one validation split when labels are few."""
    names = sorted({Path(repo).name for repo in data.repos})
    if len(names) < 2:
        raise ValueError("cross-validation needs labels from two or more repositories")
    hits = {"classifier": 0.0, "in_file": 0.0, "fixed_best": 0.0, "oracle": 0.0}
    folds = []
    for name in names:
        training, held = split_by_repo(data, [name])
        fold_steps = choose_steps(training, config, lr=lr, seed=seed)[0] if steps == "auto" else int(steps)
        model, _ = fit(training, config, steps=fold_steps, lr=lr, seed=seed)
        result = report(model, held, best_single(training))
        folds.append({"repo": name, "steps": fold_steps, **result})
        for key in hits:
            hits[key] += result[key] * result["holes"]
    total = len(data)
    return {"holes": total, **{k: round(v / total, 4) for k, v in hits.items()}, "folds": folds}


def best_single(data: LabelSet) -> int:
    """The proposal (never in_file) that solves the most holes of `data`, as the harness picks
    fixed_best; in_file when none does."""
    return most_wins(proposal_wins(row.nonzero().flatten().tolist() for row in data.labels))


def report(model, data: LabelSet, fixed: int) -> dict:
    """Success rates on `data`: the classifier's choice, in_file, `fixed` (in_file where it does
    not apply, as the harness scores fixed_best) and the oracle."""
    if not len(data):
        return {"holes": 0}
    with torch.no_grad():
        picked = choose(data.logits(model), data.applicable)
    rows = torch.arange(len(data))
    fixed_ids = torch.where(data.applicable[:, fixed], fixed, IN_FILE_ID)
    rates = {
        "classifier": data.labels[rows, picked].float().mean().item(),
        "in_file": data.labels[:, IN_FILE_ID].float().mean().item(),
        "fixed_best": data.labels[rows, fixed_ids].float().mean().item(),
        "oracle": data.labels.any(-1).float().mean().item(),
    }
    return {"holes": len(data), "fixed_best_id": fixed, **{k: round(v, 4) for k, v in rates.items()},
            "chosen": dict(Counter(picked.tolist()).most_common(5))}


def save(model, folder: Path, extra: dict) -> Path:
    from safetensors.torch import save_file

    from bowerbird.learners.misuse.checkpoint import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(folder / WEIGHTS, lambda tmp: save_file(tensors, str(tmp)))
    meta = {"ppc": model.config.to_json(), **extra}
    atomic_write(folder / CONFIG, lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n"))
    return folder


def load(folder: Path):
    from safetensors.torch import load_file

    meta = json.loads((Path(folder) / CONFIG).read_text())
    model = build(PPCConfig(**meta["ppc"]))
    model.load_state_dict(load_file(str(Path(folder) / WEIGHTS)))
    return model.eval(), meta
