r"""Selecting source samples against using them all (negative transfer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from ..._checks import check_real, check_seeds
from ...data.selective import MixedSourceData, make_mixed_source
from ...models.linear import logistic_predict, weighted_logistic_regression
from ...selective import select_top, source_scores
from ._common import TEST_SEED_OFFSET, _accuracy

__all__ = ["SelectionStudy", "selection_study"]


class SelectionStudy(NamedTuple):
    """Result of :func:`selection_study`; accuracies on fresh target data, per seed."""

    accuracy: dict
    """``"all"``, ``"weighted"``, ``"selected_ratio"``, ``"selected_similarity"``,
    ``"relevant_only"``: arrays of shape ``(n_seeds,)``."""
    precision: dict
    """Fraction of relevant points among the selected ones, per score."""
    fractions: np.ndarray
    """The kept fractions of the curve."""
    curve: np.ndarray
    """Target accuracy when keeping each fraction (ratio score), ``(n_seeds, n_fractions)``."""
    first: MixedSourceData
    """The first seed's data (for the figure)."""
    first_coefs: dict
    """Its fitted lines (``"all"``, ``"selected_ratio"``), intercept first."""
    first_mask: np.ndarray
    """Its selection (ratio score, the study's ``fraction``)."""


def selection_study(seeds: Sequence[int] = range(10), *, fraction: float = 0.4,
                    fractions: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0),
                    n: int = 300, n_test: int = 4000, data_params: dict | None = None,
                    estimator: str = "ulsif", progress: bool = True) -> SelectionStudy:
    r"""Select source samples or use them all, on mixed-source data, over seeds.

    The data are :func:`~tllab.data.selective.make_mixed_source` problems.
    For every seed a logistic regression (``tllab.weighted_logistic_regression``) is fitted
    on: all source points; all of them with the ratio weights in the loss (importance
    weighting); the top ``fraction`` by the ratio score and by the similarity score
    (:func:`~tllab.selective.selection.select_source_samples`); the relevant points only (the
    oracle).  The curve keeps each of ``fractions`` by the ratio score.

    Parameters
    ----------
    seeds : sequence of int, default=range(10)
    fraction : float in (0, 1], default=0.4
    fractions : sequence of float in (0, 1]
    n : int, default=300
        Source (and unlabelled target) sample size.
    n_test : int, default=4000
    data_params : dict, optional
        Keyword arguments of :func:`~tllab.data.selective.make_mixed_source`.
    estimator : str, default="ulsif"
        The ratio estimator (:data:`~tllab.selective.selection.RATIO_ESTIMATORS`).
    progress : bool, default=True

    Returns
    -------
    SelectionStudy

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> res = study.selection_study([0], fractions=[0.5, 1.0], progress=False)
    >>> sorted(res.accuracy)[:2], res.curve.shape
    (['all', 'relevant_only'], (1, 2))
    """
    seeds = check_seeds(seeds)
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    fracs = [check_real(f, "fractions", low=0.0, high=1.0, low_inclusive=False)
             for f in fractions]
    params = dict(data_params or {})
    names = ("all", "weighted", "selected_ratio", "selected_similarity", "relevant_only")
    acc = {m: [] for m in names}
    prec = {"ratio": [], "similarity": []}
    curve = []
    first = first_coefs = first_mask = None
    for s in tqdm(seeds, desc="selection", disable=not progress):
        data = make_mixed_source(n, seed=s, **params)
        fresh = make_mixed_source(1, n_target=n_test, seed=s + TEST_SEED_OFFSET, **params)
        test, yt = fresh.xt, fresh.yt
        ys = data.ys.to(data.xs.dtype)

        def fit(mask=None, w=None, x=data.xs, y=ys):
            return weighted_logistic_regression(x if mask is None else x[mask],
                                                y if mask is None else y[mask], w)

        ratio = source_scores(data.xs, data.xt, estimator=estimator)
        similarity = source_scores(data.xs, data.xt, score="similarity")
        coefs = {"all": fit(), "weighted": fit(w=ratio), "relevant_only": fit(data.relevant)}
        for name, sc in (("ratio", ratio), ("similarity", similarity)):
            mask = select_top(sc, fraction).mask
            coefs[f"selected_{name}"] = fit(mask)
            prec[name].append(float(data.relevant[mask].double().mean()))
        for m in names:
            acc[m].append(_accuracy(logistic_predict(coefs[m], test), yt))
        curve.append([_accuracy(logistic_predict(fit(select_top(ratio, f).mask), test), yt)
                      for f in fracs])
        if first is None:
            first, first_mask = data, select_top(ratio, fraction).mask.cpu().numpy()
            first_coefs = {m: coefs[m].cpu().numpy() for m in ("all", "selected_ratio")}
    return SelectionStudy({m: np.array(v) for m, v in acc.items()},
                          {m: np.array(v) for m, v in prec.items()}, np.array(fracs),
                          np.array(curve), first, first_coefs, first_mask)
