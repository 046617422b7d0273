"""What the index records about one source file.

`ParsedFile` is the full, positional result of parsing a file (used live for the file being
edited); `FileFacts` is its compact form stored in the index (positions dropped where the
proposals do not need them). Both are plain frozen dataclasses so they cross process
boundaries and serialise to JSON without surprises.
"""

from __future__ import annotations

import functools
import json
import zlib
from dataclasses import asdict, dataclass, field
from typing import NamedTuple


class Span(NamedTuple):
    """A piece of source text and where it is (0-based lines and columns).

    A named tuple rather than a dataclass: files have tens of thousands of these, and the
    current file is parsed on every completion request."""

    text: str  # the item as it goes into a prompt (stripped)
    line: int  # first line
    col: int  # column of the first character on `line`
    end_line: int  # last line


@dataclass(frozen=True)
class Import:
    """One imported name. `import a.b as c` -> module "a.b", name None, alias "c"."""

    module: str  # dotted module as written, without leading dots ("" for `from . import x`)
    name: str | None  # the imported member (`from m import name`), "*" for star imports
    alias: str | None  # `as` alias, if any
    level: int  # number of leading dots of a relative import (0: absolute)
    line: int  # 0-based line of the statement
    end_line: int = field(default=-1, compare=False)  # last line of the statement

    @property
    def bound(self) -> str | None:
        """The local name this import binds, or None (star imports)."""
        if self.alias:
            return self.alias
        if self.name == "*":
            return None
        if self.name:
            return self.name
        return self.module.split(".")[0] or None


@dataclass(frozen=True)
class ClassInfo:
    name: str  # the class name
    qualname: str  # dotted with enclosing classes/functions ("Outer.Inner")
    line: int  # first line of the definition (after decorators)
    end_line: int  # last line of the body
    bases: tuple[str, ...]  # base-class expressions as written, generics stripped ("m.Base")


@dataclass(frozen=True)
class FunctionInfo:
    name: str  # function or method name
    qualname: str  # "Class.method" for methods
    is_method: bool  # defined directly in a class body
    line: int  # first line of the definition (after decorators)
    end_line: int  # last line of the body
    signature: str  # "def f(self, x: int) -> str:" / "public int f(int x)"
    head_end_line: int  # last line of the signature
    text: str  # signature and body as in the file (first line indented too), capped


MAX_FUNCTION_CHARS = 8000


@dataclass(frozen=True)
class ParsedFile:
    """Everything extracted from one file, with positions (lists in source order)."""

    language: str
    package: str | None  # Java package declaration; None for Python
    lines: int
    imports: tuple[Import, ...]
    classes: tuple[ClassInfo, ...]
    functions: tuple[FunctionInfo, ...]
    fields: tuple[Span, ...]  # field declarations (statement text)
    identifiers: tuple[Span, ...]
    type_identifiers: tuple[Span, ...]
    string_literals: tuple[Span, ...]

    @functools.cached_property
    def import_uses(self) -> dict[str, list[tuple[int, int, int]]]:
        """Where each name bound by an import is used: (line, start column, end column) in
        source order, from identifiers and type identifiers (Java class names used as types)."""
        bound = {imp.bound for imp in self.imports}
        uses: dict[str, list[tuple[int, int, int]]] = {}
        for span in (*self.identifiers, *self.type_identifiers):
            if span.text in bound:
                uses.setdefault(span.text, []).append((span.line, span.col, span.col + len(span.text.encode())))
        for positions in uses.values():
            positions.sort()
        return uses

    def compact(self) -> FileFacts:
        return FileFacts(
            language=self.language,
            package=self.package,
            lines=self.lines,
            imports=self.imports,
            classes=self.classes,
            functions=self.functions,
            fields=self.fields,
            identifiers=tuple(_unique(s.text for s in self.identifiers)),
            type_identifiers=tuple(_unique(s.text for s in self.type_identifiers)),
            string_literals=tuple(_unique(s.text for s in self.string_literals)),
        )


@dataclass(frozen=True)
class FileFacts:
    """The stored form: context lists de-duplicated in order of first occurrence."""

    language: str
    package: str | None
    lines: int
    imports: tuple[Import, ...] = ()
    classes: tuple[ClassInfo, ...] = ()
    functions: tuple[FunctionInfo, ...] = ()
    fields: tuple[Span, ...] = ()  # with positions: the index lists them as symbols
    identifiers: tuple[str, ...] = ()
    type_identifiers: tuple[str, ...] = ()
    string_literals: tuple[str, ...] = ()

    def to_blob(self) -> bytes:
        data = asdict(self)
        return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)

    @classmethod
    def from_blob(cls, blob: bytes) -> FileFacts:
        data = json.loads(zlib.decompress(blob))
        return cls(
            language=data["language"],
            package=data["package"],
            lines=data["lines"],
            imports=tuple(Import(**i) for i in data["imports"]),
            classes=tuple(ClassInfo(**{**c, "bases": tuple(c["bases"])}) for c in data["classes"]),
            functions=tuple(FunctionInfo(**f) for f in data["functions"]),
            fields=tuple(Span(*f) for f in data["fields"]),
            identifiers=tuple(data["identifiers"]),
            type_identifiers=tuple(data["type_identifiers"]),
            string_literals=tuple(data["string_literals"]),
        )


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
