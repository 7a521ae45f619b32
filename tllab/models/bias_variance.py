r"""The bias–variance decomposition of the expected squared error of a learning procedure.

Train the same procedure on ``R`` independent training sets and predict at ``m`` evaluation
points ``x_j`` drawn from (or forming a quadrature rule for) a law ``p``; with
``y = f(x) + ε``, ``Var ε = σ²``, the expected squared error on a fresh point of ``p`` splits
into

.. math::

    \underbrace{\mathbb{E}_D\,\mathbb{E}_{x \sim p}\bigl[(\hat f_D(x) - y)^2\bigr]}_{\text{error}}
    = \underbrace{\mathbb{E}_{x}\bigl[(\bar f(x) - f(x))^2\bigr]}_{\text{bias}^2}
    + \underbrace{\mathbb{E}_{x}\,\mathbb{E}_D\bigl[(\hat f_D(x) - \bar f(x))^2\bigr]}_{\text{var}}
    + \sigma^2,
    \qquad \bar f = \mathbb{E}_D \hat f_D .

Bias and variance are properties of the *procedure* over repeated training sets, not of one
fitted model: one fit has an error, not a bias.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._checks import check_real, check_vector
from ..device import as_tensor

__all__ = ["BiasVariance", "bias_variance_decomposition"]


class BiasVariance(NamedTuple):
    """The terms of :func:`bias_variance_decomposition` (0-d tensors unless noted)."""

    error: torch.Tensor
    """Expected squared error ``bias2 + variance + noise``."""
    bias2: torch.Tensor
    """Squared bias averaged over the evaluation law."""
    variance: torch.Tensor
    """Variance over training sets averaged over the evaluation law."""
    noise: torch.Tensor
    """The irreducible error ``σ²`` (the ``noise_var`` passed in)."""
    pointwise_bias2: torch.Tensor
    """Squared bias at each evaluation point, shape ``(m,)``."""
    pointwise_variance: torch.Tensor
    """Variance at each evaluation point, shape ``(m,)``."""


def bias_variance_decomposition(
    predictions, truth, *, noise_var: float = 0.0, weights=None, unbiased: bool = True
) -> BiasVariance:
    r"""Split the expected squared error of a learning procedure into bias², variance and noise.

    ``predictions[r, j]`` is the prediction at the evaluation point ``x_j`` of the model
    trained on the ``r``-th of ``R`` independent training sets; ``truth[j] = f(x_j)`` is the
    noise-free target.  With ``p̄_j`` the mean over training sets and ``s²_j`` their variance,

    * ``unbiased=False`` (plug-in): ``variance_j = (1/R) Σ_r (p_rj − p̄_j)²`` and
      ``bias2_j = (p̄_j − f_j)²``;
    * ``unbiased=True`` (default): ``variance_j = (1/(R−1)) Σ_r (p_rj − p̄_j)²`` and
      ``bias2_j = (p̄_j − f_j)² − variance_j / R``.  Both terms are then unbiased estimates
      of the population bias² and variance at ``x_j`` (the plug-in bias² is inflated by
      ``variance/R``), and the unbiased bias² can be slightly negative when the bias is small.

    In both cases ``bias2_j + variance_j = (1/R) Σ_r (p_rj − f_j)²`` exactly, so the terms
    always add up to the observed mean squared error.  The law-level terms are averages
    over the evaluation points with ``weights`` (normalised to sum to 1): equal weights for
    points sampled from the law, or the weights of a quadrature rule for it.

    Parameters
    ----------
    predictions : array-like of shape (R, m)
        ``R >= 2`` training sets, ``m >= 1`` evaluation points.
    truth : array-like of shape (m,)
        ``f(x_j)``, the regression function at the evaluation points.
    noise_var : float >= 0, default=0.0
        ``σ²``, the variance of the label noise (the Bayes error).
    weights : array-like of shape (m,), optional
        Non-negative weights of the evaluation points (default: equal).
    unbiased : bool, default=True

    Returns
    -------
    BiasVariance
        ``error = bias2 + variance + noise`` and the pointwise terms, on ``predictions``'s
        device and dtype.

    Examples
    --------
    >>> import torch, tllab
    >>> preds = torch.tensor([[1.0, 2.0], [3.0, 2.0]])   # two fits, two points
    >>> bv = tllab.models.bias_variance_decomposition(preds, [1.0, 1.0], unbiased=False)
    >>> float(bv.bias2), float(bv.variance), float(bv.error)   # (1+1)/2, (1+0)/2
    (1.0, 0.5, 1.5)
    """
    if isinstance(predictions, (str, bytes, dict)) or predictions is None:
        raise TypeError("predictions must be an array-like of shape (R, m); got "
                        f"{type(predictions).__name__}")
    p = as_tensor(predictions)
    if p.is_complex():
        raise TypeError(f"predictions must be real-valued; got {p.dtype}")
    if p.ndim != 2:
        raise ValueError("predictions must be 2-D with shape (n_training_sets, n_points); got "
                         f"shape {tuple(p.shape)}")
    n_sets, m = p.shape
    if n_sets < 2:
        raise ValueError(f"predictions must hold at least 2 training sets (rows); got {n_sets}")
    if m < 1:
        raise ValueError("predictions must have at least one evaluation point (column)")
    if not bool(torch.isfinite(p).all()):
        raise ValueError("predictions must be finite")
    f = check_vector(truth, "truth", m).to(device=p.device, dtype=p.dtype)
    noise_var = check_real(noise_var, "noise_var", low=0.0)
    if not isinstance(unbiased, bool):
        raise TypeError(f"unbiased must be a bool; got {unbiased!r}")
    if weights is None:
        w = p.new_full((m,), 1.0 / m)
    else:
        w = check_vector(weights, "weights", m).to(device=p.device, dtype=p.dtype)
        if bool((w < 0).any()):
            raise ValueError(f"weights must be non-negative; smallest is {float(w.min()):.4g}")
        if float(w.sum()) <= 0:
            raise ValueError("weights must have a positive sum")
        w = w / w.sum()
    mean = p.mean(0)
    var = p.var(0, correction=1 if unbiased else 0)
    bias2 = (mean - f) ** 2 - (var / n_sets if unbiased else 0.0)
    b, v = (w * bias2).sum(), (w * var).sum()
    noise = p.new_tensor(noise_var)
    return BiasVariance(error=b + v + noise, bias2=b, variance=v, noise=noise,
                        pointwise_bias2=bias2, pointwise_variance=var)
