"""tllab.data (shift generators, digit domains, image transforms), the shift studies' exact
references, and the non-UI parts of tllab.plotting / tllab.widgets.

Each property is checked independently of the implementation: class counts against the
requested proportions, conditional label frequencies across domains, rotations against
torch.rot90, noise levels against the requested standard deviation, closed forms against
Monte Carlo or SciPy.
"""

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import norm

import tllab
from tllab import viz
from tllab.studies import distribution_shift as shift_study
from tllab.viz import distribution_shift as shift_view

GENERATORS = [tllab.data.covariate_shift, tllab.data.prior_shift, tllab.data.concept_shift]


# --------------------------------------------------------------------------- toy generators
@pytest.mark.parametrize("make", GENERATORS)
def test_generators_shapes_dtypes_and_seeding(make):
    a = make(120, n_target=80, seed=3)
    assert a.xs.shape == (120, 2) and a.xt.shape == (80, 2)
    assert a.ys.shape == (120,) and a.yt.shape == (80,)
    assert a.xs.dtype == torch.float64 and a.ys.dtype == torch.long
    b = make(120, n_target=80, seed=3)
    c = make(120, n_target=80, seed=4)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(a.xs, c.xs)
    xs, ys, xt, yt = make(10, dtype=torch.float32)  # unpacks as a 4-tuple
    assert xs.dtype == torch.float32 and xt.dtype == torch.float32


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_device(make, device):
    pair = make(20, device=device)
    assert all(t.device.type == device.type for t in pair)
    cpu = make(20)
    torch.testing.assert_close(pair.xs.cpu(), cpu.xs)  # same numbers on every device


def test_covariate_shift_moves_p_x_and_keeps_p_y_given_x():
    xs, ys, xt, yt = tllab.data.covariate_shift(40_000, shift=1.0, spread=1.0, seed=0)
    # P(x) differs: the target mean moved by `shift` along x1 only
    assert abs(float(xt[:, 0].mean() - xs[:, 0].mean()) - 1.0) < 0.03
    assert abs(float(xt[:, 1].mean() - xs[:, 1].mean())) < 0.03
    # P(y | x) is the same: label frequencies agree bin by bin where both domains have data
    edges = np.linspace(-0.5, 1.5, 5)
    compared = 0
    for lo1, hi1 in zip(edges[:-1], edges[1:], strict=True):
        for lo2, hi2 in zip(edges[:-1], edges[1:], strict=True):
            def freq(x, y, lo1=lo1, hi1=hi1, lo2=lo2, hi2=hi2):
                m = (x[:, 0] >= lo1) & (x[:, 0] < hi1) & (x[:, 1] >= lo2) & (x[:, 1] < hi2)
                return float(y[m].double().mean()), int(m.sum())
            fs, ns = freq(xs, ys)
            ft, nt = freq(xt, yt)
            if min(ns, nt) >= 300:
                compared += 1
                se = math.sqrt(0.25 / ns + 0.25 / nt)
                assert abs(fs - ft) < 4 * se
    assert compared >= 8


def test_covariate_label_probability_formula():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-2.0, -1.0]], dtype=torch.float64)
    ref = 1 / (1 + np.exp(-4 * (x[:, 1].numpy() - np.sin(1.5 * x[:, 0].numpy()))))
    np.testing.assert_allclose(tllab.data.covariate_label_probability(x).numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize("target_prior", [(0.9, 0.1), (0.25, 0.75), (0.2, 0.3, 0.5)])
def test_prior_shift_proportions_match_requested(target_prior):
    k = len(target_prior)
    source_prior = tuple([1 / k] * k)
    n = 997  # not a multiple of anything: rounding must still be within one sample
    xs, ys, xt, yt = tllab.data.prior_shift(n, source_prior=source_prior,
                                       target_prior=target_prior, seed=1)
    for y, prior in ((ys, source_prior), (yt, target_prior)):
        counts = np.bincount(y.numpy(), minlength=k)
        assert counts.sum() == n
        assert np.all(np.abs(counts / n - np.asarray(prior)) <= 1 / n + 1e-12)


def test_prior_shift_keeps_class_conditionals():
    xs, ys, xt, yt = tllab.data.prior_shift(20_000, target_prior=(0.7, 0.3), seed=2)
    for c in (0, 1):
        ms, mt = xs[ys == c].mean(0), xt[yt == c].mean(0)
        torch.testing.assert_close(ms, mt, atol=0.06, rtol=0)
        ss, st = xs[ys == c].std(0), xt[yt == c].std(0)
        torch.testing.assert_close(ss, st, atol=0.05, rtol=0)
    # the two class means are `separation` apart
    d = (xs[ys == 0].mean(0) - xs[ys == 1].mean(0)).norm()
    assert abs(float(d) - 2.5) < 0.06


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_concept_shift_same_inputs_rotated_rule(angle):
    xs, ys, xt, yt = tllab.data.concept_shift(40_000, angle=angle, seed=0)
    torch.testing.assert_close(xs.mean(0), xt.mean(0), atol=0.03, rtol=0)
    torch.testing.assert_close(torch.cov(xs.T), torch.cov(xt.T), atol=0.04, rtol=0)
    # the source rule mislabels a fraction angle/180 of isotropic target inputs
    wrong = float(((xt[:, 1] > 0).long() != yt).double().mean())
    assert abs(wrong - angle / 180) < 0.01
    assert bool(((xs[:, 1] > 0).long() == ys).all())


def test_concept_shift_label_noise_rate():
    xs, ys, _, _ = tllab.data.concept_shift(40_000, label_noise=0.2, seed=0)
    flipped = float(((xs[:, 1] > 0).long() != ys).double().mean())
    assert abs(flipped - 0.2) < 0.01


def test_gaussian_shift_pair_transform_moments():
    n = 50_000
    xs, xt = tllab.data.gaussian_shift_pair(n, seed=0)
    torch.testing.assert_close(torch.cov(xs.T), torch.diag(torch.tensor([1.0, 0.16],
                                                                         dtype=torch.float64)),
                               atol=0.02, rtol=0)
    torch.testing.assert_close(torch.cov(xt.T), torch.cov(xs.T), atol=0.02, rtol=0)
    _, xt = tllab.data.gaussian_shift_pair(n, mean=1.0, spread=2.0, rotation=90.0, noise=0.5,
                                           seed=0)
    # rotation by 90 degrees swaps the axes' variances; spread 2 multiplies them by 4;
    # noise 0.5 adds 0.25 to each
    expected = torch.diag(torch.tensor([4 * 0.16 + 0.25, 4 * 1.0 + 0.25], dtype=torch.float64))
    torch.testing.assert_close(torch.cov(xt.T), expected, atol=0.06, rtol=0)
    assert abs(float(xt[:, 0].mean()) - 1.0) < 0.03


@pytest.mark.parametrize(
    ("make", "kwargs", "error"),
    [
        (tllab.data.covariate_shift, {"n": 0}, ValueError),
        (tllab.data.covariate_shift, {"n": 2.5}, TypeError),
        (tllab.data.covariate_shift, {"spread": 0.0}, ValueError),
        (tllab.data.covariate_shift, {"seed": -1}, ValueError),
        (tllab.data.covariate_shift, {"dtype": torch.long}, TypeError),
        (tllab.data.prior_shift, {"target_prior": (0.5, 0.6)}, ValueError),
        (tllab.data.prior_shift, {"target_prior": (0.2, 0.3, 0.5)}, ValueError),
        (tllab.data.prior_shift, {"source_prior": (1.0,), "target_prior": (1.0,)}, ValueError),
        (tllab.data.concept_shift, {"label_noise": 0.7}, ValueError),
        (tllab.data.concept_shift, {"angle": "60"}, TypeError),
        (tllab.data.gaussian_shift_pair, {"noise": -0.1}, ValueError),
    ],
)
def test_generators_bad_input(make, kwargs, error):
    with pytest.raises(error):
        make(**kwargs)


# --------------------------------------------------------------------------- transforms
def test_rotate_by_zero_is_identity_and_by_90_is_rot90(rng):
    img = torch.as_tensor(rng.uniform(size=(5, 8, 8)))
    torch.testing.assert_close(tllab.data.rotate_images(img, 0.0), img, atol=1e-12, rtol=0)
    torch.testing.assert_close(tllab.data.rotate_images(img, 90.0),
                               torch.rot90(img, 1, dims=(-2, -1)), atol=1e-12, rtol=0)
    torch.testing.assert_close(tllab.data.rotate_images(img, -90.0),
                               torch.rot90(img, -1, dims=(-2, -1)), atol=1e-12, rtol=0)
    torch.testing.assert_close(tllab.data.rotate_images(img, 180.0),
                               torch.flip(img, dims=(-2, -1)), atol=1e-12, rtol=0)


def test_rotate_keeps_shape_dtype_and_moves_mass(device):
    img = torch.zeros(2, 3, 9, 9, dtype=torch.float32, device=device)
    img[..., 4, 8] = 1.0  # a dot at the right edge, middle row
    out = tllab.data.rotate_images(img, 90.0)
    assert out.shape == img.shape and out.dtype == torch.float32 and out.device == img.device
    assert float(out[0, 0, 0, 4]) == pytest.approx(1.0, abs=1e-5)  # counter-clockwise: top


def test_rotate_bad_input():
    with pytest.raises(ValueError, match="square"):
        tllab.data.rotate_images(torch.zeros(4, 6), 10.0)
    with pytest.raises(ValueError):
        tllab.data.rotate_images(torch.zeros(6), 10.0)
    with pytest.raises(TypeError):
        tllab.data.rotate_images("image", 10.0)


def test_brightness_contrast_formula_and_identity(rng):
    x = torch.as_tensor(rng.uniform(size=(3, 8, 8)))
    torch.testing.assert_close(tllab.data.adjust_brightness_contrast(x), x)
    out = tllab.data.adjust_brightness_contrast(x, brightness=0.1, contrast=0.5)
    torch.testing.assert_close(out, 0.5 * x + 0.25 + 0.1)
    clipped = tllab.data.adjust_brightness_contrast(x, brightness=0.8, clip=True)
    assert float(clipped.max()) <= 1.0
    with pytest.raises(ValueError):
        tllab.data.adjust_brightness_contrast(x, contrast=-1.0)


@pytest.mark.parametrize("std", [0.05, 0.3])
def test_sensor_noise_has_requested_std(std):
    x = torch.full((200, 8, 8), 0.5, dtype=torch.float64)
    noisy = tllab.data.add_sensor_noise(x, std, seed=0)
    diff = (noisy - x).reshape(-1).numpy()
    assert abs(diff.std() / std - 1) < 0.02  # 12 800 draws: relative sd error ~ 0.6 %
    assert abs(diff.mean()) < 4 * std / math.sqrt(diff.size)
    torch.testing.assert_close(tllab.data.add_sensor_noise(x, std, seed=0), noisy)
    assert not torch.equal(tllab.data.add_sensor_noise(x, std, seed=1), noisy)
    torch.testing.assert_close(tllab.data.add_sensor_noise(x, 0.0), x)
    with pytest.raises(ValueError):
        tllab.data.add_sensor_noise(x, -0.1)


# --------------------------------------------------------------------------- digits
def test_load_digits_domain_splits_and_identity():
    from sklearn.datasets import load_digits

    xa, ya = tllab.data.load_digits_domain("all")
    ref = load_digits()
    np.testing.assert_allclose(xa.numpy(), ref.data / 16.0)
    np.testing.assert_array_equal(ya.numpy(), ref.target)
    xs, ys = tllab.data.load_digits_domain("source")
    xt, yt = tllab.data.load_digits_domain("target")
    assert len(xs) + len(xt) == len(xa) and abs(len(xs) - len(xt)) <= 1
    # disjoint halves that together are the whole set (compare rows as bytes)
    rows = {r.tobytes() + bytes([int(c)]) for r, c in zip(xa.numpy(), ya.numpy(), strict=True)}
    s_rows = [r.tobytes() + bytes([int(c)]) for r, c in zip(xs.numpy(), ys.numpy(), strict=True)]
    t_rows = [r.tobytes() + bytes([int(c)]) for r, c in zip(xt.numpy(), yt.numpy(), strict=True)]
    assert set(s_rows) | set(t_rows) == rows
    img, _ = tllab.data.load_digits_domain("source", flatten=False)
    assert img.shape == (len(xs), 8, 8)


def test_load_digits_domain_transforms():
    x0, _ = tllab.data.load_digits_domain("target", flatten=False)
    x1, _ = tllab.data.load_digits_domain("target", rotation=90.0, flatten=False)
    torch.testing.assert_close(x1, torch.rot90(x0, 1, dims=(-2, -1)), atol=1e-12, rtol=0)
    xb, _ = tllab.data.load_digits_domain("target", brightness=0.2, contrast=0.5)
    ref = np.clip(0.5 * (x0.reshape(len(x0), -1).numpy() - 0.5) + 0.7, 0, 1)
    np.testing.assert_allclose(xb.numpy(), ref, atol=1e-12)
    xn, _ = tllab.data.load_digits_domain("target", noise_std=0.1, seed=0)
    assert float(xn.min()) >= 0 and float(xn.max()) <= 1
    assert not torch.equal(xn, tllab.data.load_digits_domain("target", noise_std=0.1, seed=1)[0])
    with pytest.raises(ValueError):
        tllab.data.load_digits_domain("validation")
    with pytest.raises(TypeError):
        tllab.data.load_digits_domain(flatten="yes")


def test_digit_domains_causes_and_severity():
    assert tllab.data.digit_shift_params("sensor", 0.0) == {"noise_std": 0.0, "contrast": 1.0}
    assert tllab.data.digit_shift_params("drift", 0.5) == {"rotation": 15.0}
    assert tllab.data.digit_shift_params("environment", 3.0)["contrast"] == 0.0  # floored
    xs, ys, xt, yt = tllab.data.digit_domains("none")
    torch.testing.assert_close(xt, tllab.data.load_digits_domain("target")[0])
    _, _, xt_d, yt_d = tllab.data.digit_domains("drift", 1.0)
    torch.testing.assert_close(xt_d, tllab.data.load_digits_domain("target", rotation=30.0)[0])
    torch.testing.assert_close(yt_d, yt)
    with pytest.raises(ValueError):
        tllab.data.digit_domains("fog")
    with pytest.raises(ValueError):
        tllab.data.digit_shift_params("sensor", -1.0)


# --------------------------------------------------------------------------- exact references
@pytest.mark.parametrize(("mp", "sp", "mq", "sq"), [(0, 1, 1, 1), (0, 1, 0, 2), (-1, 0.5, 2, 1)])
def test_gaussian_js_matches_monte_carlo(mp, sp, mq, sq):
    rng = np.random.default_rng(0)
    n = 400_000
    x, y = rng.normal(mp, sp, n), rng.normal(mq, sq, n)

    def log_ratio(t):  # log p - log m
        lp, lq = norm.logpdf(t, mp, sp), norm.logpdf(t, mq, sq)
        return lp - (np.logaddexp(lp, lq) - math.log(2)), lq - (np.logaddexp(lp, lq) - math.log(2))

    mc = 0.5 * log_ratio(x)[0].mean() + 0.5 * log_ratio(y)[1].mean()
    assert shift_study.gaussian_js(mp, sp, mq, sq) == pytest.approx(mc, abs=3e-3)


def test_gaussian_mmd2_matches_large_sample_estimate():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3000, 3, generator=g, dtype=torch.float64)
    y = 1.5 * torch.randn(3000, 3, generator=g, dtype=torch.float64)
    y[:, 0] += 0.8
    est = float(tllab.mmd2(x, y, bandwidth=1.2))
    ref = shift_study.gaussian_mmd2(0.8, sd_p=1.0, sd_q=1.5, bandwidth=1.2, dim=3)
    assert est == pytest.approx(ref, abs=0.01)
    assert shift_study.gaussian_mmd2(0.0) == 0.0


def test_bayes_log_loss_is_ln2_minus_js(rng):
    p, q = rng.dirichlet(np.ones(6), size=4), rng.dirichlet(np.ones(6), size=4)
    loss = shift_study.bayes_log_loss(p, q).numpy()
    js = np.array([jensenshannon(a, b) ** 2 for a, b in zip(p, q, strict=True)])
    np.testing.assert_allclose(loss, math.log(2) - js, atol=1e-12)


def test_mmd_witness_matches_kernel_means(rng):
    x, y, t = rng.normal(size=(7, 2)), rng.normal(size=(5, 2)) + 1, rng.normal(size=(4, 2))

    def k(a, b):
        return np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * 0.7**2))

    ref = k(t, x).mean(1) - k(t, y).mean(1)
    np.testing.assert_allclose(shift_study.mmd_witness(x, y, t, bandwidth=0.7).numpy(), ref,
                               rtol=1e-10)
    # the biased MMD² is mean f(x) - mean f(y)
    f = shift_study.mmd_witness(x, y, np.vstack([x, y]), bandwidth=0.7).numpy()
    biased = float(tllab.mmd2(x, y, bandwidth=0.7, estimator="biased"))
    assert f[:7].mean() - f[7:].mean() == pytest.approx(biased, rel=1e-9)


def test_mmd_estimator_study_properties():
    out = shift_study.mmd_estimator_study(30, n_reps=200, seed=0)
    assert (out["biased"] > 0).all()
    assert 0.3 < (out["unbiased"] < 0).mean() < 0.8
    assert abs(out["unbiased"].mean()) < 3 * out["unbiased"].std() / math.sqrt(200)


def test_mmd_bandwidth_curve_vanishes_at_both_ends():
    xs, xt = tllab.data.gaussian_shift_pair(100, mean=1.0, seed=0)
    c = shift_study.mmd_bandwidth_curve(xs, xt, [1e-3, 1.0, 1e3])
    assert float(c[1]) > 100 * abs(float(c[0])) and float(c[1]) > 100 * abs(float(c[2]))


def test_power_curve_and_js_study_shapes():
    out = shift_study.mmd_power_curve([8, 64], delta=1.5, n_reps=6, n_permutations=19, seed=0)
    assert out["power"].shape == (2,) and out["power"][1] == 1.0
    js = shift_study.js_estimation_study([30, 60], dims=(1, 3), methods=["histogram", "kde"],
                                   n_reps=2)
    assert js["estimates"]["kde"].shape == (2, 2, 2)
    assert js["truth"] == pytest.approx(shift_study.gaussian_js(0, 1, 1, 1))


def test_shift_explorer_state_default_is_detected_and_null_is_not():
    s = shift_study.shift_explorer_state(**shift_view.SHIFT_EXPLORER_DEFAULTS)
    assert s.p_value <= 0.05 and len(s.null) == 200 and s.xs.shape == (150, 2)
    s0 = shift_study.shift_explorer_state()
    assert s0.p_value > 0.05


# --------------------------------------------------------------------------- plotting helpers
def test_precompute_grid_returns_states_in_order():
    calls = []

    def fn(v, *, offset):
        calls.append(v)
        return v + offset

    assert viz.precompute_grid(fn, [3, 1, 2], offset=10) == [13, 11, 12]
    assert calls == [3, 1, 2]
    states = viz.precompute_grid(shift_study.shift_explorer_state, [0.0, 1.0], n=20,
                                   n_permutations=9)
    assert [s.params["mean"] for s in states] == [0.0, 1.0]
    with pytest.raises(ValueError):
        viz.precompute_grid(fn, [])
    with pytest.raises(TypeError):
        viz.precompute_grid(3, [1])


def test_grid_jshtml_one_frame_per_state():
    frames = []

    def draw(state, fig):
        frames.append(state)
        fig.clear()
        fig.add_subplot().plot([0, 1], [0, state])

    html = viz.grid_jshtml([0.0, 1.0, 2.0], draw, dpi=20)
    assert html.count("data:image/png;base64") == 3
    assert set(frames) == {0.0, 1.0, 2.0}
    with pytest.raises(ValueError):
        viz.grid_animation([], draw)


def test_figure_to_png():
    import matplotlib.pyplot as plt

    png = viz.figure_to_png(plt.figure(figsize=(1, 1)), dpi=20)
    assert png[:4] == b"\x89PNG"
    with pytest.raises(TypeError):
        viz.figure_to_png("figure")


def test_shift_explorer_jshtml_small():
    html = shift_view.shift_explorer_jshtml("noise", [0.0, 0.5], dpi=20, n=20, n_permutations=9)
    assert html.count("data:image/png;base64") == 2
    with pytest.raises(ValueError):
        shift_view.shift_explorer_jshtml("colour")


# --------------------------------------------------------------------------- widgets
def test_widgets_build_without_error():
    widgets = pytest.importorskip("ipywidgets")
    ui = shift_view.shift_explorer(n=30, n_permutations=9)
    assert isinstance(ui, widgets.VBox)
    image = ui.children[1]
    first = bytes(image.value)
    assert first[:4] == b"\x89PNG"
    sliders = [w for box in ui.children[0].children for w in box.children]
    mean = next(w for w in sliders if w.description == "target mean")
    mean.value = 1.5  # a slider move redraws the picture
    assert bytes(image.value) != first


def test_parameter_explorer_rejects_bad_controls():
    pytest.importorskip("ipywidgets")
    with pytest.raises(TypeError):
        viz.parameter_explorer(lambda a: a, lambda s, f: None, {"a": 3})
    with pytest.raises(TypeError):
        viz.parameter_explorer(lambda a: a, lambda s, f: None, {})


def test_kde_bandwidth_study_scott_and_nearest_neighbour_against_scipy():
    from scipy.spatial import cKDTree

    out = shift_study.kde_bandwidth_study([1.0, 2.0], n=60, dim=5, delta=0.7, n_reps=2, seed=4)
    g = torch.Generator().manual_seed(4)
    scott, nn = [], []
    for _ in range(2):
        x = torch.randn(60, 5, generator=g, dtype=torch.float64).numpy()
        y = torch.randn(60, 5, generator=g, dtype=torch.float64).numpy()
        y[:, 0] += 0.7
        pooled = np.vstack([x, y])
        scott.append(pooled.std(0, ddof=1).mean() * 120 ** (-1 / 9))
        nn.append(cKDTree(pooled).query(pooled, k=2)[0][:, 1].mean())
        ref = tllab.js_divergence_samples(x, y, "kde", bandwidth=2.0 * scott[-1])
        assert out["estimates"][1, len(scott) - 1] == pytest.approx(float(ref), rel=1e-9)
    assert out["scott"] == pytest.approx(np.mean(scott), rel=1e-12)
    assert out["nn_distance"] == pytest.approx(np.mean(nn), rel=1e-12)
    assert out["truth"] == pytest.approx(shift_study.gaussian_js(0.0, 1.0, 0.7, 1.0))
    with pytest.raises(ValueError, match="factors"):
        shift_study.kde_bandwidth_study([0.0])


@pytest.mark.slow
def test_bandwidth_selection_size_median_and_split_are_valid():
    out = shift_study.bandwidth_selection_size(20, n_reps=150, n_permutations=39, seed=1)
    se = (0.05 * 0.95 / 150) ** 0.5
    assert set(out["rate"]) == {"median", "selected", "split"}
    assert out["rate"]["median"] <= 0.05 + 3 * se
    assert out["rate"]["split"] <= 0.05 + 3 * se
    with pytest.raises(ValueError, match="alpha"):
        shift_study.bandwidth_selection_size(alpha=1.0)
