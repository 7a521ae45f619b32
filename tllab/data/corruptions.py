r"""Deterministic image corruptions that mimic the usual causes of shift.

Sensor noise (:func:`add_sensor_noise`), lighting (:func:`adjust_brightness_contrast`),
slowly drifting orientation (:func:`rotate_images`) and defocus (:func:`gaussian_blur`);
each keeps the images' shape, dtype and device.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._checks import (
    check_real,
)
from ._common import _generator

__all__ = [
    "rotate_images",
    "adjust_brightness_contrast",
    "add_sensor_noise",
    "gaussian_blur",
]


def _float_tensor(images, name: str = "images", *, min_ndim: int = 0) -> torch.Tensor:
    """A finite floating tensor from ``images`` (tensors keep their device and dtype)."""
    if isinstance(images, (str, bytes, dict)) or images is None:
        raise TypeError(f"{name} must be an array-like or a torch.Tensor; got "
                        f"{type(images).__name__}")
    try:
        t = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a numeric array-like or a torch.Tensor") from err
    if t.is_complex():
        raise TypeError(f"{name} must be real-valued; got {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    if t.ndim < min_ndim:
        raise ValueError(f"{name} must have shape (..., height, width); got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite")
    return t


def rotate_images(images, degrees: float) -> torch.Tensor:
    r"""Rotate square images about their centre by ``degrees``, counter-clockwise as shown.

    "As shown" means with row 0 at the top (``plt.imshow``): ``degrees=90`` equals
    ``torch.rot90(images, 1, dims=(-2, -1))``.  Pixels are resampled bilinearly
    (``torch.nn.functional.grid_sample``, ``align_corners=False``) and the corners that
    come from outside the image are filled with 0 (background).  Deterministic, and
    differentiable in the images.

    Parameters
    ----------
    images : array-like of shape (..., h, h)
        One image or a batch (any leading dimensions).
    degrees : float

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as the input.

    Examples
    --------
    >>> import torch, tllab
    >>> img = torch.arange(16.0).reshape(4, 4)
    >>> bool(torch.allclose(tllab.data.rotate_images(img, 90), torch.rot90(img, 1)))
    True
    """
    x = _float_tensor(images, min_ndim=2)
    degrees = check_real(degrees, "degrees")
    h, w = x.shape[-2:]
    if h != w:
        raise ValueError(f"images must be square; got height {h} and width {w}")
    return _warp(x, torch.tensor(degrees, dtype=torch.float64), torch.tensor(1.0,
                                                                        dtype=torch.float64))


def _warp(x: torch.Tensor, degrees: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Rotate square images ``(..., h, h)`` by ``degrees`` (counter-clockwise as shown) and
    zoom them by ``scale`` about their centre; ``degrees`` and ``scale`` (float64) are scalars
    or hold one value per image of the first axis (shared by any further leading axes)."""
    h, w = x.shape[-2:]
    lead = x.shape[:-2]
    batch = x.reshape(-1, 1, h, w)
    a, z = torch.broadcast_tensors(torch.deg2rad(degrees.reshape(-1)), scale.reshape(-1))
    if a.numel() > 1:
        per = math.prod(lead[1:])
        a, z = a.repeat_interleave(per), z.repeat_interleave(per)
    c, s = torch.cos(a) / z, torch.sin(a) / z
    # grid_sample maps each output location (u right, v down, in [-1, 1]) to the input
    # location theta @ (u, v, 1); a visual counter-clockwise turn in (u, v-down) coordinates
    # sends output (u, v) back to input (c u - s v, s u + c v); a zoom by z divides by z.
    zero = torch.zeros_like(c)
    theta = torch.stack([torch.stack([c, -s, zero], -1), torch.stack([s, c, zero], -1)], -2)
    theta = theta.to(dtype=x.dtype, device=x.device).expand(batch.shape[0], 2, 3)
    grid = torch.nn.functional.affine_grid(theta, list(batch.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros",
                                          align_corners=False)
    return out.reshape(*lead, h, w)


def adjust_brightness_contrast(images, brightness: float = 0.0, contrast: float = 1.0, *,
                               clip: bool = False) -> torch.Tensor:
    r"""Change the lighting: ``out = contrast · (x − 0.5) + 0.5 + brightness``.

    For intensities in ``[0, 1]``: ``contrast < 1`` pulls every pixel towards mid-grey
    (a washed-out, low-gain picture), ``brightness > 0`` lifts all of them (glare).
    ``brightness=0, contrast=1`` is the identity.

    Parameters
    ----------
    images : array-like
        Any shape; intensities nominally in ``[0, 1]``.
    brightness : float, default=0.0
        Added offset.
    contrast : float >= 0, default=1.0
        Gain about mid-grey 0.5.
    clip : bool, default=False
        Clip the result to ``[0, 1]``.

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as the input.

    Examples
    --------
    >>> import torch, tllab
    >>> tllab.data.adjust_brightness_contrast(torch.tensor([0.0, 1.0]), 0.1, 0.5)
    tensor([0.3500, 0.8500])
    """
    x = _float_tensor(images)
    brightness = check_real(brightness, "brightness")
    contrast = check_real(contrast, "contrast", low=0.0)
    out = contrast * (x - 0.5) + 0.5 + brightness
    return out.clamp(0.0, 1.0) if clip else out


def add_sensor_noise(images, std: float, *, seed: int = 0, clip: bool = False) -> torch.Tensor:
    r"""Add independent Gaussian pixel noise of standard deviation ``std`` (sensor noise).

    The noise is drawn on the CPU from a generator seeded by ``seed`` and then moved to
    the images' device, so it is the same on every device.

    Parameters
    ----------
    images : array-like
        Any shape.
    std : float >= 0
    seed : int, default=0
    clip : bool, default=False
        Clip the result to ``[0, 1]`` (a sensor saturates); this lowers the effective noise
        level near 0 and 1.

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as the input.

    Examples
    --------
    >>> import torch, tllab
    >>> noisy = tllab.data.add_sensor_noise(torch.zeros(100_000), std=0.2, seed=0)
    >>> round(float(noisy.std()), 2)
    0.2
    """
    x = _float_tensor(images)
    std = check_real(std, "std", low=0.0)
    eps = torch.randn(x.shape, generator=_generator(seed), dtype=torch.float64)
    out = x + std * eps.to(device=x.device, dtype=x.dtype)
    return out.clamp(0.0, 1.0) if clip else out


def gaussian_blur(images, sigma) -> torch.Tensor:
    r"""Blur images with a Gaussian of standard deviation ``sigma`` pixels (defocus).

    A separable convolution with the kernel ``exp(−u² / (2σ²))``, normalised to sum to one
    and truncated at radius ``int(3σ + 0.5)`` pixels; pixels outside the image count as 0
    (background), so ink near the border partly leaves the frame.  For a scalar ``sigma``
    this is ``scipy.ndimage.gaussian_filter(x, sigma, mode="constant", truncate=3.0)`` over
    the last two axes.  ``sigma=0`` returns the images unchanged.

    Parameters
    ----------
    images : array-like of shape (..., h, w)
    sigma : float >= 0, or array-like of shape (n,)
        One standard deviation for all images, or one per image along the first axis (then
        the kernels share the radius of the largest ``sigma``).

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as the input.

    Examples
    --------
    >>> import torch, tllab
    >>> img = torch.zeros(9, 9); img[4, 4] = 1.0
    >>> out = tllab.data.gaussian_blur(img, 1.0)
    >>> round(float(out.sum()), 4), bool(out[4, 4] < 1.0)
    (1.0, True)
    """
    x = _float_tensor(images, min_ndim=2)
    if isinstance(sigma, (int, float, np.integer, np.floating)) and not isinstance(sigma, bool):
        sig = torch.tensor([check_real(sigma, "sigma", low=0.0)], dtype=torch.float64)
    else:
        sig = _float_tensor(sigma, "sigma").to(torch.float64)
        if sig.ndim != 1 or x.ndim < 3 or sig.shape[0] != x.shape[0]:
            raise ValueError("sigma must be a number or have one entry per image (shape "
                             f"({x.shape[0] if x.ndim >= 3 else 'n'},)); got shape "
                             f"{tuple(sig.shape)} for images of shape {tuple(x.shape)}")
        if bool((sig < 0).any()):
            raise ValueError(f"sigma must be >= 0; got {float(sig.min())}")
    radius = int(3.0 * float(sig.max()) + 0.5)
    if radius == 0:
        return x.clone()
    u = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (u / sig.clamp_min(1e-12).unsqueeze(1)) ** 2)
    k = (k / k.sum(1, keepdim=True)).to(device=x.device, dtype=x.dtype)
    h, w = x.shape[-2:]
    if sig.numel() == 1:  # one kernel: every image is a batch entry
        batch = x.reshape(-1, 1, h, w)
        kh, kw, groups = k.reshape(1, 1, -1, 1), k.reshape(1, 1, 1, -1), 1
    else:  # one kernel per image: images (and their extra axes) become channels
        per = x[0].numel() // (h * w)
        batch = x.reshape(1, -1, h, w)
        k = k.repeat_interleave(per, dim=0)
        kh, kw, groups = k.reshape(-1, 1, k.shape[1], 1), k.reshape(-1, 1, 1, k.shape[1]), \
            batch.shape[1]
    conv = torch.nn.functional.conv2d
    out = conv(conv(batch, kh, padding=(radius, 0), groups=groups), kw, padding=(0, radius),
               groups=groups)
    return out.reshape(x.shape)
