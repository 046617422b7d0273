"""Compose a completion prompt within the model's token budget, in the model's tokens.

Left part: the chosen proposal's context (at most its share of the budget: half, or a post-lines
proposal's own share; its best-ranked end kept: the back for most contexts, the front for the
lines after the hole), the current file's path as a header, and the code before the cursor
(its end kept).
With a fill-in-the-middle model, the code after the cursor (its start kept, at most a
quarter of what is left) goes in the suffix slot.

Two things keep consecutive requests cheap and well-formed:
- When the code before the cursor is cut, it is cut at a line start, so the prompt's start
  stays the same while the developer types on a line and the backend can reuse its KV cache.
- Token healing (backends with `healing`): the cursor usually sits inside a word, where the
  prompt's last BPE token is a fragment the model rarely saw at the end of a text. The last
  token's characters are cut from the prompt (`Prompt.heal`) and the backend constrains the
  completion to write them first, so the model chooses the whole token itself.

What the budget cuts is not thrown away: the proposal context's cut part (and any `spill`, more
context than the caller gave the prompt) and the start of the code before the cursor are the
prompt's `memory`, which a backend with a copy cache (copy_cache.py) indexes along with the
prompt, so names written far above the cursor, or further into the proposal's context, can
still be copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bowerbird.analysis.tokens import Keep
from bowerbird.learners.lm.backend import Backend

_PARTIAL_WORD = re.compile(r" ?[A-Za-z0-9_]+$")
TEMPLATE_MARGIN = 8  # tokens left for the FIM template's own special tokens


@dataclass(frozen=True)
class Prompt:
    text: str
    tokens: int  # the prompt's length in the model's tokens (template tokens approximate)
    context_tokens: int  # of which the proposal context
    heal: str = ""  # characters cut from the end of the code before the cursor (token healing)
    memory: str = ""  # what the budget cut (context, then the code before the cursor), for the copy cache


def healed_tail(counter, text: str) -> str:
    """The characters to cut from the end of `text` for token healing: the tokens that hold
    the partial word at the cursor (with the space before it, which BPE tokens carry), or the
    last token when the text does not end in a word. Only within one line of printable ASCII
    (the constraint works on whole characters)."""
    line = text[text.rfind("\n") + 1 :]
    tokenizer = getattr(counter, "tokenizer", None)
    if tokenizer is None or not line.strip() or not line.isascii() or not line.isprintable():
        return ""
    offsets = tokenizer(line, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if not offsets:
        return ""
    word = _PARTIAL_WORD.search(line)
    cut = offsets[-1][0]
    if word and word.start() < cut:
        cut = max(start for start, _ in offsets if start <= word.start())  # the token where the word begins
    return line[cut:]


def compose(backend: Backend, context: str, header: str, prefix: str, suffix: str, max_new_tokens: int,
            heal: bool | None = None, share: float = 0.5, keep: Keep = "back", spill: str = "") -> Prompt:
    """The prompt for a completion at the end of `prefix`. `context`: the proposal's context,
    of which at most `share` of the budget is kept, from its `keep` end; `spill`: more of the
    proposal's context than it had room for, for the copy cache's memory only."""
    counter = backend.counter
    budget = backend.context_tokens - max_new_tokens - TEMPLATE_MARGIN
    whole = context
    context, context_tokens = counter.truncate_counted(context, int(budget * share), keep)
    dropped = whole[len(context) :] if keep == "front" else whole[: len(whole) - len(context)]
    head = f"{context}\n{header}\n" if context else f"{header}\n"
    head_tokens = context_tokens + counter.count(f"\n{header}\n")
    remaining = budget - head_tokens
    tail, tail_tokens = "", 0
    if backend.fim is not None and suffix.strip():
        tail, tail_tokens = counter.truncate_counted(suffix, remaining // 4, "front")
        remaining -= tail_tokens
    body, body_tokens = counter.truncate_counted(prefix, max(remaining, 0), "back")
    if len(body) < len(prefix) and "\n" in body:  # cut at a line start: stable while typing on a line
        cut = body.index("\n") + 1
        body_tokens -= counter.count(body[:cut])
        body = body[cut:]
    memory = "\n".join(part for part in (spill, dropped, prefix[: len(prefix) - len(body)]) if part)
    healed = healed_tail(counter, body) if (getattr(backend, "healing", False) if heal is None else heal) else ""
    body = body[: len(body) - len(healed)]
    left = head + body
    text = backend.fim.format(left, tail) if backend.fim is not None else left
    # Token counts of the parts; a BPE may merge differently across the joins by a token or two.
    return Prompt(text, head_tokens + body_tokens + tail_tokens, context_tokens, healed, memory)


def compose_proposal(backend: Backend, proposal, header: str, prefix: str, suffix: str, max_new_tokens: int,
                     heal: bool | None = None) -> Prompt:
    """`compose` with a proposal's context laid out as the proposal asks (`Proposal.share`,
    `Proposal.keep`)."""
    return compose(backend, proposal.text, header, prefix, suffix, max_new_tokens, heal, proposal.share, proposal.keep)
