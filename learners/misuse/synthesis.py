"""Synthesized variable misuses (GREAT / BugLab style): one function's code, one wrong variable.

A file's functions are cut out of it (`file_functions`: every ``def``, nested ones and methods
included, decorators kept, dedented); each function alone is analysed (`analyse`) with the
program-graph builder's own syntax walk, access kinds and control flow (`analysis/graphs`) and
libcst's scopes (``ScopeProvider``); `synthesize` then keeps it clean or writes one wrong
variable at one read, deterministically given a `random.Random`.

The rules:

- *Local variables* of a function: the names bound in its own scope (libcst) only by plain
  bindings — parameters and assignment / augmented / annotated / ``for`` / ``with`` /
  ``except`` / walrus targets. Never ``self`` or ``cls``, never a name bound by ``import``,
  ``def`` or ``class`` (so never a module or function), never a name declared ``global`` or
  ``nonlocal`` there, never a builtin or a global.
- A ``Name`` *refers to* a local variable ``v`` when its text is ``v``, it is a variable access in
  the program graph (``Access`` not NONE) and its libcst scope is the function's scope, or a
  comprehension or class scope inside it none of which binds ``v`` itself. Names in nested
  functions' bodies and lambdas' bodies are not part of the function's graph (or not accesses).
- A *bug site* is a ``Name`` that reads (``Access.READ``; not an augmented-assignment target)
  and refers to a local variable (the *correct* one) that has at least one other referring Name.
- A *replacement* at a site is another local variable that is not shadowed there (no
  comprehension or class scope around the site binds it) and is *bound before the site on some
  path*: a parameter, or a variable with a binding whose control-flow node reaches the site's
  control-flow node through at least one CFG_NEXT edge (the graph builder's control flow; inside
  one control-flow node reads come before writes, so a binding in the site's own statement
  counts only around a loop). A ``del`` is not a binding, nor is a bare annotation.
- The *repair targets* are the positions of every other Name referring to the correct variable
  (reads and writes, parameters included), in the buggy source's coordinates.
- A function with at least one site is buggy with probability ``buggy_share`` (one draw of the
  function's `random.Random`), at a site chosen uniformly, with a replacement chosen uniformly
  among that site's; a function without a site is always clean. Or (`paired_examples`, for
  training) it is kept clean *and* corrupted at several distinct sites.
"""

from __future__ import annotations

import io
import logging
import random
import tokenize
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    Assignment,
    ClassScope,
    ComprehensionScope,
    MetadataWrapper,
    Scope,
    ScopeProvider,
)

from bowerbird.analysis.graphs.access import classify_accesses
from bowerbird.analysis.graphs.build import ParsedModule, parse_source
from bowerbird.analysis.graphs.cfg import build_control_flow
from bowerbird.analysis.graphs.edges import owners
from bowerbird.analysis.graphs.schema import Access, GraphError
from bowerbird.analysis.graphs.syntax import node_index, subtree_ends, walk_unit

from .data import Bug, MisuseExample

logger = logging.getLogger(__name__)

EXCLUDED_NAMES = frozenset({"self", "cls"})  # never a bug site, a replacement or a candidate
_TRANSPARENT_SCOPES = (ComprehensionScope, ClassScope)  # see "refers to" in the docstring
_BINDS = (Access.WRITE, Access.READ_WRITE)
_UNCOUNTED_TOKENS = frozenset({tokenize.ENCODING, tokenize.ENDMARKER, tokenize.NL, tokenize.COMMENT})


class FunctionTooLarge(Exception):
    """A function over the node cap (raised by `analyse` before the costly part)."""

    def __init__(self, nodes: int) -> None:
        super().__init__(f"{nodes} AST nodes")
        self.nodes = nodes


@dataclass(frozen=True)
class FunctionSource:
    """One ``def`` of a file, cut out so that it parses on its own."""

    qualname: str  # Python's __qualname__ inside the file ("C.m", "f.<locals>.g")
    line: int  # the file line where it starts (its first decorator, or the def)
    source: str  # its code, dedented (see `standalone_code`)


@dataclass(frozen=True)
class Site:
    """A read where a misuse can be written."""

    line: int  # 1-based line of the Name (source coordinates)
    col: int  # 0-based column (characters) of the Name
    correct: str  # the variable read there
    replacements: tuple[str, ...]  # the allowed wrong variables there, sorted (never empty)


@dataclass(frozen=True)
class FunctionAnalysis:
    """What the synthesis needs to know about one function."""

    nodes: int  # AST nodes of its program graph (SYNTAX + TOKEN)
    variables: tuple[str, ...]  # its local variables, sorted
    sites: tuple[Site, ...]  # the possible bug sites, in source order
    # each local variable's referring Names (line, col), in source order
    occurrences: Mapping[str, tuple[tuple[int, int], ...]]


# --- cutting functions out of a file ------------------------------------------------------------


def decode_source(data: bytes) -> str:
    """A Python file's text (its declared or default encoding; ``UnicodeDecodeError`` /
    ``SyntaxError`` when it cannot be decoded), line breaks made ``\\n``."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return normalize_newlines(text)


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` as ``\\n`` (libcst and the graphs count each as one line break)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def standalone_code(lines: list[str], first: int, last: int) -> str:
    """Lines ``first..last`` (1-based, inclusive) without the first line's indentation.

    Whitespace-only lines become empty and the indentation is removed from every line that
    starts with it, which is `textwrap.dedent`'s result whenever that one parses; lines that do
    not start with it (inside a multi-line string or brackets) are kept as they are.
    """
    region = lines[first - 1 : last]
    head = region[0]
    indent = head[: len(head) - len(head.lstrip(" \t"))]
    out = []
    for line in region:
        if not line.strip(" \t"):
            out.append("")
        elif line.startswith(indent):
            out.append(line[len(indent) :])
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def file_functions(text: str, path: str = "") -> list[FunctionSource]:
    """Every ``def`` of a module's text, in source order; `GraphError` when it does not parse."""
    text = normalize_newlines(text)
    parsed = parse_source(text, path)
    lines = text.split("\n")
    out = []
    for d in parsed.definitions:
        node = d.node
        first = parsed.positions.start(node.decorators[0] if node.decorators else node)[0]
        last = parsed.positions.end(node)[0]
        out.append(FunctionSource(d.qualname, first, standalone_code(lines, first, last)))
    return out


def count_tokens(source: str) -> int:
    """Python `tokenize` tokens of ``source``, without ENCODING, ENDMARKER, NL and COMMENT (so
    NEWLINE, INDENT and DEDENT count). `tokenize.TokenError` / `SyntaxError` when it cannot."""
    readline = io.StringIO(source).readline
    return sum(1 for t in tokenize.generate_tokens(readline) if t.type not in _UNCOUNTED_TOKENS)


# --- analysing one function ----------------------------------------------------------------------


def _function_root(source: str) -> tuple[ParsedModule, cst.FunctionDef]:
    """(parsed module, its one FunctionDef) of a function's code; ValueError when it is not one
    function."""
    parsed = parse_source(source)  # GraphError when libcst cannot parse it
    body = parsed.module.body
    if len(body) != 1 or type(body[0]) is not cst.FunctionDef:
        raise ValueError("the source is not one function definition")
    return parsed, body[0]


def analyse(source: str, max_nodes: int | None = None) -> FunctionAnalysis:
    """Local variables, bug sites and occurrences of a function's code (see the module's rules).

    Raises `GraphError` when the code does not parse, `ValueError` when it is not exactly one
    ``def``, `FunctionTooLarge` when its graph has more than ``max_nodes`` AST nodes.
    """
    parsed, root = _function_root(source)
    items = walk_unit(root)  # the graph's SYNTAX and TOKEN nodes, ids = indices
    if max_nodes is not None and len(items) > max_nodes:
        raise FunctionTooLarge(len(items))
    accesses = classify_accesses(items)
    index = node_index(items)
    flow = build_control_flow(items, index, subtree_ends(items))
    scopes = MetadataWrapper(parsed.module, unsafe_skip_copy=True).resolve(ScopeProvider)
    function_scope = scopes[root.params]

    bindings: dict[str, list[Assignment]] = {}
    for assignment in function_scope.assignments:
        bindings.setdefault(assignment.name, []).append(assignment)
    variables = {
        name for name, found in bindings.items()
        if name not in EXCLUDED_NAMES
        and all(type(a) is Assignment and isinstance(a.node, (cst.Name, cst.Param)) for a in found)
    }  # fmt: skip

    shadows = _Shadows(scopes, function_scope)
    referring: list[int] = []  # items: Names referring to a local variable
    for i, item in enumerate(items):
        node = item.node
        if type(node) is cst.Name and accesses[i] is not Access.NONE and node.value in variables:
            shadow = shadows.around(node)
            if shadow is not None and node.value not in shadow:
                referring.append(i)
    positions = dict(zip(referring, parsed.positions.starts([items[i].node for i in referring])))
    occurrences: dict[str, list[tuple[int, int]]] = {name: [] for name in variables}
    for i in referring:
        occurrences[items[i].node.value].append(positions[i])  # type: ignore[attr-defined]

    # where each variable is bound: at entry (parameters) or at control-flow nodes
    owner = owners(items, flow.nodes, list(range(len(items))))  # item -> its control-flow node
    parameters = {n for n in variables if any(isinstance(a.node, cst.Param) for a in bindings[n])}
    bound_at: dict[str, set[int]] = {}
    for name in variables:
        places = set()
        for a in bindings[name]:
            i = index.get(id(a.node))
            if i is not None and type(a.node) is cst.Name and accesses[i] in _BINDS:
                places.add(owner[i])
        bound_at[name] = places
    reach = _Reachability(flow.edges)

    sites = []
    for i in referring:
        correct = items[i].node.value  # type: ignore[attr-defined]
        if accesses[i] is not Access.READ or len(occurrences[correct]) < 2:
            continue
        shadow = shadows.around(items[i].node) or frozenset()
        here = owner[i]
        replacements = tuple(sorted(
            v for v in variables
            if v != correct and v not in shadow
            and (v in parameters or any(here in reach.after(b) for b in bound_at[v]))
        ))  # fmt: skip
        if replacements:
            line, col = positions[i]
            sites.append(Site(line, col, correct, replacements))
    return FunctionAnalysis(
        nodes=len(items),
        variables=tuple(sorted(variables)),
        sites=tuple(sites),
        occurrences={name: tuple(found) for name, found in sorted(occurrences.items())},
    )


class _Shadows:
    """For a Name: the names bound by the comprehension and class scopes between it and the
    function's scope, or None when it is not inside the function's scope that way."""

    def __init__(self, scopes: Mapping[cst.CSTNode, Scope], function_scope: Scope) -> None:
        self.scopes = scopes
        self.function_scope = function_scope
        self.cache: dict[int, frozenset[str] | None] = {id(function_scope): frozenset()}

    def around(self, node: cst.CSTNode) -> frozenset[str] | None:
        scope = self.scopes.get(node)
        if scope is None:
            return None
        return self._of(scope)

    def _of(self, scope: Scope) -> frozenset[str] | None:
        key = id(scope)
        if key not in self.cache:
            result = None
            if isinstance(scope, _TRANSPARENT_SCOPES) and scope.parent is not scope:
                outer = self._of(scope.parent)
                if outer is not None:
                    result = outer | {a.name for a in scope.assignments}
            self.cache[key] = result
        return self.cache[key]


class _Reachability:
    """Control-flow nodes reachable from a node through at least one edge (cached)."""

    def __init__(self, edges: frozenset[tuple[int, int]]) -> None:
        self.succ: dict[int, list[int]] = {}
        for u, v in edges:
            self.succ.setdefault(u, []).append(v)
        self.cache: dict[int, set[int]] = {}

    def after(self, start: int) -> set[int]:
        found = self.cache.get(start)
        if found is None:
            found = set()
            stack = list(self.succ.get(start, ()))
            while stack:
                n = stack.pop()
                if n not in found:
                    found.add(n)
                    stack.extend(self.succ.get(n, ()))
            self.cache[start] = found
        return found


# --- writing the bug -----------------------------------------------------------------------------


def replace_name(source: str, line: int, col: int, old: str, new: str) -> str:
    """``source`` with the name ``old`` at (line, col) replaced by ``new`` (ValueError if
    ``old`` is not there)."""
    lines = source.split("\n")
    if not 1 <= line <= len(lines) or lines[line - 1][col : col + len(old)] != old:
        raise ValueError(f"{old!r} is not at {line}:{col}")
    text = lines[line - 1]
    lines[line - 1] = text[:col] + new + text[col + len(old) :]
    return "\n".join(lines)


def synthesize(
    source: str,
    rng: random.Random,
    *,
    function: str = "",
    path: str = "",
    package: str = "",
    example_id: str | None = None,
    analysis: FunctionAnalysis | None = None,
    tokens: int | None = None,
    buggy_share: float = 0.5,
) -> MisuseExample:
    """One example of a function's code: clean, or with one misuse (see the module's rules).

    ``source`` is one function's code alone (as `file_functions` gives it); ``analysis`` and
    ``tokens``, when given, are `analyse(source)` and `count_tokens(source)`.
    """
    source, analysis, common = _prepared(source, analysis, tokens, example_id, path, function, package)
    if analysis.sites and rng.random() < buggy_share:
        site = rng.choice(analysis.sites)
        return _buggy(source, analysis, site, rng.choice(site.replacements), common)
    return _clean(source, analysis, common)


def paired_examples(
    source: str, rng: random.Random, bugs: int, *, function: str = "", path: str = "", package: str = "",
    example_id: str | None = None, analysis: FunctionAnalysis | None = None, tokens: int | None = None,
) -> list[MisuseExample]:  # fmt: skip
    """The function clean, then up to ``bugs`` buggy copies of it, each at a different bug site
    (chosen uniformly without repeats; a replacement chosen uniformly at each). Their ids are
    ``example_id`` for the clean one and ``example_id~k`` for the k-th buggy one. A function
    without a site gives its clean example only. Training on both versions of the same code
    shows the model exactly what the bug changed (the pairs of GREAT's and CuBERT's data)."""
    source, analysis, common = _prepared(source, analysis, tokens, example_id, path, function, package)
    examples = [_clean(source, analysis, common)]
    sites = list(analysis.sites)
    rng.shuffle(sites)
    for k, site in enumerate(sites[:bugs], start=1):
        wrong = rng.choice(site.replacements)
        examples.append(_buggy(source, analysis, site, wrong, {**common, "id": f"{common['id']}~{k}"}))
    return examples


def _prepared(
    source: str, analysis: FunctionAnalysis | None, tokens: int | None, example_id: str | None, path: str,
    function: str, package: str,
) -> tuple[str, FunctionAnalysis, dict]:  # fmt: skip
    """The source with normalised newlines, its analysis and the fields every example of it shares
    (what the caller did not pass is computed)."""
    source = normalize_newlines(source)
    if analysis is None:
        analysis = analyse(source)
    if tokens is None:
        tokens = count_tokens(source)
    example_id = example_id if example_id is not None else f"{path}:{function}"
    common = {"id": example_id, "package": package, "path": path, "function": function,
              "tokens": tokens, "nodes": analysis.nodes}  # fmt: skip
    return source, analysis, common


def _clean(source: str, analysis: FunctionAnalysis, common: dict) -> MisuseExample:
    return MisuseExample(source=source, bug=None, repair_targets=(), candidates=analysis.variables, **common)


def _buggy(source: str, analysis: FunctionAnalysis, site: Site, wrong: str, common: dict) -> MisuseExample:
    """``source`` with ``wrong`` read at ``site`` instead of its variable."""
    shift = len(wrong) - len(site.correct)  # later names on the site's line move by this
    targets = tuple(
        (line, col + shift if line == site.line and col > site.col else col)
        for line, col in analysis.occurrences[site.correct]
        if (line, col) != (site.line, site.col)
    )
    return MisuseExample(
        source=replace_name(source, site.line, site.col, site.correct, wrong),
        bug=Bug(site.line, site.col, wrong, site.correct),
        repair_targets=targets,
        candidates=tuple(sorted((site.correct, *site.replacements))),
        **common,
    )


# --- a whole file --------------------------------------------------------------------------------


def function_rng(seed: int, example_id: str) -> random.Random:
    """The random draws of one function: they depend on the seed and its id only, so a function's
    example does not change when other files are added, removed or capped."""
    return random.Random(f"{seed}:{example_id}")


def file_examples(
    text: str, path: str, package: str, seed: int, max_tokens: int = 512, max_nodes: int = 256,
    buggy_share: float = 0.5, keep_not_corruptible: bool = True, limit: int | None = None,
    bugs_per_function: int = 0,
) -> tuple[list[MisuseExample], Counter]:  # fmt: skip
    """The examples of one file's functions and what happened to them: counts of
    ``functions`` (every def), ``too_large_tokens`` (over ``max_tokens``; checked first),
    ``too_large_nodes`` (within the token cap, over ``max_nodes``), ``unusable`` (code the
    tokenizer or the analysis rejects), ``buggy``, ``clean`` and ``not_corruptible`` (functions
    without a bug site: clean examples, or left out when ``keep_not_corruptible`` is False).
    With ``limit``, it stops after that many examples (the counts cover the functions read; a
    function's paired examples stay together, so the last may go past it).
    With ``bugs_per_function`` B > 0, each function with a bug site gives `paired_examples`
    (itself clean and B buggy copies) instead of one draw of `synthesize`.
    Raises `GraphError` when the file does not parse."""
    counts: Counter = Counter()
    examples: list[MisuseExample] = []
    seen: Counter = Counter()
    for function in file_functions(text, path):
        if limit is not None and len(examples) >= limit:
            break
        counts["functions"] += 1
        seen[function.qualname] += 1
        repeat = seen[function.qualname]
        example_id = f"{path}:{function.qualname}" + (f"#{repeat}" if repeat > 1 else "")
        try:
            tokens = count_tokens(function.source)
        except (tokenize.TokenError, SyntaxError):
            counts["unusable"] += 1
            continue
        if tokens > max_tokens:
            counts["too_large_tokens"] += 1
            continue
        try:
            analysis = analyse(function.source, max_nodes)
        except FunctionTooLarge:
            counts["too_large_nodes"] += 1
            continue
        except (GraphError, ValueError, RecursionError) as error:
            counts["unusable"] += 1
            logger.debug("%s: %s", example_id, error)
            continue
        if not analysis.sites:
            counts["not_corruptible"] += 1
            if not keep_not_corruptible:
                continue
        rng = function_rng(seed, example_id)
        where = {"function": function.qualname, "path": path, "package": package, "example_id": example_id,
                 "analysis": analysis, "tokens": tokens}  # fmt: skip
        if bugs_per_function > 0 and analysis.sites:
            found = paired_examples(function.source, rng, bugs_per_function, **where)
        else:
            found = [synthesize(function.source, rng, buggy_share=buggy_share, **where)]
        for example in found:
            counts["buggy" if example.bug is not None else "clean"] += 1
        examples.extend(found)
    return examples, counts
