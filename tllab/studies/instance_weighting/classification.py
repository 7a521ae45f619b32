r"""Importance-weighted logistic regression under covariate shift."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..._checks import (
    check_choice,
    check_int,
    check_seeds,
)
from ...data.covariate import (
    ShiftData,
    gaussian_density_ratio,
    make_covariate_shift_classification,
)
from ...models.linear import (
    logistic_predict,
    weighted_logistic_regression,
)
from ...reweight import (
    effective_sample_size,
)
from .weights import WEIGHT_METHODS, estimate_weights

__all__ = [
    "ClassificationResult",
    "classification_experiment",
    "classification_over_seeds",
]


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
        Names from :data:`~tllab.studies.instance_weighting.weights.WEIGHT_METHODS` (``"true"``
        uses the Gaussian parameters).
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


def classification_over_seeds(
    seeds: Sequence[int] = tuple(range(10)),
    methods: Sequence[str] = ("uniform", "true", "classifier", "kliep"),
    *,
    n_source: int = 400,
    n_target: int = 400,
) -> dict:
    r""":func:`classification_experiment` on independent data sets, one per seed.

    Parameters
    ----------
    seeds : sequence of int, default=range(10)
        One :func:`~tllab.data.covariate.make_covariate_shift_classification` data set per seed.
    methods : sequence of str
    n_source, n_target : int, default=400

    Returns
    -------
    dict
        For each method a dict of arrays over the seeds: ``"ess"``, ``"source_accuracy"``,
        ``"target_accuracy"``.

    Examples
    --------
    >>> from tllab.studies import instance_weighting as study
    >>> out = study.classification_over_seeds([0, 1], ["uniform"], n_source=100, n_target=100)
    >>> out["uniform"]["ess"].tolist()
    [100.0, 100.0]
    """
    seeds = check_seeds(seeds)
    keys = ("ess", "source_accuracy", "target_accuracy")
    out = {m: {k: np.zeros(len(seeds)) for k in keys} for m in methods}
    for i, seed in enumerate(seeds):
        data = make_covariate_shift_classification(n_source, n_target, seed=seed)
        for r in classification_experiment(data, methods):
            for k in keys:
                out[r.method][k][i] = getattr(r, k)
    return out
