"""tllab.models.SmallCNN and MLP: structure, the forward pass against float64 NumPy/SciPy
references, and the bad-input table."""

import numpy as np
import pytest
import torch
from scipy.signal import correlate2d

from tllab.models import MLP, SmallCNN


def test_small_cnn_structure_and_shapes():
    torch.manual_seed(0)
    model = SmallCNN(n_classes=7, width=4, dropout=0.3)
    assert isinstance(model.blocks, torch.nn.Sequential) and len(model.blocks) == 3
    assert model.n_features == 16
    x = torch.rand(6, 1, 8, 8)
    model.eval()
    f = model.features(x)
    assert f.shape == (6, 16)
    torch.testing.assert_close(model(x), model.head(f))
    torch.testing.assert_close(model.blocks(x), f)
    torch.testing.assert_close(model(x[:, 0]), model(x))  # (n, h, w) gets a channel axis
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 3
    assert isinstance(model.head[0], torch.nn.Dropout) and model.head[0].p == 0.3
    for size in (2, 5, 16, 28):  # any image size: global average pool
        assert model(torch.rand(2, 1, size, size)).shape == (2, 7)


def test_small_cnn_without_batch_norm_and_with_channels():
    model = SmallCNN(in_channels=3, width=2, batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert all(m.bias is not None for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert model(torch.rand(2, 3, 8, 8)).shape == (2, 10)


def _np_block(x, conv, bn=None, pool=False, gap=False):
    """Float64 reference of one conv block: 'same' cross-correlation, eval BatchNorm, ReLU."""
    w = conv.weight.detach().double().numpy()
    b = np.zeros(w.shape[0]) if conv.bias is None else conv.bias.detach().double().numpy()
    n, c_in, h, wd = x.shape
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(n):
        for o in range(w.shape[0]):
            out[i, o] = b[o] + sum(correlate2d(x[i, c], w[o, c], mode="same") for c in range(c_in))
    if bn is not None:
        mean = bn.running_mean.double().numpy()[None, :, None, None]
        var = bn.running_var.double().numpy()[None, :, None, None]
        g = bn.weight.detach().double().numpy()[None, :, None, None]
        beta = bn.bias.detach().double().numpy()[None, :, None, None]
        out = g * (out - mean) / np.sqrt(var + bn.eps) + beta
    out = np.maximum(out, 0.0)
    if pool:
        out = out.reshape(n, -1, h // 2, 2, wd // 2, 2).max(axis=(3, 5))
    if gap:
        out = out.mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("batch_norm", [True, False])
def test_small_cnn_forward_matches_numpy_reference(batch_norm, rng):
    torch.manual_seed(1)
    model = SmallCNN(n_classes=5, width=3, batch_norm=batch_norm).double()
    for m in model.modules():  # non-trivial BatchNorm statistics and affine parameters
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.as_tensor(rng.normal(size=m.num_features)))
            m.running_var.copy_(torch.as_tensor(rng.uniform(0.5, 2.0, m.num_features)))
            m.weight.data.copy_(torch.as_tensor(rng.normal(size=m.num_features)))
            m.bias.data.copy_(torch.as_tensor(rng.normal(size=m.num_features)))
    model.eval()
    x = rng.uniform(size=(4, 1, 8, 8))
    h = x
    for k, block in enumerate(model.blocks):
        bn = block[1] if batch_norm else None
        h = _np_block(h, block[0], bn, pool=k == 1, gap=k == 2)
    lin = model.head[1]
    ref = h @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    out = model(torch.as_tensor(x))
    np.testing.assert_allclose(model.features(torch.as_tensor(x)).detach().numpy(), h,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-10, atol=1e-12)


def test_mlp_structure_and_forward_matches_numpy(rng):
    torch.manual_seed(0)
    model = MLP(12, hidden=(7, 5), n_classes=4).double().eval()
    assert len(model.blocks) == 2 and model.n_features == 5
    x = rng.normal(size=(9, 3, 4))
    h = x.reshape(9, -1)
    for block in model.blocks:
        lin = [m for m in block if isinstance(m, torch.nn.Linear)][0]
        h = np.maximum(h @ lin.weight.detach().numpy().T + lin.bias.detach().numpy(), 0.0)
    ref = h @ model.head.weight.detach().numpy().T + model.head.bias.detach().numpy()
    np.testing.assert_allclose(model(torch.as_tensor(x)).detach().numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(model.features(torch.as_tensor(x)).detach().numpy(), h,
                               rtol=1e-12)


def test_mlp_without_hidden_layers_is_multinomial_logistic_regression(rng):
    model = MLP(6, hidden=(), n_classes=3).double()
    x = rng.normal(size=(5, 6))
    ref = x @ model.head.weight.detach().numpy().T + model.head.bias.detach().numpy()
    np.testing.assert_allclose(model(torch.as_tensor(x)).detach().numpy(), ref, rtol=1e-12)
    assert MLP(6, hidden=3).n_features == 3  # an int is one hidden layer


def test_mlp_dropout_is_active_in_train_mode_only():
    torch.manual_seed(0)
    model = MLP(10, hidden=(200,), dropout=0.5)
    x = torch.rand(4, 10)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


@pytest.mark.parametrize(
    ("make", "err", "match"),
    [
        (lambda: SmallCNN(n_classes=1), ValueError, "n_classes"),
        (lambda: SmallCNN(n_classes=2.5), TypeError, "n_classes"),
        (lambda: SmallCNN(in_channels=0), ValueError, "in_channels"),
        (lambda: SmallCNN(width=0), ValueError, "width"),
        (lambda: SmallCNN(dropout=1.0), ValueError, "dropout"),
        (lambda: SmallCNN(dropout=-0.1), ValueError, "dropout"),
        (lambda: SmallCNN(dropout=float("nan")), ValueError, "dropout"),
        (lambda: SmallCNN(batch_norm="yes"), TypeError, "batch_norm"),
        (lambda: SmallCNN()(torch.rand(2, 3, 8, 8)), ValueError, "x must have shape"),
        (lambda: SmallCNN()(torch.rand(8, 8)), ValueError, "x must have shape"),
        (lambda: SmallCNN(in_channels=3)(torch.rand(2, 8, 8)), ValueError, "x must have shape"),
        (lambda: MLP(0), ValueError, "in_features"),
        (lambda: MLP(4, hidden="8"), TypeError, "hidden"),
        (lambda: MLP(4, hidden=(8, 0)), ValueError, "hidden"),
        (lambda: MLP(4, n_classes=1), ValueError, "n_classes"),
        (lambda: MLP(4, dropout=2), ValueError, "dropout"),
        (lambda: MLP(4)(torch.rand(3, 5)), ValueError, "4 values per example"),
    ],
)
def test_bad_input(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_cuda_parity():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the CUDA parity check runs on a GPU machine")
    torch.manual_seed(0)
    model = SmallCNN(width=4).eval()
    x = torch.rand(8, 1, 8, 8)
    ref = model(x)
    out = model.to("cuda")(x.to("cuda"))
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4, atol=1e-5)
