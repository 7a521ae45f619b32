"""Tests of the foundations chapter's code: logistic regression shrunk towards a prior,
one-vs-rest classifiers, and the chapter's studies and views, against independent references
(SciPy's optimiser on the same objective, scikit-learn, NumPy)."""

import importlib.util

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from scipy.special import expit

import tllab
from tllab.models import one_vs_rest_logistic, one_vs_rest_predict
from tllab.studies import foundations as study
from tllab.studies.foundations import bound
from tllab.viz import foundations as view

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")
needs_widgets = pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is None,
                                   reason="ipywidgets not installed")


def _scipy_logistic(x, t, w, reg, prior):
    """float64 reference: min_θ Σ w_i ℓ(θ0 + x_iᵀθ, t_i)/Σw + reg/2 ||θ_1: − prior_1:||²."""
    a = np.c_[np.ones(len(x)), x]
    wn = w / w.sum()

    def f(theta):
        z = a @ theta
        diff = theta[1:] - prior[1:]
        return wn @ (np.logaddexp(0.0, z) - t * z) + 0.5 * reg * diff @ diff

    def g(theta):
        grad = a.T @ (wn * (expit(a @ theta) - t))
        grad[1:] += reg * (theta[1:] - prior[1:])
        return grad

    res = minimize(f, np.zeros(a.shape[1]), jac=g, method="BFGS",
                   options={"gtol": 1e-12, "maxiter": 10_000})
    return res.x


# --------------------------------------------------------------------------- core: prior
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_with_prior_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 3))
    t = (rng.uniform(size=120) < expit(x @ np.array([1.0, -0.5, 0.3]))).astype(float)
    w = rng.exponential(size=120)
    prior = rng.normal(size=4)
    reg = float(rng.uniform(0.05, 0.5))
    coef = tllab.weighted_logistic_regression(x, t, w, reg=reg, prior=prior).numpy()
    ref = _scipy_logistic(x, t, w, reg, prior)
    np.testing.assert_allclose(coef, ref, rtol=1e-5, atol=1e-6)


def test_zero_prior_is_the_ordinary_fit(rng):
    x = rng.normal(size=(80, 2))
    t = (rng.uniform(size=80) < 0.5).astype(float)
    a = tllab.weighted_logistic_regression(x, t, reg=0.1)
    b = tllab.weighted_logistic_regression(x, t, reg=0.1, prior=np.zeros(3))
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-10)


def test_strong_prior_pins_the_slopes_not_the_intercept(rng):
    x = rng.normal(size=(200, 2))
    t = (x[:, 0] > 0).astype(float)
    prior = np.array([5.0, -1.0, 2.0])
    coef = tllab.weighted_logistic_regression(x, t, reg=1e6, prior=prior).numpy()
    np.testing.assert_allclose(coef[1:], prior[1:], atol=1e-4)
    # the intercept stays free: with the slopes fixed it solves mean(sigmoid) = mean(t)
    ref = minimize(lambda b: np.mean(np.logaddexp(0, b + x @ prior[1:])
                                     - t * (b + x @ prior[1:])), [0.0]).x[0]
    assert coef[0] == pytest.approx(ref, abs=1e-3)


# --------------------------------------------------------------------------- core: OvR
def test_one_vs_rest_rows_match_sklearn(rng):
    from sklearn.linear_model import LogisticRegression

    x = rng.normal(size=(150, 3))
    y = rng.integers(0, 4, size=150)
    w = rng.exponential(size=150)
    reg = 0.05
    coef = one_vs_rest_logistic(x, y, w, reg=reg).numpy()
    assert coef.shape == (4, 4)
    for k in range(4):
        ref = LogisticRegression(C=1.0 / (reg * w.sum()), tol=1e-12, max_iter=10_000)
        ref.fit(x, (y == k).astype(float), sample_weight=w)
        np.testing.assert_allclose(coef[k], np.r_[ref.intercept_, ref.coef_[0]],
                                   rtol=1e-4, atol=1e-5)


def test_one_vs_rest_with_prior_matches_scipy(rng):
    x = rng.normal(size=(90, 2))
    y = rng.integers(0, 3, size=90)
    prior = rng.normal(size=(3, 3))
    coef = one_vs_rest_logistic(x, y, reg=0.2, prior=prior).numpy()
    for k in range(3):
        ref = _scipy_logistic(x, (y == k).astype(float), np.ones(90), 0.2, prior[k])
        np.testing.assert_allclose(coef[k], ref, rtol=1e-5, atol=1e-6)


def test_one_vs_rest_absent_class_and_predict(rng):
    x = rng.normal(size=(60, 2))
    y = rng.integers(0, 2, size=60)  # class 2 never occurs
    coef = one_vs_rest_logistic(x, y, n_classes=3, reg=0.1)
    assert coef.shape == (3, 3)
    xq = rng.normal(size=(25, 2))
    scores = coef[:, 0].numpy() + xq @ coef[:, 1:].numpy().T
    np.testing.assert_array_equal(one_vs_rest_predict(coef, xq).numpy(), scores.argmax(1))
    assert not bool((one_vs_rest_predict(coef, x) == 2).any())  # never predicted


def test_one_vs_rest_keeps_device_and_dtype(device):
    x = torch.randn(40, 2, device=device, dtype=torch.float32)
    y = torch.randint(0, 3, (40,), device=device)
    coef = one_vs_rest_logistic(x, y, reg=0.1)
    assert coef.device.type == device.type and coef.dtype == torch.float32
    assert one_vs_rest_predict(coef, x).device.type == device.type


@needs_cuda
def test_one_vs_rest_cuda_matches_cpu(rng):
    x = rng.normal(size=(200, 5))
    y = rng.integers(0, 4, size=200)
    prior = rng.normal(size=(4, 6))
    cpu = one_vs_rest_logistic(x, y, reg=0.1, prior=prior)
    gpu = one_vs_rest_logistic(torch.as_tensor(x, device="cuda"),
                               torch.as_tensor(y, device="cuda"), reg=0.1,
                               prior=torch.as_tensor(prior, device="cuda"))
    assert gpu.device.type == "cuda"
    np.testing.assert_allclose(gpu.cpu().numpy(), cpu.numpy(), rtol=1e-6, atol=1e-8)
    lc = tllab.weighted_logistic_regression(torch.as_tensor(x, device="cuda"),
                                            torch.as_tensor((y == 1) * 1.0, device="cuda"),
                                            prior=torch.as_tensor(prior[1], device="cuda"))
    assert lc.device.type == "cuda"


# --------------------------------------------------------------------------- studies
def test_standardize_domain_matches_numpy_and_undoes_gain_and_offset(rng):
    x = rng.normal(size=(50, 4)) * rng.uniform(0.5, 3, size=4)
    z = study.standardize_domain(x, eps=0.01).numpy()
    np.testing.assert_allclose(z, (x - x.mean(0)) / (x.std(0, ddof=1) + 0.01), rtol=1e-12)
    gain, offset = rng.uniform(0.2, 5.0, size=4), rng.normal(size=4)
    np.testing.assert_allclose(study.standardize_domain(gain * x + offset, eps=0.0).numpy(),
                               study.standardize_domain(x, eps=0.0).numpy(), atol=1e-10)


def test_class_relations_match_scipy_and_ignore_rotations(rng):
    x = rng.normal(size=(100, 5))
    y = np.r_[np.arange(4), rng.integers(0, 4, size=96)]
    rel = study.class_relations(x, y, n_classes=4).numpy()
    means = np.stack([x[y == k].mean(0) for k in range(4)])
    np.testing.assert_allclose(rel, cdist(means, means), atol=1e-12)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))  # a random orthogonal map
    np.testing.assert_allclose(study.class_relations(x @ q, y, n_classes=4).numpy(), rel,
                               atol=1e-10)


def test_stratified_budget_draws_per_class(rng):
    y = rng.integers(0, 5, size=300)
    idx = study.stratified_budget(y, 3, seed=4).numpy()
    assert len(set(idx.tolist())) == len(idx) == 15
    np.testing.assert_array_equal(np.bincount(y[idx], minlength=5), np.full(5, 3))
    np.testing.assert_array_equal(study.stratified_budget(y, 3, seed=4).numpy(), idx)
    assert not np.array_equal(study.stratified_budget(y, 3, seed=5).numpy(), idx)
    small = study.stratified_budget([0, 0, 1], 5)  # capped at the class size
    assert sorted(small.tolist()) == [0, 1, 2]


def test_fit_classifier_is_one_vs_rest_with_reg_tau_over_n(single_thread):
    xs, ys = tllab.data.load_digits_domain("source")
    coef = study.fit_classifier(xs[:200], ys[:200], tau=2.0)
    ref = one_vs_rest_logistic(xs[:200], ys[:200], n_classes=10, reg=2.0 / 200)
    np.testing.assert_allclose(coef.numpy(), ref.numpy(), atol=1e-12)


def test_learning_curve_claims(single_thread):
    same = study.learning_curve(0.0, budgets=[1, 40], seeds=[0, 1], progress=False)
    assert same.target_only.shape == (2, 2) and same.source_only.shape == (2,)
    assert (same.transfer[:, 0] > same.target_only[:, 0] + 0.1).all()  # scarce labels
    assert abs(same.transfer[:, 1] - same.target_only[:, 1]).max() < 0.03  # prior washed out
    renamed = study.learning_curve(0.0, budgets=[1], seeds=[0], concept_shift=True,
                                   progress=False)
    assert renamed.source_only[0] < 0.05  # every class has another name
    assert renamed.transfer[0, 0] < renamed.target_only[0, 0] - 0.3  # negative transfer


def test_family_study_shapes_and_directions(single_thread):
    rows = study.family_study([0, 1])
    assert [r.family for r in rows] == ["instance", "feature", "model"]
    inst, feat, model = rows
    assert (inst.with_transfer < inst.without).all()  # a risk: lower is better
    assert (feat.with_transfer > feat.without).all()
    assert (model.with_transfer > model.without).all()


def test_relation_study_entities_fade_relations_stay(single_thread):
    out = study.relation_study([0.0, 90.0], seeds=[0, 1])
    assert out.entities.shape == out.relations.shape == (2, 2)
    assert (out.entities[:, 0] > 0.95).all() and (np.abs(out.entities[:, 1]) < 0.2).all()
    assert (out.relations > 0.9).all()


def test_bound_terms(single_thread):
    rows = bound.bound_study([("none", 0.0), ("drift", 1.5)], seeds=[0], progress=False)
    none, drift = rows
    for r in rows:
        np.testing.assert_allclose(r.bound, r.source_error + 0.5 * r.pad + r.lam)
        assert (r.lam >= 0).all() and (np.abs(r.pad) <= 2).all()
    assert abs(none.pad[0]) < 0.3 and drift.pad[0] > 1.9
    assert abs(none.target_error[0] - none.source_error[0]) < 0.05
    assert drift.target_error[0] > 0.5 and drift.bound[0] >= drift.target_error[0]


def test_bound_sees_concept_shift_only_through_lambda(single_thread):
    r = bound.bound_study([("none", 0.0)], seeds=[0], concept_shift=True, progress=False)[0]
    assert abs(r.pad[0]) < 0.3  # the inputs are the same law
    assert r.lam[0] > 0.5 and r.target_error[0] > 0.9


def test_rank_agreement_is_spearman_per_seed(rng):
    terms = rng.uniform(size=(6, 4, 3))  # condition, term, seed
    rows = [bound.BoundRow("c", float(i), *t) for i, t in enumerate(terms)]
    got = bound.rank_agreement(rows)

    def ranks(v):
        return np.argsort(np.argsort(v))

    for j in range(3):
        truth = ranks(terms[:, 3, j])
        for key, col in (("pad", terms[:, 1, j]), ("lam", terms[:, 2, j]),
                         ("bound", terms[:, 0, j] + 0.5 * terms[:, 1, j] + terms[:, 2, j])):
            ref = np.corrcoef(ranks(col), truth)[0, 1]
            assert got[key][j] == pytest.approx(ref, abs=1e-12)


def test_split_target_partitions():
    pool, test = study.split_target(3)
    both = np.sort(np.r_[pool.numpy(), test.numpy()])
    np.testing.assert_array_equal(both, np.arange(898))
    assert not torch.equal(study.split_target(4)[0], pool)


# --------------------------------------------------------------------------- views
def test_tables_have_one_row_per_result(single_thread):
    rows = study.family_study([0])
    text = str(view.family_table(rows))
    assert text.count("\n") == 2 + len(rows) - 1 and "±" in text
    z = np.array([0.1, 0.3])
    table = str(view.bound_table([bound.BoundRow("none", 0.0, z, z, z, z)]))
    assert "no shift" in table and "0.200 ± 0.100" in table


def test_explorer_default_state_is_instructive(single_thread):
    s = study.explorer_state()
    j = list(study.BUDGETS).index(s.budget)
    gain = s.curve.transfer[:, j] - s.curve.target_only[:, j]
    assert gain.mean() > 0.03 and (gain > 0).all()  # the default shows transfer helping
    far = study.explorer_state(45.0)
    assert (far.curve.transfer[:, j] < far.curve.target_only[:, j]).all()  # ... and hurting


@needs_widgets
def test_explorer_builds_and_reacts(single_thread):
    import ipywidgets

    ui = view.foundations_explorer()
    controls = [w for box in ui.children[0].children for w in box.children]
    values = [w.value for w in controls]
    assert values == [15.0, 2, False]
    image = ui.children[1]
    assert isinstance(image, ipywidgets.Image) and bytes(image.value[:4]) == b"\x89PNG"
    before = image.value
    controls[1].value = 10  # the budget: only the highlight moves
    assert image.value != before


def test_fallback_has_one_frame_per_rotation(single_thread):
    html = view.explorer_jshtml([0.0, 30.0, 90.0], seeds=[0], dpi=30)
    assert html.count("data:image/png;base64") == 3


# --------------------------------------------------------------------------- bad inputs
X3 = [[0.0], [1.0], [2.0]]


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: tllab.weighted_logistic_regression(X3, [0, 1, 1], prior=[0.0]), ValueError,
         "prior"),
        (lambda: tllab.weighted_logistic_regression(X3, [0, 1, 1], prior="a"), TypeError,
         "prior"),
        (lambda: tllab.weighted_logistic_regression(X3, [0, 1, 1], prior=[0.0, np.nan]),
         ValueError, "prior"),
        (lambda: one_vs_rest_logistic(X3, [0, 1.5, 1]), ValueError, "y"),
        (lambda: one_vs_rest_logistic(X3, [0, -1, 1]), ValueError, "y"),
        (lambda: one_vs_rest_logistic(X3, [0, 1, 2], n_classes=2), ValueError, "n_classes"),
        (lambda: one_vs_rest_logistic(X3, [0, 1, 1], n_classes=1), ValueError, "n_classes"),
        (lambda: one_vs_rest_logistic(X3, [0, 1]), ValueError, "y"),
        (lambda: one_vs_rest_logistic(X3, [0, 1, 1], reg=0.0), ValueError, "reg"),
        (lambda: one_vs_rest_logistic(X3, [0, 1, 1], w=[1, -1, 1]), ValueError, "w"),
        (lambda: one_vs_rest_logistic([[0.0], [np.inf], [1.0]], [0, 1, 1]), ValueError, "x"),
        (lambda: one_vs_rest_logistic(X3, [0, 1, 1], prior=np.zeros((2, 3))), ValueError,
         "prior"),
        (lambda: one_vs_rest_predict([[0.0, 1.0]], X3), ValueError, "coef"),
        (lambda: one_vs_rest_predict([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0]], X3), ValueError,
         "coef"),
        (lambda: one_vs_rest_predict(None, X3), TypeError, "coef"),
        (lambda: study.fit_classifier(X3, [0, 1, 1], tau=-1.0), ValueError, "tau"),
        (lambda: study.standardize_domain([[1.0, 2.0], [1.0, 3.0]], eps=0.0), ValueError,
         "constant"),
        (lambda: study.standardize_domain(X3, eps=-0.1), ValueError, "eps"),
        (lambda: study.standardize_domain([1.0, 2.0]), ValueError, "x"),
        (lambda: study.class_relations(X3, [0, 0, 0], n_classes=2), ValueError, "y"),
        (lambda: study.stratified_budget([0, 1], 0), ValueError, "per_class"),
        (lambda: study.learning_curve(budgets=[]), ValueError, "budgets"),
        (lambda: study.learning_curve(budgets=[0]), ValueError, "budgets"),
        (lambda: study.learning_curve(seeds=[]), ValueError, "seeds"),
        (lambda: study.learning_curve(seeds="01"), TypeError, "seeds"),
        (lambda: study.learning_curve(concept_shift=1), TypeError, "concept_shift"),
        (lambda: study.learning_curve(rotation=float("nan")), ValueError, "rotation"),
        (lambda: study.learning_curve(progress="yes"), TypeError, "progress"),
        (lambda: study.family_study([0], budget=0), ValueError, "budget"),
        (lambda: study.relation_study([]), ValueError, "rotations"),
        (lambda: study.explorer_state(budget=4), ValueError, "budget"),
        (lambda: study.explorer_state(concept_shift="no"), TypeError, "concept_shift"),
        (lambda: bound.bound_study([]), ValueError, "conditions"),
        (lambda: bound.bound_study([("rain", 1.0)]), ValueError, "cause"),
        (lambda: bound.bound_study([("drift", -1.0)]), ValueError, "severity"),
        (lambda: bound.bound_study([("drift",)]), TypeError, "condition"),
        (lambda: bound.bound_study([("drift", 1.0)], n_train=898), ValueError, "n_train"),
        (lambda: bound.rank_agreement([]), ValueError, "rows"),
        (lambda: study.split_target(0, n=100), ValueError, "n"),
        (lambda: view.family_table("rows"), TypeError, "rows"),
        (lambda: view.bound_table([1, 2]), TypeError, "rows"),
        (lambda: view.plot_learning_curves([]), TypeError, "curves"),
        (lambda: view.plot_relations(None), TypeError, "result"),
        (lambda: view.plot_bound([]), TypeError, "rows"),
        (lambda: view.plot_explorer_state(None), TypeError, "state"),
        (lambda: view.explorer_jshtml([]), ValueError, "rotations"),
    ],
)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@needs_widgets
@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"rotation": 12.0}, ValueError, "rotation"),
    ({"budget": 3}, ValueError, "budget"),
    ({"concept_shift": None}, TypeError, "concept_shift"),
])
def test_explorer_bad_inputs(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        view.foundations_explorer(**kwargs)
