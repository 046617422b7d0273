"""The variable-misuse model: a GGNN over the program graph with GREAT's two pointer heads.

Node inputs: an embedding of the node type plus the mean of the embeddings of the node's
subtokens (names split at snake_case / camelCase), plus (``access_inputs``) an embedding of how
a ``Name`` touches its variable (read, write, both; `graph_inputs.ACCESS_IDS`). Then ``rounds`` rounds of gated message
passing (Li et al. 2016): every node sums ``W_k h_u`` over its incoming edges ``u -> v`` of each
kind ``k`` (and, for the non-AST kinds, ``W'_k h_v`` back along the reverse direction) and
updates its state with a GRU cell. The edge kinds are those of the example's edge set
(`graph_inputs.EDGE_SETS`); with ``"gfsa"`` a `GfsaLayer` computes ``E`` weighted adjacency
matrices over the AST nodes from the AST alone, and messages flow along them (both
directions, weighted), so the layer is trained end to end by the misuse loss.

Heads (as GREAT): localisation, a softmax over the function's variable reads plus a "no bug"
slot (scored from the mean of the node states); repair, a softmax over all variable accesses,
whose probability on the right variable is the sum over its occurrences.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .graph_inputs import ACCESS_IDS, AST_EDGES, MisuseGraph, edge_kinds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MisuseConfig:
    vocab_size: int  # subtoken ids 0..vocab_size-1 (0 unknown / padding)
    num_node_types: int  # node type ids 0..num_node_types-1 (0 unknown)
    edge_set: str = "hand"  # `graph_inputs.EDGE_SETS`
    hidden: int = 96  # node state size
    rounds: int = 6  # message-passing rounds
    gfsa_edge_types: int = 3  # edge set "gfsa": learned edge types
    gfsa_states: int = 4  # edge set "gfsa": the layer's finite states
    gfsa_view: str = "accesses"  # edge set "gfsa": the GFSA view the layer reads
    gfsa_sources: list[list[str]] | None = None  # edge set "gfsa": `GfsaConfig.sources`
    gfsa_same_variable: bool = False  # edge set "gfsa": `GfsaConfig.same_variable`
    access_inputs: bool = False  # embed each node's access kind (models saved before it had none)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MisuseOutput:
    """One graph's head outputs."""

    location: torch.Tensor  # (1 + U,) logits: slot 0 "no bug", then each read of ``uses``
    repair: torch.Tensor  # (A,) logits over ``accesses``


class MisuseModel(nn.Module):
    def __init__(self, config: MisuseConfig) -> None:
        super().__init__()
        self.config = config
        d = config.hidden
        self.type_embedding = nn.Embedding(config.num_node_types, d)
        self.subtoken_embedding = nn.Embedding(config.vocab_size, d, padding_idx=0)
        self.access_embedding = nn.Embedding(len(ACCESS_IDS), d) if config.access_inputs else None
        self.kinds = [str(k) for k in edge_kinds(config.edge_set)]
        directions = [f"{k}>" for k in self.kinds] + [f"{k}<" for k in self.kinds if k not in map(str, AST_EDGES)]
        self.gfsa = None
        if config.edge_set == "gfsa":
            from bowerbird.learners.gfsa.layer import GfsaConfig, GfsaLayer

            self.gfsa = GfsaLayer(GfsaConfig(num_edge_types=config.gfsa_edge_types, num_states=config.gfsa_states,
                                             platt_scale=True, view=config.gfsa_view, sources=config.gfsa_sources,
                                             same_variable=config.gfsa_same_variable))  # fmt: skip
            directions += [f"gfsa{e}{arrow}" for e in range(config.gfsa_edge_types) for arrow in "><"]
        self.messages = nn.ModuleDict({name: nn.Linear(d, d, bias=False) for name in directions})
        self.update = nn.GRUCell(d, d)
        self.norm = nn.LayerNorm(d)
        self.location_head = nn.Linear(d, 1)
        self.no_bug_head = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, 1))
        self.repair_head = nn.Linear(d, 1)

    def forward(self, graphs: Sequence[MisuseGraph]) -> list[MisuseOutput]:
        device = self.type_embedding.weight.device
        offsets, total = [], 0
        for g in graphs:
            offsets.append(total)
            total += g.num_nodes
        node_types = torch.cat([g.node_types for g in graphs]).to(device)
        subtokens = torch.cat([g.subtokens for g in graphs]).to(device)
        present = (subtokens > 0).float()
        names = (self.subtoken_embedding(subtokens) * present[..., None]).sum(1) / present.sum(1, keepdim=True).clamp(min=1)
        inputs = self.type_embedding(node_types) + names
        if self.access_embedding is not None:
            inputs = inputs + self.access_embedding(torch.cat([g.access_kinds for g in graphs]).to(device))
        h = self.norm(inputs)
        src, dst, kind = self._edges(graphs, offsets, device)
        soft = self._gfsa_adjacency(graphs) if self.gfsa is not None else []
        for _ in range(self.config.rounds):
            incoming = torch.zeros_like(h)
            for name, (s, t) in zip(kind, zip(src, dst, strict=True), strict=True):
                incoming.index_add_(0, t, self.messages[name](h[s]))
            for offset, graph_nodes, adjacency in soft:
                rows = offset + graph_nodes
                local = h[rows]  # (Na, d)
                for e in range(adjacency.shape[0]):
                    a = adjacency[e]  # (Na, Na): a[u, v] weight of the learned edge u -> v
                    message = a.T @ self.messages[f"gfsa{e}>"](local) + a @ self.messages[f"gfsa{e}<"](local)
                    incoming = incoming.index_add(0, rows, message)
            h = self.norm(self.update(incoming, h))
        outputs = []
        for g, offset in zip(graphs, offsets, strict=True):
            states = h[offset : offset + g.num_nodes]
            no_bug = self.no_bug_head(states.mean(0))
            location = torch.cat([no_bug, self.location_head(states[g.uses.to(device)]).squeeze(-1)])
            repair = self.repair_head(states[g.accesses.to(device)]).squeeze(-1)
            outputs.append(MisuseOutput(location, repair))
        return outputs

    def _edges(self, graphs: Sequence[MisuseGraph], offsets: list[int], device) -> tuple[list, list, list]:
        """Per message direction: the batch's (source rows, destination rows)."""
        src, dst, kind = [], [], []
        for k in self.kinds:
            pieces = [g.edges[k] + o for g, o in zip(graphs, offsets, strict=True) if g.edges[k].numel()]
            if not pieces:
                continue
            pairs = torch.cat(pieces, dim=1).to(device)
            src.append(pairs[0])
            dst.append(pairs[1])
            kind.append(f"{k}>")
            if f"{k}<" in self.messages:
                src.append(pairs[1])
                dst.append(pairs[0])
                kind.append(f"{k}<")
        return src, dst, kind

    def _gfsa_adjacency(self, graphs: Sequence[MisuseGraph]) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
        device = self.type_embedding.weight.device
        out, offset = [], 0
        for g in graphs:
            if g.gfsa_encoding is None:
                raise ValueError(f"{g.id}: the gfsa edge set needs the graph's GFSA encoding")
            adjacency = self.gfsa.edge_probabilities(g.gfsa_encoding.to(device))  # (E, Na, Na)
            out.append((offset, g.gfsa_nodes.to(device), adjacency))
            offset += g.num_nodes
        return out


def example_loss(output: MisuseOutput, graph: MisuseGraph) -> torch.Tensor:
    """Localisation cross-entropy, plus for a buggy example the repair loss
    ``-log sum over the right variable's occurrences of p(occurrence)``."""
    target = torch.tensor(graph.bug + 1, device=output.location.device)
    loss = nn.functional.cross_entropy(output.location[None], target[None])
    if graph.bug >= 0:
        log_p = torch.log_softmax(output.repair, dim=0)
        loss = loss - torch.logsumexp(log_p[graph.repairs.to(log_p.device)], dim=0)
    return loss
