"""The prompt's n-gram copy cache (learners/lm/copy_cache.py): its counts, the mixture, and
decoding with it on the tiny test model."""

from __future__ import annotations

import logging

import pytest
import torch

from bowerbird.learners.lm.copy_cache import CopyCache, mix
from bowerbird.learners.lm.decoding import decode


def reference(ids: list[int], max_n: int = 6) -> tuple[int, dict[int, float]]:
    """The definition, by brute force: the longest suffix seen before, and what followed it."""
    for n in range(min(max_n, len(ids) - 1), 0, -1):
        followers = [ids[i + n] for i in range(len(ids) - n) if ids[i : i + n] == ids[-n:]]
        if followers:
            return n, {t: followers.count(t) / len(followers) for t in set(followers)}
    return 0, {}


def test_the_index_agrees_with_the_definition_on_random_sequences():
    import random

    rng = random.Random(0)
    for _ in range(300):
        ids = [rng.randrange(4) for _ in range(rng.randrange(0, 40))]
        max_n = rng.randrange(1, 8)
        n, q = CopyCache(ids, max_n).distribution()
        m, r = reference(ids, max_n)
        assert n == m and q == pytest.approx(r)


def test_the_longest_earlier_suffix_decides():
    cache = CopyCache([1, 2, 3, 9, 2, 3, 4, 7, 2, 3])
    # "2 3" was followed by 9 once and by 4 once; "9 2 3" / "4 7 2 3" are not suffixes seen before
    n, q = cache.distribution()
    assert n == 2 and q == {9: 0.5, 4: 0.5}
    cache.push(4)  # now "3 4" occurred before (followed by 7)
    assert cache.distribution() == (3, {7: 1.0})  # "2 3 4" -> 7


def test_pushing_tokens_equals_building_from_them():
    ids = [5, 1, 5, 1, 2, 5, 1, 5]
    grown = CopyCache(ids[:3])
    for token in ids[3:]:
        grown.push(token)
        assert grown.distribution() == CopyCache(grown.ids).distribution()
    assert grown.distribution() == CopyCache(ids).distribution()


def test_a_new_token_or_an_empty_sequence_has_no_prediction():
    assert CopyCache([]).distribution() == (0, {})
    assert CopyCache([1, 2, 3]).distribution() == (0, {})
    assert CopyCache([1, 2, 1, 2, 1], max_n=1).distribution() == (1, {2: 1.0})


def test_the_mixture_is_a_distribution_and_weight_zero_is_the_model():
    logits = torch.randn(10)
    cache = CopyCache([3, 7, 3])
    assert torch.allclose(mix(logits, cache, 0.0), torch.log_softmax(logits, -1))
    mixed = mix(logits, cache, 0.25)
    assert float(mixed.exp().sum()) == pytest.approx(1.0, abs=1e-5)
    expected = 0.75 * torch.softmax(logits, -1)[7] + 0.25
    assert float(mixed[7].exp()) == pytest.approx(float(expected), abs=1e-5)
    assert torch.allclose(mix(logits, CopyCache([1, 2]), 0.5), torch.log_softmax(logits, -1))  # nothing to copy


def test_token_ids_beyond_the_vocabulary_are_ignored():
    mixed = mix(torch.zeros(4), CopyCache([2, 9, 2, 3, 2]), 0.5)  # 9 is not a row of these logits
    assert float(mixed.exp().sum()) == pytest.approx(0.5 + 0.5 * 0.5, abs=1e-5)  # only 3's share is placed
    assert float(mixed[3].exp()) == pytest.approx(0.125 + 0.25)


@pytest.fixture(scope="module")
def backend(tiny_model):
    from bowerbird.learners.lm.loading import load_backend

    return load_backend("transformers", str(tiny_model))


def test_a_heavy_cache_makes_the_untrained_model_copy_the_prompt(backend):
    prompt = "total = compute_value(first_arg, second_arg)\nother = compute_value("
    ids = backend.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    plain = decode(backend.network, backend.vocabulary, ids, max_new_tokens=30, eos_id=None, single_line=True)
    copied = decode(backend.network, backend.vocabulary, ids, max_new_tokens=30, eos_id=None, single_line=True,
                    copy_weight=0.9)
    text = backend.tokenizer.decode(copied[0].ids)
    assert text == "first_arg, second_arg)\n"
    assert backend.tokenizer.decode(plain[0].ids) != text  # the random model alone does not
    assert all(lp <= 0 for lp in copied[0].logprobs)


def test_the_checkpoint_setting_sets_the_weight_and_bad_values_are_ignored(tmp_path, tiny_model, caplog):
    import json
    import shutil

    from bowerbird.learners.lm.hf import SETTINGS_FILE
    from bowerbird.learners.lm.loading import load_backend

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / SETTINGS_FILE).write_text(json.dumps({"copy_cache_weight": 0.3}))
    assert load_backend("transformers", str(folder)).copy_weight == 0.3
    for bad in ("high", 1.5, -0.1, True):
        (folder / SETTINGS_FILE).write_text(json.dumps({"copy_cache_weight": bad}))
        with caplog.at_level(logging.WARNING):
            assert load_backend("transformers", str(folder)).copy_weight == 0.0
        assert "copy_cache_weight" in caplog.text
        caplog.clear()
    assert load_backend("transformers", str(tiny_model)).copy_weight == 0.0  # no setting: off


def test_ship_lm_refuses_a_weight_outside_the_unit_interval(tmp_path, capsys):
    from bowerbird.cli import main

    assert main(["train", "ship-lm", "--run", str(tmp_path), "--copy-cache", "1.5"]) == 2
    assert "--copy-cache must be in [0, 1)" in capsys.readouterr().err


def test_tokens_pushed_without_indexing_extend_the_suffix_but_are_never_copied():
    cache = CopyCache([1, 2, 3, 1, 2], index_pushed=False)
    assert cache.distribution() == (2, {3: 1.0})
    cache.push(5)
    cache.push(1)  # "5 1" never occurred; "1" was followed by 2 twice in the prompt
    assert cache.distribution() == (1, {2: 1.0})
    cache.push(2)  # "1 2": followed by 3 in the prompt; the prompt's last 2 (followed by 5, written) is not indexed
    assert cache.distribution() == (2, {3: 1.0})
    grown = CopyCache([1, 2, 3, 1, 2])
    for token in (5, 1, 2):
        grown.push(token)
    assert grown.distribution() == (2, {3: 0.5, 5: 0.5})  # indexed: the written "1 2 5" counts too


def test_compose_puts_the_code_cut_from_the_prompt_in_its_memory(backend):
    from bowerbird.learners.lm.prompt import compose

    prefix = "".join(f"value_{i} = compute({i})\n" for i in range(400)) + "result = comp"
    prompt = compose(backend, "", "# m.py", prefix, "", 8)
    assert prompt.memory and prefix.startswith(prompt.memory)
    body = prompt.text.split("# m.py\n", 1)[1].split("<fim_suffix>")[0]  # the tiny model's prompts are FIM
    assert prompt.memory + body + prompt.heal == prefix  # nothing lost, nothing twice
    assert prompt.memory.endswith("\n")  # cut at a line start
    short = compose(backend, "", "# m.py", "x = 1\ny = ", "", 8)
    assert short.memory == ""  # all of it fits


def test_memory_before_the_prompt_is_copied_from(backend):
    memory = backend.tokenizer("total = compute_value(first_arg, second_arg)\n", add_special_tokens=False)["input_ids"]
    ids = backend.tokenizer("other = compute_value(", add_special_tokens=False)["input_ids"]
    alone = decode(backend.network, backend.vocabulary, ids, max_new_tokens=30, eos_id=None, copy_weight=0.9)
    recalled = decode(backend.network, backend.vocabulary, ids, max_new_tokens=30, eos_id=None, copy_weight=0.9,
                      memory=memory)
    assert backend.tokenizer.decode(recalled[0].ids) == "first_arg, second_arg)\n"
    assert backend.tokenizer.decode(alone[0].ids) != "first_arg, second_arg)\n"


def test_the_backend_keeps_the_last_memory_tokens_and_the_check_agrees_with_generation(tiny_model, tmp_path):
    import json
    import shutil

    from bowerbird.learners.lm.backend import GenerationRequest
    from bowerbird.learners.lm.evaluate import teacher_forced_matches
    from bowerbird.learners.lm.hf import SETTINGS_FILE
    from bowerbird.learners.lm.loading import load_backend

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / SETTINGS_FILE).write_text(json.dumps({"copy_cache_weight": 0.9, "copy_cache_memory_tokens": 64}))
    remembering = load_backend("transformers", str(folder))
    assert remembering.copy_memory == 64
    text = "import os\n" * 200 + "total = compute_value(first_arg, second_arg)\n"
    kept = remembering.memory_ids(text)
    assert len(kept) == 64 and remembering.tokenizer.decode(kept).endswith("second_arg)\n")
    prompt = "other = compute_value("
    line = remembering.generate(GenerationRequest(prompt, max_new_tokens=30, memory=text))[0].text
    assert line == "first_arg, second_arg)\n"
    assert teacher_forced_matches(remembering, [prompt], line.rstrip("\n"), memories=[text]) == [True]
    assert teacher_forced_matches(remembering, [prompt], line.rstrip("\n")) == [False]  # without it, no
    remembering.copy_memory = 0  # off: the memory is ignored
    assert remembering.memory_ids(text) == []


def test_bad_memory_settings_are_ignored(tmp_path, tiny_model, caplog):
    import json
    import shutil

    from bowerbird.learners.lm.hf import SETTINGS_FILE
    from bowerbird.learners.lm.loading import load_backend

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    for bad in ("many", -5, 2.5, True):
        (folder / SETTINGS_FILE).write_text(json.dumps({"copy_cache_weight": 0.2, "copy_cache_memory_tokens": bad}))
        with caplog.at_level(logging.WARNING):
            assert load_backend("transformers", str(folder)).copy_memory == 0
        assert "copy_cache_memory_tokens" in caplog.text
        caplog.clear()


def test_ship_lm_writes_the_copy_cache_settings_the_backend_reads(tmp_path, capsys):
    from bowerbird.cli import build_parser
    from bowerbird.commands.train import ship_settings

    args = build_parser().parse_args(["train", "ship-lm", "--run", str(tmp_path), "--no-fim", "--copy-cache", "0.2",
                                      "--copy-memory", "4096", "--copy-written", "off"])
    assert ship_settings(args) == {"fill_in_the_middle": False, "copy_cache_weight": 0.2,
                                   "copy_cache_memory_tokens": 4096, "copy_cache_written": False}
    per_length = build_parser().parse_args(["train", "ship-lm", "--run", str(tmp_path), "--copy-cache", "0,0.1,0.5"])
    assert ship_settings(per_length) == {"copy_cache_weight": [0.0, 0.1, 0.5]}
    plain = build_parser().parse_args(["train", "ship-lm", "--run", str(tmp_path), "--copy-memory", "4096"])
    assert ship_settings(plain) == {}  # no cache, nothing for its memory to do
    from bowerbird.cli import main

    assert main(["train", "ship-lm", "--run", str(tmp_path), "--copy-cache", "0.2", "--copy-memory", "-3"]) == 2
    assert "--copy-memory must be >= 0" in capsys.readouterr().err


def test_a_weight_per_match_length_uses_the_one_for_the_match_found():
    from bowerbird.learners.lm.copy_cache import new_cache, parse, per_length, valid

    logits = torch.zeros(10)
    short = new_cache([3, 7, 5, 3], (0.0, 0.5))  # "3" matched (n = 1): weight 0
    assert short.distribution() == (1, {7: 1.0}) and short.max_n == 2
    assert torch.allclose(mix(logits, short, (0.0, 0.5)), torch.log_softmax(logits, -1))
    long = new_cache([2, 3, 7, 2, 3], (0.0, 0.5))  # "2 3" matched (n = 2): weight 0.5
    assert float(mix(logits, long, (0.0, 0.5))[7].exp()) == pytest.approx(0.5 * 0.1 + 0.5)
    longer = new_cache([1, 2, 3, 7, 1, 2, 3], (0.0, 0.5))  # capped at the list's length: still 0.5
    assert longer.distribution()[0] == 2
    assert per_length(0.2) == (0.2,) * 6 and per_length([0.1, 0.3]) == (0.1, 0.3)
    assert parse("0.2") == 0.2 and parse("0,0.1,0.5") == (0.0, 0.1, 0.5)
    for bad in ("1.0", "0.2,-0.1", "x", "0.1,,0.2"):
        with pytest.raises(ValueError):
            parse(bad)
    assert not valid([]) and not valid([0.1] * 33) and valid([0.1] * 32)


def test_the_checkpoint_can_set_a_weight_per_match_length(tmp_path, tiny_model):
    import json
    import shutil

    from bowerbird.learners.lm.hf import SETTINGS_FILE
    from bowerbird.learners.lm.loading import load_backend

    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    (folder / SETTINGS_FILE).write_text(json.dumps({"copy_cache_weight": [0, 0.1, 0.5]}))
    assert load_backend("transformers", str(folder)).copy_weight == (0.0, 0.1, 0.5)
    (folder / SETTINGS_FILE).write_text(json.dumps({"copy_cache_weight": [0.1, 2]}))
    assert load_backend("transformers", str(folder)).copy_weight == 0.0


@pytest.mark.parametrize("keep", ["front", "back"])
def test_compose_keeps_the_proposals_best_end_and_remembers_the_rest(backend, keep):
    from bowerbird.learners.lm.prompt import TEMPLATE_MARGIN, compose

    context = "# m.py\n" + "".join(f"after_{i} = use({i})\n" for i in range(300))
    prompt = compose(backend, context, "# m.py", "x = 1\ny = ", "", 8, heal=False, share=0.75, keep=keep,
                     spill="# more.py\nspilled = 1")
    budget = backend.context_tokens - 8 - TEMPLATE_MARGIN
    kept = prompt.text[: prompt.text.index("\n# m.py\nx = 1")]
    assert kept.startswith("<fim_prefix>")  # the tiny model's prompts are FIM
    kept = kept[len("<fim_prefix>") :]
    assert prompt.context_tokens <= int(budget * 0.75) and prompt.context_tokens > budget // 2
    if keep == "front":  # the lines next to the hole stay in the prompt, the far ones go to memory
        assert kept.startswith("# m.py\nafter_0 = use(0)") and context.startswith(kept)
        assert prompt.memory == "# more.py\nspilled = 1\n" + context[len(kept) :]
    else:
        assert context.endswith(kept) and kept.endswith("after_299 = use(299)\n")
        assert prompt.memory == "# more.py\nspilled = 1\n" + context[: len(context) - len(kept)]
