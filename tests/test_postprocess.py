"""Golden cases for candidate post-processing; `|` marks the cursor in the line."""

import pytest

from bowerbird.server.postprocess import CursorContext, postprocess


def context(line: str, next_line: str = "") -> CursorContext:
    prefix, _, suffix = line.partition("|")
    return CursorContext(prefix, suffix, next_line)


@pytest.mark.parametrize("line, expected", [
    ("    return |", False),
    ("def area(self):|", True),
    ("    |", True),
    ("|", True),
    ("    if x:|  # why", False),
    ("    foo(|)", False),
])
def test_multiline_mode(line, expected):
    assert context(line).multiline is expected


@pytest.mark.parametrize("line, candidate, expected", [
    # Single line: stop at the end of the line, trim.
    ("    total = |", "sum(values)   \n    return total", "sum(values)"),
    # The text after the cursor closes the call already.
    ("    print(|)", "total)", "total"),
    ("    print(|)", "f(x))", "f(x)"),
    ("    print(|)", "f(x)", "f(x)"),  # balanced: the model's own brackets stay
    ("    items[|]", "0]]", "0]"),
    ("    x = foo(|):", "a, b):", "a, b"),
    ("    name = |  # the user's name", "user.name  # the user's name", "user.name"),
    ("    s = '|'", "abc'", "abc"),  # the closing quote is there already
    # Nothing useful left.
    ("    print(|)", ")", None),
    ("    x = |", "   \n", None),
])
def test_single_line(line, candidate, expected):
    assert postprocess(candidate, context(line)) == expected


def test_multiline_stops_at_dedent_and_keeps_the_block():
    candidate = "\n        total = 0\n        for v in values:\n            total += v\n        return total\n\n    def mean(self):"
    assert postprocess(candidate, context("    def total(self, values):|")) == (
        "\n        total = 0\n        for v in values:\n            total += v\n        return total"
    )


def test_multiline_on_an_indented_empty_line_does_not_indent_twice():
    candidate = "    if x:\n            return 1\n        return 2\nprint()"
    assert postprocess(candidate, context("        |")) == "if x:\n        return 1\n    return 2"


def test_a_candidate_repeating_the_next_line_is_dropped():
    assert postprocess("return total\n", context("        |", next_line="        return total")) is None
