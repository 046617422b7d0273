"""Control flow (CFG_NEXT) between the control-flow nodes of one unit.

The control-flow nodes and the edges between them are defined in `EdgeType.CFG_NEXT`'s
docstring. Nodes are item indices of the unit (`syntax.walk_unit`), which are graph node ids.
The builder keeps a stack of frames (loops, ``try`` handlers, ``finally`` blocks) to route
``break``, ``continue``, ``return`` and ``raise``.
"""

from __future__ import annotations

import bisect
import enum
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from .syntax import SyntaxItem, iter_children, node_index, subtree_ends

logger = logging.getLogger(__name__)

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# Concrete classes: a set lookup by class is cheaper than isinstance with abstract bases.
_COMPREHENSION_CLASSES = frozenset(_COMPREHENSIONS)
_SIMPLE_LINES = frozenset({cst.SimpleStatementLine, cst.SimpleStatementSuite})
# Fields evaluated as separate control-flow nodes (or not at all), per class: a search for
# the comprehensions a node evaluates itself does not enter them.
_SEPARATE_FIELDS = {
    "For": {"iter", "body", "orelse"},
    "While": {"body", "orelse"},
    "If": {"body", "orelse"},
    "ExceptHandler": {"body"},
    "ExceptStarHandler": {"body"},
    "ClassDef": {"body"},
    "FunctionDef": {"body"},
    "MatchCase": {"body"},
    "Match": {"cases"},
    "CompFor": {"iter", "ifs", "inner_for_in"},
}


@functools.cache
def _stops_search(cls: type) -> bool:
    return issubclass(cls, (cst.BaseStatement, cst.BaseSmallStatement, cst.Lambda))


class _Jump(enum.Enum):
    RETURN = "return"
    RAISE = "raise"
    BREAK = "break"
    CONTINUE = "continue"


@dataclass
class _Loop:
    continue_to: int  # the node a `continue` goes to
    breaks: list[int] = field(default_factory=list)  # nodes leaving the loop by `break`


@dataclass
class _Handlers:
    entries: list[int]  # the entry node of each except clause of the try


@dataclass
class _Finally:
    entry: int | None  # the first control-flow node of the finally block
    pending: set[_Jump] = field(default_factory=set)  # jumps routed through it


@dataclass(frozen=True)
class ControlFlow:
    """The control flow of one unit."""

    nodes: tuple[int, ...]  # control-flow nodes (item indices), sorted
    edges: frozenset[tuple[int, int]]  # CFG_NEXT edges (source, destination)
    returns: tuple[int, ...]  # the unit's Return statements


def build_control_flow(
    items: list[SyntaxItem], index: dict[int, int] | None = None, ends: list[int] | None = None
) -> ControlFlow:
    """Control-flow nodes and CFG_NEXT edges of a unit whose root is ``items[0]``.

    ``index`` and ``ends`` are `syntax.node_index` and `syntax.subtree_ends` of the items
    when the caller has them already.
    """
    return _Builder(items, index, ends).run()


class _Builder:
    def __init__(
        self, items: list[SyntaxItem], index: dict[int, int] | None, ends: list[int] | None
    ) -> None:
        self.items = items
        self.index = node_index(items) if index is None else index
        self.ends = subtree_ends(items) if ends is None else ends
        self.comprehension_items = [
            i for i, item in enumerate(items) if type(item.node) in _COMPREHENSION_CLASSES
        ]
        self.nodes: list[int] = []
        self.edges: set[tuple[int, int]] = set()
        self.returns: list[int] = []
        self.frames: list[_Loop | _Handlers | _Finally] = []

    def run(self) -> ControlFlow:
        root = self.items[0].node
        self.add_node(0)
        if isinstance(root, cst.Module):
            entry, _ = self.block(root.body)
        else:
            entry, _ = self.suite(root.body)  # type: ignore[attr-defined]
        self.link([0], entry)
        return ControlFlow(tuple(sorted(self.nodes)), frozenset(self.edges), tuple(self.returns))

    # -- primitives ------------------------------------------------------------------------

    def id_of(self, node: cst.CSTNode) -> int:
        return self.index[id(node)]

    def add_node(self, i: int) -> None:
        """Register a control-flow node; inside a try body it may raise to the handlers."""
        self.nodes.append(i)
        for frame in reversed(self.frames):
            if isinstance(frame, _Handlers):
                for entry in frame.entries:
                    self.edges.add((i, entry))
                break

    def link(self, sources: Sequence[int], target: int | None) -> None:
        if target is not None:
            for s in sources:
                self.edges.add((s, target))

    def jump(self, sources: list[int], kind: _Jump) -> None:
        """Route a return/raise/break/continue from ``sources`` through the frames."""
        for frame in reversed(self.frames):
            if isinstance(frame, _Finally):
                self.link(sources, frame.entry)
                frame.pending.add(kind)
                return
            if isinstance(frame, _Loop) and kind is _Jump.BREAK:
                frame.breaks.extend(sources)
                return
            if isinstance(frame, _Loop) and kind is _Jump.CONTINUE:
                self.link(sources, frame.continue_to)
                return
            if isinstance(frame, _Handlers) and kind is _Jump.RAISE:
                for entry in frame.entries:
                    self.link(sources, entry)
                return
        # Leaves the unit: no edge.

    # -- blocks and statements ---------------------------------------------------------------

    def suite(self, suite: cst.BaseSuite) -> tuple[int | None, list[int]]:
        return self.block(suite.body)

    def block(self, statements: Sequence[cst.CSTNode]) -> tuple[int | None, list[int]]:
        """Build statements in sequence: (entry node or None, normal exits)."""
        entry: int | None = None
        exits: list[int] = []
        for k, statement in enumerate(statements):
            e, x = self.statement(statement)
            if k == 0:
                entry = e
            else:
                self.link(exits, e)
            exits = x
        return entry, exits

    def statement(self, node: cst.CSTNode) -> tuple[int, list[int]]:
        if type(node) in _SIMPLE_LINES:
            entry, exits = self.block(node.body)
            assert entry is not None
            return entry, exits
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is not None:
            return method(node)
        i = self.id_of(node)
        entry, _ = self.prefixed(i)
        return entry, [i]

    def stmt_Return(self, node: cst.Return) -> tuple[int, list[int]]:
        i = self.id_of(node)
        entry, _ = self.prefixed(i)
        self.returns.append(i)
        self.jump([i], _Jump.RETURN)
        return entry, []

    def stmt_Raise(self, node: cst.Raise) -> tuple[int, list[int]]:
        i = self.id_of(node)
        entry, _ = self.prefixed(i)
        self.jump([i], _Jump.RAISE)
        return entry, []

    def stmt_Break(self, node: cst.Break) -> tuple[int, list[int]]:
        i = self.id_of(node)
        self.add_node(i)
        self.jump([i], _Jump.BREAK)
        return i, []

    def stmt_Continue(self, node: cst.Continue) -> tuple[int, list[int]]:
        i = self.id_of(node)
        self.add_node(i)
        self.jump([i], _Jump.CONTINUE)
        return i, []

    def stmt_If(self, node: cst.If) -> tuple[int, list[int]]:
        i = self.id_of(node)
        entry, _ = self.prefixed(i)
        body_entry, exits = self.suite(node.body)
        self.link([i], body_entry)
        if isinstance(node.orelse, cst.If):
            else_entry, else_exits = self.stmt_If(node.orelse)
            self.link([i], else_entry)
            exits = exits + else_exits
        elif isinstance(node.orelse, cst.Else):
            else_entry, else_exits = self.suite(node.orelse.body)
            self.link([i], else_entry)
            exits = exits + else_exits
        else:
            exits = exits + [i]
        return entry, exits

    def _loop_rest(self, node: cst.While | cst.For, head: int, loop: _Loop) -> list[int]:
        """Body (back to ``loop.continue_to``) and else clause of a loop whose test is ``head``."""
        self.frames.append(loop)
        body_entry, body_exits = self.suite(node.body)
        self.frames.pop()
        self.link([head], body_entry)
        self.link(body_exits, loop.continue_to)
        if node.orelse is not None:
            else_entry, exits = self.suite(node.orelse.body)
            self.link([head], else_entry)
        else:
            exits = [head]
        return exits + loop.breaks

    def stmt_While(self, node: cst.While) -> tuple[int, list[int]]:
        i = self.id_of(node)
        entry, _ = self.prefixed(i)
        return entry, self._loop_rest(node, i, _Loop(continue_to=entry))

    def stmt_For(self, node: cst.For) -> tuple[int, list[int]]:
        entry, iter_exits = self.prefixed(self.id_of(node.iter))
        i = self.id_of(node)
        self.add_node(i)
        self.link(iter_exits, i)
        return entry, self._loop_rest(node, i, _Loop(continue_to=i))

    def stmt_With(self, node: cst.With) -> tuple[int, list[int]]:
        entry: int | None = None
        exits: list[int] = []
        for item in node.items:
            e, x = self.prefixed(self.id_of(item))
            if entry is None:
                entry = e
            self.link(exits, e)
            exits = x
        body_entry, body_exits = self.suite(node.body)
        self.link(exits, body_entry)
        assert entry is not None
        return entry, body_exits

    def stmt_ClassDef(self, node: cst.ClassDef) -> tuple[int, list[int]]:
        i = self.id_of(node)
        entry, _ = self.prefixed(i)
        body_entry, exits = self.suite(node.body)
        self.link([i], body_entry)
        return entry, exits

    def stmt_Match(self, node: cst.Match) -> tuple[int, list[int]]:
        i = self.id_of(node)
        entry, previous = self.prefixed(i)
        exits: list[int] = []
        for case in node.cases:
            case_entry, case_exits = self.prefixed(self.id_of(case))
            self.link(previous, case_entry)
            body_entry, body_exits = self.suite(case.body)
            self.link(case_exits, body_entry)
            exits += body_exits
            previous = case_exits  # no match: try the next case
        return entry, exits + previous

    def stmt_Try(self, node: cst.Try | cst.TryStar) -> tuple[int, list[int]]:
        final: _Finally | None = None
        final_exits: list[int] = []
        if node.finalbody is not None:
            final_entry, final_exits = self.suite(node.finalbody.body)
            final = _Finally(final_entry)
            self.frames.append(final)
        handler_entries: list[int] = []
        exits: list[int] = []
        for handler in node.handlers:
            h = self.id_of(handler)
            h_entry, _ = self.prefixed(h)
            handler_entries.append(h_entry)
            body_entry, body_exits = self.suite(handler.body)
            self.link([h], body_entry)
            exits += body_exits
        if handler_entries:
            self.frames.append(_Handlers(handler_entries))
        entry, body_exits = self.suite(node.body)
        if handler_entries:
            self.frames.pop()
        if node.orelse is not None:
            else_entry, else_exits = self.suite(node.orelse.body)
            self.link(body_exits, else_entry)
            exits = else_exits + exits
        else:
            exits = body_exits + exits
        if final is not None:
            self.frames.pop()
            self.link(exits, final.entry)
            exits = final_exits
            for kind in sorted(final.pending, key=lambda k: k.value):
                self.jump(final_exits, kind)
        assert entry is not None
        return entry, exits

    stmt_TryStar = stmt_Try

    # -- expressions that run before their statement -----------------------------------------

    def prefixed(self, i: int) -> tuple[int, list[int]]:
        """Register node ``i`` after the comprehensions it evaluates: (entry, [i])."""
        entry: int | None = None
        exits: list[int] = []
        for comp in self.own_comprehensions(self.items[i].node):
            e, x = self.comprehension(comp)
            if entry is None:
                entry = e
            self.link(exits, e)
            exits = x
        self.add_node(i)
        self.link(exits, i)
        return (i if entry is None else entry), [i]

    def own_comprehensions(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """Comprehensions a control-flow node evaluates itself, outermost first, in order."""
        found: list[cst.CSTNode] = []
        if node is self.items[0].node:
            return found  # the unit's root: its header is evaluated elsewhere
        if type(node) in _COMPREHENSION_CLASSES:
            return [node]  # an element that is itself a comprehension: its loop, then it
        i = self.index[id(node)]
        k = bisect.bisect_right(self.comprehension_items, i)
        if k == len(self.comprehension_items) or self.comprehension_items[k] >= self.ends[i]:
            return found  # no comprehension anywhere below
        stack = [node]
        while stack:
            current = stack.pop()
            skip = _SEPARATE_FIELDS.get(type(current).__name__, ())
            children = [
                child
                for field_name, _, child in iter_children(current)
                if field_name not in skip
                and id(child) in self.index
                and not _stops_search(type(child))
            ]
            for child in reversed(children):
                if type(child) in _COMPREHENSION_CLASSES:
                    found.append(child)
                else:
                    stack.append(child)
        found.sort(key=lambda n: self.index[id(n)])
        return found

    def comprehension(self, comp: cst.CSTNode) -> tuple[int, list[int]]:
        """The loop of a comprehension: outer iter, CompFor/CompIf chain, element, back."""
        outer: cst.CompFor = comp.for_in  # type: ignore[attr-defined]
        if isinstance(comp, cst.DictComp):
            elements = [comp.key, comp.value]
        else:
            elements = [comp.elt]  # type: ignore[attr-defined]
        entry, iter_exits = self.prefixed(self.id_of(outer.iter))
        return entry, self.comp_for(outer, iter_exits, elements)

    def comp_for(self, comp_for: cst.CompFor, preds: list[int], elements: list) -> list[int]:
        head = self.id_of(comp_for)
        self.add_node(head)
        self.link(preds, head)
        current = [head]
        for comp_if in comp_for.ifs:
            e, x = self.prefixed(self.id_of(comp_if))
            self.link(current, e)
            self.link(x, head)  # test false: next item
            current = x
        if comp_for.inner_for_in is not None:
            inner = comp_for.inner_for_in
            e, x = self.prefixed(self.id_of(inner.iter))
            self.link(current, e)
            self.link(self.comp_for(inner, x, elements), head)
        else:
            for element in elements:
                e, x = self.prefixed(self.id_of(element))
                self.link(current, e)
                current = x
            self.link(current, head)
        return [head]
