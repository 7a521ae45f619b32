r"""The digit-domain experiment and the state behind the chapter's explorer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..._checks import (
    check_choice,
    check_int,
    check_real,
)
from ...data import DIGIT_CAUSES, digit_domains, gaussian_shift_pair
from ...divergence import js_divergence_samples, mmd2, mmd_test, proxy_a_distance
from ...kernels import median_bandwidth

__all__ = [
    "DigitShiftRow",
    "digit_shift_experiment",
    "ShiftExplorerState",
    "shift_explorer_state",
]


class DigitShiftRow(NamedTuple):
    """One cause and severity of :func:`digit_shift_experiment`."""

    cause: str
    severity: float
    accuracy: float
    """Target accuracy of the classifier trained on the clean source."""
    mmd2: float
    """Unbiased MMD² between source and target features (source median bandwidth)."""
    pad: float
    """Proxy A-distance between source and target features, from 0 (alike) to 2 (separable)."""


def digit_shift_experiment(
    causes: Sequence[str] = ("sensor", "environment", "drift"),
    severities: Sequence[float] = (0.0, 0.5, 1.0, 1.5),
    *,
    seed: int = 0,
) -> list[DigitShiftRow]:
    r"""Train on clean digits, then measure accuracy and divergence on shifted targets.

    A multinomial logistic regression (scikit-learn, ``C = 1``) is fitted once on the
    clean source half of the digits (:func:`~tllab.data.digits.digit_domains`).  For each cause and
    severity it is evaluated on the transformed target half, and the shift is measured
    without labels: unbiased MMD² (Gaussian kernel, bandwidth fixed to the median
    heuristic of the source, so values are comparable across rows) and the proxy
    A-distance of a cross-fitted logistic domain classifier
    (:func:`tllab.proxy_a_distance`, weight decay 0.1).  Severity 0 is the no-shift
    control (computed once and repeated for every cause).

    Parameters
    ----------
    causes : sequence of str
        Keys of :data:`~tllab.data.digits.DIGIT_CAUSES`.
    severities : sequence of float >= 0
    seed : int, default=0
        Seed of the sensor noise and of the domain classifier's folds.

    Returns
    -------
    list of DigitShiftRow

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> rows = study.digit_shift_experiment(["drift"], [0.0, 1.5])
    >>> rows[0].accuracy > rows[1].accuracy
    True
    """
    from sklearn.linear_model import LogisticRegression


    seed = check_int(seed, "seed", min_value=0)
    sev = [check_real(s, "severities", low=0.0) for s in severities]
    causes = [check_choice(c, "causes", tuple(DIGIT_CAUSES)) for c in causes]
    xs, ys, _, _ = digit_domains("none", seed=seed)
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(xs.numpy(), ys.numpy())
    bw = float(median_bandwidth(xs))
    cache: dict = {}
    rows = []
    for cause in causes:
        for s in sev:
            key = ("none", 0.0) if s == 0.0 else (cause, s)
            if key not in cache:
                _, _, xt, yt = digit_domains(*key, seed=seed)
                acc = float((clf.predict(xt.numpy()) == yt.numpy()).mean())
                cache[key] = (acc, float(mmd2(xs, xt, bandwidth=bw)),
                              proxy_a_distance(xs, xt, seed=seed, weight_decay=0.1))
            rows.append(DigitShiftRow(cause, s, *cache[key]))
    return rows


class ShiftExplorerState(NamedTuple):
    """Everything :func:`tllab.viz.distribution_shift.plot_shift_explorer_state` draws."""

    params: dict
    """``mean``, ``spread``, ``rotation``, ``noise`` of the target."""
    xs: np.ndarray
    xt: np.ndarray
    js: float
    """Sample JS estimate (nats)."""
    js_method: str
    mmd2: float
    """Unbiased MMD² (median bandwidth)."""
    p_value: float
    null: np.ndarray
    """The permutation null distribution of the MMD² statistic."""


def shift_explorer_state(
    mean: float = 0.0,
    spread: float = 1.0,
    rotation: float = 0.0,
    noise: float = 0.0,
    *,
    n: int = 150,
    js_method: str = "kde",
    n_permutations: int = 200,
    seed: int = 0,
) -> ShiftExplorerState:
    r"""One state of the shift explorer: the two samples, JS, MMD² and the test's p-value.

    Draws :func:`~tllab.data.toy.gaussian_shift_pair` with the given target transform and measures
    the difference with :func:`tllab.js_divergence_samples` (``js_method``) and
    :func:`tllab.mmd_test` (unbiased MMD², median bandwidth, ``n_permutations``
    relabellings).  With the defaults this takes a few tens of milliseconds on a CPU.

    Parameters
    ----------
    mean, spread, rotation, noise : float
        The target transform of :func:`~tllab.data.toy.gaussian_shift_pair`.
    n : int, default=150
        Size of each sample.
    js_method : {"kde", "histogram"}, default="kde"
    n_permutations : int, default=200
    seed : int, default=0

    Returns
    -------
    ShiftExplorerState

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> s = study.shift_explorer_state(mean=1.5)
    >>> s.p_value < 0.01
    True
    """
    js_method = check_choice(js_method, "js_method", ("kde", "histogram"))
    xs, xt = gaussian_shift_pair(n, mean=mean, spread=spread, rotation=rotation, noise=noise,
                                 seed=seed)
    kw = {"bins": 10} if js_method == "histogram" else {}
    js = float(js_divergence_samples(xs, xt, js_method, **kw))
    res = mmd_test(xs, xt, n_permutations, seed=seed)
    params = {"mean": float(mean), "spread": float(spread), "rotation": float(rotation),
              "noise": float(noise)}
    return ShiftExplorerState(params, xs.numpy(), xt.numpy(), js, js_method,
                              float(res.statistic), float(res.p_value), res.null.numpy())
