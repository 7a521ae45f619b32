r"""Bias², variance and error on the source and the target law, and the chapter's explorer.

The expectations over training sets are Monte Carlo averages over ``n_sets`` independent
training sets of the regression problem (:mod:`tllab.studies.generalization.problem`),
repeated over ``seeds``; the expectations over ``x`` are exact quadrature sums.

* :func:`complexity_curve`, :func:`regularisation_curve`, :func:`bagging_curve`: bias²,
  variance and error on the source and the target law against a knob;
* :func:`ensemble_variance`: the member variance and correlation of bagged trees;
* :func:`explorer_state`: one picture of the chapter's explorer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..._checks import check_choice, check_int, check_real, check_seeds
from ...data.interval import make_interval_shift_regression, wiggly_function
from ...models import (
    bagged_predictions,
    bias_variance_decomposition,
    lasso,
    legendre_features,
    polynomial_predict,
)
from .problem import LAWS, NOISE, law_nodes, polynomial_learner

__all__ = [
    "Terms",
    "Curve",
    "complexity_curve",
    "regularisation_curve",
    "bagging_curve",
    "ensemble_variance",
    "ExplorerState",
    "explorer_state",
]


class Terms(NamedTuple):
    """Bias², variance and expected error on one law; arrays ``(n_seeds, n_settings)``."""

    bias2: np.ndarray
    variance: np.ndarray
    error: np.ndarray


class Curve(NamedTuple):
    """Decomposition on both laws against a knob (degree, penalty, ensemble size)."""

    settings: np.ndarray
    source: Terms
    target: Terms
    noise: float
    """The irreducible error ``NOISE**2`` included in ``error``."""


def _training_sets(n: int, n_sets: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    d = make_interval_shift_regression(n * n_sets, 1, seed=seed)
    return d.xs.reshape(n_sets, n, 1), d.ys.reshape(n_sets, n)


def _eval_points(n_nodes: int = 60):
    (xs, ws), (xt, wt) = law_nodes("source", n_nodes), law_nodes("target", n_nodes)
    return torch.cat([xs, xt]), ws, wt


def _curve(settings, predict: Callable, *, n: int, n_sets: int, seeds, progress: bool,
           desc: str) -> Curve:
    """``predict(setting, X, Y, x_eval, seed) -> (n_sets, m)``, decomposed on both laws."""
    n = check_int(n, "n", min_value=2)
    n_sets = check_int(n_sets, "n_sets", min_value=2)
    seeds = check_seeds(seeds)
    settings = list(settings)
    if not settings:
        raise ValueError("the grid of settings must not be empty")
    x_eval, ws, wt = _eval_points()
    m = ws.shape[0]
    f = wiggly_function(x_eval)
    out = {law: np.zeros((3, len(seeds), len(settings))) for law in LAWS}
    jobs = [(i, s) for i in range(len(seeds)) for s in range(len(settings))]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc=desc, leave=False)
    data = {}
    for i, j in jobs:
        if i not in data:
            data = {i: _training_sets(n, n_sets, seeds[i])}
        pred = predict(settings[j], *data[i], x_eval, seeds[i])
        for law, sl, w in (("source", slice(0, m), ws), ("target", slice(m, None), wt)):
            bv = bias_variance_decomposition(pred[:, sl], f[sl], noise_var=NOISE**2, weights=w)
            out[law][:, i, j] = float(bv.bias2), float(bv.variance), float(bv.error)
    return Curve(np.asarray(settings, dtype=float), Terms(*out["source"]),
                 Terms(*out["target"]), NOISE**2)


def complexity_curve(degrees: Sequence[int] = tuple(range(9)), *, n: int = 50,
                     n_sets: int = 100, seeds: Sequence[int] = (0, 1, 2),
                     progress: bool = False) -> Curve:
    r"""Bias², variance and error of least-squares polynomials against their degree.

    For each seed, ``n_sets`` training sets of ``n`` source points; every degree is fitted
    to each of them and the predictions decomposed
    (:func:`tllab.models.bias_variance.bias_variance_decomposition`, unbiased terms) under
    the source and the target law.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> c = study.complexity_curve([1, 3], n_sets=20, seeds=[0])
    >>> c.source.error.shape, bool(c.source.bias2[0, 1] < c.source.bias2[0, 0])
    ((1, 2), True)
    """
    degrees = [check_int(k, "degrees", min_value=0) for k in degrees]

    def predict(k, xs, ys, x_eval, _seed):
        fp = polynomial_learner(k)
        return torch.stack([fp(x, y, torch.ones_like(y), x_eval) for x, y in zip(xs, ys,
                                                                                   strict=True)])

    return _curve(degrees, predict, n=n, n_sets=n_sets, seeds=seeds, progress=progress,
                  desc="degrees")


def regularisation_curve(strengths: Sequence[float], *, penalty: str = "l2", degree: int = 10,
                         n: int = 50, n_sets: int = 100, seeds: Sequence[int] = (0, 1, 2),
                         progress: bool = False) -> Curve:
    r"""Bias², variance and error of a degree-``degree`` polynomial against its penalty.

    ``penalty="l2"``: ridge with ``reg = strength``; ``"l1"``: the Lasso with
    ``alpha = strength`` (a path: each training set is solved from the largest strength
    down, warm-started).  A strength of 0 is least squares.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> c = study.regularisation_curve([0.0, 1.0], degree=8, n_sets=20, seeds=[0])
    >>> bool(c.target.variance[0, 1] < c.target.variance[0, 0])
    True
    """
    penalty = check_choice(penalty, "penalty", ("l2", "l1"))
    degree = check_int(degree, "degree", min_value=1)
    strengths = [check_real(s, "strengths", low=0.0) for s in strengths]
    cache: dict = {}

    def predict(lam, xs, ys, x_eval, seed):
        if penalty == "l2":
            fp = polynomial_learner(degree, reg=lam)
            return torch.stack([fp(x, y, torch.ones_like(y), x_eval)
                                for x, y in zip(xs, ys, strict=True)])
        if seed not in cache:  # the whole Lasso path at once, from strong to weak
            cache.clear()
            phi_te = legendre_features(x_eval, degree)[:, 1:]
            preds = {s: [] for s in strengths}
            for x, y in zip(xs, ys, strict=True):
                phi, coef = legendre_features(x, degree)[:, 1:], None
                for s in sorted(strengths, reverse=True):
                    coef = lasso(phi, y, alpha=s, tol=1e-6, coef_init=coef)
                    preds[s].append(polynomial_predict(coef, phi_te))
            cache[seed] = {s: torch.stack(p) for s, p in preds.items()}
        return cache[seed][lam]

    return _curve(strengths, predict, n=n, n_sets=n_sets, seeds=seeds, progress=progress,
                  desc=f"{penalty} strengths")


def _tree():
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(random_state=0)


def bagging_curve(n_models: Sequence[int] = (1, 3, 10), *, n: int = 50, n_sets: int = 20,
                  seeds: Sequence[int] = (0, 1, 2), estimator=None,
                  progress: bool = False) -> Curve:
    r"""Bias², variance and error of a bagged learner against the number of members ``M``.

    The default learner is a fully grown regression tree (scikit-learn's
    ``DecisionTreeRegressor``), the unstable, low-bias learner bagging was designed for
    (Breiman, 1996); ``M = 1`` is a single tree on one bootstrap resample.  Each ``M`` draws
    its own resamples of the same training sets.

    Parameters
    ----------
    n_models : sequence of int >= 1
    n, n_sets : int
    seeds : sequence of int
    estimator : callable or scikit-learn estimator, optional
        As in :func:`tllab.models.ensemble.bagged_predictions`.
    progress : bool, default=False

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> c = study.bagging_curve([1, 5], n_sets=10, seeds=[0])
    >>> bool(c.source.variance[0, 1] < c.source.variance[0, 0])
    True
    """
    sizes = [check_int(m, "n_models", min_value=1) for m in n_models]
    est = _tree() if estimator is None else estimator

    def predict(m, xs, ys, x_eval, seed):
        return torch.stack([bagged_predictions(est, x, y, x_eval, n_models=m,
                                               seed=1000 * seed + 37 * m + r).mean(0)
                            for r, (x, y) in enumerate(zip(xs, ys, strict=True))])

    return _curve(sizes, predict, n=n, n_sets=n_sets, seeds=seeds, progress=progress,
                  desc="ensemble sizes")


def ensemble_variance(*, n: int = 50, n_sets: int = 20, seeds: Sequence[int] = (0, 1, 2),
                      estimator=None) -> dict:
    r"""Member variance ``σ²`` and member correlation ``ρ`` of bagged trees, on each law.

    From pairs of members (two bootstrap resamples of the same training set), averaged over
    the evaluation law: ``σ²`` is the variance of one member over training sets and
    resamples, ``ρσ²`` the covariance of two members of the same ensemble.  The variance of
    an average of ``M`` members is then ``ρσ² + (1 − ρ)σ²/M``.

    Returns
    -------
    dict
        ``{"source": (σ², ρ), "target": (σ², ρ)}``, each an array of shape ``(n_seeds, 2)``.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> out = study.ensemble_variance(n_sets=10, seeds=[0])
    >>> sigma2, rho = out["target"][0]
    >>> bool(sigma2 > 0 and 0 < rho < 1)
    True
    """
    n_sets = check_int(n_sets, "n_sets", min_value=2)
    est = _tree() if estimator is None else estimator
    x_eval, ws, wt = _eval_points()
    m = ws.shape[0]
    out = {law: [] for law in LAWS}
    for seed in check_seeds(seeds):
        xs, ys = _training_sets(check_int(n, "n", min_value=2), n_sets, seed)
        pairs = torch.stack([bagged_predictions(est, x, y, x_eval, n_models=2,
                                                seed=7919 * seed + r)
                             for r, (x, y) in enumerate(zip(xs, ys, strict=True))])
        for law, sl, w in (("source", slice(0, m), ws), ("target", slice(m, None), wt)):
            a, b = pairs[:, 0, sl], pairs[:, 1, sl]
            var = 0.5 * (a.var(0) + b.var(0))
            cov = ((a - a.mean(0)) * (b - b.mean(0))).sum(0) / (n_sets - 1)
            sigma2 = float((w * var).sum())
            out[law].append((sigma2, float((w * cov).sum()) / sigma2))
    return {law: np.asarray(v) for law, v in out.items()}


class ExplorerState(NamedTuple):
    """One picture of the bias–variance explorer (see :func:`explorer_state`)."""

    degree: int
    n: int
    grid: np.ndarray
    """Points of ``[−1, 1]`` where the curves are drawn."""
    truth: np.ndarray
    fits: np.ndarray
    """A few of the fitted curves, shape ``(n_shown, len(grid))``."""
    mean_fit: np.ndarray
    """The average of the fits over all training sets, an estimate of ``E_D f̂_D``."""
    band: np.ndarray
    """Pointwise standard deviation of the fits over training sets."""
    x_one: np.ndarray
    y_one: np.ndarray
    """The first training set."""
    source: tuple[float, float, float]
    """``(bias², variance, noise)`` under the source law."""
    target: tuple[float, float, float]
    """The same under the target law."""


def explorer_state(degree: int = 5, n: int = 50, *, n_sets: int = 100, seed: int = 0,
                   n_shown: int = 12) -> ExplorerState:
    r"""Fit a polynomial of degree ``degree`` to ``n_sets`` training sets of size ``n``.

    Returns a few of the fits, their mean and spread on a grid, and the decomposition of
    the expected error on the source and on the target law.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> s = study.explorer_state(3, 30, n_sets=20)
    >>> s.fits.shape[1] == s.grid.size, s.target[2] == s.source[2]
    (True, True)
    """
    degree = check_int(degree, "degree", min_value=0)
    n = check_int(n, "n", min_value=2)
    n_sets = check_int(n_sets, "n_sets", min_value=2)
    n_shown = check_int(n_shown, "n_shown", min_value=0)
    grid = torch.linspace(-1.0, 1.0, 201, dtype=torch.float64)[:, None]
    x_eval, ws, wt = _eval_points()
    m = ws.shape[0]
    xs, ys = _training_sets(n, n_sets, check_int(seed, "seed", min_value=0))
    fp = polynomial_learner(degree)
    pts = torch.cat([grid, x_eval])
    pred = torch.stack([fp(x, y, torch.ones_like(y), pts) for x, y in zip(xs, ys, strict=True)])
    on_grid, at_nodes = pred[:, :grid.shape[0]], pred[:, grid.shape[0]:]
    f = wiggly_function(x_eval)
    terms = []
    for sl, w in ((slice(0, m), ws), (slice(m, None), wt)):
        bv = bias_variance_decomposition(at_nodes[:, sl], f[sl], noise_var=NOISE**2, weights=w)
        terms.append((float(bv.bias2), float(bv.variance), float(bv.noise)))
    return ExplorerState(
        degree=degree, n=n, grid=grid[:, 0].numpy(), truth=wiggly_function(grid).numpy(),
        fits=on_grid[:n_shown].numpy(), mean_fit=on_grid.mean(0).numpy(),
        band=on_grid.std(0).numpy(), x_one=xs[0, :, 0].numpy(), y_one=ys[0].numpy(),
        source=terms[0], target=terms[1])
