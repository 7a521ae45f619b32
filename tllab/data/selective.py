r"""Problems for selective transfer whose ground truth is known.

- :func:`make_feature_shift`: some features keep their law and their relation to the label
  across domains (*transferable*), the others move and lose their relation to the label
  (*domain-specific*); the result says which is which.
- :func:`make_mixed_source`: a source sample pooled from a *relevant* domain (the target's
  law and labelling rule) and an *irrelevant* one (elsewhere, with another rule); the result
  says which source point came from where;
- :func:`make_related_tasks`: two classification tasks that depend on the inputs through the
  same hidden plane, one with few labels (multi-task learning).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .._checks import check_int, check_real
from ._common import _check_dtype, _generator, _sizes

__all__ = [
    "FeatureShiftData",
    "make_feature_shift",
    "MixedSourceData",
    "make_mixed_source",
    "RelatedTasks",
    "make_related_tasks",
]


class FeatureShiftData(NamedTuple):
    """Labelled source and target samples and which features transfer."""

    xs: torch.Tensor
    """Source inputs, shape ``(n_source, n_features)``."""
    ys: torch.Tensor
    """Source labels in ``{0, 1}`` (``torch.long``)."""
    xt: torch.Tensor
    """Target inputs, shape ``(n_target, n_features)``."""
    yt: torch.Tensor
    """Target labels in ``{0, 1}`` (``torch.long``)."""
    transferable: torch.Tensor
    """Boolean mask of shape ``(n_features,)``: True where the feature transfers."""


def make_feature_shift(
    n: int = 500,
    *,
    n_features: int = 10,
    n_shifted: int = 4,
    signal: float = 0.5,
    spurious: float = 1.0,
    shift: float = 1.5,
    target_relation: float = 0.0,
    n_target: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> FeatureShiftData:
    r"""Binary classification where some features transfer and the others do not.

    Labels ``y ~ Bernoulli(1/2)`` in both domains; write ``z = 2y - 1``.  The first
    ``n_features - n_shifted`` features are **transferable**: in both domains

    ``x_j = signal · z + ε_j``,  ``ε_j ~ N(0, 1)``.

    The last ``n_shifted`` features are **domain-specific**: on the source they are
    *more* predictive than the transferable ones, on the target they move and lose (or
    change) their relation to the label,

    ``source: x_j = spurious · z + ε_j``,
    ``target: x_j = shift + target_relation · spurious · z + ε_j``.

    So the source rewards exactly the features that fail on the target: a classifier fitted
    on the source leans on them.  Even with ``shift = 0`` their target marginal differs
    from the source one (variance ``1`` instead of ``1 + spurious²`` when
    ``target_relation = 0``), so unlabelled target data reveal which features moved.
    The Bayes accuracy on the target with the transferable features alone is
    ``Φ(signal · sqrt(n_features - n_shifted))``.

    Parameters
    ----------
    n : int, default=500
        Source sample size (and target size unless ``n_target`` is given).
    n_features : int >= 1, default=10
    n_shifted : int in [0, n_features], default=4
    signal : float, default=0.5
        Class separation (half the distance between the class means) of each
        transferable feature.
    spurious : float, default=1.0
        The same for each domain-specific feature on the source.
    shift : float, default=1.5
        Mean of the domain-specific features on the target.
    target_relation : float, default=0.0
        Their class separation on the target, in units of ``spurious`` (0: none, ``-1``:
        the relation flips, 1: it stays and only the location moves).
    n_target : int, optional
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    FeatureShiftData
        ``(xs, ys, xt, yt, transferable)``.

    Examples
    --------
    >>> import tllab
    >>> d = tllab.data.make_feature_shift(2000, n_features=5, n_shifted=2, seed=0)
    >>> d.transferable.tolist()
    [True, True, True, False, False]
    >>> abs(float(d.xt[:, 4].mean() - d.xs[:, 4].mean()) - 1.5) < 0.1  # moved by `shift`
    True
    """
    n, m = _sizes(n, n_target)
    n_features = check_int(n_features, "n_features", min_value=1)
    n_shifted = check_int(n_shifted, "n_shifted", min_value=0)
    if n_shifted > n_features:
        raise ValueError(f"n_shifted must be <= n_features={n_features}; got {n_shifted}")
    signal = check_real(signal, "signal")
    spurious = check_real(spurious, "spurious")
    shift = check_real(shift, "shift")
    target_relation = check_real(target_relation, "target_relation")
    dtype = _check_dtype(dtype)
    g = _generator(seed)
    keep = n_features - n_shifted
    transferable = torch.arange(n_features) < keep
    source_sep = torch.where(transferable, signal, spurious).to(torch.float64)
    target_sep = torch.where(transferable, signal, target_relation * spurious).to(torch.float64)
    target_loc = torch.where(transferable, 0.0, shift).to(torch.float64)

    def draw(size, sep, loc):
        y = (torch.rand(size, generator=g, dtype=torch.float64) < 0.5).long()
        x = loc + (2.0 * y - 1.0)[:, None] * sep + torch.randn(size, n_features, generator=g,
                                                                 dtype=torch.float64)
        return x.to(device=device, dtype=dtype), y.to(device=device)

    xs, ys = draw(n, source_sep, torch.zeros(n_features, dtype=torch.float64))
    xt, yt = draw(m, target_sep, target_loc)
    return FeatureShiftData(xs, ys, xt, yt, transferable.to(device=device))


class MixedSourceData(NamedTuple):
    """A pooled source sample, a target sample, and which source points are relevant."""

    xs: torch.Tensor
    """Source inputs, shape ``(n_source, 2)``: relevant and irrelevant points shuffled."""
    ys: torch.Tensor
    """Source labels in ``{0, 1}``."""
    xt: torch.Tensor
    """Target inputs, shape ``(n_target, 2)``."""
    yt: torch.Tensor
    """Target labels in ``{0, 1}``."""
    relevant: torch.Tensor
    """Boolean mask of shape ``(n_source,)``: True for points drawn from the target's law."""


def make_mixed_source(
    n: int = 300,
    *,
    irrelevant_fraction: float = 0.5,
    distance: float = 3.0,
    angle: float = 90.0,
    sharpness: float = 5.0,
    n_target: int | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> MixedSourceData:
    r"""A source pooled from a domain like the target and one that is not (negative transfer).

    *Relevant* domain (and the target): ``x ~ N(0, I_2)`` and
    ``P(y = 1 | x) = sigmoid(sharpness · x_2)``: class 1 above the horizontal axis.
    *Irrelevant* domain: ``x ~ N((distance, 0), I_2)`` and the boundary through its centre
    rotated by ``angle`` degrees, ``P(y = 1 | x) = sigmoid(sharpness · ⟨n, x - c⟩)`` with
    ``c = (distance, 0)`` and ``n = (sin a, cos a)`` (``angle = 90``: class 1 to the right
    of ``x_1 = distance``).  A fraction ``irrelevant_fraction`` of the ``n`` source points
    (rounded down) comes from the irrelevant domain, the rest from the relevant one, in a
    random order.  A single linear classifier fitted to the pooled source compromises
    between the two rules and does worse on the target than one fitted to the relevant
    points alone.

    Parameters
    ----------
    n : int, default=300
        Source sample size (and target size unless ``n_target`` is given).
    irrelevant_fraction : float in [0, 1), default=0.5
    distance : float, default=3.0
        Distance between the two source domains' centres.
    angle : float, default=90.0
        Rotation (degrees) of the irrelevant domain's rule against the target's.
    sharpness : float > 0, default=5.0
        Steepness of ``P(y = 1 | x)`` across each boundary (label noise shrinks with it).
    n_target : int, optional
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    MixedSourceData
        ``(xs, ys, xt, yt, relevant)``.

    Examples
    --------
    >>> import tllab
    >>> d = tllab.data.make_mixed_source(200, irrelevant_fraction=0.25, seed=0)
    >>> int((~d.relevant).sum()), tuple(d.xt.shape)
    (50, (200, 2))
    """
    n, m = _sizes(n, n_target)
    frac = check_real(irrelevant_fraction, "irrelevant_fraction", low=0.0, high=1.0,
                      high_inclusive=False)
    distance = check_real(distance, "distance")
    angle = check_real(angle, "angle")
    sharpness = check_real(sharpness, "sharpness", low=0.0, low_inclusive=False)
    dtype = _check_dtype(dtype)
    g = _generator(seed)
    n_irr = math.floor(frac * n)
    a = math.radians(angle)
    normal_irr = torch.tensor([math.sin(a), math.cos(a)], dtype=torch.float64)
    centre_irr = torch.tensor([distance, 0.0], dtype=torch.float64)

    def labels(x, normal, centre):
        p = torch.sigmoid(sharpness * ((x - centre) @ normal))
        return (torch.rand(x.shape[0], generator=g, dtype=torch.float64) < p).long()

    up = torch.tensor([0.0, 1.0], dtype=torch.float64)
    origin = torch.zeros(2, dtype=torch.float64)
    x_rel = torch.randn(n - n_irr, 2, generator=g, dtype=torch.float64)
    x_irr = centre_irr + torch.randn(n_irr, 2, generator=g, dtype=torch.float64)
    xs = torch.cat([x_rel, x_irr])
    ys = torch.cat([labels(x_rel, up, origin), labels(x_irr, normal_irr, centre_irr)])
    relevant = torch.arange(n) < n - n_irr
    order = torch.randperm(n, generator=g)
    xt = torch.randn(m, 2, generator=g, dtype=torch.float64)
    yt = labels(xt, up, origin)

    def put(t):
        return t.to(device=device, dtype=dtype) if t.is_floating_point() else t.to(device)

    return MixedSourceData(put(xs[order]), put(ys[order]), put(xt), put(yt),
                           put(relevant[order]))


class RelatedTasks(NamedTuple):
    """Two classification tasks on the same inputs that share a hidden plane."""

    x_aux: torch.Tensor
    """Inputs of the auxiliary task (many labels), shape ``(n_auxiliary, n_features)``."""
    y_aux: torch.Tensor
    """Its labels, the quadrant of the hidden coordinates, in ``{0, 1, 2, 3}``."""
    x_main: torch.Tensor
    """Inputs of the main task (few labels), shape ``(n_main, n_features)``."""
    y_main: torch.Tensor
    """Its labels in ``{0, 1}``."""
    x_test: torch.Tensor
    """Fresh inputs for measuring the main task, shape ``(n_test, n_features)``."""
    y_test: torch.Tensor
    """Their main-task labels."""
    basis: torch.Tensor
    """The hidden plane, as orthonormal columns of shape ``(n_features, 2)``."""


def make_related_tasks(
    n_main: int = 20,
    n_auxiliary: int = 500,
    *,
    n_features: int = 20,
    n_test: int = 2000,
    sharpness: float = 6.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> RelatedTasks:
    r"""Two related tasks: a main one with few labels, an auxiliary one with many.

    Inputs ``x ~ N(0, I_d)`` with ``d = n_features``; both tasks depend on ``x`` only through
    its coordinates ``z = Uᵀx`` in a hidden plane (``U``: a seeded random ``d × 2``
    orthonormal basis, returned as ``basis``).  The **auxiliary** task is the quadrant of
    ``z`` (four classes, noise-free); the **main** task is binary with
    ``P(y = 1 | x) = sigmoid(sharpness · (z_1 + z_2)/√2)``.  Learned alone from ``n_main``
    labels, the main task is a ``d``-dimensional problem; a representation shaped by the
    auxiliary task reduces it to two dimensions.

    Parameters
    ----------
    n_main : int >= 1, default=20
    n_auxiliary : int >= 1, default=500
    n_features : int >= 2, default=20
    n_test : int >= 1, default=2000
    sharpness : float > 0, default=6.0
    seed : int, default=0
    dtype : torch.dtype, default=torch.float64
    device : torch.device or str, optional

    Returns
    -------
    RelatedTasks

    Examples
    --------
    >>> import tllab
    >>> t = tllab.data.make_related_tasks(20, 400, seed=0)
    >>> tuple(t.x_main.shape), sorted(set(t.y_aux.tolist()))
    ((20, 20), [0, 1, 2, 3])
    """
    n_main = check_int(n_main, "n_main", min_value=1)
    n_auxiliary = check_int(n_auxiliary, "n_auxiliary", min_value=1)
    n_features = check_int(n_features, "n_features", min_value=2)
    n_test = check_int(n_test, "n_test", min_value=1)
    sharpness = check_real(sharpness, "sharpness", low=0.0, low_inclusive=False)
    dtype = _check_dtype(dtype)
    g = _generator(seed)
    basis, _ = torch.linalg.qr(torch.randn(n_features, 2, generator=g, dtype=torch.float64))

    def draw(size):
        x = torch.randn(size, n_features, generator=g, dtype=torch.float64)
        z = x @ basis
        quadrant = (z[:, 0] < 0).long() * 2 + (z[:, 1] < 0).long()
        p = torch.sigmoid(sharpness * (z[:, 0] + z[:, 1]) / math.sqrt(2.0))
        y = (torch.rand(size, generator=g, dtype=torch.float64) < p).long()
        return x.to(device=device, dtype=dtype), quadrant.to(device), y.to(device)

    x_aux, y_aux, _ = draw(n_auxiliary)
    x_main, _, y_main = draw(n_main)
    x_test, _, y_test = draw(n_test)
    return RelatedTasks(x_aux, y_aux, x_main, y_main, x_test, y_test,
                        basis.to(device=device, dtype=dtype))
