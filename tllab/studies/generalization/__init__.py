r"""The experiments of the generalisation chapter; each returns plain numbers and arrays.

The regression problem is :func:`tllab.data.interval.make_interval_shift_regression`:
``y = f(x) + ε`` with :func:`tllab.data.interval.wiggly_function`, noise sd 0.3, source
``x = 2u − 1, u ~ Beta(2, 2)`` and target ``u ~ Beta(6, 2)``.  Every learner on it is a
polynomial in the Legendre basis (:func:`~.problem.polynomial_learner`: least squares, ridge or
Lasso); the expectations over ``x`` under each law are exact Gauss–Jacobi sums
(:func:`~.problem.law_nodes`), the expectations over training sets Monte Carlo averages over
``n_sets`` independent training sets, repeated over ``seeds``.

The package is split by concept, and every name is importable from here:

* :mod:`.problem`: the two laws, the noise level, the quadrature nodes and the polynomial
  learner;
* :mod:`.bias_variance`: bias², variance and error on the source and the target law against a
  knob (:func:`~.bias_variance.complexity_curve`, :func:`~.bias_variance.regularisation_curve`,
  :func:`~.bias_variance.bagging_curve`), the member variance and correlation of bagged trees
  (:func:`~.bias_variance.ensemble_variance`) and one picture of the chapter's explorer
  (:func:`~.bias_variance.explorer_state`);
* :mod:`.selection`: ordinary and importance-weighted cross-validation against the exact risks
  (:func:`~.selection.selection_study`);
* :mod:`.digits`: the image experiment, remedies for a small CNN under rotation drift
  (:func:`~.digits.digit_remedies`).
"""

from .bias_variance import (
    Curve,
    ExplorerState,
    Terms,
    bagging_curve,
    complexity_curve,
    ensemble_variance,
    explorer_state,
    regularisation_curve,
)
from .digits import (
    REMEDIES,
    DigitRemedies,
    digit_remedies,
)
from .problem import (
    LAWS,
    NOISE,
    law_nodes,
    polynomial_learner,
)
from .selection import selection_study

__all__ = [
    "LAWS",
    "NOISE",
    "law_nodes",
    "polynomial_learner",
    "Terms",
    "Curve",
    "complexity_curve",
    "regularisation_curve",
    "bagging_curve",
    "ensemble_variance",
    "selection_study",
    "ExplorerState",
    "explorer_state",
    "REMEDIES",
    "DigitRemedies",
    "digit_remedies",
]
