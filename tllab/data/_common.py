"""The sample container and seeding helpers shared by the generators."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .._checks import (
    check_int,
)

__all__ = [
    "DomainPair",
]


class DomainPair(NamedTuple):
    """A labelled source sample and a labelled target sample.

    Unpacks as ``xs, ys, xt, yt = pair``.
    """

    xs: torch.Tensor
    """Source inputs, shape ``(n_source, d)``."""
    ys: torch.Tensor
    """Source labels (``torch.long``), shape ``(n_source,)``."""
    xt: torch.Tensor
    """Target inputs, shape ``(n_target, d)``."""
    yt: torch.Tensor
    """Target labels (``torch.long``), shape ``(n_target,)``."""


def _generator(seed) -> torch.Generator:
    return torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))


def _sizes(n, n_target) -> tuple[int, int]:
    n = check_int(n, "n", min_value=1)
    m = n if n_target is None else check_int(n_target, "n_target", min_value=1)
    return n, m


def _check_dtype(dtype) -> torch.dtype:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype; got {dtype!r}")
    return dtype


def _finish(pair: tuple, dtype, device) -> DomainPair:
    dtype = _check_dtype(dtype)
    xs, ys, xt, yt = pair
    return DomainPair(xs.to(device=device, dtype=dtype), ys.to(device=device),
                      xt.to(device=device, dtype=dtype), yt.to(device=device))


def _rotation_matrix(degrees: float) -> torch.Tensor:
    a = math.radians(degrees)
    return torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]],
                        dtype=torch.float64)
