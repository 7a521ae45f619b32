"""The generalisation chapter's studies and views, against closed forms (the sample mean and its
bagged version, whose bias and variance are known), SciPy integrals, NumPy and scikit-learn
fits, and the limits a penalty must reach; plus bad input and the figures."""

import numpy as np
import pytest
import torch
from numpy.polynomial import legendre
from scipy import integrate
from scipy.stats import beta as beta_law

import tllab
from tllab.studies import generalization as study
from tllab.studies.generalization import digits as digit_study
from tllab.viz import generalization as view

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")
NOISE2 = study.NOISE**2


def _law_moment(law, g):
    a, b = tllab.data.INTERVAL_SHIFT[law]
    return integrate.quad(lambda u: g(2 * u - 1) * beta_law.pdf(u, a, b), 0, 1, limit=200)[0]


def _f(x):
    return 0.5 * x + 0.8 * np.sin(6 * x) * np.exp(-4 * (x + 0.3) ** 2)


@pytest.fixture(scope="module")
def mean_model_truth():
    """Bias² and variance of the sample mean of n = 20 source labels, on both laws."""
    n = 20
    mu = _law_moment("source", _f)
    var_y = _law_moment("source", lambda x: _f(x) ** 2) - mu**2 + NOISE2
    bias2 = {law: _law_moment(law, lambda x: (mu - _f(x)) ** 2) for law in study.LAWS}
    return n, var_y, bias2


# ------------------------------------------------------------------ learners and laws
def test_law_nodes_integrate_the_laws():
    for law in study.LAWS:
        x, w = study.law_nodes(law)
        assert x.shape == (60, 1) and float(w.sum()) == pytest.approx(1.0, abs=1e-13)
        assert float((w * torch.sin(3 * x[:, 0])).sum()) == pytest.approx(
            _law_moment(law, lambda t: np.sin(3 * t)), abs=1e-10)


def test_polynomial_learner_matches_numpy_ridge_and_sklearn_lasso(rng):
    from sklearn.linear_model import Lasso

    x = rng.uniform(-1, 1, size=(40, 1))
    y = _f(x[:, 0]) + 0.3 * rng.normal(size=40)
    xq = np.linspace(-1, 1, 9)[:, None]
    ones = torch.ones(40, dtype=torch.float64)
    got = study.polynomial_learner(4)(torch.as_tensor(x), torch.as_tensor(y), ones,
                                      torch.as_tensor(xq)).numpy()
    ref = np.polynomial.polynomial.polyval(xq[:, 0],
                                           np.polynomial.polynomial.polyfit(x[:, 0], y, 4))
    np.testing.assert_allclose(got, ref, atol=1e-9)
    # ridge in the orthonormal Legendre basis, intercept unpenalised
    phi = legendre.legvander(x[:, 0], 6) * np.sqrt(2 * np.arange(7) + 1)
    phq = legendre.legvander(xq[:, 0], 6) * np.sqrt(2 * np.arange(7) + 1)
    pen = 2.0 * np.diag([0.0] + [1.0] * 6)
    coef = np.linalg.solve(phi.T @ phi + pen, phi.T @ y)
    got = study.polynomial_learner(6, reg=2.0)(torch.as_tensor(x), torch.as_tensor(y), ones,
                                               torch.as_tensor(xq)).numpy()
    np.testing.assert_allclose(got, phq @ coef, atol=1e-9)
    las = Lasso(alpha=0.02, tol=1e-14, max_iter=100_000).fit(phi[:, 1:], y)
    got = study.polynomial_learner(6, alpha=0.02, tol=1e-10)(
        torch.as_tensor(x), torch.as_tensor(y), ones, torch.as_tensor(xq)).numpy()
    np.testing.assert_allclose(got, las.predict(phq[:, 1:]), atol=1e-6)
    w = rng.exponential(size=40)
    got = study.polynomial_learner(0)(torch.as_tensor(x), torch.as_tensor(y),
                                      torch.as_tensor(w), torch.as_tensor(xq)).numpy()
    np.testing.assert_allclose(got, np.full(9, w @ y / w.sum()), rtol=1e-12)


# ------------------------------------------------------------------ curves vs closed forms
def test_complexity_curve_degree_zero_matches_the_sample_mean(mean_model_truth, single_thread):
    n, var_y, bias2 = mean_model_truth
    c = study.complexity_curve([0], n=n, n_sets=400, seeds=[0, 1, 2])
    for law in study.LAWS:
        t = getattr(c, law)
        var = t.variance.mean()
        se = var_y / n * np.sqrt(2 / (3 * 400))
        assert abs(var - var_y / n) < 4 * se
        # (mean of R·S fits − f)² fluctuates by about 2|μ − f|·sd(mean)
        se_bias = np.sqrt(4 * bias2[law] * var_y / n / (3 * 400))
        assert abs(t.bias2.mean() - bias2[law]) < 4 * se_bias
        np.testing.assert_allclose(t.error, t.bias2 + t.variance + NOISE2, rtol=1e-12)
    assert c.noise == pytest.approx(NOISE2)


def test_strong_penalties_reduce_to_the_mean_model(single_thread):
    mean = study.complexity_curve([0], n=30, n_sets=15, seeds=[4])
    for penalty, huge in (("l2", 1e9), ("l1", 10.0)):
        c = study.regularisation_curve([huge], penalty=penalty, degree=6, n=30, n_sets=15,
                                       seeds=[4])
        for law in study.LAWS:
            a, b = getattr(c, law), getattr(mean, law)
            np.testing.assert_allclose(a.error, b.error, rtol=1e-5)
            np.testing.assert_allclose(a.variance, b.variance, rtol=1e-4)


def test_unpenalised_ridge_is_least_squares(single_thread):
    a = study.regularisation_curve([0.0], degree=4, n=30, n_sets=10, seeds=[2])
    b = study.complexity_curve([4], n=30, n_sets=10, seeds=[2])
    np.testing.assert_allclose(a.target.error, b.target.error, rtol=1e-9)


def test_bagged_mean_has_the_closed_form_variance(mean_model_truth, single_thread):
    """Bagging the sample mean of n points: Var = σ²/n + (n−1)σ²/(n²M), bias unchanged."""
    _, var_y, bias2 = mean_model_truth
    n, m, sets = 5, 4, 600
    c = study.bagging_curve([m], n=n, n_sets=sets, seeds=[0, 1, 2],
                            estimator=study.polynomial_learner(0))
    expected = var_y / n + (n - 1) * var_y / (n**2 * m)
    se = expected * np.sqrt(2 / (3 * sets))
    for law in study.LAWS:
        t = getattr(c, law)
        assert abs(t.variance.mean() - expected) < 4 * se
        # and not the plain mean's σ²/n, nor a single bootstrap member's (M = 1)
        assert abs(t.variance.mean() - var_y / n) > 4 * se
        assert abs(t.variance.mean() - (var_y / n + (n - 1) * var_y / n**2)) > 4 * se
        se_bias = np.sqrt(4 * bias2[law] * expected / (3 * sets))
        assert abs(t.bias2.mean() - bias2[law]) < 4 * se_bias


def test_ensemble_variance_of_bootstrap_means(mean_model_truth, single_thread):
    """Two bootstrap means of the same data: σ² = σ_y²(2n−1)/n², ρ = n/(2n−1)."""
    n, var_y, _ = mean_model_truth
    out = study.ensemble_variance(n=n, n_sets=400, seeds=[0, 1, 2],
                                  estimator=study.polynomial_learner(0))
    for law in study.LAWS:
        sigma2, rho = out[law].mean(0)
        assert sigma2 == pytest.approx(var_y * (2 * n - 1) / n**2, rel=0.12)
        assert rho == pytest.approx(n / (2 * n - 1), abs=0.08)


def test_selection_study_exact_risks_and_picks(single_thread):
    out = study.selection_study([0, 1, 3], n=40, n_target=50, seeds=[5, 6],
                                ratios=["true", "ulsif"])
    d = tllab.data.make_interval_shift_regression(40, 50, seed=5)
    x, y = d.xs[:, 0].numpy(), d.ys.numpy()
    coef = np.polynomial.polynomial.polyfit(x, y, 3)
    for law, key in (("source", "source_risk"), ("target", "target_risk")):
        ref = _law_moment(law, lambda t: (np.polynomial.polynomial.polyval(t, coef) - _f(t))
                          ** 2) + NOISE2
        assert out[key][0, 2] == pytest.approx(ref, rel=1e-8)
    fp = study.polynomial_learner(1)
    ones = torch.ones(40, dtype=torch.float64)
    assert out["cv"][0, 1] == pytest.approx(float(tllab.iwcv_score(
        fp, d.xs, d.ys, ones, seed=5, weighted_fit=False)))
    for rule in ("cv", "iwcv_true", "iwcv_ulsif"):
        np.testing.assert_array_equal(out["pick"][rule], out["degrees"][out[rule].argmin(1)])
        assert np.all(out["pick_risk"]["oracle"] <= out["pick_risk"][rule] + 1e-12)


def test_explorer_state_mean_fit_and_terms(single_thread):
    s = study.explorer_state(3, 30, n_sets=12, n_shown=12)
    np.testing.assert_allclose(s.fits.mean(0), s.mean_fit, atol=1e-12)
    np.testing.assert_allclose(s.fits.std(0, ddof=1), s.band, rtol=1e-10)
    assert s.x_one.shape == (30,) and s.source[2] == pytest.approx(NOISE2)
    np.testing.assert_allclose(s.truth, _f(s.grid), rtol=1e-12)


@pytest.mark.parametrize(
    ("fn", "kwargs", "error", "match"),
    [
        (study.law_nodes, {"law": "test"}, ValueError, "law"),
        (study.polynomial_learner, {"degree": -1}, ValueError, "degree"),
        (study.polynomial_learner, {"degree": 2, "reg": -1.0}, ValueError, "reg"),
        (study.complexity_curve, {"degrees": [1], "n": 1}, ValueError, "n"),
        (study.complexity_curve, {"degrees": [1], "n_sets": 1}, ValueError, "n_sets"),
        (study.complexity_curve, {"degrees": [1], "seeds": []}, ValueError, "seeds"),
        (study.complexity_curve, {"degrees": []}, ValueError, "settings"),
        (study.regularisation_curve, {"strengths": [1.0], "penalty": "l3"}, ValueError,
         "penalty"),
        (study.regularisation_curve, {"strengths": [-1.0]}, ValueError, "strengths"),
        (study.bagging_curve, {"n_models": [0]}, ValueError, "n_models"),
        (study.selection_study, {"degrees": []}, ValueError, "degrees"),
        (study.selection_study, {"ratios": ["kmm"]}, ValueError, "ratios"),
        (study.explorer_state, {"degree": 2.5}, TypeError, "degree"),
        (digit_study.digit_remedies, {"remedies": ["mixup"]}, ValueError, "remedies"),
        (digit_study.digit_remedies, {"seeds": [0]}, ValueError, "seeds"),
        (digit_study.digit_remedies, {"n_train": 899}, ValueError, "n_train"),
        (digit_study.digit_remedies, {"angles": []}, ValueError, "angles"),
    ],
)
def test_studies_bad_input(fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(**kwargs)


# ------------------------------------------------------------------ the CNN study
def test_disagreement_of_label_sets():
    labels = torch.tensor([[0, 1, 2, 3], [0, 1, 2, 0], [1, 1, 0, 3]])
    # pairs: (0,1) 1/4, (0,2) 2/4, (1,2) 3/4
    assert digit_study._disagreement(labels) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def small_remedies():
    torch.set_num_threads(1)
    return digit_study.digit_remedies(["baseline", "augmentation"], angles=[0, 40],
                                      seeds=[0, 1], epochs=2, n_train=300, device="cpu")


def test_digit_remedies_shapes_ranges_and_determinism(small_remedies):
    res = small_remedies
    for r in res.remedies:
        assert res.target_accuracy[r].shape == (2, 2) and res.source_accuracy[r].shape == (2,)
        for v in (res.target_accuracy[r], res.ensemble_target[r], res.disagreement_target[r]):
            assert np.all((v >= 0) & (v <= 1))
    again = digit_study.digit_remedies(["baseline"], angles=[0, 40], seeds=[0, 1], epochs=2,
                                       n_train=300, device="cpu")
    np.testing.assert_array_equal(again.target_accuracy["baseline"],
                                  res.target_accuracy["baseline"])


@needs_cuda
def test_digit_remedies_run_on_cuda():
    res = digit_study.digit_remedies(["baseline"], angles=[0], seeds=[0, 1], epochs=2,
                                     n_train=200, device="cuda")
    assert res.source_accuracy["baseline"].shape == (2,)
    assert np.all(res.source_accuracy["baseline"] > 0.3)


# ------------------------------------------------------------------ views
def test_views_draw_and_refuse_wrong_types(small_remedies, single_thread):
    import matplotlib.pyplot as plt

    c = study.complexity_curve([0, 2], n_sets=5, seeds=[0, 1])
    assert len(view.plot_curve(c, xlabel="degree", categorical=True).axes) == 2
    assert len(view.plot_digit_remedies(small_remedies).axes) == 2
    assert len(view.plot_explorer_state(study.explorer_state(2, 20, n_sets=5)).axes) == 3
    plt.close("all")
    for fn, arg in ((view.plot_curve, {"curve": 3, "xlabel": "x"}),
                    (view.plot_explorer_state, {"state": None}),
                    (view.plot_digit_remedies, {"res": {}}),
                    (view.plot_selection, {"sel": {}})):
        with pytest.raises(TypeError):
            fn(**arg)


def test_explorer_widget_and_fallback(single_thread):
    pytest.importorskip("ipywidgets")
    ui = view.bias_variance_explorer(degree=2, n=20)
    assert bytes(ui.children[1].value[:4]) == b"\x89PNG"
    html = view.explorer_jshtml([0, 2], n=20, n_sets=5)
    assert html.count("data:image/png;base64") == 2


def test_progress_bars_do_not_change_results(single_thread, capsys):
    a = study.complexity_curve([0, 1], n=10, n_sets=3, seeds=[0], progress=True)
    b = study.complexity_curve([0, 1], n=10, n_sets=3, seeds=[0])
    np.testing.assert_array_equal(a.target.error, b.target.error)
    c = study.regularisation_curve([0.1], penalty="l1", degree=3, n=10, n_sets=3, seeds=[0],
                                   progress=True)
    assert c.source.error.shape == (1, 1)
