"""The classifiers' frozen encoder: the mean of a local causal LM's last hidden states.

RLPG encoded holes and proposal contexts with a frozen CodeBERT. Here the encoder is the code
model that completes (the embedded one by default), so no second model ships: a text's vector
is the mean, over its tokens, of the network's last hidden states (before the vocabulary
projection). Texts longer than `max_tokens` keep the end that matters (the hole window's end is
the cursor). An empty text is the zero vector.

A GPT-2 model the lean decoder mirrors (lean_gpt2.py, the embedded model among them) encodes
one text at a time through it: a few milliseconds on a CPU, and in bfloat16 its inputs are
padded to a few lengths, as decoding's are. Other models encode in padded batches through
transformers. Both give the same vectors (a test holds them together).

`layers` encodes with the states after that many of the network's blocks (0: the token and
position embeddings alone), the final layer norm applied as to the last block's: a cheaper
encoder, for when the whole network costs more than a request can spare (`train ppc
--cross-validate` measures what each costs in quality).

`fingerprint(backend)` names the encoder's weights, not its path: a classifier trained on one
machine's copy of the embedded model is recognised on another's, in float32 or bfloat16.
"""

from __future__ import annotations

import hashlib
from typing import Literal


class HiddenStateEncoder:
    def __init__(self, backend, max_tokens: int = 256, batch: int = 16, layers: int | None = None):
        network = getattr(backend, "network", None)
        if network is None:
            raise ValueError(f"backend {getattr(backend, 'name', backend)!r} has no local network to encode with")
        self.tokenizer = backend.tokenizer
        self.body = network.base_model  # the transformer without its language-model head
        decoder = getattr(backend, "decoder", None)
        self.lean = decoder if hasattr(decoder, "states") else None
        self.dim = int(network.config.hidden_size)
        depth = int(network.config.num_hidden_layers)
        if layers is not None and not 0 <= layers <= depth:
            raise ValueError(f"layers must be from 0 to {depth} (the network's blocks)")
        self.layers = None if layers == depth else layers  # None: all of them
        self.final_norm = getattr(self.body, "ln_f", None) or getattr(self.body, "norm", None)
        if self.layers is not None and self.final_norm is None:
            raise ValueError("this network has no final layer norm to apply to earlier states")
        self.device = backend.device
        self.max_tokens = max_tokens
        self.batch = batch

    def encode(self, texts: list[str], keep: Literal["front", "back"] = "back"):
        """[len(texts), dim] float32 vectors; `keep`: which end of a long text is encoded."""
        import torch

        rows = []
        for text in texts:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
            rows.append(ids[-self.max_tokens:] if keep == "back" else ids[: self.max_tokens])
        vectors = torch.zeros(len(rows), self.dim)
        if self.lean is not None:
            for i, ids in enumerate(rows):
                if ids:
                    states = self.lean.states(torch.tensor([ids], device=self.device), self.layers)
                    vectors[i] = states[0].float().mean(0).cpu()
            return vectors
        order = sorted((i for i, r in enumerate(rows) if r), key=lambda i: len(rows[i]))  # similar lengths batch together
        with torch.inference_mode():
            for start in range(0, len(order), self.batch):
                chunk = order[start : start + self.batch]
                length = max(len(rows[i]) for i in chunk)
                ids = torch.tensor([rows[i] + [0] * (length - len(rows[i])) for i in chunk], device=self.device)
                mask = torch.tensor([[1] * len(rows[i]) + [0] * (length - len(rows[i])) for i in chunk],
                                    device=self.device)
                if self.layers is None:
                    states = self.body(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                else:
                    hidden = self.body(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
                    states = self.final_norm(hidden[self.layers]).float()
                weights = mask[..., None].to(states.dtype)
                pooled = (states * weights).sum(1) / weights.sum(1)
                vectors[chunk] = pooled.cpu()
        return vectors


def fingerprint(backend) -> str | None:
    """A short hash of the local network's token embeddings, as bfloat16 (so the float32 and
    bfloat16 loads of one checkpoint agree), with its shape; None for a served model."""
    import torch

    network = getattr(backend, "network", None)
    if network is None:
        return None
    embeddings = network.get_input_embeddings().weight.detach()
    digest = hashlib.sha256(str(tuple(embeddings.shape)).encode())
    digest.update(embeddings[:512].to(torch.bfloat16).view(torch.int16).cpu().numpy().tobytes())
    return digest.hexdigest()[:16]
