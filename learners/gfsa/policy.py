"""The finite-state policy of the GFSA agent: a learnable logit table per (observation, state).

With S finite states and K move slots, at observation ``o`` in finite state ``z`` the agent
draws one action from a single softmax over

- ``(k, z')`` for each move slot ``k`` that exists at ``o``'s node type and each next state
  ``z'`` (K * S entries; slots that do not exist are masked to probability 0),
- FINISH: add the edge ``start -> current node`` and stop,
- BACKTRACK: abandon the walk; it adds nothing.

The table holds ``(E, O, S, K * S + 2)`` logits for E learned edge types (one independent policy
each) and O observations. Only the rows of the observations that occur in a graph are used.
With ``extra_rows`` the table has rows ``O, O + 1, ...`` after those: the layer's same-variable
observations (`layer`), each a copy of an observation made at a variable's node
(``extra_rows[i]`` is the observation whose slots row ``O + i`` has).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from bowerbird.analysis.graphs.gfsa_view import DEFAULT_VIEW

from .encoding import max_moves, num_observations, slot_mask


@dataclass(frozen=True)
class PolicyProbabilities:
    """The policy at each position of one graph, per edge type (E, P, S, K positions/slots)."""

    move: torch.Tensor  # (E, P, S, K, S): P(take slot k and go to state z' | position p, state z)
    finish: torch.Tensor  # (E, P, S): P(FINISH | p, z)
    backtrack: torch.Tensor  # (E, P, S): P(BACKTRACK | p, z)


class FiniteStatePolicy(nn.Module):
    """Logits per (edge type, observation, finite state) over moves x next state, FINISH, BACKTRACK."""

    def __init__(
        self, num_edge_types: int, num_states: int, finish_bias: float = 0.0,
        backtrack_bias: float = 0.0, init_scale: float = 0.01, view: str = DEFAULT_VIEW,
        extra_rows: tuple[int, ...] = (),
    ) -> None:  # fmt: skip
        super().__init__()
        self.num_states = num_states  # S
        self.num_slots = max_moves(view)  # K
        rows = num_observations(view) + len(extra_rows)
        logits = init_scale * torch.randn(num_edge_types, rows, num_states, self.num_slots * num_states + 2)
        logits[..., -2] += finish_bias
        logits[..., -1] += backtrack_bias
        self.logits = nn.Parameter(logits)  # (E, O, S, K*S + 2)
        # (O, K*S + 2): False where a slot does not exist at the observation's node type
        allowed = slot_mask(view)
        allowed = torch.cat([allowed, allowed[torch.tensor(extra_rows, dtype=torch.long)]])
        allowed = allowed.repeat_interleave(num_states, dim=1)
        allowed = torch.cat([allowed, torch.ones(allowed.shape[0], 2, dtype=torch.bool)], dim=1)
        self.register_buffer("allowed", allowed, persistent=False)

    def forward(self, position_obs: torch.Tensor) -> PolicyProbabilities:
        """The policy at each position, from its observation ids ``position_obs`` (P,)."""
        return policy_from_logits(
            self.logits[:, position_obs], self.allowed[position_obs], self.num_states
        )


def policy_from_logits(
    logits: torch.Tensor, allowed: torch.Tensor, num_states: int
) -> PolicyProbabilities:
    """Softmax over the allowed actions. logits (E, P, S, K*S+2), allowed (P, K*S+2) bool."""
    e, p, s, _ = logits.shape
    masked = logits.masked_fill(~allowed[None, :, None, :], float("-inf"))
    probs = torch.softmax(masked, dim=-1)  # (E, P, S, K*S + 2)
    move = probs[..., :-2].reshape(e, p, s, -1, num_states)  # (E, P, S, K, S)
    return PolicyProbabilities(move, probs[..., -2], probs[..., -1])
