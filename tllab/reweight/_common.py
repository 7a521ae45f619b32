"""Helpers shared by the density-ratio estimators."""

from __future__ import annotations

import torch

from .._checks import (
    check_precision,
    check_samples,
)
from ..device import as_tensor
from ..kernels import (
    _centre,
    _tile,
)


def _work_dtype(device: torch.device) -> torch.dtype:
    """Float64 for the solvers' iterates, except on MPS which has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


def _check_weights(w, name: str = "w") -> torch.Tensor:
    """A 1-D, finite, non-negative, not-all-zero weight vector."""
    if isinstance(w, (str, bytes, dict)) or w is None:
        raise TypeError(f"{name} must be an array-like or a torch.Tensor; got {type(w).__name__}")
    try:
        t = as_tensor(w)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a numeric array-like; got {type(w).__name__}") from err
    if t.is_complex():
        raise TypeError(f"{name} must be real-valued; got complex dtype {t.dtype}")
    check_precision(t, name)
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (n,); got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite; found {int((~torch.isfinite(t)).sum())} "
                         "NaN/inf entries")
    if bool((t < 0).any()):
        raise ValueError(f"{name} must be non-negative; smallest entry is {float(t.min()):.4g}")
    if float(t.sum()) <= 0:
        raise ValueError(f"{name} must have a positive sum; got all zeros")
    return t


def _gaussian_features(x, centres, bandwidths) -> torch.Tensor:
    """``Phi[i, l] = k(x_i, c_l)`` (sum over the bandwidths), from centred inputs."""
    xc, cc = _centre(x, centres)
    return _tile(xc, cc, (xc * xc).sum(1), (cc * cc).sum(1), "gaussian", bandwidths)


def _ratio_function(centres, bandwidths, alpha, work):
    """``ŵ(x) = Σ_l α_l k(x, c_l)`` as a callable on new points."""

    def ratio(x) -> torch.Tensor:
        x = check_samples(x, "x").to(centres.device)
        if x.shape[1] != centres.shape[1]:
            raise ValueError(f"x must have {centres.shape[1]} features; got {x.shape[1]}")
        with torch.no_grad():
            phi = _gaussian_features(x.to(centres.dtype), centres, bandwidths).to(work)
            return (phi @ alpha).to(x.dtype)

    return ratio


def _pick_centres(xt: torch.Tensor, n_basis: int, seed: int) -> torch.Tensor:
    if xt.shape[0] <= n_basis:
        return xt
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(xt.shape[0], generator=gen)[:n_basis].to(xt.device)
    return xt[idx]
