"""`bowerbird train lm --run DIR`: train the embedded code model (resumable).

The first call trains the tokenizer and prepares the sequences in DIR; every call then trains
until the schedule's last step or --minutes, checkpointing as it goes. Uses a GPU when present.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import fields
from pathlib import Path

from bowerbird.commands.common import UsageError, add_copy_cache_options, add_json_option, copy_cache_options, print_json, read_reports_and_notes

logger = logging.getLogger(__name__)
# options that shape the RLPG examples `train lm` composes itself (a --bundle brings its own), with their defaults
COMPOSED_HERE = {"rlpg_format": "fim", "rlpg_context": "random", "rlpg_per_file": 3}


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bowerbird.commands import gfsa, lm_data, misuse, misuse_model, ppc, reward
    from bowerbird.learners.lm.train import TrainConfig

    parser = sub.add_parser("train", help="train a model", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    lm = kinds.add_parser("lm", help="the embedded code model", description=__doc__)
    lm.add_argument("--run", dest="run_dir", type=Path, required=True, help="run folder (created, or resumed)")
    lm.add_argument("--minutes", type=float, default=None, help="stop after this long (resume later)")
    lm.add_argument("--sequences", type=int, default=20000, help="prepared sequences (first call only)")
    lm.add_argument("--rlpg-share", type=float, default=0.3, help="share of RLPG-format sequences")
    lm.add_argument("--fim-share", type=float, default=None,
                    help="share of fill-in-the-middle sequences (default: 0.3 less half the RLPG share)")
    lm.add_argument("--rlpg-format", choices=("fim", "left-to-right"), default=COMPOSED_HERE["rlpg_format"],
                    help="RLPG prompts (composed here, without --bundle) with the code after the cursor in the FIM "
                         "slot, or left to right only (for a checkpoint that turns fill-in-the-middle off)")
    lm.add_argument("--rlpg-per-file", type=int, default=COMPOSED_HERE["rlpg_per_file"],
                    help="holes per standard-library file for RLPG examples")
    lm_data.add_rlpg_context_option(lm)
    lm.add_argument("--bundle", type=Path, default=None,
                    help="train on a bundle written by `train lm-bundle` instead of this interpreter's corpus")
    lm.add_argument("--package-cap", type=float, default=12.0, help="MB of source kept per package (without --bundle)")
    lm.add_argument("--device", default=None, help="force a device (cpu, cuda, mps)")
    lm.add_argument("--fit-schedule", action="store_true",
                    help="with --minutes: measure the step time, then set --steps so the schedule ends in time")
    lm.add_argument("--snapshots", type=int, default=0,
                    help="also keep this many evenly spaced fp16 snapshots (snapshots/step-N) for a held-out curve")
    lm.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                    help="start a new run from this checkpoint's weights and tokenizer ('embedded': the shipped model)")
    for field in fields(TrainConfig):
        lm.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    add_json_option(lm)
    lm.set_defaults(run=run)
    ship = kinds.add_parser("ship-lm", help="make a run's checkpoint the embedded model",
                            description="Copy a run's checkpoint into the package as the embedded model (fp16), "
                                        "with MODEL_CARD.md built from the run and `bowerbird eval completion --json` results.")
    ship.add_argument("--run", dest="run_dir", type=Path, required=True)
    ship.add_argument("--eval", dest="evaluations", type=Path, nargs="*", default=[], help="eval --json outputs")
    ship.add_argument("--notes", type=Path, default=None, help="a Markdown file appended to the card")
    ship.add_argument("--no-fim", action="store_true",
                      help="the shipped model is prompted left to right (for a model that measured better so)")
    add_copy_cache_options(ship, "written to the shipped `bowerbird.json` (measure with `eval completion`)")
    ship.set_defaults(run=run_ship)
    lm_data.add_bundle_parser(kinds)
    ppc.add_labels_parser(kinds)
    ppc.add_train_parser(kinds)
    ppc.add_ship_parser(kinds)
    gfsa.add_train_parser(kinds)
    gfsa.add_ship_parser(kinds)
    misuse.add_train_parser(kinds)
    misuse_model.add_ship_parser(kinds)
    reward.add_train_parser(kinds)


def ship_settings(args: argparse.Namespace) -> dict:
    """The shipped checkpoint's `bowerbird.json` from ship-lm's options (learners/lm/hf.py reads it)."""
    from bowerbird.learners.lm.copy_cache import enabled

    settings: dict = {"fill_in_the_middle": False} if args.no_fim else {}
    weight, memory, written = copy_cache_options(args)
    if weight is not None and enabled(weight):
        settings["copy_cache_weight"] = list(weight) if isinstance(weight, tuple) else weight
        if memory:
            settings["copy_cache_memory_tokens"] = memory
        if written is False:
            settings["copy_cache_written"] = False
    return settings


def run_ship(args: argparse.Namespace) -> int:
    from bowerbird.learners.lm.loading import EMBEDDED_NAME, embedded_folder
    from bowerbird.learners.lm.model_card import ship

    copy_cache_options(args)  # bad settings are refused before anything is copied
    if not (args.run_dir / "checkpoint" / "config.json").exists():
        raise UsageError(f"{args.run_dir}: no checkpoint (run `bowerbird train lm --run {args.run_dir}` first)")
    evaluations, notes = read_reports_and_notes(args.evaluations, args.notes)
    destination = embedded_folder()
    settings = ship_settings(args)
    ship(args.run_dir, destination, evaluations, notes, settings or None)
    print(f"shipped {args.run_dir / 'checkpoint'} as {EMBEDDED_NAME} in {destination}")
    return 0


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from bowerbird.commands import lm_data
    from bowerbird.learners.lm.train import TrainConfig, train

    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    if args.fit_schedule and not args.minutes:
        raise UsageError("--fit-schedule needs --minutes")
    if args.bundle is not None and not args.bundle.is_file():
        raise UsageError(f"--bundle {args.bundle}: no such file")
    given = ", ".join(f"--{name.replace('_', '-')}" for name, default in COMPOSED_HERE.items()
                      if getattr(args, name) != default)
    if args.bundle is not None and given:
        raise UsageError(f"{given}: these shape RLPG examples composed here; a --bundle brings its own "
                         "(set them on `train lm-bundle`)")
    _sequence_mix(args.rlpg_share, args.fim_share)  # a bad mix is an error before any work
    folder: Path = args.run_dir
    folder.mkdir(parents=True, exist_ok=True)
    state_file = folder / "train_state.json"
    if state_file.exists():
        saved = json.loads(state_file.read_text())["config"]
        if {k: v for k, v in saved.items() if k != "steps"} != {k: v for k, v in vars(config).items() if k != "steps"}:
            raise UsageError(f"{folder} was started with other settings ({saved}); resume with those, or use a new --run")
    if args.init_from and not state_file.exists():
        _warm_start(folder, lm_data.checkpoint_folder(args.init_from, "--init-from", ("config.json", "tokenizer.json")), config)
    data_file = folder / "data.npy"
    texts = bundle_rlpg = None
    if not data_file.exists() or not (folder / "tokenizer" / "tokenizer.json").exists():
        texts, bundle_rlpg = lm_data.load_texts(args)
    tokenizer = _tokenizer(folder, config, texts)
    if data_file.exists():
        sequences = np.load(data_file)
    else:
        sequences = _prepare(folder, tokenizer, config, args, texts, bundle_rlpg)
        with open(folder / "data.npy.partial", "wb") as partial:  # a kill never leaves half a file
            np.save(partial, sequences)
        (folder / "data.npy.partial").replace(data_file)
    del texts

    def report(point: dict) -> None:
        print(f"step {point['step']:>6}  tokens {point['tokens']:>10,}  loss {point['loss']:.3f}  lr {point['lr']:.2e}",
              file=sys.stderr, flush=True)

    state = train(folder, sequences, tokenizer, config, args.device, args.minutes, report,
                  fit_schedule=args.fit_schedule, snapshots=args.snapshots)
    summary = {"run": str(folder), "step": state["step"], "tokens": state["tokens"], "seconds": state["seconds"],
               "loss": state["curve"][-1]["loss"] if state["curve"] else None, "device": state["device"]}
    if args.json:
        print_json(summary)
    else:
        print(f"{folder}: step {summary['step']}, {summary['tokens']:,} tokens, loss {summary['loss']}")
    return 0


def _warm_start(folder: Path, source: Path, config) -> None:
    """Seed a new run with another checkpoint: its tokenizer, and its weights as step 0."""
    import shutil

    from bowerbird.learners.lm.train import warm_start

    saved = json.loads((source / "config.json").read_text())
    wanted = {"n_layer": config.layers, "n_embd": config.width, "n_head": config.heads, "n_positions": config.block}
    clash = {k: (saved.get(k), v) for k, v in wanted.items() if saved.get(k) != v}
    if clash:
        raise UsageError(f"--init-from {source}: its shape differs from the settings ({clash}: checkpoint, settings)")
    if not (folder / "tokenizer" / "tokenizer.json").exists():
        shutil.copytree(source, folder / "tokenizer", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.safetensors", "*.md", "*.svg", "train_state.json"))
    warm_start(folder, source)
    print(f"warm start from {source}", file=sys.stderr)


def _tokenizer(folder: Path, config, texts: list[str] | None):
    from transformers import PreTrainedTokenizerFast

    from bowerbird.learners.lm.data import train_tokenizer

    path = folder / "tokenizer"
    if (path / "tokenizer.json").exists():
        return PreTrainedTokenizerFast.from_pretrained(path)
    print(f"training a {config.vocab}-token BPE on the corpus ({len(texts)} training files) ...", file=sys.stderr)
    return train_tokenizer(texts, path, config.vocab, seed=config.seed)


def _prepare(folder: Path, tokenizer, config, args: argparse.Namespace, texts: list[str], rlpg: list[str] | None):
    from bowerbird.commands.lm_data import rlpg_examples
    from bowerbird.learners.lm.data import build_sequences
    from bowerbird.progress import ProgressLine

    share = args.rlpg_share
    if rlpg is None:
        rlpg = rlpg_examples(folder / "index", tokenizer, config.block, int(args.sequences * share), config.seed,
                             args.rlpg_per_file, fim=args.rlpg_format == "fim", context=args.rlpg_context) if share > 0 else []
    if not rlpg:
        share = 0.0
    progress = ProgressLine("preparing sequences")
    try:
        mix = _sequence_mix(share, args.fim_share)
        return build_sequences(tokenizer, texts, args.sequences, config.block, mix, rlpg, config.seed, progress)
    finally:
        progress.close()


def _sequence_mix(rlpg: float, fim: float | None) -> tuple[float, float, float]:
    """(plain, FIM, RLPG) shares of the prepared sequences."""
    if not 0 <= rlpg <= 1:
        raise UsageError(f"--rlpg-share {rlpg}: must be between 0 and 1")
    fim = (max(0.0, 0.3 - rlpg / 2) if rlpg else 0.4) if fim is None else fim
    if not 0 <= fim <= 1 - rlpg:
        raise UsageError(f"--fim-share {fim} with --rlpg-share {rlpg}: the shares must be at least 0 and add up to at most 1")
    return (1 - fim - rlpg, fim, rlpg)
