"""`bowerbird complete FILE --line L --col C`: one completion through the server's pipeline.

Lines and columns are 0-based; columns count characters. The repository index is brought up
to date first; the model loads on every call (the server keeps it loaded).

The prompt's proposal is the proposal classifier's choice (the shipped one, or --classifier
DIR), as in the server; `--proposal ID` uses that proposal instead, and so does a run where no
classifier applies (none shipped, or trained on another model's vectors: said on stderr). The
output names the proposal and what chose it.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from bowerbird.analysis.holes import HoleError
from bowerbird.analysis.repo import RepoView
from bowerbird.commands.common import (
    UsageError,
    add_dtype_option,
    add_index_options,
    add_json_option,
    open_store,
    print_json,
    refresh_index,
    source_document,
)

logger = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bowerbird.server.options import BACKENDS, CompletionOptions

    defaults = CompletionOptions()
    parser = sub.add_parser("complete", help="complete the code at a position", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--line", type=int, required=True, help="0-based line")
    parser.add_argument("--col", type=int, required=True, help="0-based column (characters)")
    parser.add_argument("--backend", choices=BACKENDS, default=defaults.backend)
    parser.add_argument("--model", help="model path or Hugging Face id (transformers backend)")
    parser.add_argument("--url", help="OpenAI-compatible server URL (openai backend)")
    parser.add_argument("--device", help="force a device (cpu, cuda, mps)")
    add_dtype_option(parser)
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    parser.add_argument("--candidates", type=int, default=defaults.candidates)
    parser.add_argument("--temperature", type=float, default=defaults.temperature)
    parser.add_argument("--proposal", type=int, default=None,
                        help=f"use this RLPG proposal id, not the classifier's choice (62: in-file only; the fallback "
                             f"without a classifier: {defaults.proposal})")
    parser.add_argument("--classifier", default=None, metavar="DIR",
                        help="a `train ppc` classifier folder (default: the shipped one)")
    parser.add_argument("--no-token-healing", dest="token_healing", action="store_false",
                        help="keep the token at the cursor in the prompt (local models heal it by default)")
    add_index_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bowerbird.learners.lm.loading import BackendUnavailable, load_backend
    from bowerbird.learners.ppc.choose import load_chooser
    from bowerbird.server.options import CompletionOptions, parse_options
    from bowerbird.server.pipeline import Pipeline

    file = args.file
    root, path, text = source_document(file, args)
    if args.proposal is not None and args.classifier is not None:
        raise UsageError("--proposal and --classifier exclude each other (a fixed proposal, or the classifier's choice)")
    options, problems = parse_options({"completion": {
        "backend": args.backend, "model": args.model, "url": args.url, "maxTokens": args.max_tokens,
        "candidates": args.candidates, "temperature": args.temperature,
        "proposal": CompletionOptions().proposal if args.proposal is None else args.proposal,
        "proposalChooser": "fixed" if args.proposal is not None else "classifier", "classifier": args.classifier,
        "tokenHealing": args.token_healing, "dtype": args.dtype,
    }})
    if problems:
        raise UsageError("; ".join(problems))
    started = time.perf_counter()
    try:
        backend = load_backend(args.backend, args.model, args.url, args.device, dtype=args.dtype)
    except BackendUnavailable as error:
        raise UsageError(str(error)) from None
    chooser = None
    if options.completion.proposal_chooser == "classifier":
        chooser, note = load_chooser(options.completion.classifier, backend)
        if note and args.classifier is not None:
            raise UsageError(f"--classifier {args.classifier}: {note}")
        if note:
            logger.warning("proposal %d (no classifier: %s)", options.completion.proposal, note)
    load_ms = (time.perf_counter() - started) * 1000
    store = open_store(root, args)
    try:
        refresh_index(store, args)
        pipeline = Pipeline(RepoView(store), backend, options.completion, chooser=chooser)
        try:
            completion = pipeline.complete(path, text, args.line, args.col)
        except HoleError as error:
            raise UsageError(f"{file}: {error}") from None
    finally:
        store.close()
    if args.json:
        print_json({**completion.to_json(), "model_load_ms": round(load_ms, 1)})
        return 0
    line = text.split("\n")[args.line]
    print(f"{root}/{path}:{args.line}:{args.col}  {line[: args.col]}|{line[args.col:]}")
    print(f"proposal {completion.proposal['id']} ({completion.proposal['source']}, {completion.proposal['context_type']}; "
          f"{completion.proposal['chosen_by']}); "
          f"{completion.timings_ms['total']:.0f} ms (model {completion.timings_ms.get('model', 0):.0f} ms)")
    for candidate in completion.candidates or []:
        print(f"  {candidate.score:7.3f}  {candidate.text!r}")
    if not completion.candidates:
        print("  (no candidate)")
    return 0
