"""`GfsaLayer`: from a graph's POMDP encoding to one weighted adjacency matrix per edge type.

For every start node ``s`` the agent begins at ``s``'s start position in finite state 0; the
absorbing chain (`absorbing`) gives the expected visits ``y[s, p, z]`` and

    A[e, s, v] = sum over positions p at node v, states z of y[s, p, z] * finish[e, p, z],

the probability that a walk of edge type ``e``'s policy from ``s`` FINISHes at ``v``. Rows sum
to ``1 - P(BACKTRACK) <= 1``. Each edge type has its own policy and its own solve.

Because rows sum to at most 1, a start node with two true successors (both branches of an
``if``) can give each at most 1/2. With ``platt_scale`` (as in the reference implementation)
the layer's edge logits are ``scale[e] * logit(A[e]) + shift[e]`` with a learned scale and shift
per edge type (Platt scaling), so that ``sigmoid(logits)`` can express one-to-many relations;
without it ``sigmoid(logits) = A``. Training and evaluation use the logits.

Sources. An edge kind usually starts only at some node types (CFG_NEXT at statements,
LAST_READ at reads of a variable). ``GfsaConfig.sources`` can name, per edge type, the observed
node types (``gfsa_view.GfsaView.observed_type``, e.g. ``"Name:read"``) whose nodes start a
walk; the other rows of that edge type's adjacency are 0 (logit `MASKED_LOGIT`) and cost
nothing. The solve's cost grows with the number of starts, and about a tenth of a function's
nodes start a data-flow or control-flow edge, so training is several times faster with them.
``train gfsa`` takes them from the training targets (the node types that have an edge of the
kind there); ``None`` (checkpoints saved before sources existed) starts a walk at every node.

Same variable. With ``same_variable`` (views with variables), at a node that accesses a variable
(and at that variable's virtual node) the agent also observes whether it is the *start node's*
variable: such observations have their own rows of the policy table
(`encoding.variable_observation_ids`). This is the reference implementation's
"same identifier" variant for LastRead/LastWrite: the agent can walk the control structure and
recognise the occurrences of its own variable wherever it meets them, e.g. the read at the end
of a loop body that reaches a read at its top through the back edge. The chain then depends on
the start node's variable, so the starts are solved in groups, one per variable (with the same
total of right-hand sides, and one more sparse factorisation per group).

Walkers. A read after an ``if``/``else`` has two last reads, one per branch, and a read in a
loop has one before the loop and one at the end of the body. One walk must split its mass among
them, so the Platt threshold falls to where a wrong node that gets a small share of a walk also
becomes an edge. With ``walkers = W > 1`` each edge type has W independent walkers (W policies,
W solves) and its adjacency is their noisy-OR,

    A[e] = 1 - prod over w of (1 - A[e, w]),

so that each of several targets can get a probability near 1 from its own walker (one walker
learns the branch just before the read, another the loop's back edge). Walker 0 of each edge
type is table row ``e * W``; `GfsaLayer.widen` makes a W-walker layer from a trained one-walker
layer: every walker starts as a noisy copy of its walk (walker 0 exactly), and training
drives them apart.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn

from bowerbird.analysis.graphs.gfsa_view import DEFAULT_VIEW, START, VIEWS_WITH_VARIABLES, check_view

from .absorbing import expected_visits
from .encoding import GfsaEncoding, num_observations, observation_ids, variable_observation_ids
from .policy import FiniteStatePolicy, PolicyProbabilities

logger = logging.getLogger(__name__)

LOGIT_EPS = 1e-6  # probabilities are clamped to [LOGIT_EPS, 1 - LOGIT_EPS] before the logit
MASKED_LOGIT = -30.0  # the edge logit of a start node whose type is not a source of the edge type


@dataclass(frozen=True)
class GfsaConfig:
    num_edge_types: int = 1  # E, learned edge types (one policy each)
    num_states: int = 4  # S, finite states of the agent's memory
    solver: str = "auto"  # "dense", "sparse", "fixed_point", or "auto" (see `GfsaLayer.solver_for`)
    dense_max_states: int = 6144  # auto, off the CPU: transient states (positions x S) solved densely (LU)
    sparse_min_states: int = 768  # auto, on the CPU: from this many transient states on, sparse LU
    tol: float = 1e-6  # fixed point: stop when the largest change is at most this
    max_iters: int = 2000  # fixed point: iteration cap (a warning is logged when reached)
    finish_bias: float = 0.0  # initial logit offset of FINISH
    backtrack_bias: float = 0.0  # initial logit offset of BACKTRACK
    init_scale: float = 0.01  # std of the initial logits
    platt_scale: bool = False  # learn a scale and shift of logit(A) per edge type
    view: str = DEFAULT_VIEW  # the GFSA view (`gfsa_view.VIEWS`); configs saved without one: "ast"
    # per edge type, the observed node types that start walks (None: every node; see above)
    sources: list[list[str]] | None = None
    same_variable: bool = False  # observe "this node accesses the start node's variable" (above)
    walkers: int = 1  # W, independent walkers per edge type, combined by noisy-OR (above)

    def __post_init__(self) -> None:
        check_view(self.view)
        if self.walkers < 1:
            raise ValueError(f"walkers must be at least 1, not {self.walkers}")
        if self.same_variable and self.view not in VIEWS_WITH_VARIABLES:
            raise ValueError(f"same_variable needs a view with variables, not {self.view!r}")
        if self.sources is not None:
            if len(self.sources) != self.num_edge_types:
                raise ValueError(f"sources: {len(self.sources)} lists for {self.num_edge_types} edge types")
            object.__setattr__(self, "sources", [sorted(set(types)) for types in self.sources])

    def to_dict(self) -> dict:
        return asdict(self)


def start_distribution(
    enc: GfsaEncoding, num_states: int, dtype: torch.dtype, rows: torch.Tensor | None = None
) -> torch.Tensor:
    """y0 (B, P, S): row ``b`` puts mass 1 on the start position of node ``rows[b]`` (default:
    every node, B = N) in finite state 0."""
    if rows is None:
        rows = torch.arange(enc.num_nodes, device=enc.start.device)
    y0 = torch.zeros(len(rows), enc.num_positions, num_states, dtype=dtype, device=enc.start.device)
    y0[torch.arange(len(rows), device=enc.start.device), enc.start[rows], 0] = 1.0
    return y0


def finish_adjacency(
    move: torch.Tensor, finish: torch.Tensor, enc: GfsaEncoding, solver: str,
    tol: float = 1e-6, max_iters: int = 2000, rows: torch.Tensor | None = None,
) -> torch.Tensor:  # fmt: skip
    """A (N, N) for one edge type from its policy: move (P, S, K, S), finish (P, S). FINISHing
    at a virtual node ("variables" view) adds no edge: it counts like a BACKTRACK. With
    ``rows`` (node indices), only walks from those nodes are solved; the other rows are 0."""
    y0 = start_distribution(enc, move.shape[1], move.dtype, rows)
    visits = expected_visits(move, y0, enc.successor, solver, tol, max_iters)  # (B, P, S)
    at_position = (visits * finish).sum(-1)  # (B, P): P(finish at position p)
    n = enc.num_nodes
    out = torch.zeros(len(y0), n + enc.num_virtual, dtype=move.dtype, device=move.device)
    out = out.index_add(1, enc.position_node, at_position)[:, :n]
    if rows is None:
        return out
    full = torch.zeros(n, n, dtype=move.dtype, device=move.device)
    return full.index_copy(0, rows, out)


class GfsaLayer(nn.Module):
    """The GFSA layer: ``forward(encoding) -> (E, N, N)`` edge probabilities."""

    def __init__(self, config: GfsaConfig) -> None:
        super().__init__()
        self.config = config
        observations = num_observations(config.view)
        same_rows = variable_observation_ids(config.view) if config.same_variable else ()
        self.policy = FiniteStatePolicy(
            config.num_edge_types * config.walkers, config.num_states, config.finish_bias,
            config.backtrack_bias, config.init_scale, config.view, same_rows,
        )  # fmt: skip
        # (O,) observation id -> its row when the node accesses the start node's variable
        same_ids = torch.arange(observations)
        same_ids[list(same_rows)] = torch.arange(observations, observations + len(same_rows))
        self.register_buffer("same_ids", same_ids, persistent=False)
        if config.platt_scale:
            self.scale = nn.Parameter(torch.ones(config.num_edge_types))
            self.shift = nn.Parameter(torch.zeros(config.num_edge_types))
        # (E, O) bool: which start observations ("<type>", "start") begin walks of edge type e
        starts = torch.ones(config.num_edge_types, observations, dtype=torch.bool)
        if config.sources is not None:
            ids = observation_ids(config.view)
            starts[:] = False
            for e, types in enumerate(config.sources):
                unknown = [t for t in types if (t, START) not in ids]
                if unknown:
                    raise ValueError(f"sources: {unknown} are not node types of the {config.view!r} view")
                starts[e, [ids[(t, START)] for t in types]] = True
        self.register_buffer("starts", starts, persistent=False)

    def widen(self, walkers: int, noise: float = 0.5) -> GfsaLayer:
        """A new layer with ``walkers`` walkers per edge type, each a copy of this (one-walker)
        layer's walk with Gaussian noise of std ``noise`` added to the new walkers' logits, and
        the same Platt scale and shift. The copies break their symmetry in training: where a
        start has two targets and walker 0 leans towards one, the noisy-OR rewards the other
        walkers most for the other. (New walkers started near always-BACKTRACK instead never
        left it: finishing anywhere at random costs more than it gains.)"""
        if self.config.walkers != 1:
            raise ValueError(f"widen needs a one-walker layer, this one has {self.config.walkers}")
        wide = GfsaLayer(replace(self.config, walkers=walkers))
        with torch.no_grad():
            logits = self.policy.logits.repeat_interleave(walkers, dim=0)  # row e * W + w: edge type e
            extra = torch.ones(walkers, dtype=torch.bool).repeat(self.config.num_edge_types)
            extra[::walkers] = False  # walker 0 keeps the trained walk exactly
            logits[extra] += noise * torch.randn_like(logits[extra])
            wide.policy.logits.copy_(logits)
            if self.config.platt_scale:
                wide.scale.copy_(self.scale)
                wide.shift.copy_(self.shift)
        return wide.to(self.policy.logits.device)

    def source_rows(self, enc: GfsaEncoding, e: int) -> torch.Tensor | None:
        """The node indices whose walks edge type ``e`` solves (None: every node)."""
        if self.config.sources is None:
            return None
        return self.starts[e, enc.start_obs].nonzero().squeeze(1)

    def solver_for(self, enc: GfsaEncoding) -> str:
        """The solver used for a graph (``config.solver`` unless it is ``"auto"``): on the CPU
        the sparse LU (dense for tiny systems); elsewhere the dense LU, and the fixed point for
        systems too large to hold densely."""
        if self.config.solver != "auto":
            return self.config.solver
        transient = enc.num_positions * self.config.num_states
        if enc.start.device.type == "cpu":
            return "sparse" if transient >= self.config.sparse_min_states else "dense"
        return "dense" if transient <= self.config.dense_max_states else "fixed_point"

    def forward(self, enc: GfsaEncoding) -> torch.Tensor:
        if enc.view != self.config.view:
            raise ValueError(f"the layer was made for the {self.config.view!r} GFSA view, "
                             f"the graph was encoded in the {enc.view!r} view")  # fmt: skip
        probs = self.policy(enc.position_obs)
        same = self.policy(self.same_ids[enc.position_obs]) if self.config.same_variable else None
        solver = self.solver_for(enc)
        w = self.config.walkers
        walks = torch.stack([self._adjacency(e, t, probs, same, enc, solver)
                             for e in range(self.config.num_edge_types) for t in range(e * w, e * w + w)])
        if w == 1:
            return walks
        # noisy-OR over each edge type's walkers: (E * W, N, N) -> (E, N, N)
        return 1 - (1 - walks.unflatten(0, (self.config.num_edge_types, w))).prod(1)

    def _adjacency(
        self, e: int, table: int, probs: PolicyProbabilities, same: PolicyProbabilities | None,
        enc: GfsaEncoding, solver: str,
    ) -> torch.Tensor:  # fmt: skip
        """A (N, N) of the walker with policy ``table`` of edge type ``e``; with same-variable
        observations, solved per start variable."""
        rows = self.source_rows(enc, e)
        solve = (enc, solver, self.config.tol, self.config.max_iters)
        if same is None or enc.position_variable is None:
            return finish_adjacency(probs.move[table], probs.finish[table], *solve, rows)
        if rows is None:
            rows = torch.arange(enc.num_nodes, device=enc.start.device)
        start_variable = enc.node_variable[rows]  # (B,) -1: not a variable
        out = torch.zeros(enc.num_nodes, enc.num_nodes, dtype=probs.move.dtype, device=probs.move.device)
        for variable in start_variable.unique().tolist():
            move, finish = probs.move[table], probs.finish[table]
            if variable >= 0:
                here = enc.position_variable == variable  # (P,) the positions of its nodes
                move = torch.where(here[:, None, None, None], same.move[table], move)
                finish = torch.where(here[:, None], same.finish[table], finish)
            out = out + finish_adjacency(move, finish, *solve, rows[start_variable == variable])
        return out

    def edge_logits(self, enc: GfsaEncoding) -> torch.Tensor:
        """(E, N, N) binary logits of the learned edges: ``logit(A)``, Platt-scaled if configured."""
        a = self(enc).clamp(LOGIT_EPS, 1 - LOGIT_EPS)
        logits = torch.log(a) - torch.log1p(-a)
        if self.config.platt_scale:
            logits = self.scale[:, None, None] * logits + self.shift[:, None, None]
        if self.config.sources is not None:
            sources = self.starts[:, enc.start_obs]  # (E, N)
            logits = logits.masked_fill(~sources[:, :, None], MASKED_LOGIT)
        return logits

    def edge_probabilities(self, enc: GfsaEncoding) -> torch.Tensor:
        """(E, N, N) ``sigmoid(edge_logits)``: equal to ``A`` unless Platt scaling is on."""
        return torch.sigmoid(self.edge_logits(enc))
