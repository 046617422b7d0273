"""The openai backend against a real HTTP server on loopback serving the tiny model."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from openai_server import CompletionServer

from bowerbird.learners.lm.backend import GenerationRequest
from bowerbird.learners.lm.loading import BackendUnavailable, load_backend
from bowerbird.learners.lm.openai import OpenAIBackend, template_for


@pytest.fixture(scope="module")
def local(tiny_model):
    return load_backend("transformers", str(tiny_model))


def test_completions_match_the_served_model(local):
    with CompletionServer(local, "tiny-starcoder") as server:
        remote = load_backend("openai", url=server.url)
        assert (remote.model, remote.context_tokens, remote.fim.family) == ("tiny-starcoder", 512, "starcoder")
        prompt = "<fim_prefix>def area(self):\n    return <fim_suffix>\n<fim_middle>"
        got = remote.generate(GenerationRequest(prompt, max_new_tokens=8, single_line=True))
        direct = local.generate(GenerationRequest(prompt, max_new_tokens=8, single_line=True))
        assert [c.text for c in got] == [direct[0].text.split("\n")[0]]
        assert server.requests[-1]["stop"] == ["\n"] and server.requests[-1]["stream"] is True


def test_a_refused_connection_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(BackendUnavailable, match="cannot reach the completion server"):
        load_backend("openai", url=f"http://127.0.0.1:{port}")
    with pytest.raises(BackendUnavailable, match="needs the server's url"):
        load_backend("openai")


def test_a_hanging_server_times_out(local):
    with CompletionServer(local, "tiny", hang=True) as server:
        remote = OpenAIBackend(server.url, timeout_s=0.5)
        start = time.monotonic()
        with pytest.raises(Exception) as error:
            remote.generate(GenerationRequest("x = ", max_new_tokens=4))
        assert "timed out" in str(error.value).lower() or "timeout" in type(error.value).__name__.lower()
        assert time.monotonic() - start < 5


def test_a_cancelled_stream_answers_nothing(local):
    with CompletionServer(local, "tiny") as server:
        remote = OpenAIBackend(server.url)
        cancel = threading.Event()
        cancel.set()
        assert remote.generate(GenerationRequest("x = ", max_new_tokens=4, cancel=cancel)) == []


def test_fim_template_from_served_model_names():
    assert template_for("bigcode/starcoder2-3b").family == "starcoder"
    assert template_for("Qwen/Qwen2.5-Coder-1.5B").family == "qwen2.5-coder"
    assert template_for("deepseek-ai/deepseek-coder-1.3b-base").family == "deepseek-coder"
    assert template_for("codellama/CodeLlama-7b-hf").family == "codellama"
    assert template_for("gpt2") is None
