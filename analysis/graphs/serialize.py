"""The JSON shape of a program graph (DESIGN.md, `bowerbird graph --format json`).

``{"nodes": [{"id", "type", "text", "line", "col"}], "edges": [{"src", "dst", "kind"}]}``:
``type`` is the node's libcst class (or ``CALLEE`` / ``CALLEE_PARAM`` for stand-ins), ``line``
1-based and ``col`` 0-based, ``kind`` an `EdgeType` name. AST edges also carry ``field`` and
``index``.
"""

from __future__ import annotations

from typing import Any

from .schema import FunctionGraph, NodeType


def graph_to_json(fg: FunctionGraph) -> dict[str, Any]:
    """A JSON-ready dict of one graph: nodes in id order, edges sorted by kind then ends."""
    nodes = []
    for n in fg.nodes():
        node_type = n.ast_type if n.node_type in (NodeType.SYNTAX, NodeType.TOKEN) else n.node_type.value
        nodes.append({"id": n.id, "type": node_type, "text": n.text, "line": n.line, "col": n.col})
    edges: list[dict[str, Any]] = []
    for e in fg.edges():
        edge: dict[str, Any] = {"src": e.src, "dst": e.dst, "kind": e.kind.value}
        if e.field is not None:
            edge["field"] = e.field
            edge["index"] = e.index
        edges.append(edge)
    return {"nodes": nodes, "edges": edges}
