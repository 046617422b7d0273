"""The `transformers` backend: any Hugging Face causal LM, by local path or hub id.

KV-cached generation by Bowerbird's own loop (decoding.py): several candidates in one batch
when sampling, stopping at the end of the line (single-line completions) and between tokens
when the request is cancelled, token healing, and reuse of the previous prompt's cache.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bowerbird.learners.lm.backend import Candidate, GenerationRequest
from bowerbird.learners.lm.decoding import PromptCache, Vocabulary
from bowerbird.learners.lm.device import choose_device, choose_dtype
from bowerbird.learners.lm.fim import detect_template
from bowerbird.learners.lm.lean_gpt2 import lean_decoder
from bowerbird.learners.lm.tokens import TokenizerCounter

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_TOKENS = 2048


SETTINGS_FILE = "bowerbird.json"  # a checkpoint's prompt settings, e.g. {"fill_in_the_middle": false}


def checkpoint_settings(model: str) -> dict:
    """The prompt settings a local checkpoint folder ships (`bowerbird.json`); {} when none.

    `fill_in_the_middle: false` makes prompts left to right even though the tokenizer has FIM
    tokens: for a model that measured better that way (the embedded model's card says why)."""
    import json

    path = Path(model) / SETTINGS_FILE
    try:
        settings = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError) as error:
        logger.warning("ignoring %s: %s", path, error)
        return {}
    return settings if isinstance(settings, dict) else {}


def _weight(value):
    """A mixture weight from settings: a number in [0, 1) or a list of them (one per match
    length, copy_cache.py), else 0 (with a warning)."""
    from bowerbird.learners.lm.copy_cache import valid

    if valid(value):
        return tuple(float(w) for w in value) if isinstance(value, list) else float(value)
    logger.warning("ignoring copy_cache_weight %r: expected a number in [0, 1) or a list of them", value)
    return 0.0


def _count(value, name: str) -> int:
    """A non-negative token count from settings, else 0 (with a warning)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    logger.warning("ignoring %s %r: expected a non-negative integer", name, value)
    return 0


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: str, device: str | None = None, max_context_tokens: int | None = None,
                 fim: bool | None = None, dtype: str | None = None):
        import torch
        import transformers

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
        self.model = model
        self.device = choose_device(device)
        self.dtype = choose_dtype(self.device, dtype)  # auto: bfloat16 only where native (device.py)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
        self.network = transformers.AutoModelForCausalLM.from_pretrained(model, dtype=self.dtype).to(self.device).eval()
        config = self.network.config
        # what decodes: a lean static-cache forward for GPT-2 models (lean_gpt2.py), else the network
        self.decoder = lean_decoder(self.network)
        if self.decoder is None:
            if self.device == "cpu" and dtype in (None, "auto") and self.network.dtype != torch.float32:
                # only the lean forward pads bfloat16 inputs to a few shapes; with the network a
                # oneDNN kernel would be compiled and kept for every prompt length (memory grows)
                self.network, self.dtype = self.network.float(), torch.float32
            self.decoder = self.network
        positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        positions = positions or DEFAULT_CONTEXT_TOKENS
        self.context_tokens = min(positions, max_context_tokens or positions)
        settings = checkpoint_settings(model)
        if fim is None:  # the checkpoint's own say, else whatever its tokenizer supports
            fim = settings.get("fill_in_the_middle", True)
        # the prompt's n-gram copy cache mixed into each next-token distribution (copy_cache.py)
        self.copy_weight = _weight(settings.get("copy_cache_weight", 0.0))
        # tokens of the code before the prompt (cut by the budget) that the copy cache also indexes
        self.copy_memory = _count(settings.get("copy_cache_memory_tokens", 0), "copy_cache_memory_tokens")
        # whether the tokens the model writes are indexed too (False: copy from the prompt only)
        self.copy_written = settings.get("copy_cache_written", True) is not False
        self._last_memory: tuple[tuple[str, int] | None, list[int]] = (None, [])
        self.fim = detect_template(self.tokenizer.get_vocab()) if fim else None
        self.counter = TokenizerCounter(self.tokenizer)
        self.eos_id = self.tokenizer.eos_token_id
        self.vocabulary = Vocabulary(self.tokenizer)
        self.vocabulary.prepare()
        self.prompt_cache = PromptCache()  # the last prompt's KV cache, for the next keystroke's request
        self.healing = True  # token healing: the prompt composer may cut the last token (see prompt.py)
        logger.info("loaded %s on %s (%s, context %d, FIM %s)", model, self.device, self.dtype,
                    self.context_tokens, self.fim.family if self.fim else "none")

    def memory_ids(self, memory: str) -> list[int]:
        """The copy cache's memory in tokens: the last `copy_memory` tokens of `memory`."""
        from bowerbird.learners.lm.copy_cache import enabled

        if not memory or not enabled(self.copy_weight) or self.copy_memory <= 0:
            return []
        tail = memory[-self.copy_memory * 8 :]  # characters enough for the tokens kept (a token is ~3.5)
        last = self._last_memory  # typing on a line keeps the memory (cut at a line start): tokenise it once
        if last[0] == (tail, self.copy_memory):
            return last[1]
        ids = self.tokenizer(tail, add_special_tokens=False)["input_ids"][-self.copy_memory :]
        self._last_memory = ((tail, self.copy_memory), ids)  # one assignment: safe across threads
        return ids

    def generate(self, request: GenerationRequest) -> list[Candidate]:
        from bowerbird.learners.lm.decoding import decode

        heal = request.heal if self.healing else ""
        # the healed characters are rewritten first: their tokens come on top of the new ones
        max_new_tokens = request.max_new_tokens + (len(self.tokenizer(heal, add_special_tokens=False)["input_ids"]) if heal else 0)
        ids = self.tokenizer(request.prompt, add_special_tokens=False)["input_ids"]
        ids = ids[-(self.context_tokens - max_new_tokens):]
        if not ids:
            return []
        memory = self.memory_ids(request.memory)
        shared = self.prompt_cache if self.prompt_cache.lock.acquire(blocking=False) else None
        try:
            rows = decode(
                self.decoder, self.vocabulary, ids, max_new_tokens=max_new_tokens, eos_id=self.eos_id,
                candidates=request.candidates, temperature=request.temperature, single_line=request.single_line,
                heal=heal, cancel=request.cancel, cached=shared, device=self.device, copy_weight=self.copy_weight,
                memory=memory, copy_written=self.copy_written, states=request.states,
            )
        finally:
            if shared is not None:
                shared.lock.release()
        candidates: dict[str, Candidate] = {}
        for row in rows:
            text = self.tokenizer.decode(row.ids, skip_special_tokens=True)
            if heal:
                if not text.startswith(heal):
                    continue  # the row ended before writing what the user had typed
                text = text[len(heal):]
            score = sum(row.logprobs) / len(row.logprobs) if row.logprobs else float("-inf")
            if text not in candidates or candidates[text].score < score:
                candidates[text] = Candidate(text, score, row.state)
        return sorted(candidates.values(), key=lambda c: -c.score)
