"""tllab.finetune's transfer strategies: freezing really freezes, discriminative learning
rates reach the right parameters, L2-SP against its closed form and gradient, AdaBN changes
only BatchNorm statistics (and sets them to the target moments), the one-call strategies,
and the bad-input table."""

import copy

import numpy as np
import pytest
import torch

from tllab.finetune import (
    L2SP,
    STRATEGIES,
    adabn,
    fine_tune,
    fit,
    freeze_blocks,
    l2sp_penalty,
    layerwise_param_groups,
    reset_parameters,
)
from tllab.models import MLP, SmallCNN

# many small torch calls: one intra-op thread (see conftest.single_thread)
pytestmark = pytest.mark.usefixtures("single_thread")


def _cnn(seed=0, **kw):
    torch.manual_seed(seed)
    return SmallCNN(width=4, **kw)


def _data(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.arange(n) % 10


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_freezing_really_freezes(k):
    model = freeze_blocks(_cnn(), k)
    before = _snapshot(model)
    x, y = _data()
    fit(model, x, y, epochs=2, lr=1e-2, batch_size=10)
    after = model.state_dict()
    for i in range(3):
        for name, value in before.items():
            if not name.startswith(f"blocks.{i}."):
                continue
            changed = not torch.equal(after[name], value)
            if "num_batches_tracked" in name:
                continue
            assert changed == (i >= k), (name, k)  # frozen: no change at all, stats included
    for p in model.blocks[:k].parameters():
        assert not p.requires_grad and p.grad is None
    assert not torch.equal(after["head.1.weight"], before["head.1.weight"])


def test_freeze_blocks_unfreezes_the_rest():
    model = freeze_blocks(_cnn(), 3)
    freeze_blocks(model, 1)
    assert [all(p.requires_grad for p in b.parameters()) for b in model.blocks] == \
        [False, True, True]
    assert all(p.requires_grad for p in model.head.parameters())


def test_layerwise_groups_partition_the_trainable_parameters():
    model = freeze_blocks(_cnn(), 1)
    groups = layerwise_param_groups(model, 0.1, decay=0.3)
    assert [g["name"] for g in groups] == ["head", "block2", "block1"]
    for g in groups:
        expected = {"head": 0.1, "block2": 0.1 * 0.3, "block1": 0.1 * 0.3**2}[g["name"]]
        assert g["lr"] == pytest.approx(expected)
        owner = model.head if g["name"] == "head" else model.blocks[int(g["name"][-1])]
        assert {id(p) for p in g["params"]} == {id(p) for p in owner.parameters()}
    in_groups = [id(p) for g in groups for p in g["params"]]
    assert len(in_groups) == len(set(in_groups))
    assert set(in_groups) == {id(p) for p in model.parameters() if p.requires_grad}


def test_layerwise_learning_rates_scale_each_blocks_sgd_step():
    model = _cnn()
    x, y = _data(20)
    ref = copy.deepcopy(model)
    ref.train()
    torch.nn.functional.cross_entropy(ref(x), y).backward()  # same batch, same BN mode
    groups = layerwise_param_groups(model, 0.05, decay=0.5)
    before = _snapshot(model)
    # one full-batch SGD step; momentum's first step is the plain gradient step
    fit(model, x, y, epochs=1, batch_size=20, optimizer="sgd", lr=0.05, param_groups=groups)
    rates = {"head": 0.05, "blocks.2": 0.025, "blocks.1": 0.0125, "blocks.0": 0.00625}
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters(), strict=True):
        lr = next(v for k, v in rates.items() if name.startswith(k))
        torch.testing.assert_close(p.detach(), before[name] - lr * q.grad, rtol=1e-4,
                                   atol=1e-6)


def test_l2sp_zero_at_start_closed_form_and_gradient(rng):
    model = _cnn().double()
    penalty = L2SP(model, alpha=0.3, beta=0.7, anchored=("blocks",))
    assert float(penalty(model).detach()) == pytest.approx(0.5 * 0.7 * sum(
        float((p.detach() ** 2).sum()) for p in model.head.parameters()))
    w0 = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.as_tensor(rng.normal(size=tuple(p.shape))))
    value = penalty(model)
    value.backward()
    expected = 0.0
    for name, p in model.named_parameters():
        w = p.detach().numpy()
        if name.startswith("blocks"):
            expected += 0.5 * 0.3 * np.sum((w - w0[name]) ** 2)
            np.testing.assert_allclose(p.grad.numpy(), 0.3 * (w - w0[name]), rtol=1e-12)
        else:
            expected += 0.5 * 0.7 * np.sum(w**2)
            np.testing.assert_allclose(p.grad.numpy(), 0.7 * w, rtol=1e-12)
    assert float(value.detach()) == pytest.approx(expected, rel=1e-12)


def test_l2sp_functional_equals_module_and_ignores_buffers_and_frozen(rng):
    pretrained = _cnn()
    model = copy.deepcopy(pretrained)
    assert float(l2sp_penalty(model, pretrained.state_dict()).detach()) == 0.0
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1)
    module = L2SP(pretrained, alpha=0.2, beta=0.5)
    fun = l2sp_penalty(model, pretrained.state_dict(), alpha=0.2, beta=0.5)
    torch.testing.assert_close(module(model), fun)
    n = sum(p.numel() for p in model.parameters())
    assert float(fun.detach()) == pytest.approx(0.5 * 0.2 * 0.01 * n, rel=1e-4)
    freeze_blocks(model, 3)
    n_head = sum(p.numel() for p in model.head.parameters())
    assert float(module(model).detach()) == pytest.approx(0.5 * 0.2 * 0.01 * n_head, rel=1e-4)


def test_l2sp_in_fit_pulls_towards_the_start():
    x, y = _data(60)
    pretrained = _cnn()

    def distance(alpha):
        model = copy.deepcopy(pretrained)
        fit(model, x, y, epochs=5, lr=1e-2, batch_size=20,
            penalty=L2SP(model, alpha=alpha, beta=0.0))
        return sum(float(((p - q) ** 2).sum().detach()) for p, q in
                   zip(model.parameters(), pretrained.parameters(), strict=True))

    assert distance(10.0) < 0.5 * distance(0.0)


def _bn_inputs(model, x):
    seen = {}
    hooks = [m.register_forward_hook(lambda m, inp, out: seen.__setitem__(m, inp[0].detach()))
             for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


def test_adabn_changes_only_the_batch_norm_statistics_and_sets_target_moments():
    model = _cnn(dropout=0.5).double()
    fit(model, *_data(40, seed=1), epochs=1, lr=1e-2)  # non-default statistics
    model.train()
    momenta = [m.momentum for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    before = _snapshot(model)
    xt = 0.5 + 2.0 * _data(64, seed=2)[0].double()  # a shifted "target"
    adabn(model, xt)
    assert model.training and all(m.training for m in model.modules())  # modes restored
    assert [m.momentum for m in model.modules()
            if isinstance(m, torch.nn.BatchNorm2d)] == momenta
    after = model.state_dict()
    for name, value in before.items():
        if name.endswith(("running_mean", "running_var")):
            assert not torch.equal(after[name], value), name
        elif not name.endswith("num_batches_tracked"):
            assert torch.equal(after[name], value), name
    # each BatchNorm now holds the mean and unbiased variance of its own target inputs
    for bn, inp in _bn_inputs(model, xt).items():
        a = inp.numpy().transpose(1, 0, 2, 3).reshape(inp.shape[1], -1)
        np.testing.assert_allclose(bn.running_mean.numpy(), a.mean(1), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), a.var(1, ddof=1), rtol=1e-10)


def test_adabn_in_batches_averages_batch_statistics():
    model = _cnn().double()
    xt = _data(60, seed=3)[0].double()
    adabn(model, xt, batch_size=20)
    conv = model.blocks[0][0]
    with torch.no_grad():
        means = [conv(xt[i:i + 20]).mean((0, 2, 3)) for i in (0, 20, 40)]
    torch.testing.assert_close(model.blocks[0][1].running_mean, sum(means) / 3)


def test_reset_parameters_is_seeded_and_leaves_global_rng():
    a = reset_parameters(_cnn(), seed=3)
    b = reset_parameters(_cnn(seed=1), seed=3)
    c = _cnn()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.blocks[0][0].weight, c.blocks[0][0].weight)
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    reset_parameters(c, seed=0)
    assert torch.equal(torch.rand(2), expected)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_fine_tune_strategies_train_what_they_say(strategy):
    pretrained = _cnn()
    before = _snapshot(pretrained)
    x, y = _data()
    res = fine_tune(pretrained, x, y, strategy, n_frozen=2, epochs=2, lr=1e-2, batch_size=10)
    assert res.model is not pretrained
    assert all(torch.equal(v, pretrained.state_dict()[k]) for k, v in before.items())
    after = res.model.state_dict()
    moved = {i: not torch.equal(after[f"blocks.{i}.0.weight"], before[f"blocks.{i}.0.weight"])
             for i in range(3)}
    expected = {"linear_probe": [False] * 3, "partial": [False, False, True]}.get(
        strategy, [True] * 3)
    assert [moved[i] for i in range(3)] == expected
    assert not torch.equal(after["head.1.weight"], before["head.1.weight"])


def test_linear_probe_on_cached_features_equals_training_the_frozen_model():
    pretrained = _cnn(dropout=0.4)  # dropout in the head: the same draws on both paths
    x, y = _data(50)
    xv, yv = _data(20, seed=7)
    kw = dict(epochs=3, lr=1e-2, batch_size=8, seed=2, x_val=xv, y_val=yv)
    fast = fine_tune(pretrained, x, y, "linear_probe", **kw)
    slow = fit(freeze_blocks(copy.deepcopy(pretrained), 3), x, y, **kw)
    for (name, p), q in zip(fast.model.named_parameters(), slow.model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=name)
    np.testing.assert_allclose(fast.history["val_loss"], slow.history["val_loss"], rtol=1e-5)
    assert not fast.model.training


def test_fine_tune_in_place_and_scratch_starts_fresh():
    pretrained = _cnn()
    x, y = _data()
    scratch = fine_tune(pretrained, x, y, "scratch", epochs=1, lr=1e-9, seed=4).model
    fresh = reset_parameters(_cnn(), seed=4)
    torch.testing.assert_close(scratch.blocks[0][0].weight, fresh.blocks[0][0].weight,
                               rtol=1e-6, atol=1e-7)  # lr ~ 0: still the fresh init
    res = fine_tune(pretrained, x, y, "full", epochs=1, copy_model=False)
    assert res.model is pretrained


@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda m: freeze_blocks(m, 4), ValueError, "k must be <="),
        (lambda m: freeze_blocks(m, -1), ValueError, "k must be >="),
        (lambda m: freeze_blocks(torch.nn.Linear(2, 2), 1), TypeError, "blocks"),
        (lambda m: freeze_blocks("model", 1), TypeError, "model"),
        (lambda m: layerwise_param_groups(m, 0.0), ValueError, "lr"),
        (lambda m: layerwise_param_groups(m, 0.1, decay=0.0), ValueError, "decay"),
        (lambda m: layerwise_param_groups(m, 0.1, decay=1.5), ValueError, "decay"),
        (lambda m: layerwise_param_groups(freeze_blocks(m, 3).requires_grad_(False), 0.1),
         ValueError, "no trainable"),
        (lambda m: L2SP(m, alpha=-1.0), ValueError, "alpha"),
        (lambda m: L2SP(m, beta=float("nan")), ValueError, "beta"),
        (lambda m: L2SP(m, anchored="blocks"), TypeError, "anchored"),
        (lambda m: l2sp_penalty(m, [1, 2]), TypeError, "reference"),
        (lambda m: l2sp_penalty(m, {"head.1.bias": torch.zeros(3)}), ValueError,
         r"reference\['head.1.bias'\]"),
        (lambda m: adabn(m, torch.rand(5)), ValueError, "x must have shape"),
        (lambda m: adabn(m, torch.full((4, 1, 8, 8), float("nan"))), ValueError, "finite"),
        (lambda m: adabn(m, torch.rand(4, 1, 8, 8), batch_size=1), ValueError, "batch_size"),
        (lambda m: adabn(SmallCNN(batch_norm=False), torch.rand(4, 1, 8, 8)), ValueError,
         "no BatchNorm"),
        (lambda m: adabn(MLP(64, 4), torch.rand(4, 64)), ValueError, "no BatchNorm"),
        (lambda m: reset_parameters(m, seed=-2), ValueError, "seed"),
        (lambda m: fine_tune(m, *_data(), "transfer"), ValueError, "strategy"),
        (lambda m: fine_tune(m, *_data(), "partial", n_frozen=5), ValueError, "n_frozen"),
        (lambda m: fine_tune(m, *_data(), lr=-1.0), ValueError, "lr"),
        (lambda m: fine_tune(m, *_data(), copy_model="no"), TypeError, "copy_model"),
        (lambda m: fine_tune(m, *_data(), penalty=lambda net: 0.0), TypeError, "penalty"),
        (lambda m: fine_tune(m, *_data(), epochs=0), ValueError, "epochs"),
    ],
)
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call(_cnn())


def test_cuda_parity():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the CUDA parity check runs on a GPU machine")
    x, y = _data()
    out = []
    for device in ("cpu", "cuda"):
        model = _cnn().double().to(device)
        adabn(model, x.double().to(device))
        res = fine_tune(model, x.double(), y, "l2sp", epochs=2, lr=1e-2, batch_size=10)
        assert next(res.model.parameters()).device.type == device
        out.append(res.model.head[1].weight.detach().cpu())
    torch.testing.assert_close(out[0], out[1], rtol=1e-6, atol=1e-8)
