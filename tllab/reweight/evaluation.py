r"""What importance weights cost and how to use them.

:func:`~tllab.effective_sample_size`, :func:`~tllab.flatten_weights`, :func:`~tllab.clip_weights`,
:func:`~tllab.importance_weighted_risk` and importance-weighted cross-validation
:func:`~tllab.iwcv_score` (Sugiyama, Krauledat & Müller, 2007).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._checks import (
    check_choice,
    check_int,
    check_real,
    check_samples,
)
from .._scale import max_scale
from ..classifier import _fold_ids
from ..device import as_tensor
from ._common import _check_weights

__all__ = [
    "IWCV_LOSSES",
    "effective_sample_size",
    "flatten_weights",
    "clip_weights",
    "importance_weighted_risk",
    "iwcv_score",
]


IWCV_LOSSES = ("squared", "absolute", "zero_one")


def effective_sample_size(w) -> torch.Tensor:
    r"""Kish's effective sample size ``(Σ w_i)² / Σ w_i²``.

    Equals ``n`` for constant weights and 1 when a single weight carries everything:
    the number of unweighted samples that would give a mean of the same variance.  It does
    not depend on the scale of ``w`` (weights of order 1e200 or 1e-200 are fine).

    Parameters
    ----------
    w : array-like of shape (n,)
        Non-negative weights, not all zero.

    Returns
    -------
    torch.Tensor
        0-d tensor on ``w``'s device and dtype.

    Examples
    --------
    >>> import tllab
    >>> float(tllab.effective_sample_size([1.0, 1.0, 1.0, 1.0]))
    4.0
    >>> float(tllab.effective_sample_size([4.0, 0.0, 0.0, 0.0]))
    1.0
    >>> float(tllab.effective_sample_size([1e200, 1e200]))  # the scale does not matter
    2.0
    """
    w = _check_weights(w, "w")
    w = w / max_scale(w)  # scale-free: (Σw)² and Σw² cannot overflow or underflow
    return w.sum() ** 2 / (w * w).sum()


def flatten_weights(w, gamma: float) -> torch.Tensor:
    r"""Flattened weights ``w^γ``, rescaled to mean 1.

    ``γ = 1`` keeps the importance weights (unbiased, high variance), ``γ = 0`` gives
    uniform weights (no correction, low variance); values in between trade bias for
    variance (Shimodaira, 2000).  ``0⁰`` is taken as 1.  The result does not depend on the
    scale of ``w``.

    Parameters
    ----------
    w : array-like of shape (n,)
    gamma : float >= 0

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.flatten_weights([1.0, 4.0], 0.5).tolist()  # (1, 2) / 1.5
    [0.6666666666666666, 1.3333333333333333]
    """
    w = _check_weights(w, "w")
    gamma = check_real(gamma, "gamma", low=0.0)
    v = (w / max_scale(w)).pow(gamma)  # w^γ of huge or tiny weights would overflow/underflow
    return v / v.mean()


def clip_weights(w, max_weight: float, *, normalize: bool = False) -> torch.Tensor:
    r"""Weights truncated at ``max_weight`` (``min(w_i, max_weight)``).

    Truncation bounds the variance of weighted averages at the price of a bias
    (Ionides, 2008).  With ``normalize=True`` the clipped weights are rescaled to mean 1.

    Parameters
    ----------
    w : array-like of shape (n,)
    max_weight : float > 0
    normalize : bool, default=False

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.clip_weights([0.5, 1.0, 8.0], 2.0).tolist()
    [0.5, 1.0, 2.0]
    """
    w = _check_weights(w, "w")
    max_weight = check_real(max_weight, "max_weight", low=0.0, low_inclusive=False)
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool; got {normalize!r}")
    out = w.clamp(max=max_weight)
    if not normalize:
        return out
    out = out / max_scale(out)
    return out / out.mean()


def importance_weighted_risk(losses, w, *, normalize: bool = False) -> torch.Tensor:
    r"""Importance-weighted average loss, an estimate of the target risk.

    ``normalize=False``: ``(1/n) Σ w_i ℓ_i``, unbiased for the target risk when ``w`` is
    the true ratio ``p_t/p_s`` at source points.  ``normalize=True``: the self-normalised
    ``Σ w_i ℓ_i / Σ w_i``, slightly biased but invariant to the scale of ``w`` and often
    of lower variance.

    Parameters
    ----------
    losses : array-like of shape (n,)
        Per-example losses on the source sample.
    w : array-like of shape (n,)
        Non-negative weights.
    normalize : bool, default=False

    Returns
    -------
    torch.Tensor
        0-d tensor on ``losses``'s device.

    Examples
    --------
    >>> import tllab
    >>> float(tllab.importance_weighted_risk([1.0, 3.0], [0.5, 1.5]))  # (0.5 + 4.5) / 2
    2.5
    >>> float(tllab.importance_weighted_risk([1.0, 3.0], [1.0, 3.0], normalize=True))
    2.5
    """
    if isinstance(losses, (str, bytes, dict)) or losses is None:
        raise TypeError(f"losses must be an array-like; got {type(losses).__name__}")
    losses = as_tensor(losses)
    if losses.ndim != 1 or losses.numel() == 0:
        raise ValueError(f"losses must be a non-empty 1-D array; got shape {tuple(losses.shape)}")
    if not bool(torch.isfinite(losses).all()):
        raise ValueError("losses must be finite")
    w = _check_weights(w, "w")
    if w.shape != losses.shape:
        raise ValueError(f"losses and w must have the same shape; got {tuple(losses.shape)} "
                         f"and {tuple(w.shape)}")
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool; got {normalize!r}")
    w = w.to(device=losses.device, dtype=torch.promote_types(w.dtype, losses.dtype))
    # Rescaled by powers of two (exact) so that w_i ℓ_i and Σ w_i cannot overflow.
    cw, cl = max_scale(w), max_scale(losses)
    w, losses = w / cw, losses / cl
    if normalize:
        return (w * losses).sum() / w.sum() * cl
    return (w * losses).mean() * (cw * cl)


def _loss_fn(loss) -> Callable:
    if callable(loss):
        return loss
    loss = check_choice(loss, "loss", IWCV_LOSSES)
    if loss == "squared":
        return lambda p, y: ((p - y) ** 2).reshape(p.shape[0], -1).sum(1)
    if loss == "absolute":
        return lambda p, y: (p - y).abs().reshape(p.shape[0], -1).sum(1)
    return lambda p, y: (p != y).reshape(p.shape[0], -1).any(1).to(torch.get_default_dtype())


def _fit_predict(estimator, x_tr, y_tr, w_tr, x_te, weighted_fit):
    if hasattr(estimator, "fit") and hasattr(estimator, "predict"):
        from sklearn.base import clone

        est = clone(estimator)
        kw = {"sample_weight": w_tr.cpu().numpy()} if weighted_fit else {}
        est.fit(x_tr.cpu().numpy(), y_tr.cpu().numpy(), **kw)
        return est.predict(x_te.cpu().numpy())
    return estimator(x_tr, y_tr, w_tr if weighted_fit else torch.ones_like(w_tr), x_te)


def iwcv_score(
    estimator,
    xs,
    ys,
    w,
    *,
    n_folds: int = 5,
    loss="squared",
    seed: int = 0,
    weighted_fit: bool = True,
) -> torch.Tensor:
    r"""Importance-weighted cross-validation risk (Sugiyama, Krauledat & Müller, 2007).

    The source sample is split into ``n_folds`` folds (a seeded shuffle); for each fold
    ``F`` a model is trained on the other folds and scored on ``F`` with the importance
    weights:

    .. math::

        \widehat R_{\text{IWCV}} = \frac1{K}\sum_{k=1}^{K} \frac1{|F_k|}
        \sum_{i \in F_k} w_i\, \ell\bigl(f_{-k}(x_i), y_i\bigr).

    With ``w = p_t/p_s`` this is (almost) unbiased for the *target* risk of the learner
    trained on ``(K−1)/K`` of the data, even though no target label is used; ordinary
    CV estimates the source risk instead.  Use it to pick a hyper-parameter (the one with
    the smallest score), including the flattening ``γ`` of :func:`~tllab.flatten_weights`.

    Parameters
    ----------
    estimator : callable or scikit-learn estimator
        Either ``fit_predict(x_train, y_train, w_train, x_test) -> predictions`` (torch
        tensors in, array-like out), or an object with ``fit(X, y, sample_weight=...)``
        and ``predict`` (cloned for every fold; fed NumPy arrays).
    xs : array-like of shape (n, d)
    ys : array-like of shape (n,) or (n, k)
    w : array-like of shape (n,)
        Importance weights of the source points.
    n_folds : int, default=5
    loss : {"squared", "absolute", "zero_one"} or callable, default="squared"
        A callable gets ``(predictions, targets)`` as tensors and returns per-example
        losses of shape ``(n_fold,)``.
    seed : int, default=0
    weighted_fit : bool, default=True
        Train with the weights (importance-weighted ERM, as in the paper); False trains
        unweighted and only scores with the weights.

    Returns
    -------
    torch.Tensor
        0-d tensor on ``xs``'s device.

    Raises
    ------
    ValueError
        Also when the estimator predicts NaN/inf or the loss is not finite on a fold
        (instead of returning a NaN risk).

    Examples
    --------
    >>> import numpy as np, tllab
    >>> from sklearn.linear_model import Ridge
    >>> rng = np.random.default_rng(0)
    >>> xs = rng.normal(size=(200, 1)); ys = np.sin(xs[:, 0]) + 0.1 * rng.normal(size=200)
    >>> w = np.exp(xs[:, 0] - 0.5)  # N(0,1) source, N(1,1) target: p_t/p_s = e^(x-1/2)
    >>> scores = {a: float(tllab.iwcv_score(Ridge(alpha=a), xs, ys, w)) for a in (0.1, 1e3)}
    >>> min(scores, key=scores.get)
    0.1
    """
    xs = check_samples(xs, "xs", min_samples=2)
    n = xs.shape[0]
    if isinstance(ys, (str, bytes, dict)) or ys is None:
        raise TypeError(f"ys must be an array-like; got {type(ys).__name__}")
    ys = torch.as_tensor(np.asarray(ys) if not isinstance(ys, torch.Tensor) else ys)
    ys = ys.to(xs.device)
    if ys.ndim not in (1, 2) or ys.shape[0] != n:
        raise ValueError(f"ys must have shape ({n},) or ({n}, k) to match xs; got "
                         f"{tuple(ys.shape)}")
    if ys.is_floating_point() and not bool(torch.isfinite(ys).all()):
        raise ValueError("ys must be finite")
    w = _check_weights(w, "w")
    if w.shape[0] != n:
        raise ValueError(f"w must have shape ({n},) to match xs; got {tuple(w.shape)}")
    w = w.to(device=xs.device, dtype=xs.dtype)
    n_folds = check_int(n_folds, "n_folds", min_value=2)
    if n_folds > n:
        raise ValueError(f"n_folds={n_folds} exceeds the number of samples in xs ({n})")
    seed = check_int(seed, "seed", min_value=0)
    if not isinstance(weighted_fit, bool):
        raise TypeError(f"weighted_fit must be a bool; got {weighted_fit!r}")
    if not callable(estimator) and not (hasattr(estimator, "fit")
                                        and hasattr(estimator, "predict")):
        raise TypeError("estimator must be a callable fit_predict(x_train, y_train, w_train, "
                        "x_test) or an object with fit and predict; got "
                        f"{type(estimator).__name__}")
    loss_fn = _loss_fn(loss)
    gen = torch.Generator().manual_seed(seed)
    folds = _fold_ids(n, n_folds, gen, xs.device)
    risks = []
    for k in range(n_folds):
        te, tr = folds == k, folds != k
        pred = _fit_predict(estimator, xs[tr], ys[tr], w[tr], xs[te], weighted_fit)
        pred = torch.as_tensor(np.asarray(pred) if not isinstance(pred, torch.Tensor) else pred)
        pred = pred.to(xs.device)
        if pred.is_floating_point() and not bool(torch.isfinite(pred).all()):
            raise ValueError(f"estimator returned non-finite predictions on fold {k} "
                             f"({int((~torch.isfinite(pred)).sum())} NaN/inf of "
                             f"{pred.numel()}); the IWCV risk would be NaN")
        y_te = ys[te]
        if pred.shape != y_te.shape:
            pred = pred.reshape(y_te.shape)
        if pred.is_floating_point() or y_te.is_floating_point():
            dtype = torch.promote_types(pred.dtype, y_te.dtype)
            pred, y_te = pred.to(dtype), y_te.to(dtype)
        fold_losses = torch.as_tensor(loss_fn(pred, y_te)).to(device=xs.device, dtype=xs.dtype)
        if fold_losses.shape != (int(te.sum()),):
            raise ValueError(f"loss must return one value per held-out example, shape "
                             f"({int(te.sum())},); got {tuple(fold_losses.shape)}")
        if not bool(torch.isfinite(fold_losses).all()):
            raise ValueError(f"loss returned non-finite values on fold {k}")
        risks.append((w[te] * fold_losses).mean())
    return torch.stack(risks).mean()
