"""`bowerbird doctor [PATH]`: what a confused user needs on one screen.

Python and package versions; the index of the repository at PATH (default: the current
folder) and its state; the configured backend and model (found? loads? which device?); a test
completion with its latency; and, for each problem found, what to do about it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys
import time
from pathlib import Path

from bowerbird.commands.common import add_json_option, index_dir, print_json

PACKAGES = ("bowerbird", "tree-sitter", "pygls", "lsprotocol", "torch", "transformers", "tokenizers", "httpx")
PROBE = "def add(a, b):\n    return "


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bowerbird.server.options import BACKENDS, CompletionOptions

    parser = sub.add_parser("doctor", help="check the installation, index and model", description=__doc__)
    parser.add_argument("path", type=Path, nargs="?", default=Path("."), help="a repository (default: here)")
    parser.add_argument("--backend", choices=BACKENDS, default=CompletionOptions().backend)
    parser.add_argument("--model")
    parser.add_argument("--url")
    parser.add_argument("--index-dir", type=Path, default=None)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bowerbird.analysis.store import IndexStore, index_path_for
    from bowerbird.paths import find_root

    problems: list[str] = []
    report: dict = {"python": sys.version.split()[0], "platform": platform.platform(), "packages": {}}
    for name in PACKAGES:
        try:
            report["packages"][name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            report["packages"][name] = None
            problems.append(f"package {name} is not installed: run `bash scripts/setup.sh` (or pip install bowerbird)")

    path = args.path.resolve()
    root = find_root(path / "_" if path.is_dir() else path, index_dir(args)) if path.exists() else None
    index: dict = {"root": str(root) if root else None, "index_dir": str(index_dir(args))}
    if root is None:
        problems.append(f"{args.path} does not exist")
    else:
        index_file = index_path_for(root, index_dir(args))
        index["index_path"] = str(index_file)
        index["exists"] = index_file.exists()
        if index_file.exists():
            store = IndexStore(index_file, root)
            index.update(store.counts())
            store.close()
        else:
            problems.append(f"{root} is not indexed yet: run `bowerbird index {root}` (the server also does it)")
    report["index"] = index

    model: dict = {"backend": args.backend, "model": args.model, "url": args.url}
    report["model"] = model
    from bowerbird.learners.lm.device import dtype_name
    from bowerbird.learners.lm.loading import BackendUnavailable, load_backend

    started = time.perf_counter()
    try:
        backend = load_backend(args.backend, args.model, args.url)
    except BackendUnavailable as error:
        model["loads"] = False
        problems.append(f"no completion model: {error}")
    else:
        from bowerbird.learners.lm.backend import GenerationRequest

        model.update(loads=True, load_ms=round((time.perf_counter() - started) * 1000), name=backend.model,
                     device=getattr(backend, "device", None),
                     dtype=dtype_name(getattr(backend, "dtype", None)), context_tokens=backend.context_tokens,
                     fim=backend.fim.family if backend.fim else None)
        started = time.perf_counter()
        try:
            candidates = backend.generate(GenerationRequest(PROBE, max_new_tokens=16))
            model["test_completion"] = {"prompt": PROBE, "text": candidates[0].text if candidates else "",
                                        "ms": round((time.perf_counter() - started) * 1000)}
        except Exception as error:  # report, do not crash: this is the diagnosis tool
            problems.append(f"the model loaded but a test completion failed: {error}")
        from bowerbird.learners.ppc.choose import load_chooser

        chooser, note = load_chooser(None, backend)  # not a problem: completions then use the fixed proposal
        report["proposal_classifier"] = {"loaded": chooser is not None,
                                         "folder": str(chooser.folder) if chooser else None, "note": note}
        from bowerbird.learners.reward.score import RewardUnavailable, load_scorer

        try:  # not a problem either: candidates then keep the model's order
            scorer, note = load_scorer(None, backend), None
        except RewardUnavailable as error:
            scorer, note = None, str(error)
        report["reward_ranking"] = {"loaded": scorer is not None,
                                    "folder": str(scorer.folder) if scorer else None, "note": note}
    report["problems"] = problems
    if args.json:
        print_json(report)
    else:
        _print(report)
    return 1 if problems else 0


def _print(report: dict) -> None:
    print(f"python {report['python']} on {report['platform']}")
    print("packages: " + ", ".join(f"{k} {v or 'MISSING'}" for k, v in report["packages"].items()))
    index = report["index"]
    state = f"{index.get('files', 0)} files, {index.get('symbols', 0)} symbols" if index.get("exists") else "not indexed"
    print(f"repository: {index['root']}  index: {index.get('index_path')} ({state})")
    model = report["model"]
    if model.get("loads"):
        print(f"model: {model['name']} via {model['backend']} on {model['device']} "
              f"({model['dtype'] or 'remote'}, context {model['context_tokens']}, FIM {model['fim'] or 'none'}, loaded in {model['load_ms']} ms)")
        probe = model.get("test_completion")
        if probe:
            print(f"test completion: {probe['prompt']!r} -> {probe['text']!r} in {probe['ms']} ms")
    else:
        print(f"model: none ({model['backend']})")
    classifier = report.get("proposal_classifier")
    if classifier:
        print(f"proposal classifier: {classifier['folder']}" if classifier["loaded"]
              else f"proposal classifier: none, completions use the fixed proposal ({classifier['note']})")
    ranking = report.get("reward_ranking")
    if ranking:
        print(f"reward ranking: {ranking['folder']}" if ranking["loaded"]
              else f"reward ranking: none, candidates keep the model's order ({ranking['note']})")
    print("problems:" if report["problems"] else "no problems found")
    for problem in report["problems"]:
        print(f"  - {problem}")
