r"""Primal-dual interior point for ``min ½xᵀQx + cᵀx`` over ``0 <= x <= B``, ``lo <= Σx <= hi``.

The working-set solver of :func:`tllab.kmm_weights` (see ``_kmm_solvers``).  Mehrotra's
predictor–corrector on the slack form

``x >= 0 (z_l)``, ``x + s_u = B (z_u)``, ``Σx + s_h = hi (z_h)``, ``Σx − s_o = lo (z_o)``

(``Σx = lo`` with a free multiplier ``y`` when ``hi − lo`` is negligible).  Eliminating the
slacks and multipliers leaves ``(Q + D + ω 11ᵀ) Δx = r`` with ``D`` diagonal: ``Q + D`` is
factorised in place and the rank-one term handled by Sherman–Morrison.
"""

from __future__ import annotations

import math

import torch

from ._kmm_linalg import _chol_solve, _cholesky_inplace


def _max_step(v: torch.Tensor, dv: torch.Tensor) -> float:
    """Largest ``α`` with ``v + α dv >= 0`` (``v > 0``)."""
    neg = dv < 0
    return float((-v[neg] / dv[neg]).min()) if bool(neg.any()) else math.inf


def _max_step_scalar(v: float, dv: float) -> float:
    return -v / dv if dv < 0 else math.inf


class _BoxSlabIPM:
    """State and steps of the interior point; :meth:`run` returns the result.

    ``q_mv(v)`` computes ``Q v`` and ``q_new()`` returns a new copy of ``Q`` in the work
    dtype (factorised in place each iteration).  ``res_tol`` is the relative dual
    residual that counts as zero (the products' rounding level).
    """

    def __init__(self, q_mv, q_new, c, B, lo, hi, start_sum, ridge, res_tol):
        m = c.numel()
        self.q_mv, self.q_new, self.c, self.B, self.ridge, self.res_tol = (
            q_mv, q_new, c, B, ridge, res_tol)
        self.lo, self.hi = max(lo, 0.0), min(hi, B * m)
        self.eq = self.hi - self.lo <= 1e-12 * max(self.hi, 1.0)
        self.has_lo = not self.eq and self.lo > 0
        self.has_hi = not self.eq and self.hi < B * m
        self.has_up = B < (self.lo if self.eq else self.hi)  # else x_i <= Σx <= B already
        width = self.hi - self.lo
        t0 = (self.lo if self.eq
              else min(max(start_sum, self.lo + 0.05 * width), self.hi - 0.05 * width))
        self.x = torch.full_like(c, t0 / m)
        self.su = B - self.x if self.has_up else None
        self.sh = self.hi - t0 if self.has_hi else 0.0
        self.so = t0 - self.lo if self.has_lo else 0.0
        self.qx = q_mv(self.x)
        mu0 = max(float((self.qx + c).abs().mean()) * (t0 / m), 1e-300)
        self.zl = mu0 / self.x
        self.zu = mu0 / self.su if self.has_up else None
        self.zh = mu0 / self.sh if self.has_hi else 0.0
        self.zo = mu0 / self.so if self.has_lo else 0.0
        self.y = 0.0
        self.n_cons = m * (2 if self.has_up else 1) + self.has_hi + self.has_lo

    @property
    def nu(self) -> float:
        """Multiplier of the sum: ``∇f_i + ν = 0`` on the free coordinates."""
        return self.zh - self.zo + self.y

    def _complementarity(self) -> float:
        s = float(self.x @ self.zl) + self.sh * self.zh + self.so * self.zo
        return s + (float(self.su @ self.zu) if self.has_up else 0.0)

    def _residuals(self):
        sx = float(self.x.sum())
        self.rd = self.qx + self.c - self.zl + self.nu
        if self.has_up:
            self.rd = self.rd + self.zu
        # The start is feasible and the constraints linear: the primal residuals are
        # rounding drift, set to 0 below the rounding level of Σx.
        self.ru = self.x + self.su - self.B if self.has_up else None
        round_off = 64 * torch.finfo(self.x.dtype).eps * (abs(sx) + self.lo + self.hi)
        rh = sx + self.sh - self.hi if self.has_hi else 0.0
        ro = sx - self.so - self.lo if self.has_lo else 0.0
        re = sx - self.lo if self.eq else 0.0
        self.rh, self.ro, self.re = (r if abs(r) > round_off else 0.0 for r in (rh, ro, re))
        res_p = max(abs(self.rh), abs(self.ro), abs(self.re),
                    float(self.ru.abs().max()) if self.has_up else 0.0)
        return self._complementarity(), float(self.rd.abs().max()), res_p

    def _factorise(self) -> bool:
        self.dg = self.zl / self.x
        if self.has_up:
            self.dg = self.dg + self.zu / self.su
        self.omega = ((self.zh / self.sh if self.has_hi else 0.0)
                      + (self.zo / self.so if self.has_lo else 0.0))
        # A tiny ridge keeps Q + D factorisable where the barrier terms vanish (free
        # coordinates, Q numerically singular); refinement in _solve removes its effect.
        a = self.q_new()
        a.diagonal().add_(self.dg + self.ridge)
        self.chol = _cholesky_inplace(a)
        if self.chol is None:
            return False
        self.w = _chol_solve(self.chol, torch.ones_like(self.x))
        self.w_sum = float(self.w.sum())
        return True

    def _solve_once(self, r, e):
        """``(Q + D) dx + (ω Σdx) 1 = r``, or ``(Q + D) dx + dy 1 = r, Σdx = e``."""
        u = _chol_solve(self.chol, r)
        if self.eq:
            dy = (float(u.sum()) - e) / self.w_sum
            return u - self.w * dy, dy
        if self.omega == 0:
            return u, 0.0
        return u - self.w * (float(u.sum()) / (1.0 / self.omega + self.w_sum)), 0.0

    def _solve(self, r, e):
        """:meth:`_solve_once` plus one step of iterative refinement on the exact operator."""
        dx, dy = self._solve_once(r, e)
        res = r - self.q_mv(dx) - self.dg * dx
        res = res - (dy if self.eq else self.omega * float(dx.sum()))
        ddx, ddy = self._solve_once(res, e - float(dx.sum()) if self.eq else 0.0)
        return dx + ddx, dy + ddy

    def _direction(self, rcl, rcu, rch, rco) -> dict:
        """Newton direction for the complementarity targets ``s∘z − rc = 0``."""
        r = -self.rd - rcl / self.x
        if self.has_up:
            r = r - (-rcu + self.zu * self.ru) / self.su
        if self.has_hi:
            r = r - (-rch + self.zh * self.rh) / self.sh
        if self.has_lo:
            r = r - (rco + self.zo * self.ro) / self.so
        dx, dy = self._solve(r, -self.re)
        s = float(dx.sum())
        d = {"x": dx, "y": dy, "zl": (-rcl - self.zl * dx) / self.x}
        if self.has_up:
            d["su"] = -self.ru - dx
            d["zu"] = (-rcu - self.zu * d["su"]) / self.su
        if self.has_hi:
            d["sh"] = -self.rh - s
            d["zh"] = (-rch - self.zh * d["sh"]) / self.sh
        if self.has_lo:
            d["so"] = self.ro + s
            d["zo"] = (-rco - self.zo * d["so"]) / self.so
        return d

    def _steps(self, d) -> tuple[float, float]:
        ap, ad = _max_step(self.x, d["x"]), _max_step(self.zl, d["zl"])
        if self.has_up:
            ap, ad = min(ap, _max_step(self.su, d["su"])), min(ad, _max_step(self.zu, d["zu"]))
        if self.has_hi:
            ap = min(ap, _max_step_scalar(self.sh, d["sh"]))
            ad = min(ad, _max_step_scalar(self.zh, d["zh"]))
        if self.has_lo:
            ap = min(ap, _max_step_scalar(self.so, d["so"]))
            ad = min(ad, _max_step_scalar(self.zo, d["zo"]))
        return ap, ad

    def _complementarity_after(self, d, ap, ad) -> float:
        s = float((self.x + ap * d["x"]) @ (self.zl + ad * d["zl"]))
        if self.has_up:
            s += float((self.su + ap * d["su"]) @ (self.zu + ad * d["zu"]))
        if self.has_hi:
            s += (self.sh + ap * d["sh"]) * (self.zh + ad * d["zh"])
        if self.has_lo:
            s += (self.so + ap * d["so"]) * (self.zo + ad * d["zo"])
        return s

    def _move(self, d, ap, ad):
        self.x = self.x + ap * d["x"]
        self.zl = self.zl + ad * d["zl"]
        if self.has_up:
            self.su, self.zu = self.su + ap * d["su"], self.zu + ad * d["zu"]
        if self.has_hi:
            self.sh, self.zh = self.sh + ap * d["sh"], self.zh + ad * d["zh"]
        if self.has_lo:
            self.so, self.zo = self.so + ap * d["so"], self.zo + ad * d["zo"]
        self.y += ad * d["y"]
        self.qx = self.q_mv(self.x)

    def _at_bounds(self):
        """Coordinates whose bound multiplier dominates their distance to the bound
        (``x_i ρ < z_i`` with the unit-free ``ρ = Σz / Σx``): they belong on the bound."""
        lower = self.x * (float(self.zl.sum()) / max(float(self.x.sum()), 1e-300)) < self.zl
        if not self.has_up:
            return lower, torch.zeros_like(lower)
        rho = float(self.zu.sum()) / max(float(self.su.sum()), 1e-300)
        return lower, (self.su * rho < self.zu) & ~lower

    def run(self, gap_tol: float, max_iter: int = 80):
        """Iterate until the complementarity gap is at most ``gap_tol`` and the residuals
        are at rounding level; returns ``(x, ν, at_lower, at_upper, converged)`` of the
        best iterate (``at_*``: see :meth:`_at_bounds`)."""
        cmax = float(self.c.abs().max()) + 1.0
        best = (math.inf, self.x, 0.0, None)
        for _ in range(max_iter):
            gap, res_d, res_p = self._residuals()
            merit = max(gap / gap_tol, res_d / (self.res_tol * cmax),
                        res_p / (1e-10 * (1.0 + self.hi)))
            if merit < best[0]:
                best = (merit, self.x, self.nu, self._at_bounds())
            if merit <= 1.0 or not self._factorise():
                break
            # Predictor (affine scaling), then Mehrotra's centring-corrector.
            aff = self._direction(self.x * self.zl,
                                  self.su * self.zu if self.has_up else None,
                                  self.sh * self.zh, self.so * self.zo)
            ap, ad = self._steps(aff)
            ap, ad = min(1.0, ap), min(1.0, ad)
            sigma = min(max(self._complementarity_after(aff, ap, ad) / gap, 0.0), 1.0) ** 3
            target = sigma * gap / self.n_cons
            cor = self._direction(
                self.x * self.zl + aff["x"] * aff["zl"] - target,
                self.su * self.zu + aff["su"] * aff["zu"] - target if self.has_up else None,
                (self.sh * self.zh + aff["sh"] * aff["zh"] - target) if self.has_hi else 0.0,
                (self.so * self.zo + aff["so"] * aff["zo"] - target) if self.has_lo else 0.0)
            ap, ad = self._steps(cor)
            self.chol = None
            self._move(cor, min(1.0, 0.99 * ap), min(1.0, 0.99 * ad))
        merit, x, nu, (lower, upper) = best
        return x, nu, lower, upper, merit <= 1.0


def _ipm(gram, idx, c, B, lo, hi, start_sum, fscale, tol, max_iter=80):
    """Interior point on the working set ``idx`` (``Q = K[idx][:, idx]``).

    Stops at a complementarity gap ``<= tol · fscale``.  Returns ``(x, ν, at_lower,
    at_upper, converged)``.
    """
    m = c.numel()
    if hi - lo <= 1e-12 * max(hi, 1.0) and lo >= B * m * (1.0 - 1e-12):  # all x_i = B
        no = torch.zeros_like(c, dtype=torch.bool)
        return torch.full_like(c, B), 0.0, no, ~no, True
    ipm = _BoxSlabIPM(gram.sub_operator(idx), lambda: gram.sub(idx), c, B, lo, hi, start_sum,
                      1e-12 * gram.diag, max(1e-10, 100 * gram.eps))
    return ipm.run(tol * fscale, max_iter)
