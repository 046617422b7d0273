"""Bowerbird's own decoding loop for local causal LMs: KV-cached, greedy or sampled, stopping
at the end of the line, cancellable between tokens, with token healing and reuse of the
previous prompt's cache.

Why not `generate()`: a completion request is short (a line is ~10 tokens) and latency-bound,
so per-token overhead and the prompt's prefill dominate. Here the prefill keeps only the last
position's logits, the prompt's KV cache is kept and the next request (the same file, one
keystroke later) only runs the tokens after the longest common prefix, and stopping is a set
look-up on the token id instead of decoding the whole row at every step.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MIN_REUSE = 16  # common-prefix tokens below which the cache is not worth keeping


@dataclass
class Generated:
    ids: list[int]  # generated token ids (no end-of-text)
    logprobs: list[float]  # the model's log-probability of each
    state: object = None  # with `states`: the mean last hidden state from which each token was written


@dataclass
class PromptCache:
    """The last prompt's token ids and its KV cache (batch 1)."""

    ids: list[int] = field(default_factory=list)
    cache: object | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    reused_tokens: int = 0  # of the last prompt, tokens whose keys and values were reused

    def clear(self) -> None:
        self.ids, self.cache = [], None


class Vocabulary:
    """What the loop needs to know about token ids, computed once per tokenizer, lazily."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self._texts: list[str] | None = None
        self._by_first: dict[str, list[int]] | None = None
        self._empty: list[int] | None = None

    def prepare(self) -> None:
        """Decode the vocabulary now (a second for a 150k one) rather than in the first request."""
        self.texts

    @property
    def texts(self) -> list[str]:
        if self._texts is None:
            size = len(self.tokenizer)
            self._texts = self.tokenizer.batch_decode([[i] for i in range(size)])
        return self._texts

    def empty_line_ids(self) -> list[int]:
        """Tokens that end the line before writing anything visible (a newline, perhaps after
        spaces): as a single-line completion's first token they make it empty."""
        if self._empty is None:
            self._empty = [i for i, t in enumerate(self.texts) if t.lstrip(" \t").startswith("\n")]
        return self._empty

    def structural_ids(self, eos_id: int | None) -> list[int]:
        """Special tokens other than end-of-text (FIM markers, file separators, padding): they
        frame prompts and are never part of a completion."""
        return sorted(set(self.tokenizer.all_special_ids) - {eos_id})

    def ends_line(self, token: int) -> bool:
        texts = self.texts
        return token < len(texts) and "\n" in texts[token]

    def consistent_with(self, remaining: str) -> list[int]:
        """Token ids whose text starts with `remaining` or is a non-empty start of it."""
        if self._by_first is None:
            by_first: dict[str, list[int]] = {}
            for i, text in enumerate(self.texts):
                if text and i not in self.tokenizer.all_special_ids:
                    by_first.setdefault(text[0], []).append(i)
            self._by_first = by_first
        texts = self.texts
        return [i for i in self._by_first.get(remaining[:1], ())
                if texts[i].startswith(remaining) or remaining.startswith(texts[i])]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _last_hidden(out):
    """The last position's last hidden state [batch, width] of a network's output: the lean
    decoder's `hidden`, or transformers' last `hidden_states` (final norm applied)."""
    hidden = getattr(out, "hidden", None)
    if hidden is None:
        hidden = out.hidden_states[-1]
    return hidden[:, -1, :].float()


def _hidden_options(network, states: bool) -> dict:
    """Keyword arguments that make ``network`` return hidden states (the lean decoder always does)."""
    return {"output_hidden_states": True} if states and not hasattr(network, "states") else {}


def prefill(network, ids: list[int], cached: PromptCache | None, device: str, states: bool = False):
    """Run the prompt, reusing `cached` for its longest common prefix; returns (logits of the
    last position [1, vocab], the cache, and with `states` its last hidden state [1, width])."""
    import torch

    cache, start = None, 0
    if cached is not None and cached.cache is not None:
        start = min(_common_prefix(cached.ids, ids), len(ids) - 1)  # at least one token to run
        if start >= MIN_REUSE:
            cache = cached.cache
            extra = cache.get_seq_length() - start
            try:
                if extra > 0:
                    cache.crop(-extra)  # keep the first `start` positions
            except (ValueError, NotImplementedError, AttributeError):  # a cache that cannot be cut (e.g. recurrent)
                cache, start = None, 0
        else:
            start = 0
    tail = torch.tensor([ids[start:]], device=device)
    out = network(input_ids=tail, cache=cache, use_cache=True, logits_to_keep=1, **_hidden_options(network, states))
    if cached is not None:
        cached.ids, cached.cache, cached.reused_tokens = list(ids), out.cache, start
    return out.logits[:, -1, :].float(), out.cache, (_last_hidden(out) if states else None)


def decode(
    network, vocabulary: Vocabulary, ids: list[int], *, max_new_tokens: int, eos_id: int | None,
    candidates: int = 1, temperature: float = 0.0, single_line: bool = True, heal: str = "",
    cancel: threading.Event | None = None, cached: PromptCache | None = None, device: str = "cpu",
    generator=None, copy_weight=0.0, memory: list[int] | None = None,
    copy_written: bool = True, states: bool = False,
) -> list[Generated]:
    """Greedy (one row) or sampled (`candidates` rows at `temperature`) continuations of `ids`.

    A row ends at end-of-text, or (single_line) with the first token holding a newline (kept:
    post-processing cuts the line). The first token is never end-of-text, nor (single_line) a
    token that ends the line before writing anything; special tokens other than end-of-text
    (FIM markers, separators) are never written. `heal`: characters cut
    from the end of the prompt (token healing); a row's first tokens are constrained to write
    them, and the text returned still starts with them. `copy_weight`: the share of the prompt's
    n-gram copy cache in each next-token distribution, one number or one per match length
    (copy_cache.py; 0: the model alone);
    `memory`: token ids of text before the prompt that the cache indexes too (the model does
    not see them); `copy_written`: whether the tokens written are indexed as they come (False:
    copy from the prompt and memory only). `states`: each row also gets `Generated.state`, the
    mean of the last hidden states from which its tokens were chosen (the prompt's last position
    for the first token, then each token written but the last): the candidate as the model read
    it in its context, at no extra cost (the reward features use it). Returns [] when cancelled."""
    import torch

    with torch.inference_mode():
        return _decode(network, vocabulary, ids, max_new_tokens, eos_id, candidates, temperature, single_line, heal,
                       cancel or threading.Event(), cached, device, generator, copy_weight, memory or [], copy_written,
                       states)


def _decode(network, vocabulary, ids, max_new_tokens, eos_id, candidates, temperature, single_line, heal, cancel,
            cached, device, generator, copy_weight, memory, copy_written, states=False) -> list[Generated]:
    import torch

    from bowerbird.learners.lm.copy_cache import enabled, mix, new_cache

    sampling = temperature > 0 and candidates > 1
    rows = candidates if sampling else 1
    logits, cache, hidden = prefill(network, ids, cached, device, states)
    if rows > 1:
        logits = logits.repeat(rows, 1)
        cache.batch_repeat_interleave(rows)
        hidden = hidden.repeat(rows, 1) if hidden is not None else None
    out = [Generated([], []) for _ in range(rows)]
    state_sums = torch.zeros(rows, hidden.shape[-1]) if hidden is not None else None
    structural = vocabulary.structural_ids(eos_id)
    remaining = [heal] * rows
    done = [False] * rows
    copies = ([new_cache(memory + ids, copy_weight, copy_written) for _ in range(rows)]
              if enabled(copy_weight) else [])
    try:
        for step in range(max_new_tokens):
            if cancel.is_set():
                return []
            if copies:
                logprobs = torch.stack([mix(logits[r], copies[r], copy_weight) for r in range(rows)])
            else:
                logprobs = torch.log_softmax(logits, dim=-1)
            chooser = logprobs.clone()
            if structural:
                chooser[:, structural] = float("-inf")
            if step == 0:  # an empty completion is never useful
                if eos_id is not None:
                    chooser[:, eos_id] = float("-inf")
                if single_line:
                    chooser[:, vocabulary.empty_line_ids()] = float("-inf")
            for r in range(rows):
                if remaining[r]:
                    allowed = vocabulary.consistent_with(remaining[r])
                    if allowed:
                        keep = torch.full_like(chooser[r], float("-inf"))
                        keep[allowed] = chooser[r, allowed]
                        chooser[r] = keep
            if sampling:
                probs = torch.softmax(chooser / temperature, dim=-1)
                picked = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            else:
                picked = chooser.argmax(-1)
            tokens = picked.tolist()
            for r, token in enumerate(tokens):
                if done[r]:
                    continue
                if token == eos_id:
                    done[r] = True
                    continue
                out[r].ids.append(token)
                out[r].logprobs.append(float(logprobs[r, token]))
                if state_sums is not None:
                    state_sums[r] += hidden[r].cpu()
                if copies:
                    copies[r].push(token)
                if remaining[r]:
                    text = vocabulary.texts[token]
                    remaining[r] = remaining[r][len(text):] if remaining[r].startswith(text) else ""
                if single_line and vocabulary.ends_line(token):
                    done[r] = True
            if all(done) or step == max_new_tokens - 1:
                break
            feed = torch.tensor([[t] for t in tokens], device=device)
            step_out = network(input_ids=feed, cache=cache, use_cache=True, **_hidden_options(network, states))
            logits = step_out.logits[:, -1, :].float()
            if states:
                hidden = _last_hidden(step_out)
    finally:
        if cached is not None and rows > 1 and cached.cache is cache:
            cache.batch_select_indices(torch.tensor([0], device=device))  # back to the prompt's batch of one
    if state_sums is not None:
        for r, row in enumerate(out):
            row.state = state_sums[r] / max(1, len(row.ids))
    return out
