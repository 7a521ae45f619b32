"""tllab.classifier: domain classifiers as density-ratio estimators, against known log ratios.

For x ~ N(mu1, S) and y ~ N(mu2, S) (equal covariance) the log density ratio is linear:
    log p_x(z) / p_y(z) = (mu1 - mu2)^T S^-1 z - 1/2 (mu1^T S^-1 mu1 - mu2^T S^-1 mu2),
which a class-balanced logistic regression estimates consistently whatever n and m.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tllab
from tllab import crossfit_log_ratio, fit_domain_classifier

# small models fitted by L-BFGS: many tiny ops, faster and steadier on one thread
pytestmark = pytest.mark.usefixtures("single_thread")

S = np.array([[1.0, 0.3], [0.3, 0.5]])
S_INV = np.linalg.inv(S)
CHOL = np.linalg.cholesky(S)
MU1 = np.array([0.5, -0.2])
MU2 = np.array([-0.3, 0.4])
W_TRUE = S_INV @ (MU1 - MU2)
B_TRUE = -0.5 * (MU1 @ S_INV @ MU1 - MU2 @ S_INV @ MU2)


def true_log_ratio(z):
    return np.asarray(z) @ W_TRUE + B_TRUE


def gaussian_pair(seed, n, m):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) @ CHOL.T + MU1
    y = rng.normal(size=(m, 2)) @ CHOL.T + MU2
    return x, y, rng


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crossfit_recovers_linear_log_ratio(seed):
    """Tolerances: the true log ratio has sd ~2.3 over these points.  Fitting 3 parameters
    from ~3 300 training points per fold leaves a coefficient error of a few % (measured
    RMSE 0.07-0.16 over 5 seeds even at m = 600), and weight_decay=1e-3 on standardised
    features shrinks by about 1 %.  RMSE < 0.25 (about 10 % of the spread) and slopes within
    12 % leave room for that yet fail for a wrong sign, a probability instead of a logit, or
    an unbalanced fit (whose intercept would be off by log(n/m) = 0.4)."""
    x, y, _ = gaussian_pair(seed, 3000, 2000)
    lx, ly = crossfit_log_ratio(x, y, n_folds=3, seed=seed)
    assert lx.shape == (3000,) and ly.shape == (2000,)
    z = np.concatenate([x, y])
    est = np.concatenate([lx.numpy(), ly.numpy()])
    truth = true_log_ratio(z)
    assert np.sqrt(np.mean((est - truth) ** 2)) < 0.25
    coef, *_ = np.linalg.lstsq(np.c_[z, np.ones(len(z))], est, rcond=None)
    np.testing.assert_allclose(coef[:2], W_TRUE, rtol=0.12)
    assert abs(coef[2] - B_TRUE) < 0.15


def test_fit_balanced_intercept_with_unequal_sizes():
    """n/m = 8: an unweighted logistic fit would add log 8 = 2.08 to every logit."""
    x, y, rng = gaussian_pair(10, 4000, 500)
    f = fit_domain_classifier(x, y)
    grid = rng.normal(size=(2000, 2)) @ CHOL.T  # points where both laws have mass
    resid = f(grid).numpy() - true_log_ratio(grid)
    # measured over 5 seeds: |mean residual| <= 0.06, RMSE 0.07-0.14
    assert abs(resid.mean()) < 0.25
    assert np.sqrt(np.mean(resid**2)) < 0.3


def test_mlp_recovers_quadratic_log_ratio_where_logistic_cannot():
    """N(0, 1) against N(0, 2^2): log p/q = log 2 - 3 z^2 / 8 is not linear in z."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 1))
    y = rng.normal(size=(600, 1)) * 2.0
    z = np.concatenate([x, y])[:, 0]
    truth = np.log(2.0) - 3.0 * z**2 / 8.0
    inner = np.abs(z) < 3  # where both samples are dense enough to pin the ratio down

    def rmse(model, **kw):
        lx, ly = crossfit_log_ratio(x, y, model=model, seed=1, **kw)
        est = np.concatenate([lx.numpy(), ly.numpy()])
        return np.sqrt(np.mean((est - truth)[inner] ** 2))

    # measured: MLP 0.13-0.15 over 3 seeds, logistic ~0.73 (the best linear fit of a parabola)
    assert rmse("mlp", hidden=16, max_iter=100) < 0.3
    assert rmse("logistic") > 0.5


def test_crossfit_scores_out_of_fold():
    """A flexible MLP without weight decay memorises two samples of one law: scored in-sample
    its balanced error is ~0, while out-of-fold scores can only be at chance (~1/2)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = rng.normal(size=(60, 5))
    kw = dict(model="mlp", weight_decay=0.0, max_iter=300)
    f = fit_domain_classifier(x, y, **kw)
    in_sample = 0.5 * ((f(x).numpy() < 0).mean() + (f(y).numpy() >= 0).mean())
    lx, ly = crossfit_log_ratio(x, y, **kw)
    oof = 0.5 * ((lx.numpy() < 0).mean() + (ly.numpy() >= 0).mean())
    assert in_sample < 0.1
    assert oof > 0.3  # chance is 0.5; sd of the error at 120 points ~0.05


def test_deterministic_for_a_seed():
    x, y, _ = gaussian_pair(5, 200, 150)
    a = crossfit_log_ratio(x, y, seed=4)
    b = crossfit_log_ratio(x, y, seed=4)
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
    torch.testing.assert_close(a[1], b[1], rtol=0, atol=0)
    c = crossfit_log_ratio(x, y, seed=5)  # other folds, other fits
    assert not torch.allclose(a[0], c[0])
    f1 = fit_domain_classifier(x, y, model="mlp", hidden=8, max_iter=20, seed=1)
    f2 = fit_domain_classifier(x, y, model="mlp", hidden=8, max_iter=20, seed=1)
    pts = np.linspace(-2, 2, 10).reshape(5, 2)
    torch.testing.assert_close(f1(pts), f2(pts), rtol=0, atol=0)


def test_fit_does_not_touch_global_rng():
    x, y, _ = gaussian_pair(6, 50, 50)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    fit_domain_classifier(x, y, model="mlp", hidden=4, max_iter=5, seed=9)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_follow_input(dtype, device):
    x, y, _ = gaussian_pair(7, 300, 200)
    xt = torch.tensor(x, dtype=dtype, device=device)
    yt = torch.tensor(y, dtype=dtype, device=device)
    lx, ly = crossfit_log_ratio(xt, yt)
    for t in (lx, ly):
        assert t.dtype == dtype and t.device.type == device.type
    f = fit_domain_classifier(xt, y)  # torch and numpy mixed
    out = f(np.zeros((4, 2)))
    assert out.shape == (4,) and out.device.type == device.type
    # float32 and float64 fits land on the same logits up to optimiser tolerance
    lx64, _ = crossfit_log_ratio(x, y)
    assert float((lx.cpu().double() - lx64).abs().max()) < 1e-2


def test_top_level_reexports():
    assert tllab.crossfit_log_ratio is crossfit_log_ratio
    assert tllab.fit_domain_classifier is fit_domain_classifier
