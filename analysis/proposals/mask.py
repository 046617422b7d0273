"""Hide a hole's target from the facts of the file being completed.

The current document is parsed once per version (and cached); each hole then sees that parse
with everything that overlaps the rest of the hole's line removed: names, literals and fields
reaching past the cursor, a signature or import statement that spans the line, and the bases
of a class whose header is on it. What remains is what the code before the cursor and the
lines after the hole show, so the target cannot leak into any proposal.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from bowerbird.analysis.facts import ParsedFile, Span
from bowerbird.analysis.holes import Hole


def mask_hole(parsed: ParsedFile, hole: Hole) -> ParsedFile:
    """`parsed` (of the whole document) as seen from `hole`."""
    line = hole.line
    col = len(hole.line_prefix.encode("utf-8"))  # tree-sitter columns count bytes

    def visible(span: Span) -> bool:
        if span.line > line or span.end_line < line:
            return True
        return span.line == span.end_line == line and span.col + len(span.text.encode("utf-8")) <= col

    return replace(
        parsed,
        imports=tuple(i for i in parsed.imports if not i.line <= line <= max(i.line, i.end_line)),
        classes=tuple(replace(c, bases=()) if c.line == line else c for c in parsed.classes),
        functions=tuple(f for f in parsed.functions if not f.line <= line <= f.head_end_line),
        fields=tuple(filter(visible, parsed.fields)),
        identifiers=_mask_names(parsed.identifiers, line, visible),
        type_identifiers=_mask_names(parsed.type_identifiers, line, visible),
        string_literals=tuple(filter(visible, parsed.string_literals)),
    )


def _mask_names(names: tuple[Span, ...], line: int, visible) -> tuple[Span, ...]:
    """Single-line spans in source order: only those on the hole's line need a look."""
    start = bisect.bisect_left(names, line, key=lambda span: span.line)
    end = bisect.bisect_right(names, line, lo=start, key=lambda span: span.line)
    if start == end:
        return names
    return names[:start] + tuple(filter(visible, names[start:end])) + names[end:]
