"""The classifiers' encoder: mean-pooled hidden states of the code model."""

from __future__ import annotations

import pytest
import torch

from bowerbird.learners.ppc.encode import HiddenStateEncoder


@pytest.fixture(scope="module")
def backend(tiny_model):
    from bowerbird.learners.lm.loading import load_backend

    return load_backend("transformers", str(tiny_model), dtype="float32")


def test_vectors_are_the_mean_of_the_last_hidden_states(backend):
    encoder = HiddenStateEncoder(backend)
    text = "def area(width, height):\n    return width * height\n"
    [vector] = encoder.encode([text])
    ids = backend.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        states = backend.network(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0]
    assert encoder.dim == states.shape[-1] == vector.shape[0]
    torch.testing.assert_close(vector, states.mean(0), atol=1e-5, rtol=1e-5)


def test_batching_and_padding_do_not_change_a_vector(backend):
    encoder = HiddenStateEncoder(backend, batch=2)
    texts = ["x = 1", "import os\nprint(os.getcwd())\n" * 3, "", "class A:\n    pass\n"]
    together = encoder.encode(texts)
    for text, vector in zip(texts, together):
        torch.testing.assert_close(encoder.encode([text])[0], vector, atol=1e-5, rtol=1e-5)
    assert not together[2].any()  # an empty text is the zero vector


def test_long_texts_keep_the_end_asked_for(backend):
    encoder = HiddenStateEncoder(backend, max_tokens=8)
    head, tail = "alpha = beta(gamma)\n" * 4, "return delta(epsilon)\n" * 4
    ids = backend.tokenizer(tail, add_special_tokens=False)["input_ids"]
    assert len(ids) > 8
    end = backend.tokenizer.decode(backend.tokenizer(head + tail, add_special_tokens=False)["input_ids"][-8:])
    torch.testing.assert_close(encoder.encode([head + tail])[0], encoder.encode([end])[0], atol=1e-5, rtol=1e-5)
    start = backend.tokenizer.decode(backend.tokenizer(head + tail, add_special_tokens=False)["input_ids"][:8])
    torch.testing.assert_close(encoder.encode([head + tail], keep="front")[0], encoder.encode([start])[0],
                               atol=1e-5, rtol=1e-5)


def test_a_served_model_cannot_encode():
    class Served:
        name = "openai"

    with pytest.raises(ValueError, match="no local network"):
        HiddenStateEncoder(Served())


def test_the_lean_path_gives_the_transformers_vectors(backend):
    """The tiny model is GPT-2, so its backend encodes through the lean decoder; the batched
    transformers path must give the same vectors."""
    lean = HiddenStateEncoder(backend)
    assert lean.lean is not None
    batched = HiddenStateEncoder(backend)
    batched.lean = None
    texts = ["x = 1", "def f(a, b):\n    return a + b\n" * 4, ""]
    torch.testing.assert_close(lean.encode(texts), batched.encode(texts), atol=1e-5, rtol=1e-5)


def test_the_fingerprint_names_the_weights_not_the_path_or_number_format(tiny_model, tmp_path, backend):
    import shutil

    from bowerbird.learners.lm.loading import load_backend
    from bowerbird.learners.ppc.encode import fingerprint

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    assert fingerprint(load_backend("transformers", str(copy), dtype="bfloat16")) == fingerprint(backend)
    other = load_backend("transformers", str(copy), dtype="float32")
    with torch.no_grad():
        other.network.get_input_embeddings().weight[3] += 1.0
    assert fingerprint(other) != fingerprint(backend)
    assert len(fingerprint(backend)) == 16


@pytest.mark.parametrize("layers", [0, 1])
def test_earlier_layers_encode_alike_on_both_paths(backend, layers):
    text = "def f(a, b):\n    return a + b\n"
    lean = HiddenStateEncoder(backend, layers=layers)
    batched = HiddenStateEncoder(backend, layers=layers)
    batched.lean = None
    ids = torch.tensor([backend.tokenizer(text, add_special_tokens=False)["input_ids"]])
    with torch.inference_mode():
        hidden = backend.network(input_ids=ids, output_hidden_states=True).hidden_states[layers][0]
        expected = backend.network.transformer.ln_f(hidden).mean(0)
    torch.testing.assert_close(lean.encode([text])[0], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(batched.encode([text])[0], expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(expected, HiddenStateEncoder(backend).encode([text])[0])


def test_layers_out_of_range_are_refused(backend):
    with pytest.raises(ValueError, match="layers must be from 0 to 2"):
        HiddenStateEncoder(backend, layers=3)
    assert HiddenStateEncoder(backend, layers=2).layers is None  # all blocks: the last hidden states
