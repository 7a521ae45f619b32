"""Models used across the book: importance-weighted linear learners, the small CNN and MLP of
the deep-transfer chapters, and the stored pretrained source CNN."""

from .cnn import MLP, SmallCNN
from .linear import (
    logistic_predict,
    polynomial_features,
    polynomial_predict,
    weighted_least_squares,
    weighted_logistic_regression,
)
from .pretrained import REBUILD_COMMAND, SOURCE_CNN_PATH, load_source_cnn, save_source_cnn

__all__ = [
    "polynomial_features",
    "weighted_least_squares",
    "polynomial_predict",
    "weighted_logistic_regression",
    "logistic_predict",
    "SmallCNN",
    "MLP",
    "SOURCE_CNN_PATH",
    "REBUILD_COMMAND",
    "save_source_cnn",
    "load_source_cnn",
]
