r"""Metric learning across domains: an embedding where same-class points are close.

* losses, each as a function and an ``nn.Module``: :func:`triplet_loss` (Schroff et al.,
  2015) and :func:`contrastive_loss` (Hadsell et al., 2006);
* :func:`sample_triplets` draws (anchor, positive, negative) index triples, with positives
  taken from *another domain* whenever the anchor's class is present there, so that the
  loss pulls the domains together class by class;
* :func:`fit_embedding` trains an :class:`EmbeddingNet` with either loss;
* :func:`nearest_neighbour_accuracy` measures the result: label each query point by its
  nearest reference point.
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
    check_samples,
)
from ..device import as_tensor
from ._common import (
    check_training,
    decayed_weights,
    full_batch_adam,
    l2_of_weights,
    seeded_module,
)

__all__ = [
    "triplet_loss",
    "TripletLoss",
    "contrastive_loss",
    "ContrastiveLoss",
    "EmbeddingNet",
    "sample_triplets",
    "EmbeddingFit",
    "fit_embedding",
    "nearest_neighbour_accuracy",
]

METRIC_LOSSES = ("triplet", "contrastive")


def _check_embeddings(*tensors: torch.Tensor, names: tuple[str, ...]) -> None:
    shape = tensors[0].shape
    for t, name in zip(tensors, names, strict=True):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(t).__name__}")
        if t.ndim != 2 or t.shape != shape:
            raise ValueError(f"{', '.join(names)} must be 2-D tensors of the same shape; got "
                             f"{[tuple(u.shape) for u in tensors]}")


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, *,
                 margin: float = 0.5) -> torch.Tensor:
    r"""Triplet loss with squared Euclidean distances (Schroff et al., 2015).

    ``mean_i max(0, ||a_i − p_i||² − ||a_i − n_i||² + margin)``: zero once every positive
    is closer to its anchor than the negative by at least ``margin``.

    Parameters
    ----------
    anchor, positive, negative : torch.Tensor of shape (n, k)
        Embeddings (FaceNet puts them on the unit sphere first, as :class:`EmbeddingNet`
        does by default).
    margin : float >= 0, default=0.5

    Returns
    -------
    torch.Tensor
        0-d, differentiable.

    Examples
    --------
    >>> import torch, tllab
    >>> a = torch.zeros(1, 2); p = torch.tensor([[1.0, 0.0]]); n = torch.tensor([[2.0, 0.0]])
    >>> float(tllab.selective.triplet_loss(a, p, n, margin=0.5))  # max(0, 1 - 4 + 0.5)
    0.0
    >>> float(tllab.selective.triplet_loss(a, n, p, margin=0.5))  # max(0, 4 - 1 + 0.5)
    3.5
    """
    _check_embeddings(anchor, positive, negative, names=("anchor", "positive", "negative"))
    margin = check_real(margin, "margin", low=0.0)
    return _triplet(anchor, positive, negative, margin)


def _triplet(a, p, n, margin):
    return F.relu((a - p).pow(2).sum(1) - (a - n).pow(2).sum(1) + margin).mean()


class TripletLoss(nn.Module):
    """Module form of :func:`triplet_loss`.

    Examples
    --------
    >>> import torch, tllab
    >>> loss = tllab.selective.TripletLoss(margin=1.0)
    >>> float(loss(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3, 2)))
    1.0
    """

    def __init__(self, margin: float = 0.5) -> None:
        super().__init__()
        self.margin = check_real(margin, "margin", low=0.0)

    def forward(self, anchor, positive, negative) -> torch.Tensor:
        """:func:`triplet_loss` with this module's margin."""
        return triplet_loss(anchor, positive, negative, margin=self.margin)


def contrastive_loss(x1: torch.Tensor, x2: torch.Tensor, same, *,
                     margin: float = 1.0) -> torch.Tensor:
    r"""Contrastive loss of pairs (Hadsell, Chopra & LeCun, 2006).

    With ``d_i = ||x1_i − x2_i||``:
    ``mean_i [ s_i · ½ d_i² + (1 − s_i) · ½ max(0, margin − d_i)² ]``, where ``s_i = 1``
    for a pair of the same class (pulled together) and 0 otherwise (pushed apart until
    ``margin``).

    Parameters
    ----------
    x1, x2 : torch.Tensor of shape (n, k)
    same : array-like of shape (n,)
        1 (or True) for similar pairs, 0 for dissimilar ones.
    margin : float > 0, default=1.0

    Returns
    -------
    torch.Tensor
        0-d, differentiable.

    Examples
    --------
    >>> import torch, tllab
    >>> x1 = torch.zeros(2, 1); x2 = torch.tensor([[0.5], [0.5]])
    >>> float(tllab.selective.contrastive_loss(x1, x2, [1, 0]))  # (0.125 + 0.125) / 2
    0.125
    """
    _check_embeddings(x1, x2, names=("x1", "x2"))
    margin = check_real(margin, "margin", low=0.0, low_inclusive=False)
    s = as_tensor(same).to(device=x1.device, dtype=x1.dtype)
    if s.shape != x1.shape[:1]:
        raise ValueError(f"same must have shape ({x1.shape[0]},); got {tuple(s.shape)}")
    if not bool(((s == 0) | (s == 1)).all()):
        raise ValueError("same must hold only 0/1 (or False/True)")
    return _contrastive(x1, x2, s, margin)


def _contrastive(x1, x2, s, margin):
    d2 = (x1 - x2).pow(2).sum(1)
    d = d2.clamp_min(torch.finfo(d2.dtype).tiny).sqrt()  # a finite gradient at d = 0
    return (0.5 * s * d2 + 0.5 * (1 - s) * F.relu(margin - d).pow(2)).mean()


class ContrastiveLoss(nn.Module):
    """Module form of :func:`contrastive_loss`.

    Examples
    --------
    >>> import torch, tllab
    >>> loss = tllab.selective.ContrastiveLoss(margin=2.0)
    >>> float(loss(torch.zeros(1, 2), torch.zeros(1, 2), [0]))  # ½ · 2²
    2.0
    """

    def __init__(self, margin: float = 1.0) -> None:
        super().__init__()
        self.margin = check_real(margin, "margin", low=0.0, low_inclusive=False)

    def forward(self, x1, x2, same) -> torch.Tensor:
        """:func:`contrastive_loss` with this module's margin."""
        return contrastive_loss(x1, x2, same, margin=self.margin)


class EmbeddingNet(nn.Module):
    r"""A small embedding network: ``x ↦ normalise(W₂ relu(W₁ x + b₁) + b₂)``.

    Parameters
    ----------
    n_features : int >= 1
    dim : int >= 1, default=16
        Size of the embedding.
    hidden : int >= 1, default=64
    normalize : bool, default=True
        Put the embeddings on the unit sphere (then squared distances lie in ``[0, 4]``).

    Examples
    --------
    >>> import torch, tllab
    >>> net = tllab.selective.EmbeddingNet(64, dim=8)
    >>> net(torch.randn(5, 64)).norm(dim=1).round(decimals=4).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, n_features: int, dim: int = 16, hidden: int = 64,
                 normalize: bool = True) -> None:
        super().__init__()
        n_features = check_int(n_features, "n_features", min_value=1)
        dim = check_int(dim, "dim", min_value=1)
        hidden = check_int(hidden, "hidden", min_value=1)
        if not isinstance(normalize, bool):
            raise TypeError(f"normalize must be a bool; got {normalize!r}")
        self.normalize = normalize
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embeddings of ``x``, shape ``(n, dim)`` (differentiable)."""
        e = self.net(x)
        return F.normalize(e, dim=-1) if self.normalize else e

    @torch.no_grad()
    def embed(self, x) -> torch.Tensor:
        """Embeddings of ``x`` without gradients, on the network's device and dtype."""
        p = next(self.parameters())
        return self(as_tensor(x).to(device=p.device, dtype=p.dtype))


def sample_triplets(y, domain=None, *, n_anchors: int | None = None,
                    generator: torch.Generator | None = None):
    r"""Random (anchor, positive, negative) index triples for :func:`triplet_loss`.

    Anchors are drawn without replacement (all points when ``n_anchors`` is None).  Each
    anchor's positive is a uniformly random *other* point of its class, taken from a
    different domain whenever its class has a point in another domain; its negative is a
    uniformly random point of another class (any domain).  Anchors whose class has no
    other point are dropped.

    Parameters
    ----------
    y : array-like of shape (n,)
        Integer class labels; at least two classes.
    domain : array-like of shape (n,), optional
        Integer domain labels; None: one domain.
    n_anchors : int >= 1, optional
    generator : torch.Generator, optional
        A CPU generator, for reproducible draws.

    Returns
    -------
    (torch.Tensor, torch.Tensor, torch.Tensor)
        Index tensors ``(anchor, positive, negative)`` of equal length, on ``y``'s device.

    Examples
    --------
    >>> import torch, tllab
    >>> y = torch.tensor([0, 0, 1, 1]); dom = torch.tensor([0, 1, 0, 1])
    >>> gen = torch.Generator().manual_seed(0)
    >>> a, p, n = tllab.selective.sample_triplets(y, dom, generator=gen)
    >>> bool((y[a] == y[p]).all() and (dom[a] != dom[p]).all() and (y[a] != y[n]).all())
    True
    """
    y = check_labels(y, "y")
    dom = None if domain is None else check_labels(domain, "domain", y.shape[0], x_name="y",
                                                   device=y.device)
    if n_anchors is not None:
        n_anchors = check_int(n_anchors, "n_anchors", min_value=1)
    return _TripletSampler(y, dom).draw(n_anchors, generator)


class _TripletSampler:
    """Draws triples in O(n_anchors) after one sort of the points by (class, domain).

    In that order each class is a contiguous block and, inside it, each domain a
    sub-block; a uniform draw from "the class minus the anchor's domain" (or "the class
    minus the anchor", or "everything minus the class") is a uniform position in the
    shortened range, shifted past the excluded block.
    """

    def __init__(self, y: torch.Tensor, dom: torch.Tensor | None) -> None:
        n = y.shape[0]
        if int(torch.unique(y).numel()) < 2:
            raise ValueError("y must contain at least two classes (negatives come from "
                             "another class)")
        dom = y.new_zeros(n) if dom is None else dom
        n_classes = int(y.max()) + 1
        n_dom = int(dom.max()) + 1
        key = y * n_dom + dom
        self.order = torch.argsort(key, stable=True)
        self.rank = torch.empty_like(self.order)
        self.rank[self.order] = torch.arange(n, device=y.device)
        c_count = torch.bincount(y, minlength=n_classes)
        b_count = torch.bincount(key, minlength=n_classes * n_dom)
        c_start = torch.cumsum(c_count, 0) - c_count
        b_start = torch.cumsum(b_count, 0) - b_count
        self.n, self.y, self.key = n, y, key
        self.c_count, self.c_start = c_count, c_start
        self.b_count, self.b_start = b_count, b_start

    def draw(self, n_anchors: int | None, generator: torch.Generator | None):
        n, dev = self.n, self.y.device
        anchors = torch.randperm(n, generator=generator).to(dev)
        if n_anchors is not None:
            anchors = anchors[:n_anchors]
        u = torch.rand(2, anchors.numel(), generator=generator, dtype=torch.float64).to(dev)
        c, k = self.y[anchors], self.key[anchors]
        cs, cc = self.c_start[c], self.c_count[c]
        bs, bc = self.b_start[k], self.b_count[k]
        cross = cc - bc  # same class, other domains
        m_pos = torch.where(cross > 0, cross, cc - 1)
        r = (u[0] * m_pos).long().clamp(max=(m_pos - 1).clamp_min(0))
        skip_block = torch.where(cs + r >= bs, bc, 0)
        skip_self = (cs + r >= self.rank[anchors]).long()
        pos = cs + r + torch.where(cross > 0, skip_block, skip_self)
        m_neg = n - cc
        r = (u[1] * m_neg).long().clamp(max=m_neg - 1)
        neg = r + torch.where(r >= cs, cc, 0)
        keep = m_pos > 0
        return anchors[keep], self.order[pos[keep]], self.order[neg[keep]]


class EmbeddingFit(NamedTuple):
    """What :func:`fit_embedding` returns."""

    model: EmbeddingNet
    """The trained network (eval mode); ``model.embed(x)`` gives embeddings."""
    losses: list
    """The training loss at every step (on that step's random triples)."""


def fit_embedding(
    x,
    y,
    domain=None,
    *,
    loss: str = "triplet",
    dim: int = 16,
    hidden: int = 64,
    margin: float = 0.5,
    n_anchors: int = 256,
    weight_decay: float = 0.0,
    n_steps: int = 200,
    lr: float = 0.02,
    seed: int = 0,
) -> EmbeddingFit:
    r"""Train an embedding where same-class points are close, across domains.

    Every step draws ``n_anchors`` triples with :func:`sample_triplets` (cross-domain
    positives when ``domain`` is given) and takes an Adam step on :func:`triplet_loss` of
    their embeddings, or on :func:`contrastive_loss` of the pairs (anchor, positive,
    similar) and (anchor, negative, dissimilar).

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,)
        Integer class labels (at least two classes).
    domain : array-like of shape (n,), optional
        Integer domain of each point (e.g. 0 = source, 1 = labelled target).
    loss : {"triplet", "contrastive"}, default="triplet"
    dim, hidden
        As in :class:`EmbeddingNet` (normalised embeddings).
    margin : float, default=0.5
    n_anchors : int, default=256
    weight_decay : float >= 0, default=0.0
    n_steps : int, default=200
    lr : float, default=0.02
    seed : int, default=0
        Seeds the initialisation and the triples.

    Returns
    -------
    EmbeddingFit

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> y = torch.arange(200) % 2
    >>> x = torch.randn(200, 5, generator=g) + 2.0 * y[:, None]
    >>> fit = tllab.selective.fit_embedding(x, y, n_steps=50)
    >>> e = fit.model.embed(x)
    >>> tllab.selective.nearest_neighbour_accuracy(e[:100], y[:100], e[100:], y[100:]) > 0.9
    True
    """
    x = check_samples(x, "x", min_samples=2)
    y = check_labels(y, "y", x.shape[0], device=x.device)
    dom = None if domain is None else check_labels(domain, "domain", x.shape[0], device=x.device)
    loss = check_choice(loss, "loss", METRIC_LOSSES)
    margin = check_real(margin, "margin", low=0.0, low_inclusive=loss == "triplet")
    n_anchors = check_int(n_anchors, "n_anchors", min_value=1)
    n_steps, lr, weight_decay, seed = check_training(n_steps, lr, weight_decay, seed)
    model = seeded_module(lambda: EmbeddingNet(x.shape[1], dim, hidden), seed, x.device,
                          x.dtype)
    weights = decayed_weights(model)
    gen = torch.Generator().manual_seed(seed)
    sampler = _TripletSampler(y, dom)
    x = x.detach()

    def objective(_step):
        a, p, n = sampler.draw(n_anchors, gen)
        ea, ep, en = model(x[a]), model(x[p]), model(x[n])
        if loss == "triplet":
            value = _triplet(ea, ep, en, margin)
        else:
            s = torch.cat([ea.new_ones(a.numel()), ea.new_zeros(a.numel())])
            value = _contrastive(torch.cat([ea, ea]), torch.cat([ep, en]), s, margin)
        return value + weight_decay * l2_of_weights(weights) if weight_decay else value

    losses = full_batch_adam(model.parameters(), objective, n_steps, lr)
    model.eval()
    return EmbeddingFit(model, losses)


@torch.no_grad()
def nearest_neighbour_accuracy(x_ref, y_ref, x_query, y_query, *, k: int = 1) -> float:
    r"""Accuracy of the ``k``-nearest-neighbour rule: label queries from a reference set.

    Each query point gets the majority label of its ``k`` nearest reference points
    (Euclidean distance; ties between labels go to the smallest label, ties between
    distances to the earlier reference point).  Use it on raw inputs or on embeddings;
    with the source as reference and the target as queries it measures how well classes
    line up *across* domains.

    Parameters
    ----------
    x_ref : array-like of shape (n_ref, d)
    y_ref : array-like of shape (n_ref,)
        Integer labels.
    x_query : array-like of shape (n_query, d)
    y_query : array-like of shape (n_query,)
    k : int in [1, n_ref], default=1

    Returns
    -------
    float
        Fraction of query points labelled correctly.

    Examples
    --------
    >>> import tllab
    >>> tllab.selective.nearest_neighbour_accuracy([[0.0], [1.0]], [0, 1], [[0.2], [0.9]], [0, 0])
    0.5
    """
    xr, xq = check_sample_pair(x_ref, x_query, names=("x_ref", "x_query"))
    yr = check_labels(y_ref, "y_ref", xr.shape[0], x_name="x_ref", device=xr.device)
    yq = check_labels(y_query, "y_query", xq.shape[0], x_name="x_query", device=xr.device)
    k = check_int(k, "k", min_value=1)
    if k > xr.shape[0]:
        raise ValueError(f"k must be <= the number of reference points ({xr.shape[0]}); "
                         f"got {k}")
    dist = torch.cdist(xq, xr, compute_mode="donot_use_mm_for_euclid_dist")
    if k == 1:
        pred = yr[dist.argmin(1)]
    else:
        order = torch.sort(dist, dim=1, stable=True).indices[:, :k]
        votes = F.one_hot(yr[order], int(yr.max()) + 1).sum(1)
        pred = votes.argmax(1)  # the first maximum: the smallest label among ties
    return float((pred == yq).double().mean())
