"""Power-of-two rescaling: the one way :mod:`tllab` keeps squares and sums of huge or tiny
numbers inside the floating-point range.

Dividing by a power of two is exact (barring subnormal results), so a quantity computed on
``t / c`` and rescaled is bit-for-bit the one computed on ``t`` wherever the latter neither
overflows nor underflows; only the inputs that would have given inf, NaN or zeros change.
"""

from __future__ import annotations

import math

import torch

#: Magnitudes in ``[2**-24, 2**24]`` are left alone: their squares, summed over many
#: features, stay far from float32's overflow (~3e38) and underflow (~1e-38) thresholds.
_SAFE_LOW, _SAFE_HIGH = 2.0**-24, 2.0**24


def pow2_scale(*tensors: torch.Tensor | None, name: str = "the data") -> float:
    """``1.0`` when ``max |t|`` over all tensors lies in a safe range, else a power of two
    ``c`` with ``max |t| / c`` in ``[1, 2)``.

    Raises ``ValueError`` when the maximum is not finite (e.g. a centred sample that
    overflowed), naming ``name``.
    """
    m = 0.0
    for t in tensors:
        if t is not None and t.numel():
            m = max(m, float(t.detach().abs().amax()))
    if not math.isfinite(m):
        raise ValueError(f"{name} overflow their dtype once centred (values within a factor "
                         "of 2 of its largest number); rescale them or use float64")
    if m == 0.0 or _SAFE_LOW <= m <= _SAFE_HIGH:
        return 1.0
    return math.ldexp(1.0, math.frexp(m)[1] - 1)


def max_scale(t: torch.Tensor, dim: int | None = None, keepdim: bool = False) -> torch.Tensor:
    """The power of two at or just below ``max |t|`` (along ``dim``), 1 where that is 0.

    For rescaling non-negative weights or features before sums of squares: ``t / scale``
    has a largest magnitude in ``[1, 2)``.
    """
    a = t.detach().abs()
    m = a.amax() if dim is None else a.amax(dim=dim, keepdim=keepdim)
    _, e = torch.frexp(m)
    return torch.where(m > 0, torch.exp2((e - 1).to(m.dtype)), torch.ones_like(m))
