"""`bowerbird eval completion --repo PATH`: RLPG's comparison of prompt methods on a repository.

Methods: in_file, random, retrieval, fixed_best (chosen on a calibration half of the holes,
reported on the other half) and oracle; exact match with a bootstrap 95% interval, and edit
similarity. Use held-out repositories (see learners/lm/corpus.py): never ones the model saw.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bowerbird.commands.common import UsageError, add_copy_cache_options, add_dtype_option, add_json_option, copy_cache_options, existing_dir, print_json

METHODS = ("in_file", "random", "retrieval", "fixed_best", "rlpg_h", "rlpg_r", "oracle")  # learners.lm.evaluate.METHODS, without torch
CLASSIFIER_METHODS = ("rlpg_h", "rlpg_r")  # need --ppc


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="evaluate a model", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    completion = kinds.add_parser("completion", help="prompt methods on a repository's holes", description=__doc__)
    completion.add_argument("--repo", type=Path, required=True)
    completion.add_argument("--holes", type=int, default=200, help="holes to draw (half calibrate fixed_best)")
    completion.add_argument("--seed", type=int, default=0)
    completion.add_argument("--model", default=None, help="model path or id (default: the embedded model)")
    completion.add_argument("--device", default=None)
    add_dtype_option(completion, "float32", " (there the one-pass exact-match check equals greedy decoding "
                                            "on every machine)")
    completion.add_argument("--index-dir", type=Path, default=None)
    completion.add_argument("--ppc", type=Path, nargs="+", default=[], metavar="DIR",
                            help="`train ppc` classifiers (one per kind): each adds its method, rlpg_h or rlpg_r, the "
                                 "proposal it picks per hole")
    completion.add_argument("--methods", default=None,
                            help="comma-separated subset (in_file always; default: all, rlpg_h/rlpg_r with --ppc); "
                                 "without random/fixed_best/oracle only in_file's prompt and the classifiers' picks run: "
                                 "in_file alone is a quick check of a checkpoint")
    completion.add_argument("--token-healing", action="store_true",
                            help="heal every prompt as the server does (the sweep's exact match then counts healed lines)")
    completion.add_argument("--fim", choices=("auto", "on", "off"), default="auto",
                            help="code after the cursor in the FIM slot: as the checkpoint says (auto), or forced")
    completion.add_argument("--fixed-best", type=int, default=None, metavar="ID",
                            help="the proposal id fixed_best uses, chosen elsewhere (RLPG: on the training "
                                 "packages' holes: `scripts/pool_evals.py` prints the best single proposal of a "
                                 "folder of sweeps); "
                                 "default: chosen on a calibration half of these holes")
    add_copy_cache_options(completion, "default: the checkpoint's setting (local models only)")
    completion.add_argument("--plot", type=Path, default=None, metavar="FILE.png",
                            help="also draw exact match per method (bars, 95%% intervals) and edit similarity")
    add_json_option(completion)
    completion.set_defaults(run=run)
    from bowerbird.commands import gfsa, misuse_model, reward

    gfsa.add_eval_parser(kinds)
    misuse_model.add_eval_parser(kinds)
    reward.add_eval_parser(kinds)


def _classifier_kinds(folders: list[Path]) -> dict[str, Path]:
    """kind (rlpg_h / rlpg_r) -> the --ppc folder of that kind; a usage error for a folder that
    is not a classifier, or two of one kind."""
    import json

    kinds: dict[str, Path] = {}
    for folder in folders:
        try:
            kind = json.loads((folder / "config.json").read_text())["ppc"]["kind"]
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(f"--ppc {folder}: not a `train ppc` folder (no readable config.json)") from None
        if kind in kinds:
            raise UsageError(f"--ppc: two {kind} classifiers ({kinds[kind]}, {folder}); give one of each kind")
        kinds[kind] = folder
    return kinds


def run(args: argparse.Namespace) -> int:
    import random

    from bowerbird.analysis.holes import extract_holes
    from bowerbird.analysis.indexer import index_repository
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.learners.lm.evaluate import evaluate_repo, summarise
    from bowerbird.learners.lm.loading import BackendUnavailable, load_backend
    from bowerbird.progress import ProgressLine

    root = existing_dir(args.repo)
    if args.holes < 2:
        raise UsageError("--holes must be at least 2")
    if args.fixed_best is not None and not 0 <= args.fixed_best <= 62:
        raise UsageError("--fixed-best must be a proposal id from 0 to 62")
    classifiers = _classifier_kinds(args.ppc)
    asked = args.methods.split(",") if args.methods else [m for m in METHODS
                                                          if m not in CLASSIFIER_METHODS or m in classifiers]
    methods = tuple(m for m in METHODS if m in {"in_file", *asked})
    unknown = set(asked) - set(METHODS)
    if unknown:
        raise UsageError(f"--methods: unknown {', '.join(sorted(unknown))} (choose from {', '.join(METHODS)})")
    unserved = [m for m in methods if m in CLASSIFIER_METHODS and m not in classifiers]
    if unserved:
        raise UsageError(f"--methods {unserved[0]} needs --ppc DIR (a {unserved[0]} classifier trained by `train ppc`)")
    try:
        backend = load_backend("transformers" if args.model else "embedded", args.model, device=args.device, dtype=args.dtype,
                               fim={"auto": None, "on": True, "off": False}[args.fim])
    except BackendUnavailable as error:
        raise UsageError(str(error)) from None
    choosers = {}
    for method in (m for m in methods if m in CLASSIFIER_METHODS):
        from bowerbird.learners.ppc.choose import ProposalChooser

        try:
            choosers[method] = ProposalChooser(classifiers[method], backend)
        except (OSError, ValueError, KeyError) as error:
            raise UsageError(f"--ppc {classifiers[method]}: {error}") from None
    weight, memory, written = copy_cache_options(args)
    if (weight, memory, written) != (None, None, None):
        if not hasattr(backend, "copy_weight"):
            raise UsageError(f"--copy-cache/--copy-memory/--copy-written need a local model; backend {backend.name!r} "
                             "has no token probabilities here")
        for name, value in (("copy_weight", weight), ("copy_memory", memory), ("copy_written", written)):
            if value is not None:
                setattr(backend, name, value)
    with tempfile.TemporaryDirectory() as temp:
        store = IndexStore(index_path_for(root, args.index_dir or Path(temp)), root)
        try:
            index_repository(store)
            drawn = list(extract_holes(root, per_file=None, seed=args.seed))
            random.Random(args.seed).shuffle(drawn)
            progress = ProgressLine(f"evaluating {root.name}")
            outcomes = evaluate_repo(RepoView(store), backend, drawn[: args.holes], args.seed, progress, methods,
                                     healing=args.token_healing, choosers=choosers)
            progress.close()
        finally:
            store.close()
    if len(outcomes) < 2:
        raise UsageError(f"{root}: too few usable holes ({len(outcomes)})")
    summary = {"repo": str(root), "model": backend.model, "healed_prompts": args.token_healing,
               "copy_cache": getattr(backend, "copy_weight", None),
               "copy_memory": getattr(backend, "copy_memory", None),
               "copy_written": getattr(backend, "copy_written", None),
               "fim": backend.fim.family if backend.fim else None,
               **summarise(outcomes, backend, args.seed, methods=methods, fixed=args.fixed_best)}
    if args.plot:
        from bowerbird.learners.lm.plot import plot_methods

        plot_methods(summary, args.plot)
    if args.json:
        print_json(summary)
        return 0
    base = summary["methods"]["in_file"]["em"]
    where = ("given" if args.fixed_best is not None else f"chosen on {summary['calibration_holes']} others")
    chosen = (f" (fixed_best = proposal {summary['fixed_best_id']}, {where})" if "fixed_best" in summary["methods"] else "")
    print(f"{root}: {summary['holes']} holes{chosen}, model {backend.model}")
    print(f"{'method':<12} {'exact match':>12} {'95% CI':>17} {'vs in_file':>11} {'edit sim.':>10}")
    for name, m in summary["methods"].items():
        ci = m["em_ci95"]
        relative = f"{m['relative_to_in_file'] * 100:+.1f}%" if m["relative_to_in_file"] is not None else "-"
        es = f"{m['es']:.3f}" if m["es"] is not None else "-"
        print(f"{name:<12} {m['em'] * 100:>11.1f}% {f'[{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]':>17} {relative:>11} {es:>10}")
    if "token_healing" in summary:
        h = summary["token_healing"]
        print(f"token healing (in_file, greedy generation, {h['holes']} holes): exact match {h['em_plain'] * 100:.1f}% -> "
              f"{h['em_healed'] * 100:.1f}%, edit similarity {h['es_plain']:.3f} -> {h['es_healed']:.3f}")
    if not base:
        print("(in_file solved no hole: relative gains are undefined)", file=sys.stderr)
    return 0
