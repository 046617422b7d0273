"""The edge-building steps of one unit, each a small pure function over its syntax items.

Each step yields its edges as the graph stores them, ``(src, dst, kind, attributes)``, and
`build.py` streams them into the networkx graph: no intermediate edge objects are kept (they
would only add allocation and garbage-collection work). The attributes (``{"kind": kind}``,
plus ``field`` and ``index`` for the AST kinds) are read-only `schema.EdgeAttributes`, one
per distinct value: a constant per kind, and one per (field, index) within a graph for the
AST kinds. The edge kinds are defined in `schema.EdgeType`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import libcst as cst

from .calls import Scope, bind_arguments, resolve_call
from .cfg import ControlFlow
from .dataflow import AccessEvent, last_accesses, order_accesses
from .schema import Access, EdgeAttributes, EdgeType, NodeType
from .syntax import SyntaxItem, node_index

logger = logging.getLogger(__name__)

_ASSIGNMENTS = frozenset({cst.Assign, cst.AugAssign, cst.AnnAssign, cst.NamedExpr})  # classes

EdgeRecord = tuple[int, int, EdgeType, dict[str, object]]  # (src, dst, kind, attributes)

_KIND_ONLY = {kind: EdgeAttributes(kind=kind) for kind in EdgeType}  # read-only constants
_WRITTEN = (Access.WRITE, Access.READ_WRITE)
_READ = (Access.READ, Access.READ_WRITE)


def ast_edges(items: list[SyntaxItem]) -> Iterator[EdgeRecord]:
    """AST_CHILD (parent -> child) and AST_PARENT (child -> parent), labelled by field."""
    child, parent = EdgeType.AST_CHILD, EdgeType.AST_PARENT
    shared: dict[tuple[str | None, int | None], tuple[EdgeAttributes, EdgeAttributes]] = {}
    for i, item in enumerate(items):
        p = item.parent
        if p >= 0:
            place = (item.field, item.index)
            attributes = shared.get(place)
            if attributes is None:
                f, x = place
                attributes = shared[place] = (
                    EdgeAttributes(kind=child, field=f, index=x),
                    EdgeAttributes(kind=parent, field=f, index=x),
                )
            yield p, i, child, attributes[0]
            yield i, p, parent, attributes[1]


def _plain(pairs, kind: EdgeType) -> Iterator[EdgeRecord]:
    """Edges of one kind without AST attributes."""
    attributes = _KIND_ONLY[kind]
    for u, v in pairs:
        yield u, v, kind, attributes


def next_syntax_edges(token_ids: list[int]) -> Iterator[EdgeRecord]:
    """NEXT_SYNTAX between consecutive tokens (``token_ids`` in source order)."""
    return _plain(zip(token_ids, token_ids[1:]), EdgeType.NEXT_SYNTAX)


def last_lexical_use_edges(items: list[SyntaxItem]) -> Iterator[EdgeRecord]:
    """LAST_LEXICAL_USE from each Name to the previous Name with the same text."""
    last: dict[str, int] = {}
    kind, name = EdgeType.LAST_LEXICAL_USE, cst.Name
    attributes = _KIND_ONLY[kind]
    for i, item in enumerate(items):
        if type(item.node) is name:
            text = item.node.value  # type: ignore[attr-defined]
            previous = last.get(text)
            if previous is not None:
                yield i, previous, kind, attributes
            last[text] = i


def control_flow_edges(flow: ControlFlow, is_function: bool) -> Iterator[EdgeRecord]:
    """CFG_NEXT edges, and RETURNS_TO from each Return to the root of a function unit."""
    yield from _plain(sorted(flow.edges), EdgeType.CFG_NEXT)
    if is_function:
        yield from _plain(((r, 0) for r in flow.returns), EdgeType.RETURNS_TO)


def owners(items: list[SyntaxItem], cfg_nodes: tuple[int, ...], wanted: list[int]) -> list[int]:
    """For each wanted item, the nearest control-flow node at or above it (-1 if none)."""
    is_cfg = set(cfg_nodes)
    out = []
    for i in wanted:
        while i >= 0 and i not in is_cfg:
            i = items[i].parent
        out.append(i)
    return out


def data_flow_edges(
    items: list[SyntaxItem], accesses: list[Access], flow: ControlFlow
) -> Iterator[EdgeRecord]:
    """LAST_READ and LAST_WRITE edges (see `dataflow`)."""
    none = Access.NONE
    names = [i for i, access in enumerate(accesses) if access is not none]
    owned: dict[int, list[tuple[int, str, Access]]] = {}
    for i, owner in zip(names, owners(items, flow.nodes, names)):
        if owner >= 0:
            name = items[i].node.value  # type: ignore[attr-defined]
            owned.setdefault(owner, []).append((i, name, accesses[i]))
    events: dict[int, list[AccessEvent]] = {n: order_accesses(a) for n, a in owned.items()}
    reads, writes = last_accesses(flow.nodes, flow.edges, events)
    yield from _plain(sorted(reads), EdgeType.LAST_READ)
    yield from _plain(sorted(writes), EdgeType.LAST_WRITE)


def computed_from_edges(
    items: list[SyntaxItem], accesses: list[Access], ends: list[int]
) -> Iterator[EdgeRecord]:
    """COMPUTED_FROM from each name an assignment writes to each variable read in its value."""
    kind = EdgeType.COMPUTED_FROM
    attributes = _KIND_ONLY[kind]
    for i, item in enumerate(items):
        if type(item.node) not in _ASSIGNMENTS:
            continue
        targets: list[int] = []
        reads: list[int] = []
        j = i + 1
        while j < ends[i]:
            child = items[j]
            if child.field in ("targets", "target"):
                targets.extend(k for k in range(j, ends[j]) if accesses[k] in _WRITTEN)
            elif child.field == "value":
                reads.extend(k for k in range(j, ends[j]) if accesses[k] in _READ)
            j = ends[j]
        for t in targets:
            for r in reads:
                yield t, r, kind, attributes


def call_edges(
    items: list[SyntaxItem],
    scope: Scope,
    new_node: Callable[[NodeType, str, cst.CSTNode], int],
    index: dict[int, int] | None = None,
) -> list[EdgeRecord]:
    """CALLS and FORMAL_ARG_NAME; ``new_node`` adds a CALLEE / CALLEE_PARAM stand-in.

    ``new_node(node_type, text, position_node)`` returns the new node's id; ``index`` is
    `syntax.node_index` of the items when the caller has it. A list, not an iterator: the
    stand-ins must exist before the graph's nodes are written.
    """
    if index is None:
        index = node_index(items)
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
        if type(item.node) is not cst.Call:
            continue
        resolved = resolve_call(item.node, scope)
        if resolved is None:
            continue
        definition = resolved.definition
        d = target(definition, NodeType.CALLEE, definition.name.value, definition.name)
        out.append((i, d, EdgeType.CALLS, _KIND_ONLY[EdgeType.CALLS]))
        for arg, param in bind_arguments(item.node, resolved):
            p = target(param.name, NodeType.CALLEE_PARAM, param.name.value, param.name)
            out.append((index[id(arg.value)], p, EdgeType.FORMAL_ARG_NAME,
                        _KIND_ONLY[EdgeType.FORMAL_ARG_NAME]))
    return out
