r"""The experiments of the instance-weighting chapter; each returns plain numbers and arrays.

The package is split by concept, and every name is importable from here:

* :mod:`.weights`: the density-ratio estimators of :mod:`tllab.reweight` by name
  (:func:`~.weights.estimate_weights`), exact target risks
  (:func:`~.weights.gaussian_target_risk`, Gauss–Hermite quadrature, exact for polynomial
  models) and the comparison of the estimators (:func:`~.weights.compare_weighting_methods`,
  :func:`~.weights.compare_over_seeds`);
* :mod:`.flattening`: flattened weights ``w^γ``, their bias² and variance over seeds, and the
  choice of ``γ`` by ordinary or importance-weighted cross-validation;
* :mod:`.classification`: importance-weighted logistic regression under covariate shift;
* :mod:`.explorer`: one state of the chapter's explorer (drawn by :mod:`tllab.viz`).
"""

from .classification import (
    ClassificationResult,
    classification_experiment,
    classification_over_seeds,
)
from .explorer import (
    ExplorerState,
    explorer_state,
)
from .flattening import (
    cv_flattening_selection,
    cv_selection_study,
    flattening_bias_variance,
    flattening_curve,
)
from .weights import (
    METHOD_LABELS,
    WEIGHT_METHODS,
    MethodResult,
    compare_over_seeds,
    compare_weighting_methods,
    estimate_weights,
    gaussian_target_risk,
    ratio_error,
)

__all__ = [
    "WEIGHT_METHODS",
    "METHOD_LABELS",
    "gaussian_target_risk",
    "ratio_error",
    "estimate_weights",
    "MethodResult",
    "compare_weighting_methods",
    "compare_over_seeds",
    "flattening_curve",
    "cv_flattening_selection",
    "cv_selection_study",
    "flattening_bias_variance",
    "ClassificationResult",
    "classification_experiment",
    "classification_over_seeds",
    "ExplorerState",
    "explorer_state",
]
