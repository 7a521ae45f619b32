r"""Two-dimensional toy generators, one per kind of shift between ``p_s(x, y)`` and ``p_t(x, y)``.

- :func:`covariate_shift`: ``p(x)`` moves, ``p(y | x)`` is shared;
- :func:`prior_shift` (label shift): ``p(y)`` changes, ``p(x | y)`` is shared;
- :func:`concept_shift`: ``p(x)`` is shared, ``p(y | x)`` changes;
- :func:`gaussian_shift_pair`: unlabelled samples whose target can be moved, spread,
  rotated and blurred by noise (the distribution-shift explorer's data);
- :func:`rotated_moons`: two interleaving half-moons, the target rotated (and, optionally,
  its class proportions changed): the feature-alignment chapter's toy problem.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .._checks import (
    check_probabilities,
    check_real,
    check_samples,
)
from ._common import DomainPair, _check_dtype, _finish, _generator, _rotation_matrix, _sizes

__all__ = [
    "covariate_label_probability",
    "covariate_shift",
    "prior_shift",
    "concept_shift",
    "gaussian_shift_pair",
    "rotated_moons",
]


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
    >>> float(tllab.data.covariate_label_probability([[0.0, 0.0]]))
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
    >>> xs, ys, xt, yt = tllab.data.covariate_shift(200, shift=2.0, seed=0)
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
    >>> xs, ys, xt, yt = tllab.data.prior_shift(100, target_prior=(0.9, 0.1))
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
    >>> xs, ys, xt, yt = tllab.data.concept_shift(2000, angle=90.0)
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
    >>> xs, xt = tllab.data.gaussian_shift_pair(1000, mean=1.0)
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


def _moons(n: int, n_one: int, noise: float, g: torch.Generator):
    """``n`` points of two interleaving half circles (``n_one`` of class 1), centred."""
    y = torch.cat([torch.zeros(n - n_one, dtype=torch.long), torch.ones(n_one, dtype=torch.long)])
    y = y[torch.randperm(n, generator=g)]
    t = math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    lower = torch.stack([1.0 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
    x = torch.where((y == 1).unsqueeze(1), lower, upper) - torch.tensor([0.5, 0.25],
                                                                          dtype=torch.float64)
    return x + noise * torch.randn(n, 2, generator=g, dtype=torch.float64), y


def rotated_moons(
    n: int = 300,
    *,
    angle: float = 30.0,
    noise: float = 0.1,
    target_prior: float = 0.5,
    n_target: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> DomainPair:
    r"""Two interleaving half-moons; the target is the same problem rotated by ``angle``.

    Class 0 lies on the upper half circle ``(cos t, sin t)``, class 1 on the lower one
    ``(1 - cos t, 1/2 - sin t)``, ``t ~ U(0, π)``, both shifted by ``(-1/2, -1/4)`` so the
    picture is centred on the origin, plus isotropic Gaussian noise of sd ``noise``.  The
    source has equal class counts; the target rotates every point counter-clockwise by
    ``angle`` degrees about the origin (Ganin et al.'s "inter-twinning moons"), so
    ``p_t(x | y)`` is ``p_s(x | y)`` rotated.  ``target_prior`` sets the target's share of
    class 1 (exact counts, largest-remainder rounding): away from 0.5 the label proportions
    shift too, the situation in which aligning the marginals ``p(x)`` can hurt.

    Parameters
    ----------
    n : int, default=300
    angle : float, default=30.0
        Rotation of the target in degrees.
    noise : float >= 0, default=0.1
    target_prior : float in [0, 1], default=0.5
        Fraction of class 1 in the target.
    n_target : int, optional
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    DomainPair
        Inputs of shape ``(n, 2)`` and ``(n_target, 2)``, labels in ``{0, 1}``.

    Examples
    --------
    >>> import tllab
    >>> xs, ys, xt, yt = tllab.data.rotated_moons(200, angle=90.0, noise=0.0)
    >>> xs.shape, int(ys.sum())
    (torch.Size([200, 2]), 100)
    >>> bool(abs(xs.norm(dim=1).mean() - xt.norm(dim=1).mean()) < 0.1)  # a rotation
    True
    """
    n, m = _sizes(n, n_target)
    angle = check_real(angle, "angle")
    noise = check_real(noise, "noise", low=0.0)
    target_prior = check_real(target_prior, "target_prior", low=0.0, high=1.0)
    g = _generator(seed)
    xs, ys = _moons(n, _class_counts(n, torch.tensor([0.5, 0.5]))[1], noise, g)
    xt, yt = _moons(m, _class_counts(m, torch.tensor([1 - target_prior, target_prior]))[1],
                    noise, g)
    xt = xt @ _rotation_matrix(angle).T
    return _finish((xs, ys, xt, yt), dtype, device)
