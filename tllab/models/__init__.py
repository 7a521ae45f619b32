"""Models used across the book: importance-weighted linear learners."""

from .linear import (
    logistic_predict,
    one_vs_rest_logistic,
    one_vs_rest_predict,
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
    "one_vs_rest_logistic",
    "one_vs_rest_predict",
]
