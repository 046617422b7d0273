"""`bowerbird train gfsa` and `bowerbird eval gfsa`: the GFSA layer's static-analysis experiment.

`train gfsa --out DIR` trains a GFSA layer (Johnson, Larochelle & Tarlow 2020) to reproduce the
graph builder's CFG_NEXT / LAST_READ / LAST_WRITE edges from the AST alone, on functions of the
training packages of the corpus split (`learners/lm/corpus.py`: the standard library without
the held-out packages; `--repo` or `--files` train on other code instead). DIR receives the
layer (`config.json` + `model.safetensors`, saved at every log point) and `train_state.json`
(settings, wall time, loss curve). Calling it again with the same settings resumes up to
`--steps` (a fresh optimizer; the weights continue). `--view variables` gives the agent one
virtual node per variable with moves between the occurrences of the same variable
(`analysis/graphs/gfsa_view.py`); the checkpoint records the view, and `eval gfsa` uses it.
Each view with the suffix `+fields` (e.g. `--view accesses+fields`) also tells the agent, after
a parent move, which field of the parent it came up from, as the reference's schema does;
the suffix `+scan` (views with variables) adds moves from every node to the variable accesses
just before it and to the last one inside it.

`eval gfsa --repo PATH` evaluates a trained layer (`--model DIR`, default the shipped one in
`learners/checkpoints/gfsa`) on the repository's functions against the builder's edges:
`{"functions", "edges": {KIND: {"precision", "recall", "f1", ...}}}`. With `--baselines` it also
trains a GNN edge classifier and fits a random-walk kernel on training-corpus functions and
reports all three under "methods"; the baselines see the layer's view (`--baseline-view ast`:
the AST alone).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bowerbird.commands.common import (
    UsageError,
    add_json_option,
    existing_dir,
    print_json,
    read_reports_and_notes,
)
from bowerbird.commands.graph_data import collect_graphs, repo_files, training_files

logger = logging.getLogger(__name__)

DEFAULT_KINDS = ("CFG_NEXT", "LAST_READ", "LAST_WRITE")
STATE_FILE = "train_state.json"
# settings that must match when a training run is resumed
RESUME_KEYS = ("kinds", "functions", "max_nodes", "states", "lr", "focal_gamma", "positive_weight",
               "platt_scale", "finish_bias", "seed", "per_file", "data", "view", "sources",
               "same_variable", "walkers", "init")  # fmt: skip
# the value of a resume setting in a train_state.json written before the setting existed
RESUME_DEFAULTS = {"view": "ast", "sources": "all", "same_variable": False, "walkers": 1, "init": None}
# gfsa_view.VIEWS (not imported: the parser stays light)
VIEW_CHOICES = ("ast", "variables", "accesses", "ast+fields", "variables+fields", "accesses+fields",
                "variables+scan", "accesses+scan", "variables+fields+scan", "accesses+fields+scan")


# --- parsers -------------------------------------------------------------------------------------


def _data_options(parser: argparse.ArgumentParser, prefix: str = "", what: str = "training") -> None:
    """--repo / --files choosing the training data (default: the corpus's training packages)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{prefix}repo", type=Path, default=None, metavar="PATH",
                       help=f"{what} functions from this folder instead of the corpus's training packages")
    group.add_argument(f"--{prefix}files", type=Path, nargs="+", default=None, metavar="FILE",
                       help=f"{what} functions from these Python files instead of the corpus")


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-nodes", type=int, default=256, help="largest function (AST nodes) used")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: small solves are fastest on one thread)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, mps, or auto")
    parser.add_argument("--seed", type=int, default=0)
    add_json_option(parser)


def add_train_parser(kinds: argparse._SubParsersAction) -> None:
    """The `train gfsa` sub-kind (registered by `bowerbird.commands.train`)."""
    parser = kinds.add_parser("gfsa", help="the GFSA layer (learned program-analysis edges)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder (created, or resumed)")
    parser.add_argument("--kinds", default=",".join(DEFAULT_KINDS), help="comma-separated EdgeType names to learn")
    parser.add_argument("--functions", type=int, default=500, help="training functions")
    parser.add_argument("--per-file", type=int, default=8, help="at most this many functions from one file")
    parser.add_argument("--states", type=int, default=4, help="finite states of the agent")
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps in all (one function each)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this long (resume later)")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--focal-gamma", type=float, default=0.0)
    parser.add_argument("--positive-weight", type=float, default=1.0)
    parser.add_argument("--finish-bias", type=float, default=0.0, help="initial logit offset of FINISH")
    parser.add_argument("--view", choices=VIEW_CHOICES, default=VIEW_CHOICES[0],
                        help="the agent's POMDP: the AST alone (ast, default); the AST plus a node "
                             "per variable and moves between its occurrences (variables); that, and "
                             "whether a name reads or writes its variable is observed, as Python's "
                             "ast shows it in Name.ctx (accesses); each with +fields: a parent move "
                             "also observes the field it came up from, as in the reference's schema; "
                             "+scan: moves from each node to the variable access before it and the "
                             "last one inside it")
    parser.add_argument("--sources", choices=("targets", "all"), default="targets",
                        help="start walks of an edge kind only at the node types that start one in the "
                             "training targets (default; several times faster), or at every node")
    parser.add_argument("--same-variable", action=argparse.BooleanOptionalAction, default=False,
                        help="the agent also observes whether a variable's node is the start node's "
                             "variable (the reference's same-identifier variant; views with variables)")
    parser.add_argument("--platt-scale", action=argparse.BooleanOptionalAction, default=True,
                        help="learn a scale and shift of logit(A) per edge type (one-to-many edges)")
    parser.add_argument("--walkers", type=int, default=1,
                        help="independent walkers per edge kind, combined by noisy-OR, so that a node "
                             "with several targets (last reads in two branches) can give each a high "
                             "probability (default 1: one walk)")
    parser.add_argument("--init", type=Path, default=None, metavar="DIR",
                        help="start from this trained layer (same kinds, view, states, same-variable), "
                             "widened to --walkers: every walker starts as a noisy copy of its walk")
    parser.add_argument("--log-every", type=int, default=25, help="steps between curve points and saves")
    _data_options(parser)
    _common_options(parser)
    parser.set_defaults(run=run_train)


def add_ship_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("ship-gfsa", help="make a trained GFSA layer the package's default",
                              description="Copy a `train gfsa --out DIR` layer to learners/checkpoints/gfsa (policy in "
                                          "fp16) with its train state and MODEL_CARD.md: the training command and "
                                          "a held-out table from `eval gfsa --json` reports (one per package, "
                                          "pooled counts).")  # fmt: skip
    parser.add_argument("--run", dest="run_dir", type=Path, required=True, help="a `train gfsa --out DIR` folder")
    parser.add_argument("--eval", dest="evaluations", type=Path, nargs="*", default=[],
                        help="`eval gfsa --model DIR --json` reports of this layer, one per package")
    parser.add_argument("--notes", type=Path, default=None, help="a Markdown file appended to the card")
    parser.add_argument("--to", type=Path, default=None, help="another destination folder (default: the package's)")
    parser.set_defaults(run=run_ship)


def run_ship(args: argparse.Namespace) -> int:
    from bowerbird.learners.gfsa.model_card import ShipError, ship

    reports, notes = read_reports_and_notes(args.evaluations, args.notes)
    destination = args.to or default_model_folder()
    try:
        ship(args.run_dir, destination, reports, notes)
    except ShipError as error:
        raise UsageError(str(error)) from None
    print(f"shipped {args.run_dir} to {destination}", file=sys.stderr)
    return 0


def add_eval_parser(kinds: argparse._SubParsersAction) -> None:
    """The `eval gfsa` sub-kind (registered by `bowerbird.commands.evaluate`)."""
    parser = kinds.add_parser("gfsa", help="learned edges against the graph builder's, on a repository",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True, help="repository whose functions are evaluated")
    parser.add_argument("--model", type=Path, default=None,
                        help="GFSA checkpoint folder (default: the shipped one in learners/checkpoints/gfsa)")
    parser.add_argument("--kinds", default=None, help="comma-separated subset of the model's edge kinds")
    parser.add_argument("--functions", type=int, default=300, help="functions evaluated (drawn with --seed)")
    parser.add_argument("--threshold", type=float, default=0.5, help="an edge is predicted at probability >= this")
    parser.add_argument("--baselines", action="store_true",
                        help="also train a GNN edge classifier and fit a random-walk kernel on training functions")
    parser.add_argument("--baseline-view", choices=("layer", "ast"), default="layer",
                        help="--baselines: the GFSA view the baselines see: the layer's (default; its variable "
                             "nodes and moves, access kinds, same-variable pairs) or the AST alone")
    parser.add_argument("--train-functions", type=int, default=200, help="--baselines: training functions")
    parser.add_argument("--baseline-steps", type=int, default=1000, help="--baselines: GNN optimizer steps")
    parser.add_argument("--baseline-lr", type=float, default=0.003, help="--baselines: GNN learning rate")
    _data_options(parser, "train-", "--baselines: training")
    _common_options(parser)
    parser.set_defaults(run=run_eval)


# --- data ----------------------------------------------------------------------------------------


def parse_kinds(text: str) -> list:
    from bowerbird.analysis.graphs import EdgeType

    names = [k.strip() for k in text.split(",") if k.strip()]
    if not names:
        raise UsageError("--kinds: no edge kind given")
    unknown = [k for k in names if k not in EdgeType.__members__]
    if unknown:
        raise UsageError(f"--kinds: unknown edge kind {', '.join(unknown)} "
                         f"(choose from {', '.join(EdgeType.__members__)})")  # fmt: skip
    if len(set(names)) != len(names):
        raise UsageError("--kinds: a kind is given twice")
    return [EdgeType[k] for k in names]


def _examples(graphs: Iterable, kinds: Sequence, max_nodes: int, view: str = "ast") -> list:
    from bowerbird.learners.gfsa.targets import make_examples

    return make_examples(graphs, kinds, max_nodes, view)


def _setup_torch(args: argparse.Namespace) -> str:
    import torch

    from bowerbird.learners.lm.device import choose_device

    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    torch.set_num_threads(args.threads)
    return choose_device(None if args.device == "auto" else args.device)


# --- train gfsa ----------------------------------------------------------------------------------


def _settings(args: argparse.Namespace, kinds: Sequence, data: str) -> dict:
    return {"kinds": [str(k) for k in kinds], "functions": args.functions, "max_nodes": args.max_nodes,
            "states": args.states, "lr": args.lr, "focal_gamma": args.focal_gamma,
            "positive_weight": args.positive_weight, "platt_scale": args.platt_scale,
            "finish_bias": args.finish_bias, "seed": args.seed, "per_file": args.per_file, "data": data,
            "view": args.view, "sources": args.sources,
            "same_variable": args.same_variable, "walkers": args.walkers,
            "init": str(args.init) if args.init is not None else None, "steps": args.steps}  # fmt: skip


def run_train(args: argparse.Namespace) -> int:
    kinds = parse_kinds(args.kinds)
    for name in ("functions", "steps", "states", "max_nodes", "per_file", "log_every", "walkers"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    from bowerbird.analysis.graphs.gfsa_view import VIEWS_WITH_VARIABLES

    if args.same_variable and args.view not in VIEWS_WITH_VARIABLES:
        raise UsageError("--same-variable needs a view with variables (--view variables or accesses, "
                         "with or without suffixes)")
    files, data = training_files(args.repo, args.files)
    settings = _settings(args, kinds, data)
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    state_path = out / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else None
    if state is not None:
        saved = state["settings"]
        clash = {k: (saved.get(k, RESUME_DEFAULTS.get(k)), settings[k]) for k in RESUME_KEYS
                 if saved.get(k, RESUME_DEFAULTS.get(k)) != settings[k]}  # fmt: skip
        if clash:
            raise UsageError(f"{out} was started with other settings ({clash}: saved, given); "
                             "resume with those, or use a new --out")  # fmt: skip
        if state["step"] >= args.steps:
            print(f"{out}: already trained for {state['step']} steps (--steps {args.steps})", file=sys.stderr)
            return _train_report(args, out, state)

    device = _setup_torch(args)
    import torch

    from bowerbird.learners.gfsa.checkpoint import load_layer, save_layer
    from bowerbird.learners.gfsa.layer import GfsaConfig, GfsaLayer
    from bowerbird.learners.gfsa.targets import edge_sources
    from bowerbird.learners.gfsa.train import TrainConfig, train_layer

    started = time.monotonic()
    graphs, counts = collect_graphs(files, args.functions, args.max_nodes, args.seed, args.per_file,
                                    "reading training functions")  # fmt: skip
    examples = _examples(graphs, kinds, args.max_nodes, args.view)
    collect_seconds = time.monotonic() - started
    if not examples:
        raise UsageError(f"no training functions of at most {args.max_nodes} AST nodes in {data}")
    print(f"{len(examples)} training functions from {counts['files']} files ({collect_seconds:.1f} s); "
          f"skipped: {dict((k, v) for k, v in counts.items() if k != 'files') or 'none'}", file=sys.stderr)

    if state is not None and (out / "config.json").exists():
        try:
            layer, _ = load_layer(out)
        except ValueError as error:
            raise UsageError(str(error)) from None
        if layer.config.view != args.view:
            raise UsageError(f"{out} holds a layer for the {layer.config.view!r} view, not --view {args.view}")
        print(f"resuming {out} at step {state['step']}", file=sys.stderr)
    else:
        torch.manual_seed(args.seed)
        before = None
        if args.init is not None:
            layer, before = _initial_layer(args, kinds)
        else:
            sources = edge_sources(examples, args.view) if args.sources == "targets" else None
            layer = GfsaLayer(GfsaConfig(num_edge_types=len(kinds), num_states=args.states,
                                         finish_bias=args.finish_bias, platt_scale=args.platt_scale,
                                         view=args.view, sources=sources, same_variable=args.same_variable,
                                         walkers=args.walkers))  # fmt: skip
        state = {"settings": settings, "step": 0, "seconds": 0.0, "curve": [], "sessions": []}
        if before is not None:  # the starting layer's own training, for the card
            state["init"] = before
    layer.to(device)
    done = state["step"]
    state["settings"]["steps"] = args.steps
    state.update(functions=len(examples), files=counts["files"],
                 skipped={k: v for k, v in counts.items() if k != "files"},
                 device=device, threads=args.threads)  # fmt: skip
    base_seconds = state["seconds"]
    session = {"start_step": done, "collect_seconds": collect_seconds}
    state["sessions"].append(session)
    config = TrainConfig(steps=args.steps - done, lr=args.lr, focal_gamma=args.focal_gamma,
                         positive_weight=args.positive_weight, seed=args.seed + done,
                         log_every=args.log_every,
                         time_limit_s=args.minutes * 60 if args.minutes is not None else None)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)

    def save(step: int, seconds: float) -> None:
        state["step"], state["seconds"] = step, base_seconds + seconds
        session.update(end_step=step, seconds=seconds)
        save_layer(layer, out, kinds=[str(k) for k in kinds])
        state_path.write_text(json.dumps(state, indent=2) + "\n")

    def on_log(entry: dict) -> None:
        point = {"step": done + entry["step"], "loss": entry["loss"], "seconds": base_seconds + entry["seconds"]}
        state["curve"].append(point)
        print(f"step {point['step']:>6}  loss {point['loss']:.5f}  ({point['seconds']:.0f} s)",
              file=sys.stderr, flush=True)  # fmt: skip
        save(point["step"], entry["seconds"])

    result = train_layer(layer, examples, config, on_log)
    save(done + result.steps, result.seconds)
    state["finished"] = state["step"] >= args.steps
    state_path.write_text(json.dumps(state, indent=2) + "\n")
    return _train_report(args, out, state)


def _initial_layer(args: argparse.Namespace, kinds: Sequence) -> tuple:
    """``--init DIR``: that trained layer, widened to ``--walkers`` (`GfsaLayer.widen`), and its
    own training (step, seconds, settings of its train state; None without one). Its kinds,
    view, states and same-variable setting must be the ones given."""
    from bowerbird.learners.gfsa.checkpoint import load_layer

    folder = _model_folder(args.init, option="--init")
    try:
        layer, init_kinds = load_layer(folder)
    except (ValueError, KeyError, OSError) as error:
        raise UsageError(f"--init {folder}: cannot load the layer ({error})") from None
    config = layer.config
    given = {"kinds": [str(k) for k in kinds], "view": args.view, "states": args.states,
             "same_variable": args.same_variable, "platt_scale": args.platt_scale}  # fmt: skip
    saved = {"kinds": init_kinds, "view": config.view, "states": config.num_states,
             "same_variable": config.same_variable, "platt_scale": config.platt_scale}  # fmt: skip
    clash = {k: (saved[k], given[k]) for k in given if saved[k] != given[k]}
    if clash:
        raise UsageError(f"--init {folder} was trained with other settings ({clash}: saved, given)")
    if config.walkers not in (1, args.walkers):
        raise UsageError(f"--init {folder} has {config.walkers} walkers; only a one-walker layer can be "
                         f"widened (--walkers {args.walkers})")  # fmt: skip
    before = None
    if (folder / STATE_FILE).is_file():
        saved_state = json.loads((folder / STATE_FILE).read_text())
        before = {k: saved_state.get(k) for k in ("step", "seconds", "settings")}
    return (layer if config.walkers == args.walkers else layer.widen(args.walkers)), before


def _train_report(args: argparse.Namespace, out: Path, state: dict) -> int:
    summary = {"out": str(out), "step": state["step"], "steps": state["settings"]["steps"],
               "seconds": state["seconds"], "functions": state.get("functions"),
               "kinds": state["settings"]["kinds"],
               "view": state["settings"].get("view", RESUME_DEFAULTS["view"]),
               "loss": state["curve"][-1]["loss"] if state["curve"] else None}  # fmt: skip
    if args.json:
        print_json(summary)
    else:
        print(f"{out}: step {summary['step']}/{summary['steps']}, {summary['seconds']:.0f} s, "
              f"loss {summary['loss']}")  # fmt: skip
    return 0


# --- eval gfsa -----------------------------------------------------------------------------------


def default_model_folder() -> Path:
    from bowerbird.learners import shipped_checkpoint

    return shipped_checkpoint("gfsa")


def _model_folder(model: Path | None, option: str = "--model") -> Path:
    from bowerbird.learners.gfsa.checkpoint import CONFIG, WEIGHTS

    folder = model if model is not None else default_model_folder()
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        where = f"{option} {folder}" if model is not None else f"no shipped GFSA layer ({folder})"
        raise UsageError(f"{where}: not a GFSA checkpoint (needs {CONFIG} and {WEIGHTS}); train one with "
                         "`bowerbird train gfsa --out DIR` and pass --model DIR")  # fmt: skip
    return folder


def run_eval(args: argparse.Namespace) -> int:
    root = existing_dir(args.repo)
    folder = _model_folder(args.model)
    for name in ("functions", "max_nodes", "train_functions", "baseline_steps"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0.0 < args.threshold <= 1.0:
        raise UsageError("--threshold must be in (0, 1]")
    train_data = training_files(args.train_repo, args.train_files) if args.baselines else None
    device = _setup_torch(args)

    from bowerbird.analysis.graphs import EdgeType
    from bowerbird.learners.gfsa.checkpoint import load_layer
    from bowerbird.learners.gfsa.evaluate import evaluate_layer

    try:
        layer, model_kinds = load_layer(folder)
    except (ValueError, KeyError, OSError) as error:
        raise UsageError(f"--model {folder}: cannot load the layer ({error})") from None
    kinds = parse_kinds(args.kinds) if args.kinds else [EdgeType[k] for k in model_kinds]
    missing = [str(k) for k in kinds if str(k) not in model_kinds]
    if missing:
        raise UsageError(f"--kinds: the model was not trained for {', '.join(missing)} "
                         f"(it has {', '.join(model_kinds)})")  # fmt: skip
    layer.to(device)
    started = time.monotonic()
    files = repo_files(root)
    graphs, counts = collect_graphs(files, args.functions, args.max_nodes, args.seed,
                                    label=f"reading {root.name}")  # fmt: skip
    view = layer.config.view  # the view the layer was trained on ("ast" for older checkpoints)
    examples = _examples(graphs, [EdgeType[k] for k in model_kinds], args.max_nodes, view)
    if not examples:
        raise UsageError(f"{root}: no functions of at most {args.max_nodes} AST nodes "
                         f"({counts['files']} Python files parsed)")  # fmt: skip
    print(f"evaluating on {len(examples)} functions from {counts['files']} files of {root}", file=sys.stderr)
    result = _select(evaluate_layer(layer, examples, args.threshold), kinds)
    gfsa_seconds = time.monotonic() - started
    summary = {"functions": result["functions"], "edges": result["edges"], "repo": str(root),
               "model": str(folder), "view": view, "threshold": args.threshold, "max_nodes": args.max_nodes,
               "files": counts["files"],
               "skipped": {k: v for k, v in counts.items() if k != "files"},
               "seconds": gfsa_seconds}  # fmt: skip
    if args.baselines:
        # the baselines see the same functions in the layer's view, or the AST alone
        baseline_view = view if args.baseline_view == "layer" else "ast"
        test = examples if baseline_view == view else _examples(graphs, [EdgeType[k] for k in model_kinds],
                                                                args.max_nodes, baseline_view)  # fmt: skip
        summary["baseline_view"] = baseline_view
        summary["methods"] = {"gfsa": {"edges": result["edges"]},
                              **_baselines(args, train_data, kinds, test, device, baseline_view)}  # fmt: skip
    summary["seconds"] = time.monotonic() - started
    if args.json:
        print_json(summary)
    else:
        _print_table(summary)
    return 0


def _select(result: dict, kinds: Sequence) -> dict:
    """The result restricted to ``kinds`` (evaluation runs every kind the model has)."""
    return {"functions": result["functions"], "edges": {str(k): result["edges"][str(k)] for k in kinds}}


def _baselines(args: argparse.Namespace, train_data: tuple[list[Path], str], kinds: Sequence,
               test: Sequence, device: str, view: str) -> dict:  # fmt: skip
    from bowerbird.learners.gfsa.baselines import run_baselines
    from bowerbird.learners.gfsa.targets import make_examples
    from bowerbird.learners.gfsa.train import TrainConfig

    files, data = train_data
    graphs, counts = collect_graphs(files, args.train_functions, args.max_nodes, args.seed, per_file=8,
                                    label="reading baseline training functions")  # fmt: skip
    train = make_examples(graphs, kinds, args.max_nodes, view)
    if not train:
        raise UsageError(f"--baselines: no training functions in {data}")
    test = [_restrict(x, kinds) for x in test]
    print(f"baselines: training on {len(train)} functions ({data})", file=sys.stderr)

    def on_log(name: str, entry: dict) -> None:
        print(f"{name} step {entry['step']:>6}  loss {entry['loss']:.5f}  ({entry['seconds']:.0f} s)",
              file=sys.stderr, flush=True)  # fmt: skip

    config = TrainConfig(steps=args.baseline_steps, lr=args.baseline_lr, seed=args.seed, log_every=100)
    out = run_baselines(train, test, config, threshold=args.threshold, on_log=on_log)
    for result in out.values():
        result["train"]["data"] = data
        result.pop("functions", None)
    return out


def _restrict(example, kinds: Sequence):
    """An example with only the target rows of ``kinds``."""
    from dataclasses import replace

    rows = [example.kinds.index(k) for k in kinds]
    return replace(example, target=example.target[rows], kinds=tuple(kinds))


def _print_table(summary: dict) -> None:
    methods = summary.get("methods") or {"gfsa": {"edges": summary["edges"]}}
    print(f"{summary['repo']}: {summary['functions']} functions (<= {summary['max_nodes']} AST nodes), "
          f"model {summary['model']} ({summary['view']} view), threshold {summary['threshold']}")  # fmt: skip
    print(f"{'kind':<12} {'method':<12} {'precision':>9} {'recall':>9} {'F1':>9}")
    for kind in summary["edges"]:
        for name, m in methods.items():
            e = m["edges"][kind]
            print(f"{kind:<12} {name:<12} {e['precision']:>9.3f} {e['recall']:>9.3f} {e['f1']:>9.3f}")
    if summary["skipped"]:
        print(f"skipped: {summary['skipped']}", file=sys.stderr)
