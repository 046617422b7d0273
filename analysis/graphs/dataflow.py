"""LAST_READ and LAST_WRITE: a last-access analysis over the control flow of one unit.

Each variable access belongs to the nearest control-flow node above it (its *owner*). Inside
an owner, reads happen before writes, each in source order. The analysis is a forward
may-analysis: the state at a point maps each name to the set of reads and the set of writes
that may be the most recent ones; a read replaces the name's read set, a write its write set;
at a join the sets are united; a worklist iterates to the fixpoint, so accesses reach around
loop back-edges. Edges go from each access to the reads and writes in the state just before
it (an augmented assignment's target gets its edges once, before its read).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from .schema import Access

logger = logging.getLogger(__name__)

_Sets = tuple[frozenset[int], frozenset[int]]  # (last reads, last writes) of one name
_State = dict[str, _Sets]
_EMPTY: frozenset[int] = frozenset()


@dataclass(frozen=True)
class AccessEvent:
    """One step of an owner's accesses, in evaluation order."""

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


def _merge(states: list[_State]) -> _State:
    if not states:
        return {}
    if len(states) == 1:
        return states[0]
    out: _State = dict(states[0])
    for state in states[1:]:
        for name, (reads, writes) in state.items():
            old = out.get(name)
            if old is None:
                out[name] = (reads, writes)
            elif old != (reads, writes):
                out[name] = (old[0] | reads, old[1] | writes)
    return out


def _transfer(state: _State, events: list[AccessEvent]) -> _State:
    if not events:
        return state
    out = dict(state)
    for e in events:
        reads, writes = out.get(e.name, (_EMPTY, _EMPTY))
        if e.is_write:
            out[e.name] = (reads, frozenset((e.node,)))
        else:
            out[e.name] = (frozenset((e.node,)), writes)
    return out


def last_accesses(
    nodes: tuple[int, ...],
    edges: frozenset[tuple[int, int]],
    events: dict[int, list[AccessEvent]],
    entry: int = 0,
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(LAST_READ edges, LAST_WRITE edges) for accesses ``events[owner]`` over the CFG."""
    succ: dict[int, list[int]] = {n: [] for n in nodes}
    pred: dict[int, list[int]] = {n: [] for n in nodes}
    for u, v in edges:
        succ[u].append(v)
        pred[v].append(u)
    order = _reverse_postorder(entry, succ, nodes)
    out_state: dict[int, _State] = {}
    queue = deque(order)
    queued = set(order)
    while queue:
        n = queue.popleft()
        queued.discard(n)
        state = _transfer(_merge([out_state[p] for p in pred[n] if p in out_state]), events.get(n, []))
        if out_state.get(n) != state:
            out_state[n] = state
            for s in succ[n]:
                if s not in queued:
                    queued.add(s)
                    queue.append(s)
    last_read: set[tuple[int, int]] = set()
    last_write: set[tuple[int, int]] = set()
    for n, owner_events in events.items():
        state = _merge([out_state[p] for p in pred.get(n, ()) if p in out_state])
        for e in owner_events:
            reads, writes = state.get(e.name, (_EMPTY, _EMPTY))
            if e.emits:
                last_read.update((e.node, r) for r in reads)
                last_write.update((e.node, w) for w in writes)
            state = _transfer(state, [e])
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
