"""The lean GPT-2 decoder gives the transformers model's logits, step by step and reused."""

from __future__ import annotations

import pytest
import torch

from bowerbird.learners.lm.decoding import PromptCache, decode
from bowerbird.learners.lm.lean_gpt2 import bucket, lean_decoder


@pytest.fixture(scope="module")
def backend(tiny_model):
    from bowerbird.learners.lm.loading import load_backend

    return load_backend("transformers", str(tiny_model), dtype="float32")  # exact logits to compare


def reference(network, ids: list[int]):
    """transformers' logits of every position of `ids`, run whole."""
    with torch.inference_mode():
        return network(input_ids=torch.tensor([ids])).logits[0].float()


def test_prefill_and_steps_give_the_transformers_logits(backend):
    network = backend.network
    lean = lean_decoder(network)
    assert lean is not None
    ids = torch.randint(1, 200, (60,), generator=torch.Generator().manual_seed(0)).tolist()
    expected = reference(network, ids)
    out = lean(input_ids=torch.tensor([ids[:40]]), logits_to_keep=1)
    assert out.cache.get_seq_length() == 40
    torch.testing.assert_close(out.logits[0, -1], expected[39], atol=1e-4, rtol=1e-4)
    cache = out.cache
    for i in range(40, 50):  # one token at a time
        out = lean(input_ids=torch.tensor([[ids[i]]]), cache=cache)
        torch.testing.assert_close(out.logits[0, -1], expected[i], atol=1e-4, rtol=1e-4)
    out = lean(input_ids=torch.tensor([ids[50:60]]), cache=cache)  # several after a past: the mask
    torch.testing.assert_close(out.logits[0], expected[50:60], atol=1e-4, rtol=1e-4)


def test_a_cropped_cache_continues_as_if_the_dropped_tokens_were_never_seen(backend):
    lean = lean_decoder(backend.network)
    ids = list(range(5, 45))
    other = ids[:30] + [7, 8, 9]
    cache = lean(input_ids=torch.tensor([ids]), logits_to_keep=1).cache
    cache.crop(-10)  # keep 30
    assert cache.get_seq_length() == 30
    out = lean(input_ids=torch.tensor([other[30:]]), cache=cache)
    torch.testing.assert_close(out.logits[0], reference(backend.network, other)[30:], atol=1e-4, rtol=1e-4)


def test_decoding_with_it_writes_what_the_transformers_model_writes(backend):
    lean = lean_decoder(backend.network)
    vocabulary = backend.vocabulary
    for seed in range(4):
        ids = torch.randint(1, 200, (30 + seed * 20,), generator=torch.Generator().manual_seed(seed)).tolist()
        slow = decode(backend.network, vocabulary, ids, max_new_tokens=12, eos_id=None, single_line=False)
        fast = decode(lean, vocabulary, ids, max_new_tokens=12, eos_id=None, single_line=False)
        assert fast[0].ids == slow[0].ids
        assert fast[0].logprobs == pytest.approx(slow[0].logprobs, abs=1e-3)


def test_sampled_rows_and_a_reused_prompt_work_on_the_static_cache(backend):
    lean = lean_decoder(backend.network)
    ids = list(range(10, 60))
    cached = PromptCache()
    first = decode(lean, backend.vocabulary, ids, max_new_tokens=6, eos_id=None, single_line=False, cached=cached)
    rows = decode(lean, backend.vocabulary, ids + [3], max_new_tokens=6, eos_id=None, single_line=False, cached=cached,
                  candidates=3, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert cached.reused_tokens == 50 and len(rows) == 3 and all(len(r.ids) == 6 for r in rows)
    assert cached.cache.keys.shape[1] == 1  # back to the prompt's batch of one
    again = decode(lean, backend.vocabulary, ids, max_new_tokens=6, eos_id=None, single_line=False, cached=cached)
    assert again[0].ids == first[0].ids


def test_other_models_are_left_to_transformers():
    class NotGPT2:
        class config:
            model_type = "llama"

    assert lean_decoder(NotGPT2()) is None
    assert lean_decoder(object()) is None


def test_the_backend_decodes_gpt2_models_with_it(backend):
    from bowerbird.learners.lm.lean_gpt2 import LeanGPT2

    assert isinstance(backend.decoder, LeanGPT2)


def test_in_bfloat16_it_keeps_the_format_and_follows_the_transformers_model(tiny_model):
    from bowerbird.learners.lm.backend import GenerationRequest
    from bowerbird.learners.lm.loading import load_backend

    half = load_backend("transformers", str(tiny_model), dtype="bfloat16")
    assert half.dtype is torch.bfloat16 and half.network.dtype is torch.bfloat16
    lean = lean_decoder(half.network)
    ids = torch.randint(1, 200, (40,), generator=torch.Generator().manual_seed(1)).tolist()
    out = lean(input_ids=torch.tensor([ids]), logits_to_keep=1)  # 40 tokens, padded to 64 for oneDNN
    assert out.cache.keys.dtype is torch.float32  # on a CPU attention reads float32 keys: faster there
    assert out.cache.get_seq_length() == 40 and out.logits.shape[1] == 1
    expected = reference(half.network, ids + [7, 9])
    torch.testing.assert_close(out.logits[0, -1].float(), expected[39], atol=0.05, rtol=0.05)  # bfloat16's 8 bits
    step = lean(input_ids=torch.tensor([[7]]), cache=out.cache)  # the padding's keys were overwritten
    torch.testing.assert_close(step.logits[0, -1].float(), expected[40], atol=0.05, rtol=0.05)
    both = lean(input_ids=torch.tensor([[9, 11, 13]]), cache=out.cache)  # several: padded again, cut again
    assert both.logits.shape[1] == 3 and out.cache.get_seq_length() == 44
    torch.testing.assert_close(both.logits[0, 0].float(), expected[41], atol=0.05, rtol=0.05)
    [candidate] = half.generate(GenerationRequest("def main():\n    ", max_new_tokens=6, single_line=False))
    assert candidate.text and candidate.score > float("-inf")


def test_padded_lengths_are_few_and_never_short():
    sizes = {bucket(n) for n in range(1, 2049)}
    assert len(sizes) <= 40  # a few oneDNN kernels, not one per prompt length
    assert all(bucket(n) >= n and bucket(n) - n < 64 for n in range(1, 5000))
    assert [bucket(n) for n in (1, 2, 3, 5, 33, 64, 65, 129)] == [1, 2, 4, 8, 64, 64, 128, 192]
