r"""Label-preserving random image transforms for data augmentation.

Each transform draws one set of parameters per image (the first axis) from a CPU generator
seeded by ``seed`` and applies it; the images keep their shape, dtype and device, and a
digit turned by 10° is still the same digit, so the labels are unchanged:

* :func:`random_rotation`: a turn by an angle drawn uniformly from a range (the resampling
  of :func:`~tllab.data.corruptions.rotate_images`);
* :func:`random_scaling`: a zoom about the centre by a factor drawn from a range;
* :func:`random_crop`: pad with background, cut out a window at a random integer offset
  (a random translation by up to ``padding`` pixels, no interpolation);
* noise: :func:`~tllab.data.corruptions.add_sensor_noise`.

:func:`augment_images` composes them and returns an enlarged training set with its labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._checks import check_int, check_real
from ._common import _generator
from .corruptions import _float_tensor, _warp, add_sensor_noise

__all__ = [
    "random_rotation",
    "random_scaling",
    "random_crop",
    "augment_images",
]


def _range(value, name: str, *, symmetric_about: float | None, low: float | None = None):
    """``(lo, hi)`` from a number (``±value`` about ``symmetric_about``) or a pair."""
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
        if len(value) != 2:
            raise ValueError(f"{name} must be a number or a pair (low, high); got {len(value)} "
                             "values")
        lo = check_real(value[0], f"{name}[0]", low=low, low_inclusive=False)
        hi = check_real(value[1], f"{name}[1]", low=low, low_inclusive=False)
    elif symmetric_about is None:
        raise TypeError(f"{name} must be a pair (low, high); got {value!r}")
    else:
        v = check_real(value, name, low=0.0)
        lo, hi = symmetric_about - v, symmetric_about + v
    if lo > hi:
        raise ValueError(f"{name} must have low <= high; got ({lo}, {hi})")
    return lo, hi


def _images(images) -> torch.Tensor:
    x = _float_tensor(images, min_ndim=3)
    h, w = x.shape[-2:]
    if h != w:
        raise ValueError(f"images must be square; got height {h} and width {w}")
    if x.shape[0] == 0:
        raise ValueError("images must contain at least one image")
    return x


def _uniform(n: int, lo: float, hi: float, seed: int) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=_generator(seed), dtype=torch.float64)


def random_rotation(images, degrees=15.0, *, seed: int = 0) -> torch.Tensor:
    r"""Rotate each image by its own angle drawn uniformly from a range of degrees.

    Parameters
    ----------
    images : array-like of shape (n, ..., h, h)
        A batch of square images; any axes between the first and the last two (e.g.
        channels) share the image's angle.
    degrees : float >= 0 or (float, float), default=15.0
        ``d`` means angles in ``[−d, d]``; a pair ``(low, high)`` gives the range itself
        (``low == high`` rotates every image by that angle, as
        :func:`~tllab.data.corruptions.rotate_images` does).
    seed : int >= 0, default=0

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``images``.

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.rand(4, 8, 8)
    >>> out = tllab.data.random_rotation(x, (90, 90))
    >>> bool(torch.allclose(out, torch.rot90(x, 1, dims=(-2, -1)), atol=1e-6))
    True
    """
    x = _images(images)
    lo, hi = _range(degrees, "degrees", symmetric_about=0.0)
    seed = check_int(seed, "seed", min_value=0)
    return _warp(x, _uniform(x.shape[0], lo, hi, seed), torch.ones((), dtype=torch.float64))


def random_scaling(images, scale=(0.9, 1.1), *, seed: int = 0) -> torch.Tensor:
    r"""Zoom each image about its centre by its own factor drawn uniformly from a range.

    A factor above 1 enlarges the content (the border is cut off), below 1 shrinks it (the
    border is filled with background 0).  Bilinear resampling, as for rotations.

    Parameters
    ----------
    images : array-like of shape (n, ..., h, h)
    scale : (float, float), default=(0.9, 1.1)
        ``(low, high)`` with ``0 < low <= high``.
    seed : int >= 0, default=0

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``images``.

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.rand(3, 8, 8)
    >>> bool(torch.allclose(tllab.data.random_scaling(x, (1.0, 1.0)), x, atol=1e-6))
    True
    """
    x = _images(images)
    lo, hi = _range(scale, "scale", symmetric_about=None, low=0.0)
    seed = check_int(seed, "seed", min_value=0)
    return _warp(x, torch.zeros((), dtype=torch.float64), _uniform(x.shape[0], lo, hi, seed))


def random_crop(images, padding: int = 1, *, seed: int = 0) -> torch.Tensor:
    r"""Pad each image with ``padding`` pixels of background and cut out a random window.

    Equivalently, shift each image by its own integer offset ``(dy, dx)``, each drawn
    uniformly from ``{−padding, …, padding}``: ``out[r, c] = image[r + dy, c + dx]``, 0 where
    that falls outside.  No interpolation: pixel values are copied.

    Parameters
    ----------
    images : array-like of shape (n, ..., h, w)
    padding : int >= 0, default=1
    seed : int >= 0, default=0

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``images``.

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.arange(9.0).reshape(1, 3, 3)
    >>> out = tllab.data.random_crop(x, 1, seed=0)
    >>> out.shape, bool(torch.isin(out[out != 0], x).all())
    (torch.Size([1, 3, 3]), True)
    """
    x = _float_tensor(images, min_ndim=3)
    if x.shape[0] == 0:
        raise ValueError("images must contain at least one image")
    padding = check_int(padding, "padding", min_value=0)
    seed = check_int(seed, "seed", min_value=0)
    n, (h, w) = x.shape[0], x.shape[-2:]
    offsets = torch.randint(-padding, padding + 1, (n, 2), generator=_generator(seed))
    offsets = offsets.to(x.device)
    padded = torch.nn.functional.pad(x, (padding, padding, padding, padding))
    rows = padding + offsets[:, :1] + torch.arange(h, device=x.device)   # (n, h)
    cols = padding + offsets[:, 1:] + torch.arange(w, device=x.device)   # (n, w)
    flat = padded.reshape(n, -1, h + 2 * padding, w + 2 * padding)
    idx = torch.arange(n, device=x.device)[:, None, None]
    out = flat.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]]  # (n, h, w, c)
    return out.permute(0, 3, 1, 2).reshape(x.shape)


def augment_images(
    images,
    labels,
    *,
    copies: int = 1,
    rotation=0.0,
    scale=(1.0, 1.0),
    crop: int = 0,
    noise_std: float = 0.0,
    keep_original: bool = True,
    clip: bool = True,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""An augmented training set: the images plus ``copies`` randomly transformed copies.

    Every copy applies, in this order, :func:`random_rotation` (``rotation``),
    :func:`random_scaling` (``scale``), :func:`random_crop` (``crop``) and
    :func:`~tllab.data.corruptions.add_sensor_noise` (``noise_std``), each with its own seed
    derived from ``seed``; transforms left at their defaults are skipped.  The labels are
    repeated: the transforms do not change what the image shows.

    Parameters
    ----------
    images : array-like of shape (n, ..., h, h)
    labels : array-like of shape (n,) or (n, k)
    copies : int >= 0, default=1
    rotation : float >= 0 or (float, float), default=0.0
        Degrees, as in :func:`random_rotation`.
    scale : (float, float), default=(1.0, 1.0)
    crop : int >= 0, default=0
        Padding of :func:`random_crop`.
    noise_std : float >= 0, default=0.0
    keep_original : bool, default=True
        Put the untouched images first (``(copies + 1)·n`` images in all); otherwise only
        the ``copies·n`` transformed ones.
    clip : bool, default=True
        Clip the transformed images to ``[0, 1]`` (intensities of the digit domains).
    seed : int >= 0, default=0

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Images (same dtype and device, ``n·(copies + keep_original)`` of them) and labels.

    Examples
    --------
    >>> import tllab
    >>> x, y = tllab.data.load_digits_domain("source", flatten=False)
    >>> xa, ya = tllab.data.augment_images(x, y, copies=2, rotation=20, seed=0)
    >>> xa.shape, bool((ya[:899] == ya[899:1798]).all())
    (torch.Size([2697, 8, 8]), True)
    """
    x = _images(images)
    n = x.shape[0]
    if isinstance(labels, (str, bytes, dict)) or labels is None:
        raise TypeError(f"labels must be an array-like; got {type(labels).__name__}")
    y = labels if isinstance(labels, torch.Tensor) else torch.as_tensor(np.asarray(labels))
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) or ({n}, k) to match images; got "
                         f"{tuple(y.shape)}")
    copies = check_int(copies, "copies", min_value=0)
    rot = _range(rotation, "rotation", symmetric_about=0.0)
    zoom = _range(scale, "scale", symmetric_about=None, low=0.0)
    crop = check_int(crop, "crop", min_value=0)
    noise_std = check_real(noise_std, "noise_std", low=0.0)
    for name, flag in (("keep_original", keep_original), ("clip", clip)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool; got {flag!r}")
    seed = check_int(seed, "seed", min_value=0)
    if copies == 0 and not keep_original:
        raise ValueError("copies=0 with keep_original=False leaves no images")
    seeds = torch.randint(0, 2**31 - 1, (copies, 4), generator=_generator(seed)).tolist()
    xs, ys = ([x], [y]) if keep_original else ([], [])
    for s_rot, s_zoom, s_crop, s_noise in seeds:
        z = x
        if rot != (0.0, 0.0):
            z = random_rotation(z, rot, seed=s_rot)
        if zoom != (1.0, 1.0):
            z = random_scaling(z, zoom, seed=s_zoom)
        if crop > 0:
            z = random_crop(z, crop, seed=s_crop)
        if noise_std > 0:
            z = add_sensor_noise(z, noise_std, seed=s_noise)
        xs.append(z.clamp(0.0, 1.0) if clip else z)
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)
