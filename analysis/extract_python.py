"""Facts of a Python file from the captures of `queries/python.scm`."""

from __future__ import annotations

import tree_sitter

from bowerbird.analysis.extract import (
    capped,
    descendants,
    enclosing_names,
    literal_spans,
    name_spans,
    span,
    text,
)
from bowerbird.analysis.facts import (
    MAX_FUNCTION_CHARS,
    ClassInfo,
    FunctionInfo,
    Import,
    ParsedFile,
    Span,
)

_SCOPES = frozenset({"class_definition", "function_definition"})
_NAMES = frozenset({"identifier"})
MAX_FIELD_CHARS = 300


def extract(captures: dict[str, list[tree_sitter.Node]], source: bytes, lines: int) -> ParsedFile:
    get = lambda name: captures.get(name, [])  # noqa: E731
    return ParsedFile(
        language="python",
        package=None,
        lines=lines,
        imports=tuple(imp for node in get("import") for imp in _imports(node, source)),
        classes=tuple(_class(node, source) for node in get("class")),
        functions=tuple(_function(node, source) for node in get("function")),
        fields=tuple(
            span(node, source, capped(text(node, source), MAX_FIELD_CHARS)) for node in get("field")
        ),
        identifiers=name_spans(get("identifier"), source),
        type_identifiers=_type_identifiers(get("type") + get("bases"), source),
        string_literals=literal_spans((n for n in get("string") if not _is_docstring(n)), source),
    )


def _imports(node: tree_sitter.Node, source: bytes) -> list[Import]:
    line, end = node.start_point[0], node.end_point[0]
    if node.type == "import_statement":
        return [_plain_import(child, source, line, end) for child in node.children_by_field_name("name")]
    if node.type == "future_import_statement":
        module, level = "__future__", 0
    else:
        module_node = node.child_by_field_name("module_name")
        module, level = _module_and_level(module_node, source)
    names = node.children_by_field_name("name")
    if not names:  # `from m import *`
        return [Import(module, "*", None, level, line, end)]
    result = []
    for child in names:
        if child.type == "aliased_import":
            name = text(child.child_by_field_name("name"), source)
            alias = text(child.child_by_field_name("alias"), source)
        else:
            name, alias = text(child, source), None
        result.append(Import(module, name, alias, level, line, end))
    return result


def _plain_import(child: tree_sitter.Node, source: bytes, line: int, end: int) -> Import:
    if child.type == "aliased_import":
        module = text(child.child_by_field_name("name"), source)
        alias = text(child.child_by_field_name("alias"), source)
        return Import(module, None, alias, 0, line, end)
    return Import(text(child, source), None, None, 0, line, end)


def _module_and_level(node: tree_sitter.Node | None, source: bytes) -> tuple[str, int]:
    if node is None:
        return "", 0
    if node.type == "relative_import":
        prefix = next((c for c in node.children if c.type == "import_prefix"), None)
        level = (prefix.end_byte - prefix.start_byte) if prefix is not None else 0
        dotted = next((c for c in node.children if c.type == "dotted_name"), None)
        return (text(dotted, source) if dotted is not None else ""), level
    return text(node, source), 0


def _class(node: tree_sitter.Node, source: bytes) -> ClassInfo:
    name = text(node.child_by_field_name("name"), source)
    bases = []
    superclasses = node.child_by_field_name("superclasses")
    if superclasses is not None:
        for arg in superclasses.named_children:
            if arg.type == "subscript":  # Generic[T] -> Generic
                arg = arg.child_by_field_name("value")
            if arg is not None and arg.type in ("identifier", "attribute"):
                bases.append(text(arg, source))
    return ClassInfo(
        name=name,
        qualname=".".join([*enclosing_names(node, source, _SCOPES), name]),
        line=node.start_point[0],
        end_line=node.end_point[0],
        bases=tuple(bases),
    )


def _function(node: tree_sitter.Node, source: bytes) -> FunctionInfo:
    name = text(node.child_by_field_name("name"), source)
    body = node.child_by_field_name("body")
    head_end = body.start_byte if body is not None else node.end_byte
    head_end_line = body.start_point[0] if body is not None else node.end_point[0]
    colon = next((c for c in node.children if c.type == ":"), None)
    if colon is not None:
        head_end, head_end_line = colon.end_byte, colon.end_point[0]
    parent = node.parent
    if parent is not None and parent.type == "decorated_definition":
        parent = parent.parent
    is_method = (
        parent is not None
        and parent.type == "block"
        and parent.parent is not None
        and parent.parent.type == "class_definition"
    )
    return FunctionInfo(
        name=name,
        qualname=".".join([*enclosing_names(node, source, _SCOPES), name]),
        is_method=is_method,
        line=node.start_point[0],
        end_line=node.end_point[0],
        signature=" ".join(source[node.start_byte : head_end].decode("utf-8", "replace").split()),
        head_end_line=head_end_line,
        text=capped(" " * node.start_point[1] + text(node, source), MAX_FUNCTION_CHARS),
    )


def _type_identifiers(nodes: list[tree_sitter.Node], source: bytes) -> tuple[Span, ...]:
    found = {}  # by start byte: annotations nest (`type` inside `type`)
    for node in nodes:
        for name in descendants(node, _NAMES):
            if name.parent is not None and name.parent.type == "keyword_argument":
                continue  # metaclass=ABCMeta is not a type use
            found[name.start_byte] = name
    return name_spans((found[key] for key in sorted(found)), source)


def _is_docstring(node: tree_sitter.Node) -> bool:
    statement = node.parent
    if statement is None or statement.type != "expression_statement" or statement.named_child_count != 1:
        return False
    container = statement.parent
    if container is None or container.type not in ("module", "block"):
        return False
    first = next((c for c in container.named_children if c.type != "comment"), None)
    return first is not None and first.id == statement.id
