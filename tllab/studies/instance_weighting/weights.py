r"""Density-ratio estimators by name, exact target risks, and their comparison (Shimodaira)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from ..._checks import (
    check_choice,
    check_int,
    check_real,
    check_samples,
    check_seeds,
    check_vector,
)
from ...data.covariate import (
    SHIMODAIRA,
    ShiftData,
    cubic_function,
    gaussian_density_ratio,
    make_covariate_shift_regression,
)
from ...models.linear import (
    polynomial_predict,
    weighted_least_squares,
)
from ...reweight import (
    classifier_weights,
    effective_sample_size,
    kliep_weights,
    kmm_weights,
    ulsif_weights,
)

__all__ = [
    "WEIGHT_METHODS",
    "METHOD_LABELS",
    "gaussian_target_risk",
    "estimate_weights",
    "MethodResult",
    "ratio_error",
    "compare_weighting_methods",
    "compare_over_seeds",
]


WEIGHT_METHODS = ("uniform", "true", "kmm", "kliep", "ulsif", "classifier",
                  "classifier_quadratic")
"""Names understood by :func:`estimate_weights` (``"true"`` needs the Gaussian parameters)."""


METHOD_LABELS = {
    "uniform": "uniform (no weighting)",
    "true": "true ratio p_t/p_s",
    "kmm": "KMM",
    "kliep": "KLIEP",
    "ulsif": "uLSIF",
    "classifier": "classifier (logit in x)",
    "classifier_quadratic": "classifier (logit in x, x²)",
}


def gaussian_target_risk(coef, mu_t: float, sigma_t: float, *, noise: float = 0.3,
                         function: Callable | None = None, n_nodes: int = 40) -> float:
    r"""Exact target risk ``E_{x~N(mu_t, sigma_t²)}[(θᵀφ(x) − f(x))²] + noise²``.

    The expectation of the squared error of a one-dimensional polynomial model under a
    Gaussian target is computed by Gauss–Hermite quadrature with ``n_nodes`` nodes, exact
    whenever ``(θᵀφ − f)²`` is a polynomial of degree ``< 2·n_nodes`` (the default ``f`` is
    :func:`~tllab.data.covariate.cubic_function`).  The label noise adds ``noise²``, the Bayes risk.

    Parameters
    ----------
    coef : array-like of shape (degree + 1,)
        Coefficients from :func:`~tllab.weighted_least_squares` with one feature.
    mu_t : float
    sigma_t : float > 0
    noise : float >= 0, default=0.3
    function : callable, optional
        The true regression function (tensor in, tensor out); default ``−x + x³``.
    n_nodes : int, default=40

    Returns
    -------
    float

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> # the zero predictor: E[(x³ − x)²] under N(0, 1) = 15 − 6 + 1 = 10, plus 0.3²
    >>> round(study.gaussian_target_risk([0.0], 0.0, 1.0), 6)
    10.09
    """
    coef = check_vector(coef, "coef")
    mu_t = check_real(mu_t, "mu_t")
    sigma_t = check_real(sigma_t, "sigma_t", low=0.0, low_inclusive=False)
    noise = check_real(noise, "noise", low=0.0)
    n_nodes = check_int(n_nodes, "n_nodes", min_value=1)
    if function is not None and not callable(function):
        raise TypeError(f"function must be callable; got {type(function).__name__}")
    nodes, weights = np.polynomial.hermite_e.hermegauss(n_nodes)
    x = torch.as_tensor(mu_t + sigma_t * nodes, dtype=torch.float64,
                        device=coef.device)[:, None]
    f = (function or cubic_function)(x)
    f = torch.as_tensor(f, dtype=torch.float64, device=coef.device).reshape(-1)
    err = polynomial_predict(coef.to(torch.float64), x) - f
    wq = torch.as_tensor(weights / weights.sum(), dtype=torch.float64, device=coef.device)
    return float((wq * err * err).sum()) + noise**2


def estimate_weights(xs, xt, method: str, *, true_params: dict | None = None,
                     **kwargs: Any) -> torch.Tensor:
    r"""Importance weights of the source points by one of :data:`WEIGHT_METHODS`.

    ``"uniform"``: all ones; ``"true"``: :func:`~tllab.data.covariate.gaussian_density_ratio` with
    ``true_params = {"mu_s", "sigma_s", "mu_t", "sigma_t"}``; ``"kmm"``, ``"kliep"``,
    ``"ulsif"``, ``"classifier"``: the estimators of :mod:`tllab.reweight` with their
    defaults (overridable through ``kwargs``); ``"classifier_quadratic"``: the logistic
    domain classifier on the features ``[x, x²]``, whose logit can be quadratic, as the
    log-ratio of two Gaussians with different spreads is.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
    method : str
    true_params : dict, optional
        Required by ``"true"``.
    **kwargs
        Passed to the estimator.

    Returns
    -------
    torch.Tensor of shape (n_s,)

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> data = tllab.data.make_covariate_shift_regression(200, 200)
    >>> w = study.estimate_weights(data.xs, data.xt, "ulsif")
    >>> w.shape
    torch.Size([200])
    """
    method = check_choice(method, "method", WEIGHT_METHODS)
    xs = check_samples(xs, "xs")
    xt = check_samples(xt, "xt")
    if method == "uniform":
        return xs.new_ones(xs.shape[0])
    if method == "true":
        if not isinstance(true_params, dict):
            raise TypeError("true_params must be a dict with mu_s, sigma_s, mu_t, sigma_t "
                            "when method='true'")
        missing = {"mu_s", "sigma_s", "mu_t", "sigma_t"} - set(true_params)
        if missing:
            raise ValueError(f"true_params is missing {sorted(missing)}")
        p = true_params
        return gaussian_density_ratio(xs, p["mu_s"], p["sigma_s"], p["mu_t"], p["sigma_t"])
    if method == "kmm":
        return kmm_weights(xs, xt, **kwargs)
    if method == "kliep":
        return kliep_weights(xs, xt, **kwargs)
    if method == "ulsif":
        return ulsif_weights(xs, xt, **kwargs)
    if method == "classifier":
        return classifier_weights(xs, xt, **kwargs)
    return classifier_weights(torch.cat([xs, xs**2], 1), torch.cat([xt, xt**2], 1), **kwargs)


class MethodResult(NamedTuple):
    """One row of :func:`compare_weighting_methods`."""

    method: str
    weights: torch.Tensor
    """Weights at the source points, rescaled to mean 1."""
    ess: float
    """Kish effective sample size of the weights."""
    ratio_error: float
    """``mean((ŵ − w)²) / mean(w²)`` against the true ratio (both at mean 1)."""
    coef: torch.Tensor
    """The importance-weighted straight line ``(intercept, slope)``."""
    target_risk: float
    """Exact target risk of that line (:func:`gaussian_target_risk`)."""


def ratio_error(w, w_true) -> float:
    r"""Relative squared error of estimated weights, ``mean((ŵ − w)²) / mean(w²)``.

    Both weight vectors are first scaled to mean 1, so the error measures the *shape* of the
    estimate (the scale of the weights does not change a weighted fit).

    Parameters
    ----------
    w, w_true : array-like of shape (n,)
        Estimated and true weights at the same points, non-negative.

    Returns
    -------
    float

    Examples
    --------
    >>> from tllab.studies import instance_weighting as study
    >>> study.ratio_error([2.0, 4.0], [1.0, 2.0])
    0.0
    """
    w = check_vector(w, "w")
    w_true = check_vector(w_true, "w_true", w.shape[0]).to(w.dtype)
    if bool((w < 0).any()) or bool((w_true < 0).any()) or float(w.sum()) <= 0 \
            or float(w_true.sum()) <= 0:
        raise ValueError("w and w_true must be non-negative with a positive sum")
    w, w_true = w / w.mean(), w_true / w_true.mean()
    return float(((w - w_true) ** 2).mean() / (w_true**2).mean())


def compare_weighting_methods(
    data: ShiftData,
    methods: Sequence[str] = ("uniform", "true", "kmm", "kliep", "ulsif", "classifier",
                              "classifier_quadratic"),
    *,
    params: dict | None = None,
    degree: int = 1,
    method_kwargs: dict | None = None,
) -> list[MethodResult]:
    r"""Estimate the weights by several methods on one data set and score each.

    For every method: the weights at the source points (rescaled to mean 1), their
    effective sample size, their relative squared error against the true ratio, the
    importance-weighted polynomial fit and its exact target risk.

    Parameters
    ----------
    data : ShiftData
        From :func:`~tllab.data.covariate.make_covariate_shift_regression`.
    methods : sequence of str
        Names from :data:`WEIGHT_METHODS`.
    params : dict, optional
        The Gaussian parameters of ``data`` (default :data:`~tllab.data.covariate.SHIMODAIRA`);
        keys ``mu_s``,
        ``sigma_s``, ``mu_t``, ``sigma_t``, ``noise``.
    degree : int, default=1
    method_kwargs : dict, optional
        ``{method: kwargs}`` passed to :func:`estimate_weights`.

    Returns
    -------
    list of MethodResult

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> data = tllab.data.make_covariate_shift_regression(200, 200)
    >>> rows = study.compare_weighting_methods(data, ["uniform", "true"])
    >>> rows[1].target_risk < rows[0].target_risk
    True
    """
    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    if isinstance(methods, str) or len(methods) == 0:
        raise ValueError("methods must be a non-empty sequence of method names")
    for m in methods:
        check_choice(m, "methods", WEIGHT_METHODS)
    p = dict(SHIMODAIRA if params is None else params)
    method_kwargs = method_kwargs or {}
    true_w = gaussian_density_ratio(data.xs, p["mu_s"], p["sigma_s"], p["mu_t"], p["sigma_t"])
    rows = []
    for m in methods:
        w = estimate_weights(data.xs, data.xt, m, true_params=p, **method_kwargs.get(m, {}))
        w = w / w.mean()
        coef = weighted_least_squares(data.xs, data.ys, w, degree=degree)
        rows.append(MethodResult(
            method=m,
            weights=w,
            ess=float(effective_sample_size(w)),
            ratio_error=ratio_error(w, true_w),
            coef=coef,
            target_risk=gaussian_target_risk(coef, p["mu_t"], p["sigma_t"],
                                             noise=p.get("noise", 0.3)),
        ))
    return rows


def compare_over_seeds(
    seeds: Sequence[int] = tuple(range(10)),
    methods: Sequence[str] = WEIGHT_METHODS,
    *,
    n_source: int = 300,
    n_target: int = 300,
    params: dict | None = None,
) -> dict:
    r""":func:`compare_weighting_methods` on independent data sets, one per seed.

    Parameters
    ----------
    seeds : sequence of int, default=range(10)
        One data set :func:`~tllab.data.covariate.make_covariate_shift_regression` per seed.
    methods : sequence of str
        Names from :data:`WEIGHT_METHODS`.
    n_source, n_target : int, default=300
    params : dict, optional
        Default :data:`~tllab.data.covariate.SHIMODAIRA`.

    Returns
    -------
    dict
        For each method a dict of arrays over the seeds: ``"ess"``, ``"ratio_error"``,
        ``"target_risk"``.

    Examples
    --------
    >>> from tllab.studies import instance_weighting as study
    >>> out = study.compare_over_seeds([0, 1], ["uniform", "true"], n_source=100, n_target=100)
    >>> out["uniform"]["ess"].tolist()
    [100.0, 100.0]
    """
    seeds = check_seeds(seeds)
    methods = [check_choice(m, "methods", WEIGHT_METHODS) for m in methods]
    p = dict(SHIMODAIRA if params is None else params)
    keys = ("ess", "ratio_error", "target_risk")
    out = {m: {k: np.zeros(len(seeds)) for k in keys} for m in methods}
    for i, seed in enumerate(seeds):
        data = make_covariate_shift_regression(n_source, n_target, seed=seed, **p)
        for r in compare_weighting_methods(data, methods, params=p):
            for k in keys:
                out[r.method][k][i] = getattr(r, k)
    return out
