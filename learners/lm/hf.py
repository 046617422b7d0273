"""The `transformers` backend: any Hugging Face causal LM, by local path or hub id.

KV-cached generation through `generate()`, several candidates in one batch when sampling,
stopping at the end of the line (single-line completions) and between tokens when the
request is cancelled.
"""

from __future__ import annotations

import logging

from bowerbird.learners.lm.backend import Candidate, GenerationRequest
from bowerbird.learners.lm.device import choose_device
from bowerbird.learners.lm.fim import detect_template
from bowerbird.learners.lm.tokens import TokenizerCounter

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_TOKENS = 2048


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: str, device: str | None = None, max_context_tokens: int | None = None):
        import torch
        import transformers

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
        self.model = model
        self.device = choose_device(device)
        dtype = torch.float32
        if self.device == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        elif self.device == "mps":
            dtype = torch.float16
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
        self.network = transformers.AutoModelForCausalLM.from_pretrained(model, dtype=dtype).to(self.device).eval()
        config = self.network.config
        positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        positions = positions or DEFAULT_CONTEXT_TOKENS
        self.context_tokens = min(positions, max_context_tokens or positions)
        self.fim = detect_template(self.tokenizer.get_vocab())
        self.counter = TokenizerCounter(self.tokenizer)
        self.eos_id = self.tokenizer.eos_token_id
        logger.info("loaded %s on %s (%s, context %d, FIM %s)", model, self.device, dtype,
                    self.context_tokens, self.fim.family if self.fim else "none")

    def generate(self, request: GenerationRequest) -> list[Candidate]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        encoded = self.tokenizer(request.prompt, return_tensors="pt", add_special_tokens=False)
        input_ids = encoded["input_ids"][:, -(self.context_tokens - request.max_new_tokens) :].to(self.device)
        start = input_ids.shape[1]
        tokenizer = self.tokenizer

        class Stop(StoppingCriteria):
            def __call__(self, ids, scores, **kwargs):
                if request.cancel.is_set():
                    return torch.ones(ids.shape[0], dtype=torch.bool, device=ids.device)
                if not request.single_line or ids.shape[1] == start:
                    return torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
                done = ["\n" in tokenizer.decode(row[start:]) for row in ids]
                return torch.tensor(done, dtype=torch.bool, device=ids.device)

        sampling = request.temperature > 0 and request.candidates > 1
        with torch.inference_mode():
            output = self.network.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=request.max_new_tokens,
                min_new_tokens=1,  # an end-of-text first token is an empty completion: never useful
                do_sample=sampling,
                temperature=request.temperature if sampling else None,
                top_p=None,
                top_k=None,
                num_return_sequences=request.candidates if sampling else 1,
                return_dict_in_generate=True,
                output_scores=True,
                pad_token_id=self.eos_id if self.eos_id is not None else 0,
                stopping_criteria=StoppingCriteriaList([Stop()]),
            )
        if request.cancel.is_set():
            return []
        scores = self.network.compute_transition_scores(output.sequences, output.scores, normalize_logits=True)
        candidates: dict[str, Candidate] = {}
        for row, row_scores in zip(output.sequences, scores):
            generated = row[start:].tolist()
            if self.eos_id in generated:
                generated = generated[: generated.index(self.eos_id)]
            text = tokenizer.decode(generated, skip_special_tokens=True)
            used = row_scores[: max(1, len(generated))]
            score = float(used[torch.isfinite(used)].mean()) if len(used) else float("-inf")
            if text not in candidates or candidates[text].score < score:
                candidates[text] = Candidate(text, score)
        return sorted(candidates.values(), key=lambda c: -c.score)
