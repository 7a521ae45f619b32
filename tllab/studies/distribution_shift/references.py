r"""Closed forms the chapter compares estimates with, the MMD witness and the bandwidth curve."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..._checks import (
    check_int,
    check_positive_scalars,
    check_real,
    check_sample_pair,
)
from ...divergence import _check_prob_pair, mmd2
from ...kernels import kernel_matrix

__all__ = [
    "gaussian_js",
    "gaussian_mmd2",
    "bayes_log_loss",
    "mmd_witness",
    "mmd_bandwidth_curve",
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
