r"""Direct density-ratio estimators ``w(x) = p_t(x) / p_s(x)`` evaluated at the source points.

* :func:`~tllab.kliep_weights`: KLIEP (Sugiyama et al., 2008), a log-barrier Newton solver;
* :func:`~tllab.ulsif_weights`: unconstrained least-squares importance fitting (Kanamori et al.,
  2009), closed form;
* :func:`~tllab.classifier_weights`: the odds of a probabilistic domain classifier;
* :func:`~tllab.select_ratio_bandwidth`: K-fold cross-validation of KLIEP's / uLSIF's own criterion.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import torch

from .._checks import (
    check_choice,
    check_int,
    check_positive_scalars,
    check_real,
    check_sample_pair,
)
from ..classifier import MODELS, _fold_ids, crossfit_log_ratio
from ..kernels import (
    median_bandwidth,
    resolve_bandwidth,
)
from ._common import _gaussian_features, _pick_centres, _ratio_function, _work_dtype

__all__ = [
    "kliep_weights",
    "ulsif_weights",
    "RATIO_CV_FACTORS",
    "BandwidthSelection",
    "select_ratio_bandwidth",
    "classifier_weights",
]


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
        (:func:`~tllab.select_ratio_bandwidth`); the median heuristic over-smooths when the
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
    ``bandwidth="cv"`` chooses σ (for the given λ) by :func:`~tllab.select_ratio_bandwidth`.

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


RATIO_CV_FACTORS = (0.25, 0.5, 1.0, 2.0)
"""Multiples of the median heuristic tried by ``bandwidth="cv"``."""


class BandwidthSelection(NamedTuple):
    """Result of :func:`~tllab.select_ratio_bandwidth`."""

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
        Passed to :func:`~tllab.kliep_weights` / :func:`~tllab.ulsif_weights` (e.g. ``n_basis``,
        ``reg``).

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
