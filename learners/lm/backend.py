"""What every completion backend offers the pipeline."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from bowerbird.analysis.tokens import TokenCounter
from bowerbird.learners.lm.fim import FimTemplate


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str  # the composed prompt (FIM template already applied)
    max_new_tokens: int = 48
    candidates: int = 1
    temperature: float = 0.0  # 0: greedy (one candidate per distinct result)
    single_line: bool = True  # stop at the first newline of the completion
    heal: str = ""  # token healing: characters cut from the prompt's end that the completion must start with
    memory: str = ""  # text before the prompt that it could not hold: the copy cache indexes it too (local models)
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)  # set: stop between tokens
    states: bool = False  # local models: also return each candidate's hidden state (`Candidate.state`)


@dataclass(frozen=True)
class Candidate:
    text: str  # what the model wrote after the prompt
    score: float  # mean log-probability per generated token (higher is better)
    # with `GenerationRequest.states` (local models): the mean last hidden state [width] from
    # which the model wrote the candidate's tokens, for the reward features; else None
    state: object = field(default=None, compare=False, repr=False)


class Backend(Protocol):
    name: str  # "transformers", "openai", ...
    model: str  # path, id or served name
    context_tokens: int  # prompt + generated tokens the model takes
    fim: FimTemplate | None  # None: prompted left to right
    counter: TokenCounter  # counts with the model's own tokenizer; also has
    # truncate_counted(text, max_tokens, keep) -> (text, tokens)

    def generate(self, request: GenerationRequest) -> list[Candidate]: ...
