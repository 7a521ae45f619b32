r"""Feature gates: learn which input features to transfer.

A gate multiplies each feature by a learned weight, ``x ↦ g ⊙ x``, in front of a classifier.
Two parametrisations of ``g`` from free logits ``a ∈ R^d`` (:func:`feature_gates`):

* ``"sigmoid"`` (the usual gate, as in LSTMs and squeeze-and-excitation blocks):
  ``g_j = σ(a_j / T) ∈ (0, 1)``, one independent on/off switch per feature; all features
  may be kept, or all dropped;
* ``"softmax"`` (attention over features): ``g = d · softmax(a / T)``, on the scaled simplex
  ``Σ_j g_j = d`` (mean gate 1).  The features *compete* for a fixed budget: one feature
  can only gain weight if others lose it, and a feature's gate depends on all the others.

Gates are trained by :func:`fit_feature_gates` with :func:`selective_transfer_loss`: the
source classification loss plus ``λ Σ_j g_j D_j``, where ``D_j`` is the discrepancy between
the source and target laws of feature ``j`` (:func:`feature_discrepancy`).  Each unit of gate
on a feature costs in proportion to how much that feature moved between the domains, so a
feature keeps its weight only if it is worth its shift to the classifier.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import (
    check_choice,
    check_int,
    check_labels,
    check_real,
    check_sample_pair,
    check_vector,
)
from ..device import as_tensor
from ..divergence import mmd2
from ..kernels import median_bandwidth
from ._common import (
    check_training,
    decayed_weights,
    full_batch_adam,
    l2_of_weights,
    seeded_module,
)

__all__ = [
    "GATE_KINDS",
    "feature_gates",
    "FeatureGate",
    "GatedClassifier",
    "feature_discrepancy",
    "selective_transfer_loss",
    "SelectiveTransferLoss",
    "GateFit",
    "fit_feature_gates",
]

GATE_KINDS = ("sigmoid", "softmax")
"""The gate parametrisations of :func:`feature_gates`."""


def feature_gates(logits, kind: str = "sigmoid", temperature: float = 1.0) -> torch.Tensor:
    r"""Gate values from free logits: independent sigmoids or a scaled softmax.

    For logits ``a`` with ``d`` entries along the last dimension and temperature ``T``:

    * ``kind="sigmoid"``: ``g_j = 1 / (1 + exp(-a_j / T))``, each in ``(0, 1)``;
    * ``kind="softmax"``: ``g_j = d · exp(a_j / T) / Σ_k exp(a_k / T)``, so
      ``Σ_j g_j = d`` and equal logits give ``g = 1``.

    Parameters
    ----------
    logits : array-like of shape (..., d)
        Gradients flow through a tensor input.
    kind : {"sigmoid", "softmax"}, default="sigmoid"
    temperature : float > 0, default=1.0
        Small values make the gates sharper (closer to 0/1, or to one-hot times ``d``).

    Returns
    -------
    torch.Tensor
        Same shape, device and dtype as ``logits``.

    Examples
    --------
    >>> import torch, tllab
    >>> a = torch.tensor([0.0, 2.0, -2.0])
    >>> [round(g, 3) for g in tllab.selective.feature_gates(a, "sigmoid").tolist()]
    [0.5, 0.881, 0.119]
    >>> float(tllab.selective.feature_gates(a, "softmax").sum())
    3.0
    """
    kind = check_choice(kind, "kind", GATE_KINDS)
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    a = as_tensor(logits)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(f"logits must have at least one entry along the last dimension; "
                         f"got shape {tuple(a.shape)}")
    if not bool(torch.isfinite(a).all()):
        raise ValueError("logits must be finite")
    return _gates(a, kind, temperature)


def _gates(a: torch.Tensor, kind: str, temperature: float) -> torch.Tensor:
    if kind == "sigmoid":
        return torch.sigmoid(a / temperature)
    return a.shape[-1] * torch.softmax(a / temperature, dim=-1)


class FeatureGate(nn.Module):
    r"""A learnable per-feature gate, ``x ↦ g ⊙ x`` with ``g = feature_gates(a, kind, T)``.

    Parameters
    ----------
    n_features : int >= 1
    kind : {"sigmoid", "softmax"}, default="sigmoid"
        Independent gates in ``(0, 1)``, or competing gates summing to ``n_features``.
    temperature : float > 0, default=1.0
    init : float, default=2.0
        Initial value of every logit (``σ(2) ≈ 0.88``: all features start open; a softmax
        gate starts at 1 whatever the value).

    Examples
    --------
    >>> import torch, tllab
    >>> gate = tllab.selective.FeatureGate(3, kind="softmax")
    >>> gate(torch.ones(2, 3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, n_features: int, kind: str = "sigmoid", temperature: float = 1.0,
                 init: float = 2.0) -> None:
        super().__init__()
        self.n_features = check_int(n_features, "n_features", min_value=1)
        self.kind = check_choice(kind, "kind", GATE_KINDS)
        self.temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
        init = check_real(init, "init")
        self.logits = nn.Parameter(torch.full((self.n_features,), init))

    def gates(self) -> torch.Tensor:
        """The current gate values, shape ``(n_features,)`` (differentiable)."""
        return _gates(self.logits, self.kind, self.temperature)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``g ⊙ x`` for ``x`` of shape ``(..., n_features)``."""
        if x.shape[-1] != self.n_features:
            raise ValueError(f"x must have {self.n_features} features in its last dimension; "
                             f"got shape {tuple(x.shape)}")
        return x * self.gates()

    def extra_repr(self) -> str:
        return f"{self.n_features}, kind={self.kind!r}, temperature={self.temperature}"


class GatedClassifier(nn.Module):
    r"""A feature gate followed by a classifier: ``logits = head(g ⊙ x)``.

    Parameters
    ----------
    n_features : int >= 1
    n_classes : int >= 2, default=2
    kind, temperature, init
        As in :class:`FeatureGate`.
    hidden : int >= 0, default=0
        0: a linear head (multinomial logistic regression on the gated features);
        otherwise one hidden ReLU layer of this width.

    Examples
    --------
    >>> import torch, tllab
    >>> model = tllab.selective.GatedClassifier(4, 3)
    >>> model(torch.zeros(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(self, n_features: int, n_classes: int = 2, *, kind: str = "sigmoid",
                 temperature: float = 1.0, init: float = 2.0, hidden: int = 0) -> None:
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", min_value=2)
        hidden = check_int(hidden, "hidden", min_value=0)
        self.gate = FeatureGate(n_features, kind, temperature, init)
        if hidden == 0:
            self.head = nn.Linear(n_features, n_classes)
        else:
            self.head = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                      nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of ``x``, shape ``(n, n_classes)``."""
        return self.head(self.gate(x))

    @torch.no_grad()
    def predict(self, x) -> torch.Tensor:
        """Predicted class labels (``torch.long``) of ``x``, shape ``(n,)``."""
        p = next(self.parameters())
        x = as_tensor(x).to(device=p.device, dtype=p.dtype)
        return self(x).argmax(dim=-1)


@torch.no_grad()
def feature_discrepancy(xs, xt, *, bandwidth="median",
                        median_samples: int = 500) -> torch.Tensor:
    r"""How much each feature's law moved: the per-feature squared MMD.

    ``D_j = MMD²_b(x_{s,j}, x_{t,j})``, the biased (V-statistic, so ``>= 0``) estimate of
    :func:`tllab.mmd2` between the source and target values of feature ``j`` alone, with a
    Gaussian kernel whose bandwidth is :func:`tllab.median_bandwidth` of that feature's
    pooled values (so ``D`` does not depend on the features' units; pools of more than
    ``median_samples`` values use a seeded subsample of that size for the median).
    ``D_j`` lies in ``[0, 2]``: of order ``1/n_s + 1/n_t`` when nothing moved, near 2 when
    the two laws do not overlap.  Only
    marginal laws are compared: a shift that changes how features *co-vary* but no single
    feature's law is invisible to it.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
        At least 2 rows each.
    bandwidth : "median" or float, default="median"
        A float uses the same σ for every feature.
    median_samples : int >= 2, default=500
        Largest pool used for each feature's median heuristic.

    Returns
    -------
    torch.Tensor of shape (d,)
        On ``xs``'s device and dtype.

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(300, 2, generator=g)
    >>> xt = torch.randn(300, 2, generator=g) + torch.tensor([0.0, 2.0])
    >>> d = tllab.selective.feature_discrepancy(xs, xt)
    >>> bool(d[1] > 10 * d[0])
    True
    """
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=2)
    median_samples = check_int(median_samples, "median_samples", min_value=2)
    if isinstance(bandwidth, str):
        check_choice(bandwidth, "bandwidth", ("median",))
    else:
        bandwidth = check_real(bandwidth, "bandwidth", low=0.0, low_inclusive=False)
    out = []
    for j in range(xs.shape[1]):
        s, t = xs[:, j:j + 1], xt[:, j:j + 1]
        sigma = (float(median_bandwidth(s, t, max_samples=median_samples))
                 if bandwidth == "median" else bandwidth)
        out.append(mmd2(s, t, bandwidth=sigma, estimator="biased"))
    return torch.stack(out)


def selective_transfer_loss(logits: torch.Tensor, y: torch.Tensor, gates: torch.Tensor,
                            discrepancy: torch.Tensor, *, penalty: float = 1.0,
                            sample_weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Source classification loss plus a shift penalty on the gates.

    .. math::

        L = \frac{\sum_i w_i\, \mathrm{CE}(\text{logits}_i, y_i)}{\sum_i w_i}
            + \lambda \sum_j g_j D_j,

    with ``w_i = 1`` unless ``sample_weight`` is given.  Importance weights, if any,
    multiply the per-example *losses*, never the inputs.

    Parameters
    ----------
    logits : torch.Tensor of shape (n, C)
    y : torch.Tensor of shape (n,)
        Class labels (``torch.long``).
    gates : torch.Tensor of shape (d,)
    discrepancy : torch.Tensor of shape (d,)
        ``D`` (e.g. from :func:`feature_discrepancy`), non-negative.
    penalty : float >= 0, default=1.0
        ``λ``.
    sample_weight : torch.Tensor of shape (n,), optional
        Non-negative weights of the examples' losses.

    Returns
    -------
    torch.Tensor
        0-d, differentiable.

    Examples
    --------
    >>> import torch, tllab
    >>> logits = torch.zeros(4, 2); y = torch.tensor([0, 1, 0, 1])
    >>> loss = tllab.selective.selective_transfer_loss(
    ...     logits, y, torch.ones(3), torch.tensor([0.0, 0.0, 0.5]), penalty=2.0)
    >>> round(float(loss), 4)  # log 2 + 2 * 0.5
    1.6931
    """
    penalty = check_real(penalty, "penalty", low=0.0)
    if logits.ndim != 2 or y.shape != logits.shape[:1]:
        raise ValueError(f"logits must have shape (n, C) and y shape (n,); got "
                         f"{tuple(logits.shape)} and {tuple(y.shape)}")
    if gates.shape != discrepancy.shape or gates.ndim != 1:
        raise ValueError(f"gates and discrepancy must have the same shape (d,); got "
                         f"{tuple(gates.shape)} and {tuple(discrepancy.shape)}")
    if not bool(torch.isfinite(discrepancy).all()) or bool((discrepancy < 0).any()):
        raise ValueError("discrepancy must be finite and non-negative")
    if sample_weight is not None and sample_weight.shape != y.shape:
        raise ValueError(f"sample_weight must have shape {tuple(y.shape)}; got "
                         f"{tuple(sample_weight.shape)}")
    return _loss(logits, y, gates, discrepancy, penalty, sample_weight)


def _loss(logits, y, gates, discrepancy, penalty, sample_weight):
    if sample_weight is None:
        fit = F.cross_entropy(logits, y)
    else:
        ce = F.cross_entropy(logits, y, reduction="none")
        fit = (sample_weight * ce).sum() / sample_weight.sum()
    return fit + penalty * (gates * discrepancy).sum()


class SelectiveTransferLoss(nn.Module):
    r"""Module form of :func:`selective_transfer_loss` with a fixed discrepancy vector.

    Parameters
    ----------
    discrepancy : array-like of shape (d,)
        Non-negative, finite (kept as a buffer, so it follows ``.to(device)``).
    penalty : float >= 0, default=1.0

    Examples
    --------
    >>> import torch, tllab
    >>> loss = tllab.selective.SelectiveTransferLoss([0.0, 1.0], penalty=0.5)
    >>> round(float(loss(torch.zeros(2, 2), torch.tensor([0, 1]), torch.ones(2))), 4)
    1.1931
    """

    def __init__(self, discrepancy, penalty: float = 1.0) -> None:
        super().__init__()
        d = check_vector(discrepancy, "discrepancy")
        if bool((d < 0).any()):
            raise ValueError(f"discrepancy must be non-negative; smallest entry is "
                             f"{float(d.min()):.4g}")
        self.register_buffer("discrepancy", d)
        self.penalty = check_real(penalty, "penalty", low=0.0)

    def forward(self, logits, y, gates, sample_weight=None) -> torch.Tensor:
        """The loss of :func:`selective_transfer_loss` with this module's ``D`` and ``λ``."""
        return selective_transfer_loss(logits, y, gates, self.discrepancy.to(gates.dtype),
                                       penalty=self.penalty, sample_weight=sample_weight)


class GateFit(NamedTuple):
    """What :func:`fit_feature_gates` returns."""

    model: GatedClassifier
    """The trained gate + classifier (in eval mode)."""
    gates: torch.Tensor
    """The learned gate values, shape ``(d,)`` (detached)."""
    discrepancy: torch.Tensor
    """The per-feature discrepancy ``D`` the penalty used."""
    losses: list
    """The training objective at every step."""


def fit_feature_gates(
    xs,
    ys,
    xt,
    *,
    kind: str = "sigmoid",
    penalty: float = 1.0,
    weight_decay: float = 1e-2,
    temperature: float = 1.0,
    init: float = 2.0,
    hidden: int = 0,
    discrepancy=None,
    sample_weight=None,
    n_steps: int = 150,
    lr: float = 0.1,
    seed: int = 0,
) -> GateFit:
    r"""Learn feature gates that keep what transfers: source labels, unlabelled target.

    Minimises, over the gate logits and the classifier's parameters (full-batch Adam),

    .. math::

        \frac1{n_s}\sum_i \mathrm{CE}\bigl(h(g \odot x_i), y_i\bigr)
        + \lambda \sum_j g_j D_j + \mu \sum \lVert W \rVert^2,

    where ``D_j`` is :func:`feature_discrepancy` (how much feature ``j`` moved between
    ``xs`` and ``xt``) and the last term is weight decay on the classifier's weight
    matrices.  The decay is not optional in spirit: without it the classifier can undo
    any gate (``W_j g_j`` is all that matters), so small gates would cost nothing and mean
    nothing.  With it, a feature that the classifier needs keeps a large gate unless its
    shift ``λ D_j`` outweighs its usefulness.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
        Labelled source inputs.
    ys : array-like of shape (n_s,)
        Integer class labels.
    xt : array-like of shape (n_t, d)
        Unlabelled target inputs (only ``D`` uses them).
    kind : {"sigmoid", "softmax"}, default="sigmoid"
    penalty : float >= 0, default=1.0
        ``λ``; 0 trains on the source loss alone.
    weight_decay : float >= 0, default=1e-2
        ``μ``.
    temperature, init, hidden
        As in :class:`GatedClassifier`.
    discrepancy : array-like of shape (d,), optional
        Use this ``D`` instead of computing it.
    sample_weight : array-like of shape (n_s,), optional
        Importance weights of the source examples (they multiply the losses).
    n_steps : int, default=150
    lr : float, default=0.1
    seed : int, default=0
        Seed of the classifier's initialisation.

    Returns
    -------
    GateFit

    Examples
    --------
    >>> import tllab
    >>> data = tllab.data.make_feature_shift(400, n_features=4, n_shifted=2, seed=0)
    >>> fit = tllab.selective.fit_feature_gates(data.xs, data.ys, data.xt)
    >>> bool(fit.gates[:2].min() > fit.gates[2:].max())  # the shifted features are closed
    True
    """
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=2)
    ys = check_labels(ys, "ys", xs.shape[0], x_name="xs", device=xs.device)
    kind = check_choice(kind, "kind", GATE_KINDS)
    penalty = check_real(penalty, "penalty", low=0.0)
    n_steps, lr, weight_decay, seed = check_training(n_steps, lr, weight_decay, seed)
    d = xs.shape[1]
    if discrepancy is None:
        disc = feature_discrepancy(xs, xt)
    else:
        disc = check_vector(discrepancy, "discrepancy", d).to(device=xs.device, dtype=xs.dtype)
        if bool((disc < 0).any()):
            raise ValueError("discrepancy must be non-negative")
    if sample_weight is not None:
        sample_weight = check_vector(sample_weight, "sample_weight", xs.shape[0]).to(
            device=xs.device, dtype=xs.dtype)
        if bool((sample_weight < 0).any()) or float(sample_weight.sum()) <= 0:
            raise ValueError("sample_weight must be non-negative with a positive sum")
    n_classes = max(int(ys.max()) + 1, 2)
    model = seeded_module(lambda: GatedClassifier(d, n_classes, kind=kind,
                                                  temperature=temperature, init=init,
                                                  hidden=hidden), seed, xs.device, xs.dtype)
    xs, disc = xs.detach(), disc.detach()
    weights = decayed_weights(model.head)

    def objective(_step):
        loss = _loss(model(xs), ys, model.gate.gates(), disc, penalty, sample_weight)
        return loss + weight_decay * l2_of_weights(weights)

    losses = full_batch_adam(model.parameters(), objective, n_steps, lr)
    model.eval()
    return GateFit(model, model.gate.gates().detach(), disc, losses)
