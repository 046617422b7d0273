"""A token n-gram copy cache over the prompt, mixed into a local model's next-token distribution.

Code repeats itself: the names, calls and argument lists of a completion are usually written
somewhere in the prompt already (the code above the cursor, the proposal's context). A cache
model (Hellendoorn & Devanbu 2017; Grave et al.'s neural cache) predicts the next token from
the prompt itself: find the longest recent suffix of the token sequence (up to `max_n` tokens)
that also occurs earlier, and count which tokens followed it there. The model's distribution
p is mixed with that one, q, as (1 - weight) * p + weight * q, and the mixture is what greedy
decoding (and the teacher-forced exact-match check) takes the argmax of. The weight may depend
on the length n of the match: a 6-token match predicts its successor far better than a
1-token one (`copy_cache_weight` as a list: the weights for n = 1, 2, ..., its length being
the longest match looked up).

A small model does learn to copy (induction heads), but not reliably across a 512-token
prompt; the cache adds that ability at decode time for the price of a few dict look-ups per
token. The weight is a checkpoint setting (`bowerbird.json`: `copy_cache_weight`); 0 turns the
cache off.
"""

from __future__ import annotations

MAX_N = 6  # longest suffix looked up when one weight serves every length
MAX_LENGTHS = 32  # longest per-length weight list accepted

Weight = float | tuple[float, ...]  # one weight for every match length, or one per length 1..len


def per_length(weight) -> tuple[float, ...]:
    """The weight for each match length 1..max_n (index n - 1). Called per generated token by
    `mix`: a tuple (as settings and `parse` give) is returned as it is."""
    if isinstance(weight, tuple):
        return weight
    if isinstance(weight, list):
        return tuple(float(w) for w in weight)
    return (float(weight),) * MAX_N


def enabled(weight) -> bool:
    return any(w > 0 for w in per_length(weight))


def valid(weight) -> bool:
    """A number in [0, 1), or a non-empty list (at most MAX_LENGTHS) of such numbers."""
    def number(w) -> bool:
        return isinstance(w, (int, float)) and not isinstance(w, bool) and 0 <= w < 1

    if isinstance(weight, (list, tuple)):
        return 0 < len(weight) <= MAX_LENGTHS and all(number(w) for w in weight)
    return number(weight)


def parse(text: str) -> Weight:
    """`0.2` or `0,0.1,0.2,0.4,0.6,0.5` (per match length); ValueError when malformed or out of range."""
    parts = [float(part) for part in text.split(",")]
    weight: Weight = parts[0] if len(parts) == 1 else tuple(parts)
    if not valid(weight):
        raise ValueError(f"{text!r}: weights must be in [0, 1), at most {MAX_LENGTHS} of them")
    return weight


def new_cache(ids: list[int], weight, index_pushed: bool = True) -> "CopyCache":
    """A cache that looks up matches as long as `weight` has lengths."""
    return CopyCache(ids, len(per_length(weight)), index_pushed)


class CopyCache:
    """Where each token occurred (with a successor) in a token sequence, kept up to date as
    tokens are appended; the look-up extends matches backwards from the last token."""

    def __init__(self, ids: list[int], max_n: int = MAX_N, index_pushed: bool = True):
        self.max_n = max_n
        self.index_pushed = index_pushed  # False: pushed tokens extend the suffix but are never copied from
        self.ids: list[int] = list(ids)
        self.at: dict[int, list[int]] = {}  # token -> positions i (ascending) with a successor ids[i + 1]
        for i, token in enumerate(self.ids[:-1]):
            self.at.setdefault(token, []).append(i)

    def push(self, token: int) -> None:
        """Append `token`: the token before it now has a successor."""
        if self.ids and self.index_pushed:
            self.at.setdefault(self.ids[-1], []).append(len(self.ids) - 1)
        self.ids.append(token)

    def distribution(self) -> tuple[int, dict[int, float]]:
        """(n, {token: probability}) after the longest suffix of length n <= max_n that
        occurred before (with a successor); (0, {}) when even the last token is new."""
        ids = self.ids
        if not ids:
            return 0, {}
        end = len(ids) - 1
        best, counts = 0, {}
        for i in self.at.get(ids[end], ()):
            n = 1
            while n < self.max_n and i - n >= 0 and ids[i - n] == ids[end - n]:
                n += 1
            if n > best:
                best, counts = n, {}
            if n == best:
                successor = ids[i + 1]
                counts[successor] = counts.get(successor, 0) + 1
        if not best:
            return 0, {}
        total = sum(counts.values())
        return best, {token: count / total for token, count in counts.items()}


def mix(logits, cache: CopyCache, weight):
    """The log of the mixture (1 - w) * softmax(logits) + w * q, where q is the cache's
    distribution after a match of length n and w the weight for n, for one position (`logits`:
    [vocab] tensor). Returns log-softmax of `logits` unchanged when w is 0 or the cache has
    nothing to say."""
    import torch

    logprobs = torch.log_softmax(logits.float(), dim=-1)
    weights = per_length(weight)
    if not any(w > 0 for w in weights):
        return logprobs
    n, q = cache.distribution()
    if not n:
        return logprobs
    weight = weights[min(n, len(weights)) - 1]
    if weight <= 0:
        return logprobs
    probs = logprobs.exp() * (1.0 - weight)
    size = probs.shape[-1]
    kept = [(token, share) for token, share in q.items() if token < size]  # ids the logits have
    if kept:
        tokens, shares = zip(*kept)
        probs[list(tokens)] += weight * torch.tensor(shares, dtype=probs.dtype, device=probs.device)
    return probs.log()
