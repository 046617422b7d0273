"""The classifiers' frozen encoder: the mean of a local causal LM's last hidden states.

RLPG encoded holes and proposal contexts with a frozen CodeBERT. Here the encoder is the code
model that completes (the embedded one by default), so no second model ships: a text's vector
is the mean, over its tokens, of the network's last hidden states (before the vocabulary
projection). Texts longer than `max_tokens` keep the end that matters (the hole window's end is
the cursor). An empty text is the zero vector.
"""

from __future__ import annotations

from typing import Literal


class HiddenStateEncoder:
    def __init__(self, backend, max_tokens: int = 256, batch: int = 16):
        network = getattr(backend, "network", None)
        if network is None:
            raise ValueError(f"backend {getattr(backend, 'name', backend)!r} has no local network to encode with")
        self.tokenizer = backend.tokenizer
        self.body = network.base_model  # the transformer without its language-model head
        self.dim = int(network.config.hidden_size)
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
        order = sorted((i for i, r in enumerate(rows) if r), key=lambda i: len(rows[i]))  # similar lengths batch together
        with torch.inference_mode():
            for start in range(0, len(order), self.batch):
                chunk = order[start : start + self.batch]
                length = max(len(rows[i]) for i in chunk)
                ids = torch.tensor([rows[i] + [0] * (length - len(rows[i])) for i in chunk], device=self.device)
                mask = torch.tensor([[1] * len(rows[i]) + [0] * (length - len(rows[i])) for i in chunk],
                                    device=self.device)
                states = self.body(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                weights = mask[..., None].to(states.dtype)
                pooled = (states * weights).sum(1) / weights.sum(1)
                vectors[chunk] = pooled.cpu()
        return vectors
