r"""Instance reweighting for covariate shift: density-ratio estimators and their use.

Under covariate shift the source law ``p_s(x)`` and the target law ``p_t(x)`` differ
while ``p(y | x)`` is shared, so a source risk weighted by ``w(x) = p_t(x) / p_s(x)``
is unbiased for the target risk.  This module estimates ``w`` at the source points,

* :func:`~tllab.kmm_weights`: Kernel Mean Matching (Huang et al., 2007), a box- and
  slab-constrained QP solved in torch (CPU or GPU) to a certified tolerance;
* :func:`~tllab.kliep_weights`: KLIEP (Sugiyama et al., 2008);
* :func:`~tllab.ulsif_weights`: unconstrained least-squares importance fitting (Kanamori et
  al., 2009), closed form;
* :func:`~tllab.classifier_weights`: the odds of a probabilistic domain classifier;

all called as ``f(xs, xt, ...)`` and returning a tensor of shape ``(n_s,)`` on ``xs``'s
device and dtype.  It also gives the tools that show what weights cost and how to use
them: :func:`~tllab.effective_sample_size`, :func:`~tllab.flatten_weights`,
:func:`~tllab.clip_weights`, :func:`~tllab.importance_weighted_risk` and
importance-weighted cross-validation,
:func:`~tllab.iwcv_score` (Sugiyama, Krauledat & Müller, 2007).

Kernel convention (as everywhere in :mod:`tllab`): Gaussian
``k(x, y) = exp(-||x - y||² / (2σ²))`` with ``bandwidth=σ``; ``"median"`` is
:func:`tllab.median_bandwidth` of the pooled sample ``xs ∪ xt``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from ._checks import (
    check_choice,
    check_int,
    check_positive_scalars,
    check_real,
    check_sample_pair,
    check_samples,
)
from .classifier import MODELS, _fold_ids, crossfit_log_ratio
from .device import as_tensor
from .kernels import (
    KERNELS,
    _block,
    _centre,
    _kernel_matvec_centred,
    _tile,
    median_bandwidth,
    resolve_bandwidth,
)

__all__ = [
    "BandwidthSelection",
    "select_ratio_bandwidth",
    "KMMResult",
    "kmm_weights",
    "kliep_weights",
    "ulsif_weights",
    "classifier_weights",
    "effective_sample_size",
    "flatten_weights",
    "clip_weights",
    "importance_weighted_risk",
    "iwcv_score",
    "KMM_DENSE_BYTES",
    "IWCV_LOSSES",
]

KMM_DENSE_BYTES = 2**27
"""Largest kernel matrix (in bytes, 128 MiB) that :func:`~tllab.kmm_weights` caches by default."""

IWCV_LOSSES = ("squared", "absolute", "zero_one")


# --------------------------------------------------------------------------- helpers
def _work_dtype(device: torch.device) -> torch.dtype:
    """Float64 for the solvers' iterates, except on MPS which has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


def _check_weights(w, name: str = "w") -> torch.Tensor:
    """A 1-D, finite, non-negative, not-all-zero weight vector."""
    if isinstance(w, (str, bytes, dict)) or w is None:
        raise TypeError(f"{name} must be an array-like or a torch.Tensor; got {type(w).__name__}")
    try:
        t = as_tensor(w)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a numeric array-like; got {type(w).__name__}") from err
    if t.is_complex():
        raise TypeError(f"{name} must be real-valued; got complex dtype {t.dtype}")
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (n,); got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite; found {int((~torch.isfinite(t)).sum())} "
                         "NaN/inf entries")
    if bool((t < 0).any()):
        raise ValueError(f"{name} must be non-negative; smallest entry is {float(t.min()):.4g}")
    if float(t.sum()) <= 0:
        raise ValueError(f"{name} must have a positive sum; got all zeros")
    return t


def _gaussian_features(x, centres, bandwidths) -> torch.Tensor:
    """``Phi[i, l] = k(x_i, c_l)`` (sum over the bandwidths), from centred inputs."""
    xc, cc = _centre(x, centres)
    return _tile(xc, cc, (xc * xc).sum(1), (cc * cc).sum(1), "gaussian", bandwidths)


def _ratio_function(centres, bandwidths, alpha, work):
    """``ŵ(x) = Σ_l α_l k(x, c_l)`` as a callable on new points."""

    def ratio(x) -> torch.Tensor:
        x = check_samples(x, "x").to(centres.device)
        if x.shape[1] != centres.shape[1]:
            raise ValueError(f"x must have {centres.shape[1]} features; got {x.shape[1]}")
        with torch.no_grad():
            phi = _gaussian_features(x.to(centres.dtype), centres, bandwidths).to(work)
            return (phi @ alpha).to(x.dtype)

    return ratio


def _pick_centres(xt: torch.Tensor, n_basis: int, seed: int) -> torch.Tensor:
    if xt.shape[0] <= n_basis:
        return xt
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(xt.shape[0], generator=gen)[:n_basis].to(xt.device)
    return xt[idx]


# --------------------------------------------------------------------------- KMM
class KMMResult(NamedTuple):
    """Outcome of :func:`kmm_weights` with ``return_info=True``."""

    weights: torch.Tensor
    """β, shape ``(n_s,)``, on ``xs``'s device and dtype."""
    objective: float
    """``½ βᵀKβ − κᵀβ`` at the returned β (computed in float64)."""
    gap: float
    """Certified relative sub-optimality bound ``(f(β) − lower bound) / |f(β)|``
    (rigorous but often far looser than the true sub-optimality)."""
    n_iter: int
    """Kernel products ``K v`` used (one per gradient or CG step)."""
    converged: bool
    """Whether the stopping rule was met within ``max_iter``."""
    bandwidth: list
    """The bandwidth(s) σ used."""
    dense: bool
    """Whether the kernel matrix was cached (otherwise every product was tiled)."""


def _project_box_slab(v: torch.Tensor, B: float, lo: float, hi: float) -> torch.Tensor:
    """Exact Euclidean projection onto ``{0 <= β <= B, lo <= sum(β) <= hi}``.

    The projection is ``clamp(v − τ, 0, B)`` with ``τ = 0`` when the clamp already lies
    in the slab, otherwise the ``τ`` at which the (continuous, piecewise linear,
    non-increasing) sum ``s(τ) = Σ clamp(v_i − τ, 0, B)`` equals the violated bound.
    ``s`` is evaluated at all ``2n`` breakpoints ``{v_i, v_i − B}`` from prefix sums of
    the sorted ``v`` and ``τ`` is interpolated on the bracketing linear piece.
    """
    p = v.clamp(0.0, B)
    total = float(p.sum())
    if lo <= total <= hi:
        return p
    target = hi if total > hi else lo
    n = v.numel()
    vs, _ = torch.sort(v)
    prefix = torch.cat([vs.new_zeros(1), torch.cumsum(vs, 0)])
    bp, _ = torch.sort(torch.cat([vs - B, vs]))
    a = torch.searchsorted(vs, bp, right=True)  # #{v_i <= τ}: clamped at 0
    c = torch.searchsorted(vs, bp + B, right=False)  # #{v_i < τ + B}: the rest at B
    s = B * (n - c) + (prefix[c] - prefix[a]) - bp * (c - a)
    # s is non-increasing in bp; find the last breakpoint with s >= target.
    k = int(torch.searchsorted(-s, torch.tensor([-target], dtype=s.dtype, device=s.device),
                               right=True)[0]) - 1
    k = min(max(k, 0), 2 * n - 2)
    s0, s1 = float(s[k]), float(s[k + 1])
    t0, t1 = float(bp[k]), float(bp[k + 1])
    tau = t0 if s0 == s1 else t0 + (s0 - target) * (t1 - t0) / (s0 - s1)
    return (v - tau).clamp(0.0, B)


def _lmo_value(g: torch.Tensor, B: float, lo: float, hi: float) -> torch.Tensor:
    """``min gᵀs`` over ``{0 <= s <= B, lo <= sum(s) <= hi}`` (a fractional knapsack).

    Fill the coordinates in increasing order of ``g`` up to a total mass
    ``a = clamp(B·#{g < 0}, lo, hi)``: every negative entry that fits, then (if the
    mass is below ``lo``) the smallest non-negative ones.
    """
    gs, _ = torch.sort(g)
    n_neg = int((gs < 0).sum())
    mass = min(max(B * n_neg, lo), hi)
    fill = (mass - B * torch.arange(gs.numel(), device=g.device, dtype=g.dtype)).clamp(0.0, B)
    return (gs * fill).sum()


def _power_lambda_max(matvec, n: int, dtype, device, n_iter: int = 30) -> float:
    """Rayleigh-quotient estimate of λ_max(K) by power iteration from the all-ones vector.

    A Gaussian kernel matrix has positive entries, so its Perron vector is positive and
    the all-ones start is never orthogonal to it.  The estimate is a lower bound; the
    solver's backtracking test corrects it if it is too small.
    """
    v = torch.full((n,), 1.0 / math.sqrt(n), dtype=dtype, device=device)
    lam = 0.0
    for _ in range(n_iter):
        kv = matvec(v)
        new = float(v @ kv)
        nrm = float(kv.norm())
        if nrm == 0:
            break
        v = kv / nrm
        if abs(new - lam) <= 1e-4 * abs(new):
            lam = new
            break
        lam = new
    return max(lam, 1e-12)


def _kmm_objective(beta, kb, kappa) -> float:
    return float(0.5 * (beta @ kb) - kappa @ beta)


def _face_cg(matvec, beta, kb, kappa, B, lo, hi, max_cg):
    """Conjugate gradients on the face of the current iterate (active-set CG phase).

    Coordinates at 0 or ``B`` stay fixed; when the sum sits on a slab bound it stays
    fixed too (directions projected onto ``{Σ d = 0}``).  Each step is the exact line
    minimiser along the CG direction, truncated at the first constraint it would cross;
    the coordinates (or the sum) that reach a bound join the fixed set and CG restarts
    on the smaller face.  The objective never increases.  Returns
    ``(β, Kβ, kernel products used)``.
    """
    g = kb - kappa
    free = (beta > 0) & (beta < B)
    total = float(beta.sum())
    fixed_sum = abs(total - lo) <= 1e-9 * hi or abs(total - hi) <= 1e-9 * hi
    used = 0
    restart = True
    while used < max_cg:
        if restart:
            n_free = int(free.sum())
            if n_free == 0:
                break
            freef = free.to(beta.dtype)
            r = -g * freef
            if fixed_sum:
                r = r - freef * (r.sum() / n_free)
            rr = rr0 = float(r @ r)
            d = r
            restart = False
        if rr <= 1e-24 * rr0 or rr == 0:
            break
        kd = matvec(d)
        used += 1
        dkd = float(d @ kd)
        if dkd <= 0:
            break
        alpha = rr / dkd
        amax = math.inf
        pos, neg = d > 0, d < 0
        if bool(pos.any()):
            amax = min(amax, float(((B - beta)[pos] / d[pos]).min()))
        if bool(neg.any()):
            amax = min(amax, float((-beta[neg] / d[neg]).min()))
        sd = float(d.sum())
        if not fixed_sum and sd != 0:
            amax = min(amax, ((hi if sd > 0 else lo) - total) / sd)
        step = min(alpha, max(amax, 0.0))
        beta = beta + step * d
        g = g + step * kd
        total = float(beta.sum())
        if alpha >= amax:  # a constraint became active: fix it and restart CG
            tiny = 1e-12 * B
            beta = torch.where(beta <= tiny, torch.zeros_like(beta), beta)
            beta = torch.where(beta >= B - tiny, torch.full_like(beta, B), beta)
            free = free & (beta > 0) & (beta < B)
            total = float(beta.sum())
            fixed_sum = fixed_sum or abs(total - lo) <= 1e-9 * hi or abs(total - hi) <= 1e-9 * hi
            restart = True
            continue
        freef_r = -g * freef
        if fixed_sum:
            freef_r = freef_r - freef * (freef_r.sum() / n_free)
        rr_new = float(freef_r @ freef_r)
        d = freef_r + (rr_new / rr) * d
        rr = rr_new
    beta = _project_box_slab(beta, B, lo, hi)  # remove rounding drift
    return beta, matvec(beta), used + 1


def _kmm_solve(matvec, kappa, B, lo, hi, tol, max_iter, n_pg=10, max_cg=50, newton=None):
    """Accelerated projected gradient alternating with face CG; see :func:`kmm_weights`.

    With a :class:`_FaceSolver` (dense ``K``), projected Newton iterations run first and
    the cycles below start from their result, which they certify or improve.
    Returns ``(beta, objective, relative gap, kernel products used, converged)``.
    """
    n = kappa.numel()
    beta = _project_box_slab(torch.ones_like(kappa), B, lo, hi)
    kb = matvec(beta)
    used = 0
    lip = _power_lambda_max(matvec, n, kappa.dtype, kappa.device)
    if newton is not None:
        beta, kb, _, used = _kmm_newton_phase(newton, matvec, beta, kb, kappa, tol, max_iter,
                                              lip)
    f = _kmm_objective(beta, kb, kappa)
    lower = -math.inf
    gap = math.inf

    def certify(beta, kb, f):
        nonlocal lower, gap
        g = kb - kappa
        # Frank-Wolfe (linearisation) lower bound on the optimum, valid by convexity.
        lower = max(lower, f + float(_lmo_value(g, B, lo, hi) - g @ beta))
        gap = (f - lower) / max(abs(f), 1e-300)
        return gap <= tol

    if certify(beta, kb, f):
        return beta, f, gap, used, True
    while used < max_iter:
        f_cycle = f
        # Phase 1: FISTA steps with adaptive restart; they move the active set.
        y, ky, t = beta, kb, 1.0
        steps = 0
        while steps < n_pg and used < max_iter:
            new = _project_box_slab(y - (ky - kappa) / lip, B, lo, hi)
            kn = matvec(new)
            used += 1
            d = new - y
            dd = float(d @ d)
            dkd = float(d @ (kn - ky))
            if dkd > lip * dd * (1 + 1e-10) + 1e-300:  # λ_max underestimated: backtrack
                lip = max(2.0 * lip, 1.05 * dkd / dd)
                y, ky, t = beta, kb, 1.0
                continue
            steps += 1
            f_new = _kmm_objective(new, kn, kappa)
            if certify(new, kn, f_new):
                return new, f_new, gap, used, True
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            mom = (t - 1.0) / t_new
            # Adaptive restart (O'Donoghue & Candès, 2015): drop the momentum when it
            # points uphill or the objective went up.
            if f_new > f or float((y - new) @ (new - beta)) > 0:
                t_new, mom = 1.0, 0.0
            y = new + mom * (new - beta)
            ky = kn + mom * (kn - kb)
            beta, kb, f, t = new, kn, f_new, t_new
        if used >= max_iter:
            break
        # Phase 2: conjugate gradients on the current face (fast once it is right).
        cand, kc, k = _face_cg(matvec, beta, kb, kappa, B, lo, hi,
                               min(max_cg, max(max_iter - used - 1, 1)))
        used += k
        f_c = _kmm_objective(cand, kc, kappa)
        if f_c <= f:
            beta, kb, f = cand, kc, f_c
            if certify(beta, kb, f):
                return beta, f, gap, used, True
        # Stall test: the error of this linearly converging scheme is a small multiple of
        # the decrease of one cycle.
        if f_cycle - f <= tol * abs(f):
            return beta, f, gap, used, True
    return beta, f, gap, used, False


class _FaceSolver:
    """Newton directions to the minimiser of the KMM objective on the current face (dense K).

    Coordinates at 0 with ``g > 0`` and at ``B`` with ``g < 0`` stay where they are; the
    others solve ``(K_FF + μ I) z = κ_F − B K_FU 1`` by Cholesky, with the sum constraint
    added as an equality (one Lagrange multiplier) when the face solution leaves the
    slab.  The damping ``μ`` (Levenberg–Marquardt style, relative to the mean diagonal)
    grows when a step fails and shrinks when one succeeds, so that the ill-conditioned
    kernel matrices of low-dimensional data still give usable steps.
    """

    MU_MIN, MU_MAX = 1e-10, 1e2

    def __init__(self, K, kappa, B, lo, hi, work):
        self.K, self.kappa, self.B, self.lo, self.hi, self.work = K, kappa, B, lo, hi, work
        self.mu = self.MU_MIN

    def direction(self, beta, g):
        B, K, work = self.B, self.K, self.work
        free = ~(((beta <= 0) & (g > 0)) | ((beta >= B) & (g < 0)))
        F = free.nonzero().squeeze(1)
        if F.numel() == 0:
            return None
        at_b = ((beta >= B) & ~free).nonzero().squeeze(1)
        rhs = self.kappa[F]
        if at_b.numel():
            rhs = rhs - B * K[F[:, None], at_b].to(work).sum(1)
        kff = K[F[:, None], F].to(work)
        scale = float(kff.diagonal().mean())
        kff.diagonal().add_(self.mu * scale)
        chol, info = torch.linalg.cholesky_ex(kff)
        if int(info) != 0:
            return None
        sol = torch.cholesky_solve(torch.stack([rhs, torch.ones_like(rhs)], 1), chol)
        z, k_inv_one = sol[:, 0], sol[:, 1]
        fixed_mass = B * at_b.numel()
        total = float(z.sum()) + fixed_mass
        if not self.lo <= total <= self.hi:  # enforce sum(β) = the violated bound
            target = (self.hi if total > self.hi else self.lo) - fixed_mass
            z = z - (float(z.sum()) - target) / float(k_inv_one.sum()) * k_inv_one
        d = torch.zeros_like(beta)
        d[F] = z - beta[F]
        return d


def _kmm_newton_phase(solver, matvec, beta, kb, kappa, tol, max_iter, lip):
    """Projected Newton iterations on the faces (Bertsekas, 1982) from a feasible ``β``.

    Each iteration takes one projected-gradient step (step ``1/lip``: it moves the active
    set), then a projected search along the damped face-Newton direction (steps 1, ½, ¼;
    the damping grows when all three fail and shrinks after a success).  Stops when an
    iteration gains at most ``tol`` relatively or no damping helps; the caller then
    certifies the result.  Returns ``(β, Kβ, objective, kernel products used)``.
    """
    B, lo, hi = solver.B, solver.lo, solver.hi
    f = _kmm_objective(beta, kb, kappa)
    used = 0
    while used < max_iter:
        f_start = f
        new = _project_box_slab(beta - (kb - kappa) / lip, B, lo, hi)
        kn = matvec(new)
        used += 1
        f_new = _kmm_objective(new, kn, kappa)
        if f_new < f:
            beta, kb, f = new, kn, f_new
        improved = False
        while not improved and used < max_iter:
            d = solver.direction(beta, kb - kappa)
            for step in (1.0, 0.5, 0.25):
                if d is None or used >= max_iter:
                    break
                cand = _project_box_slab(beta + step * d, B, lo, hi)
                kc = matvec(cand)
                used += 1
                f_c = _kmm_objective(cand, kc, kappa)
                if f_c < f:
                    beta, kb, f, improved = cand, kc, f_c, True
                    break
            if improved:
                solver.mu = max(solver.mu / 100, solver.MU_MIN)
            elif solver.mu >= solver.MU_MAX:
                return beta, kb, f, used
            else:
                solver.mu = min(solver.mu * 100, solver.MU_MAX)
        if f_start - f <= tol * abs(f):
            break
    return beta, kb, f, used


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

    **Solver.**  Cycles of (i) 10 accelerated projected-gradient steps (FISTA with
    adaptive restart, step ``1/λ_max(K)`` from power iteration, corrected by a
    backtracking test) using the exact Euclidean projection onto the box-and-slab set,
    ``clamp(v − τ, 0, B)`` with the scalar ``τ`` found from the sorted breakpoints (``τ = 0``
    when the clamp already satisfies the slab), and (ii) up to 50 conjugate-gradient
    steps on the current face (coordinates at a bound held fixed; CG restarts when a new
    bound is hit), a GPCG-type scheme (Moré & Toraldo, 1991) that never increases the
    objective across a cycle.  When the dense ``K`` is cached (see *Memory*), projected
    Newton iterations come first (Bertsekas, 1982): a projected-gradient step, then a
    projected search along the exact minimiser of the objective on the current face
    (a Cholesky solve of ``K_FF``, damped Levenberg–Marquardt style when the step fails,
    with the sum constraint as an equality when it binds); they find the active set in
    a few dozen iterations, and the cycles above then start from their result and
    certify it.  **Stopping rule**: stop when the relative decrease of
    ``f`` over one cycle is at most ``tol`` (the scheme converges linearly, so the
    remaining sub-optimality is a small multiple of that decrease; measured against an
    interior-point QP it is ~1e-6 relative for ``tol=1e-7``), or when the certified
    Frank–Wolfe duality gap ``(f(β) − max_k [f(β_k) + min_{s feasible} ∇f(β_k)ᵀ(s − β_k)])
    / |f(β)|`` is at most ``tol`` (a rigorous bound, often much looser than the true
    sub-optimality, reported as ``gap``).  ``max_iter`` counts kernel products; reaching
    it raises a ``RuntimeWarning``.  Runs wherever ``xs`` lives (CPU, CUDA); float32
    inputs keep float32 kernel products, the iterates are float64 (except on MPS).

    **Memory.**  Kernel products ``Kβ`` are tiled like :func:`tllab.mmd2` (memory
    ``O(n_s·d + block²)``), so ``n_s = 20 000`` fits on a laptop.  The dense ``K`` is
    cached instead (faster: one kernel evaluation instead of one per iteration) when
    ``cache_kernel=True``, or by default when ``n_s² × itemsize <=``
    :data:`tllab.reweight.KMM_DENSE_BYTES` (128 MiB: ``n_s <= 4096`` in float64,
    ``<= 5792`` in float32).  With the cache, the Newton phase
    holds two more float64 matrices of the size of the free face (at most ``n_s²`` each).

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
        Relative tolerance of the stopping rule above.
    max_iter : int, default=20000
        Largest number of kernel products ``K v``.
    cache_kernel : bool, optional
        Force (True) or forbid (False) the dense kernel cache; None applies the rule above.
    block_size : int, optional
        Tile edge for the tiled products.
    return_info : bool, default=False
        Return a :class:`KMMResult` (weights, objective, gap, iterations, converged flag)
        instead of the weights alone.

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
    >>> res.converged, bool(res.weights.max() <= 10.0)
    (True, True)
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
    if not isinstance(return_info, bool):
        raise TypeError(f"return_info must be a bool; got {return_info!r}")
    bandwidths = resolve_bandwidth(bandwidth, xs, xt)

    work = _work_dtype(xs.device)
    xsc, xtc = _centre(xs, xt)
    ones_t = xs.new_ones(n_t, 1)
    kappa = _kernel_matvec_centred(xsc, xtc, ones_t, kernel, bandwidths, block, False)
    kappa = kappa.squeeze(1).to(work) * (n_s / n_t)

    dense = (n_s * n_s * xs.element_size() <= KMM_DENSE_BYTES
             if cache_kernel is None else cache_kernel)
    if dense:
        sq = (xsc * xsc).sum(1)
        K = _tile(xsc, xsc, sq, sq, kernel, bandwidths)

        def matvec(v):
            return (K @ v.to(K.dtype)).to(work)
    else:

        def matvec(v):
            out = _kernel_matvec_centred(xsc, None, v.to(xs.dtype).unsqueeze(1), kernel,
                                         bandwidths, block, False)
            return out.squeeze(1).to(work)

    lo, hi = n_s * (1.0 - eps), n_s * (1.0 + eps)
    newton = _FaceSolver(K, kappa, B, lo, hi, work) if dense else None
    beta, f, gap, n_iter, converged = _kmm_solve(matvec, kappa, B, lo, hi, tol, max_iter,
                                                 newton=newton)
    if not converged:
        warnings.warn(
            f"kmm_weights stopped after max_iter={max_iter} kernel products before meeting "
            f"tol={tol:.1e} (certified relative gap {gap:.2e}); increase max_iter or tol",
            RuntimeWarning,
            stacklevel=3,
        )
    weights = beta.to(xs.dtype)
    if not return_info:
        return weights
    return KMMResult(weights, f, gap, n_iter, converged, bandwidths, dense)


# --------------------------------------------------------------------------- KLIEP
def _kliep_barrier(A: torch.Tensor, b: torch.Tensor, tol: float, max_iter: int):
    """Maximise ``mean_j log (Aα)_j`` over ``{α >= 0, bᵀα = 1}`` by a primal log-barrier method.

    In ``β = b ⊙ α`` (a point of the simplex) the problem is a mixture-weight likelihood
    with components ``F = A / b``.  Newton steps on ``f(β) + μ Σ log β_l`` with the
    equality ``Σ β = 1`` (one multiplier), a fraction-to-the-boundary rule and a
    backtracking line search; ``μ`` shrinks tenfold each time the Newton decrement is
    small.  Stops when the certificate ``log max_l (∂J/∂α_l) / b_l <= tol`` holds.
    Returns ``(α, converged)``; ``max_iter`` counts Newton steps.
    """
    b = b.clamp_min(torch.finfo(b.dtype).tiny)  # a centre with no source mass near it
    n, L = A.shape
    F = A[A.amax(1) > 0] / b  # a target point beyond every basis function adds a constant
    one = torch.ones(L, dtype=F.dtype, device=F.device)
    beta = one / L
    mu = 1.0 / L

    def value(beta, mu):
        return float((F @ beta).log().sum() / n + mu * beta.log().sum())

    def certificate(beta):
        return math.log(max(float((F.T @ (1.0 / (F @ beta))).max()) / n, 1e-300))

    steps = 0
    while steps < max_iter:
        if certificate(beta) <= tol:
            return beta / b, True
        fb = F @ beta
        g = F.T @ (1.0 / fb) / n + mu / beta
        Fs = F / fb.unsqueeze(1)
        M = Fs.T @ Fs / n
        M.diagonal().add_(mu / beta**2)
        chol, info = torch.linalg.cholesky_ex(M)
        if int(info) != 0:
            M.diagonal().add_(1e-12 * float(M.diagonal().max()))
            chol = torch.linalg.cholesky(M)
        sol = torch.cholesky_solve(torch.stack([g, one], 1), chol)
        nu = float(sol[:, 0].sum() / sol[:, 1].sum())
        delta = sol[:, 0] - nu * sol[:, 1]
        decrement = float(delta @ (g - nu * one))
        neg = delta < 0
        step = min(1.0, 0.99 * float((-beta[neg] / delta[neg]).min())) if bool(neg.any()) else 1.0
        v0 = value(beta, mu)
        while step > 1e-16 and value(beta + step * delta, mu) < v0 + 1e-4 * step * decrement:
            step *= 0.5
        beta = beta + step * delta
        beta = beta / beta.sum()
        steps += 1
        if decrement <= 1e-9 or step <= 1e-16:
            mu *= 0.1
    return beta / b, certificate(beta) <= tol


@torch.no_grad()
def kliep_weights(
    xs,
    xt,
    bandwidth="median",
    *,
    n_basis: int = 100,
    max_iter: int = 5000,
    tol: float = 1e-3,
    seed: int = 0,
    return_function: bool = False,
):
    r"""KLIEP importance weights (Sugiyama et al., 2008) for the source sample.

    Model ``ŵ(x) = Σ_l α_l k(x, c_l)`` with Gaussian basis functions centred on
    ``n_basis`` target points ``c_l`` (a seeded random subset of ``xt``) and fit

    .. math::

        \max_{\alpha \ge 0} \; \frac1{n_t} \sum_j \log \hat w(x'_j)
        \quad\text{s.t.}\quad \frac1{n_s} \sum_i \hat w(x_i) = 1,

    i.e. minimise ``KL(p_t || ŵ p_s)``.  Solved in torch by a primal log-barrier Newton
    method on ``{α >= 0, bᵀα = 1}`` (``b_l = mean_i k(x_i, c_l)``; ``n_basis`` variables,
    so each Newton step is a small dense solve).  It stops when the certified gap
    ``log max_l (∂J/∂α_l) / b_l`` (an upper bound on ``J* − J(α)``, by Jensen) is at most
    ``tol``, or after ``max_iter`` Newton steps with a ``RuntimeWarning``.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
    bandwidth : "median", "cv", float or list of float, default="median"
        σ of the Gaussian basis ``exp(-||x - c||²/(2σ²))``.  ``"cv"`` picks it as the
        original paper does, by likelihood cross-validation on the target
        (:func:`select_ratio_bandwidth`); the median heuristic over-smooths when the
        domains are far apart (weights close to uniform).
    n_basis : int, default=100
        Number of centres; all target points are used when ``n_t <= n_basis``.
    max_iter : int, default=5000
    tol : float, default=1e-3
        Tolerance on the certified gap (in nats of the mean target log-likelihood).
    seed : int, default=0
        Seed of the choice of centres.
    return_function : bool, default=False
        Also return the fitted ratio ``ŵ`` as a callable on new points.

    Returns
    -------
    torch.Tensor of shape (n_s,), or (torch.Tensor, callable)
        ``ŵ(x_i)``; their mean is 1 by construction.

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(400, 1, generator=g); xt = torch.randn(300, 1, generator=g) + 0.5
    >>> w = tllab.kliep_weights(xs, xt)
    >>> round(float(w.mean()), 4)
    1.0
    """
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=1)
    n_basis = check_int(n_basis, "n_basis", min_value=1)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    seed = check_int(seed, "seed", min_value=0)
    if isinstance(bandwidth, str) and bandwidth == "cv":
        bandwidth = select_ratio_bandwidth(xs, xt, "kliep", n_basis=n_basis, seed=seed,
                                           max_iter=max_iter, tol=tol).bandwidth
    bandwidths = resolve_bandwidth(bandwidth, xs, xt)
    work = _work_dtype(xs.device)
    centres = _pick_centres(xt, n_basis, seed)
    phi_s = _gaussian_features(xs, centres, bandwidths).to(work)
    A = _gaussian_features(xt, centres, bandwidths).to(work)
    b = phi_s.mean(0)
    alpha, converged = _kliep_barrier(A, b, tol, max_iter)
    if not converged:
        warnings.warn(f"kliep_weights did not reach tol={tol:.1e} in max_iter={max_iter} "
                      "iterations", RuntimeWarning, stacklevel=3)
    weights = (phi_s @ alpha).to(xs.dtype)
    if return_function:
        return weights, _ratio_function(centres, bandwidths, alpha, work)
    return weights


# --------------------------------------------------------------------------- uLSIF
@torch.no_grad()
def ulsif_weights(
    xs,
    xt,
    bandwidth="median",
    *,
    reg: float = 0.1,
    n_basis: int = 100,
    seed: int = 0,
    return_function: bool = False,
):
    r"""uLSIF importance weights (Kanamori, Hido & Sugiyama, 2009) for the source sample.

    Model ``ŵ(x) = Σ_l α_l φ_l(x)`` with Gaussian basis functions ``φ_l = k(·, c_l)``
    centred on ``n_basis`` target points (a seeded random subset of ``xt``), fitted by
    least squares to the true ratio ``p_t / p_s``:

    .. math::

        \tilde\alpha = (\hat H + \lambda I)^{-1} \hat h, \quad
        \hat H = \frac1{n_s} \sum_i \varphi(x_i)\varphi(x_i)^\top, \quad
        \hat h = \frac1{n_t} \sum_j \varphi(x'_j), \quad
        \alpha = \max(\tilde\alpha, 0),

    and ``ŵ(x_i) = φ(x_i)ᵀα``.  The clipping at 0 is the "u" (unconstrained, then
    rounded) of uLSIF.  Kanamori et al. choose σ and λ by cross-validation;
    ``bandwidth="cv"`` chooses σ (for the given λ) by :func:`select_ratio_bandwidth`.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
    bandwidth : "median", "cv", float or list of float, default="median"
        σ of the Gaussian basis; ``"cv"``: 3-fold cross-validation of the uLSIF criterion
        over multiples of the median heuristic.
    reg : float, default=0.1
        λ > 0, the ridge penalty ``(λ/2)||α||²``.
    n_basis : int, default=100
        Number of centres; all target points are used when ``n_t <= n_basis``.
    seed : int, default=0
    return_function : bool, default=False
        Also return the fitted ratio ``ŵ`` as a callable on new points.

    Returns
    -------
    torch.Tensor of shape (n_s,), or (torch.Tensor, callable)

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(400, 1, generator=g); xt = torch.randn(300, 1, generator=g) + 0.5
    >>> w = tllab.ulsif_weights(xs, xt)
    >>> bool(w[xs[:, 0] > 1].mean() > w[xs[:, 0] < -1].mean())
    True
    """
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=1)
    reg = check_real(reg, "reg", low=0.0, low_inclusive=False)
    n_basis = check_int(n_basis, "n_basis", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    if isinstance(bandwidth, str) and bandwidth == "cv":
        bandwidth = select_ratio_bandwidth(xs, xt, "ulsif", n_basis=n_basis, seed=seed,
                                           reg=reg).bandwidth
    bandwidths = resolve_bandwidth(bandwidth, xs, xt)
    work = _work_dtype(xs.device)
    centres = _pick_centres(xt, n_basis, seed)
    phi_s = _gaussian_features(xs, centres, bandwidths).to(work)
    phi_t = _gaussian_features(xt, centres, bandwidths).to(work)
    H = phi_s.T @ phi_s / xs.shape[0]
    h = phi_t.mean(0)
    eye = torch.eye(H.shape[0], dtype=work, device=H.device)
    alpha = torch.linalg.solve(H + reg * eye, h).clamp_min(0.0)
    weights = (phi_s @ alpha).to(xs.dtype)
    if return_function:
        return weights, _ratio_function(centres, bandwidths, alpha, work)
    return weights


# --------------------------------------------------------------------------- bandwidth by CV
RATIO_CV_FACTORS = (0.25, 0.5, 1.0, 2.0)
"""Multiples of the median heuristic tried by ``bandwidth="cv"``."""


class BandwidthSelection(NamedTuple):
    """Result of :func:`select_ratio_bandwidth`."""

    bandwidth: float
    """The candidate with the smallest held-out loss."""
    candidates: list
    """The bandwidths tried."""
    losses: list
    """Their held-out losses (mean over folds; lower is better)."""


def select_ratio_bandwidth(
    xs,
    xt,
    method: str = "kliep",
    candidates=None,
    *,
    n_folds: int = 3,
    seed: int = 0,
    **kwargs,
) -> BandwidthSelection:
    r"""Choose the Gaussian bandwidth of KLIEP or uLSIF by K-fold cross-validation.

    The criteria are those of the original papers, evaluated on held-out points:

    * ``"kliep"`` (Sugiyama et al., 2008): fit on all of ``xs`` and the other target
      folds, score ``-mean log ŵ(x')`` on the held-out target fold (the negative
      log-likelihood of the held-out target points under ``ŵ p_s``);
    * ``"ulsif"`` (Kanamori et al., 2009): fit on the other folds of both samples, score
      ``½ mean ŵ(x)² − mean ŵ(x')`` on the held-out folds (the squared error to the true
      ratio up to a constant).

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
    method : {"kliep", "ulsif"}, default="kliep"
    candidates : sequence of float, optional
        Bandwidths to try; default :data:`~tllab.reweight.RATIO_CV_FACTORS` × the median
        heuristic.
    n_folds : int, default=3
    seed : int, default=0
        Seed of the folds (and of the centres of each fit).
    **kwargs
        Passed to :func:`kliep_weights` / :func:`ulsif_weights` (e.g. ``n_basis``, ``reg``).

    Returns
    -------
    BandwidthSelection

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(300, 1, generator=g); xt = torch.randn(200, 1, generator=g) + 1
    >>> sel = tllab.select_ratio_bandwidth(xs, xt, "ulsif", [0.01, 0.5, 100.0])
    >>> sel.bandwidth
    0.5
    """
    method = check_choice(method, "method", ("kliep", "ulsif"))
    n_folds = check_int(n_folds, "n_folds", min_value=2)
    seed = check_int(seed, "seed", min_value=0)
    min_s = n_folds if method == "ulsif" else 1
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=1)
    if xt.shape[0] < n_folds or xs.shape[0] < min_s:
        raise ValueError(f"cross-validation with n_folds={n_folds} needs at least {n_folds} "
                         f"target points{' and source points' if min_s > 1 else ''}; got "
                         f"n_s={xs.shape[0]}, n_t={xt.shape[0]}")
    if candidates is None:
        med = float(median_bandwidth(xs, xt))
        candidates = [med * f for f in RATIO_CV_FACTORS]
    candidates = check_positive_scalars(candidates, "candidates")
    fit = kliep_weights if method == "kliep" else ulsif_weights
    gen = torch.Generator().manual_seed(seed)
    ft = _fold_ids(xt.shape[0], n_folds, gen, xt.device)
    fs = _fold_ids(xs.shape[0], n_folds, gen, xs.device)
    tiny = torch.finfo(xs.dtype).tiny
    losses = []
    for sigma in candidates:
        total = 0.0
        for k in range(n_folds):
            src = xs if method == "kliep" else xs[fs != k]
            with warnings.catch_warnings():  # a fold's fit may stop early; only the score matters
                warnings.simplefilter("ignore", RuntimeWarning)
                _, ratio = fit(src, xt[ft != k], bandwidth=sigma, seed=seed,
                               return_function=True, **kwargs)
            if method == "kliep":
                total += -float(ratio(xt[ft == k]).clamp_min(tiny).log().mean())
            else:
                total += (0.5 * float(ratio(xs[fs == k]).square().mean())
                          - float(ratio(xt[ft == k]).mean()))
        losses.append(total / n_folds)
    best = min(range(len(candidates)), key=losses.__getitem__)
    return BandwidthSelection(candidates[best], list(candidates), losses)


# --------------------------------------------------------------------------- classifier
@torch.no_grad()
def classifier_weights(
    xs,
    xt,
    *,
    model: str = "logistic",
    n_folds: int = 2,
    seed: int = 0,
    **classifier_kwargs,
) -> torch.Tensor:
    r"""Density-ratio weights ``p_t(x_i) / p_s(x_i)`` from a probabilistic domain classifier.

    A classifier of target (label 1) against source (label 0) gives
    ``P(t | x) / P(s | x) = (π_t p_t(x)) / (π_s p_s(x))`` where ``π`` are the class priors
    *of its training loss*.  With the ordinary (unweighted) loss ``π_t/π_s = n_t/n_s``
    and the odds must be multiplied by ``n_s/n_t``.  :func:`tllab.crossfit_log_ratio`
    trains with a **class-balanced** loss (each domain has total weight ½), i.e.
    ``π_t = π_s``, so its logit already estimates ``log p_t/p_s`` and **no prior
    correction is applied** here.  Each source point is scored by a model trained on the
    other ``n_folds − 1`` folds (cross-fitting), so the weights are not overfitted.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
    model : {"logistic", "mlp"}, default="logistic"
        A logistic model is exact when the log-ratio is linear (e.g. two Gaussians with
        the same covariance).
    n_folds : int, default=2
    seed : int, default=0
    **classifier_kwargs
        Passed to :func:`tllab.fit_domain_classifier` (``hidden``, ``weight_decay``,
        ``max_iter``).

    Returns
    -------
    torch.Tensor of shape (n_s,)
        ``exp(logit)`` (the logit is capped so the exponential stays finite).

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(500, 1, generator=g); xt = torch.randn(500, 1, generator=g) + 0.5
    >>> w = tllab.classifier_weights(xs, xt)
    >>> bool(w[xs[:, 0] > 1].mean() > w[xs[:, 0] < -1].mean())
    True
    """
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=1)
    model = check_choice(model, "model", MODELS)
    n_folds = check_int(n_folds, "n_folds", min_value=2)
    if min(xs.shape[0], xt.shape[0]) < n_folds:
        raise ValueError(f"xs and xt need at least n_folds={n_folds} samples each; got "
                         f"{xs.shape[0]} and {xt.shape[0]}")
    seed = check_int(seed, "seed", min_value=0)
    _, log_ratio_s = crossfit_log_ratio(xt, xs, n_folds=n_folds, seed=seed, model=model,
                                        **classifier_kwargs)
    cap = math.log(torch.finfo(xs.dtype).max) - 1.0
    return log_ratio_s.clamp(max=cap).exp().to(xs.dtype)


# --------------------------------------------------------------------------- using weights
def effective_sample_size(w) -> torch.Tensor:
    r"""Kish's effective sample size ``(Σ w_i)² / Σ w_i²``.

    Equals ``n`` for constant weights and 1 when a single weight carries everything:
    the number of unweighted samples that would give a mean of the same variance.

    Parameters
    ----------
    w : array-like of shape (n,)
        Non-negative weights, not all zero.

    Returns
    -------
    torch.Tensor
        0-d tensor on ``w``'s device and dtype.

    Examples
    --------
    >>> import tllab
    >>> float(tllab.effective_sample_size([1.0, 1.0, 1.0, 1.0]))
    4.0
    >>> float(tllab.effective_sample_size([4.0, 0.0, 0.0, 0.0]))
    1.0
    """
    w = _check_weights(w, "w")
    return w.sum() ** 2 / (w * w).sum()


def flatten_weights(w, gamma: float) -> torch.Tensor:
    r"""Flattened weights ``w^γ``, rescaled to mean 1.

    ``γ = 1`` keeps the importance weights (unbiased, high variance), ``γ = 0`` gives
    uniform weights (no correction, low variance); values in between trade bias for
    variance (Shimodaira, 2000).  ``0⁰`` is taken as 1.

    Parameters
    ----------
    w : array-like of shape (n,)
    gamma : float >= 0

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.flatten_weights([1.0, 4.0], 0.5).tolist()  # (1, 2) / 1.5
    [0.6666666666666666, 1.3333333333333333]
    """
    w = _check_weights(w, "w")
    gamma = check_real(gamma, "gamma", low=0.0)
    v = w.pow(gamma)
    return v / v.mean()


def clip_weights(w, max_weight: float, *, normalize: bool = False) -> torch.Tensor:
    r"""Weights truncated at ``max_weight`` (``min(w_i, max_weight)``).

    Truncation bounds the variance of weighted averages at the price of a bias
    (Ionides, 2008).  With ``normalize=True`` the clipped weights are rescaled to mean 1.

    Parameters
    ----------
    w : array-like of shape (n,)
    max_weight : float > 0
    normalize : bool, default=False

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.clip_weights([0.5, 1.0, 8.0], 2.0).tolist()
    [0.5, 1.0, 2.0]
    """
    w = _check_weights(w, "w")
    max_weight = check_real(max_weight, "max_weight", low=0.0, low_inclusive=False)
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool; got {normalize!r}")
    out = w.clamp(max=max_weight)
    return out / out.mean() if normalize else out


def importance_weighted_risk(losses, w, *, normalize: bool = False) -> torch.Tensor:
    r"""Importance-weighted average loss, an estimate of the target risk.

    ``normalize=False``: ``(1/n) Σ w_i ℓ_i``, unbiased for the target risk when ``w`` is
    the true ratio ``p_t/p_s`` at source points.  ``normalize=True``: the self-normalised
    ``Σ w_i ℓ_i / Σ w_i``, slightly biased but invariant to the scale of ``w`` and often
    of lower variance.

    Parameters
    ----------
    losses : array-like of shape (n,)
        Per-example losses on the source sample.
    w : array-like of shape (n,)
        Non-negative weights.
    normalize : bool, default=False

    Returns
    -------
    torch.Tensor
        0-d tensor on ``losses``'s device.

    Examples
    --------
    >>> import tllab
    >>> float(tllab.importance_weighted_risk([1.0, 3.0], [0.5, 1.5]))  # (0.5 + 4.5) / 2
    2.5
    >>> float(tllab.importance_weighted_risk([1.0, 3.0], [1.0, 3.0], normalize=True))
    2.5
    """
    if isinstance(losses, (str, bytes, dict)) or losses is None:
        raise TypeError(f"losses must be an array-like; got {type(losses).__name__}")
    losses = as_tensor(losses)
    if losses.ndim != 1 or losses.numel() == 0:
        raise ValueError(f"losses must be a non-empty 1-D array; got shape {tuple(losses.shape)}")
    if not bool(torch.isfinite(losses).all()):
        raise ValueError("losses must be finite")
    w = _check_weights(w, "w")
    if w.shape != losses.shape:
        raise ValueError(f"losses and w must have the same shape; got {tuple(losses.shape)} "
                         f"and {tuple(w.shape)}")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool; got {normalize!r}")
    w = w.to(device=losses.device, dtype=torch.promote_types(w.dtype, losses.dtype))
    if normalize:
        return (w * losses).sum() / w.sum()
    return (w * losses).mean()


def _loss_fn(loss) -> Callable:
    if callable(loss):
        return loss
    loss = check_choice(loss, "loss", IWCV_LOSSES)
    if loss == "squared":
        return lambda p, y: ((p - y) ** 2).reshape(p.shape[0], -1).sum(1)
    if loss == "absolute":
        return lambda p, y: (p - y).abs().reshape(p.shape[0], -1).sum(1)
    return lambda p, y: (p != y).reshape(p.shape[0], -1).any(1).to(torch.get_default_dtype())


def _fit_predict(estimator, x_tr, y_tr, w_tr, x_te, weighted_fit):
    if hasattr(estimator, "fit") and hasattr(estimator, "predict"):
        from sklearn.base import clone

        est = clone(estimator)
        kw = {"sample_weight": w_tr.cpu().numpy()} if weighted_fit else {}
        est.fit(x_tr.cpu().numpy(), y_tr.cpu().numpy(), **kw)
        return est.predict(x_te.cpu().numpy())
    return estimator(x_tr, y_tr, w_tr if weighted_fit else torch.ones_like(w_tr), x_te)


def iwcv_score(
    estimator,
    xs,
    ys,
    w,
    *,
    n_folds: int = 5,
    loss="squared",
    seed: int = 0,
    weighted_fit: bool = True,
) -> torch.Tensor:
    r"""Importance-weighted cross-validation risk (Sugiyama, Krauledat & Müller, 2007).

    The source sample is split into ``n_folds`` folds (a seeded shuffle); for each fold
    ``F`` a model is trained on the other folds and scored on ``F`` with the importance
    weights:

    .. math::

        \widehat R_{\text{IWCV}} = \frac1{K}\sum_{k=1}^{K} \frac1{|F_k|}
        \sum_{i \in F_k} w_i\, \ell\bigl(f_{-k}(x_i), y_i\bigr).

    With ``w = p_t/p_s`` this is (almost) unbiased for the *target* risk of the learner
    trained on ``(K−1)/K`` of the data, even though no target label is used; ordinary
    CV estimates the source risk instead.  Use it to pick a hyper-parameter (the one with
    the smallest score), including the flattening ``γ`` of :func:`flatten_weights`.

    Parameters
    ----------
    estimator : callable or scikit-learn estimator
        Either ``fit_predict(x_train, y_train, w_train, x_test) -> predictions`` (torch
        tensors in, array-like out), or an object with ``fit(X, y, sample_weight=...)``
        and ``predict`` (cloned for every fold; fed NumPy arrays).
    xs : array-like of shape (n, d)
    ys : array-like of shape (n,) or (n, k)
    w : array-like of shape (n,)
        Importance weights of the source points.
    n_folds : int, default=5
    loss : {"squared", "absolute", "zero_one"} or callable, default="squared"
        A callable gets ``(predictions, targets)`` as tensors and returns per-example
        losses of shape ``(n_fold,)``.
    seed : int, default=0
    weighted_fit : bool, default=True
        Train with the weights (importance-weighted ERM, as in the paper); False trains
        unweighted and only scores with the weights.

    Returns
    -------
    torch.Tensor
        0-d tensor on ``xs``'s device.

    Examples
    --------
    >>> import numpy as np, tllab
    >>> from sklearn.linear_model import Ridge
    >>> rng = np.random.default_rng(0)
    >>> xs = rng.normal(size=(200, 1)); ys = np.sin(xs[:, 0]) + 0.1 * rng.normal(size=200)
    >>> w = np.exp(xs[:, 0] - 0.5)  # N(0,1) source, N(1,1) target: p_t/p_s = e^(x-1/2)
    >>> scores = {a: float(tllab.iwcv_score(Ridge(alpha=a), xs, ys, w)) for a in (0.1, 1e3)}
    >>> min(scores, key=scores.get)
    0.1
    """
    xs = check_samples(xs, "xs", min_samples=2)
    n = xs.shape[0]
    if isinstance(ys, (str, bytes, dict)) or ys is None:
        raise TypeError(f"ys must be an array-like; got {type(ys).__name__}")
    ys = torch.as_tensor(np.asarray(ys) if not isinstance(ys, torch.Tensor) else ys)
    ys = ys.to(xs.device)
    if ys.ndim not in (1, 2) or ys.shape[0] != n:
        raise ValueError(f"ys must have shape ({n},) or ({n}, k) to match xs; got "
                         f"{tuple(ys.shape)}")
    if ys.is_floating_point() and not bool(torch.isfinite(ys).all()):
        raise ValueError("ys must be finite")
    w = _check_weights(w, "w")
    if w.shape[0] != n:
        raise ValueError(f"w must have shape ({n},) to match xs; got {tuple(w.shape)}")
    w = w.to(device=xs.device, dtype=xs.dtype)
    n_folds = check_int(n_folds, "n_folds", min_value=2)
    if n_folds > n:
        raise ValueError(f"n_folds={n_folds} exceeds the number of samples in xs ({n})")
    seed = check_int(seed, "seed", min_value=0)
    if not isinstance(weighted_fit, bool):
        raise TypeError(f"weighted_fit must be a bool; got {weighted_fit!r}")
    if not callable(estimator) and not (hasattr(estimator, "fit")
                                        and hasattr(estimator, "predict")):
        raise TypeError("estimator must be a callable fit_predict(x_train, y_train, w_train, "
                        "x_test) or an object with fit and predict; got "
                        f"{type(estimator).__name__}")
    loss_fn = _loss_fn(loss)
    gen = torch.Generator().manual_seed(seed)
    folds = _fold_ids(n, n_folds, gen, xs.device)
    risks = []
    for k in range(n_folds):
        te, tr = folds == k, folds != k
        pred = _fit_predict(estimator, xs[tr], ys[tr], w[tr], xs[te], weighted_fit)
        pred = torch.as_tensor(np.asarray(pred) if not isinstance(pred, torch.Tensor) else pred)
        pred = pred.to(xs.device)
        y_te = ys[te]
        if pred.shape != y_te.shape:
            pred = pred.reshape(y_te.shape)
        if pred.is_floating_point() or y_te.is_floating_point():
            dtype = torch.promote_types(pred.dtype, y_te.dtype)
            pred, y_te = pred.to(dtype), y_te.to(dtype)
        fold_losses = torch.as_tensor(loss_fn(pred, y_te)).to(device=xs.device, dtype=xs.dtype)
        if fold_losses.shape != (int(te.sum()),):
            raise ValueError(f"loss must return one value per held-out example, shape "
                             f"({int(te.sum())},); got {tuple(fold_losses.shape)}")
        risks.append((w[te] * fold_losses).mean())
    return torch.stack(risks).mean()
