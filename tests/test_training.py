"""Training the code model (tiny settings), the evaluation shortcut, and the corpus split."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bowerbird.learners.lm.backend import GenerationRequest
from bowerbird.learners.lm.corpus import HELD_OUT, corpus_files, split
from bowerbird.learners.lm.data import SPECIAL_TOKENS, _fim_example, build_sequences, read_texts
from bowerbird.learners.lm.evaluate import edit_similarity, teacher_forced_matches
from bowerbird.learners.lm.loading import load_backend
from bowerbird.learners.lm.train import TrainConfig, train


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def test_corpus_split_is_by_package_and_leaves_tests_out():
    files = corpus_files(include_site_packages=False)
    train_files, held = split(files)
    assert {f.package for f in held} <= HELD_OUT and {f.package for f in held} >= {"email", "json"}
    assert not {f.package for f in train_files} & HELD_OUT
    assert not any("test" in f.path.relative_to(f.root).parts[:-1] for f in files)


def test_fim_examples_put_the_middle_last():
    text = "\n".join(f"line_{i} = {i}" for i in range(20))
    example = _fim_example(text, random.Random(1))
    assert example.startswith("<fim_prefix>") and example.endswith("<|endoftext|>")
    prefix, rest = example[len("<fim_prefix>"):].split("<fim_suffix>")
    suffix, middle = rest.split("<fim_middle>")
    assert prefix + middle.removesuffix("<|endoftext|>") + suffix == text


def test_sequences_have_the_block_size_and_mix_the_tasks(tokenizer):
    files = split(corpus_files(include_site_packages=False))[0][:40]
    sequences = build_sequences(tokenizer, read_texts(files), 24, 64, mix=(0.5, 0.5, 0.0), seed=0)
    assert sequences.shape == (24, 64) and sequences.dtype == np.uint16
    fim = tokenizer.convert_tokens_to_ids("<fim_prefix>")
    assert 0 < sum(fim in row for row in sequences.tolist()) < 24


def test_training_lowers_the_loss_and_resumes(tmp_path, tokenizer):
    files = split(corpus_files(include_site_packages=False))[0][:30]
    sequences = build_sequences(tokenizer, read_texts(files), 32, 64, mix=(1.0, 0.0, 0.0), seed=0)
    config = TrainConfig(layers=1, width=32, heads=2, block=64, batch=8, steps=30, lr=5e-3, warmup=2, checkpoint_every=15)
    state = train(tmp_path, sequences, tokenizer, config, device="cpu", max_minutes=None)
    curve = [point["loss"] for point in state["curve"]]
    assert state["step"] == 30 and curve[-1] < curve[0] - 0.5
    longer = TrainConfig(**{**config.__dict__, "steps": 40})
    resumed = train(tmp_path, sequences, tokenizer, longer, device="cpu")
    assert resumed["step"] == 40 and len(resumed["curve"]) == 4
    backend = load_backend("transformers", str(tmp_path / "checkpoint"))  # save -> load -> generate
    assert backend.context_tokens == 64
    assert isinstance(backend.generate(GenerationRequest("x = ", max_new_tokens=4))[0].text, str)


@pytest.fixture(scope="module")
def line_model(tmp_path_factory, tokenizer):
    """The tiny model after a short training on code: its greedy lines end (a random one's never do)."""
    run = tmp_path_factory.mktemp("line-model")
    files = split(corpus_files(include_site_packages=False))[0][:30]
    sequences = build_sequences(tokenizer, read_texts(files), 64, 64, mix=(1.0, 0.0, 0.0), seed=0)
    config = TrainConfig(layers=1, width=32, heads=2, block=64, batch=16, steps=160, lr=1e-2, warmup=4, checkpoint_every=160)
    train(run, sequences, tokenizer, config, device="cpu")
    return load_backend("transformers", str(run / "checkpoint"), dtype="float32")  # checks equal decoding in float32


def test_teacher_forced_exact_match_agrees_with_greedy_decoding(line_model):
    backend = line_model
    rng = random.Random(0)
    files = split(corpus_files(include_site_packages=False))[0][:30]
    agreed = 0
    for _ in range(30):
        lines = rng.choice(files).path.read_text(encoding="utf-8").split("\n")
        at = rng.randrange(2, max(3, len(lines) - 1))
        cut = rng.randrange(0, max(1, len(lines[at])))
        prompt = "\n".join(lines[at - 2 : at] + [lines[at][:cut]])[-45:]  # <= 45 tokens: no truncation anywhere
        greedy = backend.generate(GenerationRequest(prompt, max_new_tokens=12, single_line=True))[0].text
        line = greedy.split("\n")[0]
        if "\n" in greedy and line:  # greedy ended the line: the shortcut must say "solved"
            assert teacher_forced_matches(backend, [prompt], line) == [True]
            agreed += 1
        wrong = line + "zz" if line else "zz"
        assert teacher_forced_matches(backend, [prompt], wrong) == [False]
    assert agreed >= 5


def test_edit_similarity():
    assert edit_similarity("abc", "abc") == 1.0
    assert edit_similarity("abc", "abd") == pytest.approx(2 / 3)
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("", "ab") == 0.0


def test_loss_curve_figure_has_a_point_per_record():
    from bowerbird.learners.lm.model_card import loss_curve_svg

    svg = loss_curve_svg([{"tokens": 10 * i, "loss": 5.0 - i / 10} for i in range(1, 6)])
    points = svg.split("points='")[1].split("'")[0].split()
    assert len(points) == 5
    assert svg.startswith("<svg") and "training loss (4.90 to 4.50)" in svg


def test_padding_after_an_examples_end_is_not_a_target():
    import torch

    from bowerbird.learners.lm.train import padding_masked

    batch = torch.tensor([[5, 6, 0, 0, 0], [0, 7, 0, 8, 9]])
    assert padding_masked(batch, 0).tolist() == [[5, 6, 0, -100, -100], [0, 7, 0, 8, 9]]


def test_a_run_can_start_from_another_checkpoint(tmp_path, tiny_model, tokenizer):
    import torch
    from transformers import GPT2LMHeadModel

    from bowerbird.learners.lm.train import warm_start

    source = tmp_path / "source"
    GPT2LMHeadModel.from_pretrained(tiny_model).to(torch.float16).save_pretrained(source)  # as shipped: fp16
    tokenizer.save_pretrained(source)
    run = tmp_path / "run"
    run.mkdir()
    warm_start(run, source)
    started = GPT2LMHeadModel.from_pretrained(run / "checkpoint")
    original = GPT2LMHeadModel.from_pretrained(source, dtype=torch.float32)
    assert all(torch.equal(a, b) for a, b in zip(started.state_dict().values(), original.state_dict().values()))
    files = split(corpus_files(include_site_packages=False))[0][:10]
    sequences = build_sequences(tokenizer, read_texts(files), 8, 64, mix=(1.0, 0.0, 0.0), seed=0)
    config = TrainConfig(layers=2, width=32, heads=2, block=64, batch=4, steps=2, warmup=1, checkpoint_every=2)
    state = train(run, sequences, tokenizer, config, device="cpu")
    assert state["init_from"]["path"] == str(source) and state["step"] == 2
    trained = GPT2LMHeadModel.from_pretrained(run / "checkpoint")
    assert next(trained.parameters()).dtype == torch.float32  # trained in fp32, not the source's fp16


def test_warm_start_refuses_a_checkpoint_of_another_shape(tmp_path, tiny_model):
    from bowerbird.cli import main

    code = main(["train", "lm", "--run", str(tmp_path / "run"), "--init-from", str(tiny_model), "--layers", "3"])
    assert code == 2
    assert not (tmp_path / "run" / "checkpoint").exists()


def test_teacher_forced_exact_match_agrees_with_healed_decoding(line_model):
    from bowerbird.learners.lm.prompt import healed_tail

    backend = line_model
    rng = random.Random(1)
    files = split(corpus_files(include_site_packages=False))[0][:30]
    agreed = healed = 0
    for _ in range(100):
        lines = rng.choice(files).path.read_text(encoding="utf-8").split("\n")
        at = rng.randrange(2, max(3, len(lines) - 1))
        cut = rng.randrange(0, max(1, len(lines[at])))
        prompt = "\n".join(lines[at - 2 : at] + [lines[at][:cut]])[-45:]
        heal = healed_tail(backend.counter, prompt)
        if not heal:
            continue
        healed += 1
        shortened = prompt[: len(prompt) - len(heal)]
        candidates = backend.generate(GenerationRequest(shortened, max_new_tokens=12, heal=heal))
        if not candidates:  # the model would end the text here: an empty candidate is never offered
            continue
        text = candidates[0].text
        line = text.split("\n")[0]
        if "\n" in text and line:
            segmented = backend.tokenizer(heal + line, add_special_tokens=False)["input_ids"]
            forced = teacher_forced_matches(backend, [shortened], line, [heal])
            if forced == [True]:
                agreed += 1
            else:  # the only allowed disagreement: greedy chose another segmentation of the same text
                assert backend.tokenizer.decode(segmented) == heal + line
        assert teacher_forced_matches(backend, [shortened], line + "zz", [heal]) == [False]
    assert healed >= 10 and agreed >= 3


@pytest.mark.parametrize("weight,written,remember", [(0.5, True, False), ((0.2, 0.4, 0.6, 0.8), False, True)],
                         ids=["one-weight", "per-length-prompt-only-with-memory"])
def test_teacher_forced_exact_match_agrees_with_decoding_with_the_copy_cache(line_model, weight, written, remember):
    from bowerbird.learners.lm.decoding import decode

    backend = line_model
    rng = random.Random(2)
    files = split(corpus_files(include_site_packages=False))[0][:30]
    agreed = changed = 0
    backend.copy_weight, backend.copy_written, backend.copy_memory = weight, written, 256 if remember else 0
    try:
        for _ in range(40):
            lines = rng.choice(files).path.read_text(encoding="utf-8").split("\n")
            at = rng.randrange(2, max(3, len(lines) - 1))
            cut = rng.randrange(0, max(1, len(lines[at])))
            prompt = "\n".join(lines[at - 2 : at] + [lines[at][:cut]])[-45:]
            memory = "\n".join(lines[max(0, at - 40) : at - 2]) + "\n" if remember else ""
            request = GenerationRequest(prompt, max_new_tokens=12, single_line=True, memory=memory)
            text = backend.generate(request)[0].text
            backend.copy_weight = 0.0
            changed += backend.generate(request)[0].text != text
            backend.copy_weight = weight
            line = text.split("\n")[0]
            if "\n" in text and line:
                if teacher_forced_matches(backend, [prompt], line, memories=[memory]) == [True]:
                    agreed += 1
                else:  # the only allowed disagreement: greedy wrote the line in other tokens than the tokenizer's
                    ids = backend.tokenizer(prompt, add_special_tokens=False)["input_ids"]
                    written_ids = decode(backend.network, backend.vocabulary, ids, max_new_tokens=12,
                                         eos_id=backend.eos_id, copy_weight=weight, memory=backend.memory_ids(memory),
                                         copy_written=written)[0].ids
                    segmented = backend.tokenizer(line, add_special_tokens=False)["input_ids"]
                    assert written_ids[: len(segmented)] != segmented
                    assert backend.tokenizer.decode(written_ids).split("\n")[0] == line
            assert teacher_forced_matches(backend, [prompt], (line or "") + "zz", memories=[memory]) == [False]
    finally:
        backend.copy_weight, backend.copy_written, backend.copy_memory = 0.0, True, 0
    assert agreed >= 5 and changed >= 3  # the cache did change lines, and the check followed
