"""Compose a completion prompt within the model's token budget, in the model's tokens.

Left part: the chosen proposal's context (at most half of the budget, its best-ranked end
kept), the current file's path as a header, and the code before the cursor (its end kept).
With a fill-in-the-middle model, the code after the cursor (its start kept, at most a
quarter of what is left) goes in the suffix slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from bowerbird.learners.lm.backend import Backend

TEMPLATE_MARGIN = 8  # tokens left for the FIM template's own special tokens


@dataclass(frozen=True)
class Prompt:
    text: str
    tokens: int  # the prompt's length in the model's tokens (template tokens approximate)
    context_tokens: int  # of which the proposal context


def compose(backend: Backend, context: str, header: str, prefix: str, suffix: str, max_new_tokens: int) -> Prompt:
    counter = backend.counter
    budget = backend.context_tokens - max_new_tokens - TEMPLATE_MARGIN
    context = counter.truncate(context, budget // 2, "back") if context else ""
    context_tokens = counter.count(context)
    head = f"{context}\n{header}\n" if context else f"{header}\n"
    remaining = budget - counter.count(head)
    tail = ""
    if backend.fim is not None and suffix.strip():
        tail = counter.truncate(suffix, remaining // 4, "front")
        remaining -= counter.count(tail)
    body = counter.truncate(prefix, max(remaining, 0), "back")
    left = head + body
    text = backend.fim.format(left, tail) if backend.fim is not None else left
    return Prompt(text, counter.count(left) + counter.count(tail), context_tokens)
