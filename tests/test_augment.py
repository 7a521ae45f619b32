"""tllab.data.augment (label-preserving random image transforms) and tllab.data.interval (the
Beta-law covariate-shift regression), against independent references: torch.rot90, SciPy's
ndimage resampling and Beta law, integer shifts found by search, moments of the laws."""

import numpy as np
import pytest
import torch
from scipy import integrate, ndimage
from scipy.stats import beta as beta_law

import tllab
from tllab.data import (
    augment_images,
    beta_density_ratio,
    beta_law_quadrature,
    make_interval_shift_regression,
    random_crop,
    random_rotation,
    random_scaling,
    wiggly_function,
)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


@pytest.fixture
def digits():
    x, y = tllab.data.load_digits_domain("source", flatten=False)
    return x[:40], y[:40]


# ------------------------------------------------------------------ transforms: invariants
@pytest.mark.parametrize("transform", [
    lambda x, s: random_rotation(x, 20, seed=s),
    lambda x, s: random_scaling(x, (0.8, 1.2), seed=s),
    lambda x, s: random_crop(x, 2, seed=s),
])
def test_transforms_keep_shape_dtype_and_are_seeded(transform, digits, device):
    x = digits[0].to(device=device, dtype=torch.float32)
    out = transform(x, 5)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device.type == device.type
    assert torch.equal(out, transform(x, 5))
    assert not torch.equal(out, transform(x, 6))
    assert not torch.equal(out, x)
    x4 = x[:, None]  # (n, 1, h, w): the channel axis shares each image's parameters
    torch.testing.assert_close(transform(x4, 5)[:, 0], out)


@needs_cuda
def test_transforms_cuda_parity(digits):
    x = digits[0]
    for fn in (lambda z: random_rotation(z, 25, seed=1), lambda z: random_crop(z, 1, seed=1),
               lambda z: random_scaling(z, (0.7, 1.3), seed=1)):
        torch.testing.assert_close(fn(x.cuda()).cpu(), fn(x), atol=1e-6, rtol=0)


def test_fixed_angle_is_rotate_images_and_90_is_rot90(rng):
    x = torch.as_tensor(rng.uniform(size=(6, 8, 8)))
    torch.testing.assert_close(random_rotation(x, (17.0, 17.0)),
                               tllab.data.rotate_images(x, 17.0))
    torch.testing.assert_close(random_rotation(x, (90.0, 90.0)), torch.rot90(x, 1, (-2, -1)))
    torch.testing.assert_close(random_rotation(x, 0.0), x)


def test_rotation_angles_stay_in_the_range_and_fill_it(digits):
    x = digits[0][:25]
    out = random_rotation(x, (10.0, 30.0), seed=0)
    grid = np.arange(0.0, 40.01, 0.25)
    found = []
    for img, got in zip(x, out, strict=True):
        errs = [float((tllab.data.rotate_images(img, a) - got).abs().max()) for a in grid]
        j = int(np.argmin(errs))
        assert errs[j] < 0.02  # some angle on the grid reproduces the image
        found.append(grid[j])
    found = np.array(found)
    assert found.min() >= 10.0 - 0.25 and found.max() <= 30.0 + 0.25
    assert found.max() - found.min() > 10.0


def test_fixed_scale_matches_scipy_affine_transform(rng):
    x = rng.uniform(size=(3, 9, 9))
    for s in (0.7, 1.0, 1.35):
        got = random_scaling(torch.as_tensor(x), (s, s)).numpy()
        c = (9 - 1) / 2
        for img, g in zip(x, got, strict=True):
            # output pixel o samples the input at c + (o − c)/s, bilinear, zeros outside
            ref = ndimage.affine_transform(img, np.eye(2) / s, offset=c - c / s, order=1,
                                           mode="grid-constant", cval=0.0)
            np.testing.assert_allclose(g, ref, atol=1e-10)


def test_random_crop_is_an_integer_shift_within_padding(digits):
    x = digits[0]
    p = 2
    out = random_crop(x, p, seed=0)
    padded = torch.nn.functional.pad(x, (p, p, p, p))
    seen = set()
    for i in range(x.shape[0]):
        matches = [(dy, dx) for dy in range(-p, p + 1) for dx in range(-p, p + 1)
                   if torch.equal(out[i], padded[i, p + dy:p + dy + 8, p + dx:p + dx + 8])]
        assert matches, f"image {i} is not a shift of its input by at most {p} pixels"
        seen.add(matches[0])
    assert len(seen) >= 12  # 40 images spread over the 25 possible offsets
    torch.testing.assert_close(random_crop(x, 0), x)


def test_augment_images_preserves_labels_and_counts(digits):
    x, y = digits
    xa, ya = augment_images(x, y, copies=3, rotation=15, scale=(0.9, 1.1), crop=1,
                            noise_std=0.05, seed=2)
    assert xa.shape == (160, 8, 8) and xa.dtype == x.dtype
    assert torch.equal(ya, y.repeat(4))
    assert torch.equal(xa[:40], x)  # originals first
    assert float(xa.min()) >= 0.0 and float(xa.max()) <= 1.0
    assert torch.equal(xa, augment_images(x, y, copies=3, rotation=15, scale=(0.9, 1.1),
                                          crop=1, noise_std=0.05, seed=2)[0])
    xb, yb = augment_images(x, y, copies=2, rotation=15, keep_original=False)
    assert xb.shape == (80, 8, 8) and torch.equal(yb, y.repeat(2))
    assert not torch.equal(xb[:40], xb[40:])  # each copy draws its own angles


def test_augment_noise_only_has_requested_std():
    x = torch.full((400, 8, 8), 0.5, dtype=torch.float64)
    xa, _ = augment_images(x, torch.zeros(400), copies=1, noise_std=0.1, keep_original=False,
                           clip=False)
    assert float((xa - 0.5).std()) == pytest.approx(0.1, rel=0.02)


@pytest.mark.parametrize(
    ("fn", "kwargs", "error", "match"),
    [
        (random_rotation, {"images": np.zeros((8, 8))}, ValueError, "images"),
        (random_rotation, {"images": np.zeros((2, 8, 6))}, ValueError, "square"),
        (random_rotation, {"images": np.zeros((0, 8, 8))}, ValueError, "at least one"),
        (random_rotation, {"images": np.full((2, 8, 8), np.nan)}, ValueError, "finite"),
        (random_rotation, {"degrees": -5.0}, ValueError, "degrees"),
        (random_rotation, {"degrees": (20.0, 10.0)}, ValueError, "low <= high"),
        (random_rotation, {"degrees": (1.0, 2.0, 3.0)}, ValueError, "pair"),
        (random_rotation, {"seed": -1}, ValueError, "seed"),
        (random_scaling, {"scale": (0.0, 1.0)}, ValueError, "scale"),
        (random_scaling, {"scale": 1.1}, TypeError, "pair"),
        (random_crop, {"padding": -1}, ValueError, "padding"),
        (random_crop, {"padding": 1.5}, TypeError, "padding"),
        (random_rotation, {"images": "abc"}, TypeError, "images"),
    ],
)
def test_transforms_bad_input(fn, kwargs, error, match):
    args = {"images": np.zeros((2, 8, 8))} | kwargs
    with pytest.raises(error, match=match):
        fn(args.pop("images"), **args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"labels": np.zeros(3)}, ValueError, "labels"),
        ({"labels": None}, TypeError, "labels"),
        ({"copies": -1}, ValueError, "copies"),
        ({"copies": 0, "keep_original": False}, ValueError, "no images"),
        ({"noise_std": -0.1}, ValueError, "noise_std"),
        ({"crop": -2}, ValueError, "crop"),
        ({"clip": "yes"}, TypeError, "clip"),
        ({"rotation": (5.0, -5.0)}, ValueError, "rotation"),
    ],
)
def test_augment_images_bad_input(kwargs, error, match):
    args = {"images": np.zeros((2, 8, 8)), "labels": np.zeros(2)} | kwargs
    with pytest.raises(error, match=match):
        augment_images(args.pop("images"), args.pop("labels"), **args)


# ------------------------------------------------------------------ Beta laws on [−1, 1]
@pytest.mark.parametrize(("a", "b"), [(2.0, 2.0), (6.0, 2.0), (0.7, 1.5)])
def test_quadrature_integrates_against_the_beta_law(a, b):
    x, w = beta_law_quadrature(a, b, 30)
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-13) and bool((w > 0).all())
    for g in (lambda t: t**7 - 2 * t**3 + 0.5, lambda t: np.sin(5 * t) * np.exp(t)):
        ref, _ = integrate.quad(lambda u, g=g: g(2 * u - 1) * beta_law.pdf(u, a, b), 0, 1,
                                limit=200)
        assert float((w.numpy() * g(x.numpy())).sum()) == pytest.approx(ref, abs=1e-8)


def test_density_ratio_matches_scipy_and_has_unit_source_mean(rng):
    x = rng.uniform(-0.99, 0.99, size=50)
    for src, tgt in (((2.0, 2.0), (6.0, 2.0)), ((1.5, 3.0), (2.5, 2.0))):
        got = beta_density_ratio(x[:, None], src, tgt).numpy()
        u = (x + 1) / 2
        np.testing.assert_allclose(got, beta_law.pdf(u, *tgt) / beta_law.pdf(u, *src),
                                   rtol=1e-10)
        val, _ = integrate.quad(lambda u, s=src, t=tgt: float(
            beta_density_ratio([2 * u - 1], s, t)[0]) * beta_law.pdf(u, *s), 0, 1)
        assert val == pytest.approx(1.0, abs=1e-8)


def test_interval_regression_draws_follow_the_laws():
    d = make_interval_shift_regression(40_000, 40_000, noise=0.3, seed=1)
    assert d.xs.shape == (40_000, 1) and d.ys.shape == (40_000,) and d.xs.dtype == torch.float64
    for x, (a, b) in ((d.xs, (2.0, 2.0)), (d.xt, (6.0, 2.0))):
        u = (x[:, 0].numpy() + 1) / 2
        assert u.mean() == pytest.approx(beta_law.mean(a, b), abs=0.005)
        assert u.var() == pytest.approx(beta_law.var(a, b), rel=0.03)
    resid = (d.ys - wiggly_function(d.xs)).numpy()
    assert resid.mean() == pytest.approx(0.0, abs=0.006)
    assert resid.std() == pytest.approx(0.3, rel=0.02)


def test_interval_regression_seeded_and_device(device):
    a = make_interval_shift_regression(30, 20, seed=4, device=device, dtype=torch.float32)
    b = make_interval_shift_regression(30, 20, seed=4)
    assert a.xs.device.type == device.type and a.xs.dtype == torch.float32
    torch.testing.assert_close(a.xs.cpu(), b.xs.float())
    assert not torch.equal(b.xs, make_interval_shift_regression(30, 20, seed=5).xs)
    c = make_interval_shift_regression(30, 5, function=lambda t: 0 * t, noise=0.0)
    assert torch.equal(c.ys, torch.zeros(30, dtype=torch.float64))


def test_wiggly_function_formula(rng):
    x = rng.uniform(-1, 1, 20)
    ref = 0.5 * x + 0.8 * np.sin(6 * x) * np.exp(-4 * (x + 0.3) ** 2)
    np.testing.assert_allclose(wiggly_function(x).numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "error", "match"),
    [
        (beta_law_quadrature, (0.0, 1.0), {}, ValueError, r"\(a, b\)"),
        (beta_law_quadrature, (1.0, 1.0, 0), {}, ValueError, "n_nodes"),
        (beta_density_ratio, ([1.5],), {}, ValueError, r"\[-1, 1\]"),
        (beta_density_ratio, ([0.0],), {"source": (1.0,)}, ValueError, "source"),
        (beta_density_ratio, ([0.0],), {"target": "ab"}, TypeError, "target"),
        (beta_density_ratio, (np.zeros((3, 2)),), {}, ValueError, "x"),
        (make_interval_shift_regression, (0,), {}, ValueError, "n_source"),
        (make_interval_shift_regression, (5,), {"noise": -1.0}, ValueError, "noise"),
        (make_interval_shift_regression, (5,), {"source": (2.0, -1.0)}, ValueError, "source"),
        (make_interval_shift_regression, (5,), {"function": 3}, TypeError, "function"),
        (make_interval_shift_regression, (5,), {"dtype": torch.int64}, TypeError, "dtype"),
    ],
)
def test_interval_bad_input(fn, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)
