r"""The generalisation chapter's image experiment: remedies for a small CNN under rotation drift.

A :class:`tllab.models.cnn.SmallCNN` is trained with :func:`tllab.finetune.fit` on clean source
digits (the fixed source half of :func:`tllab.data.digits.load_digits_domain`, minus a held-out
part) and tested on held-out source digits and on the target half turned by several angles
(the ``"drift"`` cause of :func:`tllab.data.digits.digit_domains`).  :func:`digit_remedies` compares
the plain network with dropout, weight decay and rotation augmentation
(:func:`tllab.data.augment.augment_images`), each over several seeds, and measures what averaging
the seeds' predictions (an ensemble) adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import NamedTuple

import numpy as np
import torch

from ..._checks import check_choice, check_int, check_real, check_seeds
from ...data.augment import augment_images
from ...data.digits import load_digits_domain
from ...device import default_device
from ...finetune import fit, predict_proba
from ...models import SmallCNN

__all__ = ["REMEDIES", "DigitRemedies", "digit_remedies"]

REMEDIES = ("baseline", "dropout", "weight_decay", "augmentation")
"""The training variants :func:`digit_remedies` knows."""


class DigitRemedies(NamedTuple):
    """Results of :func:`digit_remedies`; dicts are keyed by remedy."""

    remedies: tuple[str, ...]
    angles: np.ndarray
    """Rotations of the target half (degrees); 0 is the unrotated target half."""
    source_accuracy: dict
    """Accuracy on the held-out source digits, shape ``(n_seeds,)``."""
    target_accuracy: dict
    """Accuracy on the target half at each angle, shape ``(n_seeds, n_angles)``."""
    ensemble_source: dict
    """Accuracy of the seeds' averaged probabilities on the held-out source digits."""
    ensemble_target: dict
    """The same on the target half, shape ``(n_angles,)``."""
    disagreement_source: dict
    """Fraction of held-out source digits two seeds label differently (mean over pairs)."""
    disagreement_target: dict
    """The same on the target half, shape ``(n_angles,)``."""


def _disagreement(labels: torch.Tensor) -> float:
    pairs = list(combinations(range(labels.shape[0]), 2))
    return float(np.mean([float((labels[a] != labels[b]).float().mean()) for a, b in pairs]))


def digit_remedies(
    remedies: Sequence[str] = REMEDIES,
    *,
    angles: Sequence[float] = (0.0, 15.0, 30.0, 45.0),
    seeds: Sequence[int] = (0, 1, 2),
    n_train: int = 600,
    epochs: int = 8,
    width: int = 8,
    dropout: float = 0.5,
    weight_decay: float = 1e-3,
    rotation: float = 30.0,
    lr: float = 3e-3,
    batch_size: int = 64,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> DigitRemedies:
    r"""Train the small CNN with each remedy over several seeds and test it under rotation.

    The first ``n_train`` source digits train the network, the rest of the source half is
    the held-out source test set.  Remedies:

    * ``"baseline"``: ``SmallCNN(width=width)``, Adam, ``epochs`` epochs;
    * ``"dropout"``: the same with ``dropout`` before the linear head;
    * ``"weight_decay"``: the same with the L2 term ``weight_decay · θ`` in every gradient;
    * ``"augmentation"``: the training digits plus one copy turned by angles drawn from
      ``[−rotation, rotation]`` (:func:`tllab.data.augment.augment_images`), for ``epochs // 2``
      epochs, so that it takes the same number of gradient steps as the others.

    A seed fixes the initial weights, the batch order and the augmentation draws.

    Parameters
    ----------
    remedies : sequence of str
        Names from :data:`REMEDIES`.
    angles : sequence of float
        Target rotations to test (degrees).
    seeds : sequence of int, at least 2
    n_train : int, default=600
        Training digits (of the 899 in the source half).
    epochs, width, dropout, weight_decay, rotation, lr, batch_size
        As described above.
    device : torch.device or str, optional
        Default :func:`tllab.default_device`.
    progress : bool, default=False
        A progress bar over the trainings.

    Returns
    -------
    DigitRemedies

    Examples
    --------
    >>> from tllab.studies.generalization import digits as study
    >>> res = study.digit_remedies(["baseline"], angles=[0, 30], seeds=[0, 1], epochs=2)
    >>> res.target_accuracy["baseline"].shape
    (2, 2)
    """
    remedies = tuple(check_choice(r, "remedies", REMEDIES) for r in remedies)
    if not remedies:
        raise ValueError("remedies must not be empty")
    angles = np.asarray([check_real(a, "angles") for a in angles], dtype=float)
    if angles.size == 0:
        raise ValueError("angles must not be empty")
    seeds = check_seeds(seeds, min_count=2, why="the ensemble averages them")
    epochs = check_int(epochs, "epochs", min_value=2)
    width = check_int(width, "width", min_value=1)
    rotation = check_real(rotation, "rotation", low=0.0)
    device = default_device() if device is None else torch.device(device)
    kw = dict(flatten=False, dtype=torch.float32, device=device)
    xs, ys = load_digits_domain("source", **kw)
    n_train = check_int(n_train, "n_train", min_value=2)
    if n_train >= xs.shape[0]:
        raise ValueError(f"n_train must leave held-out source digits; got {n_train} of "
                         f"{xs.shape[0]}")
    x_tr, y_tr, x_te, y_te = xs[:n_train], ys[:n_train], xs[n_train:], ys[n_train:]
    targets = [load_digits_domain("target", rotation=float(a), **kw) for a in angles]

    jobs = [(r, s) for r in remedies for s in seeds]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="trainings", leave=False)
    probs: dict = {r: [] for r in remedies}
    for remedy, seed in jobs:
        x, y, n_epochs = x_tr, y_tr, epochs
        if remedy == "augmentation":
            x, y = augment_images(x_tr, y_tr, copies=1, rotation=rotation, seed=seed)
            n_epochs = epochs // 2
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = SmallCNN(width=width, dropout=dropout if remedy == "dropout" else 0.0)
        model = model.to(device)
        fit(model, x, y, epochs=n_epochs, lr=lr, batch_size=batch_size, seed=seed,
            weight_decay=weight_decay if remedy == "weight_decay" else 0.0)
        probs[remedy].append([predict_proba(model, x_te)]
                             + [predict_proba(model, xt) for xt, _ in targets])

    out = {k: {} for k in ("sa", "ta", "es", "et", "ds", "dt")}
    for remedy in remedies:
        p = [torch.stack([run[e] for run in probs[remedy]]) for e in range(len(angles) + 1)]
        labels = [q.argmax(2) for q in p]
        truth = [y_te] + [yt for _, yt in targets]
        acc = np.array([[float((lab[i] == t).float().mean()) for lab, t in zip(labels, truth,
                                                                               strict=True)]
                        for i in range(len(seeds))])
        ens = [float((q.mean(0).argmax(1) == t).float().mean()) for q, t in zip(p, truth,
                                                                                 strict=True)]
        dis = [_disagreement(lab) for lab in labels]
        out["sa"][remedy], out["ta"][remedy] = acc[:, 0], acc[:, 1:]
        out["es"][remedy], out["et"][remedy] = ens[0], np.asarray(ens[1:])
        out["ds"][remedy], out["dt"][remedy] = dis[0], np.asarray(dis[1:])
    return DigitRemedies(remedies, angles, out["sa"], out["ta"], out["es"], out["et"],
                         out["ds"], out["dt"])
