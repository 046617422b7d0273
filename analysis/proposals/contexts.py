"""Context types: what a proposal takes from each file, and fitting it into a token budget.

Each file's context is headed by a comment with its path. Items are joined with spaces
(identifiers, type identifiers, string literals) or newlines (signatures, fields, methods).
Truncation follows RLPG: contexts after the hole and other files' contexts keep their front
(best-ranked items first); Current's before-the-hole fallback and Parent Class keep their
back. With several files, the best-ranked file comes last, next to the code being completed.
Method names and bodies share the budget evenly between methods (RLPG), but never below
MIN_METHOD_TOKENS a method: a file with hundreds of methods then gives its first methods
whole instead of a bare `def` of each.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bowerbird.analysis.facts import ParsedFile, Span
from bowerbird.analysis.tokens import Keep, TokenCounter

MIN_METHOD_TOKENS = 48
JOINERS = {
    "method_names_and_bodies": "\n",
    "method_names": "\n",
    "identifiers": " ",
    "type_identifiers": " ",
    "string_literals": " ",
    "field_declarations": "\n",
}


@dataclass(frozen=True)
class Items:
    """One context type's items of one file, with token counts when they are worth keeping.

    `tokens` is None for items used once (the current file's): they are counted while taken.
    `ends[k]` is the cost of the first k+1 items joined with `joiner_cost` tokens between."""

    texts: list[str]
    tokens: list[int] | None
    joiner_cost: int = 0
    ends: list[int] = field(default_factory=list)

    @classmethod
    def counted(cls, texts: list[str], counter: TokenCounter, joiner: str) -> Items:
        tokens = [counter.count(t) for t in texts]
        joiner_cost = counter.count(joiner)
        ends = list(itertools.accumulate(t + joiner_cost for t in tokens))
        return cls(texts, tokens, joiner_cost, [e - joiner_cost for e in ends])


def current_items(parsed: ParsedFile, context_type: str, hole_line: int) -> tuple[Items, Keep]:
    """Items of the current file: those after the hole's line (kept from the front) or, when
    there are none, all of them (kept from the back, nearest the hole)."""
    if context_type == "method_names":
        spans: Sequence = [Span(f.signature, f.line, 0, f.end_line) for f in parsed.functions]
    else:
        spans = getattr(parsed, "fields" if context_type == "field_declarations" else context_type)
    texts = list(dict.fromkeys(s.text for s in spans if s.line > hole_line))
    keep: Keep = "front"
    if not texts:
        texts, keep = list(dict.fromkeys(s.text for s in spans)), "back"
    return Items(texts, None), keep


def take(
    items: Items, joiner: str, budget: int, counter: TokenCounter, keep: Keep, per_item: int | None = None
) -> tuple[str, int]:
    """Join as many items as fit in `budget` tokens, from the front or from the back; the
    last item that does not fit whole is cut. Returns (text, tokens used)."""
    if items.tokens is not None and per_item is None:
        return _take_counted(items, joiner, budget, counter, keep)
    order = range(len(items.texts)) if keep == "front" else range(len(items.texts) - 1, -1, -1)
    taken: list[str] = []
    used = 0
    joiner_cost = counter.count(joiner)
    for index in order:
        item = items.texts[index]
        cost = items.tokens[index] if items.tokens is not None else counter.count(item)
        if per_item is not None and cost > per_item:
            item, cost = counter.truncate(item, per_item, "front"), per_item
        cost += joiner_cost if taken else 0
        if used + cost > budget:
            room = budget - used - (joiner_cost if taken else 0)
            if room > 0:
                taken.append(counter.truncate(item, room, keep))
                used = budget
            break
        taken.append(item)
        used += cost
    if keep == "back":
        taken.reverse()
    return joiner.join(taken), used


def _take_counted(items: Items, joiner: str, budget: int, counter: TokenCounter, keep: Keep) -> tuple[str, int]:
    """`take` for items with known counts: how many fit is a binary search, not a loop."""
    texts, tokens, ends, jc = items.texts, items.tokens, items.ends, items.joiner_cost
    n = len(texts)
    if keep == "front":
        whole = bisect.bisect_right(ends, budget)  # items 0..whole-1 fit
        used = ends[whole - 1] if whole else 0
        chosen = texts[:whole]
        if whole < n:
            room = budget - used - (jc if whole else 0)
            if room > 0:
                chosen = [*chosen, counter.truncate(texts[whole], room, "front")]
                used = budget
        return joiner.join(chosen), used
    total = ends[-1] if n else 0
    k = 0  # the first item kept whole: items k..n-1 cost total - ends[k-1] - jc
    if total > budget:
        k = bisect.bisect_left(ends, total - jc - budget) + 1
    chosen = texts[k:]
    used = total if k == 0 else (total - ends[k - 1] - jc if chosen else 0)
    if k:
        room = budget - used - (jc if chosen else 0)
        if room > 0:
            chosen = [counter.truncate(texts[k - 1], room, "back"), *chosen]
            used = budget
    return joiner.join(chosen), used


def assemble(
    paths: Sequence[str],
    items_of: Callable[[str], Items],
    context_type: str,
    budget: int,
    counter: TokenCounter,
    header: Callable[[str], str],
    keep: Keep = "front",
) -> tuple[str, int]:
    """The context of several files in rank order within `budget` tokens, and its tokens."""
    sections: list[str] = []
    remaining = budget
    joiner = JOINERS[context_type]
    newline_cost = counter.count("\n")
    for path in paths:
        if remaining <= 0:
            break
        items = items_of(path)
        if not items.texts:
            continue
        head = header(path)
        head_cost = counter.count(head) + newline_cost
        if remaining <= head_cost:
            break
        per_item = None
        if context_type == "method_names_and_bodies":
            per_item = max(MIN_METHOD_TOKENS, budget // len(items.texts))
        body, used = take(items, joiner, remaining - head_cost, counter, keep, per_item)
        if not body:
            continue
        sections.append(f"{head}\n{body}")
        remaining -= head_cost + used + (newline_cost if len(sections) > 1 else 0)
    return "\n".join(reversed(sections)), budget - remaining


def post_lines(after: str, budget: int, counter: TokenCounter) -> str:
    """The lines after the hole, from the front, within `budget` tokens."""
    return counter.truncate(after, budget, "front") if after.strip() else ""
