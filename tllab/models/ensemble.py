r"""Bagging (Breiman, 1996): average a learner over bootstrap resamples of its training set.

:func:`bootstrap_indices` draws the resamples, :func:`bagged_predictions` trains one model
per resample and returns every member's predictions; their mean over the first axis is the
bagged prediction.  If each member's prediction at a point has variance ``σ²`` over training
sets and two members correlate with ``ρ``, the average of ``M`` members has variance
``ρσ² + (1 − ρ)σ²/M``: averaging removes the part of the variance the members do not share,
and leaves the bias of a member.
"""

from __future__ import annotations

import numpy as np
import torch

from .._checks import check_int, check_samples, check_weight_vector
from ..reweight.evaluation import _fit_predict

__all__ = ["bootstrap_indices", "bagged_predictions"]


def bootstrap_indices(n: int, n_models: int, *, seed: int = 0,
                      device: torch.device | str | None = None) -> torch.Tensor:
    r"""Indices of ``n_models`` bootstrap resamples of ``n`` points (drawn with replacement).

    Drawn on the CPU from a generator seeded by ``seed``, then moved to ``device``, so the
    same seed gives the same resamples everywhere.  Each resample leaves out about
    ``(1 − 1/n)^n ≈ 37 %`` of the points.

    Parameters
    ----------
    n : int >= 1
    n_models : int >= 1
    seed : int >= 0, default=0
    device : torch.device or str, optional

    Returns
    -------
    torch.Tensor of shape (n_models, n), dtype long

    Examples
    --------
    >>> import tllab
    >>> idx = tllab.models.bootstrap_indices(5, 3, seed=0)
    >>> idx.shape, bool(((idx >= 0) & (idx < 5)).all())
    (torch.Size([3, 5]), True)
    """
    n = check_int(n, "n", min_value=1)
    n_models = check_int(n_models, "n_models", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, n, (n_models, n), generator=gen).to(device)


def bagged_predictions(estimator, x, y, x_test, *, n_models: int = 10, w=None,
                       seed: int = 0) -> torch.Tensor:
    r"""Predictions of ``n_models`` copies of a learner, each trained on a bootstrap resample.

    Member ``b`` is trained on ``(x[i], y[i], w[i])`` for the indices
    ``bootstrap_indices(n, n_models, seed=seed)[b]`` and predicts at ``x_test``.  The bagged
    prediction is ``out.mean(0)``; ``out.var(0)`` shows how much the members disagree.

    Parameters
    ----------
    estimator : callable or scikit-learn estimator
        As in :func:`tllab.iwcv_score`: ``fit_predict(x_train, y_train, w_train, x_test)``
        (torch tensors in, array-like out), or an object with ``fit(X, y,
        sample_weight=...)`` and ``predict`` (cloned for every member).
    x : array-like of shape (n, d)
    y : array-like of shape (n,) or (n, k)
    x_test : array-like of shape (m, d)
    n_models : int >= 1, default=10
    w : array-like of shape (n,), optional
        Sample weights, resampled along with the points (None: all ones).
    seed : int >= 0, default=0

    Returns
    -------
    torch.Tensor of shape (n_models, m) or (n_models, m, k)
        On ``x``'s device.

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.linspace(-1, 1, 30, dtype=torch.float64)[:, None]
    >>> y = x[:, 0] ** 2
    >>> def fit_predict(xt, yt, wt, xq):
    ...     coef = tllab.weighted_least_squares(xt, yt, wt, degree=2)
    ...     return tllab.polynomial_predict(coef, xq)
    >>> members = tllab.models.bagged_predictions(fit_predict, x, y, x[:3], n_models=4)
    >>> members.shape, bool(torch.allclose(members.mean(0), y[:3]))
    (torch.Size([4, 3]), True)
    """
    x = check_samples(x, "x")
    n = x.shape[0]
    x_test = check_samples(x_test, "x_test")
    if x_test.shape[1] != x.shape[1]:
        raise ValueError(f"x_test must have {x.shape[1]} features like x; got {x_test.shape[1]}")
    x_test = x_test.to(device=x.device, dtype=x.dtype)
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"y must be an array-like; got {type(y).__name__}")
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).to(x.device)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, k) to match x; got "
                         f"{tuple(y.shape)}")
    if y.is_floating_point() and not bool(torch.isfinite(y).all()):
        raise ValueError("y must be finite")
    w = check_weight_vector(w, n, x)
    if not callable(estimator) and not (hasattr(estimator, "fit")
                                        and hasattr(estimator, "predict")):
        raise TypeError("estimator must be a callable fit_predict(x_train, y_train, w_train, "
                        "x_test) or an object with fit and predict; got "
                        f"{type(estimator).__name__}")
    idx = bootstrap_indices(n, n_models, seed=seed, device=x.device)
    out = []
    for b in range(idx.shape[0]):
        i = idx[b]
        pred = _fit_predict(estimator, x[i], y[i], w[i], x_test, True)
        pred = torch.as_tensor(np.asarray(pred) if not isinstance(pred, torch.Tensor) else pred)
        out.append(pred.to(x.device))
    return torch.stack(out)
