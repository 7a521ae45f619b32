"""tllab.finetune's fit loop and prediction helpers: one SGD step against the closed-form
gradient of the softmax cross-entropy, weight decay against an explicit L2 penalty,
determinism, early stopping, frozen parameters, sklearn's metrics, and the bad-input table."""

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, log_loss

import tllab
from tllab.finetune import evaluate, fit, predict, predict_proba
from tllab.models import MLP, SmallCNN

# many small torch calls: one intra-op thread (see conftest.single_thread)
pytestmark = pytest.mark.usefixtures("single_thread")


def _blobs(n=120, d=5, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    centres = 3.0 * torch.randn(k, d, generator=g)
    return centres[y] + torch.randn(n, d, generator=g), y


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_full_batch_step_matches_closed_form_gradient(optimizer, rng):
    n, d, k, lr = 30, 4, 3, 0.1
    x = rng.normal(size=(n, d))
    y = rng.integers(0, k, n)
    model = MLP(d, hidden=(), n_classes=k).double()
    w0 = model.head.weight.detach().numpy().copy()
    b0 = model.head.bias.detach().numpy().copy()
    fit(model, x, torch.as_tensor(y), epochs=1, lr=lr, batch_size=n, optimizer=optimizer)
    # d/dz of the mean cross-entropy is (softmax(z) - onehot) / n
    g = (_softmax(x @ w0.T + b0) - np.eye(k)[y]) / n
    gw, gb = g.T @ x, g.sum(0)
    if optimizer == "sgd":  # momentum buffer starts at the gradient: one plain step
        step_w, step_b = lr * gw, lr * gb
    else:  # Adam's first step is lr * m/(sqrt(v)+eps) with bias correction = lr * g/(|g|+eps)
        step_w, step_b = lr * gw / (np.abs(gw) + 1e-8), lr * gb / (np.abs(gb) + 1e-8)
    np.testing.assert_allclose(model.head.weight.detach().numpy(), w0 - step_w, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(model.head.bias.detach().numpy(), b0 - step_b, rtol=1e-9,
                               atol=1e-12)


def test_weight_decay_equals_half_squared_norm_penalty():
    x, y = _blobs()
    torch.manual_seed(0)
    a = MLP(5, hidden=(8,), n_classes=3).double()
    b = MLP(5, hidden=(8,), n_classes=3).double()
    b.load_state_dict(a.state_dict())
    wd = 0.05
    fit(a, x, y, epochs=3, lr=0.05, batch_size=32, optimizer="sgd", weight_decay=wd)
    fit(b, x, y, epochs=3, lr=0.05, batch_size=32, optimizer="sgd",
        penalty=lambda m: 0.5 * wd * sum((p**2).sum() for p in m.parameters()))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-12)


def test_fit_learns_and_is_deterministic_per_seed_without_touching_global_rng():
    x, y = _blobs()

    def run(seed):
        torch.manual_seed(0)
        model = MLP(5, hidden=(16,), n_classes=3, dropout=0.3)
        res = fit(model, x, y, epochs=15, lr=1e-2, batch_size=16, seed=seed)
        return res, torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    other = MLP(5, 4, 3, dropout=0.5)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    fit(other, x, y, epochs=2, seed=9)
    assert torch.equal(torch.rand(3), expected_next)  # fit leaves the caller's RNG alone
    r1, w1 = run(3)
    r2, w2 = run(3)
    _, w3 = run(4)
    assert torch.equal(w1, w2) and r1.history == r2.history
    assert not torch.equal(w1, w3)
    assert r1.history["accuracy"][-1] > 0.95 and r1.epochs_run == 15 and r1.best_epoch is None
    assert not r1.model.training
    assert set(r1.history) == {"loss", "accuracy"}


def test_history_accuracy_is_the_running_batch_accuracy():
    x, y = _blobs(n=64)
    torch.manual_seed(0)
    res = fit(MLP(5, 8, 3), x, y, epochs=4, batch_size=64, lr=1e-3, x_val=x, y_val=y)
    assert len(res.history["val_loss"]) == 4
    # lr is tiny: the last epoch's training-batch accuracy ~ the evaluated one
    assert abs(res.history["accuracy"][-1] - res.history["val_accuracy"][-1]) < 0.05


def test_early_stopping_restores_the_best_epoch():
    x, y = _blobs(n=60, seed=1)
    xv, yv = _blobs(n=300, seed=2)
    yv = yv[torch.randperm(300, generator=torch.Generator().manual_seed(0))]  # noisy labels
    torch.manual_seed(0)
    model = MLP(5, hidden=(64,), n_classes=3)
    res = fit(model, x, y, x_val=xv, y_val=yv, epochs=200, lr=3e-2, batch_size=16, patience=3)
    vl = res.history["val_loss"]
    assert res.best_epoch == int(np.argmin(vl))
    assert res.epochs_run == res.best_epoch + 4 < 200  # stopped after 3 epochs without progress
    assert evaluate(model, xv, yv).loss == pytest.approx(vl[res.best_epoch], rel=1e-6)


def test_frozen_parameters_and_their_batch_norm_stay_unchanged():
    torch.manual_seed(0)
    model = SmallCNN(width=4)
    for p in model.blocks[0].parameters():
        p.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(40, 1, 8, 8)
    y = torch.arange(40) % 10
    fit(model, x, y, epochs=2, lr=1e-2, batch_size=8)
    after = model.state_dict()
    for key, value in before.items():
        if key.startswith("blocks.0."):
            assert torch.equal(after[key], value), key
    assert not torch.equal(after["blocks.1.0.weight"], before["blocks.1.0.weight"])
    assert not torch.equal(after["blocks.1.1.running_mean"], before["blocks.1.1.running_mean"])


def test_param_groups_use_their_own_learning_rate():
    torch.manual_seed(0)
    model = MLP(5, hidden=(8,), n_classes=3)
    x, y = _blobs()
    first = [p.clone() for p in model.blocks.parameters()]
    groups = [{"params": list(model.blocks.parameters()), "lr": 0.0},
              {"params": list(model.head.parameters())}]
    head0 = model.head.weight.clone()
    fit(model, x, y, epochs=2, lr=1e-2, param_groups=groups)
    assert all(torch.equal(p, q) for p, q in zip(model.blocks.parameters(), first, strict=True))
    assert not torch.equal(model.head.weight, head0)


def test_predict_and_evaluate_match_sklearn(rng):
    torch.manual_seed(0)
    model = MLP(5, hidden=(8,), n_classes=3).double()
    x = rng.normal(size=(50, 5))
    y = rng.integers(0, 3, 50)
    model.train()
    p = predict_proba(model, x, batch_size=7)
    assert model.training  # the mode is restored
    labels = predict(model, x, batch_size=7)
    assert labels.dtype == torch.long
    torch.testing.assert_close(labels, p.argmax(1))
    ev = evaluate(model, x, torch.as_tensor(y), batch_size=7)
    assert ev.loss == pytest.approx(log_loss(y, p.numpy(), labels=[0, 1, 2]), rel=1e-6)
    assert ev.accuracy == pytest.approx(accuracy_score(y, labels.numpy()))


def test_inputs_follow_the_model_dtype_and_device():
    model = MLP(3, 4, 2).double()
    out = predict_proba(model, np.ones((2, 3), dtype=np.float32))
    assert out.dtype == torch.float64


_X, _Y = torch.rand(10, 4), torch.arange(10) % 2


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"x": "abc"}, TypeError, "x must be"),
        ({"x": torch.rand(10)}, ValueError, "x must have shape"),
        ({"x": torch.rand(0, 4), "y": torch.zeros(0, dtype=torch.long)}, ValueError, "empty"),
        ({"x": torch.full((10, 4), float("nan"))}, ValueError, "x must be finite"),
        ({"y": torch.rand(10)}, ValueError, "integer class labels"),
        ({"y": torch.ones(10, dtype=torch.bool)}, TypeError, "integer class labels"),
        ({"y": torch.zeros(9, dtype=torch.long)}, ValueError, "one label per sample"),
        ({"y": -_Y}, ValueError, "non-negative"),
        ({"y": _Y + 5}, ValueError, "below the model's 2 outputs"),
        ({"y": None}, TypeError, "y must be"),
        ({"x_val": _X}, ValueError, "together"),
        ({"x_val": _X, "y_val": _Y[:3]}, ValueError, "y_val must have one label"),
        ({"patience": 2}, ValueError, "validation split"),
        ({"patience": 0, "x_val": _X, "y_val": _Y}, ValueError, "patience"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": float("inf")}, ValueError, "lr"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"optimizer": "lbfgs"}, ValueError, "optimizer"),
        ({"penalty": 3.0}, TypeError, "penalty"),
        ({"seed": -1}, ValueError, "seed"),
        ({"progress": "yes"}, TypeError, "progress"),
        ({"param_groups": {"params": []}}, TypeError, "param_groups"),
        ({"param_groups": [{"lr": 0.1}]}, TypeError, "param_groups"),
        ({"param_groups": [{"params": [torch.zeros(2, requires_grad=True)]}]}, ValueError,
         "not a trainable parameter"),
        ({"param_groups": [{"params": []}]}, ValueError, "no parameters"),
    ],
)
def test_fit_bad_input(kwargs, err, match):
    torch.manual_seed(0)
    model = MLP(4, 3, 2)
    args = {"x": _X, "y": _Y, **kwargs}
    with pytest.raises(err, match=match):
        fit(model, args.pop("x"), args.pop("y"), epochs=args.pop("epochs", 1), **args)


def test_fit_bad_model_and_frozen_model():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit("model", _X, _Y)
    model = MLP(4, 3, 2)
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(model, _X, _Y)
    with pytest.raises(ValueError, match="batch_size"):
        predict(model, _X, batch_size=0)
    with pytest.raises(ValueError, match="below the model's 2 outputs"):
        evaluate(model, _X, _Y + 2)


def test_progress_bar_runs():
    res = fit(MLP(4, 3, 2), _X, _Y, epochs=2, progress=True)
    assert res.epochs_run == 2


def test_cuda_parity():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the CUDA parity check runs on a GPU machine")
    x, y = _blobs()
    results = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = MLP(5, hidden=(16,), n_classes=3).double().to(device)
        fit(model, x, y, epochs=3, lr=1e-2, batch_size=16)
        assert next(model.parameters()).device.type == device
        results.append(predict_proba(model, x).cpu())
    torch.testing.assert_close(results[0], results[1], rtol=1e-6, atol=1e-8)
    assert tllab.default_device().type in {"cuda", "cpu", "mps"}
