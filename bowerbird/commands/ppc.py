"""RLPG's Prompt Proposal Classifier.

`bowerbird train ppc-labels`: label holes of training repositories (learners/ppc/labels.py):
for each hole, which applicable proposals make the configured model write the rest of the line
exactly. Resumable: holes already in the labels file are kept, so a stopped run is continued by
running the same command again.

`bowerbird train ppc --labels FILE... --out DIR`: train RLPG-H (or `--kind rlpg_r`, which also
reads each applicable proposal's context, rebuilt from the labelled repositories) on them
(learners/ppc/train.py), validated on repositories no training hole came from. `--cross-validate` (no --out) measures
instead: each repository in turn is left out of training and scored, pooled over all holes.
`--encoder-layers K` encodes with the code model's first K blocks (0: its embeddings).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bowerbird.commands.common import UsageError, add_dtype_option, add_json_option, existing_dir, print_json


def add_labels_parser(kinds: argparse._SubParsersAction) -> None:
    from bowerbird.server.options import BACKENDS

    parser = kinds.add_parser("ppc-labels", help="label holes for the prompt proposal classifier (resumable)",
                              description=__doc__)
    parser.add_argument("--repos", type=Path, nargs="+", required=True, help="training repositories (folders)")
    parser.add_argument("--out", type=Path, required=True, help="the labels file (JSON lines; appended to)")
    parser.add_argument("--holes", type=int, default=200, help="holes drawn per repository")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=BACKENDS, default="embedded")
    parser.add_argument("--model", default=None, help="model path or Hugging Face id (transformers), model name (openai)")
    parser.add_argument("--url", default=None, help="OpenAI-compatible server URL (openai backend)")
    add_dtype_option(parser, "float32", " (there the one-pass check equals greedy decoding on every machine)")
    parser.add_argument("--no-token-healing", dest="token_healing", action="store_false",
                        help="label plain prompts (the server heals them for local models)")
    parser.add_argument("--index-dir", type=Path, default=None, help="keep the repositories' indexes here")
    add_json_option(parser)
    parser.set_defaults(run=run_labels)


def add_train_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("ppc", help="train a prompt proposal classifier (RLPG-H or RLPG-R) on labels",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, nargs="+", required=True, help="files written by `train ppc-labels`")
    parser.add_argument("--out", type=Path, default=None, help="the classifier's folder (config.json, model.safetensors)")
    parser.add_argument("--cross-validate", action="store_true",
                        help="leave each repository out in turn and report the pooled success rates (saves nothing)")
    parser.add_argument("--kind", choices=("rlpg_h", "rlpg_r"), default="rlpg_h",
                        help="rlpg_h: the hole's window alone (what the server runs); rlpg_r: the window attends over "
                             "the proposals' contexts (their repositories must be where the labels say)")
    parser.add_argument("--encoder-layers", type=int, default=None, metavar="K",
                        help="encode with the states after the code model's first K blocks (default: all; 0: embeddings)")
    parser.add_argument("--validation", default=None, metavar="NAME,...",
                        help="repositories (folder names) to validate on; default: the last fifth of them by name")
    parser.add_argument("--model", default=None, help="the local code model whose hidden states encode the holes "
                                                      "(default: the embedded model)")
    parser.add_argument("--steps", default="auto", metavar="N|auto",
                        help="training steps; auto: chosen on one training repository held aside (never on --validation)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    add_json_option(parser)
    parser.set_defaults(run=run_train)


def add_ship_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("ship-ppc", help="make a trained proposal classifier the server's default",
                              description="Copy a `train ppc --out DIR` classifier to learners/checkpoints/ppc with its "
                                          "MODEL_CARD.md: what it is, its labels and training, its validation report, "
                                          "and a held-out table from `eval completion --ppc DIR --json` reports (one "
                                          "per package, pooled).")  # fmt: skip
    parser.add_argument("--run", dest="run_dir", type=Path, required=True, help="a `train ppc --out DIR` folder")
    parser.add_argument("--eval", dest="evaluations", type=Path, nargs="*", default=[],
                        help="`eval completion --ppc DIR --json` reports of this classifier, one per package")
    parser.add_argument("--notes", type=Path, default=None, help="a Markdown file appended to the card")
    parser.add_argument("--to", type=Path, default=None, help="another destination folder (default: the package's)")
    parser.set_defaults(run=run_ship)


def run_ship(args: argparse.Namespace) -> int:
    import sys

    from bowerbird.commands.common import read_reports_and_notes
    from bowerbird.learners.ppc.choose import shipped_folder
    from bowerbird.learners.ppc.model_card import ShipError, ship

    reports, notes = read_reports_and_notes(args.evaluations, args.notes)
    destination = args.to or shipped_folder()
    try:
        ship(args.run_dir, destination, reports, notes)
    except ShipError as error:
        raise UsageError(str(error)) from None
    print(f"shipped {args.run_dir} to {destination}", file=sys.stderr)
    return 0


def run_train(args: argparse.Namespace) -> int:
    from bowerbird.learners.lm.loading import BackendUnavailable, load_backend
    from bowerbird.learners.ppc.encode import HiddenStateEncoder, fingerprint
    from bowerbird.learners.ppc.labels import read_labels
    from bowerbird.learners.ppc.model import PPCConfig
    from bowerbird.learners.ppc.train import (
        best_single, choose_steps, cross_validate, fit, label_set, report, save, split_by_repo,
    )
    from bowerbird.progress import ProgressLine

    if (args.out is None) != args.cross_validate:
        raise UsageError("give --out DIR to train a classifier, or --cross-validate to measure one (not both)")
    missing = [str(path) for path in args.labels if not path.is_file()]
    if missing:
        raise UsageError(f"no labels file: {', '.join(missing)}")
    if args.steps != "auto" and not (args.steps.isdigit() and int(args.steps) >= 1):
        raise UsageError("--steps must be a positive number or auto")
    records = [r for path in args.labels for r in read_labels(path) if not r.get("skipped")]
    names = sorted({Path(r["repo"]).name for r in records})
    if len(names) < 2:
        raise UsageError(f"the labels come from {len(names)} repositories; training and validation need two or more")
    validation = args.validation.split(",") if args.validation else names[-max(1, len(names) // 5):]
    if not set(validation) & set(names) or set(names) <= set(validation):
        raise UsageError(f"--validation must name some, not all, of the labelled repositories ({', '.join(names)})")
    try:
        backend = load_backend("transformers" if args.model else "embedded", args.model, dtype="float32")
    except BackendUnavailable as error:
        raise UsageError(str(error)) from None
    try:
        encoder = HiddenStateEncoder(backend, layers=args.encoder_layers)
    except ValueError as error:
        raise UsageError(f"--encoder-layers: {error}") from None
    contexts_for = None
    if args.kind == "rlpg_r":
        from bowerbird.learners.ppc.contexts import ContextVectors, label_contexts

        def contexts_for(labelled):
            progress = ProgressLine("encoding the proposals' contexts")
            try:
                return label_contexts(labelled, ContextVectors(encoder), backend.context_tokens, progress)
            finally:
                progress.close()

    data = label_set(records, encoder, contexts_for)
    config = PPCConfig(kind=args.kind, dim=encoder.dim, hidden=args.hidden)
    if args.cross_validate:
        return _report_cross_validation(args, cross_validate(data, config, steps=args.steps, lr=args.lr, seed=args.seed))
    training, held = split_by_repo(data, validation)
    step_scores: dict = {}
    if args.steps == "auto":
        steps, step_scores = choose_steps(training, config, lr=args.lr, seed=args.seed)
    else:
        steps = int(args.steps)
    progress = ProgressLine(f"training {args.kind}")
    model, curve = fit(training, config, steps=steps, lr=args.lr, seed=args.seed, progress=progress)
    progress.close()
    fixed = best_single(training)
    summary = {
        "out": str(args.out), "encoder": backend.model, "encoder_layers": encoder.layers, "training_repos": sorted(set(names) - set(validation)),
        "validation_repos": sorted(set(validation) & set(names)), "steps": steps,
        "step_scores": {str(k): round(v, 4) for k, v in step_scores.items()}, "curve": curve,
        "training": report(model, training, fixed), "validation": report(model, held, fixed),
    }
    save(model, args.out, {"encoder": backend.model, "encoder_fingerprint": fingerprint(backend),
                           "encoder_layers": encoder.layers, "report": summary})
    if args.json:
        print_json(summary)
        return 0
    for part in ("training", "validation"):
        r = summary[part]
        print(f"{part}: {r['holes']} holes; classifier {r['classifier'] * 100:.1f}%, in_file {r['in_file'] * 100:.1f}%, "
              f"fixed_best ({r['fixed_best_id']}) {r['fixed_best'] * 100:.1f}%, oracle {r['oracle'] * 100:.1f}%")
    print(f"saved {args.out}")
    return 0


def _report_cross_validation(args: argparse.Namespace, result: dict) -> int:
    if args.json:
        print_json(result)
        return 0
    for fold in result["folds"]:
        print(f"{fold['repo']:<16} {fold['holes']:>5} holes  classifier {fold['classifier'] * 100:5.1f}%  in_file "
              f"{fold['in_file'] * 100:5.1f}%  fixed_best ({fold['fixed_best_id']}) {fold['fixed_best'] * 100:5.1f}%  "
              f"oracle {fold['oracle'] * 100:5.1f}%  ({fold['steps']} steps)")
    print(f"{'pooled':<16} {result['holes']:>5} holes  classifier {result['classifier'] * 100:5.1f}%  in_file "
          f"{result['in_file'] * 100:5.1f}%  fixed_best {result['fixed_best'] * 100:5.1f}%  oracle {result['oracle'] * 100:5.1f}%")
    return 0


def run_labels(args: argparse.Namespace) -> int:
    import random
    import tempfile

    from bowerbird.analysis.holes import extract_holes
    from bowerbird.analysis.indexer import index_repository
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.learners.lm.evaluate import IN_FILE_ID
    from bowerbird.learners.lm.loading import BackendUnavailable, load_backend
    from bowerbird.learners.ppc.labels import label_holes, read_labels
    from bowerbird.progress import ProgressLine

    roots = [existing_dir(repo) for repo in args.repos]
    if args.holes < 1:
        raise UsageError("--holes must be at least 1")
    if args.out.is_dir():
        raise UsageError(f"--out {args.out} is a folder; give the labels file's path")
    try:
        backend = load_backend(args.backend, args.model, args.url, dtype=args.dtype)
    except BackendUnavailable as error:
        raise UsageError(str(error)) from None
    runs = []
    with tempfile.TemporaryDirectory() as temp:
        for root in roots:
            store = IndexStore(index_path_for(root, args.index_dir or Path(temp)), root)
            try:
                index_repository(store)
                drawn = list(extract_holes(root, per_file=None, seed=args.seed))
                random.Random(args.seed).shuffle(drawn)  # the same draw as `eval completion`
                progress = ProgressLine(f"labelling {root.name}")
                run = label_holes(RepoView(store), backend, drawn[: args.holes], args.out, heal=args.token_healing,
                                  progress=progress)
                progress.close()
            finally:
                store.close()
            runs.append({"repo": str(root), "labelled": run.labelled, "cached": run.cached, "skipped": run.skipped})
    records = [r for r in read_labels(args.out) if not r.get("skipped")]
    summary = {
        "labels": str(args.out), "model": backend.model, "repos": runs, "holes": len(records),
        "in_file_solved": sum(IN_FILE_ID in r["solved"] for r in records),
        "any_solved": sum(bool(r["solved"]) for r in records),
    }
    if args.json:
        print_json(summary)
        return 0
    for run in runs:
        print(f"{run['repo']}: {run['labelled']} labelled, {run['cached']} already there, {run['skipped']} skipped")
    print(f"{args.out}: {summary['holes']} labelled holes; in_file solves {summary['in_file_solved']}, "
          f"some proposal solves {summary['any_solved']}")
    return 0
