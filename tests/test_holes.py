"""Holes: positions in a document, and RLPG hole extraction."""

import random

import pytest

from bowerbird.analysis.holes import HoleError, candidate_lines, hole_at, split_column
from bowerbird.analysis.tokens import RegexTokenCounter

TEXT = "import os\n\ndef f(x):\n    return os.path.join(x)\n# done\n"


def test_hole_splits_prefix_target_and_after():
    hole = hole_at("a.py", TEXT, 3, 11)
    assert hole.prefix == "import os\n\ndef f(x):\n    return "
    assert hole.target == "os.path.join(x)"
    assert hole.after == "# done\n"
    assert hole.line_prefix == "    return "
    assert hole.masked_text == "import os\n\ndef f(x):\n    return \n# done\n"


def test_hole_at_end_of_file_and_line_end():
    hole = hole_at("a.py", "x = 1", 0, 5)
    assert (hole.target, hole.after, hole.masked_text) == ("", "", "x = 1")


@pytest.mark.parametrize("line,col", [(-1, 0), (6, 0), (0, 10), (3, -1)])
def test_positions_outside_the_document_are_rejected(line, col):
    with pytest.raises(HoleError):
        hole_at("a.py", TEXT, line, col)


def test_candidate_lines_skip_blank_and_comment_lines():
    assert [n for n, _ in candidate_lines(TEXT, "python")] == [0, 2, 3]
    java = "// c\n/* block\n * more\n */\nint x = 1;\n"
    assert [n for n, _ in candidate_lines(java, "java")] == [4]


def test_middle_split_is_the_middle_of_the_stripped_text():
    rng = random.Random(0)
    assert split_column("    return os.path.join(x)", "middle", rng) == 4 + len("return os.path.join(x)") // 2


def test_random_split_stays_inside_the_stripped_text():
    rng = random.Random(0)
    columns = {split_column("    abc", "random", rng) for _ in range(50)}
    assert columns == {4, 5, 6}


def test_regex_counter_counts_and_truncates_both_ways():
    counter = RegexTokenCounter()
    assert counter.count("self.x = foo(1)") == 8
    assert counter.truncate("a b c d", 2, "front") == "a b"
    assert counter.truncate("a b c d", 2, "back") == "c d"
    assert counter.truncate("a b", 5, "front") == "a b"
    assert counter.truncate("a b", 0, "back") == ""
