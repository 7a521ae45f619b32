"""Deep alignment losses (tllab.align.losses) against float64 NumPy references, with
gradcheck, the no-gradient median bandwidth, and the bad-input table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import ref_gram, ref_median

from tllab.align import CORALLoss, MMDLoss, coral_loss, mmd_loss

HAS_CUDA = torch.cuda.is_available()


# ----------------------------------------------------------------------- references
def ref_coral(a, b):
    """||cov(a) - cov(b)||_F^2 / (4 d^2) with NumPy's unbiased covariance (ddof=1)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = a.shape[1]
    diff = np.cov(a, rowvar=False, ddof=1) - np.cov(b, rowvar=False, ddof=1)
    return float((diff**2).sum() / (4.0 * d * d))


def ref_mmd2(a, b, sigma, estimator):
    kxx, kyy, kxy = ref_gram(a, a, sigma), ref_gram(b, b, sigma), ref_gram(a, b, sigma)
    n, m = len(a), len(b)
    if estimator == "unbiased":
        return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1))
                + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


# ----------------------------------------------------------------------- CORAL
@pytest.mark.parametrize("seed", range(5))
def test_coral_loss_matches_numpy_on_random_unequal_batches(rng, seed):
    rng = np.random.default_rng(seed)
    n, m, d = rng.integers(2, 60, size=2).tolist() + [int(rng.integers(1, 9))]
    a = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
    b = rng.normal(size=(m, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    got = coral_loss(torch.from_numpy(a), torch.from_numpy(b))
    assert got.dtype == torch.float64 and got.ndim == 0
    assert float(got) == pytest.approx(ref_coral(a, b), rel=1e-12, abs=1e-15)
    got32 = coral_loss(torch.from_numpy(a).float(), torch.from_numpy(b).float())
    assert got32.dtype == torch.float32
    assert float(got32) == pytest.approx(ref_coral(a, b), rel=1e-4, abs=1e-6)
    assert float(CORALLoss()(torch.from_numpy(a), torch.from_numpy(b))) == float(got)


def test_coral_loss_is_zero_for_equal_covariances_and_ignores_means(rng):
    a = torch.from_numpy(rng.normal(size=(40, 3)))
    assert float(coral_loss(a, a + 5.0)) == pytest.approx(0.0, abs=1e-12)
    assert float(coral_loss(a, -a)) == pytest.approx(0.0, abs=1e-12)  # same covariance


def test_coral_covariance_is_unbiased():
    """The mean over many batches of n = 3 of the covariance used is the population one
    (the biased divisor n would give 2/3 of it)."""
    from tllab.align.losses import _covariance

    g = torch.Generator().manual_seed(3)
    cov = torch.tensor([[2.0, 0.6], [0.6, 1.0]], dtype=torch.float64)
    chol = torch.linalg.cholesky(cov)
    reps = 4000
    x = torch.randn(reps, 3, 2, generator=g, dtype=torch.float64) @ chol.T
    mean = torch.stack([_covariance(b) for b in x]).mean(0)
    # sd of each entry's mean is at most ~sqrt(2 * 2^2 / 2) / sqrt(4000) ≈ 0.032
    assert torch.allclose(mean, cov, atol=0.13)
    assert not torch.allclose(mean * 2 / 3, cov, atol=0.13)


def test_coral_loss_gradcheck_float64(rng):
    a = torch.from_numpy(rng.normal(size=(7, 3))).requires_grad_()
    b = torch.from_numpy(rng.normal(size=(5, 3)) * 2).requires_grad_()
    assert torch.autograd.gradcheck(coral_loss, (a, b))


# ----------------------------------------------------------------------- MMD
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("estimator", ["unbiased", "biased"])
@pytest.mark.parametrize("bandwidth", [1.3, [0.5, 1.0, 2.0]])
def test_mmd_loss_matches_dense_numpy(seed, estimator, bandwidth):
    rng = np.random.default_rng(100 + seed)
    a = rng.normal(size=(int(rng.integers(3, 50)), 4))
    b = rng.normal(size=(int(rng.integers(3, 50)), 4)) * 1.3 + 0.4
    got = mmd_loss(torch.from_numpy(a), torch.from_numpy(b), bandwidth=bandwidth,
                   estimator=estimator)
    assert float(got) == pytest.approx(ref_mmd2(a, b, bandwidth, estimator), rel=1e-9,
                                       abs=1e-12)
    module = MMDLoss(bandwidth=bandwidth, estimator=estimator)
    assert float(module(torch.from_numpy(a), torch.from_numpy(b))) == float(got)


def test_mmd_loss_median_bandwidth_is_the_pooled_median(rng):
    a, b = rng.normal(size=(30, 3)), rng.normal(size=(20, 3)) + 1
    got = mmd_loss(torch.from_numpy(a), torch.from_numpy(b))
    assert float(got) == pytest.approx(ref_mmd2(a, b, ref_median(a, b), "unbiased"), rel=1e-9)


@pytest.mark.parametrize("estimator", ["unbiased", "biased", "linear"])
def test_mmd_loss_gradcheck_float64(rng, estimator):
    a = torch.from_numpy(rng.normal(size=(9, 3))).requires_grad_()
    b = torch.from_numpy(rng.normal(size=(6, 3)) + 0.5).requires_grad_()

    def f(x, y):
        return mmd_loss(x, y, bandwidth=[0.8, 1.7], estimator=estimator)

    assert torch.autograd.gradcheck(f, (a, b))


def test_mmd_loss_median_bandwidth_carries_no_gradient(rng):
    """With "median" the gradient is that of the fixed bandwidth equal to the median."""
    a0, b0 = rng.normal(size=(25, 2)), rng.normal(size=(15, 2)) * 2
    grads = []
    for bw in ("median", ref_median(a0, b0)):
        a = torch.from_numpy(a0).requires_grad_()
        b = torch.from_numpy(b0).requires_grad_()
        mmd_loss(a, b, bandwidth=bw).backward()
        grads.append((a.grad, b.grad))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-9, atol=1e-12)


def test_losses_keep_float32_and_unequal_batches(rng):
    a = torch.randn(33, 5)
    b = torch.randn(17, 5, requires_grad=True)
    for loss in (coral_loss(a, b), mmd_loss(a, b)):
        assert loss.dtype == torch.float32
        (g,) = torch.autograd.grad(loss, b)
        assert g.shape == b.shape and bool(torch.isfinite(g).all())


# ----------------------------------------------------------------------- bad input
GOOD = torch.randn(10, 3)
BAD_INPUTS = [
    ("1-D fs", lambda f: f(torch.randn(10), GOOD), ValueError, "fs must be 2-D"),
    ("feature mismatch", lambda f: f(GOOD, torch.randn(10, 4)), ValueError,
     "same number of features"),
    ("NaN", lambda f: f(GOOD, torch.full((4, 3), float("nan"))), ValueError,
     "ft must be finite"),
    ("inf", lambda f: f(torch.full((4, 3), float("inf")), GOOD), ValueError,
     "fs must be finite"),
    ("one row", lambda f: f(GOOD[:1], GOOD), ValueError, "at least 2 sample"),
    ("empty", lambda f: f(torch.empty(0, 3), GOOD), ValueError, "at least 2 sample"),
    ("string", lambda f: f("abc", GOOD), TypeError, "fs must be an array-like"),
    ("complex", lambda f: f(GOOD.to(torch.complex64), GOOD), TypeError, "real-valued"),
]


@pytest.mark.parametrize("fn", [coral_loss, mmd_loss], ids=["coral", "mmd"])
@pytest.mark.parametrize(("case", "call", "exc", "match"), BAD_INPUTS,
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs(fn, case, call, exc, match):
    with pytest.raises(exc, match=match):
        call(fn)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"bandwidth": -1.0}, ValueError, "bandwidth must be positive"),
        ({"bandwidth": [1.0, 0.0]}, ValueError, "bandwidth must be positive"),
        ({"bandwidth": "mean"}, ValueError, "bandwidth must be one of"),
        ({"bandwidth": []}, ValueError, "bandwidth must not be empty"),
        ({"estimator": "v"}, ValueError, "estimator must be one of"),
        ({"estimator": 1}, TypeError, "estimator must be one of"),
        ({"kernel": "cosine"}, ValueError, "kernel must be one of"),
    ],
)
def test_mmd_loss_bad_hyper_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        mmd_loss(GOOD, GOOD + 1, **kwargs)
    with pytest.raises(exc, match=match):
        MMDLoss(**kwargs)


@pytest.mark.skipif(not HAS_CUDA, reason="CUDA parity needs a GPU (none here)")
def test_losses_cuda_parity():
    g = torch.Generator().manual_seed(7)
    a = torch.randn(200, 16, generator=g, dtype=torch.float64)
    b = torch.randn(150, 16, generator=g, dtype=torch.float64) * 1.5 + 0.3
    for fn in (coral_loss, lambda x, y: mmd_loss(x, y, bandwidth=[1.0, 4.0])):
        ac, bc = a.cuda().requires_grad_(), b.cuda().requires_grad_()
        acpu, bcpu = a.clone().requires_grad_(), b.clone().requires_grad_()
        lc, lcpu = fn(ac, bc), fn(acpu, bcpu)
        assert lc.device.type == "cuda"
        lc.backward()
        lcpu.backward()
        torch.testing.assert_close(lc.cpu(), lcpu, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(ac.grad.cpu(), acpu.grad, rtol=1e-9, atol=1e-12)
