"""Ship a trained checkpoint as the embedded model: fp16 safetensors, tokenizer, a loss-curve
figure (SVG) and MODEL_CARD.md with the data, the steps, the time and the evaluation table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bowerbird.learners.lm.corpus import HELD_OUT


def loss_curve_svg(curve: list[dict], width: int = 640, height: int = 320, x_key: str = "tokens") -> str:
    """A plain SVG line chart of training loss against ``x_key`` (tokens seen, by default)."""
    if not curve:
        return "<svg xmlns='http://www.w3.org/2000/svg'/>"
    xs = [p[x_key] for p in curve]
    ys = [p["loss"] for p in curve]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad = 40

    def sx(x: float) -> float:
        return pad + (x - x0) / max(1, x1 - x0) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - y0) / max(1e-9, y1 - y0) * (height - 2 * pad)

    points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='12'>"
        f"<rect width='100%' height='100%' fill='white'/>"
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='black'/>"
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='black'/>"
        f"<polyline fill='none' stroke='#1f77b4' stroke-width='2' points='{points}'/>"
        f"<text x='{pad}' y='{pad - 10}'>training loss ({y1:.2f} to {ys[-1]:.2f})</text>"
        f"<text x='{width - pad}' y='{height - 10}' text-anchor='end'>{x1:,} {x_key}</text>"
        f"<text x='{pad}' y='{height - 10}'>{x0:,}</text>"
        "</svg>"
    )


def ship(run: Path, destination: Path, evaluation: list[dict], notes: str = "", settings: dict | None = None) -> None:
    """Copy the run's checkpoint to `destination` (fp16) and write its model card; `settings`
    become the checkpoint's `bowerbird.json` (prompt settings, e.g. fill_in_the_middle)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    state = json.loads((run / "train_state.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(run / "checkpoint", dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(run / "checkpoint")
    if destination.exists():
        shutil.rmtree(destination)
    model.to(torch.float16).save_pretrained(destination)
    tokenizer.save_pretrained(destination)
    if settings:
        from bowerbird.learners.lm.hf import SETTINGS_FILE

        (destination / SETTINGS_FILE).write_text(json.dumps(settings, indent=1) + "\n")
    (destination / "loss_curve.svg").write_text(loss_curve_svg(state["curve"]))
    (destination / "train_state.json").write_text(json.dumps(
        {k: state[k] for k in ("step", "tokens", "seconds", "config", "device")} | {"curve": state["curve"]}, indent=1))
    params = sum(p.numel() for p in model.parameters())
    config = state["config"]
    rows = []
    for result in evaluation:
        for name, m in result["methods"].items():
            ci = m["em_ci95"]
            rel = f"{m['relative_to_in_file'] * 100:+.1f}%" if m.get("relative_to_in_file") is not None else "—"
            es = f"{m['es']:.3f}" if m["es"] is not None else "—"
            rows.append(f"| {Path(result['repo']).name} | {result['holes']} | {name} | {m['em'] * 100:.1f}% "
                        f"[{ci[0] * 100:.1f}, {ci[1] * 100:.1f}] | {rel} | {es} |")
    origin = state.get("init_from")
    warm = (f"| started from | an earlier checkpoint (`{Path(origin['path']).name}`: {origin.get('step', '?')} steps, "
            f"{origin.get('tokens', 0):,} tokens, {origin.get('seconds', 0) / 60:.0f} minutes), then the steps below |\n"
            if origin else "")
    healing = [f"| {Path(r['repo']).name} | {h['holes']} | {h['em_plain'] * 100:.1f}% | {h['em_healed'] * 100:.1f}% | "
               f"{h['es_plain']:.3f} | {h['es_healed']:.3f} |" for r in evaluation if (h := r.get("token_healing"))]
    healing_table = ("""
### Token healing

The server cuts the last token before the cursor and makes the model write it (`prompt.py`,
`decoding.py`). Its effect on in_file's prompt, by real greedy generation on the same holes:

| package | holes | exact match, plain | exact match, healed | edit sim., plain | edit sim., healed |
|---|---|---|---|---|---|
""" + "\n".join(healing) + "\n") if healing else ""
    prompts = "" if not evaluation else (
        "Prompts as the server composes them for this checkpoint: "
        + ("healed (the partial word at the cursor rewritten by the model)" if all(r.get("healed_prompts") for r in evaluation)
           else "not healed")
        + ", " + ("left to right" if all(r.get("fim") is None and "fim" in r for r in evaluation) else "fill-in-the-middle")
        + ".\n")
    last_lr = state["curve"][-1]["lr"] if state["curve"] else None
    cut = (f"| schedule | cosine over {config['steps']} steps, stopped by the time limit at step {state['step']} "
           f"(learning rate then {last_lr:.1e}, not yet at its floor of {config['lr'] * 0.1:.1e}) |\n"
           if state["step"] < config["steps"] and last_lr is not None else "")
    card = f"""# code-lm: Bowerbird's embedded code model

A small GPT-2-style decoder trained by `bowerbird train lm` on {state['device']}, shipped so that
completions work with no download and run on a laptop's CPU. It is small: read the numbers below.

| | |
|---|---|
| architecture | GPT-2 (transformers `GPT2LMHeadModel`), {config['layers']} layers, width {config['width']}, {config['heads']} heads, context {config['block']} tokens |
| parameters | {params / 1e6:.2f} M (fp16 safetensors) |
| tokenizer | byte-level BPE, {config['vocab']} tokens, trained on the corpus; StarCoder FIM tokens `<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`, and `<file_sep>` |
| data | the Python standard library of the training interpreter and the pure-Python packages installed beside it, tests left out, split by package; held out of training: {", ".join(sorted(HELD_OUT))} |
| task mix | plain left-to-right windows, fill-in-the-middle (StarCoder format), and RLPG-format examples (a proposal's context from the same package, the file's path, the code around a hole, then the rest of the line), as `bowerbird train lm` builds them |
{warm}| training | {state['step']} steps of {config['batch']} × {config['block']} tokens = {state['tokens']:,} tokens, AdamW (peak lr {config['lr']}, cosine), {state['seconds'] / 60:.0f} minutes on {state['device']} |
{cut}| final training loss | {state['curve'][-1]['loss'] if state['curve'] else '—'} (curve: `loss_curve.svg`, points: `train_state.json`) |

## Evaluation (held-out packages, `bowerbird eval completion`)

Exact match of the rest of the line (greedy, teacher-forced check) with a bootstrap 95%
interval, the change relative to `in_file`, and edit similarity. `fixed_best` is chosen on a
calibration half of each package's holes and reported on the other half.
{prompts}
| package | holes | method | exact match [95% CI] | vs in_file | edit similarity |
|---|---|---|---|---|---|
{chr(10).join(rows)}
{healing_table}
{notes}
"""
    (destination / "MODEL_CARD.md").write_text(card)
