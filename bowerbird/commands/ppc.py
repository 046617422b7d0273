"""`bowerbird train ppc-labels`: label holes of training repositories for RLPG's Prompt Proposal
Classifier (learners/ppc/labels.py): for each hole, which applicable proposals make the
configured model write the rest of the line exactly. Resumable: holes already in the labels
file are kept, so a stopped run is continued by running the same command again.
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
