"""Tests of tllab.selective's multi-task and metric-learning pieces, and of tllab.data.selective."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

import tllab
from tllab.selective import (
    ContrastiveLoss,
    EmbeddingNet,
    MultiTaskNet,
    TripletLoss,
    contrastive_loss,
    fit_embedding,
    fit_multitask,
    nearest_neighbour_accuracy,
    sample_triplets,
    triplet_loss,
)

HAS_CUDA = torch.cuda.is_available()


# --------------------------------------------------------------------------- metric losses
def test_triplet_loss_matches_numpy(rng):
    a, p, n = (rng.normal(size=(25, 4)) for _ in range(3))
    ref = np.maximum(0.0, ((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + 0.3).mean()
    ta, tp, tn = (torch.tensor(v) for v in (a, p, n))
    assert float(triplet_loss(ta, tp, tn, margin=0.3)) == pytest.approx(ref, rel=1e-12)
    assert float(TripletLoss(0.3)(ta, tp, tn)) == pytest.approx(ref, rel=1e-12)


def test_contrastive_loss_matches_numpy(rng):
    x1, x2 = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    same = rng.integers(0, 2, size=30)
    d = np.sqrt(((x1 - x2) ** 2).sum(1))
    ref = np.mean(same * 0.5 * d**2 + (1 - same) * 0.5 * np.maximum(0.0, 2.5 - d) ** 2)
    t1, t2 = torch.tensor(x1), torch.tensor(x2)
    assert float(contrastive_loss(t1, t2, same, margin=2.5)) == pytest.approx(ref, rel=1e-12)
    assert float(ContrastiveLoss(2.5)(t1, t2, torch.tensor(same))) == pytest.approx(ref,
                                                                                 rel=1e-12)


def test_contrastive_gradient_is_finite_at_zero_distance():
    x1 = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    contrastive_loss(x1, torch.zeros(2, 3, dtype=torch.float64), [0, 1]).backward()
    assert bool(torch.isfinite(x1.grad).all())


def test_embedding_net_is_on_the_unit_sphere_unless_told_otherwise():
    x = torch.randn(6, 5)
    assert torch.allclose(EmbeddingNet(5, 3)(x).norm(dim=1), torch.ones(6), atol=1e-6)
    assert not torch.allclose(EmbeddingNet(5, 3, normalize=False)(x).norm(dim=1), torch.ones(6))


# --------------------------------------------------------------------------- triplet sampling
def test_sample_triplets_respects_classes_and_prefers_other_domains(rng):
    y = torch.tensor(rng.integers(0, 4, size=60))
    dom = torch.tensor(rng.integers(0, 2, size=60))
    a, p, n = sample_triplets(y, dom, generator=torch.Generator().manual_seed(1))
    assert len(set(a.tolist())) == len(a)  # anchors drawn without replacement
    assert bool((y[a] == y[p]).all()) and bool((y[a] != y[n]).all()) and bool((a != p).all())
    for i, j in zip(a.tolist(), p.tolist(), strict=True):
        has_cross = bool(((y == y[i]) & (dom != dom[i])).any())
        assert (int(dom[j]) != int(dom[i])) == has_cross


def test_sample_triplets_drops_lonely_anchors_and_draws_uniformly():
    y = torch.tensor([0, 1, 1, 1, 1])  # class 0 has no positive
    a, p, _ = sample_triplets(y, generator=torch.Generator().manual_seed(0))
    assert 0 not in a.tolist() and len(a) == 4
    counts = np.zeros(5)
    gen = torch.Generator().manual_seed(0)
    for _ in range(2000):
        a, p, _ = sample_triplets(y, n_anchors=5, generator=gen)
        counts[p[a == 1].numpy()] += 1
    freq = counts[2:] / counts[2:].sum()  # anchor 1's positives: 2, 3, 4 equally likely
    np.testing.assert_allclose(freq, 1 / 3, atol=0.04)


def test_triplet_draws_are_uniform_over_the_allowed_sets(rng):
    # Brute-force reference: for every anchor, the positive is uniform over "same class,
    # other domain" (or "same class, not itself" when the class is in one domain only) and
    # the negative uniform over "other class".
    y = torch.tensor(rng.integers(0, 3, size=14))
    dom = torch.tensor(rng.integers(0, 3, size=14))
    gen = torch.Generator().manual_seed(0)
    pos, neg = np.zeros((14, 14)), np.zeros((14, 14))
    for _ in range(6000):
        a, p, n = sample_triplets(y, dom, generator=gen)
        np.add.at(pos, (a.numpy(), p.numpy()), 1)
        np.add.at(neg, (a.numpy(), n.numpy()), 1)
    yn, dn = y.numpy(), dom.numpy()
    for i in range(14):
        same = (yn == yn[i]) & (np.arange(14) != i)
        allowed = same & (dn != dn[i]) if (same & (dn != dn[i])).any() else same
        if allowed.any():
            np.testing.assert_allclose(pos[i] / pos[i].sum(), allowed / allowed.sum(), atol=0.03)
        else:
            assert pos[i].sum() == 0
        other = yn != yn[i]
        np.testing.assert_allclose(neg[i] / neg[i].sum(), other / other.sum(), atol=0.03)


# --------------------------------------------------------------------------- k-NN accuracy
@pytest.mark.parametrize("k", [1, 3, 5])
def test_nearest_neighbour_accuracy_matches_sklearn(rng, k):
    from sklearn.neighbors import KNeighborsClassifier

    xr, xq = rng.normal(size=(80, 3)), rng.normal(size=(50, 3))
    yr, yq = rng.integers(0, 3, size=80), rng.integers(0, 3, size=50)
    ref = KNeighborsClassifier(n_neighbors=k).fit(xr, yr).score(xq, yq)
    assert nearest_neighbour_accuracy(xr, yr, xq, yq, k=k) == pytest.approx(ref, abs=1e-12)


# --------------------------------------------------------------------------- training
def test_fit_embedding_separates_classes_and_is_deterministic(single_thread):
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(300) % 3
    x = torch.randn(300, 6, generator=gen, dtype=torch.float64)
    x[:, :3] += 4.0 * torch.nn.functional.one_hot(y, 3)
    raw = nearest_neighbour_accuracy(x[:200], y[:200], x[200:], y[200:])
    for loss in ("triplet", "contrastive"):
        fit = fit_embedding(x[:200], y[:200], loss=loss, n_steps=80, seed=1)
        e = fit.model.embed(x)
        assert e.dtype == torch.float64
        assert nearest_neighbour_accuracy(e[:200], y[:200], e[200:], y[200:]) >= min(raw, 0.95)
    again = fit_embedding(x[:200], y[:200], loss="contrastive", n_steps=80, seed=1)
    assert again.losses == fit.losses


def test_cross_domain_triplets_line_up_digit_domains(single_thread):
    # Clean source digits against glare-washed target digits: an embedding trained on the
    # source alone misplaces the target, one trained with 5 labelled target images per class
    # and cross-domain positives puts target images next to their source class.
    xs, ys, xt, yt = tllab.data.digit_domains("environment", dtype=torch.float32)
    few = torch.cat([torch.nonzero(yt == c).reshape(-1)[:5] for c in range(10)])
    query = torch.ones(len(yt), dtype=torch.bool)
    query[few] = False
    dom = torch.cat([torch.zeros(len(ys)), torch.ones(len(few))]).long()
    alone = fit_embedding(xs, ys, n_steps=150, seed=0).model
    cross = fit_embedding(torch.cat([xs, xt[few]]), torch.cat([ys, yt[few]]), dom,
                          n_steps=150, seed=0).model
    acc = [nearest_neighbour_accuracy(m.embed(xs), ys, m.embed(xt[query]), yt[query])
           for m in (alone, cross)]
    assert acc[1] > 0.8 and acc[1] > acc[0] + 0.3


def test_multitask_net_shapes_and_prediction():
    net = MultiTaskNet(4, [2, 5], hidden=7)
    x = torch.randn(3, 4)
    outs = net(x)
    assert [o.shape for o in outs] == [(3, 2), (3, 5)]
    assert torch.equal(net.predict(x, task=1), outs[1].argmax(1))
    with pytest.raises(ValueError, match="task"):
        net.predict(x, task=2)


def test_a_task_with_weight_zero_does_not_influence_the_others(single_thread):
    t = tllab.data.make_related_tasks(30, 100, seed=0)
    alone = fit_multitask([(t.x_main, t.y_main)], n_steps=60, seed=4)
    muted = fit_multitask([(t.x_main, t.y_main), (t.x_aux, t.y_aux)], task_weights=[1.0, 0.0],
                          n_steps=60, seed=4)
    for a, b in zip(alone.model.trunk.parameters(), muted.model.trunk.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(alone.model.heads[0].weight, muted.model.heads[0].weight)


def test_the_auxiliary_task_helps_when_main_labels_are_few(single_thread):
    gains = []
    for seed in range(3):
        t = tllab.data.make_related_tasks(20, 500, n_test=2000, seed=seed)
        single = fit_multitask([(t.x_main, t.y_main)], seed=seed).model
        multi = fit_multitask([(t.x_main, t.y_main), (t.x_aux, t.y_aux)], seed=seed).model
        acc = [float((m.predict(t.x_test) == t.y_test).double().mean()) for m in (single, multi)]
        gains.append(acc[1] - acc[0])
    assert np.mean(gains) > 0.05 and min(gains) > 0.0


def test_trainers_follow_the_input_device(device):
    t = tllab.data.make_related_tasks(20, 40, n_test=10, seed=0, device=device)
    fit = fit_multitask([(t.x_main, t.y_main), (t.x_aux, t.y_aux)], n_steps=3)
    assert fit.model.predict(t.x_test).device.type == device.type
    emb = fit_embedding(t.x_aux, t.y_aux, n_steps=3)
    assert emb.model.embed(t.x_test).device.type == device.type


@pytest.mark.skipif(not HAS_CUDA, reason="needs a GPU: CUDA parity of the embedding training")
def test_cuda_parity_of_the_embedding_and_knn():
    t = tllab.data.make_related_tasks(20, 200, n_test=50, seed=0)
    cpu = fit_embedding(t.x_aux, t.y_aux, n_steps=30, seed=0).model.embed(t.x_test)
    gpu = fit_embedding(t.x_aux.cuda(), t.y_aux.cuda(), n_steps=30, seed=0).model.embed(
        t.x_test.cuda())
    np.testing.assert_allclose(gpu.cpu().numpy(), cpu.numpy(), atol=1e-6)
    acc_c = nearest_neighbour_accuracy(t.x_aux, t.y_aux, t.x_test, t.y_test[:50] % 4)
    acc_g = nearest_neighbour_accuracy(t.x_aux.cuda(), t.y_aux.cuda(), t.x_test.cuda(),
                                       (t.y_test[:50] % 4).cuda())
    assert acc_c == acc_g


# --------------------------------------------------------------------------- data
def test_feature_shift_generator_follows_its_law():
    d = tllab.data.make_feature_shift(40_000, n_features=5, n_shifted=2, signal=0.5,
                                      spurious=1.2, shift=1.5, target_relation=-0.5, seed=0)
    assert d.transferable.tolist() == [True, True, True, False, False]
    for x, y, sep, loc in ((d.xs, d.ys, [0.5] * 3 + [1.2] * 2, [0.0] * 5),
                           (d.xt, d.yt, [0.5] * 3 + [-0.6] * 2, [0.0] * 3 + [1.5] * 2)):
        mean1, mean0 = x[y == 1].mean(0).numpy(), x[y == 0].mean(0).numpy()
        np.testing.assert_allclose((mean1 - mean0) / 2, sep, atol=0.03)
        np.testing.assert_allclose((mean1 + mean0) / 2, loc, atol=0.03)
        resid = x.numpy() - (np.array(loc) + (2 * y.numpy()[:, None] - 1) * np.array(sep))
        np.testing.assert_allclose(resid.std(0), 1.0, atol=0.02)
        assert abs(float(y.double().mean()) - 0.5) < 0.01


def test_feature_shift_bayes_accuracy_is_the_documented_one():
    d = tllab.data.make_feature_shift(50, n_target=40_000, n_features=6, n_shifted=2, seed=1)
    rule = (d.xt[:, d.transferable].sum(1) > 0).long()  # Bayes rule on the transferable part
    acc = float((rule == d.yt).double().mean())
    assert acc == pytest.approx(norm.cdf(0.5 * math.sqrt(4)), abs=0.006)


def test_mixed_source_generator_follows_its_law():
    from sklearn.linear_model import LogisticRegression

    d = tllab.data.make_mixed_source(40_000, irrelevant_fraction=0.3, distance=3.0, angle=90.0,
                                     sharpness=5.0, n_target=30_000, seed=0)
    assert int((~d.relevant).sum()) == 12_000
    rel, irr = d.xs[d.relevant].numpy(), d.xs[~d.relevant].numpy()
    np.testing.assert_allclose(rel.mean(0), [0.0, 0.0], atol=0.03)
    np.testing.assert_allclose(irr.mean(0), [3.0, 0.0], atol=0.03)
    np.testing.assert_allclose(np.cov(irr.T), np.eye(2), atol=0.05)
    for x, y, coef, icpt in ((rel, d.ys[d.relevant], [0.0, 5.0], 0.0),
                             (irr, d.ys[~d.relevant], [5.0, 0.0], -15.0),
                             (d.xt.numpy(), d.yt, [0.0, 5.0], 0.0)):
        fit = LogisticRegression(C=1e6, max_iter=1000).fit(x, y.numpy())
        np.testing.assert_allclose(fit.coef_[0], coef, atol=0.4)
        assert fit.intercept_[0] == pytest.approx(icpt, abs=1.2)


def test_related_tasks_generator_follows_its_law():
    t = tllab.data.make_related_tasks(30_000, 2000, n_features=8, seed=2)
    np.testing.assert_allclose((t.basis.T @ t.basis).numpy(), np.eye(2), atol=1e-12)
    z = (t.x_aux @ t.basis).numpy()
    quadrant = (z[:, 0] < 0) * 2 + (z[:, 1] < 0)
    np.testing.assert_array_equal(t.y_aux.numpy(), quadrant)
    zm = (t.x_main @ t.basis).numpy()
    u = (zm[:, 0] + zm[:, 1]) / np.sqrt(2)
    p = 1 / (1 + np.exp(-6.0 * u))
    assert float(t.y_main.double().mean()) == pytest.approx(p.mean(), abs=0.01)
    assert np.mean(t.y_main.numpy()[u > 0.5]) == pytest.approx(p[u > 0.5].mean(), abs=0.01)


def test_generators_are_seeded():
    for make in (tllab.data.make_feature_shift, tllab.data.make_mixed_source,
                 tllab.data.make_related_tasks):
        a, b, c = make(50, seed=1), make(50, seed=1), make(50, seed=2)
        assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
        assert not torch.equal(a[0], c[0])


# --------------------------------------------------------------------------- bad inputs
X = np.random.default_rng(0).normal(size=(10, 3))
Y = np.arange(10) % 2
E = torch.zeros(4, 2)

BAD = [
    (triplet_loss, (E, E, E[:3]), {}, ValueError, "anchor"),
    (triplet_loss, (E, E, E), {"margin": -1.0}, ValueError, "margin"),
    (triplet_loss, (E.numpy(), E, E), {}, TypeError, "anchor"),
    (contrastive_loss, (E, E, [0, 1]), {}, ValueError, "same"),
    (contrastive_loss, (E, E, [0, 1, 2, 1]), {}, ValueError, "same"),
    (contrastive_loss, (E, E, [0, 1, 0, 1]), {"margin": 0.0}, ValueError, "margin"),
    (contrastive_loss, (E, E[:, :1], [0, 1, 0, 1]), {}, ValueError, "x1"),
    (EmbeddingNet, (3,), {"dim": 0}, ValueError, "dim"),
    (EmbeddingNet, (3,), {"normalize": 1}, TypeError, "normalize"),
    (sample_triplets, ([0, 0, 0],), {}, ValueError, "two classes"),
    (sample_triplets, ([0, 1, 1],), {"domain": [0, 1]}, ValueError, "domain"),
    (sample_triplets, ([0.0, 1.5],), {}, ValueError, "y"),
    (sample_triplets, ([True, False],), {}, TypeError, "y"),
    (sample_triplets, ([0, 1, 1],), {"n_anchors": 0}, ValueError, "n_anchors"),
    (fit_embedding, (X, Y[:4]), {}, ValueError, "y"),
    (fit_embedding, (X, np.zeros(10, dtype=int)), {}, ValueError, "two classes"),
    (fit_embedding, (X, Y), {"loss": "arcface"}, ValueError, "loss"),
    (fit_embedding, (X, Y), {"loss": "contrastive", "margin": 0.0}, ValueError, "margin"),
    (fit_embedding, (X, Y), {"n_steps": 0}, ValueError, "n_steps"),
    (fit_embedding, (X, Y, [0] * 9), {}, ValueError, "domain"),
    (fit_embedding, (X[:, 0], Y), {}, ValueError, "x"),
    (nearest_neighbour_accuracy, (X, Y, X[:, :2], Y), {}, ValueError, "x_ref and x_query"),
    (nearest_neighbour_accuracy, (X, Y, X, Y), {"k": 11}, ValueError, "k"),
    (nearest_neighbour_accuracy, (X, Y, X, Y), {"k": 0}, ValueError, "k"),
    (nearest_neighbour_accuracy, (X, Y[:3], X, Y), {}, ValueError, "y_ref"),
    (MultiTaskNet, (3, []), {}, ValueError, "n_classes"),
    (MultiTaskNet, (3, 2), {}, TypeError, "n_classes"),
    (MultiTaskNet, (3, [2, 1]), {}, ValueError, "n_classes"),
    (fit_multitask, ([],), {}, TypeError, "tasks"),
    (fit_multitask, ([X],), {}, TypeError, "tasks"),
    (fit_multitask, ([(X, Y), (X[:, :2], Y)],), {}, ValueError, "features"),
    (fit_multitask, ([(X, Y[:3])],), {}, ValueError, "y"),
    (fit_multitask, ([(X, Y)],), {"task_weights": [1.0, 1.0]}, ValueError, "task_weights"),
    (fit_multitask, ([(X, Y)],), {"task_weights": [-1.0]}, ValueError, "task_weights"),
    (fit_multitask, ([(X, Y)],), {"hidden": 0}, ValueError, "hidden"),
    (tllab.data.make_feature_shift, (10,), {"n_shifted": 11}, ValueError, "n_shifted"),
    (tllab.data.make_feature_shift, (10,), {"n_features": 0}, ValueError, "n_features"),
    (tllab.data.make_feature_shift, (10,), {"shift": np.nan}, ValueError, "shift"),
    (tllab.data.make_feature_shift, (0,), {}, ValueError, "n"),
    (tllab.data.make_mixed_source, (10,), {"irrelevant_fraction": 1.0}, ValueError,
     "irrelevant_fraction"),
    (tllab.data.make_mixed_source, (10,), {"sharpness": 0.0}, ValueError, "sharpness"),
    (tllab.data.make_mixed_source, (10,), {"dtype": torch.long}, TypeError, "dtype"),
    (tllab.data.make_related_tasks, (10,), {"n_features": 1}, ValueError, "n_features"),
    (tllab.data.make_related_tasks, (10,), {"seed": -1}, ValueError, "seed"),
]


@pytest.mark.parametrize("fn,args,kwargs,err,match", BAD,
                         ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs(fn, args, kwargs, err, match):
    with pytest.raises(err, match=match):
        fn(*args, **kwargs)
