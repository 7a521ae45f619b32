"""tllab.data.render_digits (the rendered source domain), tllab.data.gaussian_blur, and the
fixed train/test split of the target digits.

The renderer is checked against an independent rasteriser (even-odd point-in-polygon on
matplotlib's glyph outlines, supersampled); the blur against scipy.ndimage; the split against
the documented recipe rebuilt from scikit-learn's data.
"""

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

import tllab
from tllab.data import DIGIT_FONTS, gaussian_blur, load_digits_domain, render_digits

NO_JITTER = dict(rotation=0.0, shear=0.0, scale=(1.0, 1.0), aspect=(1.0, 1.0), translate=0.0,
                 stroke=(0, 0), blur=0.0, noise=0.0, levels=None)


def test_render_digits_deterministic_in_range_balanced_and_quantised():
    x, y = render_digits(103, seed=5)
    x2, y2 = render_digits(103, seed=5)
    x3, _ = render_digits(103, seed=6)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(x, x3)
    assert x.shape == (103, 8, 8) and x.dtype == torch.float64 and y.dtype == torch.long
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    counts = y.bincount(minlength=10)
    assert counts.min() >= 10 and counts.max() <= 11 and counts.sum() == 103
    assert torch.equal(x * 16, (x * 16).round())
    assert not torch.equal(y, torch.arange(103) % 10)  # shuffled
    # every image has ink, and images of one class are not all the same
    assert bool((x.sum((1, 2)) > 1.0).all())
    assert float(x[y == 3].std(0).mean()) > 0.05


def test_render_digits_options():
    x, y = render_digits(20, size=16, flatten=True, dtype=torch.float32, levels=None)
    assert x.shape == (20, 256) and x.dtype == torch.float32
    assert not torch.equal(x * 16, (x * 16).round())  # no quantisation
    xa, ya = render_digits(20, fonts=["cmr10.ttf"], seed=0)
    xb, yb = render_digits(20, fonts=("DejaVuSans-Bold.ttf",), seed=0)
    assert torch.equal(ya, yb) and not torch.equal(xa, xb)


def test_render_digits_device(device):
    x, y = render_digits(12, seed=2, device=device)
    assert x.device.type == device.type and y.device.type == device.type
    torch.testing.assert_close(x.cpu(), render_digits(12, seed=2)[0])


def _reference_glyph(font: str, digit: int, raster: int, ss: int = 8) -> np.ndarray:
    """Coverage of the glyph on a raster x raster grid by supersampled even-odd point tests."""
    import matplotlib
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    fname = f"{matplotlib.get_data_path()}/fonts/ttf/{font}"
    path = TextPath((0, 0), str(digit), prop=FontProperties(fname=fname), size=1)
    ext = path.get_extents()
    s = raster / max(ext.width, ext.height)
    g = (np.arange(raster * ss) + 0.5) / ss
    col, row = np.meshgrid(g, g)
    pts = np.c_[((col - raster / 2) / s + (ext.x0 + ext.x1) / 2).ravel(),
                (-(row - raster / 2) / s + (ext.y0 + ext.y1) / 2).ravel()]
    inside = np.zeros(len(pts), bool)
    for poly in path.to_polygons(closed_only=True):
        inside ^= Path(poly).contains_points(pts)
    return inside.reshape(raster, ss, raster, ss).mean((1, 3))


@pytest.mark.parametrize("font", ["DejaVuSans.ttf", "cmr10.ttf", "STIXGeneralBolIta.ttf"])
def test_unjittered_render_matches_an_independent_rasteriser(font):
    x, y = render_digits(40, size=8, fonts=[font], seed=0, **NO_JITTER)
    for digit in range(10):
        ref = _reference_glyph(font, digit, 32).reshape(8, 4, 8, 4).mean((1, 3))
        for img in x[y == digit]:  # Agg's anti-aliasing differs a little at the edges
            np.testing.assert_allclose(img.numpy(), ref, atol=0.08)
            assert np.abs(img.numpy() - ref).mean() < 0.02


def test_every_font_has_ten_distinct_digits():
    assert len(DIGIT_FONTS) == 21
    x, y = render_digits(10 * len(DIGIT_FONTS) * 3, seed=0, **NO_JITTER)
    means = torch.stack([x[y == d].mean(0) for d in range(10)])
    dist = torch.cdist(means.reshape(10, -1), means.reshape(10, -1))
    assert float(dist[~torch.eye(10, dtype=torch.bool)].min()) > 0.5


def _mass(**kw):
    x, _ = render_digits(200, seed=1, **{**NO_JITTER, **kw})
    return float(x.sum((1, 2)).mean())


def test_jitter_parameters_do_what_they_say():
    base = _mass()
    assert _mass(scale=(0.5, 0.5)) == pytest.approx(0.25 * base, rel=0.1)  # area ~ scale²
    assert _mass(aspect=(0.5, 0.5)) == pytest.approx(0.5 * base, rel=0.1)  # width halves
    assert _mass(stroke=(1, 1)) > 1.2 * base > 1.2 * _mass(stroke=(-1, -1))
    assert _mass(blur=1.0) == pytest.approx(base, rel=0.05)  # blur moves ink, keeps it
    assert _mass(rotation=30.0) == pytest.approx(base, rel=0.1)
    clean, _ = render_digits(200, seed=1, **NO_JITTER)
    noisy, _ = render_digits(200, seed=1, **{**NO_JITTER, "noise": 0.2})
    diff = (noisy - clean)[(clean > 0.3) & (clean < 0.7)]  # away from the clipping
    # std of sd * z with sd ~ U(0, 0.2): sqrt(E[sd²]) = 0.2 / sqrt(3)
    assert float(diff.std()) == pytest.approx(0.2 / np.sqrt(3), rel=0.15)


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"n": 0}, ValueError, "n must be"),
        ({"n": 2.0}, TypeError, "n must be"),
        ({"size": 3}, ValueError, "size"),
        ({"fonts": "cmr10.ttf"}, TypeError, "fonts"),
        ({"fonts": []}, TypeError, "fonts"),
        ({"fonts": ["Arial.ttf"]}, ValueError, "unknown"),
        ({"rotation": -1.0}, ValueError, "rotation"),
        ({"shear": float("nan")}, ValueError, "shear"),
        ({"translate": -0.1}, ValueError, "translate"),
        ({"scale": 1.0}, TypeError, "scale"),
        ({"scale": (1.2, 0.8)}, ValueError, "scale"),
        ({"scale": (0.0, 1.0)}, ValueError, r"scale\[0\]"),
        ({"aspect": (1.0,)}, TypeError, "aspect"),
        ({"stroke": 1}, TypeError, "stroke"),
        ({"stroke": (2, 1)}, ValueError, "stroke"),
        ({"stroke": (0.5, 1)}, TypeError, "stroke"),
        ({"blur": -1.0}, ValueError, "blur"),
        ({"noise": float("inf")}, ValueError, "noise"),
        ({"levels": 0}, ValueError, "levels"),
        ({"seed": -1}, ValueError, "seed"),
        ({"flatten": 1}, TypeError, "flatten"),
        ({"dtype": torch.int64}, TypeError, "dtype"),
    ],
)
def test_render_digits_bad_input(kwargs, err, match):
    args = {"n": 10, **kwargs}
    with pytest.raises(err, match=match):
        render_digits(args.pop("n"), **args)


# ------------------------------------------------------------------------- gaussian_blur
@pytest.mark.parametrize("sigma", [0.3, 0.8, 1.0, 2.5])
def test_gaussian_blur_matches_scipy(sigma, rng):
    x = rng.normal(size=(3, 2, 9, 11))
    out = gaussian_blur(torch.as_tensor(x), sigma)
    ref = gaussian_filter(x, sigma=(0, 0, sigma, sigma), mode="constant", truncate=3.0)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_gaussian_blur_per_image_sigma_matches_scipy(rng):
    x = rng.uniform(size=(4, 10, 10))
    sig = np.array([0.0, 0.4, 1.0, 1.7])
    out = gaussian_blur(torch.as_tensor(x), torch.as_tensor(sig))
    radius = int(3 * sig.max() + 0.5)
    np.testing.assert_allclose(out[0].numpy(), x[0], atol=1e-12)  # sigma 0: unchanged
    for i in range(1, 4):
        ref = gaussian_filter(x[i], sig[i], mode="constant", truncate=radius / sig[i])
        np.testing.assert_allclose(out[i].numpy(), ref, rtol=1e-9, atol=1e-12)


def test_gaussian_blur_keeps_shape_dtype_device_and_mass(device):
    x = torch.zeros(2, 15, 15, dtype=torch.float32, device=device)
    x[:, 7, 7] = 1.0
    out = gaussian_blur(x, 1.2)
    assert out.shape == x.shape and out.dtype == torch.float32 and out.device == x.device
    assert float(out.sum()) == pytest.approx(2.0, rel=1e-5)  # interior: mass preserved
    wider = gaussian_blur(x, 2.0)
    assert float(wider.max()) < float(out.max())  # more blur spreads more
    assert torch.equal(gaussian_blur(x, 0.0), x)


@pytest.mark.parametrize(
    ("images", "sigma", "err", "match"),
    [
        (torch.zeros(5), 1.0, ValueError, "images must have shape"),
        ("abc", 1.0, TypeError, "images"),
        (torch.full((3, 3), float("nan")), 1.0, ValueError, "images must be finite"),
        (torch.zeros(3, 3), -1.0, ValueError, "sigma"),
        (torch.zeros(3, 3), float("nan"), ValueError, "sigma"),
        (torch.zeros(2, 3, 3), [1.0, 2.0, 3.0], ValueError, "one entry per image"),
        (torch.zeros(2, 3, 3), [1.0, -2.0], ValueError, "sigma must be >= 0"),
        (torch.zeros(3, 3), "1", TypeError, "sigma"),
    ],
)
def test_gaussian_blur_bad_input(images, sigma, err, match):
    with pytest.raises(err, match=match):
        gaussian_blur(images, sigma)


# ------------------------------------------------------------------- target digits split
def test_target_train_test_split_is_the_documented_fixed_split():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    order = np.random.default_rng(0).permutation(1797)  # documented: a permutation, seed 0
    xtr, ytr = load_digits_domain("train", flatten=False)
    xte, yte = load_digits_domain("test", flatten=False)
    assert xtr.shape == (899, 8, 8) and xte.shape == (898, 8, 8)
    np.testing.assert_array_equal(ytr.numpy(), bunch.target[order[:899]])
    np.testing.assert_array_equal(yte.numpy(), bunch.target[order[899:]])
    np.testing.assert_allclose(xte.numpy(), bunch.images[order[899:]] / 16.0)
    assert torch.equal(xtr, load_digits_domain("source", flatten=False)[0])
    assert torch.equal(xte, load_digits_domain("target", flatten=False)[0])
    # every class is present in both halves
    assert ytr.bincount().min() >= 75 and yte.bincount().min() >= 75


def test_load_digits_domain_blur_is_gaussian_blur_then_clip():
    x0, _ = load_digits_domain("test", flatten=False)
    xb, _ = load_digits_domain("test", flatten=False, blur=0.8)
    torch.testing.assert_close(xb, gaussian_blur(x0, 0.8).clamp(0, 1))
    with pytest.raises(ValueError, match="blur"):
        load_digits_domain("test", blur=-0.5)
    assert tllab.data.load_digits_domain("test")[0].shape == (898, 64)
