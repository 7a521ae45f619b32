r"""The generalisation chapter's regression problem and the polynomial learner every study fits.

The problem is :func:`tllab.data.interval.make_interval_shift_regression`: ``y = f(x) + ε`` with
:func:`tllab.data.interval.wiggly_function`, noise sd :data:`NOISE`, source
``x = 2u − 1, u ~ Beta(2, 2)`` and target ``u ~ Beta(6, 2)`` (the two :data:`LAWS`).  The
expectations over ``x`` under each law are exact Gauss–Jacobi sums (:func:`law_nodes`);
:func:`polynomial_learner` fits a polynomial in the Legendre basis (least squares, ridge or
Lasso).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..._checks import check_choice, check_int, check_real
from ...data.interval import INTERVAL_SHIFT, beta_law_quadrature
from ...models import lasso, legendre_features, polynomial_predict, weighted_least_squares

__all__ = [
    "LAWS",
    "NOISE",
    "law_nodes",
    "polynomial_learner",
]

LAWS = ("source", "target")
"""The two input laws of the problem (keys of :data:`tllab.data.interval.INTERVAL_SHIFT`)."""

NOISE = INTERVAL_SHIFT["noise"]
"""Label-noise standard deviation; ``NOISE**2`` is the irreducible error."""


def law_nodes(law: str, n_nodes: int = 60) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Quadrature nodes ``(n_nodes, 1)`` and weights ``(n_nodes,)`` for the source or target law.

    ``Σ_j w_j g(x_j) = E_law[g(x)]``, exact for polynomials of degree ``< 2·n_nodes``
    (:func:`tllab.data.interval.beta_law_quadrature`).

    Examples
    --------
    >>> from tllab.studies import generalization as study
    >>> x, w = study.law_nodes("target", 40)
    >>> round(float((w * x[:, 0]).sum()), 6)   # E[2u − 1] for u ~ Beta(6, 2)
    0.5
    """
    law = check_choice(law, "law", LAWS)
    x, w = beta_law_quadrature(*INTERVAL_SHIFT[law], n_nodes)
    return x[:, None], w


def polynomial_learner(degree: int, *, reg: float = 0.0, alpha: float = 0.0,
                       tol: float = 1e-6) -> Callable:
    r"""A polynomial regression learner ``fit_predict(x_train, y_train, w_train, x_test)``.

    Fits the polynomial of degree ``degree`` in the Legendre basis
    (:func:`tllab.models.legendre_features`) by weighted least squares with a ridge penalty
    ``reg · ||θ||²`` (:func:`tllab.weighted_least_squares`), or, when ``alpha > 0``, by the
    Lasso with penalty ``alpha · ||θ||₁`` (:func:`tllab.models.sparse.lasso`); the intercept is not
    penalised.  The signature is the one :func:`tllab.iwcv_score` and
    :func:`tllab.models.ensemble.bagged_predictions` call.

    Examples
    --------
    >>> import torch
    >>> from tllab.studies import generalization as study
    >>> x = torch.linspace(-1, 1, 20, dtype=torch.float64)[:, None]
    >>> fp = study.polynomial_learner(2)
    >>> [round(v, 6) for v in fp(x, x[:, 0] ** 2, torch.ones(20), x[:2]).tolist()]
    [1.0, 0.800554]
    """
    degree = check_int(degree, "degree", min_value=0)
    reg = check_real(reg, "reg", low=0.0)
    alpha = check_real(alpha, "alpha", low=0.0)

    def fit_predict(x_tr, y_tr, w_tr, x_te):
        if degree == 0:  # the weighted mean
            return (w_tr * y_tr).sum() / w_tr.sum() * x_te.new_ones(x_te.shape[0])
        phi = legendre_features(x_tr, degree)[:, 1:]
        phi_te = legendre_features(x_te, degree)[:, 1:]
        if alpha > 0:
            coef = lasso(phi, y_tr, w_tr, alpha=alpha, tol=tol)
        else:
            coef = weighted_least_squares(phi, y_tr, w_tr, reg=reg)
        return polynomial_predict(coef, phi_te)

    return fit_predict
