"""Scale safety: data and weights of extreme magnitude give the numbers of ordinary ones.

Distances are formed in one place (tllab/kernels.py), after dividing the points by a power of
two when their magnitude would make squared distances overflow or underflow; the scale-free
helpers (effective sample size, flattened/normalised weights, normalised divergences, the
proxy A-distance, the MMD test with the median bandwidth) must not depend on the unit of the
data.  Every check compares against a float64 NumPy/SciPy reference computed on the data
*divided by the scale*, or (for estimators whose unit-scale values are tested against
references elsewhere) against the same call on unit-scale data.  Before the fix these gave
NaN statistics with p = 1/(P+1) (a false "shift detected"), infinite bandwidths, NaN weights,
0 instead of the proxy A-distance, and an ESS of NaN.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from reference import ref_gram, ref_median, ref_mmd2
from scipy.spatial.distance import jensenshannon

import tllab
from tllab import (
    effective_sample_size,
    flatten_weights,
    importance_weighted_risk,
    js_divergence,
    js_divergence_samples,
    kernel_matrix,
    kernel_matvec,
    kernel_sum,
    kl_divergence,
    median_bandwidth,
    mmd2,
    mmd_test,
    proxy_a_distance,
)

pytestmark = pytest.mark.usefixtures("single_thread")

# (dtype, scale): magnitudes whose squared distances overflow (float32 ~1e38, float64
# ~1e308) or underflow (float32 ~1e-38 and below, float64 ~1e-308), plus exact powers of two.
SCALES = [
    (torch.float32, 1e20),
    (torch.float32, 2.0**70),
    (torch.float32, 1e-20),
    (torch.float32, 1e-25),
    (torch.float64, 1e154),
    (torch.float64, 1e200),
    (torch.float64, 1e-160),
    (torch.float64, 1e-200),
]
IDS = [f"{str(dt)[6:]}-{s:.0e}" for dt, s in SCALES]


def _pair(seed, dtype, scale, n=40, m=30, d=3, shift=0.5):
    """Two samples stored at ``scale`` in ``dtype`` and the same numbers at unit scale (float64,
    divided exactly as stored, so references see the very data tllab saw)."""
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.normal(size=(n, d)) * scale, dtype=dtype)
    y = torch.tensor((rng.normal(size=(m, d)) + shift) * scale, dtype=dtype)
    return x, y, x.double().numpy() / scale, y.double().numpy() / scale


def _tol(dtype):
    return dict(rel=2e-5, abs=2e-6) if dtype == torch.float32 else dict(rel=1e-10, abs=1e-13)


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("dtype, scale", SCALES, ids=IDS)
def test_median_bandwidth_at_extreme_scales(dtype, scale):
    x, y, xu, yu = _pair(1, dtype, scale)
    med = median_bandwidth(x, y)
    assert med.dtype == dtype and torch.isfinite(med)
    assert float(med) / scale == pytest.approx(ref_median(xu, yu), rel=_tol(dtype)["rel"])


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
@pytest.mark.parametrize("dtype, scale", SCALES, ids=IDS)
def test_kernels_at_extreme_scales(dtype, scale, kernel):
    x, y, xu, yu = _pair(2, dtype, scale, n=23, m=17)
    bw = [0.7, 2.0]
    sbw = [b * scale for b in bw]
    atol = 2e-6 if dtype == torch.float32 else 1e-12
    K = kernel_matrix(x, y, kernel=kernel, bandwidth=sbw)
    np.testing.assert_allclose(K.double().numpy(), ref_gram(xu, yu, bw, kernel), atol=atol)
    Kxx = ref_gram(xu, xu, bw, kernel)
    s = kernel_sum(x, kernel=kernel, bandwidth=sbw, block_size=5, exclude_diagonal=True)
    assert float(s) == pytest.approx(Kxx.sum() - np.trace(Kxx), rel=atol * 10)
    v = np.linspace(-1.0, 1.0, 17)
    out = kernel_matvec(x, v, y, kernel=kernel, bandwidth=sbw, block_size=4)
    np.testing.assert_allclose(out.double().numpy(), ref_gram(xu, yu, bw, kernel) @ v,
                               atol=atol * 20)


@pytest.mark.parametrize("estimator", ["unbiased", "biased", "linear"])
@pytest.mark.parametrize("dtype, scale", SCALES, ids=IDS)
def test_mmd2_at_extreme_scales(dtype, scale, estimator):
    x, y, xu, yu = _pair(3, dtype, scale)
    for kernel in ("gaussian", "laplacian"):
        got = mmd2(x, y, kernel=kernel, estimator=estimator, block_size=16)
        assert got.dtype == dtype
        want = ref_mmd2(xu, yu, "median", kernel, estimator)
        assert float(got) == pytest.approx(want, **_tol(dtype)), kernel


@pytest.mark.parametrize("dtype, scale", SCALES, ids=IDS)
def test_mmd2_gradient_at_extreme_scales(dtype, scale):
    """d MMD²(x) / dx at scale s is (1/s) times the gradient at unit scale (chain rule),
    checked against dense float64 autograd at unit scale."""
    x, y, xu, yu = _pair(4, dtype, scale, n=12, m=9)
    xg = x.clone().requires_grad_(True)
    mmd2(xg, y, bandwidth=1.3 * scale, block_size=5).backward()
    xr = torch.tensor(xu, requires_grad=True)
    yr = torch.tensor(yu)
    d2 = lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)  # noqa: E731
    k = lambda a, b: torch.exp(-d2(a, b) / (2 * 1.3**2))  # noqa: E731
    n, m = len(xr), len(yr)
    kxx = k(xr, xr)
    ref = ((kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
           + (k(yr, yr).sum() - m) / (m * (m - 1)) - 2 * k(xr, yr).mean())
    ref.backward()
    got = xg.grad.double() * scale
    atol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(got, xr.grad, rtol=1e-4 if dtype == torch.float32 else 1e-9,
                               atol=atol)


@pytest.mark.parametrize("dtype, scale", SCALES, ids=IDS)
def test_mmd_test_at_extreme_scales_no_false_positive(dtype, scale):
    """Two samples of one law: the statistic matches the float64 reference, the null is
    finite, and the p-value is the unit-scale test's (not 1/(P+1) from NaN statistics)."""
    x, y, xu, yu = _pair(5, dtype, scale, shift=0.0)
    P = 99
    res = mmd_test(x, y, n_permutations=P, seed=2)
    unit = mmd_test(xu, yu, n_permutations=P, seed=2)
    assert torch.isfinite(res.statistic) and bool(torch.isfinite(res.null).all())
    assert float(res.statistic) == pytest.approx(ref_mmd2(xu, yu, "median"), **_tol(dtype))
    # equal in float64; float32 rounding may legitimately flip a near-tie between two
    # relabellings (none does at these seeds on a CPU)
    assert res.p_value == pytest.approx(unit.p_value, abs=0 if dtype == torch.float64 else 0.02)
    assert res.p_value > 0.05  # the same law: no shift detected (here p = unit's ~0.6)
    assert res.bandwidth[0] / scale == pytest.approx(ref_median(xu, yu), rel=1e-5)


def test_samples_far_from_the_origin_near_float32_max():
    """Points ~2e38 apart from the origin, spread 1e37: the pooled mean (a sum of 70 such
    values) must not overflow before the centring."""
    rng = np.random.default_rng(12)
    x = torch.tensor((rng.normal(size=(40, 2)) + 20.0) * 1e37, dtype=torch.float32)
    y = torch.tensor((rng.normal(size=(30, 2)) + 20.5) * 1e37, dtype=torch.float32)
    xu, yu = x.double().numpy() / 1e37, y.double().numpy() / 1e37
    assert float(mmd2(x, y, bandwidth=1.5e37)) == pytest.approx(ref_mmd2(xu, yu, 1.5),
                                                                abs=1e-5)
    assert float(median_bandwidth(x, y)) / 1e37 == pytest.approx(ref_median(xu, yu), rel=1e-5)
    np.testing.assert_allclose(kernel_matrix(x, y, bandwidth=1e37).double().numpy(),
                               ref_gram(xu, yu, 1.0), atol=2e-6)


def test_mmd_test_refuses_a_pvalue_from_nan_statistics(monkeypatch):
    """Defence in depth: were a kernel product ever NaN, no p-value may come out of it."""
    import tllab.divergence as div

    def nan_matvec(z, y, v, *args):
        return torch.full((z.shape[0],) + tuple(v.shape[1:]), torch.nan, dtype=z.dtype)

    monkeypatch.setattr(div, "_kernel_matvec_centred", nan_matvec)
    x, y, _, _ = _pair(6, torch.float64, 1.0)
    with pytest.raises(ValueError, match="not finite.*refusing to compute a p-value"):
        mmd_test(x, y, n_permutations=9)


def test_median_error_reasons():
    # tiny float32 data used to underflow to "more than half of the pairs coincide"
    x = torch.tensor([[0.0], [1.0], [3.0]]) * 1e-30
    assert float(median_bandwidth(x)) == pytest.approx(2e-30, rel=1e-6)
    with pytest.raises(ValueError, match="more than half of the pairs coincide"):
        median_bandwidth(torch.tensor([[1e-30], [1e-30], [1e-30], [1e-30], [2e-30]]))
    # a median distance beyond float32's range is refused for that reason, not returned as inf
    big = torch.tensor([[-3e38], [3e38], [-3e38], [3e38]])
    with pytest.raises(ValueError, match=r"not representable in torch.float32.*float64"):
        median_bandwidth(big)
    assert float(median_bandwidth(big.double())) == pytest.approx(6e38)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_bandwidths_give_the_limits_not_nan(dtype):
    """σ far below the data's spread: k = 1 at coincident points, 0 elsewhere (the factor
    1/(2σ²) overflows and is capped); σ far above it: k = 1 everywhere."""
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0], [3.0, -1.0]], dtype=dtype)
    tiny, huge = (1e-30, 1e30) if dtype == torch.float32 else (1e-200, 1e200)
    for kernel in ("gaussian", "laplacian"):
        K = kernel_matrix(x, kernel=kernel, bandwidth=tiny)
        want = (torch.cdist(x.double(), x.double()) == 0).to(dtype)
        torch.testing.assert_close(K, want, rtol=0, atol=0)
        torch.testing.assert_close(kernel_matrix(x, x.clone(), kernel=kernel, bandwidth=tiny),
                                   want, rtol=0, atol=0)
        torch.testing.assert_close(kernel_matrix(x, kernel=kernel, bandwidth=huge),
                                   torch.ones(4, 4, dtype=dtype), rtol=0, atol=1e-6)
        # biased MMD² as σ -> 0 counts coincident pairs: x has its 4 diagonal terms and one
        # coincident pair (twice), y = two distinct far points, no pair across: 6/16 + 2/4
        got = float(mmd2(x, x[1:3] + 10.0, kernel=kernel, bandwidth=tiny, estimator="biased"))
        assert got == pytest.approx(6 / 16 + 2 / 4, rel=1e-6)


# ----------------------------------------------------------------------------- samples
@pytest.mark.parametrize("dtype, scale", SCALES, ids=IDS)
def test_js_samples_and_proxy_a_distance_scale_free(dtype, scale):
    """KDE (Scott's bandwidth), histogram and classifier estimates and the proxy A-distance
    are those of the unit-scale data (tested against references in test_divergence)."""
    x, y, xu, yu = _pair(7, dtype, scale, n=120, m=100, d=2, shift=1.5)
    xu32, yu32 = (torch.tensor(a, dtype=dtype) for a in (xu, yu))
    tol = dict(abs=1e-4) if dtype == torch.float32 else dict(abs=1e-9)
    for method in ("kde", "histogram"):
        got = float(js_divergence_samples(x, y, method=method, bins=6))
        assert got == pytest.approx(float(js_divergence_samples(xu32, yu32, method=method,
                                                                bins=6)), **tol), method
    clf = float(js_divergence_samples(x, y, method="classifier"))
    assert clf == pytest.approx(float(js_divergence_samples(xu32, yu32, method="classifier")),
                                abs=1e-3)
    pad_unit = proxy_a_distance(xu32, yu32)
    assert pad_unit > 1.0  # well separated: 0.0 would be the old, wrong answer
    assert proxy_a_distance(x, y) == pytest.approx(pad_unit, abs=0.02)  # at most 1 point


def test_proxy_a_distance_issue_example():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 3.0
    unit = proxy_a_distance(x, y)
    assert unit > 1.8
    assert proxy_a_distance(x * 1e200, y * 1e200) == unit
    assert proxy_a_distance(x * 1e-200, y * 1e-200) == unit


@pytest.mark.parametrize("dtype, scale", SCALES, ids=IDS)
def test_density_ratio_weights_at_extreme_scales(dtype, scale):
    """uLSIF against its NumPy closed form at unit scale (σ = the reference median); KLIEP,
    KMM and the classifier weights equal their unit-scale values (no NaN)."""
    x, y, xu, yu = _pair(9, dtype, scale, n=60, m=40, d=2)
    xu_t, yu_t = (torch.tensor(a, dtype=dtype) for a in (xu, yu))
    sigma = ref_median(xu, yu)
    w = tllab.ulsif_weights(x, y, reg=0.1)
    phi_s, phi_t = ref_gram(xu, yu, sigma), ref_gram(yu, yu, sigma)
    H = phi_s.T @ phi_s / len(xu)
    alpha = np.maximum(np.linalg.solve(H + 0.1 * np.eye(len(yu)), phi_t.mean(0)), 0.0)
    ulsif_ref = phi_s @ alpha
    np.testing.assert_allclose(w.double().numpy(), ulsif_ref,
                               rtol=1e-3 if dtype == torch.float32 else 1e-8, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for fn, tol in ((tllab.kliep_weights, 1e-3), (tllab.classifier_weights, 1e-3)):
            got, unit = fn(x, y), fn(xu_t, yu_t)
            assert bool(torch.isfinite(got).all())
            np.testing.assert_allclose(got.double().numpy(), unit.double().numpy(), rtol=tol,
                                       atol=tol)
    # KMM: the objective (float64, unit-scale kernel) of the scaled solution matches the
    # unit-scale solution's to the solver's tolerance
    K, kappa = ref_gram(xu, xu, sigma), len(xu) / len(yu) * ref_gram(xu, yu, sigma).sum(1)
    f = [float(0.5 * b @ K @ b - kappa @ b)
         for b in (tllab.kmm_weights(x, y, B=10.0).double().numpy(),
                   tllab.kmm_weights(xu_t, yu_t, B=10.0).double().numpy())]
    assert f[0] == pytest.approx(f[1], rel=1e-5)


# ----------------------------------------------------------------------------- weights
def test_effective_sample_size_issue_examples():
    assert float(effective_sample_size([1e200, 1e200])) == 2.0
    assert float(effective_sample_size([1e-200, 1e-200])) == 2.0
    assert float(effective_sample_size(torch.tensor([1e20, 1e20]))) == 2.0  # float32
    assert float(effective_sample_size([1e-320, 3e-320])) == pytest.approx(16 / 10, rel=0.01)


@pytest.mark.parametrize("scale", [1e307, 1e-307, 1e37, 1e-37])
def test_weight_helpers_scale_free(scale):
    rng = np.random.default_rng(10)
    w = rng.exponential(size=50)
    w[3] = 0.0
    loss = rng.random(50)
    # sums of 50 such weights overflow (1e307, 1e37 in float32) or their products with the
    # losses underflow (1e-307, 1e-37) unless they are rescaled first
    dtype = torch.float32 if abs(math.log10(scale)) < 38 else torch.float64
    ws = torch.tensor(w * scale, dtype=dtype)
    wu = ws.double().numpy() / scale
    rel = 1e-5 if dtype == torch.float32 else 1e-12
    assert float(effective_sample_size(ws)) == pytest.approx(wu.sum() ** 2 / (wu**2).sum(),
                                                             rel=rel)
    for gamma in (0.0, 0.5, 1.0, 2.0):
        v = wu**gamma
        np.testing.assert_allclose(flatten_weights(ws, gamma).double().numpy(), v / v.mean(),
                                   rtol=rel * 10)
    c = np.minimum(wu, 2.0)
    np.testing.assert_allclose(tllab.clip_weights(ws, 2.0 * scale, normalize=True).numpy(),
                               c / c.mean(), rtol=rel * 10)
    got = float(importance_weighted_risk(torch.tensor(loss, dtype=dtype), ws, normalize=True))
    assert got == pytest.approx(np.sum(wu * loss) / np.sum(wu), rel=rel * 10)
    if dtype == torch.float64 and scale < 1:  # the unnormalised mean itself is representable
        got = float(importance_weighted_risk(loss, ws))
        assert got / scale == pytest.approx(np.mean(wu * loss), rel=1e-12)


def test_normalised_divergences_with_huge_and_tiny_entries():
    # issue example: 0.3466 (= ln 2 / 2) instead of 0 when the huge vector's sum overflowed
    assert float(js_divergence([1e308, 1e308], [1.0, 1.0], normalize=True)) == 0.0
    rng = np.random.default_rng(11)
    p, q = rng.exponential(size=(2, 9))

    def unit(v):  # the stored (possibly subnormal) entries, normalised in NumPy
        v = v / v.max()
        return v / v.sum()

    for sp, sq in ((1e307, 1.0), (1e-310, 1e300), (1e-300, 1e-320)):
        pu, qu = unit(p * sp), unit(q * sq)
        got = float(js_divergence(p * sp, q * sq, normalize=True))
        assert got == pytest.approx(jensenshannon(pu, qu) ** 2, rel=1e-12)
        got = float(kl_divergence(p * sp, q * sq, normalize=True))
        assert got == pytest.approx(float(np.sum(pu * np.log(pu / qu))), rel=1e-12)


# ----------------------------------------------------------------------------- property
def _weights(n):
    el = st.one_of(st.just(0.0), st.floats(1e-3, 1e3))
    return arrays(np.float64, n, elements=el).filter(lambda a: a.sum() > 0)


K64, K32 = st.integers(-290, 290), st.integers(-30, 30)
KW = st.integers(-305, 305)  # weights up to 1e3: sums overflow, products underflow


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 30).flatmap(_weights), KW, st.floats(0.0, 3.0))
def test_property_weight_helpers_invariant_under_scaling(w, k, gamma):
    s = 10.0**k
    ws = w * s
    assert float(effective_sample_size(ws)) == pytest.approx(
        float(effective_sample_size(w)), rel=1e-12)
    np.testing.assert_allclose(flatten_weights(ws, gamma).numpy(),
                               flatten_weights(w, gamma).numpy(), rtol=1e-11)
    loss = np.linspace(0.0, 2.0, len(w))
    assert float(importance_weighted_risk(loss, ws, normalize=True)) == pytest.approx(
        float(importance_weighted_risk(loss, w, normalize=True)), rel=1e-12, abs=1e-300)


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 12).flatmap(lambda k: st.tuples(_weights(k), _weights(k))), K64, K64)
def test_property_normalised_divergences_invariant_under_scaling(pq, kp, kq):
    p, q = pq
    sp, sq = 10.0**kp, 10.0**kq
    for f in (js_divergence, kl_divergence):
        a = float(f(p * sp, q * sq, normalize=True))
        b = float(f(p, q, normalize=True))
        assert a == pytest.approx(b, rel=1e-10, abs=1e-13) or (math.isinf(a) and a == b)


@settings(deadline=None, max_examples=40)
@given(st.integers(0, 2**31), st.integers(4, 25), st.integers(4, 25), st.integers(1, 4),
       st.sampled_from([torch.float64, torch.float32]), st.data())
def test_property_mmd_invariant_under_scaling(seed, n, m, d, dtype, data):
    """The median bandwidth scales with the data (σ(sx) = sσ(x)), so MMD² with it and the
    permutation test's p-value do not depend on the unit (float64: ±290 decades, float32:
    ±30).  p-values are compared in float64 only: a float32 rounding difference could
    legitimately flip a near-tie between two different relabellings."""
    k = data.draw(K64 if dtype == torch.float64 else K32)
    s = 10.0**k
    rng = np.random.default_rng(seed)
    x0, y0 = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 0.3
    x, y = torch.tensor(x0, dtype=dtype), torch.tensor(y0, dtype=dtype)
    xs, ys = torch.tensor(x0 * s, dtype=dtype), torch.tensor(y0 * s, dtype=dtype)
    rel = 1e-10 if dtype == torch.float64 else 2e-5
    assert float(median_bandwidth(xs, ys)) / s == pytest.approx(float(median_bandwidth(x, y)),
                                                               rel=rel)
    for est in ("unbiased", "linear"):
        assert float(mmd2(xs, ys, estimator=est)) == pytest.approx(
            float(mmd2(x, y, estimator=est)), abs=1e-12 if dtype == torch.float64 else 1e-5)
    if dtype == torch.float64:
        assert mmd_test(xs, ys, n_permutations=30, seed=seed % 7).p_value == mmd_test(
            x, y, n_permutations=30, seed=seed % 7).p_value


@settings(deadline=None, max_examples=12)
@given(st.integers(0, 2**31), K64, st.floats(0.0, 2.5))
def test_property_proxy_a_distance_invariant_under_scaling(seed, k, shift):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(50, 2)) + np.array([shift, 0.0])
    s = 10.0**k
    # a count of misclassified points: equal, or one point apart when a logit sits at ~0
    assert proxy_a_distance(x * s, y * s) == pytest.approx(proxy_a_distance(x, y), abs=0.041)


# ----------------------------------------------------------------------------- devices
@pytest.mark.parametrize("dtype, scale", [(torch.float32, 1e20), (torch.float64, 1e-200)],
                         ids=["float32-1e20", "float64-1e-200"])
def test_scale_safety_on_every_device(device, dtype, scale):
    """The rescaling runs on the inputs' device and keeps results there; on CUDA the values
    equal the float64 references like on the CPU (a CUDA variant is SKIPPED without a GPU)."""
    x, y, xu, yu = _pair(13, dtype, scale, n=50, m=45, d=3)
    x, y = x.to(device), y.to(device)
    med = median_bandwidth(x, y)
    assert med.device.type == device.type
    assert float(med) / scale == pytest.approx(ref_median(xu, yu), rel=_tol(dtype)["rel"])
    got = mmd2(x, y, block_size=16)
    assert got.device.type == device.type
    assert float(got) == pytest.approx(ref_mmd2(xu, yu, "median"), **_tol(dtype))
    res = mmd_test(x, y, n_permutations=49, seed=1)
    assert res.null.device.type == device.type and bool(torch.isfinite(res.null).all())
    # float32 rounding may legitimately flip a near-tie between two relabellings
    p_tol = 0 if dtype == torch.float64 else 2 / 50
    assert res.p_value == pytest.approx(mmd_test(xu, yu, n_permutations=49, seed=1).p_value,
                                        abs=p_tol)
    w = torch.tensor([1.0, 3.0, 0.5], dtype=dtype, device=device) * scale
    ess = effective_sample_size(w)
    assert ess.device.type == device.type
    assert float(ess) == pytest.approx(4.5**2 / 10.25, rel=1e-6)
    assert proxy_a_distance(x, y) == pytest.approx(proxy_a_distance(xu, yu), abs=0.03)
