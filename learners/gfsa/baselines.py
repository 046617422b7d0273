"""Two baselines for the GFSA layer's static-analysis experiment, on the same `Example`s.

Both see exactly what the layer sees: the example's GFSA view (node types and the moves between
nodes, read back from its `GfsaEncoding`: in the views with variables also the virtual variable
nodes and the moves between a variable's occurrences, and in "accesses" the observed access
kinds), never names or the builder's edges. Their edge scores are over the AST nodes only.

- `GnnEdgeClassifier` — a GGNN-style graph network (Li et al. 2016) over the AST: node inputs
  are node-type embeddings; each round a node sums messages from its neighbours along every
  move of the view (child fields, sequence first/last/next/prev, parent; a message is a linear
  map of the sender's state plus an embedding of the move type) and updates its state with a
  GRU cell. A bilinear scorer per learned edge type then gives a logit for every (src, dst)
  pair, plus, in the views with variables, a learned bias per edge type for pairs that access
  the same variable (what the layer's same-variable observations tell it); ``sigmoid`` is the
  edge probability. Trained with the layer's loss (`train.edge_loss`).
- `RandomWalkKernel` — no learned policy: a uniform random walk over the view's moves (every
  move that leaves the node is equally likely) which takes ``m`` forced steps (0 or 1) and then,
  before each further step, halts with probability ``h``. ``A[s, v]`` = probability that the
  walk from ``s`` halts at ``v`` = ``h * [P^m (I - (1 - h) P)^-1][s, v]`` for the
  row-stochastic move matrix ``P``. Per edge type, ``(m, h)`` and the decision threshold are
  fitted by grid search on training examples (best micro-averaged F1).

`evaluate_predictor` scores either (or the layer) exactly as `evaluate.evaluate_layer` does:
micro-averaged precision / recall / F1 per edge kind, ``{"functions", "edges": {...}}``.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from bowerbird.analysis.graphs.gfsa_view import (
    DEFAULT_VIEW,
    all_move_types,
    move_types,
    node_types_of,
    observation_vocabulary,
)

from .encoding import GfsaEncoding
from .evaluate import EdgeCounts, edge_counts
from .targets import Example
from .train import TrainConfig, TrainResult, fit

logger = logging.getLogger(__name__)

# --- the AST structure behind an encoding ------------------------------------------------------


@dataclass(frozen=True)
class AstStructure:
    """The view's graph as node types and move edges (missing moves, self-loops, left out): the
    N AST nodes, then the view's virtual nodes (N..N+V-1)."""

    node_type: torch.Tensor  # (N + V,) long: `node_type_ids(view)` id of each node (0 = unknown)
    src: torch.Tensor  # (M,) long: node index where the move starts
    dst: torch.Tensor  # (M,) long: node index where it arrives
    move: torch.Tensor  # (M,) long: `move_ids(view)` id of the move type (0 = unknown)
    same_variable: torch.Tensor | None = None  # (N, N) bool: both AST nodes access one variable


@functools.cache
def node_type_ids(view: str = DEFAULT_VIEW) -> dict[str, int]:
    """Observed node type -> id from 1; 0 is unknown."""
    return {t: i + 1 for i, t in enumerate(node_types_of(view))}


@functools.cache
def move_ids(view: str = DEFAULT_VIEW) -> dict[str, int]:
    """Move type -> id from 1; 0 is unknown."""
    return {m: i + 1 for i, m in enumerate(all_move_types(view))}


def ast_structure(enc: GfsaEncoding) -> AstStructure:
    """Node types and moves of an encoding: node ``v``'s type is that of the observation at one
    of its positions (its start position for an AST node); slot ``k`` from that position leads
    to the node of ``successor[p, k]``."""
    vocabulary = observation_vocabulary(enc.view)
    types, moves = node_type_ids(enc.view), move_ids(enc.view)
    obs = enc.position_obs.tolist()
    position_node = enc.position_node.tolist()
    successor = enc.successor.tolist()
    some_position = dict(enumerate(enc.start.tolist()))  # virtual nodes: their first position
    for p, v in enumerate(position_node):
        some_position.setdefault(v, p)
    node_type, src, dst, move = [], [], [], []
    for v in range(enc.num_nodes + enc.num_virtual):
        p = some_position[v]
        name = vocabulary[obs[p] - 1][0] if obs[p] > 0 else ""
        node_type.append(types.get(name, 0))
        for k, m in enumerate(move_types(name, enc.view) if name in types else ()):
            w = position_node[successor[p][k]]
            if w != v:
                src.append(v)
                dst.append(w)
                move.append(moves.get(m, 0))

    def long(values: list[int]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.long)

    same, variable = None, enc.node_variable
    if variable is not None:
        same = (variable[:, None] == variable[None, :]) & (variable[:, None] >= 0)
    return AstStructure(long(node_type), long(src), long(dst), long(move), same)


def _structure(example: Example, cache: dict[int, AstStructure]) -> AstStructure:
    key = id(example.encoding)
    if key not in cache:
        cache[key] = ast_structure(example.encoding)
    return cache[key]


# --- evaluation shared by every method ---------------------------------------------------------


Predictor = Callable[[Example], torch.Tensor]  # example -> (E, N, N) edge probabilities


@torch.no_grad()
def evaluate_predictor(
    predict: Predictor, examples: Sequence[Example], threshold: float | Sequence[float] = 0.5
) -> dict:
    """Micro-averaged precision/recall/F1 per edge kind (the shape of `evaluate_layer`).
    ``threshold`` may be one value or one per edge kind."""
    totals: dict[str, EdgeCounts] = {}
    for example in examples:
        probs = predict(example).detach().cpu()
        for e, kind in enumerate(example.kinds):
            t = threshold if isinstance(threshold, (int, float)) else threshold[e]
            counts = edge_counts(probs[e], example.target[e], t)
            totals[str(kind)] = totals.get(str(kind), EdgeCounts()) + counts
    return {"functions": len(examples), "edges": {k: c.to_dict() for k, c in totals.items()}}


# --- (a) the GNN edge classifier ---------------------------------------------------------------


@dataclass(frozen=True)
class GnnConfig:
    num_edge_types: int = 1  # E, learned edge types (one scorer each)
    hidden: int = 64  # node state width
    rounds: int = 6  # message-passing rounds
    view: str = DEFAULT_VIEW  # the GFSA view of the examples (node types, moves)

    def to_dict(self) -> dict:
        return asdict(self)


class GnnEdgeClassifier(nn.Module):
    """GGNN over the AST's moves, then a bilinear scorer per edge type: ``(E, N, N)`` logits."""

    def __init__(self, config: GnnConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.node_embedding = nn.Embedding(len(node_type_ids(config.view)) + 1, h)
        self.move_embedding = nn.Embedding(len(move_ids(config.view)) + 1, h)
        self.same_variable = nn.Parameter(torch.zeros(config.num_edge_types))  # pair bias (views with variables)
        self.message = nn.Linear(h, h)
        self.update = nn.GRUCell(h, h)
        self.source = nn.Linear(h, config.num_edge_types * h)
        self.destination = nn.Linear(h, config.num_edge_types * h)
        self.bias = nn.Parameter(torch.full((config.num_edge_types,), -3.0))
        self._cache: dict[int, AstStructure] = {}

    def node_states(self, ast: AstStructure) -> torch.Tensor:
        """(N + V, H) node states after ``rounds`` of message passing."""
        device = self.bias.device
        src, dst, move = ast.src.to(device), ast.dst.to(device), ast.move.to(device)
        state = self.node_embedding(ast.node_type.to(device))
        degree = torch.zeros(state.shape[0], device=device).index_add_(
            0, dst, torch.ones_like(dst, dtype=state.dtype)
        ).clamp(min=1.0)[:, None]
        for _ in range(self.config.rounds):
            sent = torch.relu(self.message(state)[src] + self.move_embedding(move))
            incoming = torch.zeros_like(state).index_add_(0, dst, sent) / degree
            state = self.update(incoming, state)
        return state

    def edge_logits(self, example: Example) -> torch.Tensor:
        ast = _structure(example, self._cache)
        state = self.node_states(ast)[: example.encoding.num_nodes]  # the AST nodes' states
        n, h, e = state.shape[0], self.config.hidden, self.config.num_edge_types
        s = self.source(state).view(n, e, h).transpose(0, 1)  # (E, N, H)
        d = self.destination(state).view(n, e, h).transpose(0, 1)
        logits = s @ d.transpose(1, 2) / math.sqrt(h) + self.bias[:, None, None]
        if ast.same_variable is not None:
            same = ast.same_variable.to(logits.device, logits.dtype)
            logits = logits + self.same_variable[:, None, None] * same
        return logits

    def edge_probabilities(self, example: Example) -> torch.Tensor:
        return torch.sigmoid(self.edge_logits(example))


def train_gnn(
    model: GnnEdgeClassifier, examples: Sequence[Example], config: TrainConfig,
    on_log: Callable[[dict], None] | None = None,
) -> TrainResult:  # fmt: skip
    """Train the GNN in place, one graph per step, with the layer's loss and example order."""
    result = fit(model, examples, config, model.edge_logits, on_log, name="gnn ")
    model.eval()
    return result


# --- (b) the fixed random-walk kernel ----------------------------------------------------------

HALTING_GRID = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MIN_STEPS_GRID = (0, 1)


def walk_matrix(ast: AstStructure, num_nodes: int) -> torch.Tensor:
    """(N, N) row-stochastic P: a uniform choice among the node's moves (a node without moves
    stays put)."""
    p = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    p.index_put_((ast.src, ast.dst), torch.ones(len(ast.src), dtype=torch.float64), accumulate=True)
    stuck = p.sum(1) == 0
    p[stuck, stuck] = 1.0
    return p / p.sum(1, keepdim=True)


def halting_kernel(p: torch.Tensor, halt: float, min_steps: int = 0) -> torch.Tensor:
    """(N, N) ``h P^m (I - (1 - h) P)^-1``: where a walk ends that takes ``m`` forced steps and
    then halts w.p. ``h`` before each further step."""
    n = p.shape[0]
    out = halt * torch.linalg.inv(torch.eye(n, dtype=p.dtype) - (1 - halt) * p)
    for _ in range(min_steps):
        out = p @ out
    return out


def best_threshold(scores: torch.Tensor, truth: torch.Tensor) -> tuple[float, float]:
    """(threshold, F1) maximising F1 when predicting ``scores >= threshold``."""
    positives = int(truth.sum())
    if positives == 0 or scores.numel() == 0:
        return 1.0 + 1e-9, 0.0
    order = torch.argsort(scores, descending=True)
    s, t = scores[order], truth[order].double()
    tp = torch.cumsum(t, 0)
    k = torch.arange(1, len(s) + 1, dtype=torch.float64)
    last_of_tie = torch.ones(len(s), dtype=torch.bool)  # only cut between distinct scores
    last_of_tie[:-1] = s[:-1] != s[1:]
    f1 = torch.where(last_of_tie, 2 * tp / (k + positives), torch.zeros_like(tp))
    best = int(torch.argmax(f1))
    return float(s[best]), float(f1[best])


@dataclass
class RandomWalkKernel:
    """A uniform random walk with a fitted halting probability and threshold per edge type."""

    halt: list[float] = field(default_factory=lambda: [0.5])  # h per edge type
    min_steps: list[int] = field(default_factory=lambda: [0])  # forced first steps per edge type
    threshold: list[float] = field(default_factory=lambda: [0.5])  # decision threshold per type
    fit_f1: list[float] = field(default_factory=list)  # training F1 of the chosen (h, threshold)

    def __post_init__(self) -> None:
        self._cache: dict[int, AstStructure] = {}

    def kernel(self, example: Example, halt: float, min_steps: int = 0) -> torch.Tensor:
        """(N, N) over the AST nodes; walks may pass through virtual nodes (a halt there adds nothing)."""
        ast = _structure(example, self._cache)
        n = example.encoding.num_nodes
        p = walk_matrix(ast, n + example.encoding.num_virtual)
        return halting_kernel(p, halt, min_steps)[:n, :n]

    def adjacency(self, example: Example) -> torch.Tensor:
        """(E, N, N) halting probabilities (compare with `threshold`, not 0.5)."""
        return torch.stack([self.kernel(example, h, m) for h, m in zip(self.halt, self.min_steps)]).float()

    def edge_probabilities(self, example: Example) -> torch.Tensor:
        """(E, N, N) in [0, 1], rescaled so that 0.5 is each type's fitted threshold (piecewise
        linear: [0, t] -> [0, 0.5], [t, 1] -> [0.5, 1])."""
        a = self.adjacency(example)
        t = torch.tensor(self.threshold, dtype=a.dtype)[:, None, None].clamp(1e-12, 1 - 1e-12)
        return torch.where(a < t, 0.5 * a / t, 0.5 + 0.5 * (a - t) / (1 - t)).clamp(0, 1)

    def fit(
        self, examples: Sequence[Example], grid: Sequence[float] = HALTING_GRID,
        steps_grid: Sequence[int] = MIN_STEPS_GRID,
    ) -> RandomWalkKernel:  # fmt: skip
        """Grid search over ``(m, h)`` (and, for each, the best threshold) per edge kind, by the
        micro-averaged F1 over ``examples``."""
        if not examples:
            raise ValueError("no training examples")
        num_kinds = len(examples[0].kinds)
        self.halt, self.min_steps, self.threshold, self.fit_f1 = [], [], [], []
        kernels = {(m, h): torch.cat([self.kernel(x, h, m).float().flatten() for x in examples])
                   for m in steps_grid for h in grid}  # fmt: skip
        for e in range(num_kinds):
            truth = torch.cat([x.target[e].flatten() > 0.5 for x in examples])
            best = (-1.0, (steps_grid[0], grid[0]), 1.0)
            for key, scores in kernels.items():
                t, f1 = best_threshold(scores, truth)
                if f1 > best[0]:
                    best = (f1, key, t)
            f1, (m, h), t = best
            self.fit_f1.append(f1)
            self.min_steps.append(m)
            self.halt.append(h)
            self.threshold.append(t)
            logger.info("random walk, kind %s: m=%d h=%.2f threshold=%.4g (train F1 %.3f)",
                        examples[0].kinds[e], m, h, t, f1)  # fmt: skip
        return self

    def to_dict(self) -> dict:
        return {"halt": self.halt, "min_steps": self.min_steps, "threshold": self.threshold,
                "fit_f1": self.fit_f1}  # fmt: skip


# --- both baselines, trained and evaluated ------------------------------------------------------


def run_baselines(
    train: Sequence[Example], test: Sequence[Example], config: TrainConfig,
    gnn: GnnConfig | None = None, threshold: float = 0.5,
    on_log: Callable[[str, dict], None] | None = None,
) -> dict:  # fmt: skip
    """Train both baselines on ``train`` and evaluate on ``test``: ``{"gnn": {...},
    "random_walk": {...}}``, each in `evaluate_predictor`'s shape plus training details."""
    num_kinds = len(train[0].kinds) if train else 0
    view = train[0].encoding.view if train else DEFAULT_VIEW
    gnn_config = gnn or GnnConfig(num_edge_types=num_kinds, view=view)
    model = GnnEdgeClassifier(gnn_config)
    trained = train_gnn(model, train, config,
                        None if on_log is None else lambda entry: on_log("gnn", entry))  # fmt: skip
    gnn_result = evaluate_predictor(model.edge_probabilities, test, threshold)
    gnn_result["train"] = {"steps": trained.steps, "seconds": trained.seconds,
                           "functions": len(train), "config": gnn_config.to_dict()}  # fmt: skip
    start = time.monotonic()
    kernel = RandomWalkKernel().fit(train)
    walk_result = evaluate_predictor(kernel.adjacency, test, kernel.threshold)
    walk_result["train"] = {"seconds": time.monotonic() - start, "functions": len(train),
                            **kernel.to_dict()}  # fmt: skip
    return {"gnn": gnn_result, "random_walk": walk_result}
