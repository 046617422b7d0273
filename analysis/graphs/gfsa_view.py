"""The GFSA view of a program graph: its AST as a POMDP (Johnson, Larochelle & Tarlow, 2020).

Only AST nodes (SYNTAX and TOKEN) are states of the environment. Every node type (libcst
class) has a fixed, ordered set of *move types*, derived from the class's structural fields
(`syntax.field_specs`):

- ``F`` for each single-valued field ``F``: to the child in that field;
- ``F.first`` and ``F.last`` for each sequence field ``F``: to its first / last element;
- ``parent``: to the AST parent;
- ``next`` and ``prev``: to the next / previous element of the sequence field the node is in.

Every node has every move of its type. A move that does not apply here (an empty or absent
field, the root's parent, a node that is not in a sequence or is at its end, a nested
function's body, which is not part of the unit) is a self-loop, the *missing* move. The agent
observes ``(node type, arrival)``, where ``arrival`` is ``"start"`` at the start node, the move
type that led to the node, or ``"<move>/missing"`` after a missing move (it stayed put).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from .schema import EdgeType, FunctionGraph, NodeType
from .syntax import field_child_classes, field_specs, node_classes

logger = logging.getLogger(__name__)

PARENT = "parent"  # move to the AST parent
NEXT = "next"  # move to the next element of the same sequence field
PREV = "prev"  # move to the previous element of the same sequence field
START = "start"  # arrival at the start node
MISSING_SUFFIX = "/missing"  # arrival after a move that did not apply

Observation = tuple[str, str]  # (node type, arrival)


@dataclass(frozen=True)
class GfsaView:
    """The POMDP of one graph: states are AST nodes, actions are move types."""

    nodes: tuple[int, ...]  # AST node ids of the graph, in id order
    node_types: dict[int, str]  # node id -> node type (libcst class name)
    moves: dict[tuple[int, str], int]  # (node, move type) -> destination (node itself if missing)

    def is_missing(self, node: int, move: str) -> bool:
        """True when ``move`` does not apply at ``node`` (a self-loop)."""
        return self.moves[(node, move)] == node

    def observation(self, node: int, move: str) -> Observation:
        """What the agent observes after taking ``move`` from ``node``."""
        destination = self.moves[(node, move)]
        arrival = move + MISSING_SUFFIX if destination == node else move
        return (self.node_types[destination], arrival)


@functools.cache
def move_types(node_type: str) -> tuple[str, ...]:
    """The move types of a node type, in a fixed order."""
    out: list[str] = []
    for spec in field_specs(node_classes()[node_type]):
        if spec.is_sequence:
            out += [f"{spec.name}.first", f"{spec.name}.last"]
        else:
            out.append(spec.name)
    return (*out, PARENT, NEXT, PREV)


@functools.cache
def all_move_types() -> tuple[str, ...]:
    """Every move type of every node type, sorted (the action vocabulary)."""
    return tuple(sorted({m for t in node_classes() for m in move_types(t)}))


@functools.cache
def observation_vocabulary() -> tuple[Observation, ...]:
    """Every observation any graph can produce, sorted (the observation vocabulary).

    ``(T, "start")`` for every type; ``(T, m + "/missing")`` for each move ``m`` of ``T``;
    ``(T, "parent")`` when ``T`` has children; ``(T, F)``, ``(T, F.first)``, ``(T, F.last)`` when
    a field ``F`` of some type may hold a ``T``; ``(T, "next")`` and ``(T, "prev")`` when some
    sequence field may hold a ``T``.
    """
    vocabulary: set[Observation] = set()
    classes = node_classes()
    for t, cls in classes.items():
        vocabulary.add((t, START))
        vocabulary.update((t, m + MISSING_SUFFIX) for m in move_types(t))
        specs = field_specs(cls)
        if specs:
            vocabulary.add((t, PARENT))
        for spec in specs:
            for child in field_child_classes(cls, spec.name):
                if spec.is_sequence:
                    vocabulary.update(
                        {(child, f"{spec.name}.first"), (child, f"{spec.name}.last"),
                         (child, NEXT), (child, PREV)}
                    )  # fmt: skip
                else:
                    vocabulary.add((child, spec.name))
    return tuple(sorted(vocabulary))


def gfsa_view(fg: FunctionGraph) -> GfsaView:
    """The GFSA view of a graph: every (AST node, move type) with its destination."""
    graph = fg.graph
    nodes = tuple(
        n
        for n, data in sorted(graph.nodes(data=True))
        if data["node_type"] in (NodeType.SYNTAX, NodeType.TOKEN)
    )
    node_types = {n: graph.nodes[n]["ast_type"] for n in nodes}
    parent: dict[int, int] = {}
    place: dict[int, tuple[str, int | None]] = {}  # child -> (field, index)
    fields: dict[tuple[int, str], list[tuple[int, int]]] = {}  # (parent, field) -> [(index, child)]
    for u, v, key, data in graph.edges(keys=True, data=True):
        if key is EdgeType.AST_CHILD:
            parent[v] = u
            place[v] = (data["field"], data["index"])
            fields.setdefault((u, data["field"]), []).append((data["index"] or 0, v))
    for children in fields.values():
        children.sort()
    moves: dict[tuple[int, str], int] = {}
    for n in nodes:
        for move in move_types(node_types[n]):
            moves[(n, move)] = _destination(n, move, parent, place, fields)
    return GfsaView(nodes, node_types, moves)


def _destination(
    n: int,
    move: str,
    parent: dict[int, int],
    place: dict[int, tuple[str, int | None]],
    fields: dict[tuple[int, str], list[tuple[int, int]]],
) -> int:
    if move == PARENT:
        return parent.get(n, n)
    if move in (NEXT, PREV):
        if n not in parent or place[n][1] is None:
            return n
        field_name, index = place[n]
        siblings = fields[(parent[n], field_name)]
        k = next(k for k, (_, child) in enumerate(siblings) if child == n)
        k += 1 if move == NEXT else -1
        return siblings[k][1] if 0 <= k < len(siblings) else n
    if move.endswith(".first") or move.endswith(".last"):
        field_name, _, end = move.rpartition(".")
        children = fields.get((n, field_name))
        if not children:
            return n
        return children[0][1] if end == "first" else children[-1][1]
    children = fields.get((n, move))
    return children[0][1] if children else n
