"""Function graphs for the graph learners (`train gfsa`, `eval gfsa`): which files (a repository,
given files, or the training packages of the corpus split) and the graphs of their functions,
in a seeded order, with counts of what was left out."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bowerbird.commands.common import UsageError, existing_dir

logger = logging.getLogger(__name__)


def repo_files(root: Path) -> list[Path]:
    """The Python files of a repository (the indexer's walk: .gitignore and skips apply)."""
    from bowerbird.analysis.walk import walk

    return [Path(f.abspath) for f in walk(root).files if f.abspath.endswith(".py")]


def corpus_training_files() -> list[Path]:
    """Files of the training packages of the corpus split (standard library only)."""
    from bowerbird.learners.lm.corpus import corpus_files, split

    train, _ = split(corpus_files(include_site_packages=False))
    return [f.path for f in train]


def training_files(repo: Path | None, files: Sequence[Path] | None) -> tuple[list[Path], str]:
    """(files, description) of the training data chosen by --repo / --files / the corpus."""
    if repo is not None:
        root = existing_dir(repo)
        return repo_files(root), f"repo:{root}"
    if files is not None:
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise UsageError(f"--files: no such file {', '.join(missing)}")
        return [f.resolve() for f in files], "files:" + ",".join(sorted(str(f.resolve()) for f in files))
    return corpus_training_files(), "corpus:train"


def collect_graphs(
    files: Sequence[Path], limit: int, max_nodes: int, seed: int, per_file: int | None = None,
    label: str = "reading functions",
) -> tuple[list, Counter]:  # fmt: skip
    """Up to ``limit`` function graphs of at most ``max_nodes`` AST nodes from ``files`` taken in a
    seeded random order, and counts of what was left out (files: "unparsable", "unreadable",
    "build_error"; functions: "too_large", "per_file_cap")."""
    from bowerbird.analysis.graphs import GraphError, NodeType, build_file_graphs
    from bowerbird.progress import ProgressLine

    order = list(files)
    random.Random(seed).shuffle(order)
    graphs: list = []
    counts: Counter = Counter()
    progress = ProgressLine(label)
    try:
        for path in order:
            if len(graphs) >= limit:
                break
            try:
                units = build_file_graphs(path)
            except GraphError:
                counts["unparsable_files"] += 1
                continue
            except OSError:
                counts["unreadable_files"] += 1
                continue
            except Exception as error:  # a builder bug must not stop a corpus run
                counts["build_error_files"] += 1
                logger.warning("%s: graph builder failed: %s: %s", path, type(error).__name__, error)
                continue
            counts["files"] += 1
            taken = 0
            for fg in units:
                if fg.kind != "function":
                    continue
                ast_nodes = sum(1 for _, d in fg.graph.nodes(data=True)
                                if d["node_type"] in (NodeType.SYNTAX, NodeType.TOKEN))  # fmt: skip
                if ast_nodes > max_nodes:
                    counts["too_large_functions"] += 1
                    continue
                if per_file is not None and taken >= per_file:
                    counts["per_file_cap_functions"] += 1
                    continue
                if len(graphs) >= limit:
                    break
                graphs.append(fg)
                taken += 1
            progress(len(graphs), limit)
    finally:
        progress.close()
    return graphs, counts
