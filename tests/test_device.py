"""tllab.device: the default device (TLLAB_DEVICE override), seeding, and as_tensor."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch

import tllab
from tllab import as_tensor, default_device, seed_everything

HAS_CUDA = torch.cuda.is_available()


# ----------------------------------------------------------------------------- default_device
def test_default_device_env_cpu(monkeypatch):
    monkeypatch.setenv("TLLAB_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    monkeypatch.setenv("TLLAB_DEVICE", "  cpu  ")  # surrounding spaces are ignored
    assert default_device() == torch.device("cpu")


def test_default_device_without_env(monkeypatch):
    monkeypatch.delenv("TLLAB_DEVICE", raising=False)
    dev = default_device()
    assert isinstance(dev, torch.device)
    # documented order: CUDA, then MPS, then CPU
    if HAS_CUDA:
        assert dev.type == "cuda"
    else:
        mps = getattr(torch.backends, "mps", None)
        expected = "mps" if mps is not None and mps.is_available() else "cpu"
        assert dev.type == expected
    monkeypatch.setenv("TLLAB_DEVICE", "")  # empty means "not set"
    assert default_device() == dev


@pytest.mark.parametrize("garbage", ["garbage", "gpu", "cuda:x", "cpu cuda", "42"])
def test_default_device_env_garbage(monkeypatch, garbage):
    monkeypatch.setenv("TLLAB_DEVICE", garbage)
    with pytest.raises(ValueError,
                       match=r"TLLAB_DEVICE must name a torch device.*" + re.escape(repr(garbage))):
        default_device()


@pytest.mark.skipif(HAS_CUDA, reason="checks the error raised when CUDA is absent")
def test_default_device_env_cuda_without_gpu(monkeypatch):
    monkeypatch.setenv("TLLAB_DEVICE", "cuda")
    with pytest.raises(ValueError, match=r"TLLAB_DEVICE='cuda' but CUDA is not available"):
        default_device()


@pytest.mark.skipif(not HAS_CUDA, reason="needs a GPU")
def test_default_device_env_cuda_with_gpu(monkeypatch):
    monkeypatch.setenv("TLLAB_DEVICE", "cuda:0")
    assert default_device() == torch.device("cuda:0")
    monkeypatch.setenv("TLLAB_DEVICE", "cpu")
    assert default_device().type == "cpu"  # the override beats the CUDA preference


# ----------------------------------------------------------------------------- seed_everything
def test_seed_everything_reproduces_all_generators():
    def draw():
        return (random.random(), np.random.rand(), torch.rand(3).tolist())  # noqa: NPY002

    g1 = seed_everything(123)
    a = draw()
    r1 = torch.rand(2, generator=g1).tolist()
    g2 = seed_everything(123)
    b = draw()
    r2 = torch.rand(2, generator=g2).tolist()
    assert a == b and r1 == r2
    assert isinstance(g1, torch.Generator)
    seed_everything(124)
    assert draw() != a


def test_seed_everything_large_and_numpy_int():
    seed_everything(np.int64(7))
    a = torch.rand(1).item()
    seed_everything(7)
    assert torch.rand(1).item() == a
    seed_everything(2**40)  # wider than numpy's legacy 32-bit seed: reduced, not refused


# ----------------------------------------------------------------------------- as_tensor
def test_as_tensor_dtypes():
    assert as_tensor(np.ones(3)).dtype == torch.float64
    assert as_tensor(np.ones(3, dtype=np.float32)).dtype == torch.float32
    assert as_tensor(np.arange(3)).dtype == torch.get_default_dtype()
    assert as_tensor([True, False]).dtype == torch.get_default_dtype()
    assert as_tensor([[1.5, 2.0]]).shape == (1, 2)
    assert as_tensor(np.ones(2), dtype=torch.float16).dtype == torch.float16
    t = torch.arange(4)
    assert as_tensor(t).dtype == torch.get_default_dtype()


def test_as_tensor_keeps_placed_tensors(device):
    t = torch.ones(3, dtype=torch.float64, device=device)
    assert as_tensor(t) is t  # no copy, no move
    out = as_tensor(np.ones(3), device=device)
    assert out.device.type == device.type
    moved = as_tensor(t, device="cpu")
    assert moved.device.type == "cpu"


def test_top_level_reexports():
    assert tllab.default_device is default_device
    assert tllab.seed_everything is seed_everything
    assert tllab.as_tensor is as_tensor


# ----------------------------------------------------------------------------- test collection
def test_cuda_variants_are_collected_and_skipped_visibly(request):
    """Device-parametrised tests always get a CUDA variant; without a GPU it is reported as
    SKIPPED with a reason, never dropped at collection (a CPU run must show what it did not
    check).  Also no test file may filter CUDA out of a parameter list itself."""
    from pathlib import Path

    from conftest import DEVICES

    params = [p if isinstance(p, str) else p.values[0] for p in DEVICES]
    assert params == ["cpu", "cuda"]
    (skip,) = [m for m in DEVICES[1].marks if m.name == "skipif"]
    assert skip.args[0] is (not HAS_CUDA) and skip.kwargs["reason"]
    collected = {item.nodeid for item in request.session.items}
    if any("test_kernel_sum_dtype_device" in n for n in collected):  # run with test_kernels
        assert any("cuda" in n for n in collected if "test_kernel_sum_dtype_device" in n)
    hidden = re.compile(r'\[\s*["\']cuda["\']\s*\]\s*if\s+[\w.]*cuda\.is_available\(\)')
    for path in sorted(Path(__file__).parent.glob("*.py")):
        assert not hidden.search(path.read_text(encoding="utf-8")), path.name
