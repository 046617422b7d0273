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
        if keep == "front":  # stop scanning once past the limit: texts can be whole files
            for seen, token in enumerate(self._TOKEN.finditer(text), 1):
                if seen == max_tokens:
                    return text[: token.end()]
            return text
        window = max_tokens * 8
        while True:  # scan growing tails; the first token of a tail may be cut, so need one more
            tail = text[-window:]
            tokens = [m.start() for m in self._TOKEN.finditer(tail)]
            if len(tokens) > max_tokens:
                return tail[tokens[-max_tokens]:]
            if window >= len(text):
                return text if len(tokens) <= max_tokens else tail[tokens[-max_tokens]:]
            window *= 2
