"""Node positions of a libcst module: libcst's `PositionProvider` results, computed cheaply.

`PositionProvider` generates the module's code once and records, for every node, the
(line, column) where its code starts and ends, letting some nodes narrow that to their
syntactic part (``record_syntactic_position``: a statement without its leading blank lines
and indentation, a block from its first to its last statement, ...). Resolving it through a
`MetadataWrapper` also visits the whole tree once more for no provider, and it builds two
`CodePosition` and one `CodeRange` per node plus a context manager per syntactic record.

`node_positions` runs the same code generation with a leaner state: it records character
offsets (plain ints, which the garbage collector does not track) and where each line starts,
and turns an offset into (line, column) only when asked, by the same rules as
`PositionProvider` (``\\r\\n``, ``\\r`` and ``\\n`` each end a line, counted per token; columns
count characters). The results are identical; `tests/test_graph_positions.py` checks that.
"""

from __future__ import annotations

import bisect
import logging
import re

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

logger = logging.getLogger(__name__)

_NEWLINE = re.compile(r"\r\n?|\n")  # PositionProvider's line-break pattern


class NodePositions:
    """Start and end of every node of one module, looked up by node (identity)."""

    __slots__ = ("_starts", "_ends", "_break_ends", "_break_lines", "_line_starts")

    def __init__(
        self,
        starts: dict[int, int],
        ends: dict[int, int],
        break_ends: list[int],
        break_lines: list[int],
        line_starts: list[int],
    ) -> None:
        self._starts = starts  # id(node) -> offset where the node starts
        self._ends = ends  # id(node) -> offset where the node ends
        self._break_ends = break_ends  # offset just after each token holding a line break
        self._break_lines = break_lines  # the line (1-based) that begins after that token
        self._line_starts = line_starts  # the offset where that line begins

    def _line_col(self, offset: int) -> tuple[int, int]:
        k = bisect.bisect_right(self._break_ends, offset) - 1
        if k < 0:
            return 1, offset
        return self._break_lines[k], offset - self._line_starts[k]

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        """(line, column) where ``node`` starts: 1-based line, 0-based column."""
        offset = self._starts[id(node)]  # (_line_col inlined: called for every graph node)
        k = bisect.bisect_right(self._break_ends, offset) - 1
        if k < 0:
            return 1, offset
        return self._break_lines[k], offset - self._line_starts[k]

    def starts(self, nodes: list[cst.CSTNode]) -> list[tuple[int, int]]:
        """`start` of each node (one call for a whole unit)."""
        offsets, break_ends = self._starts, self._break_ends
        lines, line_starts = self._break_lines, self._line_starts
        out = []
        for node in nodes:
            offset = offsets[id(node)]
            k = bisect.bisect_right(break_ends, offset) - 1
            out.append((1, offset) if k < 0 else (lines[k], offset - line_starts[k]))
        return out

    def end(self, node: cst.CSTNode) -> tuple[int, int]:
        """(line, column) just after ``node``'s last character."""
        return self._line_col(self._ends[id(node)])

    def __contains__(self, node: object) -> bool:
        return id(node) in self._starts

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        """The node's range as `PositionProvider` gives it."""
        return CodeRange(CodePosition(*self.start(node)), CodePosition(*self.end(node)))


class _OffsetState(CodegenState):
    """A code generation state that records node offsets instead of `CodeRange` values.

    It is also the context manager that ``record_syntactic_position`` returns (libcst uses it
    as ``with state.record_syntactic_position(node): ...``): the call pushes the record, and
    leaving the ``with`` block pops and stores it, so no object is made per record.
    """

    __slots__ = ("offset", "starts", "ends", "stack", "records", "line", "break_ends",
                 "break_lines", "line_starts")  # fmt: skip

    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.offset = 0  # characters generated so far
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        self.stack: list[int] = []  # start offsets of the nodes being generated
        # open syntactic records: (node, start node, end node, offset at the record's start)
        self.records: list[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode | None, int]] = []
        self.line = 1  # the current line
        self.break_ends: list[int] = []
        self.break_lines: list[int] = []
        self.line_starts: list[int] = []

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            if len(segments) > 1:
                self.line += len(segments) - 1
                self.break_ends.append(self.offset)
                self.break_lines.append(self.line)
                self.line_starts.append(self.offset - len(segments[-1]))

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        key = id(node)
        if key not in self.starts:  # a syntactic position recorded inside wins
            self.starts[key] = start
            self.ends[key] = self.offset

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _OffsetState:
        self.records.append((node, start_node, end_node, self.offset))
        return self

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        node, start_node, end_node, start = self.records.pop()
        if start_node is not None:
            start = self.starts[id(start_node)]
        key = id(node)
        self.starts[key] = start
        self.ends[key] = self.offset if end_node is None else self.ends[id(end_node)]


def node_positions(module: cst.Module) -> NodePositions:
    """The positions of every node of ``module`` (the module must stay alive while used)."""
    state = _OffsetState(module)
    module._codegen(state)
    return NodePositions(state.starts, state.ends, state.break_ends, state.break_lines,
                         state.line_starts)  # fmt: skip
