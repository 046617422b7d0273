"""Fitting one developer's weights: L2-regularised logistic regression towards a prior.

Given comparisons ``z_i = phi(winner_i) - phi(loser_i)`` (rows of ``Z``), the weights minimise

    sum_i log(1 + exp(-w . z_i)) + (strength / 2) * |w - prior|^2,

a convex problem solved by Newton's method (a d x d system per iteration; d is 8 to 32, so a
fit takes well under a millisecond, far inside the 10 ms budget). With no comparisons the
answer is the prior: a new developer starts at the population's ranking, and every choice
moves them from it (`OnlineWeights` refits after each event).
"""

from __future__ import annotations

import torch


def fit_weights(z: torch.Tensor, prior: torch.Tensor, strength: float, iterations: int = 20,
                tol: float = 1e-8) -> torch.Tensor:  # fmt: skip
    """The weights (d,) for comparisons ``z`` (k, d), in float64 internally."""
    if strength <= 0:
        raise ValueError(f"strength must be positive, not {strength}")
    prior64 = prior.detach().to(torch.float64)
    if len(z) == 0:
        return prior.detach().clone()
    z64 = z.detach().to(torch.float64)
    w = prior64.clone()
    eye = torch.eye(len(w), dtype=torch.float64)
    for _ in range(iterations):
        margin = z64 @ w
        p_wrong = torch.sigmoid(-margin)  # the probability the model gives the loser
        grad = -(z64 * p_wrong[:, None]).sum(0) + strength * (w - prior64)
        curvature = p_wrong * (1 - p_wrong)
        hessian = (z64 * curvature[:, None]).T @ z64 + strength * eye
        step = torch.linalg.solve(hessian, grad)
        w = w - step
        if step.abs().max() < tol:
            break
    return w.to(prior.dtype)


class OnlineWeights:
    """A developer's weights, refitted from all their comparisons after each new one (the
    problem is convex and small, so refitting is exact and cheap; at most ``window`` most
    recent comparisons are kept, so old habits fade)."""

    def __init__(self, prior: torch.Tensor, strength: float, window: int = 500):
        self.prior = prior.detach().clone()
        self.strength = strength
        self.window = window
        self._z: list[torch.Tensor] = []
        self.weights = self.prior.clone()

    @property
    def events(self) -> int:
        return len(self._z)

    def add(self, z: torch.Tensor) -> torch.Tensor:
        """Add comparisons ``z`` ((d,) or (k, d): winner minus loser) and refit."""
        rows = z.reshape(-1, len(self.prior))
        self._z.extend(rows.detach())
        self._z = self._z[-self.window :]
        self.weights = fit_weights(torch.stack(self._z), self.prior, self.strength)
        return self.weights
