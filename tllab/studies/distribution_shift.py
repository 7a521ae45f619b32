r"""The small simulations of the distribution-shift chapter, with their exact references.

Closed forms to compare estimates with (:func:`gaussian_js`, :func:`gaussian_mmd2`,
:func:`bayes_log_loss`), the MMD witness function and bandwidth curve, the estimator
studies (bias of sample JS estimates against sample size and dimension, the spread of
the MMD² estimators, the power of the permutation test), the digit-domain experiment,
and the state behind the explorer :func:`tllab.viz.distribution_shift.shift_explorer`.  They are
public but shaped by the book's needs; the general-purpose estimators live in
:mod:`tllab.divergence`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from .._checks import (
    check_choice,
    check_int,
    check_positive_scalars,
    check_real,
    check_sample_pair,
)
from ..data import DIGIT_CAUSES, digit_domains, gaussian_shift_pair
from ..divergence import _check_prob_pair, js_divergence_samples, mmd2, mmd_test
from ..kernels import kernel_matrix, median_bandwidth

__all__ = [
    "gaussian_js",
    "gaussian_mmd2",
    "bayes_log_loss",
    "mmd_witness",
    "mmd_bandwidth_curve",
    "js_estimation_study",
    "mmd_estimator_study",
    "mmd_power_curve",
    "DigitShiftRow",
    "digit_shift_experiment",
    "ShiftExplorerState",
    "shift_explorer_state",
]


def gaussian_js(mean_p: float = 0.0, sd_p: float = 1.0, mean_q: float = 1.0,
                sd_q: float = 1.0) -> float:
    r"""Jensen–Shannon divergence (nats) between two 1-D Gaussians, by quadrature.

    ``JS = ½ ∫ p log(2p / (p + q)) + ½ ∫ q log(2q / (p + q))`` for
    ``p = N(mean_p, sd_p²)``, ``q = N(mean_q, sd_q²)``; there is no closed form, so the
    integral is evaluated with ``scipy.integrate.quad`` (absolute error below 1e-10).
    Shifting both samples along one axis of a ``d``-dimensional isotropic Gaussian gives the
    same value in every dimension ``d``.

    Parameters
    ----------
    mean_p, sd_p, mean_q, sd_q : float
        Means and standard deviations (``sd > 0``).

    Returns
    -------
    float

    Examples
    --------
    >>> import math, tllab
    >>> from tllab.studies import distribution_shift as study
    >>> study.gaussian_js(0, 1, 0, 1)
    0.0
    >>> round(study.gaussian_js(0, 1, 1, 1), 4)
    0.1114
    >>> abs(study.gaussian_js(0, 1, 60, 1) - math.log(2)) < 1e-9  # disjoint: the maximum
    True
    """
    from scipy import integrate
    from scipy.stats import norm

    mean_p, mean_q = check_real(mean_p, "mean_p"), check_real(mean_q, "mean_q")
    sd_p = check_real(sd_p, "sd_p", low=0.0, low_inclusive=False)
    sd_q = check_real(sd_q, "sd_q", low=0.0, low_inclusive=False)
    if mean_p == mean_q and sd_p == sd_q:
        return 0.0

    def integrand(t):
        lp, lq = norm.logpdf(t, mean_p, sd_p), norm.logpdf(t, mean_q, sd_q)
        lm = np.logaddexp(lp, lq) - math.log(2.0)
        return 0.5 * (np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm))

    lo = min(mean_p - 12 * sd_p, mean_q - 12 * sd_q)
    hi = max(mean_p + 12 * sd_p, mean_q + 12 * sd_q)
    points = sorted({mean_p, mean_q})
    value, _ = integrate.quad(integrand, lo, hi, points=points, epsabs=1e-12, limit=200)
    return float(min(max(value, 0.0), math.log(2.0)))


def gaussian_mmd2(delta: float, *, sd_p: float = 1.0, sd_q: float = 1.0,
                  bandwidth: float = 1.0, dim: int = 1) -> float:
    r"""Population MMD² between isotropic Gaussians under the Gaussian kernel (closed form).

    For ``P = N(μ_p, sd_p² I_d)``, ``Q = N(μ_q, sd_q² I_d)``, ``δ = ||μ_p − μ_q||`` and
    ``k(x, y) = exp(−||x − y||² / (2σ²))``,

    ``E k(x, y) = (σ² / (σ² + sd_p² + sd_q²))^{d/2} exp(−δ² / (2 (σ² + sd_p² + sd_q²)))``,

    and ``MMD² = E_PP k + E_QQ k − 2 E_PQ k`` (the first two with ``δ = 0`` and twice the
    one variance).

    Parameters
    ----------
    delta : float >= 0
        Distance between the means.
    sd_p, sd_q : float > 0, default=1.0
    bandwidth : float > 0, default=1.0
        σ of the kernel.
    dim : int >= 1, default=1

    Returns
    -------
    float

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> round(study.gaussian_mmd2(1.0, bandwidth=1.0), 4)
    0.1773
    """
    delta = check_real(delta, "delta", low=0.0)
    sd_p = check_real(sd_p, "sd_p", low=0.0, low_inclusive=False)
    sd_q = check_real(sd_q, "sd_q", low=0.0, low_inclusive=False)
    s2 = check_real(bandwidth, "bandwidth", low=0.0, low_inclusive=False) ** 2
    dim = check_int(dim, "dim", min_value=1)

    def mean_kernel(v, d2):
        return (s2 / (s2 + v)) ** (dim / 2) * math.exp(-d2 / (2 * (s2 + v)))

    return (mean_kernel(2 * sd_p**2, 0.0) + mean_kernel(2 * sd_q**2, 0.0)
            - 2 * mean_kernel(sd_p**2 + sd_q**2, delta**2))


def bayes_log_loss(p, q, dim: int = -1) -> torch.Tensor:
    r"""Expected log-loss (nats) of the best classifier telling a draw of ``p`` from ``q``.

    With equal priors the Bayes posterior of "came from ``p``" is ``p / (p + q)``; its
    expected cross-entropy is

    ``L* = ½ Σ_i p_i (−log(p_i / (p_i + q_i))) + ½ Σ_i q_i (−log(q_i / (p_i + q_i)))``,

    computed here directly.  It equals ``ln 2 − JS(p, q)``: the JS divergence is how far
    the best possible classifier gets below the ``ln 2`` of a coin flip.

    Parameters
    ----------
    p, q : array-like
        Probability vectors along ``dim``.
    dim : int, default=-1

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> import math, tllab
    >>> from tllab.studies import distribution_shift as study
    >>> loss = study.bayes_log_loss([0.2, 0.3, 0.5], [0.1, 0.4, 0.5])
    >>> round(math.log(2) - float(loss), 5)
    0.01208
    """
    p, q = _check_prob_pair(p, q, dim, False)
    s = p + q
    return 0.5 * (torch.xlogy(p, s) - torch.xlogy(p, p) + torch.xlogy(q, s)
                  - torch.xlogy(q, q)).sum(dim)


def mmd_witness(x, y, points, *, bandwidth: float = 1.0) -> torch.Tensor:
    r"""The (unnormalised) MMD witness function ``f(t) = mean_i k(x_i, t) − mean_j k(y_j, t)``.

    ``f = μ_x − μ_y`` is the difference of the two empirical kernel mean embeddings,
    evaluated at ``points``: positive where ``x`` is denser, negative where ``y`` is.  The
    MMD is its RKHS norm, and the biased MMD² equals ``mean_i f(x_i) − mean_j f(y_j)``.

    Parameters
    ----------
    x, y : array-like of shape (n, d) and (m, d)
    points : array-like of shape (k, d)
    bandwidth : float > 0, default=1.0
        σ of the Gaussian kernel.

    Returns
    -------
    torch.Tensor
        Shape ``(k,)``.

    Examples
    --------
    >>> import torch, tllab
    >>> from tllab.studies import distribution_shift as study
    >>> x = torch.zeros(5, 1); y = torch.ones(5, 1)
    >>> f = study.mmd_witness(x, y, torch.tensor([[0.0], [1.0]]))
    >>> bool(f[0] > 0 > f[1])
    True
    """
    x, y = check_sample_pair(x, y)
    pts, _ = check_sample_pair(points, x, names=("points", "x"))
    pts = pts.to(x.dtype)
    bw = check_positive_scalars(bandwidth, "bandwidth")
    return (kernel_matrix(pts, x, bandwidth=bw).mean(1)
            - kernel_matrix(pts, y, bandwidth=bw).mean(1))


def mmd_bandwidth_curve(x, y, bandwidths: Sequence[float], *,
                        estimator: str = "unbiased") -> torch.Tensor:
    r"""MMD² of the same two samples for each Gaussian bandwidth in ``bandwidths``.

    Both ends of the curve go to 0: a tiny σ makes every point dissimilar to every other
    (the kernel sees only identical points), a huge σ makes all points alike.  The
    informative bandwidths lie in between, near the scale of the data, which is what the
    median heuristic (:func:`tllab.median_bandwidth`) aims for.

    Parameters
    ----------
    x, y : array-like of shape (n, d) and (m, d)
    bandwidths : sequence of float > 0
    estimator : {"unbiased", "biased", "linear"}, default="unbiased"

    Returns
    -------
    torch.Tensor
        Shape ``(len(bandwidths),)``.

    Examples
    --------
    >>> import torch, tllab
    >>> from tllab.studies import distribution_shift as study
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(100, 1, generator=g); y = torch.randn(100, 1, generator=g) + 1
    >>> curve = study.mmd_bandwidth_curve(x, y, [0.01, 1.0, 100.0])
    >>> bool(curve[1] > curve[0]) and bool(curve[1] > curve[2])
    True
    """
    bws = check_positive_scalars(bandwidths, "bandwidths")
    x, y = check_sample_pair(x, y, min_samples=2)
    return torch.stack([mmd2(x, y, bandwidth=b, estimator=estimator) for b in bws])


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
    each method.  The true value, :func:`gaussian_js` ``(0, 1, δ, 1)``, does not depend on
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
    fixed bandwidth (so the population value :func:`gaussian_mmd2` is known).  With
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


def mmd_power_curve(
    sizes: Sequence[int] = (10, 20, 40, 80, 160),
    *,
    delta: float = 0.5,
    dim: int = 2,
    n_reps: int = 40,
    n_permutations: int = 99,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict:
    r"""Rejection rate of the MMD permutation test against the sample size.

    For each ``n`` in ``sizes``, ``n_reps`` times: draw ``x ~ N(0, I_d)`` and
    ``y ~ N(δ e_1, I_d)`` of size ``n`` and run :func:`tllab.mmd_test` (median bandwidth,
    ``n_permutations`` relabellings); also run it on a pair drawn *without* shift.  The
    share of p-values ``<= alpha`` estimates the power (under the shift) and the size (the
    false-alarm rate, which the permutation test keeps at most ``alpha``).

    Parameters
    ----------
    sizes : sequence of int >= 2
    delta : float >= 0, default=0.5
    dim : int >= 1, default=2
    n_reps : int >= 1, default=40
    n_permutations : int >= 1, default=99
    alpha : float in (0, 1), default=0.05
    seed : int, default=0

    Returns
    -------
    dict
        ``"sizes"``, ``"power"`` and ``"false_alarm"`` (arrays over ``sizes``), ``"alpha"``,
        ``"n_reps"``.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import distribution_shift as study
    >>> out = study.mmd_power_curve([10, 80], delta=1.0, n_reps=5, n_permutations=19)
    >>> out["power"].shape
    (2,)
    """
    sizes = [check_int(s, "sizes", min_value=2) for s in sizes]
    if not sizes:
        raise ValueError("sizes must not be empty")
    delta = check_real(delta, "delta", low=0.0)
    dim = check_int(dim, "dim", min_value=1)
    n_reps = check_int(n_reps, "n_reps", min_value=1)
    n_permutations = check_int(n_permutations, "n_permutations", min_value=1)
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, low_inclusive=False,
                       high_inclusive=False)
    g = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    power, false_alarm = np.zeros(len(sizes)), np.zeros(len(sizes))
    for a, n in enumerate(sizes):
        for r in range(n_reps):
            x, y, y0 = (torch.randn(n, dim, generator=g, dtype=torch.float64) for _ in range(3))
            y[:, 0] += delta
            power[a] += mmd_test(x, y, n_permutations, seed=r).p_value <= alpha
            false_alarm[a] += mmd_test(x, y0, n_permutations, seed=r).p_value <= alpha
    return {"sizes": sizes, "power": power / n_reps, "false_alarm": false_alarm / n_reps,
            "alpha": alpha, "n_reps": n_reps}


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

    from ..divergence import proxy_a_distance

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
