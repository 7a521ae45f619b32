r"""The domain-adaptation bound of the foundations chapter, measured on shifted digits.

Ben-David et al. bound the target error of a classifier ``h`` by
``ε_t(h) ≤ ε_s(h) + ½ d_{HΔH}(D_s, D_t) + λ``.  :func:`bound_study` measures each term
on the digit shifts of :func:`~tllab.data.digits.digit_domains` over seeds; :func:`rank_agreement`
says whether a term orders the shifts as the real target error does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..._checks import check_choice, check_int, check_real, check_seeds
from ...data.digits import digit_domains
from ...divergence import proxy_a_distance
from .._progress import progress_bar
from ._common import _relabel
from .classifier import N_CLASSES, accuracy, fit_classifier

__all__ = [
    "BoundRow",
    "DEFAULT_CONDITIONS",
    "bound_study",
    "rank_agreement",
]


class BoundRow(NamedTuple):
    """The terms of the domain-adaptation bound for one shift, one value per seed."""

    cause: str
    severity: float
    source_error: np.ndarray
    """Held-out source error of the source classifier ``h``."""
    pad: np.ndarray
    """Proxy A-distance between the source and target inputs (no labels)."""
    lam: np.ndarray
    """Estimated ``λ``: held-out source + target error of a classifier trained on both."""
    target_error: np.ndarray
    """The real target error of ``h`` (held-out target images)."""

    @property
    def bound(self) -> np.ndarray:
        """``source_error + ½·pad + lam``, per seed."""
        return self.source_error + 0.5 * self.pad + self.lam


DEFAULT_CONDITIONS = (("none", 0.0),
                      ("sensor", 0.5), ("sensor", 1.0), ("sensor", 1.5),
                      ("environment", 0.5), ("environment", 1.0), ("environment", 1.5),
                      ("drift", 0.5), ("drift", 1.0), ("drift", 1.5))
"""The (cause, severity) pairs of :func:`bound_study`: no shift, then three causes × three
severities of :func:`~tllab.data.digits.digit_domains`."""


def bound_study(
    conditions: Sequence[tuple[str, float]] = DEFAULT_CONDITIONS,
    seeds: Sequence[int] = tuple(range(5)),
    *,
    tau: float = 1.0,
    n_train: int = 600,
    concept_shift: bool = False,
    progress: bool = True,
) -> list[BoundRow]:
    r"""Measure the terms of Ben-David et al.'s bound on shifted digits, over seeds.

    ``ε_t(h) ≤ ε_s(h) + ½ d_{HΔH}(D_s, D_t) + λ`` with ``λ = min_h' ε_s(h') + ε_t(h')``.
    For each condition (:func:`~tllab.data.digits.digit_domains` ``(cause, severity, seed=seed)``)
    and seed, each half is split at random into ``n_train`` training and the remaining
    held-out images; then

    * ``h`` = :func:`~tllab.studies.foundations.classifier.fit_classifier` on the source
      training images; ``source_error`` and ``target_error`` are its errors on the held-out
      source and target images;
    * ``pad`` = :func:`tllab.proxy_a_distance` between all source and target inputs (the
      divergence term's usual stand-in; a linear domain classifier, cross-fitted);
    * ``lam`` = the held-out source error plus the held-out target error of one classifier
      trained on the labelled training images of *both* domains (an estimate of ``λ``,
      which needs target labels).

    Parameters
    ----------
    conditions : sequence of (str, float), default=DEFAULT_CONDITIONS
    seeds : sequence of int, default=range(5)
    tau : float > 0, default=1.0
        Penalty of the classifiers.
    n_train : int, default=600
    concept_shift : bool, default=False
        Rename the source labels as in
        :func:`~tllab.studies.foundations.transfer.learning_curve` (a shift no input-based
        divergence can see).
    progress : bool, default=True

    Returns
    -------
    list of BoundRow
        One per condition, in order.

    Examples
    --------
    >>> from tllab.studies.foundations import bound as study
    >>> row = study.bound_study([("drift", 1.0)], seeds=[0], progress=False)[0]
    >>> bool(row.target_error[0] > row.source_error[0]), bool(row.pad[0] > 1.5)
    (True, True)
    """
    if isinstance(conditions, (str, bytes)) or len(conditions) == 0:
        raise ValueError("conditions must be a non-empty sequence of (cause, severity)")
    conds = []
    for c in conditions:
        if not isinstance(c, (tuple, list)) or len(c) != 2:
            raise TypeError(f"each condition must be a (cause, severity) pair; got {c!r}")
        conds.append((check_choice(c[0], "cause", ("none", "sensor", "environment", "drift")),
                      check_real(c[1], "severity", low=0.0)))
    seeds = check_seeds(seeds)
    tau = check_real(tau, "tau", low=0.0, low_inclusive=False)
    n_train = check_int(n_train, "n_train", min_value=N_CLASSES)
    if n_train >= 898:
        raise ValueError(f"n_train must leave held-out images (< 898); got {n_train}")
    if not isinstance(concept_shift, bool):
        raise TypeError(f"concept_shift must be a bool; got {concept_shift!r}")
    out = {k: np.zeros((len(conds), len(seeds)))
           for k in ("source_error", "pad", "lam", "target_error")}
    jobs = [(i, j) for j in range(len(seeds)) for i in range(len(conds))]
    for i, j in progress_bar(jobs, progress, "conditions × seeds"):
        cause, severity = conds[i]
        xs, ys, xt, yt = digit_domains(cause, severity, seed=seeds[j])
        if concept_shift:
            ys = _relabel(ys)
        gen = torch.Generator().manual_seed(seeds[j])
        ps, pt = torch.randperm(len(ys), generator=gen), torch.randperm(len(yt), generator=gen)
        s_tr, s_te, t_tr, t_te = ps[:n_train], ps[n_train:], pt[:n_train], pt[n_train:]
        h = fit_classifier(xs[s_tr], ys[s_tr], tau=tau)
        joint = fit_classifier(torch.cat([xs[s_tr], xt[t_tr]]), torch.cat([ys[s_tr], yt[t_tr]]),
                               tau=tau)
        out["source_error"][i, j] = 1.0 - accuracy(h, xs[s_te], ys[s_te])
        out["target_error"][i, j] = 1.0 - accuracy(h, xt[t_te], yt[t_te])
        out["pad"][i, j] = proxy_a_distance(xs, xt, seed=seeds[j])
        out["lam"][i, j] = (2.0 - accuracy(joint, xs[s_te], ys[s_te])
                            - accuracy(joint, xt[t_te], yt[t_te]))
    return [BoundRow(cause, severity, *(out[k][i] for k in ("source_error", "pad", "lam",
                                                             "target_error")))
            for i, (cause, severity) in enumerate(conds)]


def rank_agreement(rows: Sequence[BoundRow]) -> dict[str, np.ndarray]:
    r"""Spearman rank correlation of each term with the real target error, seed by seed.

    For every seed, the conditions are ranked by a term (the bound, ``pad``, ``lam`` or
    ``source_error``) and by the real target error; Spearman's ρ compares the two orders
    (1: the same order, 0: unrelated, NaN: the term is constant across the conditions).

    Parameters
    ----------
    rows : sequence of BoundRow
        At least three conditions, all with the same seeds (from :func:`bound_study`).

    Returns
    -------
    dict
        ``{"bound", "pad", "lam", "source_error"}`` → array of ρ, one per seed.

    Examples
    --------
    >>> import numpy as np
    >>> from tllab.studies.foundations import bound as study
    >>> z = np.zeros(2)
    >>> rows = [study.BoundRow("c", float(s), z, z + s, z, z + 0.1 * s) for s in range(3)]
    >>> study.rank_agreement(rows)["pad"].tolist()
    [1.0, 1.0]
    """
    from scipy.stats import spearmanr

    rows = list(rows)
    if len(rows) < 3 or not all(isinstance(r, BoundRow) for r in rows):
        raise ValueError("rows must be at least three BoundRow (from bound_study)")
    if len({r.target_error.shape for r in rows}) != 1:
        raise ValueError("rows must all have the same number of seeds")
    truth = np.stack([r.target_error for r in rows])
    out = {}
    for key in ("bound", "pad", "lam", "source_error"):
        values = np.stack([getattr(r, key) for r in rows])
        out[key] = np.array([
            float("nan") if np.ptp(values[:, j]) == 0
            else round(float(spearmanr(values[:, j], truth[:, j]).statistic), 12)
            for j in range(truth.shape[1])])
    return out
