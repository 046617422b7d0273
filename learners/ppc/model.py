"""RLPG's Prompt Proposal Classifiers over a frozen encoder's vectors (Shrivastava et al. 2023).

Both score all proposals of the catalog at once, one logit each (a sigmoid: "does this
proposal's prompt make the model complete the hole?"):

- `RLPGH`: the hole's vector (its window, encoded) -> MLP -> one logit per proposal. It learns
  which proposals help which kinds of holes without looking at their contexts.
- `RLPGR`: the hole's vector attends over the vectors of each applicable proposal's context
  (each tagged with a learned embedding of its proposal id): multi-head attention, residual,
  layer norm, feed-forward, layer norm, then one logit per proposal.

Proposals that do not apply to a hole (no context) are masked: they are left out of the loss
(`masked_loss`) and never chosen (`choose`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

NUM_PROPOSALS = 63  # the catalog's ids 0..62 (62: in_file)


@dataclass(frozen=True)
class PPCConfig:
    kind: str  # "rlpg_h" | "rlpg_r"
    dim: int  # the encoder's vector size
    hidden: int = 256  # MLP / feed-forward width
    heads: int = 4  # RLPG-R's attention heads (divides dim)
    dropout: float = 0.1
    proposals: int = NUM_PROPOSALS

    def to_json(self) -> dict:
        return asdict(self)


class RLPGH(nn.Module):
    def __init__(self, config: PPCConfig):
        super().__init__()
        self.config = config
        self.mlp = nn.Sequential(nn.Linear(config.dim, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
                                 nn.Linear(config.hidden, config.proposals))

    def forward(self, hole: torch.Tensor, contexts: torch.Tensor | None = None,
                applicable: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [batch, proposals] from hole vectors [batch, dim]; the contexts are not read."""
        return self.mlp(hole)


class RLPGR(nn.Module):
    def __init__(self, config: PPCConfig):
        super().__init__()
        if config.dim % config.heads:
            raise ValueError(f"heads ({config.heads}) must divide dim ({config.dim})")
        self.config = config
        self.proposal = nn.Embedding(config.proposals, config.dim)
        self.attention = nn.MultiheadAttention(config.dim, config.heads, dropout=config.dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(config.dim)
        self.feed = nn.Sequential(nn.Linear(config.dim, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
                                  nn.Linear(config.hidden, config.dim))
        self.norm2 = nn.LayerNorm(config.dim)
        self.out = nn.Linear(config.dim, config.proposals)

    def forward(self, hole: torch.Tensor, contexts: torch.Tensor, applicable: torch.Tensor) -> torch.Tensor:
        """Logits [batch, proposals] from hole vectors [batch, dim], context vectors [batch,
        proposals, dim] and the applicable mask [batch, proposals] (contexts of proposals that
        do not apply are never attended to)."""
        keys = contexts + self.proposal.weight[None]
        # a hole where nothing applies still has in_file; guard the softmax anyway
        blocked = ~applicable if bool(applicable.any(-1).all()) else torch.zeros_like(applicable)
        attended, _ = self.attention(hole[:, None], keys, keys, key_padding_mask=blocked, need_weights=False)
        x = self.norm1(hole + attended[:, 0])
        x = self.norm2(x + self.feed(x))
        return self.out(x)


def proposal_mask(rows: list[list[int]]) -> torch.Tensor:
    """[len(rows), NUM_PROPOSALS] bool: row i is True at the proposal ids of rows[i] (ids outside
    the catalog ignored)."""
    mask = torch.zeros(len(rows), NUM_PROPOSALS, dtype=torch.bool)
    for i, ids in enumerate(rows):
        mask[i, [p for p in ids if 0 <= p < NUM_PROPOSALS]] = True
    return mask


def build(config: PPCConfig) -> nn.Module:
    if config.kind == "rlpg_h":
        return RLPGH(config)
    if config.kind == "rlpg_r":
        return RLPGR(config)
    raise ValueError(f"unknown classifier {config.kind!r} (rlpg_h or rlpg_r)")


def masked_loss(logits: torch.Tensor, labels: torch.Tensor, applicable: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the applicable proposals only, averaged over them."""
    losses = nn.functional.binary_cross_entropy_with_logits(logits, labels.float(), reduction="none")
    mask = applicable.float()
    return (losses * mask).sum() / mask.sum().clamp(min=1.0)


def choose(logits: torch.Tensor, applicable: torch.Tensor) -> torch.Tensor:
    """The applicable proposal with the highest logit, per hole [batch]."""
    return logits.masked_fill(~applicable, float("-inf")).argmax(-1)
