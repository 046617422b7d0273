"""The word cache: finishing the identifier being written with one the prompt holds."""

from __future__ import annotations

from bowerbird.learners.lm.decoding import Vocabulary
from bowerbird.learners.lm.word_cache import WordCache, partial_word

TOKENS = ["_", "_MAP", "MAP", " CODEC", " C", "CODEC", "2", " =", " total", "_count", "_", "x", "\n", "(", "<eos>"]


class FakeTokenizer:
    all_special_ids = [14]

    def __len__(self):
        return len(TOKENS)

    def batch_decode(self, rows):
        return [TOKENS[row[0]] for row in rows]


def vocabulary() -> Vocabulary:
    return Vocabulary(FakeTokenizer())


def test_the_partial_word_is_the_identifier_the_text_ends_with():
    assert partial_word("y = CODEC") == "CODEC"
    assert partial_word("self._pri") == "_pri"
    assert partial_word("x = 0x1f") == ""  # a number, not a word
    assert partial_word("call(") == ""
    assert partial_word("") == ""


def test_the_longest_token_that_starts_the_rest_of_the_word_is_proposed():
    cache = WordCache(vocabulary(), "CODEC_MAP = {}\nCODEC_MAP2 = 1\ny = CODEC")
    # CODEC_MAP and CODEC_MAP2 both go on with "_MAP"; CODEC itself is not a whole word there
    assert cache.distribution() == {TOKENS.index("_MAP"): 1.0}


def test_a_whole_word_keeps_its_share_as_end_here():
    cache = WordCache(vocabulary(), "total = 0\ntotal_count = 1\nx = total")
    assert cache.distribution() == {TOKENS.index("_count"): 0.5}  # total once (the tail is not counted), total_count once


def test_healed_characters_are_written_first():
    v = vocabulary()
    cache = WordCache(v, "CODEC_MAP = {}\ny =", pending=" CODEC_M")
    assert cache.distribution() == {TOKENS.index(" CODEC"): 1.0}
    cache.push(TOKENS.index(" CODEC"))
    assert cache.pending == "_M"
    assert cache.distribution() == {TOKENS.index("_MAP"): 1.0}
    cache.push(TOKENS.index("_MAP"))
    assert cache.pending == "" and cache.distribution() == {}  # CODEC_MAP is whole: nothing longer is known


def test_nothing_is_proposed_outside_a_word_or_for_an_unknown_one():
    v = vocabulary()
    assert WordCache(v, "CODEC_MAP = {}\ny = (").distribution() == {}
    assert WordCache(v, "CODEC_MAP = {}\ny = x").distribution() == {}
    assert WordCache(v, "").distribution() == {}


def test_a_word_whose_rest_no_token_starts_is_skipped():
    assert WordCache(vocabulary(), "CODECzz = 1\ny = CODEC").distribution() == {}
