r"""The experiments of the foundations chapter; each returns plain numbers and arrays.

All of them use scikit-learn's 8×8 digits (:mod:`tllab.data.digits`): a clean, labelled
*source* half and a *target* half seen through a shift, and the multi-class linear model of
:func:`tllab.models.one_vs_rest_logistic`, penalised in "sum" form (``reg = tau / n``: a
Gaussian prior of precision ``tau``, which the data outweigh as ``n`` grows).

* the four families of transfer: :func:`standardize_domain` (feature-based),
  :func:`class_relations` (relation-based) and :func:`family_study` (instance-, feature- and
  model-based transfer against no transfer, over seeds);
* :func:`learning_curve`: target-only against source-regularised training for a budget of
  target labels, for a rotated target or a source with concept shift (negative transfer);
* the terms of Ben-David et al.'s bound on the digit shifts are measured in
  :mod:`tllab.studies.foundations_bound`;
* :func:`explorer_state`, one state of the chapter's explorer (drawn by :mod:`tllab.viz`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from .._checks import check_int, check_real, check_samples, check_vector
from ..data.covariate import SHIMODAIRA, make_covariate_shift_regression
from ..data.digits import digit_domains, load_digits_domain
from ..models.linear import one_vs_rest_logistic, one_vs_rest_predict, weighted_least_squares
from ..reweight import ulsif_weights
from .instance_weighting import gaussian_target_risk

__all__ = [
    "N_CLASSES",
    "BUDGETS",
    "fit_classifier",
    "accuracy",
    "standardize_domain",
    "class_relations",
    "stratified_budget",
    "split_target",
    "RelationResult",
    "relation_study",
    "FamilyResult",
    "family_study",
    "LearningCurve",
    "learning_curve",
    "EXPLORER_ROTATIONS",
    "ExplorerState",
    "explorer_state",
]

N_CLASSES = 10
"""The ten digits."""

BUDGETS = (1, 2, 5, 10, 20, 40)
"""Default numbers of labelled target images per class in :func:`learning_curve`."""

_POOL = 450  # target images a seed may draw labels from; the other 448 are the test set


def _progress(iterable, progress: bool, desc: str):
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool; got {progress!r}")
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, leave=False)


def _seeds(seeds) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, range, np.ndarray)):
        raise TypeError(f"seeds must be a sequence of ints; got {type(seeds).__name__}")
    out = [check_int(s, "seeds", min_value=0) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    return out


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


def class_relations(x, y, *, n_classes: int = N_CLASSES) -> torch.Tensor:
    r"""Euclidean distances between the class means: the *relations* between the classes.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,)
        Every label in ``0 .. n_classes - 1`` must occur.
    n_classes : int, default=10

    Returns
    -------
    torch.Tensor of shape (n_classes, n_classes)
        Symmetric, zero diagonal.

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> study.class_relations([[0.0], [1.0], [4.0]], [0, 0, 1], n_classes=2).tolist()
    [[0.0, 3.5], [3.5, 0.0]]
    """
    x = check_samples(x, "x")
    y = check_vector(y, "y", x.shape[0]).to(device=x.device, dtype=torch.long)
    n_classes = check_int(n_classes, "n_classes", min_value=2)
    counts = torch.bincount(y, minlength=n_classes)
    if counts.shape[0] != n_classes or bool((counts == 0).any()):
        raise ValueError(f"y must contain every label 0..{n_classes - 1}")
    means = torch.zeros(n_classes, x.shape[1], dtype=x.dtype, device=x.device)
    means.index_add_(0, y, x)
    means = means / counts[:, None].to(x.dtype)
    return torch.cdist(means, means)


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


class RelationResult(NamedTuple):
    """What survives a rotation of the target digits: entities or relations?"""

    rotations: np.ndarray
    """Degrees, shape ``(R,)``."""
    entities: np.ndarray
    """Correlation of the source and target class-mean images (640 pixels), ``(S, R)``."""
    relations: np.ndarray
    """Correlation of the source and target :func:`class_relations` (45 pairs), ``(S, R)``."""


def relation_study(rotations: Sequence[float] = (0.0, 15.0, 30.0, 45.0, 90.0),
                   seeds: Sequence[int] = tuple(range(5))) -> RelationResult:
    r"""Do the class means, or the distances between them, carry over to a rotated target?

    For every seed both halves of the digits are resampled with replacement (a bootstrap);
    for every rotation of the target half, two correlations with the source are recorded:
    of the ten class-mean images pixel by pixel (the *entities*), and of the 45 distances
    between class means (the *relations*, :func:`class_relations`).

    Parameters
    ----------
    rotations : sequence of float, default=(0, 15, 30, 45, 90)
    seeds : sequence of int, default=range(5)

    Returns
    -------
    RelationResult

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> out = study.relation_study([0.0, 90.0], seeds=[0])
    >>> bool(out.relations[0, 1] > 0.9 > out.entities[0, 1])
    True
    """
    rots = [check_real(r, "rotations") for r in rotations]
    if not rots:
        raise ValueError("rotations must not be empty")
    seeds = _seeds(seeds)
    xs, ys = load_digits_domain("source")
    targets = [load_digits_domain("target", rotation=r) for r in rots]
    upper = torch.triu_indices(N_CLASSES, N_CLASSES, 1)
    ent = np.zeros((len(seeds), len(rots)))
    rel = np.zeros_like(ent)

    def means_and_relations(x, y):
        rel = class_relations(x, y)
        means = torch.stack([x[y == k].mean(0) for k in range(N_CLASSES)])
        return means.reshape(-1).numpy(), rel[upper[0], upper[1]].numpy()

    for i, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(seed)
        bs = torch.randint(len(ys), (len(ys),), generator=gen)
        bt = torch.randint(len(targets[0][1]), (len(targets[0][1]),), generator=gen)
        ms, rs = means_and_relations(xs[bs], ys[bs])
        for j, (xt, yt) in enumerate(targets):
            mt, rt = means_and_relations(xt[bt], yt[bt])
            ent[i, j] = np.corrcoef(ms, mt)[0, 1]
            rel[i, j] = np.corrcoef(rs, rt)[0, 1]
    return RelationResult(np.asarray(rots), ent, rel)


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


def _relabel(y: torch.Tensor) -> torch.Tensor:
    """The concept-shifted source task: class ``k`` is called ``k + 1`` (mod 10)."""
    return (y + 1) % N_CLASSES


class FamilyResult(NamedTuple):
    """One row of :func:`family_study`: a family of transfer against no transfer."""

    family: str
    setting: str
    metric: str
    without: np.ndarray
    """The metric without transfer, one value per seed."""
    with_transfer: np.ndarray
    """The metric with this family's transfer, one value per seed."""


def family_study(seeds: Sequence[int] = tuple(range(5)), *, tau: float = 1.0,
                 budget: int = 2) -> list[FamilyResult]:
    r"""Instance-, feature- and model-based transfer, each against no transfer, over seeds.

    * ``"instance"``: Shimodaira's regression (:data:`~tllab.data.covariate.SHIMODAIRA`, 200 + 200
      points per seed); a straight line fitted without weights and with uLSIF weights
      (:func:`tllab.ulsif_weights`); metric: the exact target risk (lower is better).
    * ``"feature"``: digits under the ``"environment"`` shift at severity 1.5 (glare and low
      contrast); a classifier trained on 600 random source images per seed, applied to raw
      target pixels, or to both domains after :func:`standardize_domain`; metric: target
      accuracy.
    * ``"model"``: digits rotated by 15° (``"drift"``, severity 0.5); ``budget`` labelled
      target images per class (drawn per seed), fitted from scratch or shrunk towards the
      source model (``prior``); metric: accuracy on held-out target images.

    Parameters
    ----------
    seeds : sequence of int, default=range(5)
    tau : float > 0, default=1.0
        Penalty of :func:`fit_classifier`.
    budget : int >= 1, default=2

    Returns
    -------
    list of FamilyResult
        In the order instance, feature, model.

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> rows = study.family_study([0])
    >>> [r.family for r in rows]
    ['instance', 'feature', 'model']
    >>> all(bool(r.with_transfer[0] != r.without[0]) for r in rows)
    True
    """
    seeds = _seeds(seeds)
    tau = check_real(tau, "tau", low=0.0, low_inclusive=False)
    budget = check_int(budget, "budget", min_value=1)
    p = SHIMODAIRA
    inst = np.zeros((2, len(seeds)))
    feat = np.zeros((2, len(seeds)))
    model = np.zeros((2, len(seeds)))
    env = digit_domains("environment", 1.5)
    zs, zt = standardize_domain(env.xs), standardize_domain(env.xt)
    drift = digit_domains("drift", 0.5)
    source_model = fit_classifier(drift.xs, drift.ys, tau=tau)
    for i, seed in enumerate(seeds):
        data = make_covariate_shift_regression(200, 200, seed=seed)
        w = ulsif_weights(data.xs, data.xt)
        for j, weights in enumerate((None, w)):
            coef = weighted_least_squares(data.xs, data.ys, weights)
            inst[j, i] = gaussian_target_risk(coef, p["mu_t"], p["sigma_t"], noise=p["noise"])
        sub = torch.randperm(len(env.ys), generator=torch.Generator().manual_seed(seed))[:600]
        feat[0, i] = accuracy(fit_classifier(env.xs[sub], env.ys[sub], tau=tau), env.xt, env.yt)
        feat[1, i] = accuracy(fit_classifier(zs[sub], env.ys[sub], tau=tau), zt, env.yt)
        pool, test = split_target(seed, len(drift.yt))
        lab = pool[stratified_budget(drift.yt[pool], budget, seed)]
        for j, prior in enumerate((None, source_model)):
            coef = fit_classifier(drift.xt[lab], drift.yt[lab], tau=tau, prior=prior)
            model[j, i] = accuracy(coef, drift.xt[test], drift.yt[test])
    return [
        FamilyResult("instance", "Shimodaira's regression, uLSIF weights",
                     "target risk", inst[0], inst[1]),
        FamilyResult("feature", "digits, glare (environment 1.5), per-domain standardising",
                     "target accuracy", feat[0], feat[1]),
        FamilyResult("model", f"digits rotated 15°, {budget} target labels per class",
                     "target accuracy", model[0], model[1]),
    ]


class LearningCurve(NamedTuple):
    """Target accuracy against the number of labelled target images (see
    :func:`learning_curve`)."""

    rotation: float
    concept_shift: bool
    budgets: np.ndarray
    """Labelled target images per class, shape ``(B,)``."""
    source_only: np.ndarray
    """Accuracy of the source model on each seed's test images, shape ``(S,)``."""
    target_only: np.ndarray
    """Trained on the target labels alone (shrunk towards 0), shape ``(S, B)``."""
    transfer: np.ndarray
    """Trained on the target labels, shrunk towards the source model, shape ``(S, B)``."""


def learning_curve(
    rotation: float = 15.0,
    budgets: Sequence[int] = BUDGETS,
    seeds: Sequence[int] = tuple(range(5)),
    *,
    concept_shift: bool = False,
    tau: float = 1.0,
    progress: bool = True,
) -> LearningCurve:
    r"""Does a source model help when target labels are scarce?  A learning curve.

    Source: the clean labelled source half of the digits (899 images); with
    ``concept_shift=True`` its labels are renamed, class ``k`` called ``k + 1`` (mod 10):
    the same images under another labelling rule.  Target: the other half, rotated by
    ``rotation`` degrees.  For each seed the target half is split into a pool of 450
    images and 448 test images (:func:`split_target`); for each budget ``b``, ``b`` images
    per class are drawn from the pool (:func:`stratified_budget`) and two models are fitted
    on them with :func:`fit_classifier`: *target only* (shrunk towards 0) and *transfer*
    (shrunk towards the source model, ``prior=``).  The source model itself is also scored.

    Parameters
    ----------
    rotation : float, default=15.0
        Degrees (``0`` = no shift of the inputs).
    budgets : sequence of int >= 1, default=BUDGETS
    seeds : sequence of int, default=range(5)
    concept_shift : bool, default=False
    tau : float > 0, default=1.0
    progress : bool, default=True
        Show a progress bar over the seeds (``tqdm.auto``).

    Returns
    -------
    LearningCurve

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> lc = study.learning_curve(0.0, budgets=[1], seeds=[0], progress=False)
    >>> bool(lc.transfer[0, 0] > lc.target_only[0, 0])  # same domain, one label per class
    True
    """
    rotation = check_real(rotation, "rotation")
    budget_list = [check_int(b, "budgets", min_value=1) for b in budgets]
    if not budget_list:
        raise ValueError("budgets must not be empty")
    seeds = _seeds(seeds)
    if not isinstance(concept_shift, bool):
        raise TypeError(f"concept_shift must be a bool; got {concept_shift!r}")
    tau = check_real(tau, "tau", low=0.0, low_inclusive=False)
    xs, ys = load_digits_domain("source")
    xt, yt = load_digits_domain("target", rotation=rotation)
    loop = _progress(seeds, progress, "seeds")
    source_model = fit_classifier(xs, _relabel(ys) if concept_shift else ys, tau=tau)
    src = np.zeros(len(seeds))
    tgt = np.zeros((len(seeds), len(budget_list)))
    trf = np.zeros_like(tgt)
    for i, seed in enumerate(loop):
        pool, test = split_target(seed, len(yt))
        src[i] = accuracy(source_model, xt[test], yt[test])
        for j, b in enumerate(budget_list):
            lab = pool[stratified_budget(yt[pool], b, seed)]
            tgt[i, j] = accuracy(fit_classifier(xt[lab], yt[lab], tau=tau), xt[test], yt[test])
            trf[i, j] = accuracy(fit_classifier(xt[lab], yt[lab], tau=tau, prior=source_model),
                                 xt[test], yt[test])
    return LearningCurve(rotation, concept_shift, np.asarray(budget_list), src, tgt, trf)


EXPLORER_ROTATIONS = (0.0, 10.0, 15.0, 20.0, 25.0, 30.0, 45.0, 90.0)
"""Rotations (degrees) of the explorer's slider and of its animated fallback."""


class ExplorerState(NamedTuple):
    """One picture of the chapter's explorer (see :func:`explorer_state`)."""

    rotation: float
    budget: int
    curve: LearningCurve
    examples: np.ndarray
    """Eight target images at this rotation, shape ``(8, 8, 8)``."""


@functools.lru_cache(maxsize=64)
def _cached_curve(rotation: float, concept_shift: bool, seeds: tuple,
                  tau: float) -> LearningCurve:
    return learning_curve(rotation, BUDGETS, seeds, concept_shift=concept_shift, tau=tau,
                          progress=False)


def explorer_state(rotation: float = 15.0, budget: int = 2, concept_shift: bool = False, *,
                   tau: float = 1.0, seeds: Sequence[int] = tuple(range(5))) -> ExplorerState:
    r"""The learning curve at one rotation, with one label budget highlighted.

    Curves are cached per ``(rotation, concept_shift, seeds, tau)``, so moving the budget is
    free and revisiting a rotation is instant.

    Parameters
    ----------
    rotation : float, default=15.0
        Degrees by which the target digits are turned.
    budget : int, default=2
        Labelled target images per class; one of :data:`BUDGETS`.
    concept_shift : bool, default=False
        Use the source with renamed labels (see :func:`learning_curve`).
    tau : float > 0, default=1.0
    seeds : sequence of int, default=range(5)

    Returns
    -------
    ExplorerState

    Examples
    --------
    >>> from tllab.studies import foundations as study
    >>> s = study.explorer_state(0.0, 1, seeds=[0])
    >>> s.examples.shape, s.curve.budgets.tolist() == list(study.BUDGETS)
    ((8, 8, 8), True)
    """
    rotation = check_real(rotation, "rotation")
    budget = check_int(budget, "budget", min_value=1)
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}; got {budget}")
    if not isinstance(concept_shift, bool):
        raise TypeError(f"concept_shift must be a bool; got {concept_shift!r}")
    tau = check_real(tau, "tau", low=0.0, low_inclusive=False)
    curve = _cached_curve(rotation, concept_shift, tuple(_seeds(seeds)), tau)
    images, _ = load_digits_domain("target", rotation=rotation, flatten=False)
    return ExplorerState(rotation, budget, curve, images[:8].numpy())
