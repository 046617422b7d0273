"""Ship a `train gfsa` run as the package's GFSA layer, with a model card built from its
evaluations (`bowerbird train ship-gfsa`).

The shipped folder gets the layer with its policy table in fp16 (it loads as fp32; on the
held-out evaluations the edge counts are identical), ``config.json``, the run's
``train_state.json`` (settings, wall time, loss curve) and ``MODEL_CARD.md``: what the layer
is, the command that trained it, and a table of held-out precision / recall / F1 per package
(one ``eval gfsa --json`` report each) with the counts pooled over all of them. A notes file
(baselines, limits, history) is appended as written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from .checkpoint import CONFIG, WEIGHTS, load_layer, save_layer

STATE_FILE = "train_state.json"
CARD = "MODEL_CARD.md"


class ShipError(ValueError):
    """A run or a report that cannot be shipped (the message says why)."""


def pooled(reports: Sequence[dict], kind: str) -> dict:
    """Precision / recall / F1 of ``kind`` from the summed counts of ``reports``."""
    tp = sum(r["edges"][kind]["tp"] for r in reports)
    fp = sum(r["edges"][kind]["fp"] for r in reports)
    fn = sum(r["edges"][kind]["fn"] for r in reports)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def evaluation_table(reports: Sequence[dict], kinds: Sequence[str]) -> str:
    """Markdown: one row per report (package), then the pooled counts; P / R / F1 per kind."""
    def cells(edges: dict) -> str:
        return " | ".join(f"{edges[k]['precision']:.3f} / {edges[k]['recall']:.3f} / {edges[k]['f1']:.3f}"
                          for k in kinds)  # fmt: skip

    lines = ["| package | functions | " + " | ".join(f"{k} P / R / F1" for k in kinds) + " |",
             "|---|---|" + "---|" * len(kinds)]  # fmt: skip
    for report in reports:
        lines.append(f"| {Path(report['repo']).name} | {report['functions']} | {cells(report['edges'])} |")
    total = {k: pooled(reports, k) for k in kinds}
    functions = sum(r["functions"] for r in reports)
    lines.append(f"| **all (pooled counts)** | {functions} | "
                 + " | ".join(f"{total[k]['precision']:.3f} / {total[k]['recall']:.3f} / **{total[k]['f1']:.3f}**"
                              for k in kinds) + " |")  # fmt: skip
    return "\n".join(lines)


def training_command(settings: dict) -> str:
    """The `bowerbird train gfsa` command line of a run's settings."""
    parts = ["bowerbird train gfsa --out DIR", f"--kinds {','.join(settings['kinds'])}",
             f"--view {settings.get('view', 'ast')}", f"--states {settings['states']}",
             f"--functions {settings['functions']}", f"--lr {settings['lr']}"]  # fmt: skip
    if settings.get("same_variable"):
        parts.append("--same-variable")
    parts.append(f"--sources {settings.get('sources', 'all')}")
    if settings.get("positive_weight", 1.0) != 1.0:
        parts.append(f"--positive-weight {settings['positive_weight']}")
    if settings.get("focal_gamma"):
        parts.append(f"--focal-gamma {settings['focal_gamma']}")
    if settings.get("walkers", 1) != 1:
        parts.append(f"--walkers {settings['walkers']}")
    if settings.get("init"):
        parts.append(f"--init {settings['init']}")
    if settings.get("data") != "corpus:train":
        parts.append(f"(data: {settings.get('data')})")
    return " ".join(parts)


def card_text(layer, kinds: Sequence[str], state: dict, reports: Sequence[dict], notes: str,
              weights_bytes: int) -> str:  # fmt: skip
    config = layer.config
    settings = state["settings"]
    minutes = state["seconds"] / 60
    sessions = len(state.get("sessions", []))
    features = [f"{config.num_edge_types} edge types ({', '.join(kinds)})", f"{config.num_states} finite states",
                f"view `{config.view}`"]  # fmt: skip
    if config.same_variable:
        features.append("same-variable observations")
    if config.sources is not None:
        features.append("walks start at the node types that start each edge kind in the training targets")
    if config.platt_scale:
        features.append("Platt scaling per edge type")
    if config.walkers > 1:
        features.append(f"{config.walkers} walkers per edge type, combined by noisy-OR")
    threshold = {r.get("threshold", 0.5) for r in reports}
    origin = ""
    if settings.get("init"):
        origin = f", starting from the trained layer `{settings['init']}`"
        before = state.get("init") or {}
        if before.get("step") is not None and before.get("seconds") is not None:
            origin += f" (itself trained {before['step']:,} steps in {before['seconds'] / 60:.0f} minutes)"
    parts = [
        f"# gfsa: Bowerbird's shipped GFSA layer (`{config.view}` view)",
        "",
        "A Graph Finite-State Automaton layer (Johnson, Larochelle & Tarlow 2020; `learners/gfsa/`) trained",
        "by `bowerbird train gfsa` to add these edges to a function's AST-only graph, as the graph builder",
        "computes them by static analysis. It is the default of `bowerbird eval gfsa` (`--model` chooses",
        "another). Shipped with `bowerbird train ship-gfsa`.",
        "",
        "| | |",
        "|---|---|",
        f"| layer | {', '.join(features)} |",
        f"| weights | `{WEIGHTS}` ({weights_bytes / 1e6:.1f} MB, policy table in fp16), `{CONFIG}` (with the view's "
        "vocabulary digest) |",
        f"| data | {state.get('functions', settings['functions'])} functions of the training packages "
        f"({settings.get('data')}; held out: email, http, json, logging), at most {settings['max_nodes']} "
        f"AST nodes and {settings.get('per_file')} per file ({state.get('files', '?')} files) |",
        f"| training | `{training_command(settings)} --threads {state.get('threads', 1)}`: {state['step']:,} steps "
        f"(one function each) in {minutes:.0f} minutes on {state.get('device', 'cpu')}"
        f"{f' over {sessions} sessions (resumed)' if sessions > 1 else ''}"
        f"{origin}; `{STATE_FILE}` has the loss curve |",
        "",
    ]
    if reports:
        parts += [f"## Held-out precision / recall / F1 (`bowerbird eval gfsa --repo PKG --json`, threshold "
                  f"{', '.join(f'{t:g}' for t in sorted(threshold))})", "", evaluation_table(reports, kinds), ""]
    if notes.strip():
        parts += [notes.strip(), ""]
    return "\n".join(parts)


def ship(run: Path, destination: Path, reports: Sequence[dict], notes: str = "") -> Path:
    """Copy the layer of ``run`` (a `train gfsa --out` folder) to ``destination`` in fp16, with
    its train state and a card from ``reports`` (`eval gfsa --json` outputs of that layer)."""
    try:
        layer, kinds = load_layer(run)
        state = json.loads((run / STATE_FILE).read_text())
    except (OSError, ValueError, KeyError) as error:
        raise ShipError(f"{run}: not a `train gfsa` run ({error})") from None
    for report in reports:
        missing = [k for k in kinds if k not in report.get("edges", {})]
        if missing or "repo" not in report or "functions" not in report:
            raise ShipError(f"an --eval report lacks {', '.join(missing) or 'repo/functions'}: "
                            "pass `bowerbird eval gfsa --json` outputs of this layer")  # fmt: skip
        if report.get("view", layer.config.view) != layer.config.view:
            raise ShipError(f"an --eval report is of a {report['view']!r} layer, the run is {layer.config.view!r}")
    destination.mkdir(parents=True, exist_ok=True)
    save_layer(layer, destination, kinds=kinds, half=True)
    shutil.copyfile(run / STATE_FILE, destination / STATE_FILE)
    weights_bytes = (destination / WEIGHTS).stat().st_size
    (destination / CARD).write_text(card_text(layer, kinds, state, reports, notes, weights_bytes))
    return destination
