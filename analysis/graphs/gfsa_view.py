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

Views (`VIEWS`; a GFSA layer records the one it was trained on):

- ``"ast"`` (`DEFAULT_VIEW`) — the AST alone, as above.
- ``"variables"`` — the AST plus one virtual node of type ``"<variable>"`` per distinct variable
  of the unit (the text of the ``Name`` nodes that access a variable, `Access` not NONE: the
  names LAST_READ / LAST_WRITE relate), so that the agent can find the other occurrences of the
  same identifier, as in the GFSA paper's setting. ``Name`` gets three more moves:
  ``variable`` (to its variable node), ``occurrence.next`` and ``occurrence.prev`` (to the next
  / previous access of the same variable in source order); a ``Name`` that is not a variable
  access (an attribute, a keyword, ...) has them all missing. A variable node has
  ``occurrences.first`` and ``occurrences.last`` (its first / last access in source order).
  Variable nodes are states of the POMDP but not graph nodes: the networkx graph is unchanged,
  walks never start at them, and their ids (`GfsaView.virtual`) follow the graph's ids.
- ``"accesses"`` — the "variables" view in which the agent also observes how a ``Name`` accesses
  its variable: a variable access is observed as type ``"Name:read"``, ``"Name:write"`` or
  ``"Name:readwrite"`` (`Access`), as Python's own ``ast`` shows it in ``Name.ctx`` (``Load``,
  ``Store``, ``Del``), the AST of the GFSA paper. Without it the agent must climb to the
  assignment above a name to tell a read from a write. The moves are those of ``Name``
  (`base_type`); `GfsaView.node_types` keeps the libcst class, `GfsaView.observed_type` gives
  the observed one.

Each view also exists with the suffix ``"+fields"`` (`FIELDS_SUFFIX`; e.g. ``"accesses+fields"``):
there, arriving at a node by a ``parent`` move is observed as ``"parent.F"``, where ``F`` is the
field of the node the agent came up from (``"parent.test"``, ``"parent.body"``, ...), as in the
reference implementation's schema, whose parent receives the agent on the in-edge type
``"F_in"``. Without it the agent only observes ``"parent"`` and must remember in its finite
state where it came from (a ``Name`` in a ``For``'s target or its iterable, an ``If``'s test or
its body). The moves are the same; only the arrival observations differ.

The views with variables also exist with the suffix ``"+scan"`` (`SCAN_SUFFIX`; after
``"+fields"`` when both, e.g. ``"accesses+fields+scan"``): every AST node gets two more moves
over the unit's variable accesses (the ``Name`` nodes of any variable, in source order):
``access.before`` (to the last access that starts before the node; at a ``Name``, the previous
access of any variable) and ``accesses.last`` (to the last access inside the node's subtree).
With them the agent can jump from a place in the tree to the accesses just before it and scan
backwards one access at a time, instead of searching subtrees for its variable. Which of those
accesses a data-flow edge goes to (a branch that cannot have run, a loop's back edge) is still
for the agent to work out from the tree.
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

AST_VIEW = "ast"  # the AST alone
VARIABLES_VIEW = "variables"  # the AST plus a virtual node per variable (see the docstring)
ACCESSES_VIEW = "accesses"  # "variables", and a Name's access kind is observed (see the docstring)
FIELDS_SUFFIX = "+fields"  # a view whose parent arrivals name the field (see the docstring)
SCAN_SUFFIX = "+scan"  # a view with moves over the unit's variable accesses (see the docstring)
BASE_VIEWS = (AST_VIEW, VARIABLES_VIEW, ACCESSES_VIEW)
VIEWS = (
    *(v + fields for fields in ("", FIELDS_SUFFIX) for v in BASE_VIEWS),
    *(v + fields + SCAN_SUFFIX for fields in ("", FIELDS_SUFFIX) for v in BASE_VIEWS if v != AST_VIEW),
)
# the views with virtual variable nodes
VIEWS_WITH_VARIABLES = tuple(v for v in VIEWS if v.partition("+")[0] != AST_VIEW)
DEFAULT_VIEW = AST_VIEW  # what layers without a recorded view were trained on

VARIABLE_TYPE = "<variable>"  # node type of a virtual variable node (not a libcst class)
VARIABLE = "variable"  # Name -> its variable node
OCCURRENCE_NEXT = "occurrence.next"  # Name -> next access of the same variable (source order)
OCCURRENCE_PREV = "occurrence.prev"  # Name -> previous access of the same variable
OCCURRENCES_FIRST = "occurrences.first"  # variable node -> its first access
OCCURRENCES_LAST = "occurrences.last"  # variable node -> its last access
ACCESS_BEFORE = "access.before"  # "+scan": node -> the last variable access starting before it
ACCESSES_LAST = "accesses.last"  # "+scan": node -> the last variable access inside its subtree
SCAN_MOVES = (ACCESS_BEFORE, ACCESSES_LAST)
NAME_TYPE = "Name"  # the node type that gets the variable moves
ACCESS_SEPARATOR = ":"  # "accesses" view: observed type of a variable access, "Name:<access>"
ACCESS_TYPES = tuple(f"{NAME_TYPE}{ACCESS_SEPARATOR}{a}" for a in ("read", "write", "readwrite"))

Observation = tuple[str, str]  # (node type, arrival)


def check_view(view: str) -> str:
    """``view`` itself; ValueError when it is not one of `VIEWS`."""
    if view not in VIEWS:
        raise ValueError(f"unknown GFSA view {view!r} (choose from {', '.join(VIEWS)})")
    return view


def base_view(view: str) -> str:
    """The view without its suffixes (``"accesses+fields"`` -> ``"accesses"``)."""
    return check_view(view).partition("+")[0]


def has_field_arrivals(view: str) -> bool:
    """True when ``view`` observes the field a ``parent`` move came up from (`FIELDS_SUFFIX`)."""
    return FIELDS_SUFFIX in check_view(view)


def has_access_scan(view: str) -> bool:
    """True when ``view`` has the moves over variable accesses (`SCAN_SUFFIX`)."""
    return SCAN_SUFFIX in check_view(view)


@dataclass(frozen=True)
class GfsaView:
    """The POMDP of one graph: states are AST nodes, actions are move types."""

    nodes: tuple[int, ...]  # AST node ids of the graph, in id order (walks start here)
    node_types: dict[int, str]  # node id -> node type (libcst class name, or VARIABLE_TYPE)
    moves: dict[tuple[int, str], int]  # (node, move type) -> destination (node itself if missing)
    virtual: tuple[int, ...] = ()  # "variables" view: the variable nodes' ids (after the graph's)
    view: str = DEFAULT_VIEW  # which view this is (`VIEWS`)

    observed: dict[int, str] | None = None  # "accesses" view: node -> observed type, where it differs
    # "+fields" views: node -> the field it is in (its parent's), for its parent move's arrival
    parent_field: dict[int, str] | None = None

    def observed_type(self, node: int) -> str:
        """The type the agent observes at ``node``: its node type, except for a variable access in
        the "accesses" view (``"Name:read"``, ...)."""
        if self.observed and node in self.observed:
            return self.observed[node]
        return self.node_types[node]

    @property
    def states(self) -> tuple[int, ...]:
        """Every node of the POMDP: the AST nodes, then the virtual ones."""
        return self.nodes + self.virtual

    def is_missing(self, node: int, move: str) -> bool:
        """True when ``move`` does not apply at ``node`` (a self-loop)."""
        return self.moves[(node, move)] == node

    def observation(self, node: int, move: str) -> Observation:
        """What the agent observes after taking ``move`` from ``node``."""
        destination = self.moves[(node, move)]
        if destination == node:
            arrival = move + MISSING_SUFFIX
        elif move == PARENT and self.parent_field is not None:
            arrival = f"{PARENT}.{self.parent_field[node]}"
        else:
            arrival = move
        return (self.observed_type(destination), arrival)


def base_type(node_type: str) -> str:
    """The libcst class of an observed type (``"Name:read"`` -> ``"Name"``; others unchanged)."""
    return node_type.partition(ACCESS_SEPARATOR)[0]


@functools.cache
def move_types(node_type: str, view: str = DEFAULT_VIEW) -> tuple[str, ...]:
    """The move types of a node type (or observed type) in ``view``, in a fixed order (the views
    with variables append their moves after the AST ones, so the AST moves keep their slots)."""
    node_type = base_type(node_type)
    if node_type == VARIABLE_TYPE and check_view(view) in VIEWS_WITH_VARIABLES:
        return (OCCURRENCES_FIRST, OCCURRENCES_LAST)
    out: list[str] = []
    for spec in field_specs(node_classes()[node_type]):
        if spec.is_sequence:
            out += [f"{spec.name}.first", f"{spec.name}.last"]
        else:
            out.append(spec.name)
    out += [PARENT, NEXT, PREV]
    if node_type == NAME_TYPE and check_view(view) in VIEWS_WITH_VARIABLES:
        out += [VARIABLE, OCCURRENCE_NEXT, OCCURRENCE_PREV]
    if has_access_scan(view):
        out += SCAN_MOVES
    return tuple(out)


@functools.cache
def node_types_of(view: str = DEFAULT_VIEW) -> tuple[str, ...]:
    """Every observable type of ``view``, sorted: the libcst classes (and VARIABLE_TYPE, and the
    ACCESS_TYPES of the "accesses" view)."""
    extra = {AST_VIEW: (), VARIABLES_VIEW: (VARIABLE_TYPE,),
             ACCESSES_VIEW: (VARIABLE_TYPE, *ACCESS_TYPES)}[base_view(view)]  # fmt: skip
    return tuple(sorted((*node_classes(), *extra)))


@functools.cache
def all_move_types(view: str = DEFAULT_VIEW) -> tuple[str, ...]:
    """Every move type of every node type, sorted (the action vocabulary)."""
    return tuple(sorted({m for t in node_types_of(view) for m in move_types(t, view)}))


@functools.cache
def observation_vocabulary(view: str = DEFAULT_VIEW) -> tuple[Observation, ...]:
    """Every observation any graph can produce in ``view``, sorted (the observation vocabulary).

    ``(T, "start")`` for every type; ``(T, m + "/missing")`` for each move ``m`` of ``T``;
    ``(T, "parent")`` when ``T`` has children (in a "+fields" view ``(T, "parent.F")`` for each
    field ``F`` of ``T`` instead); ``(T, F)``, ``(T, F.first)``, ``(T, F.last)`` when
    a field ``F`` of some type may hold a ``T``; ``(T, "next")`` and ``(T, "prev")`` when some
    sequence field may hold a ``T``. The "variables" view adds the observations of its moves:
    ``("<variable>", "variable")``, and ``("Name", m)`` for the moves ``m`` that end at a Name.
    The "accesses" view has each ``("Name", a)`` also as ``(t, a)`` for every t of ACCESS_TYPES.
    """
    vocabulary: set[Observation] = set()
    classes = node_classes()
    if check_view(view) in VIEWS_WITH_VARIABLES:
        vocabulary.add((VARIABLE_TYPE, START))
        vocabulary.update((VARIABLE_TYPE, m + MISSING_SUFFIX) for m in move_types(VARIABLE_TYPE, view))
        vocabulary.add((VARIABLE_TYPE, VARIABLE))
        arrivals = (OCCURRENCES_FIRST, OCCURRENCES_LAST, OCCURRENCE_NEXT, OCCURRENCE_PREV)
        arrivals += SCAN_MOVES if has_access_scan(view) else ()
        vocabulary.update((NAME_TYPE, m) for m in arrivals)
    for t, cls in classes.items():
        vocabulary.add((t, START))
        vocabulary.update((t, m + MISSING_SUFFIX) for m in move_types(t, view))
        specs = field_specs(cls)
        if specs and has_field_arrivals(view):
            vocabulary.update((t, f"{PARENT}.{spec.name}") for spec in specs)
        elif specs:
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
    if base_view(view) == ACCESSES_VIEW:
        names = [arrival for t, arrival in vocabulary if t == NAME_TYPE]
        vocabulary.update((t, arrival) for t in ACCESS_TYPES for arrival in names)
    return tuple(sorted(vocabulary))


def gfsa_view(fg: FunctionGraph, view: str = DEFAULT_VIEW) -> GfsaView:
    """The GFSA view of a graph: every (node, move type) with its destination (the graph is
    only read)."""
    check_view(view)
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
    parent_field = {child: field for child, (field, _) in place.items()} if has_field_arrivals(view) else None
    if base_view(view) == AST_VIEW:
        return GfsaView(nodes, node_types, moves, view=view, parent_field=parent_field)
    virtual = _add_variables(fg, nodes, node_types, moves)
    if has_access_scan(view):
        _add_access_scan(fg, nodes, moves, parent)
    observed = None
    if base_view(view) == ACCESSES_VIEW:
        data = graph.nodes
        observed = {n: f"{NAME_TYPE}{ACCESS_SEPARATOR}{data[n]['access']}" for n in nodes
                    if node_types[n] == NAME_TYPE and data[n]["access"]}  # fmt: skip
    return GfsaView(nodes, node_types, moves, virtual, view, observed, parent_field)


def _add_variables(
    fg: FunctionGraph, nodes: tuple[int, ...], node_types: dict[int, str],
    moves: dict[tuple[int, str], int],
) -> tuple[int, ...]:  # fmt: skip
    """The "variables" view's virtual nodes and moves, added to ``node_types`` and ``moves``;
    returns the virtual node ids (one per variable, in order of first access)."""
    graph = fg.graph
    occurrences: dict[str, list[int]] = {}  # variable name -> its accesses in source order
    for n in nodes:
        if node_types[n] == NAME_TYPE:
            data = graph.nodes[n]
            if data["access"]:  # Access.NONE is ""
                occurrences.setdefault(data["text"], []).append(n)
    next_id = max(graph.nodes, default=-1) + 1
    virtual: list[int] = []
    variable_of: dict[int, int] = {}
    for accesses in occurrences.values():
        v = next_id + len(virtual)
        virtual.append(v)
        node_types[v] = VARIABLE_TYPE
        moves[(v, OCCURRENCES_FIRST)] = accesses[0]
        moves[(v, OCCURRENCES_LAST)] = accesses[-1]
        for k, n in enumerate(accesses):
            variable_of[n] = v
            moves[(n, OCCURRENCE_NEXT)] = accesses[k + 1] if k + 1 < len(accesses) else n
            moves[(n, OCCURRENCE_PREV)] = accesses[k - 1] if k > 0 else n
    for n in nodes:
        if node_types[n] == NAME_TYPE:
            moves[(n, VARIABLE)] = variable_of.get(n, n)
            moves.setdefault((n, OCCURRENCE_NEXT), n)
            moves.setdefault((n, OCCURRENCE_PREV), n)
    return tuple(virtual)


def _add_access_scan(
    fg: FunctionGraph, nodes: tuple[int, ...], moves: dict[tuple[int, str], int], parent: dict[int, int],
) -> None:  # fmt: skip
    """The "+scan" moves of every AST node, added to ``moves`` (node ids are in source order, so
    the accesses before a node are those with smaller ids, and a subtree's accesses are its
    descendants)."""
    data = fg.graph.nodes
    accesses = [n for n in nodes if data[n]["ast_type"] == NAME_TYPE and data[n]["access"]]
    last_inside: dict[int, int] = {}
    for a in accesses:  # increasing ids: each later access overwrites its ancestors' entries
        node = last_inside[a] = a
        while node in parent:
            node = parent[node]
            last_inside[node] = a
    k = 0  # accesses[:k] start before the current node
    for n in nodes:  # increasing ids
        while k < len(accesses) and accesses[k] < n:
            k += 1
        moves[(n, ACCESS_BEFORE)] = accesses[k - 1] if k else n
        moves[(n, ACCESSES_LAST)] = last_inside.get(n, n)


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
