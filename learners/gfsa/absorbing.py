"""The GFSA agent's absorbing Markov chain, solved for every start node at once.

States. The *transient* states are ``t = (p, z)``: the agent stands at position ``p`` (a node
and the observation it made on arriving, see `encoding`) in finite state ``z``; T = P * S of
them. The *absorbing* states are "finished at node v" (one per node) and "backtracked". From
``(p, z)`` the agent takes move slot ``k`` to the successor position ``succ[p, k]`` and state
``z'`` with probability ``move[p, z, k, z']``; FINISH and BACKTRACK absorb. So the transient
block of the transition matrix is

    Q[(p, z), (succ[p, k], z')] += move[p, z, k, z']        (rows sum to 1 - finish - backtrack)

Every softmax gives FINISH and BACKTRACK positive probability, so every row of Q sums to less
than 1, the spectral radius of Q is below 1 and ``I - Q`` is invertible: the agent stops with
probability 1.

The linear system. Starting from the distribution ``y0`` over transient states (one row per
start node: its start position in state 0), the expected number of visits to each transient
state is ``y = y0 + y0 Q + y0 Q^2 + ... = y0 (I - Q)^-1``, i.e. the solution of

    y (I - Q) = y0        (equivalently the fixed point y = y0 + y Q).

The probability of finishing at node ``v`` is then ``A[start, v] = sum over t at v of
y[start, t] * finish[t]``; that is the layer's weighted adjacency (`layer`), and its rows sum to
``1 - P(backtrack) <= 1``.

Solvers. `DenseVisits` builds ``I - Q`` as a (T, T) matrix and solves it by LU (small graphs,
or any graph on a GPU); `SparseVisits` builds it as a scipy sparse matrix (K * S entries a row)
and factors it with SuperLU under a fill-reducing ordering: the position graph is a tree plus
a few links, so the factors stay sparse, and on a CPU this is 11-27 times faster than the
dense LU from a few thousand transient states on; `FixedPointVisits` iterates ``y <- y0 + y Q``
with sparse pushes until the change is below a tolerance (no factorisation; the error shrinks
geometrically with the spectral radius of Q, so long walks need many iterations).

Gradients by implicit differentiation (the adjoint method), never through the iterations.
Differentiating ``y (I - Q) = y0`` gives ``dy (I - Q) = dy0 + y dQ``. For a loss L with
``g = dL/dy``, define the adjoint ``lam`` as the solution of

    lam (I - Q)^T = g        (equivalently the fixed point lam = g + lam Q^T);

then ``dL = <g, dy> = <lam, dy0 + y dQ>``, so ``dL/dy0 = lam`` and
``dL/dQ[t, t'] = sum over starts of y[., t] * lam[., t']``, which for the structured Q is

    dL/dmove[p, z, k, z'] = sum_b y[b, p, z] * lam[b, succ[p, k], z'].

The backward pass solves the adjoint system with the same solver as the forward pass (the
dense one reuses the LU factors), at the cost of one more solve.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

logger = logging.getLogger(__name__)


def push(y: torch.Tensor, move: torch.Tensor, successor: torch.Tensor) -> torch.Tensor:
    """``y Q``: one step of the walk. y (B, P, S), move (P, S, K, S), successor (P, K)."""
    b, p, s = y.shape
    flow = torch.einsum("bpz,pzkw->bpkw", y, move)  # (B, P, K, S) mass leaving by slot k to z'
    out = torch.zeros_like(y)
    return out.index_add_(1, successor.reshape(-1), flow.reshape(b, -1, s))


def pull(lam: torch.Tensor, move: torch.Tensor, successor: torch.Tensor) -> torch.Tensor:
    """``lam Q^T`` (the adjoint step): ``out[b, p, z] = sum_kz' move[p,z,k,z'] lam[b, succ[p,k], z']``."""
    return torch.einsum("pzkw,bpkw->bpz", move, lam[:, successor])


def move_gradient(y: torch.Tensor, lam: torch.Tensor, successor: torch.Tensor) -> torch.Tensor:
    """dL/dmove (P, S, K, S) from the visits ``y`` and the adjoint ``lam`` (both (B, P, S))."""
    return torch.einsum("bpz,bpkw->pzkw", y, lam[:, successor])


def transition_matrix(move: torch.Tensor, successor: torch.Tensor) -> torch.Tensor:
    """The dense transient block Q (T, T), T = P * S, states ordered ``t = p * S + z``."""
    p, s, k, _ = move.shape
    pairs = torch.arange(p, device=move.device)[:, None] * p + successor  # (P, K): p * P + p'
    blocks = move.permute(0, 2, 1, 3).reshape(p * k, s, s)  # (P*K, S, S) [z, z'] per (p, k)
    q = torch.zeros(p * p, s, s, dtype=move.dtype, device=move.device)
    q.index_add_(0, pairs.reshape(-1), blocks)
    return q.view(p, p, s, s).permute(0, 2, 1, 3).reshape(p * s, p * s)


class DenseVisits(torch.autograd.Function):
    """Expected visits ``y = y0 (I - Q)^-1`` by LU; backward solves the adjoint with the same LU."""

    @staticmethod
    def forward(ctx: Any, move: torch.Tensor, y0: torch.Tensor, successor: torch.Tensor) -> torch.Tensor:
        b, p, s = y0.shape
        system = torch.eye(p * s, dtype=move.dtype, device=move.device)
        system -= transition_matrix(move, successor)  # I - Q
        lu, pivots = torch.linalg.lu_factor(system)
        # y (I - Q) = y0  <=>  (I - Q)^T y^T = y0^T
        y = torch.linalg.lu_solve(lu, pivots, y0.reshape(b, -1).T, adjoint=True).T
        y = y.reshape(b, p, s)
        ctx.save_for_backward(move, successor, lu, pivots, y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        move, successor, lu, pivots, y = ctx.saved_tensors
        b, p, s = grad.shape
        # lam (I - Q)^T = g  <=>  (I - Q) lam^T = g^T
        lam = torch.linalg.lu_solve(lu, pivots, grad.reshape(b, -1).T).T.reshape(b, p, s)
        return move_gradient(y, lam, successor), lam, None


def sparse_system(move: torch.Tensor, successor: torch.Tensor) -> Any:
    """``(I - Q)^T`` as a scipy CSC matrix (float64), states ordered ``t = p * S + z``."""
    import numpy as np
    import scipy.sparse as sparse

    p, s, k, _ = move.shape
    rows = np.arange(p)[:, None, None, None] * s + np.arange(s)[None, :, None, None]  # (P, S, 1, 1)
    cols = successor.cpu().numpy()[:, None, :, None] * s + np.arange(s)[None, None, None, :]  # (P, 1, K, S)
    rows, cols = np.broadcast_to(rows, (p, s, k, s)), np.broadcast_to(cols, (p, s, k, s))
    values = move.detach().cpu().to(torch.float64).numpy()
    q = sparse.csr_matrix((values.ravel(), (rows.ravel(), cols.ravel())), shape=(p * s, p * s))
    # duplicate (row, col) pairs (two slots to the same successor) are summed by the constructor
    return (sparse.identity(p * s, format="csr") - q).T.tocsc()


class SparseVisits(torch.autograd.Function):
    """Expected visits by a sparse LU of ``(I - Q)^T`` (scipy's SuperLU); backward solves the
    adjoint with the same factors (CPU only: the tensors are moved through numpy)."""

    @staticmethod
    def forward(ctx: Any, move: torch.Tensor, y0: torch.Tensor, successor: torch.Tensor) -> torch.Tensor:
        from scipy.sparse.linalg import splu

        b, p, s = y0.shape
        lu = splu(sparse_system(move, successor), permc_spec="MMD_AT_PLUS_A")
        # y (I - Q) = y0  <=>  (I - Q)^T y^T = y0^T
        rhs = y0.detach().reshape(b, -1).T.to(torch.float64).numpy()
        y = torch.from_numpy(lu.solve(rhs).T.copy()).to(move.dtype).reshape(b, p, s)
        ctx.lu = lu
        ctx.save_for_backward(move, successor, y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        move, successor, y = ctx.saved_tensors
        b, p, s = grad.shape
        # lam (I - Q)^T = g  <=>  (I - Q) lam^T = g^T, the transpose of the factored matrix
        rhs = grad.detach().reshape(b, -1).T.to(torch.float64).numpy()
        lam = torch.from_numpy(ctx.lu.solve(rhs, trans="T").T.copy()).to(move.dtype).reshape(b, p, s)
        return move_gradient(y, lam, successor), lam, None


def fixed_point(
    base: torch.Tensor, step: Callable[[torch.Tensor], torch.Tensor], tol: float,
    max_iters: int, what: str,
) -> torch.Tensor:  # fmt: skip
    """Iterate ``x <- base + step(x)`` from ``base`` until max |change| <= tol * max(1, max |x|)."""
    x = base
    change = 0.0
    for _ in range(max_iters):
        new = base + step(x)
        if not new.numel():
            return new
        change = (new - x).abs().max().item()
        x = new
        if change <= tol * max(1.0, x.abs().max().item()):
            return x
    logger.warning("%s: no convergence in %d iterations (last change %.2e)", what, max_iters, change)
    return x


class FixedPointVisits(torch.autograd.Function):
    """Expected visits by iterating ``y <- y0 + y Q``; backward iterates ``lam <- g + lam Q^T``."""

    @staticmethod
    def forward(
        ctx: Any, move: torch.Tensor, y0: torch.Tensor, successor: torch.Tensor,
        tol: float, max_iters: int,
    ) -> torch.Tensor:  # fmt: skip
        y = fixed_point(y0, lambda x: push(x, move, successor), tol, max_iters, "visits")
        ctx.save_for_backward(move, successor, y)
        ctx.tol, ctx.max_iters = tol, max_iters
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        move, successor, y = ctx.saved_tensors
        lam = fixed_point(
            grad, lambda x: pull(x, move, successor), ctx.tol, ctx.max_iters, "adjoint"
        )
        return move_gradient(y, lam, successor), lam, None, None, None


def expected_visits(
    move: torch.Tensor, y0: torch.Tensor, successor: torch.Tensor, solver: str = "dense",
    tol: float = 1e-6, max_iters: int = 2000,
) -> torch.Tensor:  # fmt: skip
    """``y0 (I - Q)^-1`` (B, P, S) with the ``"dense"``, ``"sparse"`` or ``"fixed_point"`` solver."""
    if solver == "dense":
        return DenseVisits.apply(move, y0, successor)
    if solver == "sparse":
        if move.device.type != "cpu":
            raise ValueError("the sparse solver runs on the CPU only (use dense or fixed_point)")
        return SparseVisits.apply(move, y0, successor)
    if solver == "fixed_point":
        return FixedPointVisits.apply(move, y0, successor, tol, max_iters)
    raise ValueError(f"unknown solver {solver!r}")
