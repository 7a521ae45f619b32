r"""The foundations chapter's digit classifier and the helpers that prepare its data.

:func:`fit_classifier` is the multi-class linear model of
:func:`tllab.models.one_vs_rest_logistic`, penalised in "sum" form (``reg = tau / n``: a
Gaussian prior of precision ``tau``, which the data outweigh as ``n`` grows), and
:func:`accuracy` scores it.  :func:`standardize_domain` is the simplest feature-based transfer;
:func:`split_target` and :func:`stratified_budget` draw a seed's test images and its labelled
target images.
"""

from __future__ import annotations

import torch

from ..._checks import check_int, check_real, check_samples, check_vector
from ...models.linear import one_vs_rest_logistic, one_vs_rest_predict

__all__ = [
    "N_CLASSES",
    "fit_classifier",
    "accuracy",
    "standardize_domain",
    "stratified_budget",
    "split_target",
]

N_CLASSES = 10
"""The ten digits."""

_POOL = 450  # target images a seed may draw labels from; the other 448 are the test set


def fit_classifier(x, y, *, tau: float = 1.0, prior=None) -> torch.Tensor:
    r"""The chapter's digit classifier: one-vs-rest logistic regression, ``reg = tau / n``.

    Each class's objective is ``Σ_i ℓ_i + (tau/2)·||θ − θ^prior||²`` up to the factor
    ``1/n`` (:func:`tllab.models.one_vs_rest_logistic` with ``reg = tau / n``): the maximum
    a posteriori fit under a Gaussian prior ``N(θ^prior, I/tau)`` on the slopes.  The
    penalty does not grow with the sample, so the data outweigh the prior as ``n`` grows.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,)
        Labels in ``0..9``.
    tau : float > 0, default=1.0
        Precision of the prior.
    prior : array-like of shape (10, d + 1), optional
        A source model's coefficients (model-based transfer); None: shrink towards 0.

    Returns
    -------
    torch.Tensor of shape (10, d + 1)

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import foundations as study
    >>> xs, ys = tllab.data.load_digits_domain("source")
    >>> coef = study.fit_classifier(xs, ys)
    >>> coef.shape, study.accuracy(coef, xs, ys) > 0.95
    (torch.Size([10, 65]), True)
    """
    x = check_samples(x, "x")
    tau = check_real(tau, "tau", low=0.0, low_inclusive=False)
    return one_vs_rest_logistic(x, y, n_classes=N_CLASSES, reg=tau / x.shape[0], prior=prior)


def accuracy(coef, x, y) -> float:
    r"""Fraction of ``x`` that the model ``coef`` labels as ``y``.

    Parameters
    ----------
    coef : array-like of shape (K, d + 1)
    x : array-like of shape (n, d)
    y : array-like of shape (n,)

    Returns
    -------
    float

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> study.accuracy([[1.0, -1.0], [-1.0, 1.0]], [[0.0], [3.0]], [0, 0])
    0.5
    """
    pred = one_vs_rest_predict(coef, x)
    y = check_vector(y, "y", pred.shape[0]).to(pred.device)
    return float((pred == y).to(torch.float64).mean())


def standardize_domain(x, *, eps: float = 0.01) -> torch.Tensor:
    r"""Standardise each feature on the domain's own statistics: ``(x − mean) / (sd + eps)``.

    The simplest *feature-based* transfer: applied to the source and the target separately,
    it maps both into a space where every feature has mean 0 and (about) unit spread, which
    undoes any per-feature affine change of the inputs, such as a change of lighting.
    ``eps`` keeps almost-constant pixels (the digits' black borders) from being blown up.

    Parameters
    ----------
    x : array-like of shape (n, d), n >= 2
    eps : float >= 0, default=0.01

    Returns
    -------
    torch.Tensor of shape (n, d)

    Examples
    --------
    >>> import torch
    >>> from tllab.studies import foundations as study
    >>> x = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]])
    >>> z = study.standardize_domain(x, eps=0.0)
    >>> bool(torch.allclose(z, study.standardize_domain(3 * x + 1, eps=0.0)))  # gain, offset
    True
    """
    x = check_samples(x, "x", min_samples=2)
    eps = check_real(eps, "eps", low=0.0)
    sd = x.std(0)
    if eps == 0.0 and bool((sd == 0).any()):
        raise ValueError("x has a constant feature; pass eps > 0")
    return (x - x.mean(0)) / (sd + eps)


def stratified_budget(y, per_class: int, seed: int = 0) -> torch.Tensor:
    r"""Indices of ``per_class`` randomly drawn examples of every class of ``y``.

    Parameters
    ----------
    y : array-like of shape (n,)
        Integer labels.
    per_class : int >= 1
        Capped at the size of the smallest class.
    seed : int, default=0

    Returns
    -------
    torch.Tensor of shape (per_class · n_labels,), dtype long

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> idx = study.stratified_budget([0, 0, 0, 1, 1, 1], 2)
    >>> sorted(int(v) // 3 for v in idx)  # two of each class
    [0, 0, 1, 1]
    """
    y = check_vector(y, "y").to(torch.long).cpu()
    per_class = check_int(per_class, "per_class", min_value=1)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    picks = []
    for k in torch.unique(y):
        members = (y == k).nonzero()[:, 0]
        picks.append(members[torch.randperm(len(members), generator=gen)[:per_class]])
    return torch.cat(picks)


def split_target(seed: int, n: int = 898) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A seed's split of the target half: 450 images to draw labels from, the rest to test.

    Parameters
    ----------
    seed : int
    n : int, default=898
        Size of the target half.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Indices of the label pool and of the test images (disjoint, together ``0..n-1``).

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> pool, test = study.split_target(0)
    >>> len(pool), len(test)
    (450, 448)
    """
    seed = check_int(seed, "seed", min_value=0)
    n = check_int(n, "n", min_value=_POOL + 1)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[:_POOL], perm[_POOL:]
