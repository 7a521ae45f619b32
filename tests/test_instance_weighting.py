"""Tests of tllab.instance_explorer against independent references (NumPy, SciPy, sklearn)."""

import importlib.util

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.stats import norm

import tllab
from tllab.studies import instance_weighting as iw_study
from tllab.viz import instance_weighting as iw_view


# --------------------------------------------------------------------------- learners
@pytest.mark.parametrize("degree", [0, 1, 3])
def test_weighted_least_squares_matches_numpy_lstsq(rng, degree):
    x = rng.normal(size=(80, 1))
    y = np.sin(2 * x[:, 0]) + 0.1 * rng.normal(size=80)
    w = rng.exponential(size=80)
    coef = tllab.weighted_least_squares(x, y, w, degree=degree)
    design = np.vander(x[:, 0], degree + 1, increasing=True)
    sw = np.sqrt(w)
    ref = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)[0]
    np.testing.assert_allclose(coef.numpy(), ref, rtol=1e-9, atol=1e-10)


def test_weighted_least_squares_ridge_and_multifeature(rng):
    x = rng.normal(size=(60, 2))
    y = x @ np.array([1.0, -2.0]) + 0.5 + 0.1 * rng.normal(size=60)
    w = rng.uniform(0.1, 3.0, size=60)
    reg = 0.7
    coef = tllab.weighted_least_squares(x, y, w, degree=2, reg=reg).numpy()
    phi = np.c_[np.ones(60), x, x**2]
    pen = reg * np.diag([0.0, 1, 1, 1, 1])
    ref = np.linalg.solve(phi.T @ (w[:, None] * phi) + pen, phi.T @ (w * y))
    np.testing.assert_allclose(coef, ref, rtol=1e-8, atol=1e-10)
    pred = tllab.polynomial_predict(coef, x).numpy()
    np.testing.assert_allclose(pred, phi @ ref, rtol=1e-8, atol=1e-10)


def test_weighted_least_squares_uniform_weights_is_ols(rng):
    x = rng.normal(size=(50, 1))
    y = rng.normal(size=50)
    a = tllab.weighted_least_squares(x, y)
    b = tllab.weighted_least_squares(x, y, np.full(50, 3.0))  # scale invariance
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)


def test_weighted_least_squares_keeps_device_and_dtype(device):
    x = torch.randn(30, 1, device=device, dtype=torch.float32)
    y = torch.randn(30, device=device, dtype=torch.float32)
    coef = tllab.weighted_least_squares(x, y, torch.ones(30, device=device))
    assert coef.device.type == device.type and coef.dtype == torch.float32


def test_weighted_logistic_regression_matches_sklearn(rng):
    from sklearn.linear_model import LogisticRegression

    x = rng.normal(size=(200, 2))
    y = (rng.uniform(size=200) < 1 / (1 + np.exp(-(x[:, 0] - x[:, 1] + 0.3)))).astype(float)
    w = rng.exponential(size=200)
    reg = 0.05
    coef = tllab.weighted_logistic_regression(x, y, w, reg=reg).numpy()
    ref = LogisticRegression(C=1.0 / (reg * w.sum()), tol=1e-12, max_iter=10_000)
    ref.fit(x, y, sample_weight=w)
    np.testing.assert_allclose(coef, np.r_[ref.intercept_, ref.coef_[0]], rtol=1e-4, atol=1e-5)
    pred = tllab.logistic_predict(coef, x).numpy()
    np.testing.assert_array_equal(pred, ref.predict(x))


# --------------------------------------------------------------------------- data
def test_gaussian_density_ratio_matches_scipy(rng):
    x = rng.normal(0.3, 1.0, size=(100, 1))
    w = tllab.data.gaussian_density_ratio(x, 0.5, 0.5, 0.0, 0.3).numpy()
    ref = norm.pdf(x[:, 0], 0.0, 0.3) / norm.pdf(x[:, 0], 0.5, 0.5)
    np.testing.assert_allclose(w, ref, rtol=1e-10)


def test_gaussian_density_ratio_diagonal_2d(rng):
    x = rng.normal(size=(50, 2))
    ms, ss, mt, st = np.array([0.0, 1.0]), np.array([1.0, 0.5]), np.array([0.5, 0.0]), 0.7
    w = tllab.data.gaussian_density_ratio(x, ms, ss, mt, st).numpy()
    ref = (norm.pdf(x, mt, st).prod(1)) / (norm.pdf(x, ms, ss).prod(1))
    np.testing.assert_allclose(w, ref, rtol=1e-10)


def test_density_ratio_has_unit_source_mean():
    # E_s[w] = 1 for any pair of laws: integrate w p_s numerically.
    val, _ = integrate.quad(lambda u: float(tllab.data.gaussian_density_ratio([[u]], 0.5, 0.5,
                                                                         0.0, 0.3))
                            * norm.pdf(u, 0.5, 0.5), -6, 6)
    assert val == pytest.approx(1.0, abs=1e-8)


def test_regression_generator_moments():
    data = tllab.data.make_covariate_shift_regression(20_000, 20_000, seed=3)
    assert data.xs.shape == (20_000, 1) and data.ys.shape == (20_000,)
    assert data.xs.dtype == torch.float64
    xs, xt = data.xs[:, 0].numpy(), data.xt[:, 0].numpy()
    assert xs.mean() == pytest.approx(0.5, abs=0.02)
    assert xs.std() == pytest.approx(0.5, abs=0.02)
    assert xt.mean() == pytest.approx(0.0, abs=0.01)
    assert xt.std() == pytest.approx(0.3, abs=0.01)
    resid = data.ys.numpy() - (-xs + xs**3)
    assert resid.mean() == pytest.approx(0.0, abs=0.01)
    assert resid.std() == pytest.approx(0.3, abs=0.01)


def test_regression_generator_is_seeded_and_device_free():
    a = tllab.data.make_covariate_shift_regression(50, 40, seed=7)
    b = tllab.data.make_covariate_shift_regression(50, 40, seed=7)
    c = tllab.data.make_covariate_shift_regression(50, 40, seed=8)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(a.xs, c.xs)


def test_classification_generator_is_covariate_shift():
    data = tllab.data.make_covariate_shift_classification(20_000, 20_000, seed=1)
    assert data.xs.mean(0).numpy() == pytest.approx([0.0, 0.0], abs=0.03)
    assert data.xt.mean(0).numpy() == pytest.approx([1.2, 0.8], abs=0.03)
    assert data.xt.std(0).numpy() == pytest.approx([0.6, 0.6], abs=0.02)
    # labels follow the same conditional on both domains: mean label = mean P(y=1|x)
    for x, y in ((data.xs, data.ys), (data.xt, data.yt)):
        assert float(y.mean()) == pytest.approx(float(tllab.data.class_probability(x).mean()),
                                                abs=0.015)


def test_gaussian_target_risk_matches_quadrature():
    coef = [0.1, -0.6]
    val, _ = integrate.quad(lambda u: ((0.1 - 0.6 * u) - (-u + u**3)) ** 2
                            * norm.pdf(u, 0.2, 0.4), -8, 8)
    assert iw_study.gaussian_target_risk(coef, 0.2, 0.4, noise=0.3) == pytest.approx(
        val + 0.09, rel=1e-10)


def test_target_risk_agrees_with_monte_carlo():
    data = tllab.data.make_covariate_shift_regression(300, 200_000, seed=0)
    coef = tllab.weighted_least_squares(data.xs, data.ys)
    mc = float(((tllab.polynomial_predict(coef, data.xt) - data.yt) ** 2).mean())
    assert iw_study.gaussian_target_risk(coef, 0.0, 0.3) == pytest.approx(mc, rel=0.02)


# --------------------------------------------------------------------------- experiments
def test_weighting_fixes_the_misspecified_fit():
    rows = iw_study.compare_weighting_methods(tllab.data.make_covariate_shift_regression(300, 300),
                                           ["uniform", "true", "ulsif"])
    risk = {r.method: r.target_risk for r in rows}
    assert risk["true"] < 0.5 * risk["uniform"]
    assert risk["ulsif"] < 0.5 * risk["uniform"]
    assert rows[1].ratio_error == pytest.approx(0.0, abs=1e-12)
    assert rows[0].ess == pytest.approx(300.0)
    table = iw_view.comparison_table(rows)
    assert [r[0] for r in table.rows] == ["uniform (no weighting)", "true ratio p_t/p_s", "uLSIF"]
    assert str(table).count("\n") == 4 and "<table>" in table._repr_html_()


def test_flattening_endpoints():
    out = iw_study.flattening_curve([0.0, 1.0], methods=["true"], seeds=[0])
    data = tllab.data.make_covariate_shift_regression(200, 200, seed=0)
    plain = tllab.weighted_least_squares(data.xs, data.ys)
    assert out["risk"]["true"][0, 0] == pytest.approx(iw_study.gaussian_target_risk(plain, 0, 0.3))
    assert out["ess"]["true"][0, 0] == pytest.approx(200.0)
    assert out["ess"]["true"][0, 1] < 200.0


def test_cv_and_iwcv_share_folds_and_differ_only_by_weights():
    data = tllab.data.make_covariate_shift_regression(100, 100, seed=2)
    w = tllab.data.gaussian_density_ratio(data.xs, 0.5, 0.5, 0.0, 0.3)
    out = iw_study.cv_flattening_selection(data, w, [0.0], n_folds=4, seed=1)
    # at gamma = 0 both train the plain line; compare with a hand-made K-fold
    folds = (torch.randperm(100, generator=torch.Generator().manual_seed(1)) % 4)
    cv, iw = [], []
    for k in range(4):
        tr, te = folds != k, folds == k
        coef = tllab.weighted_least_squares(data.xs[tr], data.ys[tr])
        err = (tllab.polynomial_predict(coef, data.xs[te]) - data.ys[te]) ** 2
        cv.append(float(err.mean()))
        iw.append(float((w[te] * err).mean()))
    assert out["cv"][0] == pytest.approx(np.mean(cv), rel=1e-10)
    assert out["iwcv"][0] == pytest.approx(np.mean(iw), rel=1e-10)


def test_classification_weighting_helps():
    data = tllab.data.make_covariate_shift_classification(300, 300)
    rows = iw_study.classification_experiment(data, ["uniform", "true"], n_test=2000)
    assert rows[1].target_accuracy > rows[0].target_accuracy + 0.1


# --------------------------------------------------------------------------- explorer
def test_explorer_default_state_is_instructive():
    s = iw_study.explorer_state()
    assert s.coef_plain[1] > 0 > s.coef_weighted[1]  # plain slope has the wrong sign
    assert s.risk_weighted < 0.5 * s.risk_plain


@pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is None,
                    reason="ipywidgets not installed")
def test_explorer_builds_and_reacts():
    import ipywidgets

    ui = iw_view.instance_weighting_explorer()
    assert isinstance(ui, ipywidgets.VBox)
    sliders = [w for box in ui.children[0].children for w in box.children
               if isinstance(w, ipywidgets.FloatSlider)]
    assert [round(s.value, 3) for s in sliders] == [0.0, 0.3, 1.0]
    image = ui.children[1]
    assert isinstance(image, ipywidgets.Image) and image.value[:8] == b"\x89PNG\r\n\x1a\n"
    before = image.value
    sliders[0].value = 0.5  # the observer redraws the picture
    assert image.value != before


def test_fallback_animation_has_one_frame_per_grid_value():
    grid = [-0.3, 0.0, 0.6]
    anim = iw_view.explorer_animation(grid, dpi=30)
    assert len(list(anim.new_frame_seq())) == len(grid)
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == len(grid)
    default = iw_view.explorer_jshtml(dpi=30)
    assert default.count("data:image/png;base64") == 11


# --------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: tllab.data.make_covariate_shift_regression(0), ValueError, "n_source"),
        (lambda: tllab.data.make_covariate_shift_regression(10, sigma_t=0.0), ValueError,
         "sigma_t"),
        (lambda: tllab.data.make_covariate_shift_regression(10, dtype=torch.int64), TypeError,
         "dtype"),
        (lambda: tllab.weighted_least_squares([[1.0], [2.0]], [1.0]), ValueError, "y"),
        (lambda: tllab.weighted_least_squares([[1.0], [2.0]], [1.0, 2.0], [1.0, -1.0]),
         ValueError, "w"),
        (lambda: tllab.weighted_least_squares([[1.0]], [1.0], degree=2), ValueError, "degree"),
        (lambda: tllab.weighted_least_squares("x", [1.0]), TypeError, "x"),
        (lambda: tllab.data.gaussian_density_ratio([[0.0]], 0, -1.0, 0, 1), ValueError, "std_s"),
        (lambda: tllab.data.gaussian_density_ratio([[0.0, 1.0]], [0, 0, 0], 1, 0, 1), ValueError,
         "mean_s"),
        (lambda: tllab.weighted_logistic_regression([[0.0], [1.0]], [0.0, 2.0]), ValueError,
         "y"),
        (lambda: iw_study.estimate_weights([[0.0]], [[0.0]], "magic"), ValueError, "method"),
        (lambda: iw_study.estimate_weights([[0.0]], [[0.0]], "true"), TypeError, "true_params"),
        (lambda: iw_study.gaussian_target_risk([0.0], 0.0, 0.0), ValueError, "sigma_t"),
        (lambda: iw_study.explorer_state(gamma=-1.0), ValueError, "gamma"),
        (lambda: iw_study.flattening_curve([]), ValueError, "gammas"),
        (lambda: iw_study.compare_weighting_methods("data"), TypeError, "data"),
    ],
)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()



# --------------------------------------------------------------------------- studies over seeds
def test_ratio_error_against_numpy(rng):
    w, w_true = rng.exponential(size=50), rng.exponential(size=50)
    a, b = w / w.mean(), w_true / w_true.mean()
    ref = np.mean((a - b) ** 2) / np.mean(b**2)
    assert iw_study.ratio_error(w, w_true) == pytest.approx(ref, rel=1e-12)
    assert iw_study.ratio_error(3.0 * w, w_true) == pytest.approx(ref, rel=1e-12)  # scale-free
    with pytest.raises(ValueError, match="w_true"):
        iw_study.ratio_error(w, w_true[:10])
    with pytest.raises(ValueError, match="non-negative"):
        iw_study.ratio_error(-w, w_true)


def test_flattening_bias_variance_matches_a_direct_decomposition():
    """bias² and variance against a Monte Carlo over target points, written independently."""
    params = dict(tllab.data.SHIMODAIRA, mu_t=-0.2, sigma_t=0.5)
    gammas, seeds = [0.0, 0.5, 1.0], range(30)
    out = iw_study.flattening_bias_variance(gammas, seeds=seeds, params=params)
    # exact target expectations: probabilists' Gauss-Hermite nodes, exact for degree <= 19
    nodes, weights = np.polynomial.hermite_e.hermegauss(10)
    x = params["mu_t"] + params["sigma_t"] * nodes
    px = weights / weights.sum()
    truth = -x + x**3
    for a, g in enumerate(gammas):
        preds = []
        for s in seeds:
            d = tllab.data.make_covariate_shift_regression(200, 200, seed=s, **params)
            xs = d.xs.numpy()[:, 0]
            w = (norm.pdf(xs, params["mu_t"], params["sigma_t"])
                 / norm.pdf(xs, params["mu_s"], params["sigma_s"])) ** g
            design = np.c_[np.ones_like(xs), xs]
            coef = np.linalg.solve(design.T @ (w[:, None] * design), design.T @ (w * d.ys.numpy()))
            preds.append(coef[0] + coef[1] * x)
        preds = np.array(preds)
        bias2 = np.sum(px * (preds.mean(0) - truth) ** 2)
        var = np.sum(px * preds.var(0))
        assert out["bias2"][a] == pytest.approx(bias2, rel=1e-8)
        assert out["variance"][a] == pytest.approx(var, rel=1e-8)
    np.testing.assert_allclose(out["risk"], out["noise"] + out["bias2"] + out["variance"],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="seeds"):
        iw_study.flattening_bias_variance([1.0], seeds=[0])


def test_over_seeds_studies_repeat_the_single_runs():
    data = tllab.data.make_covariate_shift_regression(100, 100, seed=3)
    single = {r.method: r for r in iw_study.compare_weighting_methods(data, ["uniform", "true"])}
    many = iw_study.compare_over_seeds([3], ["uniform", "true"], n_source=100, n_target=100)
    for m in ("uniform", "true"):
        assert many[m]["target_risk"][0] == pytest.approx(single[m].target_risk, rel=1e-12)
    cls = tllab.data.make_covariate_shift_classification(100, 100, seed=4)
    one = iw_study.classification_experiment(cls, ["uniform"])[0]
    rep = iw_study.classification_over_seeds([4], ["uniform"], n_source=100, n_target=100)
    assert rep["uniform"]["target_accuracy"][0] == pytest.approx(one.target_accuracy)


def test_cv_selection_study_reports_fixed_baselines():
    out = iw_study.cv_selection_study([0.0, 0.5, 1.0], seeds=[0, 1])
    curve = iw_study.flattening_curve([0.0, 1.0], methods=["true"], seeds=[0, 1])
    np.testing.assert_allclose(out["fixed"][0.0], curve["risk"]["true"][:, 0], rtol=1e-10)
    np.testing.assert_allclose(out["fixed"][1.0], curve["risk"]["true"][:, 1], rtol=1e-10)
