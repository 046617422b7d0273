"""A graph's POMDP (`GfsaView`) as dense tensors for the GFSA layer.

The agent's situation after arriving somewhere is a *position* ``p = (node v, observation o)``:
the node it stands on and what it observed on arrival (``(type of v, arrival move)``, see
`gfsa_view`). What happens next depends only on ``p`` and the agent's finite state, so positions
(times finite states) are the transient states of the layer's Markov chain. A graph has
positions ``(v, (type, "start"))`` for every node ``v`` and ``(dest, observation)`` for every
``(node, move)`` pair; typically a few per node.

Moves are numbered per node type: *slot* ``k`` of a node of type ``T`` is
``move_types(T)[k]``; slots ``k >= len(move_types(T))`` do not exist (masked). Because the node
type is part of the observation, the policy can tell from ``o`` alone which slots exist.

Observation ids index `observation_vocabulary(view)` from 1; id 0 is an observation outside the
vocabulary (it should not happen; it gets its own row of policy logits). Every function taking a
``view`` (`gfsa_view.VIEWS`) sizes the policy's table for that view; the default view's
vocabulary, slots and digest are those of layers saved before views existed.

In the "variables" view the POMDP also has virtual variable nodes: they have positions (their
index in ``position_node`` is ``N + j`` for the ``j``-th virtual node) but no adjacency row or
column and no start position, so the layer's output stays ``(N, N)`` over the AST nodes.
``position_variable`` says which variable each position's node accesses (the ``j`` of its
virtual node; the virtual node itself counts as its variable's), for the layer's
same-variable observations (`variable_observation_ids`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass

import torch

from bowerbird.analysis.graphs.gfsa_view import (
    ACCESS_TYPES,
    DEFAULT_VIEW,
    NAME_TYPE,
    START,
    VARIABLE,
    VARIABLE_TYPE,
    GfsaView,
    move_types,
    node_types_of,
    observation_vocabulary,
)
from bowerbird.analysis.graphs.syntax import node_classes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GfsaEncoding:
    """One graph's POMDP as tensors (P positions, N nodes, K = `max_moves()` slots)."""

    nodes: tuple[int, ...]  # graph node id of each row/column 0..N-1 of the adjacency
    position_node: torch.Tensor  # (P,) long: node index (0..N-1; N.. virtual) of each position
    position_obs: torch.Tensor  # (P,) long: observation id of each position
    successor: torch.Tensor  # (P, K) long: position after taking slot k (p itself if no slot k)
    start: torch.Tensor  # (N,) long: the start position (v, (type, "start")) of each node
    num_virtual: int = 0  # V, virtual nodes (indices N..N+V-1 of position_node)
    view: str = DEFAULT_VIEW  # the GFSA view encoded (observation ids are that view's)
    # (P,) long: the variable (0..V-1) of each position's node, -1 for none; None without variables
    position_variable: torch.Tensor | None = None

    @property
    def num_nodes(self) -> int:
        return len(self.nodes)

    @property
    def num_positions(self) -> int:
        return int(self.position_node.shape[0])

    @property
    def start_obs(self) -> torch.Tensor:
        """(N,) long: the observation id of each AST node's start position ("<type>", "start")."""
        return self.position_obs[self.start]

    @property
    def node_variable(self) -> torch.Tensor | None:
        """(N,) long: the variable each AST node accesses (-1 for none); None without variables."""
        return None if self.position_variable is None else self.position_variable[self.start]

    def to(self, device: torch.device | str) -> GfsaEncoding:
        """The same encoding with its tensors on ``device``."""
        return GfsaEncoding(
            self.nodes,
            self.position_node.to(device),
            self.position_obs.to(device),
            self.successor.to(device),
            self.start.to(device),
            self.num_virtual,
            self.view,
            None if self.position_variable is None else self.position_variable.to(device),
        )


@functools.cache
def observation_ids(view: str = DEFAULT_VIEW) -> dict[tuple[str, str], int]:
    """Observation -> id, from 1 in `observation_vocabulary(view)` order (0 = unknown)."""
    return {obs: i + 1 for i, obs in enumerate(observation_vocabulary(view))}


def num_observations(view: str = DEFAULT_VIEW) -> int:
    """Rows of the policy's table: the vocabulary plus the unknown observation."""
    return len(observation_vocabulary(view)) + 1


@functools.cache
def vocabulary_digest(view: str = DEFAULT_VIEW) -> str:
    """A short hash of the observation vocabulary and move slots of ``view`` (checkpoints record
    it). The default view's text, and so its digest, is the one from before views existed."""
    if view == DEFAULT_VIEW:
        slots = {t: move_types(t) for t in sorted(node_classes())}
    else:
        slots = {t: move_types(t, view) for t in node_types_of(view)}
    text = repr((observation_vocabulary(view), slots))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def max_moves(view: str = DEFAULT_VIEW) -> int:
    """K, the largest number of move types of any node type (the policy's move slots)."""
    return max(len(move_types(t, view)) for t in node_types_of(view))


@functools.cache
def variable_observation_ids(view: str = DEFAULT_VIEW) -> tuple[int, ...]:
    """The ids of the observations made at a variable's nodes (a ``Name``, its access types,
    the virtual variable node): where the agent can also observe that the node accesses the
    start node's variable (`layer`'s ``same_variable``)."""
    kinds = {NAME_TYPE, VARIABLE_TYPE, *ACCESS_TYPES}
    return tuple(i for (node_type, _), i in observation_ids(view).items() if node_type in kinds)


def slot_mask(view: str = DEFAULT_VIEW) -> torch.Tensor:
    """(num_observations, K) bool: which move slots exist at the node type of each observation."""
    mask = torch.zeros(num_observations(view), max_moves(view), dtype=torch.bool)
    for (node_type, _), i in observation_ids(view).items():
        mask[i, : len(move_types(node_type, view))] = True
    mask[0, :] = True  # unknown observation: allow every slot (the encoder never uses it)
    return mask


def encode(view: GfsaView) -> GfsaEncoding:
    """The tensors of one graph's POMDP (see the module docstring)."""
    ids = observation_ids(view.view)
    states = view.states
    index = {n: i for i, n in enumerate(states)}
    positions: dict[tuple[int, int], int] = {}  # (node index, observation id) -> position

    def position(node: int, obs: tuple[str, str]) -> int:
        key = (index[node], ids.get(obs, 0))
        if key[1] == 0:
            logger.warning("observation %s is not in the vocabulary", obs)
        return positions.setdefault(key, len(positions))

    start = [position(n, (view.observed_type(n), START)) for n in view.nodes]
    moves_of = {n: move_types(view.node_types[n], view.view) for n in states}
    arrival = {
        (n, k): position(view.moves[(n, m)], view.observation(n, m))
        for n in states
        for k, m in enumerate(moves_of[n])
    }
    successor = torch.empty(len(positions), max_moves(view.view), dtype=torch.long)
    position_node = torch.empty(len(positions), dtype=torch.long)
    position_obs = torch.empty(len(positions), dtype=torch.long)
    for (v, obs), p in positions.items():
        position_node[p], position_obs[p] = v, obs
        node = states[v]
        successor[p] = p
        for k in range(len(moves_of[node])):
            successor[p, k] = arrival[(node, k)]
    position_variable = None
    if view.virtual:
        variable = {v: j for j, v in enumerate(view.virtual)}  # virtual node -> its variable
        for n in view.nodes:
            if view.moves.get((n, VARIABLE), n) != n:
                variable[n] = variable[view.moves[(n, VARIABLE)]]
        position_variable = torch.tensor([variable.get(states[v], -1) for v in position_node.tolist()],
                                         dtype=torch.long)  # fmt: skip
    return GfsaEncoding(
        view.nodes, position_node, position_obs, successor, torch.tensor(start, dtype=torch.long),
        len(view.virtual), view.view, position_variable,
    )  # fmt: skip
