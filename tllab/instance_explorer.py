r"""Instance-based transfer under covariate shift: the experiments of the book's chapter.

The density-ratio estimators themselves live in :mod:`tllab.reweight`; this module holds
what the chapter *does* with them:

* the Shimodaira (2000) toy problem, :func:`make_covariate_shift_regression`
  (``x_s ~ N(0.5, 0.5²)``, ``x_t ~ N(0, 0.3²)``, ``y = −x + x³ + ε``, ``ε ~ N(0, 0.3²)``)
  and a two-dimensional classification analogue, :func:`make_covariate_shift_classification`;
* the true ratio of two Gaussians, :func:`gaussian_density_ratio`;
* importance-weighted learners in torch: :func:`weighted_least_squares` (polynomial
  regression) and :func:`weighted_logistic_regression` (Newton / IRLS);
* exact target risks: :func:`gaussian_target_risk` (Gauss–Hermite quadrature, exact for
  polynomial models);
* the experiments: :func:`compare_weighting_methods`, :func:`flattening_curve`,
  :func:`cv_flattening_selection`;
* the live explorer :func:`instance_weighting_explorer` (ipywidgets) and its kernel-free
  fallback :func:`explorer_animation` / :func:`explorer_jshtml` (a matplotlib animation over
  a small precomputed grid of target laws).

Every function accepts NumPy arrays or torch tensors and computes in the input's device
and dtype (float64 by default for the generators).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from ._checks import check_choice, check_int, check_real, check_samples
from .device import as_tensor
from .plotting import grid_animation
from .reweight import (
    classifier_weights,
    effective_sample_size,
    flatten_weights,
    iwcv_score,
    kliep_weights,
    kmm_weights,
    ulsif_weights,
)

__all__ = [
    "SHIMODAIRA",
    "WEIGHT_METHODS",
    "ShiftData",
    "MethodResult",
    "ExplorerState",
    "cubic_function",
    "make_covariate_shift_regression",
    "make_covariate_shift_classification",
    "class_probability",
    "gaussian_density_ratio",
    "polynomial_features",
    "weighted_least_squares",
    "polynomial_predict",
    "weighted_logistic_regression",
    "logistic_predict",
    "gaussian_target_risk",
    "estimate_weights",
    "compare_weighting_methods",
    "format_comparison",
    "flattening_curve",
    "cv_flattening_selection",
    "cv_selection_study",
    "ClassificationResult",
    "classification_experiment",
    "plot_regression_fits",
    "plot_weights_comparison",
    "plot_flattening_curve",
    "plot_cv_selection",
    "plot_classification",
    "explorer_state",
    "plot_explorer_state",
    "instance_weighting_explorer",
    "explorer_animation",
    "explorer_jshtml",
]

SHIMODAIRA = {"mu_s": 0.5, "sigma_s": 0.5, "mu_t": 0.0, "sigma_t": 0.3, "noise": 0.3}
"""Parameters of Shimodaira's (2000) example (source and target means and spreads, noise sd)."""

WEIGHT_METHODS = ("uniform", "true", "kmm", "kliep", "ulsif", "classifier",
                  "classifier_quadratic")
"""Names understood by :func:`estimate_weights` (``"true"`` needs the Gaussian parameters)."""

_METHOD_LABELS = {
    "uniform": "uniform (no weighting)",
    "true": "true ratio p_t/p_s",
    "kmm": "KMM",
    "kliep": "KLIEP",
    "ulsif": "uLSIF",
    "classifier": "classifier (logit in x)",
    "classifier_quadratic": "classifier (logit in x, x²)",
}


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


# --------------------------------------------------------------------------- helpers
def _check_vector(y, name: str, n: int | None = None) -> torch.Tensor:
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"{name} must be an array-like or a torch.Tensor; got {type(y).__name__}")
    try:
        t = as_tensor(y)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a numeric array-like; got {type(y).__name__}") from err
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (n,); got shape {tuple(t.shape)}")
    if n is not None and t.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries to match x; got {t.shape[0]}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite")
    return t


def _check_weight_vector(w, n: int, like: torch.Tensor) -> torch.Tensor:
    if w is None:
        return like.new_ones(n)
    t = _check_vector(w, "w", n).to(device=like.device, dtype=like.dtype)
    if bool((t < 0).any()):
        raise ValueError(f"w must be non-negative; smallest entry is {float(t.min()):.4g}")
    if float(t.sum()) <= 0:
        raise ValueError("w must have a positive sum")
    return t


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


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------- data
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
    >>> tllab.cubic_function([0.0, 1.0, 2.0]).tolist()
    [0.0, 0.0, 6.0]
    """
    x = _check_vector(x, "x")
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
    >>> data = tllab.make_covariate_shift_regression(1000, 1000, seed=0)
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
    >>> tllab.class_probability([[0.0, 0.0], [1.0, 0.6]]).tolist()
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
    >>> data = tllab.make_covariate_shift_classification(500, 500, seed=0)
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
    >>> w = tllab.gaussian_density_ratio([[0.0], [0.5]], 0.5, 0.5, 0.0, 0.3)
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


# --------------------------------------------------------------------------- learners
def polynomial_features(x, degree: int) -> torch.Tensor:
    r"""Design matrix ``[1, x, x², …, x^degree]`` (powers taken feature by feature).

    For ``d`` features the columns are the intercept then ``x_k^p`` for ``p = 1..degree``
    and ``k = 1..d`` (no cross products), so the width is ``1 + d·degree``.

    Parameters
    ----------
    x : array-like of shape (n, d)
    degree : int >= 0

    Returns
    -------
    torch.Tensor of shape (n, 1 + d·degree)

    Examples
    --------
    >>> import tllab
    >>> tllab.polynomial_features([[2.0]], 3).tolist()
    [[1.0, 2.0, 4.0, 8.0]]
    """
    x = check_samples(x, "x")
    degree = check_int(degree, "degree", min_value=0)
    cols = [x.new_ones(x.shape[0], 1)] + [x**p for p in range(1, degree + 1)]
    return torch.cat(cols, dim=1)


def weighted_least_squares(x, y, w=None, *, degree: int = 1, reg: float = 0.0) -> torch.Tensor:
    r"""Importance-weighted (ridge) least squares for a polynomial model.

    Minimises ``Σ_i w_i (y_i − φ(x_i)ᵀθ)² + reg · ||θ_{1:}||²`` with
    ``φ`` = :func:`polynomial_features` (the intercept is not penalised).  Solved as an
    ordinary least-squares problem on ``√w``-scaled rows (QR-based, no normal equations),
    with ``√reg`` rows appended for the penalty; runs on ``x``'s device.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,)
    w : array-like of shape (n,), optional
        Non-negative weights (None: all ones, the ordinary fit).
    degree : int >= 0, default=1
        1 gives a straight line (the misspecified model of Shimodaira's example).
    reg : float >= 0, default=0.0

    Returns
    -------
    torch.Tensor of shape (1 + d·degree,)
        ``θ``: intercept first, then the coefficients of ``x, x², …``.

    Examples
    --------
    >>> import tllab
    >>> x = [[0.0], [1.0], [2.0]]; y = [1.0, 3.0, 5.0]
    >>> [round(v, 6) for v in tllab.weighted_least_squares(x, y).tolist()]
    [1.0, 2.0]
    """
    x = check_samples(x, "x")
    n = x.shape[0]
    y = _check_vector(y, "y", n).to(device=x.device, dtype=x.dtype)
    w = _check_weight_vector(w, n, x)
    reg = check_real(reg, "reg", low=0.0)
    phi = polynomial_features(x, degree)
    p = phi.shape[1]
    sw = w.sqrt()
    a, b = phi * sw[:, None], y * sw
    if reg > 0:
        pen = math.sqrt(reg) * torch.eye(p, dtype=x.dtype, device=x.device)[1:]
        a = torch.cat([a, pen])
        b = torch.cat([b, b.new_zeros(p - 1)])
    if a.shape[0] < p:
        raise ValueError(f"need at least {p} samples (or reg > 0) to fit degree={degree}; "
                         f"got {n}")
    q, r = torch.linalg.qr(a)
    return torch.linalg.solve_triangular(r, (q.T @ b)[:, None], upper=True)[:, 0]


def polynomial_predict(coef, x) -> torch.Tensor:
    r"""Evaluate the polynomial model ``φ(x)ᵀθ`` of :func:`weighted_least_squares`.

    Parameters
    ----------
    coef : array-like of shape (1 + d·degree,)
    x : array-like of shape (n, d)

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.polynomial_predict([1.0, 2.0], [[0.0], [3.0]]).tolist()
    [1.0, 7.0]
    """
    x = check_samples(x, "x")
    coef = _check_vector(coef, "coef").to(device=x.device, dtype=x.dtype)
    d = x.shape[1]
    if (coef.shape[0] - 1) % d != 0:
        raise ValueError(f"coef must have 1 + d·degree entries for d={d} features; "
                         f"got {coef.shape[0]}")
    return polynomial_features(x, (coef.shape[0] - 1) // d) @ coef


def weighted_logistic_regression(
    x, y, w=None, *, reg: float = 1e-3, max_iter: int = 100, tol: float = 1e-10
) -> torch.Tensor:
    r"""Importance-weighted, L2-penalised logistic regression fitted by Newton's method.

    Minimises the weighted mean log-loss plus a ridge penalty on the slopes,

    .. math::

        \frac{\sum_i w_i\, \ell(\theta_0 + x_i^\top\theta, y_i)}{\sum_i w_i}
        + \frac{\text{reg}}2 \|\theta\|^2,

    with ``ℓ`` the logistic loss and ``y ∈ {0, 1}`` — scikit-learn's
    ``LogisticRegression(C=1/(reg·Σw))`` with ``sample_weight=w``.  Newton (IRLS) steps
    with step halving; deterministic and device-agnostic.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,), values in {0, 1}
    w : array-like of shape (n,), optional
    reg : float > 0, default=1e-3
    max_iter : int, default=100
    tol : float > 0, default=1e-10
        Stop when the Newton decrement ``gᵀH⁻¹g / 2`` is below ``tol``.

    Returns
    -------
    torch.Tensor of shape (d + 1,)
        Intercept first, then the slopes.

    Examples
    --------
    >>> import tllab
    >>> x = [[-2.0], [-1.0], [1.0], [2.0]]; y = [0.0, 1.0, 0.0, 1.0]
    >>> coef = tllab.weighted_logistic_regression(x, y)
    >>> coef.shape, bool(coef[1] > 0)
    (torch.Size([2]), True)
    """
    x = check_samples(x, "x")
    n = x.shape[0]
    y = _check_vector(y, "y", n).to(device=x.device, dtype=x.dtype)
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("y must contain only 0 and 1")
    w = _check_weight_vector(w, n, x)
    reg = check_real(reg, "reg", low=0.0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    a = torch.cat([x.new_ones(n, 1), x], dim=1)
    wn = w / w.sum()
    pen = torch.ones(a.shape[1], dtype=x.dtype, device=x.device)
    pen[0] = 0.0

    def objective(theta):
        z = a @ theta
        return float((wn * (torch.nn.functional.softplus(z) - y * z)).sum()
                     + 0.5 * reg * (pen * theta * theta).sum())

    theta = x.new_zeros(a.shape[1])
    f = objective(theta)
    for _ in range(max_iter):
        p = torch.sigmoid(a @ theta)
        g = a.T @ (wn * (p - y)) + reg * pen * theta
        h = (a * (wn * p * (1 - p))[:, None]).T @ a + torch.diag(reg * pen + 1e-12)
        step = torch.linalg.solve(h, g)
        decrement = float(g @ step) / 2
        if decrement < tol:
            break
        t = 1.0
        while t > 1e-8:
            new = theta - t * step
            f_new = objective(new)
            if f_new <= f - 0.25 * t * 2 * decrement:
                break
            t *= 0.5
        theta, f = new, f_new
    return theta


def logistic_predict(coef, x) -> torch.Tensor:
    r"""Class labels (``0.`` / ``1.``) of the linear model of :func:`weighted_logistic_regression`.

    Parameters
    ----------
    coef : array-like of shape (d + 1,)
    x : array-like of shape (n, d)

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.logistic_predict([0.0, 1.0], [[-1.0], [2.0]]).tolist()
    [0.0, 1.0]
    """
    x = check_samples(x, "x")
    coef = _check_vector(coef, "coef", x.shape[1] + 1).to(device=x.device, dtype=x.dtype)
    return ((coef[0] + x @ coef[1:]) > 0).to(x.dtype)


def gaussian_target_risk(coef, mu_t: float, sigma_t: float, *, noise: float = 0.3,
                         function: Callable | None = None, n_nodes: int = 40) -> float:
    r"""Exact target risk ``E_{x~N(mu_t, sigma_t²)}[(θᵀφ(x) − f(x))²] + noise²``.

    The expectation of the squared error of a one-dimensional polynomial model under a
    Gaussian target is computed by Gauss–Hermite quadrature with ``n_nodes`` nodes, exact
    whenever ``(θᵀφ − f)²`` is a polynomial of degree ``< 2·n_nodes`` (the default ``f`` is
    :func:`cubic_function`).  The label noise adds ``noise²``, the Bayes risk.

    Parameters
    ----------
    coef : array-like of shape (degree + 1,)
        Coefficients from :func:`weighted_least_squares` with one feature.
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
    >>> # the zero predictor: E[(x³ − x)²] under N(0, 1) = 15 − 6 + 1 = 10, plus 0.3²
    >>> round(tllab.gaussian_target_risk([0.0], 0.0, 1.0), 6)
    10.09
    """
    coef = _check_vector(coef, "coef")
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


# --------------------------------------------------------------------------- experiments
def estimate_weights(xs, xt, method: str, *, true_params: dict | None = None,
                     **kwargs: Any) -> torch.Tensor:
    r"""Importance weights of the source points by one of :data:`WEIGHT_METHODS`.

    ``"uniform"``: all ones; ``"true"``: :func:`gaussian_density_ratio` with
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
    >>> data = tllab.make_covariate_shift_regression(200, 200)
    >>> w = tllab.estimate_weights(data.xs, data.xt, "ulsif")
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
        From :func:`make_covariate_shift_regression`.
    methods : sequence of str
        Names from :data:`WEIGHT_METHODS`.
    params : dict, optional
        The Gaussian parameters of ``data`` (default :data:`SHIMODAIRA`); keys ``mu_s``,
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
    >>> data = tllab.make_covariate_shift_regression(200, 200)
    >>> rows = tllab.compare_weighting_methods(data, ["uniform", "true"])
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


def format_comparison(rows: Sequence[MethodResult]) -> str:
    r"""A fixed-width text table of :func:`compare_weighting_methods` (rounded numbers).

    Parameters
    ----------
    rows : sequence of MethodResult

    Returns
    -------
    str

    Examples
    --------
    >>> import tllab
    >>> data = tllab.make_covariate_shift_regression(200, 200)
    >>> print(tllab.format_comparison(tllab.compare_weighting_methods(data, ["uniform"])))
    ... # doctest: +NORMALIZE_WHITESPACE
    method                          ESS   ratio err   slope   target risk
    uniform (no weighting)        200.0       0.573   0.494         0.305
    """
    if isinstance(rows, MethodResult) or not all(isinstance(r, MethodResult) for r in rows):
        raise TypeError("rows must be a sequence of MethodResult")
    lines = [f"{'method':<29}{'ESS':>7}{'ratio err':>12}{'slope':>8}{'target risk':>14}"]
    for r in rows:
        lines.append(f"{_METHOD_LABELS[r.method]:<29}{r.ess:>7.1f}{r.ratio_error:>12.3f}"
                     f"{float(r.coef[1]):>8.3f}{r.target_risk:>14.3f}")
    return "\n".join(lines)


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

    For every seed a fresh data set is drawn (:func:`make_covariate_shift_regression`), the
    weights are estimated once per method, and for every ``γ`` a straight line is fitted
    with :func:`tllab.flatten_weights` ``(w, γ)``; its exact target risk is recorded.

    Parameters
    ----------
    gammas : sequence of float in [0, ∞)
    methods : sequence of str, default=("true", "ulsif")
    seeds : sequence of int, default=range(10)
    n_source, n_target : int, default=200
    params : dict, optional
        Default :data:`SHIMODAIRA`.

    Returns
    -------
    dict
        ``"gammas"`` (array of shape ``(G,)``), and per method ``m``: ``"risk"[m]`` and
        ``"ess"[m]``, arrays of shape ``(len(seeds), G)``.

    Examples
    --------
    >>> import tllab
    >>> out = tllab.flattening_curve([0.0, 1.0], methods=["true"], seeds=[0, 1])
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
        Default :data:`SHIMODAIRA` (for the true target risk).

    Returns
    -------
    dict
        ``"gammas"``, ``"cv"``, ``"iwcv"``, ``"target"`` (arrays of shape ``(G,)``) and the
        selected values ``"gamma_cv"``, ``"gamma_iwcv"``, ``"gamma_target"``.

    Examples
    --------
    >>> import tllab
    >>> data = tllab.make_covariate_shift_regression(300, 300)
    >>> w = tllab.gaussian_density_ratio(data.xs, 0.5, 0.5, 0.0, 0.3)
    >>> out = tllab.cv_flattening_selection(data, w, [0.0, 0.5, 1.0])
    >>> out["gamma_cv"], out["gamma_iwcv"] > 0
    (0.0, True)
    """
    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    n = data.xs.shape[0]
    w = _check_weight_vector(w, n, data.xs)
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
        Default :data:`SHIMODAIRA`.
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
    >>> out = tllab.cv_selection_study([0.0, 1.0], seeds=[0, 1])
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
    r"""Importance-weighted logistic regression on :func:`make_covariate_shift_classification`.

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
    >>> data = tllab.make_covariate_shift_classification(300, 300)
    >>> rows = tllab.classification_experiment(data, ["uniform", "true"], n_test=2000)
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


# --------------------------------------------------------------------------- figures
def plot_regression_fits(data: ShiftData, fits: dict, *, params: dict | None = None):
    r"""Source and target samples, the true function and several fitted polynomials.

    Parameters
    ----------
    data : ShiftData
    fits : dict
        ``{label: coef}`` of :func:`weighted_least_squares` fits.
    params : dict, optional
        Default :data:`SHIMODAIRA` (for the density panel).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> data = tllab.make_covariate_shift_regression(100, 100)
    >>> ols = tllab.weighted_least_squares(data.xs, data.ys)
    >>> fig = tllab.plot_regression_fits(data, {"OLS": ols})
    >>> len(fig.axes)  # laws (with a twin axis for the ratio), data and fits
    3
    """
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    if not isinstance(fits, dict):
        raise TypeError(f"fits must be a dict {{label: coef}}; got {type(fits).__name__}")
    p = dict(SHIMODAIRA if params is None else params)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), width_ratios=(1, 1.4))
    grid = np.linspace(-1.2, 2.0, 300)
    ax1.fill_between(grid, norm.pdf(grid, p["mu_s"], p["sigma_s"]), alpha=0.35, color="C0",
                     label="source $p_s$")
    ax1.fill_between(grid, norm.pdf(grid, p["mu_t"], p["sigma_t"]), alpha=0.35, color="C1",
                     label="target $p_t$")
    axw = ax1.twinx()
    ratio = gaussian_density_ratio(grid[:, None], p["mu_s"], p["sigma_s"], p["mu_t"],
                                   p["sigma_t"]).numpy()
    axw.plot(grid, ratio, "k--", lw=1, label="$w = p_t/p_s$")
    axw.set_ylim(0, 1.1 * min(ratio.max(), 10))
    axw.set_ylabel("weight")
    ax1.set_xlabel("x")
    ax1.set_ylabel("density")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = axw.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper right")
    ax2.scatter(data.xs[:, 0].cpu(), data.ys.cpu(), s=6, color="C0", alpha=0.5,
                label="source (labelled)")
    ax2.scatter(data.xt[:, 0].cpu(), data.yt.cpu(), s=6, color="C1", alpha=0.5,
                label="target (labels unseen)")
    xg = torch.as_tensor(grid)[:, None]
    ax2.plot(grid, cubic_function(xg).numpy(), "k", lw=1, label="truth $-x+x^3$")
    for i, (label, coef) in enumerate(fits.items()):
        ax2.plot(grid, polynomial_predict(torch.as_tensor(coef).cpu(), xg).numpy(),
                 color=f"C{i + 2}", lw=2, label=label)
    ax2.set_ylim(-1.5, 2.5)
    ax2.set_xlim(grid[0], grid[-1])
    ax2.set_xlabel("x")
    ax2.set_ylabel("y")
    ax2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_weights_comparison(data: ShiftData, rows: Sequence[MethodResult], *,
                            params: dict | None = None):
    r"""Estimated weights at the source points against the true ratio, one panel per method.

    Parameters
    ----------
    data : ShiftData
    rows : sequence of MethodResult
        From :func:`compare_weighting_methods`; ``"uniform"`` and ``"true"`` rows are skipped.
    params : dict, optional
        Default :data:`SHIMODAIRA`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> data = tllab.make_covariate_shift_regression(100, 100)
    >>> rows = tllab.compare_weighting_methods(data, ["ulsif"])
    >>> len(tllab.plot_weights_comparison(data, rows).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    p = dict(SHIMODAIRA if params is None else params)
    shown = [r for r in rows if r.method not in ("uniform", "true")]
    if not shown:
        raise ValueError("rows must contain at least one estimated method")
    fig, axes = plt.subplots(1, len(shown), figsize=(2.3 * len(shown), 2.6), sharey=True,
                             squeeze=False)
    grid = np.linspace(-1.2, 2.0, 300)
    true = gaussian_density_ratio(grid[:, None], p["mu_s"], p["sigma_s"], p["mu_t"],
                                  p["sigma_t"]).numpy()
    true_src = gaussian_density_ratio(data.xs.cpu(), p["mu_s"], p["sigma_s"], p["mu_t"],
                                      p["sigma_t"])
    scale = float(true_src.mean())  # the rows are at mean 1 on the source sample
    xs = data.xs[:, 0].cpu().numpy()
    for ax, r in zip(axes[0], shown, strict=True):
        ax.plot(grid, true / scale, "k--", lw=1, label="true")
        ax.plot(xs, r.weights.cpu().numpy(), ".", ms=3, color="C3", label="estimate")
        ax.set_title(f"{_METHOD_LABELS[r.method]}\nESS {r.ess:.0f}", fontsize=8)
        ax.set_xlabel("x")
        ax.set_xlim(-1.0, 2.0)
        ax.set_ylim(0, 8)
    axes[0, 0].set_ylabel("weight (mean 1 on source)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_flattening_curve(out: dict):
    r"""Target risk (mean ± sd over seeds) and ESS against the flattening ``γ``.

    Parameters
    ----------
    out : dict
        From :func:`flattening_curve`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> out = tllab.flattening_curve([0.0, 1.0], methods=["true"], seeds=[0, 1])
    >>> len(tllab.plot_flattening_curve(out).axes)
    2
    """
    import matplotlib.pyplot as plt

    if not isinstance(out, dict) or not {"gammas", "risk", "ess"} <= set(out):
        raise TypeError("out must be the dict returned by flattening_curve")
    g = out["gammas"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
    for i, (m, r) in enumerate(out["risk"].items()):
        ax1.errorbar(g + 0.008 * i, r.mean(0), yerr=r.std(0), marker="o", ms=4, capsize=3,
                     color=f"C{i + 3}", label=_METHOD_LABELS[m])
        ax2.plot(g, out["ess"][m].mean(0), marker="o", ms=4, color=f"C{i + 3}",
                 label=_METHOD_LABELS[m])
    ax1.set_xlabel("flattening γ  (weights $w^γ$)")
    ax1.set_ylabel("target risk (mean ± sd)")
    ax1.legend(fontsize=8)
    ax2.set_xlabel("flattening γ")
    ax2.set_ylabel("effective sample size")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_cv_selection(out: dict):
    r"""Ordinary CV, IWCV and the true target risk against ``γ`` (one data set).

    Parameters
    ----------
    out : dict
        From :func:`cv_flattening_selection`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> data = tllab.make_covariate_shift_regression(100, 100)
    >>> w = tllab.gaussian_density_ratio(data.xs, 0.5, 0.5, 0.0, 0.3)
    >>> out = tllab.cv_flattening_selection(data, w, [0.0, 0.5, 1.0])
    >>> len(tllab.plot_cv_selection(out).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(out, dict) or not {"gammas", "cv", "iwcv", "target"} <= set(out):
        raise TypeError("out must be the dict returned by cv_flattening_selection")
    g = out["gammas"]
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for key, label, color in (("cv", "ordinary CV (source risk)", "C0"),
                              ("iwcv", "IWCV (weighted)", "C3"),
                              ("target", "true target risk", "k")):
        ax.plot(g, out[key], marker="o", ms=4, color=color, label=label)
        j = int(np.argmin(out[key]))
        ax.plot(g[j], out[key][j], marker="*", ms=14, color=color, mec="w")
    ax.set_xlabel("flattening γ")
    ax.set_ylabel("estimated risk")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_classification(data: ShiftData, rows: Sequence[ClassificationResult], *,
                        curvature: float = 0.6):
    r"""Source and target points, the true (parabolic) boundary and the fitted lines.

    Parameters
    ----------
    data : ShiftData
        From :func:`make_covariate_shift_classification`.
    rows : sequence of ClassificationResult
    curvature : float, default=0.6
        Of :func:`class_probability`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> data = tllab.make_covariate_shift_classification(100, 100)
    >>> rows = tllab.classification_experiment(data, ["uniform"], n_test=500)
    >>> len(tllab.plot_classification(data, rows).axes)
    1
    """
    import matplotlib.pyplot as plt

    if not isinstance(data, ShiftData):
        raise TypeError(f"data must be a ShiftData; got {type(data).__name__}")
    fig, ax = plt.subplots(figsize=(8.0, 4.0))
    xs, ys = data.xs.cpu().numpy(), data.ys.cpu().numpy()
    xt = data.xt.cpu().numpy()
    ax.scatter(xs[ys == 1, 0], xs[ys == 1, 1], s=8, marker="o", color="C0", alpha=0.6,
               label="source, y = 1")
    ax.scatter(xs[ys == 0, 0], xs[ys == 0, 1], s=8, marker="x", color="C0", alpha=0.6,
               label="source, y = 0")
    ax.scatter(xt[:, 0], xt[:, 1], s=6, color="C1", alpha=0.4, label="target (unlabelled)")
    u = np.linspace(-2.5, 3.0, 200)
    ax.plot(u, curvature * u**2, "k", lw=1.5, label="true boundary")
    for i, r in enumerate(rows):
        c = r.coef.cpu().numpy()
        if abs(c[2]) > 1e-12:
            ax.plot(u, -(c[0] + c[1] * u) / c[2], lw=2, color=f"C{i + 2}",
                    label=f"{_METHOD_LABELS[r.method]}: target acc {r.target_accuracy:.3f}")
    ax.set_xlim(-2.5, 3.0)
    ax.set_ylim(-2.5, 3.0)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- explorer
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
    >>> s = tllab.explorer_state()
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


def plot_explorer_state(state: ExplorerState, fig=None):
    r"""Draw an :class:`ExplorerState`: laws and weights (left), data and fits (right).

    Parameters
    ----------
    state : ExplorerState
    fig : matplotlib.figure.Figure, optional
        Cleared and redrawn (used by the animation); a new 9×3.4 in figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tllab
    >>> fig = tllab.plot_explorer_state(tllab.explorer_state())
    >>> len(fig.axes)  # laws (with a twin axis for the weights), data and fits
    3
    """
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    if not isinstance(state, ExplorerState):
        raise TypeError(f"state must be an ExplorerState; got {type(state).__name__}")
    if fig is None:
        fig = plt.figure(figsize=(9, 3.4))
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2)
    grid = np.linspace(-1.2, 2.0, 300)
    p = SHIMODAIRA
    ps = norm.pdf(grid, p["mu_s"], p["sigma_s"])
    pt = norm.pdf(grid, state.mu_t, state.sigma_t)
    ax1.fill_between(grid, ps, alpha=0.3, color="C0", label="source $p_s$")
    ax1.fill_between(grid, pt, alpha=0.3, color="C1", label="target $p_t$")
    ax1.set_ylim(0, 3.0)
    ax1.set_xlabel("x")
    ax1.set_ylabel("density")
    axw = ax1.twinx()
    ratio = np.exp(np.log(pt) - np.log(ps))
    axw.plot(grid, ratio, "k--", lw=1, label="true $w = p_t/p_s$")
    order = np.argsort(state.xs)
    axw.plot(state.xs[order], state.weights[order], ".", color="C3", ms=3,
             label=f"weights ({_METHOD_LABELS[state.method].split(' (')[0]}, γ={state.gamma:.2g})")
    axw.set_ylim(0, 8)
    axw.set_ylabel("weight")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = axw.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=7)
    ax1.set_title(f"target N({state.mu_t:.2f}, {state.sigma_t:.2f}²)   ESS = {state.ess:.0f}",
                  fontsize=9)
    sizes = 4 + 10 * state.weights
    ax2.scatter(state.xs, state.ys, s=sizes, color="C0", alpha=0.5, lw=0, label="source (size ∝ w)")
    lo, hi = state.mu_t - 2 * state.sigma_t, state.mu_t + 2 * state.sigma_t
    ax2.axvspan(lo, hi, color="C1", alpha=0.12, label="target ±2σ")
    xg = torch.as_tensor(grid)[:, None]
    ax2.plot(grid, cubic_function(xg).numpy(), "k", lw=1, label="truth $-x+x^3$")
    ax2.plot(grid, polynomial_predict(state.coef_plain, xg).numpy(), "C0", lw=2,
             label=f"unweighted (target risk {state.risk_plain:.3f})")
    ax2.plot(grid, polynomial_predict(state.coef_weighted, xg).numpy(), "C3", lw=2,
             label=f"weighted (target risk {state.risk_weighted:.3f})")
    ax2.set_xlim(grid[0], grid[-1])
    ax2.set_ylim(-1.5, 2.5)
    ax2.set_xlabel("x")
    ax2.set_ylabel("y")
    ax2.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    return fig


def instance_weighting_explorer(mu_t: float = 0.0, sigma_t: float = 0.3, gamma: float = 1.0,
                                method: str = "true"):
    r"""Live explorer: move the target law and the flattening, watch weights and fits.

    Sliders for the target mean and spread and for ``γ``, a menu for the ratio estimator.
    The default (Shimodaira's target ``N(0, 0.3²)``, the true ratio, ``γ = 1``) is the
    most telling picture: the unweighted line slopes the wrong way on the target while
    the weighted one follows the truth there.  Needs ``ipywidgets``.

    Parameters
    ----------
    mu_t, sigma_t, gamma : float
        Initial slider values.
    method : str, default="true"
        Initial estimator, one of ``"true"``, ``"kmm"``, ``"ulsif"``,
        ``"classifier_quadratic"``, ``"uniform"``.

    Returns
    -------
    ipywidgets.VBox
        The controls and an ``ipywidgets.Image`` holding the current picture as PNG (so
        the saved widget state shows it in a static page too).

    Examples
    --------
    >>> import tllab
    >>> ui = tllab.instance_weighting_explorer()  # doctest: +SKIP
    """
    try:
        import ipywidgets as widgets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("instance_weighting_explorer needs ipywidgets; use "
                          "explorer_jshtml() for a static version") from err
    import matplotlib.pyplot as plt

    # KLIEP is left out: far from the source it can need its full max_iter (seconds).
    choices = ["true", "kmm", "ulsif", "classifier_quadratic", "uniform"]
    method = check_choice(method, "method", choices)
    style = {"description_width": "initial"}
    w_mu = widgets.FloatSlider(value=check_real(mu_t, "mu_t"), min=-0.6, max=1.2, step=0.05,
                               description="target mean μ_t", style=style,
                               continuous_update=False)
    w_sd = widgets.FloatSlider(value=check_real(sigma_t, "sigma_t", low=0.0,
                                                low_inclusive=False),
                               min=0.1, max=0.8, step=0.05, description="target sd σ_t",
                               style=style, continuous_update=False)
    w_g = widgets.FloatSlider(value=check_real(gamma, "gamma", low=0.0), min=0.0, max=1.0,
                              step=0.1, description="flattening γ", style=style,
                              continuous_update=False)
    w_m = widgets.Dropdown(options=[(_METHOD_LABELS[c], c) for c in choices], value=method,
                           description="weights", style=style)
    image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="900px"))

    def redraw(*_):
        state = explorer_state(w_mu.value, w_sd.value, w_g.value, w_m.value)
        fig = plt.figure(figsize=(9, 3.4), dpi=100)
        plot_explorer_state(state, fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        image.value = buf.getvalue()

    for w in (w_mu, w_sd, w_g, w_m):
        w.observe(redraw, names="value")
    redraw()
    controls = widgets.HBox([widgets.VBox([w_mu, w_sd]), widgets.VBox([w_g, w_m])])
    return widgets.VBox([controls, image])


def explorer_animation(mu_values: Sequence[float] = tuple(np.round(np.linspace(-0.5, 1.0, 11), 2)),
                       *, sigma_t: float = 0.3, gamma: float = 1.0, method: str = "true",
                       dpi: int = 60):
    r"""Kernel-free fallback of the explorer: an animation over a grid of target means.

    One frame per value of ``mu_values`` (target ``N(μ, sigma_t²)``), precomputed with
    :func:`explorer_state` and drawn with :func:`plot_explorer_state`.

    Parameters
    ----------
    mu_values : sequence of float, default=11 values from −0.5 to 1.0
    sigma_t, gamma : float
    method : str, default="true"
    dpi : int, default=60
        Resolution of the frames (keeps the embedded HTML small).

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its figure is closed (so it is not displayed twice); render it with
        ``to_jshtml()`` or :func:`explorer_jshtml`.

    Examples
    --------
    >>> import tllab
    >>> anim = tllab.explorer_animation([0.0, 0.5])
    >>> len(list(anim.new_frame_seq()))
    2
    >>> html = anim.to_jshtml()  # render it (an unrendered animation warns when deleted)
    """
    mus = [check_real(m, "mu_values") for m in mu_values]
    if not mus:
        raise ValueError("mu_values must not be empty")
    dpi = check_int(dpi, "dpi", min_value=10)
    states = [explorer_state(m, sigma_t, gamma, method) for m in mus]
    return grid_animation(states, plot_explorer_state, figsize=(9, 3.4), dpi=dpi, interval=700)


def explorer_jshtml(mu_values: Sequence[float] = tuple(np.round(np.linspace(-0.5, 1.0, 11), 2)),
                    **kwargs: Any) -> str:
    r"""HTML (with JavaScript controls) of :func:`explorer_animation`; no kernel needed.

    Parameters
    ----------
    mu_values : sequence of float
    **kwargs
        Passed to :func:`explorer_animation`.

    Returns
    -------
    str
        Display it with ``IPython.display.HTML``.

    Examples
    --------
    >>> import tllab
    >>> html = tllab.explorer_jshtml([0.0, 0.5])
    >>> html.count("data:image/png;base64")
    2
    """
    return explorer_animation(mu_values, **kwargs).to_jshtml(default_mode="loop")
