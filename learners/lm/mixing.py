"""The caches mixed into a local model's next-token distribution, for one row being decoded.

Two caches read the prompt (and its memory, the text the budget cut): the n-gram copy cache
(copy_cache.py) and the word cache (word_cache.py). Both see every token written, and the
decoder (decoding.py) and the teacher-forced exact-match check (evaluate.py) take the argmax
of the same mixture, so the check stays exact.
"""

from __future__ import annotations

from bowerbird.learners.lm.copy_cache import enabled, mix, new_cache
from bowerbird.learners.lm.word_cache import WordCache


class ContextMixer:
    """`ids`: the memory's and the prompt's token ids; `heal`: the characters token healing
    will rewrite first. `copy_weight`, `copy_written`: the copy cache's settings (copy_cache.py);
    `word_weight`: the word cache's share (0: off; it needs the vocabulary's token texts)."""

    def __init__(self, ids: list[int], copy_weight=0.0, copy_written: bool = True, vocabulary=None,
                 word_weight: float = 0.0, heal: str = ""):
        self.copy_weight, self.word_weight = copy_weight, word_weight
        self.copy = new_cache(ids, copy_weight, copy_written) if enabled(copy_weight) else None
        self.words = None
        if word_weight > 0 and vocabulary is not None:
            texts = vocabulary.texts
            self.words = WordCache(vocabulary, "".join(texts[i] for i in ids if i < len(texts)), heal)

    @property
    def active(self) -> bool:
        return self.copy is not None or self.words is not None

    def push(self, token: int) -> None:
        if self.copy is not None:
            self.copy.push(token)
        if self.words is not None:
            self.words.push(token)

    def mix(self, logits):
        """Log-probabilities of the next token: the model's, the word cache's, then the copy
        cache's mixed in (each a no-op when it has nothing to say)."""
        import torch

        logprobs = torch.log_softmax(logits.float(), dim=-1)
        if self.words is not None:
            q = {t: share for t, share in self.words.distribution().items() if t < logprobs.shape[-1]}
            if q:
                probs = logprobs.exp() * (1.0 - self.word_weight)
                tokens, shares = zip(*q.items())
                probs[list(tokens)] += self.word_weight * torch.tensor(shares, dtype=probs.dtype, device=probs.device)
                logprobs = probs.log()
        return mix(logprobs, self.copy, self.copy_weight) if self.copy is not None else logprobs
