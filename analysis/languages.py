"""The languages Bowerbird indexes: file extensions, grammars, tag queries, comment syntax.

Grammars and queries are loaded lazily and cached per process, so importing this module is
cheap and worker processes each build their own parser.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath

import tree_sitter


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # "python" or "java"
    extensions: tuple[str, ...]  # file suffixes, with the dot
    line_comments: tuple[str, ...]  # prefixes that make a stripped line a comment
    header_comment: str  # how a proposal heads a file's context with its path


PYTHON = LanguageSpec("python", (".py",), ("#",), "#")
JAVA = LanguageSpec("java", (".java",), ("//", "/*", "*", "*/"), "//")
LANGUAGES: dict[str, LanguageSpec] = {spec.name: spec for spec in (PYTHON, JAVA)}
_BY_EXTENSION = {ext: spec for spec in LANGUAGES.values() for ext in spec.extensions}


def language_for_path(path: str) -> LanguageSpec | None:
    """The language of a file by its extension, or None when Bowerbird does not index it."""
    return _BY_EXTENSION.get(PurePosixPath(path).suffix)


@functools.cache
def grammar(name: str) -> tree_sitter.Language:
    if name == "python":
        import tree_sitter_python as module
    elif name == "java":
        import tree_sitter_java as module
    else:
        raise ValueError(f"no grammar for language {name!r}")
    return tree_sitter.Language(module.language())


@functools.cache
def parser(name: str) -> tree_sitter.Parser:
    return tree_sitter.Parser(grammar(name))


@functools.cache
def tag_query(name: str) -> tree_sitter.Query:
    """The tag query of a language, read from `queries/<name>.scm`."""
    source = resources.files("bowerbird.analysis").joinpath(f"queries/{name}.scm").read_text()
    return tree_sitter.Query(grammar(name), source)
