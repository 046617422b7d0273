"""The program-graph schema: node kinds, edge kinds and the values that cross module boundaries.

A program graph covers one *unit* of code: a function (its header and body) or a module's
top-level code. It is a `networkx.MultiDiGraph` whose nodes are integer ids ``0..n-1``, in
source (pre-)order, with the unit's root node (the ``FunctionDef`` or ``Module``) as id 0.
Each node carries exactly the fields of `GraphNode` as attributes; each edge carries ``kind``
(an `EdgeType`) and uses that kind as its multigraph key, so
``graph.has_edge(u, v, key=EdgeType.CFG_NEXT)`` asks for one kind of edge. Edge attribute
dictionaries are `EdgeAttributes`: read-only, and shared by the edges of a graph whose
attributes are equal (copy the graph, ``graph.copy()``, to annotate edges).

What belongs to a unit: every libcst node of the unit's subtree except *trivia* (whitespace,
comments, newlines, parentheses, brackets, braces, commas, dots, colons, semicolons and the
``=`` of keyword arguments), and except the body of every function defined inside the unit
(a nested ``def`` keeps its decorators, name, parameters and annotations; its body is the
nested function's own unit). Class bodies run when the class statement runs, so they belong to
the enclosing unit (a module's classes are part of the module unit; their methods' bodies are
not).

Positions: ``line`` is 1-based and ``col`` is 0-based, as libcst's `PositionProvider` reports
them (the start of the node's first character, leading whitespace and comments excluded).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import networkx as nx


class NodeType(enum.StrEnum):
    """What a graph node stands for. The node's libcst class is in its ``ast_type``."""

    SYNTAX = "SYNTAX"
    """An interior syntax node: a statement, an expression with parts, a helper node such as
    ``Arg``, ``Param`` or ``IndentedBlock``, or a childless keyword node (``Pass``, ``Break``,
    ``Continue``, ``Ellipsis``, ``ImportStar``, ...). Its ``text`` is empty."""

    TOKEN = "TOKEN"
    """A leaf carrying one source token: an identifier (``Name``), a literal (``Integer``,
    ``Float``, ``Imaginary``, ``SimpleString``, the text parts of f-strings) or an operator
    (``Add``, ``Equal``, ``AddAssign``, ``Not``, ...). Its ``text`` is the token's text."""

    CALLEE = "CALLEE"
    """A stand-in for a function defined in the same file outside this unit, added so that
    CALLS has a target inside the graph. ``text`` is the function's name, ``line``/``col``
    the position of its ``def``'s name. Not part of the AST: no AST edges touch it."""

    CALLEE_PARAM = "CALLEE_PARAM"
    """A stand-in for one parameter of a `CALLEE` (target of FORMAL_ARG_NAME). ``text`` is
    the parameter's name, ``line``/``col`` the parameter name's position."""


class EdgeType(enum.StrEnum):
    """The edge kinds of the python-graphs / GREAT line of work. Every edge has one."""

    AST_CHILD = "AST_CHILD"
    """From a syntax node to each of its non-trivia children. Attributes: ``field`` (the libcst
    field holding the child, e.g. ``"body"``, ``"test"``, ``"targets"``) and ``index`` (the
    child's position in a sequence field, ``None`` for a single-valued field)."""

    AST_PARENT = "AST_PARENT"
    """The reverse of AST_CHILD: from a child to its parent, with the same ``field`` and
    ``index`` attributes (those of the child's place in the parent)."""

    NEXT_SYNTAX = "NEXT_SYNTAX"
    """From each TOKEN node to the next TOKEN node in source order (a chain through the unit's
    tokens; keywords are not nodes and so are not in the chain)."""

    CFG_NEXT = "CFG_NEXT"
    """Control flow: from one *control-flow node* to each node that may run directly after
    it. Control-flow nodes are the unit's root (function entry: binding the parameters), small
    statements (``Expr``, ``Assign``, ``AugAssign``, ``AnnAssign``, ``Return``, ``Raise``,
    ``Pass``, ``Break``, ``Continue``, ``Del``, ``Import``, ``ImportFrom``, ``Global``,
    ``Nonlocal``, ``Assert``, ``TypeAlias``), the ``If`` and ``While`` nodes (their test), the
    ``iter`` expression of a ``For`` (evaluated once) and the ``For`` node (take the next item
    and bind the target), each ``WithItem`` (enter and bind), each ``ExceptHandler`` /
    ``ExceptStarHandler`` (match and bind), nested ``FunctionDef`` and ``ClassDef`` (the
    definition statement), ``Match`` (the subject) and each ``MatchCase`` (pattern and guard),
    and inside a statement each comprehension's parts: the outermost ``iter`` expression,
    each ``CompFor`` (take the next item), each ``CompIf`` and each inner ``iter``, and the
    element (``elt``, or ``key`` then ``value``). Comprehensions in a statement run before the
    rest of that statement. Edges cover sequencing, both branches of ``if``/``while``/``for``
    (including ``else`` clauses), loop back-edges, ``break`` (to after the loop) and
    ``continue`` (to the loop's ``While``/``For`` node), ``return``/``raise`` leaving the unit
    (no edge), and try statements: every control-flow node in a ``try`` body has an edge to
    each of that statement's handlers; an explicit ``raise`` goes to the innermost enclosing
    handlers, else through ``finally``; ``return``/``break``/``continue``/``raise`` inside a
    ``try`` with ``finally`` go to the start of the ``finally`` block, whose end then continues
    to each such jump's destination as well as to the code after the ``try``."""

    LAST_READ = "LAST_READ"
    """From each variable access (a ``Name`` occurrence that reads or writes a variable) to
    every read of the same name that may have been the most recent read on some control-flow
    path before the access. Computed by a forward may-analysis over CFG_NEXT iterated to a
    fixpoint (so loop back-edges count); only a later read replaces an earlier read. Within one
    control-flow node, reads happen before writes, each in source order."""

    LAST_WRITE = "LAST_WRITE"
    """As LAST_READ, for writes: from each variable access to every write (binding) of the
    same name that may have been the most recent write on some path before it. Writes are
    assignment and ``for``/``with``/``except``/comprehension/walrus targets, parameters (at
    function entry), ``def``/``class`` names, imported names, ``del`` targets and match
    captures. An augmented assignment's target is a read and then a write."""

    COMPUTED_FROM = "COMPUTED_FROM"
    """From each name written by an assignment (``=``, augmented, annotated with a value, or
    walrus ``:=``) to each variable read in the assigned value expression."""

    RETURNS_TO = "RETURNS_TO"
    """From each ``Return`` statement of a function unit to the unit's root ``FunctionDef``."""

    FORMAL_ARG_NAME = "FORMAL_ARG_NAME"
    """From a call argument's value expression to the parameter name it binds, when the callee
    is a function defined in the same file: positional arguments by position (skipping
    ``self``/``cls`` for calls through an attribute to a method), keyword arguments by name.
    Star arguments bind nothing."""

    LAST_LEXICAL_USE = "LAST_LEXICAL_USE"
    """From each ``Name`` token to the previous ``Name`` token with the same text in source
    order within the unit, whatever their roles (variables, attributes, keywords)."""

    CALLS = "CALLS"
    """From a ``Call`` node to the definition of the function it calls, when that function is
    defined in the same file: the unit's root for recursion, a nested ``FunctionDef`` node in
    the unit, or else a `NodeType.CALLEE` stand-in."""


class EdgeAttributes(dict):
    """The attribute dictionary of program-graph edges: read-only, so that the edges of a graph
    with equal attributes can share one (a graph has several edges per node; a dictionary each
    was a good part of the build time and of the garbage collector's work).

    It reads as a plain dict (equality, ``get``, iteration, JSON); changing it raises
    `TypeError`, except for an empty ``update`` (networkx's ``add_edge`` on an existing edge
    without attributes). ``graph.copy()`` gives plain dictionaries that may be changed.
    """

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "program-graph edge attributes are shared and read-only; "
            "copy the graph (graph.copy()) to change them"
        )

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    setdefault = pop = popitem = clear = _refuse  # type: ignore[assignment]

    def update(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        if kwargs or any(args):
            self._refuse()

    def __reduce__(self) -> tuple:
        return type(self), (dict(self),)


class Access(enum.StrEnum):
    """How a ``Name`` occurrence touches a variable (`GraphNode.access`)."""

    NONE = ""
    """Not a variable access: attribute names, keyword names, ``global`` names, names inside a
    nested function's parameters or a lambda's body, a bare annotation's target, ..."""
    READ = "read"
    """Reads the variable."""
    WRITE = "write"
    """Binds (or deletes) the variable."""
    READ_WRITE = "readwrite"
    """Reads then writes it (the target of an augmented assignment)."""


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One node of a program graph; a graph node's attributes are exactly these fields."""

    id: int  # node id, 0..n-1 in source pre-order; 0 is the unit's root
    node_type: NodeType  # syntax node, token, or call-target stand-in
    ast_type: str  # libcst class name ("Name", "If", "FunctionDef", ...)
    text: str  # source text of a TOKEN / name of a stand-in; "" for SYNTAX nodes
    line: int  # 1-based line of the node's first character
    col: int  # 0-based column of the node's first character
    access: Access = Access.NONE  # how a Name touches a variable (NONE for other nodes)


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """One edge of a program graph, as the graph stores it (see `EdgeType` for each kind)."""

    src: int  # source node id
    dst: int  # destination node id
    kind: EdgeType  # the edge kind (also the multigraph key)
    field: str | None = None  # AST_CHILD / AST_PARENT only: the libcst field name
    index: int | None = None  # AST_CHILD / AST_PARENT only: position in a sequence field


@dataclass(frozen=True)
class FunctionGraph:
    """The program graph of one unit: a function, or a module's top-level code."""

    name: str  # the function's name, or "<module>"
    qualname: str  # dotted path inside the file: "Class.method", "outer.<locals>.inner"
    path: str  # the file's path as given to the builder ("" when built from a string)
    kind: str  # "function" or "module"
    line: int  # 1-based line of the unit's root (the def's name for a function; 1 for a module)
    root: int  # node id of the root (always 0)
    graph: nx.MultiDiGraph = field(repr=False)  # nodes and edges as described in this module
    cfg_nodes: tuple[int, ...] = field(default=(), repr=False)  # control-flow nodes, in order

    def nodes(self) -> list[GraphNode]:
        """The nodes as `GraphNode` values, in id order."""
        return [GraphNode(**attrs) for _, attrs in sorted(self.graph.nodes(data=True))]

    def edges(self, kind: EdgeType | None = None) -> list[GraphEdge]:
        """The edges as `GraphEdge` values (of one kind when given), sorted."""
        out = [
            GraphEdge(u, v, k, data.get("field"), data.get("index"))
            for u, v, k, data in self.graph.edges(keys=True, data=True)
            if kind is None or k == kind
        ]
        out.sort(key=lambda e: (e.kind, e.src, e.dst, e.field or "", e.index or 0))
        return out


class GraphError(Exception):
    """A file could not be turned into program graphs (libcst cannot parse it).

    Callers that process many files catch it, count the file as skipped and go on.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '<string>'}: {message}")
        self.path = path  # the file's path as given ("" for a string)
        self.message = message  # the parser's message
