"""The pure core of the variable-misuse diagnostics: findings as LSP diagnostics, the
suppression comment, and the quick fix.

Positions: `detect` reports 1-based lines and 1-based columns in Unicode code points of the text
with ``\\r\\n`` / ``\\r`` read as line breaks (LSP's three line endings) and a leading byte-order
mark dropped. LSP wants 0-based lines and columns in the position encoding agreed at
`initialize` (UTF-16 code units unless the client offered another: pygls takes the client's
first choice, and Neovim offers UTF-8 first), so `client_column` converts each column within its
own line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lsprotocol import types

from bowerbird.learners.misuse.defaults import RULE_ID, shown

SOURCE = "bowerbird"
# `# bowerbird: ignore` anywhere on the line (any case, spaces optional around the colon)
SUPPRESSION = re.compile(r"#\s*bowerbird\s*:\s*ignore\b", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def lines_of(text: str) -> list[str]:
    """The text's lines as LSP counts them (``\\n``, ``\\r\\n`` and ``\\r`` end a line)."""
    return _LINE_BREAK.split(text)


def client_column(line: str, column: int, encoding: str = types.PositionEncodingKind.Utf16) -> int:
    """Code-point column ``column`` (0-based) of ``line`` in the client's units: UTF-16 code units
    (a character outside the Basic Multilingual Plane counts two), UTF-8 bytes, or code points."""
    prefix = line[:column]
    if encoding == types.PositionEncodingKind.Utf8:
        return len(prefix.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(prefix)
    return len(prefix) + sum(1 for ch in prefix if ord(ch) > 0xFFFF)


def suppressed(line: str) -> bool:
    """Whether ``line`` carries the suppression comment (``# bowerbird: ignore``)."""
    return SUPPRESSION.search(line) is not None


def message(name: str, suggestion: str, probability: float) -> str:
    return f"`{name}` may be the wrong variable here — did you mean `{suggestion}`? (p={shown(probability)})"


def to_diagnostics(
    findings: Iterable, text: str, threshold: float, encoding: str = types.PositionEncodingKind.Utf16,
) -> list[types.Diagnostic]:  # fmt: skip
    """A Warning per finding (`detect.Finding`) at or above ``threshold`` whose line does not carry
    the suppression comment; ``data`` holds what the quick fix needs."""
    lines = lines_of(text)
    bom = 1 if text.startswith("\ufeff") else 0  # `detect` dropped it: the first line's columns move
    out = []
    for f in findings:
        if f.probability < threshold or not 1 <= f.line <= len(lines):
            continue
        line = lines[f.line - 1]
        if suppressed(line):
            continue
        shift = bom if f.line == 1 else 0
        start = client_column(line, f.col - 1 + shift, encoding)
        end = client_column(line, f.end_col - 1 + shift, encoding)
        out.append(types.Diagnostic(
            range=types.Range(start=types.Position(line=f.line - 1, character=start),
                              end=types.Position(line=f.end_line - 1, character=end)),
            message=message(f.name, f.suggestion, f.probability),
            severity=types.DiagnosticSeverity.Warning,
            code=RULE_ID,
            source=SOURCE,
            data={"name": f.name, "suggestion": f.suggestion, "probability": round(f.probability, 4),
                  "function": f.function},
        ))  # fmt: skip
    return out


def fix_of(diagnostic: types.Diagnostic) -> tuple[str, str] | None:
    """(name, suggestion) of one of our diagnostics, or None for anyone else's."""
    data = diagnostic.data
    if diagnostic.source != SOURCE or diagnostic.code != RULE_ID or not isinstance(data, dict):
        return None
    name, suggestion = data.get("name"), data.get("suggestion")
    if not isinstance(name, str) or not isinstance(suggestion, str) or not name or not suggestion:
        return None
    return name, suggestion


def text_at(lines: list[str], range_: types.Range, encoding: str = types.PositionEncodingKind.Utf16) -> str | None:
    """The text a one-line range covers (client units), or None when it is not one line of the text."""
    if range_.start.line != range_.end.line or not 0 <= range_.start.line < len(lines):
        return None
    line = lines[range_.start.line]
    units = [client_column(line, k, encoding) for k in range(len(line) + 1)]
    try:
        start, end = units.index(range_.start.character), units.index(range_.end.character)
    except ValueError:
        return None
    return line[start:end]


def quick_fix(
    uri: str, version: int | None, diagnostic: types.Diagnostic, document_changes: bool,
) -> types.CodeAction | None:  # fmt: skip
    """"Replace `name` with `suggestion`" for one of our diagnostics: a preferred quick fix whose
    edit replaces the name (``document_changes``: as a versioned document edit, which the client
    refuses once the document has moved on)."""
    fix = fix_of(diagnostic)
    if fix is None:
        return None
    name, suggestion = fix
    edit = types.TextEdit(range=diagnostic.range, new_text=suggestion)
    if document_changes:
        workspace_edit = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=[edit])])
    else:
        workspace_edit = types.WorkspaceEdit(changes={uri: [edit]})
    return types.CodeAction(
        title=f"Replace `{name}` with `{suggestion}`",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=True,
        edit=workspace_edit,
    )
