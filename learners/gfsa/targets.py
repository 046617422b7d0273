"""Training examples: a graph's GFSA encoding and the builder's edges as target adjacency.

The layer sees only the AST (the GFSA view); the targets are edges the graph builder computed
by static analysis (CFG_NEXT, LAST_READ, LAST_WRITE, or any other `EdgeType` between AST
nodes). Edges touching non-AST stand-in nodes (CALLS / FORMAL_ARG_NAME targets) are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from bowerbird.analysis.graphs import EdgeType, FunctionGraph
from bowerbird.analysis.graphs.gfsa_view import DEFAULT_VIEW, gfsa_view

from .encoding import GfsaEncoding, encode, observation_ids

logger = logging.getLogger(__name__)

DEFAULT_MAX_NODES = 256  # the paper's cap on graph size


@dataclass(frozen=True)
class Example:
    """One function: its encoding and one (N, N) 0/1 target per requested edge kind."""

    name: str  # "path:qualname" of the function
    encoding: GfsaEncoding  # the AST's POMDP
    target: torch.Tensor  # (E, N, N) float, 1 where the builder has an edge of kind e
    kinds: tuple[EdgeType, ...]  # the edge kind of each target row


def target_adjacency(
    fg: FunctionGraph, enc: GfsaEncoding, kinds: Sequence[EdgeType]
) -> torch.Tensor:
    """(E, N, N) 0/1: ``[e, i, j] = 1`` when the builder has ``kinds[e]`` from node i to node j."""
    index = {n: i for i, n in enumerate(enc.nodes)}
    out = torch.zeros(len(kinds), enc.num_nodes, enc.num_nodes)
    for e, kind in enumerate(kinds):
        for edge in fg.edges(kind):
            if edge.src in index and edge.dst in index:
                out[e, index[edge.src], index[edge.dst]] = 1.0
    return out


def make_examples(
    graphs: Iterable[FunctionGraph], kinds: Sequence[EdgeType],
    max_nodes: int = DEFAULT_MAX_NODES, view: str = DEFAULT_VIEW,
) -> list[Example]:  # fmt: skip
    """Examples in GFSA view ``view`` for the graphs of at most ``max_nodes`` AST nodes (larger
    ones are skipped; virtual nodes of the view do not count)."""
    kinds = tuple(kinds)
    out: list[Example] = []
    skipped = 0
    for fg in graphs:
        pomdp = gfsa_view(fg, view)
        if len(pomdp.nodes) > max_nodes:
            skipped += 1
            continue
        enc = encode(pomdp)
        out.append(Example(f"{fg.path}:{fg.qualname}", enc, target_adjacency(fg, enc, kinds), kinds))
    if skipped:
        logger.info("skipped %d graphs with more than %d AST nodes", skipped, max_nodes)
    return out


def edge_sources(examples: Sequence[Example], view: str = DEFAULT_VIEW) -> list[list[str]]:
    """Per target kind, the observed node types (as `GfsaConfig.sources` names them) of the
    nodes that start at least one edge of that kind in ``examples``."""
    names = {i: obs[0] for obs, i in observation_ids(view).items()}
    kinds = examples[0].kinds if examples else ()
    found: list[set[str]] = [set() for _ in kinds]
    for example in examples:
        start_obs = example.encoding.start_obs
        for e in range(len(kinds)):
            has_edge = example.target[e].sum(1) > 0
            found[e].update(names[int(i)] for i in start_obs[has_edge].unique() if int(i) in names)
    return [sorted(types) for types in found]
