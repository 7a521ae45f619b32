"""Shared fixtures: deterministic threads and seeds, and the devices to test on."""

import pytest
import torch

torch.set_num_threads(2)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """Every device present here: CPU always, CUDA when a GPU is available."""
    return torch.device(request.param)


@pytest.fixture
def rng():
    """A fresh NumPy generator; the seed is fixed so failures reproduce."""
    import numpy as np

    return np.random.default_rng(12345)
