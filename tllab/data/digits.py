r"""Digit domains built on scikit-learn's bundled 8×8 handwritten digits (nothing downloaded).

``sklearn.datasets.load_digits`` (1 797 images) split once into two fixed halves;
:func:`load_digits_domain` applies the corruptions of :mod:`tllab.data.corruptions` to one
half, :func:`digit_domains` returns a clean source half and a transformed target half for a
named cause.  When the digits are the *target* domain of a transfer problem (the image
recognition chapter, whose source is :func:`tllab.data.render_digits`), the same two halves
serve as its ``"train"`` and ``"test"`` splits.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .._checks import (
    check_choice,
    check_real,
)
from ._common import DomainPair, _check_dtype
from .corruptions import add_sensor_noise, adjust_brightness_contrast, gaussian_blur, rotate_images

__all__ = [
    "DIGIT_CAUSES",
    "load_digits_domain",
    "digit_shift_params",
    "digit_domains",
]


#: The named causes of shift of :func:`digit_domains` and their transform parameters at
#: ``severity=1`` (``noise_std``, ``brightness`` and ``rotation`` in degrees scale linearly
#: with the severity; ``contrast`` moves linearly from 1).
DIGIT_CAUSES: dict[str, dict[str, float]] = {
    "none": {},
    "sensor": {"noise_std": 0.2, "contrast": 0.8},
    "environment": {"brightness": 0.2, "contrast": 0.5},
    "drift": {"rotation": 30.0},
}


_SPLIT_SEED = 0  # the fixed source / target split of the 1 797 digits


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float64) / 16.0  # intensities 0..16 -> [0, 1]
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(labels))
    return images, labels, order


def load_digits_domain(
    split: str = "all",
    *,
    noise_std: float = 0.0,
    brightness: float = 0.0,
    contrast: float = 1.0,
    rotation: float = 0.0,
    blur: float = 0.0,
    seed: int = 0,
    flatten: bool = True,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""scikit-learn's 8×8 digits, optionally seen through a different "camera".

    Intensities are scaled to ``[0, 1]``.  The transforms are applied in the order a
    picture is taken: :func:`~tllab.data.corruptions.rotate_images` (the writing or the
    scanner turns), :func:`~tllab.data.corruptions.gaussian_blur` (the lens is out of focus),
    :func:`~tllab.data.corruptions.adjust_brightness_contrast` (lighting and gain), then
    :func:`~tllab.data.corruptions.add_sensor_noise` (the sensor); the result is clipped to
    ``[0, 1]`` whenever a
    transform is active.  All defaults give the untouched images.

    Parameters
    ----------
    split : {"all", "source", "target", "train", "test"}, default="all"
        All 1 797 images, or one of two fixed disjoint halves (899 and 898 images, a
        random split made once with seed 0), so that a source and a target domain never
        share an image.  ``"train"`` is the same half as ``"source"`` and ``"test"`` the same
        as ``"target"``: the names to use when the digits are the target domain and are
        split into labelled training images and held-out test images.
    noise_std, brightness, contrast, rotation, blur : float
        Transform parameters (``rotation`` in degrees, ``blur`` the standard deviation of
        the Gaussian blur in pixels).
    seed : int, default=0
        Seed of the sensor noise.
    flatten : bool, default=True
        Return ``(n, 64)`` feature vectors; else ``(n, 8, 8)`` images.
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Images (or features) and labels (``torch.long``, digits 0–9).

    Examples
    --------
    >>> import tllab
    >>> x, y = tllab.data.load_digits_domain("source", noise_std=0.1)
    >>> x.shape, y.shape
    (torch.Size([899, 64]), torch.Size([899]))
    >>> float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    True
    """
    split = check_choice(split, "split", ("all", "source", "target", "train", "test"))
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be a bool; got {flatten!r}")
    noise_std = check_real(noise_std, "noise_std", low=0.0)
    brightness = check_real(brightness, "brightness")
    contrast = check_real(contrast, "contrast", low=0.0)
    rotation = check_real(rotation, "rotation")
    blur = check_real(blur, "blur", low=0.0)
    dtype = _check_dtype(dtype)
    images, labels, order = _digits()
    half = (len(order) + 1) // 2
    idx = {"all": np.arange(len(order)), "source": order[:half], "target": order[half:],
           "train": order[:half], "test": order[half:]}[split]
    x = torch.as_tensor(images[idx], dtype=torch.float64)
    y = torch.as_tensor(labels[idx])
    active = False
    if rotation != 0.0:
        x, active = rotate_images(x, rotation), True
    if blur > 0.0:
        x, active = gaussian_blur(x, blur), True
    if brightness != 0.0 or contrast != 1.0:
        x, active = adjust_brightness_contrast(x, brightness, contrast), True
    if noise_std > 0.0:
        x, active = add_sensor_noise(x, noise_std, seed=seed), True
    if active:
        x = x.clamp(0.0, 1.0)
    if flatten:
        x = x.reshape(x.shape[0], -1)
    return x.to(device=device, dtype=dtype), y.to(device=device)


def digit_shift_params(cause: str, severity: float = 1.0) -> dict[str, float]:
    r"""Transform parameters of a named cause of shift at a given severity.

    ``severity`` scales :data:`DIGIT_CAUSES`: ``noise_std``, ``brightness`` and
    ``rotation`` are multiplied by it, ``contrast`` moves from 1 by ``severity`` times
    its step (floored at 0).  ``severity=0`` means no shift.

    Parameters
    ----------
    cause : {"none", "sensor", "environment", "drift"}
    severity : float >= 0, default=1.0

    Returns
    -------
    dict
        Keyword arguments for :func:`load_digits_domain`.

    Examples
    --------
    >>> import tllab
    >>> tllab.data.digit_shift_params("environment", 0.5)
    {'brightness': 0.1, 'contrast': 0.75}
    """
    cause = check_choice(cause, "cause", tuple(DIGIT_CAUSES))
    severity = check_real(severity, "severity", low=0.0)
    out = {}
    for key, value in DIGIT_CAUSES[cause].items():
        if key == "contrast":
            out[key] = max(0.0, 1.0 + severity * (value - 1.0))
        else:
            out[key] = severity * value
    return out


def digit_domains(
    cause: str = "sensor",
    severity: float = 1.0,
    *,
    seed: int = 0,
    flatten: bool = True,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> DomainPair:
    r"""A clean source half of the digits and a target half shifted by a named cause.

    The causes (:data:`DIGIT_CAUSES`, scaled by ``severity`` through
    :func:`digit_shift_params`) mimic why image domains differ in practice:

    * ``"sensor"``: a different camera, noisier (Gaussian pixel noise, std 0.2) and with
      less gain (contrast 0.8);
    * ``"environment"``: other lighting, glare that lifts and flattens the intensities
      (brightness +0.2, contrast 0.5);
    * ``"drift"``: a slow change over time, here a rotation that grows with time
      (30° at severity 1; read ``severity`` as elapsed time);
    * ``"none"``: no transform, so source and target differ only by the images drawn
      (the control).

    Parameters
    ----------
    cause : {"sensor", "environment", "drift", "none"}, default="sensor"
    severity : float >= 0, default=1.0
    seed : int, default=0
        Seed of the sensor noise.
    flatten, dtype, device
        As in :func:`load_digits_domain`.

    Returns
    -------
    DomainPair
        899 source and 898 target images with their labels.

    Examples
    --------
    >>> import tllab
    >>> xs, ys, xt, yt = tllab.data.digit_domains("environment")
    >>> bool(xt.mean() > xs.mean())  # the glare lifts the dark background
    True
    """
    params = digit_shift_params(cause, severity)
    kw = dict(seed=seed, flatten=flatten, dtype=dtype, device=device)
    xs, ys = load_digits_domain("source", **kw)
    xt, yt = load_digits_domain("target", **params, **kw)
    return DomainPair(xs, ys, xt, yt)
