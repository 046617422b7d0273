"""RLPG prompt proposals over the fixture repositories tests/data/pyrepo and tests/data/javarepo.

Every expected text below was worked out by hand from the fixture files and the rules in
analysis/proposals/contexts.py and sources.py: each file's context is headed by `# path`
(`// path` for Java), items are joined by newlines (methods, signatures, fields) or spaces
(identifiers, type identifiers, string literals), the best-ranked file comes LAST, other
files' contexts keep their front and Parent Class and Current's before-the-hole fallback keep
their back. Token counts use the regex counter: a word or one punctuation character each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bowerbird.analysis.extract import parse_source
from bowerbird.analysis.holes import Hole, candidate_lines, hole_at, split_column
from bowerbird.analysis.proposals.build import ProposalOptions, build_proposals
from bowerbird.analysis.proposals.catalog import CATALOG
from bowerbird.analysis.proposals.catalog import IN_FILE, OTHER_TYPES, SOURCES
from bowerbird.analysis.proposals.sources import current_file, rank_sources
from bowerbird.analysis.repo import RepoView
from bowerbird.analysis.tokens import RegexTokenCounter

JAVA_PKG = "src/main/java/com/acme/shapes"


def hole_in(repo: RepoView, path: str, line: int, col: int) -> Hole:
    return hole_at(path, (Path(repo.root) / path).read_text(), line, col)


def proposals_by_id(repo: RepoView, hole: Hole, prompt_tokens: int = 4072) -> dict[int, str]:
    return {p.kind.id: p.text for p in build_proposals(repo, hole, ProposalOptions(prompt_tokens=prompt_tokens))}


def ranked(repo: RepoView, hole: Hole) -> dict[str, list[str]]:
    language = "java" if hole.path.endswith(".java") else "python"
    document = parse_source(language, hole.document.encode())
    return rank_sources(repo, current_file(repo, hole.path, document, hole), hole)


def kind_id(source: str, context_type: str) -> int:
    return next(k.id for k in CATALOG if k.source == source and k.context_type == context_type)


# --- Python: a hole in the body of Circle.area ---------------------------------------------
# shapes/circle.py, line 16 (0-based): `        return math.pi * self.radius ** 2`
CIRCLE_AREA = ("shapes/circle.py", 16, 15)
CIRCLE_TARGET = "math.pi * self.radius ** 2"

BASE_METHODS = '''\
# shapes/base.py
    def __init__(self, origin: Point, label: str = ""):
        self.origin = origin
        self.label = label or self.kind
    def area(self) -> float:
        """The area of the shape."""
    def describe(self) -> str:
        return f"{self.label} at ({self.origin.x}, {self.origin.y})"'''

PYTHON_CIRCLE_EXPECTED = {
    # Current: the items after the hole's line, from the front ...
    ("current", "method_names"): """\
# shapes/circle.py
def contains(self, point: geometry.Point) -> bool:""",
    ("current", "identifiers"): """\
# shapes/circle.py
contains self point geometry Point bool origin distance_to radius""",
    ("current", "type_identifiers"): """\
# shapes/circle.py
geometry Point bool""",
    # ... or, with none after the hole, all of them (docstrings are not string literals;
    # "circle" occurs twice and is listed once).
    ("current", "string_literals"): """\
# shapes/circle.py
"circle\"""",
    ("current", "field_declarations"): """\
# shapes/circle.py
kind = "circle"
self.radius = radius""",
    # Parent Class: `class Circle(Shape)`, `from .base import Shape` -> shapes/base.py.
    # Method texts run from `def` (decorators left out), indented as in the file.
    ("parent_class", "method_names_and_bodies"): BASE_METHODS,
    ("parent_class", "string_literals"): """\
# shapes/base.py
"shape" "" f"{self.label} at ({self.origin.x}, {self.origin.y})\"""",
    # Import: geometry (used 2 lines from the hole) ranks above base (Shape: 8 lines away),
    # so geometry comes last.
    ("import", "identifiers"): """\
# shapes/base.py
abc ABC abstractmethod shapes geometry Point Shape kind __init__ self origin label str area float describe x y
# shapes/geometry.py
math dataclasses dataclass frozen Point x float y distance_to self other hypot polygon_area points list total a b zip abs""",
    # Sibling: square.py shares two imports (geometry, base) and ranks first, so it comes
    # last; the others share one and keep path order; shape_utils.py has no literal.
    ("sibling", "string_literals"): """\
# shapes/unit_circle.py
"unit circle"
# shapes/shape_render.py
"== shapes ==" "  " f"total area: {total_area(shapes):.2f}" "\\n"
# shapes/geometry.py
"Point"
# shapes/base.py
"shape" "" f"{self.label} at ({self.origin.x}, {self.origin.y})"
# shapes/__init__.py
"Shape" "Circle" "Square"
# shapes/square.py
"square\"""",
    # Similar Name: unit_circle.py shares the name part "circle".
    ("similar_name", "method_names_and_bodies"): """\
# shapes/unit_circle.py
    def __init__(self):
        super().__init__(Point(0.0, 0.0), 1.0)
        self.label = "unit circle\"""",
    # Child Class: UnitCircle(Circle).
    ("child_class", "field_declarations"): """\
# shapes/unit_circle.py
self.label = "unit circle\"""",
    # Import of Sibling: base.py is imported by 4 siblings, geometry.py by 3, shape_utils.py
    # and square.py by one each (path order); circle.py itself is left out.
    ("import_of_sibling", "method_names"): """\
# shapes/square.py
def __init__(self, origin: geometry.Point, side: float):
def area(self) -> float:
def corners(self) -> list[geometry.Point]:
# shapes/shape_utils.py
def total_area(shapes: list[Shape]) -> float:
def by_kind(shapes: list[Shape]) -> dict[str, list[Shape]]:
# shapes/geometry.py
def distance_to(self, other: "Point") -> float:
def polygon_area(points: list[Point]) -> float:
# shapes/base.py
def __init__(self, origin: Point, label: str = ""):
def area(self) -> float:
def describe(self) -> str:""",
    # unit_circle.py imports circle.py (the current file, left out) and geometry.py.
    ("import_of_similar_name", "type_identifiers"): """\
# shapes/geometry.py
float list Point""",
    # base.py imports geometry.py (abc is not in the repository); `other: "Point"` is a
    # string literal.
    ("import_of_parent_class", "string_literals"): """\
# shapes/geometry.py
"Point\"""",
    ("import_of_child_class", "field_declarations"): """\
# shapes/geometry.py
x: float
y: float""",
}


@pytest.mark.parametrize("source,context_type", list(PYTHON_CIRCLE_EXPECTED))
def test_python_proposal_texts_for_a_hole_in_a_subclass_method(pyrepo, source, context_type):
    hole = hole_in(pyrepo, *CIRCLE_AREA)
    assert hole.target == CIRCLE_TARGET
    texts = proposals_by_id(pyrepo, hole)
    assert texts[kind_id(source, context_type)] == PYTHON_CIRCLE_EXPECTED[(source, context_type)]


def test_python_in_file_proposal_is_always_last_and_empty(pyrepo):
    proposals = build_proposals(pyrepo, hole_in(pyrepo, *CIRCLE_AREA))
    last = proposals[-1]
    assert (last.kind.id, last.kind.source, last.kind.context_type) == (62, IN_FILE, "default")
    assert (last.text, last.tokens) == ("", 0)


def test_post_lines_take_their_share_of_the_prompt_from_the_front(pyrepo):
    # prompt 60 tokens: 15 / 30 / 45 for post lines, less 6 for the `# shapes/circle.py` header.
    texts = proposals_by_id(pyrepo, hole_in(pyrepo, *CIRCLE_AREA), prompt_tokens=60)
    head = "# shapes/circle.py\n"
    signature = "\n    def contains(self, point: geometry.Point) -> bool:"
    assert texts[5] == head + "\n    def contains(self, point: geometry."  # 9 tokens
    assert texts[6] == head + signature + "\n        return self.origin.distance_to(point)"  # 24
    assert texts[7] == head + signature + "\n        return self.origin.distance_to(point) <= self.radius\n"
    assert [CATALOG[i].context_type for i in (5, 6, 7)] == ["post_lines_25", "post_lines_50", "post_lines_75"]


def test_post_lines_with_room_to_spare_are_the_whole_rest_of_the_file(pyrepo):
    texts = proposals_by_id(pyrepo, hole_in(pyrepo, *CIRCLE_AREA))
    whole = (
        "# shapes/circle.py\n\n    def contains(self, point: geometry.Point) -> bool:\n"
        "        return self.origin.distance_to(point) <= self.radius\n"
    )
    assert texts[5] == texts[6] == texts[7] == whole


# --- Python: a hole in the base class ------------------------------------------------------
# shapes/base.py, line 12: `        self.label = label or self.kind`, cut after `=`.
BASE_INIT = ("shapes/base.py", 12, 20)


def test_child_class_files_of_the_base_class(pyrepo):
    hole = hole_in(pyrepo, *BASE_INIT)
    assert hole.target == " label or self.kind"
    # circle.py and square.py subclass Shape (unit_circle.py subclasses Circle, not Shape).
    # Both share one import (geometry) with base.py: path order, circle.py first = last.
    assert proposals_by_id(pyrepo, hole)[kind_id("child_class", "method_names")] == """\
# shapes/square.py
def __init__(self, origin: geometry.Point, side: float):
def area(self) -> float:
def corners(self) -> list[geometry.Point]:
# shapes/circle.py
def __init__(self, origin: geometry.Point, radius: float):
def area(self) -> float:
def contains(self, point: geometry.Point) -> bool:"""
    assert ranked(pyrepo, hole)["child_class"] == ["shapes/circle.py", "shapes/square.py"]


def test_current_items_before_the_hole_exclude_the_hole_line(pyrepo):
    texts = proposals_by_id(pyrepo, hole_in(pyrepo, *BASE_INIT))
    # No field after line 12; the hole's own (cut) line is not a field any more.
    assert texts[kind_id("current", "field_declarations")] == """\
# shapes/base.py
kind = "shape"
self.origin = origin"""
    assert texts[kind_id("current", "string_literals")] == """\
# shapes/base.py
f"{self.label} at ({self.origin.x}, {self.origin.y})\""""


def test_sources_without_files_give_no_proposals(pyrepo):
    proposals = build_proposals(pyrepo, hole_in(pyrepo, *BASE_INIT))
    listed = {p.kind.source for p in proposals}
    # Shape's only base (abc.ABC) is outside the repository; no other file name has "base".
    assert listed.isdisjoint({"parent_class", "import_of_parent_class", "similar_name", "import_of_similar_name"})
    assert {"current", "import", "sibling", "child_class", "import_of_sibling", "import_of_child_class"} <= listed
    assert all(p.text for p in proposals if p.kind.source != IN_FILE)


# --- Python: a hole in shape_render.py (similar names across directories) ------------------
# shapes/shape_render.py, line 16: `        for shape in shapes:`
RENDER_LOOP = ("shapes/shape_render.py", 16, 20)


def test_similar_name_files_split_snake_and_camel_case(pyrepo):
    hole = hole_in(pyrepo, *RENDER_LOOP)
    # name parts: shape_render -> shape, render; shapeReport -> shape, report; shape_utils ->
    # shape (utils is too common). shape_utils.py shares the import of shapes/base.py.
    assert ranked(pyrepo, hole)["similar_name"] == ["shapes/shape_utils.py", "scripts/shapeReport.py"]
    texts = proposals_by_id(pyrepo, hole)
    assert texts[kind_id("similar_name", "identifiers")] == """\
# scripts/shapeReport.py
sys shapes Circle Square geometry Point shape_render ShapeRenderer sample_shapes list origin main argv str int width len print render __name__ exit
# shapes/shape_utils.py
shapes base Shape total_area list float sum shape area by_kind dict str groups setdefault kind append"""
    # Imports of those: shapes/__init__.py (from `from shapes import Circle`), base.py and
    # geometry.py once each, in path order; __init__.py defines no function.
    assert texts[kind_id("import_of_similar_name", "method_names")] == """\
# shapes/geometry.py
def distance_to(self, other: "Point") -> float:
def polygon_area(points: list[Point]) -> float:
# shapes/base.py
def __init__(self, origin: Point, label: str = ""):
def area(self) -> float:
def describe(self) -> str:"""


# --- Rankings ------------------------------------------------------------------------------
def test_siblings_rank_by_shared_imports_then_path(pyrepo):
    # base.py imports abc and shapes/geometry.py; circle, square and unit_circle import geometry.
    assert ranked(pyrepo, hole_in(pyrepo, *BASE_INIT))["sibling"] == [
        "shapes/circle.py", "shapes/square.py", "shapes/unit_circle.py",
        "shapes/__init__.py", "shapes/geometry.py", "shapes/shape_render.py", "shapes/shape_utils.py",
    ]
    # circle.py imports math, geometry and base: square.py shares two, all others one
    # (geometry.py shares `import math`, an import outside the repository).
    assert ranked(pyrepo, hole_in(pyrepo, *CIRCLE_AREA))["sibling"] == [
        "shapes/square.py", "shapes/__init__.py", "shapes/base.py", "shapes/geometry.py",
        "shapes/shape_render.py", "shapes/shape_utils.py", "shapes/unit_circle.py",
    ]


def test_imports_rank_by_the_nearest_use_to_the_hole(pyrepo):
    # `kind = "circle"` (line 9): Shape is used on line 8, geometry on line 11.
    near_class_line = hole_in(pyrepo, "shapes/circle.py", 9, 11)
    assert ranked(pyrepo, near_class_line)["import"] == ["shapes/base.py", "shapes/geometry.py"]
    # In `area` (line 16): geometry is used on line 18, Shape only on line 8.
    assert ranked(pyrepo, hole_in(pyrepo, *CIRCLE_AREA))["import"] == ["shapes/geometry.py", "shapes/base.py"]
    # `import math` is not a repository file.


def test_imports_of_a_source_rank_by_frequency_then_path(pyrepo):
    assert ranked(pyrepo, hole_in(pyrepo, *CIRCLE_AREA))["import_of_sibling"] == [
        "shapes/base.py", "shapes/geometry.py", "shapes/shape_utils.py", "shapes/square.py",
    ]


# --- Budgets -------------------------------------------------------------------------------
def test_small_budget_keeps_the_back_of_parent_class(pyrepo):
    # prompt 40 -> 20 tokens: header 6, `self.label = label or self.kind` 9,
    # `self.origin = origin` 5; `kind = "shape"` (5) no longer fits.
    texts = proposals_by_id(pyrepo, hole_in(pyrepo, *CIRCLE_AREA), prompt_tokens=40)
    assert texts[kind_id("parent_class", "field_declarations")] == """\
# shapes/base.py
self.origin = origin
self.label = label or self.kind"""


def test_small_budget_keeps_the_front_and_the_best_ranked_file(pyrepo):
    texts = proposals_by_id(pyrepo, hole_in(pyrepo, *CIRCLE_AREA), prompt_tokens=40)
    # geometry.py ranks first: header 6 + 14 identifiers fill the 20 tokens; base.py is dropped.
    assert texts[kind_id("import", "identifiers")] == """\
# shapes/geometry.py
math dataclasses dataclass frozen Point x float y distance_to self other hypot polygon_area points"""
    # square.py ranks first among siblings; its first signature (16 tokens) is cut to 14.
    assert texts[kind_id("sibling", "method_names")] == """\
# shapes/square.py
def __init__(self, origin: geometry.Point, side: float"""


def test_small_budget_cuts_current_fallback_from_the_front(pyrepo):
    # prompt 30 -> 15 tokens: header 6, `self.radius = radius` 5, then 4 of `kind = "circle"`.
    texts = proposals_by_id(pyrepo, hole_in(pyrepo, *CIRCLE_AREA), prompt_tokens=30)
    assert texts[kind_id("current", "field_declarations")] == """\
# shapes/circle.py
= "circle"
self.radius = radius"""


@pytest.mark.parametrize("prompt_tokens", [20, 40, 100, 400])
@pytest.mark.parametrize("hole", [CIRCLE_AREA, BASE_INIT, RENDER_LOOP])
def test_every_proposal_fits_its_budget(pyrepo, prompt_tokens, hole):
    counter = RegexTokenCounter()
    for proposal in build_proposals(pyrepo, hole_in(pyrepo, *hole), ProposalOptions(prompt_tokens=prompt_tokens)):
        share = proposal.kind.post_lines_share or 0.5
        assert proposal.tokens == counter.count(proposal.text)
        assert proposal.tokens <= int(prompt_tokens * share), proposal.kind


def test_a_budget_smaller_than_a_header_gives_no_proposal_context(pyrepo):
    proposals = build_proposals(pyrepo, hole_in(pyrepo, *CIRCLE_AREA), ProposalOptions(prompt_tokens=8))
    # 4 tokens for proposals, 2/4/6 for post lines: every header costs 6 or more.
    assert [p.kind.id for p in proposals] == [62]


# --- Catalog and the hole's target ---------------------------------------------------------
def test_proposal_kinds_are_catalog_entries_in_id_order(pyrepo):
    proposals = build_proposals(pyrepo, hole_in(pyrepo, *CIRCLE_AREA))
    ids = [p.kind.id for p in proposals]
    assert ids == sorted(set(ids))
    for p in proposals:
        assert CATALOG[p.kind.id] is p.kind
        assert p.to_json() == {"id": p.kind.id, "source": p.kind.source, "context_type": p.kind.context_type,
                               "text": p.text, "tokens": p.tokens}
    # This hole has a file for every source and every context type: all 63 are listed.
    assert ids == list(range(63))
    assert {p.kind.source for p in proposals} == {*SOURCES, IN_FILE}
    assert {p.kind.context_type for p in proposals if p.kind.source == "sibling"} == set(OTHER_TYPES)


def test_catalog_ids():
    assert len(CATALOG) == 63
    assert [(k.source, k.context_type) for k in CATALOG[:8]] == [
        ("current", "method_names"), ("current", "identifiers"), ("current", "type_identifiers"),
        ("current", "string_literals"), ("current", "field_declarations"),
        ("current", "post_lines_25"), ("current", "post_lines_50"), ("current", "post_lines_75"),
    ]
    assert CATALOG[8].source == "parent_class" and CATALOG[8].context_type == "method_names_and_bodies"
    assert CATALOG[61].source == "import_of_child_class" and CATALOG[61].context_type == "field_declarations"
    assert [k.id for k in CATALOG] == list(range(63))


@pytest.mark.parametrize("path", ["shapes/circle.py", "shapes/base.py", "shapes/shape_render.py"])
def test_the_target_never_appears_in_a_current_proposal(pyrepo, path):
    text = (Path(pyrepo.root) / path).read_text()
    checked = 0
    for line, content in candidate_lines(text, "python"):
        hole = hole_at(path, text, line, split_column(content, "middle", None))
        target = hole.target.strip()
        if len(target) < 4 or text.count(target) != 1:
            continue  # the same text elsewhere in the file may rightly show
        checked += 1
        for p in build_proposals(pyrepo, hole):
            if p.kind.source == "current":
                assert target not in p.text, (line, p.kind)
    assert checked >= 5


def test_unsupported_file_is_rejected(pyrepo):
    with pytest.raises(ValueError):
        build_proposals(pyrepo, hole_at("pyproject.toml", "x = 1\n", 0, 0))


# --- Java ----------------------------------------------------------------------------------
def test_java_parent_class_and_siblings_of_circle(javarepo):
    # Circle.java line 14: `        return Math.PI * radius * radius;`
    hole = hole_in(javarepo, f"{JAVA_PKG}/Circle.java", 14, 15)
    assert hole.target == "Math.PI * radius * radius;"
    texts = proposals_by_id(javarepo, hole)
    # `extends Shape` resolves in the same package; Comparable is not in the repository.
    # Signatures stop before the body, without the `;` of an abstract method.
    assert texts[kind_id("parent_class", "method_names")] == f"""\
// {JAVA_PKG}/Shape.java
protected Shape(String label)
public abstract double area()
public String describe()"""
    assert texts[kind_id("parent_class", "method_names_and_bodies")] == f"""\
// {JAVA_PKG}/Shape.java
    protected Shape(String label) {{
        this.label = label;
    }}
    public abstract double area();
    public String describe() {{
        return label + " with area " + area();
    }}"""
    # Square.java shares `import java.util.Locale` with Circle.java, Shape.java shares none.
    assert ranked(javarepo, hole)["sibling"] == [f"{JAVA_PKG}/Square.java", f"{JAVA_PKG}/Shape.java"]
    assert texts[kind_id("sibling", "field_declarations")] == f"""\
// {JAVA_PKG}/Shape.java
protected final String label;
// {JAVA_PKG}/Square.java
private final double side;"""
    assert texts[kind_id("sibling", "string_literals")] == f"""\
// {JAVA_PKG}/Shape.java
" with area "
// {JAVA_PKG}/Square.java
"square" "square(s=%.2f)\""""
    # Current: after the hole, `Circle` and `String` are type identifiers; `String` in
    # `String.format` is an identifier too.
    assert texts[kind_id("current", "identifiers")] == f"""\
// {JAVA_PKG}/Circle.java
Override compareTo other Double compare radius format String Locale ROOT"""
    assert texts[kind_id("current", "method_names")] == f"""\
// {JAVA_PKG}/Circle.java
@Override public int compareTo(Circle other)
public String format()"""


def test_java_imports_and_similar_names_of_the_renderer(javarepo):
    path = f"{JAVA_PKG}/render/ShapeRenderer.java"
    # line 14: `            out.append("  ").append(shape.describe()).append('\n');`
    hole = hole_in(javarepo, path, 14, 12)
    ranks = ranked(javarepo, hole)
    # Shape is used as a type on line 13, ShapeUtils on line 16; java.util.List is external.
    assert ranks["import"] == [f"{JAVA_PKG}/Shape.java", f"{JAVA_PKG}/util/ShapeUtils.java"]
    texts = proposals_by_id(javarepo, hole)
    assert texts[kind_id("import", "identifiers")] == f"""\
// {JAVA_PKG}/util/ShapeUtils.java
com acme shapes util Shape java List ShapeUtils totalArea total shape area
// {JAVA_PKG}/Shape.java
com acme shapes Shape label area describe"""
    # Similar name: the part "shape"; ShapeUtils.java shares two imports (Shape, List).
    assert ranks["similar_name"] == [f"{JAVA_PKG}/util/ShapeUtils.java", f"{JAVA_PKG}/Shape.java"]
    assert texts[kind_id("similar_name", "method_names")] == f"""\
// {JAVA_PKG}/Shape.java
protected Shape(String label)
public abstract double area()
public String describe()
// {JAVA_PKG}/util/ShapeUtils.java
private ShapeUtils()
public static double totalArea(List<? extends Shape> shapes)"""
    # Two lines further down ShapeUtils (line 16) is nearer than Shape (line 13).
    later = hole_in(javarepo, path, 17, 8)
    assert ranked(javarepo, later)["import"] == [f"{JAVA_PKG}/util/ShapeUtils.java", f"{JAVA_PKG}/Shape.java"]


def test_java_child_classes_of_shape(javarepo):
    # Shape.java line 12: `        return label + " with area " + area();`
    hole = hole_in(javarepo, f"{JAVA_PKG}/Shape.java", 12, 15)
    assert ranked(javarepo, hole)["child_class"] == [f"{JAVA_PKG}/Circle.java", f"{JAVA_PKG}/Square.java"]
    texts = proposals_by_id(javarepo, hole)
    assert texts[kind_id("child_class", "type_identifiers")] == f"""\
// {JAVA_PKG}/Square.java
Shape String
// {JAVA_PKG}/Circle.java
Shape Comparable Circle String"""
    assert texts[kind_id("child_class", "field_declarations")] == f"""\
// {JAVA_PKG}/Square.java
private final double side;
// {JAVA_PKG}/Circle.java
private final double radius;"""
    # The file's only string literal is the hole's target: no Current string literals.
    assert kind_id("current", "string_literals") not in texts
    assert texts[kind_id("current", "post_lines_25")] == f"// {JAVA_PKG}/Shape.java\n    }}\n}}\n"


# --- Siblings are exactly the files of the same directory ----------------------------------
def _reindex(repo: RepoView, files: dict[str, str]) -> None:
    from bowerbird.analysis.indexer import IndexOptions, index_repository

    for path, text in files.items():
        (Path(repo.root) / path).parent.mkdir(parents=True, exist_ok=True)
        (Path(repo.root) / path).write_text(text)
    index_repository(repo.store, IndexOptions(workers=1))
    repo.invalidate()


def test_siblings_in_a_dot_directory(indexed_repo):
    pyrepo = indexed_repo("pyrepo")
    # `.github` must not be read as `github`.
    _reindex(pyrepo, {".github/check.py": "import sys\nCHECKS = 1\n", ".github/lint.py": "RULES = 2\n",
                      "github/other.py": "OTHER = 3\n"})
    hole = hole_in(pyrepo, ".github/check.py", 1, 9)
    assert ranked(pyrepo, hole)["sibling"] == [".github/lint.py"]


def test_siblings_of_a_top_level_file(indexed_repo):
    pyrepo = indexed_repo("pyrepo")
    _reindex(pyrepo, {"setup.py": "import sys\nNAME = 'shapes'\n", "noxfile.py": "import sys\n"})
    assert ranked(pyrepo, hole_in(pyrepo, "setup.py", 1, 7))["sibling"] == ["noxfile.py"]


def test_siblings_are_case_sensitive(indexed_repo):
    pyrepo = indexed_repo("pyrepo")
    root = Path(pyrepo.root)
    (root / "Tools").mkdir()
    if (root / "tools").exists():
        pytest.skip("case-insensitive file system")
    _reindex(pyrepo, {"Tools/a.py": "A = 1\n", "tools/b.py": "B = 2\n", "tools/c.py": "C = 3\n"})
    assert ranked(pyrepo, hole_in(pyrepo, "tools/b.py", 0, 2))["sibling"] == ["tools/c.py"]


def test_post_lines_proposals_keep_the_lines_next_to_the_hole_within_their_own_share(pyrepo):
    proposals = build_proposals(pyrepo, hole_in(pyrepo, *CIRCLE_AREA), ProposalOptions(prompt_tokens=400))
    layout = {p.kind.id: (p.share, p.keep) for p in proposals}
    assert layout[kind_id("current", "post_lines_75")] == (0.75, "front")
    assert layout[kind_id("current", "post_lines_25")] == (0.25, "front")
    assert layout[kind_id("current", "identifiers")] == (0.5, "back")
    assert layout[62] == (0.5, "back")
