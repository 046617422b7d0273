"""Token counting for prompt budgets. Pluggable: a model's own tokenizer can stand in.

Until a model tokenizer is configured, a regex counter approximates BPE token counts: every
run of word characters and every other non-space character is one token.
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

Keep = Literal["front", "back"]


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...

    def truncate(self, text: str, max_tokens: int, keep: Keep) -> str:
        """`text` cut to at most `max_tokens` tokens, keeping its front or its back."""
        ...


class RegexTokenCounter:
    """Words and single punctuation characters; whitespace is free."""

    _TOKEN = re.compile(r"\w+|[^\w\s]")

    def count(self, text: str) -> int:
        return len(self._TOKEN.findall(text))

    def truncate(self, text: str, max_tokens: int, keep: Keep) -> str:
        if max_tokens <= 0:
            return ""
        tokens = list(self._TOKEN.finditer(text))
        if len(tokens) <= max_tokens:
            return text
        if keep == "front":
            return text[: tokens[max_tokens - 1].end()]
        return text[tokens[-max_tokens].start() :]
