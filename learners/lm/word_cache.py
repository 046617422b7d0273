"""A word cache: finish the identifier being written with one the prompt already holds.

The n-gram copy cache (copy_cache.py) predicts a token from what followed the same tokens
before, so it is only sure of itself after a long match, and its weights per match length are
low for short ones. Inside an identifier that is too cautious: once `CODEC` is written and the
prompt (or its memory, or the proposal's context from another file) holds `CODEC_MAP` and no
other word starting so, the next token is almost surely `_` or `_MAP`, whatever came before.
This is what an editor's word completion does, here as one more distribution mixed into the
model's: (1 - w) p + w q, where q spreads over the next token of each known word that extends
the partial word at the end of the text, in proportion to how often the word occurs.

Token healing is taken into account: while healed characters are still to be rewritten, the
partial word is the one they end with (`CODEC_M` for a healed ` CODEC_M`), and the proposed
token is the longest vocabulary token that starts the rest of the healed text plus the word's
remainder (` CODEC` for ` CODEC_MAP`). Words are ASCII identifiers; the word the text ends
with, when the text holds it as a whole word too, keeps its share of q as "end here": that
share is not given to any token, so a finished name is not pushed to grow.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*")
_TAIL = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*$")
MAX_CANDIDATES = 256  # words looked at per position (a one-letter partial word can match many)


def partial_word(text: str) -> str:
    """The identifier that `text` ends with ("" when it ends otherwise)."""
    match = _TAIL.search(text[-256:])
    return match.group() if match else ""


class WordCache:
    """The known words of a text, and the partial word at its end as tokens are appended."""

    def __init__(self, vocabulary, text: str, pending: str = ""):
        self.vocabulary = vocabulary  # decoding.Vocabulary: token texts, longest_prefix_token
        self.counts = Counter(_WORD.findall(text))
        unfinished = partial_word(text)  # the word being written is not (yet) a known word
        if unfinished:
            self.counts[unfinished] -= 1
            if not self.counts[unfinished]:
                del self.counts[unfinished]
        self.words = sorted(self.counts)
        self.tail = text[-256:]  # enough of the end to find the partial word
        self.pending = pending  # healed characters not yet rewritten

    def push(self, token: int) -> None:
        text = self.vocabulary.texts[token]
        self.pending = self.pending[len(text) :] if self.pending.startswith(text) else ""
        self.tail = (self.tail + text)[-256:]

    def distribution(self) -> dict[int, float]:
        """{token: probability} of the next token by the known words that extend the partial
        word; {} when there is no partial word or no known word extends it."""
        word = partial_word(self.tail + self.pending)
        if not word:
            return {}
        ahead = self.pending  # what must be written before the word's remainder
        known, start = self.words, bisect.bisect_left(self.words, word)
        end_share, shares = 0, {}
        for u in known[start : start + MAX_CANDIDATES]:
            if not u.startswith(word):
                break
            if u == word:
                end_share = self.counts[u]
                continue
            token = self.vocabulary.longest_prefix_token(ahead + u[len(word) :])
            if token is not None:
                shares[token] = shares.get(token, 0) + self.counts[u]
        total = end_share + sum(shares.values())
        return {token: count / total for token, count in shares.items()} if shares else {}
