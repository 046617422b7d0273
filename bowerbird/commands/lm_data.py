"""Where `bowerbird train lm` gets its data: this interpreter's corpus, or a bundle.

`bowerbird train lm-bundle --out FILE` writes the training files and RLPG examples this
machine would use into one `.tar.xz`; `bowerbird train lm --bundle FILE` trains on it
elsewhere (a GPU host) without indexing anything there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bowerbird.commands.common import UsageError, add_json_option, print_json

MB = 1_000_000


def add_bundle_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser(
        "lm-bundle", help="pack the code model's training data into one file (to train elsewhere)",
        description="Write the training split of the corpus (capped per package) and RLPG examples "
                    "composed from the indexed standard library into a .tar.xz for `train lm --bundle`.")
    parser.add_argument("--out", type=Path, required=True, help="the bundle to write (.tar.xz)")
    parser.add_argument("--rlpg", type=int, default=40000, help="RLPG examples to compose (at most)")
    parser.add_argument("--per-file", type=int, default=12, help="holes per standard-library file for RLPG examples")
    parser.add_argument("--package-cap", type=float, default=12.0, help="MB of source kept per package at most")
    parser.add_argument("--block", type=int, default=512, help="tokens per RLPG prompt (the model's context)")
    parser.add_argument("--tokenizer", default="embedded", help="tokenizer to count prompt tokens ('embedded': the shipped model's)")
    parser.add_argument("--rlpg-format", choices=("fim", "left-to-right"), default="fim",
                        help="RLPG prompts with the code after the cursor in the FIM slot, or left to right only")
    add_rlpg_context_option(parser)
    parser.add_argument("--seed", type=int, default=0)
    add_json_option(parser)
    parser.set_defaults(run=run_bundle)


def run_bundle(args: argparse.Namespace) -> int:
    import platform

    from transformers import PreTrainedTokenizerFast

    from bowerbird.learners.lm.bundle import write_bundle
    from bowerbird.learners.lm.corpus import HELD_OUT, MAX_FILE_BYTES

    tokenizer = PreTrainedTokenizerFast.from_pretrained(checkpoint_folder(args.tokenizer, "--tokenizer", ("tokenizer.json",)))
    files = training_files(args.package_cap, args.seed)
    examples = rlpg_examples(args.out.parent / (args.out.name + ".index"), tokenizer, args.block, args.rlpg,
                             args.seed, args.per_file, fim=args.rlpg_format == "fim", context=args.rlpg_context)
    print(f"writing {len(files)} files and {len(examples)} RLPG examples to {args.out} ...", file=sys.stderr)
    manifest = write_bundle(args.out, files, examples, {
        "python": platform.python_version(), "held_out": sorted(HELD_OUT), "package_cap_bytes": int(args.package_cap * MB),
        "max_file_bytes": MAX_FILE_BYTES, "rlpg_block": args.block, "rlpg_format": args.rlpg_format, "rlpg_context": args.rlpg_context,
        "seed": args.seed})
    summary = {"bundle": str(args.out), "bytes": args.out.stat().st_size, "source_bytes": manifest["bytes"],
               "files": manifest["files"], "rlpg_examples": manifest["rlpg_examples"], "packages": len(manifest["packages"])}
    if args.json:
        print_json(summary)
    else:
        print(f"{args.out}: {summary['files']} files ({manifest['bytes'] / MB:.0f} MB of source), "
              f"{summary['rlpg_examples']} RLPG examples, {summary['bytes'] / MB:.1f} MB compressed")
    return 0


def add_rlpg_context_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rlpg-context", choices=("random", "useful"), default="random",
                        help="each RLPG example's proposal: a random one, or (useful) mostly one whose context holds "
                             "the names the hole's line needs and the code before it lacks: the copying task")


def checkpoint_folder(value: str, option: str, needs: tuple[str, ...]) -> Path:
    """`value` as a checkpoint folder ('embedded': the shipped model's) holding `needs`."""
    from bowerbird.learners.lm.loading import embedded_folder

    folder = embedded_folder() if value == "embedded" else Path(value)
    if not all((folder / name).exists() for name in needs):
        raise UsageError(f"{option} {value}: not a checkpoint folder (needs {' and '.join(needs)})")
    return folder


def training_files(package_cap_mb: float, seed: int):
    from bowerbird.learners.lm.corpus import cap_per_package, corpus_files, split

    train_files, _ = split(corpus_files())
    return cap_per_package(train_files, int(package_cap_mb * MB), seed)


def rlpg_examples(index_dir: Path, tokenizer, block: int, count: int, seed: int, per_file: int = 3,
                  fim: bool = True, context: str = "random") -> list[str]:
    """RLPG-format examples from holes of the standard library's training packages."""
    import sysconfig

    from bowerbird.analysis.indexer import IndexOptions, index_repository
    from bowerbird.analysis.repo import RepoView
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.learners.lm.corpus import HELD_OUT
    from bowerbird.learners.lm.data import rlpg_examples_from
    from bowerbird.progress import ProgressLine

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    exclude = ("site-packages/", "test/", "tests/", "idlelib/", *(f"/{p}/" for p in HELD_OUT), *(f"/{p}.py" for p in HELD_OUT))
    store = IndexStore(index_path_for(stdlib, index_dir), stdlib)
    print("indexing the standard library for RLPG examples ...", file=sys.stderr)
    index_repository(store, IndexOptions(exclude=exclude))
    progress = ProgressLine(f"composing RLPG examples ({context} contexts)")
    make = rlpg_examples_from([RepoView(store)], tokenizer, block, exclude=exclude, seed=seed, per_file=per_file, fim=fim,
                              context=context, progress=progress)
    try:
        return make(count)
    finally:
        progress.close()


def load_texts(args: argparse.Namespace) -> tuple[list[str], list[str] | None]:
    """(training texts, the bundle's RLPG examples) from `--bundle`, or (this interpreter's
    corpus, None): RLPG examples are then composed by `rlpg_examples` once a tokenizer exists."""
    if args.bundle is None:
        from bowerbird.learners.lm.data import read_texts

        return read_texts(training_files(args.package_cap, args.seed)), None
    from bowerbird.learners.lm.bundle import BundleError, read_bundle

    try:
        bundle = read_bundle(args.bundle)
    except BundleError as error:
        raise UsageError(str(error)) from error
    print(f"bundle {args.bundle}: {len(bundle.texts)} files, {len(bundle.rlpg)} RLPG examples", file=sys.stderr)
    return [text for _, text in bundle.texts], bundle.rlpg
