"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bowerbird.analysis.indexer import IndexOptions, IndexReport, index_repository
from bowerbird.analysis.store import IndexStore, index_path_for
from bowerbird.paths import default_index_dir
from bowerbird.progress import ProgressLine


class UsageError(Exception):
    """Bad input from the user: reported on stderr with exit code 2."""


def add_dtype_option(parser: argparse.ArgumentParser, default: str = "auto", why: str = "") -> None:
    """`--dtype`: the number format of a local model's weights (learners/lm/device.py)."""
    from bowerbird.learners.lm.device import DTYPES

    parser.add_argument("--dtype", choices=DTYPES, default=default,
                        help="local models' weights; auto: bfloat16 on a GPU, and on a CPU only where it computes "
                             f"bfloat16 natively (AVX-512 BF16, AMX), else float32; default {default}{why}")


def add_copy_cache_options(parser: argparse.ArgumentParser, default: str) -> None:
    """`--copy-cache`, `--copy-memory`, `--copy-written`: the copy cache's settings
    (learners/lm/copy_cache.py, a checkpoint's `bowerbird.json`); `default` says what holds
    when an option is not given."""
    parser.add_argument("--copy-cache", default=None, metavar="WEIGHT",
                        help="the copy cache's share of each next-token distribution, in [0, 1), or one per match "
                             f"length (`0.05,0.1,0.3`); {default}")
    parser.add_argument("--copy-memory", type=int, default=None, metavar="TOKENS",
                        help=f"tokens of the code cut from the prompt that the copy cache also indexes; {default}")
    parser.add_argument("--copy-written", choices=("on", "off"), default=None,
                        help=f"whether the copy cache also copies from the tokens the model writes; {default}")


def copy_cache_options(args: argparse.Namespace) -> tuple:
    """(weight, memory tokens, copy written) from `add_copy_cache_options`, each None when not
    given; UsageError for a bad value."""
    weight = None
    if args.copy_cache is not None:
        from bowerbird.learners.lm.copy_cache import parse

        try:
            weight = parse(args.copy_cache)
        except ValueError:
            raise UsageError("--copy-cache must be in [0, 1), or a comma-separated list of such weights") from None
    if args.copy_memory is not None and args.copy_memory < 0:
        raise UsageError("--copy-memory must be >= 0")
    written = None if args.copy_written is None else args.copy_written == "on"
    return weight, args.copy_memory, written


def add_index_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="where indexes are stored (default: the user cache dir)")
    parser.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                        help="gitignore-style pattern to leave out (repeatable)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def index_dir(args: argparse.Namespace) -> Path:
    return (args.index_dir or default_index_dir()).expanduser().resolve()


def existing_dir(path: Path) -> Path:
    if not path.exists():
        raise UsageError(f"{path}: no such directory")
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    return path.resolve()


def open_store(root: Path, args: argparse.Namespace) -> IndexStore:
    return IndexStore(index_path_for(root, index_dir(args)), root)


def refresh_index(store: IndexStore, args: argparse.Namespace) -> IndexReport:
    """Bring the index up to date, with a progress line on stderr when it takes a while."""
    progress = ProgressLine(f"indexing {store.root.name}")
    try:
        options = IndexOptions(exclude=tuple(args.exclude), workers=getattr(args, "workers", 0))
        return index_repository(store, options, progress)
    finally:
        progress.close()


def source_document(file: Path, args: argparse.Namespace) -> tuple[Path, str, str]:
    """(repository root, path relative to it, text) of a FILE argument; UsageError when the
    file is missing, of an unsupported language, or unusable (binary, too large, ...)."""
    from bowerbird.analysis.languages import language_for_path
    from bowerbird.analysis.walk import read_source
    from bowerbird.paths import find_root

    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    if language_for_path(file.name) is None:
        raise UsageError(f"{file}: not a Python or Java file")
    data, reason = read_source(str(file))
    if data is None:
        raise UsageError(f"{file}: cannot be used ({reason})")
    root = find_root(file, index_dir(args))
    return root, file.resolve().relative_to(root).as_posix(), data.decode("utf-8", "replace")


def print_json(document: object) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


def read_reports_and_notes(reports: list[Path], notes: Path | None) -> tuple[list[dict], str]:
    """The `--eval` JSON reports and `--notes` Markdown of a `train ship-*` command."""
    try:
        return [json.loads(path.read_text()) for path in reports], notes.read_text() if notes else ""
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read an --eval report or --notes: {error}") from None
