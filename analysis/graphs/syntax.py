"""The syntax layer: which libcst nodes and fields a program graph keeps, in source order.

For every concrete libcst node class this module derives, once, its *structural fields*: the
dataclass fields that can hold a non-trivia node, each marked single-valued or sequence, listed
in source order. Trivia (whitespace, comments, newlines, parentheses, brackets, braces, commas,
dots, colons, semicolons, ``=`` of keyword arguments) never becomes a graph node. `walk_unit`
turns one unit's subtree into a flat pre-order list of `SyntaxItem`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

logger = logging.getLogger(__name__)

TRIVIA_CLASSES: tuple[type[cst.CSTNode], ...] = (
    cst.BaseParenthesizableWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.Comma,
    cst.Dot,
    cst.Colon,
    cst.Semicolon,
    cst.AssignEqual,
)

# Text of each operator token (libcst keeps it only in its code generator).
OPERATOR_TEXT: dict[str, str] = {
    "Add": "+", "AddAssign": "+=", "And": "and", "BitAnd": "&", "BitAndAssign": "&=",
    "BitInvert": "~", "BitOr": "|", "BitOrAssign": "|=", "BitXor": "^", "BitXorAssign": "^=",
    "Divide": "/", "DivideAssign": "/=", "Equal": "==", "FloorDivide": "//",
    "FloorDivideAssign": "//=", "GreaterThan": ">", "GreaterThanEqual": ">=", "In": "in",
    "Is": "is", "IsNot": "is not", "LeftShift": "<<", "LeftShiftAssign": "<<=",
    "LessThan": "<", "LessThanEqual": "<=", "MatrixMultiply": "@", "MatrixMultiplyAssign": "@=",
    "Minus": "-", "Modulo": "%", "ModuloAssign": "%=", "Multiply": "*", "MultiplyAssign": "*=",
    "Not": "not", "NotEqual": "!=", "NotIn": "not in", "Or": "or", "Plus": "+", "Power": "**",
    "PowerAssign": "**=", "RightShift": ">>", "RightShiftAssign": ">>=", "Subtract": "-",
    "SubtractAssign": "-=",
}  # fmt: skip

# Leaves whose text is a source token (identifiers and literals); operators are tokens too.
_VALUE_TOKENS: tuple[type[cst.CSTNode], ...] = (
    cst.Name,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.FormattedStringText,
)

# Classes whose dataclass field order differs from source order: the source order.
_SOURCE_ORDER: dict[str, tuple[str, ...]] = {
    "FunctionDef": ("decorators", "asynchronous", "name", "type_parameters", "params",
                    "returns", "body"),
    "ClassDef": ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    "Arg": ("keyword", "value"),
    "ExceptHandler": ("type", "name", "body"),
    "ExceptStarHandler": ("type", "name", "body"),
    "For": ("asynchronous", "target", "iter", "body", "orelse"),
    "With": ("asynchronous", "items", "body"),
    "CompFor": ("asynchronous", "target", "iter", "ifs", "inner_for_in"),
    "IfExp": ("body", "test", "orelse"),
    "Parameters": ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params",
                   "star_kwarg"),
    "MatchCase": ("pattern", "guard", "body"),
}  # fmt: skip

_TYPING_WORDS = frozenset(
    {"Sequence", "Optional", "Union", "Literal", "ForwardRef", "MaybeSentinel", "NoneType"}
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One structural field of a libcst node class."""

    name: str  # the dataclass field name ("body", "test", ...)
    is_sequence: bool  # True when the field holds a sequence of nodes


@dataclass(slots=True)
class SyntaxItem:
    """One kept libcst node of a unit, with its place in the tree (built by `walk_unit`)."""

    node: cst.CSTNode  # the libcst node
    parent: int  # index of the parent item, -1 for the unit's root
    field: str | None  # the parent's field holding this node (None for the root)
    index: int | None  # position inside a sequence field, None for a single-valued field


@functools.cache
def _is_trivia_class(cls: type) -> bool:
    return issubclass(cls, TRIVIA_CLASSES)


@functools.cache
def _node_kind(cls: type) -> int:
    """0: not a libcst node; 1: a trivia node; 2: a node the graph keeps."""
    if not issubclass(cls, cst.CSTNode):
        return 0
    return 1 if issubclass(cls, TRIVIA_CLASSES) else 2


def is_trivia(node: cst.CSTNode) -> bool:
    """True for whitespace and punctuation nodes, which never become graph nodes."""
    return _is_trivia_class(type(node))


@functools.cache
def token_kind(cls: type) -> tuple[bool, str | None]:
    """(is an identifier or literal leaf, operator text or None) of a node class."""
    return issubclass(cls, _VALUE_TOKENS), OPERATOR_TEXT.get(cls.__name__)


def token_text(node: cst.CSTNode) -> str | None:
    """The token text of a leaf that is a source token, else None."""
    is_value, operator = token_kind(type(node))
    return node.value if is_value else operator  # type: ignore[attr-defined]


@functools.cache
def node_classes() -> dict[str, type[cst.CSTNode]]:
    """Every concrete, non-trivia libcst node class by name (a stable vocabulary)."""
    out = {}
    for name, cls in vars(cst).items():
        if (
            inspect.isclass(cls)
            and issubclass(cls, cst.CSTNode)
            and not inspect.isabstract(cls)
            and not name.startswith("Base")
            and not issubclass(cls, TRIVIA_CLASSES)
            and dataclasses.is_dataclass(cls)
        ):
            out[name] = cls
    return dict(sorted(out.items()))


def _annotation_classes(annotation: object) -> list[type]:
    """The libcst node classes named in a field annotation."""
    found = []
    for word in re.findall(r"[A-Za-z_]\w*", str(annotation)):
        if word in _TYPING_WORDS:
            continue
        cls = getattr(cst, word, None)
        if inspect.isclass(cls) and issubclass(cls, cst.CSTNode):
            found.append(cls)
    return found


@functools.cache
def field_specs(cls: type[cst.CSTNode]) -> tuple[FieldSpec, ...]:
    """The structural fields of a node class, in source order."""
    specs = {}
    for f in dataclasses.fields(cls):
        classes = _annotation_classes(f.type)
        if not any(not issubclass(c, TRIVIA_CLASSES) for c in classes):
            continue
        specs[f.name] = FieldSpec(f.name, "Sequence[" in str(f.type))
    order = _SOURCE_ORDER.get(cls.__name__, ())
    ordered = [specs.pop(name) for name in order if name in specs]
    return tuple(ordered + list(specs.values()))


@functools.cache
def field_child_classes(cls: type[cst.CSTNode], field_name: str) -> tuple[str, ...]:
    """Names of the concrete classes a field of ``cls`` may hold (abstract bases expanded)."""
    f = next(f for f in dataclasses.fields(cls) if f.name == field_name)
    names = set()
    for named in _annotation_classes(f.type):
        for name, concrete in node_classes().items():
            if issubclass(concrete, named):
                names.add(name)
    return tuple(sorted(names))


def iter_children(node: cst.CSTNode) -> Iterator[tuple[str, int | None, cst.CSTNode]]:
    """The non-trivia children of a node as (field, index-or-None, child), in source order."""
    return ((c.field, c.index, c.node) for c in _children(node, -1))  # type: ignore[misc]


def _children(node: cst.CSTNode, me: int) -> list[SyntaxItem]:
    """The non-trivia children of ``node`` (item ``me``) as items, in source order."""
    out = []
    for spec in field_specs(type(node)):
        value = getattr(node, spec.name)
        if spec.is_sequence:
            if _node_kind(type(value)):  # e.g. ImportFrom.names = ImportStar()
                value = (value,)
            elif not isinstance(value, (tuple, list)):
                continue
            i = 0
            for child in value:
                if _node_kind(type(child)) == 2:
                    out.append(SyntaxItem(child, me, spec.name, i))
                    i += 1
        elif _node_kind(type(value)) == 2:
            out.append(SyntaxItem(value, me, spec.name, None))
    return out


def walk_unit(root: cst.CSTNode) -> list[SyntaxItem]:
    """Pre-order list of the unit's kept nodes; nested functions' bodies are left out."""
    items: list[SyntaxItem] = []
    stack = [SyntaxItem(root, -1, None, None)]
    pop, push, add = stack.pop, stack.extend, items.append
    function_def = cst.FunctionDef
    while stack:
        item = pop()
        me = len(items)
        add(item)
        node = item.node
        children = _children(node, me)
        if children:
            if me and type(node) is function_def:  # a nested def: its body is its own unit
                children = [c for c in children if c.field != "body"]
            children.reverse()
            push(children)
    return items


def node_index(items: list[SyntaxItem]) -> dict[int, int]:
    """``id(node)`` -> item index, for finding a libcst node's item."""
    return {id(item.node): i for i, item in enumerate(items)}


def subtree_ends(items: list[SyntaxItem]) -> list[int]:
    """For each item, one past the last item of its subtree (items are in pre-order)."""
    end = [i + 1 for i in range(len(items))]
    for i in range(len(items) - 1, 0, -1):
        parent = items[i].parent
        if end[i] > end[parent]:
            end[parent] = end[i]
    return end
