r"""Solvers of the KMM quadratic programme behind :func:`tllab.kmm_weights`.

``min_β f(β) = ½ βᵀKβ − κᵀβ`` over ``C = {0 <= β_i <= B, lo <= Σβ_i <= hi}``.

* ``_kmm_linalg._Gram``: the source kernel matrix, cached or evaluated tile by tile.
* ``_second_order``: projected Newton (active faces) to find the support, then a
  primal-dual interior-point method on a working set, grown until the Frank–Wolfe
  duality gap certifies the tolerance.  Needs one float64 matrix of the working face.
* ``_first_order``: accelerated projected gradient and face conjugate gradients;
  memory ``O(n·d)`` beyond the products, used when not even that matrix fits.
"""

from __future__ import annotations

import math

import torch

from ._kmm_ipm import _ipm
from ._kmm_linalg import _chol_solve, _cholesky_inplace


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
    # A sum off the slab by rounding only is left alone: shifting by a τ of that size
    # would turn every zero weight into a tiny positive one.
    slack = 1e-13 * (abs(hi) + v.numel())
    if lo - slack <= total <= hi + slack:
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


def _sum_on_bound(total: float, lo: float, hi: float) -> bool:
    """Whether ``Σβ = total`` sits on a bound of the slab (to ``1e-9`` relative)."""
    return min(abs(total - lo), abs(hi - total)) <= 1e-9 * hi


def _objective(beta, kb, kappa) -> float:
    return float(0.5 * (beta @ kb) - kappa @ beta)


def _fw_gap(beta, kb, kappa, B, lo, hi) -> float:
    """Relative Frank–Wolfe duality gap ``(∇fᵀβ − min_{s∈C} ∇fᵀs) / |f(β)|``.

    By convexity ``f(β) − gap·|f(β)|`` is a lower bound on the optimum: a certificate.
    """
    g = kb - kappa
    f = _objective(beta, kb, kappa)
    return float(g @ beta - _lmo_value(g, B, lo, hi)) / max(abs(f), 1e-300)


# --------------------------------------------------------------------------- projected Newton
def _face_direction(gram, F, g_eff, beta, mu, n_at_b, B, lo, hi):
    """Levenberg–Marquardt step on the face ``F``: ``d = −(K_FF + μ I)⁻¹ ∇f_F``.

    The other coordinates sit at their bounds (``n_at_b`` of them at ``B``); when the sum
    would leave the slab, it is held at the violated bound (one Lagrange multiplier).
    """
    a = gram.sub(F)
    a.diagonal().add_(mu * gram.diag)
    chol = _cholesky_inplace(a)
    if chol is None:
        return None
    sol = _chol_solve(chol, torch.stack([-g_eff, torch.ones_like(g_eff)], 1))
    del a, chol
    d, k_inv_one = sol[:, 0], sol[:, 1]
    total = float(beta[F].sum() + d.sum()) + B * n_at_b
    if not lo <= total <= hi:
        target = hi if total > hi else lo
        d = d - (total - target) / float(k_inv_one.sum()) * k_inv_one
    return d


_MU0 = 1e-4


def _search(gram, kappa, beta, kb, f, g, full, B, lo, hi):
    """The step of the Newton phase along ``full`` (the Newton point is ``β + full``).

    The projected Newton point if it lowers ``f``; otherwise the best of the exact
    minimiser on the segment to it and three points of the projection arc on which the
    coordinates heading for a bound reach it by the step ⅛ while the face moves by the
    step (½, ¼, ⅛).  Returns ``(β, Kβ, f, step)`` or None when nothing lowers ``f``.
    """
    cand = _project_box_slab(beta + full, B, lo, hi)
    kc = gram.matvec(cand)
    f_c = _objective(cand, kc, kappa)
    if f_c < f:
        return cand, kc, f_c, 1.0
    best = None
    d, kd = cand - beta, kc - kb
    gd, dkd = float(g @ d), float(d @ kd)
    if gd < 0 < dkd:  # f is quadratic on the segment: its minimiser is exact
        t = -gd / dkd
        seg = beta + t * d
        ks = kb + t * kd
        best = (_objective(seg, ks, kappa), seg, ks, t)
    on_face = (full != 0) & (beta + full > 0) & (beta + full < B)
    arc = torch.where(on_face, full, 8.0 * full)
    for t in (0.5, 0.25, 0.125):
        cand = _project_box_slab(beta + t * arc, B, lo, hi)
        kc = gram.matvec(cand)
        f_c = _objective(cand, kc, kappa)
        if best is None or f_c < best[0]:
            best = (f_c, cand, kc, t)
    if best is None or best[0] >= f:
        return None
    return best[1], best[2], best[0], best[3]


def _newton_phase(gram, kappa, beta, kb, B, lo, hi, tol, max_products, max_iter=60,
                  max_fix=3):
    """Projected Newton on the active faces (Bertsekas, 1982) from a feasible ``β``.

    Each iteration fixes the ε-active coordinates (``β_i <= ε`` with ``∇f_i > 0``, or
    ``β_i >= B − ε`` with ``∇f_i < 0``, ``ε`` shrinking with the projected gradient) at
    their bounds, lets at most a quarter more zero weights with ``∇f_i <= 0`` into the
    face (the most violating first: releasing all of them lets the face swell back to
    near ``n_s`` in every iteration of a degenerate problem), takes the damped Newton
    step on the face, fixes at 0 or ``B`` the coordinates that the step sends out of the
    box and solves again (at most ``max_fix`` times: the support shrinks fast), then
    searches along the projection arc, on which the fixed coordinates reach their bound
    by the step ``1/8`` (steps 1, ½, …, 1/64).  The damping ``μ`` shrinks after full
    steps and grows when no step decreases ``f``.  Stops when an iteration gains at most
    ``tol`` relatively.  Returns ``(β, Kβ, f)``.
    """
    f = _objective(beta, kb, kappa)
    mu = _MU0
    for _ in range(max_iter):
        g = kb - kappa
        pg = float((beta - _project_box_slab(beta - g, B, lo, hi)).norm())
        eps = min(pg, 1e-3 * min(B, 1.0))
        at_lo = (beta <= eps) & (g > 0)
        at_hi = (beta >= B - eps) & (g < 0)
        entering = (beta <= eps) & ~at_lo
        cap = max(16, int(0.25 * int((~(at_lo | at_hi | entering)).sum())))
        if int(entering.sum()) > cap:
            cand = entering.nonzero().squeeze(1)
            keep = cand[torch.argsort(g[cand])[:cap]]
            at_lo = at_lo | entering
            at_lo[keep] = False
        f_start, accepted = f, False
        base = torch.zeros_like(beta)
        base[at_lo] = -beta[at_lo]
        base[at_hi] = B - beta[at_hi]
        moved = (base != 0).nonzero().squeeze(1)
        g0 = g + gram.cols_matvec(moved, base[moved]) if moved.numel() else g
        while not accepted and gram.products < max_products:
            lower, upper, to_bound, g_eff = at_lo.clone(), at_hi.clone(), base.clone(), g0
            F = (~(lower | upper)).nonzero().squeeze(1)
            fulls = []  # Newton points: plain, then after each round of fixing
            for fix in range(max_fix + 1):
                if F.numel() == 0:
                    fulls.append(to_bound.clone())
                    break
                d = _face_direction(gram, F, g_eff[F], beta, mu, int(upper.sum()), B, lo, hi)
                if d is None:
                    break
                full = to_bound.clone()
                full[F] = d
                fulls.append(full)
                z = beta[F] + d
                out = (z < 0) | (z > B)
                if fix == max_fix or int(out.sum()) <= 0.01 * F.numel():
                    break
                Dl, Du = F[z < 0], F[z > B]
                lower[Dl], upper[Du] = True, True
                to_bound[Dl], to_bound[Du] = -beta[Dl], B - beta[Du]
                D = torch.cat([Dl, Du])
                g_eff = g_eff + gram.cols_matvec(D, to_bound[D])
                F = F[~out]
            # The most reduced face first; if fixing went too far, the plain Newton step.
            for full in ([fulls[-1], fulls[0]] if len(fulls) > 1 else fulls):
                step = _search(gram, kappa, beta, kb, f, g, full, B, lo, hi)
                if step is not None:
                    beta, kb, f, t = step
                    accepted = True
                    if t == 1.0:
                        mu = max(mu / 4.0, 1e-12)
                    break
            if not accepted:
                mu *= 10.0
                if mu > 1e4:
                    return beta, kb, f
        if not accepted or f_start - f <= tol * abs(f):
            break
    return beta, kb, f


def _newton_gain(gram, S, g, fixed_sum) -> float:
    """``f(β) − min f`` on the face ``S`` by its quadratic model: ``½ g_Sᵀ K_SS⁻¹ g_S``.

    With ``fixed_sum`` (the sum sits on a slab bound) the step keeps the sum:
    ``½ (gᵀK⁻¹g − (1ᵀK⁻¹g)² / 1ᵀK⁻¹1)``.  Exact when ``S`` is the optimal face and the
    step stays in the box; otherwise an estimate (measured within a factor ~2 of the
    true sub-optimality on degenerate problems, where the rigorous Frank–Wolfe bound is
    100–1000× loose).  A tiny ridge keeps the factorisation defined.
    """
    if S.numel() == 0:
        return 0.0
    a = gram.sub(S)
    a.diagonal().add_(1e-8 * gram.diag)
    chol = _cholesky_inplace(a)
    if chol is None:
        return math.inf
    gs = g[S]
    sol = _chol_solve(chol, torch.stack([gs, torch.ones_like(gs)], 1))
    gain = float(gs @ sol[:, 0])
    if fixed_sum:
        gain -= float(sol[:, 0].sum()) ** 2 / float(sol[:, 1].sum())
    return 0.5 * max(gain, 0.0)


def _snap(gram, kappa, beta, kb, f, gap, at_zero, at_b, B, lo, hi, tol, converged):
    """Put the interior-point values marked ``at_zero`` / ``at_b`` on their bound when
    that keeps the sum in the slab and costs at most ``0.01·tol`` relatively; returns
    ``_second_order``'s tuple."""
    zero, top = at_zero & (beta > 0), at_b & (beta < B)
    if bool(zero.any()) or bool(top.any()):
        cand = torch.where(zero, torch.zeros_like(beta), beta)
        cand = torch.where(top, torch.full_like(beta, B), cand)
        if lo <= float(cand.sum()) <= hi:
            kc = gram.matvec(cand)
            f_c = _objective(cand, kc, kappa)
            if f_c <= f + 1e-2 * tol * abs(f):
                return cand, kc, f_c, _fw_gap(cand, kc, kappa, B, lo, hi), converged
    return beta, kb, f, gap, converged


def _second_order(gram, kappa, B, lo, hi, tol, max_products, max_rounds=8, all_frac=0.6):
    """Projected Newton, then interior point on a growing working set.

    After the Newton phase and after each round, the result is accepted when (a) the
    Frank–Wolfe gap certifies ``tol``, or (b) the interior point solved the working set
    ``W`` and no coordinate outside violates the optimality conditions
    (``∇f_i + ν < 0`` at 0, ``> 0`` at ``B``, beyond rounding), or (c) the Newton gain on
    the free coordinates and the violators, ``_newton_gain``, is at most
    ``0.1·tol·|f|``.  Otherwise ``W`` becomes the free coordinates and violators (plus
    the previous ``W``) and the interior point solves it with the others at their
    bounds; a working set above ``all_frac · n`` becomes the whole sample.  Returns
    ``(β, Kβ, f, relative Frank–Wolfe gap, converged)``.
    """
    n = kappa.numel()
    beta = _project_box_slab(torch.ones_like(kappa), B, lo, hi)
    kb = gram.matvec(beta)
    beta, kb, f = _newton_phase(gram, kappa, beta, kb, B, lo, hi,
                                max(1e-2 * tol, 100 * gram.eps), max_products)
    noise = 100 * gram.eps * float(kappa.abs().max())
    work_set = torch.zeros_like(beta, dtype=torch.bool)
    at_zero = torch.zeros_like(work_set)  # interior-point values that belong at 0 ...
    at_b = torch.zeros_like(work_set)  # ... or at B
    nu, ipm_ok = None, False
    for rnd in range(max_rounds + 1):
        gap = _fw_gap(beta, kb, kappa, B, lo, hi)
        if gap <= tol:
            return _snap(gram, kappa, beta, kb, f, gap, at_zero, at_b, B, lo, hi, tol, True)
        g = kb - kappa
        free = (beta > 0) & (beta < B) & ~(at_zero | at_b)
        total = float(beta.sum())
        fixed_sum = _sum_on_bound(total, lo, hi)
        if nu is None:  # slab multiplier: 0 unless the sum sits on a bound
            nu = -float(g[free].median()) if fixed_sum and bool(free.any()) else 0.0
        v = g + nu
        thr = max(1e-3 * tol * abs(f) / max(hi, 1.0), noise)
        low, top = (beta <= 0) | at_zero, (beta >= B) | at_b
        viol = (low & (v < -thr)) | (top & (v > thr))
        if ipm_ok and not bool((viol & ~work_set).any()):
            return _snap(gram, kappa, beta, kb, f, gap, at_zero, at_b, B, lo, hi, tol, True)
        # Newton decrement on the free coordinates and the violators (the free ones
        # adjust too: a violator alone would understate what it can gain).
        gain = _newton_gain(gram, (free | viol).nonzero().squeeze(1), g, fixed_sum)
        if gain <= 0.1 * tol * abs(f):
            return _snap(gram, kappa, beta, kb, f, gap, at_zero, at_b, B, lo, hi, tol, True)
        if rnd == max_rounds or gram.products >= max_products:
            break
        grown = work_set | free | viol
        if int(grown.sum()) > all_frac * n:
            grown = torch.ones_like(work_set)
        if rnd > 0 and not ipm_ok and torch.equal(grown, work_set):
            break  # the same working set again: another round would repeat the last one
        work_set = grown
        idx = work_set.nonzero().squeeze(1)
        fixed = float(beta[~work_set].sum())
        bw = beta[idx]
        c = kb[idx] - gram.sub_matvec(idx, bw) - kappa[idx]
        x, nu, lower, upper, ipm_ok = _ipm(gram, idx, c, B, lo - fixed, hi - fixed,
                                           float(bw.sum()), abs(f), 1e-3 * tol)
        cand = beta.clone()
        cand[idx] = x.clamp(0.0, B)
        kc = gram.matvec(cand)
        f_c = _objective(cand, kc, kappa)
        if f_c <= f + 1e-3 * tol * abs(f):
            beta, kb, f = cand, kc, f_c
            # interior-point values end near, not on, their bounds
            at_zero[idx], at_b[idx] = lower, upper
    return _snap(gram, kappa, beta, kb, f, gap, at_zero, at_b, B, lo, hi, tol, False)


# --------------------------------------------------------------------------- first order
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


def _face_cg(matvec, beta, kb, kappa, B, lo, hi, max_cg):
    """Conjugate gradients on the face of the current iterate (active-set CG phase).

    Coordinates at 0 or ``B`` stay fixed; when the sum sits on a slab bound it stays
    fixed too (directions projected onto ``{Σ d = 0}``).  Each step is the exact line
    minimiser along the CG direction, truncated at the first constraint it would cross;
    the coordinates (or the sum) that reach a bound join the fixed set and CG restarts
    on the smaller face.  The objective never increases.  Returns ``(β, Kβ)``.
    """
    g = kb - kappa
    free = (beta > 0) & (beta < B)
    total = float(beta.sum())
    fixed_sum = _sum_on_bound(total, lo, hi)
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
            fixed_sum = fixed_sum or _sum_on_bound(total, lo, hi)
            restart = True
            continue
        r_new = -g * freef
        if fixed_sum:
            r_new = r_new - freef * (r_new.sum() / n_free)
        rr_new = float(r_new @ r_new)
        d = r_new + (rr_new / rr) * d
        rr = rr_new
    beta = _project_box_slab(beta, B, lo, hi)  # remove rounding drift
    return beta, matvec(beta)


def _first_order(gram, kappa, B, lo, hi, tol, max_products, n_pg=10, max_cg=50):
    """Cycles of accelerated projected gradient and face CG (GPCG-type, Moré & Toraldo).

    Stops when the Frank–Wolfe gap certifies ``tol`` or when one cycle decreases ``f``
    by at most ``tol`` relatively (a heuristic: the scheme converges linearly, but
    slowly on ill-conditioned problems).  Returns ``(β, Kβ, f, relative gap, converged)``.
    """
    matvec = gram.matvec
    n = kappa.numel()
    beta = _project_box_slab(torch.ones_like(kappa), B, lo, hi)
    kb = matvec(beta)
    lip = _power_lambda_max(matvec, n, kappa.dtype, kappa.device)
    f = _objective(beta, kb, kappa)
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
        return beta, kb, f, gap, True
    while gram.products < max_products:
        f_cycle = f
        # Phase 1: FISTA steps with adaptive restart; they move the active set.
        y, ky, t = beta, kb, 1.0
        steps = 0
        while steps < n_pg and gram.products < max_products:
            new = _project_box_slab(y - (ky - kappa) / lip, B, lo, hi)
            kn = matvec(new)
            d = new - y
            dd = float(d @ d)
            dkd = float(d @ (kn - ky))
            if dkd > lip * dd * (1 + 1e-10) + 1e-300:  # λ_max underestimated: backtrack
                lip = max(2.0 * lip, 1.05 * dkd / dd)
                y, ky, t = beta, kb, 1.0
                continue
            steps += 1
            f_new = _objective(new, kn, kappa)
            if certify(new, kn, f_new):
                return new, kn, f_new, gap, True
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            mom = (t - 1.0) / t_new
            # Adaptive restart (O'Donoghue & Candès, 2015): drop the momentum when it
            # points uphill or the objective went up.
            if f_new > f or float((y - new) @ (new - beta)) > 0:
                t_new, mom = 1.0, 0.0
            y = new + mom * (new - beta)
            ky = kn + mom * (kn - kb)
            beta, kb, f, t = new, kn, f_new, t_new
        if gram.products >= max_products:
            break
        # Phase 2: conjugate gradients on the current face (fast once it is right).
        cand, kc = _face_cg(matvec, beta, kb, kappa, B, lo, hi,
                            min(max_cg, max(max_products - gram.products - 1, 1)))
        f_c = _objective(cand, kc, kappa)
        if f_c <= f:
            beta, kb, f = cand, kc, f_c
            if certify(beta, kb, f):
                return beta, kb, f, gap, True
        if f_cycle - f <= tol * abs(f):
            return beta, kb, f, gap, True
    return beta, kb, f, gap, False
