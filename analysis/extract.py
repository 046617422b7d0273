"""Parse one file with tree-sitter and extract its facts (imports, definitions, names).

The per-language work lives in `extract_python` and `extract_java`; this module holds what
they share: parsing, running the tag query, and small node helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

import tree_sitter

from bowerbird.analysis.facts import ParsedFile, Span
from bowerbird.analysis.languages import parser, tag_query

MAX_LITERAL_CHARS = 200  # longer string literals are not useful prompt context


def parse_source(language: str, source: bytes) -> ParsedFile:
    """Parse `source` (bytes, any encoding; invalid UTF-8 is replaced) and extract its facts.

    tree-sitter recovers from syntax errors, so a file that does not parse cleanly still
    yields the facts of its well-formed parts.
    """
    tree = parser(language).parse(source)
    captures = tree_sitter.QueryCursor(tag_query(language)).captures(tree.root_node)
    for nodes in captures.values():
        nodes.sort(key=lambda n: n.start_byte)
    lines = source.count(b"\n") + 1
    if language == "python":
        from bowerbird.analysis.extract_python import extract
    elif language == "java":
        from bowerbird.analysis.extract_java import extract
    else:
        raise ValueError(f"unsupported language {language!r}")
    return extract(captures, source, lines)


def text(node: tree_sitter.Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def span(node: tree_sitter.Node, source: bytes, value: str | None = None) -> Span:
    return Span(
        text=(text(node, source) if value is None else value).strip(),
        line=node.start_point[0],
        col=node.start_point[1],
        end_line=node.end_point[0],
    )


def spans(nodes: Iterable[tree_sitter.Node], source: bytes) -> tuple[Span, ...]:
    return tuple(span(n, source) for n in nodes)


def name_spans(nodes: Iterable[tree_sitter.Node], source: bytes) -> tuple[Span, ...]:
    """Spans of single-line name nodes (identifiers): the hot path of parsing a document."""
    result = []
    append = result.append
    for node in nodes:
        row, col = node.start_point
        append(Span(source[node.start_byte : node.end_byte].decode("utf-8", "replace"), row, col, row))
    return tuple(result)


def literal_spans(nodes: Iterable[tree_sitter.Node], source: bytes) -> tuple[Span, ...]:
    return tuple(
        span(n, source) for n in nodes if n.end_byte - n.start_byte <= MAX_LITERAL_CHARS
    )


def capped(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit]


def enclosing_names(node: tree_sitter.Node, source: bytes, kinds: frozenset[str]) -> list[str]:
    """Names of the definitions (of node types `kinds`) enclosing `node`, outermost first."""
    names = []
    parent = node.parent
    while parent is not None:
        if parent.type in kinds:
            name = parent.child_by_field_name("name")
            if name is not None:
                names.append(text(name, source))
        parent = parent.parent
    return names[::-1]


def descendants(node: tree_sitter.Node, types: frozenset[str]) -> list[tree_sitter.Node]:
    """All descendants of `node` (itself included) whose type is in `types`, in source order."""
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.type in types:
            found.append(current)
        stack.extend(reversed(current.children))
    return found
