"""A lean forward pass of a GPT-2 model for decoding: the same weights and the same arithmetic
as transformers' `GPT2LMHeadModel`, without its per-call machinery.

A completion writes ~24 tokens one at a time, and for a model as small as the embedded one
(4 layers, width 256) the arithmetic of a step is a fraction of a millisecond while the
library's step (mask construction, a growing cache concatenated at every layer, hooks, output
objects) costs several. Here a step is a few fused matrix products per layer over keys and
values written in place into tensors allocated once for the model's whole context (a static
KV cache), so decoding costs about what its arithmetic does.

`LeanGPT2` is called like the transformers model by decoding.py (`input_ids`, `cache`,
`use_cache`, `logits_to_keep`; the result has `.logits` and `.cache`), and its `StaticCache`
has the cache methods decoding.py uses (`get_seq_length`, `crop`, `batch_repeat_interleave`,
`batch_select_indices`). `lean_decoder(network)` returns one for a GPT-2 model it can mirror
exactly, else None (another architecture, or a configuration this file does not implement):
then the transformers model decodes as before. The teacher-forced check (evaluate.py) and
training keep using transformers; a test holds the two forwards to the same logits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class LeanOutput:
    logits: object  # [batch, positions kept, vocab]
    cache: StaticCache
    hidden: object = None  # [batch, positions kept, width]: the last hidden states (final norm applied)


class StaticCache:
    """Keys and values of every layer, [layers, batch, heads, context, head size], filled up
    to `length` positions."""

    def __init__(self, keys, values):
        self.keys, self.values, self.length = keys, values, 0

    def get_seq_length(self) -> int:
        return self.length

    def crop(self, max_length: int) -> None:
        """Keep the first `max_length` positions (negative: drop that many from the end), as
        transformers' caches do."""
        self.length = self.length + max_length if max_length < 0 else min(self.length, max_length)

    def batch_repeat_interleave(self, repeats: int) -> None:
        self.keys = self.keys.repeat_interleave(repeats, dim=1)
        self.values = self.values.repeat_interleave(repeats, dim=1)

    def batch_select_indices(self, indices) -> None:
        self.keys, self.values = self.keys[:, indices], self.values[:, indices]


class LeanGPT2:
    def __init__(self, model):
        import torch

        config = model.config
        body = model.transformer
        self.config = config
        self.heads = config.n_head
        self.head_size = config.n_embd // config.n_head
        self.context = config.n_positions
        self.eps = config.layer_norm_epsilon
        self.scale = 1.0 / math.sqrt(self.head_size) if config.scale_attn_weights else 1.0
        self.wte, self.wpe = body.wte.weight, body.wpe.weight
        self.lm_head = model.lm_head.weight
        self.layers = [
            (block.ln_1.weight, block.ln_1.bias, block.attn.c_attn.weight, block.attn.c_attn.bias,
             block.attn.c_proj.weight, block.attn.c_proj.bias, block.ln_2.weight, block.ln_2.bias,
             block.mlp.c_fc.weight, block.mlp.c_fc.bias, block.mlp.c_proj.weight, block.mlp.c_proj.bias)
            for block in body.h
        ]
        self.final = (body.ln_f.weight, body.ln_f.bias)
        self.dtype, self.device = self.wte.dtype, self.wte.device
        # in bfloat16/float16 on a CPU, oneDNN compiles and caches kernels per matrix shape, so
        # prompts of every length would grow the process by hundreds of MB: pad them to a few
        self.bucketed = self.device.type == "cpu" and self.dtype != torch.float32
        # attention reads the cache in float32 on a CPU: a step's attention over 1,024 keys
        # takes ~40 us there against ~230 us in bfloat16 (whose kernel is made for blocks)
        self.cache_dtype = torch.float32 if self.device.type == "cpu" else self.dtype
        self._torch = torch

    def new_cache(self, batch: int = 1, positions: int | None = None) -> StaticCache:
        """An empty cache for `positions` (default: the model's whole context)."""
        shape = (len(self.layers), batch, self.heads, positions or self.context, self.head_size)
        empty = self._torch.empty  # positions are written before they are read
        return StaticCache(empty(shape, dtype=self.cache_dtype, device=self.device),
                           empty(shape, dtype=self.cache_dtype, device=self.device))

    def __call__(self, input_ids, cache: StaticCache | None = None, use_cache: bool = True,
                 logits_to_keep: int = 0, **_ignored) -> LeanOutput:
        x, cache = self._body(input_ids, cache)
        with self._torch.inference_mode():
            kept = self._final_norm(x[:, -logits_to_keep:] if logits_to_keep else x)
            return LeanOutput(kept @ self.lm_head.T, cache, kept)

    def states(self, input_ids, blocks: int | None = None):
        """The last hidden states [batch, length, width] (after the final layer norm, as
        transformers' `last_hidden_state`), from a fresh cache sized for this input; `blocks`:
        the states after that many blocks instead (0: the embeddings), final norm applied."""
        batch, length = input_ids.shape
        positions = min(bucket(length), self.context) if self.bucketed else length
        x, _ = self._body(input_ids, self.new_cache(batch, positions), blocks)
        with self._torch.inference_mode():
            return self._final_norm(x)

    def _final_norm(self, x):
        return self._torch.nn.functional.layer_norm(x, (x.shape[-1],), self.final[0], self.final[1], self.eps)

    def _body(self, input_ids, cache: StaticCache | None, blocks: int | None = None):
        """The blocks (the first `blocks` of them) over `input_ids` after the cache's positions:
        (states of the real positions before the final norm, the cache holding them)."""
        torch = self._torch
        functional = torch.nn.functional
        batch, length = input_ids.shape
        if cache is None:
            cache = self.new_cache(batch)
        past = cache.length
        end = past + length
        if end > self.context:
            raise ValueError(f"{end} positions: the model's context is {self.context}")
        real = length
        if self.bucketed and length > 1:  # padded at the end: causal attention keeps real positions exact
            length = min(bucket(length), self.context - past)
            end = past + length
            input_ids = torch.cat([input_ids, input_ids[:, -1:].expand(batch, length - real)], dim=1)
        with torch.inference_mode():
            x = self.wte[input_ids] + self.wpe[past:end]
            mask = None
            if length > 1:  # each new position sees the past and the new positions up to itself
                mask = torch.ones(length, end, dtype=torch.bool, device=self.device).tril(past)
            width = x.shape[-1]
            for index, (w1, b1, wqkv, bqkv, wo, bo, w2, b2, wfc, bfc, wproj, bproj) in enumerate(self.layers[:blocks]):
                h = functional.layer_norm(x, (width,), w1, b1, self.eps)
                qkv = torch.addmm(bqkv, h.view(-1, width), wqkv).view(batch, length, 3, self.heads, self.head_size)
                q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each [batch, heads, length, head size]
                cache.keys[index, :, :, past:end] = k
                cache.values[index, :, :, past:end] = v
                attended = functional.scaled_dot_product_attention(
                    q.to(self.cache_dtype), cache.keys[index, :, :, :end], cache.values[index, :, :, :end],
                    attn_mask=mask, scale=self.scale)
                attended = attended.transpose(1, 2).reshape(-1, width).to(self.dtype)
                x = x + torch.addmm(bo, attended, wo).view(batch, length, width)
                h = functional.layer_norm(x, (width,), w2, b2, self.eps)
                inner = functional.gelu(torch.addmm(bfc, h.view(-1, width), wfc), approximate="tanh")
                x = x + torch.addmm(bproj, inner, wproj).view(batch, length, width)
            cache.length = past + real  # what padding wrote there is overwritten by the next tokens
            return x[:, :real], cache


def bucket(length: int) -> int:
    """`length` rounded up to one of a few sizes: a power of two up to 64 (short inputs cost
    little either way), then a multiple of 64 (at most 63 rows more)."""
    if length <= 64:
        return 1 << (length - 1).bit_length()
    return -(-length // 64) * 64


def lean_decoder(network) -> LeanGPT2 | None:
    """A `LeanGPT2` mirroring `network`, or None when it is not a GPT-2 model this file
    implements exactly (then decode with `network` itself)."""
    config = getattr(network, "config", None)
    if config is None or getattr(config, "model_type", None) != "gpt2":
        return None
    if (config.activation_function != "gelu_new" or config.scale_attn_by_inverse_layer_idx
            or config.reorder_and_upcast_attn or config.add_cross_attention or config.n_embd % config.n_head
            or getattr(network, "lm_head", None) is None):
        return None
    return LeanGPT2(network)
