"""`bowerbird train misuse --make-data --out DIR`: variable-misuse examples (GREAT style).

Each function of the training corpus (`learners/lm/corpus.py`: the standard library, split by
package; `--site-packages` adds the installed pure-Python packages) becomes one example: clean,
or with one read of a local variable replaced by another local variable bound before it
(`learners/misuse/synthesis.py` has the rules). Of the functions that can be corrupted, half
(a seeded draw per function) are; functions over `--max-tokens` tokens or `--max-nodes`
program-graph AST nodes are left out and counted. With `--bugs-per-function B`, every
corruptible function of the training split (or of `--repo`) gives itself clean and B buggy
copies at distinct sites instead (paired data: more examples from the same code, and each bug seen next to its fix);
the test split keeps one draw per function, so its metrics stay comparable.

DIR receives `train.jsonl.gz` (the training packages) and `test.jsonl.gz` (the held-out
packages), or `repo.jsonl.gz` with `--repo PATH` (every Python file of PATH, one split), in the
format of `learners/misuse/data.py`, and `manifest.json` (settings and counts per split), written
last. The same settings and seed give byte-identical files.

Training the model is a separate step that reads DIR (`--data DIR`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bowerbird.commands.common import UsageError, add_json_option, existing_dir, print_json

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = "bowerbird-misuse-examples/1"  # the line format of learners/misuse/data.py
# counts of every split, in this order (zeros included)
COUNT_KEYS = ("files", "unreadable_files", "unparsable_files", "error_files", "functions",
              "too_large_tokens", "too_large_nodes", "unusable", "not_corruptible", "buggy", "clean",
              "examples")  # fmt: skip


@dataclass(frozen=True)
class SourceFile:
    """One Python file to take functions from."""

    path: Path  # where it is
    relative: str  # its path relative to its root, "/"-separated (the examples' `path`)
    package: str  # its top-level package or module (the split's unit)


def add_train_parser(kinds: argparse._SubParsersAction) -> None:
    """The `train misuse` sub-kind (registered by `bowerbird.commands.train`)."""
    parser = kinds.add_parser("misuse", help="the variable-misuse model (--make-data: its examples)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--make-data", action="store_true", help="make the examples in --out DIR")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="with --make-data: folder for the examples; with --data: the model's checkpoint "
                             "folder (created, or resumed)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="examples made by --make-data, to train the model on (a separate step)")
    parser.add_argument("--repo", type=Path, default=None, metavar="PATH",
                        help="every Python file of this folder instead of the corpus (one split, 'repo')")
    parser.add_argument("--site-packages", action="store_true",
                        help="add the installed pure-Python packages to the corpus (default: standard library only)")
    parser.add_argument("--functions", type=int, default=None, metavar="N", help="at most N examples per split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=512, help="largest function (Python tokens) used")
    parser.add_argument("--max-nodes", type=int, default=256, help="largest function (graph AST nodes) used")
    parser.add_argument("--corruptible-only", action="store_true",
                        help="leave out functions that have no possible bug site (default: kept as clean examples)")
    parser.add_argument("--bugs-per-function", type=int, default=0, metavar="B",
                        help="training split (or --repo): each corruptible function clean and with B bugs at distinct sites "
                             "(default 0: one example per function, buggy half the time)")
    from bowerbird.commands.misuse_model import add_train_options

    add_train_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    if args.make_data:
        if args.data is not None:
            raise UsageError("--make-data writes examples to --out DIR; --data is for training on them")
        return run_make_data(args)
    if args.data is None:
        raise UsageError("train misuse: make the examples with `--make-data --out DIR`; training the model "
                         "is a separate step that reads them with `--data DIR`")
    from bowerbird.commands.misuse_model import run_train_model

    return run_train_model(args)


# --- making the data -----------------------------------------------------------------------------


def run_make_data(args: argparse.Namespace) -> int:
    if args.out is None:
        raise UsageError("--make-data needs --out DIR")
    for option in ("functions", "max_tokens", "max_nodes"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UsageError(f"--{option.replace('_', '-')} must be at least 1")
    if args.bugs_per_function < 0:
        raise UsageError("--bugs-per-function must be 0 or more")
    if args.repo is not None and args.site_packages:
        raise UsageError("--site-packages chooses corpus files; it does not go with --repo")
    splits, settings = choose_files(args)
    started = time.monotonic()
    manifest = make_data(splits, args.out, settings, args.seed, args.functions, args.max_tokens, args.max_nodes,
                         keep_not_corruptible=not args.corruptible_only,
                         bugs_per_function=args.bugs_per_function)  # fmt: skip
    logger.info("misuse data made in %.1f s", time.monotonic() - started)
    if args.json:
        print_json(manifest)
    else:
        for name, counts in manifest["splits"].items():
            print(f"{name}: {counts['examples']} examples ({counts['buggy']} buggy, {counts['clean']} clean) from "
                  f"{counts['functions']} functions in {counts['files']} files -> {args.out / counts['file']}")
    return 0


def choose_files(args: argparse.Namespace) -> tuple[dict[str, list[SourceFile]], dict]:
    """The files of each split and the settings that say where they came from."""
    if args.repo is not None:
        from bowerbird.commands.graph_data import repo_files

        root = existing_dir(args.repo)
        files = [_source_file(path, root) for path in repo_files(root)]
        return {"repo": files}, {"source": "repo", "repo": str(root)}
    from bowerbird.learners.lm.corpus import HELD_OUT, corpus_files, split

    train, test = split(corpus_files(include_site_packages=args.site_packages))
    as_source = lambda f: SourceFile(f.path, f.path.relative_to(f.root).as_posix(), f.package)  # noqa: E731
    settings = {"source": "corpus", "site_packages": args.site_packages, "held_out": sorted(HELD_OUT),
                "roots": sorted({str(f.root) for f in train + test})}  # fmt: skip
    return {"train": [as_source(f) for f in train], "test": [as_source(f) for f in test]}, settings


def _source_file(path: Path, root: Path) -> SourceFile:
    relative = path.relative_to(root).as_posix()
    return SourceFile(path, relative, relative.split("/")[0].removesuffix(".py"))


def make_data(
    splits: dict[str, list[SourceFile]], out: Path, settings: dict, seed: int, limit: int | None,
    max_tokens: int, max_nodes: int, keep_not_corruptible: bool = True, bugs_per_function: int = 0,
) -> dict:  # fmt: skip
    """Write each split's examples and the manifest to ``out``; returns the manifest.
    ``bugs_per_function`` applies to every split but ``test``."""
    from bowerbird.learners.misuse.data import write_examples

    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {
        "format": FORMAT,
        "settings": {**settings, "seed": seed, "functions": limit, "max_tokens": max_tokens,
                     "max_nodes": max_nodes, "buggy_share": 0.5,
                     "corruptible_only": not keep_not_corruptible,
                     "train_bugs_per_function": bugs_per_function},  # fmt: skip
        "splits": {},
    }
    for name, files in splits.items():
        bugs = 0 if name == "test" else bugs_per_function
        examples, counts = split_examples(name, files, seed, limit, max_tokens, max_nodes, keep_not_corruptible, bugs)
        file_name = f"{name}.jsonl.gz"
        write_examples(out / file_name, examples)
        manifest["splits"][name] = {
            "file": file_name,
            "available_files": len(files),
            "packages": len({e.package for e in examples}),
            **{key: counts[key] for key in COUNT_KEYS},
        }
    _write_json(out / MANIFEST, manifest)
    return manifest


def split_examples(
    label: str, files: list[SourceFile], seed: int, limit: int | None, max_tokens: int, max_nodes: int,
    keep_not_corruptible: bool = True, bugs_per_function: int = 0,
) -> tuple[list, Counter]:  # fmt: skip
    """The examples of one split's files, taken in a seeded order until ``limit`` (the last file
    read stops there: the counts are those of the functions read), and counts (`COUNT_KEYS`).
    Unreadable and unparsable files are counted and skipped."""
    from bowerbird.analysis.graphs import GraphError
    from bowerbird.learners.misuse.synthesis import decode_source, file_examples
    from bowerbird.progress import ProgressLine

    order = sorted(files, key=lambda f: f.relative)
    random.Random(seed).shuffle(order)
    examples: list = []
    counts: Counter = Counter()
    progress = ProgressLine(f"misuse examples ({label})")
    try:
        for done, file in enumerate(order):
            if limit is not None and len(examples) >= limit:
                break
            progress(done, len(order))
            try:
                text = decode_source(file.path.read_bytes())
            except (OSError, UnicodeDecodeError, SyntaxError):  # SyntaxError: a bad coding cookie
                counts["unreadable_files"] += 1
                continue
            try:
                room = None if limit is None else limit - len(examples)
                found, file_counts = file_examples(text, file.relative, file.package, seed, max_tokens, max_nodes,
                                                   keep_not_corruptible=keep_not_corruptible, limit=room,
                                                   bugs_per_function=bugs_per_function)  # fmt: skip
            except GraphError:
                counts["unparsable_files"] += 1
                continue
            except Exception as error:  # a bug in the analysis must not stop a corpus run
                counts["error_files"] += 1
                logger.warning("%s: misuse synthesis failed: %s: %s", file.path, type(error).__name__, error)
                continue
            counts["files"] += 1
            counts.update(file_counts)
            examples.extend(found)
        progress(len(order), len(order))
    finally:
        progress.close()
    counts["examples"] = len(examples)
    return examples, counts


def _write_json(path: Path, document: dict) -> None:
    """Write a JSON file atomically (``.NAME.partial``, then renamed)."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2, ensure_ascii=False)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
