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
