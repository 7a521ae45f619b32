r"""Transfer against no transfer: the families of transfer, the learning curve, the explorer.

* :func:`family_study`: instance-, feature- and model-based transfer, each against no
  transfer, over seeds;
* :func:`learning_curve`: target-only against source-regularised training for a budget of
  target labels, for a rotated target or a source with concept shift (negative transfer);
* :func:`explorer_state`, one state of the chapter's explorer (drawn by :mod:`tllab.viz`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..._checks import check_int, check_real, check_seeds
from ...data.covariate import SHIMODAIRA, make_covariate_shift_regression
from ...data.digits import digit_domains, load_digits_domain
from ...models.linear import weighted_least_squares
from ...reweight import ulsif_weights
from .._progress import progress_bar
from ..instance_weighting import gaussian_target_risk
from ._common import _relabel
from .classifier import (
    accuracy,
    fit_classifier,
    split_target,
    standardize_domain,
    stratified_budget,
)

__all__ = [
    "BUDGETS",
    "FamilyResult",
    "family_study",
    "LearningCurve",
    "learning_curve",
    "EXPLORER_ROTATIONS",
    "ExplorerState",
    "explorer_state",
]

BUDGETS = (1, 2, 5, 10, 20, 40)
"""Default numbers of labelled target images per class in :func:`learning_curve`."""


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
      target pixels, or to both domains after
      :func:`~tllab.studies.foundations.classifier.standardize_domain`; metric: target accuracy.
    * ``"model"``: digits rotated by 15° (``"drift"``, severity 0.5); ``budget`` labelled
      target images per class (drawn per seed), fitted from scratch or shrunk towards the
      source model (``prior``); metric: accuracy on held-out target images.

    Parameters
    ----------
    seeds : sequence of int, default=range(5)
    tau : float > 0, default=1.0
        Penalty of :func:`~tllab.studies.foundations.classifier.fit_classifier`.
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
    seeds = check_seeds(seeds)
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
    images and 448 test images
    (:func:`~tllab.studies.foundations.classifier.split_target`); for each budget ``b``,
    ``b`` images per class are drawn from the pool
    (:func:`~tllab.studies.foundations.classifier.stratified_budget`) and two models are fitted on
    them with :func:`~tllab.studies.foundations.classifier.fit_classifier`: *target only* (shrunk
    towards 0) and *transfer* (shrunk towards the source model, ``prior=``).  The source
    model itself is also scored.

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
    seeds = check_seeds(seeds)
    if not isinstance(concept_shift, bool):
        raise TypeError(f"concept_shift must be a bool; got {concept_shift!r}")
    tau = check_real(tau, "tau", low=0.0, low_inclusive=False)
    xs, ys = load_digits_domain("source")
    xt, yt = load_digits_domain("target", rotation=rotation)
    loop = progress_bar(seeds, progress, "seeds")
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
    curve = _cached_curve(rotation, concept_shift, tuple(check_seeds(seeds)), tau)
    images, _ = load_digits_domain("target", rotation=rotation, flatten=False)
    return ExplorerState(rotation, budget, curve, images[:8].numpy())
