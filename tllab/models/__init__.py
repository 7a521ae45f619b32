"""Models used across the book: importance-weighted linear learners, sparse (L1) learners,
bagging, the bias–variance decomposition of a learning procedure, and the small CNN and MLP
of the deep-transfer chapters."""

from .bias_variance import BiasVariance, bias_variance_decomposition
from .cnn import MLP, SmallCNN
from .ensemble import bagged_predictions, bootstrap_indices
from .linear import (
    legendre_features,
    logistic_predict,
    one_vs_rest_logistic,
    one_vs_rest_predict,
    polynomial_features,
    polynomial_predict,
    weighted_least_squares,
    weighted_logistic_regression,
)
from .sparse import l1_logistic_regression, lasso, soft_threshold

__all__ = [
    "polynomial_features",
    "legendre_features",
    "weighted_least_squares",
    "polynomial_predict",
    "weighted_logistic_regression",
    "logistic_predict",
    "soft_threshold",
    "lasso",
    "l1_logistic_regression",
    "bootstrap_indices",
    "bagged_predictions",
    "BiasVariance",
    "bias_variance_decomposition",
    "SmallCNN",
    "MLP",
    "one_vs_rest_logistic",
    "one_vs_rest_predict",
]
