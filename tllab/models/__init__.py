"""Models used across the book: importance-weighted linear learners, and the small CNN and
MLP of the deep-transfer chapters."""

from .cnn import MLP, SmallCNN
from .linear import (
    logistic_predict,
    polynomial_features,
    polynomial_predict,
    weighted_least_squares,
    weighted_logistic_regression,
)

__all__ = [
    "polynomial_features",
    "weighted_least_squares",
    "polynomial_predict",
    "weighted_logistic_regression",
    "logistic_predict",
    "SmallCNN",
    "MLP",
]
