"""The device and number-format choice (learners/lm/device.py)."""

from __future__ import annotations

import pytest
import torch

from bowerbird.learners.lm.device import DTYPES, choose_dtype, cpu_flags

INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 avx512f amx_bf16 amx_tile\n\nprocessor\t: 1\n"
ZEN4 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n"
OLD = "processor\t: 0\nflags\t\t: fpu sse2 avx2\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd bf16\n"


def test_cpu_flags_are_read_from_cpuinfo_text():
    assert {"amx_bf16", "avx2"} <= cpu_flags(INTEL)
    assert "avx512_bf16" in cpu_flags(ZEN4)
    assert cpu_flags("") == frozenset()  # no flags line: nothing known
    assert cpu_flags("garbage without colons\n\x00") == frozenset()


def test_auto_takes_bfloat16_on_a_cpu_only_where_it_is_native():
    assert choose_dtype("cpu", "auto", cpu_flags(INTEL)) is torch.bfloat16
    assert choose_dtype("cpu", None, cpu_flags(ZEN4)) is torch.bfloat16
    assert choose_dtype("cpu", "auto", cpu_flags(OLD)) is torch.float32
    # an ARM `bf16` feature is not one torch's CPU kernels are known to use: stay exact
    assert choose_dtype("cpu", "auto", cpu_flags(ARM)) is torch.float32
    assert choose_dtype("cpu", "auto", frozenset()) is torch.float32


def test_auto_on_accelerators_and_explicit_choices():
    assert choose_dtype("mps", "auto", frozenset()) is torch.float16
    for name in DTYPES[1:]:
        assert choose_dtype("cpu", name, cpu_flags(ZEN4)) is getattr(torch, name)  # what is asked for, always


def test_an_unknown_dtype_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown dtype 'fp8'.*float32"):
        choose_dtype("cpu", "fp8", frozenset())


def test_auto_on_a_bfloat16_cpu_keeps_bfloat16_only_for_the_lean_decoder(tiny_model, tmp_path, monkeypatch):
    """Other architectures decode with the transformers network, which in bfloat16 would have
    oneDNN compile and keep a kernel per prompt length: auto gives them float32."""
    import shutil

    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from bowerbird.learners.lm import device
    from bowerbird.learners.lm.backend import GenerationRequest
    from bowerbird.learners.lm.loading import load_backend

    monkeypatch.setattr(device, "cpu_flags", lambda cpuinfo=None: frozenset({"avx512_bf16"}))
    gpt2 = load_backend("transformers", str(tiny_model), device="cpu")
    assert gpt2.dtype is torch.bfloat16 and gpt2.network.dtype is torch.bfloat16

    llama = tmp_path / "llama"
    shutil.copytree(tiny_model, llama)
    size = len(AutoTokenizer.from_pretrained(llama))
    for name in ("config.json", "model.safetensors"):
        (llama / name).unlink()
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=size, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                 num_attention_heads=2, max_position_embeddings=256)).save_pretrained(llama)
    other = load_backend("transformers", str(llama), device="cpu")
    assert other.dtype is torch.float32 and other.network.dtype is torch.float32 and other.decoder is other.network
    assert load_backend("transformers", str(llama), device="cpu", dtype="bfloat16").dtype is torch.bfloat16  # asked for
    assert other.generate(GenerationRequest("import os\n", max_new_tokens=4, single_line=False))
