"""The attributes of a unit's graph nodes: exactly the fields of `schema.GraphNode`, in order.

A dictionary per node, written straight into the graph (no `GraphNode` objects in between).
"""

from __future__ import annotations

import logging

import libcst as cst

from .positions import NodePositions
from .schema import Access, NodeType
from .syntax import SyntaxItem, token_kind

logger = logging.getLogger(__name__)


def node_attributes(
    items: list[SyntaxItem], accesses: list[Access], positions: NodePositions
) -> tuple[list[dict[str, object]], list[int]]:
    """The attributes of each syntax item's node (id = item index), and the TOKEN ids in order."""
    out: list[dict[str, object]] = []
    tokens: list[int] = []
    syntax, token = NodeType.SYNTAX, NodeType.TOKEN
    starts = positions.starts([item.node for item in items])
    for i, item in enumerate(items):
        node = item.node
        cls = type(node)
        is_value, operator = token_kind(cls)
        text = node.value if is_value else operator  # type: ignore[attr-defined]
        line, col = starts[i]
        if text is None:
            out.append({"id": i, "node_type": syntax, "ast_type": cls.__name__, "text": "",
                        "line": line, "col": col, "access": accesses[i]})  # fmt: skip
        else:
            tokens.append(i)
            out.append({"id": i, "node_type": token, "ast_type": cls.__name__, "text": text,
                        "line": line, "col": col, "access": accesses[i]})  # fmt: skip
    return out, tokens


def stand_in_attributes(
    node_id: int,
    node_type: NodeType,
    text: str,
    position_node: cst.CSTNode,
    positions: NodePositions,
) -> dict[str, object]:
    """A CALLEE (at its def's name) or CALLEE_PARAM (at the parameter's name) stand-in."""
    line, col = positions.start(position_node)
    ast_type = "FunctionDef" if node_type is NodeType.CALLEE else "Param"
    return {"id": node_id, "node_type": node_type, "ast_type": ast_type, "text": text,
            "line": line, "col": col, "access": Access.NONE}  # fmt: skip
