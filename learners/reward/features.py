"""What the reward models see of a candidate: the code model's hidden states and a few cheap
features. Never the simulator's style attributes (`style.py`).

- the candidate's hidden state: the mean of the code model's last hidden states from which it
  wrote the candidate's tokens, in the candidate's own context (`Candidate.state`; the decoding
  loop keeps it at no extra cost, `decoding.decode(states=True)`);
- its mean token embedding (`TokenEmbedder`): what it says, in the model's vocabulary;
- `cheap_features`: length, lines, the model's mean log-probability, and what the candidate
  closes (brackets it leaves open or closes, a block-opening colon).
"""

from __future__ import annotations

import math

CHEAP_FEATURES = ("log_chars", "lines", "logprob", "closes", "opens", "colon", "blank")
# the order of `feature_vector`'s parts: checkpoints and cached candidates record it
LAYOUT = "state,embedding_mean,embedding_sum," + ",".join(CHEAP_FEATURES)


def feature_vector(line_prefix: str, candidate: str, score: float, state, embedding):
    """The reward models' input for one candidate, a float32 tensor [F]: its hidden state, its
    token embeddings' mean and sum (`TokenEmbedder`: ``embedding`` is that pair), then
    `cheap_features`."""
    import torch

    mean, total = embedding
    cheap = torch.tensor(cheap_features(line_prefix, candidate, score))
    return torch.cat([state.detach().float().cpu().reshape(-1), mean, total, cheap])


class TokenEmbedder:
    """The mean and the sum of the code model's input embeddings over a text's tokens: what
    the candidate says, as the model's own vocabulary reads it (the hidden states above are the
    states the model wrote it from, so they say more about the context than about the tokens
    written). The sum keeps counts the mean loses: how many calls or look-ups a line chains,
    how many arguments it names (a linear probe's R^2 for chaining goes from 0.34 to 0.62)."""

    def __init__(self, backend):
        network = getattr(backend, "network", None)
        if network is None:
            raise ValueError(f"backend {getattr(backend, 'name', backend)!r} has no local network")
        self.tokenizer = backend.tokenizer
        self.table = network.get_input_embeddings().weight.detach()
        self.dim = int(self.table.shape[1])

    def __call__(self, text: str):
        """(mean, sum), each [dim]; zeros for an empty text."""
        import torch

        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        if not ids:
            return torch.zeros(self.dim), torch.zeros(self.dim)
        rows = self.table[torch.tensor(ids, device=self.table.device)].float().cpu()
        return rows.mean(0), rows.sum(0)


def bracket_balance(text: str) -> int:
    """Opening minus closing brackets of ``text`` (strings and comments not excluded: cheap)."""
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def cheap_features(line_prefix: str, candidate: str, score: float) -> list[float]:
    """`CHEAP_FEATURES` of ``candidate`` completing the line after ``line_prefix``; ``score``
    is the model's mean log-probability per token (clipped to [-10, 0])."""
    text = candidate.rstrip("\n")
    open_before = max(0, bracket_balance(line_prefix))
    balance = bracket_balance(text)
    score = 0.0 if not math.isfinite(score) else max(-10.0, min(0.0, score))
    return [
        math.log1p(len(text.strip())),
        float(text.count("\n")),
        score,
        float(min(open_before, max(0, -balance))),  # brackets of the line it closes
        float(max(0, balance)),  # brackets it leaves open
        1.0 if text.rstrip().endswith(":") else 0.0,
        1.0 if not text.strip() else 0.0,
    ]


def teacher_forced_features(backend, prefix: str, candidates: list[str], max_candidate_tokens: int = 48):
    """[len(candidates), F] `feature_vector`s of candidates recorded without their hidden states
    (feedback events): each is run after the in-file prompt for ``prefix``, and its hidden
    state and mean log-probability are read from that pass. The decoding loop's states
    (`Candidate.state`) come from the prompt the completion actually had (with its proposal
    context and token healing), so these match them only approximately."""
    import torch

    from bowerbird.learners.lm.prompt import compose

    embed = TokenEmbedder(backend)
    network = backend.decoder
    prompt = compose(backend, "", "", prefix, "", max_candidate_tokens, heal=False)
    prompt_ids = backend.tokenizer(prompt.text, add_special_tokens=False)["input_ids"]
    line_prefix = prefix.rpartition("\n")[2]
    rows = []
    for text in candidates:
        ids = backend.tokenizer(text, add_special_tokens=False)["input_ids"][:max_candidate_tokens] if text else []
        keep = max(1, backend.context_tokens - len(ids))
        context = prompt_ids[-keep:] or ids[:1]
        if not ids:
            rows.append(feature_vector(line_prefix, text, 0.0, torch.zeros(embed.dim), embed(text)))
            continue
        sequence = torch.tensor([context + ids], device=backend.device)
        with torch.inference_mode():
            if hasattr(network, "states"):
                out = network(sequence)
                logits, hidden = out.logits, out.hidden
            else:
                out = network(input_ids=sequence, output_hidden_states=True)
                logits, hidden = out.logits, out.hidden_states[-1]
        start = len(context) - 1  # the position that wrote the candidate's first token
        span = slice(start, start + len(ids))
        logprobs = torch.log_softmax(logits[0, span].float(), dim=-1)
        score = float(logprobs[torch.arange(len(ids)), torch.tensor(ids, device=logprobs.device)].mean())
        rows.append(feature_vector(line_prefix, text, score, hidden[0, span].float().mean(0).cpu(), embed(text)))
    return torch.stack(rows)
