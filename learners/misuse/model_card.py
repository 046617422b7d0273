"""Ship a trained misuse model as the diagnostics' default (``learners/checkpoints/misuse``):
its weights and vocabulary, a config that carries the calibrated threshold, a loss-curve figure
and MODEL_CARD.md with the data, the training run and the held-out evaluation.

The threshold comes from an `eval misuse --calibration-share` report: chosen on one part of the
held-out functions for the target precision, measured on the other part. A report without that
split is refused as the source of the threshold (its precision would be measured on the very
examples that chose it); it can still appear in the card's table.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .checkpoint import CONFIG, VOCABULARY, WEIGHTS, atomic_write

STATE_FILE = "train_state.json"
CARD = "MODEL_CARD.md"
CURVE = "loss_curve.svg"


class ShipError(ValueError):
    """The run or the evaluation cannot be shipped (the message says why)."""


def shipped_threshold(evaluation: dict) -> float:
    """The threshold an `eval misuse --calibration-share` report chose; `ShipError` otherwise."""
    chosen = (evaluation.get("calibration") or {}).get("chosen") or {}
    value = chosen.get("threshold")
    if "calibration" not in evaluation:
        raise ShipError("the first evaluation must come from `eval misuse --calibration-share F` (its threshold is "
                        "chosen on some held-out functions and measured on the others)")  # fmt: skip
    if value is None:
        raise ShipError(f"no threshold reached precision {chosen.get('target')} on the calibration part")
    return float(value)


def ship(model: Path, destination: Path, evaluations: list[dict], notes: str = "") -> dict:
    """Copy ``model`` (a `train misuse --data` folder) to ``destination`` with the threshold of
    ``evaluations[0]`` in its config, and write the card; returns the shipped config."""
    from bowerbird.learners.lm.model_card import loss_curve_svg

    missing = [name for name in (CONFIG, VOCABULARY, WEIGHTS, STATE_FILE) if not (model / name).is_file()]
    if missing:
        raise ShipError(f"{model}: not a trained misuse model (missing {', '.join(missing)})")
    if not evaluations:
        raise ShipError("give at least one `eval misuse --calibration-share F --json` report")
    threshold = shipped_threshold(evaluations[0])
    state = json.loads((model / STATE_FILE).read_text())
    config = json.loads((model / CONFIG).read_text())
    config["threshold"] = threshold
    config["threshold_precision_target"] = evaluations[0]["threshold"].get("target")
    destination.mkdir(parents=True, exist_ok=True)
    for name in (WEIGHTS, VOCABULARY):
        shutil.copyfile(model / name, destination / name)
    _write(destination / CONFIG, json.dumps(config, indent=2) + "\n")
    batch = state["settings"]["batch_size"]
    curve = [{"graphs": p["step"] * batch, "loss": p["loss"]} for p in state["curve"]]
    _write(destination / CURVE, loss_curve_svg(curve, x_key="graphs"))
    _write(destination / CARD, card(config, state, evaluations, _manifest(state), notes))
    return config


def _manifest(state: dict) -> dict | None:
    """The `--make-data` manifest of the run's training data, when it is still there."""
    data = Path(state["settings"]["data"])  # the --make-data folder, or one of its files
    path = (data if data.is_dir() else data.parent) / "manifest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def card(config: dict, state: dict, evaluations: list[dict], manifest: dict | None, notes: str = "") -> str:
    """MODEL_CARD.md's text."""
    misuse, settings = config["misuse"], state["settings"]
    lines = [
        "# misuse: Bowerbird's variable-misuse model",
        "",
        "The model behind `bowerbird check` and the server's BB001 diagnostics: a GGNN over each "
        "function's program graph with GREAT's two pointer heads (where the wrong variable is read, "
        "or no bug; which variable belongs there). Trained by `bowerbird train misuse` on synthesized "
        "bugs in the training corpus; evaluated on packages it never saw.",
        "",
        "| | |",
        "|---|---|",
        f"| edges | `{misuse['edge_set']}` (AST{' + the graph builder’s data- and control-flow edges' if misuse['edge_set'] == 'hand' else ''}) |",
        f"| size | hidden {misuse['hidden']}, {misuse['rounds']} rounds, {misuse['vocab_size'] - 1:,} subtokens"
        f"{', access-kind inputs' if misuse.get('access_inputs') else ''} |",
        f"| training | {state['step']:,} steps of {settings['batch_size']} graphs, Adam (lr {settings['lr']}, "
        f"{settings.get('lr_schedule', 'constant')} schedule), {state['seconds'] / 60:.0f} minutes on "
        f"{state.get('device', 'cpu')} ({state.get('threads', '?')} torch threads) |",
        f"| training examples | {state.get('examples', 0):,} graphs |",
        f"| final training loss | {state['curve'][-1]['loss']:.3f} (`{CURVE}`) |" if state["curve"] else "",
        f"| diagnostic threshold | p(bug) >= {config['threshold']:.4f} (chosen for precision "
        f">= {config.get('threshold_precision_target')} on held-out functions; see below) |",
    ]
    if manifest is not None:
        s = manifest["settings"]
        lines += ["", "## Data", "",
                  f"`bowerbird train misuse --make-data` (seed {s.get('seed')}): functions of up to "
                  f"{s.get('max_tokens')} tokens and {s.get('max_nodes')} graph nodes; "
                  f"{'only functions with a possible bug site' if s.get('corruptible_only') else 'every function'}; "
                  f"{'standard library and installed packages' if s.get('site_packages') else 'standard library'}"
                  f"{f', each training function clean and with {n} bug(s)' if (n := s.get('train_bugs_per_function')) else ''}."
                  + (f" Held out of training: {', '.join(s['held_out'])}." if s.get("held_out") else ""),  # fmt: skip
                  "", "| split | packages | files | functions | examples | buggy | clean |", "|---|---|---|---|---|---|---|"]
        for name, c in manifest["splits"].items():
            lines.append(f"| {name} | {c['packages']} | {c['files']:,} | {c['functions']:,} | {c['examples']:,} | "
                         f"{c['buggy']:,} | {c['clean']:,} |")  # fmt: skip
    lines += ["", "## Held-out evaluation (`bowerbird eval misuse`)", "",
              "GREAT's metrics: no-bug accuracy (clean functions), localisation and repair accuracy "
              "(buggy functions), joint (both right). Then the diagnostics: at the threshold, precision "
              "(shown diagnostics at the real bug), the share whose suggestion is right too, recall, and "
              "false alarms per 1,000 clean functions of real, unmodified code.", "",
              "| data | examples | no bug | location | repair | joint | threshold | precision | suggestion right | recall | false alarms / 1,000 |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for e in evaluations:
        t = e["threshold"]
        where = f" (on {t['examples']} of them)" if "examples" in t else ""
        value = "—" if t["threshold"] is None else f"{t['threshold']:.4f}"
        alarms = e.get("false_alarms_per_1000")
        alarms = "—" if alarms is None else f"{alarms:.1f}"
        lines.append(
            f"| `{'/'.join(Path(e['data']).parts[-2:])}` | {e['examples']:,} ({e['buggy']:,} buggy) | {_percent(e['no_bug_acc'])} | "
            f"{_percent(e['loc_acc'])} | {_percent(e['repair_acc'])} | **{_percent(e['joint_acc'])}** | "
            f"{value}{where} | {_percent(t.get('precision'))} | {_percent(t.get('repair_precision'))} | "
            f"{_percent(t.get('recall'))} | {alarms} |"
        )
    if notes:
        lines += ["", notes.strip()]
    return "\n".join(line for line in lines if line is not None) + "\n"


def _write(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
