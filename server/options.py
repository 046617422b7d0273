"""The server's options: typed, defaulted dataclasses, camelCase on the wire.

Options arrive as `initializationOptions` and with `workspace/didChangeConfiguration`. An
unknown key is ignored; a value of the wrong type or out of range is reported (the caller
shows it with window/showMessage) and replaced by its default, field by field, so one typo
never throws away the rest of a user's configuration.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

from bowerbird.learners.lm.device import DTYPES

BACKENDS = ("embedded", "transformers", "openai")
CHOOSERS = ("classifier", "fixed")
RANKINGS = ("reward", "model_score")


@dataclass(frozen=True, kw_only=True)
class CompletionOptions:
    enabled: bool = True  # answer inline-completion and completion requests
    backend: str = "embedded"  # embedded | transformers | openai
    model: str | None = None  # model path or Hugging Face id (transformers), model name (openai)
    url: str | None = None  # base URL of an OpenAI-compatible server (openai backend)
    max_tokens: int = 48  # new tokens per candidate
    temperature: float = 0.0  # 0: greedy
    candidates: int = 1  # candidates per request
    debounce_ms: int = 75  # wait this long after the last keystroke before generating
    proposal_chooser: str = "classifier"  # classifier: the proposal classifier picks per request | fixed
    classifier: str | None = None  # a `train ppc` folder (default: the shipped learners/checkpoints/ppc)
    proposal: int = 62  # the fixed RLPG proposal id (62: in-file only); also the fallback when no classifier applies
    token_healing: bool = True  # cut the token at the cursor and let the model rewrite it (local models)
    dtype: str = "auto"  # local models' weights: auto | float32 | bfloat16 | float16 (learners/lm/device.py)
    ranking: str = "reward"  # reward: per-developer reward features (learners/reward) | model_score
    reward_model: str | None = None  # a `train reward` folder (default: the shipped learners/checkpoints/reward)
    hide_below: float = 0.1  # reward ranking: hide candidates this developer prefers to a typical one with p < this


@dataclass(frozen=True, kw_only=True)
class DiagnosticsOptions:
    enabled: bool = True  # variable-misuse diagnostics
    model: str | None = None  # a `train misuse` model folder (default: the shipped learners/checkpoints/misuse)
    threshold: float | None = None  # report bug probabilities >= this, in [0, 1] (default: the model's, else 0.5)
    debounce_ms: int = 150  # analyse once edits pause this long (+ ~80 ms on 1,000 lines: fresh within 300 ms)


@dataclass(frozen=True, kw_only=True)
class ServerOptions:
    completion: CompletionOptions = field(default_factory=CompletionOptions)
    diagnostics: DiagnosticsOptions = field(default_factory=DiagnosticsOptions)
    index_dir: str | None = None  # where repository indexes live (default: the user cache dir)
    data_dir: str | None = None  # where the feedback store lives (default: the user data dir)
    developer_id: str | None = None  # whose accepts and rejects personalise the ranking


_CHECKS: dict[str, typing.Callable[[Any], bool]] = {
    "completion.backend": lambda v: v in BACKENDS,
    "completion.max_tokens": lambda v: 1 <= v <= 4096,
    "completion.temperature": lambda v: 0.0 <= v <= 2.0,
    "completion.candidates": lambda v: 1 <= v <= 16,
    "completion.debounce_ms": lambda v: 0 <= v <= 5000,
    "completion.proposal": lambda v: 0 <= v <= 62,
    "completion.proposal_chooser": lambda v: v in CHOOSERS,
    "completion.classifier": lambda v: v.strip() != "",
    "completion.dtype": lambda v: v in DTYPES,
    "completion.ranking": lambda v: v in RANKINGS,
    "completion.reward_model": lambda v: v.strip() != "",
    "completion.hide_below": lambda v: 0.0 <= v < 1.0,
    "diagnostics.model": lambda v: v.strip() != "",
    "diagnostics.threshold": lambda v: 0.0 <= v <= 1.0,
    "diagnostics.debounce_ms": lambda v: 0 <= v <= 5000,
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def parse_options(raw: object, base: ServerOptions | None = None) -> tuple[ServerOptions, list[str]]:
    """Options from a JSON object (camelCase keys), on top of `base` (default: defaults).

    Returns the options and a message for every value that was rejected."""
    problems: list[str] = []
    options = _parse(ServerOptions, raw, base or ServerOptions(), "", problems)
    return options, problems


def to_wire(options: object) -> dict:
    """The options as the client would send them (camelCase keys)."""
    return {
        camel(f.name): to_wire(value) if dataclasses.is_dataclass(value) else value
        for f in dataclasses.fields(options)
        for value in [getattr(options, f.name)]
    }


def _parse(cls: type, raw: object, base: Any, prefix: str, problems: list[str]) -> Any:
    if raw is None:
        return base
    if not isinstance(raw, dict):
        problems.append(f"{prefix.rstrip('.') or 'options'}: expected an object, got {raw!r}; using defaults")
        return base
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        key = camel(f.name)
        if key not in raw:
            continue
        path = f"{prefix}{f.name}"
        wire = f"{prefix and camel(prefix.rstrip('.')) + '.'}{key}"
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            values[f.name] = _parse(hint, raw[key], getattr(base, f.name), f"{path}.", problems)
            continue
        value = _coerce(raw[key], hint)
        check = _CHECKS.get(path)
        if value is _INVALID or (value is not None and check is not None and not check(value)):
            default = getattr(type(base)(), f.name)
            problems.append(f"{wire}: invalid value {raw[key]!r}; using {default!r}")
            values[f.name] = default
        else:
            values[f.name] = value
    return dataclasses.replace(base, **values)


_INVALID = object()


def _coerce(value: object, hint: Any) -> object:
    """`value` if it fits the type `hint` (ints accepted for floats), else _INVALID."""
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else (hint,)
    if value is None:
        return None if type(None) in allowed else _INVALID
    for kind in allowed:
        if kind is bool and isinstance(value, bool):
            return value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind is str and isinstance(value, str):
            return value
    return _INVALID


_UnionType = type(int | None)
