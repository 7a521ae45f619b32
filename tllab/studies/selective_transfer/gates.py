r"""Feature gates against the truth: the gate study, the gate-level sweep, the explorer state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..._checks import check_choice, check_int, check_real, check_seeds
from ...data.selective import FeatureShiftData, make_feature_shift
from ...models.linear import logistic_predict, weighted_logistic_regression
from ...selective import GATE_KINDS, fit_feature_gates
from .._progress import progress_bar
from ._common import _REG, TEST_SEED_OFFSET, _accuracy

__all__ = [
    "gate_auc",
    "effective_features",
    "GateStudy",
    "gate_study",
    "GateSweep",
    "gate_level_sweep",
    "ExplorerState",
    "explorer_state",
]


def gate_auc(gates, transferable) -> float:
    r"""Area under the ROC curve of the gates as a score for "this feature transfers".

    The probability that a transferable feature's gate exceeds a domain-specific one's,
    ties counting one half (the Mann–Whitney statistic divided by the number of pairs):
    1 when every transferable feature has a larger gate, 0.5 for an uninformative ranking.

    Parameters
    ----------
    gates : array-like of shape (d,)
    transferable : array-like of bool, shape (d,)
        Needs at least one True and one False.

    Returns
    -------
    float

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> study.gate_auc([0.9, 0.8, 0.1, 0.85], [True, True, False, False])
    0.75
    """
    g = np.asarray(gates.cpu() if isinstance(gates, torch.Tensor) else gates, dtype=float)
    t = np.asarray(transferable.cpu() if isinstance(transferable, torch.Tensor)
                   else transferable, dtype=bool)
    if g.ndim != 1 or t.shape != g.shape:
        raise ValueError(f"gates and transferable must be 1-D of the same length; got "
                         f"{g.shape} and {t.shape}")
    if not np.isfinite(g).all():
        raise ValueError("gates must be finite")
    if t.all() or not t.any():
        raise ValueError("transferable must contain both True and False")
    diff = g[t][:, None] - g[~t][None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def effective_features(gates) -> float:
    r"""``(Σ_j g_j)² / Σ_j g_j²``: how many features the gates effectively keep.

    The effective sample size formula applied to the gates: ``d`` for equal gates, 1 when
    one gate holds everything.

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> study.effective_features([1.0, 1.0, 0.0, 0.0])
    2.0
    """
    g = np.asarray(gates.cpu() if isinstance(gates, torch.Tensor) else gates, dtype=float)
    if g.ndim != 1 or g.size == 0 or not np.isfinite(g).all() or (g < 0).any() or g.sum() <= 0:
        raise ValueError("gates must be a non-empty 1-D array of non-negative finite values "
                         "with a positive sum")
    return float(g.sum() ** 2 / (g**2).sum())


def _test_target(seed: int, n_test: int, params: dict) -> FeatureShiftData:
    return make_feature_shift(1, n_target=n_test, seed=seed + TEST_SEED_OFFSET, **params)


class GateStudy(NamedTuple):
    """Result of :func:`gate_study`; dictionaries are keyed by ``(kind, penalty)``."""

    transferable: np.ndarray
    """The truth, shape ``(d,)``."""
    gates: dict
    """Learned gates, shape ``(n_seeds, d)`` per configuration."""
    auc: dict
    """:func:`gate_auc` per seed."""
    target_accuracy: dict
    """Accuracy of the gated classifier on fresh target data, per seed."""
    plain_accuracy: np.ndarray
    """Target accuracy of the same classifier without a gate (logistic regression on all
    features, same L2 penalty), per seed."""
    oracle_accuracy: np.ndarray
    """Target accuracy of logistic regression on the transferable features only."""


def gate_study(seeds: Sequence[int] = range(5), *, kinds: Sequence[str] = GATE_KINDS,
               penalties: Sequence[float] = (0.0, 1.0), n: int = 400, n_test: int = 4000,
               data_params: dict | None = None, progress: bool = True,
               **fit_kwargs) -> GateStudy:
    r"""Learned gates against the truth, over seeds, for several gate kinds and penalties.

    For every seed: draw a :func:`~tllab.data.selective.make_feature_shift` problem (``n``
    source and ``n`` unlabelled target points), fit gates of every ``kind`` with every
    ``penalty`` (:func:`~tllab.selective.gates.fit_feature_gates`) and measure on ``n_test``
    fresh labelled target points; fit the two baselines.

    Parameters
    ----------
    seeds : sequence of int, default=range(5)
    kinds : sequence of {"sigmoid", "softmax"}
    penalties : sequence of float >= 0, default=(0.0, 1.0)
    n : int, default=400
    n_test : int, default=4000
    data_params : dict, optional
        Keyword arguments of :func:`~tllab.data.selective.make_feature_shift`.
    progress : bool, default=True
        Show a progress bar over the seeds.
    **fit_kwargs
        Passed to :func:`~tllab.selective.gates.fit_feature_gates`.

    Returns
    -------
    GateStudy

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> res = study.gate_study([0], kinds=["sigmoid"], penalties=[1.0], n=200, n_test=500,
    ...                        progress=False, n_steps=100)
    >>> res.gates[("sigmoid", 1.0)].shape
    (1, 10)
    """
    seeds = check_seeds(seeds)
    kinds = [check_choice(k, "kinds", GATE_KINDS) for k in kinds]
    penalties = [check_real(p, "penalties", low=0.0) for p in penalties]
    params = dict(data_params or {})
    configs = [(k, p) for k in kinds for p in penalties]
    gates = {c: [] for c in configs}
    auc = {c: [] for c in configs}
    acc = {c: [] for c in configs}
    plain, oracle = [], []
    truth = None
    for s in progress_bar(seeds, progress, "gates", leave=True):
        data = make_feature_shift(n, seed=s, **params)
        test = _test_target(s, n_test, params)
        truth = data.transferable
        for kind, penalty in configs:
            fit = fit_feature_gates(data.xs, data.ys, data.xt, kind=kind, penalty=penalty,
                                    seed=s, **fit_kwargs)
            gates[kind, penalty].append(fit.gates.cpu().numpy())
            auc[kind, penalty].append(gate_auc(fit.gates, truth))
            acc[kind, penalty].append(_accuracy(fit.model.predict(test.xt), test.yt))
        ys = data.ys.to(data.xs.dtype)
        coef = weighted_logistic_regression(data.xs, ys, reg=_REG)
        plain.append(_accuracy(logistic_predict(coef, test.xt), test.yt))
        coef = weighted_logistic_regression(data.xs[:, truth], ys, reg=_REG)
        oracle.append(_accuracy(logistic_predict(coef, test.xt[:, truth]), test.yt))
    return GateStudy(truth.cpu().numpy(), {c: np.array(v) for c, v in gates.items()},
                     {c: np.array(v) for c, v in auc.items()},
                     {c: np.array(v) for c, v in acc.items()}, np.array(plain),
                     np.array(oracle))


class GateSweep(NamedTuple):
    """Result of :func:`gate_level_sweep`; arrays of shape ``(len(n_shifted), n_seeds)``."""

    n_shifted: np.ndarray
    """The numbers of shifted features tried."""
    n_features: int
    kept_mean: dict
    """The mean gate of the transferable features, per kind."""
    kept_cv: dict
    """Their coefficient of variation (sd / mean) across features, per kind."""
    dropped_mean: dict
    """The mean gate of the shifted features, per kind (NaN when there are none)."""


def gate_level_sweep(n_shifted: Sequence[int] = (0, 3, 6, 8), seeds: Sequence[int] = range(3),
                     *, kinds: Sequence[str] = GATE_KINDS, n: int = 300, n_features: int = 10,
                     progress: bool = True, **fit_kwargs) -> GateSweep:
    r"""How the level and spread of the kept gates depend on how many features shift.

    A sigmoid gate says "on" or "off" for each feature on its own; a softmax gate shares a
    fixed budget ``Σ g = d``, so when ``k`` features are closed the ``d − k`` others must
    share it (``d / (d − k)`` each on average).

    Parameters
    ----------
    n_shifted : sequence of int, default=(0, 3, 6, 8)
        Each below ``n_features``.
    seeds : sequence of int, default=range(3)
    kinds : sequence of {"sigmoid", "softmax"}
    n : int, default=300
    n_features : int, default=10
    progress : bool, default=True
    **fit_kwargs
        Passed to :func:`~tllab.selective.gates.fit_feature_gates`.

    Returns
    -------
    GateSweep

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> sw = study.gate_level_sweep([0, 5], [0], kinds=["softmax"], n=100, progress=False,
    ...                             n_steps=20)
    >>> sw.kept_mean["softmax"].shape
    (2, 1)
    """
    seeds = check_seeds(seeds)
    n_features = check_int(n_features, "n_features", min_value=2)
    ks = [check_int(k, "n_shifted", min_value=0) for k in n_shifted]
    if not ks or max(ks) >= n_features:
        raise ValueError(f"n_shifted must be non-empty with values below n_features="
                         f"{n_features}; got {ks}")
    kinds = [check_choice(k, "kinds", GATE_KINDS) for k in kinds]
    shape = (len(ks), len(seeds))
    out = {name: {k: np.full(shape, np.nan) for k in kinds}
           for name in ("kept_mean", "kept_cv", "dropped_mean")}
    grid = [(i, j) for i in range(len(ks)) for j in range(len(seeds))]
    for i, j in progress_bar(grid, progress, "sweep", leave=True):
        data = make_feature_shift(n, n_features=n_features, n_shifted=ks[i], seed=seeds[j])
        keep = data.transferable
        for kind in kinds:
            g = fit_feature_gates(data.xs, data.ys, data.xt, kind=kind, seed=seeds[j],
                                  **fit_kwargs).gates.cpu()
            out["kept_mean"][kind][i, j] = float(g[keep].mean())
            out["kept_cv"][kind][i, j] = float(g[keep].std(unbiased=False) / g[keep].mean())
            if ks[i]:
                out["dropped_mean"][kind][i, j] = float(g[~keep].mean())
    return GateSweep(np.array(ks), n_features, out["kept_mean"], out["kept_cv"],
                     out["dropped_mean"])


class ExplorerState(NamedTuple):
    """One state of the chapter's explorer."""

    gates: np.ndarray
    transferable: np.ndarray
    auc: float
    """:func:`gate_auc` (NaN when all features transfer or none does)."""
    discrepancy: np.ndarray
    gated_accuracy: float
    plain_accuracy: float
    oracle_accuracy: float
    """Target accuracy with the transferable features only (NaN when there are none)."""
    kind: str
    n_shifted: int
    shift: float
    penalty: float


def explorer_state(n_shifted: int = 4, shift: float = 1.5, kind: str = "sigmoid",
                   penalty: float = 1.0, *, n: int = 400, n_test: int = 2000,
                   seed: int = 0) -> ExplorerState:
    r"""Fit gates on one :func:`~tllab.data.selective.make_feature_shift` problem (10 features).

    Parameters
    ----------
    n_shifted : int in [0, 10], default=4
    shift : float, default=1.5
        How far the domain-specific features move on the target.
    kind : {"sigmoid", "softmax"}, default="sigmoid"
    penalty : float >= 0, default=1.0
    n, n_test, seed : int

    Returns
    -------
    ExplorerState

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> st = study.explorer_state(n=200, n_test=500)
    >>> st.auc
    1.0
    """
    n_shifted = check_int(n_shifted, "n_shifted", min_value=0)
    kind = check_choice(kind, "kind", GATE_KINDS)
    params = {"n_shifted": n_shifted, "shift": check_real(shift, "shift")}
    data = make_feature_shift(n, seed=seed, **params)
    test = _test_target(seed, n_test, params)
    fit = fit_feature_gates(data.xs, data.ys, data.xt, kind=kind, penalty=penalty, seed=seed)
    truth = data.transferable
    mixed = bool(truth.any()) and not bool(truth.all())
    ys = data.ys.to(data.xs.dtype)
    plain = _accuracy(logistic_predict(weighted_logistic_regression(data.xs, ys, reg=_REG),
                                       test.xt), test.yt)
    oracle = float("nan")
    if truth.any():
        coef = weighted_logistic_regression(data.xs[:, truth], ys, reg=_REG)
        oracle = _accuracy(logistic_predict(coef, test.xt[:, truth]), test.yt)
    return ExplorerState(fit.gates.cpu().numpy(), truth.cpu().numpy(),
                         gate_auc(fit.gates, truth) if mixed else float("nan"),
                         fit.discrepancy.cpu().numpy(),
                         _accuracy(fit.model.predict(test.xt), test.yt), plain, oracle, kind,
                         n_shifted, params["shift"], float(penalty))
