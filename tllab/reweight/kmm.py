r"""Kernel Mean Matching (Huang et al., 2007): source weights matching the target kernel mean.

KMM solves the box- and slab-constrained quadratic programme

``min_β ½ βᵀKβ − κᵀβ  s.t. 0 ≤ β_i ≤ B, |Σβ_i − n_s| ≤ n_s·ε``,
``κ_i = (n_s/n_t) Σ_j k(x_i, x'_j)``,

in torch (CPU or GPU) to a certified tolerance: projected Newton on the active faces,
then an interior-point method on a working set, when one ``n_s × n_s`` float64 matrix fits
in the memory budget; accelerated projected-gradient / conjugate-gradient cycles
otherwise.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import NamedTuple

import torch

from .._checks import (
    check_choice,
    check_int,
    check_real,
    check_sample_pair,
)
from ..kernels import (
    KERNELS,
    _block,
    _centre,
    _kernel_matvec_centred,
    resolve_bandwidth,
)
from ._common import _work_dtype
from ._kmm_linalg import _Gram
from ._kmm_solvers import _first_order, _second_order

__all__ = [
    "KMM_MEMORY_FRACTION",
    "KMM_FALLBACK_MEMORY",
    "KMMResult",
    "kmm_memory_budget",
    "kmm_weights",
]


KMM_MEMORY_FRACTION = 0.5
"""Share of the memory available on the device that :func:`~tllab.kmm_weights` may use by
default (``memory_budget=None``)."""

KMM_FALLBACK_MEMORY = 2**31
"""Default budget in bytes (2 GiB) where the available memory cannot be read."""


class KMMResult(NamedTuple):
    """Outcome of :func:`~tllab.kmm_weights` with ``return_info=True``."""

    weights: torch.Tensor
    """β, shape ``(n_s,)``, on ``xs``'s device and dtype."""
    objective: float
    """``½ βᵀKβ − κᵀβ`` at the returned β (computed in float64)."""
    gap: float
    """Certified relative sub-optimality bound ``(f(β) − lower bound) / |f(β)|`` from the
    Frank–Wolfe duality gap at β (rigorous; often looser than the true sub-optimality)."""
    n_iter: int
    """Kernel products ``K v`` used (full or on a working set)."""
    converged: bool
    """Whether the stopping rule was met within ``max_iter``."""
    bandwidth: list
    """The bandwidth(s) σ used."""
    dense: bool
    """Whether the kernel matrix was cached (otherwise every product was tiled)."""
    solver: str
    """``"newton-ipm"`` (second order) or ``"first-order"``; see *Memory*."""
    memory_budget: int
    """The budget in bytes that chose ``dense`` and ``solver``."""


def _available_memory(device: torch.device) -> int | None:
    """Bytes currently available on ``device``, or None where that cannot be read."""
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError):
            return None
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def kmm_memory_budget(device=None) -> int:
    """The default memory budget of :func:`~tllab.kmm_weights` on ``device``, in bytes.

    :data:`~tllab.reweight.KMM_MEMORY_FRACTION` of the memory available now (``MemAvailable`` of
    ``/proc/meminfo`` on Linux, ``os.sysconf`` elsewhere, free memory on CUDA), or
    :data:`~tllab.reweight.KMM_FALLBACK_MEMORY` where that cannot be read (e.g. MPS).

    Examples
    --------
    >>> import tllab
    >>> tllab.reweight.kmm_memory_budget("cpu") > 0
    True
    """
    device = torch.device("cpu") if device is None else torch.device(device)
    avail = _available_memory(device)
    return KMM_FALLBACK_MEMORY if avail is None else int(KMM_MEMORY_FRACTION * avail)


def _kmm_plan(n: int, itemsize: int, work_itemsize: int, budget: int,
              cache_kernel: bool | None) -> tuple[bool, bool]:
    """``(cache K, second-order solver)`` for ``n`` source points within ``budget`` bytes.

    Caching ``K`` costs ``n² · itemsize``; the second-order solver one work matrix of the
    working face, at most ``n² · work_itemsize``.  The default caches ``K`` when both fit,
    else keeps the tiled products and the second-order solver when its matrix fits, else
    runs first-order; ``cache_kernel`` forces the cache on or off.
    """
    k_bytes, face_bytes = n * n * itemsize, n * n * work_itemsize
    if cache_kernel is None:
        dense = k_bytes + face_bytes <= budget
    else:
        dense = cache_kernel
    return dense, (k_bytes if dense else 0) + face_bytes <= budget


@torch.no_grad()
def kmm_weights(
    xs,
    xt,
    bandwidth="median",
    B: float = 1000.0,
    eps: float | None = None,
    *,
    kernel: str = "gaussian",
    tol: float = 1e-7,
    max_iter: int = 20000,
    cache_kernel: bool | None = None,
    memory_budget: float | None = None,
    block_size: int | None = None,
    return_info: bool = False,
):
    r"""Kernel Mean Matching weights (Huang et al., 2007) for the source sample.

    KMM chooses weights ``β`` that make the weighted source mean embedding match the
    target one, by solving the quadratic programme

    .. math::

        \min_\beta \; \tfrac12 \beta^\top K \beta - \kappa^\top \beta
        \quad\text{s.t.}\quad 0 \le \beta_i \le B,\;
        \Bigl|\sum_i \beta_i - n_s\Bigr| \le n_s \varepsilon,

    with ``K[i, j] = k(x_i, x_j)`` over the source, ``κ_i = (n_s/n_t) Σ_j k(x_i, x'_j)``
    against the target, and by default ``ε = (√n_s − 1)/√n_s``.  Up to constants the
    objective is ``(n_s²/2) ||(1/n_s) Σ β_i φ(x_i) − (1/n_t) Σ_j φ(x'_j)||²``.  The box
    and the sum constraint are both enforced and the whole source is solved at once
    (no chunking).

    **Solver** (second order, the default whenever one ``n_s × n_s`` float64 matrix fits
    the memory budget).  (i) Projected Newton on the active faces (Bertsekas, 1982):
    coordinates near a bound that the gradient pushes against it are fixed there, a
    Levenberg–Marquardt-damped Newton step (Cholesky solve of ``K_FF + μI``; the sum
    constraint as an equality when it binds) is taken on the others, the coordinates it
    sends below 0 leave the face and the step is recomputed, then a projected search
    along the arc; this finds the support in a dozen iterations.  (ii) A primal-dual
    interior-point method (Mehrotra predictor–corrector) on a working set: the support
    found plus the zero weights that violate the optimality conditions, the others held
    at 0; after each solve, the coordinates outside that still violate them join the
    working set.  **Stopping rule**: the Frank–Wolfe duality gap
    ``(∇f(β)ᵀβ − min_{s feasible} ∇f(β)ᵀs) / |f(β)|`` is at most ``tol`` — a rigorous
    bound on the relative sub-optimality, reported as ``gap`` — or no coordinate
    violates the optimality conditions (the interior-point duality gap is then
    ``<= 1e-3·tol``), or the Newton decrement on the free coordinates and the
    violators — the decrease a Newton step on that face would bring, an estimate rather
    than a bound — is at most ``0.1·tol·|f(β)|``.  On the benchmark problems (``n_s``
    from 500 to 20 000, see ``benchmarks/README.md``) the float64 objective is the lowest
    found, cvxopt's interior point stopping 3e-8 to 2e-7 relative above it; the tests
    check it within ``tol`` of cvxopt's tight-tolerance optimum on random problems
    (float32 inputs, whose kernel values carry float32 rounding: within 1e-6).

    **Solver** (first order, when that matrix does not fit): cycles of 10 accelerated
    projected-gradient steps (FISTA with adaptive restart, step ``1/λ_max(K)`` from
    power iteration) using the exact Euclidean projection onto the box-and-slab set,
    ``clamp(v − τ, 0, B)`` with the scalar ``τ`` found from the sorted breakpoints, and up
    to 50 conjugate-gradient steps on the current face, a GPCG-type scheme (Moré &
    Toraldo, 1991).  It stops when the Frank–Wolfe gap is at most ``tol`` or one cycle
    decreases ``f`` by at most ``tol`` relatively — a heuristic: on ill-conditioned
    problems (low dimension, narrow bandwidth) it can stop 1e-5 relative above the
    optimum.

    ``max_iter`` counts kernel products; reaching it, or stopping without certifying
    ``tol``, raises a ``RuntimeWarning``.  Runs wherever ``xs`` lives (CPU, CUDA); float32
    inputs keep float32 kernel values (half the memory of a cached ``K``), while the
    products of the second-order solver, the iterates and the factorisations are
    float64 (float32 on MPS, which has no float64); the first-order solver's tiled
    products stay in the input dtype.

    **Memory.**  With ``memory_budget=None`` the budget is
    :func:`tllab.reweight.kmm_memory_budget`: half
    (:data:`~tllab.reweight.KMM_MEMORY_FRACTION`) of the memory available on ``xs``'s
    device (``MemAvailable`` on Linux), or 2 GiB
    (:data:`~tllab.reweight.KMM_FALLBACK_MEMORY`) where it cannot be read.  Within it, by
    default: ``K`` is cached (``n_s² × itemsize`` bytes) when it fits together with the
    second-order solver's working matrix (``n_s² × 8`` bytes at most: one float64 matrix
    of the current face, factorised in place); else the products are evaluated tile by
    tile (rows of ``K``, one kernel evaluation per product) and the second-order solver
    runs when its matrix fits; else the first-order solver runs, in ``O(n_s·d + block²)``
    memory like :func:`tllab.mmd2`.  ``cache_kernel=True``/``False`` forces the cache on
    or off (the solver is still chosen by the budget).  For example, a budget of 4 GiB
    (8 GiB available) caches ``K`` up to ``n_s = 16 384`` in float64 and ``18 918`` in
    float32, and runs the second-order solver on tiled products up to ``n_s = 23 170``.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
        Source sample (the one being weighted).
    xt : array-like of shape (n_t, d)
        Target sample.
    bandwidth : "median", float or list of float, default="median"
        σ of the Gaussian kernel ``exp(-||x-y||²/(2σ²))``; a list sums the kernels;
        ``"median"`` is :func:`tllab.median_bandwidth` of ``xs ∪ xt``.
    B : float, default=1000.0
        Upper bound on every weight; must be ``>= 1 − eps`` for the problem to be feasible.
    eps : float in [0, 1), optional
        Relative slack of the sum constraint; default ``(√n_s − 1)/√n_s``.
    kernel : {"gaussian", "laplacian"}, default="gaussian"
    tol : float, default=1e-7
        Relative tolerance of the stopping rules above.
    max_iter : int, default=20000
        Largest number of kernel products ``K v``.
    cache_kernel : bool, optional
        Force (True) or forbid (False) the dense kernel cache; None applies the budget.
    memory_budget : float, optional
        Bytes the solver may hold beyond the inputs; None for the default above.
    block_size : int, optional
        Tile edge for the tiled products.
    return_info : bool, default=False
        Return a :class:`~tllab.KMMResult` (weights, objective, gap, iterations, converged flag,
        bandwidth, cache and solver used) instead of the weights alone.

    Returns
    -------
    torch.Tensor of shape (n_s,) or KMMResult

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(300, 2, dtype=torch.float64, generator=g)
    >>> xt = torch.randn(200, 2, dtype=torch.float64, generator=g) + 0.5
    >>> res = tllab.kmm_weights(xs, xt, bandwidth=1.0, B=10.0, return_info=True)
    >>> res.converged, res.gap <= 1e-7, bool(res.weights.max() <= 10.0)
    (True, True, True)
    >>> # points towards the target get more weight
    >>> bool(res.weights[xs.sum(1) > 1].mean() > res.weights[xs.sum(1) < -1].mean())
    True
    """
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=1)
    kernel = check_choice(kernel, "kernel", KERNELS)
    B = check_real(B, "B", low=0.0, low_inclusive=False)
    n_s, n_t = xs.shape[0], xt.shape[0]
    if eps is None:
        eps = (math.sqrt(n_s) - 1.0) / math.sqrt(n_s)
    else:
        eps = check_real(eps, "eps", low=0.0, high=1.0, high_inclusive=False)
    if B * n_s < n_s * (1.0 - eps):
        raise ValueError(
            f"B={B} and eps={eps:.4g} are infeasible: the weights cannot sum to at least "
            f"n_s(1 - eps) when every weight is at most B; need B >= 1 - eps = {1 - eps:.4g}"
        )
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    block = _block(block_size, xs.device)
    if cache_kernel is not None and not isinstance(cache_kernel, bool):
        raise TypeError(f"cache_kernel must be True, False or None; got {cache_kernel!r}")
    if memory_budget is None:
        budget = kmm_memory_budget(xs.device)
    else:
        budget = int(check_real(memory_budget, "memory_budget", low=0.0))
    if not isinstance(return_info, bool):
        raise TypeError(f"return_info must be a bool; got {return_info!r}")
    bandwidths = resolve_bandwidth(bandwidth, xs, xt)

    work = _work_dtype(xs.device)
    xsc, xtc = _centre(xs, xt)
    ones_t = xs.new_ones(n_t, 1)
    kappa = _kernel_matvec_centred(xsc, xtc, ones_t, kernel, bandwidths, block, False)
    kappa = kappa.squeeze(1).to(work) * (n_s / n_t)

    work_size = torch.empty((), dtype=work).element_size()
    dense, second = _kmm_plan(n_s, xs.element_size(), work_size, budget, cache_kernel)
    gram = _Gram(xsc, kernel, bandwidths, block, dense, work, exact=second)
    lo, hi = n_s * (1.0 - eps), n_s * (1.0 + eps)
    solve = _second_order if second else _first_order
    beta, _, f, gap, converged = solve(gram, kappa, B, lo, hi, tol, max_iter)
    converged = converged and gram.products < max_iter
    if not converged:
        if gram.products >= max_iter:
            why = f"stopped after {gram.products} kernel products (max_iter={max_iter})"
            advice = "increase max_iter or tol"
        else:
            why = "could not certify the tolerance"
            advice = ("float32 kernel values limit the attainable accuracy: pass float64 "
                      "inputs or a larger tol" if xs.dtype == torch.float32
                      else "pass a larger tol")
        warnings.warn(
            f"kmm_weights {why} before meeting tol={tol:.1e} (certified relative gap "
            f"{gap:.2e}, an upper bound on how far the objective is above the optimum); "
            f"{advice}",
            RuntimeWarning,
            stacklevel=3,
        )
    weights = beta.to(xs.dtype)
    if not return_info:
        return weights
    return KMMResult(weights, f, gap, gram.products, converged, bandwidths, dense,
                     "newton-ipm" if second else "first-order", budget)
