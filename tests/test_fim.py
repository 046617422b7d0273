"""Fill-in-the-middle templates: each family's special tokens survive a tokenizer round trip."""

from __future__ import annotations

import pytest

from bowerbird.learners.lm.fim import TEMPLATES, detect_template

CODE = "def area(radius):\n    return 3.14 * radius ** 2\n\n\nclass Circle:\n    pass\n"


def tokenizer_with(special: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator([CODE] * 4, trainers.BpeTrainer(
        vocab_size=300, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=special[0], additional_special_tokens=special[1:])


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.family)
def test_each_family_round_trips_through_its_tokenizer(template):
    tokenizer = tokenizer_with(["<|endoftext|>", template.prefix, template.suffix, template.middle])
    assert detect_template(tokenizer.get_vocab()) == template
    prefix, suffix = "def area(radius):\n    return 3.14", "\n\nclass Circle:\n    pass\n"
    text = template.format(prefix, suffix)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    marks = [tokenizer.convert_tokens_to_ids(t) for t in (template.prefix, template.suffix, template.middle)]
    assert [i for i in ids if i in marks] == marks  # each once, in template order
    assert tokenizer.decode(ids) == text
    assert ids[-1] == marks[2] or template.spaced  # the model writes right after the middle token


def test_no_fim_tokens_means_left_to_right():
    assert detect_template(tokenizer_with(["<|endoftext|>"]).get_vocab()) is None
