"""Fill-in-the-middle prompt templates of the common code-model families.

A template is chosen from the special tokens the model's tokenizer knows; a model without
any is prompted left to right (prefix only).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class FimTemplate:
    family: str
    prefix: str  # token that opens the prefix
    suffix: str  # token that opens the suffix
    middle: str  # token after which the model writes the middle
    spaced: bool = False  # CodeLlama puts a space after <PRE> and before <MID>

    def format(self, prefix: str, suffix: str) -> str:
        if self.spaced:
            return f"{self.prefix} {prefix} {self.suffix}{suffix} {self.middle}"
        return f"{self.prefix}{prefix}{self.suffix}{suffix}{self.middle}"


TEMPLATES = (
    FimTemplate("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
    FimTemplate("santacoder", "<fim-prefix>", "<fim-suffix>", "<fim-middle>"),
    FimTemplate("deepseek-coder", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    FimTemplate("qwen2.5-coder", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    FimTemplate("codellama", "<PRE>", "<SUF>", "<MID>", spaced=True),
)


def detect_template(vocabulary: Collection[str]) -> FimTemplate | None:
    """The template whose three tokens are all in the tokenizer's vocabulary."""
    for template in TEMPLATES:
        tokens = (template.prefix, template.suffix, template.middle)
        if all(t in vocabulary or f"▁{t}" in vocabulary for t in tokens):
            return template
    return None
