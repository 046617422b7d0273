"""LAST_READ and LAST_WRITE: a last-access analysis over the control flow of one unit.

Each variable access belongs to the nearest control-flow node above it (its *owner*). Inside
an owner, reads happen before writes, each in source order. The analysis is a forward
may-analysis: the state at a point maps each name to the set of reads and the set of writes
that may be the most recent ones; a read replaces the name's read set, a write its write set;
at a join the sets are united; a worklist iterates to the fixpoint, so accesses reach around
loop back-edges. Edges go from each access to the reads and writes in the state just before
it (an augmented assignment's target gets its edges once, before its read). The state is
kept as a bit set over the unit's access steps (see `last_accesses`).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import NamedTuple

from .schema import Access

logger = logging.getLogger(__name__)



class AccessEvent(NamedTuple):
    """One step of an owner's accesses, in evaluation order (a tuple: cheap to create)."""

    name: str  # the variable's name
    node: int  # the Name node
    is_write: bool  # False: a read step; True: a write step
    emits: bool  # True when this step produces the node's LAST_READ/LAST_WRITE edges


def order_accesses(owned: list[tuple[int, str, Access]]) -> list[AccessEvent]:
    """An owner's (node, name, access) list (source order) as read steps then write steps."""
    reads = [
        AccessEvent(name, n, False, True)
        for n, name, a in owned
        if a in (Access.READ, Access.READ_WRITE)
    ]
    writes = [
        AccessEvent(name, n, True, a is Access.WRITE)
        for n, name, a in owned
        if a in (Access.WRITE, Access.READ_WRITE)
    ]
    return reads + writes


def last_accesses(
    nodes: tuple[int, ...],
    edges: frozenset[tuple[int, int]],
    events: dict[int, list[AccessEvent]],
    entry: int = 0,
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(LAST_READ edges, LAST_WRITE edges) for accesses ``events[owner]`` over the CFG.

    The state is a bit set (a Python int) with one bit per access step: a name's read bits
    are its last reads, its write bits its last writes. An owner's steps in order replace
    the bits of their name and kind by their own bit, so the owner's effect is
    ``out = (in & ~kill) | gen``; ``in`` is the union of the predecessors' ``out``.
    """
    succ: dict[int, list[int]] = {n: [] for n in nodes}
    pred: dict[int, list[int]] = {n: [] for n in nodes}
    for u, v in edges:
        succ[u].append(v)
        pred[v].append(u)
    step_node: list[int] = []  # bit index -> the step's Name node
    masks: dict[tuple[str, bool], int] = {}  # (name, is_write) -> the bits of those steps
    for owner_events in events.values():
        for e in owner_events:
            key = (e.name, e.is_write)
            masks[key] = masks.get(key, 0) | (1 << len(step_node))
            step_node.append(e.node)
    kill: dict[int, int] = {}
    gen: dict[int, int] = {}
    bit = 0
    for n, owner_events in events.items():
        k = g = 0
        for e in owner_events:
            mask = masks[(e.name, e.is_write)]
            k |= mask
            g = (g & ~mask) | (1 << bit)
            bit += 1
        kill[n], gen[n] = k, g
    out: dict[int, int] = dict.fromkeys(nodes, 0)
    order = _reverse_postorder(entry, succ, nodes)
    queue = deque(order)
    queued = set(order)
    while queue:
        n = queue.popleft()
        queued.discard(n)
        state = 0
        for p in pred[n]:
            state |= out[p]
        if n in kill:
            state = (state & ~kill[n]) | gen[n]
        if state != out[n]:
            out[n] = state
            for s in succ[n]:
                if s not in queued:
                    queued.add(s)
                    queue.append(s)
    last_read: set[tuple[int, int]] = set()
    last_write: set[tuple[int, int]] = set()
    bit = 0
    for n, owner_events in events.items():
        state = 0
        for p in pred.get(n, ()):
            state |= out[p]
        for e in owner_events:
            if e.emits:
                reads = state & masks.get((e.name, False), 0)
                writes = state & masks.get((e.name, True), 0)
                last_read.update((e.node, r) for r in _nodes_of(reads, step_node))
                last_write.update((e.node, w) for w in _nodes_of(writes, step_node))
            state = (state & ~masks[(e.name, e.is_write)]) | (1 << bit)
            bit += 1
    return last_read, last_write


def _nodes_of(bits: int, step_node: list[int]) -> list[int]:
    """The Name nodes of the steps whose bits are set."""
    out = []
    while bits:
        low = bits & -bits
        out.append(step_node[low.bit_length() - 1])
        bits ^= low
    return out


def _reverse_postorder(entry: int, succ: dict[int, list[int]], nodes: tuple[int, ...]) -> list[int]:
    """Nodes in reverse postorder from ``entry``; unreachable nodes follow in id order."""
    seen = {entry}
    post: list[int] = []
    stack = [(entry, iter(sorted(succ[entry])))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                stack.append((child, iter(sorted(succ[child]))))
                break
        else:
            stack.pop()
            post.append(node)
    post.reverse()
    return post + [n for n in nodes if n not in seen]
