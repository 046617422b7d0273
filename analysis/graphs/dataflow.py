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


_READ_STEPS = (Access.READ, Access.READ_WRITE)
_WRITE_STEPS = (Access.WRITE, Access.READ_WRITE)


def order_accesses(owned: list[tuple[int, str, Access]]) -> list[AccessEvent]:
    """An owner's (node, name, access) list (source order) as read steps then write steps."""
    write = Access.WRITE
    reads = [AccessEvent(name, n, False, True) for n, name, a in owned if a in _READ_STEPS]
    writes = [AccessEvent(name, n, True, a is write) for n, name, a in owned if a in _WRITE_STEPS]
    return reads + writes


def last_accesses(
    nodes: tuple[int, ...],
    edges: frozenset[tuple[int, int]],
    events: dict[int, list[AccessEvent]],
    entry: int = 0,
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(LAST_READ edges, LAST_WRITE edges) for accesses ``events[owner]`` over the CFG.

    The state is a bit set (a Python int) with one bit per access step, numbered in the
    order of ``events``: a name's read bits are its last reads, its write bits its last
    writes. An owner's steps in order replace the bits of their name and kind by their own
    bit, so the owner's effect is ``out = (in & ~kill) | gen``; ``in`` is the union of the
    predecessors' ``out``.
    """
    succ: dict[int, list[int]] = {n: [] for n in nodes}
    pred: dict[int, list[int]] = {n: [] for n in nodes}
    for u, v in edges:
        succ[u].append(v)
        pred[v].append(u)
    step_node: list[int] = []  # bit index -> the step's Name node
    read_masks: dict[str, int] = {}  # name -> the bits of its read steps
    write_masks: dict[str, int] = {}  # name -> the bits of its write steps
    bit = 1
    for owner_events in events.values():
        for name, node, is_write, _ in owner_events:
            masks = write_masks if is_write else read_masks
            masks[name] = masks.get(name, 0) | bit
            bit <<= 1
            step_node.append(node)
    kill: dict[int, int] = {}
    gen: dict[int, int] = {}
    bit = 1
    for n, owner_events in events.items():
        k = g = 0
        for name, _, is_write, _ in owner_events:
            mask = (write_masks if is_write else read_masks)[name]
            k |= mask
            g = (g & ~mask) | bit
            bit <<= 1
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
    bit = 1
    for n, owner_events in events.items():
        state = 0
        for p in pred.get(n, ()):
            state |= out[p]
        for name, node, is_write, emits in owner_events:
            if emits:
                for found, bits in ((last_read, state & read_masks.get(name, 0)),
                                    (last_write, state & write_masks.get(name, 0))):  # fmt: skip
                    while bits:
                        low = bits & -bits
                        found.add((node, step_node[low.bit_length() - 1]))
                        bits ^= low
            state = (state & ~(write_masks if is_write else read_masks)[name]) | bit
            bit <<= 1
    return last_read, last_write


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
