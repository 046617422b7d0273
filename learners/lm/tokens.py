"""A model tokenizer as the proposals' `TokenCounter`, so budgets are counted in real tokens."""

from __future__ import annotations

from bowerbird.analysis.tokens import Keep

# Texts are cut to this many characters per wanted token before tokenising, so cutting a
# 300 kB file to 1,000 tokens does not tokenise the whole file.
CHARS_PER_TOKEN_BOUND = 10  # code averages 3-4 characters a token; long runs of spaces are one


class TokenizerCounter:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0

    def truncate(self, text: str, max_tokens: int, keep: Keep) -> str:
        return self.truncate_counted(text, max_tokens, keep)[0]

    def truncate_counted(self, text: str, max_tokens: int, keep: Keep) -> tuple[str, int]:
        """`truncate`, and the number of tokens of the result (one tokenisation, not two)."""
        if max_tokens <= 0 or not text:
            return "", 0
        window = max_tokens * CHARS_PER_TOKEN_BOUND
        piece = text[:window] if keep == "front" else text[-window:]
        encoded = self.tokenizer(piece, add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoded["offset_mapping"]
        if len(offsets) <= max_tokens:
            return piece, len(offsets)
        if keep == "front":
            return piece[: offsets[max_tokens - 1][1]], max_tokens
        return piece[offsets[-max_tokens][0] :], max_tokens
