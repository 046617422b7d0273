"""The `openai` backend: an OpenAI-compatible `/v1/completions` server (vLLM, llama.cpp
server, TGI, Ollama), which is how a team serves a large model on GPUs.

Streams the answer so a cancelled request closes its connection between tokens; timeouts and
a bounded number of retries for connection failures and 5xx answers. FIM templates are applied
client-side, chosen from the served model's name. Budgets are counted with the regex counter
scaled up (no tokenizer is downloaded), so prompts stay inside the server's context.
"""

from __future__ import annotations

import json
import logging
import math
import time

import httpx

from bowerbird.analysis.tokens import Keep, RegexTokenCounter
from bowerbird.learners.lm.backend import Candidate, GenerationRequest
from bowerbird.learners.lm.fim import TEMPLATES, FimTemplate

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_TOKENS = 2048
RETRIES = 2
BPE_PER_REGEX_TOKEN = 1.3  # code: BPE tokens per regex token, rounded up (measured ~1.1-1.2)
FAMILY_NAMES = {"starcoder": "starcoder", "santacoder": "santacoder", "deepseek": "deepseek-coder",
                "qwen": "qwen2.5-coder", "codellama": "codellama"}


class ScaledCounter:
    """The regex counter, scaled to over-estimate a BPE tokenizer's counts."""

    def __init__(self, factor: float = BPE_PER_REGEX_TOKEN):
        self.inner = RegexTokenCounter()
        self.factor = factor

    def count(self, text: str) -> int:
        return math.ceil(self.inner.count(text) * self.factor)

    def truncate(self, text: str, max_tokens: int, keep: Keep) -> str:
        return self.inner.truncate(text, int(max_tokens / self.factor), keep)

    def truncate_counted(self, text: str, max_tokens: int, keep: Keep) -> tuple[str, int]:
        cut = self.truncate(text, max_tokens, keep)
        return cut, self.count(cut)


class OpenAIBackend:
    name = "openai"

    def __init__(self, url: str, model: str | None = None, timeout_s: float = 10.0, api_key: str | None = None):
        self.url = url.rstrip("/")
        if not self.url.endswith("/v1"):
            self.url += "/v1"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)), headers=headers)
        served = self._models()
        self.model = model or (served[0]["id"] if served else "")
        info = next((m for m in served if m.get("id") == self.model), {})
        self.context_tokens = int(info.get("max_model_len") or DEFAULT_CONTEXT_TOKENS)
        self.fim = template_for(self.model)
        self.counter = ScaledCounter()
        self.device = "remote"

    def _models(self) -> list[dict]:
        response = self._request("GET", "/models")
        return response.json().get("data", [])

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        for attempt in range(RETRIES + 1):
            try:
                response = self.client.request(method, self.url + path, **kwargs)
                if response.status_code < 500:
                    response.raise_for_status()
                    return response
                error: Exception = httpx.HTTPStatusError(f"{response.status_code}", request=response.request, response=response)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                error = exc
            if attempt < RETRIES:
                time.sleep(0.1 * 2**attempt)
        raise error

    def generate(self, request: GenerationRequest) -> list[Candidate]:
        body = {
            "model": self.model,
            "prompt": request.prompt,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "n": request.candidates if request.temperature > 0 else 1,
            "logprobs": 1,
            "stream": True,
        }
        if request.single_line:
            body["stop"] = ["\n"]
        texts: dict[int, list[str]] = {}
        logprobs: dict[int, list[float]] = {}
        for attempt in range(RETRIES + 1):
            try:
                with self.client.stream("POST", self.url + "/completions", json=body) as response:
                    if response.status_code >= 500 and attempt < RETRIES:
                        continue
                    response.raise_for_status()
                    for line in response.iter_lines():
                        if request.cancel.is_set():
                            return []  # leaving the block closes the connection
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        for choice in json.loads(data).get("choices", []):
                            index = choice.get("index", 0)
                            texts.setdefault(index, []).append(choice.get("text", ""))
                            probs = (choice.get("logprobs") or {}).get("token_logprobs") or []
                            logprobs.setdefault(index, []).extend(p for p in probs if p is not None)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError):
                if attempt == RETRIES:
                    raise
                time.sleep(0.1 * 2**attempt)
        candidates: dict[str, Candidate] = {}
        for index, parts in texts.items():
            text = "".join(parts)
            probs = logprobs.get(index, [])
            score = sum(probs) / len(probs) if probs else 0.0
            if text not in candidates or candidates[text].score < score:
                candidates[text] = Candidate(text, score)
        return sorted(candidates.values(), key=lambda c: -c.score)

    def close(self) -> None:
        self.client.close()


def template_for(model: str) -> FimTemplate | None:
    """The FIM template of a served model, from its name ("bigcode/starcoder2-3b" -> StarCoder)."""
    name = model.lower().replace("-", "").replace("_", "")
    for key, family in FAMILY_NAMES.items():
        if key in name:
            return next(t for t in TEMPLATES if t.family == family)
    return None
