r"""Kernel Mean Matching (Huang et al., 2007): source weights matching the target kernel mean.

KMM solves the box- and slab-constrained quadratic programme

``min_β ½ βᵀKβ − κᵀβ  s.t. 0 ≤ β_i ≤ B, |Σβ_i − n_s| ≤ n_s·ε``,
``κ_i = (n_s/n_t) Σ_j k(x_i, x'_j)``,

in torch (CPU or GPU) to a certified tolerance: projected Newton on the active faces when the
kernel matrix fits in memory, then accelerated projected-gradient / conjugate-gradient cycles
that certify the optimum.
"""

from __future__ import annotations

import math
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
    _tile,
    resolve_bandwidth,
)
from ._common import _work_dtype

__all__ = [
    "KMM_DENSE_BYTES",
    "KMMResult",
    "kmm_weights",
]


KMM_DENSE_BYTES = 2**27
"""Largest kernel matrix (in bytes, 128 MiB) that :func:`~tllab.kmm_weights` caches by default."""


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
