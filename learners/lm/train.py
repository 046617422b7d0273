"""`bowerbird train lm`: train the embedded code model, resumably, on CPU or GPU.

A run folder holds the tokenizer, the prepared sequences (`data.npy`), the latest checkpoint
(`checkpoint/`: config.json + model.safetensors + tokenizer), the optimizer state and
`train_state.json` (step, tokens seen, the loss curve). Running again with the same folder
resumes where the last run stopped, so a long schedule can be done in parts.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    layers: int = 4  # transformer blocks
    width: int = 256  # embedding size
    heads: int = 4  # attention heads
    block: int = 512  # tokens per sequence (and the model's context)
    vocab: int = 8192  # BPE vocabulary
    batch: int = 16  # sequences per step (a GPU run raises it)
    steps: int = 1000  # total steps of the schedule
    lr: float = 2e-3  # peak learning rate (AdamW), cosine decay to 10 %
    warmup: int = 50  # linear warm-up steps
    weight_decay: float = 0.1
    checkpoint_every: int = 100  # steps between checkpoints
    seed: int = 0


def build_model(config: TrainConfig, vocab_size: int, eos_id: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    return GPT2LMHeadModel(GPT2Config(
        vocab_size=vocab_size, n_positions=config.block, n_embd=config.width, n_layer=config.layers,
        n_head=config.heads, bos_token_id=eos_id, eos_token_id=eos_id, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    ))


def warm_start(run: Path, source: Path) -> None:
    """Make `source`'s weights (any dtype) the run's starting checkpoint, in fp32, and record
    where they came from (its own step and token counts, when it has a train_state.json)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    model.save_pretrained(run / "checkpoint")
    AutoTokenizer.from_pretrained(source).save_pretrained(run / "checkpoint")
    origin = {"path": str(source)}
    if (source / "train_state.json").exists():
        previous = json.loads((source / "train_state.json").read_text())
        origin |= {k: previous[k] for k in ("step", "tokens", "seconds") if k in previous}
    (run / "init_from.json").write_text(json.dumps(origin, indent=1))


def padding_masked(batch, eos: int):
    """Labels for a batch: an example's end-of-text is a target, the padding after it is not
    (-100), or the model learns to end everything at once."""
    labels = batch.clone()
    repeated = (batch == eos) & (batch.roll(1, dims=1) == eos)
    repeated[:, 0] = False
    labels[repeated] = -100
    return labels


def learning_rate(step: int, config: TrainConfig) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.steps - config.warmup))
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


PROBE_STEPS = 20  # steps timed (after a few to warm up) before --fit-schedule sets the schedule's length
_SAVE_RESERVE_SECONDS = 15  # kept back from --minutes for the last checkpoint and snapshots


def fitted_steps(done: int, seconds_per_step: float, seconds_left: float, warmup: int) -> int:
    """The schedule's total steps so that it ends when the time runs out (never inside the warm-up)."""
    return max(done + 1, warmup + 1, done + int(seconds_left / max(seconds_per_step, 1e-6)))


def snapshot_steps(steps: int, count: int) -> set[int]:
    """`count` evenly spaced steps strictly inside the schedule (the last step is the checkpoint)."""
    return {round(steps * i / (count + 1)) for i in range(1, count + 1)} - {0, steps}


def train(
    run: Path, sequences: np.ndarray, tokenizer, config: TrainConfig, device: str | None = None,
    max_minutes: float | None = None, progress: Callable[[dict], None] | None = None,
    fit_schedule: bool = False, snapshots: int = 0,
) -> dict:
    """Train (or resume) until `config.steps` or `max_minutes`; returns the train state.

    With `fit_schedule` (and `max_minutes`), the step time is measured over the first steps of
    this call and `config.steps` is replaced by what fits in the time (recorded in the state), so
    the cosine decay ends when the time does. `snapshots` keeps that many evenly spaced fp16
    copies of the model in `snapshots/step-N/` for a held-out curve.
    """
    import torch

    from bowerbird.learners.lm.device import choose_device

    device = choose_device(device)
    torch.manual_seed(config.seed)
    state_file = run / "train_state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {
        "step": 0, "tokens": 0, "seconds": 0.0, "curve": [], "config": asdict(config), "device": device}
    if "init_from" not in state and (run / "init_from.json").exists():
        state["init_from"] = json.loads((run / "init_from.json").read_text())
    checkpoint = run / "checkpoint"
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    if (checkpoint / "config.json").exists():
        from transformers import GPT2LMHeadModel

        model = GPT2LMHeadModel.from_pretrained(checkpoint, dtype=torch.float32)
    else:
        model = build_model(config, len(tokenizer), eos)
    model.to(device).train()
    cuda = device.startswith("cuda")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.lr, betas=(0.9, 0.95), fused=cuda)
    if (run / "optimizer.pt").exists():
        optimizer.load_state_dict(torch.load(run / "optimizer.pt", weights_only=True, map_location=device))
    rng = np.random.default_rng(config.seed + state["step"])
    # On a GPU the whole data set lives there (a few hundred MB), so a batch is one gather.
    data = torch.from_numpy(sequences.astype(np.int64)).to(device if cuda else "cpu")
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else _nothing()
    started = segment = time.monotonic()
    first_step = state["step"]
    probe_from = None
    keep = snapshot_steps(config.steps, snapshots) if snapshots and not fit_schedule else set()
    window: list[float] = []
    while state["step"] < config.steps:
        if max_minutes is not None and time.monotonic() - started > max_minutes * 60:
            break
        step = state["step"]
        if fit_schedule and step == first_step + 3:
            probe_from = time.monotonic()
        if fit_schedule and probe_from is not None and step == first_step + 3 + PROBE_STEPS:
            per_step = (time.monotonic() - probe_from) / PROBE_STEPS
            left = max_minutes * 60 - (time.monotonic() - started) - _SAVE_RESERVE_SECONDS
            config = replace(config, steps=fitted_steps(step, per_step, left, config.warmup))
            state["config"]["steps"] = config.steps
            keep = snapshot_steps(config.steps, snapshots)
            logger.info("%.3f s a step: the schedule is now %d steps", per_step, config.steps)
            probe_from = None
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        batch = data[torch.from_numpy(rng.integers(0, len(data), config.batch)).to(data.device)].to(device)
        with autocast:
            loss = model(input_ids=batch, labels=padding_masked(batch, eos)).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        state["step"] += 1
        state["tokens"] += int(batch.numel())
        window.append(loss.item())
        if state["step"] % 10 == 0:
            point = {"step": state["step"], "tokens": state["tokens"], "loss": round(sum(window) / len(window), 4),
                     "lr": round(learning_rate(step, config), 6)}
            state["curve"].append(point)
            window.clear()
            if progress:
                progress(point)
        if state["step"] in keep:
            _snapshot(run / "snapshots" / f"step-{state['step']}", model, tokenizer, state)
        if state["step"] % config.checkpoint_every == 0:
            _save(run, model, tokenizer, optimizer, state, time.monotonic() - segment)
            segment = time.monotonic()
    _save(run, model, tokenizer, optimizer, state, time.monotonic() - segment)
    return state


def _save(run: Path, model, tokenizer, optimizer, state: dict, elapsed: float) -> None:
    """Write the checkpoint so that a kill at any moment leaves the previous one usable."""
    import shutil

    import torch

    state["seconds"] = round(state["seconds"] + elapsed, 1)
    staging = run / "checkpoint.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    torch.save(optimizer.state_dict(), run / "optimizer.pt.tmp")
    shutil.rmtree(run / "checkpoint", ignore_errors=True)
    staging.rename(run / "checkpoint")
    (run / "optimizer.pt.tmp").replace(run / "optimizer.pt")
    (run / "train_state.json").write_text(json.dumps(state, indent=1))
    logger.info("checkpoint at step %d (%d tokens)", state["step"], state["tokens"])


def _snapshot(folder: Path, model, tokenizer, state: dict) -> None:
    """An fp16 copy of the model as a loadable checkpoint folder, and the state's numbers then."""
    import copy

    import torch

    copy.deepcopy(model).to(torch.float16).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "train_state.json").write_text(json.dumps({k: state[k] for k in ("step", "tokens")}, indent=1))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
