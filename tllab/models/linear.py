r"""Importance-weighted linear learners in torch.

:func:`~tllab.weighted_least_squares` fits a polynomial regression by weighted least squares
(closed form); :func:`~tllab.weighted_logistic_regression` fits a logistic regression by Newton's
method (IRLS).  Both take per-sample weights ``w`` that multiply each sample's *loss* — the
way importance weights enter a learner.

The logistic regressions can shrink towards a ``prior`` coefficient vector instead of 0
(parameter transfer from a source model); :func:`~tllab.models.one_vs_rest_logistic` fits one
per class for multi-class labels.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._checks import (
    check_int,
    check_labels,
    check_real,
    check_samples,
    check_vector,
    check_weight_vector,
)

__all__ = [
    "polynomial_features",
    "legendre_features",
    "weighted_least_squares",
    "polynomial_predict",
    "weighted_logistic_regression",
    "logistic_predict",
    "one_vs_rest_logistic",
    "one_vs_rest_predict",
]


def polynomial_features(x, degree: int) -> torch.Tensor:
    r"""Design matrix ``[1, x, x², …, x^degree]`` (powers taken feature by feature).

    For ``d`` features the columns are the intercept then ``x_k^p`` for ``p = 1..degree``
    and ``k = 1..d`` (no cross products), so the width is ``1 + d·degree``.

    Parameters
    ----------
    x : array-like of shape (n, d)
    degree : int >= 0

    Returns
    -------
    torch.Tensor of shape (n, 1 + d·degree)

    Examples
    --------
    >>> import tllab
    >>> tllab.polynomial_features([[2.0]], 3).tolist()
    [[1.0, 2.0, 4.0, 8.0]]
    """
    x = check_samples(x, "x")
    degree = check_int(degree, "degree", min_value=0)
    cols = [x.new_ones(x.shape[0], 1)] + [x**p for p in range(1, degree + 1)]
    return torch.cat(cols, dim=1)


def legendre_features(x, degree: int) -> torch.Tensor:
    r"""Design matrix of Legendre polynomials, orthonormal under the uniform law on [−1, 1].

    Columns ``√(2p+1) · P_p(x_k)`` for ``p = 0..degree`` (``P_0 = 1``, the intercept column,
    once), feature by feature in the order of :func:`tllab.polynomial_features`, so the two span
    the same models.  For ``x ~ U(−1, 1)`` the columns have ``E[φ_p φ_q] = δ_pq``: the
    least-squares problem is well conditioned where the monomials ``x^p`` are nearly
    collinear, and a penalty on the coefficients acts on comparable scales.  Computed by
    Bonnet's recurrence ``(p+1) P_{p+1} = (2p+1) x P_p − p P_{p−1}``.

    Parameters
    ----------
    x : array-like of shape (n, d)
        Inputs, usually in ``[−1, 1]`` (rescale them first).
    degree : int >= 0

    Returns
    -------
    torch.Tensor of shape (n, 1 + d·degree)

    Examples
    --------
    >>> import tllab
    >>> [round(v, 6) for v in tllab.models.legendre_features([[0.5]], 2)[0].tolist()]
    [1.0, 0.866025, -0.279508]
    """
    x = check_samples(x, "x")
    degree = check_int(degree, "degree", min_value=0)
    cols, prev, cur = [x.new_ones(x.shape[0], 1)], torch.ones_like(x), x
    for p in range(1, degree + 1):
        cols.append(math.sqrt(2 * p + 1) * cur)
        prev, cur = cur, ((2 * p + 1) * x * cur - p * prev) / (p + 1)
    return torch.cat(cols, dim=1)


def weighted_least_squares(x, y, w=None, *, degree: int = 1, reg: float = 0.0) -> torch.Tensor:
    r"""Importance-weighted (ridge) least squares for a polynomial model.

    Minimises ``Σ_i w_i (y_i − φ(x_i)ᵀθ)² + reg · ||θ_{1:}||²`` with
    ``φ`` = :func:`polynomial_features` (the intercept is not penalised).  Solved as an
    ordinary least-squares problem on ``√w``-scaled rows (QR-based, no normal equations),
    with ``√reg`` rows appended for the penalty; runs on ``x``'s device.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,)
    w : array-like of shape (n,), optional
        Non-negative weights (None: all ones, the ordinary fit).
    degree : int >= 0, default=1
        1 gives a straight line (the misspecified model of Shimodaira's example).
    reg : float >= 0, default=0.0

    Returns
    -------
    torch.Tensor of shape (1 + d·degree,)
        ``θ``: intercept first, then the coefficients of ``x, x², …``.

    Examples
    --------
    >>> import tllab
    >>> x = [[0.0], [1.0], [2.0]]; y = [1.0, 3.0, 5.0]
    >>> [round(v, 6) for v in tllab.weighted_least_squares(x, y).tolist()]
    [1.0, 2.0]
    """
    x = check_samples(x, "x")
    n = x.shape[0]
    y = check_vector(y, "y", n).to(device=x.device, dtype=x.dtype)
    w = check_weight_vector(w, n, x)
    reg = check_real(reg, "reg", low=0.0)
    phi = polynomial_features(x, degree)
    p = phi.shape[1]
    sw = w.sqrt()
    a, b = phi * sw[:, None], y * sw
    if reg > 0:
        pen = math.sqrt(reg) * torch.eye(p, dtype=x.dtype, device=x.device)[1:]
        a = torch.cat([a, pen])
        b = torch.cat([b, b.new_zeros(p - 1)])
    if a.shape[0] < p:
        raise ValueError(f"need at least {p} samples (or reg > 0) to fit degree={degree}; "
                         f"got {n}")
    q, r = torch.linalg.qr(a)
    return torch.linalg.solve_triangular(r, (q.T @ b)[:, None], upper=True)[:, 0]


def polynomial_predict(coef, x) -> torch.Tensor:
    r"""Evaluate the polynomial model ``φ(x)ᵀθ`` of :func:`~tllab.weighted_least_squares`.

    Parameters
    ----------
    coef : array-like of shape (1 + d·degree,)
    x : array-like of shape (n, d)

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.polynomial_predict([1.0, 2.0], [[0.0], [3.0]]).tolist()
    [1.0, 7.0]
    """
    x = check_samples(x, "x")
    coef = check_vector(coef, "coef").to(device=x.device, dtype=x.dtype)
    d = x.shape[1]
    if (coef.shape[0] - 1) % d != 0:
        raise ValueError(f"coef must have 1 + d·degree entries for d={d} features; "
                         f"got {coef.shape[0]}")
    return polynomial_features(x, (coef.shape[0] - 1) // d) @ coef


def _logistic_newton(a, targets, wn, reg, pen, prior, max_iter, tol):
    """Newton's method with step halving for ``K`` penalised logistic regressions at once.

    ``a``: design (n, p) with the intercept column; ``targets``: (n, K) in {0, 1}; ``wn``:
    weights summing to 1; ``pen``: (p,) 1 for penalised coefficients; ``prior``: (K, p).
    Each column k minimises ``Σ_i wn_i ℓ(a_iᵀθ_k, t_ik) + reg/2 ||pen·(θ_k − prior_k)||²``;
    the columns share nothing but the design, so they converge (and stop) independently.
    """
    (n, p), k = a.shape, targets.shape[1]
    rows = max(1, (1 << 22) // (k * p))
    wcol = wn[:, None]

    def objective(theta):
        z = a @ theta.T
        diff = pen * (theta - prior)
        return ((wcol * (torch.nn.functional.softplus(z) - targets * z)).sum(0)
                + 0.5 * reg * (diff * diff).sum(1))

    theta = prior.clone()  # warm start: the prior, i.e. zeros without one
    f = objective(theta)
    ridge = torch.diag(reg * pen + 1e-12)
    active = torch.ones(k, dtype=torch.bool, device=a.device)
    for _ in range(max_iter):
        prob = torch.sigmoid(a @ theta.T)
        g = (a.T @ (wcol * (prob - targets))).T + reg * pen * (theta - prior)
        s = wcol * prob * (1 - prob)
        h = ridge.expand(k, -1, -1).clone()
        for lo in range(0, n, rows):  # row blocks keep the temporary at K·p·rows numbers
            blk = a[lo:lo + rows]
            h += (blk.T[None] * s[lo:lo + rows].T[:, None, :]) @ blk
        step = torch.linalg.solve(h, g[..., None])[..., 0]
        decrement = 0.5 * (g * step).sum(1)
        done = active & (decrement < tol)
        # Within tol of the optimum a full Newton step is safe and ends at working precision.
        theta = torch.where(done[:, None], theta - step, theta)
        active &= ~done
        if not bool(active.any()):
            break
        t = torch.where(active, 1.0, 0.0).to(a.dtype)
        pending = active.clone()
        new, f_new = theta, f
        while bool(pending.any()):
            trial = theta - t[:, None] * step
            f_trial = objective(trial)
            ok = pending & (f_trial <= f - 0.5 * t * decrement)
            new = torch.where(ok[:, None], trial, new)
            f_new = torch.where(ok, f_trial, f_new)
            pending &= ~ok
            t = torch.where(pending, 0.5 * t, t)
            if bool((t[pending] < 1e-8).all()):
                active &= ~pending  # no descent left at working precision: converged
                break
        theta, f = new, f_new
    return theta


def _coef_tensor(value, name: str, like: torch.Tensor) -> torch.Tensor:
    """A finite real tensor of coefficients on ``like``'s device and dtype (any shape)."""
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{name} must be an array-like or a torch.Tensor; got "
                        f"{type(value).__name__}")
    try:
        t = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a numeric array-like or a torch.Tensor") from err
    if t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must be real-valued; got {t.dtype}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite")
    return t.to(device=like.device, dtype=like.dtype)


def _check_prior(prior, shape: tuple[int, ...], like: torch.Tensor, what: str) -> torch.Tensor:
    if prior is None:
        return like.new_zeros(shape)
    t = _coef_tensor(prior, "prior", like)
    if tuple(t.shape) != shape:
        raise ValueError(f"prior must have shape {shape} ({what}); got {tuple(t.shape)}")
    return t


def weighted_logistic_regression(
    x, y, w=None, *, reg: float = 1e-3, prior=None, max_iter: int = 100, tol: float = 1e-10
) -> torch.Tensor:
    r"""Importance-weighted, L2-penalised logistic regression fitted by Newton's method.

    Minimises the weighted mean log-loss plus a ridge penalty on the slopes,

    .. math::

        \frac{\sum_i w_i\, \ell(\theta_0 + x_i^\top\theta, y_i)}{\sum_i w_i}
        + \frac{\text{reg}}2 \|\theta - \theta^{\text{prior}}\|^2,

    with ``ℓ`` the logistic loss, ``y ∈ {0, 1}`` and ``θ^prior = 0`` by default — then it is
    scikit-learn's ``LogisticRegression(C=1/(reg·Σw))`` with ``sample_weight=w``.  A
    ``prior`` (e.g. the coefficients of a model fitted on a source domain) pulls the slopes
    towards it instead of towards 0: *parameter transfer*, the maximum a posteriori fit under
    a Gaussian prior ``N(θ^prior, I/(reg·Σw))``.  The intercept is never penalised.  Newton
    (IRLS) steps with step halving, started at the prior; deterministic and device-agnostic.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,), values in {0, 1}
    w : array-like of shape (n,), optional
    reg : float > 0, default=1e-3
    prior : array-like of shape (d + 1,), optional
        Coefficients in the layout this function returns (intercept first; the intercept
        entry is only the starting point, it is not penalised).  None: zeros.
    max_iter : int, default=100
    tol : float > 0, default=1e-10
        Stop, after one last full step, when the Newton decrement ``gᵀH⁻¹g / 2`` is below
        ``tol``.

    Returns
    -------
    torch.Tensor of shape (d + 1,)
        Intercept first, then the slopes.

    Examples
    --------
    >>> import tllab
    >>> x = [[-2.0], [-1.0], [1.0], [2.0]]; y = [0.0, 1.0, 0.0, 1.0]
    >>> coef = tllab.weighted_logistic_regression(x, y)
    >>> coef.shape, bool(coef[1] > 0)
    (torch.Size([2]), True)
    >>> pulled = tllab.weighted_logistic_regression(x, y, reg=100.0, prior=[0.0, -1.0])
    >>> round(float(pulled[1]), 2)  # a strong penalty keeps the slope near the prior's -1
    -0.99
    """
    x = check_samples(x, "x")
    n = x.shape[0]
    y = check_vector(y, "y", n).to(device=x.device, dtype=x.dtype)
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("y must contain only 0 and 1")
    w = check_weight_vector(w, n, x)
    reg = check_real(reg, "reg", low=0.0, low_inclusive=False)
    prior = _check_prior(prior, (x.shape[1] + 1,), x, "intercept first, then d slopes")
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    a = torch.cat([x.new_ones(n, 1), x], dim=1)
    pen = torch.ones(a.shape[1], dtype=x.dtype, device=x.device)
    pen[0] = 0.0
    return _logistic_newton(a, y[:, None], w / w.sum(), reg, pen, prior[None], max_iter,
                            tol)[0]


def logistic_predict(coef, x) -> torch.Tensor:
    r"""Class labels (``0.`` / ``1.``) of the linear model of
    :func:`~tllab.weighted_logistic_regression`.

    Parameters
    ----------
    coef : array-like of shape (d + 1,)
    x : array-like of shape (n, d)

    Returns
    -------
    torch.Tensor of shape (n,)

    Examples
    --------
    >>> import tllab
    >>> tllab.logistic_predict([0.0, 1.0], [[-1.0], [2.0]]).tolist()
    [0.0, 1.0]
    """
    x = check_samples(x, "x")
    coef = check_vector(coef, "coef", x.shape[1] + 1).to(device=x.device, dtype=x.dtype)
    return ((coef[0] + x @ coef[1:]) > 0).to(x.dtype)


def _check_classes(y: torch.Tensor, n_classes) -> int:
    """``n_classes`` for validated labels ``y``: given (then above every label) or ``max + 1``."""
    top = int(y.max()) + 1
    if n_classes is None:
        n_classes = max(top, 2)
    n_classes = check_int(n_classes, "n_classes", min_value=2)
    if top > n_classes:
        raise ValueError(f"y has label {top - 1}, which needs n_classes > {top - 1}; "
                         f"got n_classes={n_classes}")
    return n_classes


def one_vs_rest_logistic(
    x, y, w=None, *, n_classes: int | None = None, reg: float = 1e-3, prior=None,
    max_iter: int = 100, tol: float = 1e-10
) -> torch.Tensor:
    r"""Multi-class linear classifier: one :func:`~tllab.weighted_logistic_regression` per class.

    Row ``k`` of the result is the weighted, penalised logistic regression of the indicator
    ``[y = k]`` on ``x``, with the objective of :func:`~tllab.weighted_logistic_regression` (same
    ``w``, ``reg`` and, if given, ``prior[k]``).  The ``K`` problems are solved together by
    batched Newton steps (one batched ``(d+1)×(d+1)`` solve per iteration; see
    ``benchmarks/bench_linear.py``).  :func:`~tllab.models.one_vs_rest_predict` takes the class
    with the largest score.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,)
        Integer labels in ``0 .. n_classes - 1`` (a class may be absent from ``y``).
    w : array-like of shape (n,), optional
        Non-negative sample weights.
    n_classes : int >= 2, optional
        Default: ``max(y) + 1`` (or the number of rows of ``prior``).
    reg : float > 0, default=1e-3
    prior : array-like of shape (n_classes, d + 1), optional
        Coefficients to shrink towards, e.g. a source model's (see
        :func:`~tllab.weighted_logistic_regression`); None: zeros.
    max_iter : int, default=100
    tol : float > 0, default=1e-10

    Returns
    -------
    torch.Tensor of shape (n_classes, d + 1)
        One row per class: intercept, then slopes.

    Examples
    --------
    >>> import tllab
    >>> x = [[0.0], [0.2], [1.0], [1.2], [2.0], [2.2]]; y = [0, 0, 1, 1, 2, 2]
    >>> coef = tllab.models.one_vs_rest_logistic(x, y, reg=1e-2)
    >>> coef.shape
    torch.Size([3, 2])
    >>> tllab.models.one_vs_rest_predict(coef, [[0.1], [2.1]]).tolist()
    [0, 2]
    """
    x = check_samples(x, "x")
    n, d = x.shape
    if n_classes is None and prior is not None and hasattr(prior, "__len__"):
        n_classes = len(prior)
    y = check_labels(y, "y", n, device=x.device)
    k = _check_classes(y, n_classes)
    w = check_weight_vector(w, n, x)
    reg = check_real(reg, "reg", low=0.0, low_inclusive=False)
    prior = _check_prior(prior, (k, d + 1), x, "one row per class: intercept, then d slopes")
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    a = torch.cat([x.new_ones(n, 1), x], dim=1)
    targets = torch.nn.functional.one_hot(y, k).to(x.dtype)
    pen = torch.ones(d + 1, dtype=x.dtype, device=x.device)
    pen[0] = 0.0
    return _logistic_newton(a, targets, w / w.sum(), reg, pen, prior, max_iter, tol)


def one_vs_rest_predict(coef, x) -> torch.Tensor:
    r"""Class labels of :func:`~tllab.models.one_vs_rest_logistic`'s model: ``argmax_k θ_kᵀ[1, x]``.

    Parameters
    ----------
    coef : array-like of shape (K, d + 1)
    x : array-like of shape (n, d)

    Returns
    -------
    torch.Tensor of shape (n,), dtype long

    Examples
    --------
    >>> import tllab
    >>> coef = [[1.0, -1.0], [-1.0, 1.0]]  # class 1 when x > 1
    >>> tllab.models.one_vs_rest_predict(coef, [[0.0], [3.0]]).tolist()
    [0, 1]
    """
    x = check_samples(x, "x")
    coef = _coef_tensor(coef, "coef", x)
    if coef.ndim != 2 or coef.shape[1] != x.shape[1] + 1 or coef.shape[0] < 2:
        raise ValueError(f"coef must have shape (K >= 2, {x.shape[1] + 1}) for x with "
                         f"{x.shape[1]} features; got {tuple(coef.shape)}")
    return (coef[:, 0] + x @ coef[:, 1:].T).argmax(1)
