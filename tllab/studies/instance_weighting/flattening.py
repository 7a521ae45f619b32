r"""Flattened weights ``w^γ``: target risk, bias² and variance, and choosing ``γ`` by (IW)CV."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..._checks import (
    check_choice,
    check_int,
    check_real,
    check_seeds,
    check_weight_vector,
)
from ...data.covariate import (
    SHIMODAIRA,
    ShiftData,
    make_covariate_shift_regression,
)
from ...models.linear import (
    polynomial_predict,
    weighted_least_squares,
)
from ...reweight import (
    effective_sample_size,
    flatten_weights,
    iwcv_score,
)
from .weights import WEIGHT_METHODS, estimate_weights, gaussian_target_risk

__all__ = [
    "flattening_curve",
    "cv_flattening_selection",
    "cv_selection_study",
    "flattening_bias_variance",
]


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
    seeds = check_seeds(seeds)
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
        Weight estimator (:data:`~tllab.studies.instance_weighting.weights.WEIGHT_METHODS`).
    n_folds : int, default=5

    Returns
    -------
    dict
        ``"pick"`` and ``"risk"``: dicts keyed by ``"cv"``, ``"iwcv"``, ``"target"`` of arrays
        of shape ``(len(seeds),)`` (the chosen ``γ`` and the target risk it gives);
        ``"fixed"``: the target risks of the fixed choices ``γ = 0`` and ``γ = 1`` (those of
        them in ``gammas``), the baselines a selection rule must beat; and ``"first"``, the
        full :func:`cv_flattening_selection` output of the first seed.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import instance_weighting as study
    >>> out = study.cv_selection_study([0.0, 1.0], seeds=[0, 1])
    >>> out["pick"]["cv"].tolist()
    [0.0, 0.0]
    """
    method = check_choice(method, "method", WEIGHT_METHODS)
    seeds = check_seeds(seeds)
    p = dict(SHIMODAIRA if params is None else params)
    rules = ("cv", "iwcv", "target")
    pick = {r: np.zeros(len(seeds)) for r in rules}
    risk = {r: np.zeros(len(seeds)) for r in rules}
    fixed = {g: np.zeros(len(seeds)) for g in (0.0, 1.0) if g in [float(v) for v in gammas]}
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
        for g in fixed:
            fixed[g][i] = out["target"][[float(v) for v in out["gammas"]].index(g)]
    return {"pick": pick, "risk": risk, "fixed": fixed, "first": first}


def flattening_bias_variance(
    gammas: Sequence[float],
    *,
    seeds: Sequence[int] = tuple(range(200)),
    n_source: int = 200,
    n_target: int = 200,
    params: dict | None = None,
    degree: int = 1,
) -> dict:
    r"""Bias² and variance of the flattened importance-weighted fit, over repeated samples.

    Bias and variance are properties of an *estimator over repeated samples*, not of one fit.
    For each ``γ`` a polynomial of ``degree`` is fitted with the true weights ``w^γ`` on one
    data set per seed; with ``f̄`` the average fit and ``R_t`` the exact target risk
    (:func:`~tllab.studies.instance_weighting.weights.gaussian_target_risk`), the expected target
    risk splits exactly as

    ``E_D R_t(f̂_D) = noise² + bias² + variance``, with ``bias² = R_t(f̄) − noise²`` and
    ``variance = E_D R_t(f̂_D) − R_t(f̄) = E_x E_D (f̂_D(x) − f̄(x))²``

    (``x`` from the target law; the fits are linear in their coefficients, so ``f̄`` has the
    mean coefficients).

    Parameters
    ----------
    gammas : sequence of float >= 0
    seeds : sequence of int, default=range(200)
    n_source, n_target : int, default=200
    params : dict, optional
        Default :data:`~tllab.data.covariate.SHIMODAIRA`.
    degree : int, default=1

    Returns
    -------
    dict
        ``"gammas"``, and arrays over ``gammas``: ``"risk"`` (mean target risk), ``"bias2"``,
        ``"variance"``; ``"noise"`` (the noise variance), ``"n_seeds"``.

    Examples
    --------
    >>> from tllab.studies import instance_weighting as study
    >>> out = study.flattening_bias_variance([0.0, 1.0], seeds=range(5))
    >>> bool(abs(out["risk"] - out["noise"] - out["bias2"] - out["variance"]).max() < 1e-12)
    True
    """
    gammas = [check_real(g, "gammas", low=0.0) for g in gammas]
    if not gammas:
        raise ValueError("gammas must not be empty")
    seeds = check_seeds(seeds, min_count=2, why="a variance needs repetitions")
    degree = check_int(degree, "degree", min_value=0)
    p = dict(SHIMODAIRA if params is None else params)
    coefs = np.zeros((len(gammas), len(seeds), degree + 1))
    risks = np.zeros((len(gammas), len(seeds)))
    for j, seed in enumerate(seeds):
        data = make_covariate_shift_regression(n_source, n_target, seed=seed, **p)
        w = estimate_weights(data.xs, data.xt, "true", true_params=p)
        for a, g in enumerate(gammas):
            c = weighted_least_squares(data.xs, data.ys, flatten_weights(w, g), degree=degree)
            coefs[a, j] = c.numpy()
            risks[a, j] = gaussian_target_risk(c, p["mu_t"], p["sigma_t"], noise=p["noise"])
    mean_fit = [gaussian_target_risk(torch.from_numpy(coefs[a].mean(0)), p["mu_t"],
                                     p["sigma_t"], noise=p["noise"]) for a in range(len(gammas))]
    mean_fit = np.array(mean_fit)
    noise = p["noise"] ** 2
    return {"gammas": gammas, "risk": risks.mean(1), "bias2": mean_fit - noise,
            "variance": risks.mean(1) - mean_fit, "noise": noise, "n_seeds": len(seeds)}
