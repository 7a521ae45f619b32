r"""The experiments of the instance-weighting chapter; each returns plain numbers and arrays.

* :func:`estimate_weights` dispatches to the estimators of :mod:`tllab.reweight` by name;
* exact target risks: :func:`gaussian_target_risk` (Gauss–Hermite quadrature, exact for
  polynomial models);
* :func:`compare_weighting_methods`, :func:`flattening_curve`, :func:`cv_flattening_selection`,
  :func:`cv_selection_study` and :func:`classification_experiment`;
* :func:`explorer_state`, one state of the chapter's explorer (drawn by :mod:`tllab.viz`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from .._checks import (
    check_choice,
    check_int,
    check_real,
    check_samples,
    check_vector,
    check_weight_vector,
)
from ..data._common import _generator
from ..data.covariate import (
    SHIMODAIRA,
    ShiftData,
    cubic_function,
    gaussian_density_ratio,
    make_covariate_shift_classification,
    make_covariate_shift_regression,
)
from ..models.linear import (
    logistic_predict,
    polynomial_predict,
    weighted_least_squares,
    weighted_logistic_regression,
)
from ..reweight import (
    classifier_weights,
    effective_sample_size,
    flatten_weights,
    iwcv_score,
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
    "compare_weighting_methods",
    "flattening_curve",
    "cv_flattening_selection",
    "cv_selection_study",
    "ClassificationResult",
    "classification_experiment",
    "ExplorerState",
    "explorer_state",
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
    true_w = true_w / true_w.mean()
    rows = []
    for m in methods:
        w = estimate_weights(data.xs, data.xt, m, true_params=p, **method_kwargs.get(m, {}))
        w = w / w.mean()
        coef = weighted_least_squares(data.xs, data.ys, w, degree=degree)
        rows.append(MethodResult(
            method=m,
            weights=w,
            ess=float(effective_sample_size(w)),
            ratio_error=float(((w - true_w) ** 2).mean() / (true_w**2).mean()),
            coef=coef,
            target_risk=gaussian_target_risk(coef, p["mu_t"], p["sigma_t"],
                                             noise=p.get("noise", 0.3)),
        ))
    return rows


def flattening_curve(
    gammas: Sequence[float],
    *,
    methods: Sequence[str] = ("true", "ulsif"),
    seeds: Sequence[int] = tuple(range(10)),
    n_source: int = 200,
    n_target: int = 200,
    params: dict | None = None,
) -> dict:
    r"""Target risk and effective sample size of flattened weights ``w^γ`` over seeds.

    For every seed a fresh data set is drawn
    (:func:`~tllab.data.covariate.make_covariate_shift_regression`), the
    weights are estimated once per method, and for every ``γ`` a straight line is fitted
    with :func:`tllab.flatten_weights` ``(w, γ)``; its exact target risk is recorded.

    Parameters
    ----------
    gammas : sequence of float in [0, ∞)
    methods : sequence of str, default=("true", "ulsif")
    seeds : sequence of int, default=range(10)
    n_source, n_target : int, default=200
    params : dict, optional
        Default :data:`~tllab.data.covariate.SHIMODAIRA`.

    Returns
    -------
    dict
        ``"gammas"`` (array of shape ``(G,)``), and per method ``m``: ``"risk"[m]`` and
        ``"ess"[m]``, arrays of shape ``(len(seeds), G)``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> out = study.flattening_curve([0.0, 1.0], methods=["true"], seeds=[0, 1])
    >>> out["risk"]["true"].shape
    (2, 2)
    """
    g = np.asarray([check_real(v, "gammas", low=0.0) for v in gammas], dtype=float)
    if g.size == 0:
        raise ValueError("gammas must not be empty")
    seeds = [check_int(s, "seeds", min_value=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    for m in methods:
        check_choice(m, "methods", WEIGHT_METHODS)
    p = dict(SHIMODAIRA if params is None else params)
    risk = {m: np.zeros((len(seeds), g.size)) for m in methods}
    ess = {m: np.zeros((len(seeds), g.size)) for m in methods}
    for i, seed in enumerate(seeds):
        data = make_covariate_shift_regression(n_source, n_target, seed=seed, **p)
        for m in methods:
            w = estimate_weights(data.xs, data.xt, m, true_params=p)
            for j, gamma in enumerate(g):
                wf = flatten_weights(w, float(gamma))
                coef = weighted_least_squares(data.xs, data.ys, wf)
                risk[m][i, j] = gaussian_target_risk(coef, p["mu_t"], p["sigma_t"],
                                                     noise=p["noise"])
                ess[m][i, j] = float(effective_sample_size(wf))
    return {"gammas": g, "risk": risk, "ess": ess}


def _flattened_line(gamma: float, degree: int = 1, reg: float = 0.0) -> Callable:
    """``fit_predict`` for :func:`tllab.iwcv_score` whose inputs carry the weights.

    The design is ``[x, w]``: the last column holds the importance weights of the
    training points, used (flattened to ``w^γ``) to fit; predictions use ``x`` only.
    """

    def fit_predict(x_tr, y_tr, _w_unused, x_te):
        wf = flatten_weights(x_tr[:, -1], gamma)
        coef = weighted_least_squares(x_tr[:, :-1], y_tr, wf, degree=degree, reg=reg)
        return polynomial_predict(coef, x_te[:, :-1])

    return fit_predict


def cv_flattening_selection(
    data: ShiftData,
    w,
    gammas: Sequence[float],
    *,
    n_folds: int = 5,
    seed: int = 0,
    params: dict | None = None,
) -> dict:
    r"""Ordinary CV, importance-weighted CV and the true target risk of ``w^γ`` fits.

    For each ``γ`` the learner is the straight line fitted with the flattened weights
    ``w^γ``.  Ordinary K-fold CV averages the held-out squared errors (an estimate of the
    *source* risk); IWCV (:func:`tllab.iwcv_score`) multiplies each held-out error by its
    importance weight ``w_i`` (an estimate of the *target* risk).  Both use the same folds.
    The true target risk of the line fitted on all the data is computed exactly.

    Parameters
    ----------
    data : ShiftData
    w : array-like of shape (n_s,)
        Importance weights of ``data.xs`` (true or estimated).
    gammas : sequence of float >= 0
    n_folds : int, default=5
    seed : int, default=0
        Seed of the fold split.
    params : dict, optional
        Default :data:`~tllab.data.covariate.SHIMODAIRA` (for the true target risk).

    Returns
    -------
    dict
        ``"gammas"``, ``"cv"``, ``"iwcv"``, ``"target"`` (arrays of shape ``(G,)``) and the
        selected values ``"gamma_cv"``, ``"gamma_iwcv"``, ``"gamma_target"``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> data = tllab.data.make_covariate_shift_regression(300, 300)
    >>> w = tllab.data.gaussian_density_ratio(data.xs, 0.5, 0.5, 0.0, 0.3)
    >>> out = study.cv_flattening_selection(data, w, [0.0, 0.5, 1.0])
    >>> out["gamma_cv"], out["gamma_iwcv"] > 0
    (0.0, True)
    """
    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    n = data.xs.shape[0]
    w = check_weight_vector(w, n, data.xs)
    g = np.asarray([check_real(v, "gammas", low=0.0) for v in gammas], dtype=float)
    if g.size == 0:
        raise ValueError("gammas must not be empty")
    p = dict(SHIMODAIRA if params is None else params)
    x_aug = torch.cat([data.xs, w[:, None]], dim=1)
    ones = torch.ones_like(w)
    cv, iw, tgt = (np.zeros(g.size) for _ in range(3))
    for j, gamma in enumerate(g):
        fp = _flattened_line(float(gamma))
        cv[j] = float(iwcv_score(fp, x_aug, data.ys, ones, n_folds=n_folds, seed=seed,
                                 weighted_fit=False))
        iw[j] = float(iwcv_score(fp, x_aug, data.ys, w, n_folds=n_folds, seed=seed,
                                 weighted_fit=False))
        coef = weighted_least_squares(data.xs, data.ys, flatten_weights(w, float(gamma)))
        tgt[j] = gaussian_target_risk(coef, p["mu_t"], p["sigma_t"], noise=p["noise"])
    return {"gammas": g, "cv": cv, "iwcv": iw, "target": tgt,
            "gamma_cv": round(float(g[cv.argmin()]), 10),
            "gamma_iwcv": round(float(g[iw.argmin()]), 10),
            "gamma_target": round(float(g[tgt.argmin()]), 10)}


def cv_selection_study(
    gammas: Sequence[float],
    *,
    seeds: Sequence[int] = tuple(range(10)),
    n_source: int = 200,
    n_target: int = 200,
    params: dict | None = None,
    method: str = "true",
    n_folds: int = 5,
) -> dict:
    r"""Repeat :func:`cv_flattening_selection` over seeds: which ``γ`` does each rule pick?

    For every seed a fresh data set is drawn and the weights are estimated by
    ``method``; ordinary CV, IWCV and the oracle (the true target risk) each pick a ``γ``,
    and the true target risk of the line fitted with that ``γ`` is recorded.

    Parameters
    ----------
    gammas : sequence of float >= 0
    seeds : sequence of int, default=range(10)
    n_source, n_target : int, default=200
    params : dict, optional
        Default :data:`~tllab.data.covariate.SHIMODAIRA`.
    method : str, default="true"
        Weight estimator (:data:`WEIGHT_METHODS`).
    n_folds : int, default=5

    Returns
    -------
    dict
        ``"pick"`` and ``"risk"``: dicts keyed by ``"cv"``, ``"iwcv"``, ``"target"`` of arrays
        of shape ``(len(seeds),)`` (the chosen ``γ`` and the target risk it gives); and
        ``"first"``, the full :func:`cv_flattening_selection` output of the first seed.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> out = study.cv_selection_study([0.0, 1.0], seeds=[0, 1])
    >>> out["pick"]["cv"].tolist()
    [0.0, 0.0]
    """
    method = check_choice(method, "method", WEIGHT_METHODS)
    seeds = [check_int(s, "seeds", min_value=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    p = dict(SHIMODAIRA if params is None else params)
    rules = ("cv", "iwcv", "target")
    pick = {r: np.zeros(len(seeds)) for r in rules}
    risk = {r: np.zeros(len(seeds)) for r in rules}
    first = None
    for i, seed in enumerate(seeds):
        data = make_covariate_shift_regression(n_source, n_target, seed=seed, **p)
        w = estimate_weights(data.xs, data.xt, method, true_params=p)
        out = cv_flattening_selection(data, w, gammas, n_folds=n_folds, seed=seed, params=p)
        first = first or out
        for r in rules:
            j = int(np.argmin(out[r]))
            pick[r][i] = round(float(out["gammas"][j]), 10)
            risk[r][i] = out["target"][j]
    return {"pick": pick, "risk": risk, "first": first}


class ClassificationResult(NamedTuple):
    """One row of :func:`classification_experiment`."""

    method: str
    coef: torch.Tensor
    """``(intercept, slope₁, slope₂)`` of the weighted logistic regression."""
    ess: float
    source_accuracy: float
    target_accuracy: float
    """Accuracy on a large fresh target sample (labels never used for training)."""


def classification_experiment(
    data: ShiftData,
    methods: Sequence[str] = ("uniform", "true", "classifier", "kliep"),
    *,
    mean_s: Sequence[float] = (0.0, 0.0),
    std_s: float = 0.8,
    mean_t: Sequence[float] = (1.2, 0.8),
    std_t: float = 0.6,
    n_test: int = 5000,
    test_seed: int = 12345,
    reg: float = 1e-3,
) -> list[ClassificationResult]:
    r"""Importance-weighted logistic regression under covariate shift, one row per weighting.

    The data come from :func:`~tllab.data.covariate.make_covariate_shift_classification`.

    Parameters
    ----------
    data : ShiftData
        Drawn with the same ``mean_s, std_s, mean_t, std_t``.
    methods : sequence of str
        Names from :data:`WEIGHT_METHODS` (``"true"`` uses the Gaussian parameters).
    mean_s, std_s, mean_t, std_t
        The laws of ``data`` (for the true ratio and the test sample).
    n_test : int, default=5000
        Size of the fresh labelled target sample that measures the accuracy.
    test_seed : int, default=12345
    reg : float, default=1e-3

    Returns
    -------
    list of ClassificationResult

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> data = tllab.data.make_covariate_shift_classification(300, 300)
    >>> rows = study.classification_experiment(data, ["uniform", "true"], n_test=2000)
    >>> rows[1].target_accuracy > rows[0].target_accuracy
    True
    """
    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    for m in methods:
        check_choice(m, "methods", WEIGHT_METHODS)
    n_test = check_int(n_test, "n_test", min_value=1)
    test = make_covariate_shift_classification(1, n_test, mean_s=mean_s, std_s=std_s,
                                               mean_t=mean_t, std_t=std_t, seed=test_seed,
                                               device=data.xs.device, dtype=data.xs.dtype)
    rows = []
    for m in methods:
        if m == "true":
            w = gaussian_density_ratio(data.xs, mean_s, std_s, mean_t, std_t)
        else:
            w = estimate_weights(data.xs, data.xt, m)
        w = w / w.mean()
        coef = weighted_logistic_regression(data.xs, data.ys, w, reg=reg)
        acc_s = float((logistic_predict(coef, data.xs) == data.ys).to(torch.float64).mean())
        acc_t = float((logistic_predict(coef, test.xt) == test.yt).to(torch.float64).mean())
        rows.append(ClassificationResult(m, coef, float(effective_sample_size(w)), acc_s, acc_t))
    return rows


class ExplorerState(NamedTuple):
    """Everything one picture of the explorer shows (see :func:`explorer_state`)."""

    mu_t: float
    sigma_t: float
    gamma: float
    method: str
    xs: np.ndarray
    ys: np.ndarray
    xt: np.ndarray
    weights: np.ndarray
    """Flattened weights at the source points, mean 1."""
    coef_plain: np.ndarray
    coef_weighted: np.ndarray
    risk_plain: float
    risk_weighted: float
    ess: float


_EXPLORER_DATA: dict = {}


def _explorer_source(n_source: int, seed: int) -> ShiftData:
    key = (n_source, seed)
    if key not in _EXPLORER_DATA:
        _EXPLORER_DATA[key] = make_covariate_shift_regression(n_source, 1, seed=seed)
    return _EXPLORER_DATA[key]


def explorer_state(mu_t: float = 0.0, sigma_t: float = 0.3, gamma: float = 1.0,
                   method: str = "true", *, n_source: int = 200, n_target: int = 200,
                   seed: int = 0) -> ExplorerState:
    r"""Compute one state of the explorer: weights, plain and weighted lines, target risks.

    The source sample is Shimodaira's (fixed by ``seed``); the target law is
    ``N(mu_t, sigma_t²)`` and an unlabelled target sample of size ``n_target`` is drawn
    from it (for the estimated ratios).  The weights are flattened to ``w^γ``.

    Parameters
    ----------
    mu_t : float, default=0.0
    sigma_t : float > 0, default=0.3
    gamma : float >= 0, default=1.0
    method : str, default="true"
        One of :data:`WEIGHT_METHODS`.
    n_source, n_target : int, default=200
    seed : int, default=0

    Returns
    -------
    ExplorerState

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> s = study.explorer_state()
    >>> s.risk_weighted < s.risk_plain
    True
    """
    mu_t = check_real(mu_t, "mu_t")
    sigma_t = check_real(sigma_t, "sigma_t", low=0.0, low_inclusive=False)
    gamma = check_real(gamma, "gamma", low=0.0)
    method = check_choice(method, "method", WEIGHT_METHODS)
    n_target = check_int(n_target, "n_target", min_value=2)
    p = dict(SHIMODAIRA, mu_t=mu_t, sigma_t=sigma_t)
    src = _explorer_source(check_int(n_source, "n_source", min_value=2),
                           check_int(seed, "seed", min_value=0))
    g = _generator(seed + 1)
    xt = mu_t + sigma_t * torch.randn(n_target, 1, generator=g, dtype=torch.float64)
    w = flatten_weights(estimate_weights(src.xs, xt, method, true_params=p), gamma)
    coef_plain = weighted_least_squares(src.xs, src.ys)
    coef_w = weighted_least_squares(src.xs, src.ys, w)
    return ExplorerState(
        mu_t=mu_t, sigma_t=sigma_t, gamma=gamma, method=method,
        xs=src.xs[:, 0].numpy(), ys=src.ys.numpy(), xt=xt[:, 0].numpy(),
        weights=w.numpy(), coef_plain=coef_plain.numpy(), coef_weighted=coef_w.numpy(),
        risk_plain=gaussian_target_risk(coef_plain, mu_t, sigma_t),
        risk_weighted=gaussian_target_risk(coef_w, mu_t, sigma_t),
        ess=float(effective_sample_size(w)),
    )
