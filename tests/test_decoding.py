"""Bowerbird's decoding loop against transformers' own generate(), KV-cache reuse, token
healing, sampling, cancellation and line stops, on the tiny test model."""

from __future__ import annotations

import threading

import pytest
import torch

from bowerbird.learners.lm.decoding import PromptCache, Vocabulary, decode
from bowerbird.learners.lm.prompt import compose, healed_tail

PROMPTS = [
    "def add(a, b):\n    return a",
    "class Store:\n    def __init__(self, path):\n        self.path = path\n\n    def read(self",
    "import os\n\nvalue = os.path.jo",
]


@pytest.fixture(scope="module")
def backend(tiny_model):
    from bowerbird.learners.lm.loading import load_backend

    return load_backend("transformers", str(tiny_model))


def ids_of(backend, text):
    return backend.tokenizer(text, add_special_tokens=False)["input_ids"]


def reference_greedy(backend, ids, new_tokens):
    with torch.inference_mode():
        out = backend.network.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                       max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                       pad_token_id=backend.eos_id)
    return out[0, len(ids):].tolist()


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_decoding_matches_transformers_generate(backend, prompt):
    ids = ids_of(backend, prompt)
    rows = decode(backend.network, backend.vocabulary, ids, max_new_tokens=12, eos_id=None, single_line=False)
    assert len(rows) == 1 and rows[0].ids == reference_greedy(backend, ids, 12)
    assert len(rows[0].logprobs) == 12 and all(lp <= 0 for lp in rows[0].logprobs)


def test_reusing_the_previous_prompts_cache_changes_nothing_but_the_work(backend):
    cache = PromptCache()
    base = ids_of(backend, PROMPTS[1] * 3)
    decode(backend.network, backend.vocabulary, base, max_new_tokens=6, eos_id=None, single_line=False, cached=cache)
    assert cache.reused_tokens == 0 and cache.ids == base
    for typed in (base[:-1] + ids_of(backend, "x"), base[:-3], base + ids_of(backend, " = 1")):
        warm = decode(backend.network, backend.vocabulary, typed, max_new_tokens=6, eos_id=None, single_line=False, cached=cache)
        assert cache.reused_tokens >= min(len(typed), len(base)) - 3
        cold = decode(backend.network, backend.vocabulary, typed, max_new_tokens=6, eos_id=None, single_line=False)
        assert warm[0].ids == cold[0].ids
        assert warm[0].logprobs == pytest.approx(cold[0].logprobs, abs=1e-4)


def test_a_different_prompt_starts_afresh(backend):
    cache = PromptCache()
    decode(backend.network, backend.vocabulary, ids_of(backend, PROMPTS[0]), max_new_tokens=3, eos_id=None, cached=cache)
    decode(backend.network, backend.vocabulary, ids_of(backend, PROMPTS[2]), max_new_tokens=3, eos_id=None, cached=cache)
    assert cache.reused_tokens == 0


def test_sampled_candidates_come_in_one_batch_and_leave_the_cache_usable(backend):
    cache = PromptCache()
    ids = ids_of(backend, PROMPTS[1] * 3)
    generator = torch.Generator().manual_seed(0)
    rows = decode(backend.network, backend.vocabulary, ids, max_new_tokens=5, eos_id=None, candidates=4, temperature=1.5,
                  single_line=False, cached=cache, generator=generator)
    assert len(rows) == 4 and all(len(r.ids) == 5 for r in rows)
    assert len({tuple(r.ids) for r in rows}) > 1  # sampling, not four copies of greedy
    again = decode(backend.network, backend.vocabulary, ids, max_new_tokens=5, eos_id=None, single_line=False, cached=cache)
    assert cache.reused_tokens == len(ids) - 1
    assert again[0].ids == reference_greedy(backend, ids, 5)


def test_single_line_stops_after_the_first_token_with_a_newline(backend):
    vocabulary = backend.vocabulary
    for prompt in PROMPTS:
        row = decode(backend.network, vocabulary, ids_of(backend, prompt), max_new_tokens=30, eos_id=backend.eos_id)[0]
        ends = [vocabulary.ends_line(t) for t in row.ids]
        assert not any(ends[:-1])
        assert ends[-1] or len(row.ids) == 30 or backend.eos_id is not None


def test_the_first_token_is_never_end_of_text(backend):
    ids = ids_of(backend, PROMPTS[0])
    with torch.inference_mode():
        logits = backend.network(input_ids=torch.tensor([ids])).logits[0, -1].clone()
    eos = int(logits.argmax())  # pretend the model's favourite first token ends the text
    row = decode(backend.network, backend.vocabulary, ids, max_new_tokens=3, eos_id=eos)[0]
    assert row.ids and row.ids[0] != eos


def test_cancelled_decoding_returns_nothing(backend):
    cancel = threading.Event()
    cancel.set()
    assert decode(backend.network, backend.vocabulary, ids_of(backend, PROMPTS[0]), max_new_tokens=8, eos_id=None,
                  cancel=cancel) == []


def test_healing_makes_the_completion_write_the_cut_characters_first(backend):
    prompt = PROMPTS[2]
    heal = healed_tail(backend.counter, prompt)
    assert heal and prompt.endswith(heal) and "\n" not in heal
    cut = ids_of(backend, prompt[: -len(heal)])
    for temperature, candidates in ((0.0, 1), (1.0, 3)):
        rows = decode(backend.network, backend.vocabulary, cut, max_new_tokens=10, eos_id=backend.eos_id, heal=heal,
                      candidates=candidates, temperature=temperature, single_line=False,
                      generator=torch.Generator().manual_seed(1))
        for row in rows:
            assert backend.tokenizer.decode(row.ids).startswith(heal)


def test_healed_characters_do_not_use_up_the_new_token_budget(backend):
    from bowerbird.learners.lm.backend import GenerationRequest

    heal = "os.path.jo"  # several tokens, all to be rewritten before any new one
    assert len(ids_of(backend, heal)) > 2
    candidates = backend.generate(GenerationRequest("import os\n\nvalue = ", max_new_tokens=2, single_line=False,
                                                    heal=heal))
    assert candidates, "the row ran out of tokens while rewriting the healed characters"
    generated = backend.tokenizer(heal + candidates[0].text, add_special_tokens=False)["input_ids"]
    assert len(generated) <= len(ids_of(backend, heal)) + 2


def test_tokens_consistent_with_a_healed_text():
    class Chars:  # a tokenizer whose tokens are a few strings
        all_special_ids = [0]
        pieces = ["<eos>", "a", "ab", "abc", "b", "abx", "x"]

        def __len__(self):
            return len(self.pieces)

        def batch_decode(self, rows):
            return [self.pieces[r[0]] for r in rows]

    vocabulary = Vocabulary(Chars())
    assert sorted(vocabulary.consistent_with("ab")) == [1, 2, 3, 5]
    assert vocabulary.consistent_with("q") == []


def test_the_composer_heals_and_cuts_long_prefixes_at_a_line_start(backend):
    prefix = "".join(f"value_{i} = {i}\n" for i in range(400)) + "result = value_1"
    prompt = compose(backend, "", "# m.py", prefix, "", 8)
    assert prompt.heal and prefix.endswith(prompt.heal)
    assert prefix[-30 : -len(prompt.heal)] in prompt.text and prefix[-30:] not in prompt.text
    first_line = prompt.text.split("# m.py\n", 1)[1].split("\n")[0]
    assert len(prompt.text) < len(prefix) and first_line in prefix.split("\n")  # a whole line, not a piece
    typed = compose(backend, "", "# m.py", prefix + "2", "", 8)
    assert typed.text.split("# m.py\n", 1)[1].split("\n")[0] == first_line  # the prompt's start stays put
    plain = compose(backend, "", "# m.py", prefix, "", 8, heal=False)
    assert plain.heal == "" and prefix[-30:] in plain.text


def test_a_single_line_completion_never_starts_by_ending_the_line(backend):
    vocabulary = backend.vocabulary
    empty = set(vocabulary.empty_line_ids())
    assert empty and all(vocabulary.texts[i].lstrip(" \t").startswith("\n") for i in empty)
    ids = ids_of(backend, PROMPTS[0])
    with torch.inference_mode():
        logits = backend.network(input_ids=torch.tensor([ids])).logits[0, -1]
    favourite = int(logits.argmax())
    # make the model's favourite first token an empty line's end, by pretending it is one
    vocabulary._empty = sorted(empty | {favourite})
    try:
        row = decode(backend.network, vocabulary, ids, max_new_tokens=3, eos_id=None)[0]
        assert row.ids[0] != favourite
        block = decode(backend.network, vocabulary, ids, max_new_tokens=3, eos_id=None, single_line=False)[0]
        assert block.ids[0] == favourite  # a block may start with a newline
    finally:
        vocabulary._empty = None


def test_special_tokens_are_never_written(backend):
    vocabulary = backend.vocabulary
    special = vocabulary.structural_ids(backend.eos_id)
    assert backend.tokenizer.convert_tokens_to_ids("<fim_middle>") in special and backend.eos_id not in special
    for prompt in PROMPTS:
        text = backend.fim.format(prompt, "\n") + "<fim_middle>"  # the model might well repeat the marker
        row = decode(backend.network, vocabulary, ids_of(backend, text), max_new_tokens=20, eos_id=backend.eos_id,
                     single_line=False)[0]
        assert not set(row.ids) & set(special)


@pytest.mark.parametrize("line, healed", [
    ("    elif isinstanc", " isinstanc"),  # the partial word and its space, whatever the BPE split
    ("x = os.path.jo", "jo"),
    ("    return self.fo", "fo"),
    ("total = count + 1", " 1"),
    ("foo(a, ", " "),  # no word at the end: the last token
    ("    ", ""),  # nothing to heal
    ("naïve = 1", ""),  # not ASCII
])
def test_healing_cuts_the_partial_word(backend, line, healed):
    cut = healed_tail(backend.counter, "import os\n" + line)
    if not healed:
        assert cut == ""
    else:  # at least the partial word, cut at a token boundary of this (tiny) BPE, never past the line
        assert line.endswith(cut) and cut.endswith(healed)
        start = len(line) - len(cut)
        offsets = backend.tokenizer(line, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        assert start in {s for s, _ in offsets}
