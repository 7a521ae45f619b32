r"""Model selection under covariate shift: ordinary against importance-weighted cross-validation.

:func:`selection_study` chooses the degree of a least-squares polynomial
(:func:`~tllab.studies.generalization.problem.polynomial_learner`) by ordinary and by
importance-weighted cross-validation, with the true or estimated density ratio, and scores
the choices against the exact source and target risks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..._checks import check_choice, check_int, check_seeds
from ...data.interval import beta_density_ratio, make_interval_shift_regression, wiggly_function
from ...reweight import iwcv_score, kliep_weights, ulsif_weights
from .problem import NOISE, law_nodes, polynomial_learner

__all__ = ["selection_study"]


def _risk(pred: torch.Tensor, f: torch.Tensor, w: torch.Tensor) -> float:
    return float((w * (pred - f) ** 2).sum()) + NOISE**2


def selection_study(degrees: Sequence[int] = tuple(range(7)), *, n: int = 100,
                    n_target: int = 200, seeds: Sequence[int] = tuple(range(20)),
                    n_folds: int = 5, ratios: Sequence[str] = ("true", "kliep")) -> dict:
    r"""Choose the degree by ordinary CV and by importance-weighted CV; compare with the truth.

    For every seed: ``n`` labelled source points and ``n_target`` unlabelled target points;
    for every degree, the ordinary ``n_folds``-fold CV risk, the IWCV risk
    (:func:`tllab.iwcv_score`, unweighted fits scored with the weights) for each ratio in
    ``ratios`` (``"true"``: :func:`tllab.data.interval.beta_density_ratio`; ``"kliep"``,
    ``"ulsif"``: estimated from the two samples), and the exact source and target risks of
    the least-squares fit on all ``n`` points.

    Returns
    -------
    dict
        ``"degrees"``; arrays of shape ``(n_seeds, n_degrees)`` under ``"cv"``,
        ``"source_risk"``, ``"target_risk"`` and ``"iwcv_<ratio>"``; ``"pick"`` and
        ``"pick_risk"``: per rule (``"cv"``, ``"iwcv_<ratio>"``, ``"oracle"``) the chosen
        degree and its exact target risk, arrays of shape ``(n_seeds,)``.

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> out = study.selection_study([1, 3], seeds=[0, 1], ratios=["true"])
    >>> out["cv"].shape, sorted(out["pick"])
    ((2, 2), ['cv', 'iwcv_true', 'oracle'])
    """
    degrees = [check_int(k, "degrees", min_value=0) for k in degrees]
    if not degrees:
        raise ValueError("degrees must not be empty")
    ratios = [check_choice(r, "ratios", ("true", "kliep", "ulsif")) for r in ratios]
    seeds = check_seeds(seeds)
    (xq_s, w_s), (xq_t, w_t) = law_nodes("source"), law_nodes("target")
    f_s, f_t = wiggly_function(xq_s), wiggly_function(xq_t)
    keys = ["cv", "source_risk", "target_risk"] + [f"iwcv_{r}" for r in ratios]
    res = {k: np.zeros((len(seeds), len(degrees))) for k in keys}
    for i, seed in enumerate(seeds):
        d = make_interval_shift_regression(n, n_target, seed=seed)
        weights = {"true": beta_density_ratio(d.xs),
                   "kliep": lambda d=d: kliep_weights(d.xs, d.xt),
                   "ulsif": lambda d=d: ulsif_weights(d.xs, d.xt)}
        ws = {r: (weights[r] if r == "true" else weights[r]()) for r in ratios}
        ones = torch.ones(n, dtype=d.xs.dtype)
        for j, k in enumerate(degrees):
            fp = polynomial_learner(k)
            res["cv"][i, j] = float(iwcv_score(fp, d.xs, d.ys, ones, n_folds=n_folds,
                                               seed=seed, weighted_fit=False))
            for r in ratios:
                res[f"iwcv_{r}"][i, j] = float(iwcv_score(fp, d.xs, d.ys, ws[r],
                                                          n_folds=n_folds, seed=seed,
                                                          weighted_fit=False))
            res["source_risk"][i, j] = _risk(fp(d.xs, d.ys, ones, xq_s), f_s, w_s)
            res["target_risk"][i, j] = _risk(fp(d.xs, d.ys, ones, xq_t), f_t, w_t)
    deg = np.asarray(degrees)
    rows = np.arange(len(seeds))
    pick, pick_risk = {}, {}
    for rule in ["cv"] + [f"iwcv_{r}" for r in ratios] + ["oracle"]:
        j = res["target_risk" if rule == "oracle" else rule].argmin(1)
        pick[rule], pick_risk[rule] = deg[j], res["target_risk"][rows, j]
    return {"degrees": deg, **res, "pick": pick, "pick_risk": pick_risk}
