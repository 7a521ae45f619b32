r"""Relation-based transfer: do the class means, or the distances between them, survive a shift?

:func:`class_relations` measures the distances between the class means of the digits;
:func:`relation_study` correlates the class means (the *entities*) and these distances (the
*relations*) of the source half with those of the rotated target half, over bootstrap seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..._checks import check_int, check_real, check_samples, check_seeds, check_vector
from ...data.digits import load_digits_domain
from .classifier import N_CLASSES

__all__ = [
    "class_relations",
    "RelationResult",
    "relation_study",
]


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
    seeds = check_seeds(seeds)
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
