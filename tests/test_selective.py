"""Tests of tllab.selective's feature gates and source selection against float64 references."""

import math
import warnings

import numpy as np
import pytest
import torch
from reference import ref_gram, ref_median
from scipy.special import expit, softmax

import tllab
from tllab.selective import (
    FeatureGate,
    GatedClassifier,
    SelectiveTransferLoss,
    feature_discrepancy,
    feature_gates,
    fit_feature_gates,
    select_source_samples,
    select_top,
    selective_transfer_loss,
    source_scores,
)

HAS_CUDA = torch.cuda.is_available()


# --------------------------------------------------------------------------- gates
@pytest.mark.parametrize("temperature", [0.3, 1.0, 4.0])
def test_sigmoid_gates_match_scipy_and_lie_in_the_unit_interval(rng, temperature):
    a = rng.normal(scale=3.0, size=(5, 7))
    g = feature_gates(a, "sigmoid", temperature).numpy()
    np.testing.assert_allclose(g, expit(a / temperature), rtol=1e-12)
    assert g.min() > 0.0 and g.max() < 1.0


@pytest.mark.parametrize("temperature", [0.3, 1.0, 4.0])
def test_softmax_gates_match_scipy_and_sum_to_d(rng, temperature):
    a = rng.normal(scale=3.0, size=(4, 9))
    g = feature_gates(a, "softmax", temperature).numpy()
    np.testing.assert_allclose(g, 9 * softmax(a / temperature, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(g.sum(-1), 9.0, rtol=1e-12)
    assert g.min() > 0.0


def test_equal_logits_give_unit_softmax_gates_and_half_sigmoid_gates():
    assert torch.equal(feature_gates(torch.zeros(6), "softmax"), torch.ones(6))
    assert torch.equal(feature_gates(torch.zeros(6), "sigmoid"), torch.full((6,), 0.5))


@pytest.mark.parametrize("kind", ["sigmoid", "softmax"])
def test_gate_gradients_match_finite_differences(rng, kind):
    a = torch.tensor(rng.normal(size=5), requires_grad=True)
    x = torch.tensor(rng.normal(size=(3, 5)))
    assert torch.autograd.gradcheck(lambda t: (feature_gates(t, kind, 0.7) * x).sum(0), (a,))


def test_feature_gate_module_multiplies_features_by_its_gates(rng):
    gate = FeatureGate(4, kind="sigmoid", init=1.5).double()
    x = torch.tensor(rng.normal(size=(6, 4)))
    np.testing.assert_allclose(gate(x).detach().numpy(), x.numpy() * expit(1.5), rtol=1e-12)
    soft = FeatureGate(4, kind="softmax", temperature=0.5).double()
    with torch.no_grad():
        soft.logits.copy_(torch.tensor([0.0, 1.0, 2.0, 3.0]))
    ref = 4 * softmax(np.array([0.0, 1.0, 2.0, 3.0]) / 0.5)
    np.testing.assert_allclose(soft(x).detach().numpy(), x.numpy() * ref, rtol=1e-12)
    with pytest.raises(ValueError, match="4 features"):
        gate(torch.ones(2, 3, dtype=torch.float64))


@pytest.mark.parametrize("hidden", [0, 8])
def test_gated_classifier_shapes_and_prediction(hidden):
    model = GatedClassifier(5, 3, hidden=hidden, kind="softmax")
    x = torch.randn(7, 5)
    logits = model(x)
    assert logits.shape == (7, 3)
    assert torch.equal(model.predict(x), logits.argmax(1))


# --------------------------------------------------------------------------- discrepancy
def _ref_mmd2_biased(a, b, sigma):
    kxx, kyy, kxy = ref_gram(a, a, sigma), ref_gram(b, b, sigma), ref_gram(a, b, sigma)
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


def test_feature_discrepancy_is_the_per_feature_biased_mmd2_with_median_bandwidth(rng):
    xs = rng.normal(size=(60, 3))
    xt = rng.normal(size=(45, 3)) * np.array([1.0, 2.0, 1.0]) + np.array([0.0, 0.0, 1.0])
    d = feature_discrepancy(xs, xt).numpy()
    ref = [_ref_mmd2_biased(xs[:, [j]], xt[:, [j]], ref_median(xs[:, [j]], xt[:, [j]]))
           for j in range(3)]
    np.testing.assert_allclose(d, ref, rtol=1e-9, atol=1e-12)
    fixed = feature_discrepancy(xs, xt, bandwidth=0.7).numpy()
    ref = [_ref_mmd2_biased(xs[:, [j]], xt[:, [j]], 0.7) for j in range(3)]
    np.testing.assert_allclose(fixed, ref, rtol=1e-9, atol=1e-12)


def test_feature_discrepancy_ranks_moved_features_first():
    data = tllab.data.make_feature_shift(400, n_features=8, n_shifted=3, seed=1)
    d = feature_discrepancy(data.xs, data.xt)
    assert float(d[~data.transferable].min()) > 10 * float(d[data.transferable].max())
    assert float(d.min()) >= 0.0


def test_feature_discrepancy_does_not_depend_on_units(rng):
    xs, xt = rng.normal(size=(80, 2)), rng.normal(size=(70, 2)) + 0.5
    scale = np.array([100.0, 0.01])
    np.testing.assert_allclose(feature_discrepancy(xs * scale, xt * scale).numpy(),
                               feature_discrepancy(xs, xt).numpy(), rtol=1e-9)


# --------------------------------------------------------------------------- the loss
def _ref_loss(logits, y, gates, disc, penalty, w=None):
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    ce = -logp[np.arange(len(y)), y]
    w = np.ones(len(y)) if w is None else w
    return (w * ce).sum() / w.sum() + penalty * (gates * disc).sum()


def test_selective_transfer_loss_matches_numpy(rng):
    logits = rng.normal(size=(30, 4))
    y = rng.integers(0, 4, size=30)
    gates, disc, w = rng.uniform(size=6), rng.uniform(size=6), rng.exponential(size=30)
    t = [torch.tensor(v) for v in (logits, y, gates, disc, w)]
    got = selective_transfer_loss(*t[:4], penalty=0.8)
    assert float(got) == pytest.approx(_ref_loss(logits, y, gates, disc, 0.8), rel=1e-12)
    got_w = selective_transfer_loss(*t[:4], penalty=0.8, sample_weight=t[4])
    assert float(got_w) == pytest.approx(_ref_loss(logits, y, gates, disc, 0.8, w), rel=1e-12)
    module = SelectiveTransferLoss(disc, penalty=0.8)
    assert float(module(t[0], t[1], t[2], t[4])) == pytest.approx(float(got_w), rel=1e-12)


def test_an_importance_weight_of_two_counts_like_a_duplicated_example(rng):
    # Weights multiply the loss: weight 2 on an example == that example twice, weight 1 each.
    logits, y = torch.tensor(rng.normal(size=(10, 3))), torch.tensor(rng.integers(0, 3, 10))
    g, d = torch.ones(2), torch.zeros(2)
    w = torch.ones(10, dtype=torch.float64)
    w[4] = 2.0
    weighted = selective_transfer_loss(logits, y, g, d, sample_weight=w)
    idx = torch.tensor(list(range(10)) + [4])
    duplicated = selective_transfer_loss(logits[idx], y[idx], g, d)
    assert float(weighted) == pytest.approx(float(duplicated), rel=1e-12)


# --------------------------------------------------------------------------- training
@pytest.mark.parametrize("kind", ["sigmoid", "softmax"])
def test_fit_recovers_the_transferable_features_with_a_margin(kind, single_thread):
    data = tllab.data.make_feature_shift(400, n_features=8, n_shifted=3, seed=2)
    fit = fit_feature_gates(data.xs, data.ys, data.xt, kind=kind, seed=0)
    g = fit.gates
    kept, dropped = g[data.transferable], g[~data.transferable]
    assert float(kept.min()) > float(dropped.max()) + 0.3 * float(kept.mean())
    acc = float((fit.model.predict(data.xt) == data.yt).double().mean())
    bayes = float(torch.distributions.Normal(0.0, 1.0).cdf(torch.tensor(0.5 * math.sqrt(5))))
    assert acc > bayes - 0.06


def test_without_the_penalty_the_source_loss_prefers_the_spurious_features(single_thread):
    data = tllab.data.make_feature_shift(400, n_features=8, n_shifted=3, seed=2)
    fit = fit_feature_gates(data.xs, data.ys, data.xt, kind="softmax", penalty=0.0)
    assert float(fit.gates[~data.transferable].mean()) > float(fit.gates[data.transferable].mean())
    acc = float((fit.model.predict(data.xt) == data.yt).double().mean())
    assert acc < 0.7  # the source-optimal classifier fails on the target


def test_fit_is_deterministic_and_unit_weights_change_nothing(single_thread):
    data = tllab.data.make_feature_shift(200, n_features=4, n_shifted=1, seed=3)
    a = fit_feature_gates(data.xs, data.ys, data.xt, n_steps=50, seed=5)
    b = fit_feature_gates(data.xs, data.ys, data.xt, n_steps=50, seed=5,
                          sample_weight=np.ones(200), discrepancy=a.discrepancy)
    assert torch.equal(a.gates, b.gates)
    assert len(a.losses) == 50 and a.losses[-1] < a.losses[0]


def test_fit_keeps_float32_and_accepts_numpy():
    data = tllab.data.make_feature_shift(100, n_features=3, n_shifted=1, seed=0,
                                         dtype=torch.float32)
    fit = fit_feature_gates(data.xs.numpy(), data.ys.numpy(), data.xt.numpy(), n_steps=5)
    assert fit.gates.dtype == torch.float32 and fit.gates.shape == (3,)


def test_fit_follows_the_input_device(device):
    data = tllab.data.make_feature_shift(100, n_features=3, n_shifted=1, seed=0, device=device)
    fit = fit_feature_gates(data.xs, data.ys, data.xt, n_steps=5)
    assert fit.gates.device.type == device.type
    assert fit.model.predict(data.xt).device.type == device.type


@pytest.mark.skipif(not HAS_CUDA, reason="needs a GPU: CUDA parity of the gate training")
def test_cuda_parity_of_gates_and_selection():
    data = tllab.data.make_feature_shift(300, n_features=5, n_shifted=2, seed=0)
    cpu = fit_feature_gates(data.xs, data.ys, data.xt, n_steps=100)
    gpu = fit_feature_gates(data.xs.cuda(), data.ys.cuda(), data.xt.cuda(), n_steps=100)
    np.testing.assert_allclose(gpu.gates.cpu().numpy(), cpu.gates.numpy(), atol=1e-6)
    mixed = tllab.data.make_mixed_source(200, seed=0)
    sc = source_scores(mixed.xs, mixed.xt, score="similarity")
    sg = source_scores(mixed.xs.cuda(), mixed.xt.cuda(), score="similarity")
    np.testing.assert_allclose(sg.cpu().numpy(), sc.numpy(), rtol=1e-9)


# --------------------------------------------------------------------------- selection
@pytest.mark.parametrize("fraction", [0.01, 0.25, 0.5, 0.73, 1.0])
def test_select_top_matches_a_numpy_stable_argsort(rng, fraction):
    scores = rng.integers(0, 6, size=41).astype(float)  # many ties
    sel = select_top(scores, fraction)
    k = max(1, int(np.floor(fraction * 41 + 0.5)))
    ref = np.argsort(-scores, kind="stable")[:k]
    np.testing.assert_array_equal(sel.indices.numpy(), ref)
    assert sel.mask.sum() == k and set(np.flatnonzero(sel.mask.numpy())) == set(ref)
    np.testing.assert_array_equal(sel.scores.numpy(), scores)


def test_similarity_score_is_the_mean_kernel_to_the_target(rng):
    xs, xt = rng.normal(size=(30, 2)), rng.normal(size=(25, 2)) + 1.0
    got = source_scores(xs, xt, score="similarity").numpy()
    np.testing.assert_allclose(got, ref_gram(xs, xt, ref_median(xs, xt)).mean(1), rtol=1e-9)
    got = source_scores(xs, xt, score="similarity", bandwidth=0.4).numpy()
    np.testing.assert_allclose(got, ref_gram(xs, xt, 0.4).mean(1), rtol=1e-9)


@pytest.mark.parametrize("estimator,kwargs", [("ulsif", {"reg": 0.5}), ("classifier", {}),
                                              ("kliep", {"n_basis": 20})])
def test_ratio_score_delegates_to_the_reweighting_estimators(rng, estimator, kwargs):
    xs, xt = rng.normal(size=(40, 2)), rng.normal(size=(30, 2)) + 0.5
    got = source_scores(xs, xt, estimator=estimator, **kwargs)
    fn = {"ulsif": tllab.ulsif_weights, "classifier": tllab.classifier_weights,
          "kliep": tllab.kliep_weights}[estimator]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert torch.equal(got, fn(xs, xt, **kwargs))
    sel = select_source_samples(xs, xt, estimator=estimator, fraction=0.3, **kwargs)
    assert torch.equal(sel.indices, select_top(got, 0.3).indices)


def test_kmm_score_is_the_kmm_weights(rng):
    xs, xt = rng.normal(size=(40, 2)), rng.normal(size=(30, 2)) + 0.5
    assert torch.equal(source_scores(xs, xt, estimator="kmm", B=5.0),
                       tllab.kmm_weights(xs, xt, B=5.0))


@pytest.mark.parametrize("score", ["ratio", "similarity"])
def test_selection_keeps_the_relevant_source_points(score):
    data = tllab.data.make_mixed_source(300, irrelevant_fraction=0.5, seed=4)
    sel = select_source_samples(data.xs, data.xt, score=score, fraction=0.4)
    assert float(data.relevant[sel.mask].double().mean()) > 0.9


def test_selection_follows_the_input_device(device):
    data = tllab.data.make_mixed_source(60, seed=0, device=device)
    sel = select_source_samples(data.xs, data.xt, score="similarity")
    assert sel.indices.device.type == device.type and sel.mask.device.type == device.type


# --------------------------------------------------------------------------- bad inputs
XS = np.random.default_rng(1).normal(size=(20, 3))
XT = np.random.default_rng(2).normal(size=(15, 3))
YS = np.arange(20) % 2
NAN = XS.copy()
NAN[2, 1] = np.nan
T = torch.zeros(4, 2)
Y4 = torch.tensor([0, 1, 0, 1])

BAD = [
    (feature_gates, ([0.0, 1.0],), {"kind": "relu"}, ValueError, "kind"),
    (feature_gates, ([0.0, 1.0],), {"kind": 3}, TypeError, "kind"),
    (feature_gates, ([0.0, 1.0],), {"temperature": 0.0}, ValueError, "temperature"),
    (feature_gates, ([0.0, np.nan],), {}, ValueError, "logits"),
    (feature_gates, (np.zeros(0),), {}, ValueError, "logits"),
    (feature_gates, (1.0,), {}, ValueError, "logits"),
    (FeatureGate, (0,), {}, ValueError, "n_features"),
    (FeatureGate, (3,), {"kind": "tanh"}, ValueError, "kind"),
    (FeatureGate, (3,), {"init": np.inf}, ValueError, "init"),
    (GatedClassifier, (3, 1), {}, ValueError, "n_classes"),
    (GatedClassifier, (3,), {"hidden": -1}, ValueError, "hidden"),
    (feature_discrepancy, (XS, XT[:, :2]), {}, ValueError, "xs and xt"),
    (feature_discrepancy, (NAN, XT), {}, ValueError, "xs"),
    (feature_discrepancy, (XS[:1], XT), {}, ValueError, "xs"),
    (feature_discrepancy, (XS, XT), {"bandwidth": -1.0}, ValueError, "bandwidth"),
    (feature_discrepancy, (XS, XT), {"bandwidth": "mean"}, ValueError, "bandwidth"),
    (feature_discrepancy, (XS, XT), {"median_samples": 1}, ValueError, "median_samples"),
    (selective_transfer_loss, (T, Y4, torch.ones(3), torch.ones(2)), {}, ValueError, "gates"),
    (selective_transfer_loss, (T, Y4[:3], torch.ones(2), torch.ones(2)), {}, ValueError,
     "logits"),
    (selective_transfer_loss, (T, Y4, torch.ones(2), torch.ones(2)), {"penalty": -1.0},
     ValueError, "penalty"),
    (selective_transfer_loss, (T, Y4, torch.ones(2), torch.ones(2)),
     {"sample_weight": torch.ones(3)}, ValueError, "sample_weight"),
    (selective_transfer_loss, (T, Y4, torch.ones(2), torch.tensor([0.1, -1.0])), {},
     ValueError, "discrepancy"),
    (selective_transfer_loss, (T, Y4, torch.ones(2), torch.tensor([0.1, np.inf])), {},
     ValueError, "discrepancy"),
    (SelectiveTransferLoss, ([0.1, -0.2],), {}, ValueError, "discrepancy"),
    (SelectiveTransferLoss, ([0.1, np.nan],), {}, ValueError, "discrepancy"),
    (fit_feature_gates, (XS, YS[:5], XT), {}, ValueError, "ys"),
    (fit_feature_gates, (XS, YS + 0.5, XT), {}, ValueError, "ys"),
    (fit_feature_gates, (XS, YS.astype(bool), XT), {}, TypeError, "ys"),
    (fit_feature_gates, (XS, YS - 1, XT), {}, ValueError, "ys"),
    (fit_feature_gates, (XS, YS, XT[:, :2]), {}, ValueError, "xs and xt"),
    (fit_feature_gates, (NAN, YS, XT), {}, ValueError, "xs"),
    (fit_feature_gates, (XS, YS, XT), {"kind": "max"}, ValueError, "kind"),
    (fit_feature_gates, (XS, YS, XT), {"penalty": -0.1}, ValueError, "penalty"),
    (fit_feature_gates, (XS, YS, XT), {"weight_decay": -1.0}, ValueError, "weight_decay"),
    (fit_feature_gates, (XS, YS, XT), {"n_steps": 0}, ValueError, "n_steps"),
    (fit_feature_gates, (XS, YS, XT), {"lr": 0.0}, ValueError, "lr"),
    (fit_feature_gates, (XS, YS, XT), {"seed": -1}, ValueError, "seed"),
    (fit_feature_gates, (XS, YS, XT), {"discrepancy": [1.0, 2.0]}, ValueError, "discrepancy"),
    (fit_feature_gates, (XS, YS, XT), {"discrepancy": [1.0, -2.0, 0.0]}, ValueError,
     "discrepancy"),
    (fit_feature_gates, (XS, YS, XT), {"sample_weight": -np.ones(20)}, ValueError,
     "sample_weight"),
    (fit_feature_gates, (XS, YS, XT), {"temperature": -1.0}, ValueError, "temperature"),
    (select_top, ([],), {"fraction": 0.5}, ValueError, "scores"),
    (select_top, ([1.0, np.nan],), {"fraction": 0.5}, ValueError, "scores"),
    (select_top, ([1.0, 2.0],), {"fraction": 0.0}, ValueError, "fraction"),
    (select_top, ([1.0, 2.0],), {"fraction": 1.5}, ValueError, "fraction"),
    (select_top, (np.ones((2, 2)),), {"fraction": 0.5}, ValueError, "scores"),
    (select_source_samples, (XS, XT[:, :2]), {}, ValueError, "xs and xt"),
    (select_source_samples, (XS, XT), {"score": "distance"}, ValueError, "score"),
    (select_source_samples, (XS, XT), {"estimator": "svm"}, ValueError, "estimator"),
    (select_source_samples, (XS, XT), {"fraction": 0.0}, ValueError, "fraction"),
    (select_source_samples, (XS, XT[:0]), {}, ValueError, "xt"),
    (select_source_samples, (XS, XT), {"score": "similarity", "bandwidth": 0.0}, ValueError,
     "bandwidth"),
    (select_source_samples, (XS, XT), {"score": "similarity", "reg": 1.0}, TypeError,
     "similarity"),
    (select_source_samples, (XS, XT), {"estimator": "classifier", "bandwidth": 1.0},
     ValueError, "bandwidth"),
    (source_scores, ("abc", XT), {}, TypeError, "xs"),
]


@pytest.mark.parametrize("fn,args,kwargs,err,match", BAD,
                         ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs(fn, args, kwargs, err, match):
    with pytest.raises(err, match=match):
        fn(*args, **kwargs)
