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
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import torch
from torch import nn

from bowerbird.analysis.graphs.gfsa_view import DEFAULT_VIEW, check_view

from .absorbing import expected_visits
from .encoding import GfsaEncoding
from .policy import FiniteStatePolicy

logger = logging.getLogger(__name__)

LOGIT_EPS = 1e-6  # probabilities are clamped to [LOGIT_EPS, 1 - LOGIT_EPS] before the logit


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

    def __post_init__(self) -> None:
        check_view(self.view)

    def to_dict(self) -> dict:
        return asdict(self)


def start_distribution(enc: GfsaEncoding, num_states: int, dtype: torch.dtype) -> torch.Tensor:
    """y0 (N, P, S): row ``s`` puts mass 1 on node ``s``'s start position in finite state 0."""
    y0 = torch.zeros(enc.num_nodes, enc.num_positions, num_states, dtype=dtype,
                     device=enc.start.device)  # fmt: skip
    y0[torch.arange(enc.num_nodes, device=enc.start.device), enc.start, 0] = 1.0
    return y0


def finish_adjacency(
    move: torch.Tensor, finish: torch.Tensor, enc: GfsaEncoding, solver: str,
    tol: float = 1e-6, max_iters: int = 2000,
) -> torch.Tensor:  # fmt: skip
    """A (N, N) for one edge type from its policy: move (P, S, K, S), finish (P, S). FINISHing
    at a virtual node ("variables" view) adds no edge: it counts like a BACKTRACK."""
    y0 = start_distribution(enc, move.shape[1], move.dtype)
    visits = expected_visits(move, y0, enc.successor, solver, tol, max_iters)  # (N, P, S)
    at_position = (visits * finish).sum(-1)  # (N, P): P(finish at position p)
    n = enc.num_nodes
    out = torch.zeros(n, n + enc.num_virtual, dtype=move.dtype, device=move.device)
    out = out.index_add(1, enc.position_node, at_position)
    return out[:, :n] if enc.num_virtual else out


class GfsaLayer(nn.Module):
    """The GFSA layer: ``forward(encoding) -> (E, N, N)`` edge probabilities."""

    def __init__(self, config: GfsaConfig) -> None:
        super().__init__()
        self.config = config
        self.policy = FiniteStatePolicy(
            config.num_edge_types, config.num_states, config.finish_bias,
            config.backtrack_bias, config.init_scale, config.view,
        )  # fmt: skip
        if config.platt_scale:
            self.scale = nn.Parameter(torch.ones(config.num_edge_types))
            self.shift = nn.Parameter(torch.zeros(config.num_edge_types))

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
        solver = self.solver_for(enc)
        return torch.stack([
            finish_adjacency(probs.move[e], probs.finish[e], enc, solver, self.config.tol,
                             self.config.max_iters)
            for e in range(self.config.num_edge_types)
        ])  # fmt: skip

    def edge_logits(self, enc: GfsaEncoding) -> torch.Tensor:
        """(E, N, N) binary logits of the learned edges: ``logit(A)``, Platt-scaled if configured."""
        a = self(enc).clamp(LOGIT_EPS, 1 - LOGIT_EPS)
        logits = torch.log(a) - torch.log1p(-a)
        if self.config.platt_scale:
            logits = self.scale[:, None, None] * logits + self.shift[:, None, None]
        return logits

    def edge_probabilities(self, enc: GfsaEncoding) -> torch.Tensor:
        """(E, N, N) ``sigmoid(edge_logits)``: equal to ``A`` unless Platt scaling is on."""
        return torch.sigmoid(self.edge_logits(enc))
