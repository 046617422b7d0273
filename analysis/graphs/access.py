"""Variable accesses: which ``Name`` occurrences read or write a variable (`Access`).

A context flows from each node to its children (parents come first in the pre-order item
list). Assignment targets start a write context that passes through ``Tuple``, ``List``,
``Element``, ``StarredElement`` and ``AsName`` only, so ``a.b = 1`` and ``a[i] = 1`` read ``a``
(and ``i``) and write no variable. Variables are identified by name within a unit (as in
python-graphs); scopes of comprehensions and class bodies are not separated.
"""

from __future__ import annotations

import enum
import functools
import logging

import libcst as cst

from .schema import Access
from .syntax import SyntaxItem

logger = logging.getLogger(__name__)


class _Ctx(enum.IntEnum):  # an IntEnum: hashed as an int by the cache below
    NONE = 0  # nothing below is a variable access
    READ = 1
    WRITE = 2
    READ_WRITE = 3
    IMPORTED = 4  # an imported dotted name: its leftmost Name is bound
    ROOT_PARAMS = 5  # the unit's own parameters: names bound at entry, defaults elsewhere
    NESTED_PARAMS = 6  # a nested def's / lambda's parameters: only defaults are read here


_PASS_WRITE = frozenset({"Tuple", "List", "Element", "StarredElement", "AsName"})
_TARGET_FIELDS = {
    ("AssignTarget", "target"): _Ctx.WRITE,
    ("AugAssign", "target"): _Ctx.READ_WRITE,
    ("For", "target"): _Ctx.WRITE,
    ("CompFor", "target"): _Ctx.WRITE,
    ("NamedExpr", "target"): _Ctx.WRITE,
    ("Del", "target"): _Ctx.WRITE,
    ("WithItem", "asname"): _Ctx.WRITE,
    ("ExceptHandler", "name"): _Ctx.WRITE,
    ("ExceptStarHandler", "name"): _Ctx.WRITE,
    ("ImportAlias", "asname"): _Ctx.WRITE,
    ("ClassDef", "name"): _Ctx.WRITE,
    ("TypeAlias", "name"): _Ctx.WRITE,
    ("MatchAs", "name"): _Ctx.WRITE,
    ("MatchStar", "name"): _Ctx.WRITE,
    ("MatchMapping", "rest"): _Ctx.WRITE,
    ("Attribute", "attr"): _Ctx.NONE,
    ("Arg", "keyword"): _Ctx.NONE,
    ("ImportFrom", "module"): _Ctx.NONE,
    ("NameItem", "name"): _Ctx.NONE,
    ("MatchKeywordElement", "key"): _Ctx.NONE,
    ("ClassDef", "type_parameters"): _Ctx.NONE,
    ("TypeAlias", "type_parameters"): _Ctx.NONE,
    ("Lambda", "params"): _Ctx.NESTED_PARAMS,
    ("Lambda", "body"): _Ctx.NONE,
}
_ROOT_HEADER = frozenset({"decorators", "returns", "type_parameters", "name"})
_ACCESS = {
    _Ctx.READ: Access.READ,
    _Ctx.WRITE: Access.WRITE,
    _Ctx.READ_WRITE: Access.READ_WRITE,
    _Ctx.IMPORTED: Access.WRITE,
}


def _child_ctx(
    parent: cst.CSTNode | None, kind: str, is_root: bool, pctx: _Ctx, field: str
) -> _Ctx:
    """The context of a child in ``field`` of a ``kind`` node (``parent``: the node itself)."""
    if pctx is _Ctx.NONE:
        return _Ctx.NONE
    if pctx in (_Ctx.WRITE, _Ctx.READ_WRITE) and kind in _PASS_WRITE:
        return pctx
    if pctx is _Ctx.IMPORTED and kind == "Attribute":
        return _Ctx.IMPORTED if field == "value" else _Ctx.NONE
    if pctx in (_Ctx.ROOT_PARAMS, _Ctx.NESTED_PARAMS):
        if kind == "Param":
            if field == "name":
                return _Ctx.WRITE if pctx is _Ctx.ROOT_PARAMS else _Ctx.NONE
            return _Ctx.NONE if pctx is _Ctx.ROOT_PARAMS else _Ctx.READ
        return pctx  # Parameters -> Param
    if kind == "FunctionDef":
        if field == "params":
            return _Ctx.ROOT_PARAMS if is_root else _Ctx.NESTED_PARAMS
        if is_root and field in _ROOT_HEADER:
            return _Ctx.NONE
        if field == "name":
            return _Ctx.WRITE
        if field == "type_parameters":
            return _Ctx.NONE
        return _Ctx.READ
    if kind == "AnnAssign" and field == "target":
        return _Ctx.WRITE if parent.value is not None else _Ctx.NONE  # type: ignore[union-attr]
    if kind == "ImportAlias" and field == "name":
        return _Ctx.IMPORTED if parent.asname is None else _Ctx.NONE  # type: ignore[union-attr]
    return _TARGET_FIELDS.get((kind, field), _Ctx.READ)


# Parent classes whose children's context depends on the parent node itself, not only on
# its class: they are not cached.
_NODE_DEPENDENT = frozenset({cst.AnnAssign, cst.ImportAlias})


@functools.cache
def _class_child_ctx(cls: type, is_root: bool, pctx: _Ctx, field: str) -> _Ctx:
    return _child_ctx(None, cls.__name__, is_root, pctx, field)


def classify_accesses(items: list[SyntaxItem]) -> list[Access]:
    """The `Access` of every item (NONE for everything but variable ``Name`` occurrences)."""
    ctx: list[_Ctx] = [_Ctx.READ] * len(items)
    out: list[Access] = [Access.NONE] * len(items)
    none, name = _Ctx.NONE, cst.Name
    for i, item in enumerate(items):
        p = item.parent
        if p >= 0:
            pctx = ctx[p]
            if pctx is none:
                c = none
            else:
                parent = items[p].node
                cls = type(parent)
                if cls in _NODE_DEPENDENT:
                    field: str = item.field  # type: ignore[assignment]
                    c = _child_ctx(parent, cls.__name__, p == 0, pctx, field)
                else:
                    c = _class_child_ctx(cls, p == 0, pctx, item.field)
            ctx[i] = c
        if type(item.node) is name:
            out[i] = _ACCESS.get(ctx[i], Access.NONE)
    return out
