"""Facts of a Java file from the captures of `queries/java.scm`."""

from __future__ import annotations

import tree_sitter

from bowerbird.analysis.extract import capped, enclosing_names, literal_spans, name_spans, span, spans, text
from bowerbird.analysis.facts import MAX_FUNCTION_CHARS, ClassInfo, FunctionInfo, Import, ParsedFile

_CLASSES = frozenset(
    {"class_declaration", "interface_declaration", "enum_declaration", "record_declaration"}
)
_SCOPES = _CLASSES | {"method_declaration", "constructor_declaration"}
_TYPE_NAMES = ("type_identifier", "scoped_type_identifier")


def extract(captures: dict[str, list[tree_sitter.Node]], source: bytes, lines: int) -> ParsedFile:
    get = lambda name: captures.get(name, [])  # noqa: E731
    packages = get("package")
    return ParsedFile(
        language="java",
        package=_dotted(packages[0], source) if packages else None,
        lines=lines,
        imports=tuple(_import(node, source) for node in get("import")),
        classes=tuple(_class(node, source) for node in get("class")),
        functions=tuple(_function(node, source) for node in get("function")),
        fields=spans(get("field"), source),
        identifiers=name_spans(get("identifier"), source),
        type_identifiers=name_spans(get("type_identifier"), source),
        string_literals=literal_spans(get("string"), source),
    )


def _dotted(node: tree_sitter.Node, source: bytes) -> str:
    named = next((c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None)
    return text(named, source) if named is not None else ""


def _import(node: tree_sitter.Node, source: bytes) -> Import:
    dotted = _dotted(node, source)
    line, end = node.start_point[0], node.end_point[0]
    if any(c.type == "asterisk" for c in node.children):
        return Import(dotted, "*", None, 0, line, end)
    module, _, name = dotted.rpartition(".")
    return Import(module, name, None, 0, line, end)


def _class(node: tree_sitter.Node, source: bytes) -> ClassInfo:
    name = text(node.child_by_field_name("name"), source)
    bases: list[str] = []
    for child in node.children:
        if child.type in ("superclass", "super_interfaces", "extends_interfaces"):
            bases.extend(_type_names(child, source))
    return ClassInfo(
        name=name,
        qualname=".".join([*enclosing_names(node, source, _SCOPES), name]),
        line=node.start_point[0],
        end_line=node.end_point[0],
        bases=tuple(bases),
    )


def _type_names(node: tree_sitter.Node, source: bytes) -> list[str]:
    """Base type names under a superclass/interfaces clause, generic arguments dropped."""
    names = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _TYPE_NAMES:
            names.append(text(current, source))
        elif current.type == "generic_type":
            head = next((c for c in current.children if c.type in _TYPE_NAMES), None)
            if head is not None:
                names.append(text(head, source))
        else:
            stack.extend(reversed(current.children))
    return names


def _function(node: tree_sitter.Node, source: bytes) -> FunctionInfo:
    name = text(node.child_by_field_name("name"), source)
    body = node.child_by_field_name("body")
    head_end = body.start_byte if body is not None else node.end_byte
    head = source[node.start_byte : head_end].decode("utf-8", "replace")
    return FunctionInfo(
        name=name,
        qualname=".".join([*enclosing_names(node, source, _SCOPES), name]),
        is_method=True,
        line=node.start_point[0],
        end_line=node.end_point[0],
        signature=" ".join(head.rstrip().rstrip(";").split()),
        head_end_line=(body.start_point[0] if body is not None else node.end_point[0]),
        text=capped(" " * node.start_point[1] + text(node, source), MAX_FUNCTION_CHARS),
    )
