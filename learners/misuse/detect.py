"""Variable-misuse findings in one file: the core of `bowerbird check` (and of the server's
diagnostics), over a loaded model.

Every ``def`` of the file (`synthesis.file_functions`: methods and nested functions too, each
cut out on its own and dedented) is one unlabeled `MisuseExample`; its graph
(`graph_inputs.misuse_graph`, the model's edge set) goes through the model with the file's other
functions in one batched forward pass (``torch.no_grad``, ``model.eval()``). Per function:

- ``probability`` is GREAT's bug probability ``1 - p(no bug)`` from the localisation softmax, as
  it is (the quantity `evaluate.precision_threshold` calibrates a threshold on);
- the function's *variables* are the names its graph writes (parameters, assignment, ``for``,
  ``with``, ``except``, walrus targets: ``Access.WRITE`` / ``READ_WRITE``), except ``self``,
  ``cls`` and the names it binds by ``def`` / ``class`` / ``import`` or declares ``global`` /
  ``nonlocal`` — a cheap stand-in (no scope analysis) for the local variables of `synthesis`,
  the only bug sites and replacements of the training data: globals, builtins, modules and
  enclosing functions' variables are left out;
- the location is the *candidate read* with the highest localisation score: a read
  (``Access.READ`` / ``READ_WRITE``) of a variable, when the function has another variable to
  suggest. A function without a candidate read has no location: it is counted in
  ``without_reads`` and gives no `Finding`;
- ``suggestion`` is the variable with the highest repair probability, summed over its
  accesses (the repair head's training objective, `model.example_loss`), among the function's
  variables other than the one read there — never the suspicious name.

A nested function's body is not part of the enclosing function's graph (`walk_unit`), so each
read belongs to one graph; and in case two graphs ever held the same read, a read is a
candidate only in the first function (source order: the outer one) whose graph holds it, so no
place is reported twice.

Functions over ``max_tokens`` Python tokens (`synthesis.count_tokens`) or ``max_nodes`` graph AST
nodes — the caps of the training data — are skipped and counted (``too_large``); each function
is parsed once for the node cap and the names' positions, then its graph is built once.

Positions are the *file's*: ``line`` 1-based; ``col`` 1-based, the name's first character,
counted in characters (Unicode code points, a tab is one); ``end_line`` / ``end_col`` just after
the name (``end_col`` exclusive, 1-based: ``end_col - col == len(name)``), SARIF's region
convention. A cut-out function's line ``k`` is the file's line ``function.line + k - 1``, and its
columns move right by the indentation `synthesis.standalone_code` removed from that line (none
for the lines it kept as they were, inside multi-line strings or brackets).
"""

from __future__ import annotations

import logging
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
import torch

from bowerbird.analysis.graphs.access import classify_accesses
from bowerbird.analysis.graphs.build import parse_source
from bowerbird.analysis.graphs.schema import Access, GraphError
from bowerbird.analysis.graphs.syntax import walk_unit

from .data import MisuseExample
from .graph_inputs import ExampleError, MisuseGraph, misuse_graph
from .model import MisuseModel, MisuseOutput
from .synthesis import EXCLUDED_NAMES, FunctionSource, count_tokens, file_functions, normalize_newlines

logger = logging.getLogger(__name__)

MAX_NODES = 256  # the data's caps (`bowerbird train misuse --make-data` defaults)
MAX_TOKENS = 512
BATCH_SIZE = 64  # graphs per forward pass (a file with more functions takes several)
_READS = (Access.READ, Access.READ_WRITE)
_BINDS = (Access.WRITE, Access.READ_WRITE)


@dataclass(frozen=True)
class Finding:
    """The most likely misuse of one function, in the file's coordinates (see the module)."""

    path: str
    function: str  # qualname ("C.m", "f.<locals>.g")
    line: int  # 1-based
    col: int  # 1-based, the name's first character
    end_line: int  # == line
    end_col: int  # 1-based, just after the name (exclusive)
    name: str  # the name read there (the suspicious one)
    suggestion: str  # the variable the model would put there (never ``name``)
    probability: float  # 1 - p(no bug), unrounded

    def to_json(self) -> dict:
        """The `bowerbird check --format json` entry (probability rounded to 4 places)."""
        return {"path": self.path, "function": self.function, "line": self.line, "col": self.col,
                "end_line": self.end_line, "end_col": self.end_col, "name": self.name,
                "suggestion": self.suggestion, "probability": round(self.probability, 4)}  # fmt: skip


@dataclass(frozen=True)
class DetectResult:
    """One file: a `Finding` per analysed function that has a location (in the order of the
    functions in the file, outer before nested), whatever its probability, and the counts."""

    findings: tuple[Finding, ...]
    functions: int  # every def of the file
    analysed: int  # within the size caps and usable (those without a location included)
    without_reads: int  # analysed, but no candidate read: no location, no finding
    too_large: int  # over max_tokens or max_nodes: skipped
    unusable: int  # code the tokenizer, the parser or the graph inputs reject: skipped

    def above(self, threshold: float) -> list[Finding]:
        """The findings whose (unrounded) probability is at least ``threshold``."""
        return [f for f in self.findings if f.probability >= threshold]


@dataclass(frozen=True)
class _Prepared:
    """A function ready for the model."""

    function: FunctionSource
    graph: MisuseGraph
    names: tuple[str, ...]  # the name of each access (aligned with ``graph.accesses``)
    places: tuple[tuple[int, int], ...]  # its (line, col) in the file, both 1-based
    candidates: tuple[int, ...]  # indices into ``graph.uses`` of the candidate reads
    variables: frozenset[str]  # the names bound in the function (see the module), self/cls aside


def column_shifts(function: FunctionSource, file_lines: list[str]) -> list[int]:
    """For each line of ``function.source`` (0-based index): how many characters the cut-out
    removed from the start of its file line (its indentation, or 0 for a line kept as it was)."""
    shifts = []
    for k, line in enumerate(function.source.split("\n")):
        n = function.line - 1 + k
        whole = file_lines[n] if n < len(file_lines) else ""
        shifts.append(len(whole) - len(line) if line and whole.endswith(line) else 0)
    return shifts


def detect_source(
    model: MisuseModel, vocabulary: Mapping[str, int], text: str, path: str = "",
    max_nodes: int = MAX_NODES, max_tokens: int = MAX_TOKENS, batch_size: int = BATCH_SIZE,
) -> DetectResult:  # fmt: skip
    """The findings of a module's text (see the module's docstring). Raises `GraphError` when
    the text does not parse."""
    text = normalize_newlines(text[1:] if text.startswith("\ufeff") else text)
    functions = file_functions(text, path)
    file_lines = text.split("\n")
    prepared: list[_Prepared] = []
    claimed: set[tuple[int, int]] = set()  # file places of the reads of the functions so far
    too_large = unusable = without_reads = 0
    for function in functions:
        where = f"{path}:{function.qualname}"
        try:
            tokens = count_tokens(function.source)
            if tokens > max_tokens:
                too_large += 1
                continue
            parsed = parse_source(function.source, path)
            root = parsed.module.body[0] if len(parsed.module.body) == 1 else None
            if type(root) is not cst.FunctionDef:
                raise ValueError("not one function definition")
            items = walk_unit(root)  # the graph's SYNTAX and TOKEN nodes, node id = index
            if len(items) > max_nodes:
                too_large += 1
                continue
            kinds = classify_accesses(items)
        except (tokenize.TokenError, SyntaxError, GraphError, ValueError, RecursionError) as error:
            unusable += 1
            logger.debug("%s: %s", where, error)
            continue
        nodes = [i for i, item in enumerate(items) if type(item.node) is cst.Name and kinds[i] is not Access.NONE]
        names = tuple(items[i].node.value for i in nodes)  # type: ignore[attr-defined]
        shifts = column_shifts(function, file_lines)
        places = tuple((function.line + line - 1, col + shifts[line - 1] + 1)
                       for line, col in parsed.positions.starts([items[i].node for i in nodes]))  # fmt: skip
        reads = [k for k, i in enumerate(nodes) if kinds[i] in _READS]  # indices into `nodes`
        written = {names[k] for k, i in enumerate(nodes) if kinds[i] in _BINDS}
        variables = frozenset(written - _not_variables(items, kinds) - EXCLUDED_NAMES)
        candidates = tuple(
            u for u, k in enumerate(reads)
            if names[k] in variables and variables - {names[k]} and places[k] not in claimed
        )  # fmt: skip
        claimed.update(places[k] for k in reads)
        if not candidates:
            without_reads += 1
            continue
        example = MisuseExample(id=where, package="", path=path, function=function.qualname,
                                source=function.source, bug=None, repair_targets=(), candidates=(),
                                tokens=tokens, nodes=len(items))  # fmt: skip
        try:
            graph = misuse_graph(example, vocabulary, model.config.edge_set, model.config.gfsa_view)
        except ExampleError as error:
            unusable += 1
            logger.debug("%s", error)
            continue
        if graph.accesses.tolist() != nodes or graph.uses.tolist() != [nodes[k] for k in reads]:
            unusable += 1  # the graph builder and this parse disagree: never expected
            logger.warning("%s: the graph's variable accesses differ from the parse's; skipped", where)
            continue
        prepared.append(_Prepared(function, graph, names, places, candidates, variables))

    findings: list[Finding] = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(prepared), batch_size):
            batch = prepared[start : start + batch_size]
            for p, output in zip(batch, model([p.graph for p in batch]), strict=True):
                findings.append(_finding(p, output, path))
    analysed = len(prepared) + without_reads
    return DetectResult(tuple(findings), len(functions), analysed, without_reads, too_large, unusable)


def _not_variables(items: list, kinds: list[Access]) -> set[str]:
    """Names a function binds by ``def``, ``class`` or ``import``, or declares ``global`` /
    ``nonlocal``: never local variables in `synthesis`'s sense."""
    out = set()
    for i, item in enumerate(items):
        if type(item.node) is not cst.Name or item.parent < 0:
            continue
        parent = items[item.parent]
        kind = type(parent.node)
        grand = type(items[parent.parent].node) if parent.parent >= 0 else None
        if kinds[i] is not Access.NONE and (
            kind in (cst.FunctionDef, cst.ClassDef, cst.ImportAlias) or (kind is cst.AsName and grand is cst.ImportAlias)
        ):
            out.add(item.node.value)
        elif kind is cst.NameItem and grand in (cst.Global, cst.Nonlocal):
            out.add(item.node.value)
    return out


def _finding(p: _Prepared, output: MisuseOutput, path: str) -> Finding:
    location = output.location.detach().double().cpu()
    probability = float(-torch.expm1(torch.log_softmax(location, 0)[0]))  # 1 - p(no bug)
    access_of = {node: k for k, node in enumerate(p.graph.accesses.tolist())}
    uses = p.graph.uses.tolist()
    best = max(p.candidates, key=lambda u: (float(location[1 + u]), -u))  # the first of equals
    k = access_of[uses[best]]
    name = p.names[k]
    repair = torch.softmax(output.repair.detach().double().cpu(), 0).tolist()
    by_name: dict[str, float] = {}
    for other, share in zip(p.names, repair, strict=True):
        if other != name and other in p.variables:
            by_name[other] = by_name.get(other, 0.0) + share
    suggestion = min(by_name, key=lambda n: (-by_name[n], n))
    line, col = p.places[k]
    return Finding(path, p.function.qualname, line, col, line, col + len(name), name, suggestion, probability)
