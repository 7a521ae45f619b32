"""CORAL, subspace alignment and TCA against float64 NumPy/SciPy/scikit-learn references on
fresh random inputs, their defining identities, and the bad-input tables."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from reference import ref_gram

from tllab.align import CORAL, TCA, SubspaceAlignment, coral, subspace_alignment
from tllab.align.tca import EXACT_MAX_SAMPLES

HAS_CUDA = torch.cuda.is_available()


def random_pair(seed, n=None, m=None, d=None):
    """Two samples with different means and random (full-rank) covariances."""
    rng = np.random.default_rng(seed)
    d = d or int(rng.integers(2, 7))
    n = n or int(rng.integers(30, 120))
    m = m or int(rng.integers(30, 120))
    xs = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    xt = rng.normal(size=(m, d)) @ rng.normal(size=(d, d)) * 1.5 + rng.normal(size=d)
    return xs, xt


def match_signs(got, want):
    """Flip each column of ``got`` to the sign that best matches ``want``."""
    signs = np.sign((got * want).sum(0))
    signs[signs == 0] = 1
    return got * signs


# =============================================================================== CORAL
def ref_coral(xs, xt, reg, center):
    d = xs.shape[1]
    cs = np.cov(xs, rowvar=False) + reg * np.eye(d)
    ct = np.cov(xt, rowvar=False) + reg * np.eye(d)
    a = np.real(np.linalg.inv(scipy.linalg.sqrtm(cs)) @ scipy.linalg.sqrtm(ct))
    if center:
        return (xs - xs.mean(0)) @ a + xt.mean(0)
    return xs @ a


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("reg", [1.0, 0.01])
def test_coral_matches_scipy_sqrtm_reference(seed, center, reg):
    xs, xt = random_pair(seed)
    est = CORAL(reg=reg, center=center).fit(xs, xt)
    got = est.transform(torch.from_numpy(xs))
    np.testing.assert_allclose(got.numpy(), ref_coral(xs, xt, reg, center), rtol=1e-8,
                               atol=1e-8)
    np.testing.assert_allclose(coral(xs, xt, reg, center).numpy(), got.numpy(), rtol=0, atol=0)
    zt = est.transform(torch.from_numpy(xt), domain="target")
    assert np.array_equal(zt.numpy(), xt)  # the target is left as it is


@pytest.mark.parametrize("seed", range(5))
def test_coral_transformed_source_covariance_equals_the_target_up_to_the_regulariser(seed):
    xs, xt = random_pair(seed)
    reg = float(np.random.default_rng(seed).uniform(0.1, 3.0))
    est = CORAL(reg=reg).fit(xs, xt)
    zs = est.transform(xs).numpy()
    a = est.matrix_.numpy()
    d = xs.shape[1]
    lhs = np.cov(zs, rowvar=False) + reg * a.T @ a
    np.testing.assert_allclose(lhs, np.cov(xt, rowvar=False) + reg * np.eye(d), atol=1e-9,
                               rtol=1e-9)
    np.testing.assert_allclose(zs.mean(0), xt.mean(0), atol=1e-10)
    # without regularisation the covariances are equal
    zs0 = CORAL(reg=0.0).fit(xs, xt).transform(xs).numpy()
    np.testing.assert_allclose(np.cov(zs0, rowvar=False), np.cov(xt, rowvar=False),
                               atol=1e-9, rtol=1e-9)


def test_coral_float32_keeps_dtype_and_is_accurate():
    xs, xt = random_pair(11, n=400, m=300, d=5)
    got = CORAL().fit(xs, xt).transform(torch.from_numpy(xs).float())
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), ref_coral(xs, xt, 1.0, True), rtol=1e-4,
                               atol=1e-4)


# ============================================================================ subspace
def ref_subspace(xs, xt, k):
    """scikit-learn PCA (full SVD) on each domain, M = P_s^T P_t (skada's construction)."""
    from sklearn.decomposition import PCA

    ps = PCA(k, svd_solver="full").fit(xs)
    pt = PCA(k, svd_solver="full").fit(xt)
    m = ps.components_ @ pt.components_.T
    return ps.transform(xs) @ m, pt.transform(xt)


@pytest.mark.parametrize("seed", range(6))
def test_subspace_alignment_matches_sklearn_pca_reference(seed):
    xs, xt = random_pair(seed, d=6)
    k = int(np.random.default_rng(seed).integers(1, 6))
    zs, zt = SubspaceAlignment(k).fit_transform(xs, xt)
    want_s, want_t = ref_subspace(xs, xt, k)
    # target coordinates are defined up to the sign of each PCA axis; the source's follow
    signs = np.sign((zt.numpy() * want_t).sum(0))
    np.testing.assert_allclose(zt.numpy() * signs, want_t, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(zs.numpy() * signs, want_s, rtol=1e-8, atol=1e-8)
    fs, ft = subspace_alignment(xs, xt, k)
    assert torch.equal(fs, zs) and torch.equal(ft, zt)


def test_subspace_alignment_ignores_eigenvector_signs():
    xs, xt = random_pair(3, d=5)
    est = SubspaceAlignment(3).fit(xs, xt)
    before = est.transform(xs).clone()
    flip = torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)
    est.basis_source_ = est.basis_source_ * flip
    est.alignment_ = est.basis_source_.T @ est.basis_target_
    torch.testing.assert_close(est.transform(xs), before, rtol=1e-12, atol=1e-12)


def test_subspace_alignment_full_dimension_is_a_rotation_of_the_source():
    """With k = d, P_s M P_t^T = P_s P_s^T P_t P_t^T = I: source points keep their
    centred geometry (pairwise distances)."""
    xs, xt = random_pair(5, d=4)
    zs, _ = SubspaceAlignment(4).fit_transform(xs, xt)
    d_in = scipy.spatial.distance.pdist(xs)
    np.testing.assert_allclose(scipy.spatial.distance.pdist(zs.numpy()), d_in, rtol=1e-9)


# ================================================================================= TCA
def ref_tca(kmat, n, m, mu, k):
    """Dense generalised eigen-solution of (KHK, KLK + mu I) with SciPy, embedding K W."""
    big_n = n + m
    e = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
    h = np.eye(big_n) - np.ones((big_n, big_n)) / big_n
    a = kmat @ h @ kmat
    b = kmat @ np.outer(e, e) @ kmat + mu * np.eye(big_n)
    vals, w = scipy.linalg.eigh(a, b, subset_by_index=[big_n - k, big_n - 1])
    return kmat @ w[:, ::-1], vals[::-1], a, b


def gauss_pair(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(30, 60)), int(rng.integers(30, 60))
    xs = rng.normal(size=(n, 3))
    xt = rng.normal(size=(m, 3)) * np.array([1.0, 1.5, 0.7]) + np.array([1.0, 0.0, -0.5])
    return xs, xt


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mu", [0.1, 1.0, 10.0])
def test_tca_exact_gaussian_matches_dense_scipy_generalised_eigenproblem(seed, mu):
    xs, xt = gauss_pair(seed)
    sigma = float(np.random.default_rng(seed).uniform(0.8, 2.5))
    k = 3
    est = TCA(k, kernel="gaussian", bandwidth=sigma, mu=mu).fit(xs, xt)
    zs, zt = est.transform(xs), est.transform(xt)
    z = np.vstack([xs, xt])
    want, vals, a, b = ref_tca(ref_gram(z, z, sigma), len(xs), len(xt), mu, k)
    assert np.all(np.diff(vals) < -1e-6 * vals[0])  # distinct eigenvalues: unique up to sign
    got = np.vstack([zs.numpy(), zt.numpy()])
    np.testing.assert_allclose(match_signs(got, want), want, rtol=1e-6,
                               atol=1e-7 * np.abs(want).max())
    w = est.coef_.numpy()
    np.testing.assert_allclose(w.T @ b @ w, np.eye(k), atol=1e-7)  # same normalisation


@pytest.mark.parametrize("seed", range(4))
def test_tca_linear_feature_space_solver_matches_the_dense_dual(seed):
    xs, xt = random_pair(seed, d=5)
    mu = float(np.random.default_rng(seed).uniform(0.1, 5.0))
    k = 3
    zs, zt = TCA(k, kernel="linear", mu=mu).fit_transform(xs, xt)
    z = np.vstack([xs, xt])
    zc = z - z.mean(0)
    want, vals, _, _ = ref_tca(zc @ zc.T, len(xs), len(xt), mu, k)
    got = np.vstack([zs.numpy(), zt.numpy()])
    np.testing.assert_allclose(match_signs(got, want), want, rtol=1e-6,
                               atol=1e-7 * np.abs(want).max())


def test_tca_landmarks_on_every_point_equal_the_exact_solution():
    xs, xt = gauss_pair(7)
    exact = TCA(3, kernel="gaussian", bandwidth=1.5).fit_transform(xs, xt)
    full = TCA(3, kernel="gaussian", bandwidth=1.5,
               n_landmarks=len(xs) + len(xt)).fit_transform(xs, xt)
    for a, b in zip(full, exact, strict=True):
        np.testing.assert_allclose(match_signs(a.numpy(), b.numpy()), b.numpy(), rtol=1e-5,
                                   atol=1e-6 * float(b.abs().max()))


@pytest.mark.parametrize("seed", range(3))
def test_tca_landmark_embedding_is_close_to_the_exact_one(seed):
    """An eighth of the points as landmarks: the embedding's subspace is close to the exact
    one (largest principal angle below 0.01 rad; measured 0.0006-0.0011) and the domain
    means match as well."""
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(400, 4))
    xt = rng.normal(size=(400, 4)) * 1.3 + np.array([1.0, 0.5, 0.0, 0.0])
    exact = np.vstack([t.numpy() for t in TCA(3, kernel="gaussian").fit_transform(xs, xt)])
    approx = np.vstack([t.numpy() for t in
                        TCA(3, kernel="gaussian", n_landmarks=100, seed=seed).fit_transform(
                            xs, xt)])
    angles = scipy.linalg.subspace_angles(exact, approx)
    assert angles.max() < 0.01, angles
    gap = lambda z: np.linalg.norm(z[:400].mean(0) - z[400:].mean(0)) / z.std()  # noqa: E731
    assert gap(approx) < gap(exact) + 0.01


def test_tca_transform_of_new_points_and_dtype():
    xs, xt = gauss_pair(2)
    est = TCA(2, kernel="gaussian", n_landmarks=30, block_size=7).fit(xs, xt)
    one = est.transform(torch.from_numpy(xs))
    torch.testing.assert_close(est.transform(torch.from_numpy(xs[:5])), one[:5])
    assert est.transform(torch.from_numpy(xs).float()).dtype == torch.float32
    assert est.bandwidth_ and est.support_.shape == (30, 3) and est.coef_.shape == (30, 2)


def test_tca_exact_refuses_a_large_pool_before_building_anything():
    half = EXACT_MAX_SAMPLES // 2 + 1
    xs = torch.randn(half, 2)
    with pytest.raises(ValueError, match="pass n_landmarks"):
        TCA(2, kernel="gaussian").fit(xs, xs + 1)


# =========================================================================== bad input
X = torch.randn(20, 3, dtype=torch.float64)
ALIGNERS = {
    "coral": lambda: CORAL(),
    "sa": lambda: SubspaceAlignment(2),
    "tca": lambda: TCA(2),
    "tca-landmark": lambda: TCA(2, kernel="gaussian", n_landmarks=10),
}
FIT_BAD = [
    ("1-D xs", (torch.randn(20), X), ValueError, "xs must be 2-D"),
    ("feature mismatch", (X, torch.randn(20, 4)), ValueError, "same number of features"),
    ("NaN", (X, torch.full((5, 3), float("nan"))), ValueError, "xt must be finite"),
    ("one row", (X[:1], X), ValueError, "at least 2 sample"),
    ("string", ("xs", X), TypeError, "xs must be an array-like"),
]


@pytest.mark.parametrize("name", list(ALIGNERS))
@pytest.mark.parametrize(("case", "args", "exc", "match"), FIT_BAD, ids=[c[0] for c in FIT_BAD])
def test_fit_bad_inputs(name, case, args, exc, match):
    with pytest.raises(exc, match=match):
        ALIGNERS[name]().fit(*args)


@pytest.mark.parametrize("name", list(ALIGNERS))
def test_transform_bad_inputs(name):
    est = ALIGNERS[name]()
    with pytest.raises(ValueError, match="not fitted yet"):
        est.transform(X)
    est.fit(X, X + 1)
    with pytest.raises(ValueError, match="must have 3 features, as in fit"):
        est.transform(torch.randn(4, 2))
    with pytest.raises(ValueError, match="x must be finite"):
        est.transform(torch.full((2, 3), float("inf")))
    if name in ("coral", "sa"):
        with pytest.raises(ValueError, match="domain must be one of"):
            est.transform(X, domain="both")


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: CORAL(reg=-1.0), ValueError, "reg must be >= 0"),
        (lambda: CORAL(reg="1"), TypeError, "reg must be a real number"),
        (lambda: CORAL(center="yes"), TypeError, "center must be a bool"),
        (lambda: CORAL(reg=0.0).fit(torch.randn(3, 5), torch.randn(10, 5)), ValueError,
         "source covariance is singular"),
        (lambda: SubspaceAlignment(0), ValueError, "n_components must be >= 1"),
        (lambda: SubspaceAlignment(2.0), TypeError, "n_components must be an int"),
        (lambda: SubspaceAlignment(4).fit(X, X), ValueError, "n_components must be <= 3"),
        (lambda: SubspaceAlignment(3).fit(X[:3], X), ValueError, "n_components must be <= 2"),
        (lambda: TCA(2, kernel="rbf"), ValueError, "kernel must be one of"),
        (lambda: TCA(2, mu=0.0), ValueError, "mu must be > 0"),
        (lambda: TCA(2, n_landmarks=10), ValueError, "n_landmarks applies to kernel='gaussian'"),
        (lambda: TCA(2, kernel="gaussian", n_landmarks=0), ValueError,
         "n_landmarks must be >= 1"),
        (lambda: TCA(2, kernel="gaussian", n_landmarks=41).fit(X, X + 1), ValueError,
         "n_landmarks must be <= n \\+ m = 40"),
        (lambda: TCA(2, kernel="gaussian", bandwidth=-1.0).fit(X, X + 1), ValueError,
         "bandwidth must be positive"),
        (lambda: TCA(4).fit(X, X + 1), ValueError, "exceeds the rank"),
        (lambda: TCA(2, seed=-3), ValueError, "seed must be >= 0"),
        (lambda: TCA(2, block_size=0), ValueError, "block_size must be >= 1"),
    ],
)
def test_hyper_parameter_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_repr_names_the_parameters():
    assert repr(CORAL(0.5)) == "CORAL(reg=0.5, center=True)"
    assert "n_landmarks=None" in repr(TCA(2))


@pytest.mark.skipif(not HAS_CUDA, reason="CUDA parity needs a GPU (none here)")
@pytest.mark.parametrize("name", list(ALIGNERS))
def test_cuda_parity(name):
    xs, xt = random_pair(0, n=200, m=150, d=3)
    cpu = ALIGNERS[name]().fit_transform(torch.from_numpy(xs), torch.from_numpy(xt))
    gpu = ALIGNERS[name]().fit_transform(torch.from_numpy(xs).cuda(),
                                         torch.from_numpy(xt).cuda())
    for a, b in zip(gpu, cpu, strict=True):
        assert a.device.type == "cuda"
        np.testing.assert_allclose(match_signs(a.cpu().numpy(), b.numpy()), b.numpy(),
                                   rtol=1e-6, atol=1e-8)
