"""scripts/tune_copy_weights.py: the offline replay of the copy cache's mixture agrees with the
teacher-forced check it stands in for."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "tune_copy_weights.py"
spec = importlib.util.spec_from_file_location("tune_copy_weights", SCRIPT)
tune = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = tune  # its dataclasses look their module up
spec.loader.exec_module(tune)


def test_the_replay_takes_the_mixture_argmax_with_the_weight_of_the_match_length():
    # the model prefers 1 (0.6 vs 0.3); the cache, after a 2-token match, says 2
    position = tune.Position(2, frozenset({2}), {1: (0.6, 0.0), 2: (0.3, 1.0)})
    assert not tune.solved([position], (0.9, 0.1))  # weight 0.1 for n = 2: 0.54 vs 0.37
    assert tune.solved([position], (0.0, 0.5))  # 0.3 vs 0.65
    assert not tune.solved([position], (0.9, 0.0, 0.9))  # n = 2 takes the second weight
    silent = tune.Position(0, frozenset({1}), {1: (0.6, 0.0), 2: (0.3, 0.0)})
    assert tune.solved([silent, position], (0.5, 0.5)) and not tune.solved([silent, position], (0.5, 0.0))


def test_search_finds_the_weights_that_solve_more():
    wants_cache = [tune.Position(3, frozenset({2}), {1: (0.6, 0.0), 2: (0.3, 1.0)})]
    wants_model = [tune.Position(1, frozenset({1}), {1: (0.6, 0.0), 2: (0.3, 1.0)})]
    records = [("in_file", wants_cache), ("proposal", wants_model)]
    best = tune.search(records, (0.2,) * 3)
    assert tune.solved(wants_cache, best) and tune.solved(wants_model, best)
    assert tune.rate(records, "in_file", best) == tune.rate(records, "proposal", best) == 1.0


@pytest.fixture(scope="module")
def backend(tiny_model):
    from bowerbird.learners.lm.loading import load_backend

    return load_backend("transformers", str(tiny_model))


@pytest.mark.parametrize("weights", [(0.3,) * 6, (0.05, 0.1, 0.5, 0.7, 0.9, 0.9)])
def test_the_replay_agrees_with_the_teacher_forced_check(backend, weights):
    from bowerbird.learners.lm.evaluate import teacher_forced_matches

    fixture = Path(__file__).parent / "data" / "pyrepo"
    rng = random.Random(0)
    lines = [line for path in sorted(fixture.rglob("*.py")) for line in path.read_text().split("\n") if line.strip()]
    backend.copy_weight, backend.copy_written, backend.copy_memory = weights, False, 128
    try:
        solved_any = 0
        for _ in range(30):
            at = rng.randrange(3, len(lines))
            cut = rng.randrange(1, max(2, len(lines[at])))
            prompt, memory = lines[at - 1] + "\n" + lines[at][:cut], "\n".join(lines[max(0, at - 20) : at - 1]) + "\n"
            heal = rng.choice(["", lines[at][cut - 1 : cut]]) if lines[at][cut - 1 : cut].isalnum() else ""
            prompt = prompt[: len(prompt) - len(heal)]
            # the tiny model's own greedy line (so that some targets are solved), or the file's
            target = rng.choice([lines[at][cut:], backend_line(backend, prompt, heal, memory)])
            if not target.strip():
                continue
            replayed = tune.solved(tune.record(backend, prompt, heal, memory, target), weights)
            assert replayed == teacher_forced_matches(backend, [prompt], target, [heal], [memory])[0]
            solved_any += replayed
        assert solved_any >= 3
    finally:
        backend.copy_weight, backend.copy_written, backend.copy_memory = 0.0, True, 0


def backend_line(backend, prompt: str, heal: str, memory: str) -> str:
    from bowerbird.learners.lm.backend import GenerationRequest

    candidates = backend.generate(GenerationRequest(prompt, max_new_tokens=10, heal=heal, memory=memory))
    return candidates[0].text.split("\n")[0] if candidates else ""
