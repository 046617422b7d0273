"""`bowerbird proposals FILE --line L --col C`: the RLPG prompt proposals for one hole.

Lines and columns are 0-based (as in LSP); columns count characters. The repository index
is brought up to date first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bowerbird.analysis.holes import HoleError, hole_at
from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
from bowerbird.analysis.repo import RepoView
from bowerbird.commands.common import (
    UsageError,
    add_index_options,
    add_json_option,
    open_store,
    print_json,
    refresh_index,
    source_document,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("proposals", help="list the prompt proposals for a hole", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--line", type=int, required=True, help="0-based line")
    parser.add_argument("--col", type=int, required=True, help="0-based column (characters)")
    parser.add_argument("--prompt-tokens", type=int, default=ProposalOptions.prompt_tokens,
                        help="prompt budget in tokens (default %(default)s)")
    parser.add_argument("--show", action="store_true", help="print each proposal's text (text output)")
    add_index_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    file = args.file
    if args.prompt_tokens <= 0:
        raise UsageError("--prompt-tokens must be positive")
    root, path, text = source_document(file, args)
    try:
        hole = hole_at(path, text, args.line, args.col)
    except HoleError as error:
        raise UsageError(f"{file}: {error}") from None
    store = open_store(root, args)
    try:
        refresh_index(store, args)
        proposals = build_proposals(RepoView(store), hole, ProposalOptions(prompt_tokens=args.prompt_tokens))
    finally:
        store.close()
    if args.json:
        print_json({"hole": {"root": str(root), **hole.to_json()}, "proposals": [p.to_json() for p in proposals]})
        return 0
    print(f"{root}/{path}:{args.line}:{args.col}  target: {hole.target!r}")
    for proposal in proposals:
        kind = proposal.kind
        print(f"{kind.id:>3}  {kind.source:<24} {kind.context_type:<24} {proposal.tokens:>5} tokens")
        if args.show and proposal.text:
            print("     " + proposal.text.replace("\n", "\n     "))
    return 0
