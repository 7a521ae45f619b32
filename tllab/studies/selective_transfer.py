r"""The experiments of the selective-transfer chapter; each returns plain numbers and arrays.

* :func:`gate_auc` scores learned gates against the known transferable features;
* :func:`gate_study` (gates against the truth, sigmoid and softmax, with and without the
  shift penalty, over seeds) and :func:`gate_level_sweep` (how the gates' level depends on
  the number of shifted features);
* :func:`selection_study`: selecting source samples against using them all;
* :func:`multitask_study` and :func:`metric_study`: the short sections on multi-task and
  metric learning;
* :func:`explorer_state`, one state of the chapter's explorer (drawn by :mod:`tllab.viz`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from .._checks import check_choice, check_int, check_real
from ..data.digits import digit_domains
from ..data.selective import (
    FeatureShiftData,
    MixedSourceData,
    make_feature_shift,
    make_mixed_source,
    make_related_tasks,
)
from ..models.linear import logistic_predict, weighted_logistic_regression
from ..selective import (
    GATE_KINDS,
    fit_embedding,
    fit_feature_gates,
    fit_multitask,
    nearest_neighbour_accuracy,
    select_top,
    source_scores,
)

__all__ = [
    "TEST_SEED_OFFSET",
    "gate_auc",
    "effective_features",
    "GateStudy",
    "gate_study",
    "GateSweep",
    "gate_level_sweep",
    "SelectionStudy",
    "selection_study",
    "MultiTaskStudy",
    "multitask_study",
    "MetricStudy",
    "metric_study",
    "ExplorerState",
    "explorer_state",
]

TEST_SEED_OFFSET = 10_000
"""Test samples for seed ``s`` are drawn with seed ``s + TEST_SEED_OFFSET``."""

_REG = 2e-2  # the gated classifier's weight decay 1e-2 · ||W||², in weighted_logistic_regression's
# (reg / 2) · ||θ||² convention: the "no gate" baseline is regularised like the gated model.


def _seeds(seeds) -> list[int]:
    seeds = [check_int(s, "seeds", min_value=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    return seeds


def _accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    return float((pred.long() == y).double().mean())


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
    seeds = _seeds(seeds)
    kinds = [check_choice(k, "kinds", GATE_KINDS) for k in kinds]
    penalties = [check_real(p, "penalties", low=0.0) for p in penalties]
    params = dict(data_params or {})
    configs = [(k, p) for k in kinds for p in penalties]
    gates = {c: [] for c in configs}
    auc = {c: [] for c in configs}
    acc = {c: [] for c in configs}
    plain, oracle = [], []
    truth = None
    for s in tqdm(seeds, desc="gates", disable=not progress):
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
    seeds = _seeds(seeds)
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
    for i, j in tqdm(grid, desc="sweep", disable=not progress):
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


class SelectionStudy(NamedTuple):
    """Result of :func:`selection_study`; accuracies on fresh target data, per seed."""

    accuracy: dict
    """``"all"``, ``"weighted"``, ``"selected_ratio"``, ``"selected_similarity"``,
    ``"relevant_only"``: arrays of shape ``(n_seeds,)``."""
    precision: dict
    """Fraction of relevant points among the selected ones, per score."""
    fractions: np.ndarray
    """The kept fractions of the curve."""
    curve: np.ndarray
    """Target accuracy when keeping each fraction (ratio score), ``(n_seeds, n_fractions)``."""
    first: MixedSourceData
    """The first seed's data (for the figure)."""
    first_coefs: dict
    """Its fitted lines (``"all"``, ``"selected_ratio"``), intercept first."""
    first_mask: np.ndarray
    """Its selection (ratio score, the study's ``fraction``)."""


def selection_study(seeds: Sequence[int] = range(10), *, fraction: float = 0.4,
                    fractions: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0),
                    n: int = 300, n_test: int = 4000, data_params: dict | None = None,
                    estimator: str = "ulsif", progress: bool = True) -> SelectionStudy:
    r"""Select source samples or use them all, on mixed-source data, over seeds.

    The data are :func:`~tllab.data.selective.make_mixed_source` problems.
    For every seed a logistic regression (``tllab.weighted_logistic_regression``) is fitted
    on: all source points; all of them with the ratio weights in the loss (importance
    weighting); the top ``fraction`` by the ratio score and by the similarity score
    (:func:`~tllab.selective.selection.select_source_samples`); the relevant points only (the
    oracle).  The curve keeps each of ``fractions`` by the ratio score.

    Parameters
    ----------
    seeds : sequence of int, default=range(10)
    fraction : float in (0, 1], default=0.4
    fractions : sequence of float in (0, 1]
    n : int, default=300
        Source (and unlabelled target) sample size.
    n_test : int, default=4000
    data_params : dict, optional
        Keyword arguments of :func:`~tllab.data.selective.make_mixed_source`.
    estimator : str, default="ulsif"
        The ratio estimator (:data:`~tllab.selective.selection.RATIO_ESTIMATORS`).
    progress : bool, default=True

    Returns
    -------
    SelectionStudy

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> res = study.selection_study([0], fractions=[0.5, 1.0], progress=False)
    >>> sorted(res.accuracy)[:2], res.curve.shape
    (['all', 'relevant_only'], (1, 2))
    """
    seeds = _seeds(seeds)
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    fracs = [check_real(f, "fractions", low=0.0, high=1.0, low_inclusive=False)
             for f in fractions]
    params = dict(data_params or {})
    names = ("all", "weighted", "selected_ratio", "selected_similarity", "relevant_only")
    acc = {m: [] for m in names}
    prec = {"ratio": [], "similarity": []}
    curve = []
    first = first_coefs = first_mask = None
    for s in tqdm(seeds, desc="selection", disable=not progress):
        data = make_mixed_source(n, seed=s, **params)
        fresh = make_mixed_source(1, n_target=n_test, seed=s + TEST_SEED_OFFSET, **params)
        test, yt = fresh.xt, fresh.yt
        ys = data.ys.to(data.xs.dtype)

        def fit(mask=None, w=None, x=data.xs, y=ys):
            return weighted_logistic_regression(x if mask is None else x[mask],
                                                y if mask is None else y[mask], w)

        ratio = source_scores(data.xs, data.xt, estimator=estimator)
        similarity = source_scores(data.xs, data.xt, score="similarity")
        coefs = {"all": fit(), "weighted": fit(w=ratio), "relevant_only": fit(data.relevant)}
        for name, sc in (("ratio", ratio), ("similarity", similarity)):
            mask = select_top(sc, fraction).mask
            coefs[f"selected_{name}"] = fit(mask)
            prec[name].append(float(data.relevant[mask].double().mean()))
        for m in names:
            acc[m].append(_accuracy(logistic_predict(coefs[m], test), yt))
        curve.append([_accuracy(logistic_predict(fit(select_top(ratio, f).mask), test), yt)
                      for f in fracs])
        if first is None:
            first, first_mask = data, select_top(ratio, fraction).mask.cpu().numpy()
            first_coefs = {m: coefs[m].cpu().numpy() for m in ("all", "selected_ratio")}
    return SelectionStudy({m: np.array(v) for m, v in acc.items()},
                          {m: np.array(v) for m, v in prec.items()}, np.array(fracs),
                          np.array(curve), first, first_coefs, first_mask)


class MultiTaskStudy(NamedTuple):
    """Result of :func:`multitask_study`: main-task test accuracy, ``(len(n_main), n_seeds)``."""

    n_main: np.ndarray
    single: np.ndarray
    """The main task learned alone."""
    multi: np.ndarray
    """The main task learned with the auxiliary task (shared trunk, two heads)."""


def multitask_study(n_main: Sequence[int] = (20, 200), seeds: Sequence[int] = range(5), *,
                    n_auxiliary: int = 500, n_test: int = 2000, progress: bool = True,
                    **fit_kwargs) -> MultiTaskStudy:
    r"""Single-task against multi-task learning on :func:`~tllab.data.selective.make_related_tasks`.

    The same network and training (:func:`~tllab.selective.multitask.fit_multitask`) with the main
    task alone, or with the auxiliary task as a second head.

    Parameters
    ----------
    n_main : sequence of int, default=(20, 200)
        Labelled examples of the main task.
    seeds : sequence of int, default=range(5)
    n_auxiliary : int, default=500
    n_test : int, default=2000
    progress : bool, default=True
    **fit_kwargs
        Passed to :func:`~tllab.selective.multitask.fit_multitask`.

    Returns
    -------
    MultiTaskStudy

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> res = study.multitask_study([20], [0], n_test=200, progress=False, n_steps=50)
    >>> res.single.shape
    (1, 1)
    """
    seeds = _seeds(seeds)
    sizes = [check_int(m, "n_main", min_value=1) for m in n_main]
    if not sizes:
        raise ValueError("n_main must not be empty")
    single = np.zeros((len(sizes), len(seeds)))
    multi = np.zeros_like(single)
    grid = [(i, j) for i in range(len(sizes)) for j in range(len(seeds))]
    for i, j in tqdm(grid, desc="multi-task", disable=not progress):
        t = make_related_tasks(sizes[i], n_auxiliary, n_test=n_test, seed=seeds[j])
        alone = fit_multitask([(t.x_main, t.y_main)], seed=seeds[j], **fit_kwargs).model
        both = fit_multitask([(t.x_main, t.y_main), (t.x_aux, t.y_aux)], seed=seeds[j],
                             **fit_kwargs).model
        single[i, j] = _accuracy(alone.predict(t.x_test), t.y_test)
        multi[i, j] = _accuracy(both.predict(t.x_test), t.y_test)
    return MultiTaskStudy(np.array(sizes), single, multi)


class MetricStudy(NamedTuple):
    """Result of :func:`metric_study`: 1-NN accuracy on the unlabelled target, per seed."""

    accuracy: dict
    """``"pixels"`` (source as reference), ``"pixels_plus_target"`` (the few labelled
    target images added to the reference), ``"embedding_source"`` (trained on the source
    only), ``"embedding_cross"`` (source + few target, cross-domain positives)."""
    embeddings: dict
    """The 2-D PCA coordinates (first seed) of the pixels and of the cross-domain embedding,
    for the source and the query target images (``"pixels"``, ``"embedding_cross"``)."""
    labels: tuple
    """The source labels and the query target labels of the first seed."""


def _pca2(a: torch.Tensor, b: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    z = torch.cat([a, b]).double().cpu()
    z = z - z.mean(0)
    _, _, v = torch.linalg.svd(z, full_matrices=False)
    p = (z @ v[:2].T).numpy()
    return p[: a.shape[0]], p[a.shape[0]:]


def metric_study(seeds: Sequence[int] = range(5), *, cause: str = "environment",
                 severity: float = 1.0, per_class: int = 5, progress: bool = True,
                 **fit_kwargs) -> MetricStudy:
    r"""Nearest-neighbour accuracy across digit domains, in pixels and in learned embeddings.

    Source: the clean digits with labels; target: the digits seen through ``cause``
    (:func:`~tllab.data.digits.digit_domains`), of which ``per_class`` images per class are
    labelled (a seeded draw) and the rest are the queries.  Each query gets the label of its
    nearest source image (:func:`~tllab.selective.metric.nearest_neighbour_accuracy`) in pixel space
    or in an embedding trained by :func:`~tllab.selective.metric.fit_embedding` (triplet loss) on
    the source alone, or on the source plus the labelled target images with cross-domain
    positives.

    Parameters
    ----------
    seeds : sequence of int, default=range(5)
    cause : str, default="environment"
    severity : float, default=1.0
    per_class : int, default=5
    progress : bool, default=True
    **fit_kwargs
        Passed to :func:`~tllab.selective.metric.fit_embedding`.

    Returns
    -------
    MetricStudy

    Examples
    --------
    >>> from tllab.studies import selective_transfer as study
    >>> res = study.metric_study([0], progress=False, n_steps=5)
    >>> sorted(res.accuracy)
    ['embedding_cross', 'embedding_source', 'pixels', 'pixels_plus_target']
    """
    seeds = _seeds(seeds)
    per_class = check_int(per_class, "per_class", min_value=1)
    xs, ys, xt, yt = digit_domains(cause, severity, dtype=torch.float32)
    names = ("pixels", "pixels_plus_target", "embedding_source", "embedding_cross")
    acc = {m: [] for m in names}
    embeddings, labels = {}, ()
    for s in tqdm(seeds, desc="metric", disable=not progress):
        gen = torch.Generator().manual_seed(s)
        few = torch.cat([torch.nonzero(yt == c).reshape(-1)[
            torch.randperm(int((yt == c).sum()), generator=gen)[:per_class]] for c in range(10)])
        query = torch.ones(len(yt), dtype=torch.bool)
        query[few] = False
        xq, yq = xt[query], yt[query]
        x_ref = torch.cat([xs, xt[few]])
        y_ref = torch.cat([ys, yt[few]])
        dom = torch.cat([torch.zeros(len(ys)), torch.ones(len(few))]).long()
        source_only = fit_embedding(xs, ys, seed=s, **fit_kwargs).model
        cross = fit_embedding(x_ref, y_ref, dom, seed=s, **fit_kwargs).model
        acc["pixels"].append(nearest_neighbour_accuracy(xs, ys, xq, yq))
        acc["pixels_plus_target"].append(nearest_neighbour_accuracy(x_ref, y_ref, xq, yq))
        acc["embedding_source"].append(nearest_neighbour_accuracy(
            source_only.embed(xs), ys, source_only.embed(xq), yq))
        acc["embedding_cross"].append(nearest_neighbour_accuracy(
            cross.embed(xs), ys, cross.embed(xq), yq))
        if not embeddings:
            embeddings = {"pixels": _pca2(xs, xq),
                          "embedding_cross": _pca2(cross.embed(xs), cross.embed(xq))}
            labels = (ys.numpy(), yq.numpy())
    return MetricStudy({m: np.array(v) for m, v in acc.items()}, embeddings, labels)


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
