"""Post-processing of model candidates: small pure steps, each with golden tests.

A candidate is the text a model proposes to insert at the cursor. Before it is shown it is
cut where it should stop (end of line, or end of the block for multi-line completions), its
trailing spaces are trimmed, what duplicates the text after the cursor is dropped, and its
indentation is made to fit the line it is inserted into.
"""

from __future__ import annotations

from dataclasses import dataclass

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}


@dataclass(frozen=True)
class CursorContext:
    line_prefix: str  # the cursor's line, up to the cursor
    line_suffix: str  # the cursor's line, after the cursor
    next_line: str = ""  # the line after the cursor's line (multi-line stop and duplicates)

    @property
    def multiline(self) -> bool:
        """Multi-line when the cursor ends a block opener (`def f():|`) or sits on an empty
        line (only indentation so far) with nothing after it; single-line otherwise."""
        if self.line_suffix.strip():
            return False
        stripped = self.line_prefix.rstrip()
        return stripped.endswith(":") or not stripped

    @property
    def indent(self) -> str:
        return self.line_prefix[: len(self.line_prefix) - len(self.line_prefix.lstrip())]


def stop(candidate: str, context: CursorContext) -> str:
    """Cut at the end of the line, or for multi-line completions at the end of the block: the
    first later line indented less than the block (the cursor's indentation on an empty line,
    the first body line's after a block opener)."""
    if not context.multiline:
        return candidate.split("\n", 1)[0]
    lines = candidate.split("\n")
    block_indent = len(context.indent) if not context.line_prefix.strip() else None
    kept = [lines[0]]
    for line in lines[1:]:
        if line.strip():
            indent = len(line) - len(line.lstrip())
            if block_indent is None:
                block_indent = indent
            elif indent < block_indent:
                break
        kept.append(line)
    return "\n".join(kept)


def trim(candidate: str) -> str:
    """Trailing spaces of each line, and trailing blank lines, removed."""
    lines = [line.rstrip() for line in candidate.split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def fit_indentation(candidate: str, context: CursorContext) -> str:
    """On a line that holds only indentation so far, the candidate must not indent again."""
    if context.line_prefix and not context.line_prefix.strip():
        first, sep, rest = candidate.partition("\n")
        extra = len(first) - len(first.lstrip())
        if extra:
            rest_lines = [line[extra:] if line[:extra].isspace() else line for line in rest.split("\n")] if sep else []
            return "\n".join([first.lstrip(), *rest_lines]) if sep else first.lstrip()
    return candidate


def drop_suffix_overlap(candidate: str, context: CursorContext) -> str:
    """Drop the end of a single-line candidate that repeats the text after the cursor.

    Closing brackets are dropped only while they close brackets opened before the cursor
    (the text after the cursor closes those already); other text only when the candidate
    ends with the whole rest of the line."""
    suffix = context.line_suffix.strip()
    if not suffix or "\n" in candidate:
        return candidate
    text = candidate.rstrip()
    if any(c not in CLOSERS for c in suffix):
        return text[: -len(suffix)].rstrip() if text.endswith(suffix) and text != suffix else candidate
    depth, end, taken = _depth(text), len(text), 0
    while taken < len(suffix) and end > 0 and depth < 0 and text[end - 1] == suffix[taken]:
        end, taken, depth = end - 1, taken + 1, depth + 1
    return text[:end] if taken else candidate


def _depth(text: str) -> int:
    """Opened minus closed brackets, ignoring brackets inside string literals."""
    depth, quote = 0, None
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in OPENERS:
            depth += 1
        elif char in CLOSERS:
            depth -= 1
    return depth


def duplicates_next_line(candidate: str, context: CursorContext) -> bool:
    """A multi-line candidate whose first line is the line that already follows."""
    first = candidate.split("\n", 1)[0].strip()
    return bool(first) and context.multiline and first == context.next_line.strip()


def postprocess(candidate: str, context: CursorContext) -> str | None:
    """The candidate as it should be shown, or None when nothing useful is left."""
    text = trim(stop(candidate, context))
    text = fit_indentation(text, context)
    text = drop_suffix_overlap(text, context)
    if not text.strip() or duplicates_next_line(text, context):
        return None
    return text
