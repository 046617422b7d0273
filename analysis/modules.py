"""Module names of repository files, and resolution of imports and base classes to files.

A Python file is importable under several names: the dotted chain of its enclosing packages
(directories with `__init__.py`), and its path from the root (with a leading `src/` dropped,
for src layouts and namespace packages). A Java file is importable as `package.ClassName`.
Resolution depends only on the importing file's own facts and on the set of files, so it is
redone for every file when files appear or disappear, and for the changed files otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from bowerbird.analysis.facts import ClassInfo, FileFacts, Import

SOURCE_ROOTS = ("src", "lib", "src/main/java", "src/test/java")


def python_module_names(path: str, paths: frozenset[str], root_name: str = "") -> list[str]:
    """Dotted names under which the Python file `path` can be imported, most specific first.

    When the root itself is a package (it has `__init__.py`), chains start at its name."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    names = []
    # The package chain: walk up while the directory is a package.
    dirs = list(PurePosixPath(path).parent.parts)
    chain = [] if PurePosixPath(path).name == "__init__.py" else [parts[-1]]
    while dirs and "/".join([*dirs, "__init__.py"]) in paths:
        chain.insert(0, dirs.pop())
    if not dirs and root_name.isidentifier() and "__init__.py" in paths:
        chain.insert(0, root_name)
    # A module in a folder that is not a package is importable by its bare name only from
    # that folder (a script's folder is first on sys.path): a scoped name "folder:name".
    scoped = bool(dirs) and len(chain) == 1
    if chain and not scoped:
        names.append(".".join(chain))
    for prefix in ("", *SOURCE_ROOTS):
        pre = prefix.split("/") if prefix else []
        if parts[: len(pre)] == pre and len(parts) > len(pre):
            names.append(".".join(parts[len(pre) :]))
    if scoped:
        names.append(scoped_name("/".join(dirs), chain[0]))
    return list(dict.fromkeys(names))


def scoped_name(directory: str, name: str) -> str:
    return f"{directory}:{name}"


def java_module_names(path: str, package: str | None) -> list[str]:
    stem = PurePosixPath(path).stem
    return [f"{package}.{stem}" if package else stem]


def module_names(path: str, facts: FileFacts, paths: frozenset[str], root_name: str = "") -> list[str]:
    if facts.language == "java":
        return java_module_names(path, facts.package)
    return python_module_names(path, paths, root_name)


class ModuleMap:
    """Which files answer to a dotted module name."""

    def __init__(self, names: dict[str, list[str]], paths: Iterable[str]):
        self._by_name: dict[str, list[str]] = defaultdict(list)
        for path, module_list in names.items():
            for name in module_list:
                self._by_name[name].append(path)
        self.paths = frozenset(paths)

    def lookup(self, name: str, importer: str) -> str | None:
        """The file of module `name`: a module of the importer's own folder first (the
        script-folder rule); of several, the one nearest the importing file, packages
        before same-named modules."""
        local = self._by_name.get(scoped_name(str(PurePosixPath(importer).parent), name))
        found = local or self._by_name.get(name)
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        return min(found, key=lambda p: (-_shared_prefix(p, importer), not p.endswith("/__init__.py"), p))

    def lookup_prefix(self, name: str, importer: str) -> str | None:
        """The file of the longest importable prefix of `name` (`os.path` -> `os`)."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            found = self.lookup(".".join(parts[:end]), importer)
            if found:
                return found
        return None

    def module_at(self, directory: PurePosixPath, dotted: str) -> str | None:
        """The file of a module given relative to a directory (relative imports)."""
        base = directory.joinpath(*dotted.split(".")) if dotted else directory
        # A package shadows a module of the same name (as in Python's FileFinder), and the
        # directory itself (`from . import x`) can only be its own package.
        candidates = (f"{base}/__init__.py", f"{base}.py") if dotted else (f"{base}/__init__.py",)
        for candidate in candidates:
            candidate = candidate.removeprefix("./")
            if candidate in self.paths:
                return candidate
        return None


@dataclass(frozen=True)
class Resolution:
    target: str  # absolute dotted module (or path-based for unresolvable relative imports)
    path: str | None  # repository file the import refers to, if any


def resolve_import(imp: Import, importer: str, facts: FileFacts, modules: ModuleMap) -> Resolution:
    """The module an import refers to and, where it is in the repository, its file."""
    if facts.language == "java":
        if imp.name == "*":
            return Resolution(imp.module, None)
        full = f"{imp.module}.{imp.name}"
        return Resolution(full, modules.lookup_prefix(full, importer))
    if imp.level:
        directory = PurePosixPath(importer).parent
        for _ in range(imp.level - 1):
            directory = directory.parent
        dotted = ".".join(p for p in (*directory.parts, imp.module) if p and p != ".")
        if imp.name and imp.name != "*":
            sub = modules.module_at(directory, f"{imp.module}.{imp.name}".strip("."))
            if sub:
                return Resolution(f"{dotted}.{imp.name}", sub)
        return Resolution(dotted, modules.module_at(directory, imp.module))
    if imp.name and imp.name != "*":
        sub = modules.lookup(f"{imp.module}.{imp.name}", importer)
        if sub:
            return Resolution(f"{imp.module}.{imp.name}", sub)
    return Resolution(imp.module, modules.lookup_prefix(imp.module, importer))


def resolve_base(
    base: str, importer: str, facts: FileFacts, resolved: list[Resolution], modules: ModuleMap
) -> str | None:
    """The file that defines base class `base` of a class in `importer`, where it can be told.

    `resolved` holds the resolution of each of `facts.imports`, in order.
    """
    first, _, rest = base.partition(".")
    own_classes = {c.name for c in facts.classes}
    if not rest and first in own_classes:
        return importer
    if facts.language == "java":
        return _resolve_java_base(base, importer, facts, resolved, modules)
    for imp, res in zip(facts.imports, resolved):
        if imp.bound != first:
            continue
        if imp.name or not rest:  # `from m import X` / `import X`
            return res.path
        module = imp.module if imp.alias else first
        qualifier = ".".join(p for p in (module, rest.rpartition(".")[0]) if p)
        return modules.lookup_prefix(qualifier, importer)
    for imp, res in zip(facts.imports, resolved):  # `from m import *` may provide it
        if imp.name == "*" and res.path and not rest:
            return res.path
    return None


def _resolve_java_base(
    base: str, importer: str, facts: FileFacts, resolved: list[Resolution], modules: ModuleMap
) -> str | None:
    if "." in base:
        return modules.lookup_prefix(base, importer)
    for imp, res in zip(facts.imports, resolved):
        if imp.name == base:
            return res.path
    if facts.package:
        same_package = modules.lookup(f"{facts.package}.{base}", importer)
        if same_package:
            return same_package
    for imp in facts.imports:
        if imp.name == "*":
            found = modules.lookup(f"{imp.module}.{base}", importer)
            if found:
                return found
    return None


def enclosing_class(classes: Iterable[ClassInfo], line: int) -> ClassInfo | None:
    """The innermost class whose definition spans `line`."""
    inside = [c for c in classes if c.line <= line <= c.end_line]
    return max(inside, key=lambda c: c.line, default=None)


def _shared_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a.split("/"), b.split("/")):
        if x != y:
            break
        count += 1
    return count
