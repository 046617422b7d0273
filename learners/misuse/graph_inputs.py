"""A `MisuseExample` as the inputs and labels of the misuse model (`model.py`).

The function's program graph (`analysis/graphs`) gives the nodes and edges. The model's pointers
range over *variable accesses* (``Name`` nodes that read or write a variable):

- localisation: over the reads (``Access.READ`` / ``READ_WRITE``, ``uses``), plus a "no bug"
  slot; the label is the read at the bug's position, or the slot for a clean function;
- repair: over every access (``accesses``); the labels are the accesses at the example's
  ``repair_targets`` (the occurrences of the variable that belongs at the bug).

Edge sets (`EDGE_SETS`): ``ast`` (AST_CHILD / AST_PARENT only), ``hand`` (AST plus the graph
builder's data- and control-flow edges, as GREAT uses them), ``gfsa`` (AST plus the edges a
GFSA layer computes from the AST, inside the model: `gfsa_encoding` holds its input).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from bowerbird.analysis.graphs import Access, EdgeType, FunctionGraph, build_graphs
from bowerbird.analysis.graphs.tensors import node_features

from .data import MisuseExample

logger = logging.getLogger(__name__)

AST_EDGES = (EdgeType.AST_CHILD, EdgeType.AST_PARENT)
HAND_EDGES = (
    EdgeType.NEXT_SYNTAX, EdgeType.CFG_NEXT, EdgeType.LAST_READ, EdgeType.LAST_WRITE,
    EdgeType.COMPUTED_FROM, EdgeType.RETURNS_TO, EdgeType.FORMAL_ARG_NAME,
    EdgeType.LAST_LEXICAL_USE, EdgeType.CALLS,
)  # fmt: skip
EDGE_SETS = ("ast", "hand", "gfsa")
MAX_SUBTOKENS = 4  # subtokens per node kept for its input embedding
_READS = (Access.READ, Access.READ_WRITE)
ACCESS_IDS = {Access.NONE: 0, Access.READ: 1, Access.WRITE: 2, Access.READ_WRITE: 3}  # `MisuseGraph.access_kinds`


def edge_kinds(edge_set: str) -> tuple[EdgeType, ...]:
    """The builder's edge kinds that an edge set passes to the model (GFSA edges come apart)."""
    if edge_set not in EDGE_SETS:
        raise ValueError(f"unknown edge set {edge_set!r} (choose from {', '.join(EDGE_SETS)})")
    return AST_EDGES + HAND_EDGES if edge_set == "hand" else AST_EDGES


@dataclass(frozen=True)
class MisuseGraph:
    """One example as tensors (N nodes of the function's program graph)."""

    id: str  # the example's id
    node_types: torch.Tensor  # (N,) long: `node_type_vocabulary()` ids (0 unknown)
    subtokens: torch.Tensor  # (N, MAX_SUBTOKENS) long: subtoken ids (0 unknown / padding)
    edges: dict[str, torch.Tensor]  # EdgeType name -> (2, E) long (source, destination)
    uses: torch.Tensor  # (U,) long: node index of each read (localisation candidates)
    accesses: torch.Tensor  # (A,) long: node index of each access (repair candidates)
    bug: int  # index into ``uses`` of the bug's read; -1 for a clean function
    repairs: torch.Tensor  # (R,) long: indices into ``accesses`` of the repair targets
    gfsa_encoding: object | None = None  # a `GfsaEncoding` of the graph (edge set "gfsa")
    gfsa_nodes: torch.Tensor | None = None  # (N_ast,) long: node index of each encoding node
    access_kinds: torch.Tensor | None = None  # (N,) long: `ACCESS_IDS` of each node's access (0: none)

    @property
    def num_nodes(self) -> int:
        return int(self.node_types.shape[0])


class ExampleError(ValueError):
    """An example that cannot be turned into a graph (unparsable, or a label that matches
    no variable access)."""


def function_graph(example: MisuseExample) -> FunctionGraph:
    """The program graph of the example's function (its source holds that function alone)."""
    try:
        graphs = [g for g in build_graphs(example.source, example.path) if g.kind == "function"]
    except Exception as error:  # libcst errors, GraphError
        raise ExampleError(f"{example.id}: does not parse ({error})") from None
    if not graphs:
        raise ExampleError(f"{example.id}: no function in the source")
    return graphs[0]  # the outermost: definitions come in source order


def misuse_graph(
    example: MisuseExample, vocabulary: Mapping[str, int], edge_set: str = "hand",
    gfsa_view_name: str | None = None, fg: FunctionGraph | None = None,
) -> MisuseGraph:  # fmt: skip
    """The tensors of one example; ``gfsa_view_name`` (edge set "gfsa") is the GFSA view whose
    encoding to attach (the layer's ``config.view``); ``fg``: the example's graph when the caller
    has already built it (else it is built from the source)."""
    fg = function_graph(example) if fg is None else fg
    graph = fg.graph
    types, subs = node_features(fg, vocabulary, MAX_SUBTOKENS)
    node_types, subtokens = torch.from_numpy(types).long(), torch.from_numpy(subs).long()
    uses: list[int] = []
    accesses: list[int] = []
    position: dict[tuple[int, int], int] = {}  # (line, col) of an access -> node
    access_kinds = torch.zeros(graph.number_of_nodes(), dtype=torch.long)
    for i, data in graph.nodes(data=True):
        if data["ast_type"] == "Name" and data["access"] is not Access.NONE:
            access_kinds[i] = ACCESS_IDS[data["access"]]
            accesses.append(i)
            position[(data["line"], data["col"])] = i
            if data["access"] in _READS:
                uses.append(i)
    bug = -1
    if example.bug is not None:
        site = position.get((example.bug.line, example.bug.col))
        if site is None or site not in uses:
            raise ExampleError(f"{example.id}: the bug at {example.bug.line}:{example.bug.col} is not a read")
        bug = uses.index(site)
    access_index = {node: k for k, node in enumerate(accesses)}
    repairs = [access_index[position[p]] for p in example.repair_targets if p in position]
    if example.bug is not None and not repairs:
        raise ExampleError(f"{example.id}: no repair target is a variable access")
    kinds = edge_kinds(edge_set)
    pairs: dict[str, list[tuple[int, int]]] = {str(k): [] for k in kinds}
    for u, v, key in graph.edges(keys=True):
        if str(key) in pairs:
            pairs[str(key)].append((u, v))
    edges = {k: torch.tensor(rows, dtype=torch.long).reshape(-1, 2).T.contiguous() for k, rows in pairs.items()}
    encoding = gfsa_nodes = None
    if edge_set == "gfsa":
        from bowerbird.analysis.graphs.gfsa_view import gfsa_view
        from bowerbird.learners.gfsa.encoding import encode

        encoding = encode(gfsa_view(fg, gfsa_view_name or "ast"))
        gfsa_nodes = torch.tensor(encoding.nodes, dtype=torch.long)
    return MisuseGraph(
        example.id, node_types, subtokens, edges, torch.tensor(uses, dtype=torch.long),
        torch.tensor(accesses, dtype=torch.long), bug, torch.tensor(repairs, dtype=torch.long),
        encoding, gfsa_nodes, access_kinds,
    )  # fmt: skip


def subtoken_texts(examples: Sequence[MisuseExample]) -> list[str]:
    """The node texts of the examples' graphs (for `build_subtoken_vocabulary`)."""
    texts: list[str] = []
    for example in examples:
        try:
            fg = function_graph(example)
        except ExampleError:
            continue
        texts.extend(data["text"] for _, data in fg.graph.nodes(data=True) if data["text"])
    return texts
