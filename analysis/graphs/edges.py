"""The edge-building steps of one unit, each a small pure function over its syntax items.

Each step returns `GraphEdge` values; `build.py` puts them in the networkx graph. The edge
kinds are defined in `schema.EdgeType`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import libcst as cst

from .calls import Scope, bind_arguments, resolve_call
from .cfg import ControlFlow
from .dataflow import AccessEvent, last_accesses, order_accesses
from .schema import Access, EdgeType, GraphEdge, GraphNode, NodeType
from .syntax import SyntaxItem, token_text

logger = logging.getLogger(__name__)

_ASSIGNMENTS = (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.NamedExpr)


def ast_edges(items: list[SyntaxItem]) -> list[GraphEdge]:
    """AST_CHILD (parent -> child) and AST_PARENT (child -> parent), labelled by field."""
    out = []
    for i, item in enumerate(items):
        if item.parent >= 0:
            out.append(GraphEdge(item.parent, i, EdgeType.AST_CHILD, item.field, item.index))
            out.append(GraphEdge(i, item.parent, EdgeType.AST_PARENT, item.field, item.index))
    return out


def next_syntax_edges(token_ids: list[int]) -> list[GraphEdge]:
    """NEXT_SYNTAX between consecutive tokens (``token_ids`` in source order)."""
    return [GraphEdge(a, b, EdgeType.NEXT_SYNTAX) for a, b in zip(token_ids, token_ids[1:])]


def last_lexical_use_edges(items: list[SyntaxItem]) -> list[GraphEdge]:
    """LAST_LEXICAL_USE from each Name to the previous Name with the same text."""
    last: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        if isinstance(item.node, cst.Name):
            text = item.node.value
            previous = last.get(text)
            if previous is not None:
                out.append(GraphEdge(i, previous, EdgeType.LAST_LEXICAL_USE))
            last[text] = i
    return out


def control_flow_edges(flow: ControlFlow, is_function: bool) -> list[GraphEdge]:
    """CFG_NEXT edges, and RETURNS_TO from each Return to the root of a function unit."""
    out = [GraphEdge(u, v, EdgeType.CFG_NEXT) for u, v in sorted(flow.edges)]
    if is_function:
        out.extend(GraphEdge(r, 0, EdgeType.RETURNS_TO) for r in flow.returns)
    return out


def owners(items: list[SyntaxItem], cfg_nodes: tuple[int, ...]) -> list[int]:
    """For each item, the nearest control-flow node at or above it (-1 if none)."""
    is_cfg = set(cfg_nodes)
    owner = [-1] * len(items)
    for i, item in enumerate(items):
        if i in is_cfg:
            owner[i] = i
        elif item.parent >= 0:
            owner[i] = owner[item.parent]
    return owner


def data_flow_edges(
    items: list[SyntaxItem], accesses: list[Access], flow: ControlFlow
) -> list[GraphEdge]:
    """LAST_READ and LAST_WRITE edges (see `dataflow`)."""
    owner = owners(items, flow.nodes)
    owned: dict[int, list[tuple[int, str, Access]]] = {}
    for i, access in enumerate(accesses):
        if access is not Access.NONE and owner[i] >= 0:
            owned.setdefault(owner[i], []).append((i, items[i].node.value, access))  # type: ignore[attr-defined]
    events: dict[int, list[AccessEvent]] = {n: order_accesses(a) for n, a in owned.items()}
    reads, writes = last_accesses(flow.nodes, flow.edges, events)
    out = [GraphEdge(u, v, EdgeType.LAST_READ) for u, v in sorted(reads)]
    out.extend(GraphEdge(u, v, EdgeType.LAST_WRITE) for u, v in sorted(writes))
    return out


def computed_from_edges(
    items: list[SyntaxItem], accesses: list[Access], ends: list[int]
) -> list[GraphEdge]:
    """COMPUTED_FROM from each name an assignment writes to each variable read in its value."""
    out = []
    for i, item in enumerate(items):
        if not isinstance(item.node, _ASSIGNMENTS):
            continue
        targets: list[int] = []
        reads: list[int] = []
        j = i + 1
        while j < ends[i]:
            child = items[j]
            if child.field in ("targets", "target"):
                targets.extend(
                    k for k in range(j, ends[j]) if accesses[k] in (Access.WRITE, Access.READ_WRITE)
                )
            elif child.field == "value":
                reads.extend(
                    k for k in range(j, ends[j]) if accesses[k] in (Access.READ, Access.READ_WRITE)
                )
            j = ends[j]
        out.extend(GraphEdge(t, r, EdgeType.COMPUTED_FROM) for t in targets for r in reads)
    return out


def call_edges(
    items: list[SyntaxItem],
    scope: Scope,
    new_node: Callable[[NodeType, str, cst.CSTNode], int],
) -> list[GraphEdge]:
    """CALLS and FORMAL_ARG_NAME; ``new_node`` adds a CALLEE / CALLEE_PARAM stand-in.

    ``new_node(node_type, text, position_node)`` returns the new node's id.
    """
    index = {id(item.node): i for i, item in enumerate(items)}
    stand_ins: dict[int, int] = {}  # id(cst node) -> stand-in id

    def target(node: cst.CSTNode, node_type: NodeType, text: str, position: cst.CSTNode) -> int:
        key = id(node)
        if key in index:
            return index[key]
        if key not in stand_ins:
            stand_ins[key] = new_node(node_type, text, position)
        return stand_ins[key]

    out = []
    for i, item in enumerate(items):
        if not isinstance(item.node, cst.Call):
            continue
        resolved = resolve_call(item.node, scope)
        if resolved is None:
            continue
        definition = resolved.definition
        d = target(definition, NodeType.CALLEE, definition.name.value, definition.name)
        out.append(GraphEdge(i, d, EdgeType.CALLS))
        for arg, param in bind_arguments(item.node, resolved):
            p = target(param.name, NodeType.CALLEE_PARAM, param.name.value, param.name)
            out.append(GraphEdge(index[id(arg.value)], p, EdgeType.FORMAL_ARG_NAME))
    return out


def node_of(i: int, item: SyntaxItem, line: int, col: int, access: Access) -> GraphNode:
    """The `GraphNode` of one syntax item."""
    text = token_text(item.node)
    return GraphNode(
        id=i,
        node_type=NodeType.SYNTAX if text is None else NodeType.TOKEN,
        ast_type=type(item.node).__name__,
        text=text or "",
        line=line,
        col=col,
        access=access,
    )
