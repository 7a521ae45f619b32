r"""Covariate shift with a known density ratio: the instance-weighting chapter's problems.

* Shimodaira's (2000) regression, :func:`make_covariate_shift_regression`
  (``x_s ~ N(0.5, 0.5²)``, ``x_t ~ N(0, 0.3²)``, ``y = −x + x³ + ε``, ``ε ~ N(0, 0.3²)``);
* a two-dimensional classification analogue, :func:`make_covariate_shift_classification`;
* the true ratio of two Gaussians, :func:`gaussian_density_ratio`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from .._checks import (
    check_int,
    check_real,
    check_samples,
    check_vector,
)
from ..device import as_tensor
from ._common import _generator

__all__ = [
    "SHIMODAIRA",
    "ShiftData",
    "cubic_function",
    "make_covariate_shift_regression",
    "class_probability",
    "make_covariate_shift_classification",
    "gaussian_density_ratio",
]


SHIMODAIRA = {"mu_s": 0.5, "sigma_s": 0.5, "mu_t": 0.0, "sigma_t": 0.3, "noise": 0.3}
"""Parameters of Shimodaira's (2000) example (source and target means and spreads, noise sd)."""


class ShiftData(NamedTuple):
    """A labelled source sample and a target sample drawn under covariate shift."""

    xs: torch.Tensor
    """Source inputs, shape ``(n_s, d)``."""
    ys: torch.Tensor
    """Source labels, shape ``(n_s,)``."""
    xt: torch.Tensor
    """Target inputs, shape ``(n_t, d)`` (their labels are *not* used for training)."""
    yt: torch.Tensor
    """Target labels, shape ``(n_t,)``, only for evaluation."""


def _check_scale_params(mean, std, d: int, name: str, like: torch.Tensor) -> tuple:
    m = as_tensor(mean).to(device=like.device, dtype=like.dtype).reshape(-1)
    s = as_tensor(std).to(device=like.device, dtype=like.dtype).reshape(-1)
    for t, nm in ((m, f"mean_{name}"), (s, f"std_{name}")):
        if t.numel() not in (1, d):
            raise ValueError(f"{nm} must be a scalar or have {d} entries (one per feature); "
                             f"got {t.numel()}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{nm} must be finite")
    if bool((s <= 0).any()):
        raise ValueError(f"std_{name} must be positive; got {s.tolist()}")
    return m, s


def cubic_function(x) -> torch.Tensor:
    r"""The regression function of Shimodaira's example, ``f(x) = −x + x³``.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.data.cubic_function([0.0, 1.0, 2.0]).tolist()
    [0.0, 0.0, 6.0]
    """
    x = check_vector(x, "x")
    return -x + x**3


def make_covariate_shift_regression(
    n_source: int = 300,
    n_target: int = 300,
    *,
    mu_s: float = 0.5,
    sigma_s: float = 0.5,
    mu_t: float = 0.0,
    sigma_t: float = 0.3,
    noise: float = 0.3,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> ShiftData:
    r"""Shimodaira's (2000) one-dimensional covariate-shift regression problem.

    ``x_s ~ N(mu_s, sigma_s²)``, ``x_t ~ N(mu_t, sigma_t²)`` and on both domains
    ``y = f(x) + ε`` with ``f(x) = −x + x³`` (:func:`cubic_function`) and
    ``ε ~ N(0, noise²)``: the conditional ``p(y | x)`` is shared, only ``p(x)`` moves.
    The defaults are the paper's; a straight line fitted to the source then extrapolates
    badly on the target, because the model is misspecified.

    Parameters
    ----------
    n_source, n_target : int, default=300
    mu_s, sigma_s, mu_t, sigma_t : float
        Means and standard deviations (> 0) of the source and target input laws.
    noise : float >= 0, default=0.3
        Standard deviation of the label noise.
    seed : int, default=0
        Seed of a private generator (the global random state is untouched).
    device : torch.device or str, optional
        Where the tensors live (CPU by default); the draws are made on the CPU first, so
        the numbers do not depend on the device.
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    ShiftData
        ``xs`` of shape ``(n_source, 1)``, ``ys`` of shape ``(n_source,)``, ``xt`` and
        ``yt`` likewise.

    Examples
    --------
    >>> import tllab
    >>> data = tllab.data.make_covariate_shift_regression(1000, 1000, seed=0)
    >>> data.xs.shape, data.yt.shape
    (torch.Size([1000, 1]), torch.Size([1000]))
    >>> round(float(data.xs.mean()), 1), round(float(data.xt.std()), 1)
    (0.5, 0.3)
    """
    n_source = check_int(n_source, "n_source", min_value=1)
    n_target = check_int(n_target, "n_target", min_value=1)
    mu_s = check_real(mu_s, "mu_s")
    mu_t = check_real(mu_t, "mu_t")
    sigma_s = check_real(sigma_s, "sigma_s", low=0.0, low_inclusive=False)
    sigma_t = check_real(sigma_t, "sigma_t", low=0.0, low_inclusive=False)
    noise = check_real(noise, "noise", low=0.0)
    seed = check_int(seed, "seed", min_value=0)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype; got {dtype!r}")
    g = _generator(seed)
    xs = mu_s + sigma_s * torch.randn(n_source, 1, generator=g, dtype=torch.float64)
    xt = mu_t + sigma_t * torch.randn(n_target, 1, generator=g, dtype=torch.float64)
    ys = cubic_function(xs) + noise * torch.randn(n_source, generator=g, dtype=torch.float64)
    yt = cubic_function(xt) + noise * torch.randn(n_target, generator=g, dtype=torch.float64)
    return ShiftData(*(t.to(device=device, dtype=dtype) for t in (xs, ys, xt, yt)))


def class_probability(x, *, curvature: float = 0.6, sharpness: float = 4.0) -> torch.Tensor:
    r"""``P(y = 1 | x)`` of the classification example: a curved, noisy boundary.

    ``P(y = 1 | x) = sigmoid(sharpness · (x₂ − curvature · x₁²))``: the label is 1 above
    the parabola ``x₂ = curvature · x₁²``.  This conditional is the same on both domains,
    so :func:`make_covariate_shift_classification` is a pure covariate shift.

    Parameters
    ----------
    x : array-like of shape (n, 2)
    curvature : float, default=0.6
    sharpness : float > 0, default=4.0

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.data.class_probability([[0.0, 0.0], [1.0, 0.6]]).tolist()
    [0.5, 0.5]
    """
    x = check_samples(x, "x")
    if x.shape[1] != 2:
        raise ValueError(f"x must have 2 features; got shape {tuple(x.shape)}")
    curvature = check_real(curvature, "curvature")
    sharpness = check_real(sharpness, "sharpness", low=0.0, low_inclusive=False)
    return torch.sigmoid(sharpness * (x[:, 1] - curvature * x[:, 0] ** 2))


def make_covariate_shift_classification(
    n_source: int = 400,
    n_target: int = 400,
    *,
    mean_s: Sequence[float] = (0.0, 0.0),
    std_s: float = 0.8,
    mean_t: Sequence[float] = (1.2, 0.8),
    std_t: float = 0.6,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> ShiftData:
    r"""A two-dimensional classification problem under covariate shift.

    Inputs are isotropic Gaussians, ``x_s ~ N(mean_s, std_s² I)`` and
    ``x_t ~ N(mean_t, std_t² I)``; labels follow :func:`class_probability` on both domains
    (a parabolic boundary).  A *linear* classifier cannot follow the parabola everywhere,
    so the line that is best on the source (around the vertex) is not the best on the
    target (on the parabola's rising arm): the classification analogue of Shimodaira's
    misspecified regression.

    Parameters
    ----------
    n_source, n_target : int
    mean_s, mean_t : sequence of two floats
    std_s, std_t : float > 0
    seed : int, default=0
    device : torch.device or str, optional
    dtype : torch.dtype, default=torch.float64

    Returns
    -------
    ShiftData
        ``xs`` of shape ``(n_source, 2)``, ``ys`` in ``{0., 1.}``; ``xt``, ``yt`` likewise.

    Examples
    --------
    >>> import tllab
    >>> data = tllab.data.make_covariate_shift_classification(500, 500, seed=0)
    >>> data.xs.shape, sorted(set(data.ys.tolist()))
    (torch.Size([500, 2]), [0.0, 1.0])
    """
    n_source = check_int(n_source, "n_source", min_value=1)
    n_target = check_int(n_target, "n_target", min_value=1)
    std_s = check_real(std_s, "std_s", low=0.0, low_inclusive=False)
    std_t = check_real(std_t, "std_t", low=0.0, low_inclusive=False)
    seed = check_int(seed, "seed", min_value=0)
    ms = as_tensor(mean_s, dtype=torch.float64).reshape(-1)
    mt = as_tensor(mean_t, dtype=torch.float64).reshape(-1)
    for t, nm in ((ms, "mean_s"), (mt, "mean_t")):
        if t.numel() != 2 or not bool(torch.isfinite(t).all()):
            raise ValueError(f"{nm} must be two finite numbers; got {t.tolist()}")
    g = _generator(seed)
    xs = ms + std_s * torch.randn(n_source, 2, generator=g, dtype=torch.float64)
    xt = mt + std_t * torch.randn(n_target, 2, generator=g, dtype=torch.float64)
    ys = (torch.rand(n_source, generator=g, dtype=torch.float64)
          < class_probability(xs)).to(torch.float64)
    yt = (torch.rand(n_target, generator=g, dtype=torch.float64)
          < class_probability(xt)).to(torch.float64)
    return ShiftData(*(t.to(device=device, dtype=dtype) for t in (xs, ys, xt, yt)))


def gaussian_density_ratio(x, mean_s, std_s, mean_t, std_t) -> torch.Tensor:
    r"""True importance weight ``w(x) = p_t(x) / p_s(x)`` for two diagonal Gaussians.

    ``p_s = N(mean_s, diag(std_s²))`` and ``p_t = N(mean_t, diag(std_t²))``; means and
    standard deviations are scalars (shared by every feature) or one per feature.  The
    ratio is computed in log space,

    .. math::

        \log w(x) = \sum_k \Bigl[\log\frac{\sigma_{s,k}}{\sigma_{t,k}}
        - \frac{(x_k - \mu_{t,k})^2}{2\sigma_{t,k}^2}
        + \frac{(x_k - \mu_{s,k})^2}{2\sigma_{s,k}^2}\Bigr],

    then exponentiated, so it does not underflow far in the tails.

    Parameters
    ----------
    x : array-like of shape (n, d)
    mean_s, std_s, mean_t, std_t : float or array-like of shape (d,)

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> w = tllab.data.gaussian_density_ratio([[0.0], [0.5]], 0.5, 0.5, 0.0, 0.3)
    >>> [round(v, 4) for v in w.tolist()]
    [2.7479, 0.4156]
    """
    x = check_samples(x, "x")
    d = x.shape[1]
    ms, ss = _check_scale_params(mean_s, std_s, d, "s", x)
    mt, st = _check_scale_params(mean_t, std_t, d, "t", x)
    zs = (x - ms) / ss
    zt = (x - mt) / st
    log_w = (torch.log(ss / st).expand(d).sum()
             + 0.5 * (zs * zs).sum(1) - 0.5 * (zt * zt).sum(1))
    return log_w.exp()
