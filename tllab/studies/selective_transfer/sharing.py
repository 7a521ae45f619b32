r"""Sharing across tasks and domains: the multi-task and metric-learning studies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from ..._checks import check_int, check_seeds
from ...data.digits import digit_domains
from ...data.selective import make_related_tasks
from ...selective import fit_embedding, fit_multitask, nearest_neighbour_accuracy
from ._common import _accuracy

__all__ = ["MultiTaskStudy", "multitask_study", "MetricStudy", "metric_study"]


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
    seeds = check_seeds(seeds)
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
    seeds = check_seeds(seeds)
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
