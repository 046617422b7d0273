"""MODEL_CARD.md for a reward-features checkpoint, written by `train reward`."""

from __future__ import annotations

import json
from pathlib import Path

from .checkpoint import RewardModel
from .features import CHEAP_FEATURES


def write_card(folder: Path, model: RewardModel, notes: str = "") -> Path:
    t = model.training
    parameters = sum(p.numel() for p in model.phi.parameters())
    lines = [
        "# reward: Bowerbird's reward features (per-developer ranking)",
        "",
        "r_dev(x, y) = w_dev . (phi(x, y) - anchor), with phi shared by every developer and a small",
        "weight vector per developer (Barreto et al. 2025). The server ranks completions by it and",
        "hides those this developer would likely reject; w_dev starts at the population's mean",
        "(`prior`) and is refitted after each accept or dismissal (`learners/reward/adapt.py`).",
        "",
        "| | |",
        "|---|---|",
        f"| phi | MLP {model.phi.inputs} -> {model.phi.hidden} -> {model.phi.dim} ({parameters:,} parameters) |",
        f"| inputs | the code model's hidden state (mean over the states that wrote the candidate), the mean and sum of its token "
        f"embeddings, and {', '.join(CHEAP_FEATURES)} |",
        f"| code model | fingerprint `{model.encoder_fingerprint}` (the ranker refuses another model) |",
        f"| trained on | {t.get('source', 'unknown')} |",
        f"| data | {t.get('comparisons', '?')} comparisons by {t.get('developers', '?')} developers over "
        f"{t.get('candidates', '?')} candidates of {t.get('holes', t.get('events', '?'))} holes |",
        f"| prior strength | {model.strength:g} |",
        f"| wall time | {t.get('seconds', 0):.0f} s |",
        "",
    ]
    accuracy = t.get("validation_accuracy")
    if accuracy:
        lines += ["## Pairwise accuracy of new developers on holes left out of training", "",
                  "| method | accuracy |", "|---|---|"]  # fmt: skip
        lines += [f"| {name} | {100 * value:.1f}% |" for name, value in accuracy.items()]
        lines += ["", "`bowerbird eval reward` gives the full table on held-out packages.", ""]
    if t.get("command"):
        lines += ["Reproduce: `" + t["command"] + "`", ""]
    lines += [
        "## What the prior means, and limits",
        "",
        "- Trained on simulated developers, the prior (the mean of their weights) is a simulated",
        "  population's average taste over style attributes the model never sees (`learners/reward/style.py`).",
        "  A real developer's first choices move their weights away from it; the server hides",
        "  nothing before a developer's tenth choice, so no candidate is withheld for a taste that",
        "  is not theirs. `bowerbird train reward --store` retrains theta on real accepts.",
        "- With one candidate per request (the server's default), ranking changes nothing; only the",
        "  show/hide threshold acts. Set `completion.candidates` above 1 to rank.",
        "- Theta reads the code model's hidden states: a checkpoint serves only the model whose",
        "  fingerprint it records.",
        "",
    ]
    if notes:
        lines += [notes.rstrip(), ""]
    lines += ["## Training report", "", "```json", json.dumps(t, indent=2), "```", ""]
    path = Path(folder) / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
