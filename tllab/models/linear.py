r"""Importance-weighted linear learners in torch.

:func:`~tllab.weighted_least_squares` fits a polynomial regression by weighted least squares
(closed form); :func:`~tllab.weighted_logistic_regression` fits a logistic regression by Newton's
method (IRLS).  Both take per-sample weights ``w`` that multiply each sample's *loss* — the
way importance weights enter a learner.
"""

from __future__ import annotations

import math

import torch

from .._checks import (
    check_int,
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


def weighted_logistic_regression(
    x, y, w=None, *, reg: float = 1e-3, max_iter: int = 100, tol: float = 1e-10
) -> torch.Tensor:
    r"""Importance-weighted, L2-penalised logistic regression fitted by Newton's method.

    Minimises the weighted mean log-loss plus a ridge penalty on the slopes,

    .. math::

        \frac{\sum_i w_i\, \ell(\theta_0 + x_i^\top\theta, y_i)}{\sum_i w_i}
        + \frac{\text{reg}}2 \|\theta\|^2,

    with ``ℓ`` the logistic loss and ``y ∈ {0, 1}`` — scikit-learn's
    ``LogisticRegression(C=1/(reg·Σw))`` with ``sample_weight=w``.  Newton (IRLS) steps
    with step halving; deterministic and device-agnostic.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,), values in {0, 1}
    w : array-like of shape (n,), optional
    reg : float > 0, default=1e-3
    max_iter : int, default=100
    tol : float > 0, default=1e-10
        Stop when the Newton decrement ``gᵀH⁻¹g / 2`` is below ``tol``.

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
    """
    x = check_samples(x, "x")
    n = x.shape[0]
    y = check_vector(y, "y", n).to(device=x.device, dtype=x.dtype)
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("y must contain only 0 and 1")
    w = check_weight_vector(w, n, x)
    reg = check_real(reg, "reg", low=0.0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    a = torch.cat([x.new_ones(n, 1), x], dim=1)
    wn = w / w.sum()
    pen = torch.ones(a.shape[1], dtype=x.dtype, device=x.device)
    pen[0] = 0.0

    def objective(theta):
        z = a @ theta
        return float((wn * (torch.nn.functional.softplus(z) - y * z)).sum()
                     + 0.5 * reg * (pen * theta * theta).sum())

    theta = x.new_zeros(a.shape[1])
    f = objective(theta)
    for _ in range(max_iter):
        p = torch.sigmoid(a @ theta)
        g = a.T @ (wn * (p - y)) + reg * pen * theta
        h = (a * (wn * p * (1 - p))[:, None]).T @ a + torch.diag(reg * pen + 1e-12)
        step = torch.linalg.solve(h, g)
        decrement = float(g @ step) / 2
        if decrement < tol:
            break
        t = 1.0
        while t > 1e-8:
            new = theta - t * step
            f_new = objective(new)
            if f_new <= f - 0.25 * t * 2 * decrement:
                break
            t *= 0.5
        theta, f = new, f_new
    return theta


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
