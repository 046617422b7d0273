"""Same-file function definitions and call resolution (for CALLS and FORMAL_ARG_NAME).

`index_definitions` walks a module's statements once and records every ``def`` with its scope.
`resolve_call` finds the definition a call names, by these rules:

- ``f(...)``: the last ``def f`` directly in the calling function's body (statements at any
  depth, not inside nested functions or classes), else in each enclosing function's, else at
  module level. Class bodies are not searched (they are not enclosing scopes in Python).
- ``self.m(...)`` / ``cls.m(...)`` in a method of class ``C``: ``C``'s last ``def m``.
- ``C.m(...)`` for a class ``C`` defined at module level: ``C``'s last ``def m``.

Rebinding a name by assignment or import is not tracked, so a resolution can be wrong when a
function's name is reassigned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

logger = logging.getLogger(__name__)


@dataclass
class Scope:
    """A module, class or function body and the definitions directly in it."""

    node: cst.CSTNode  # the Module, ClassDef or FunctionDef
    parent: Scope | None  # the enclosing scope (None for the module)
    qualname: str  # Python's __qualname__ of the scope ("" for the module)
    functions: dict[str, cst.FunctionDef] = field(default_factory=dict)  # last def per name
    # each class's ``functions`` by class name (not the class scopes: a class scope's parent
    # is this scope, and a reference cycle would keep the whole libcst tree alive until the
    # garbage collector's next full pass)
    class_functions: dict[str, dict[str, cst.FunctionDef]] = field(default_factory=dict)


@dataclass(frozen=True)
class Definition:
    """One ``def`` of the module."""

    node: cst.FunctionDef  # the def
    scope: Scope  # the scope the def is directly in
    own: Scope  # the def's own body scope
    qualname: str  # Python's __qualname__ ("C.m", "outer.<locals>.inner")


@dataclass(frozen=True)
class Resolved:
    """The result of resolving one call."""

    definition: cst.FunctionDef  # the def called
    skip_first: bool  # True when the first parameter is bound by the call's receiver


def _decorator_names(node: cst.FunctionDef) -> set[str]:
    names = set()
    for d in node.decorators:
        expr = d.decorator
        if isinstance(expr, cst.Name):
            names.add(expr.value)
        elif isinstance(expr, cst.Attribute):
            names.add(expr.attr.value)
    return names


def _statements(body: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Compound and simple statements of a suite, entering nested blocks but not defs."""
    stack = list(reversed(getattr(body, "body", ())))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine)):
            continue
        inner: list[cst.CSTNode] = []
        for name in ("body", "orelse", "finalbody"):
            part = getattr(node, name, None)
            if isinstance(part, cst.If):
                inner.append(part)
            elif isinstance(part, cst.CSTNode) and hasattr(part, "body"):
                inner.extend(part.body if isinstance(part, cst.BaseSuite) else part.body.body)
        for handler in getattr(node, "handlers", ()):
            inner.extend(handler.body.body)
        for case in getattr(node, "cases", ()):
            inner.extend(case.body.body)
        stack.extend(reversed(inner))


def index_definitions(module: cst.Module) -> tuple[Scope, list[Definition]]:
    """The module scope tree and every ``def`` in source order."""
    root = Scope(module, None, "")
    definitions: list[Definition] = []
    _index(root, module, definitions)
    return root, definitions


def _index(scope: Scope, body: cst.CSTNode, definitions: list[Definition]) -> None:
    """Record the defs and classes of one body in ``scope``, recursively."""
    for node in _statements(body):
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            prefix = scope.qualname
            if isinstance(scope.node, cst.FunctionDef):
                prefix += ".<locals>"
            qualname = f"{prefix}.{node.name.value}" if prefix else node.name.value
            own = Scope(node, scope, qualname)
            if isinstance(node, cst.FunctionDef):
                scope.functions[node.name.value] = node
                definitions.append(Definition(node, scope, own, qualname))
            else:
                scope.class_functions[node.name.value] = own.functions
            _index(own, node.body, definitions)


def resolve_call(call: cst.Call, scope: Scope) -> Resolved | None:
    """The same-file definition ``call`` invokes from code in ``scope``, if any."""
    func = call.func
    if isinstance(func, cst.Name):
        current: Scope | None = scope
        while current is not None:
            if not isinstance(current.node, cst.ClassDef):
                found = current.functions.get(func.value)
                if found is not None:
                    return Resolved(found, False)
            current = current.parent
        return None
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        receiver = func.value.value
        method = func.attr.value
        if receiver in ("self", "cls"):
            cls_scope = scope.parent if isinstance(scope.node, cst.FunctionDef) else None
            if cls_scope is not None and isinstance(cls_scope.node, cst.ClassDef):
                found = cls_scope.functions.get(method)
                if found is not None:
                    return Resolved(found, "staticmethod" not in _decorator_names(found))
            return None
        module = scope
        while module.parent is not None:
            module = module.parent
        class_functions = module.class_functions.get(receiver)
        if class_functions is not None:
            found = class_functions.get(method)
            if found is not None:
                return Resolved(found, "classmethod" in _decorator_names(found))
    return None


def positional_params(node: cst.FunctionDef) -> list[cst.Param]:
    """Parameters that positional arguments bind, in order."""
    return [*node.params.posonly_params, *node.params.params]


def keyword_params(node: cst.FunctionDef) -> dict[str, cst.Param]:
    """Parameters that keyword arguments bind, by name."""
    return {p.name.value: p for p in (*node.params.params, *node.params.kwonly_params)}


def bind_arguments(call: cst.Call, resolved: Resolved) -> list[tuple[cst.Arg, cst.Param]]:
    """(argument, parameter) pairs of a call to a resolved definition."""
    positional = positional_params(resolved.definition)
    if resolved.skip_first:
        positional = positional[1:]
    by_name = keyword_params(resolved.definition)
    pairs = []
    position = 0
    positional_known = True
    for arg in call.args:
        if arg.star:
            positional_known = False  # *args: later positions are unknown
            continue
        if arg.keyword is not None:
            param = by_name.get(arg.keyword.value)
            if param is not None:
                pairs.append((arg, param))
            continue
        if positional_known and position < len(positional):
            pairs.append((arg, positional[position]))
        position += 1
    return pairs
