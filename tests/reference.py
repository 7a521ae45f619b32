"""Independent float64 references (NumPy/SciPy textbook formulas) shared by the tests."""

import numpy as np
from scipy.spatial.distance import cdist, pdist


def ref_gram(a, b, bandwidth, kernel="gaussian"):
    """Dense float64 kernel matrix from the textbook formulas (SciPy distances)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    sigmas = np.atleast_1d(np.asarray(bandwidth, dtype=np.float64))
    if kernel == "gaussian":
        d2 = cdist(a, b, "sqeuclidean")
        return sum(np.exp(-d2 / (2.0 * s**2)) for s in sigmas)
    d = cdist(a, b, "euclidean")
    return sum(np.exp(-d / s) for s in sigmas)


def ref_median(*samples):
    """Median Euclidean distance over distinct pairs of the pooled samples."""
    z = np.concatenate([np.asarray(s, dtype=np.float64) for s in samples])
    return float(np.median(pdist(z)))
