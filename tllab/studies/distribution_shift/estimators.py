r"""How well divergences are estimated from samples: bias against ``n``, ``d`` and the bandwidth."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..._checks import (
    check_choice,
    check_int,
    check_positive_scalars,
    check_real,
)
from ...divergence import _scott_bandwidth, js_divergence_samples, mmd2
from .references import gaussian_js, gaussian_mmd2

__all__ = [
    "js_estimation_study",
    "mmd_estimator_study",
    "kde_bandwidth_study",
]


def _hist_bins(d: int) -> int:
    """Cells per feature for the histogram estimator: 20, fewer when d is large."""
    return max(2, min(20, int(10 ** (6 / d))))


def js_estimation_study(
    sizes: Sequence[int] = (50, 100, 200, 400, 800),
    *,
    dims: Sequence[int] = (1,),
    delta: float = 1.0,
    methods: Sequence[str] = ("histogram", "kde", "classifier"),
    n_reps: int = 5,
    seed: int = 0,
) -> dict:
    r"""Sample JS estimates between ``N(0, I_d)`` and ``N(δ e_1, I_d)`` against ``n`` and ``d``.

    For every dimension ``d`` in ``dims`` and size ``n`` in ``sizes``, ``n_reps`` pairs of
    samples of size ``n`` are drawn and :func:`tllab.js_divergence_samples` is applied with
    each method.  The true value, :func:`~tllab.studies.distribution_shift.references.gaussian_js`
    ``(0, 1, δ, 1)``, does not depend on
    ``d`` (only the first feature differs), so any trend in ``d`` is estimation error.  The
    histogram uses 20 cells per feature, fewer when ``20^d`` would exceed a million.

    Parameters
    ----------
    sizes : sequence of int >= 4
    dims : sequence of int >= 1, default=(1,)
    delta : float >= 0, default=1.0
        Shift of the second sample's mean along the first feature.
    methods : sequence of str
        Methods of :func:`tllab.js_divergence_samples`.
    n_reps : int, default=5
    seed : int, default=0

    Returns
    -------
    dict
        ``"sizes"``, ``"dims"`` (lists), ``"truth"`` (float) and ``"estimates"``: for each
        method an array of shape ``(len(dims), len(sizes), n_reps)``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> out = study.js_estimation_study([50], methods=["kde"], n_reps=2)
    >>> out["estimates"]["kde"].shape
    (1, 1, 2)
    """
    sizes = [check_int(s, "sizes", min_value=4) for s in sizes]
    dims = [check_int(d, "dims", min_value=1) for d in dims]
    if not sizes or not dims:
        raise ValueError("sizes and dims must not be empty")
    delta = check_real(delta, "delta", low=0.0)
    methods = [check_choice(mth, "methods", ("histogram", "kde", "classifier"))
               for mth in methods]
    n_reps = check_int(n_reps, "n_reps", min_value=1)
    g = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    est = {mth: np.zeros((len(dims), len(sizes), n_reps)) for mth in methods}
    for a, d in enumerate(dims):
        for b, n in enumerate(sizes):
            for r in range(n_reps):
                x = torch.randn(n, d, generator=g, dtype=torch.float64)
                y = torch.randn(n, d, generator=g, dtype=torch.float64)
                y[:, 0] += delta
                for mth in methods:
                    kw = {"bins": _hist_bins(d)} if mth == "histogram" else {}
                    est[mth][a, b, r] = float(js_divergence_samples(x, y, mth, seed=r, **kw))
    return {"sizes": sizes, "dims": dims, "truth": gaussian_js(0.0, 1.0, delta, 1.0),
            "estimates": est}


def mmd_estimator_study(
    n: int = 50,
    *,
    delta: float = 0.0,
    dim: int = 1,
    n_reps: int = 300,
    bandwidth: float = 1.0,
    seed: int = 0,
) -> dict:
    r"""Draw ``n_reps`` pairs of samples and record the three MMD² estimators on each.

    ``x ~ N(0, I_d)`` and ``y ~ N(δ e_1, I_d)``, both of size ``n``, Gaussian kernel of
    fixed bandwidth (so the population value
    :func:`~tllab.studies.distribution_shift.references.gaussian_mmd2` is known).  With
    ``δ = 0`` this is the null hypothesis: the unbiased estimator then averages 0 and is
    negative on a large share of the draws, the biased one is always positive.

    Parameters
    ----------
    n : int >= 2, default=50
    delta : float >= 0, default=0.0
    dim : int >= 1, default=1
    n_reps : int >= 1, default=300
    bandwidth : float > 0, default=1.0
    seed : int, default=0

    Returns
    -------
    dict
        ``"unbiased"``, ``"biased"``, ``"linear"``: arrays of shape ``(n_reps,)``;
        ``"truth"``: the population MMD²; ``"n"``, ``"delta"``, ``"bandwidth"``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> out = study.mmd_estimator_study(20, n_reps=50)
    >>> bool((out["biased"] > 0).all()) and bool((out["unbiased"] < 0).any())
    True
    """
    n = check_int(n, "n", min_value=2)
    delta = check_real(delta, "delta", low=0.0)
    dim = check_int(dim, "dim", min_value=1)
    n_reps = check_int(n_reps, "n_reps", min_value=1)
    bandwidth = check_real(bandwidth, "bandwidth", low=0.0, low_inclusive=False)
    g = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    out = {e: np.zeros(n_reps) for e in ("unbiased", "biased", "linear")}
    for r in range(n_reps):
        x = torch.randn(n, dim, generator=g, dtype=torch.float64)
        y = torch.randn(n, dim, generator=g, dtype=torch.float64)
        y[:, 0] += delta
        for e in out:
            out[e][r] = float(mmd2(x, y, bandwidth=bandwidth, estimator=e))
    out.update(truth=gaussian_mmd2(delta, bandwidth=bandwidth, dim=dim), n=n, delta=delta,
               bandwidth=bandwidth)
    return out


def kde_bandwidth_study(
    factors: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
    *,
    n: int = 500,
    dim: int = 16,
    delta: float = 1.0,
    n_reps: int = 3,
    seed: int = 0,
) -> dict:
    r"""KDE estimate of JS against its bandwidth, in multiples of Scott's rule.

    Draws ``n_reps`` pairs ``x ~ N(0, I_d)``, ``y ~ N(δ e_1, I_d)`` of size ``n`` and applies
    :func:`tllab.js_divergence_samples` (``method="kde"``) with the bandwidth ``f · h_Scott``
    for each ``f`` in ``factors``; it also records Scott's bandwidth (the default) and the
    mean distance from a point to its nearest neighbour in the pooled sample, the scale a
    kernel must reach for the density estimate at a point to see more than the point itself.

    Parameters
    ----------
    factors : sequence of float > 0, default=(0.5, 1, 2, 4)
    n : int >= 4, default=500
    dim : int >= 1, default=16
    delta : float >= 0, default=1.0
    n_reps : int >= 1, default=3
    seed : int, default=0

    Returns
    -------
    dict
        ``"factors"``, ``"estimates"`` (shape ``(len(factors), n_reps)``), ``"scott"`` and
        ``"nn_distance"`` (means over the repetitions), ``"truth"``
        (:func:`~tllab.studies.distribution_shift.references.gaussian_js`).

    Examples
    --------
    >>> from tllab.studies import distribution_shift as study
    >>> out = study.kde_bandwidth_study([1.0, 4.0], n=100, dim=8, n_reps=1)
    >>> out["estimates"].shape
    (2, 1)
    """
    factors = check_positive_scalars(factors, "factors")
    n = check_int(n, "n", min_value=4)
    dim = check_int(dim, "dim", min_value=1)
    delta = check_real(delta, "delta", low=0.0)
    n_reps = check_int(n_reps, "n_reps", min_value=1)
    g = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    est = np.zeros((len(factors), n_reps))
    scott, nn = np.zeros(n_reps), np.zeros(n_reps)
    for r in range(n_reps):
        x = torch.randn(n, dim, generator=g, dtype=torch.float64)
        y = torch.randn(n, dim, generator=g, dtype=torch.float64)
        y[:, 0] += delta
        scott[r] = _scott_bandwidth(x, y)
        dist = torch.cdist(torch.cat([x, y]), torch.cat([x, y]))
        dist.fill_diagonal_(math.inf)
        nn[r] = float(dist.min(1).values.mean())
        for a, f in enumerate(factors):
            est[a, r] = float(js_divergence_samples(x, y, "kde", bandwidth=f * scott[r]))
    return {"factors": factors, "estimates": est, "scott": float(scott.mean()),
            "nn_distance": float(nn.mean()), "truth": gaussian_js(0.0, 1.0, delta, 1.0)}
