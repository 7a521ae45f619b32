r"""L1-penalised (sparse) linear learners, fitted by an accelerated proximal-gradient method.

:func:`lasso` (squared loss) and :func:`l1_logistic_regression` (log-loss) minimise a
smooth, weighted mean loss plus ``alpha · ||θ||₁`` on the slopes (the intercept is not
penalised).  The L1 term is not differentiable at 0; its proximal operator,
:func:`soft_threshold`, sets small coefficients *exactly* to zero, which is why the L1
penalty selects features while the L2 penalty of :func:`tllab.weighted_least_squares`
(``reg``) only shrinks them.

The solver is FISTA (Beck & Teboulle, 2009) with the gradient-based adaptive restart of
O'Donoghue & Candès (2015), step ``1/L`` from the exact Lipschitz constant of the smooth
part, iterates in float64 (float32 on MPS), and stops on the optimality (KKT) conditions:
``|∂_0| ≤ tol`` for the intercept, ``|∂_j + alpha·sign θ_j| ≤ tol`` where ``θ_j ≠ 0`` and
``|∂_j| ≤ alpha + tol`` where ``θ_j = 0``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch

from .._checks import check_int, check_real, check_samples, check_vector, check_weight_vector
from ..device import as_tensor
from ..reweight._common import _work_dtype

__all__ = ["soft_threshold", "lasso", "l1_logistic_regression"]


def soft_threshold(x, threshold: float) -> torch.Tensor:
    r"""The proximal operator of ``threshold · ||·||₁``: ``sign(x) · max(|x| − threshold, 0)``.

    Parameters
    ----------
    x : array-like
        Any shape; a tensor keeps its device and dtype.
    threshold : float >= 0

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.

    Examples
    --------
    >>> import tllab
    >>> tllab.models.soft_threshold([-2.0, -0.5, 0.3, 1.5], 1.0).tolist()
    [-1.0, -0.0, 0.0, 0.5]
    """
    if isinstance(x, (str, bytes, dict)) or x is None:
        raise TypeError(f"x must be an array-like or a torch.Tensor; got {type(x).__name__}")
    t = as_tensor(x)
    if t.is_complex():
        raise TypeError(f"x must be real-valued; got {t.dtype}")
    threshold = check_real(threshold, "threshold", low=0.0)
    return t.sign() * (t.abs() - threshold).clamp_min(0.0)


def _prepare(x, y, w, alpha, max_iter, tol, coef_init):
    x = check_samples(x, "x")
    n, d = x.shape
    y = check_vector(y, "y", n)
    w = check_weight_vector(w, n, x)
    alpha = check_real(alpha, "alpha", low=0.0)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    work = _work_dtype(x.device)
    a = torch.cat([x.new_ones(n, 1), x], dim=1).to(work)
    if coef_init is None:
        z0 = a.new_zeros(d + 1)
    else:
        z0 = check_vector(coef_init, "coef_init", d + 1).to(device=x.device, dtype=work)
    return (x, a, y.to(device=x.device, dtype=work), w.to(work) / w.to(work).sum(), alpha,
            max_iter, tol, z0)


def _fista(grad: Callable, a: torch.Tensor, wn: torch.Tensor, curvature: float, alpha: float,
           z0: torch.Tensor, max_iter: int, tol: float, name: str) -> torch.Tensor:
    """Minimise ``g(z) + alpha·||z[1:]||₁``; ``∇²g ≼ curvature · Aᵀ diag(wn) A``."""
    gram = (a * wn[:, None]).T @ a
    lipschitz = curvature * float(torch.linalg.eigvalsh(gram)[-1])
    if lipschitz <= 0:  # every feature and weight is zero: the intercept alone
        lipschitz = 1.0
    step = 1.0 / lipschitz
    pen = torch.ones_like(z0)
    pen[0] = 0.0

    def prox(v):
        return torch.where(pen > 0, v.sign() * (v.abs() - alpha * step).clamp_min(0.0), v)

    def kkt(z, g):
        zero = z == 0
        viol = torch.where(zero, (g.abs() - alpha).clamp_min(0.0), (g + alpha * z.sign()).abs())
        viol[0] = g[0].abs()
        return float(viol.max())

    z, z_prev, v, t = z0.clone(), z0.clone(), z0.clone(), 1.0
    for it in range(max_iter):
        z_new = prox(v - step * grad(v))
        if float((v - z_new) @ (z_new - z)) > 0:  # momentum points uphill: restart
            t = 1.0
        t_new = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
        z_prev, z = z, z_new
        v = z + ((t - 1.0) / t_new) * (z - z_prev)
        t = t_new
        if it % 10 == 9 and kkt(z, grad(z)) <= tol:
            return z
    if kkt(z, grad(z)) > tol:
        warnings.warn(f"{name} did not reach tol={tol:g} in max_iter={max_iter} iterations; "
                      "increase max_iter or standardise the features", RuntimeWarning,
                      stacklevel=3)
    return z


def lasso(x, y, w=None, *, alpha: float, max_iter: int = 20_000, tol: float = 1e-9,
          coef_init=None) -> torch.Tensor:
    r"""Weighted Lasso: least squares with an L1 penalty on the slopes.

    Minimises

    .. math::

        \frac{1}{2\sum_i w_i} \sum_i w_i\,(y_i - \theta_0 - x_i^\top\theta)^2
        + \alpha\,\lVert\theta\rVert_1 ,

    scikit-learn's ``Lasso(alpha)`` objective (with ``sample_weight=w``).  Large ``alpha``
    sets every slope to zero (from ``alpha ≥ max_j |Σ_i w_i x̃_ij ỹ_i| / Σ w_i`` on centred
    data); ``alpha=0`` is least squares.  Features on very different scales slow the solver
    down: standardise them.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,)
    w : array-like of shape (n,), optional
        Non-negative sample weights (None: all ones).
    alpha : float >= 0
    max_iter : int, default=20000
    tol : float > 0, default=1e-9
        Stop when the largest KKT violation (see the module) is below ``tol``.
    coef_init : array-like of shape (d + 1,), optional
        Starting point (a warm start along a path of ``alpha``).

    Returns
    -------
    torch.Tensor of shape (d + 1,)
        Intercept first, then the slopes; ``x``'s device and dtype.  Predict with
        ``coef[0] + x @ coef[1:]`` (:func:`tllab.polynomial_predict` with these
        coefficients does the same).

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(100, 5, generator=g, dtype=torch.float64)
    >>> y = 2.0 * x[:, 0] + 0.01 * torch.randn(100, generator=g, dtype=torch.float64)
    >>> coef = tllab.models.lasso(x, y, alpha=0.1)
    >>> (coef[2:] == 0).tolist()            # the irrelevant slopes are exactly zero
    [True, True, True, True]
    """
    x, a, y, wn, alpha, max_iter, tol, z0 = _prepare(x, y, w, alpha, max_iter, tol, coef_init)

    if a.shape[1] <= a.shape[0]:  # the (d+1)² Gram matrix is the cheaper operator
        gram, rhs = (a * wn[:, None]).T @ a, a.T @ (wn * y)

        def grad(z):
            return gram @ z - rhs
    else:
        def grad(z):
            return a.T @ (wn * (a @ z - y))

    z = _fista(grad, a, wn, 1.0, alpha, z0, max_iter, tol, "lasso")
    return z.to(x.dtype)


def l1_logistic_regression(x, y, w=None, *, alpha: float, max_iter: int = 20_000,
                           tol: float = 1e-9, coef_init=None) -> torch.Tensor:
    r"""Weighted logistic regression with an L1 penalty on the slopes.

    Minimises the weighted mean log-loss plus ``alpha · ||θ||₁``,

    .. math::

        \frac{\sum_i w_i\, \ell(\theta_0 + x_i^\top\theta, y_i)}{\sum_i w_i}
        + \alpha\,\lVert\theta\rVert_1, \qquad y_i \in \{0, 1\},

    i.e. scikit-learn's ``LogisticRegression(l1_ratio=1, C=1/(alpha·Σw))`` with
    ``sample_weight=w`` (intercept not penalised).  Predict labels with
    :func:`tllab.logistic_predict`.

    Parameters
    ----------
    x : array-like of shape (n, d)
    y : array-like of shape (n,), values in {0, 1}
    w : array-like of shape (n,), optional
    alpha : float >= 0
        ``alpha=0`` on separable data has no minimiser; the solver then stops at
        ``max_iter`` with a warning.
    max_iter : int, default=20000
    tol : float > 0, default=1e-9
    coef_init : array-like of shape (d + 1,), optional

    Returns
    -------
    torch.Tensor of shape (d + 1,)
        Intercept first, then the slopes; ``x``'s device and dtype.

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(300, 4, generator=g, dtype=torch.float64)
    >>> y = (x[:, 0] + 0.3 * torch.randn(300, generator=g, dtype=torch.float64) > 0).double()
    >>> coef = tllab.models.l1_logistic_regression(x, y, alpha=0.05)
    >>> bool(coef[1] > 0), (coef[2:] == 0).tolist()
    (True, [True, True, True])
    """
    x, a, y, wn, alpha, max_iter, tol, z0 = _prepare(x, y, w, alpha, max_iter, tol, coef_init)
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("y must contain only 0 and 1")

    def grad(z):
        return a.T @ (wn * (torch.sigmoid(a @ z) - y))

    z = _fista(grad, a, wn, 0.25, alpha, z0, max_iter, tol, "l1_logistic_regression")
    return z.to(x.dtype)
