"""`bowerbird index PATH`: build or update the repository index."""

from __future__ import annotations

import argparse
from pathlib import Path

from bowerbird.commands.common import (
    add_index_options,
    add_json_option,
    existing_dir,
    open_store,
    print_json,
    refresh_index,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("index", help="index a repository (incremental)", description=__doc__)
    parser.add_argument("path", type=Path, help="repository root")
    parser.add_argument("--workers", type=int, default=0, help="parser processes (default: one per core)")
    add_index_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    root = existing_dir(args.path)
    store = open_store(root, args)
    try:
        report = refresh_index(store, args)
    finally:
        store.close()
    if args.json:
        print_json(report.to_json())
    else:
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(report.files_skipped.items())) or "none"
        print(
            f"{report.root}: {report.files_total} files ({report.files_indexed} parsed, "
            f"{report.files_unchanged} unchanged, {report.files_deleted} removed), "
            f"{report.symbols} symbols in {report.seconds:.2f}s; skipped: {skipped}\n"
            f"index: {report.index_path}"
        )
    return 0
