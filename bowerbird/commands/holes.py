"""`bowerbird holes REPO --out holes.jsonl`: RLPG holes, one JSON object per line.

Every non-blank, non-comment line of every indexable file is a hole, cut at the middle of
its stripped text (RLPG) or at a random column; deterministic for a seed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from bowerbird.analysis.holes import extract_holes
from bowerbird.commands.common import UsageError, add_json_option, existing_dir, print_json
from bowerbird.progress import ProgressLine


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("holes", help="extract completion holes from a repository", description=__doc__)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--out", default="-", help="JSONL output file ('-': stdout, the default)")
    parser.add_argument("--per-file", type=int, default=None, help="sample at most N holes per file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", choices=("middle", "random"), default="middle")
    parser.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                        help="gitignore-style pattern to leave out (repeatable)")
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    root = existing_dir(args.repo)
    if args.per_file is not None and args.per_file <= 0:
        raise UsageError("--per-file must be positive")
    if args.json and args.out == "-":
        raise UsageError("--json prints a summary on stdout: give the holes a file with --out")
    progress = ProgressLine(f"holes from {root.name}")
    holes = extract_holes(root, args.per_file, args.seed, args.split, tuple(args.exclude), progress)
    files: Counter[str] = Counter()
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    try:
        for hole in holes:
            out.write(json.dumps(hole, ensure_ascii=False) + "\n")
            files[hole["path"]] += 1
    finally:
        progress.close()
        if out is not sys.stdout:
            out.close()
    summary = {"root": str(root), "holes": sum(files.values()), "files": len(files), "out": args.out}
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['holes']} holes from {summary['files']} files -> {args.out}", file=sys.stderr)
    return 0
