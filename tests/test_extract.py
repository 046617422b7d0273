"""Facts extracted by tree-sitter from Python and Java sources."""

from textwrap import dedent

from bowerbird.analysis.extract import parse_source
from bowerbird.analysis.facts import FileFacts, Import

PYTHON = dedent(
    '''\
    """Module docstring."""
    import os.path as osp, sys
    from . import sibling
    from ..pkg.mod import (A as B, C)
    from x import *

    class K(Base, m.Other, Generic[T], metaclass=Meta):
        """Class docstring."""
        limit: int = 3

        def __init__(self, a: Optional[List[int]]) -> None:
            self.name = "hello"

        @property
        async def size(self): return 'q'

    def top(a, b=2):
        class Inner(K):
            pass
        return a
    '''
).encode()


def test_python_imports_keep_module_name_alias_and_level():
    facts = parse_source("python", PYTHON)
    assert facts.imports == (
        Import("os.path", None, "osp", 0, 1),
        Import("sys", None, None, 0, 1),
        Import("", "sibling", None, 1, 2),
        Import("pkg.mod", "A", "B", 2, 3),
        Import("pkg.mod", "C", None, 2, 3),
        Import("x", "*", None, 0, 4),
    )
    assert [imp.bound for imp in facts.imports] == ["osp", "sys", "sibling", "B", "C", None]


def test_python_classes_have_bases_without_keywords_or_generics():
    facts = parse_source("python", PYTHON)
    assert [(c.qualname, c.bases, c.line, c.end_line) for c in facts.classes] == [
        ("K", ("Base", "m.Other", "Generic"), 6, 14),
        ("top.Inner", ("K",), 17, 18),
    ]


def test_python_functions_have_signatures_and_method_flags():
    facts = parse_source("python", PYTHON)
    assert [(f.qualname, f.is_method, f.signature) for f in facts.functions] == [
        ("K.__init__", True, "def __init__(self, a: Optional[List[int]]) -> None:"),
        ("K.size", True, "async def size(self):"),
        ("top", False, "def top(a, b=2):"),
    ]
    assert facts.functions[0].text.startswith("    def __init__(self")
    assert facts.functions[2].text == "def top(a, b=2):\n    class Inner(K):\n        pass\n    return a"


def test_python_fields_types_and_strings():
    facts = parse_source("python", PYTHON)
    assert [f.text for f in facts.fields] == ["limit: int = 3", 'self.name = "hello"']
    types = [t.text for t in facts.type_identifiers]
    assert types == ["Base", "m", "Other", "Generic", "T", "int", "Optional", "List", "int", "K"]
    assert "Meta" not in types  # metaclass=Meta is a keyword, not a base
    assert types.count("List") == 1  # nested annotation nodes are not counted twice
    # Docstrings are not string literals.
    assert [s.text for s in facts.string_literals] == ['"hello"', "'q'"]


def test_compact_facts_round_trip_through_blob_and_dedupe_names():
    facts = parse_source("python", PYTHON).compact()
    assert FileFacts.from_blob(facts.to_blob()) == facts
    assert facts.identifiers.count("self") == 1
    assert facts.identifiers[:4] == ("os", "path", "osp", "sys")


def test_python_syntax_error_keeps_the_well_formed_parts():
    facts = parse_source("python", b"def broken(:\n    pass\n\nclass Fine(Base):\n    x = 1\n")
    assert [c.name for c in facts.classes] == ["Fine"]
    assert [f.text for f in facts.fields] == ["x = 1"]


JAVA = dedent(
    """\
    package com.acme.shapes;
    import java.util.List;
    import static java.lang.Math.max;
    import com.acme.base.*;
    public class Circle extends Shape implements Comparable<Circle>, Drawable {
      private final double radius = 1.0;
      public Circle(double r) { this.radius = r; }
      @Override public List<String> names(int a) throws Exception { return List.of("x"); }
      static class Inner extends a.b.C {}
    }
    interface Drawable extends Foo { void draw(); }
    """
).encode()


def test_java_package_imports_and_classes():
    facts = parse_source("java", JAVA)
    assert facts.package == "com.acme.shapes"
    assert facts.imports == (
        Import("java.util", "List", None, 0, 1),
        Import("java.lang.Math", "max", None, 0, 2),
        Import("com.acme.base", "*", None, 0, 3),
    )
    assert [(c.qualname, c.bases) for c in facts.classes] == [
        ("Circle", ("Shape", "Comparable", "Drawable")),
        ("Circle.Inner", ("a.b.C",)),
        ("Drawable", ("Foo",)),
    ]


def test_java_methods_fields_and_literals():
    facts = parse_source("java", JAVA)
    assert [f.signature for f in facts.functions] == [
        "public Circle(double r)",
        "@Override public List<String> names(int a) throws Exception",
        "void draw()",
    ]
    assert [f.text for f in facts.fields] == ["private final double radius = 1.0;"]
    assert [s.text for s in facts.string_literals] == ['"x"']
    assert "Shape" in [t.text for t in facts.type_identifiers]
