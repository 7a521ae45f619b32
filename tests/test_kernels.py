"""tllab.kernels against dense float64 NumPy/SciPy references written from the docstring formulas.

Conventions under test (tllab/kernels.py module docstring):
Gaussian ``exp(-||x-y||^2 / (2 s^2))``, Laplacian ``exp(-||x-y|| / s)``, a list of bandwidths
is the *sum* of the kernels, the median heuristic is the median of the unsquared distances over
distinct pooled pairs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import ref_gram, ref_median

import tllab
from tllab import kernel_matrix, kernel_matvec, kernel_sum, median_bandwidth

# Small inputs in Python loops: one intra-op thread is faster and immune to core sharing.
pytestmark = pytest.mark.usefixtures("single_thread")


# ----------------------------------------------------------------------------- references
def draw(rng, n, d, shift=0.0, scale=1.0):
    return rng.normal(size=(n, d)) * scale + shift


SHAPES = [  # n, m, d
    (1, 1, 1),
    (7, 5, 1),
    (37, 23, 3),
    (64, 64, 8),
    (101, 13, 2),
]
BANDWIDTHS = [0.5, 1.7, [0.3, 1.0, 4.0]]


# ----------------------------------------------------------------------------- kernel_matrix
@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
@pytest.mark.parametrize("bandwidth", BANDWIDTHS, ids=["0.5", "1.7", "multi"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_matrix_matches_numpy(kernel, bandwidth, seed):
    rng = np.random.default_rng(100 + seed)
    n, m, d = SHAPES[seed + 1]
    x, y = draw(rng, n, d), draw(rng, m, d, shift=0.7, scale=1.5)
    K = kernel_matrix(x, y, kernel=kernel, bandwidth=bandwidth)
    assert K.shape == (n, m)
    assert K.dtype == torch.float64
    np.testing.assert_allclose(K.numpy(), ref_gram(x, y, bandwidth, kernel), rtol=1e-10,
                               atol=1e-12)
    # y=None: the kernel of x with itself; its diagonal is the number of bandwidths
    Kxx = kernel_matrix(x, kernel=kernel, bandwidth=bandwidth)
    np.testing.assert_allclose(Kxx.numpy(), ref_gram(x, x, bandwidth, kernel), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(np.diag(Kxx.numpy()), float(np.size(bandwidth)))


def test_kernel_matrix_bandwidth_convention():
    """sigma is the *standard deviation* scale: squared distance for Gaussian, not unsquared."""
    x = np.array([[0.0, 0.0]])
    y = np.array([[3.0, 4.0]])  # distance 5
    for s in (0.5, 2.0, 5.0):
        g = float(kernel_matrix(x, y, kernel="gaussian", bandwidth=s)[0, 0])
        lap = float(kernel_matrix(x, y, kernel="laplacian", bandwidth=s)[0, 0])
        assert g == pytest.approx(np.exp(-25.0 / (2 * s * s)), rel=1e-12)
        assert lap == pytest.approx(np.exp(-5.0 / s), rel=1e-12)


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
def test_kernel_matrix_float32(kernel, device):
    rng = np.random.default_rng(7)
    x, y = draw(rng, 40, 4, scale=2.0), draw(rng, 30, 4, shift=1.0)
    xt = torch.tensor(x, dtype=torch.float32, device=device)
    yt = torch.tensor(y, dtype=torch.float32, device=device)
    K = kernel_matrix(xt, yt, kernel=kernel, bandwidth=[1.0, 3.0])
    assert K.dtype == torch.float32 and K.device.type == device.type
    ref = ref_gram(xt.cpu().double().numpy(), yt.cpu().double().numpy(), [1.0, 3.0], kernel)
    np.testing.assert_allclose(K.cpu().double().numpy(), ref, atol=2e-5)


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
def test_kernel_matrix_differentiable_path(kernel):
    """With inputs that require grad, kernel_matrix takes a separate (dense) code path."""
    rng = np.random.default_rng(6)
    x0, y0 = draw(rng, 9, 3), draw(rng, 7, 3, shift=0.5)
    x = torch.tensor(x0, requires_grad=True)
    y = torch.tensor(y0, requires_grad=True)
    K = kernel_matrix(x, y, kernel=kernel, bandwidth=[0.9, 2.0])
    assert K.requires_grad
    np.testing.assert_allclose(K.detach().numpy(), ref_gram(x0, y0, [0.9, 2.0], kernel),
                               rtol=1e-12, atol=1e-14)
    Kxx = kernel_matrix(x, kernel=kernel, bandwidth=1.3)
    np.testing.assert_allclose(Kxx.detach().numpy(), ref_gram(x0, x0, 1.3, kernel),
                               rtol=1e-12, atol=1e-14)
    Kxx.sum().backward()
    assert torch.isfinite(x.grad).all()  # finite at the coincident diagonal, also Laplacian
    # the gradient of sum(K) is the gradient of kernel_sum (tiled closed form)
    x2 = torch.tensor(x0, requires_grad=True)
    kernel_sum(x2, kernel=kernel, bandwidth=1.3, block_size=2).backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-9, atol=1e-12)
    assert torch.autograd.gradcheck(
        lambda a, b: kernel_matrix(a, b, kernel=kernel, bandwidth=[0.9, 2.0]), (x, y))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernel_matrix_laplacian_coincident_points_across_samples(dtype):
    """k(x_i, y_j) = 1 when y_j is a copy of x_i, also when y is passed explicitly.

    The squared distance ``|x|^2 + |y|^2 - 2 x.y`` leaves a rounding residue of order
    eps * |x|^2 at coincident points, and the Laplacian's square root amplifies it to
    sqrt(eps) * |x| (about 1e-3 in float32).  A kernel matrix is for small samples and
    figures, where 1e-4 in float32 (about 1000 ulp) is already generous.
    """
    rng = np.random.default_rng(3)
    x = torch.tensor(draw(rng, 50, 5, shift=3.0, scale=1.0), dtype=dtype)
    K = kernel_matrix(x, x.clone(), kernel="laplacian", bandwidth=1.0)
    tol = 1e-4 if dtype == torch.float32 else 1e-7
    assert float((K.diagonal() - 1).abs().max()) <= tol


# ----------------------------------------------------------------------------- kernel_sum
BLOCKS = [1, 2, 3, 7, 16, 50, None]


@pytest.mark.parametrize("block_size", BLOCKS)
@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
def test_kernel_sum_matches_dense(block_size, kernel):
    rng = np.random.default_rng(11 if block_size is None else 11 + block_size)
    for n, m, d in [(37, 23, 3), (10, 41, 1)]:  # block sizes 3, 7, 16 do not divide 37 or 41
        x, y = draw(rng, n, d), draw(rng, m, d, shift=0.5)
        for bw in (0.8, [0.5, 2.0]):
            Kxy = ref_gram(x, y, bw, kernel)
            Kxx = ref_gram(x, x, bw, kernel)
            kw = dict(kernel=kernel, bandwidth=bw, block_size=block_size)
            assert float(kernel_sum(x, y, **kw)) == pytest.approx(Kxy.sum(), rel=1e-10)
            assert float(kernel_sum(x, **kw)) == pytest.approx(Kxx.sum(), rel=1e-10)
            off = Kxx.sum() - np.trace(Kxx)
            assert float(kernel_sum(x, exclude_diagonal=True, **kw)) == pytest.approx(off,
                                                                                   rel=1e-10)


def test_kernel_sum_median_bandwidth_uses_pooled_sample():
    rng = np.random.default_rng(5)
    x, y = draw(rng, 30, 2), draw(rng, 20, 2, shift=2.0)
    s_xy = ref_median(x, y)
    s_x = ref_median(x)
    assert float(kernel_sum(x, y, bandwidth="median")) == pytest.approx(
        ref_gram(x, y, s_xy).sum(), rel=1e-10)
    assert float(kernel_sum(x, bandwidth="median")) == pytest.approx(
        ref_gram(x, x, s_x).sum(), rel=1e-10)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernel_sum_dtype_device_follow_input(dtype, device):
    rng = np.random.default_rng(8)
    x = torch.tensor(draw(rng, 33, 3), dtype=dtype, device=device)
    y = torch.tensor(draw(rng, 21, 3), dtype=dtype, device=device)
    s = kernel_sum(x, y, bandwidth=1.3, block_size=8)
    assert s.ndim == 0 and s.dtype == dtype and s.device.type == device.type
    ref = ref_gram(x.cpu().double().numpy(), y.cpu().double().numpy(), 1.3).sum()
    assert float(s) == pytest.approx(ref, rel=1e-5 if dtype == torch.float32 else 1e-10)


def test_kernel_sum_numpy_and_torch_mixed(device):
    rng = np.random.default_rng(9)
    x = draw(rng, 20, 2)
    y = torch.tensor(draw(rng, 15, 2), device=device)
    ref = ref_gram(x, y.cpu().numpy(), 1.0).sum()
    for a, b in ((x, y), (torch.tensor(x, device=device), y.cpu().numpy())):
        s = kernel_sum(a, b, bandwidth=1.0)
        assert s.device.type == device.type
        assert float(s) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
@pytest.mark.parametrize("block_size", [1, 4, None])
def test_kernel_sum_gradient_matches_dense_autograd(kernel, block_size):
    """The closed-form tiled backward equals autograd through a dense float64 torch sum."""
    rng = np.random.default_rng(21)
    x0, y0 = draw(rng, 13, 3), draw(rng, 9, 3, shift=0.4)
    bw = [0.7, 2.0]

    def dense(x, y):
        yy = x if y is None else y
        d2 = ((x[:, None, :] - yy[None, :, :]) ** 2).sum(-1)
        if kernel == "gaussian":
            return sum(torch.exp(-d2 / (2 * s * s)) for s in bw).sum()
        # sqrt with a safe gradient at the (excluded-anyway) zero diagonal
        d = torch.where(d2 > 0, torch.where(d2 > 0, d2, 1.0).sqrt(), 0.0)
        return sum(torch.exp(-d / s) for s in bw).sum()

    for with_y in (True, False):
        x = torch.tensor(x0, requires_grad=True)
        y = torch.tensor(y0, requires_grad=True) if with_y else None
        kernel_sum(x, y, kernel=kernel, bandwidth=bw, block_size=block_size).backward()
        xr = torch.tensor(x0, requires_grad=True)
        yr = torch.tensor(y0, requires_grad=True) if with_y else None
        dense(xr, yr).backward()
        torch.testing.assert_close(x.grad, xr.grad, rtol=1e-9, atol=1e-11)
        if with_y:
            torch.testing.assert_close(y.grad, yr.grad, rtol=1e-9, atol=1e-11)


def test_kernel_sum_gradcheck():
    rng = np.random.default_rng(4)
    x = torch.tensor(draw(rng, 5, 2), requires_grad=True)
    y = torch.tensor(draw(rng, 4, 2), requires_grad=True)
    for kernel in ("gaussian", "laplacian"):
        assert torch.autograd.gradcheck(
            lambda a, b, k=kernel: kernel_sum(a, b, kernel=k, bandwidth=[0.8, 1.5],
                                              block_size=2), (x, y))
        assert torch.autograd.gradcheck(
            lambda a, k=kernel: kernel_sum(a, kernel=k, bandwidth=1.1, block_size=2,
                                           exclude_diagonal=True), (x,))


# ----------------------------------------------------------------------------- kernel_matvec
@pytest.mark.parametrize("block_size", [1, 3, 8, None])
@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
def test_kernel_matvec_matches_dense(block_size, kernel):
    rng = np.random.default_rng(31 + (block_size or 0))
    n, m, d = 29, 17, 3
    x, y = draw(rng, n, d), draw(rng, m, d, shift=-0.3)
    bw = [0.6, 1.9]
    Kxy, Kxx = ref_gram(x, y, bw, kernel), ref_gram(x, x, bw, kernel)
    kw = dict(kernel=kernel, bandwidth=bw, block_size=block_size)
    for v_shape in [(m,), (m, 4)]:
        v = rng.normal(size=v_shape)
        out = kernel_matvec(x, v, y, **kw)
        assert out.shape == (n,) + v_shape[1:]
        np.testing.assert_allclose(out.numpy(), Kxy @ v, rtol=1e-10, atol=1e-11)
    for v_shape in [(n,), (n, 3)]:
        v = rng.normal(size=v_shape)
        np.testing.assert_allclose(kernel_matvec(x, v, **kw).numpy(), Kxx @ v, rtol=1e-10,
                                   atol=1e-11)
        K0 = Kxx - np.diag(np.diag(Kxx))
        np.testing.assert_allclose(kernel_matvec(x, v, zero_diagonal=True, **kw).numpy(),
                                   K0 @ v, rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernel_matvec_dtype_device(dtype, device):
    rng = np.random.default_rng(2)
    x = torch.tensor(draw(rng, 25, 2), dtype=dtype, device=device)
    v = rng.normal(size=25)  # numpy, float64: the result follows x
    out = kernel_matvec(x, v, bandwidth=1.0, block_size=6)
    assert out.dtype == dtype and out.device.type == device.type
    ref = ref_gram(x.cpu().double().numpy(), x.cpu().double().numpy(), 1.0) @ v
    np.testing.assert_allclose(out.cpu().double().numpy(), ref,
                               rtol=1e-5 if dtype == torch.float32 else 1e-10, atol=1e-5)


# ----------------------------------------------------------------------------- median
@pytest.mark.parametrize("seed", range(4))
def test_median_bandwidth_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    # odd and even numbers of distinct pairs: n=5 -> 10 pairs, n=6 -> 15, pooled 30+21 -> 1275
    n, m, d = [(5, 0, 1), (6, 0, 3), (30, 21, 2), (200, 101, 7)][seed]
    x = draw(rng, n, d, scale=3.0)
    if m:
        y = draw(rng, m, d, shift=5.0)
        got = median_bandwidth(x, y)
        want = ref_median(x, y)
    else:
        got = median_bandwidth(x)
        want = ref_median(x)
    assert got.ndim == 0 and got.dtype == torch.float64
    assert float(got) == pytest.approx(want, rel=1e-12)


def test_median_bandwidth_docstring_example():
    # distances 1, 3, 2 -> 2 (hand-computed, not tllab output)
    assert float(median_bandwidth(torch.tensor([[0.0], [1.0], [3.0]]))) == 2.0
    # even count: distances 1, 3, 6, 2, 5, 3 -> sorted 1 2 3 3 5 6 -> median 3
    assert float(median_bandwidth(np.array([[0.0], [1.0], [3.0], [6.0]]))) == 3.0


def test_median_bandwidth_is_a_distance_not_squared():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])  # one pair at distance 5 (squared 25)
    assert float(median_bandwidth(x)) == pytest.approx(5.0)


def test_median_bandwidth_subsampling_deterministic_and_close():
    rng = np.random.default_rng(17)
    x, y = draw(rng, 1500, 3), draw(rng, 1200, 3, shift=1.0)
    full = ref_median(x, y)
    a = median_bandwidth(x, y, max_samples=800)
    b = median_bandwidth(x, y, max_samples=800)
    c = median_bandwidth(x, y, max_samples=800, seed=1)
    assert float(a) == float(b)  # same seed -> same subsample
    # The median of ~320k distances among 800 points: relative sd well under 1 %
    for v in (a, c):
        assert abs(float(v) - full) / full < 0.03
    # and not the exact value of the full pool (it really subsamples)
    assert float(a) != pytest.approx(full, rel=1e-9)
    # an exact pool when max_samples covers it
    assert float(median_bandwidth(x, y, max_samples=2700)) == pytest.approx(full, rel=1e-12)


@pytest.mark.slow  # ~5 s and ~1.3 GB: 16.8 million distances in torch and in SciPy
def test_median_bandwidth_large_exact_pool():
    """max_samples is documented as "largest pool used exactly": honour it past 2^24 pairs.

    5 800 points give 16 817 100 distinct pairs (an even count, so the median is the mean of
    the two middle values), just above torch.quantile's 2^24-element limit.
    """
    rng = np.random.default_rng(0)
    x = draw(rng, 5800, 1)
    got = median_bandwidth(x, max_samples=6000)
    assert float(got) == pytest.approx(ref_median(x), rel=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_median_bandwidth_dtype_device(dtype, device):
    rng = np.random.default_rng(1)
    x = torch.tensor(draw(rng, 20, 2), dtype=dtype, device=device)
    y = draw(rng, 11, 2)  # numpy float64 mixed in
    med = median_bandwidth(x, y if dtype == torch.float64 else y.astype(np.float32))
    assert med.dtype == dtype and med.device.type == device.type
    want = ref_median(x.cpu().double().numpy(), y)
    assert float(med) == pytest.approx(want, rel=1e-5 if dtype == torch.float32 else 1e-12)


def test_top_level_reexports():
    for name in ("kernel_matrix", "kernel_sum", "kernel_matvec", "median_bandwidth"):
        assert getattr(tllab, name) is getattr(tllab.kernels, name)
