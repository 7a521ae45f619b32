"""Data sets with a known distribution shift: toy generators and digit domains.

Two families, both seeded and returning torch tensors:

* **Toy generators** in two dimensions, one per kind of shift between a source law
  ``p_s(x, y)`` and a target law ``p_t(x, y)``:

  - :func:`covariate_shift`: ``p(x)`` moves, ``p(y | x)`` is shared;
  - :func:`prior_shift` (label shift): ``p(y)`` changes, ``p(x | y)`` is shared;
  - :func:`concept_shift`: ``p(x)`` is shared, ``p(y | x)`` changes;
  - :func:`gaussian_shift_pair`: unlabelled samples whose target can be moved, spread,
    rotated and blurred by noise (the distribution-shift explorer's data).

  Each labelled generator returns a :class:`DomainPair` ``(xs, ys, xt, yt)``.

* **Digit domains** built on scikit-learn's bundled 8×8 handwritten digits
  (``sklearn.datasets.load_digits``, 1 797 images, nothing downloaded), with
  deterministic torch image transforms that mimic the usual causes of shift: sensor noise
  (:func:`add_sensor_noise`), lighting (:func:`adjust_brightness_contrast`) and slowly
  drifting orientation (:func:`rotate_images`).  :func:`load_digits_domain` applies them to
  one half of the images, :func:`digit_domains` returns a clean source half and a
  transformed target half for a named cause.

Random draws use a CPU ``torch.Generator`` seeded by ``seed`` and are then moved to
``device``, so the same seed gives the same numbers on every device.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ._checks import check_choice, check_int, check_probabilities, check_real, check_samples

__all__ = [
    "DomainPair",
    "DIGIT_CAUSES",
    "covariate_shift",
    "covariate_label_probability",
    "prior_shift",
    "concept_shift",
    "gaussian_shift_pair",
    "rotate_images",
    "adjust_brightness_contrast",
    "add_sensor_noise",
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


# --------------------------------------------------------------------------- helpers
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


# --------------------------------------------------------------------------- toy shifts
def covariate_label_probability(x, *, sharpness: float = 4.0) -> torch.Tensor:
    r"""The shared labelling rule of :func:`covariate_shift`: ``P(y = 1 | x)``.

    ``P(y = 1 | x) = sigmoid(sharpness * (x_2 - sin(1.5 x_1)))``: class 1 lies above
    the wave ``x_2 = sin(1.5 x_1)``, with a soft margin whose width is ``1 / sharpness``.

    Parameters
    ----------
    x : array-like of shape (n, 2)
    sharpness : float > 0, default=4.0

    Returns
    -------
    torch.Tensor
        Shape ``(n,)``, on the input's device and dtype.

    Examples
    --------
    >>> import tllab
    >>> float(tllab.covariate_label_probability([[0.0, 0.0]]))
    0.5
    """
    x = check_samples(x, "x")
    if x.shape[1] != 2:
        raise ValueError(f"x must have 2 features; got shape {tuple(x.shape)}")
    sharpness = check_real(sharpness, "sharpness", low=0.0, low_inclusive=False)
    return torch.sigmoid(sharpness * (x[:, 1] - torch.sin(1.5 * x[:, 0])))


def covariate_shift(
    n: int = 500,
    *,
    shift: float = 2.0,
    spread: float = 0.6,
    n_target: int | None = None,
    sharpness: float = 4.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> DomainPair:
    r"""Covariate shift: the inputs move, the labelling rule stays.

    Source inputs ``x ~ N(0, I_2)``; target inputs ``x ~ N((shift, 0), spread² I_2)``.
    In both domains ``y ~ Bernoulli(P(y = 1 | x))`` with the *same*
    :func:`covariate_label_probability` (class 1 above the wave ``x_2 = sin(1.5 x_1)``),
    so ``p_s(y | x) = p_t(y | x)`` while ``p_s(x) != p_t(x)`` unless ``shift = 0`` and
    ``spread = 1``.  A model fitted where the source lives (a straight boundary near the
    origin) extrapolates badly to the target's part of the wave.

    Parameters
    ----------
    n : int, default=500
        Source sample size (and target size unless ``n_target`` is given).
    shift : float, default=2.0
        Target mean along the first feature.
    spread : float > 0, default=0.6
        Target standard deviation (the source's is 1).
    n_target : int, optional
    sharpness : float > 0, default=4.0
        Steepness of ``P(y = 1 | x)`` across the wave.
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional
        Where the tensors are put (drawn on the CPU first, so results are the same on
        every device).

    Returns
    -------
    DomainPair
        ``(xs, ys, xt, yt)`` with inputs of shape ``(n, 2)`` and ``(n_target, 2)`` and
        labels in ``{0, 1}``.

    Examples
    --------
    >>> import tllab
    >>> xs, ys, xt, yt = tllab.covariate_shift(200, shift=2.0, seed=0)
    >>> xs.shape, yt.shape
    (torch.Size([200, 2]), torch.Size([200]))
    >>> bool(xt[:, 0].mean() > 1.5 > xs[:, 0].mean())
    True
    """
    n, m = _sizes(n, n_target)
    shift = check_real(shift, "shift")
    spread = check_real(spread, "spread", low=0.0, low_inclusive=False)
    sharpness = check_real(sharpness, "sharpness", low=0.0, low_inclusive=False)
    g = _generator(seed)
    xs = torch.randn(n, 2, generator=g, dtype=torch.float64)
    xt = spread * torch.randn(m, 2, generator=g, dtype=torch.float64)
    xt[:, 0] += shift
    ys = (torch.rand(n, generator=g, dtype=torch.float64)
          < covariate_label_probability(xs, sharpness=sharpness)).long()
    yt = (torch.rand(m, generator=g, dtype=torch.float64)
          < covariate_label_probability(xt, sharpness=sharpness)).long()
    return _finish((xs, ys, xt, yt), dtype, device)


def _class_counts(n: int, prior: torch.Tensor) -> list[int]:
    """Largest-remainder rounding of ``n * prior`` to integers summing to ``n``."""
    raw = n * prior.double().cpu().numpy()
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts.tolist()


def _class_means(k: int, separation: float) -> torch.Tensor:
    angles = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    return 0.5 * separation * torch.stack([-torch.cos(angles), -torch.sin(angles)], dim=1)


def _draw_classes(n, prior, means, g):
    counts = _class_counts(n, prior)
    y = torch.cat([torch.full((c,), k, dtype=torch.long) for k, c in enumerate(counts)])
    y = y[torch.randperm(n, generator=g)]
    x = means[y] + torch.randn(n, 2, generator=g, dtype=torch.float64)
    return x, y


def prior_shift(
    n: int = 500,
    *,
    source_prior: Sequence[float] = (0.5, 0.5),
    target_prior: Sequence[float] = (0.9, 0.1),
    separation: float = 2.5,
    n_target: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> DomainPair:
    r"""Prior (label) shift: the class proportions change, each class looks the same.

    Class ``k`` of ``K = len(source_prior)`` has ``x | y = k ~ N(μ_k, I_2)`` in both
    domains, with the means ``μ_k`` evenly spaced on a circle of diameter ``separation``
    (for two classes: ``(∓separation/2, 0)``).  So ``p_s(x | y) = p_t(x | y)`` while
    ``p_s(y) = source_prior`` and ``p_t(y) = target_prior``.  The class counts are
    *exactly* ``n * prior`` rounded by largest remainders (a stratified draw), in a
    random order, so the sample proportions equal the requested ones up to ``1 / n``.

    Parameters
    ----------
    n : int, default=500
    source_prior, target_prior : sequence of float
        Class probabilities (non-negative, summing to 1, same length ``K >= 2``).
    separation : float > 0, default=2.5
        Distance between the two class means (diameter of the circle of means).
    n_target : int, optional
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    DomainPair
        Labels in ``{0, ..., K-1}``.

    Examples
    --------
    >>> import tllab
    >>> xs, ys, xt, yt = tllab.prior_shift(100, target_prior=(0.9, 0.1))
    >>> int((yt == 0).sum()), int((ys == 0).sum())
    (90, 50)
    """
    n, m = _sizes(n, n_target)
    ps = check_probabilities(source_prior, "source_prior").reshape(-1)
    pt = check_probabilities(target_prior, "target_prior").reshape(-1)
    if ps.numel() != pt.numel():
        raise ValueError("source_prior and target_prior must have the same number of classes; "
                         f"got {ps.numel()} and {pt.numel()}")
    if ps.numel() < 2:
        raise ValueError(f"prior shift needs at least 2 classes; got {ps.numel()}")
    separation = check_real(separation, "separation", low=0.0, low_inclusive=False)
    g = _generator(seed)
    means = _class_means(ps.numel(), separation)
    xs, ys = _draw_classes(n, ps, means, g)
    xt, yt = _draw_classes(m, pt, means, g)
    return _finish((xs, ys, xt, yt), dtype, device)


def concept_shift(
    n: int = 500,
    *,
    angle: float = 60.0,
    label_noise: float = 0.0,
    n_target: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> DomainPair:
    r"""Concept shift: the inputs look the same, the labelling rule changes.

    ``x ~ N(0, I_2)`` in both domains.  The source labels are ``y = 1[x_2 > 0]``; the
    target's boundary is the same line through the origin rotated counter-clockwise by
    ``angle`` degrees, ``y = 1[-sin(a) x_1 + cos(a) x_2 > 0]``.  So ``p_s(x) = p_t(x)``
    while ``p_s(y | x) != p_t(y | x)``: for isotropic inputs the two rules disagree on a
    fraction ``angle / 180`` of the inputs, and no statistic of the unlabelled inputs can
    reveal it.  Each label is then flipped with probability ``label_noise``.

    Parameters
    ----------
    n : int, default=500
    angle : float, default=60.0
        Rotation of the target's decision boundary, in degrees.
    label_noise : float in [0, 0.5], default=0.0
    n_target : int, optional
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    DomainPair

    Examples
    --------
    >>> import tllab
    >>> xs, ys, xt, yt = tllab.concept_shift(2000, angle=90.0)
    >>> disagree = ((xt[:, 1] > 0).long() != yt).double().mean()
    >>> 0.45 < float(disagree) < 0.55  # the source rule is wrong on half the target
    True
    """
    n, m = _sizes(n, n_target)
    angle = check_real(angle, "angle")
    label_noise = check_real(label_noise, "label_noise", low=0.0, high=0.5)
    g = _generator(seed)
    xs = torch.randn(n, 2, generator=g, dtype=torch.float64)
    xt = torch.randn(m, 2, generator=g, dtype=torch.float64)
    a = math.radians(angle)
    normal = torch.tensor([-math.sin(a), math.cos(a)], dtype=torch.float64)
    ys = (xs[:, 1] > 0).long()
    yt = (xt @ normal > 0).long()
    if label_noise > 0:
        ys = torch.where(torch.rand(n, generator=g, dtype=torch.float64) < label_noise,
                         1 - ys, ys)
        yt = torch.where(torch.rand(m, generator=g, dtype=torch.float64) < label_noise,
                         1 - yt, yt)
    return _finish((xs, ys, xt, yt), dtype, device)


def gaussian_shift_pair(
    n: int = 200,
    *,
    mean: float = 0.0,
    spread: float = 1.0,
    rotation: float = 0.0,
    noise: float = 0.0,
    n_target: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Two unlabelled 2-D samples whose target can be moved, spread, rotated and blurred.

    The source is an elongated Gaussian, ``x = (z_1, 0.4 z_2)`` with ``z ~ N(0, I_2)``.
    The target starts from an independent draw of the same law and applies, in order,

    ``x_t = R(rotation) (spread · x) + (mean, 0) + noise · ε``,  ``ε ~ N(0, I_2)``,

    where ``R`` rotates counter-clockwise by ``rotation`` degrees.  With the defaults
    (``mean=0, spread=1, rotation=0, noise=0``) both samples come from the same law.

    Parameters
    ----------
    n : int, default=200
    mean : float, default=0.0
        Shift of the target along the first feature (a change of location).
    spread : float > 0, default=1.0
        Scale factor of the target (a change of spread).
    rotation : float, default=0.0
        Rotation of the target in degrees (a change of correlation, same marginal
        spread in total).
    noise : float >= 0, default=0.0
        Standard deviation of isotropic noise added to the target (a noisier sensor).
    n_target : int, optional
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``xs`` of shape ``(n, 2)`` and ``xt`` of shape ``(n_target, 2)``.

    Examples
    --------
    >>> import tllab
    >>> xs, xt = tllab.gaussian_shift_pair(1000, mean=1.0)
    >>> round(float(xt[:, 0].mean() - xs[:, 0].mean()))
    1
    """
    n, m = _sizes(n, n_target)
    mean = check_real(mean, "mean")
    spread = check_real(spread, "spread", low=0.0, low_inclusive=False)
    rotation = check_real(rotation, "rotation")
    noise = check_real(noise, "noise", low=0.0)
    scale = torch.tensor([1.0, 0.4], dtype=torch.float64)
    g = _generator(seed)
    xs = torch.randn(n, 2, generator=g, dtype=torch.float64) * scale
    base = torch.randn(m, 2, generator=g, dtype=torch.float64) * scale
    eps = torch.randn(m, 2, generator=g, dtype=torch.float64)
    xt = spread * base @ _rotation_matrix(rotation).T + noise * eps
    xt[:, 0] += mean
    dtype = _check_dtype(dtype)
    return xs.to(device=device, dtype=dtype), xt.to(device=device, dtype=dtype)


# --------------------------------------------------------------------------- image transforms
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
    >>> bool(torch.allclose(tllab.rotate_images(img, 90), torch.rot90(img, 1)))
    True
    """
    x = _float_tensor(images, min_ndim=2)
    degrees = check_real(degrees, "degrees")
    h, w = x.shape[-2:]
    if h != w:
        raise ValueError(f"images must be square; got height {h} and width {w}")
    lead = x.shape[:-2]
    batch = x.reshape(-1, 1, h, w)
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    # grid_sample maps each output location (u right, v down, in [-1, 1]) to the input
    # location theta @ (u, v, 1); a visual counter-clockwise turn in (u, v-down) coordinates
    # sends output (u, v) back to input (c u - s v, s u + c v).
    theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=x.dtype, device=x.device)
    theta = theta.expand(batch.shape[0], 2, 3)
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
    >>> tllab.adjust_brightness_contrast(torch.tensor([0.0, 1.0]), 0.1, 0.5)
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
    >>> noisy = tllab.add_sensor_noise(torch.zeros(100_000), std=0.2, seed=0)
    >>> round(float(noisy.std()), 2)
    0.2
    """
    x = _float_tensor(images)
    std = check_real(std, "std", low=0.0)
    eps = torch.randn(x.shape, generator=_generator(seed), dtype=torch.float64)
    out = x + std * eps.to(device=x.device, dtype=x.dtype)
    return out.clamp(0.0, 1.0) if clip else out


# --------------------------------------------------------------------------- digit domains
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
    seed: int = 0,
    flatten: bool = True,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""scikit-learn's 8×8 digits, optionally seen through a different "camera".

    Intensities are scaled to ``[0, 1]``.  The transforms are applied in the order a
    picture is taken: :func:`rotate_images` (the writing or the scanner turns),
    :func:`adjust_brightness_contrast` (lighting and gain), then
    :func:`add_sensor_noise` (the sensor); the result is clipped to ``[0, 1]`` whenever a
    transform is active.  All defaults give the untouched images.

    Parameters
    ----------
    split : {"all", "source", "target"}, default="all"
        All 1 797 images, or one of two fixed disjoint halves (899 and 898 images, a
        random split made once with seed 0), so that a source and a target domain never
        share an image.
    noise_std, brightness, contrast, rotation : float
        Transform parameters (``rotation`` in degrees).
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
    >>> x, y = tllab.load_digits_domain("source", noise_std=0.1)
    >>> x.shape, y.shape
    (torch.Size([899, 64]), torch.Size([899]))
    >>> float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    True
    """
    split = check_choice(split, "split", ("all", "source", "target"))
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be a bool; got {flatten!r}")
    noise_std = check_real(noise_std, "noise_std", low=0.0)
    brightness = check_real(brightness, "brightness")
    contrast = check_real(contrast, "contrast", low=0.0)
    rotation = check_real(rotation, "rotation")
    dtype = _check_dtype(dtype)
    images, labels, order = _digits()
    half = (len(order) + 1) // 2
    idx = {"all": np.arange(len(order)), "source": order[:half], "target": order[half:]}[split]
    x = torch.as_tensor(images[idx], dtype=torch.float64)
    y = torch.as_tensor(labels[idx])
    active = False
    if rotation != 0.0:
        x, active = rotate_images(x, rotation), True
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
    >>> tllab.digit_shift_params("environment", 0.5)
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
    >>> xs, ys, xt, yt = tllab.digit_domains("environment")
    >>> bool(xt.mean() > xs.mean())  # the glare lifts the dark background
    True
    """
    params = digit_shift_params(cause, severity)
    kw = dict(seed=seed, flatten=flatten, dtype=dtype, device=device)
    xs, ys = load_digits_domain("source", **kw)
    xt, yt = load_digits_domain("target", **params, **kw)
    return DomainPair(xs, ys, xt, yt)
