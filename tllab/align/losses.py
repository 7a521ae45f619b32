r"""Differentiable alignment losses for deep domain adaptation: Deep CORAL and MMD.

Both compare a batch of source features ``fs`` (shape ``(n, d)``) with a batch of target
features ``ft`` (shape ``(m, d)``; ``m`` may differ from ``n``) and are added, times a weight,
to the source classification loss, so that the feature extractor learns a representation in
which the two domains look alike.  Each comes as a function and as an ``nn.Module``.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_choice, check_positive_scalars, check_sample_pair
from ..divergence import mmd2
from ..kernels import KERNELS

__all__ = ["coral_loss", "mmd_loss", "CORALLoss", "MMDLoss"]

MMD_LOSS_ESTIMATORS = ("unbiased", "biased", "linear")


def _covariance(f: torch.Tensor) -> torch.Tensor:
    """Unbiased sample covariance ``(F - mean)ᵀ (F - mean) / (n - 1)`` of the rows of ``f``."""
    fc = f - f.mean(0, keepdim=True)
    return fc.T @ fc / (f.shape[0] - 1)


def coral_loss(fs, ft) -> torch.Tensor:
    r"""Deep CORAL loss ``||C_s - C_t||_F² / (4 d²)`` (Sun & Saenko, 2016).

    ``C_s`` and ``C_t`` are the unbiased covariance matrices (divisor ``n - 1``) of the
    source and target feature batches and ``d`` is the number of features.  The loss is zero
    exactly when the two batches have the same second moments about their means; it ignores
    the means themselves.

    Parameters
    ----------
    fs : array-like of shape (n, d)
        Source features, ``n >= 2``.
    ft : array-like of shape (m, d)
        Target features, ``m >= 2`` (``m`` may differ from ``n``).

    Returns
    -------
    torch.Tensor
        0-d tensor on the inputs' device, differentiable with respect to both.

    Examples
    --------
    >>> import torch
    >>> from tllab.align import coral_loss
    >>> fs = torch.randn(64, 8, requires_grad=True)
    >>> loss = coral_loss(fs, 3 * torch.randn(48, 8))
    >>> loss.backward()
    >>> bool(loss > 0) and fs.grad.shape == (64, 8)
    True
    """
    fs, ft = check_sample_pair(fs, ft, ("fs", "ft"), min_samples=2)
    d = fs.shape[1]
    diff = _covariance(fs) - _covariance(ft)
    return (diff * diff).sum() / (4.0 * d * d)


def mmd_loss(fs, ft, *, bandwidth="median", estimator: str = "unbiased",
             kernel: str = "gaussian") -> torch.Tensor:
    r"""Squared MMD between two feature batches, as a training loss (DDC / DAN).

    This is :func:`tllab.mmd2` (Gaussian kernel ``exp(-||x - y||² / (2σ²))`` by default)
    with its tiled, closed-form gradient.  A list of bandwidths sums the kernels, the
    multi-kernel MMD of DAN (Long et al., 2015) with fixed equal weights.  With
    ``bandwidth="median"`` σ is the median pairwise distance of the pooled batch,
    recomputed for every batch and treated as a constant (no gradient flows through it).

    The default unbiased estimator can be slightly negative when the batches already look
    alike; that is expected and harmless for training.

    Parameters
    ----------
    fs : array-like of shape (n, d)
    ft : array-like of shape (m, d)
        ``n, m >= 2``; they may differ.
    bandwidth : "median", float or sequence of float, default="median"
    estimator : {"unbiased", "biased", "linear"}, default="unbiased"
    kernel : {"gaussian", "laplacian"}, default="gaussian"

    Returns
    -------
    torch.Tensor
        0-d tensor on the inputs' device, differentiable with respect to both.

    Examples
    --------
    >>> import torch
    >>> from tllab.align import mmd_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> fs = torch.randn(100, 4, generator=g); ft = torch.randn(80, 4, generator=g) + 2
    >>> float(mmd_loss(fs, ft, bandwidth=[0.5, 1.0, 2.0])) > 0.5
    True
    """
    estimator = check_choice(estimator, "estimator", MMD_LOSS_ESTIMATORS)
    fs, ft = check_sample_pair(fs, ft, ("fs", "ft"), min_samples=2)
    return mmd2(fs, ft, kernel=kernel, bandwidth=bandwidth, estimator=estimator)


class CORALLoss(nn.Module):
    """Deep CORAL loss as a module; ``CORALLoss()(fs, ft) == coral_loss(fs, ft)``.

    Examples
    --------
    >>> import torch
    >>> from tllab.align import CORALLoss
    >>> x = torch.randn(32, 5)
    >>> float(CORALLoss()(x, x))
    0.0
    """

    def forward(self, fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
        """:func:`coral_loss` of the two feature batches."""
        return coral_loss(fs, ft)


class MMDLoss(nn.Module):
    """MMD² loss as a module; see :func:`mmd_loss` for the parameters.

    Examples
    --------
    >>> import torch
    >>> from tllab.align import MMDLoss
    >>> loss = MMDLoss(bandwidth=[1.0, 2.0], estimator="biased")
    >>> x = torch.randn(16, 3)
    >>> float(loss(x, x))
    0.0
    """

    def __init__(self, bandwidth="median", estimator: str = "unbiased",
                 kernel: str = "gaussian") -> None:
        super().__init__()
        self.estimator = check_choice(estimator, "estimator", MMD_LOSS_ESTIMATORS)
        if isinstance(bandwidth, str):
            check_choice(bandwidth, "bandwidth", ("median",))
        else:
            check_positive_scalars(bandwidth, "bandwidth")
        self.bandwidth = bandwidth
        self.kernel = check_choice(kernel, "kernel", KERNELS)

    def forward(self, fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
        """:func:`mmd_loss` of the two feature batches with this module's settings."""
        return mmd_loss(fs, ft, bandwidth=self.bandwidth, estimator=self.estimator,
                        kernel=self.kernel)

    def extra_repr(self) -> str:
        return f"bandwidth={self.bandwidth!r}, estimator={self.estimator!r}"
