"""tllab.models: the bias–variance decomposition, L1 learners, Legendre features and bagging,
each against an independent reference (NumPy formulas, closed forms, scikit-learn) on fresh
random inputs, plus the statistical properties they claim and the bad-input tables."""

import warnings

import numpy as np
import pytest
import torch
from numpy.polynomial import legendre

import tllab
from tllab.models import (
    bagged_predictions,
    bias_variance_decomposition,
    bootstrap_indices,
    l1_logistic_regression,
    lasso,
    legendre_features,
    soft_threshold,
)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


# ------------------------------------------------------------------ bias–variance decomposition
def _np_decomposition(p, f, w, noise, unbiased):
    """From the definitions, in float64 NumPy."""
    r = p.shape[0]
    w = w / w.sum()
    mean = p.mean(0)
    var = ((p - mean) ** 2).sum(0) / (r - 1 if unbiased else r)
    bias2 = (mean - f) ** 2 - (var / r if unbiased else 0.0)
    mse = ((p - f) ** 2).mean(0)  # the observed error at each point, computed directly
    return w @ bias2, w @ var, w @ mse + noise


@pytest.mark.parametrize("unbiased", [True, False])
def test_decomposition_matches_numpy_and_adds_up(rng, unbiased):
    for _ in range(5):
        r, m = rng.integers(2, 9), rng.integers(1, 30)
        p = rng.normal(size=(r, m)) * rng.uniform(0.1, 3)
        f = rng.normal(size=m)
        w = rng.exponential(size=m)
        noise = rng.uniform(0, 1)
        bv = bias_variance_decomposition(p, f, noise_var=noise, weights=w, unbiased=unbiased)
        b, v, err = _np_decomposition(p, f, w, noise, unbiased)
        np.testing.assert_allclose([float(bv.bias2), float(bv.variance), float(bv.error)],
                                   [b, v, err], rtol=1e-12, atol=1e-12)
        assert float(bv.noise) == pytest.approx(noise)
        assert float(bv.bias2 + bv.variance + bv.noise) == pytest.approx(err, rel=1e-12)


def test_decomposition_weights_act_like_repeated_points(rng):
    p, f = rng.normal(size=(4, 3)), rng.normal(size=3)
    a = bias_variance_decomposition(p, f, weights=[2.0, 1.0, 1.0])
    b = bias_variance_decomposition(np.c_[p[:, :1], p], np.r_[f[:1], f])
    assert float(a.error) == pytest.approx(float(b.error), rel=1e-12)
    assert float(a.variance) == pytest.approx(float(b.variance), rel=1e-12)


def _ols_sampling(rng, n_rep, n_sets, sigma=0.5):
    """Fixed-design OLS of a straight line to a quadratic: predictions at evaluation points for
    n_rep independent groups of n_sets training sets, and the closed-form bias² and variance."""
    x = np.linspace(-1, 1, 12)
    phi = np.c_[np.ones_like(x), x]
    f = x**2
    xe = np.array([-0.9, -0.2, 0.4, 1.0])
    phie = np.c_[np.ones_like(xe), xe]
    hat = phie @ np.linalg.solve(phi.T @ phi, phi.T)  # predictions = hat @ y
    mean_fit = hat @ f
    bias2_true = np.mean((mean_fit - xe**2) ** 2)
    var_true = np.mean(sigma**2 * (hat**2).sum(1))
    y = f[None, None, :] + sigma * rng.normal(size=(n_rep, n_sets, x.size))
    return y @ hat.T, xe**2, bias2_true, var_true


def test_unbiased_terms_are_unbiased_and_plugin_bias_is_inflated(rng):
    preds, truth, bias2_true, var_true = _ols_sampling(rng, n_rep=4000, n_sets=3)
    est = {True: [], False: []}
    for p in preds:
        for flag in (True, False):
            bv = bias_variance_decomposition(p, truth, unbiased=flag)
            est[flag].append((float(bv.bias2), float(bv.variance)))
    b_u, v_u = np.array(est[True]).T
    b_p, v_p = np.array(est[False]).T
    se = lambda a: a.std(ddof=1) / np.sqrt(a.size)  # noqa: E731
    assert abs(b_u.mean() - bias2_true) < 4 * se(b_u)
    assert abs(v_u.mean() - var_true) < 4 * se(v_u)
    # the plug-in squared bias carries variance / R on top, and the plug-in variance lacks it
    assert abs(b_p.mean() - (bias2_true + var_true / 3)) < 4 * se(b_p)
    assert b_p.mean() - bias2_true > 10 * se(b_p)
    assert abs(v_p.mean() - var_true * 2 / 3) < 4 * se(v_p)


def test_decomposition_converges_to_closed_form_with_many_sets(rng):
    preds, truth, bias2_true, var_true = _ols_sampling(rng, n_rep=1, n_sets=20_000)
    bv = bias_variance_decomposition(preds[0], truth)
    assert float(bv.bias2) == pytest.approx(bias2_true, rel=0.02)
    assert float(bv.variance) == pytest.approx(var_true, rel=0.03)


def test_decomposition_device_dtype(device):
    p = torch.randn(5, 7, device=device, dtype=torch.float32)
    bv = bias_variance_decomposition(p, torch.zeros(7, device=device), noise_var=0.1)
    assert bv.error.device.type == device.type and bv.error.dtype == torch.float32
    assert bv.pointwise_variance.shape == (7,)


@needs_cuda
def test_decomposition_cuda_parity(rng):
    p, f = rng.normal(size=(6, 40)), rng.normal(size=40)
    a = bias_variance_decomposition(p, f, noise_var=0.2)
    b = bias_variance_decomposition(torch.as_tensor(p, device="cuda"), f, noise_var=0.2)
    assert b.error.device.type == "cuda"
    torch.testing.assert_close(b.error.cpu(), a.error)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.ones(5), np.ones(5)), {}, ValueError, "2-D"),
        ((np.ones((1, 5)), np.ones(5)), {}, ValueError, "at least 2"),
        ((np.ones((3, 0)), np.ones(0)), {}, ValueError, "at least one"),
        ((np.ones((3, 5)), np.ones(4)), {}, ValueError, "truth"),
        ((np.full((3, 2), np.nan), np.ones(2)), {}, ValueError, "finite"),
        ((np.ones((3, 2)), [1.0, np.inf]), {}, ValueError, "truth"),
        ((np.ones((3, 2)), np.ones(2)), {"noise_var": -1.0}, ValueError, "noise_var"),
        ((np.ones((3, 2)), np.ones(2)), {"weights": [1.0, -1.0]}, ValueError, "weights"),
        ((np.ones((3, 2)), np.ones(2)), {"weights": [0.0, 0.0]}, ValueError, "weights"),
        ((np.ones((3, 2)), np.ones(2)), {"weights": [1.0]}, ValueError, "weights"),
        ((np.ones((3, 2)), np.ones(2)), {"unbiased": 1}, TypeError, "unbiased"),
        (("abc", np.ones(2)), {}, TypeError, "predictions"),
    ],
)
def test_decomposition_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        bias_variance_decomposition(*args, **kwargs)


# ------------------------------------------------------------------ L1 learners
def test_soft_threshold_formula(rng):
    x = rng.normal(size=50) * 3
    t = rng.uniform(0, 2)
    ref = np.where(np.abs(x) > t, x - np.sign(x) * t, 0.0)
    np.testing.assert_allclose(soft_threshold(x, t).numpy(), ref, rtol=0, atol=1e-15)


def _regression(rng, n=120, d=8):
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
    theta = rng.normal(size=d) * (rng.uniform(size=d) < 0.5)
    y = x @ theta + rng.normal() + 0.5 * rng.normal(size=n)
    return x, y, rng.exponential(size=n)


@pytest.mark.parametrize("alpha", [0.003, 0.05, 0.3])
def test_lasso_matches_sklearn(rng, alpha):
    from sklearn.linear_model import Lasso

    x, y, w = _regression(rng)
    coef = lasso(x, y, w, alpha=alpha).numpy()
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=200_000).fit(x, y, sample_weight=w)
    np.testing.assert_allclose(coef, np.r_[ref.intercept_, ref.coef_], atol=1e-7)
    np.testing.assert_array_equal(coef[1:] == 0, ref.coef_ == 0)


def test_lasso_alpha_zero_is_least_squares_and_alpha_max_zeroes_all(rng):
    x, y, w = _regression(rng, n=60, d=4)
    a = np.c_[np.ones(60), x]
    sw = np.sqrt(w)
    ols = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)[0]
    np.testing.assert_allclose(lasso(x, y, w, alpha=0.0).numpy(), ols, atol=1e-7)
    wn = w / w.sum()
    xc, yc = x - wn @ x, y - wn @ y
    alpha_max = np.abs(wn @ (xc * yc[:, None])).max()
    above = lasso(x, y, w, alpha=alpha_max * 1.001).numpy()
    assert np.all(above[1:] == 0) and above[0] == pytest.approx(wn @ y, abs=1e-8)
    assert np.any(lasso(x, y, w, alpha=alpha_max * 0.99).numpy()[1:] != 0)


@pytest.mark.parametrize("alpha", [0.005, 0.03])
def test_l1_logistic_matches_sklearn(rng, alpha):
    from sklearn.linear_model import LogisticRegression

    x = rng.normal(size=(150, 5))
    logits = 0.4 + x @ np.array([1.5, 0.0, -1.0, 0.0, 0.5])
    y = (rng.uniform(size=150) < 1 / (1 + np.exp(-logits))).astype(float)
    w = rng.exponential(size=150)
    coef = l1_logistic_regression(x, y, w, alpha=alpha).numpy()
    ref = LogisticRegression(l1_ratio=1.0, C=1 / (alpha * w.sum()), solver="saga", tol=1e-13,
                             max_iter=500_000).fit(x, y, sample_weight=w)
    np.testing.assert_allclose(coef, np.r_[ref.intercept_, ref.coef_[0]], atol=2e-6)


def test_l1_learners_keep_dtype_device_and_warm_start(device):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 3, generator=g).to(device)
    y = x[:, 0] + 0.1 * torch.randn(50, generator=g).to(device)
    coef = lasso(x, y, alpha=0.05)
    assert coef.dtype == torch.float32 and coef.device.type == device.type
    again = lasso(x, y, alpha=0.05, coef_init=coef)
    torch.testing.assert_close(again, coef, atol=1e-6, rtol=0)
    yb = (y > 0).float()
    c2 = l1_logistic_regression(x, yb, alpha=0.05)
    assert c2.dtype == torch.float32 and c2.device.type == device.type


@needs_cuda
def test_lasso_cuda_parity(rng):
    x, y, w = _regression(rng)
    a = lasso(x, y, w, alpha=0.05)
    b = lasso(torch.as_tensor(x, device="cuda"), torch.as_tensor(y, device="cuda"), w,
              alpha=0.05)
    assert b.device.type == "cuda"
    torch.testing.assert_close(b.cpu(), a, atol=1e-7, rtol=0)


def test_lasso_warns_when_not_converged(rng):
    x, y, _ = _regression(rng)
    with pytest.warns(RuntimeWarning, match="max_iter"):
        lasso(x, y, alpha=0.01, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lasso(x, y, alpha=0.01)


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "error", "match"),
    [
        (lasso, (np.ones(5), np.ones(5)), {"alpha": 0.1}, ValueError, "2-D"),
        (lasso, (np.ones((5, 2)), np.ones(4)), {"alpha": 0.1}, ValueError, "y"),
        (lasso, (np.ones((5, 2)), np.ones(5)), {"alpha": -0.1}, ValueError, "alpha"),
        (lasso, (np.ones((5, 2)), np.ones(5)), {"alpha": np.nan}, ValueError, "alpha"),
        (lasso, (np.full((5, 2), np.nan), np.ones(5)), {"alpha": 0.1}, ValueError, "finite"),
        (lasso, (np.ones((5, 2)), np.ones(5), -np.ones(5)), {"alpha": 0.1}, ValueError, "w"),
        (lasso, (np.ones((5, 2)), np.ones(5)), {"alpha": 0.1, "tol": 0.0}, ValueError, "tol"),
        (lasso, (np.ones((5, 2)), np.ones(5)), {"alpha": 0.1, "max_iter": 0}, ValueError,
         "max_iter"),
        (lasso, (np.ones((5, 2)), np.ones(5)), {"alpha": 0.1, "coef_init": [0.0]}, ValueError,
         "coef_init"),
        (lasso, ("x", np.ones(5)), {"alpha": 0.1}, TypeError, "x"),
        (l1_logistic_regression, (np.ones((5, 2)), np.full(5, 2.0)), {"alpha": 0.1},
         ValueError, "0 and 1"),
        (soft_threshold, (np.ones(3), -1.0), {}, ValueError, "threshold"),
        (soft_threshold, (None, 1.0), {}, TypeError, "x"),
    ],
)
def test_l1_bad_input(fn, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)


# ------------------------------------------------------------------ Legendre features
def test_legendre_features_match_numpy_and_are_orthonormal(rng):
    x = rng.uniform(-1, 1, size=(9, 2))
    got = legendre_features(x, 5).numpy()
    scale = np.sqrt(2 * np.arange(6) + 1)
    v = [legendre.legvander(x[:, k], 5) * scale for k in range(2)]
    ref = np.column_stack([np.ones(9)] + [v[k][:, p] for p in range(1, 6) for k in range(2)])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    nodes, weights = legendre.leggauss(20)
    phi = legendre_features(nodes[:, None], 8).numpy()
    np.testing.assert_allclose(phi.T @ (phi * weights[:, None] / 2), np.eye(9), atol=1e-12)


def test_legendre_and_monomials_span_the_same_models(rng):
    x = rng.uniform(-1, 1, size=(40, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=40)
    a = tllab.polynomial_predict(tllab.weighted_least_squares(x, y, degree=6), x)
    phi = legendre_features(x, 6)[:, 1:]
    b = tllab.polynomial_predict(tllab.weighted_least_squares(phi, y), phi)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-9)


def test_legendre_bad_input():
    with pytest.raises(ValueError, match="degree"):
        legendre_features(np.zeros((3, 1)), -1)
    with pytest.raises(TypeError, match="degree"):
        legendre_features(np.zeros((3, 1)), 2.5)
    with pytest.raises(ValueError, match="2-D"):
        legendre_features(np.zeros(3), 2)


# ------------------------------------------------------------------ bagging
def test_bootstrap_indices_shape_seed_and_out_of_bag_fraction():
    idx = bootstrap_indices(50, 400, seed=3)
    assert idx.shape == (400, 50) and idx.dtype == torch.long
    assert int(idx.min()) >= 0 and int(idx.max()) < 50
    assert torch.equal(idx, bootstrap_indices(50, 400, seed=3))
    assert not torch.equal(idx, bootstrap_indices(50, 400, seed=4))
    left_out = np.array([50 - len(set(r.tolist())) for r in idx]) / 50
    expected = (1 - 1 / 50) ** 50
    assert abs(left_out.mean() - expected) < 4 * left_out.std() / np.sqrt(400)


def _ols_fit_predict(x_tr, y_tr, w_tr, x_te):
    coef = tllab.weighted_least_squares(x_tr, y_tr, w_tr, degree=2)
    return tllab.polynomial_predict(coef, x_te)


def test_bagged_predictions_equal_fits_on_the_resamples(rng):
    x = rng.uniform(-1, 1, size=(30, 1))
    y = np.cos(2 * x[:, 0]) + 0.2 * rng.normal(size=30)
    xq = np.linspace(-1, 1, 7)[:, None]
    members = bagged_predictions(_ols_fit_predict, x, y, xq, n_models=6, seed=1).numpy()
    for b, i in enumerate(bootstrap_indices(30, 6, seed=1).numpy()):
        coef = np.polynomial.polynomial.polyfit(x[i, 0], y[i], 2)
        np.testing.assert_allclose(members[b], np.polynomial.polynomial.polyval(xq[:, 0], coef),
                                   atol=1e-10)


def test_bagged_predictions_accept_sklearn_estimators(rng):
    from sklearn.linear_model import LinearRegression

    x = rng.normal(size=(40, 2))
    y = x @ [1.0, -1.0] + 0.1 * rng.normal(size=40)
    members = bagged_predictions(LinearRegression(), x, y, x[:5], n_models=3, seed=0)
    for b, i in enumerate(bootstrap_indices(40, 3, seed=0).numpy()):
        ref = LinearRegression().fit(x[i], y[i]).predict(x[:5])
        np.testing.assert_allclose(members[b].numpy(), ref, atol=1e-10)


def test_bagging_the_mean_has_the_closed_form_variance(rng):
    """Bagged sample mean of n points, M members: Var = σ²/n + (n−1)σ²/(n² M)."""
    n, m_models, reps = 10, 2, 2000

    def mean_fit(x_tr, y_tr, w_tr, x_te):
        return y_tr.mean().expand(x_te.shape[0])

    x = np.zeros((n, 1))
    vals = np.array([float(bagged_predictions(mean_fit, x, rng.normal(size=n), x[:1],
                                              n_models=m_models, seed=s).mean())
                     for s in range(reps)])
    expected = 1 / n + (n - 1) / (n**2 * m_models)
    se = expected * np.sqrt(2 / (reps - 1))
    assert abs(vals.var(ddof=1) - expected) < 4 * se
    assert abs(vals.var(ddof=1) - 1 / n) > 4 * se  # and not the variance of the plain mean


def test_bagged_predictions_device(device):
    x = torch.linspace(-1, 1, 20, device=device, dtype=torch.float64)[:, None]
    out = bagged_predictions(_ols_fit_predict, x, x[:, 0] ** 2, x[:4], n_models=2)
    assert out.device.type == device.type and out.shape == (2, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_models": 0}, ValueError, "n_models"),
        ({"seed": -1}, ValueError, "seed"),
        ({"x_test": np.zeros((2, 3))}, ValueError, "x_test"),
        ({"y": np.zeros(4)}, ValueError, "y"),
        ({"y": np.full(5, np.nan)}, ValueError, "finite"),
        ({"w": -np.ones(5)}, ValueError, "w"),
        ({"estimator": 3}, TypeError, "estimator"),
        ({"y": None}, TypeError, "y"),
    ],
)
def test_bagging_bad_input(kwargs, error, match):
    args = {"estimator": _ols_fit_predict, "x": np.zeros((5, 1)), "y": np.zeros(5),
            "x_test": np.zeros((2, 1))}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        bagged_predictions(args.pop("estimator"), args.pop("x"), args.pop("y"),
                           args.pop("x_test"), **args)
    with pytest.raises(ValueError, match="n"):
        bootstrap_indices(0, 3)
