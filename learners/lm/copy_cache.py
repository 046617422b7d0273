"""A token n-gram copy cache over the prompt, mixed into a local model's next-token distribution.

Code repeats itself: the names, calls and argument lists of a completion are usually written
somewhere in the prompt already (the code above the cursor, the proposal's context). A cache
model (Hellendoorn & Devanbu 2017; Grave et al.'s neural cache) predicts the next token from
the prompt itself: find the longest recent suffix of the token sequence (up to `max_n` tokens)
that also occurs earlier, and count which tokens followed it there. The model's distribution
p is mixed with that one, q, as (1 - weight) * p + weight * q, and the mixture is what greedy
decoding (and the teacher-forced exact-match check) takes the argmax of.

A small model does learn to copy (induction heads), but not reliably across a 512-token
prompt; the cache adds that ability at decode time for the price of a few dict look-ups per
token. The weight is a checkpoint setting (`bowerbird.json`: `copy_cache_weight`); 0 turns the
cache off.
"""

from __future__ import annotations

from collections import Counter

MAX_N = 6  # longest suffix looked up


class CopyCache:
    """Next-token counts after every n-gram (n = 1..max_n) of a token sequence, kept up to date
    as tokens are appended."""

    def __init__(self, ids: list[int], max_n: int = MAX_N):
        self.max_n = max_n
        self.ids: list[int] = []
        self.following: dict[tuple[int, ...], Counter] = {}
        for token in ids:
            self.push(token)

    def push(self, token: int) -> None:
        """Append `token`: every n-gram that ends just before it is now followed by it."""
        ids = self.ids
        for n in range(1, min(self.max_n, len(ids)) + 1):
            self.following.setdefault(tuple(ids[-n:]), Counter())[token] += 1
        ids.append(token)

    def distribution(self) -> tuple[int, dict[int, float]]:
        """(n, {token: probability}) after the longest suffix of length n that occurred before
        (with a successor); (0, {}) when even the last token is new."""
        ids = self.ids
        for n in range(min(self.max_n, len(ids)), 0, -1):
            counts = self.following.get(tuple(ids[-n:]))
            if counts:
                total = sum(counts.values())
                return n, {token: count / total for token, count in counts.items()}
        return 0, {}


def mix(logits, cache: CopyCache, weight: float):
    """The log of the mixture (1 - weight) * softmax(logits) + weight * q, where q is the
    cache's distribution, for one position (`logits`: [vocab] tensor). Returns log-softmax of
    `logits` unchanged when the weight is 0 or the cache has nothing to say."""
    import torch

    logprobs = torch.log_softmax(logits.float(), dim=-1)
    if weight <= 0:
        return logprobs
    n, q = cache.distribution()
    if not n:
        return logprobs
    probs = logprobs.exp() * (1.0 - weight)
    tokens = torch.tensor(list(q), device=logits.device)
    tokens_ok = tokens < probs.shape[-1]
    if not bool(tokens_ok.all()):
        tokens = tokens[tokens_ok]
        values = torch.tensor([v for t, v in q.items() if t < probs.shape[-1]], device=logits.device)
    else:
        values = torch.tensor(list(q.values()), device=logits.device)
    probs[tokens] += weight * values.to(probs.dtype)
    return probs.log()
