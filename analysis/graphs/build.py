"""Build program graphs: parse once per module, then one `FunctionGraph` per unit.

The module is parsed by libcst and its node positions are computed once (`positions`: the
results of libcst's `PositionProvider`, computed more cheaply); every unit reuses them. The
steps for a unit are: walk its syntax (`syntax.walk_unit`), classify variable accesses
(`access`), build the control flow (`cfg`), write the node attributes (`nodes`), then stream
each kind of edge (`edges`) into the graph (`bulk_graph`).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from .access import classify_accesses
from .bulk_graph import multidigraph
from .calls import Definition, Scope, index_definitions
from .cfg import build_control_flow
from .edges import (
    ast_edges,
    call_edges,
    computed_from_edges,
    control_flow_edges,
    data_flow_edges,
    last_lexical_use_edges,
    next_syntax_edges,
)
from .positions import NodePositions, node_positions
from .nodes import node_attributes, stand_in_attributes
from .schema import Access, FunctionGraph, GraphError, NodeType
from .syntax import node_index, subtree_ends, walk_unit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedModule:
    """A parsed file with what every unit needs from the whole module."""

    path: str  # the file's path as given ("" for a string)
    module: cst.Module  # the libcst tree
    positions: NodePositions  # start / end of every node (as libcst's PositionProvider)
    scope: Scope  # the module's scope tree (for call resolution)
    definitions: tuple[Definition, ...]  # every def of the file, in source order


def parse_source(source: str | bytes, path: str = "") -> ParsedModule:
    """Parse a module and resolve its metadata; raises `GraphError` when libcst cannot."""
    try:
        module = cst.parse_module(source)
        positions = node_positions(module)
    except cst.ParserSyntaxError as error:
        raise GraphError(path, f"syntax error: {error.message} (line {error.raw_line})") from error
    except (RecursionError, UnicodeDecodeError, ValueError) as error:
        raise GraphError(path, f"{type(error).__name__}: {error}") from error
    scope, definitions = index_definitions(module)
    return ParsedModule(path, module, positions, scope, tuple(definitions))


def build_graphs(source: str | bytes, path: str = "") -> list[FunctionGraph]:
    """The module's top-level graph followed by one graph per function, in source order."""
    parsed = parse_source(source, path)
    graphs = [build_unit(parsed, parsed.module, parsed.scope, "<module>", "<module>")]
    for d in parsed.definitions:
        graphs.append(build_unit(parsed, d.node, d.own, d.node.name.value, d.qualname))
    return graphs


def build_file_graphs(path: str | Path) -> list[FunctionGraph]:
    """`build_graphs` for a file on disk (bytes, so libcst honours its encoding)."""
    return build_graphs(Path(path).read_bytes(), str(path))


def graph_for_function(source: str | bytes, name: str, path: str = "") -> FunctionGraph:
    """The graph of the function whose qualname (or else name) is ``name``; the last such.

    Raises `GraphError` when the source does not parse, `KeyError` when there is no such
    function.
    """
    parsed = parse_source(source, path)
    matches = [d for d in parsed.definitions if d.qualname == name]
    if not matches:
        matches = [d for d in parsed.definitions if d.node.name.value == name]
    if not matches:
        raise KeyError(f"no function named {name!r} in {path or '<string>'}")
    d = matches[-1]
    return build_unit(parsed, d.node, d.own, d.node.name.value, d.qualname)


def build_unit(
    parsed: ParsedModule, root: cst.CSTNode, scope: Scope, name: str, qualname: str
) -> FunctionGraph:
    """The program graph of one unit (a FunctionDef, or the Module for top-level code)."""
    is_function = type(root) is cst.FunctionDef
    items = walk_unit(root)
    accesses = classify_accesses(items)
    index, ends = node_index(items), subtree_ends(items)
    flow = build_control_flow(items, index, ends)
    positions = parsed.positions

    nodes, token_ids = node_attributes(items, accesses, positions)

    def new_stand_in(node_type: NodeType, text: str, position_node: cst.CSTNode) -> int:
        nodes.append(stand_in_attributes(len(nodes), node_type, text, position_node, positions))
        return len(nodes) - 1

    calls = call_edges(items, scope, new_stand_in, index)  # first: it adds the stand-in nodes
    edges = itertools.chain(
        next_syntax_edges(token_ids),
        last_lexical_use_edges(items),
        control_flow_edges(flow, is_function),
        data_flow_edges(items, accesses, flow),
        computed_from_edges(items, accesses, ends),
        calls,
    )
    graph = multidigraph(enumerate(nodes), edges, first_edges=ast_edges(items))  # a tree
    line = positions.start(root.name)[0] if is_function else 1  # type: ignore[attr-defined]
    return FunctionGraph(
        name=name,
        qualname=qualname,
        path=parsed.path,
        kind="function" if is_function else "module",
        line=line,
        root=0,
        graph=graph,
        cfg_nodes=flow.nodes,
    )


def unit_accesses(fg: FunctionGraph) -> dict[int, Access]:
    """The variable accesses of a graph: node id -> `Access`, for accessing Names only."""
    return {
        n: data["access"]
        for n, data in fg.graph.nodes(data=True)
        if data["access"] is not Access.NONE
    }
