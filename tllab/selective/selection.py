r"""Source-sample selection: keep the source points that look like the target.

:func:`select_source_samples` scores every source point by how typical it is of the target,
with a density-ratio estimate from :mod:`tllab.reweight` (``score="ratio"``) or its kernel
similarity to the target sample (``score="similarity"``), and keeps the top fraction.
Selection is the hard, 0/1 version of importance weighting: a kept point's loss counts
once, a dropped point's not at all.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .._checks import check_choice, check_real, check_sample_pair, check_vector
from ..kernels import kernel_matvec, resolve_bandwidth
from ..reweight import classifier_weights, kliep_weights, kmm_weights, ulsif_weights

__all__ = ["SELECTION_SCORES", "RATIO_ESTIMATORS", "SourceSelection", "source_scores",
           "select_top", "select_source_samples"]

SELECTION_SCORES = ("ratio", "similarity")
"""Scores understood by :func:`select_source_samples`."""

RATIO_ESTIMATORS = {
    "ulsif": ulsif_weights,
    "kliep": kliep_weights,
    "kmm": kmm_weights,
    "classifier": classifier_weights,
}
"""Density-ratio estimators usable with ``score="ratio"`` (all from :mod:`tllab.reweight`)."""


class SourceSelection(NamedTuple):
    """What :func:`select_source_samples` returns."""

    indices: torch.Tensor
    """Indices of the kept source points, highest score first (``torch.long``)."""
    mask: torch.Tensor
    """Boolean mask of shape ``(n_s,)``, True for the kept points."""
    scores: torch.Tensor
    """The score of every source point, shape ``(n_s,)``."""


def source_scores(xs, xt, *, score: str = "ratio", estimator: str = "ulsif",
                  bandwidth="median", **kwargs) -> torch.Tensor:
    r"""How typical of the target each source point is.

    * ``score="ratio"``: the estimated density ratio ``ŵ(x_i) ≈ p_t(x_i) / p_s(x_i)`` of
      one of :data:`RATIO_ESTIMATORS` (``tllab.ulsif_weights`` by default);
    * ``score="similarity"``: the mean kernel similarity to the target sample,
      ``s_i = (1/n_t) Σ_j k(x_i, x'_j)`` with the Gaussian kernel
      ``k(x, y) = exp(-||x - y||² / (2σ²))``, i.e. a kernel density estimate of ``p_t``
      at ``x_i`` up to a constant.  It ignores ``p_s``: a source point in a crowded part
      of the source scores as high as a lone one at the same place.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
    score : {"ratio", "similarity"}, default="ratio"
    estimator : {"ulsif", "kliep", "kmm", "classifier"}, default="ulsif"
        Used with ``score="ratio"``.
    bandwidth : "median", float or list of float, default="median"
        σ of the kernel (of the similarity, or of the kernel estimators); ``"median"`` is
        :func:`tllab.median_bandwidth` of ``xs ∪ xt``.  Not used by ``"classifier"``.
    **kwargs
        Passed to the ratio estimator (e.g. ``reg``, ``seed``).

    Returns
    -------
    torch.Tensor of shape (n_s,)

    Examples
    --------
    >>> import torch, tllab
    >>> xs = torch.tensor([[0.0], [1.0], [3.0]]); xt = torch.tensor([[3.0], [3.2]])
    >>> s = tllab.selective.source_scores(xs, xt, score="similarity", bandwidth=1.0)
    >>> s.argmax().item()
    2
    """
    xs, xt = check_sample_pair(xs, xt, names=("xs", "xt"), min_samples=1)
    score = check_choice(score, "score", SELECTION_SCORES)
    if score == "similarity":
        if kwargs:
            raise TypeError(f"score='similarity' takes no estimator arguments; got "
                            f"{sorted(kwargs)}")
        sigma = resolve_bandwidth(bandwidth, xs, xt)
        ones = xt.new_ones(xt.shape[0])
        return kernel_matvec(xs, ones, xt, bandwidth=sigma) / xt.shape[0]
    estimator = check_choice(estimator, "estimator", tuple(RATIO_ESTIMATORS))
    if estimator == "classifier":
        if not (isinstance(bandwidth, str) and bandwidth == "median"):
            raise ValueError("estimator='classifier' has no bandwidth; leave bandwidth at "
                             "'median'")
        return classifier_weights(xs, xt, **kwargs)
    return RATIO_ESTIMATORS[estimator](xs, xt, bandwidth=bandwidth, **kwargs)


def select_top(scores, fraction: float) -> SourceSelection:
    r"""Keep the ``k = max(1, floor(fraction · n + 1/2))`` highest of ``n`` scores.

    Ties are broken by position (the earlier index first), so the result is deterministic.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Finite; higher means more typical of the target.
    fraction : float in (0, 1]

    Returns
    -------
    SourceSelection
        ``indices`` in decreasing order of score, the boolean ``mask``, and ``scores``.

    Examples
    --------
    >>> import tllab
    >>> sel = tllab.selective.select_top([0.1, 0.9, 0.5, 0.9], fraction=0.5)
    >>> sel.indices.tolist(), sel.mask.tolist()
    ([1, 3], [False, True, False, True])
    """
    scores = check_vector(scores, "scores")
    if scores.shape[0] == 0:
        raise ValueError("scores must not be empty")
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    n = scores.shape[0]
    k = max(1, math.floor(fraction * n + 0.5))
    indices = torch.argsort(scores, descending=True, stable=True)[:k]
    mask = torch.zeros(n, dtype=torch.bool, device=scores.device)
    mask[indices] = True
    return SourceSelection(indices, mask, scores)


def select_source_samples(xs, xt, *, score: str = "ratio", fraction: float = 0.5,
                          estimator: str = "ulsif", bandwidth="median",
                          **kwargs) -> SourceSelection:
    r"""Keep the fraction of source points most typical of the target.

    Scores every source point with :func:`source_scores` and keeps the
    ``k = max(1, floor(fraction · n_s + 1/2))`` highest (:func:`select_top`; ties: the
    earlier index first).
    Train on ``xs[sel.indices]`` (or pass ``sel.mask`` as 0/1 sample weights): selection
    multiplies each point's *loss* by 0 or 1, exactly as importance weights multiply it by
    ``w_i``; neither touches the inputs themselves.

    Parameters
    ----------
    xs : array-like of shape (n_s, d)
    xt : array-like of shape (n_t, d)
    score : {"ratio", "similarity"}, default="ratio"
    fraction : float in (0, 1], default=0.5
    estimator, bandwidth, **kwargs
        As in :func:`source_scores`.

    Returns
    -------
    SourceSelection
        ``(indices, mask, scores)`` on ``xs``'s device.

    Examples
    --------
    >>> import tllab
    >>> d = tllab.data.make_mixed_source(200, irrelevant_fraction=0.5, seed=0)
    >>> sel = tllab.selective.select_source_samples(d.xs, d.xt, fraction=0.5)
    >>> len(sel.indices), float(d.relevant[sel.mask].double().mean()) > 0.9
    (100, True)
    """
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    scores = source_scores(xs, xt, score=score, estimator=estimator, bandwidth=bandwidth,
                           **kwargs)
    return select_top(scores, fraction)
