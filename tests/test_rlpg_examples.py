"""RLPG-format training examples for the code model: the "useful" context choice (the copying
task) and its fallback to random contexts."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from bowerbird.learners.lm.data import rlpg_examples_from, useful_proposals

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HEADER = re.compile(r"\n# (\S+\.py)\n")


def proposal(text: str) -> SimpleNamespace:
    return SimpleNamespace(text=text)


def test_useful_proposals_hold_every_name_the_line_needs_and_the_code_before_lacks():
    holding = proposal("class Circle(Shape):\n    def area(self): ...\n")
    partial = proposal("def area(self): ...\n")
    empty = proposal("")
    prefix = "import math\n\nshape = "
    assert useful_proposals([holding, partial, empty], prefix, "Circle(shape).area()") == [holding]
    # names already in the code before the cursor, or of two characters or fewer, are not needed
    assert useful_proposals([holding, partial], "radius = 1\nCircle\n", "Circle(radius)") == []
    assert useful_proposals([holding], prefix, "x(a)") == []
    # a name only in the far past of the prefix counts as missing
    assert useful_proposals([partial], "area\n" + "#\n" * 2000, "area()", prefix_chars=100) == [partial]


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def _parts(example: str) -> tuple[str, str, str]:
    """(proposal context, in-file code before the hole's line, the hole's whole line) of a
    left-to-right example."""
    header = list(HEADER.finditer(example))[-1]
    body = example[header.end():].rstrip("\n")
    before, _, line = body.rpartition("\n")
    return example[: header.start()], before, line


def _copies(example: str) -> bool:
    context, before, line = _parts(example)
    return any(len(n) > 2 and n in set(NAME.findall(context)) for n in set(NAME.findall(line)) - set(NAME.findall(before)))


def test_useful_examples_give_the_line_a_context_that_holds_its_missing_names(pyrepo, tokenizer):
    make = rlpg_examples_from([pyrepo], tokenizer, 256, per_file=200, fim=False, context="useful", unhelpful_share=0.0)
    examples = make(50)
    assert len(examples) >= 3
    assert all(_copies(e) for e in examples)
    # a random choice of proposal gives plenty of contexts that hold none of them
    randomly = rlpg_examples_from([pyrepo], tokenizer, 256, per_file=200, fim=False)(50)
    assert len(randomly) > len(examples) and not all(_copies(e) for e in randomly)


def test_useful_examples_keep_the_asked_share_of_unhelpful_contexts(pyrepo, tokenizer):
    examples = rlpg_examples_from([pyrepo], tokenizer, 256, per_file=200, fim=False, context="useful",
                                  unhelpful_share=0.5)(20)
    assert len(examples) == 20
    assert 0 < sum(not _copies(e) for e in examples) <= 10


def test_an_unknown_context_choice_is_an_error(pyrepo, tokenizer):
    with pytest.raises(ValueError, match="context must be"):
        rlpg_examples_from([pyrepo], tokenizer, 256, context="best")

