"""`bowerbird train reward` and `bowerbird eval reward`: per-developer ranking with reward features.

`train reward --out DIR` fits theta (the shared reward features) and writes a checkpoint the
server ranks with (`--store`: from the accepts of the feedback store's developers; default:
from simulated developers choosing among the code model's real candidates on real holes of the
training packages). `eval reward` measures pairwise accuracy for held-out simulated developers
against the number of their choices (learners/reward/evaluate.py has the protocol).

Candidates are generated once per (model, holes, seed) and kept in the user cache dir
(`--items-cache` elsewhere, `--fresh` to remake them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
from pathlib import Path

from bowerbird.commands.common import UsageError, add_json_option, print_json

logger = logging.getLogger(__name__)

LEVEL_CHOICES = ("low", "medium", "high")


def _item_options(parser: argparse.ArgumentParser, holes: int) -> None:
    parser.add_argument("--holes", type=int, default=holes, help="training holes (each gives up to 8 candidates)")
    parser.add_argument("--candidates", type=int, default=8, help="samples of the code model per hole")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature of the candidates")
    parser.add_argument("--model", default=None, help="the code model (default: the embedded one)")
    parser.add_argument("--items-cache", type=Path, default=None,
                        help="folder for the generated candidates (default: the user cache dir)")
    parser.add_argument("--fresh", action="store_true", help="remake the candidates even if cached")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (fitting)")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes that sample the candidates, one model and one thread each")


def add_train_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("reward", help="the reward features (per-developer ranking)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder (written)")
    parser.add_argument("--store", action="store_true",
                        help="train on the feedback store's accepts instead of simulated developers")
    parser.add_argument("--data-dir", type=Path, default=None, help="the feedback store's folder (with --store)")
    parser.add_argument("--exclude-developer", action="append", default=[], metavar="ID",
                        help="leave this developer's events out (repeatable; with --store)")
    parser.add_argument("--disagreement", choices=LEVEL_CHOICES, default="medium",
                        help="how much the simulated developers disagree (without --store)")
    parser.add_argument("--developers", type=int, default=40, help="simulated training developers")
    parser.add_argument("--comparisons", type=int, default=200, help="choices per simulated developer")
    parser.add_argument("--dim", type=int, default=16, help="d, the number of reward features")
    _item_options(parser, holes=1500)
    add_json_option(parser)
    parser.set_defaults(run=run_train)


def add_eval_parser(kinds: argparse._SubParsersAction) -> None:
    parser = kinds.add_parser("reward", help="per-developer ranking on simulated developers", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--test-holes", type=int, default=400, help="held-out holes (half adapt, half test)")
    parser.add_argument("--levels", default="low,medium,high", help="disagreement levels, comma-separated")
    parser.add_argument("--ks", default="0,5,10,20,50", help="adaptation choices k, comma-separated")
    parser.add_argument("--developers", type=int, default=40, help="training developers per level")
    parser.add_argument("--test-developers", type=int, default=20, help="held-out developers per level")
    parser.add_argument("--comparisons", type=int, default=200, help="choices per training developer")
    parser.add_argument("--dim", type=int, default=16, help="d, the number of reward features")
    parser.add_argument("--plot", type=Path, default=None, help="write accuracy against k as a PNG")
    _item_options(parser, holes=1500)
    add_json_option(parser)
    parser.set_defaults(run=run_eval)


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"{option}: give whole numbers separated by commas, not {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise UsageError(f"{option}: give at least one number, none negative")
    return values


def _check_counts(args: argparse.Namespace, names: tuple[str, ...]) -> None:
    for name in (*names, "workers", "threads"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.candidates < 2:
        raise UsageError("--candidates must be at least 2 (developers choose between candidates)")
    if args.temperature <= 0:
        raise UsageError("--temperature must be positive (greedy decoding gives one candidate)")


def _backend(args: argparse.Namespace):
    import torch

    from bowerbird.learners.lm.loading import BackendUnavailable, load_backend

    torch.set_num_threads(max(1, args.threads))
    try:
        backend = load_backend("transformers", args.model) if args.model else load_backend("embedded")
    except BackendUnavailable as error:
        raise UsageError(str(error)) from None
    if getattr(backend, "network", None) is None:
        raise UsageError("reward features need a local model's hidden states")
    return backend


def _corpus(held_out: bool) -> list[tuple[Path, str]]:
    from bowerbird.learners.lm.corpus import corpus_files, split

    train, held = split(corpus_files(include_site_packages=False))
    chosen = held if held_out else train
    return [(f.path, str(f.path.relative_to(f.root))) for f in chosen]


def _items(args: argparse.Namespace, backend, held_out: bool, count: int, seed: int) -> list:
    """The candidates of ``count`` holes of the training (or held-out) packages, cached."""
    import platformdirs

    from bowerbird.learners.ppc.encode import fingerprint
    from bowerbird.learners.reward.simulate import load_items, make_items, make_items_parallel, sample_holes, save_items
    from bowerbird.progress import ProgressLine

    folder = args.items_cache or Path(platformdirs.user_cache_dir("bowerbird")) / "reward-items"
    name = (f"{fingerprint(backend)}-{'held' if held_out else 'train'}-{count}-{seed}"
            f"-{args.candidates}-{args.temperature:g}.json")  # fmt: skip
    path = folder / name
    if path.is_file() and not args.fresh:
        try:
            items = load_items(path)
            print(f"{len(items)} cached {'held-out' if held_out else 'training'} holes from {path}", file=sys.stderr)
            return items
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as error:
            logger.warning("%s: cannot read the cached candidates (%s); making them again", path, error)
    holes = sample_holes(_corpus(held_out), count, seed)
    progress = ProgressLine(f"candidates for {'held-out' if held_out else 'training'} holes")
    started = time.monotonic()
    if args.workers > 1:
        spec = ("transformers", args.model) if args.model else ("embedded", None)
        items = make_items_parallel(spec, holes, args.workers, args.candidates, args.temperature, seed=seed,
                                    progress=progress)  # fmt: skip
    else:
        items = make_items(backend, holes, args.candidates, args.temperature, seed=seed, progress=progress)
    progress.close()
    print(f"{len(items)} of {len(holes)} holes have two or more distinct candidates "
          f"({time.monotonic() - started:.0f} s); kept in {path}", file=sys.stderr)  # fmt: skip
    save_items(items, path)
    return items


def run_eval(args: argparse.Namespace) -> int:
    _check_counts(args, ("holes", "test_holes", "developers", "test_developers", "comparisons", "dim"))
    levels = tuple(v.strip() for v in args.levels.split(",") if v.strip())
    unknown = [v for v in levels if v not in LEVEL_CHOICES]
    if not levels or unknown:
        raise UsageError(f"--levels: choose from {', '.join(LEVEL_CHOICES)}")
    ks = _int_list(args.ks, "--ks")
    backend = _backend(args)
    from bowerbird.learners.reward.evaluate import RewardEvalConfig, evaluate_reward
    from bowerbird.learners.reward.model import BTConfig

    started = time.monotonic()
    train = _items(args, backend, False, args.holes, args.seed)
    test = _items(args, backend, True, args.test_holes, args.seed + 1)
    config = RewardEvalConfig(levels=levels, ks=ks, train_developers=args.developers,
                              test_developers=args.test_developers, train_comparisons=args.comparisons,
                              seed=args.seed, bt=BTConfig(dim=args.dim, seed=args.seed))  # fmt: skip
    try:
        result = evaluate_reward(train, test, config, progress=lambda m: print(m, file=sys.stderr))
    except ValueError as error:
        raise UsageError(str(error)) from None
    result.update(train_holes=len(train), test_holes=len(test), seconds=time.monotonic() - started,
                  model=str(backend.model))  # fmt: skip
    if args.plot is not None:
        from bowerbird.learners.reward.plot import plot_accuracy

        plot_accuracy(result, args.plot)
    if args.json:
        print_json(result)
    else:
        _print_table(result)
    return 0


def _print_table(result: dict) -> None:
    ks = sorted({r["k"] for r in result["results"]})
    print(f"pairwise accuracy (%) of held-out developers after k choices ({result['test_holes']} held-out holes)")
    print(f"{'disagreement':<13}{'method':<8}" + "".join(f"{'k=' + str(k):>8}" for k in ks))
    rows: dict = {}
    for r in result["results"]:
        rows.setdefault((r["disagreement"], r["method"]), {})[r["k"]] = r["accuracy"]
    for (level, method), by_k in rows.items():
        print(f"{level:<13}{method:<8}" + "".join(f"{100 * by_k[k]:>8.1f}" for k in ks))
    print("\nshown completions: acceptance and accepted-and-retained characters")
    for r in result["retained"]:
        print(f"{r['disagreement']:<13}{r['method']:<12}{100 * r['acceptance']:>6.1f}%{r['retained_chars']:>8.2f}")


def run_train(args: argparse.Namespace) -> int:
    _check_counts(args, ("holes", "developers", "comparisons", "dim"))
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: not a directory")
    if args.exclude_developer and not args.store:
        raise UsageError("--exclude-developer applies to --store training")
    if any(not d.strip() for d in args.exclude_developer):
        raise UsageError("--exclude-developer: give a developer id")
    backend = _backend(args)
    from bowerbird.learners.reward.checkpoint import save_reward
    from bowerbird.learners.reward.model_card import write_card

    started = time.monotonic()
    if args.store:
        from bowerbird.learners.reward.store_training import train_from_events

        events = _store_events(args)
        try:
            model, report, developer_weights = train_from_events(backend, events, dim=args.dim, seed=args.seed)
        except ValueError as error:
            raise UsageError(str(error)) from None
    else:
        from bowerbird.learners.reward.train import train_simulated

        items = _items(args, backend, False, args.holes, args.seed)
        model, report = train_simulated(backend, items, args.disagreement, developers=args.developers,
                                        comparisons=args.comparisons, dim=args.dim, seed=args.seed)  # fmt: skip
    report["seconds"] = time.monotonic() - started
    report["command"] = "bowerbird " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else "bowerbird train reward"
    model.training.update(report)
    save_reward(model, args.out)
    write_card(args.out, model)
    if args.store:  # the developers' fitted weights belong to this theta: the server starts from them
        from bowerbird.learners.reward.score import model_id

        with _open_store(args) as store:
            for developer, (vector, count) in developer_weights.items():
                store.save_weights(developer, model_id(args.out), vector, count)
    summary = {"out": str(args.out), **report}
    if args.json:
        print_json(summary)
    else:
        print(f"{args.out}: reward features trained ({report['source']}, {report['seconds']:.0f} s)")
    return 0


@contextlib.contextmanager
def _open_store(args: argparse.Namespace):
    """The feedback store of --data-dir (default: the server's); never created here."""
    from bowerbird.paths import default_data_dir
    from bowerbird.server.feedback import STORE_NAME, FeedbackStore

    path = (args.data_dir or default_data_dir()) / STORE_NAME
    if not path.is_file():
        raise UsageError(f"no feedback store at {path}")
    import sqlite3

    try:
        store = FeedbackStore(path)
    except sqlite3.DatabaseError as error:
        raise UsageError(f"{path}: not a readable feedback store ({error})") from None
    try:
        yield store
    finally:
        store.close()


def _store_events(args: argparse.Namespace) -> list:
    with _open_store(args) as store:
        return store.choice_events(exclude=[d.strip() for d in args.exclude_developer])
