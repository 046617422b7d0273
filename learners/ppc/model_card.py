"""Ship a `train ppc` run as the package's proposal classifier (`bowerbird train ship-ppc`).

The shipped folder (learners/checkpoints/ppc) gets the run's `config.json` and
`model.safetensors` (a few hundred kB) and a `MODEL_CARD.md`: what the classifier is and what
it encodes with, the labels and training it came from, its validation report, and a held-out
table built from `eval completion --ppc DIR --json` reports (one per package; exact match per
method, pooled over all their scored holes, relative to in_file). A notes file is appended as
written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from .train import CONFIG, WEIGHTS

CARD = "MODEL_CARD.md"
METHOD_ORDER = ("in_file", "random", "retrieval", "fixed_best", "rlpg_h", "rlpg_r", "oracle")


class ShipError(ValueError):
    """A run or a report that cannot be shipped (the message says why)."""


def pooled(reports: Sequence[dict]) -> dict[str, dict]:
    """Per method found in every report: scored holes, exact matches, and the rate."""
    methods = [m for m in METHOD_ORDER if all(m in r["methods"] for r in reports)]
    result = {}
    for method in methods:
        holes = sum(r["holes"] for r in reports)
        hits = sum(round(r["methods"][method]["em"] * r["holes"]) for r in reports)
        result[method] = {"holes": holes, "hits": hits, "em": hits / holes if holes else 0.0}
    return result


def evaluation_table(reports: Sequence[dict]) -> str:
    """Markdown: one row per package, then the pooled rates and their change against in_file."""
    if not reports:
        return "(no held-out evaluation given)"
    total = pooled(reports)
    methods = list(total)
    lines = ["| package | holes | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for report in reports:
        cells = " | ".join(f"{report['methods'][m]['em'] * 100:.1f}%" for m in methods)
        lines.append(f"| {Path(report['repo']).name} | {report['holes']} | {cells} |")
    base = total["in_file"]["em"] if "in_file" in total else 0.0
    cells = " | ".join(f"**{total[m]['em'] * 100:.1f}%**" + (f" ({total[m]['em'] / base - 1:+.1%})" if base and m != "in_file" else "")
                       for m in methods)
    lines.append(f"| **all (pooled)** | {total[methods[0]]['holes']} | {cells} |")
    return "\n".join(lines)


def card_text(meta: dict, reports: Sequence[dict], notes: str) -> str:
    ppc, report = meta["ppc"], meta.get("report", {})
    layers = meta.get("encoder_layers")
    encoder = "its last hidden states" if layers is None else (
        "its token and position embeddings" if layers == 0 else
        f"its states after its first {'block' if layers == 1 else f'{layers} blocks'} (final layer norm applied)")
    validation, training = report.get("validation", {}), report.get("training", {})

    def rates(part: dict) -> str:
        if not part.get("holes"):
            return "—"
        return (f"{part['holes']} holes: classifier {part['classifier']:.1%}, in_file {part['in_file']:.1%}, "
                f"fixed_best (proposal {part['fixed_best_id']}) {part['fixed_best']:.1%}, oracle {part['oracle']:.1%}")

    return f"""# Bowerbird prompt proposal classifier ({ppc['kind'].upper().replace('_', '-')})

RLPG's prompt proposal classifier (Shrivastava, Larochelle & Tarlow, ICML 2023): for the hole
at the cursor, which of the 63 prompt proposals' context to put in the prompt. The server uses
its choice per request (`completion.proposalChooser: classifier`).

| | |
|---|---|
| kind | {ppc['kind']}: the hole's window (two lines before, the line up to the cursor, two lines after) -> MLP ({ppc['hidden']} wide) -> one logit per proposal; non-applicable proposals masked |
| encoder | the code model `{Path(str(meta.get('encoder'))).name}` (weights fingerprint `{meta.get('encoder_fingerprint')}`), mean of {encoder} over the window's tokens |
| parameters | {_parameters(ppc):,} |
| labels | training repositories: {', '.join(report.get('training_repos', [])) or '—'}; validation: {', '.join(report.get('validation_repos', [])) or '—'} |
| training | {report.get('steps', '?')} full-batch AdamW steps on the masked binary cross-entropy |
| on its training holes | {rates(training)} |
| on its validation repositories | {rates(validation)} |

The labels say, for each hole, which applicable proposals make this code model write the rest
of the line exactly (`bowerbird train ppc-labels`); a classifier is only meaningful for the
model whose labels and vectors it was trained on, so the server uses it only when the loaded
model has the fingerprint above, and otherwise its fixed proposal.

## Held-out packages (`bowerbird eval completion --ppc DIR --json`, one report per package)

Exact match of the rest of the line, per prompt method, on the scored holes of each package.

{evaluation_table(reports)}
""" + (f"\n{notes}" if notes else "")


def _parameters(ppc: dict) -> int:
    from .model import PPCConfig, build

    return sum(p.numel() for p in build(PPCConfig(**ppc)).parameters())


def ship(run: Path, destination: Path, reports: Sequence[dict], notes: str = "") -> Path:
    """Copy the classifier of `run` to `destination` with its card; ShipError when `run` is not
    a `train ppc` folder or a report is not an `eval completion` report of a classifier."""
    run, destination = Path(run), Path(destination)
    if not (run / CONFIG).is_file() or not (run / WEIGHTS).is_file():
        raise ShipError(f"{run}: not a `train ppc --out DIR` folder (needs {CONFIG} and {WEIGHTS})")
    meta = json.loads((run / CONFIG).read_text())
    for report in reports:
        if not isinstance(report, dict) or "methods" not in report or "holes" not in report:
            raise ShipError("an --eval file is not an `eval completion --json` report")
        if meta["ppc"]["kind"] not in report["methods"]:
            raise ShipError(f"the report of {report.get('repo')} has no {meta['ppc']['kind']}: run it with --ppc {run}")
    destination.mkdir(parents=True, exist_ok=True)
    if run.resolve() != destination.resolve():
        for name in (CONFIG, WEIGHTS):
            shutil.copyfile(run / name, destination / name)
    (destination / CARD).write_text(card_text(meta, reports, notes))
    return destination
