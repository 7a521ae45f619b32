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


def ref_mmd2(x, y, bandwidth, kernel="gaussian", estimator="unbiased"):
    """Textbook U-, V- and linear-time statistics (Gretton et al. 2012), float64 NumPy."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, m = len(x), len(y)
    if bandwidth == "median":
        bandwidth = ref_median(x, y)
    if estimator == "linear":
        # mean_i k(x_2i, x_2i+1) + mean_j k(y_2j, y_2j+1) - 2 mean_l k(x_{l mod n}, y_{l mod m})
        def paired(a, b):
            return np.array([ref_gram(a[i:i + 1], b[i:i + 1], bandwidth, kernel)[0, 0]
                             for i in range(len(a))])

        kxx = paired(x[0:2 * (n // 2):2], x[1:2 * (n // 2):2]).mean()
        kyy = paired(y[0:2 * (m // 2):2], y[1:2 * (m // 2):2]).mean()
        ll = np.arange(max(n, m))
        kxy = paired(x[ll % n], y[ll % m]).mean()
        return kxx + kyy - 2 * kxy
    Kxx = ref_gram(x, x, bandwidth, kernel)
    Kyy = ref_gram(y, y, bandwidth, kernel)
    Kxy = ref_gram(x, y, bandwidth, kernel)
    if estimator == "unbiased":
        return ((Kxx.sum() - np.trace(Kxx)) / (n * (n - 1))
                + (Kyy.sum() - np.trace(Kyy)) / (m * (m - 1)) - 2 * Kxy.mean())
    return Kxx.mean() + Kyy.mean() - 2 * Kxy.mean()
