"""Module names of files, and resolution of imports and base classes to files."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from bowerbird.analysis.extract import parse_source
from bowerbird.analysis.facts import ClassInfo, FileFacts
from bowerbird.analysis.modules import (
    ModuleMap,
    Resolution,
    enclosing_class,
    java_module_names,
    module_names,
    python_module_names,
    resolve_base,
    resolve_import,
)

PY_PATHS = frozenset({
    "shapes/__init__.py",
    "shapes/base.py",
    "shapes/circle.py",
    "shapes/geometry.py",
    "shapes/sub/__init__.py",
    "shapes/sub/deep.py",
    "scripts/report.py",
    "src/pkg/__init__.py",
    "src/pkg/mod.py",
    "src/pkg/util/__init__.py",
    "src/ns/tool.py",
    "setup.py",
})


def modules_of(paths: frozenset[str], sources: dict[str, str] | None = None, root_name: str = "") -> ModuleMap:
    """A ModuleMap as linking builds it (Java files need their source for the package)."""
    sources = sources or {}
    names = {}
    for path in paths:
        language = "java" if path.endswith(".java") else "python"
        facts = parse_source(language, sources.get(path, "").encode()).compact()
        names[path] = module_names(path, facts, paths, root_name)
    return ModuleMap(names, paths)


def facts_of(source: str, language: str = "python") -> FileFacts:
    return parse_source(language, source.encode()).compact()


def resolve_all(source: str, importer: str, modules: ModuleMap, language: str = "python") -> list[Resolution]:
    facts = facts_of(source, language)
    return [resolve_import(imp, importer, facts, modules) for imp in facts.imports]


def base_file(source: str, importer: str, modules: ModuleMap, language: str = "python") -> str | None:
    """The file of the (single) base of the last class of `source`."""
    facts = facts_of(source, language)
    resolved = [resolve_import(imp, importer, facts, modules) for imp in facts.imports]
    (base,) = facts.classes[-1].bases
    return resolve_base(base, importer, facts, resolved, modules)


# --- python_module_names -------------------------------------------------------------------
@pytest.mark.parametrize("path,names", [
    ("shapes/circle.py", ["shapes.circle"]),
    ("shapes/__init__.py", ["shapes"]),
    ("shapes/sub/deep.py", ["shapes.sub.deep"]),
    ("shapes/sub/__init__.py", ["shapes.sub"]),
    # src layout: the package chain stops below src/, the path from the root is kept too.
    ("src/pkg/mod.py", ["pkg.mod", "src.pkg.mod"]),
    ("src/pkg/util/__init__.py", ["pkg.util", "src.pkg.util"]),
    ("setup.py", ["setup"]),
])
def test_python_module_names(path, names):
    assert python_module_names(path, PY_PATHS) == names


def test_python_module_names_outside_packages():
    # A namespace package under src/ and a scripts folder: the path from the root (src/
    # dropped), and the bare module name scoped to the script's own folder.
    assert python_module_names("src/ns/tool.py", PY_PATHS) == ["src.ns.tool", "ns.tool", "src/ns:tool"]
    assert python_module_names("scripts/report.py", PY_PATHS) == ["scripts.report", "scripts:report"]


def test_bare_names_of_script_folders_resolve_only_from_that_folder():
    paths = ["scripts/json.py", "scripts/run.py", "app/__init__.py", "app/main.py"]
    names = {p: python_module_names(p, frozenset(paths)) for p in paths}
    modules = ModuleMap(names, paths)
    assert modules.lookup("json", "scripts/run.py") == "scripts/json.py"
    assert modules.lookup("json", "app/main.py") is None  # the standard library's json
    assert modules.lookup("scripts.json", "app/main.py") == "scripts/json.py"


def test_a_package_wins_over_a_same_named_module():
    paths = ["pkg.py", "pkg/__init__.py"]
    modules = ModuleMap({"pkg.py": ["pkg"], "pkg/__init__.py": ["pkg"]}, paths)
    assert modules.lookup("pkg", "main.py") == "pkg/__init__.py"


def test_python_module_names_of_a_root_package():
    paths = frozenset({"__init__.py", "core.py", "sub/__init__.py", "sub/x.py"})
    assert python_module_names("__init__.py", paths, "proj") == ["proj"]
    assert python_module_names("core.py", paths, "proj") == ["proj.core", "core"]
    assert python_module_names("sub/x.py", paths, "proj") == ["proj.sub.x", "sub.x"]
    # A root whose name is not an identifier cannot be imported as a package.
    assert python_module_names("core.py", paths, "my-proj") == ["core"]
    # Without __init__.py at the root the root name plays no part.
    assert python_module_names("sub/x.py", paths - {"__init__.py"}, "proj") == ["sub.x"]


def test_java_module_names():
    assert java_module_names("src/main/java/com/acme/shapes/Circle.java", "com.acme.shapes") == [
        "com.acme.shapes.Circle"
    ]
    assert java_module_names("Main.java", None) == ["Main"]
    facts = facts_of("package com.acme;\nclass A {}\n", "java")
    assert module_names("any/dir/A.java", facts, frozenset()) == ["com.acme.A"]


# --- ModuleMap -----------------------------------------------------------------------------
def test_module_map_lookup():
    modules = modules_of(PY_PATHS)
    assert modules.lookup("shapes.geometry", "x.py") == "shapes/geometry.py"
    assert modules.lookup("pkg.mod", "x.py") == "src/pkg/mod.py"
    assert modules.lookup("shapes.missing", "x.py") is None
    # Longest importable prefix: `os.path` style.
    assert modules.lookup_prefix("shapes.geometry.Point", "x.py") == "shapes/geometry.py"
    assert modules.lookup_prefix("shapes.missing.thing", "x.py") == "shapes/__init__.py"
    assert modules.lookup_prefix("os.path", "x.py") is None


def test_module_map_prefers_the_file_nearest_the_importer():
    names = {"a/util.py": ["util"], "b/util.py": ["util"], "c/util.py": ["util"]}
    modules = ModuleMap(names, names)
    assert modules.lookup("util", "b/main.py") == "b/util.py"
    assert modules.lookup("util", "c/x/main.py") == "c/util.py"
    assert modules.lookup("util", "main.py") == "a/util.py"  # a tie keeps path order


def test_module_at():
    modules = modules_of(PY_PATHS)
    assert modules.module_at(PurePosixPath("shapes"), "base") == "shapes/base.py"
    assert modules.module_at(PurePosixPath("shapes"), "sub") == "shapes/sub/__init__.py"
    assert modules.module_at(PurePosixPath("shapes"), "") == "shapes/__init__.py"
    assert modules.module_at(PurePosixPath("shapes"), "sub.deep") == "shapes/sub/deep.py"
    assert modules.module_at(PurePosixPath("."), "setup") == "setup.py"
    assert modules.module_at(PurePosixPath("shapes"), "nothing") is None


def test_a_package_shadows_a_module_of_the_same_name():
    paths = frozenset({"pkg.py", "pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/b/__init__.py"})
    modules = modules_of(paths)
    # `from . import x` in pkg/a.py is about pkg/, never the pkg.py beside it.
    assert resolve_all("from . import helper\n", "pkg/a.py", modules) == [Resolution("pkg", "pkg/__init__.py")]
    assert resolve_all("from .b import x\n", "pkg/a.py", modules) == [Resolution("pkg.b", "pkg/b/__init__.py")]


# --- resolve_import ------------------------------------------------------------------------
def test_resolve_absolute_imports():
    modules = modules_of(PY_PATHS)
    source = "from shapes.base import Shape\nimport shapes.geometry\nimport os\nfrom shapes.base import *\n"
    assert resolve_all(source, "app.py", modules) == [
        Resolution("shapes.base", "shapes/base.py"),
        Resolution("shapes.geometry", "shapes/geometry.py"),
        Resolution("os", None),
        Resolution("shapes.base", "shapes/base.py"),
    ]


def test_resolve_import_of_a_dotted_module_takes_the_longest_known_prefix():
    modules = modules_of(PY_PATHS)
    assert resolve_all("import shapes.geometry.extra\nimport shapes.nothing as n\nimport os.path\n",
                       "app.py", modules) == [
        Resolution("shapes.geometry.extra", "shapes/geometry.py"),
        Resolution("shapes.nothing", "shapes/__init__.py"),
        Resolution("os.path", None),
    ]


def test_resolve_from_package_import_submodule():
    modules = modules_of(PY_PATHS)
    assert resolve_all("from shapes import geometry, Shape\nfrom shapes.sub import deep\n", "app.py", modules) == [
        Resolution("shapes.geometry", "shapes/geometry.py"),  # a submodule
        Resolution("shapes", "shapes/__init__.py"),  # a name defined in the package
        Resolution("shapes.sub.deep", "shapes/sub/deep.py"),
    ]


def test_resolve_relative_imports_level_1():
    modules = modules_of(PY_PATHS)
    source = "from .base import Shape\nfrom . import geometry\nfrom . import helper\nfrom .missing import x\n"
    assert resolve_all(source, "shapes/circle.py", modules) == [
        Resolution("shapes.base", "shapes/base.py"),
        Resolution("shapes.geometry", "shapes/geometry.py"),
        Resolution("shapes", "shapes/__init__.py"),
        Resolution("shapes.missing", None),
    ]


def test_resolve_relative_imports_level_2():
    modules = modules_of(PY_PATHS)
    source = "from ..base import Shape\nfrom .. import geometry\nfrom ..sub import deep\nfrom .. import *\n"
    assert resolve_all(source, "shapes/sub/deep.py", modules) == [
        Resolution("shapes.base", "shapes/base.py"),
        Resolution("shapes.geometry", "shapes/geometry.py"),
        Resolution("shapes.sub.deep", "shapes/sub/deep.py"),
        Resolution("shapes", "shapes/__init__.py"),
    ]


def test_resolve_imports_in_a_src_layout():
    modules = modules_of(PY_PATHS)
    assert resolve_all("from pkg import mod\nimport pkg.util\nfrom .mod import f\n", "src/pkg/x.py", modules) == [
        Resolution("pkg.mod", "src/pkg/mod.py"),
        Resolution("pkg.util", "src/pkg/util/__init__.py"),
        Resolution("src.pkg.mod", "src/pkg/mod.py"),  # relative targets are path based
    ]


def test_resolve_imports_of_a_root_package():
    paths = frozenset({"__init__.py", "core.py", "sub/__init__.py", "sub/x.py"})
    modules = modules_of(paths, root_name="proj")
    assert resolve_all("from proj.sub import x\nfrom proj import core\nimport proj\n", "sub/y.py", modules) == [
        Resolution("proj.sub.x", "sub/x.py"),
        Resolution("proj.core", "core.py"),
        Resolution("proj", "__init__.py"),
    ]


JAVA_SOURCES = {
    "src/main/java/com/acme/shapes/Shape.java": "package com.acme.shapes;\npublic abstract class Shape {}\n",
    "src/main/java/com/acme/shapes/Circle.java": "package com.acme.shapes;\npublic class Circle extends Shape {}\n",
    "src/main/java/com/acme/shapes/util/ShapeUtils.java":
        "package com.acme.shapes.util;\npublic final class ShapeUtils {}\n",
    "src/main/java/com/acme/other/Shape.java": "package com.acme.other;\npublic class Shape {}\n",
}
JAVA_PATHS = frozenset(JAVA_SOURCES)


def test_resolve_java_imports():
    modules = modules_of(JAVA_PATHS, JAVA_SOURCES)
    source = (
        "package com.acme.app;\n"
        "import com.acme.shapes.Shape;\n"
        "import com.acme.shapes.*;\n"
        "import java.util.List;\n"
        "import static com.acme.shapes.util.ShapeUtils.totalArea;\n"
        "class App {}\n"
    )
    assert resolve_all(source, "src/main/java/com/acme/app/App.java", modules, "java") == [
        Resolution("com.acme.shapes.Shape", "src/main/java/com/acme/shapes/Shape.java"),
        Resolution("com.acme.shapes", None),
        Resolution("java.util.List", None),
        Resolution("com.acme.shapes.util.ShapeUtils.totalArea", "src/main/java/com/acme/shapes/util/ShapeUtils.java"),
    ]


# --- resolve_base --------------------------------------------------------------------------
def test_resolve_base_in_the_same_file():
    modules = modules_of(PY_PATHS)
    assert base_file("class A:\n    pass\n\nclass B(A):\n    pass\n", "shapes/x.py", modules) == "shapes/x.py"


@pytest.mark.parametrize("source", [
    "from shapes.base import Shape\nclass C(Shape): pass\n",
    "from .base import Shape\nclass C(Shape): pass\n",
    "from shapes.base import Shape as S\nclass C(S): pass\n",
    "from shapes import base\nclass C(base.Shape): pass\n",
    "import shapes.base\nclass C(shapes.base.Shape): pass\n",
    "import shapes.base as sb\nclass C(sb.Shape): pass\n",
    "from shapes.base import *\nclass C(Shape): pass\n",
])
def test_resolve_python_base_through_imports(source):
    assert base_file(source, "shapes/circle.py", modules_of(PY_PATHS)) == "shapes/base.py"


@pytest.mark.parametrize("source", [
    "class C(object): pass\n",
    "from abc import ABC\nclass C(ABC): pass\n",
    "import collections.abc\nclass C(collections.abc.Mapping): pass\n",
])
def test_unresolvable_python_bases(source):
    assert base_file(source, "shapes/circle.py", modules_of(PY_PATHS)) is None


def test_resolve_java_base_in_the_same_package():
    modules = modules_of(JAVA_PATHS, JAVA_SOURCES)
    circle = "src/main/java/com/acme/shapes/Circle.java"
    assert base_file(JAVA_SOURCES[circle], circle, modules, "java") == "src/main/java/com/acme/shapes/Shape.java"


@pytest.mark.parametrize("source,expected", [
    # A single-type import beats the class of the same name in the importer's own package.
    ("package com.acme.other;\nimport com.acme.shapes.Shape;\nclass Square extends Shape {}\n",
     "src/main/java/com/acme/shapes/Shape.java"),
    ("package com.acme.other;\nclass Square extends Shape {}\n", "src/main/java/com/acme/other/Shape.java"),
    ("package com.acme.app;\nimport com.acme.shapes.*;\nclass Square extends Shape {}\n",
     "src/main/java/com/acme/shapes/Shape.java"),
    ("package com.acme.app;\nclass Square extends com.acme.shapes.Shape {}\n",
     "src/main/java/com/acme/shapes/Shape.java"),
    ("package com.acme.app;\nclass Square extends Shape {}\n", None),
    ("package com.acme.app;\nimport java.util.AbstractList;\nclass Square extends AbstractList<String> {}\n",
     None),
])
def test_resolve_java_base_through_imports(source, expected):
    modules = modules_of(JAVA_PATHS, JAVA_SOURCES)
    assert base_file(source, "src/main/java/com/acme/x/Square.java", modules, "java") == expected


def test_enclosing_class_is_the_innermost():
    outer = ClassInfo("Outer", "Outer", 0, 10, ())
    inner = ClassInfo("Inner", "Outer.Inner", 2, 5, ())
    assert enclosing_class([outer, inner], 3) is inner
    assert enclosing_class([outer, inner], 7) is outer
    assert enclosing_class([outer, inner], 11) is None


def test_the_fixture_index_resolves_like_the_functions(pyrepo):
    targets = pyrepo.store.import_targets(["shapes/circle.py", "scripts/shapeReport.py"])
    assert targets["shapes/circle.py"] == [
        ("math", None), ("shapes.geometry", "shapes/geometry.py"), ("shapes.base", "shapes/base.py"),
    ]
    assert targets["scripts/shapeReport.py"] == [
        ("sys", None), ("shapes", "shapes/__init__.py"), ("shapes", "shapes/__init__.py"),
        ("shapes.geometry", "shapes/geometry.py"), ("shapes.shape_render", "shapes/shape_render.py"),
    ]
    assert pyrepo.modules.lookup("shapes.unit_circle", "x.py") == "shapes/unit_circle.py"
