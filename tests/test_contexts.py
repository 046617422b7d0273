"""Budgeted assembly of contexts, and hiding the hole's target from the current file."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bowerbird.analysis.extract import parse_source
from bowerbird.analysis.holes import hole_at
from bowerbird.analysis.proposals.build import build_proposals
from bowerbird.analysis.proposals.contexts import Items, take
from bowerbird.analysis.proposals.mask import mask_hole
from bowerbird.analysis.tokens import RegexTokenCounter

COUNTER = RegexTokenCounter()
WORDS = st.lists(st.from_regex(r"[a-z]{1,4}( [a-z]{1,3}){0,3}", fullmatch=True), max_size=12)


@settings(max_examples=200, deadline=None)
@given(items=WORDS, budget=st.integers(0, 30), keep=st.sampled_from(["front", "back"]), joiner=st.sampled_from([" ", "\n", " ; "]))
def test_counted_take_matches_the_item_by_item_take(items, budget, keep, joiner):
    counted = take(Items.counted(items, COUNTER, joiner), joiner, budget, COUNTER, keep)
    uncounted = take(Items(items, None), joiner, budget, COUNTER, keep)
    assert counted == uncounted
    text, used = counted
    assert COUNTER.count(text) <= budget
    assert used >= COUNTER.count(text)


def test_take_keeps_the_front_or_the_back_and_cuts_one_item():
    items = Items.counted(["a b", "c d", "e f"], COUNTER, " ")
    assert take(items, " ", 3, COUNTER, "front") == ("a b c", 3)
    assert take(items, " ", 3, COUNTER, "back") == ("d e f", 3)
    assert take(items, " ", 10, COUNTER, "back") == ("a b c d e f", 6)


SOURCE = '''\
from pkg import helper
class Child(Base):
    def run(self, value):
        total = helper(value) + self.offset
        return total
'''


def test_mask_hides_everything_that_reaches_past_the_cursor():
    hole = hole_at("m.py", SOURCE, 3, 16)  # `        total = |helper(value) + self.offset`
    assert hole.target == "helper(value) + self.offset"
    masked = mask_hole(parse_source("python", SOURCE.encode()), hole)
    on_line = [s.text for s in masked.identifiers if s.line == 3]
    assert on_line == ["total"]
    assert [s.text for s in masked.identifiers if s.line == 4] == ["total"]
    assert [i.name for i in masked.imports] == ["helper"]


def test_mask_drops_a_signature_a_class_header_and_an_import_on_the_hole_line():
    parsed = parse_source("python", SOURCE.encode())
    assert mask_hole(parsed, hole_at("m.py", SOURCE, 2, 12)).functions == ()
    assert mask_hole(parsed, hole_at("m.py", SOURCE, 1, 12)).classes[0].bases == ()
    assert mask_hole(parsed, hole_at("m.py", SOURCE, 0, 9)).imports == ()


def test_reported_tokens_are_the_tokens_of_the_text(pyrepo):
    text = (pyrepo.root / "shapes/circle.py").read_text()
    lines = text.splitlines()
    for line in (n for n, body in enumerate(lines) if len(body) > 8):
        for proposal in build_proposals(pyrepo, hole_at("shapes/circle.py", text, line, 8)):
            assert proposal.tokens == COUNTER.count(proposal.text), proposal.kind


def test_only_the_requested_proposals_are_built_and_they_match_the_full_build(pyrepo):
    text = (pyrepo.root / "shapes/circle.py").read_text()
    hole = hole_at("shapes/circle.py", text, 16, 15)
    everything = {p.kind.id: p for p in build_proposals(pyrepo, hole)}
    for wanted in (0, 5, 14, 20, 62):
        some = build_proposals(pyrepo, hole, only=frozenset({wanted}))
        expected = {i: everything[i] for i in (wanted, 62) if i in everything}
        assert {p.kind.id: p for p in some} == expected
