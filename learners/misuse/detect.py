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

`FunctionCache` (the server's diagnostics) keeps each function's analysis and model outputs in
the function's own coordinates, keyed by a hash of its cut-out source: after an edit only the
functions whose text changed are parsed, built and run again (the file itself is still parsed
once, to cut its functions out), and a function that only moved (lines added above it, another
indentation) is answered from the cache at its new place. Which read is reported, and the claims
between functions, are worked out after the model, so a cached run gives a cold run's findings;
only a probability's last float32 bits can differ, as they already do between batch sizes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import tokenize
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import libcst as cst
import torch

from bowerbird.analysis.graphs.access import classify_accesses
from bowerbird.analysis.graphs.build import build_unit, parse_source
from bowerbird.analysis.graphs.schema import Access, GraphError
from bowerbird.analysis.graphs.syntax import walk_unit

from .data import MisuseExample
from .graph_inputs import ExampleError, MisuseGraph, misuse_graph
from .model import MisuseModel
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
class _Analysed:
    """One function's analysis in its own coordinates (``function.source``): what `FunctionCache`
    keeps, so that it holds wherever the function moves in its file."""

    status: str  # "ok"; skipped: "too_large" (over a cap), "unusable" (does not parse), "rejected" (no graph)
    names: tuple[str, ...] = ()  # the name of each access (aligned with ``graph.accesses``)
    places: tuple[tuple[int, int], ...] = ()  # each access's (line, col) in the source, both 0-based
    reads: tuple[int, ...] = ()  # indices into ``names`` of the reads (aligned with ``graph.uses``)
    candidates: tuple[int, ...] = ()  # indices into ``reads`` of the candidate reads (no claims yet)
    variables: frozenset[str] = frozenset()  # the names bound in the function (see the module)
    location: torch.Tensor | None = None  # the model's localisation logits (float64), when it ran
    repair: tuple[float, ...] | None = None  # its repair probabilities over the accesses


class FunctionCache:
    """Per-function results of one model, keyed by a hash of the function's (cut-out, dedented)
    source text, least recently used first out: an edit in a long file re-analyses only the
    functions whose text changed. Bound to the model, vocabulary and size caps it was filled
    with; `detect_source` clears it when it is called with others. Thread-safe."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.hits = 0  # functions answered from the cache (all time)
        self.misses = 0  # functions analysed
        self._entries: OrderedDict[bytes, _Analysed] = OrderedDict()
        self._bound: tuple | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(source: str) -> bytes:
        return hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def bind(self, model: MisuseModel, vocabulary: Mapping[str, int], max_nodes: int, max_tokens: int) -> None:
        """Forget everything unless the entries were made with these."""
        with self._lock:
            bound = self._bound
            if bound is None or bound[0] is not model or bound[1] is not vocabulary or bound[2:] != (max_nodes, max_tokens):
                self._entries.clear()
                self._bound = (model, vocabulary, max_nodes, max_tokens)

    def get(self, key: bytes) -> _Analysed | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return entry

    def put(self, key: bytes, entry: _Analysed) -> None:
        with self._lock:
            self.misses += 1
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


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
    cache: FunctionCache | None = None, between: Callable[[], None] | None = None,
) -> DetectResult:  # fmt: skip
    """The findings of a module's text (see the module's docstring). Raises `GraphError` when
    the text does not parse.

    ``cache``: reuse the analysis of every function whose source text it has seen (with this
    model), and keep the new ones. ``between``: called before each function is analysed and
    before each forward pass; whatever it raises ends the call (nothing half-done is cached), so
    a caller can yield the CPU to other work or give up on a text that is already stale."""
    text = normalize_newlines(text[1:] if text.startswith("\ufeff") else text)
    functions = file_functions(text, path)
    if cache is not None:
        cache.bind(model, vocabulary, max_nodes, max_tokens)
    entries: list[_Analysed] = []
    keys: list[bytes | None] = []
    waiting: list[tuple[int, MisuseGraph]] = []  # (index into entries, graph) for the model
    for function in functions:
        key = cache.key(function.source) if cache is not None else None
        entry = cache.get(key) if key is not None else None
        if entry is None:
            if between is not None:
                between()
            entry, graph = _analyse(function, path, model, vocabulary, max_nodes, max_tokens)
            if graph is not None:
                waiting.append((len(entries), graph))
            elif key is not None:
                cache.put(key, entry)
        entries.append(entry)
        keys.append(key)

    model.eval()
    with torch.no_grad():
        for start in range(0, len(waiting), batch_size):
            if between is not None:
                between()
            batch = waiting[start : start + batch_size]
            for (index, _), output in zip(batch, model([graph for _, graph in batch]), strict=True):
                location = output.location.detach().double().cpu()
                repair = tuple(torch.softmax(output.repair.detach().double().cpu(), 0).tolist())
                entries[index] = entry = dataclasses.replace(entries[index], location=location, repair=repair)
                if keys[index] is not None:
                    cache.put(keys[index], entry)  # type: ignore[union-attr]

    file_lines = text.split("\n")
    findings: list[Finding] = []
    claimed: set[tuple[int, int]] = set()  # file places of the reads of the functions so far
    too_large = unusable = without_reads = 0
    for function, entry in zip(functions, entries, strict=True):
        if entry.status == "too_large":
            too_large += 1
            continue
        if entry.status == "unusable":
            unusable += 1
            continue
        shifts = column_shifts(function, file_lines)
        places = [(function.line + line, col + shifts[line] + 1) for line, col in entry.places]  # the file's
        candidates = [u for u in entry.candidates if places[entry.reads[u]] not in claimed]
        claimed.update(places[k] for k in entry.reads)
        if not candidates:
            without_reads += 1
        elif entry.status == "rejected":
            unusable += 1
        else:
            findings.append(_finding(function, entry, candidates, places, path))
    analysed = len(functions) - too_large - unusable
    return DetectResult(tuple(findings), len(functions), analysed, without_reads, too_large, unusable)


def _analyse(
    function: FunctionSource, path: str, model: MisuseModel, vocabulary: Mapping[str, int], max_nodes: int,
    max_tokens: int,
) -> tuple[_Analysed, MisuseGraph | None]:  # fmt: skip
    """One function up to the model: its analysis, and its graph when the model has to run."""
    where = f"{path}:{function.qualname}"
    try:
        tokens = count_tokens(function.source)
        if tokens > max_tokens:
            return _Analysed("too_large"), None
        parsed = parse_source(function.source, path)
        root = parsed.module.body[0] if len(parsed.module.body) == 1 else None
        if type(root) is not cst.FunctionDef:
            raise ValueError("not one function definition")
        items = walk_unit(root)  # the graph's SYNTAX and TOKEN nodes, node id = index
        if len(items) > max_nodes:
            return _Analysed("too_large"), None
        kinds = classify_accesses(items)
    except (tokenize.TokenError, SyntaxError, GraphError, ValueError, RecursionError) as error:
        logger.debug("%s: %s", where, error)
        return _Analysed("unusable"), None
    nodes = [i for i, item in enumerate(items) if type(item.node) is cst.Name and kinds[i] is not Access.NONE]
    names = tuple(items[i].node.value for i in nodes)  # type: ignore[attr-defined]
    places = tuple((line - 1, col) for line, col in parsed.positions.starts([items[i].node for i in nodes]))
    reads = tuple(k for k, i in enumerate(nodes) if kinds[i] in _READS)  # indices into `nodes`
    written = {names[k] for k, i in enumerate(nodes) if kinds[i] in _BINDS}
    variables = frozenset(written - _not_variables(items, kinds) - EXCLUDED_NAMES)
    candidates = tuple(u for u, k in enumerate(reads) if names[k] in variables and variables - {names[k]})
    entry = _Analysed("ok", names, places, reads, candidates, variables)
    if not candidates:
        return entry, None
    example = MisuseExample(id=where, package="", path=path, function=function.qualname,
                            source=function.source, bug=None, repair_targets=(), candidates=(),
                            tokens=tokens, nodes=len(items))  # fmt: skip
    try:
        d = parsed.definitions[0]  # the outermost definition: `root`, already parsed
        fg = build_unit(parsed, d.node, d.own, d.node.name.value, d.qualname)
        graph = misuse_graph(example, vocabulary, model.config.edge_set, model.config.gfsa_view, fg)
    except (ExampleError, GraphError, ValueError, RecursionError) as error:
        logger.debug("%s", error)
        return dataclasses.replace(entry, status="rejected"), None
    if graph.accesses.tolist() != nodes or graph.uses.tolist() != [nodes[k] for k in reads]:
        logger.warning("%s: the graph's variable accesses differ from the parse's; skipped", where)
        return dataclasses.replace(entry, status="rejected"), None  # never expected
    return entry, graph


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


def _finding(
    function: FunctionSource, entry: _Analysed, candidates: list[int], places: list[tuple[int, int]], path: str,
) -> Finding:  # fmt: skip
    location = entry.location
    assert location is not None and entry.repair is not None
    probability = float(-torch.expm1(torch.log_softmax(location, 0)[0]))  # 1 - p(no bug)
    best = max(candidates, key=lambda u: (float(location[1 + u]), -u))  # the first of equals
    k = entry.reads[best]
    name = entry.names[k]
    by_name: dict[str, float] = {}
    for other, share in zip(entry.names, entry.repair, strict=True):
        if other != name and other in entry.variables:
            by_name[other] = by_name.get(other, 0.0) + share
    suggestion = min(by_name, key=lambda n: (-by_name[n], n))
    line, col = places[k]
    return Finding(path, function.qualname, line, col, line, col + len(name), name, suggestion, probability)
