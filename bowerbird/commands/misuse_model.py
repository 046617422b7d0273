"""`bowerbird train misuse --data DIR --out MODEL` and `bowerbird eval misuse --data PATH --model MODEL`.

Training reads ``DIR/train.jsonl.gz`` (made by `train misuse --make-data`), builds each
function's program graph with the chosen edge set (`ast`, `hand`, or `gfsa`: the GFSA layer
inside the model, initialised from the shipped layer unless `--gfsa-init` names another or
`none`), and trains the GGNN of `learners/misuse/model.py`. ``--out MODEL`` receives the model
(config, subtoken vocabulary, safetensors), saved at every log point, and ``train_state.json``
(settings, loss curve, wall time); calling it again with the same settings resumes.

Evaluation prints GREAT's metrics (``{"examples", "no_bug_acc", "loc_acc", "repair_acc",
"joint_acc"}``) and, for the diagnostics, the lowest threshold on the bug probability whose
flagged functions are right (a real bug, at the flagged read) at least 95% of the time
(``--precision``), the recall there, and false alarms per 1,000 clean functions.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from pathlib import Path

from bowerbird.commands.common import UsageError, add_json_option, print_json, read_reports_and_notes

logger = logging.getLogger(__name__)

STATE_FILE = "train_state.json"
RESUME_KEYS = ("edge_set", "hidden", "rounds", "batch_size", "lr", "gfsa_lr", "seed", "data", "max_examples",
               "vocabulary_size", "gfsa_init", "lr_schedule", "access_inputs", "init_from")  # fmt: skip
VOCABULARY_SAMPLE = 20_000  # examples whose subtokens choose the vocabulary (each costs a graph build)
SETTING_DEFAULTS = {"lr_schedule": "constant", "access_inputs": False, "init_from": None}  # settings older runs did not record, as they ran
EDGE_SETS = ("ast", "hand", "gfsa")  # learners.misuse.graph_inputs.EDGE_SETS (the parser stays light)


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """The model-training options of `train misuse` (the data options are `--make-data`'s)."""
    group = parser.add_argument_group("training the model (--data DIR --out MODEL)")
    group.add_argument("--edge-set", choices=EDGE_SETS, default="hand",
                       help="AST edges only, AST + the graph builder's edges, or AST + GFSA-layer edges")
    group.add_argument("--steps", type=int, default=2000, help="optimizer steps in all")
    group.add_argument("--minutes", type=float, default=None, help="stop after this long (resume later)")
    group.add_argument("--batch-size", type=int, default=16)
    group.add_argument("--lr", type=float, default=1e-3)
    group.add_argument("--lr-schedule", choices=("constant", "cosine"), default="cosine",
                       help="cosine: from --lr down to 5%% of it at --steps (a run stopped by --minutes and "
                            "resumed follows the same curve)")
    group.add_argument("--gfsa-lr", type=float, default=0.01, help="learning rate of the GFSA layer's policy")
    group.add_argument("--hidden", type=int, default=96)
    group.add_argument("--rounds", type=int, default=6, help="message-passing rounds")
    group.add_argument("--access-inputs", action=argparse.BooleanOptionalAction, default=True,
                       help="give the model each name's access kind (read / write / both) as an input")
    group.add_argument("--vocabulary-size", type=int, default=5000, help="subtokens kept")
    group.add_argument("--max-examples", type=int, default=20000, help="training examples read at most")
    group.add_argument("--init-from", type=Path, default=None, metavar="MODEL",
                       help="start from this model's weights and vocabulary ('shipped': the shipped model); its "
                            "edge set and size replace --edge-set, --hidden, --rounds, --access-inputs")
    group.add_argument("--gfsa-init", default="shipped",
                       help="edge set gfsa: a GFSA layer folder to start from, 'shipped' or 'none'")
    group.add_argument("--log-every", type=int, default=50)
    group.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    group.add_argument("--device", default="auto")


def add_ship_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("ship-misuse", help="make a trained misuse model the diagnostics' default",
                              description="Copy a `train misuse --data` model to learners/checkpoints/misuse with "
                                          "the threshold that `eval misuse --calibration-share F --json` chose (the "
                                          "first --eval), a loss curve and MODEL_CARD.md (every --eval in its table).")
    parser.add_argument("--model", type=Path, required=True, help="a `train misuse --data DIR --out MODEL` folder")
    parser.add_argument("--eval", dest="evaluations", type=Path, nargs="+", required=True,
                        help="`eval misuse --json` reports; the first must use --calibration-share")
    parser.add_argument("--notes", type=Path, default=None, help="a Markdown file appended to the card")
    parser.add_argument("--to", type=Path, default=None, help="another destination folder (default: the package's)")
    parser.set_defaults(run=run_ship)


def run_ship(args: argparse.Namespace) -> int:
    from bowerbird.learners.misuse.defaults import default_model_folder
    from bowerbird.learners.misuse.model_card import ShipError, ship

    evaluations, notes = read_reports_and_notes(args.evaluations, args.notes)
    destination = args.to or default_model_folder()
    try:
        config = ship(args.model, destination, evaluations, notes)
    except ShipError as error:
        raise UsageError(str(error)) from None
    print(f"shipped {args.model} to {destination} (threshold {config['threshold']:.4f})", file=sys.stderr)
    return 0


def add_eval_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("misuse", help="a variable-misuse model on held-out examples", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a .jsonl.gz of examples, or a --make-data folder (its test split)")
    parser.add_argument("--model", type=Path, required=True, help="a `train misuse --data DIR --out MODEL` folder")
    parser.add_argument("--precision", type=float, default=0.95, help="precision the diagnostic threshold must keep")
    parser.add_argument("--threshold", type=float, default=None,
                        help="report precision, recall and false alarms at this bug probability instead of "
                             "choosing the threshold (e.g. the one chosen on other data)")
    parser.add_argument("--calibration-share", type=float, default=None, metavar="F",
                        help="choose the threshold on this share of the functions (a hash of each id) and report "
                             "precision, recall and false alarms on the others (default: both on all)")
    parser.add_argument("--max-examples", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    add_json_option(parser)
    parser.set_defaults(run=run_eval)


def _settings(args: argparse.Namespace) -> dict:
    return {"edge_set": args.edge_set, "hidden": args.hidden, "rounds": args.rounds, "batch_size": args.batch_size,
            "lr": args.lr, "gfsa_lr": args.gfsa_lr, "seed": args.seed, "data": str(args.data.resolve()),
            "max_examples": args.max_examples, "vocabulary_size": args.vocabulary_size,
            "gfsa_init": args.gfsa_init if args.edge_set == "gfsa" else None, "steps": args.steps,
            "lr_schedule": args.lr_schedule, "access_inputs": args.access_inputs,
            "init_from": str(args.init_from.resolve()) if args.init_from is not None else None}  # fmt: skip


def _graphs(examples, vocabulary, edge_set: str, view: str | None, label: str) -> tuple[list, int]:
    """The examples' graphs; examples that cannot be turned into one are counted and skipped."""
    from bowerbird.learners.misuse.graph_inputs import ExampleError, misuse_graph
    from bowerbird.progress import ProgressLine

    graphs, skipped = [], 0
    progress = ProgressLine(label)
    try:
        for k, example in enumerate(examples):
            try:
                graphs.append(misuse_graph(example, vocabulary, edge_set, view))
            except ExampleError as error:
                skipped += 1
                logger.debug("%s", error)
            progress(k + 1, len(examples))
    finally:
        progress.close()
    return graphs, skipped


def _read(path: Path, limit: int | None) -> list:
    from bowerbird.learners.misuse.data import read_examples

    try:
        examples = read_examples(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"--data: {error}") from None
    return examples[:limit] if limit else examples


def _gfsa_init(args: argparse.Namespace):
    """The GFSA layer to start from (edge set gfsa), or None."""
    if args.gfsa_init == "none":
        return None
    from bowerbird.commands.gfsa import default_model_folder
    from bowerbird.learners.gfsa.checkpoint import load_layer

    folder = default_model_folder() if args.gfsa_init == "shipped" else Path(args.gfsa_init)
    try:
        layer, _ = load_layer(folder)
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"--gfsa-init {folder}: cannot load the layer ({error})") from None
    return layer


def run_train_model(args: argparse.Namespace) -> int:
    if args.out is None:
        raise UsageError("--data needs --out MODEL (the model's checkpoint folder)")
    for name in ("steps", "batch_size", "hidden", "rounds", "vocabulary_size", "max_examples", "log_every", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    data = args.data / "train.jsonl.gz" if args.data.is_dir() else args.data
    out: Path = args.out
    if args.init_from is not None:
        _take_architecture(args)
    settings = _settings(args)
    state_path = out / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else None
    if state is not None:
        saved = {**SETTING_DEFAULTS, **state["settings"]}
        clash = {k: (saved.get(k), settings[k]) for k in RESUME_KEYS if saved.get(k) != settings[k]}
        if clash:
            raise UsageError(f"{out} was started with other settings ({clash}: saved, given); resume with those, or use a new --out")
        if state["step"] >= args.steps:
            print(f"{out}: already trained for {state['step']} steps (--steps {args.steps})", file=sys.stderr)
            return _report(args, out, state)

    import torch

    from bowerbird.analysis.graphs.tensors import build_subtoken_vocabulary, node_type_vocabulary
    from bowerbird.learners.lm.device import choose_device
    from bowerbird.learners.misuse.checkpoint import load_model, save_model
    from bowerbird.learners.misuse.graph_inputs import subtoken_texts
    from bowerbird.learners.misuse.model import MisuseConfig, MisuseModel
    from bowerbird.learners.misuse.train import FitConfig, fit

    torch.set_num_threads(args.threads)
    device = choose_device(None if args.device == "auto" else args.device)
    started = time.monotonic()
    examples = _read(data, args.max_examples)
    if not examples:
        raise UsageError(f"--data {data}: no examples")
    if state is not None:
        try:
            model, vocabulary, _ = load_model(out)
        except (OSError, ValueError, KeyError) as error:
            raise UsageError(f"{out}: cannot resume ({error})") from None
        print(f"resuming {out} at step {state['step']}", file=sys.stderr)
    elif args.init_from is not None:
        try:
            model, vocabulary, _ = load_model(args.init_from)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            raise UsageError(f"--init-from {args.init_from}: cannot load the model ({error})") from None
        print(f"starting from the weights of {args.init_from}", file=sys.stderr)
        state = {"settings": settings, "step": 0, "seconds": 0.0, "curve": [], "sessions": []}
    else:
        torch.manual_seed(args.seed)
        sample = examples if len(examples) <= VOCABULARY_SAMPLE else random.Random(args.seed).sample(examples, VOCABULARY_SAMPLE)
        vocabulary = build_subtoken_vocabulary(subtoken_texts(sample), args.vocabulary_size)
        init = _gfsa_init(args) if args.edge_set == "gfsa" else None
        config = MisuseConfig(vocab_size=len(vocabulary) + 1, num_node_types=len(node_type_vocabulary()) + 1,
                              edge_set=args.edge_set, hidden=args.hidden, rounds=args.rounds, access_inputs=args.access_inputs,
                              **({"gfsa_edge_types": init.config.num_edge_types, "gfsa_states": init.config.num_states,
                                  "gfsa_view": init.config.view, "gfsa_sources": init.config.sources,
                                  "gfsa_same_variable": init.config.same_variable}
                                 if init is not None else {}))  # fmt: skip
        model = MisuseModel(config)
        if init is not None:
            model.gfsa.load_state_dict(init.state_dict())
        state = {"settings": settings, "step": 0, "seconds": 0.0, "curve": [], "sessions": []}
    graphs, skipped = _graphs(examples, vocabulary, model.config.edge_set, model.config.gfsa_view, "building graphs")
    if not graphs:
        raise UsageError(f"--data {data}: none of the {len(examples)} examples gives a graph")
    prepare = time.monotonic() - started
    print(f"{len(graphs)} training graphs ({skipped} skipped) in {prepare:.1f} s", file=sys.stderr)
    model.to(device)
    done, base = state["step"], state["seconds"]
    state["settings"]["steps"] = args.steps
    state.update(examples=len(graphs), skipped=skipped, device=device, threads=args.threads)
    session = {"start_step": done, "prepare_seconds": prepare}
    state["sessions"].append(session)
    out.mkdir(parents=True, exist_ok=True)

    def save(step: int, seconds: float) -> None:
        state["step"], state["seconds"] = step, base + seconds
        session.update(end_step=step, seconds=seconds)
        save_model(model, vocabulary, out)
        state_path.write_text(json.dumps(state, indent=2) + "\n")

    def on_log(entry: dict) -> None:
        point = {"step": entry["step"], "loss": entry["loss"], "seconds": base + entry["seconds"]}
        state["curve"].append(point)
        print(f"step {point['step']:>6}  loss {point['loss']:.4f}  ({point['seconds']:.0f} s)", file=sys.stderr, flush=True)
        save(point["step"], entry["seconds"])

    config = FitConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, gfsa_lr=args.gfsa_lr,
                       minutes=args.minutes, log_every=args.log_every, seed=args.seed,
                       schedule=args.lr_schedule)  # fmt: skip
    result = fit(model, graphs, config, start_step=done, on_log=on_log)
    save(done + result.steps, result.seconds)
    state["finished"] = state["step"] >= args.steps
    state_path.write_text(json.dumps(state, indent=2) + "\n")
    return _report(args, out, state)


def _take_architecture(args: argparse.Namespace) -> None:
    """With --init-from: the starting model's edge set, size and vocabulary size become the
    run's (``shipped`` names the shipped model)."""
    from bowerbird.learners.misuse.defaults import default_model_folder

    if str(args.init_from) == "shipped":
        args.init_from = default_model_folder()
    try:
        config = json.loads((args.init_from / "config.json").read_text())["misuse"]
        vocabulary = json.loads((args.init_from / "vocabulary.json").read_text())
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"--init-from {args.init_from}: not a misuse model ({error})") from None
    args.edge_set, args.hidden, args.rounds = config["edge_set"], config["hidden"], config["rounds"]
    args.access_inputs, args.vocabulary_size = config.get("access_inputs", False), len(vocabulary)


def _report(args: argparse.Namespace, out: Path, state: dict) -> int:
    summary = {"out": str(out), "step": state["step"], "steps": state["settings"]["steps"],
               "seconds": state["seconds"], "examples": state.get("examples"),
               "edge_set": state["settings"]["edge_set"],
               "loss": state["curve"][-1]["loss"] if state["curve"] else None}  # fmt: skip
    if args.json:
        print_json(summary)
    else:
        print(f"{out}: step {summary['step']}/{summary['steps']}, {summary['seconds']:.0f} s, loss {summary['loss']}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    if not 0.0 < args.precision <= 1.0:
        raise UsageError("--precision must be in (0, 1]")
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError("--threshold must be in [0, 1]")
    if args.calibration_share is not None:
        if not 0.0 < args.calibration_share < 1.0:
            raise UsageError("--calibration-share must be between 0 and 1")
        if args.threshold is not None:
            raise UsageError("--calibration-share chooses the threshold; it does not go with --threshold")
    data = args.data / "test.jsonl.gz" if args.data.is_dir() else args.data
    import torch

    from bowerbird.learners.misuse.checkpoint import load_model
    from bowerbird.learners.misuse.evaluate import (
        at_threshold,
        calibration_split,
        false_alarms_per_1000,
        metrics,
        precision_threshold,
        predict,
    )

    torch.set_num_threads(max(1, args.threads))
    try:
        model, vocabulary, meta = load_model(args.model)
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"--model {args.model}: cannot load the model ({error})") from None
    started = time.monotonic()
    examples = _read(data, args.max_examples)
    graphs, skipped = _graphs(examples, vocabulary, model.config.edge_set, model.config.gfsa_view, "building graphs")
    if not graphs:
        raise UsageError(f"--data {data}: no examples that give a graph ({len(examples)} read)")
    predictions = predict(model, graphs)
    calibration = None
    reported = predictions  # the examples that precision, recall and false alarms are measured on
    if args.calibration_share is not None:
        chooser, reported = calibration_split(predictions, args.calibration_share)
        if not chooser or not reported:
            raise UsageError(f"--calibration-share {args.calibration_share}: one part is empty "
                             f"({len(chooser)} / {len(reported)} examples)")  # fmt: skip
        chosen = precision_threshold(chooser, args.precision)
        calibration = {"share": args.calibration_share, "examples": len(chooser), "chosen": chosen}
        measured = at_threshold(reported, chosen["threshold"]) if chosen["threshold"] is not None else chosen
        threshold = {**measured, "target": args.precision, "examples": len(reported)}
    elif args.threshold is None:
        threshold = precision_threshold(predictions, args.precision)
    else:
        threshold = at_threshold(predictions, args.threshold)
    summary = {**metrics(predictions), "skipped": skipped, "edge_set": model.config.edge_set,
               "threshold": threshold, "false_alarms_per_1000": false_alarms_per_1000(reported, threshold["threshold"]),
               "data": str(data), "model": str(args.model), "seconds": time.monotonic() - started}  # fmt: skip
    if calibration is not None:
        summary["calibration"] = calibration
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['examples']} examples ({summary['buggy']} buggy) from {data}, edge set {summary['edge_set']}")
        for key in ("no_bug_acc", "loc_acc", "repair_acc", "joint_acc"):
            print(f"  {key:<11} {summary[key]:.3f}")
        t = threshold
        if t["threshold"] is None:
            print(f"  no threshold keeps precision >= {args.precision}")
        else:
            precision = "n/a" if t["precision"] is None else f"{t['precision']:.3f}"
            where = "" if calibration is None else (f" (chosen on {calibration['examples']} examples, "
                                                    f"measured on the other {len(reported)})")  # fmt: skip
            print(f"  threshold {t['threshold']:.4f}{where}: precision {precision}, recall {t['recall']:.3f}, "
                  f"{summary['false_alarms_per_1000']:.1f} false alarms per 1,000 clean functions")
    return 0
