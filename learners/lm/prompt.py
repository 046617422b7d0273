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
    context, context_tokens = counter.truncate_counted(context, budget // 2, "back")
    head = f"{context}\n{header}\n" if context else f"{header}\n"
    head_tokens = context_tokens + counter.count(f"\n{header}\n")
    remaining = budget - head_tokens
    tail, tail_tokens = "", 0
    if backend.fim is not None and suffix.strip():
        tail, tail_tokens = counter.truncate_counted(suffix, remaining // 4, "front")
        remaining -= tail_tokens
    body, body_tokens = counter.truncate_counted(prefix, max(remaining, 0), "back")
    left = head + body
    text = backend.fim.format(left, tail) if backend.fim is not None else left
    # Token counts of the parts; a BPE may merge differently across the joins by a token or two.
    return Prompt(text, head_tokens + body_tokens + tail_tokens, context_tokens)
